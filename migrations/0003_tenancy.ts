/**
 * Row-level security (invariant 6). System work (actors, projector) runs as the owning role,
 * which bypasses RLS. Anything acting for one shop runs inside a transaction that does
 * `SET LOCAL ROLE sumeru_tenant` and sets `sumeru.shop`; the database then hides and
 * refuses every other shop's rows, whatever the query says.
 */
import { Effect } from "effect"
import { SqlClient } from "effect/sql"

export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* sql.unsafe(`
    DO $$ BEGIN
      IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'sumeru_tenant') THEN
        CREATE ROLE sumeru_tenant NOLOGIN;
      END IF;
    -- roles are cluster-wide: another database's migration may create it concurrently
    EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
    END $$`)
  // The owning role must be able to SET ROLE to the tenant role (superusers always can).
  yield* sql.unsafe(`
    DO $$ BEGIN
      EXECUTE format('GRANT sumeru_tenant TO %I', current_user);
    EXCEPTION WHEN others THEN NULL;
    END $$`)
  yield* sql.unsafe(`GRANT USAGE ON SCHEMA public TO sumeru_tenant`)
  yield* sql.unsafe(`
    CREATE FUNCTION current_shop() RETURNS text LANGUAGE sql STABLE AS
    $$ SELECT nullif(current_setting('sumeru.shop', true), '') $$`)
  for (const table of ["events", "event_streams", "snapshots"]) {
    yield* sql.unsafe(`ALTER TABLE ${table} ENABLE ROW LEVEL SECURITY`)
    yield* sql.unsafe(
      `CREATE POLICY ${table}_tenant ON ${table} USING (shop = current_shop()) WITH CHECK (shop = current_shop())`
    )
    yield* sql.unsafe(`GRANT SELECT, INSERT, UPDATE ON ${table} TO sumeru_tenant`)
  }
  yield* sql.unsafe(`GRANT USAGE ON SEQUENCE events_position_seq TO sumeru_tenant`)
  yield* sql.unsafe(`GRANT SELECT ON projection_generations TO sumeru_tenant`)
})
