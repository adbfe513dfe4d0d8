/**
 * The shop log kept in the database itself (`shop_log`), used when no NATS is configured:
 * what `npm start` runs on. Same contract as JetStream's WorkQueue stream: accepted means
 * committed; acked rows are deleted; re-acquiring a partition replays its unacked rows in
 * order; `(shop, message_id)` is unique while a message is pending.
 *
 * Publishes to one partition are serialized by a transaction-scoped advisory lock, so within
 * a partition sequence order is commit order and a consumer reading `seq > last` can never
 * pass over a late commit.
 */
import { PgClient } from "@effect/sql-pg"
import { Config, Deferred, Duration, Effect, Exit, Layer, Option, Queue, Request, RequestResolver, type Scope, Stream } from "effect"
import { SqlClient } from "effect/sql"
import type { SqlError } from "effect/sql/SqlError"
import { DEFAULT_PARTITIONS, partitionOf } from "../../domain/shop/partition.ts"
import { makeSignal } from "../../src/eventstore/LogWakeups.ts"
import { type Delivery, ShopLog, ShopLogUnavailable, type ShopMessage } from "../../src/shoplog/ShopLog.ts"
import { DatabaseMode } from "../postgres/Database.ts"

export interface EmbeddedShopLogOptions {
  readonly partitions?: number
  /** Deliveries in flight (delivered, not acked) per partition: JetStream's max_ack_pending. */
  readonly maxInFlight?: number
  readonly batchSize?: number
}

class Ack extends Request.Class<{ readonly seq: number }, void, SqlError> {}

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
    if (mode.kind === "postgres") {
      const pg = yield* PgClient.PgClient
      const queue = yield* pg.listen("sumeru_shoplog")
      yield* Effect.forkScoped(
        Effect.forever(Effect.flatMap(Queue.take(queue), (n) => signalOf(Number(n.payload)).notify)).pipe(Effect.ignore)
      )
    }

    // Acks of concurrently finishing actors are deleted together: one round trip per batch.
    const ackResolver = RequestResolver.make<Ack>((entries) =>
      Effect.map(
        sql`DELETE FROM shop_log WHERE seq = ANY(${entries.map((e) => e.request.seq)}::bigint[])`,
        () => { for (const e of entries) e.completeUnsafe(Exit.void) }
      )
    ).pipe(RequestResolver.setDelay(Duration.millis(1)), RequestResolver.batchN(1000))

    const publish = (message: ShopMessage) =>
      Effect.gen(function*() {
        const partition = partitionOf(message.shop, partitions)
        const body = { ...message, publishedAt: message.publishedAt ?? new Date().toISOString() }
        // One statement: lock the partition, insert, and (on PostgreSQL) notify other processes.
        const inserted = yield* sql<{ seq: bigint }>`
          WITH ins AS (
            INSERT INTO shop_log (partition, shop, message_id, message)
            SELECT ${partition}, ${message.shop}, ${message.messageId}, ${JSON.stringify(body)}::jsonb
              FROM (SELECT pg_advisory_xact_lock(hashtext('sumeru.shoplog'), ${partition})) AS serialized
            ON CONFLICT (shop, message_id) DO NOTHING
            RETURNING seq
          )
          SELECT seq, CASE WHEN ${mode.kind === "postgres"} THEN pg_notify('sumeru_shoplog', ${String(partition)}) END AS notified
            FROM ins`
        if (inserted.length > 0) {
          if (mode.kind === "embedded") yield* signalOf(partition).notify
          return { sequence: Number(inserted[0]!.seq), duplicate: false, partition }
        }
        const existing = yield* sql<{ seq: bigint }>`
          SELECT seq FROM shop_log WHERE shop = ${message.shop} AND message_id = ${message.messageId}`
        return { sequence: Number(existing[0]?.seq ?? 0), duplicate: true, partition }
      }).pipe(Effect.mapError(unavailable("publish")))

    const consume = (partition: number) =>
      Effect.gen(function*() {
        const signal = signalOf(partition)
        // Deliveries handed out and not yet acked (JetStream's ack-pending count).
        let inFlight = 0
        const ackRow = (seq: number) => Effect.request(new Ack({ seq }), ackResolver).pipe(Effect.mapError(unavailable("ack")))
        const toDelivery = (row: Row): Delivery => {
          const seq = Number(row.seq)
          let acked = false
          return {
            message: row.message,
            partition,
            sequence: seq,
            deliveryCount: 1,
            working: Effect.void,
            ack: Effect.suspend(() => {
              if (acked) return Effect.void
              return Effect.tap(ackRow(seq), () =>
                Effect.suspend(() => {
                  acked = true
                  // only a full window has a consumer waiting for acks
                  return inFlight-- >= maxInFlight ? signal.notify : Effect.void
                }))
            })
          }
        }
        // Re-acquiring starts from 0: every unacked row is delivered again, in order.
        return Stream.paginate(0, (last: number) =>
          Effect.gen(function*() {
            for (;;) {
              const waiter = yield* signal.next
              const free = maxInFlight - inFlight
              if (free > 0) {
                const rows = yield* sql<Row>`
                  SELECT seq, partition, message FROM shop_log
                   WHERE partition = ${partition} AND seq > ${last}
                   ORDER BY seq LIMIT ${Math.min(batchSize, free)}`.pipe(Effect.mapError(unavailable("consume")))
                if (rows.length > 0) {
                  inFlight += rows.length
                  return [rows.map(toDelivery), Option.some(Number(rows[rows.length - 1]!.seq))] as const
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

    return ShopLog.of({ partitions, publish, consume, ping, pending })
  })

export const layer = (options?: EmbeddedShopLogOptions) => Layer.effect(ShopLog, make(options))

export const layerConfig = Layer.unwrap(Effect.gen(function*() {
  const partitions = yield* Config.Int("SUMERU_PARTITIONS").pipe(Config.withDefault(DEFAULT_PARTITIONS))
  return layer({ partitions })
}))
