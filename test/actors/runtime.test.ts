/**
 * The shop actor runtime on the embedded shop log, over PostgreSQL 15 and PGlite: per-shop
 * order under interleaved load, duplicates applied once, poison messages dead-lettered while
 * other shops carry on, durable timers, passivation.
 */
import { assert, describe, layer } from "@effect/vitest"
import { Duration, Effect, Layer, Stream } from "effect"
import { SqlClient } from "effect/sql"
import * as EmbeddedShopLog from "../../adapters/embedded/EmbeddedShopLog.ts"
import { coreLayer } from "../../src/CoreLayer.ts"
import * as ShopActorRuntime from "../../src/actors/ShopActorRuntime.ts"
import { actorRuntimeLayer } from "../support/actorRuntime.ts"
import { ShopLog } from "../../src/shoplog/ShopLog.ts"
import { pgliteLayer, postgresLayer } from "../support/databases.ts"
import { awaitDrained, awaitEventCount, checkOrder, publishInterleaved, shopName } from "../support/pipeline.ts"
import { gate, testHandlersLayer } from "../support/testHandlers.ts"
import { pollUntil, streamNs } from "../support/poll.ts"
import { testKeyRing } from "../support/keys.ts"
import { EventStore } from "../../src/eventstore/EventStore.ts"

const runtimeLayer = (db: ReturnType<typeof postgresLayer>, scale: { shops: number; perShop: number }) => {
  const core = coreLayer(db, testKeyRing())
  const log = EmbeddedShopLog.layer({ partitions: 8 }).pipe(Layer.provideMerge(core))
  const runtime = actorRuntimeLayer({
    maxAttempts: 4,
    backoffBase: Duration.millis(5),
    backoffCap: Duration.millis(40),
    idleTimeout: Duration.millis(300)
  }).pipe(Layer.provide(testHandlersLayer), Layer.provideMerge(log))
  return { layer: runtime, scale }
}

const suites = [
  { name: "embedded log on PostgreSQL 15", ...runtimeLayer(postgresLayer({ maxConnections: 16 }), { shops: Number(process.env.RT_SHOPS ?? 1000), perShop: Number(process.env.RT_PER_SHOP ?? 50) }) },
  { name: "embedded log on PGlite", ...runtimeLayer(pgliteLayer(), { shops: 100, perShop: 20 }) }
]

for (const suite of suites) {
  describe(`shop actors, ${suite.name}`, () => {
    layer(suite.layer, { excludeTestServices: true, timeout: 240_000 })((it) => {
      it.effect(`${suite.scale.shops} shops × ${suite.scale.perShop} interleaved messages: every shop in publish order, none lost or doubled`, () =>
        Effect.gen(function*() {
          const { shops, perShop } = suite.scale
          yield* publishInterleaved(shops, perShop, 32)
          yield* awaitDrained
          assert.strictEqual(yield* awaitEventCount("test.appended", shops * perShop), shops * perShop)
          assert.deepStrictEqual(yield* checkOrder(shops, perShop), [])
          // the log is drained: everything was acked after its commit
          const log = yield* ShopLog
          const pending = yield* log.pending
          assert.strictEqual([...pending.values()].reduce((a, b) => a + b, 0), 0)
        }), { timeout: 240_000 })

      it.effect("the same message id published twice applies once", () =>
        Effect.gen(function*() {
          const log = yield* ShopLog
          const sql = yield* SqlClient.SqlClient
          const shop = "dup.myshopify.com"
          const first = yield* log.publish({ shop, messageId: "dup-1", type: "test.append", payload: { n: 0 } })
          const again = yield* log.publish({ shop, messageId: "dup-1", type: "test.append", payload: { n: 0 } })
          assert.isFalse(first.duplicate)
          assert.isTrue(again.duplicate)
          yield* log.publish({ shop, messageId: "dup-2", type: "test.append", payload: { n: 1 } })
          const before = yield* sql<{ n: number }>`SELECT count(*)::int AS n FROM events WHERE type = 'test.appended'`
          yield* awaitEventCount("test.appended", before[0]!.n + 0)
          // beyond any publish-side window: the message id is re-published after it was applied
          const rows = yield* Effect.gen(function*() {
            for (;;) {
              const r = yield* sql<{ n: number }>`SELECT count(*)::int AS n FROM events WHERE stream_id = ${`testlog-${shop}`}`
              if (r[0]!.n === 2) return r
              yield* Effect.yieldNow
            }
          })
          assert.strictEqual(rows[0]!.n, 2)
          const late = yield* log.publish({ shop, messageId: "dup-1", type: "test.append", payload: { n: 0 } })
          assert.isFalse(late.duplicate) // the log forgot it; the actor must not
          yield* log.publish({ shop, messageId: "dup-3", type: "test.append", payload: { n: 2 } })
          const total = yield* Effect.gen(function*() {
            for (;;) {
              const r = yield* sql<{ pending: number }>`SELECT count(*)::int AS pending FROM shop_log WHERE shop = ${shop}`
              if (r[0]!.pending === 0) return yield* sql<{ ns: Array<number> }>`
                SELECT array_agg((data->>'n')::int ORDER BY stream_version) AS ns FROM events WHERE stream_id = ${`testlog-${shop}`}`
              yield* Effect.yieldNow
            }
          })
          assert.deepStrictEqual(total[0]!.ns.map(Number), [0, 1, 2])
        }))

      it.effect("a poison message is dead-lettered after N attempts; its shop moves on; other shops are not held up", () =>
        Effect.gen(function*() {
          const log = yield* ShopLog
          const sql = yield* SqlClient.SqlClient
          const poisoned = "poison.myshopify.com"
          yield* log.publish({ shop: poisoned, messageId: "p-0", type: "test.append", payload: { n: 0 } })
          const held = `poison-${suite.name}`
          yield* log.publish({ shop: poisoned, messageId: "p-1", type: "test.append", payload: { n: 1, poison: true, gate: held } })
          yield* log.publish({ shop: poisoned, messageId: "p-2", type: "test.append", payload: { n: 1 } })
          yield* log.publish({ shop: poisoned, messageId: "p-3", type: "test.append", payload: { n: 2, permanent: true } })
          yield* log.publish({ shop: poisoned, messageId: "p-4", type: "test.append", payload: { n: 2 } })
          for (let i = 0; i < 20; i++) {
            yield* log.publish({ shop: shopName(90_000 + i), messageId: `healthy-${i}`, type: "test.append", payload: { n: 0 } })
          }
          // While the poisoned shop is stuck on p-1, every other shop is handled.
          yield* pollUntil(
            Effect.map(sql<{ n: number }>`SELECT count(*)::int AS n FROM events WHERE stream_id LIKE 'testlog-shop-9%'`, (r) => (r[0]!.n === 20 ? true : undefined)),
            "the healthy shops"
          )
          const stuck = yield* sql<{ n: number }>`SELECT count(*)::int AS n FROM events WHERE stream_id = ${`testlog-${poisoned}`}`
          assert.strictEqual(stuck[0]!.n, 1) // p-2 waits behind p-1: shop order holds
          gate(held).open()
          const dead = yield* pollUntil(
            Effect.gen(function*() {
              const r = yield* sql<{ message_id: string; attempts: number; permanent: boolean; error: string }>`
                SELECT message_id, attempts, permanent, error FROM dead_letters WHERE shop = ${poisoned} ORDER BY id`
              return r.length === 2 && (yield* streamNs(poisoned)).length === 3 ? r : undefined
            }),
            "p-1 and p-3 dead-lettered, p-2 and p-4 applied"
          )
          assert.deepStrictEqual(dead.map((d) => [d.message_id, d.attempts, d.permanent]), [["p-1", 4, false], ["p-3", 1, true]])
          assert.match(dead[0]!.error, /always fails/)
          assert.deepStrictEqual(yield* streamNs(poisoned), [0, 1, 2])
          // read through the store: the notice is sealed under the shop's key at rest
          const events = yield* Stream.runCollect(Stream.unwrap(EventStore.use((store) => Effect.succeed(store.readStream(`deadletters-${poisoned}`)))))
          assert.deepStrictEqual(events.map((e) => [e.type, (e.data as { messageId: string }).messageId]), [["message.dead_lettered", "p-1"], ["message.dead_lettered", "p-3"]])
        }))

      it.effect("a transient failure is retried in place: the shop's later messages wait behind it", () =>
        Effect.gen(function*() {
          const log = yield* ShopLog
          const shop = "flaky.myshopify.com"
          yield* log.publish({ shop, messageId: "f-0", type: "test.append", payload: { n: 0, flaky: 2 } })
          yield* log.publish({ shop, messageId: "f-1", type: "test.append", payload: { n: 1 } })
          yield* log.publish({ shop, messageId: "f-2", type: "test.append", payload: { n: 2 } })
          const ns = yield* pollUntil(Effect.map(streamNs(shop), (ns) => (ns.length === 3 ? ns : undefined)), "3 messages applied")
          assert.deepStrictEqual(ns, [0, 1, 2])
        }))

      it.effect("a long side effect runs after the commit and reports back as a message", () =>
        Effect.gen(function*() {
          const log = yield* ShopLog
          const shop = "effects.myshopify.com"
          yield* log.publish({ shop, messageId: "e-0", type: "test.append", payload: { n: 0, followUp: 1 } })
          const ns = yield* pollUntil(Effect.map(streamNs(shop), (ns) => (ns.length === 2 ? ns : undefined)), "2 messages applied")
          assert.deepStrictEqual(ns, [0, 1])
        }))

      it.effect("durable timers fire later as messages of the shop", () =>
        Effect.gen(function*() {
          const log = yield* ShopLog
          const sql = yield* SqlClient.SqlClient
          const shop = "timer.myshopify.com"
          yield* log.publish({ shop, messageId: "t-0", type: "test.append", payload: { n: 0, schedule: { n: 1, delayMs: 1500 } } })
          // events first: once the commit is visible, its timer row is too
          yield* pollUntil(Effect.map(streamNs(shop), (ns) => (ns.length >= 1 ? ns : undefined)), "the first message applied", undefined, "5 millis")
          const stored = yield* sql<{ id: string }>`SELECT id FROM scheduled_messages WHERE shop = ${shop}`
          assert.deepStrictEqual(stored.map((r) => r.id), [`timer-${shop}-1`])
          const ns = yield* pollUntil(Effect.map(streamNs(shop), (ns) => (ns.length === 2 ? ns : undefined)), "2 messages applied")
          assert.deepStrictEqual(ns, [0, 1])
          const left = yield* sql`SELECT id FROM scheduled_messages WHERE shop = ${shop}`
          assert.strictEqual(left.length, 0)
        }))

      it.effect("idle actors passivate: state is not kept for every shop ever seen", () =>
        Effect.gen(function*() {
          const runtime = yield* ShopActorRuntime.ShopActorRuntime
          for (;;) {
            if (runtime.residentActors() === 0) break
            yield* Effect.sleep(Duration.millis(50))
          }
          assert.strictEqual(runtime.residentActors(), 0)
          assert.strictEqual(runtime.ownedPartitions().length, 8)
        }))
    })
  })
}
