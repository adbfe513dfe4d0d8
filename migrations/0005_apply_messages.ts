/**
 * `apply_messages`: commits a batch of shop-actor decisions in one round trip. For each item,
 * in order: the fence (skip if the shop's cursor is already at or past the message, or the
 * message id was applied), then its appends (through `append_events`, so expected versions
 * are checked under row locks), its timers, and the clearing of its attempt counter.
 * Any exception aborts the whole batch; the caller then retries the items one by one, so a
 * single conflicting message cannot hold up the others.
 */
import { Effect } from "effect"
import { SqlClient } from "effect/sql"

export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* sql.unsafe(`
    CREATE FUNCTION apply_messages(p_items jsonb)
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
      v_moved  integer;
    BEGIN
      PERFORM pg_current_xact_id();
      FOR v_item IN SELECT value FROM jsonb_array_elements(p_items) LOOP
        v_shop := v_item->>'shop';
        v_id := v_item->>'message_id';
        v_seq := (v_item->>'seq')::bigint;
        INSERT INTO shop_cursors (shop, last_seq) VALUES (v_shop, v_seq)
          ON CONFLICT (shop) DO UPDATE SET last_seq = excluded.last_seq, updated_at = now()
          WHERE shop_cursors.last_seq < excluded.last_seq;
        GET DIAGNOSTICS v_moved = ROW_COUNT;
        IF v_moved = 1 THEN
          INSERT INTO processed_messages (shop, message_id) VALUES (v_shop, v_id) ON CONFLICT DO NOTHING;
          GET DIAGNOSTICS v_moved = ROW_COUNT;
        END IF;
        IF v_moved = 0 THEN
          idx := v_idx; status := 'already_applied'; RETURN NEXT;
        ELSE
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
          idx := v_idx; status := 'applied'; RETURN NEXT;
        END IF;
        v_idx := v_idx + 1;
      END LOOP;
    END
    $fn$`)
})
