/**
 * `apply_messages` set-based, and the embedded log acked in the commit (issue 16).
 *
 * A batch of actor commits was applied item by item, and each item's appends went through
 * `append_events`: with the function-call overhead that was 0.23 ms of server time per append
 * and about 0.5 ms per message in all (pg_stat_statements at 1,000 msg/s), half of the
 * database's work in the embedded pipeline. Now each step is one statement for the whole
 * batch:
 * - the fence on message ids: one INSERT into `processed_messages`; the items it refuses are
 *   `already_applied` and do nothing else;
 * - the shops' cursors: one locking read (the order check: `applied_late`) and one upsert;
 * - every append of the batch: one `append_batch` (0018), sorted by stream. A conflict or
 *   another shop's stream raises SU001 / SU002 as `append_events` did, so the adapter answers
 *   the batch item by item and the item at fault gets its typed error;
 * - timers set and cancelled, attempts cleared: one statement each (a timer set twice keeps
 *   its last setting, as before);
 * - items that carry `log_seq` (the embedded shop log, in this same database) delete their
 *   log row: applying a message and acking it are one commit, not two statements.
 * Two items of one shop in a batch (never sent by the runtime: an actor awaits each commit)
 * raise SU006, and the adapter applies them one by one, in order.
 *
 * The fence on partition locks (0013) is unchanged.
 */
import { Effect } from "effect"
import { SqlClient } from "effect/sql"

export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* sql.unsafe(`
    CREATE OR REPLACE FUNCTION apply_messages(p_items jsonb)
    RETURNS TABLE (idx integer, status text)
    LANGUAGE plpgsql AS $fn$
    DECLARE
      v_lost    text;
      v_shops   text[];
      v_ids     text[];
      v_seqs    bigint[];
      v_fresh   text[];
      v_late    text[];
      v_streams text[];
      v_owners  text[];
      v_kinds   text[];
      v_expect  integer[];
      v_counts  integer[];
      v_meta    jsonb;
      v_evids   uuid[];
      v_events  jsonb;
      v_k       integer := 0;
      v_row     record;
    BEGIN
      PERFORM pg_current_xact_id();
      SELECT string_agg(DISTINCT w.part::text, ',') INTO v_lost
        FROM (SELECT (e->>'owner_pid')::int AS pid, (e->>'partition')::int AS part
                FROM jsonb_array_elements(p_items) e WHERE e->>'owner_pid' IS NOT NULL) w
       WHERE NOT EXISTS (
         SELECT 1 FROM pg_locks l
          WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2 AND l.pid = w.pid
            AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
            AND l.classid::bigint = (hashtext('sumeru.partition')::bigint & 4294967295)
            AND l.objid::bigint = (w.part::bigint & 4294967295));
      IF v_lost IS NOT NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'SU003', MESSAGE = 'partitions ' || v_lost || ' are not held by this worker', DETAIL = v_lost;
      END IF;

      SELECT array_agg(x.e->>'shop' ORDER BY x.o), array_agg(x.e->>'message_id' ORDER BY x.o), array_agg((x.e->>'seq')::bigint ORDER BY x.o)
        INTO v_shops, v_ids, v_seqs
        FROM jsonb_array_elements(p_items) WITH ORDINALITY AS x(e, o);
      IF (SELECT count(DISTINCT s) FROM unnest(v_shops) s) < cardinality(v_shops) THEN
        RAISE EXCEPTION 'a batch holds two messages of one shop' USING ERRCODE = 'SU006';
      END IF;

      -- the fence: a message whose id is already here was applied (or dead-lettered) before
      WITH ins AS (
        INSERT INTO processed_messages (shop, message_id)
        SELECT t.shop, t.id FROM unnest(v_shops, v_ids) AS t(shop, id) ORDER BY t.shop
        ON CONFLICT DO NOTHING RETURNING shop
      ) SELECT coalesce(array_agg(ins.shop), '{}') INTO v_fresh FROM ins;

      IF cardinality(v_fresh) > 0 THEN
        -- order witness: a message applied below its shop's highest handled sequence is late
        v_late := ARRAY(
          SELECT c.shop FROM shop_cursors c JOIN unnest(v_shops, v_seqs) AS t(shop, seq) ON t.shop = c.shop
           WHERE c.shop = ANY(v_fresh) AND c.last_seq > t.seq ORDER BY c.shop FOR UPDATE OF c);
        INSERT INTO shop_cursors AS c (shop, last_seq)
        SELECT t.shop, t.seq FROM unnest(v_shops, v_seqs) AS t(shop, seq) WHERE t.shop = ANY(v_fresh) ORDER BY t.shop
        ON CONFLICT (shop) DO UPDATE SET last_seq = greatest(c.last_seq, excluded.last_seq), updated_at = now();

        -- every append of the batch in one group, sorted by stream (then in item order)
        SELECT array_agg(a.stream ORDER BY a.stream, a.o, a.p), array_agg(a.shop ORDER BY a.stream, a.o, a.p),
               array_agg(a.kind ORDER BY a.stream, a.o, a.p), array_agg(a.expected ORDER BY a.stream, a.o, a.p),
               array_agg(a.n ORDER BY a.stream, a.o, a.p), jsonb_agg(a.meta ORDER BY a.stream, a.o, a.p),
               jsonb_agg(a.events ORDER BY a.stream, a.o, a.p)
          INTO v_streams, v_owners, v_kinds, v_expect, v_counts, v_meta, v_events
          FROM (SELECT x.e->>'shop' AS shop, x.o, y.p, y.a->>'stream' AS stream, y.a->>'expected_kind' AS kind,
                       (y.a->>'expected')::integer AS expected, jsonb_array_length(y.a->'events') AS n,
                       y.a->'events'->0 AS meta, y.a->'events' AS events
                  FROM jsonb_array_elements(p_items) WITH ORDINALITY AS x(e, o),
                       jsonb_array_elements(x.e->'appends') WITH ORDINALITY AS y(a, p)
                 WHERE x.e->>'shop' = ANY(v_fresh) AND jsonb_array_length(y.a->'events') > 0) a;
        IF v_streams IS NOT NULL THEN
          v_evids := ARRAY(SELECT (ev->>'event_id')::uuid FROM jsonb_array_elements(v_events) l, jsonb_array_elements(l) ev);
          FOR v_row IN SELECT * FROM append_batch(v_streams, v_owners, v_kinds, v_expect, v_counts, v_meta, v_evids, v_events) LOOP
            v_k := v_k + 1;
            IF v_row.o_status = 'conflict' THEN
              RAISE EXCEPTION 'concurrency conflict on %', v_streams[v_k] USING ERRCODE = 'SU001', DETAIL = v_row.o_detail;
            ELSIF v_row.o_status = 'owner' THEN
              RAISE EXCEPTION 'stream % belongs to another shop', v_streams[v_k] USING ERRCODE = 'SU002', DETAIL = v_row.o_detail;
            END IF;
          END LOOP;
        END IF;

        -- timers: set (the last setting of an id wins), then cancelled
        INSERT INTO scheduled_messages (id, shop, partition, due_at, message)
        SELECT DISTINCT ON (t.t->>'id') t.t->>'id', x.e->>'shop', (t.t->>'partition')::integer, (t.t->>'due_at')::timestamptz, t.t->'message'
          FROM jsonb_array_elements(p_items) WITH ORDINALITY AS x(e, o),
               jsonb_array_elements(coalesce(x.e->'schedule', '[]'::jsonb)) WITH ORDINALITY AS t(t, p)
         WHERE x.e->>'shop' = ANY(v_fresh)
         ORDER BY t.t->>'id', x.o DESC, t.p DESC
        ON CONFLICT (id) DO UPDATE SET due_at = excluded.due_at, message = excluded.message;
        DELETE FROM scheduled_messages s
         USING (SELECT x.e->>'shop' AS shop, c.id FROM jsonb_array_elements(p_items) x(e),
                       jsonb_array_elements_text(coalesce(x.e->'cancel', '[]'::jsonb)) AS c(id)
                 WHERE x.e->>'shop' = ANY(v_fresh)) d
         WHERE s.shop = d.shop AND s.id = d.id;
        DELETE FROM message_attempts m
         USING unnest(v_shops, v_ids) AS t(shop, id)
         WHERE m.shop = t.shop AND m.message_id = t.id AND t.shop = ANY(v_fresh);
      END IF;

      -- the embedded log's rows: acked by this commit (an already applied copy too)
      DELETE FROM shop_log l
       WHERE l.seq = ANY(ARRAY(SELECT (x.e->>'log_seq')::bigint FROM jsonb_array_elements(p_items) x(e) WHERE x.e->>'log_seq' IS NOT NULL));

      RETURN QUERY
        SELECT (t.o - 1)::integer,
               CASE WHEN NOT (t.shop = ANY(v_fresh)) THEN 'already_applied'
                    WHEN t.shop = ANY(coalesce(v_late, '{}')) THEN 'applied_late' ELSE 'applied' END
          FROM unnest(v_shops) WITH ORDINALITY AS t(shop, o)
         ORDER BY t.o;
    END
    $fn$`)
  yield* sql.unsafe(`ALTER FUNCTION apply_messages(jsonb) SET enable_seqscan = off SET enable_hashjoin = off SET enable_mergejoin = off`)
})
