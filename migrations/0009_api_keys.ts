/**
 * Public ingestion: per-shop API keys and the pixel's CORS allow-list.
 * - `api_keys`: one row per key. Only the SHA-256 of the whole key is kept (`key_hash`); the
 *   key itself is shown once at creation. `key_id` is the public part of the key
 *   (`sk_<key_id>_<secret>`), so verifying is one primary-key lookup. Revoking sets
 *   `revoked_at` (rows are kept for the audit trail). `last_used_at` is refreshed at most
 *   once a minute per key.
 * - `storefront_origins`: browser origins (custom storefront domains) allowed to send the
 *   shop's pixel touchpoints, besides `https://<shop>` which is always allowed.
 * Both are shop-owned: row-level security for the `sumeru_tenant` role (see 0003).
 */
import { Effect } from "effect"
import { SqlClient } from "effect/sql"

export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* sql`
    CREATE TABLE api_keys (
      key_id        text PRIMARY KEY,
      shop          text NOT NULL,
      name          text NOT NULL,
      key_hash      bytea NOT NULL,
      scopes        text[] NOT NULL DEFAULT '{}',
      role          text,
      created_at    timestamptz NOT NULL DEFAULT now(),
      revoked_at    timestamptz,
      last_used_at  timestamptz
    )`
  yield* sql`CREATE INDEX api_keys_shop ON api_keys (shop, created_at)`
  yield* sql`
    CREATE TABLE storefront_origins (
      shop        text NOT NULL,
      origin      text NOT NULL,
      created_at  timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (shop, origin)
    )`
  const grants = { api_keys: "SELECT, INSERT, UPDATE", storefront_origins: "SELECT, INSERT, DELETE" } as const
  for (const [table, privileges] of Object.entries(grants)) {
    yield* sql.unsafe(`ALTER TABLE ${table} ENABLE ROW LEVEL SECURITY`)
    yield* sql.unsafe(`CREATE POLICY ${table}_tenant ON ${table} USING (shop = current_shop()) WITH CHECK (shop = current_shop())`)
    yield* sql.unsafe(`GRANT ${privileges} ON ${table} TO sumeru_tenant`)
  }
})
