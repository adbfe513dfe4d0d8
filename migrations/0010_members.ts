/**
 * `shop_members`: the admin role of each Shopify staff member of a shop (issue 5 §5). A member
 * is keyed by the session token's `sub` (the Shopify user id); a staff member with no row gets
 * the configured default role (`ADMIN_DEFAULT_ROLE`). Row-level security like every shop table:
 * the admin API reads and changes members only as the tenant.
 *
 * The role list is written out here, not imported from `domain/access/Permissions.ts`: a
 * migration is a fixed step, and a later change to the roles needs a migration of its own.
 */
import { Effect } from "effect"
import { SqlClient } from "effect/sql"

export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* sql`
    CREATE TABLE shop_members (
      shop        text NOT NULL,
      user_id     text NOT NULL,
      role        text NOT NULL CHECK (role IN ('owner', 'admin', 'operator', 'analyst', 'viewer')),
      updated_at  timestamptz NOT NULL DEFAULT now(),
      -- who last set the role: a Shopify user id, or api_key:<key id>
      updated_by  text,
      PRIMARY KEY (shop, user_id)
    )`
  // "is there another owner?" is asked on every demotion of an owner
  yield* sql`CREATE INDEX shop_members_owners ON shop_members (shop) WHERE role = 'owner'`
  yield* sql.unsafe(`ALTER TABLE shop_members ENABLE ROW LEVEL SECURITY`)
  yield* sql.unsafe(
    `CREATE POLICY shop_members_tenant ON shop_members USING (shop = current_shop()) WITH CHECK (shop = current_shop())`
  )
  yield* sql.unsafe(`GRANT SELECT, INSERT, UPDATE, DELETE ON shop_members TO sumeru_tenant`)
})
