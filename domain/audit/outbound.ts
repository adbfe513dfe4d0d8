/**
 * Plain-language audit lines for outbound webhooks (issue 12 §1): subscriptions created, rotated,
 * deleted, failing, recovered and disabled; deliveries dead-lettered and redriven. (Each attempt
 * is in `GET /app/webhook-deliveries`, not the audit.)
 */
import { Result, Schema } from "effect"
import type { RecordedEvent } from "../events/Envelope.ts"
import { DeliveryEvent, SubscriptionEvent } from "../outbound/Webhooks.ts"

const decodeSubscription = Schema.decodeUnknownResult(SubscriptionEvent)
const decodeDelivery = Schema.decodeUnknownResult(DeliveryEvent)

/** The line of an outbound webhook event, or undefined for any other (or an attempt). */
export const describeOutboundEvent = (event: RecordedEvent): string | undefined => {
  if (event.type.startsWith("webhook_subscription.")) {
    const d = decodeSubscription(event.data)
    if (Result.isFailure(d)) return undefined
    const e = d.success
    switch (e.type) {
      case "webhook_subscription.created":
        return `Webhook subscription ${e.subscriptionId} created by ${e.by}: ${e.events.join(", ")} to ${e.url}`
      case "webhook_subscription.secret_rotated":
        return `Webhook subscription ${e.subscriptionId}: secret rotated by ${e.by} (the previous one signs until ${e.previousValidUntil})`
      case "webhook_subscription.deleted":
        return `Webhook subscription ${e.subscriptionId} deleted by ${e.by}`
      case "webhook_subscription.failing":
        return `Webhook subscription ${e.subscriptionId} is failing (since ${e.since})`
      case "webhook_subscription.recovered":
        return `Webhook subscription ${e.subscriptionId} delivers again`
      case "webhook_subscription.disabled":
        return `Webhook subscription ${e.subscriptionId} disabled: ${e.reason}`
    }
  }
  if (event.type === "webhook.dead_lettered" || event.type === "webhook.redriven") {
    const d = decodeDelivery(event.data)
    if (Result.isFailure(d)) return undefined
    const e = d.success
    return e.type === "webhook.dead_lettered"
      ? `Webhook delivery ${e.deliveryId} dead-lettered after ${e.attempts} failed attempts: ${e.lastError}`
      : e.type === "webhook.redriven" ? `Webhook delivery ${e.deliveryId} redriven by ${e.by}` : undefined
  }
  return undefined
}

/** Events that are steps of a delivery, not audit lines. */
export const isDeliveryStep = (type: string): boolean =>
  type === "webhook.delivery_requested" || type === "webhook.attempt_failed" || type === "webhook.delivered"
