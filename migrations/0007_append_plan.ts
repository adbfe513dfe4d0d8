/**
 * `append_events`' duplicate-id check must use the `event_id` index. PL/pgSQL caches its plans
 * per connection; made on a small table (or with no statistics at all — PGlite never runs
 * autovacuum), the cached plan hash-joins against a sequential scan of the whole log, so every
 * append read every event: measured at 22 appends/s on a 44k-event PGlite log (196/s fixed)
 * and 150 ms per append after a 100k bulk load on PostgreSQL until ANALYZE ran. The checks
 * touch a handful of rows, so index access is always right for them.
 */
import { Effect } from "effect"
import { SqlClient } from "effect/sql"

export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  for (const fn of ["append_events(text, text, text, integer, jsonb)", "apply_messages(jsonb)"]) {
    yield* sql.unsafe(`ALTER FUNCTION ${fn} SET enable_seqscan = off SET enable_hashjoin = off SET enable_mergejoin = off`)
  }
})
