/**
 * Events remember the trace they were appended in: `events.traceparent` (W3C trace context,
 * null when the append ran outside any span). A projection applying an event continues that
 * trace, so one webhook is one trace from the HTTP route through the shop log, the actor's
 * commit and the read models (`src/observability/TraceContext.ts`). Adding a nullable column
 * rewrites nothing; `append_events` stores the field when the append payload carries it.
 */
import { Effect } from "effect"
import { SqlClient } from "effect/sql"

export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* sql.unsafe(`ALTER TABLE events ADD COLUMN traceparent text`)
  yield* sql.unsafe(`
    CREATE OR REPLACE FUNCTION append_events(
      p_stream text, p_shop text, p_expected_kind text, p_expected integer, p_events jsonb
    ) RETURNS TABLE (next_version integer, first_position bigint, last_position bigint, appended integer)
    LANGUAGE plpgsql AS $fn$
    DECLARE
      v_current integer;
      v_owner   text;
      v_new     jsonb;
      v_count   integer;
      v_first   bigint;
      v_last    bigint;
    BEGIN
      PERFORM pg_current_xact_id();
      SELECT s.version, s.shop INTO v_current, v_owner FROM event_streams s WHERE s.stream_id = p_stream FOR UPDATE;
      IF v_owner IS NOT NULL AND v_owner <> p_shop THEN
        RAISE EXCEPTION 'stream % belongs to another shop', p_stream USING ERRCODE = 'SU002', DETAIL = v_owner;
      END IF;
      SELECT coalesce(jsonb_agg(t.e ORDER BY t.ord), '[]'::jsonb) INTO v_new
        FROM jsonb_array_elements(p_events) WITH ORDINALITY AS t(e, ord)
       WHERE NOT EXISTS (SELECT 1 FROM events x WHERE x.event_id = (t.e->>'event_id')::uuid);
      v_count := jsonb_array_length(v_new);
      IF v_count = 0 THEN
        RETURN QUERY SELECT coalesce(v_current, 0), NULL::bigint, NULL::bigint, 0;
        RETURN;
      END IF;
      IF v_current IS NULL THEN
        IF p_expected_kind = 'exact' AND p_expected <> 0 THEN
          RAISE EXCEPTION 'concurrency conflict on %', p_stream USING ERRCODE = 'SU001', DETAIL = '0';
        END IF;
        INSERT INTO event_streams (stream_id, shop, version) VALUES (p_stream, p_shop, v_count)
          ON CONFLICT (stream_id) DO NOTHING;
        IF FOUND THEN
          v_current := 0;
        ELSE
          -- another transaction created the stream meanwhile
          SELECT s.version, s.shop INTO v_current, v_owner FROM event_streams s WHERE s.stream_id = p_stream FOR UPDATE;
          IF v_owner <> p_shop THEN
            RAISE EXCEPTION 'stream % belongs to another shop', p_stream USING ERRCODE = 'SU002', DETAIL = v_owner;
          END IF;
          IF p_expected_kind <> 'any' THEN
            RAISE EXCEPTION 'concurrency conflict on %', p_stream USING ERRCODE = 'SU001', DETAIL = v_current::text;
          END IF;
          UPDATE event_streams SET version = v_current + v_count, updated_at = now() WHERE stream_id = p_stream;
        END IF;
      ELSE
        IF p_expected_kind = 'no_stream' OR (p_expected_kind = 'exact' AND p_expected <> v_current) THEN
          RAISE EXCEPTION 'concurrency conflict on %', p_stream USING ERRCODE = 'SU001', DETAIL = v_current::text;
        END IF;
        UPDATE event_streams SET version = v_current + v_count, updated_at = now() WHERE stream_id = p_stream;
      END IF;
      WITH ins AS (
        INSERT INTO events (event_id, shop, stream_id, stream_version, type, schema_version, data,
                            correlation_id, causation_id, actor, occurred_at, traceparent)
        SELECT (t.e->>'event_id')::uuid, p_shop, p_stream, v_current + t.ord::integer, t.e->>'type',
               (t.e->>'schema_version')::integer, t.e->'data', t.e->>'correlation_id', t.e->>'causation_id',
               t.e->'actor', (t.e->>'occurred_at')::timestamptz, t.e->>'traceparent'
          FROM jsonb_array_elements(v_new) WITH ORDINALITY AS t(e, ord)
         ORDER BY t.ord
        RETURNING position
      )
      SELECT min(ins.position), max(ins.position) INTO v_first, v_last FROM ins;
      PERFORM pg_notify('sumeru_events', '');
      RETURN QUERY SELECT v_current + v_count, v_first, v_last, v_count;
    END
    $fn$`)
  // CREATE OR REPLACE drops the function's settings: the plan settings of migration 0007 again
  yield* sql.unsafe(
    `ALTER FUNCTION append_events(text, text, text, integer, jsonb) SET enable_seqscan = off SET enable_hashjoin = off SET enable_mergejoin = off`
  )
})
