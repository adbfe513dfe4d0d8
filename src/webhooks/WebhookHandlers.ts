/**
 * What the shop actor does with a Shopify webhook (`shopify.webhook` messages from
 * `POST /webhooks/shopify`):
 *
 * - modelled commerce topics (orders, products, customers, carts, checkouts, inventory
 *   levels) → one typed event on the entity's stream, its record sealed under the data key of
 *   its subject (see `domain/shopify/webhookRecords.ts`);
 * - `app/uninstalled` → `shop.uninstalled` on `shop-<shop>`, and the offline token is
 *   discarded — unless the shop re-installed after this uninstall fired (deliveries arrive
 *   late and out of order: a stale uninstall must not discard the new install's token);
 * - `app_subscriptions/update` → `shop.plan_changed`, `shop/update` → `shop.timezone_changed`
 *   (its `iana_timezone`), on `shop-<shop>`, each only when it changes;
 * - compliance topics → `src/privacy/Compliance.ts`;
 * - every other topic, and a modelled topic whose payload does not fit its model → the raw
 *   delivery, sealed under the shop's key, as `shopify.webhook_received` on `webhooks-<shop>`
 *   (never rejected, never lost, replayable once a model exists).
 *
 * The message id is the delivery's dedupe key, so a re-delivery never reaches here twice.
 */
import { Effect, Option } from "effect"
import type { NewEvent } from "../../domain/events/Envelope.ts"
import type { CustomerDataExported, CustomerRedacted } from "../../domain/privacy/PrivacyEvents.ts"
import type { CommerceEventData, WebhookKept } from "../../domain/shopify/CommerceEvents.ts"
import type { WebhookSource } from "../../domain/shopify/WebhookSource.ts"
import { isoInstant, type NormalizedWebhook, normalizeWebhook, parseCustomerPrivacyRequest } from "../../domain/shopify/webhookRecords.ts"
import { productTransition } from "../../domain/automation/ProductStatus.ts"
import type { TriggerEvent } from "../../domain/automation/Triggers.ts"
import { decideLifecycle, planOfSubscription, type ShopLifecycleEvent, timeZoneOfShopUpdate } from "../../domain/shop/ShopLifecycle.ts"
import { RunStarter } from "../automation/ExecutionRunner.ts"
import { decideTrigger, newTrigger } from "../automation/TriggerHandlers.ts"
import { checkoutAbandonmentTimers, orderAbandonmentTimers } from "../intelligence/CartAbandonment.ts"
import { DetectorDefaults, shopDetectorSettings } from "../intelligence/DetectorSettings.ts"
import { productStatusFold } from "./ProductStatusFold.ts"
import { shopStreamId } from "../app/InstallHandlers.ts"
import { shopLifecycleFold } from "../app/ShopLifecycleFold.ts"
import { type Append, type Decision, type HandlerRegistry, PermanentFailure, TransientFailure, type TypedHandlerContext } from "../actors/ShopHandlers.ts"
import { EventSealing } from "../eventstore/EventSealing.ts"
import { EventStore } from "../eventstore/EventStore.ts"
import { exportCustomerData, redactCustomer, redactShop } from "../privacy/Compliance.ts"
import type { PrivacyStore } from "../privacy/PrivacyStore.ts"
import { PiiVault, type Sealed, ShopTokens } from "../secrets/Secrets.ts"

export const privacyStreamId = (shop: string): string => `privacy-${shop}`

/** The checkout an order was placed from (`checkout_token` of its payload), if any. */
const checkoutTokenOf = (raw: Readonly<Record<string, unknown>>): string | null =>
  typeof raw["checkout_token"] === "string" && raw["checkout_token"] !== "" ? raw["checkout_token"] : null

const one = (streamId: string, event: NewEvent): Decision => ({ appends: [{ streamId, expected: "any", events: [event] }] })

/** `{ app_subscription: { name, status } }` of an `app_subscriptions/update` body. */
const subscriptionOf = (payload: unknown): { readonly name: string; readonly status: string } | undefined => {
  const s = typeof payload === "object" && payload !== null ? (payload as { app_subscription?: unknown }).app_subscription : undefined
  if (typeof s !== "object" || s === null) return undefined
  const { name, status } = s as { name?: unknown; status?: unknown }
  return typeof name === "string" && typeof status === "string" ? { name, status } : undefined
}

/** The lifecycle decider's events on the shop's stream. */
const lifecycleAppend = (shop: string, events: ReadonlyArray<ShopLifecycleEvent>): Decision => ({
  appends: [{ streamId: shopStreamId(shop), expected: "any", events: events.map((e) => ({ type: e.type, data: e.data, occurredAt: e.occurredAt })) }]
})

const secretsFailure = (e: { readonly _tag: string; readonly message: string }) =>
  e._tag === "DecryptionFailed"
    ? new PermanentFailure({ reason: `sealed data does not open: ${e.message}` })
    : new TransientFailure({ reason: `secrets unavailable: ${e.message}` })

/** The webhook handlers (requires `PiiVault`, `ShopTokens`, `EventSealing` and `PrivacyStore`). */
export const makeWebhookHandlers = Effect.gen(function*() {
  // the rules' runs a product trigger requests start here after the commit (when this process runs actions)
  const starter = yield* Effect.serviceOption(RunStarter)
  const vault = yield* PiiVault
  const tokens = yield* ShopTokens
  const store = yield* EventStore
  const detectorDefaults = yield* DetectorDefaults
  /** The shop's abandonment window and threshold, as its detector settings say now. */
  const checkoutSettings = (shop: string) =>
    Effect.map(
      shopDetectorSettings(shop).pipe(Effect.provideService(EventStore, store), Effect.provideService(DetectorDefaults, detectorDefaults)),
      (s) => s.effective.cartAbandonment
    )
  // the compliance operations read these services from their context
  const services = Effect.provideContext(yield* Effect.context<PiiVault | ShopTokens | EventSealing | PrivacyStore>())

  /**
   * The `product.published` / `product.drafted` trigger a product delivery makes, if any: its
   * status against the latest version seen on the product's stream (out-of-order safe, see
   * `domain/automation/ProductStatus.ts`); recorded in the same commit as the delivery.
   */
  const productTrigger = (
    shop: string,
    topic: "products/create" | "products/update",
    n: Extract<NormalizedWebhook, { readonly eventType: "product.created" | "product.updated" }>,
    deliveryId: string
  ) =>
    Effect.gen(function*() {
      const { state } = yield* store.loadFold(n.streamId, productStatusFold)
      const status = n.clear.status ?? null
      const event = productTransition(state, { topic, status, updatedAt: n.clear.updated_at })
      if (event === undefined) return undefined
      const tags = (n.record.tags ?? "").split(",").map((t) => t.trim()).filter((t) => t.length > 0)
      const trigger: TriggerEvent = {
        event,
        resources: [{
          resourceType: "product",
          resourceId: n.clear.admin_graphql_api_id ?? `gid://shopify/Product/${n.clear.product_id}`,
          payload: {
            title: n.record.title ?? "",
            vendor: n.record.vendor,
            productType: n.record.product_type,
            tags,
            status: status ?? "",
            previousStatus: state.status,
            updatedAt: n.clear.updated_at
          }
        }]
      }
      return newTrigger(trigger, { kind: "webhook", id: deliveryId })
    })

  const handle = (ctx: TypedHandlerContext<"shopify.webhook">): Effect.Effect<Decision, PermanentFailure | TransientFailure> =>
    Effect.gen(function*() {
      const d = ctx.message.payload
      const triggeredAt = d.triggered_at ?? null
      const receivedAt = d.received_at ?? ctx.message.publishedAt ?? new Date().toISOString()
      const source: WebhookSource = { topic: d.topic, event_id: d.event_id ?? null, api_version: d.api_version ?? null, triggered_at: triggeredAt }
      const occurredAt = new Date(isoInstant(triggeredAt) ?? isoInstant(receivedAt) ?? Date.now())
      const shop = ctx.shop

      const keepRaw = (decodeError: string | null) =>
        Effect.map(vault.seal(shop, "shop", d.payload), (payload) =>
          one(`webhooks-${shop}`, {
            type: "shopify.webhook_received",
            occurredAt,
            data: { ...source, subject: "shop", decode_error: decodeError, payload } satisfies WebhookKept
          }))

      switch (d.topic) {
        case "app/uninstalled": {
          // A re-install after this uninstall fired owns the current token: the lifecycle
          // decider says whether this uninstall is stale (domain/shop/ShopLifecycle.ts).
          const current = yield* tokens.get(shop)
          const { state } = yield* store.loadFold(shopStreamId(shop), shopLifecycleFold)
          const decision = decideLifecycle({
            type: "RecordUninstall",
            source,
            occurredAt,
            tokenInstalledAt: Option.isSome(current) ? current.value.installedAt : null
          }, state)
          if (decision.discardToken) yield* tokens.discard(shop)
          return lifecycleAppend(shop, decision.events)
        }
        case "customers/data_request": {
          const request = parseCustomerPrivacyRequest(d.payload)
          if (typeof request === "string") return yield* keepRaw(request)
          const exported = yield* services(exportCustomerData(shop, request, ctx.message.messageId))
          return one(privacyStreamId(shop), {
            type: "customer.data_exported",
            occurredAt,
            data: {
              ...source,
              export_id: exported.exportId,
              customer_id: exported.customerId,
              data_request_id: exported.dataRequestId,
              orders_requested: request.orderIds,
              event_count: exported.eventCount,
              bytes: exported.bytes,
              sha256: exported.sha256
            } satisfies CustomerDataExported
          })
        }
        case "customers/redact": {
          const request = parseCustomerPrivacyRequest(d.payload)
          if (typeof request === "string") return yield* keepRaw(request)
          const subjects = yield* services(redactCustomer(shop, request))
          return one(privacyStreamId(shop), {
            type: "customer.redacted",
            occurredAt,
            data: { ...source, customer_id: request.customerId, order_ids: request.orderIds, subjects_shredded: subjects } satisfies CustomerRedacted
          })
        }
        case "app_subscriptions/update": {
          // the app's subscription sets the shop's plan (what an action's requiredPlan needs)
          const sub = subscriptionOf(d.payload)
          const plan = sub === undefined ? undefined : planOfSubscription(sub)
          if (sub === undefined || plan === undefined) return yield* keepRaw(sub === undefined ? "no app_subscription name and status" : null)
          const { state } = yield* store.loadFold(shopStreamId(shop), shopLifecycleFold)
          const decided = decideLifecycle({ type: "SetPlan", plan, source: "app_subscription", subscription: sub, occurredAt }, state)
          return decided.events.length === 0 ? yield* keepRaw(null) : lifecycleAppend(shop, decided.events)
        }
        case "shop/update": {
          // the shop's IANA time zone (quiet hours are read in it), recorded when it changes
          const zone = timeZoneOfShopUpdate(d.payload)
          if (zone._tag === "Invalid") yield* Effect.logWarning(`shop/update ignored for the time zone: ${zone.reason}`)
          if (zone._tag !== "Valid") return yield* keepRaw(zone._tag === "Invalid" ? zone.reason : "no iana_timezone")
          const { state } = yield* store.loadFold(shopStreamId(shop), shopLifecycleFold)
          const decided = decideLifecycle({ type: "SetTimeZone", timeZone: zone.timeZone, source: "shop_update", occurredAt }, state)
          return decided.events.length === 0 ? yield* keepRaw(null) : lifecycleAppend(shop, decided.events)
        }
        case "shop/redact": {
          yield* services(redactShop(shop))
          const { state } = yield* store.loadFold(shopStreamId(shop), shopLifecycleFold)
          return lifecycleAppend(shop, decideLifecycle({ type: "RecordRedact", source, occurredAt }, state).events)
        }
      }

      const normalized = normalizeWebhook(d.topic, d.payload, { shop, triggeredAt, receivedAt })
      switch (normalized._tag) {
        case "Unmodelled":
          return yield* keepRaw(null)
        case "Invalid":
          return yield* keepRaw(normalized.reason)
        case "Typed": {
          const n = normalized.value
          // A late delivery about a redacted customer keeps its ids and version, not their data.
          const record = yield* vault.seal(shop, n.subject, n.record).pipe(
            Effect.map((sealed): Sealed | null => sealed),
            Effect.catchTag("SubjectShredded", () => Effect.succeed(null))
          )
          const data: CommerceEventData = { ...n.clear, subject: n.subject, source, record }
          const append: Append = { streamId: n.streamId, expected: "any", events: [{ type: n.eventType, occurredAt, data }] }
          // products/create|update: a status transition is a trigger for the shop's rules
          const trigger = (n.eventType === "product.created" || n.eventType === "product.updated") &&
              (d.topic === "products/create" || d.topic === "products/update")
            ? yield* productTrigger(shop, d.topic, n, ctx.message.messageId)
            : undefined
          // checkouts set, move or cancel their abandonment timer; an order cancels its checkout's
          const timers: Pick<Decision, "schedule" | "cancelTimers"> = n.eventType === "checkout.created" || n.eventType === "checkout.updated"
            ? checkoutAbandonmentTimers(yield* checkoutSettings(shop), {
              token: n.clear.checkout_token, totalPrice: n.record.total_price, currency: n.record.currency,
              completedAt: n.record.completed_at, updatedAt: n.clear.updated_at
            })
            : n.eventType === "order.created" || n.eventType === "order.updated" || n.eventType === "order.paid"
            ? orderAbandonmentTimers(checkoutTokenOf(n.record.raw))
            : {}
          if (trigger === undefined) return { appends: [append], ...timers }
          // the trigger is decided in the same commit: recorded, dispatched to the shop's rules
          const decided = yield* decideTrigger(shop, trigger).pipe(
            Effect.provideService(EventStore, store),
            (e) => (Option.isSome(starter) ? Effect.provideService(e, RunStarter, starter.value) : e)
          )
          return { appends: [append, ...decided.appends], schedule: [...(decided.schedule ?? []), ...(timers.schedule ?? [])], cancelTimers: timers.cancelTimers, afterCommit: decided.afterCommit }
        }
      }
    }).pipe(
      Effect.catchTags({
        SecretsUnavailable: (e) => Effect.fail(secretsFailure(e)),
        // only reachable for an export of a customer who was already redacted: nothing to export
        SubjectShredded: (e) => Effect.fail(new PermanentFailure({ reason: `${e.subject} was redacted; nothing is held to export` })),
        DecryptionFailed: (e) => Effect.fail(secretsFailure(e)),
        SqlError: (e) => Effect.fail(new TransientFailure({ reason: `database: ${e.message}` })),
        PersistenceError: (e) => Effect.fail(new TransientFailure({ reason: `event store: ${e.operation}` }))
      })
    )

  // (messages published as `shopify.webhook_received`, before this type existed, are upcast to
  // it by the catalog)
  return { "shopify.webhook": handle } satisfies Partial<HandlerRegistry>
})
