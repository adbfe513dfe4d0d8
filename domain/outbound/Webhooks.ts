/**
 * Outbound webhooks (issue 12 §1, the seed's `000_…` §04), as events and pure decisions:
 *
 * - A shop's subscriptions live on `webhook-subscriptions-<shop>`: created (URL, events, its
 *   secret sealed under the shop's key — shown to the merchant once, never stored in clear),
 *   secret rotated (the previous secret still signs for a grace period, so receivers can switch
 *   without losing deliveries), deleted, failing since / recovered, disabled (an endpoint failing
 *   for days).
 * - Each delivery lives on its own stream `webhook-delivery-<shop>-<deliveryId>`: requested (the
 *   seed's JSON, to one subscription), then per attempt failed (with the next attempt's time) or
 *   delivered; after {@link MAX_ATTEMPTS} failed attempts, dead-lettered; a person may redrive it
 *   (another round of attempts). The delivery id is the `webhook-id` of every attempt, so a
 *   receiver deduplicates retries, and a crash between attempts re-sends under the same id.
 */
import { Result, Schema } from "effect"

/** The events a subscription may ask for. */
export const OUTBOUND_EVENTS = ["autoaction.applied", "autoaction.undone", "autoaction.failed", "ai.budget_threshold_reached"] as const
export type OutboundEvent = typeof OUTBOUND_EVENTS[number]

/** Failed attempts before a delivery is dead-lettered (the figure). */
export const MAX_ATTEMPTS = 4

export const subscriptionsStreamId = (shop: string) => `webhook-subscriptions-${shop}`
export const deliveryStreamId = (shop: string, deliveryId: string) => `webhook-delivery-${shop}-${deliveryId}`

const SealedSecret = Schema.Struct({ sealed: Schema.Literal(1), subject: Schema.String, data: Schema.String })

export const SubscriptionEvent = Schema.Union([
  Schema.Struct({
    type: Schema.Literal("webhook_subscription.created"),
    subscriptionId: Schema.String,
    url: Schema.String,
    events: Schema.Array(Schema.Literals(OUTBOUND_EVENTS)),
    secret: SealedSecret,
    by: Schema.String
  }),
  Schema.Struct({
    type: Schema.Literal("webhook_subscription.secret_rotated"),
    subscriptionId: Schema.String,
    secret: SealedSecret,
    /** Until when the previous secret still signs too (ISO instant). */
    previousValidUntil: Schema.String,
    by: Schema.String
  }),
  Schema.Struct({ type: Schema.Literal("webhook_subscription.deleted"), subscriptionId: Schema.String, by: Schema.String }),
  Schema.Struct({ type: Schema.Literal("webhook_subscription.failing"), subscriptionId: Schema.String, since: Schema.String }),
  Schema.Struct({ type: Schema.Literal("webhook_subscription.recovered"), subscriptionId: Schema.String }),
  Schema.Struct({ type: Schema.Literal("webhook_subscription.disabled"), subscriptionId: Schema.String, reason: Schema.String })
])
export type SubscriptionEvent = typeof SubscriptionEvent.Type
export type SealedSecret = typeof SealedSecret.Type

export const Subscription = Schema.Struct({
  subscriptionId: Schema.String,
  url: Schema.String,
  events: Schema.Array(Schema.String),
  secret: SealedSecret,
  previous: Schema.NullOr(Schema.Struct({ secret: SealedSecret, until: Schema.String })),
  status: Schema.Literals(["active", "disabled", "deleted"]),
  failingSince: Schema.NullOr(Schema.String),
  createdAt: Schema.String
})
export type Subscription = typeof Subscription.Type
export const Subscriptions = Schema.Record(Schema.String, Subscription)
export type Subscriptions = typeof Subscriptions.Type

export const evolveSubscriptions = (state: Subscriptions, e: SubscriptionEvent, at: Date): Subscriptions => {
  const s = state[e.subscriptionId]
  const put = (next: Subscription): Subscriptions => ({ ...state, [e.subscriptionId]: next })
  switch (e.type) {
    case "webhook_subscription.created":
      return put({
        subscriptionId: e.subscriptionId, url: e.url, events: e.events, secret: e.secret, previous: null, status: "active", failingSince: null,
        createdAt: at.toISOString()
      })
    case "webhook_subscription.secret_rotated":
      return s === undefined ? state : put({ ...s, secret: e.secret, previous: { secret: s.secret, until: e.previousValidUntil } })
    case "webhook_subscription.deleted":
      return s === undefined ? state : put({ ...s, status: "deleted" })
    case "webhook_subscription.failing":
      return s === undefined ? state : put({ ...s, failingSince: e.since })
    case "webhook_subscription.recovered":
      return s === undefined ? state : put({ ...s, failingSince: null })
    case "webhook_subscription.disabled":
      return s === undefined ? state : put({ ...s, status: "disabled" })
  }
}

export type SubscriptionCommand =
  | { readonly type: "create"; readonly subscriptionId: string; readonly url: string; readonly events: ReadonlyArray<OutboundEvent>; readonly secret: SealedSecret }
  | { readonly type: "rotate"; readonly subscriptionId: string; readonly secret: SealedSecret; readonly graceMs: number }
  | { readonly type: "delete"; readonly subscriptionId: string }

export type SubscriptionRefusal = { readonly code: "not_found" | "exists"; readonly message: string }

export const decideSubscription = (
  state: Subscriptions,
  command: SubscriptionCommand,
  by: string,
  now: Date
): Result.Result<ReadonlyArray<SubscriptionEvent>, SubscriptionRefusal> => {
  const s = state[command.subscriptionId]
  const live = s !== undefined && s.status !== "deleted"
  switch (command.type) {
    case "create":
      if (s !== undefined) return Result.fail({ code: "exists", message: `subscription ${command.subscriptionId} exists` })
      return Result.succeed([{ type: "webhook_subscription.created", subscriptionId: command.subscriptionId, url: command.url, events: [...command.events], secret: command.secret, by }])
    case "rotate":
      if (!live) return Result.fail({ code: "not_found", message: `subscription ${command.subscriptionId} not found` })
      return Result.succeed([{
        type: "webhook_subscription.secret_rotated", subscriptionId: command.subscriptionId, secret: command.secret,
        previousValidUntil: new Date(now.getTime() + command.graceMs).toISOString(), by
      }])
    case "delete":
      if (!live) return Result.fail({ code: "not_found", message: `subscription ${command.subscriptionId} not found` })
      return Result.succeed([{ type: "webhook_subscription.deleted", subscriptionId: command.subscriptionId, by }])
  }
}

// --- deliveries ---------------------------------------------------------------------------------

/** The seed's JSON (`000_…` §04). */
/** What a delivery about an execution carries (`autoaction.applied|undone|failed`). */
export const ExecutionDeliveryPayload = Schema.Struct({
  event: Schema.String,
  eventId: Schema.String,
  shop: Schema.String,
  ruleId: Schema.String,
  ruleName: Schema.NullOr(Schema.String),
  actionKey: Schema.String,
  resourceType: Schema.String,
  resourceId: Schema.String,
  after: Schema.Unknown,
  occurredAt: Schema.String
})

/** What a delivery about the shop's AI budget carries (`ai.budget_threshold_reached`; money in micro-dollars). */
export const BudgetDeliveryPayload = Schema.Struct({
  event: Schema.Literal("ai.budget_threshold_reached"),
  eventId: Schema.String,
  shop: Schema.String,
  month: Schema.String,
  threshold: Schema.Literals([80, 100]),
  capMicros: Schema.Int,
  spentMicros: Schema.Int,
  reason: Schema.Literals(["settled", "refused"]),
  occurredAt: Schema.String
})

export const DeliveryPayload = Schema.Union([BudgetDeliveryPayload, ExecutionDeliveryPayload])
export type DeliveryPayload = typeof DeliveryPayload.Type

const delivery = { deliveryId: Schema.String, subscriptionId: Schema.String }

export const DeliveryEvent = Schema.Union([
  Schema.Struct({ type: Schema.Literal("webhook.delivery_requested"), ...delivery, event: Schema.String, payload: DeliveryPayload }),
  Schema.Struct({
    type: Schema.Literal("webhook.attempt_failed"),
    ...delivery,
    attempt: Schema.Int,
    status: Schema.NullOr(Schema.Int),
    error: Schema.String,
    /** When the next attempt is due (ISO instant); null when this was the last of its round. */
    nextAttemptAt: Schema.NullOr(Schema.String)
  }),
  Schema.Struct({ type: Schema.Literal("webhook.delivered"), ...delivery, attempt: Schema.Int, status: Schema.Int }),
  Schema.Struct({ type: Schema.Literal("webhook.dead_lettered"), ...delivery, attempts: Schema.Int, lastError: Schema.String }),
  Schema.Struct({ type: Schema.Literal("webhook.redriven"), ...delivery, by: Schema.String })
])
export type DeliveryEvent = typeof DeliveryEvent.Type

export const Delivery = Schema.Union([
  Schema.Struct({ status: Schema.Literal("none") }),
  Schema.Struct({
    status: Schema.Literals(["pending", "delivered", "dead"]),
    deliveryId: Schema.String,
    subscriptionId: Schema.String,
    event: Schema.String,
    payload: DeliveryPayload,
    /** Attempts made in the current round (a redrive starts a new round). */
    attempts: Schema.Int,
    /** Attempts made in all rounds: the number of the next one is this plus one. */
    totalAttempts: Schema.Int
  })
])
export type Delivery = typeof Delivery.Type

export const initialDelivery: Delivery = { status: "none" }

export const evolveDelivery = (state: Delivery, e: DeliveryEvent): Delivery => {
  if (e.type === "webhook.delivery_requested") {
    return { status: "pending", deliveryId: e.deliveryId, subscriptionId: e.subscriptionId, event: e.event, payload: e.payload, attempts: 0, totalAttempts: 0 }
  }
  if (state.status === "none") return state
  switch (e.type) {
    case "webhook.attempt_failed":
      return { ...state, attempts: state.attempts + 1, totalAttempts: state.totalAttempts + 1 }
    case "webhook.delivered":
      return { ...state, status: "delivered", attempts: state.attempts + 1, totalAttempts: state.totalAttempts + 1 }
    case "webhook.dead_lettered":
      return { ...state, status: "dead" }
    case "webhook.redriven":
      return { ...state, status: "pending", attempts: 0 }
  }
}

/** What an attempt found: the receiver's status (2xx is delivered), or why there was none. */
export type AttemptOutcome =
  | { readonly ok: true; readonly status: number }
  | { readonly ok: false; readonly status: number | null; readonly error: string }

/**
 * The delay before the attempt after `failed` failed attempts: exponential (×4) from `baseMs`,
 * with full jitter on the upper half (`random` in [0, 1)), so a burst of failures does not
 * come back as a burst.
 */
export const retryDelayMs = (failed: number, baseMs: number, random: number): number => {
  const ceiling = baseMs * 4 ** (failed - 1)
  return Math.round(ceiling / 2 + (ceiling / 2) * random)
}

/**
 * The events an attempt's outcome leads to: delivered, or failed with the next attempt's time,
 * or — the round's last attempt failing — failed and dead-lettered. Nothing for a stale report
 * (the delivery is no longer pending, or this attempt was already counted).
 */
export const decideAttempt = (
  state: Delivery,
  attempt: number,
  outcome: AttemptOutcome,
  now: Date,
  nextDelayMs: number
): ReadonlyArray<DeliveryEvent> => {
  if (state.status !== "pending" || attempt !== state.totalAttempts + 1) return []
  const base = { deliveryId: state.deliveryId, subscriptionId: state.subscriptionId }
  if (outcome.ok) return [{ type: "webhook.delivered", ...base, attempt, status: outcome.status }]
  const last = state.attempts + 1 >= MAX_ATTEMPTS
  const error = outcome.status === null ? outcome.error : `HTTP ${outcome.status}: ${outcome.error}`
  const failed: DeliveryEvent = {
    type: "webhook.attempt_failed", ...base, attempt, status: outcome.status, error,
    nextAttemptAt: last ? null : new Date(now.getTime() + nextDelayMs).toISOString()
  }
  return last ? [failed, { type: "webhook.dead_lettered", ...base, attempts: state.attempts + 1, lastError: error }] : [failed]
}

/** A person redrives a dead delivery: a new round of attempts. */
export const decideRedrive = (state: Delivery, by: string): Result.Result<ReadonlyArray<DeliveryEvent>, { readonly code: "not_dead"; readonly message: string }> =>
  state.status === "dead"
    ? Result.succeed([{ type: "webhook.redriven", deliveryId: state.deliveryId, subscriptionId: state.subscriptionId, by }])
    : Result.fail({ code: "not_dead", message: state.status === "none" ? "no such delivery" : `only a dead-lettered delivery can be redriven (this one is ${state.status})` })

/**
 * The subscription's health after a delivery's outcome: failing since the first failure after a
 * success, recovered on a success, disabled when a delivery dead-letters and it has been failing
 * for `disableAfterMs` or more (with the reason in plain language).
 */
export const decideHealth = (
  subscription: Subscription | undefined,
  outcome: { readonly delivered: boolean; readonly deadLettered: boolean },
  now: Date,
  disableAfterMs: number
): ReadonlyArray<SubscriptionEvent> => {
  if (subscription === undefined || subscription.status !== "active") return []
  const id = subscription.subscriptionId
  if (outcome.delivered) return subscription.failingSince === null ? [] : [{ type: "webhook_subscription.recovered", subscriptionId: id }]
  const since = subscription.failingSince ?? now.toISOString()
  const out: Array<SubscriptionEvent> = subscription.failingSince === null ? [{ type: "webhook_subscription.failing", subscriptionId: id, since }] : []
  if (outcome.deadLettered && now.getTime() - Date.parse(since) >= disableAfterMs) {
    const days = Math.floor((now.getTime() - Date.parse(since)) / 86_400_000)
    out.push({
      type: "webhook_subscription.disabled", subscriptionId: id,
      reason: `${subscription.url} has failed every delivery since ${since} (${days} day${days === 1 ? "" : "s"}); it was disabled — fix the endpoint and create the subscription again`
    })
  }
  return out
}

/** Which active subscriptions want `event`. */
export const subscribersOf = (state: Subscriptions, event: string): ReadonlyArray<Subscription> =>
  Object.values(state).filter((s) => s.status === "active" && s.events.includes(event))
