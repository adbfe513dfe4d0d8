/**
 * Shop actors' durable bookkeeping, and the embedded shop log.
 * - `shop_log`: the embedded mode's partitioned inbox (a work queue: acked rows are deleted).
 * - `shop_cursors`: per shop, the highest log sequence applied — the fence that makes a
 *   redelivered or zombie-processed message a no-op (updated in the actor's transaction).
 * - `processed_messages`: per shop, message ids already applied (dedupe beyond any window).
 * - `message_attempts`: attempts per message, committed before each try, so a message that
 *   crashes its worker is dead-lettered even though re-created consumers reset counts.
 * - `dead_letters`: messages given up on, with the error, for listing and re-drive.
 * - `scheduled_messages`: durable timers (nats-server 2.9 has no scheduled messages).
 * - `workers`: heartbeats, so partition owners know how many live workers share the load.
 */
import { Effect } from "effect"
import { SqlClient } from "effect/sql"

export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* sql`
    CREATE TABLE shop_log (
      seq           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      partition     integer NOT NULL,
      shop          text NOT NULL,
      message_id    text NOT NULL,
      message       jsonb NOT NULL,
      published_at  timestamptz NOT NULL DEFAULT now(),
      CONSTRAINT shop_log_dedupe UNIQUE (shop, message_id)
    )`
  yield* sql`CREATE INDEX shop_log_partition_seq_idx ON shop_log (partition, seq)`
  yield* sql`
    CREATE TABLE shop_cursors (
      shop        text PRIMARY KEY,
      last_seq    bigint NOT NULL,
      updated_at  timestamptz NOT NULL DEFAULT now()
    )`
  yield* sql`
    CREATE TABLE processed_messages (
      shop          text NOT NULL,
      message_id    text NOT NULL,
      processed_at  timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (shop, message_id)
    )`
  yield* sql`
    CREATE TABLE message_attempts (
      shop        text NOT NULL,
      message_id  text NOT NULL,
      attempts    integer NOT NULL,
      last_error  text,
      updated_at  timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (shop, message_id)
    )`
  yield* sql`
    CREATE TABLE dead_letters (
      id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      shop          text NOT NULL,
      message_id    text NOT NULL,
      message       jsonb NOT NULL,
      error         text NOT NULL,
      attempts      integer NOT NULL,
      permanent     boolean NOT NULL,
      dead_at       timestamptz NOT NULL DEFAULT now(),
      redriven_at   timestamptz,
      redrive_id    text
    )`
  yield* sql`CREATE INDEX dead_letters_shop_idx ON dead_letters (shop, id)`
  yield* sql`
    CREATE TABLE scheduled_messages (
      id          text PRIMARY KEY,
      shop        text NOT NULL,
      partition   integer NOT NULL,
      due_at      timestamptz NOT NULL,
      message     jsonb NOT NULL,
      created_at  timestamptz NOT NULL DEFAULT now()
    )`
  yield* sql`CREATE INDEX scheduled_messages_due_idx ON scheduled_messages (partition, due_at)`
  yield* sql`
    CREATE TABLE workers (
      worker_id   text PRIMARY KEY,
      started_at  timestamptz NOT NULL DEFAULT now(),
      last_seen   timestamptz NOT NULL DEFAULT now()
    )`
  for (const table of ["shop_cursors", "processed_messages", "message_attempts", "dead_letters", "scheduled_messages", "shop_log"]) {
    yield* sql.unsafe(`ALTER TABLE ${table} ENABLE ROW LEVEL SECURITY`)
    yield* sql.unsafe(`CREATE POLICY ${table}_tenant ON ${table} USING (shop = current_shop()) WITH CHECK (shop = current_shop())`)
    yield* sql.unsafe(`GRANT SELECT ON ${table} TO sumeru_tenant`)
  }
})
