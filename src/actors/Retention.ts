/**
 * How long the shop actors remember handled message ids (`processed_messages`): the durable
 * dedupe of webhooks, Flow runs and API events beyond the log's own window. It must outlast
 * every way a message can come back: Shopify's retries (8 over 4 h) and delays (up to a day),
 * and the shop log's retention (JetStream `max_age`, 3 days). The default keeps ids for 7
 * days (`DEDUPE_RETENTION`); older ones are deleted in small batches every hour by the worker,
 * so the table does not grow without bound.
 *
 * The deletion is a service of its own (`HandledMessages`, on PostgreSQL
 * `adapters/postgres/PgHandledMessages.ts`) rather than an operation of `ActorStore`: the sweep
 * needs only the database, while the actor store brings the event store and sealing with it —
 * the sweep (and its test) should not have to build the whole commit path.
 */
import { Config, Context, Duration, Effect, Layer, Schedule } from "effect"
import type { SqlError } from "effect/sql/SqlError"

export const DEFAULT_DEDUPE_RETENTION = Duration.days(7)
const BATCH = 10_000

/** The record of handled message ids (port), as far as forgetting them goes. */
export class HandledMessages extends Context.Service<HandledMessages, {
  /**
   * Deletes at most `limit` message ids handled before `now - retention` (one short
   * transaction); returns how many.
   */
  readonly forgetBatch: (retention: Duration.Duration, limit: number) => Effect.Effect<number, SqlError>
}>()("sumeru/actors/HandledMessages") {}

/** Deletes message ids handled before `now - retention`; returns how many. */
export const pruneProcessedMessages = (retention: Duration.Duration) =>
  Effect.gen(function*() {
    const handled = yield* HandledMessages
    let total = 0
    for (;;) {
      // batches: short transactions that never hold many row locks at once
      const n = yield* handled.forgetBatch(retention, BATCH)
      total += n
      if (n < BATCH) return total
    }
  })

/** The worker's hourly pruning, with the retention from `DEDUPE_RETENTION` (a duration, e.g. `7 days`). */
export const layer = Layer.effectDiscard(Effect.gen(function*() {
  const retention = yield* Config.Duration("DEDUPE_RETENTION").pipe(Config.withDefault(DEFAULT_DEDUPE_RETENTION))
  yield* pruneProcessedMessages(retention).pipe(
    Effect.tap((n) => (n > 0 ? Effect.logInfo(`forgot ${n} handled message ids older than ${Duration.format(retention)}`) : Effect.void)),
    Effect.catchCause((cause) => Effect.logWarning("pruning handled message ids failed; retrying next hour", cause)),
    Effect.repeat(Schedule.spaced(Duration.hours(1))),
    Effect.delay(Duration.minutes(1)),
    Effect.forkScoped
  )
}))
