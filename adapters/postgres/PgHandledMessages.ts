/**
 * `HandledMessages` (src/actors/Retention.ts) on PostgreSQL: forgetting old rows of
 * `processed_messages`, the actors' record of handled message ids.
 */
import { Duration, Effect, Layer } from "effect"
import { SqlClient } from "effect/sql"
import { HandledMessages } from "../../src/actors/Retention.ts"

export const make = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  return HandledMessages.of({
    forgetBatch: (retention, limit) =>
      Effect.map(
        // ctid batches: short transactions that never hold many row locks at once
        sql<{ n: number }>`
          WITH old AS (
            SELECT ctid FROM processed_messages
             WHERE processed_at < now() - make_interval(secs => ${Math.floor(Duration.toSeconds(retention))})
             LIMIT ${limit}
          ), gone AS (DELETE FROM processed_messages p USING old WHERE p.ctid = old.ctid RETURNING 1)
          SELECT count(*)::int AS n FROM gone`,
        (rows) => rows[0]?.n ?? 0
      )
  })
})

export const layer: Layer.Layer<HandledMessages, never, SqlClient.SqlClient> = Layer.effect(HandledMessages, make)
