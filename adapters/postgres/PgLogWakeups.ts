/**
 * `LogWakeups` for the PostgreSQL event store (15+ and PGlite). On PostgreSQL the signal is
 * `LISTEN sumeru_events`, so appends from other processes wake us too; in the embedded mode
 * appends signal in-process (PGlite is one session, so no connection can be spared for LISTEN).
 *
 * The NOTIFY is sent after the commit, by the store's `AfterAppend` hook, and coalesced: one
 * at a time and at most one every 2 ms, and however many commits land meanwhile, one more
 * after it (with one writer, a NOTIFY per append cost a round trip per append). It names this
 * process, whose listener skips it: our own readers were woken in-process at the commit, and
 * the echo woke them again for nothing (each wake-up is a read of the log by every reader). A
 * NOTIFY inside the appending transaction would take PostgreSQL's database-wide notify lock
 * through the commit's WAL flush and so serialise every appending transaction (migration
 * 0018). A NOTIFY-only transaction writes no WAL and waits for no flush. Should one be lost
 * (the process dies between the commit and the NOTIFY, or the database is unreachable for a
 * moment), readers still find the events at their next wake-up or safety poll.
 */
import { Duration, Effect, Layer, Queue, Schedule } from "effect"
import { randomUUID } from "node:crypto"
import { SqlClient } from "effect/sql"
import { LogWakeups, makeSignal } from "../../src/eventstore/LogWakeups.ts"
import { DatabaseMode } from "./Database.ts"
import { listenForever, LOG_CHANNEL, notifyLogReaders } from "./Listen.ts"
import { AfterAppend, InTransactionAppend } from "./PgEventStore.ts"

/**
 * Provides `LogWakeups` and wires the store's `AfterAppend` hook: in-process in the embedded
 * mode; on PostgreSQL in-process too (our own readers wake without a round trip) plus a
 * coalesced NOTIFY for the other processes.
 */
export const layer = Layer.unwrap(Effect.gen(function*() {
  const mode = yield* DatabaseMode
  const signal = makeSignal()
  if (mode.kind === "embedded") {
    // one process: an append inside a transaction signals before its commit, and the reader
    // that finds nothing yet waits for the next signal or its safety poll
    return Layer.mergeAll(
      Layer.succeed(LogWakeups, signal),
      Layer.succeed(AfterAppend, signal.notify),
      Layer.succeed(InTransactionAppend, signal.notify)
    )
  }
  // this process, in the NOTIFYs it sends after its commits (their echo is skipped)
  const sender = randomUUID()
  const notifier = Layer.effect(
    AfterAppend,
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      // capacity 1, dropping: a commit while a NOTIFY is pending adds nothing, one while it is
      // being sent leaves exactly one more to send
      const pending = yield* Queue.dropping<void>(1)
      yield* Queue.take(pending).pipe(
        Effect.andThen(notifyLogReaders(sql, sender).pipe(
          Effect.retry({ times: 4, schedule: Schedule.exponential(Duration.millis(20)) }),
          Effect.catchCause((cause) => Effect.logWarning("NOTIFY sumeru_events not sent; other processes read at their next poll", cause))
        )),
        Effect.andThen(Effect.sleep(Duration.millis(2))),
        Effect.forever,
        Effect.forkScoped
      )
      return Effect.andThen(signal.notify, Effect.sync(() => void Queue.offerUnsafe(pending, undefined)))
    })
  )
  // re-established after a database restart; each (re)start wakes readers once
  const listener = Layer.effectDiscard(listenForever(LOG_CHANNEL, (payload) => payload === sender ? Effect.void : signal.notify))
  // inside a transaction: a NOTIFY in it, which PostgreSQL delivers at its commit (to us too,
  // through the listener)
  const inTransaction = Layer.effect(
    InTransactionAppend,
    Effect.map(SqlClient.SqlClient, notifyLogReaders)
  )
  return Layer.mergeAll(Layer.succeed(LogWakeups, signal), listener, notifier, inTransaction)
}))
