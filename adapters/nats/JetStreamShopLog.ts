/**
 * The shop log on NATS JetStream (the `ShopLog` port, see `src/shoplog/ShopLog.ts`).
 * Works on nats-server 2.9.x (nothing here needs ≥ 2.10); facts and rationale: NATS.md.
 *
 * Layout
 * - One stream (default `SHOP_LOG`), **WorkQueue** retention, file storage, subjects
 *   `${prefix}.*.*`: one subject per shop, `${prefix}.${partitionOf(shop)}.${shopToken(shop)}`,
 *   so a partition is `${prefix}.${p}.*`. Acked messages are deleted, so the stream holds
 *   exactly the unacked backlog, and a shop's subject exactly its unacked messages. `discard: new` makes a full
 *   stream reject publishes (ingress answers 503) instead of evicting; `max_age` (3 days) is
 *   the only eviction, a safety valve.
 * - One durable pull consumer per partition, filtered on the partition subject. Every
 *   `consume(p)` is a new *incarnation*: it deletes every consumer on the partition's subject
 *   (whatever its name) and creates one under a name of its own, `part-${p}-${random}`, with
 *   `deliver_policy: all`: on a WorkQueue stream this replays exactly the unacked backlog in
 *   stream order (NATS.md §1.3). Delivery counts restart at 1 then, so duplicates must be
 *   caught by idempotency downstream.
 *   Why a fresh name: pulls and acks address a consumer by name. Under one reused name, a
 *   previous incarnation's client (a pull loop not yet closed, a worker that lost its lock,
 *   nats.js re-pulling after a reconnect or missed heartbeats — it checks only that the
 *   *name* exists) attaches to the new consumer and takes messages from it, which then come
 *   back only after `ack_wait`, behind later messages of their shop: per-shop order broken,
 *   and, with a sequence fence downstream, messages skipped as "duplicates" (the loss of
 *   issue 9). Under a fresh name such a client finds no consumer and stops.
 * - Publish dedupe: `Nats-Msg-Id: ${shop}:${messageId}` within `duplicate_window`; the
 *   authoritative dedupe stays in Postgres (NATS.md §1.4).
 * - Per-shop chain: every publish carries `Nats-Expected-Last-Subject-Sequence: n`, and the
 *   server accepts it only if `n` is the sequence of the shop's latest message still in the
 *   stream (0: none); `n` travels with the message (`Sumeru-Predecessor`) and becomes the
 *   delivery's `predecessor`. The actor applies a message only once its predecessor is
 *   handled, so per-shop order does not rest on the consumer delivering every message in
 *   order: a nats-server consumer has been seen (2.9.10, under SIGKILLs and hand-overs) to
 *   pass over a message and deliver later ones — the later message of that shop then waits,
 *   and the partition is re-consumed. The guess of `n` is the sequence this process last
 *   published for the shop if that was within a second (likely still unacked), else 0; a
 *   wrong guess is answered with the right value ("wrong last sequence: N"), and retried.
 *   A process publishes one shop's messages one at a time (other shops' in parallel): its
 *   own concurrent publishes of a shop would otherwise refute each other's guesses, round
 *   after round.
 *
 * Consumption
 * - `consumer.consume()` (pull, heartbeats on, `abort_on_missing_resource`), callback mode,
 *   into an unbounded queue; the consumer's `max_ack_pending` bounds what can pile up there.
 * - The stream fails with `ShopLogUnavailable` (the owner should release and re-acquire) when
 *   the library stops the consumer for any reason we did not ask for (consumer deleted — e.g.
 *   another owner re-created it —, consumer/stream not found, connection closed), or when
 *   the stall watchdog fires (see `stallWatchdog`).
 * - A body that does not decode as a `ShopMessage` is delivered anyway, as a message of type
 *   `shoplog.undecodable` (payload: `UndecodablePayload`, with the raw text), so the actor can
 *   dead-letter and ack it instead of the partition wedging on it. Its `shop` comes from the
 *   `Sumeru-Shop` header every publish sets (`""` if absent), its `messageId` from
 *   `Nats-Msg-Id` (else `nats:<stream>:<seq>`).
 * - `pending` reads the stream state per subject (`subjects_filter`), one request for all
 *   partitions: on a WorkQueue stream what is stored under `${prefix}.${p}` is exactly what was
 *   published and not acked, whether or not the partition has an owner (consumer info would
 *   need one request per partition and a consumer to exist). Every partition is in the map.
 *
 * Caveats
 * - Within one consumer incarnation a message that outlives `ack_wait` (no `working()`) comes
 *   back *behind* newer ones; the actor must not rely on order across redeliveries. Never nak.
 * - After `max_deliver` deliveries the server stops delivering a message but, not being acked,
 *   it stays in the WorkQueue stream (counted by `pending`) and is delivered again, count 1,
 *   when the partition is next re-acquired. The MAX_DELIVERIES advisory is not consumed here;
 *   the actor's attempt journal is the real poison-message guard (NATS.md §2d).
 * - Read a `consume` stream once, from one fiber: it is backed by a single queue.
 * - Durability of a PubAck is the server's: 2.9.10 fsyncs every 60 s (NATS.md §1.6).
 */
import { connect, headers as natsHeaders, nanos, type NatsConnection } from "@nats-io/transport-node"
import {
  AckPolicy,
  type ConsumerConfig,
  type ConsumerInfo,
  type ConsumerMessages,
  DeliverPolicy,
  DiscardPolicy,
  jetstream,
  JetStreamApiCodes,
  JetStreamApiError,
  type JetStreamClient,
  type JetStreamManager,
  jetstreamManager,
  type JsMsg,
  ReplayPolicy,
  RetentionPolicy,
  StorageType,
  type StreamConfig
} from "@nats-io/jetstream"
import { type Cause, Config, DateTime, Effect, Layer, Option, Queue, Result, Schema, type Scope, Semaphore, Stream } from "effect"
import { DEFAULT_PARTITIONS, partitionOf } from "../../domain/shop/partition.ts"
import { currentTraceparent, noStack } from "../../src/observability/TraceContext.ts"
import { type Delivery, type PublishAck, ShopLog, ShopLogUnavailable, type ShopMessage, type UnackedMessage } from "../../src/shoplog/ShopLog.ts"

export interface JetStreamShopLogOptions {
  /** NATS URL(s), comma-separated (`nats://host:4222,nats://other:4222`). */
  readonly servers: string
  /** Default `SHOP_LOG`. */
  readonly streamName?: string
  /** Subjects are `${subjectPrefix}.${partition}.${shopToken(shop)}`. Default `shoplog`. */
  readonly subjectPrefix?: string
  /** Default 64. Changing it re-maps shops: drain the stream first. */
  readonly partitions?: number
  /** Redelivery after this long without ack or `working()`. Default 30 s. */
  readonly ackWaitMs?: number
  /** Delivered-but-unacked messages per partition. Default 512. */
  readonly maxAckPending?: number
  /** Deliveries per consumer incarnation before the server gives up on a message. Default 20. */
  readonly maxDeliver?: number
  /** `Nats-Msg-Id` dedupe window. Default 2 min. */
  readonly duplicateWindowMs?: number
  /** Stream size cap in bytes (with `discard: new`, publishes fail beyond it). Default unlimited. */
  readonly maxBytes?: number
  /** Stream replicas (R3 in production clusters). Default 1. */
  readonly replicas?: number
  /** Bound on waiting for a PubAck. Default 5 s. */
  readonly publishTimeoutMs?: number
  /** Bound on JetStream API requests (stream/consumer info, create, delete) and acks. Default 5 s. */
  readonly requestTimeoutMs?: number
  /** Bound on the initial connection. Default 5 s. */
  readonly connectTimeoutMs?: number
  /**
   * Stall watchdog: fail a `consume` stream when nothing has arrived for this long while the
   * server reports undelivered messages and the ack-pending window is not full. 0 disables.
   * Default 30 s.
   */
  readonly stallTimeoutMs?: number
  /** Connection name shown by the server (`nats server report connections`). */
  readonly name?: string
}

/** `type` of a delivery whose body could not be decoded; its payload is `UndecodablePayload`. */
export const UNDECODABLE_TYPE = "shoplog.undecodable"

export interface UndecodablePayload {
  /** The body as received (UTF-8 decoded, lossy for invalid bytes). */
  readonly raw: string
  /** Why it did not decode. */
  readonly error: string
  readonly subject: string
}

/** Header carrying the shop, so even an undecodable body can be routed to its actor. */
export const SHOP_HEADER = "Sumeru-Shop"

/** Header carrying the publish's expected last subject sequence: the delivery's `predecessor`. */
export const PREDECESSOR_HEADER = "Sumeru-Predecessor"

/** How many times a publish is re-sent with the server's word for the shop's last sequence. */
const MAX_CHAIN_ROUNDS = 20

/**
 * A shop as one subject token: percent-encoded (UTF-8) except `[A-Za-z0-9_-]`, so dots,
 * wildcards and spaces never reach the subject and distinct shops get distinct tokens; the
 * empty shop (an undecodable publish) is `%`, which no encoding produces.
 */
export const shopToken = (shop: string): string =>
  shop === "" ? "%" : encodeURIComponent(shop).replace(/[.!~*'()]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)

/** The shop's real last sequence, from a publish refused for a wrong expectation (10071). */
const wrongLastSequence = (cause: unknown): number | undefined => {
  if (!(cause instanceof JetStreamApiError) || cause.code !== 10071) return undefined
  const n = /wrong last sequence: (\d+)/.exec(cause.message)?.[1]
  return n === undefined ? undefined : Number(n)
}

const MAX_AGE_MS = 3 * 24 * 60 * 60 * 1000

/** What is written to the stream (and read back): a `ShopMessage` as JSON. */
const WireMessage = Schema.Struct({
  shop: Schema.String,
  messageId: Schema.String,
  type: Schema.String,
  version: Schema.optional(Schema.Number),
  payload: Schema.optionalKey(Schema.Unknown),
  correlationId: Schema.optional(Schema.String),
  publishedAt: Schema.optional(Schema.String),
  traceparent: Schema.optional(Schema.String)
})
const decodeWire = Schema.decodeUnknownResult(Schema.fromJsonString(WireMessage))

const unavailable = (operation: string) => (cause: unknown) => new ShopLogUnavailable({ operation, cause })

const isApiError = (code: number) => (e: unknown): boolean => e instanceof JetStreamApiError && e.code === code

/** Runs a promise-returning NATS call; any rejection (or overrunning `ms`) is `ShopLogUnavailable`. */
const attempt = <A>(operation: string, ms: number, f: () => Promise<A>): Effect.Effect<A, ShopLogUnavailable> =>
  Effect.tryPromise({ try: f, catch: unavailable(operation) }).pipe(
    Effect.timeoutOrElse({
      duration: ms,
      orElse: () => Effect.fail(new ShopLogUnavailable({ operation, cause: new Error(`no answer within ${ms} ms`) }))
    })
  )

/** Server-side counters the stall watchdog decides on (a subset of `ConsumerInfo`). */
export interface ConsumerProgress {
  /** Matching messages not yet delivered to any client. */
  readonly numPending: number
  /** Delivered, not yet acked. */
  readonly numAckPending: number
  readonly maxAckPending: number
  /**
   * The durable is no longer the one this owner created (another owner re-acquired the
   * partition and re-created it, or it was deleted): this owner must stop at once.
   */
  readonly replaced?: boolean
}

/**
 * Stall watchdog (NATS.md §4: consumers that look healthy but stop delivering). Every
 * `timeoutMs / 2` it checks whether anything arrived since the last check; when nothing did
 * on two consecutive checks (≈ `timeoutMs` of silence) *and* the server says messages are
 * waiting (`num_pending > 0`) while the window is not full (`num_ack_pending <
 * max_ack_pending`, i.e. the server could deliver), it completes with the verdict. Silence
 * with nothing pending, or with a full window (the actor is slow, not the log), is healthy.
 * Errors reading the consumer are left to the consumer itself (heartbeats, missing-resource
 * aborts) and count as "not stalled". A consumer found replaced (`replaced`) completes the
 * watchdog at the first idle check: nats.js would otherwise only notice through two missed
 * idle heartbeats (30 s), longer when the machine is loaded.
 */
export const stallWatchdog = (options: {
  readonly timeoutMs: number
  readonly arrivals: () => number
  readonly progress: Effect.Effect<ConsumerProgress, unknown>
}): Effect.Effect<ConsumerProgress> =>
  Effect.gen(function*() {
    let seen = options.arrivals()
    let suspect = false
    for (;;) {
      yield* Effect.sleep(Math.max(1, Math.floor(options.timeoutMs / 2)))
      const now = options.arrivals()
      const idle = now === seen
      seen = now
      if (!idle) {
        suspect = false
        continue
      }
      const progress = yield* options.progress.pipe(Effect.option)
      if (progress._tag === "None") continue
      const p = progress.value
      if (p.replaced === true) return p
      const stuck = p.numPending > 0 && p.numAckPending < p.maxAckPending
      if (stuck && suspect) return p
      suspect = stuck
    }
  })

const textDecoder = new TextDecoder()

export const make = (options: JetStreamShopLogOptions): Effect.Effect<ShopLog["Service"], ShopLogUnavailable, Scope.Scope> =>
  Effect.gen(function*() {
    const streamName = options.streamName ?? "SHOP_LOG"
    const prefix = options.subjectPrefix ?? "shoplog"
    const partitions = options.partitions ?? DEFAULT_PARTITIONS
    const ackWaitMs = options.ackWaitMs ?? 30_000
    const maxAckPending = options.maxAckPending ?? 512
    const maxDeliver = options.maxDeliver ?? 20
    const duplicateWindowMs = options.duplicateWindowMs ?? 120_000
    const publishTimeoutMs = options.publishTimeoutMs ?? 5_000
    const requestTimeoutMs = options.requestTimeoutMs ?? 5_000
    const connectTimeoutMs = options.connectTimeoutMs ?? 5_000
    const stallTimeoutMs = options.stallTimeoutMs ?? 30_000
    if (!Number.isInteger(partitions) || partitions < 1) {
      return yield* Effect.die(new RangeError(`partitions must be a positive integer, got ${partitions}`))
    }
    if (!/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/.test(prefix)) {
      return yield* Effect.die(new RangeError(`invalid subjectPrefix ${JSON.stringify(prefix)}`))
    }
    /** A partition's subjects (the consumer's filter). */
    const subjectOf = (partition: number) => `${prefix}.${partition}.*`
    const shopSubject = (shop: string, partition: number) => `${prefix}.${partition}.${shopToken(shop)}`
    const partitionOfSubject = (subject: string) => Number(subject.slice(prefix.length + 1).split(".", 1)[0])
    const incarnationName = (partition: number) => `part-${partition}-${crypto.randomUUID().slice(0, 8)}`

    const nc: NatsConnection = yield* Effect.acquireRelease(
      attempt("connect", connectTimeoutMs + 1_000, () =>
        connect({
          servers: options.servers.split(",").map((s) => s.trim()).filter((s) => s.length > 0),
          name: options.name ?? "sumeru-shoplog",
          timeout: connectTimeoutMs,
          reconnect: true,
          maxReconnectAttempts: -1,
          reconnectTimeWait: 1_000,
          // async stack traces cost ~8% of CPU at load (an Error built per publish and ack)
          noAsyncTraces: true
        })),
      (nc) =>
        // Drain flushes pending publishes/acks and closes; bounded, then a hard close.
        Effect.tryPromise(() => nc.drain()).pipe(
          Effect.timeout(5_000),
          Effect.ignore,
          Effect.andThen(Effect.tryPromise(() => nc.close()).pipe(Effect.ignore))
        )
    )
    const jsm: JetStreamManager = yield* attempt("connect", requestTimeoutMs, () =>
      jetstreamManager(nc, { timeout: requestTimeoutMs }))
    const js: JetStreamClient = jetstream(nc, { timeout: requestTimeoutMs })

    // --- stream: create or update, idempotently -------------------------------------------
    const desired = {
      subjects: [`${prefix}.*.*`],
      duplicate_window: nanos(duplicateWindowMs),
      max_age: nanos(MAX_AGE_MS),
      discard: DiscardPolicy.New,
      max_bytes: options.maxBytes ?? -1,
      num_replicas: options.replicas ?? 1
    } satisfies Partial<StreamConfig>
    const differs = (current: StreamConfig) =>
      current.subjects?.length !== 1 || current.subjects[0] !== desired.subjects[0] ||
      current.duplicate_window !== desired.duplicate_window || current.max_age !== desired.max_age ||
      current.discard !== desired.discard || current.max_bytes !== desired.max_bytes ||
      current.num_replicas !== desired.num_replicas
    const ensureStream = Effect.gen(function*() {
      const info = yield* attempt("stream", requestTimeoutMs, () => jsm.streams.info(streamName)).pipe(
        Effect.catchIf((e) => isApiError(JetStreamApiCodes.StreamNotFound)(e.cause), () => Effect.succeed(undefined))
      )
      const existing = info?.config
      if (existing === undefined) {
        // Two processes starting together both land here; the server accepts an identical create.
        yield* attempt("stream", requestTimeoutMs, () =>
          jsm.streams.add({ name: streamName, retention: RetentionPolicy.Workqueue, storage: StorageType.File, ...desired }))
        return
      }
      if (existing.retention !== RetentionPolicy.Workqueue || existing.storage !== StorageType.File) {
        return yield* new ShopLogUnavailable({
          operation: "stream",
          cause: new Error(
            `stream ${streamName} exists with retention=${existing.retention} storage=${existing.storage}; ` +
              "the shop log needs a workqueue/file stream (these cannot be changed in place)"
          )
        })
      }
      const legacy = existing.subjects?.length === 1 && existing.subjects[0] === `${prefix}.*`
      if (legacy && (info?.state.messages ?? 0) > 0) {
        // Messages under the per-partition subjects of earlier versions would match no consumer.
        return yield* new ShopLogUnavailable({
          operation: "stream",
          cause: new Error(
            `stream ${streamName} holds ${info?.state.messages} messages under the per-partition subjects ${prefix}.* of an ` +
              `earlier version; drain it with that version (or purge it) before starting this one (subjects ${prefix}.*.*)`
          )
        })
      }
      if (differs(existing)) yield* attempt("stream", requestTimeoutMs, () => jsm.streams.update(streamName, desired))
    })
    yield* ensureStream

    // --- publish ---------------------------------------------------------------------------
    // The sequence this process last published per shop, and when: the guess of the shop's
    // last sequence (bounded; the oldest entries go first).
    const lastPublished = new Map<string, { readonly sequence: number; readonly at: number }>()
    const guessLast = (shop: string, now: number) => {
      const seen = lastPublished.get(shop)
      return seen !== undefined && now - seen.at < 1_000 ? seen.sequence : 0
    }
    const remember = (shop: string, sequence: number, now: number) => {
      lastPublished.delete(shop)
      lastPublished.set(shop, { sequence, at: now })
      if (lastPublished.size > 10_000) lastPublished.delete(lastPublished.keys().next().value!)
    }

    // One publish per shop at a time in this process (see the header).
    const publishing = new Map<string, { readonly lock: Semaphore.Semaphore; users: number }>()
    const oneAtATime = <A, E>(shop: string, effect: Effect.Effect<A, E>) =>
      Effect.suspend(() => {
        let entry = publishing.get(shop)
        if (entry === undefined) publishing.set(shop, entry = { lock: Semaphore.makeUnsafe(1), users: 0 })
        const held = entry
        held.users++
        return Semaphore.withPermits(held.lock, 1)(effect).pipe(
          Effect.ensuring(Effect.sync(() => {
            if (--held.users === 0) publishing.delete(shop)
          }))
        )
      })

    const publish = (message: ShopMessage): Effect.Effect<PublishAck, ShopLogUnavailable> =>
      oneAtATime(message.shop, Effect.gen(function*() {
        const partition = partitionOf(message.shop, partitions)
        const subject = shopSubject(message.shop, partition)
        const publishedAt = message.publishedAt ?? DateTime.formatIso(yield* DateTime.now)
        const traceparent = message.traceparent ?? (yield* currentTraceparent)
        // A payload JSON cannot represent (bigint, cycles) is a programming error: a defect.
        const body = JSON.stringify({ ...message, publishedAt, traceparent })
        let expected = guessLast(message.shop, Date.now())
        for (let round = 1;; round++) {
          const h = natsHeaders()
          h.set(SHOP_HEADER, message.shop)
          h.set(PREDECESSOR_HEADER, String(expected))
          h.set("Nats-Expected-Last-Subject-Sequence", String(expected))
          const sent = yield* Effect.result(attempt("publish", publishTimeoutMs + 1_000, () =>
            js.publish(subject, body, {
              msgID: `${message.shop}:${message.messageId}`,
              expect: { streamName },
              headers: h,
              timeout: publishTimeoutMs
            })))
          if (Result.isSuccess(sent)) {
            const ack = sent.success
            if (ack.duplicate !== true) remember(message.shop, ack.seq, Date.now())
            return { sequence: ack.seq, duplicate: ack.duplicate === true, partition }
          }
          // Another publish of the shop came first, or its last message was acked meanwhile.
          const actual = wrongLastSequence(sent.failure.cause)
          if (actual === undefined || round >= MAX_CHAIN_ROUNDS) return yield* sent.failure
          expected = actual
        }
      })).pipe(Effect.withSpan("ShopLog.publish", { kind: "producer", attributes: { shop: message.shop, "message.type": message.type } }, noStack))

    // --- consume ---------------------------------------------------------------------------
    const decode = (msg: JsMsg, partition: number): ShopMessage => {
      const raw = textDecoder.decode(msg.data)
      const decoded = decodeWire(raw)
      if (Result.isSuccess(decoded)) {
        const w = decoded.success
        return {
          shop: w.shop,
          messageId: w.messageId,
          type: w.type,
          version: w.version,
          payload: w.payload,
          correlationId: w.correlationId,
          publishedAt: w.publishedAt,
          traceparent: w.traceparent
        }
      }
      const shop = msg.headers?.get(SHOP_HEADER) ?? ""
      const msgId = msg.headers?.get("Nats-Msg-Id") ?? ""
      const messageId = shop !== "" && msgId.startsWith(`${shop}:`)
        ? msgId.slice(shop.length + 1)
        : msgId !== "" ? msgId : `nats:${streamName}:${msg.seq}`
      const payload: UndecodablePayload = { raw, error: String(decoded.failure), subject: msg.subject }
      return { shop, messageId, type: UNDECODABLE_TYPE, payload }
    }

    const toDelivery = (msg: JsMsg, partition: number): Delivery => {
      let acked = false
      const predecessor = Number(msg.headers?.get(PREDECESSOR_HEADER) || NaN)
      return {
        message: decode(msg, partition),
        partition,
        sequence: msg.seq,
        deliveryCount: msg.info.deliveryCount,
        predecessor: Number.isInteger(predecessor) && predecessor >= 0 ? predecessor : undefined,
        // Best effort: a lost +WPI only means the message may be redelivered after ack_wait.
        working: Effect.sync(() => {
          try {
            msg.working()
          } catch {
            // connection closed: nothing to extend any more
          }
        }),
        ack: Effect.suspend(() => {
          if (acked) return Effect.void
          // The library marks a message acked before the server confirms and then refuses to
          // send again; after a failed ackAck, clear that flag so a retry really re-sends.
          const retry = msg as unknown as { didAck?: unknown }
          if (typeof retry.didAck === "boolean") retry.didAck = false
          return attempt("ack", requestTimeoutMs + 1_000, () => msg.ackAck({ timeout: requestTimeoutMs })).pipe(
            Effect.tap(() => Effect.sync(() => (acked = true))),
            Effect.asVoid
          )
        })
      }
    }

    const consume = (partition: number): Effect.Effect<Stream.Stream<Delivery, ShopLogUnavailable>, ShopLogUnavailable, Scope.Scope> =>
      Effect.gen(function*() {
        if (!Number.isInteger(partition) || partition < 0 || partition >= partitions) {
          return yield* Effect.die(new RangeError(`partition ${partition} outside 0..${partitions - 1}`))
        }
        const durable = incarnationName(partition)
        const op = `consume(${partition})`
        // End every earlier incarnation (a WorkQueue stream refuses two consumers on one
        // subject anyway); the new one starts at the oldest unacked message.
        const previous = yield* attempt(op, requestTimeoutMs, async () => {
          const names: Array<string> = []
          for await (const ci of jsm.consumers.list(streamName)) {
            // (an entry may come without its config while the consumer is being deleted)
            const filter = ci?.config?.filter_subject
            // (`${prefix}.${p}`: a consumer of the per-partition subjects of earlier versions)
            if (filter === subjectOf(partition) || filter === `${prefix}.${partition}`) names.push(ci.name)
          }
          return names
        })
        yield* Effect.forEach(previous, (name) =>
          attempt(op, requestTimeoutMs, () => jsm.consumers.delete(streamName, name)).pipe(
            Effect.catchIf((e) => isApiError(JetStreamApiCodes.ConsumerNotFound)(e.cause), () => Effect.succeed(false))
          ), { discard: true })
        const config: Partial<ConsumerConfig> = {
          durable_name: durable,
          filter_subject: subjectOf(partition),
          deliver_policy: DeliverPolicy.All,
          ack_policy: AckPolicy.Explicit,
          replay_policy: ReplayPolicy.Instant,
          ack_wait: nanos(ackWaitMs),
          max_ack_pending: maxAckPending,
          max_deliver: maxDeliver
        }
        const info: ConsumerInfo = yield* attempt(op, requestTimeoutMs, () => jsm.consumers.add(streamName, config))
        const consumer = js.consumers.getConsumerFromInfo(info)

        const queue = yield* Queue.unbounded<Delivery, ShopLogUnavailable | Cause.Done>()
        let arrivals = 0
        let stopping = false
        const messages: ConsumerMessages = yield* Effect.acquireRelease(
          attempt(op, requestTimeoutMs, () =>
            consumer.consume({
              max_messages: Math.max(1, Math.min(maxAckPending, 256)),
              abort_on_missing_resource: true,
              callback: (msg) => {
                arrivals++
                Queue.offerUnsafe(queue, toDelivery(msg, partition))
              }
            })),
          (messages) =>
            Effect.gen(function*() {
              stopping = true
              yield* Effect.tryPromise(() => messages.close()).pipe(Effect.timeout(5_000), Effect.ignore)
              yield* Queue.end(queue)
            })
        )

        // The consumer ending on its own (consumer deleted, not found, connection closed…)
        // means this owner no longer reads the partition: fail, so it re-acquires.
        yield* Effect.forkScoped(
          Effect.promise(() => messages.closed()).pipe(
            Effect.flatMap((err) =>
              stopping
                ? Effect.void
                : Queue.fail(queue, new ShopLogUnavailable({ operation: op, cause: err ?? new Error("consumer stopped") }))
            )
          )
        )
        // Log what the library reports (missed heartbeats, deletions, limits).
        yield* Effect.forkScoped(
          Stream.fromAsyncIterable(messages.status(), (e) => e).pipe(
            Stream.runForEach((n) =>
              n.type === "next" || n.type === "heartbeat" || n.type === "flow_control"
                ? Effect.void
                // a pull that expired or was discarded is routine: the library re-pulls
                : n.type === "discard" || (n.type === "debug" && (n as { code?: number }).code === 408)
                ? Effect.logDebug(`shoplog ${streamName}/${durable}: ${n.type}`, n)
                : Effect.logWarning(`shoplog ${streamName}/${durable}: ${n.type}`, n)
            ),
            Effect.ignore
          )
        )
        if (stallTimeoutMs > 0) {
          yield* Effect.forkScoped(
            stallWatchdog({
              timeoutMs: stallTimeoutMs,
              arrivals: () => arrivals,
              progress: attempt(op, requestTimeoutMs, () => jsm.consumers.info(streamName, durable)).pipe(
                Effect.map((ci): ConsumerProgress => ({
                  numPending: ci.num_pending,
                  numAckPending: ci.num_ack_pending,
                  maxAckPending: ci.config.max_ack_pending ?? maxAckPending,
                  replaced: ci.created !== info.created
                })),
                Effect.catchIf(
                  (e) => isApiError(JetStreamApiCodes.ConsumerNotFound)(e.cause),
                  () => Effect.succeed<ConsumerProgress>({ numPending: 0, numAckPending: 0, maxAckPending, replaced: true })
                )
              )
            }).pipe(
              Effect.flatMap((p) =>
                Queue.fail(queue, new ShopLogUnavailable({
                  operation: op,
                  cause: new Error(
                    p.replaced === true
                      ? "the partition's consumer was replaced or deleted (another owner re-acquired it)"
                      : `stalled: nothing delivered for ${stallTimeoutMs} ms with ${p.numPending} pending ` +
                        `(${p.numAckPending}/${p.maxAckPending} ack-pending)`
                  )
                }))
              )
            )
          )
        }
        return Stream.fromQueue(queue)
      })

    // --- ping / pending --------------------------------------------------------------------
    const ping = attempt("ping", requestTimeoutMs, () => jsm.streams.info(streamName)).pipe(Effect.asVoid)

    // On a WorkQueue stream the messages stored under a partition's subjects are exactly the
    // published-not-acked ones, for every partition (owned or not), in one request.
    const pending = attempt("pending", requestTimeoutMs, () =>
      jsm.streams.info(streamName, { subjects_filter: `${prefix}.*.*` })).pipe(
        Effect.map((si) => {
          const counts = new Map<number, number>()
          for (let p = 0; p < partitions; p++) counts.set(p, 0)
          for (const [subject, n] of Object.entries(si.state.subjects ?? {})) {
            const p = partitionOfSubject(subject)
            if (Number.isInteger(p) && p >= 0) counts.set(p, (counts.get(p) ?? 0) + n)
          }
          return counts as ReadonlyMap<number, number>
        })
      )

    // The first message stored under the partition's subjects is its oldest unacked one.
    const oldestUnacked = (partition: number) =>
      attempt("oldestUnacked", requestTimeoutMs, () =>
        // `next_by_subj` (STREAM.MSG.GET, nats-server ≥ 2.9) is missing from the client's types
        jsm.streams.getMessage(streamName, { seq: 0, next_by_subj: subjectOf(partition) } as unknown as { seq: number })).pipe(
          Effect.map((m) =>
            m === null ? Option.none<UnackedMessage>() : Option.some<UnackedMessage>({
              sequence: m.seq,
              shop: m.header?.get(SHOP_HEADER) ?? "",
              publishedAt: m.time
            })
          )
        )

    const isQueued = (partition: number, sequence: number) =>
      attempt("isQueued", requestTimeoutMs, () => jsm.streams.getMessage(streamName, { seq: sequence })).pipe(
        Effect.map((m) => m !== null && partitionOfSubject(m.subject) === partition)
      )

    return ShopLog.of({ partitions, publish, consume, ping, pending, oldestUnacked, isQueued })
  })

/** Connects, ensures the stream, and closes (drains) the connection when the layer is released. */
export const layer = (options: JetStreamShopLogOptions): Layer.Layer<ShopLog, ShopLogUnavailable> =>
  Layer.effect(ShopLog, make(options))

/**
 * `NATS_URL` (required), `SUMERU_PARTITIONS` (default 64), and optionally `NATS_STREAM` /
 * `NATS_SUBJECT_PREFIX` (several deployments or test runs sharing one NATS server).
 */
export const layerConfig = Layer.unwrap(Effect.gen(function*() {
  const servers = yield* Config.String("NATS_URL")
  const partitions = yield* Config.Int("SUMERU_PARTITIONS").pipe(Config.withDefault(DEFAULT_PARTITIONS))
  const streamName = yield* Config.option(Config.String("NATS_STREAM"))
  const subjectPrefix = yield* Config.option(Config.String("NATS_SUBJECT_PREFIX"))
  return layer({
    servers,
    partitions,
    ...(Option.isSome(streamName) && streamName.value !== "" ? { streamName: streamName.value } : {}),
    ...(Option.isSome(subjectPrefix) && subjectPrefix.value !== "" ? { subjectPrefix: subjectPrefix.value } : {})
  })
}))

