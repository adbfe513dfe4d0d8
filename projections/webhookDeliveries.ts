/**
 * `webhook_deliveries`: one row per outbound webhook delivery (`domain/outbound/Webhooks.ts`) —
 * its subscription, event, status (`pending`, `delivered`, `dead`), attempts, the last error and
 * when the next attempt is due. What `GET /app/webhook-deliveries` reads.
 */
import { Effect } from "effect"
import { DeliveryEvent } from "../domain/outbound/Webhooks.ts"
import type { Projection } from "../src/projections/Projection.ts"
import { decodeData } from "./eventData.ts"

export const webhookDeliveriesProjection: Projection = {
  name: "webhook_deliveries",
  version: 1,
  eventTypes: ["webhook.delivery_requested", "webhook.attempt_failed", "webhook.delivered", "webhook.dead_lettered", "webhook.redriven"],
  tables: [{
    name: "webhook_deliveries",
    columns: [
      "shop text NOT NULL",
      "delivery_id text NOT NULL",
      "subscription_id text NOT NULL",
      "event text NOT NULL",
      "event_id text NOT NULL",
      "status text NOT NULL",
      "attempts integer NOT NULL",
      "last_status integer",
      "last_error text",
      "next_attempt_at timestamptz",
      "created_at timestamptz NOT NULL",
      "updated_at timestamptz NOT NULL"
    ],
    primaryKey: ["shop", "delivery_id"],
    indexes: [["shop", "status", "created_at"], ["shop", "created_at"]],
    shopColumn: "shop"
  }],
  apply: (events, { sql, table }) =>
    Effect.forEach(events, (e) =>
      Effect.gen(function*() {
        const d = yield* decodeData(DeliveryEvent, e)
        const t = sql.unsafe(table("webhook_deliveries"))
        const at = e.occurredAt.toISOString()
        switch (d.type) {
          case "webhook.delivery_requested":
            yield* sql`
              INSERT INTO ${t} (shop, delivery_id, subscription_id, event, event_id, status, attempts, created_at, updated_at)
              VALUES (${e.shop}, ${d.deliveryId}, ${d.subscriptionId}, ${d.event}, ${d.payload.eventId}, 'pending', 0, ${at}, ${at})
              ON CONFLICT (shop, delivery_id) DO NOTHING`
            return
          case "webhook.attempt_failed":
            yield* sql`
              UPDATE ${t} SET attempts = attempts + 1, last_status = ${d.status}, last_error = ${d.error},
                     next_attempt_at = ${d.nextAttemptAt}::timestamptz, updated_at = ${at}
               WHERE shop = ${e.shop} AND delivery_id = ${d.deliveryId}`
            return
          case "webhook.delivered":
            yield* sql`
              UPDATE ${t} SET status = 'delivered', attempts = attempts + 1, last_status = ${d.status}, next_attempt_at = NULL, updated_at = ${at}
               WHERE shop = ${e.shop} AND delivery_id = ${d.deliveryId}`
            return
          case "webhook.dead_lettered":
            yield* sql`
              UPDATE ${t} SET status = 'dead', last_error = ${d.lastError}, next_attempt_at = NULL, updated_at = ${at}
               WHERE shop = ${e.shop} AND delivery_id = ${d.deliveryId}`
            return
          case "webhook.redriven":
            yield* sql`UPDATE ${t} SET status = 'pending', updated_at = ${at} WHERE shop = ${e.shop} AND delivery_id = ${d.deliveryId}`
            return
        }
      }), { discard: true })
}
