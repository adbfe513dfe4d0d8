/**
 * Key rotation without downtime (invariant 7), on PostgreSQL 15 and PGlite: everything sealed
 * under k1 is re-encrypted under k2 in batches, readers keep working, a ring without k1 then
 * opens everything, and writers running during the rotation lose nothing. Each test gets its
 * own database (the rotation walks the whole of it).
 */
import { assert, describe, it } from "@effect/vitest"
import { Deferred, Effect, Fiber, Option, Redacted, Schedule } from "effect"
import { SqlClient } from "effect/sql"
import { randomBytes } from "node:crypto"
import * as KeyRing from "../../adapters/crypto/KeyRing.ts"
import { keyUsage, rotateKeys } from "../../adapters/postgres/PgKeyRotation.ts"
import * as PgSecrets from "../../adapters/postgres/PgSecrets.ts"
import type { Sealed } from "../../src/secrets/Secrets.ts"
import { backends, postgresLayer } from "../support/databases.ts"

const keys: Record<string, Uint8Array> = { k1: randomBytes(32), k2: randomBytes(32), k0: randomBytes(32) }
const ringOf = (currentKid: string, ...kids: ReadonlyArray<string>) =>
  KeyRing.make({ currentKid, keys: new Map(kids.map((k) => [k, keys[k]!])) })

const tokensWith = (ring: ReturnType<typeof ringOf>) =>
  Effect.flatMap(ring, (r) => Effect.provideService(PgSecrets.makeShopTokens, KeyRing.KeyRing, r))
const vaultWith = (ring: ReturnType<typeof ringOf>) =>
  Effect.flatMap(ring, (r) => Effect.provideService(PgSecrets.makePiiVault(), KeyRing.KeyRing, r))
const rotateWith = (ring: ReturnType<typeof ringOf>, batchSize: number) =>
  Effect.flatMap(ring, (r) => Effect.provideService(rotateKeys({ batchSize }), KeyRing.KeyRing, r))

const shopName = (i: number) => `r${String(i).padStart(3, "0")}.myshopify.com`
const tokenFor = (label: string) => `shpat_${label}_${randomBytes(8).toString("hex")}`

/** Tokens for `shops` shops and three subjects' values per shop, all under k1. */
const seed = (shops: number) =>
  Effect.gen(function*() {
    const tokens = yield* tokensWith(ringOf("k1", "k1"))
    const vault = yield* vaultWith(ringOf("k1", "k1"))
    const expected = new Map<string, string>()
    const sealed: Array<{ shop: string; value: string; sealed: Sealed }> = []
    for (let i = 0; i < shops; i++) {
      const shop = shopName(i)
      const t = tokenFor(`seed${i}`)
      yield* tokens.save(shop, Redacted.make(t), "read_products")
      expected.set(shop, t)
      for (const subject of ["shop", "customer:1", "customer:2"]) {
        const value = `${shop}/${subject}`
        sealed.push({ shop, value, sealed: yield* vault.seal(shop, subject, value) })
      }
    }
    return { expected, sealed }
  })

/** Everything opens with `ring`: every token equals `expected`, every value reads back. */
const verifyAll = (
  ring: ReturnType<typeof ringOf>,
  expected: ReadonlyMap<string, string>,
  sealed: ReadonlyArray<{ shop: string; value: string; sealed: Sealed }>
) =>
  Effect.gen(function*() {
    const tokens = yield* tokensWith(ring)
    const vault = yield* vaultWith(ring)
    for (const [shop, t] of expected) {
      const got = yield* tokens.get(shop)
      assert.strictEqual(Option.isSome(got) ? Redacted.value(got.value.token) : null, t, shop)
    }
    for (const s of sealed) assert.deepStrictEqual(yield* vault.open(s.shop, s.sealed), Option.some(s.value))
  })

for (const backend of backends) {
  describe(`key rotation on ${backend.name}`, () => {
    it.live("re-encrypts every token and data key under the new key in batches; a ring without the old key then opens everything", () =>
      Effect.gen(function*() {
        const { expected, sealed } = yield* seed(23)
        assert.deepStrictEqual(yield* keyUsage, [{ kid: "k1", tokens: 23, dataKeys: 69 }])
        // mid-rotation readers: the new ring (k2 current, k1 still present) reads old rows
        yield* verifyAll(ringOf("k2", "k1", "k2"), expected, sealed)

        const report = yield* rotateWith(ringOf("k2", "k1", "k2"), 7)
        assert.deepStrictEqual(report, { currentKid: "k2", tokens: 23, dataKeys: 69, skipped: 0, remaining: 0, failed: [] })
        assert.deepStrictEqual(yield* keyUsage, [{ kid: "k2", tokens: 23, dataKeys: 69 }])
        const sql = yield* SqlClient.SqlClient
        const prefixes = yield* sql<{ n: number }>`
          SELECT count(*)::int AS n FROM (SELECT sealed AS s FROM shop_tokens UNION ALL SELECT wrapped FROM data_keys) x WHERE s LIKE 'k1.%'`
        assert.strictEqual(prefixes[0]!.n, 0)

        // k1 removed: everything still opens (the values sealed in events were never touched)
        yield* verifyAll(ringOf("k2", "k2"), expected, sealed)
        // nothing left to do
        const again = yield* rotateWith(ringOf("k2", "k2"), 7)
        assert.deepStrictEqual(again, { currentKid: "k2", tokens: 0, dataKeys: 0, skipped: 0, remaining: 0, failed: [] })
      }).pipe(Effect.provide(backend.layer())), 120_000)

    it.live("rows under a key missing from the ring stop the rotation before anything changes; an undecryptable row is reported and left", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const { expected, sealed } = yield* seed(3)
        const stranded = yield* tokensWith(ringOf("k0", "k0"))
        yield* stranded.save("k0.myshopify.com", Redacted.make(tokenFor("k0")), "s")
        const missing = yield* Effect.flip(rotateWith(ringOf("k2", "k1", "k2"), 500))
        assert.strictEqual(missing._tag, "KeysMissingFromRing")
        assert.match(missing.message, /keys missing from the key ring .*: k0/)
        assert.deepStrictEqual(yield* keyUsage, [{ kid: "k0", tokens: 1, dataKeys: 0 }, { kid: "k1", tokens: 3, dataKeys: 9 }])

        yield* sql`DELETE FROM shop_tokens WHERE shop = 'k0.myshopify.com'`
        // a token copied into another shop's row no longer authenticates there
        yield* sql`UPDATE shop_tokens SET sealed = (SELECT sealed FROM shop_tokens WHERE shop = ${shopName(0)}) WHERE shop = ${shopName(1)}`
        const report = yield* rotateWith(ringOf("k2", "k1", "k2"), 500)
        assert.strictEqual(report.tokens, 2)
        assert.strictEqual(report.dataKeys, 9)
        assert.strictEqual(report.remaining, 1)
        assert.deepStrictEqual(report.failed.map((f) => [f.table, f.shop, f.kid]), [["shop_tokens", shopName(1), "k1"]])
        const rest = new Map(expected)
        rest.delete(shopName(1))
        yield* verifyAll(ringOf("k2", "k2"), rest, sealed)
      }).pipe(Effect.provide(backend.layer())), 120_000)

    it.live("writers running during the rotation (on the old and the new current key) lose nothing; shredded keys stay shredded", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const shops = 60
        const { expected, sealed } = yield* seed(shops)
        const latest = new Map(expected)
        const live = [...sealed]
        // A process not yet told about k2 being current (k1 current, k2 known) and one already on k2.
        const oldTokens = yield* tokensWith(ringOf("k1", "k1", "k2"))
        const newTokens = yield* tokensWith(ringOf("k2", "k1", "k2"))
        const oldVault = yield* vaultWith(ringOf("k1", "k1", "k2"))
        const newVault = yield* vaultWith(ringOf("k2", "k1", "k2"))
        const shredded: Array<{ shop: string; sealed: Sealed }> = []

        // Each writer fiber owns a disjoint set of shops, so "the latest value" of a shop is defined.
        const writers = 6
        const writer = (w: number) =>
          Effect.gen(function*() {
            for (let round = 0; round < 3; round++) {
              for (let i = w; i < shops; i += writers) {
                const shop = shopName(i)
                const t = tokenFor(`w${w}r${round}`)
                yield* ((i + round) % 2 === 0 ? oldTokens : newTokens).save(shop, Redacted.make(t), "read_products")
                latest.set(shop, t)
                const vault = (i + round) % 2 === 0 ? oldVault : newVault
                const subject = `customer:new-${round}`
                const value = `${shop}/${subject}`
                live.push({ shop, value, sealed: yield* vault.seal(shop, subject, value) })
                if (round === 1 && i % 5 === 0) {
                  yield* vault.shred(shop, "customer:2")
                  const victim = live.findIndex((s) => s.shop === shop && s.sealed.subject === "customer:2")
                  shredded.push(live.splice(victim, 1)[0]!)
                }
              }
            }
          })

        const [report] = yield* Effect.all([
          rotateWith(ringOf("k2", "k1", "k2"), 5),
          Effect.forEach(Array.from({ length: writers }, (_, w) => w), writer, { concurrency: "unbounded", discard: true })
        ], { concurrency: "unbounded" })
        assert.deepStrictEqual(report.failed, [])

        // the old-key process is now told: rotate what it wrote meanwhile
        const second = yield* rotateWith(ringOf("k2", "k1", "k2"), 5)
        assert.strictEqual(second.remaining, 0)
        assert.deepStrictEqual((yield* keyUsage).map((u) => u.kid), ["k2"])

        yield* verifyAll(ringOf("k2", "k2"), latest, live)
        const reader = yield* vaultWith(ringOf("k2", "k2"))
        assert.isAbove(shredded.length, 0)
        for (const s of shredded) assert.isTrue(Option.isNone(yield* reader.open(s.shop, s.sealed)))
        const resurrected = yield* sql<{ n: number }>`SELECT count(*)::int AS n FROM data_keys WHERE subject = 'customer:2' AND shop IN (SELECT jsonb_array_elements_text(${JSON.stringify(shredded.map((s) => s.shop))}::jsonb))`
        assert.strictEqual(resurrected[0]!.n, 0)
      }).pipe(Effect.provide(backend.layer())), 180_000)
  })
}

describe("key rotation racing a writer on PostgreSQL 15", () => {
  // Deterministic interleaving through a row lock: the rotation reads a token, a writer still on
  // the old current key has meanwhile replaced it (uncommitted, holding the row lock), and the
  // rotation's UPDATE waits for that writer. When it commits, the rotation must keep the newer
  // token instead of writing back its re-encryption of the one it read.
  it.live("a token re-saved under the old key while its batch is being rotated keeps the newer value", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const { expected, sealed } = yield* seed(3)
      const oldTokens = yield* tokensWith(ringOf("k1", "k1", "k2"))
      const shop = shopName(1)
      const newer = tokenFor("newer")
      const locked = yield* Deferred.make<void>()
      const release = yield* Deferred.make<void>()
      const writer = yield* Effect.forkChild(sql.withTransaction(Effect.gen(function*() {
        yield* oldTokens.save(shop, Redacted.make(newer), "read_products")
        yield* Deferred.succeed(locked, undefined)
        yield* Deferred.await(release)
      })))
      yield* Deferred.await(locked)
      const rotation = yield* Effect.forkChild(rotateWith(ringOf("k2", "k1", "k2"), 500))
      // until the rotation's UPDATE waits for the writer's row lock
      yield* sql<{ n: number }>`
        SELECT count(*)::int AS n FROM pg_stat_activity
         WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%UPDATE shop_tokens%'`.pipe(
        Effect.repeat({ until: (rows) => rows[0]!.n > 0, schedule: Schedule.spaced("5 millis") })
      )
      yield* Deferred.succeed(release, undefined)
      yield* Fiber.join(writer)
      const report = yield* Fiber.join(rotation)
      assert.strictEqual(report.tokens, 2)
      assert.strictEqual(report.skipped, 1)
      assert.strictEqual(report.remaining, 1)
      assert.deepStrictEqual(yield* rotateWith(ringOf("k2", "k1", "k2"), 500), { currentKid: "k2", tokens: 1, dataKeys: 0, skipped: 0, remaining: 0, failed: [] })
      yield* verifyAll(ringOf("k2", "k2"), new Map([...expected, [shop, newer]]), sealed)
    }).pipe(Effect.provide(postgresLayer())), 120_000)
})
