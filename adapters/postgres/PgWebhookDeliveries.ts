/**
 * Reading the `webhook_deliveries` read model (`projections/webhookDeliveries.ts`) for one shop,
 * under row-level security (`asTenant`): what `sumeru webhooks deliveries|redrive` read, the same
 * rows `GET /app/webhook-deliveries` serves. The read model lags the delivery streams by the
 * projector's lag; it exists once a projector has run (`ReadModelNotBuilt` before that).
 */
import { Effect, Option, Schema } from "effect"
import { SqlClient } from "effect/sql"
import { asTenant } from "./Tenancy.ts"

export const DELIVERY_STATUSES = ["pending", "delivered", "dead"] as const
export type DeliveryStatus = typeof DELIVERY_STATUSES[number]

/** The read model's view does not exist yet: no projector has run on this database. */
export class ReadModelNotBuilt extends Schema.TaggedError<ReadModelNotBuilt>()("ReadModelNotBuilt", {
  name: Schema.String,
  message: Schema.String
}) {}

/** One row of `webhook_deliveries`. */
export interface DeliveryRow {
  readonly delivery_id: string
  readonly subscription_id: string
  readonly event: string
  readonly event_id: string
  readonly status: string
  readonly attempts: number
  readonly last_status: number | null
  readonly last_error: string | null
  readonly next_attempt_at: Date | null
  readonly created_at: Date
  readonly updated_at: Date
}

const iso = (d: Date): string => d.toISOString().replace(/\.000Z$/, "Z")

/** A delivery as `GET /app/webhook-deliveries` and `sumeru webhooks deliveries --json` show it. */
export const deliveryJson = (r: DeliveryRow) => ({
  id: r.delivery_id,
  subscription_id: r.subscription_id,
  event: r.event,
  event_id: r.event_id,
  status: r.status,
  attempts: r.attempts,
  last_status: r.last_status,
  last_error: r.last_error,
  next_attempt_at: r.next_attempt_at === null ? null : iso(r.next_attempt_at),
  created_at: iso(r.created_at),
  updated_at: iso(r.updated_at)
})

/** A delivery id longer than this names nothing (ids are UUIDs); it is not sent to the database. */
const MAX_ID_LENGTH = 100

const requireReadModel = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const rows = yield* sql<{ present: boolean }>`SELECT to_regclass('webhook_deliveries') IS NOT NULL AS present`
  if (rows[0]?.present !== true) {
    return yield* new ReadModelNotBuilt({
      name: "webhook_deliveries",
      message: "the webhook_deliveries read model is not built yet: a projector builds it (`sumeru start`)"
    })
  }
})

/**
 * The shop's deliveries, newest first (by creation, then id: a stable order), at most `limit`,
 * with the total that match; `status` null means every status.
 */
export const listDeliveries = (shop: string, q: { readonly status: DeliveryStatus | null; readonly limit: number; readonly offset?: number }) =>
  Effect.gen(function*() {
    yield* requireReadModel
    return yield* asTenant(shop, Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const where = sql`shop = ${shop} AND (${q.status}::text IS NULL OR status = ${q.status}::text)`
      const total = (yield* sql<{ n: number }>`SELECT count(*)::int AS n FROM webhook_deliveries WHERE ${where}`)[0]?.n ?? 0
      const rows = yield* sql<DeliveryRow>`
        SELECT delivery_id, subscription_id, event, event_id, status, attempts, last_status, last_error, next_attempt_at, created_at, updated_at
          FROM webhook_deliveries WHERE ${where}
         ORDER BY created_at DESC, delivery_id DESC LIMIT ${q.limit} OFFSET ${q.offset ?? 0}`
      return { deliveries: rows as ReadonlyArray<DeliveryRow>, total }
    }))
  })

/** One delivery of the shop, if the read model has it (another shop's is never found). */
export const findDelivery = (shop: string, deliveryId: string) =>
  Effect.gen(function*() {
    yield* requireReadModel
    if (deliveryId.length > MAX_ID_LENGTH) return Option.none<DeliveryRow>()
    const rows = yield* asTenant(shop, Effect.flatMap(SqlClient.SqlClient, (sql) =>
      sql<DeliveryRow>`
        SELECT delivery_id, subscription_id, event, event_id, status, attempts, last_status, last_error, next_attempt_at, created_at, updated_at
          FROM webhook_deliveries WHERE shop = ${shop} AND delivery_id = ${deliveryId}`))
    return Option.fromNullishOr(rows[0])
  })
