/**
 * Wakes readers of the global log when new events commit, so catch-up readers never sleep
 * while events wait. On PostgreSQL the signal is `LISTEN sumeru_events` (the append function
 * NOTIFYs at commit); in the embedded mode appends signal in-process (PGlite is one session,
 * so no connection can be spared for LISTEN).
 */
import { Context, Deferred, Effect, Exit, Layer } from "effect"
import { DatabaseMode } from "../../adapters/postgres/Database.ts"
import { listenForever } from "../../adapters/postgres/Listen.ts"
import { AfterAppend } from "../../adapters/postgres/PgEventStore.ts"

export interface Signal {
  /** Wakes everyone waiting on the current generation. */
  readonly notify: Effect.Effect<void>
  /**
   * The deferred completed by the next `notify`. Take it *before* reading, then await it if
   * the read found nothing: a notify in between is never lost.
   */
  readonly next: Effect.Effect<Deferred.Deferred<void>>
}

export const makeSignal = (): Signal => {
  let current = Deferred.makeUnsafe<void>()
  return {
    notify: Effect.sync(() => {
      const done = current
      current = Deferred.makeUnsafe<void>()
      Deferred.doneUnsafe(done, Exit.void)
    }),
    next: Effect.sync(() => current)
  }
}

export class LogWakeups extends Context.Service<LogWakeups, Signal>()("sumeru/eventstore/LogWakeups") {}

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
