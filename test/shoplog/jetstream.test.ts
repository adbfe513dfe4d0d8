/**
 * The JetStream shop log against the real nats-server of the run (`inject("natsUrl")`).
 * Every test uses its own stream and subject prefix, so tests never see each other's messages.
 */
import { assert, describe, it } from "@effect/vitest"
import { connect } from "@nats-io/transport-node"
import { jetstream, jetstreamManager, RetentionPolicy, StorageType } from "@nats-io/jetstream"
import { Effect, Exit, Fiber, Schedule, Scope, Stream } from "effect"
import { TestClock } from "effect/testing"
import { inject } from "vitest"
import { partitionOf } from "../../domain/shop/partition.ts"
import { type ConsumerProgress, make, shopToken, stallWatchdog, UNDECODABLE_TYPE } from "../../adapters/nats/JetStreamShopLog.ts"
import type { Delivery, ShopMessage } from "../../src/shoplog/ShopLog.ts"
import { freePort } from "../support/pgServer.ts"
import { startNatsServer } from "../support/natsServer.ts"

let counter = 0
const fresh = (extra: Partial<Parameters<typeof make>[0]> = {}) => {
  const id = `${process.pid}_${Date.now().toString(36)}_${counter++}`
  return {
    servers: inject("natsUrl"),
    streamName: `T_${id}`,
    subjectPrefix: `t_${id}`,
    partitions: 4,
    stallTimeoutMs: 0,
    ...extra
  }
}

const msg = (shop: string, messageId: string, payload: unknown = { n: messageId }): ShopMessage => ({
  shop,
  messageId,
  type: "test.message",
  payload
})

/** The first `n` deliveries of a stream, failing the test instead of hanging. */
const take = (stream: Stream.Stream<Delivery, unknown>, n: number, ms = 5_000) =>
  stream.pipe(Stream.take(n), Stream.runCollect, Effect.timeout(ms))

describe("JetStreamShopLog", () => {
  it.live("delivers every message on its shop's partition, in publish order, with the payload intact", () =>
    Effect.gen(function*() {
      const opts = fresh()
      const log = yield* make(opts)
      const shops = Array.from({ length: 12 }, (_, i) => `shop-${i}.myshopify.com`)
      const published: Array<ShopMessage> = []
      for (let i = 0; i < 5; i++) {
        for (const shop of shops) {
          const m: ShopMessage = {
            ...msg(shop, `${shop}-${i}`, { i, nested: { list: [1, "two", null], ok: true } }),
            correlationId: `corr-${i}`,
            ...(i === 0 ? { publishedAt: "2024-01-01T00:00:00.000Z" } : {})
          }
          const ack = yield* log.publish(m)
          assert.strictEqual(ack.partition, partitionOf(shop, 4))
          assert.isFalse(ack.duplicate)
          published.push(m)
        }
      }
      const byPartition = new Map<number, Array<ShopMessage>>()
      for (const m of published) {
        const p = partitionOf(m.shop, 4)
        byPartition.set(p, [...(byPartition.get(p) ?? []), m])
      }
      assert.isAbove(byPartition.size, 1, "the test shops should spread over several partitions")
      const pending = yield* log.pending
      assert.deepStrictEqual([...pending.entries()].sort(([a], [b]) => a - b), [0, 1, 2, 3].map((p) => [p, byPartition.get(p)?.length ?? 0]))

      for (const [p, expected] of byPartition) {
        const deliveries = yield* Effect.scoped(Effect.flatMap(log.consume(p), (s) => take(s, expected.length)))
        // Publish order within the partition (hence per shop), nothing missing or extra.
        assert.deepStrictEqual(deliveries.map((d) => d.message.messageId), expected.map((m) => m.messageId))
        for (let i = 0; i < deliveries.length; i++) {
          const d = deliveries[i]!
          const m = expected[i]!
          assert.strictEqual(d.partition, p)
          assert.strictEqual(partitionOf(d.message.shop, 4), p)
          assert.strictEqual(d.deliveryCount, 1)
          if (i > 0) assert.isAbove(d.sequence, deliveries[i - 1]!.sequence)
          assert.deepStrictEqual(d.message.payload, m.payload)
          assert.strictEqual(d.message.type, m.type)
          assert.strictEqual(d.message.correlationId, m.correlationId)
          if (m.publishedAt !== undefined) assert.strictEqual(d.message.publishedAt, m.publishedAt)
          else assert.match(d.message.publishedAt!, /^\d{4}-\d\d-\d\dT/)
        }
      }
    }))

  it.live("reports a re-published messageId within the window as duplicate and stores it once", () =>
    Effect.gen(function*() {
      const log = yield* make(fresh())
      const first = yield* log.publish(msg("dup.myshopify.com", "evt-1"))
      const again = yield* log.publish(msg("dup.myshopify.com", "evt-1", { different: "body" }))
      const other = yield* log.publish(msg("dup.myshopify.com", "evt-2"))
      // Same id for another shop is another message (the id is scoped by shop).
      const otherShop = yield* log.publish(msg("other.myshopify.com", "evt-1"))
      assert.isFalse(first.duplicate)
      assert.isTrue(again.duplicate)
      assert.strictEqual(again.sequence, first.sequence)
      assert.isFalse(other.duplicate)
      assert.isFalse(otherShop.duplicate)
      const pending = yield* log.pending
      const p = partitionOf("dup.myshopify.com", 4)
      const q = partitionOf("other.myshopify.com", 4)
      assert.strictEqual(pending.get(p), p === q ? 3 : 2)
      const deliveries = yield* Effect.scoped(Effect.flatMap(log.consume(p), (s) => take(s, 2)))
      assert.deepStrictEqual(deliveries.map((d) => [d.message.messageId, d.message.payload]), [["evt-1", { n: "evt-1" }], ["evt-2", { n: "evt-2" }]])
    }))

  it.live("ack removes a message; re-acquiring redelivers exactly the unacked ones in their original order", () =>
    Effect.gen(function*() {
      const log = yield* make(fresh())
      const shop = "replay.myshopify.com"
      const p = partitionOf(shop, 4)
      for (let i = 1; i <= 6; i++) yield* log.publish(msg(shop, `m${i}`))

      const firstRound = yield* Effect.scoped(Effect.gen(function*() {
        const deliveries = yield* take(yield* log.consume(p), 6)
        assert.deepStrictEqual(deliveries.map((d) => d.message.messageId), ["m1", "m2", "m3", "m4", "m5", "m6"])
        for (const i of [0, 1, 4]) yield* deliveries[i]!.ack
        // A second ack of the same delivery is a no-op, not an error.
        yield* deliveries[0]!.ack
        return deliveries
      }))
      assert.strictEqual((yield* log.pending).get(p), 3)

      const secondRound = yield* Effect.scoped(Effect.flatMap(log.consume(p), (s) => take(s, 3)))
      assert.deepStrictEqual(secondRound.map((d) => d.message.messageId), ["m3", "m4", "m6"])
      assert.deepStrictEqual(secondRound.map((d) => d.sequence), [firstRound[2]!.sequence, firstRound[3]!.sequence, firstRound[5]!.sequence])
      // The consumer was re-created, so delivery counts start again.
      assert.deepStrictEqual(secondRound.map((d) => d.deliveryCount), [1, 1, 1])
      assert.strictEqual((yield* log.pending).get(p), 3)
    }))

  it.live("working() keeps a message from being redelivered past ack_wait (a message without it is redelivered)", () =>
    Effect.gen(function*() {
      const log = yield* make(fresh({ ackWaitMs: 1_000 }))
      const shop = "slow.myshopify.com"
      const p = partitionOf(shop, 4)
      yield* log.publish(msg(shop, "kept"))
      yield* log.publish(msg(shop, "neglected"))
      const stream = yield* log.consume(p)
      const seen: Array<[string, number]> = []
      // Runs until "neglected" comes back a second time (≥ 2 × ack_wait), heartbeating "kept".
      yield* stream.pipe(
        Stream.tap((d) =>
          Effect.sync(() => seen.push([d.message.messageId, d.deliveryCount])).pipe(
            Effect.andThen(d.message.messageId === "kept"
              ? Effect.forkScoped(d.working.pipe(Effect.repeat(Schedule.spaced(250))))
              : Effect.void)
          )
        ),
        Stream.takeUntil((d) => d.message.messageId === "neglected" && d.deliveryCount >= 3),
        Stream.runDrain,
        Effect.timeout(8_000)
      )
      assert.deepStrictEqual(seen.filter(([id]) => id === "kept"), [["kept", 1]])
      assert.deepStrictEqual(seen.filter(([id]) => id === "neglected"), [["neglected", 1], ["neglected", 2], ["neglected", 3]])
    }), 15_000)

  it.live("an undecodable body is delivered as shoplog.undecodable and does not stop the partition", () =>
    Effect.gen(function*() {
      const opts = fresh()
      const log = yield* make(opts)
      const nc = yield* Effect.acquireRelease(Effect.promise(() => connect({ servers: opts.servers })), (nc) => Effect.promise(() => nc.close()))
      yield* Effect.promise(() => jetstream(nc).publish(`${opts.subjectPrefix}.2.raw`, "{not json"))
      yield* Effect.promise(() => jetstream(nc).publish(`${opts.subjectPrefix}.2.raw`, JSON.stringify({ shop: 7 })))
      const shop = Array.from({ length: 100 }, (_, i) => `s${i}.myshopify.com`).find((s) => partitionOf(s, 4) === 2)!
      yield* log.publish(msg(shop, "after"))
      const deliveries = yield* Effect.scoped(Effect.flatMap(log.consume(2), (s) => take(s, 3)))
      assert.deepStrictEqual(deliveries.map((d) => d.message.type), [UNDECODABLE_TYPE, UNDECODABLE_TYPE, "test.message"])
      assert.strictEqual((deliveries[0]!.message.payload as { raw: string }).raw, "{not json")
      assert.strictEqual((deliveries[1]!.message.payload as { raw: string }).raw, JSON.stringify({ shop: 7 }))
      assert.strictEqual(deliveries[2]!.message.messageId, "after")
    }))

  it.live("a partition re-acquired elsewhere fails the previous owner's stream", () =>
    Effect.gen(function*() {
      const opts = fresh()
      const a = yield* make({ ...opts, stallTimeoutMs: 4_000 })
      const b = yield* make(opts)
      const scopeA = yield* Scope.make()
      const streamA = yield* a.consume(1).pipe(Scope.provide(scopeA))
      const runA = yield* Effect.forkChild(Stream.runDrain(streamA))
      yield* Effect.scoped(Effect.asVoid(b.consume(1)))
      // Usually immediate (the pending pull gets "409 Consumer Deleted"); when that answer is
      // missed, the watchdog finds the durable re-created at its first idle check (2 s here),
      // well before nats.js's missed idle heartbeats (2 × 15 s).
      const err = yield* Fiber.join(runA).pipe(Effect.flip, Effect.timeout(40_000))
      assert.strictEqual(err._tag, "ShopLogUnavailable")
      yield* Scope.close(scopeA, Exit.void)
    }), 45_000)

  it.live("fails with ShopLogUnavailable, not a hang, when the server is unreachable", () =>
    Effect.gen(function*() {
      // Nothing listens there: connecting fails fast.
      const port = yield* Effect.promise(() => freePort())
      const refused = yield* make({ servers: `nats://127.0.0.1:${port}`, connectTimeoutMs: 1_000 }).pipe(Effect.flip, Effect.timeout(5_000))
      assert.strictEqual(refused._tag, "ShopLogUnavailable")

      // A server that goes away under a running log: publish times out (the client is
      // reconnecting and buffers), ping fails, both within their bounds.
      const server = yield* Effect.acquireRelease(Effect.promise(() => startNatsServer()), (s) => Effect.promise(() => s.stop()))
      const log = yield* make({ ...fresh(), servers: server.url, publishTimeoutMs: 1_000, requestTimeoutMs: 1_000 })
      yield* log.publish(msg("gone.myshopify.com", "before"))
      yield* Effect.promise(() => server.stop())
      const published = yield* log.publish(msg("gone.myshopify.com", "after")).pipe(Effect.flip, Effect.timeout(5_000))
      assert.strictEqual(published._tag, "ShopLogUnavailable")
      assert.strictEqual(published.operation, "publish")
      const pinged = yield* log.ping.pipe(Effect.flip, Effect.timeout(5_000))
      assert.strictEqual(pinged._tag, "ShopLogUnavailable")
    }), 20_000)

  it.live("creates the stream idempotently, updates changed settings, refuses a stream of the wrong kind", () =>
    Effect.gen(function*() {
      const opts = fresh()
      const nc = yield* Effect.acquireRelease(Effect.promise(() => connect({ servers: opts.servers })), (nc) => Effect.promise(() => nc.close()))
      const jsm = yield* Effect.promise(() => jetstreamManager(nc))
      yield* make(opts)
      const created = yield* Effect.promise(() => jsm.streams.info(opts.streamName))
      assert.strictEqual(created.config.retention, "workqueue")
      assert.strictEqual(created.config.storage, "file")
      assert.strictEqual(created.config.discard, "new")
      assert.deepStrictEqual(created.config.subjects, [`${opts.subjectPrefix}.*.*`])
      assert.strictEqual(created.config.duplicate_window, 120_000 * 1e6)
      assert.strictEqual(created.config.max_age, 3 * 86_400_000 * 1e6)
      yield* make(opts)
      yield* make({ ...opts, duplicateWindowMs: 60_000 })
      const updated = yield* Effect.promise(() => jsm.streams.info(opts.streamName))
      assert.strictEqual(updated.config.duplicate_window, 60_000 * 1e6)
      assert.strictEqual(updated.created, created.created)

      const other = fresh()
      yield* Effect.promise(() => jsm.streams.add({ name: other.streamName, subjects: [`${other.subjectPrefix}.*`] }))
      const refused = yield* make(other).pipe(Effect.flip)
      assert.strictEqual(refused._tag, "ShopLogUnavailable")
      assert.match(String(refused.cause), /retention=limits/)
    }))

  it.live("a stream of the earlier per-partition layout is moved to per-shop subjects when empty, refused while it holds messages", () =>
    Effect.gen(function*() {
      const nc = yield* Effect.acquireRelease(Effect.promise(() => connect({ servers: inject("natsUrl") })), (nc) => Effect.promise(() => nc.close()))
      const jsm = yield* Effect.promise(() => jetstreamManager(nc))
      const legacy = (opts: ReturnType<typeof fresh>) =>
        Effect.promise(() =>
          jsm.streams.add({ name: opts.streamName, subjects: [`${opts.subjectPrefix}.*`], retention: RetentionPolicy.Workqueue, storage: StorageType.File }))
      const empty = fresh()
      yield* legacy(empty)
      yield* make(empty)
      const moved = yield* Effect.promise(() => jsm.streams.info(empty.streamName))
      assert.deepStrictEqual(moved.config.subjects, [`${empty.subjectPrefix}.*.*`])

      const full = fresh()
      yield* legacy(full)
      yield* Effect.promise(() => jetstream(nc).publish(`${full.subjectPrefix}.1`, "{}"))
      const refused = yield* make(full).pipe(Effect.flip)
      assert.strictEqual(refused._tag, "ShopLogUnavailable")
      assert.match(String(refused.cause), /holds 1 messages under the per-partition subjects .* drain it/)
      const kept = yield* Effect.promise(() => jsm.streams.info(full.streamName))
      assert.deepStrictEqual(kept.config.subjects, [`${full.subjectPrefix}.*`], "nothing changed")
    }))

  it.live("every message names its shop's latest message still in the log when it was published: a chain per shop, also under concurrent publishers", () =>
    Effect.gen(function*() {
      const opts = fresh({ ackWaitMs: 60_000 })
      const a = yield* make(opts)
      const b = yield* make(opts) // a second ingress: its guesses know nothing of a's publishes
      const shop = "chain.myshopify.com"
      const other = Array.from({ length: 100 }, (_, i) => `o${i}.myshopify.com`).find((s) => partitionOf(s, 4) === partitionOf(shop, 4))!
      const p = partitionOf(shop, 4)
      const first = yield* a.publish(msg(shop, "c-0"))
      yield* a.publish(msg(other, "x-0"))
      // 20 publishes of one shop at once, from two processes
      yield* Effect.forEach(Array.from({ length: 20 }, (_, i) => i + 1), (i) => (i % 2 === 0 ? a : b).publish(msg(shop, `c-${i}`)), {
        concurrency: "unbounded",
        discard: true
      })
      const got = yield* Effect.scoped(Effect.flatMap(a.consume(p), (s) => take(s, 22)))
      const mine = got.filter((d) => d.message.shop === shop)
      assert.strictEqual(mine.length, 21)
      assert.strictEqual(mine[0]!.sequence, first.sequence)
      assert.strictEqual(mine[0]!.predecessor, 0, "nothing of the shop was in the log")
      mine.slice(1).forEach((d, i) => assert.strictEqual(d.predecessor, mine[i]!.sequence, `message ${d.message.messageId}`))
      assert.strictEqual(got.find((d) => d.message.shop === other)!.predecessor, 0, "another shop's chain is its own")

      // once a shop's messages are acked (gone from the log), its next message has no predecessor
      const again = yield* Effect.scoped(Effect.gen(function*() {
        const all = yield* take(yield* a.consume(p), 22)
        yield* Effect.forEach(all, (d) => d.ack, { discard: true })
        yield* b.publish(msg(shop, "c-after"))
        return yield* take(yield* a.consume(p), 1)
      }))
      assert.strictEqual(again[0]!.message.messageId, "c-after")
      assert.strictEqual(again[0]!.predecessor, 0)
      assert.isTrue(yield* a.isQueued(p, again[0]!.sequence))
      assert.isFalse(yield* a.isQueued(p, first.sequence), "acked")
      assert.isFalse(yield* a.isQueued((p + 1) % 4, again[0]!.sequence), "another partition's")
    }))

  it("a shop is one subject token, whatever its characters", () => {
    const shops = ["a.myshopify.com", "a_myshopify_com", "a%2Emyshopify%2Ecom", "sp ace", "wild*card>", "", "%", "ünï.example"]
    const tokens = shops.map(shopToken)
    for (const t of tokens) assert.match(t, /^[A-Za-z0-9_%-]+$/)
    assert.strictEqual(new Set(tokens).size, shops.length)
    assert.strictEqual(shopToken("chaos-0194.myshopify.com"), "chaos-0194%2Emyshopify%2Ecom")
  })

  it.live("each consume is a new incarnation: a client of an earlier one finds no consumer, and the new one replays the unacked backlog in order", () =>
    Effect.gen(function*() {
      const opts = fresh({ ackWaitMs: 60_000 })
      const log = yield* make(opts)
      const shop = "incarnations.myshopify.com"
      const p = partitionOf(shop, 4)
      const nc = yield* Effect.acquireRelease(Effect.promise(() => connect({ servers: opts.servers })), (nc) => Effect.promise(() => nc.close()))
      const jsm = yield* Effect.promise(() => jetstreamManager(nc))
      const consumersOn = Effect.promise(async () => {
        const names: Array<string> = []
        for await (const ci of jsm.consumers.list(opts.streamName)) {
          if (ci.config.filter_subject === `${opts.subjectPrefix}.${p}.*`) names.push(ci.name)
        }
        return names
      })
      for (let i = 0; i < 6; i++) yield* log.publish(msg(shop, `m-${i}`))
      // incarnation 1 takes three messages and acks only the first: then its owner goes away
      const first = yield* Effect.scoped(Effect.gen(function*() {
        const got = yield* take(yield* log.consume(p), 3)
        yield* Effect.forEach(got, (d, i) => (i === 0 ? d.ack : Effect.void), { discard: true })
        return yield* consumersOn
      }))
      assert.strictEqual(first.length, 1)
      const scope = yield* Scope.make()
      const second = yield* log.consume(p).pipe(Scope.provide(scope))
      const now = yield* consumersOn
      assert.strictEqual(now.length, 1, "one consumer per partition")
      assert.notStrictEqual(now[0], first[0], "a new incarnation has a name of its own")
      // nats.js re-checks a consumer by name before it pulls again (after a reconnect or
      // missed heartbeats): under the earlier name there must be nothing to attach to.
      const lookup = yield* Effect.promise(() => jsm.consumers.info(opts.streamName, first[0]!).then(() => "found", (e: Error) => e.message))
      assert.match(lookup, /consumer not found/)
      const replayed = yield* take(second, 5)
      assert.deepStrictEqual(replayed.map((d) => d.message.messageId), ["m-1", "m-2", "m-3", "m-4", "m-5"])
      yield* Scope.close(scope, Exit.void)
    }))

  it.live("publish throughput (printed, not asserted)", () =>
    Effect.gen(function*() {
      const log = yield* make(fresh({ partitions: 64 }))
      const shops = Array.from({ length: 200 }, (_, i) => `perf-${i}.myshopify.com`)
      const syncN = 500
      let t = performance.now()
      for (let i = 0; i < syncN; i++) yield* log.publish(msg(shops[i % shops.length]!, `sync-${i}`))
      const syncRate = syncN / ((performance.now() - t) / 1000)
      const asyncN = 5_000
      t = performance.now()
      yield* Effect.forEach(
        Array.from({ length: asyncN }, (_, i) => i),
        (i) => log.publish(msg(shops[i % shops.length]!, `async-${i}`)),
        { concurrency: 1_000, discard: true }
      )
      const asyncRate = asyncN / ((performance.now() - t) / 1000)
      console.log(`JetStreamShopLog publish: sequential ${Math.round(syncRate)} msg/s; ≤1,000 in flight ${Math.round(asyncRate)} msg/s`)
      const pending = yield* log.pending
      assert.strictEqual([...pending.values()].reduce((a, b) => a + b, 0), syncN + asyncN)
    }), 30_000)
})

describe("stallWatchdog", () => {
  const run = (progress: ConsumerProgress, arrivals: () => number) =>
    Effect.forkChild(stallWatchdog({ timeoutMs: 10_000, arrivals, progress: Effect.succeed(progress) }))

  it.effect("fires after ~timeout of silence while messages wait and the window has room", () =>
    Effect.gen(function*() {
      const fiber = yield* run({ numPending: 3, numAckPending: 0, maxAckPending: 512 }, () => 0)
      yield* TestClock.adjust(5_000)
      assert.isUndefined(fiber.pollUnsafe())
      yield* TestClock.adjust(5_000)
      const verdict = yield* Fiber.join(fiber)
      assert.strictEqual(verdict.numPending, 3)
    }))

  it.effect("stays quiet when messages keep arriving, when nothing is pending, or when the window is full", () =>
    Effect.gen(function*() {
      let n = 0
      const busy = yield* run({ numPending: 3, numAckPending: 0, maxAckPending: 512 }, () => n++)
      const idle = yield* run({ numPending: 0, numAckPending: 10, maxAckPending: 512 }, () => 0)
      const full = yield* run({ numPending: 50, numAckPending: 512, maxAckPending: 512 }, () => 0)
      yield* TestClock.adjust(120_000)
      assert.isUndefined(busy.pollUnsafe())
      assert.isUndefined(idle.pollUnsafe())
      assert.isUndefined(full.pollUnsafe())
    }))

  it.effect("fires at the first idle check when the consumer was replaced, pending or not", () =>
    Effect.gen(function*() {
      const fiber = yield* run({ numPending: 0, numAckPending: 0, maxAckPending: 512, replaced: true }, () => 0)
      yield* TestClock.adjust(5_000)
      const verdict = yield* Fiber.join(fiber)
      assert.isTrue(verdict.replaced)
    }))
})
