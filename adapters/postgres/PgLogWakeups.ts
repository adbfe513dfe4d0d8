/**
 * `LogWakeups` for the PostgreSQL event store (15+ and PGlite). On PostgreSQL the signal is
 * `LISTEN sumeru_events` (the append function NOTIFYs at commit), so appends from other
 * processes wake us too; in the embedded mode appends signal in-process (PGlite is one
 * session, so no connection can be spared for LISTEN).
 */
import { Effect, Layer } from "effect"
import { LogWakeups, makeSignal } from "../../src/eventstore/LogWakeups.ts"
import { DatabaseMode } from "./Database.ts"
import { listenForever } from "./Listen.ts"
import { AfterAppend } from "./PgEventStore.ts"

/**
 * Provides `LogWakeups` and wires the store's `AfterAppend` hook: in-process in the embedded
 * mode, LISTEN/NOTIFY on PostgreSQL (so appends from other processes wake us too).
 */
export const layer = Layer.unwrap(Effect.gen(function*() {
  const mode = yield* DatabaseMode
  const signal = makeSignal()
  if (mode.kind === "embedded") {
    return Layer.merge(Layer.succeed(LogWakeups, signal), Layer.succeed(AfterAppend, signal.notify))
  }
  // re-established after a database restart; each (re)start wakes readers once
  const listener = Layer.effectDiscard(listenForever("sumeru_events", () => signal.notify))
  return Layer.merge(Layer.succeed(LogWakeups, signal), listener)
}))
