/**
 * What the intelligence plane has already emitted to a shop's actor (`sales.attribution_computed`
 * for an order, later a detector's finding): one row per (shop, key). A producer that follows a
 * read model emits what has no row yet, then records it, so a restart or a rebuild of the read
 * model emits nothing twice (the trigger's id is derived from the key too, so a crash between the
 * two is a duplicate the shop log drops).
 */
import { Effect } from "effect"
import { SqlClient } from "effect/sql"

export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* sql.unsafe(`
    CREATE TABLE intelligence_emissions (
      shop text NOT NULL,
      key text NOT NULL,
      emitted_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (shop, key)
    )`)
  yield* sql.unsafe(`ALTER TABLE intelligence_emissions ENABLE ROW LEVEL SECURITY`)
  yield* sql.unsafe(
    `CREATE POLICY intelligence_emissions_tenant ON intelligence_emissions USING (shop = current_shop()) WITH CHECK (shop = current_shop())`
  )
  yield* sql.unsafe(`GRANT SELECT ON intelligence_emissions TO sumeru_tenant`)
})
