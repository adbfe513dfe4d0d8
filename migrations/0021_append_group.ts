/**
 * `append_group`: a group of appends to different streams in one statement (issue 16: appends
 * at twice Emmett's rate).
 *
 * `append_batch` (0018) walks a group append by append in PL/pgSQL: five to seven statements
 * for a single append, each with its executor's set-up. Measured with pgbench on one
 * PostgreSQL 15 server (fsync on, one client): a single append through `append_batch`
 * 2,200–2,350/s, through this statement 4,100–4,300/s (a plain one-row INSERT 6,300/s); twenty
 * events per append 980–1,020/s and 1,430–1,650/s. In `bench:compare` the statement's own time
 * fell from 156 µs to 85 µs per single append.
 *
 * - Each append moves its stream by its expectation: `exact` an UPDATE on the expected
 *   version, `no_stream` an INSERT that does nothing when the stream exists, `any` an upsert
 *   kept to the stream's own shop. A moved stream is locked to the commit.
 * - The transaction id is taken before any position is drawn (the gap-aware reader proves
 *   gaps by it): every step reads `a`, and `a` reads `xact` first.
 * - An event id already stored (an append retried after its answer was lost) empties `a`:
 *   nothing is written and no row comes back, and the adapter sends the group to
 *   `append_batch`, which skips stored events append by append. So does a group naming one
 *   stream twice (an UPDATE cannot move one row twice in a statement).
 * - A refused append comes back without `o_base`, with its stream as the statement's snapshot
 *   saw it (`o_seen_version`, `o_seen_shop`; not moved by this statement), which names the
 *   conflict or the owner; the adapter answers alone what that snapshot cannot explain.
 * - It is a function, not the adapter's own statement, for its plan settings: a plan cached
 *   while the tables are small scans them whole (and PGlite never analyses them again), so
 *   sequential scans are off, as for the append functions before it (0007, 0018).
 */
import { Effect } from "effect"
import { SqlClient } from "effect/sql"

export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* sql.unsafe(`
    CREATE FUNCTION append_group(p_appends jsonb, p_ids uuid[], p_events jsonb)
      RETURNS TABLE (o_k integer, o_base integer, o_seen_version integer, o_seen_shop text, o_first bigint, o_last bigint)
      LANGUAGE plpgsql
      SET enable_seqscan = off SET plan_cache_mode = force_generic_plan
    AS $fn$
    BEGIN
      RETURN QUERY
        WITH xact AS MATERIALIZED (SELECT pg_current_xact_id() AS id),
        a AS MATERIALIZED (
          SELECT x.* FROM xact, jsonb_to_recordset(p_appends)
                   AS x(k integer, stream_id text, shop text, kind text, expected integer, n integer,
                        correlation_id text, causation_id text, actor jsonb, traceparent text)
           WHERE NOT EXISTS (SELECT FROM events WHERE event_id = ANY(p_ids))),
        moved AS (
          UPDATE event_streams s SET version = s.version + a.n, updated_at = now()
            FROM a
           WHERE a.kind = 'exact' AND s.stream_id = a.stream_id AND s.shop = a.shop AND s.version = a.expected
          RETURNING a.k, a.expected AS base),
        created AS (
          INSERT INTO event_streams (stream_id, shop, version)
          SELECT stream_id, shop, n FROM a WHERE kind = 'no_stream' ORDER BY stream_id
          ON CONFLICT (stream_id) DO NOTHING
          RETURNING stream_id),
        upserted AS (
          INSERT INTO event_streams AS s (stream_id, shop, version)
          SELECT stream_id, shop, n FROM a WHERE kind = 'any' ORDER BY stream_id
          ON CONFLICT (stream_id) DO UPDATE SET version = s.version + excluded.version, updated_at = now()
           WHERE s.shop = excluded.shop
          RETURNING stream_id, version),
        ok AS (
          SELECT k, base FROM moved
          UNION ALL SELECT a.k, 0 FROM created JOIN a USING (stream_id)
          UNION ALL SELECT a.k, u.version - a.n FROM upserted u JOIN a USING (stream_id)),
        ins AS (
          INSERT INTO events (event_id, shop, stream_id, stream_version, type, schema_version, data,
                              correlation_id, causation_id, actor, occurred_at, traceparent)
          SELECT e.event_id, a.shop, a.stream_id, ok.base + e.n, e.type, e.schema_version, e.data,
                 a.correlation_id, a.causation_id, a.actor, e.occurred_at, a.traceparent
            FROM jsonb_to_recordset(p_events)
                   AS e(k integer, n integer, event_id uuid, type text, schema_version integer, data jsonb, occurred_at timestamptz)
            JOIN ok USING (k) JOIN a USING (k)
           ORDER BY e.k, e.n
          RETURNING stream_id, position),
        placed AS (SELECT stream_id, min(position) AS first, max(position) AS last FROM ins GROUP BY stream_id)
        SELECT a.k, ok.base, cur.version, cur.shop, p.first, p.last
          FROM a LEFT JOIN ok USING (k) LEFT JOIN placed p USING (stream_id)
          LEFT JOIN LATERAL (SELECT version, shop FROM event_streams WHERE ok.k IS NULL AND stream_id = a.stream_id LIMIT 1) cur ON true
         ORDER BY a.k;
    END
    $fn$`)
})
