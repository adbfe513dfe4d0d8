/**
 * Wakes readers of the global log when new events commit, so catch-up readers never sleep
 * while events wait. Backend: `adapters/postgres/PgLogWakeups.ts` (on PostgreSQL the signal is
 * `LISTEN sumeru_events`, the append function NOTIFYs at commit; in the embedded mode appends
 * signal in-process: PGlite is one session, so no connection can be spared for LISTEN).
 */
import { Context, Deferred, Effect, Exit } from "effect"

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
