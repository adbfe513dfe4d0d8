/**
 * `AttributionOutbox` (`src/intelligence/AttributionTriggers.ts`) on PostgreSQL: the attributed
 * orders of the `attribution_orders` read model (the current generation's view) that have no row
 * in `intelligence_emissions` yet (`migrations/0016_intelligence_emissions.ts`).
 */
import { Effect, Layer } from "effect"
import { SqlClient } from "effect/sql"
import { AttributionOutbox, attributionKey, type AttributedOrder } from "../../src/intelligence/AttributionTriggers.ts"

interface PendingRow {
  readonly shop: string
  readonly order_id: string
  readonly revenue: number
  readonly currency: string
  readonly converted_at: Date
  readonly shares: Readonly<Record<string, number>> | null
}

export const make = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient

  const pendingOrders = (model: string, since: Date, limit: number) =>
    Effect.map(
      sql<PendingRow>`
        SELECT o.shop, o.order_id, o.revenue, o.currency, o.converted_at, o.credits -> ${model} AS shares
          FROM attribution_orders o
         WHERE o.converted_at >= ${since}
           AND NOT EXISTS (SELECT 1 FROM intelligence_emissions e WHERE e.shop = o.shop AND e.key = 'attribution:' || o.order_id)
         ORDER BY o.converted_at, o.shop, o.order_id
         LIMIT ${limit}`,
      (rows): ReadonlyArray<AttributedOrder> =>
        rows.map((r) => ({
          shop: r.shop,
          orderId: r.order_id,
          revenue: Number(r.revenue),
          currency: r.currency,
          convertedAt: new Date(r.converted_at),
          shares: r.shares ?? {}
        }))
    )

  // before the projector has created the read model (a fresh database) nothing is pending; once
  // it exists it stays, so the check stops
  let ready = false
  const checkReady = Effect.map(sql<{ ready: boolean }>`SELECT to_regclass('attribution_orders') IS NOT NULL AS ready`, ([r]) => (ready = r?.ready === true))

  return AttributionOutbox.of({
    pending: ({ model, since, limit }) =>
      Effect.flatMap(Effect.suspend(() => (ready ? Effect.succeed(true) : checkReady)), (exists) => (exists ? pendingOrders(model, since, limit) : Effect.succeed([]))),
    markEmitted: (orders) =>
      orders.length === 0 ? Effect.void : sql`
        INSERT INTO intelligence_emissions (shop, key)
        SELECT * FROM unnest(${orders.map((o) => o.shop)}::text[], ${orders.map((o) => attributionKey(o.orderId))}::text[])
        ON CONFLICT DO NOTHING`.pipe(Effect.asVoid)
  })
})

export const layer: Layer.Layer<AttributionOutbox, never, SqlClient.SqlClient> = Layer.effect(AttributionOutbox, make)
