/**
 * Secrets at rest (invariant 7), sealed by the key ring (`adapters/crypto/KeyRing.ts`).
 * - `shop_tokens`: each installed shop's offline access token, AES-256-GCM under the key
 *   named in `kid` (AAD `shop-token:<shop>`).
 * - `data_keys`: crypto-shredding. One random data key per (shop, subject), wrapped by the
 *   key ring (AAD `data-key:<shop>:<subject>`). Deleting the row makes everything sealed
 *   with that key unreadable while the events holding it stay immutable.
 * Both index `kid` first: `sumeru keys rotate` walks the rows still under an old key.
 *
 * The `sumeru_tenant` role gets NO grant on these tables (unlike every other shop-owned
 * table): request code acting for a shop never reads secrets; only system code running as
 * the owning role does. Row-level security is enabled without any policy as a second lock:
 * should a grant ever be added by mistake, non-owner roles still see no rows.
 */
import { Effect } from "effect"
import { SqlClient } from "effect/sql"

export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* sql`
    CREATE TABLE shop_tokens (
      shop          text PRIMARY KEY,
      sealed        text NOT NULL,
      kid           text NOT NULL,
      scopes        text NOT NULL,
      installed_at  timestamptz NOT NULL DEFAULT now(),
      updated_at    timestamptz NOT NULL DEFAULT now()
    )`
  yield* sql`CREATE INDEX shop_tokens_kid ON shop_tokens (kid, shop)`
  yield* sql`
    CREATE TABLE data_keys (
      shop        text NOT NULL,
      subject     text NOT NULL,
      kid         text NOT NULL,
      wrapped     text NOT NULL,
      created_at  timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (shop, subject)
    )`
  yield* sql`CREATE INDEX data_keys_kid ON data_keys (kid, shop, subject)`
  for (const table of ["shop_tokens", "data_keys"]) {
    yield* sql.unsafe(`REVOKE ALL ON ${table} FROM PUBLIC`)
    yield* sql.unsafe(`REVOKE ALL ON ${table} FROM sumeru_tenant`)
    yield* sql.unsafe(`ALTER TABLE ${table} ENABLE ROW LEVEL SECURITY`)
  }
})
