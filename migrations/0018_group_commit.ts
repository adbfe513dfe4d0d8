/**
 * Appends commit in groups, and NOTIFY leaves the appending transaction (issue 16).
 *
 * 1. `append_batch`: many appends (from many actors) in one statement and one transaction, so
 *    one WAL flush serves them all (group commit). Each append keeps its own expectation and
 *    its own answer: a conflict or another shop's stream fails that append alone (`o_status`
 *    'conflict' / 'owner', the actual version or owner in `o_detail`), never the group.
 *    - Per group: one duplicate probe and one INSERT. Per append: one UPDATE that checks the
 *      expected version, locks the stream and moves it. An append's metadata (correlation,
 *      causation, actor, trace) comes once, not with each of its events.
 *    - The appends arrive sorted by stream, so groups lock in one order and never wait on each
 *      other in a cycle.
 *    - What the function does not answer itself (an event id appended twice concurrently, a
 *      stream created concurrently) fails the group; the adapter then runs its appends one by
 *      one through `append_events`, which answers each exactly.
 *    - Its statements use generic plans, and each append's positions are read off the INSERT's
 *      RETURNING in order, not joined back: a first version that planned at each call and
 *      joined cost 300 µs of server CPU per single append, this one 80 µs (`append_events`
 *      75–85 µs).
 * 2. `append_events` no longer NOTIFYs. A NOTIFY in a transaction takes a database-wide lock at
 *    commit and holds it through the WAL flush, so every appending transaction committed one
 *    after another: sixteen writers flushed sixteen times. The adapter now signals once per
 *    committed batch, after the commit and coalesced (`adapters/postgres/PgLogWakeups.ts`); an
 *    append inside a caller's transaction still NOTIFYs in it, so readers wake at its commit.
 */
import { Effect } from "effect"
import { SqlClient } from "effect/sql"

export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const original = (yield* sql<{ def: string }>`
    SELECT pg_get_functiondef('append_events(text, text, text, integer, jsonb)'::regprocedure) AS def`)[0]!.def
  const silent = original.replace(/\s*PERFORM pg_notify\('sumeru_events', ''\);/, "")
  if (silent === original) return yield* Effect.die(new Error("append_events: its NOTIFY was not found"))
  yield* sql.unsafe(silent)

  yield* sql.unsafe(`
    CREATE FUNCTION append_batch(
      p_streams text[], p_shops text[], p_kinds text[], p_expected integer[], p_counts integer[],
      p_meta jsonb, p_ids uuid[], p_events jsonb
    ) RETURNS TABLE (o_status text, o_next_version integer, o_first bigint, o_last bigint, o_appended integer, o_detail text)
    LANGUAGE plpgsql AS $fn$
    DECLARE
      v_n       integer := cardinality(p_streams);
      v_counts  integer[] := p_counts;
      v_corr    text[];
      v_cause   text[];
      v_actor   jsonb[];
      v_trace   text[];
      v_dups    uuid[];
      v_base    integer[] := array_fill(NULL::integer, ARRAY[v_n]);
      v_status  text[] := array_fill('ok'::text, ARRAY[v_n]);
      v_detail  text[] := array_fill(NULL::text, ARRAY[v_n]);
      v_next    integer[] := array_fill(NULL::integer, ARRAY[v_n]);
      v_pos     bigint[];
      v_k       integer;
      v_at      integer := 0;
      v_current integer;
      v_owner   text;
      v_count   integer;
    BEGIN
      -- an id before any position is drawn: the gap-aware reader proves gaps by it (0001)
      PERFORM pg_current_xact_id();
      -- each append's metadata, shared by its events
      SELECT array_agg(x.m->>'correlation_id' ORDER BY x.o), array_agg(x.m->>'causation_id' ORDER BY x.o),
             array_agg(x.m->'actor' ORDER BY x.o), array_agg(x.m->>'traceparent' ORDER BY x.o)
        INTO v_corr, v_cause, v_actor, v_trace
        FROM jsonb_array_elements(p_meta) WITH ORDINALITY AS x(m, o);
      -- events already stored (an append retried after its answer was lost) are skipped, as
      -- append_events skips them; an append left with none appends nothing and succeeds
      v_dups := ARRAY(SELECT x.event_id FROM events x WHERE x.event_id = ANY(p_ids));
      IF cardinality(v_dups) > 0 THEN
        SELECT array_agg(coalesce(c.n, 0) ORDER BY g.k) INTO v_counts
          FROM generate_series(1, v_n) g(k)
          LEFT JOIN (SELECT l.a::integer AS a, count(*)::integer AS n
                       FROM jsonb_array_elements(p_events) WITH ORDINALITY AS l(list, a), jsonb_array_elements(l.list) e
                      WHERE NOT ((e->>'event_id')::uuid = ANY(v_dups)) GROUP BY 1) c ON c.a = g.k;
      END IF;
      -- The adapter sends the appends sorted by stream, so every group locks stream rows in
      -- the same order. The UPDATE checks the expectation, locks and moves the stream at once
      -- (under READ COMMITTED it re-checks a row changed by a concurrent commit).
      FOR v_k IN 1..v_n LOOP
        v_count := v_counts[v_k];
        IF v_count > 0 THEN
          UPDATE event_streams s SET version = s.version + v_count, updated_at = now()
           WHERE s.stream_id = p_streams[v_k] AND s.shop = p_shops[v_k]
             AND (p_kinds[v_k] = 'any' OR (p_kinds[v_k] = 'exact' AND s.version = p_expected[v_k]))
          RETURNING s.version - v_count INTO v_current;
          IF FOUND THEN
            v_base[v_k] := v_current;
            CONTINUE;
          END IF;
        END IF;
        -- nothing to append, or the stream is new, another shop's, or not at the expected version
        v_current := NULL;
        v_owner := NULL;
        SELECT s.version, s.shop INTO v_current, v_owner FROM event_streams s WHERE s.stream_id = p_streams[v_k] FOR UPDATE;
        IF v_owner IS NOT NULL AND v_owner <> p_shops[v_k] THEN
          v_status[v_k] := 'owner';
          v_detail[v_k] := v_owner;
        ELSIF v_count = 0 THEN
          v_next[v_k] := coalesce(v_current, 0);
        ELSIF v_current IS NOT NULL THEN
          v_status[v_k] := 'conflict';
          v_detail[v_k] := v_current::text;
        ELSIF p_kinds[v_k] = 'exact' AND p_expected[v_k] <> 0 THEN
          v_status[v_k] := 'conflict';
          v_detail[v_k] := '0';
        ELSE
          INSERT INTO event_streams (stream_id, shop, version) VALUES (p_streams[v_k], p_shops[v_k], v_count)
            ON CONFLICT (stream_id) DO NOTHING;
          IF FOUND THEN
            v_base[v_k] := 0;
          ELSE
            -- another transaction created it meanwhile: the batch fails and the adapter runs
            -- its appends one by one, where append_events answers this race exactly
            RAISE EXCEPTION 'stream % was created concurrently', p_streams[v_k] USING ERRCODE = 'SU005';
          END IF;
        END IF;
      END LOOP;
      IF cardinality(v_dups) = 0 THEN
        WITH ins AS (
          INSERT INTO events (event_id, shop, stream_id, stream_version, type, schema_version, data,
                              correlation_id, causation_id, actor, occurred_at, traceparent)
          SELECT t.event_id, p_shops[l.a], p_streams[l.a], v_base[l.a] + t.n::integer, t.type, t.schema_version, t.data,
                 v_corr[l.a], v_cause[l.a], v_actor[l.a], t.occurred_at, v_trace[l.a]
            FROM jsonb_array_elements(p_events) WITH ORDINALITY AS l(list, a),
                 LATERAL ROWS FROM (jsonb_to_recordset(l.list) AS (event_id uuid, type text, schema_version integer, data jsonb,
                                                                   occurred_at timestamptz))
                   WITH ORDINALITY AS t(event_id, type, schema_version, data, occurred_at, n)
           WHERE v_base[l.a] IS NOT NULL
           ORDER BY l.a, t.n
          RETURNING events.position
        )
        SELECT array_agg(ins.position ORDER BY ins.position) INTO v_pos FROM ins;
      ELSE
        WITH ins AS (
          INSERT INTO events (event_id, shop, stream_id, stream_version, type, schema_version, data,
                              correlation_id, causation_id, actor, occurred_at, traceparent)
          SELECT t.event_id, p_shops[l.a], p_streams[l.a], v_base[l.a] + (row_number() OVER (PARTITION BY l.a ORDER BY t.n))::integer,
                 t.type, t.schema_version, t.data, v_corr[l.a], v_cause[l.a], v_actor[l.a], t.occurred_at, v_trace[l.a]
            FROM jsonb_array_elements(p_events) WITH ORDINALITY AS l(list, a),
                 LATERAL ROWS FROM (jsonb_to_recordset(l.list) AS (event_id uuid, type text, schema_version integer, data jsonb,
                                                                   occurred_at timestamptz))
                   WITH ORDINALITY AS t(event_id, type, schema_version, data, occurred_at, n)
           WHERE v_base[l.a] IS NOT NULL AND NOT (t.event_id = ANY(v_dups))
           ORDER BY l.a, t.n
          RETURNING events.position
        )
        SELECT array_agg(ins.position ORDER BY ins.position) INTO v_pos FROM ins;
      END IF;
      -- positions are drawn in the INSERT's order (append, then event), so each append's
      -- events hold the next v_counts[k] of them
      FOR v_k IN 1..v_n LOOP
        o_status := v_status[v_k];
        o_detail := v_detail[v_k];
        IF v_base[v_k] IS NULL THEN
          o_next_version := v_next[v_k];
          o_first := NULL;
          o_last := NULL;
          o_appended := 0;
        ELSE
          o_next_version := v_base[v_k] + v_counts[v_k];
          o_first := v_pos[v_at + 1];
          o_last := v_pos[v_at + v_counts[v_k]];
          o_appended := v_counts[v_k];
          v_at := v_at + v_counts[v_k];
        END IF;
        RETURN NEXT;
      END LOOP;
    END
    $fn$`)
  // the duplicate probe must use the event_id index even in a plan cached on a small table (0007)
  yield* sql.unsafe(`ALTER FUNCTION append_batch(text[], text[], text[], integer[], integer[], jsonb, uuid[], jsonb) SET enable_seqscan = off SET plan_cache_mode = force_generic_plan`)
  yield* sql.unsafe(`
    ALTER FUNCTION append_events(text, text, text, integer, jsonb)
      SET enable_seqscan = off SET enable_hashjoin = off SET enable_mergejoin = off`)
})
