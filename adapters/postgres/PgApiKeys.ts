/**
 * `ApiKeys` (src/access/ApiKeys.ts) on PostgreSQL (`api_keys`, migrations/0009_api_keys.ts).
 *
 * - A key is `sk_<keyId>_<secret>`: `keyId` is 12 random hex characters (public: it names
 *   the row), `secret` is 32 random bytes in base64url. Only SHA-256 of the whole key is
 *   stored: the key is 256-bit random, so a slow password hash would add latency and no
 *   safety. The key is returned once, by `create`, and never logged.
 * - `verify` is one primary-key lookup (the key id) and a constant-time comparison of the
 *   hashes; a malformed key never reaches the database. It runs as the owning role (the
 *   shop is not known until the row is found); every other operation acts for one shop
 *   under row-level security (`asTenant`).
 * - `last_used_at` is refreshed at most once a minute per key: this process remembers when it
 *   last wrote, and the UPDATE itself is conditional, so a busy key costs one write a minute
 *   (per process at worst), not one per request.
 */
import { Clock, Effect, Layer, Option } from "effect"
import { SqlClient } from "effect/sql"
import type { SqlError } from "effect/sql/SqlError"
import { createHash, randomBytes, timingSafeEqual } from "node:crypto"
import { isShopDomain } from "../../domain/shop/ShopDomain.ts"
import { checkApiKeyRequest } from "../../domain/ingest/Scopes.ts"
import { type ApiKeyPrincipal, ApiKeys, type ApiKeySummary, InvalidApiKeyRequest } from "../../src/access/ApiKeys.ts"
import { asTenant } from "./Tenancy.ts"

const KEY_PATTERN = /^sk_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$/

/** The key id of a well-formed key, or `undefined` (then there is nothing to look up). */
export const keyIdOf = (key: string): string | undefined => KEY_PATTERN.exec(key)?.[1]

/** What is stored for a key: SHA-256 of the whole key string. */
export const hashApiKey = (key: string): Buffer => createHash("sha256").update(key, "utf8").digest()

const newKey = (): { readonly keyId: string; readonly key: string } => {
  const keyId = randomBytes(6).toString("hex")
  return { keyId, key: `sk_${keyId}_${randomBytes(32).toString("base64url")}` }
}

export interface PgApiKeysOptions {
  /** Minimum time between two `last_used_at` writes of one key (default one minute). */
  readonly lastUsedIntervalMs?: number
}

interface KeyRow {
  readonly key_id: string
  readonly shop: string
  readonly name: string
  readonly key_hash: Uint8Array
  readonly scopes: ReadonlyArray<string>
  readonly role: string | null
  readonly revoked_at: Date | null
}

interface SummaryRow {
  readonly key_id: string
  readonly shop: string
  readonly name: string
  readonly scopes: ReadonlyArray<string>
  readonly role: string | null
  readonly created_at: Date
  readonly revoked_at: Date | null
  readonly last_used_at: Date | null
}

const toSummary = (r: SummaryRow): ApiKeySummary => ({
  keyId: r.key_id,
  shop: r.shop,
  name: r.name,
  scopes: r.scopes,
  role: r.role,
  createdAt: r.created_at,
  revokedAt: r.revoked_at,
  lastUsedAt: r.last_used_at
})

/** Scopes are validated permission names (`[a-z_]+:[a-z_]+`): a Postgres array literal is exact. */
const textArray = (values: ReadonlyArray<string>): string => `{${values.join(",")}}`

export const make = (options?: PgApiKeysOptions) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const intervalMs = options?.lastUsedIntervalMs ?? 60_000
    const lastUsedWritten = new Map<string, number>()
    const forShop = <A, E>(shop: string, effect: Effect.Effect<A, E, SqlClient.SqlClient>) =>
      asTenant(shop, effect).pipe(Effect.provideService(SqlClient.SqlClient, sql))

    const create = Effect.fn("ApiKeys.create")(function*(input: Parameters<ApiKeys["Service"]["create"]>[0]) {
      const checked = checkApiKeyRequest(input, isShopDomain)
      if (checked._tag === "Invalid") return yield* new InvalidApiKeyRequest({ message: checked.problems.join("; ") })
      const { name, role, scopes, shop } = checked.request
      // 48 random bits of key id: a collision is astronomically rare, but a retry is free.
      const insert = Effect.suspend(() => {
        const fresh = newKey()
        return forShop(shop, sql`
          INSERT INTO api_keys (key_id, shop, name, key_hash, scopes, role)
          VALUES (${fresh.keyId}, ${shop}, ${name}, ${hashApiKey(fresh.key)}, ${textArray(scopes)}::text[], ${role})`).pipe(Effect.as(fresh))
      })
      return yield* insert.pipe(Effect.retry({ times: 3, while: (e: SqlError) => e.reason._tag === "UniqueViolation" }))
    })

    const touch = (keyId: string) =>
      Effect.gen(function*() {
        const now = yield* Clock.currentTimeMillis
        const last = lastUsedWritten.get(keyId)
        if (last !== undefined && now - last < intervalMs) return
        lastUsedWritten.set(keyId, now)
        // Conditional: other processes verifying the same key do not write again either.
        yield* sql`
          UPDATE api_keys SET last_used_at = now()
           WHERE key_id = ${keyId}
             AND (last_used_at IS NULL OR last_used_at < now() - make_interval(secs => ${intervalMs / 1000}))`
      }).pipe(Effect.ignore)

    const verify = Effect.fn("ApiKeys.verify")(function*(key: string) {
      const keyId = keyIdOf(key)
      if (keyId === undefined) return Option.none<ApiKeyPrincipal>()
      const rows = yield* sql<KeyRow>`
        SELECT key_id, shop, name, key_hash, scopes, role, revoked_at FROM api_keys WHERE key_id = ${keyId}`
      const row = rows[0]
      if (row === undefined) return Option.none<ApiKeyPrincipal>()
      const presented = hashApiKey(key)
      const stored = Buffer.from(row.key_hash)
      if (stored.length !== presented.length || !timingSafeEqual(stored, presented)) return Option.none<ApiKeyPrincipal>()
      if (row.revoked_at !== null) return Option.none<ApiKeyPrincipal>()
      yield* touch(keyId)
      return Option.some<ApiKeyPrincipal>({ keyId: row.key_id, shop: row.shop, name: row.name, scopes: row.scopes, role: row.role })
    })

    const revoke = Effect.fn("ApiKeys.revoke")(function*(shop: string, keyId: string) {
      // Revoking twice is fine (the first time stays recorded); another shop's key is "no such key".
      const rows = yield* forShop(shop, sql<{ key_id: string }>`
        UPDATE api_keys SET revoked_at = coalesce(revoked_at, now())
         WHERE key_id = ${keyId} AND shop = ${shop}
        RETURNING key_id`)
      return rows.length > 0
    })

    const list = Effect.fn("ApiKeys.list")(function*(shop: string) {
      const rows = yield* forShop(shop, sql<SummaryRow>`
        SELECT key_id, shop, name, scopes, role, created_at, revoked_at, last_used_at
          FROM api_keys WHERE shop = ${shop}
         ORDER BY created_at, key_id`)
      return rows.map(toSummary)
    })

    return ApiKeys.of({ create, verify, revoke, list })
  })

export const layer = (options?: PgApiKeysOptions): Layer.Layer<ApiKeys, never, SqlClient.SqlClient> =>
  Layer.effect(ApiKeys, make(options))
