/**
 * The shop log kept in the database itself (`shop_log`), used when no NATS is configured:
 * what `npm start` runs on. Same contract as JetStream's WorkQueue stream: accepted means
 * committed; acked rows are deleted; re-acquiring a partition replays its unacked rows in
 * order; `(shop, message_id)` is unique while a message is pending.
 *
 * Publishes to one partition are serialized by a transaction-scoped advisory lock, so within
 * a partition sequence order is commit order and a consumer reading `seq > last` can never
 * pass over a late commit.
 *
 * Being in the actor store's database, a message applied by an actor is acked by that commit
 * (`Delivery.ackedByCommit`: `apply_messages` deletes its row); `ack` is left for duplicates
 * and dead letters. Publishes, reads and acks are each batched across partitions, with at most
 * one batch of each in flight on PGlite's single session and two on a server (`BatchGate.ts`).
 */
import { Config, Deferred, Duration, Effect, Exit, Layer, Option, Request, RequestResolver, type Scope, Stream } from "effect"
import { SqlClient } from "effect/sql"
import type { SqlError } from "effect/sql/SqlError"
import { DEFAULT_PARTITIONS, partitionOf } from "../../domain/shop/partition.ts"
import { makeSignal } from "../../src/eventstore/LogWakeups.ts"
import { currentTraceparent, noStack } from "../../src/observability/TraceContext.ts"
import { type Delivery, type PublishAck, ShopLog, ShopLogUnavailable, type ShopMessage, type UnackedMessage } from "../../src/shoplog/ShopLog.ts"
import { batchGateFor } from "../postgres/BatchGate.ts"
import { DatabaseMode } from "../postgres/Database.ts"
import { listenForever } from "../postgres/Listen.ts"

export interface EmbeddedShopLogOptions {
  readonly partitions?: number
  /** Deliveries in flight (delivered, not acked) per partition: JetStream's max_ack_pending. */
  readonly maxInFlight?: number
  readonly batchSize?: number
}

class Ack extends Request.Class<{ readonly seq: number }, void, SqlError> {}
class Poll extends Request.Class<{ readonly partition: number; readonly after: number; readonly limit: number }, ReadonlyArray<Row>, SqlError> {}
class Publish extends Request.Class<{ readonly message: ShopMessage }, PublishAck, SqlError> {}

const unavailable = (operation: string) => (cause: SqlError) => new ShopLogUnavailable({ operation, cause })

interface Row {
  seq: bigint | number
  partition: number
  message: ShopMessage
}

export const make = (options?: EmbeddedShopLogOptions) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const mode = yield* DatabaseMode
    const partitions = options?.partitions ?? DEFAULT_PARTITIONS
    const maxInFlight = options?.maxInFlight ?? 512
    const batchSize = options?.batchSize ?? 256
    // One wake-up per partition: a publish wakes only its partition's consumer.
    const signals = Array.from({ length: partitions }, () => makeSignal())
    const signalOf = (partition: number) => signals[partition] ?? signals[0]!

    // Other processes publish too when the database is a shared PostgreSQL.
    // (re-established after a database restart; each (re)start wakes every partition once)
    if (mode.kind === "postgres") {
      yield* listenForever("sumeru_shoplog", (payload) =>
        payload === undefined
          ? Effect.forEach(signals, (s) => s.notify, { discard: true })
          : signalOf(Number(payload)).notify)
    }

    // Acks of concurrently finishing actors are deleted together: one round trip per batch.
    const ackGate = batchGateFor(mode)
    const ackResolver = RequestResolver.make<Ack>((entries) =>
      ackGate.run(Effect.map(
        sql`DELETE FROM shop_log WHERE seq = ANY(${entries.map((e) => e.request.seq)}::bigint[])`,
        () => { for (const e of entries) e.completeUnsafe(Exit.void) }
      ))
    ).pipe(RequestResolver.setDelayEffect(ackGate.delay), RequestResolver.batchN(1000))

    /**
     * The consumers of every partition read together: one statement fetches each asking
     * partition's next page. A publish of a few messages wakes a few partitions at once, and
     * reading each alone cost a round trip per message.
     */
    const pollGate = batchGateFor(mode)
    const pollResolver = RequestResolver.make<Poll>((entries) =>
      pollGate.run(Effect.map(
        // (by request, not by partition: a partition re-acquired while its old stream still
        // reads asks twice, from different places)
        sql<Row & { i: number }>`
          SELECT p.i::int AS i, p.partition, s.seq, s.message
            FROM unnest(${entries.map((e) => e.request.partition)}::int[], ${entries.map((e) => e.request.after)}::bigint[],
                        ${entries.map((e) => e.request.limit)}::int[]) WITH ORDINALITY AS p(partition, after, lim, i)
            CROSS JOIN LATERAL (
              -- the row comparison keeps a cached generic plan on the (partition, seq) index;
              -- "seq > after" alone was planned as a scan of the primary key filtering by partition
              SELECT l.seq, l.message FROM shop_log l
               WHERE l.partition = p.partition AND (l.partition, l.seq) > (p.partition, p.after)
               ORDER BY l.partition, l.seq LIMIT p.lim
            ) s
           ORDER BY p.i, s.seq`,
        (rows) => {
          const pages = entries.map((): Array<Row> => [])
          for (const row of rows) pages[row.i - 1]!.push(row)
          entries.forEach((e, i) => e.completeUnsafe(Exit.succeed(pages[i]!)))
        }
      ))
    ).pipe(RequestResolver.setDelayEffect(pollGate.delay), RequestResolver.batchN(256))

    /**
     * Publishes of concurrent callers (ingress requests) are inserted together: one
     * statement locks the batch's partitions (in order, so batches never deadlock), inserts
     * in request order, and skips ids still pending (dedupe). Commit = durable = resolved.
     */
    const publishGate = batchGateFor(mode)
    const publishResolver = RequestResolver.make<Publish>((entries) =>
      publishGate.run(Effect.gen(function*() {
        const rows = entries.map((e) => {
          const m = e.request.message
          return { partition: partitionOf(m.shop, partitions), shop: m.shop, id: m.messageId, body: JSON.stringify({ ...m, publishedAt: m.publishedAt ?? new Date().toISOString() }) }
        })
        const touched = [...new Set(rows.map((r) => r.partition))].sort((a, b) => a - b)
        const inserted = yield* sql<{ seq: bigint; shop: string; message_id: string }>`
          WITH locks AS (
            SELECT count(pg_advisory_xact_lock(hashtext('sumeru.shoplog'), p)) AS n
              FROM (SELECT unnest(${touched}::int[]) AS p ORDER BY 1) ordered
          )
          INSERT INTO shop_log (partition, shop, message_id, message)
          SELECT i.partition, i.shop, i.message_id, i.message::jsonb
            FROM unnest(${rows.map((r) => r.partition)}::int[], ${rows.map((r) => r.shop)}::text[],
                        ${rows.map((r) => r.id)}::text[], ${rows.map((r) => r.body)}::text[]) WITH ORDINALITY
                   AS i(partition, shop, message_id, message, ord), locks
           WHERE locks.n >= 0
           ORDER BY i.ord
          ON CONFLICT (shop, message_id) DO NOTHING
          RETURNING seq, shop, message_id`
        if (mode.kind === "postgres" && inserted.length > 0) {
          yield* sql`SELECT pg_notify('sumeru_shoplog', p::text) FROM unnest(${touched}::int[]) AS p`
        }
        const fresh = new Map<string, number>(inserted.map((r) => [`${r.shop}\u0000${r.message_id}`, Number(r.seq)] as const))
        const missing = rows.filter((r) => !fresh.has(`${r.shop}\u0000${r.id}`))
        const existing = missing.length === 0 ? [] : yield* sql<{ seq: bigint; shop: string; message_id: string }>`
          SELECT seq, shop, message_id FROM shop_log
           WHERE (shop, message_id) IN (SELECT * FROM unnest(${missing.map((r) => r.shop)}::text[], ${missing.map((r) => r.id)}::text[]))`
        const old = new Map<string, number>(existing.map((r) => [`${r.shop}\u0000${r.message_id}`, Number(r.seq)] as const))
        const claimed = new Set<string>()
        entries.forEach((e, i) => {
          const key = `${rows[i]!.shop}\u0000${rows[i]!.id}`
          const seq = fresh.get(key)
          // the first request of an id inserted it; a repeat in the same batch is a duplicate
          const first = seq !== undefined && !claimed.has(key)
          claimed.add(key)
          e.completeUnsafe(Exit.succeed({ sequence: first ? seq : (seq ?? old.get(key) ?? 0), duplicate: !first, partition: rows[i]!.partition }))
        })
        if (mode.kind === "embedded") for (const p of touched) yield* signalOf(p).notify
      }))
    ).pipe(RequestResolver.setDelayEffect(publishGate.delay), RequestResolver.batchN(500))

    const publish = (message: ShopMessage) =>
      Effect.flatMap(
        message.traceparent !== undefined ? Effect.succeed(message.traceparent) : currentTraceparent,
        (traceparent) => Effect.request(new Publish({ message: { ...message, traceparent } }), publishResolver)
      ).pipe(
        Effect.mapError(unavailable("publish")),
        Effect.withSpan("ShopLog.publish", { kind: "producer", attributes: { shop: message.shop, "message.type": message.type } }, noStack)
      )

    const consume = (partition: number) =>
      Effect.gen(function*() {
        const signal = signalOf(partition)
        // Deliveries handed out and not yet acked (JetStream's ack-pending count).
        let inFlight = 0
        const ackRow = (seq: number) => Effect.request(new Ack({ seq }), ackResolver).pipe(Effect.mapError(unavailable("ack")))
        const toDelivery = (row: Row): Delivery => {
          const seq = Number(row.seq)
          let acked = false
          const settle = Effect.suspend(() => {
            acked = true
            // only a full window has a consumer waiting for acks
            return inFlight-- >= maxInFlight ? signal.notify : Effect.void
          })
          return {
            message: row.message,
            partition,
            sequence: seq,
            deliveryCount: 1,
            working: Effect.void,
            ack: Effect.suspend(() => (acked ? Effect.void : Effect.andThen(ackRow(seq), settle))),
            // the row went with the actor's commit (same database)
            ackedByCommit: Effect.suspend(() => (acked ? Effect.void : settle))
          }
        }
        interface Cursor {
          readonly last: number
          /** Taken before the previous page's query; set when that page emptied the log. */
          readonly caughtUp: Deferred.Deferred<void> | null
        }
        // Re-acquiring starts from 0: every unacked row is delivered again, in order.
        return Stream.paginate<Cursor, Delivery, ShopLogUnavailable>({ last: 0, caughtUp: null }, (cursor) =>
          Effect.gen(function*() {
            // A short page means the log was empty past it: wait for a publish since then
            // rather than asking again at once (the waiter predates that query: nothing lost).
            if (cursor.caughtUp !== null) yield* Deferred.await(cursor.caughtUp).pipe(Effect.timeoutOption(Duration.seconds(1)))
            for (;;) {
              const waiter = yield* signal.next
              const free = maxInFlight - inFlight
              if (free > 0) {
                const limit = Math.min(batchSize, free)
                const rows = yield* Effect.request(new Poll({ partition, after: cursor.last, limit }), pollResolver).pipe(
                  Effect.mapError(unavailable("consume"))
                )
                if (rows.length > 0) {
                  inFlight += rows.length
                  const next: Cursor = { last: Number(rows[rows.length - 1]!.seq), caughtUp: rows.length < limit ? waiter : null }
                  return [rows.map(toDelivery), Option.some(next)] as const
                }
              }
              // Nothing to deliver (or the in-flight window is full): wait for a publish or
              // an ack; the timeout is only a safety net.
              yield* Deferred.await(waiter).pipe(Effect.timeoutOption(Duration.millis(free > 0 ? 1000 : 20)))
            }
          }))
      }) as Effect.Effect<Stream.Stream<Delivery, ShopLogUnavailable>, ShopLogUnavailable, Scope.Scope>

    const ping = sql`SELECT 1`.pipe(Effect.asVoid, Effect.mapError(unavailable("ping")))

    const pending = sql<{ partition: number; n: number }>`
      SELECT partition, count(*)::int AS n FROM shop_log GROUP BY partition`.pipe(
      Effect.map((rows) => new Map(rows.map((r) => [r.partition, r.n] as const))),
      Effect.mapError(unavailable("pending"))
    )

    const oldestUnacked = (partition: number) =>
      sql<{ seq: bigint | number; shop: string; published_at: Date }>`
        SELECT seq, shop, published_at FROM shop_log WHERE partition = ${partition} ORDER BY seq LIMIT 1`.pipe(
        Effect.map((rows) =>
          Option.map(Option.fromNullishOr(rows[0]), (r): UnackedMessage => ({ sequence: Number(r.seq), shop: r.shop, publishedAt: r.published_at }))
        ),
        Effect.mapError(unavailable("oldestUnacked"))
      )

    const isQueued = (partition: number, sequence: number) =>
      sql<{ one: number }>`SELECT 1 AS one FROM shop_log WHERE seq = ${sequence} AND partition = ${partition}`.pipe(
        Effect.map((rows) => rows.length > 0),
        Effect.mapError(unavailable("isQueued"))
      )

    return ShopLog.of({ partitions, publish, consume, ping, pending, oldestUnacked, isQueued })
  })

export const layer = (options?: EmbeddedShopLogOptions) => Layer.effect(ShopLog, make(options))

export const layerConfig = Layer.unwrap(Effect.gen(function*() {
  const partitions = yield* Config.Int("SUMERU_PARTITIONS").pipe(Config.withDefault(DEFAULT_PARTITIONS))
  return layer({ partitions })
}))
