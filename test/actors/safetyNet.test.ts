/**
 * What keeps an accepted message from being lost, on both shop logs (embedded on PostgreSQL
 * 15, JetStream on the run's nats-server), with the test handlers:
 * - a duplicate is a message whose id was applied, nothing else: a message that arrives after
 *   a later message of its shop was applied is applied all the same (reported late), never
 *   skipped because of its log sequence;
 * - an ack that never reaches the log does not hold the shop: it moves on, and the safety net
 *   finds the message still in the log, passed over by its consumer and held by nobody, and
 *   re-consumes the partition — long before JetStream's ack_wait would bring it back;
 * - embedded log: a message committed behind the consumer's position (a late commit) is found
 *   the same way and delivered;
 * - JetStream: a message the consumer passes over (as nats-server 2.9.10 was seen to do under
 *   SIGKILLs) is not overtaken by the later messages of its shop: the next one names it as its
 *   predecessor, waits, and the partition is re-consumed — the shop's order holds; a
 *   predecessor removed from the log without being handled does not wedge its shop.
 */
import { assert, describe, layer } from "@effect/vitest"
import { Duration, Effect, Layer, Stream } from "effect"
import { SqlClient } from "effect/sql"
import { inject } from "vitest"
import * as EmbeddedShopLog from "../../adapters/embedded/EmbeddedShopLog.ts"
import * as JetStreamShopLog from "../../adapters/nats/JetStreamShopLog.ts"
import type { DatabaseMode } from "../../adapters/postgres/Database.ts"
import { partitionOf } from "../../domain/shop/partition.ts"
import { coreLayer } from "../../src/CoreLayer.ts"
import * as ShopActorRuntime from "../../src/actors/ShopActorRuntime.ts"
import { actorRuntimeLayer } from "../support/actorRuntime.ts"
import { ShopLog, ShopLogUnavailable } from "../../src/shoplog/ShopLog.ts"
import { postgresLayer } from "../support/databases.ts"
import { testKeyRing } from "../support/keys.ts"
import { pollUntil, streamNs } from "../support/poll.ts"
import { testHandlersLayer } from "../support/testHandlers.ts"

const PARTITIONS = 4
/** The message whose first delivery can never be acked. */
const LOST_ACK = "lost-ack-0"
/**
 * The embedded log's message whose every separate ack fails: its commit acks it (same
 * database), so the failing ack is never needed.
 */
const ACKED_BY_COMMIT = "commit-ack-0"
/** The message whose first delivery never reaches the runtime (the consumer passes over it). */
const PASSED_OVER = "passed-over-1"
/** The message removed from the log at its first delivery, unhandled (an operator deleted it). */
const REMOVED = "removed-1"

/**
 * The real log, except that the first delivery of `LOST_ACK` fails every ack, as if the
 * connection to the log were gone for that copy (or its incarnation had been replaced).
 */
const withLostAck = Layer.effect(
  ShopLog,
  Effect.gen(function*() {
    const real = yield* ShopLog
    let spoiled = false
    let passed = false
    let removed = false
    return ShopLog.of({
      ...real,
      consume: (partition) =>
        Effect.map(real.consume(partition), (deliveries) =>
          deliveries.pipe(
            Stream.filterEffect((d) => {
              if (d.message.messageId === PASSED_OVER && !passed) return Effect.sync(() => (passed = true, false))
              if (d.message.messageId === REMOVED && !removed) return Effect.as(d.ack, (removed = true, false))
              return Effect.succeed(true)
            }),
            Stream.map((d) => {
              const lost = Effect.fail(new ShopLogUnavailable({ operation: "ack", cause: new Error("injected: the ack never arrives") }))
              if (d.message.messageId === ACKED_BY_COMMIT) return { ...d, ack: lost }
              if (d.message.messageId !== LOST_ACK || spoiled) return d
              spoiled = true
              // a separate ack, even where the log could be acked by the commit
              return { ...d, ack: lost, ackedByCommit: undefined }
            })
          ))
    })
  })
)

let counter = 0
type LogLayer = Layer.Layer<ShopLog, unknown, SqlClient.SqlClient | DatabaseMode>
const backends: ReadonlyArray<{ readonly name: string; readonly kind: "embedded" | "jetstream"; readonly log: () => LogLayer }> = [
  {
    name: "embedded log on PostgreSQL 15",
    kind: "embedded",
    log: () => EmbeddedShopLog.layer({ partitions: PARTITIONS })
  },
  {
    name: "JetStream log",
    kind: "jetstream",
    log: (): LogLayer => {
      const id = `${process.pid}_${Date.now().toString(36)}_${counter++}`
      // ack_wait far beyond the test's bounds: only the safety net can bring a message back
      return JetStreamShopLog.layer({ servers: inject("natsUrl"), streamName: `SN_${id}`, subjectPrefix: `sn_${id}`, partitions: PARTITIONS, ackWaitMs: 120_000 })
    }
  }
]

const pendingTotal = Effect.gen(function*() {
  const log = yield* ShopLog
  return [...(yield* log.pending).values()].reduce((a, b) => a + b, 0)
})

for (const backend of backends) {
  describe(`no accepted message is lost, ${backend.name}`, () => {
    const core = coreLayer(postgresLayer({ maxConnections: 12 }), testKeyRing())
    const log = withLostAck.pipe(Layer.provideMerge(backend.log().pipe(Layer.provideMerge(core))))
    const runtime = actorRuntimeLayer({
      maxAttempts: 4,
      backoffBase: Duration.millis(5),
      backoffCap: Duration.millis(40),
      stuckCheckInterval: Duration.millis(200)
    }).pipe(Layer.provide(testHandlersLayer), Layer.provideMerge(log))

    layer(runtime, { excludeTestServices: true, timeout: 120_000 })((it) => {
      it.effect("a message behind its shop's highest applied sequence is applied, not taken for a duplicate", () =>
        Effect.gen(function*() {
          const sql = yield* SqlClient.SqlClient
          const log = yield* ShopLog
          const shop = "overtaken.myshopify.com"
          // as if a later message of the shop had been applied first (the loss of issue 9)
          yield* sql`INSERT INTO shop_cursors (shop, last_seq) VALUES (${shop}, 1000000000)`
          yield* log.publish({ shop, messageId: "o-0", type: "test.append", payload: { n: 0 } })
          yield* log.publish({ shop, messageId: "o-1", type: "test.append", payload: { n: 1 } })
          const ns = yield* pollUntil(Effect.map(streamNs(shop), (ns) => (ns.length === 2 ? ns : undefined)), "both messages applied")
          assert.deepStrictEqual(ns, [0, 1])
          const handled = yield* sql<{ message_id: string }>`SELECT message_id FROM processed_messages WHERE shop = ${shop} ORDER BY message_id`
          assert.deepStrictEqual(handled.map((r) => r.message_id), ["o-0", "o-1"])
        }))

      it.effect("an ack that never arrives: the shop moves on, the message is found stuck and redelivered, applied once", () =>
        Effect.gen(function*() {
          const log = yield* ShopLog
          const runtime = yield* ShopActorRuntime.ShopActorRuntime
          const sql = yield* SqlClient.SqlClient
          const shop = "lost-ack.myshopify.com"
          const before = runtime.stuckMessages().total
          yield* log.publish({ shop, messageId: LOST_ACK, type: "test.append", payload: { n: 0 } })
          yield* log.publish({ shop, messageId: "lost-ack-1", type: "test.append", payload: { n: 1 } })
          yield* log.publish({ shop, messageId: "lost-ack-2", type: "test.append", payload: { n: 2 } })
          // the shop is not held by the ack that cannot be sent
          const ns = yield* pollUntil(Effect.map(streamNs(shop), (ns) => (ns.length === 3 ? ns : undefined)), "the shop's messages applied")
          assert.deepStrictEqual(ns, [0, 1, 2])
          // the unacked copy is found and redelivered (a duplicate then), so the log drains
          yield* pollUntil(Effect.map(pendingTotal, (n) => (n === 0 ? true : undefined)), "the log to drain", Duration.seconds(30))
          const report = runtime.stuckMessages()
          assert.isAbove(report.total, before)
          const last = report.recent[report.recent.length - 1]!
          assert.strictEqual(last.shop, shop)
          assert.strictEqual(last.partition, partitionOf(shop, PARTITIONS))
          assert.deepStrictEqual(yield* streamNs(shop), [0, 1, 2])
          const dead = yield* sql<{ n: number }>`SELECT count(*)::int AS n FROM dead_letters WHERE shop = ${shop}`
          assert.strictEqual(dead[0]!.n, 0)
        }))

      if (backend.kind === "embedded") {
        it.effect("the embedded log's message is acked by its commit: no separate ack, nothing stuck", () =>
          Effect.gen(function*() {
            const log = yield* ShopLog
            const runtime = yield* ShopActorRuntime.ShopActorRuntime
            const shop = "commit-ack.myshopify.com"
            const before = runtime.stuckMessages().total
            yield* log.publish({ shop, messageId: ACKED_BY_COMMIT, type: "test.append", payload: { n: 0 } })
            yield* log.publish({ shop, messageId: "commit-ack-1", type: "test.append", payload: { n: 1 } })
            const ns = yield* pollUntil(Effect.map(streamNs(shop), (ns) => (ns.length === 2 ? ns : undefined)), "the shop's messages applied")
            assert.deepStrictEqual(ns, [0, 1])
            yield* pollUntil(Effect.map(pendingTotal, (n) => (n === 0 ? true : undefined)), "the log to drain")
            assert.strictEqual(runtime.stuckMessages().total, before, "nothing was left in the log to be found stuck")
          }))
      }

      if (backend.kind === "jetstream") {
        it.effect("a message its consumer passes over is not overtaken by the later messages of its shop", () =>
          Effect.gen(function*() {
            const log = yield* ShopLog
            const runtime = yield* ShopActorRuntime.ShopActorRuntime
            const sql = yield* SqlClient.SqlClient
            const shop = "passed-over.myshopify.com"
            const before = runtime.stuckMessages().total
            yield* log.publish({ shop, messageId: "passed-over-0", type: "test.append", payload: { n: 0 } })
            const skipped = yield* log.publish({ shop, messageId: PASSED_OVER, type: "test.append", payload: { n: 1 } })
            const next = yield* log.publish({ shop, messageId: "passed-over-2", type: "test.append", payload: { n: 2 } })
            yield* log.publish({ shop, messageId: "passed-over-3", type: "test.append", payload: { n: 3 } })
            const ns = yield* pollUntil(Effect.map(streamNs(shop), (ns) => (ns.length === 4 ? ns : undefined)), "every message applied", Duration.seconds(30))
            assert.deepStrictEqual(ns, [0, 1, 2, 3], "in the shop's order")
            const report = runtime.stuckMessages()
            assert.isAbove(report.total, before)
            const overtaken = report.recent.find((r) => r.shop === shop)!
            assert.strictEqual(overtaken.reason, "overtaken")
            assert.strictEqual(overtaken.sequence, skipped.sequence)
            assert.strictEqual(overtaken.overtakenBy, next.sequence)
            // waiting counted no attempt and nothing was applied late
            const late = yield* sql<{ n: number }>`SELECT count(*)::int AS n FROM message_attempts WHERE shop = ${shop}`
            assert.strictEqual(late[0]!.n, 0)
            yield* pollUntil(Effect.map(pendingTotal, (n) => (n === 0 ? true : undefined)), "the log to drain")
          }))

        it.effect("a predecessor removed from the log without being handled does not wedge its shop", () =>
          Effect.gen(function*() {
            const log = yield* ShopLog
            const sql = yield* SqlClient.SqlClient
            const shop = "removed.myshopify.com"
            yield* log.publish({ shop, messageId: "removed-0", type: "test.append", payload: { n: 0 } })
            yield* log.publish({ shop, messageId: REMOVED, type: "test.append", payload: { n: 1 } })
            yield* log.publish({ shop, messageId: "removed-2", type: "test.append", payload: { n: 2 } })
            const ns = yield* pollUntil(Effect.map(streamNs(shop), (ns) => (ns.length === 2 ? ns : undefined)), "the rest applied", Duration.seconds(30))
            assert.deepStrictEqual(ns, [0, 2])
            const handled = yield* sql<{ message_id: string }>`SELECT message_id FROM processed_messages WHERE shop = ${shop} ORDER BY message_id`
            assert.deepStrictEqual(handled.map((r) => r.message_id), ["removed-0", "removed-2"])
          }))
      }

      if (backend.kind === "embedded") {
        it.effect("a message committed behind the consumer's position (a late commit) is found and delivered", () =>
          Effect.gen(function*() {
            const log = yield* ShopLog
            const sql = yield* SqlClient.SqlClient
            const shop = "late-commit.myshopify.com"
            const partition = partitionOf(shop, PARTITIONS)
            const first = yield* log.publish({ shop, messageId: "lc-0", type: "test.append", payload: { n: 0 } })
            yield* log.publish({ shop, messageId: "lc-1", type: "test.append", payload: { n: 1 } })
            yield* pollUntil(Effect.map(streamNs(shop), (ns) => (ns.length === 2 ? true : undefined)), "the first two applied")
            yield* pollUntil(Effect.map(pendingTotal, (n) => (n === 0 ? true : undefined)), "their rows acked")
            // a row at a position the consumer has already passed (lc-0's, freed by its ack)
            const message = { shop, messageId: "lc-2", type: "test.append", payload: { n: 2 }, publishedAt: new Date().toISOString() }
            yield* sql`
              INSERT INTO shop_log (seq, partition, shop, message_id, message) OVERRIDING SYSTEM VALUE
              VALUES (${first.sequence}, ${partition}, ${shop}, ${"lc-2"}, ${JSON.stringify(message)}::jsonb)`
            const ns = yield* pollUntil(Effect.map(streamNs(shop), (ns) => (ns.length === 3 ? ns : undefined)), "the late row delivered", Duration.seconds(30))
            assert.deepStrictEqual(ns, [0, 1, 2])
          }))
      }
    })
  })
}
