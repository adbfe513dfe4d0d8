/**
 * Wakes readers of the global log when new events commit, so catch-up readers never sleep
 * while events wait. Backend: `adapters/postgres/PgLogWakeups.ts` (on PostgreSQL the signal is
 * `LISTEN sumeru_events`, NOTIFYed after each commit, coalesced; in the embedded mode appends
 * signal in-process: PGlite is one session, so no connection can be spared for LISTEN).
 */
import { Context, Deferred, Duration, Effect, Exit, Option } from "effect"

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
 * Waits, at most `wait`, until `check` finds what it looks for (`Some`) — what a requester does
 * after sending something to a shop's actor: read again at every commit (and every 250 ms, a
 * wake-up lost with a dropped LISTEN connection never stalls it). `None` when the bound runs out.
 * The wake-up is taken before each read, so a commit in between is never missed.
 */
export const awaitCommitted = <A, E, R>(check: Effect.Effect<Option.Option<A>, E, R>, wait: Duration.Input): Effect.Effect<Option.Option<A>, E, R | LogWakeups> =>
  Effect.gen(function*() {
    const wakeups = yield* LogWakeups
    for (;;) {
      const next = yield* wakeups.next
      const found = yield* check
      if (Option.isSome(found)) return found.value
      yield* Deferred.await(next).pipe(Effect.timeoutOption(Duration.millis(250)))
    }
  }).pipe(Effect.timeoutOption(wait))
