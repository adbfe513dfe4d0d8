/** A shop's webhook subscriptions and one delivery, folded from their streams (`domain/outbound/Webhooks.ts`). */
import { Result, Schema } from "effect"
import {
  Delivery,
  DeliveryEvent,
  evolveDelivery,
  evolveSubscriptions,
  initialDelivery,
  SubscriptionEvent,
  Subscriptions
} from "../../domain/outbound/Webhooks.ts"
import type { Fold } from "../eventstore/EventStore.ts"

const decodeSubscriptionEvent = Schema.decodeUnknownResult(SubscriptionEvent)
const decodeDeliveryEvent = Schema.decodeUnknownResult(DeliveryEvent)

export const subscriptionsFold: Fold<Subscriptions> = {
  name: "webhook_subscriptions",
  version: 1,
  initial: () => ({}),
  evolve: (state, event) => {
    const e = decodeSubscriptionEvent(event.data)
    return Result.isSuccess(e) ? evolveSubscriptions(state, e.success, event.occurredAt) : state
  },
  schema: Subscriptions
}

export const deliveryFold: Fold<Delivery> = {
  name: "webhook_delivery",
  version: 1,
  initial: () => initialDelivery,
  evolve: (state, event) => {
    const e = decodeDeliveryEvent(event.data)
    return Result.isSuccess(e) ? evolveDelivery(state, e.success) : state
  },
  schema: Delivery
}
