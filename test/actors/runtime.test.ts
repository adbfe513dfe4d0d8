/**
 * The shop actor runtime on each shop log, one behavioural suite for three backends: the
 * embedded shop log on PostgreSQL 15, the embedded shop log on PGlite, and the JetStream shop
 * log (the real nats-server of the run) on PostgreSQL 15. On every backend:
 * - per-shop order under interleaved load from several publishers: every shop in publish
 *   order, nothing lost, doubled or dead-lettered, the log drained;
 * - the same message id applies once: a second publish while the log still holds the id is
 *   dropped by the log, and a copy published after the log has forgotten it is a no-op for the
 *   actor (`processed_messages`). How the log forgets differs: the embedded log dedupes on its
 *   pending `shop_log` rows, so the id is free again once the row is acked; JetStream dedupes
 *   within its `duplicateWindowMs`, kept short here so that the test outlives it and waits
 *   until the server itself stops reporting the id as a duplicate;
 * - poison messages dead-lettered after N attempts (transient) or at once (permanent), sealed
 *   notices in the store, while the shop moves on and other shops are not held up;
 * - transient failures retried in place, the shop's later messages waiting behind them;
 * - side effects run after the commit and report back as messages;
 * - durable timers stored with the commit, fired later as messages of the shop, then deleted;
 * - idle actors passivate, every partition stays owned.
 * JetStream only: a partition consumer deleted under the running worker is re-created and
 * nothing is lost, doubled or reordered.
 */
import { assert, describe, layer } from "@effect/vitest"
import { Duration, Effect, Layer, Stream } from "effect"
import { SqlClient } from "effect/sql"
import { inject } from "vitest"
import { connect } from "@nats-io/transport-node"
import { jetstreamManager } from "@nats-io/jetstream"
import * as EmbeddedShopLog from "../../adapters/embedded/EmbeddedShopLog.ts"
import * as JetStreamShopLog from "../../adapters/nats/JetStreamShopLog.ts"
import type { DatabaseMode } from "../../adapters/postgres/Database.ts"
import { partitionOf } from "../../domain/shop/partition.ts"
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

const PARTITIONS = 8
/** JetStream's dedupe window, short on purpose: the dedupe test outlives it. */
const DUPLICATE_WINDOW_MS = 1_500

const unique = `${process.pid}_${Date.now().toString(36)}`
/** The JetStream backend's stream and subjects, also reached directly by its own test. */
const JETSTREAM = { streamName: `RT_${unique}`, subjectPrefix: `rt_${unique}` }

type DbLayer = ReturnType<typeof postgresLayer>
type LogLayer = Layer.Layer<ShopLog, unknown, SqlClient.SqlClient | DatabaseMode>
interface Backend {
  readonly name: string
  readonly kind: "embedded" | "jetstream"
  readonly db: () => DbLayer
  readonly log: () => LogLayer
  /** The interleaved-order test's load. */
  readonly scale: { readonly shops: number; readonly perShop: number }
}

// 1,000 shops × 50 on PostgreSQL 15 (the scale; JetStream: ~100 s on a busy 2-core
// machine); RT_SHOPS / RT_PER_SHOP and JS_SHOPS / JS_PER_SHOP lower them for quick local runs.
const backends: ReadonlyArray<Backend> = [
  {
    name: "embedded log on PostgreSQL 15",
    kind: "embedded",
    db: () => postgresLayer({ maxConnections: 16 }),
    log: () => EmbeddedShopLog.layer({ partitions: PARTITIONS }),
    scale: { shops: Number(process.env.RT_SHOPS ?? 1000), perShop: Number(process.env.RT_PER_SHOP ?? 50) }
  },
  {
    name: "embedded log on PGlite",
    kind: "embedded",
    db: () => pgliteLayer(),
    log: () => EmbeddedShopLog.layer({ partitions: PARTITIONS }),
    scale: { shops: 100, perShop: 20 }
  },
  {
    name: "JetStream log on PostgreSQL 15",
    kind: "jetstream",
    db: () => postgresLayer({ maxConnections: 16 }),
    log: () =>
      JetStreamShopLog.layer({
        servers: inject("natsUrl"),
        ...JETSTREAM,
        partitions: PARTITIONS,
        duplicateWindowMs: DUPLICATE_WINDOW_MS
      }),
    scale: { shops: Number(process.env.JS_SHOPS ?? 1000), perShop: Number(process.env.JS_PER_SHOP ?? 50) }
  }
]

const runtimeLayer = (backend: Backend) => {
  const core = coreLayer(backend.db(), testKeyRing())
  const log = backend.log().pipe(Layer.provideMerge(core))
  return actorRuntimeLayer({
    maxAttempts: 4,
    backoffBase: Duration.millis(5),
    backoffCap: Duration.millis(40),
    idleTimeout: Duration.millis(300)
  }).pipe(Layer.provide(testHandlersLayer), Layer.provideMerge(log))
}

/** Messages published and not yet acked, over every partition of the log. */
const pendingTotal = Effect.gen(function*() {
  const log = yield* ShopLog
  const pending = yield* log.pending
  return [...pending.values()].reduce((a, b) => a + b, 0)
})

for (const backend of backends) {
  describe(`shop actors, ${backend.name}`, () => {
    layer(runtimeLayer(backend), { excludeTestServices: true, timeout: 240_000 })((it) => {
      it.effect(`${backend.scale.shops} shops × ${backend.scale.perShop} interleaved messages: every shop in publish order, none lost or doubled`, () =>
        Effect.gen(function*() {
          const { shops, perShop } = backend.scale
          const started = Date.now()
          yield* publishInterleaved(shops, perShop, 32)
          const published = Date.now()
          yield* awaitDrained
          assert.strictEqual(yield* awaitEventCount("test.appended", shops * perShop), shops * perShop)
          assert.deepStrictEqual(yield* checkOrder(shops, perShop), [])
          // the log is drained: everything was acked after its commit
          assert.strictEqual(yield* pendingTotal, 0)
          const sql = yield* SqlClient.SqlClient
          const dead = yield* sql<{ n: number }>`SELECT count(*)::int AS n FROM dead_letters`
          assert.strictEqual(dead[0]!.n, 0)
          yield* Effect.logInfo(
            `${backend.name} order: ${shops * perShop} messages published in ${published - started} ms, all applied after ${Date.now() - started} ms`
          )
        }), { timeout: 240_000 })

      it.effect("the same message id applies once: published twice while the log holds it, and again once the log has forgotten it", () =>
        Effect.gen(function*() {
          const log = yield* ShopLog
          const sql = yield* SqlClient.SqlClient
          const shop = "dup.myshopify.com"
          const first = yield* log.publish({ shop, messageId: "dup-1", type: "test.append", payload: { n: 0 } })
          const again = yield* log.publish({ shop, messageId: "dup-1", type: "test.append", payload: { n: 0 } })
          assert.isFalse(first.duplicate)
          assert.isTrue(again.duplicate) // the log still holds the id: it drops the copy
          yield* log.publish({ shop, messageId: "dup-2", type: "test.append", payload: { n: 1 } })
          assert.deepStrictEqual(yield* pollUntil(Effect.map(streamNs(shop), (ns) => (ns.length === 2 ? ns : undefined)), "dup-1, dup-2 applied"), [0, 1])

          // Re-published once the log has forgotten the id; how it forgets is the log's own.
          const late = backend.kind === "embedded"
            // the embedded log dedupes on pending shop_log rows: the ack deleted dup-1's
            ? yield* Effect.gen(function*() {
              yield* pollUntil(
                Effect.map(sql<{ n: number }>`SELECT count(*)::int AS n FROM shop_log WHERE shop = ${shop} AND message_id = 'dup-1'`, (r) => (r[0]!.n === 0 ? true : undefined)),
                "dup-1's row acked"
              )
              return yield* log.publish({ shop, messageId: "dup-1", type: "test.append", payload: { n: 0 } })
            })
            // JetStream dedupes within its window: re-publish until the server no longer reports
            // the id as a duplicate (a duplicate publish is dropped, so trying is harmless)
            : yield* pollUntil(
              Effect.map(log.publish({ shop, messageId: "dup-1", type: "test.append", payload: { n: 0 } }), (ack) => (ack.duplicate ? undefined : ack)),
              "the server's dedupe window to pass",
              Duration.seconds(4 * DUPLICATE_WINDOW_MS / 1000 + 10),
              Duration.millis(100)
            )
          assert.isFalse(late.duplicate) // the log forgot it and holds it again; the actor must not apply it
          assert.isAbove(late.sequence, first.sequence) // a new copy, later in the log: the shop fence alone would let it through
          yield* log.publish({ shop, messageId: "dup-3", type: "test.append", payload: { n: 2 } })
          const ns = yield* pollUntil(
            Effect.gen(function*() {
              const ns = yield* streamNs(shop)
              return ns.length >= 3 && (yield* pendingTotal) === 0 ? ns : undefined
            }),
            "dup-3 applied and the log drained"
          )
          assert.deepStrictEqual(ns, [0, 1, 2])
          const processed = yield* sql<{ message_id: string }>`SELECT message_id FROM processed_messages WHERE shop = ${shop} ORDER BY message_id`
          assert.deepStrictEqual(processed.map((r) => r.message_id), ["dup-1", "dup-2", "dup-3"])
        }), { timeout: 60_000 })

      it.effect("a poison message is dead-lettered after N attempts; its shop moves on; other shops are not held up", () =>
        Effect.gen(function*() {
          const log = yield* ShopLog
          const sql = yield* SqlClient.SqlClient
          const poisoned = "poison.myshopify.com"
          yield* log.publish({ shop: poisoned, messageId: "p-0", type: "test.append", payload: { n: 0 } })
          const held = `poison-${backend.name}-${unique}`
          yield* log.publish({ shop: poisoned, messageId: "p-1", type: "test.append", payload: { n: 1, poison: true, gate: held } })
          yield* log.publish({ shop: poisoned, messageId: "p-2", type: "test.append", payload: { n: 1 } })
          yield* log.publish({ shop: poisoned, messageId: "p-3", type: "test.append", payload: { n: 2, permanent: true } })
          yield* log.publish({ shop: poisoned, messageId: "p-4", type: "test.append", payload: { n: 2 } })
          for (let i = 0; i < 20; i++) {
            yield* log.publish({ shop: shopName(90_000 + i), messageId: `healthy-${i}`, type: "test.append", payload: { n: 0 } })
          }
          // While the poisoned shop is stuck on p-1 (its gate is closed), every other shop is handled.
          yield* pollUntil(
            Effect.map(sql<{ n: number }>`SELECT count(*)::int AS n FROM events WHERE stream_id LIKE 'testlog-shop-9%'`, (r) => (r[0]!.n === 20 ? true : undefined)),
            "the healthy shops"
          )
          assert.deepStrictEqual(yield* streamNs(poisoned), [0]) // p-2 waits behind p-1: shop order holds
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
          // dead-lettered messages are acked too: nothing is left in the log
          assert.strictEqual(yield* pollUntil(Effect.map(pendingTotal, (n) => (n === 0 ? n : undefined)), "the log to drain"), 0)
        }), { timeout: 60_000 })

      it.effect("a transient failure is retried in place: the shop's later messages wait behind it", () =>
        Effect.gen(function*() {
          const log = yield* ShopLog
          const shop = "flaky.myshopify.com"
          yield* log.publish({ shop, messageId: "f-0", type: "test.append", payload: { n: 0, flaky: 2 } })
          yield* log.publish({ shop, messageId: "f-1", type: "test.append", payload: { n: 1 } })
          yield* log.publish({ shop, messageId: "f-2", type: "test.append", payload: { n: 2 } })
          const ns = yield* pollUntil(Effect.map(streamNs(shop), (ns) => (ns.length === 3 ? ns : undefined)), "three messages applied")
          assert.deepStrictEqual(ns, [0, 1, 2])
        }))

      it.effect("a long side effect runs after the commit and reports back as a message", () =>
        Effect.gen(function*() {
          const log = yield* ShopLog
          const shop = "effects.myshopify.com"
          yield* log.publish({ shop, messageId: "e-0", type: "test.append", payload: { n: 0, followUp: 1 } })
          const ns = yield* pollUntil(Effect.map(streamNs(shop), (ns) => (ns.length === 2 ? ns : undefined)), "two messages applied")
          assert.deepStrictEqual(ns, [0, 1])
        }))

      it.effect("durable timers are stored with the commit, fire later as messages of the shop, and are deleted once fired", () =>
        Effect.gen(function*() {
          const log = yield* ShopLog
          const sql = yield* SqlClient.SqlClient
          const shop = "timer.myshopify.com"
          yield* log.publish({ shop, messageId: "t-0", type: "test.append", payload: { n: 0, schedule: { n: 1, delayMs: 1500 } } })
          // events first: once the commit is visible, its timer row is too
          yield* pollUntil(Effect.map(streamNs(shop), (ns) => (ns.length >= 1 ? ns : undefined)), "the first message applied", undefined, "5 millis")
          const stored = yield* sql<{ id: string }>`SELECT id FROM scheduled_messages WHERE shop = ${shop}`
          assert.deepStrictEqual(stored.map((r) => r.id), [`timer-${shop}-1`])
          const ns = yield* pollUntil(Effect.map(streamNs(shop), (ns) => (ns.length === 2 ? ns : undefined)), "the timer's message applied")
          assert.deepStrictEqual(ns, [0, 1])
          // the timer is published, then deleted: its row may outlive the apply by a moment
          const left = yield* pollUntil(
            Effect.map(sql`SELECT id FROM scheduled_messages WHERE shop = ${shop}`, (r) => (r.length === 0 ? r : undefined)),
            "the fired timer to be deleted"
          )
          assert.strictEqual(left.length, 0)
        }))

      if (backend.kind === "jetstream") {
        it.effect("a partition consumer deleted under the worker: it re-creates it and nothing is lost, doubled or reordered", () =>
          Effect.gen(function*() {
            const log = yield* ShopLog
            const shops = Array.from({ length: 40 }, (_, i) => `gone-${i}.myshopify.com`)
            const victim = partitionOf(shops[0]!, PARTITIONS)
            const mine = shops.filter((s) => partitionOf(s, PARTITIONS) === victim)
            // the first shop's message 5 is held while the consumer goes: work is certainly left
            const held = `hold-${unique}`
            for (let n = 0; n < 60; n++) {
              for (const shop of mine) {
                const payload = shop === mine[0] && n === 5 ? { n, hold: held } : { n }
                yield* log.publish({ shop, messageId: `g-${n}`, type: "test.append", payload })
              }
            }
            // Deleted from outside (an operator, `inactive_threshold`, a stall fix): the worker's
            // consume stream fails, and it consumes the partition again on a re-created durable.
            yield* pollUntil(Effect.map(streamNs(mine[0]!), (ns) => (ns.length >= 5 ? true : undefined)), "some progress")
            const nc = yield* Effect.promise(() => connect({ servers: inject("natsUrl") }))
            const jsm = yield* Effect.promise(() => jetstreamManager(nc))
            const inFlight = (yield* log.pending).get(victim) ?? 0
            // whatever its incarnation's name: the consumer on the victim partition's subject
            const consumers = yield* Effect.promise(() => jsm.consumers.list(JETSTREAM.streamName).next())
            const victimConsumer = consumers.find((ci) => ci.config.filter_subject === `${JETSTREAM.subjectPrefix}.${victim}.*`)
            assert.isDefined(victimConsumer, "the victim partition has a consumer")
            yield* Effect.promise(() => jsm.consumers.delete(JETSTREAM.streamName, victimConsumer!.name))
            gate(held).open()
            assert.isAbove(inFlight, 0, "the consumer should be deleted with messages still to handle")
            yield* Effect.promise(() => nc.close())
            const all = yield* pollUntil(
              Effect.gen(function*() {
                const lists = yield* Effect.forEach(mine, streamNs)
                return lists.every((ns) => ns.length >= 60) && (yield* pendingTotal) === 0 ? lists : undefined
              }),
              "every message applied",
              Duration.seconds(60)
            )
            for (const ns of all) assert.deepStrictEqual(ns, Array.from({ length: 60 }, (_, i) => i))
          }), { timeout: 90_000 })
      }

      it.effect("idle actors passivate: state is not kept for every shop ever seen", () =>
        Effect.gen(function*() {
          const runtime = yield* ShopActorRuntime.ShopActorRuntime
          yield* pollUntil(Effect.sync(() => (runtime.residentActors() === 0 ? true : undefined)), "actors to passivate", undefined, Duration.millis(50))
          assert.strictEqual(runtime.residentActors(), 0)
          assert.strictEqual(runtime.ownedPartitions().length, PARTITIONS)
        }))
    })
  })
}
