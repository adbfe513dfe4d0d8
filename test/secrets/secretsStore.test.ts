/**
 * Secrets at rest on PostgreSQL 15 and PGlite (invariant 7): shop tokens encrypted under the
 * key ring and never visible in any table or log line; crypto-shredding data keys per
 * (shop, subject), created race-safely, destroyed by `shred` / `shredShop`; the Admin API's
 * credentials read from the stored tokens.
 */
import { assert, describe, layer } from "@effect/vitest"
import { Effect, Exit, Logger, Option, Redacted, References } from "effect"
import { SqlClient } from "effect/sql"
import { TestClock } from "effect/testing"
import { randomBytes } from "node:crypto"
import * as KeyRing from "../../adapters/crypto/KeyRing.ts"
import * as PgSecrets from "../../adapters/postgres/PgSecrets.ts"
import { asTenant } from "../../adapters/postgres/Tenancy.ts"
import { ShopCredentials } from "../../adapters/shopify/ShopifyAdmin.ts"
import { ShopTokens } from "../../src/secrets/Secrets.ts"
import type { Sealed } from "../../src/secrets/Secrets.ts"
import { backends } from "../support/databases.ts"

const keys: Record<string, Uint8Array> = { k1: randomBytes(32), k2: randomBytes(32) }
const ringOf = (currentKid: string, ...kids: ReadonlyArray<string>) =>
  KeyRing.make({ currentKid, keys: new Map(kids.map((k) => [k, keys[k]!])) })
const k1Ring = ringOf("k1", "k1")

/** A fresh instance, as another process would have (its own cache). */
const tokensWith = (ring = k1Ring) => Effect.flatMap(ring, (r) => Effect.provideService(PgSecrets.makeShopTokens, KeyRing.KeyRing, r))
const vaultWith = (ring = k1Ring, options?: PgSecrets.PiiVaultOptions) =>
  Effect.flatMap(ring, (r) => Effect.provideService(PgSecrets.makePiiVault(options), KeyRing.KeyRing, r))

const token = (label: string) => `shpat_${label}_${randomBytes(12).toString("hex")}`

/** Every row of every table in the database, as text, that contains `needle`. */
const tablesContaining = (needle: string) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const tables = yield* sql<{ schema: string; name: string }>`
      SELECT table_schema AS schema, table_name AS name FROM information_schema.tables
       WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema')`
    const found: Array<string> = []
    for (const t of tables) {
      const rows = yield* sql<{ n: number }>`SELECT count(*)::int AS n FROM ${sql(t.schema)}.${sql(t.name)} AS r WHERE r::text LIKE ${`%${needle}%`}`
      if (rows[0]!.n > 0) found.push(`${t.schema}.${t.name}`)
    }
    return { tables: tables.length, found }
  })

const recordLogs = () => {
  const lines: Array<string> = []
  const logger = Logger.make((o) => void lines.push(Logger.formatJson.log(o)))
  const capture = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
    effect.pipe(Effect.provide(Logger.layer([logger])), Effect.provideService(References.MinimumLogLevel, "All"))
  return { lines, capture }
}

for (const backend of backends) {
  describe(`secrets on ${backend.name}`, () => {
    layer(backend.layer(), { excludeTestServices: true, timeout: 120_000 })((it) => {
      it.effect("saves, replaces and discards a shop's token; shop domains are case-insensitive", () =>
        Effect.gen(function*() {
          const tokens = yield* tokensWith()
          const sql = yield* SqlClient.SqlClient
          assert.isTrue(Option.isNone(yield* tokens.get("t1.myshopify.com")))
          const first = token("first")
          yield* tokens.save("T1.myshopify.com", Redacted.make(first), "read_products")
          const got = Option.getOrThrow(yield* tokens.get("t1.myshopify.com"))
          assert.strictEqual(Redacted.value(got.token), first)
          assert.strictEqual(got.scopes, "read_products")
          const row = (yield* sql<{ shop: string; kid: string; sealed: string }>`SELECT shop, kid, sealed FROM shop_tokens WHERE shop = 't1.myshopify.com'`)[0]!
          assert.strictEqual(row.kid, "k1")
          assert.isTrue(row.sealed.startsWith("k1."))

          const second = token("second")
          yield* tokens.save("t1.myshopify.com", Redacted.make(second), "read_products,write_products")
          const replaced = Option.getOrThrow(yield* tokens.get("T1.MYSHOPIFY.COM"))
          assert.strictEqual(Redacted.value(replaced.token), second)
          assert.strictEqual(replaced.scopes, "read_products,write_products")
          // a re-save is a re-install: a late app/uninstalled compares against this time
          assert.isAtLeast(replaced.installedAt.getTime(), got.installedAt.getTime())
          // what a log line would show
          assert.notInclude(String(replaced.token), second)
          assert.notInclude(JSON.stringify(replaced), second)

          yield* tokens.discard("t1.myshopify.com")
          yield* tokens.discard("t1.myshopify.com")
          assert.isTrue(Option.isNone(yield* tokens.get("t1.myshopify.com")))
        }))

      it.effect("a token's plaintext is in no table and in no log line while it is saved and read", () =>
        Effect.gen(function*() {
          const tokens = yield* tokensWith()
          const vault = yield* vaultWith()
          const secret = token("never_visible")
          const logs = recordLogs()
          yield* logs.capture(Effect.gen(function*() {
            yield* Effect.logDebug("capturing") // proves the recorder sees debug lines
            yield* tokens.save("t2.myshopify.com", Redacted.make(secret), "read_products")
            const got = Option.getOrThrow(yield* tokens.get("t2.myshopify.com"))
            yield* Effect.logInfo("read a token", got)
            yield* Effect.annotateLogs(Effect.logInfo("annotated"), { token: got.token })
            assert.strictEqual(Redacted.value(got.token), secret)
            // personal data sealed next to it must not be readable in the database either
            yield* vault.seal("t2.myshopify.com", "customer:1", { email: `${secret}@example.com` })
          }))
          assert.isTrue(logs.lines.some((l) => l.includes("capturing")))
          assert.isTrue(logs.lines.some((l) => l.includes("read a token")))
          for (const line of logs.lines) assert.notInclude(line, secret)

          const forms = [secret, Buffer.from(secret).toString("base64"), Buffer.from(secret).toString("base64url"), Buffer.from(secret).toString("hex")]
          for (const form of forms) {
            const search = yield* tablesContaining(form)
            assert.isAbove(search.tables, 10)
            assert.deepStrictEqual(search.found, [], `found ${form}`)
          }
          // the search would find it if it were there
          assert.deepStrictEqual((yield* tablesContaining("t2.myshopify.com")).found.sort(), ["public.data_keys", "public.shop_tokens"])
        }))

      it.effect("a ciphertext copied to another shop's row, or tampered with, fails with DecryptionFailed", () =>
        Effect.gen(function*() {
          const tokens = yield* tokensWith()
          const sql = yield* SqlClient.SqlClient
          yield* tokens.save("t3a.myshopify.com", Redacted.make(token("a")), "s")
          yield* tokens.save("t3b.myshopify.com", Redacted.make(token("b")), "s")
          yield* sql`UPDATE shop_tokens SET sealed = (SELECT sealed FROM shop_tokens WHERE shop = 't3a.myshopify.com') WHERE shop = 't3b.myshopify.com'`
          assert.strictEqual((yield* Effect.flip(tokens.get("t3b.myshopify.com")))._tag, "DecryptionFailed")
          assert.isTrue(Option.isSome(yield* tokens.get("t3a.myshopify.com")))
          yield* sql`UPDATE shop_tokens SET sealed = overlay(sealed placing (CASE WHEN substr(sealed, 30, 1) = 'A' THEN 'B' ELSE 'A' END) from 30 for 1) WHERE shop = 't3a.myshopify.com'`
          assert.strictEqual((yield* Effect.flip(tokens.get("t3a.myshopify.com")))._tag, "DecryptionFailed")
        }))

      it.effect("a row under a key the ring does not hold is SecretsUnavailable, not a crash", () =>
        Effect.gen(function*() {
          const later = yield* tokensWith(ringOf("k2", "k2"))
          yield* later.save("t4.myshopify.com", Redacted.make(token("k2")), "s")
          const older = yield* tokensWith()
          const error = yield* Effect.flip(older.get("t4.myshopify.com"))
          assert.strictEqual(error._tag, "SecretsUnavailable")
          assert.match(error.message, /key k2 is not in the key ring/)
        }))

      it.effect("the tenant role can read neither tokens nor data keys", () =>
        Effect.gen(function*() {
          const sql = yield* SqlClient.SqlClient
          const tokens = yield* tokensWith()
          const vault = yield* vaultWith()
          yield* tokens.save("t5.myshopify.com", Redacted.make(token("t5")), "s")
          yield* vault.seal("t5.myshopify.com", "shop", { a: 1 })
          for (const query of [sql`SELECT * FROM shop_tokens`, sql`SELECT * FROM data_keys`]) {
            const error = yield* Effect.flip(asTenant("t5.myshopify.com", query))
            assert.strictEqual(error._tag, "SqlError")
            assert.match(String((error as { reason?: { cause?: { message?: string } } }).reason?.cause?.message), /permission denied/)
          }
        }))

      it.effect("PiiVault: seal/open; shred makes one subject unreadable, shredShop the whole shop, other shops unaffected", () =>
        Effect.gen(function*() {
          const vault = yield* vaultWith()
          const shop = "p1.myshopify.com"
          const other = "p2.myshopify.com"
          const alice = yield* vault.seal(shop, "customer:1", { email: "alice@example.com", tags: ["vip"] })
          const bob = yield* vault.seal(shop, "customer:2", { email: "bob@example.com" })
          const shopWide = yield* vault.seal(shop, "shop", { owner: "carol@example.com" })
          const elsewhere = yield* vault.seal(other, "customer:1", { email: "dave@example.com" })
          assert.strictEqual(alice.sealed, 1)
          assert.strictEqual(alice.subject, "customer:1")
          assert.notInclude(alice.data, "alice")
          const aliceAgain = yield* vault.seal(shop, "customer:1", "second value")
          assert.deepStrictEqual(yield* vault.open(shop, alice), Option.some({ email: "alice@example.com", tags: ["vip"] }))
          assert.deepStrictEqual(yield* vault.open(shop, aliceAgain), Option.some("second value"))

          yield* vault.shred(shop, "customer:1")
          yield* vault.shred(shop, "customer:1")
          assert.isTrue(Option.isNone(yield* vault.open(shop, alice)))
          assert.isTrue(Option.isNone(yield* vault.open(shop, aliceAgain)))
          assert.deepStrictEqual(yield* vault.open(shop, bob), Option.some({ email: "bob@example.com" }))
          // another process (no cache) agrees
          const fresh = yield* vaultWith()
          assert.isTrue(Option.isNone(yield* fresh.open(shop, alice)))
          assert.deepStrictEqual(yield* fresh.open(shop, shopWide), Option.some({ owner: "carol@example.com" }))
          // a shredded subject gets no new key (a late delivery must not make the data readable again)
          for (const v of [vault, fresh]) {
            const refused = yield* Effect.flip(v.seal(shop, "customer:1", { email: "alice@example.com" }))
            assert.strictEqual(refused._tag, "SubjectShredded")
          }
          assert.strictEqual((yield* vault.seal(shop, "customer:3", "new customer")).subject, "customer:3")

          yield* vault.shredShop(shop)
          yield* vault.shredShop(shop)
          for (const s of [bob, shopWide]) assert.isTrue(Option.isNone(yield* vault.open(shop, s)))
          assert.deepStrictEqual(yield* vault.open(other, elsewhere), Option.some({ email: "dave@example.com" }))
          assert.deepStrictEqual(yield* (yield* vaultWith()).open(other, elsewhere), Option.some({ email: "dave@example.com" }))

          // after shop/redact (tombstones erased with the shop) a re-installed shop's customer gets a new key:
          // new data is readable, old data stays gone
          const returning = yield* vault.seal(shop, "customer:1", { email: "alice@example.com" })
          assert.isTrue(Option.isSome(yield* fresh.open(shop, returning)))
          assert.isTrue(Option.isNone(yield* fresh.open(shop, alice)))
        }))

      it.effect("a value sealed for one shop does not open as another shop's", () =>
        Effect.gen(function*() {
          const vault = yield* vaultWith()
          const sealed = yield* vault.seal("x1.myshopify.com", "customer:9", { email: "x@example.com" })
          assert.isTrue(Option.isNone(yield* vault.open("x2.myshopify.com", sealed)))
          // x2's own key for the same subject is another key: the value stays unreadable there
          const own = yield* vault.seal("x2.myshopify.com", "customer:9", "x2's own value")
          assert.isTrue(Option.isNone(yield* vault.open("x2.myshopify.com", sealed)))
          assert.deepStrictEqual(yield* vault.open("x2.myshopify.com", own), Option.some("x2's own value"))
          // x1's ciphertext relabelled with x2's key id still fails authentication
          const forged: Sealed = { ...sealed, data: [own.data.split(".")[0], ...sealed.data.split(".").slice(1)].join(".") }
          assert.strictEqual((yield* Effect.flip(vault.open("x2.myshopify.com", forged)))._tag, "DecryptionFailed")
          const tampered: Sealed = { ...sealed, data: sealed.data.slice(0, -2) + (sealed.data.endsWith("AA") ? "BB" : "AA") }
          assert.strictEqual((yield* Effect.flip(vault.open("x1.myshopify.com", tampered)))._tag, "DecryptionFailed")
        }))

      it.effect("concurrent first seals of a subject (two processes) agree on one data key", () =>
        Effect.gen(function*() {
          const sql = yield* SqlClient.SqlClient
          const a = yield* vaultWith()
          const b = yield* vaultWith()
          const subjects = Array.from({ length: 25 }, (_, i) => `customer:${i}`)
          const sealed = yield* Effect.forEach(
            subjects.flatMap((s) => [a.seal("race.myshopify.com", s, `${s} via a`), b.seal("race.myshopify.com", s, `${s} via b`)]),
            (e) => e,
            { concurrency: "unbounded" }
          )
          const counts = yield* sql<{ n: number }>`SELECT count(*)::int AS n FROM data_keys WHERE shop = 'race.myshopify.com'`
          assert.strictEqual(counts[0]!.n, subjects.length)
          const reader = yield* vaultWith()
          const opened = yield* Effect.forEach(sealed, (s) => reader.open("race.myshopify.com", s))
          assert.deepStrictEqual(opened.map(Option.getOrNull), subjects.flatMap((s) => [`${s} via a`, `${s} via b`]))
        }))

      it.effect("a data key created in a transaction that rolls back is never used afterwards", () =>
        Effect.gen(function*() {
          const sql = yield* SqlClient.SqlClient
          const vault = yield* vaultWith()
          const exit = yield* Effect.exit(sql.withTransaction(Effect.gen(function*() {
            yield* vault.seal("rb.myshopify.com", "customer:1", "inside")
            return yield* Effect.fail("roll back" as const)
          })))
          assert.isTrue(Exit.isFailure(exit))
          const after = yield* vault.seal("rb.myshopify.com", "customer:1", "after")
          const other = yield* vaultWith()
          assert.deepStrictEqual(yield* other.open("rb.myshopify.com", after), Option.some("after"))
        }))

      it.effect("another process's cached data key serves a shredded subject for at most the cache TTL", () =>
        Effect.gen(function*() {
          const cached = yield* vaultWith(k1Ring, { cacheTtl: "30 seconds" })
          const shredder = yield* vaultWith()
          yield* Effect.gen(function*() {
            const sealed = yield* cached.seal("ttl.myshopify.com", "customer:1", "v")
            yield* shredder.shred("ttl.myshopify.com", "customer:1")
            assert.deepStrictEqual(yield* cached.open("ttl.myshopify.com", sealed), Option.some("v"))
            yield* TestClock.adjust("29 seconds")
            assert.deepStrictEqual(yield* cached.open("ttl.myshopify.com", sealed), Option.some("v"))
            yield* TestClock.adjust("1 second")
            assert.isTrue(Option.isNone(yield* cached.open("ttl.myshopify.com", sealed)))
          }).pipe(Effect.provide(TestClock.layer()))
        }))

      it.effect("ShopCredentials: the stored token first, then the fallback record, else NOT_INSTALLED like fromRecord", () =>
        Effect.gen(function*() {
          const tokens = yield* tokensWith()
          const stored = token("stored")
          yield* tokens.save("c1.myshopify.com", Redacted.make(stored), "s")
          const layer = PgSecrets.layerShopCredentials({ "C1.myshopify.com": "shpat_fallback_1", "c2.myshopify.com": "shpat_fallback_2" })
          const get = (shop: string) =>
            ShopCredentials.use((c) => c.get(shop)).pipe(Effect.provide(layer), Effect.provideService(ShopTokens, tokens))
          assert.strictEqual(Redacted.value((yield* get("c1.myshopify.com")).accessToken), stored)
          assert.strictEqual(Redacted.value((yield* get("c2.myshopify.com")).accessToken), "shpat_fallback_2")
          const missing = yield* Effect.flip(get("c3.myshopify.com"))
          const expected = yield* Effect.flip(ShopCredentials.use((c) => c.get("c3.myshopify.com")).pipe(Effect.provide(ShopCredentials.fromRecord({}))))
          assert.deepStrictEqual({ ...missing }, { ...expected })
          assert.strictEqual(missing._tag, "ShopifyPermanentError")

          const older = Effect.provide(
            ShopCredentials.use((c) => c.get("t4.myshopify.com")),
            PgSecrets.layerShopCredentials()
          ).pipe(Effect.provideService(ShopTokens, tokens))
          yield* (yield* tokensWith(ringOf("k2", "k2"))).save("t4.myshopify.com", Redacted.make(token("k2")), "s")
          assert.strictEqual((yield* Effect.flip(older))._tag, "ShopifyUnavailable")
        }))
    })
  })
}
