/**
 * The event store's behavioural suite, run against PostgreSQL 15 and PGlite alike.
 */
import { assert, describe, layer } from "@effect/vitest"
import { Effect, Layer, Schema, Stream } from "effect"
import { uuidV7Unsafe } from "effect/crypto/SecureRandom"
import { SqlClient } from "effect/sql"
import { makeUpcasterRegistry } from "../../domain/events/Upcasting.ts"
import * as PgEventStore from "../../adapters/postgres/PgEventStore.ts"
import { EventStore } from "../../src/eventstore/EventStore.ts"
import { PiiVault } from "../../src/secrets/Secrets.ts"
import { backends } from "../support/databases.ts"
import { ev, meta } from "../support/fixtures.ts"
import { testSealing } from "../support/keys.ts"

// A real schema change: job.requested v1 stored `query`; v2 names it `queryString` and adds `source`.
const upcasters = makeUpcasterRegistry([{
  type: "test.job_requested",
  from: 1,
  upcast: (data) => {
    const { query, ...rest } = data as { query: string }
    return { ...rest, queryString: query, source: "flow" }
  }
}])

for (const backend of backends) {
  const StoreLayer = PgEventStore.layer.pipe(
    Layer.provideMerge(testSealing()),
    Layer.provideMerge(backend.layer()),
    Layer.provide(Layer.succeed(PgEventStore.EventUpcasters, upcasters))
  )

  describe(`EventStore on ${backend.name}`, () => {
    layer(StoreLayer, { excludeTestServices: true, timeout: 60_000 })((it) => {
      it.effect("appends atomically and reads a stream back in version order with full metadata", () =>
        Effect.gen(function*() {
          const store = yield* EventStore
          const r = yield* store.append("job-a1", "a.myshopify.com", "no_stream", [ev("x.one", { n: 1 }), ev("x.two", { n: 2 })], {
            correlationId: "c-9",
            causationId: "cause-1",
            actor: { kind: "webhook", id: "wh-1" }
          })
          assert.strictEqual(r.nextVersion, 2)
          assert.strictEqual(r.appended, 2)
          assert.strictEqual(r.lastPosition! - r.firstPosition!, 1)
          const events = yield* Stream.runCollect(store.readStream("job-a1"))
          assert.deepStrictEqual(events.map((e) => [e.type, e.streamVersion, e.data]), [["x.one", 1, { n: 1 }], ["x.two", 2, { n: 2 }]])
          const first = events[0]!
          assert.strictEqual(first.shop, "a.myshopify.com")
          assert.strictEqual(first.correlationId, "c-9")
          assert.strictEqual(first.causationId, "cause-1")
          assert.deepStrictEqual(first.actor, { kind: "webhook", id: "wh-1" })
          assert.match(first.eventId, /^[0-9a-f]{8}-[0-9a-f]{4}-7/)
          assert.strictEqual(first.schemaVersion, 1)
          assert.instanceOf(first.occurredAt, Date)
          assert.instanceOf(first.recordedAt, Date)
        }))

      it.effect("rejects a wrong expected version with the actual version and writes nothing", () =>
        Effect.gen(function*() {
          const store = yield* EventStore
          yield* store.append("s-exp", "a.myshopify.com", "no_stream", [ev("x.a"), ev("x.b"), ev("x.c")], meta())
          const conflict = yield* Effect.flip(store.append("s-exp", "a.myshopify.com", 2, [ev("x.d")], meta()))
          assert.strictEqual(conflict._tag, "ConcurrencyConflict")
          assert.strictEqual((conflict as { actual: number }).actual, 3)
          const again = yield* Effect.flip(store.append("s-exp", "a.myshopify.com", "no_stream", [ev("x.d")], meta()))
          assert.strictEqual(again._tag, "ConcurrencyConflict")
          const missing = yield* Effect.flip(store.append("s-missing", "a.myshopify.com", 4, [ev("x.d")], meta()))
          assert.strictEqual((missing as { actual: number }).actual, 0)
          assert.strictEqual((yield* store.streamInfo("s-exp"))!.version, 3)
          assert.isNull(yield* store.streamInfo("s-missing"))
          const ok = yield* store.append("s-exp", "a.myshopify.com", 3, [ev("x.d")], meta())
          assert.strictEqual(ok.nextVersion, 4)
          const any = yield* store.append("s-exp", "a.myshopify.com", "any", [ev("x.e")], meta())
          assert.strictEqual(any.nextVersion, 5)
        }))

      it.effect("a stream belongs to one shop: another shop cannot append to it", () =>
        Effect.gen(function*() {
          const store = yield* EventStore
          yield* store.append("s-owned", "a.myshopify.com", "any", [ev("x.a")], meta())
          const err = yield* Effect.flip(store.append("s-owned", "b.myshopify.com", "any", [ev("x.b")], meta()))
          assert.strictEqual(err._tag, "StreamOwnershipViolation")
          assert.strictEqual((yield* store.streamInfo("s-owned"))!.version, 1)
        }))

      it.effect("re-appending the same event ids is a no-op, even with a stale expected version", () =>
        Effect.gen(function*() {
          const store = yield* EventStore
          const ids = [uuidV7Unsafe(), uuidV7Unsafe()]
          const events = [ev("x.a", {}, { eventId: ids[0] }), ev("x.b", {}, { eventId: ids[1] })]
          const first = yield* store.append("s-idem", "a.myshopify.com", "no_stream", events, meta())
          const retry = yield* store.append("s-idem", "a.myshopify.com", "no_stream", events, meta())
          assert.strictEqual(first.appended, 2)
          assert.strictEqual(retry.appended, 0)
          assert.strictEqual(retry.nextVersion, 2)
          const all = yield* Stream.runCollect(store.readStream("s-idem"))
          assert.deepStrictEqual(all.map((e) => e.eventId), ids)
        }))

      it.effect("invalid appends are refused before touching the database", () =>
        Effect.gen(function*() {
          const store = yield* EventStore
          const empty = yield* Effect.flip(store.append("s-inv", "a.myshopify.com", "any", [], meta()))
          assert.strictEqual(empty._tag, "InvalidAppend")
          const badId = yield* Effect.flip(store.append("s-inv", "a.myshopify.com", "any", [ev("x", {}, { eventId: "nope" })], meta()))
          assert.strictEqual(badId._tag, "InvalidAppend")
          assert.isNull(yield* store.streamInfo("s-inv"))
        }))

      it.effect("readStream honours from/to", () =>
        Effect.gen(function*() {
          const store = yield* EventStore
          yield* store.append("s-range", "a.myshopify.com", "any", [1, 2, 3, 4, 5].map((n) => ev("x.n", { n })), meta())
          const mid = yield* Stream.runCollect(store.readStream("s-range", { from: 2, to: 4 }))
          assert.deepStrictEqual(mid.map((e) => (e.data as { n: number }).n), [2, 3, 4])
        }))

      it.effect("readAll delivers the global log in position order with shop and type filters", () =>
        Effect.gen(function*() {
          const store = yield* EventStore
          const start = (yield* store.head).safePosition
          for (let i = 0; i < 30; i++) {
            const shop = i % 2 === 0 ? "ra-even.myshopify.com" : "ra-odd.myshopify.com"
            yield* store.append(`ra-${i % 5}-${shop}`, shop, "any", [ev(i % 3 === 0 ? "ra.fizz" : "ra.other", { i })], meta())
          }
          const all = yield* Stream.runCollect(store.readAll({ after: start, batchSize: 7 }))
          assert.strictEqual(all.length, 30)
          assert.deepStrictEqual(all.map((e) => (e.data as { i: number }).i), Array.from({ length: 30 }, (_, i) => i))
          for (let i = 1; i < all.length; i++) assert.isTrue(all[i]!.position > all[i - 1]!.position)
          const even = yield* Stream.runCollect(store.readAll({ after: start, shop: "ra-even.myshopify.com", batchSize: 4 }))
          assert.strictEqual(even.length, 15)
          const fizz = yield* Stream.runCollect(store.readAll({ after: start, types: ["ra.fizz"] }))
          assert.deepStrictEqual(fizz.map((e) => (e.data as { i: number }).i), [0, 3, 6, 9, 12, 15, 18, 21, 24, 27])
          const limited = yield* Stream.runCollect(store.readAll({ after: start, limit: 4, batchSize: 3 }))
          assert.strictEqual(limited.length, 4)
        }))

      it.effect("upcasters turn a stored v1 event into the current v2 shape on read", () =>
        Effect.gen(function*() {
          const store = yield* EventStore
          yield* store.append("s-up", "a.myshopify.com", "any", [
            ev("test.job_requested", { query: "tag:winter", dryRun: true }, { schemaVersion: 1 }),
            ev("test.job_requested", { queryString: "tag:summer", dryRun: false, source: "api" }, { schemaVersion: 2 })
          ], meta())
          const events = yield* Stream.runCollect(store.readStream("s-up"))
          assert.deepStrictEqual(events.map((e) => [e.schemaVersion, e.data]), [
            [2, { dryRun: true, queryString: "tag:winter", source: "flow" }],
            [2, { queryString: "tag:summer", dryRun: false, source: "api" }]
          ])
          // the stored row is untouched: the log is immutable
          const sql = yield* SqlClient.SqlClient
          const raw = yield* sql<{ data: unknown; schema_version: number }>`SELECT data, schema_version FROM events WHERE stream_id = 's-up' ORDER BY stream_version`
          assert.deepStrictEqual(raw[0], { data: { query: "tag:winter", dryRun: true }, schema_version: 1 })
        }))

      it.effect("snapshots are returned only for the schema version asked for", () =>
        Effect.gen(function*() {
          const store = yield* EventStore
          const state = Schema.Record(Schema.String, Schema.Number)
          const v1 = { name: "totals", version: 1, schema: state }
          const v2 = { name: "totals", version: 2, schema: state }
          const snap = (schemaVersion: number, streamVersion: number, s: Record<string, number>) => ({
            streamId: "s-snap", fold: "totals", shop: "a.myshopify.com", schemaVersion, streamVersion, state: s
          })
          yield* store.saveSnapshot(snap(1, 10, { total: 10 }), state)
          const got = yield* store.loadSnapshot("s-snap", v1)
          assert.deepStrictEqual(got?.state, { total: 10 })
          assert.strictEqual(got?.streamVersion, 10)
          assert.isNull(yield* store.loadSnapshot("s-snap", v2))
          assert.isNull(yield* store.loadSnapshot("s-snap", { ...v1, name: "other" }))
          // an older stream version never replaces a newer snapshot of the same schema
          yield* store.saveSnapshot(snap(1, 5, { total: 5 }), state)
          assert.strictEqual((yield* store.loadSnapshot("s-snap", v1))?.streamVersion, 10)
          yield* store.saveSnapshot(snap(2, 12, { sum: 12 }), state)
          assert.isNull(yield* store.loadSnapshot("s-snap", v1))
          assert.deepStrictEqual((yield* store.loadSnapshot("s-snap", v2))?.state, { sum: 12 })
        }))

      it.effect("concurrent appends with the same expected version: exactly one wins", () =>
        Effect.gen(function*() {
          const store = yield* EventStore
          yield* store.append("s-race", "a.myshopify.com", "no_stream", [ev("x.init")], meta())
          const results = yield* Effect.all(
            Array.from({ length: 8 }, (_, i) => Effect.result(store.append("s-race", "a.myshopify.com", 1, [ev("x.racer", { i })], meta()))),
            { concurrency: "unbounded" }
          )
          const wins = results.filter((r) => r._tag === "Success")
          assert.strictEqual(wins.length, 1)
          assert.strictEqual((yield* store.streamInfo("s-race"))!.version, 2)
        }))

      it.effect("the shop's business data is stored sealed, read back whole, and unreadable once the shop's keys are shredded", () =>
        Effect.gen(function*() {
          const store = yield* EventStore
          const sql = yield* SqlClient.SqlClient
          const vault = yield* PiiVault
          const shop = "sealed.myshopify.com"
          const secret = "Winter Collection 7f3a"
          yield* store.append("job-sealed-1", shop, "no_stream", [
            ev("job.requested", { jobId: "sealed-1", input: { value: secret } }),
            ev("job.started", { jobId: "sealed-1" })
          ], meta())
          // an event naming a subject keeps `subject` (and its subject-sealed part) in clear beside the rest
          const conversion = { subject: "customer:1", identifying: null, campaign: secret, value: 5 }
          yield* store.append("ext-sealed", shop, "any", [ev("conversion.recorded", conversion)], meta())
          yield* store.append("other-sealed", shop, "any", [ev("x.plain", { note: secret })], meta())
          const stored = yield* sql<{ type: string; data: string; subject: string | null }>`
            SELECT type, data::text AS data, data->>'subject' AS subject FROM events WHERE shop = ${shop} ORDER BY position`
          assert.deepStrictEqual(stored.map((r) => [r.type, r.data.includes(secret), r.data.includes('"sealed": 1'), r.subject]), [
            ["job.requested", false, true, "shop"],
            ["job.started", false, true, "shop"],
            ["conversion.recorded", false, true, "customer:1"],
            ["x.plain", true, false, null]
          ])
          const read = yield* Stream.runCollect(store.readStream("job-sealed-1"))
          assert.deepStrictEqual(read.map((e) => e.data), [{ jobId: "sealed-1", input: { value: secret } }, { jobId: "sealed-1" }])
          assert.isTrue(read.every((e) => e.redacted === undefined))
          assert.deepStrictEqual((yield* Stream.runCollect(store.readStream("ext-sealed")))[0]!.data, conversion)

          yield* vault.shredShop(shop)
          const after = yield* Stream.runCollect(store.readAll({ shop }))
          assert.deepStrictEqual(after.map((e) => [e.type, e.redacted === true, e.data === null]), [
            ["job.requested", true, true],
            ["job.started", true, true],
            ["conversion.recorded", true, true],
            ["x.plain", false, false]
          ])
          // the events themselves are untouched: immutable, only their key is gone
          const storedAfter = yield* sql<{ data: string }>`SELECT data::text AS data FROM events WHERE shop = ${shop} ORDER BY position`
          assert.deepStrictEqual(storedAfter.map((r) => r.data), stored.map((r) => r.data))
        }))

      it.effect("a rolled-back append leaves a gap that readers and head pass", () =>
        Effect.gen(function*() {
          const store = yield* EventStore
          const sql = yield* SqlClient.SqlClient
          const start = (yield* store.head).safePosition
          yield* Effect.result(sql.withTransaction(Effect.gen(function*() {
            yield* store.append("s-rolled", "a.myshopify.com", "any", [ev("x.lost")], meta())
            return yield* Effect.fail("roll back" as const)
          })))
          const kept = yield* store.append("s-kept", "a.myshopify.com", "any", [ev("x.kept")], meta())
          const read = yield* Stream.runCollect(store.readAll({ after: start }))
          assert.deepStrictEqual(read.map((e) => e.type), ["x.kept"])
          assert.strictEqual((yield* store.head).safePosition, kept.firstPosition!)
          assert.isTrue(kept.firstPosition! > start + 1, "the rolled-back append drew a position")
        }))
    })
  })
}
