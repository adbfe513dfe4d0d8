/**
 * The data plane's storage outside the event store:
 * - `data_exports`: customer data exports produced for `customers/data_request`, sealed
 *   under the customer's data key (so a later `customers/redact` makes them unreadable too)
 *   and downloadable by the shop's admins. Keyed by a stable id derived from the request.
 * - an index to find every event sealed under one data-key subject of a shop (the export's
 *   lookup): events that carry personal data name their `subject` in clear.
 */
import { Effect } from "effect"
import { SqlClient } from "effect/sql"

export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* sql`
    CREATE TABLE data_exports (
      shop             text NOT NULL,
      export_id        uuid NOT NULL,
      customer_id      text NOT NULL,
      data_request_id  text,
      sealed           jsonb NOT NULL,
      sha256           text NOT NULL,
      bytes            integer NOT NULL,
      event_count      integer NOT NULL,
      created_at       timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (shop, export_id)
    )`
  yield* sql`CREATE INDEX data_exports_customer_idx ON data_exports (shop, customer_id)`
  yield* sql`ALTER TABLE data_exports ENABLE ROW LEVEL SECURITY`
  yield* sql`CREATE POLICY data_exports_tenant ON data_exports USING (shop = current_shop()) WITH CHECK (shop = current_shop())`
  yield* sql`GRANT SELECT ON data_exports TO sumeru_tenant`
  yield* sql`CREATE INDEX events_shop_subject_idx ON events (shop, (data->>'subject')) WHERE data ? 'subject'`
})
