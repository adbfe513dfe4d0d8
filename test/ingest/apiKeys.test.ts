/**
 * Per-shop API keys on PostgreSQL 15 and PGlite: shown once, stored only as a hash, verified by
 * one lookup and a constant-time compare, revocable at once, listed per shop under row-level
 * security, `last_used_at` written at most once a minute.
 */
import { assert, describe, layer } from "@effect/vitest"
import { Effect, Layer, Option } from "effect"
import { SqlClient } from "effect/sql"
import { TestClock } from "effect/testing"
import * as PgApiKeys from "../../adapters/postgres/PgApiKeys.ts"
import { asTenant } from "../../adapters/postgres/Tenancy.ts"
import { ApiKeys } from "../../src/access/ApiKeys.ts"
import { backends } from "../support/databases.ts"

const SHOP_A = "keys-a.myshopify.com"
const SHOP_B = "keys-b.myshopify.com"

for (const backend of backends) {
  const KeysLayer = PgApiKeys.layer().pipe(Layer.provideMerge(backend.layer()))
  describe(`API keys on ${backend.name}`, () => {
    layer(KeysLayer, { excludeTestServices: true, timeout: 60_000 })((it) => {
      it.effect("a created key verifies to its shop, name, scopes and role; its format is sk_<keyId>_<secret>", () =>
        Effect.gen(function*() {
          const keys = yield* ApiKeys
          const created = yield* keys.create({ shop: SHOP_A, name: " Google Ads sync ", scopes: ["events:write", "events:write"] })
          assert.match(created.key, /^sk_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/)
          assert.isTrue(created.key.startsWith(`sk_${created.keyId}_`))
          const principal = yield* keys.verify(created.key)
          assert.deepStrictEqual(Option.getOrNull(principal), {
            keyId: created.keyId,
            shop: SHOP_A,
            name: "Google Ads sync",
            scopes: ["events:write"],
            role: null
          })
          const operator = yield* keys.create({ shop: SHOP_A, name: "ops", scopes: [], role: "operator" })
          assert.deepStrictEqual(Option.map(yield* keys.verify(operator.key), (p) => [p.scopes, p.role]), Option.some([[], "operator"]))
        }))

      it.effect("only a SHA-256 hash is stored: the key and its secret appear nowhere in the database", () =>
        Effect.gen(function*() {
          const keys = yield* ApiKeys
          const sql = yield* SqlClient.SqlClient
          const created = yield* keys.create({ shop: SHOP_A, name: "at rest", scopes: ["events:write"] })
          const secret = created.key.slice(`sk_${created.keyId}_`.length)
          const rows = yield* sql<{ t: string }>`SELECT k::text AS t FROM api_keys k`
          const everything = rows.map((r) => r.t).join("\n")
          assert.include(everything, created.keyId)
          assert.notInclude(everything, secret)
          assert.notInclude(everything, created.key)
          const stored = yield* sql<{ h: string }>`SELECT encode(key_hash, 'hex') AS h FROM api_keys WHERE key_id = ${created.keyId}`
          assert.strictEqual(stored[0]!.h, PgApiKeys.hashApiKey(created.key).toString("hex"))
        }))

      it.effect("unknown, malformed, tampered and other shops' keys do not verify", () =>
        Effect.gen(function*() {
          const keys = yield* ApiKeys
          const a = yield* keys.create({ shop: SHOP_A, name: "a", scopes: ["events:write"] })
          const b = yield* keys.create({ shop: SHOP_B, name: "b", scopes: ["events:write"] })
          const secretOf = (k: { key: string; keyId: string }) => k.key.slice(`sk_${k.keyId}_`.length)
          // shop A's key id with shop B's (valid) secret: right prefix, wrong key
          assert.isTrue(Option.isNone(yield* keys.verify(`sk_${a.keyId}_${secretOf(b)}`)))
          assert.isTrue(Option.isNone(yield* keys.verify(`sk_${a.keyId}_${secretOf(a).slice(0, -1)}${secretOf(a).endsWith("A") ? "B" : "A"}`)))
          assert.isTrue(Option.isNone(yield* keys.verify(`sk_000000000000_${secretOf(a)}`)))
          assert.isTrue(Option.isNone(yield* keys.verify("not-a-key")))
          assert.isTrue(Option.isNone(yield* keys.verify(`${a.key} `)))
          assert.isTrue(Option.isSome(yield* keys.verify(a.key)))
        }))

      it.effect("a revoked key stops verifying at once; revoking another shop's key does nothing", () =>
        Effect.gen(function*() {
          const keys = yield* ApiKeys
          const created = yield* keys.create({ shop: SHOP_A, name: "to revoke", scopes: ["events:write"] })
          assert.isTrue(Option.isSome(yield* keys.verify(created.key)))
          assert.isFalse(yield* keys.revoke(SHOP_B, created.keyId))
          assert.isTrue(Option.isSome(yield* keys.verify(created.key)))
          assert.isTrue(yield* keys.revoke(SHOP_A, created.keyId))
          assert.isTrue(Option.isNone(yield* keys.verify(created.key)))
          assert.isTrue(yield* keys.revoke(SHOP_A, created.keyId), "revoking twice is fine")
          assert.isFalse(yield* keys.revoke(SHOP_A, "ffffffffffff"))
          const listed = (yield* keys.list(SHOP_A)).find((k) => k.keyId === created.keyId)!
          assert.instanceOf(listed.revokedAt, Date)
        }))

      it.effect("list shows one shop's keys only, without secrets; the database enforces the shop", () =>
        Effect.gen(function*() {
          const keys = yield* ApiKeys
          const sql = yield* SqlClient.SqlClient
          const shop = "keys-list.myshopify.com"
          const one = yield* keys.create({ shop, name: "one", scopes: ["events:write"] })
          const two = yield* keys.create({ shop, name: "two", scopes: [], role: "viewer" })
          yield* keys.create({ shop: SHOP_B, name: "other", scopes: ["events:write"] })
          const listed = yield* keys.list(shop)
          assert.deepStrictEqual(listed.map((k) => k.keyId).sort(), [one.keyId, two.keyId].sort())
          for (const k of listed) {
            assert.strictEqual(k.shop, shop)
            assert.notProperty(k, "key")
            assert.notProperty(k, "keyHash")
          }
          // row-level security: a tenant session of this shop sees none of shop B's keys
          const seen = yield* asTenant(shop, sql<{ shop: string }>`SELECT DISTINCT shop FROM api_keys`)
          assert.deepStrictEqual(seen.map((r) => r.shop), [shop])
        }))

      it.effect("bad requests are refused with every problem: shop, name, unknown scope, unknown role, nothing granted", () =>
        Effect.gen(function*() {
          const keys = yield* ApiKeys
          const bad = yield* Effect.flip(keys.create({ shop: "not a shop", name: "  ", scopes: ["events:write", "rockets:launch"], role: "emperor" }))
          assert.strictEqual(bad._tag, "InvalidApiKeyRequest")
          for (const part of ["shop must be", "name must be", "rockets:launch", "role must be one of"]) assert.include(bad.message, part)
          const empty = yield* Effect.flip(keys.create({ shop: SHOP_A, name: "nothing", scopes: [] }))
          assert.include(empty.message, "at least one scope or a role")
        }))

      it.effect("last_used_at is written on use, then at most once a minute per key", () =>
        Effect.gen(function*() {
          const keys = yield* ApiKeys
          const sql = yield* SqlClient.SqlClient
          const created = yield* keys.create({ shop: SHOP_A, name: "usage", scopes: ["events:write"] })
          const lastUsed = Effect.map(
            sql<{ at: Date | null }>`SELECT last_used_at AS at FROM api_keys WHERE key_id = ${created.keyId}`,
            (rows) => rows[0]!.at
          )
          assert.isNull(yield* lastUsed)
          yield* keys.verify(created.key)
          assert.instanceOf(yield* lastUsed, Date)
          // Pretend the write is old; within the minute no request writes again.
          yield* sql`UPDATE api_keys SET last_used_at = now() - interval '2 minutes' WHERE key_id = ${created.keyId}`
          const old = (yield* lastUsed)!
          for (let i = 0; i < 5; i++) yield* keys.verify(created.key)
          assert.strictEqual((yield* lastUsed)!.getTime(), old.getTime())
          yield* TestClock.adjust("61 seconds")
          yield* keys.verify(created.key)
          assert.isAbove((yield* lastUsed)!.getTime(), old.getTime())
        }).pipe(Effect.provide(TestClock.layer())))
    })
  })
}
