/**
 * Flowmend bulk-metafield jobs: what the event store cannot hold.
 * - `job_requests`: the ingress's idempotency reservations, per shop: a Flow action run id
 *   or an input hash maps to the job it created. Reserved *before* publishing, so two
 *   identical concurrent requests cannot both create a job.
 * - `job_snapshots`: per job, the products it targets and their metafield value before the
 *   job (written while reading the bulk query; what undo restores). An artifact keyed by
 *   job: rewriting it on a retry is idempotent.
 * - `job_error_lines`: every failed result line of a job's bulk mutations (errors.jsonl).
 */
import { Effect } from "effect"
import { SqlClient } from "effect/sql"

export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* sql`
    CREATE TABLE job_requests (
      shop        text NOT NULL,
      key         text NOT NULL,
      job_id      uuid NOT NULL,
      published   boolean NOT NULL DEFAULT false,
      created_at  timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (shop, key)
    )`
  yield* sql`
    CREATE TABLE job_snapshots (
      job_id      uuid NOT NULL,
      shop        text NOT NULL,
      ordinal     integer NOT NULL,
      product_id  text NOT NULL,
      prev_value  text,
      prev_type   text,
      PRIMARY KEY (job_id, ordinal)
    )`
  yield* sql`
    CREATE TABLE job_error_lines (
      job_id       uuid NOT NULL,
      shop         text NOT NULL,
      chunk_index  integer NOT NULL,
      line_number  integer NOT NULL,
      line         text NOT NULL,
      PRIMARY KEY (job_id, chunk_index, line_number)
    )`
  for (const table of ["job_requests", "job_snapshots", "job_error_lines"]) {
    yield* sql.unsafe(`ALTER TABLE ${table} ENABLE ROW LEVEL SECURITY`)
    yield* sql.unsafe(`CREATE POLICY ${table}_tenant ON ${table} USING (shop = current_shop()) WITH CHECK (shop = current_shop())`)
    yield* sql.unsafe(`GRANT SELECT ON ${table} TO sumeru_tenant`)
  }
})
