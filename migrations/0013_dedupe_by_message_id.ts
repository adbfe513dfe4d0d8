/**
 * A duplicate is a message whose id was applied — nothing else. Until now `apply_messages`
 * also skipped any message whose log sequence was at or below the shop's cursor, so a message
 * overtaken by a later one of its shop (redelivered behind it) was acked as a "duplicate"
 * and lost. Now:
 * - the fence is `processed_messages (shop, message_id)` alone: a zombie owner or a
 *   redelivery racing the live owner loses on that primary key, in the same transaction as
 *   the events;
 * - `shop_cursors.last_seq` only witnesses order: a message applied below it is applied all
 *   the same and reported as `applied_late` (an order violation the operator must hear about,
 *   never a silent skip).
 *
 * The partition lock fences the commits too. A worker holds each partition it consumes as a
 * session advisory lock (`PartitionOwnership`); when its lock session dies, another worker
 * may take the partition at once, while the first has not noticed yet. Items of
 * `apply_messages` now carry `owner_pid` (the lock session's backend) and `partition`: the
 * batch refuses to commit (SQLSTATE SU003) unless that backend still holds every partition
 * lock named — checked once per batch, against `pg_locks`. Items without `owner_pid` (the
 * embedded database: one process, no locks) are not fenced.
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
      v_item   jsonb;
      v_idx    integer := 0;
      v_append jsonb;
      v_timer  jsonb;
      v_shop   text;
      v_id     text;
      v_seq    bigint;
      v_prev   bigint;
      v_moved  integer;
      v_lost   text;
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
      FOR v_item IN SELECT value FROM jsonb_array_elements(p_items) LOOP
        v_shop := v_item->>'shop';
        v_id := v_item->>'message_id';
        v_seq := (v_item->>'seq')::bigint;
        INSERT INTO processed_messages (shop, message_id) VALUES (v_shop, v_id) ON CONFLICT DO NOTHING;
        GET DIAGNOSTICS v_moved = ROW_COUNT;
        IF v_moved = 0 THEN
          idx := v_idx; status := 'already_applied'; RETURN NEXT;
        ELSE
          v_prev := NULL;
          SELECT last_seq INTO v_prev FROM shop_cursors WHERE shop = v_shop FOR UPDATE;
          INSERT INTO shop_cursors AS c (shop, last_seq) VALUES (v_shop, v_seq)
            ON CONFLICT (shop) DO UPDATE SET last_seq = greatest(c.last_seq, excluded.last_seq), updated_at = now();
          FOR v_append IN SELECT value FROM jsonb_array_elements(v_item->'appends') LOOP
            PERFORM append_events(v_append->>'stream', v_shop, v_append->>'expected_kind',
                                  (v_append->>'expected')::integer, v_append->'events');
          END LOOP;
          FOR v_timer IN SELECT value FROM jsonb_array_elements(coalesce(v_item->'schedule', '[]'::jsonb)) LOOP
            INSERT INTO scheduled_messages (id, shop, partition, due_at, message)
            VALUES (v_timer->>'id', v_shop, (v_timer->>'partition')::integer, (v_timer->>'due_at')::timestamptz, v_timer->'message')
            ON CONFLICT (id) DO UPDATE SET due_at = excluded.due_at, message = excluded.message;
          END LOOP;
          DELETE FROM scheduled_messages
           WHERE shop = v_shop AND id IN (SELECT jsonb_array_elements_text(coalesce(v_item->'cancel', '[]'::jsonb)));
          DELETE FROM message_attempts WHERE shop = v_shop AND message_id = v_id;
          idx := v_idx;
          status := CASE WHEN v_prev IS NOT NULL AND v_prev > v_seq THEN 'applied_late' ELSE 'applied' END;
          RETURN NEXT;
        END IF;
        v_idx := v_idx + 1;
      END LOOP;
    END
    $fn$`)
  yield* sql.unsafe(`ALTER FUNCTION apply_messages(jsonb) SET enable_seqscan = off SET enable_hashjoin = off SET enable_mergejoin = off`)
})
