/**
 * How long the shop actors remember handled message ids (`processed_messages`): the durable
 * dedupe of webhooks, Flow runs and API events beyond the log's own window. It must outlast
 * every way a message can come back: Shopify's retries (8 over 4 h) and delays (up to a day),
 * and the shop log's retention (JetStream `max_age`, 3 days). The default keeps ids for 7
 * days (`DEDUPE_RETENTION`); older ones are deleted in small batches every hour by the worker,
 * so the table does not grow without bound.
 */
import { Config, Duration, Effect, Layer, Schedule } from "effect"
import { SqlClient } from "effect/sql"

export const DEFAULT_DEDUPE_RETENTION = Duration.days(7)
const BATCH = 10_000

/** Deletes message ids handled before `now - retention`; returns how many. */
export const pruneProcessedMessages = (retention: Duration.Duration) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const seconds = Math.floor(Duration.toSeconds(retention))
    let total = 0
    for (;;) {
      // ctid batches: short transactions that never hold many row locks at once
      const rows = yield* sql<{ n: number }>`
        WITH old AS (
          SELECT ctid FROM processed_messages
           WHERE processed_at < now() - make_interval(secs => ${seconds})
           LIMIT ${BATCH}
        ), gone AS (DELETE FROM processed_messages p USING old WHERE p.ctid = old.ctid RETURNING 1)
        SELECT count(*)::int AS n FROM gone`
      const n = rows[0]?.n ?? 0
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
