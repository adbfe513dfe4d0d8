/**
 * Shopify webhook topics Sumeru models as typed events (everything else is kept raw as
 * `shopify.webhook_received`, never refused), and the mandatory compliance topics, which are
 * configured in `shopify.app.toml` only (they are not part of the Admin API's
 * `WebhookSubscriptionTopic` enum).
 */
export const MODELLED_WEBHOOK_TOPICS = [
  "orders/create",
  "orders/updated",
  "orders/paid",
  "orders/cancelled",
  "orders/fulfilled",
  "products/create",
  "products/update",
  "products/delete",
  "customers/create",
  "customers/update",
  "carts/create",
  "carts/update",
  "checkouts/create",
  "checkouts/update",
  "inventory_levels/update",
  "app/uninstalled",
  "bulk_operations/finish"
] as const
export type ModelledWebhookTopic = typeof MODELLED_WEBHOOK_TOPICS[number]

/**
 * Topics that change the shop's own state (its lifecycle): `app_subscriptions/update` sets the
 * plan, `shop/update` the IANA time zone (`src/webhooks/WebhookHandlers.ts`). Subscribed like the
 * modelled ones; a delivery that says nothing new is kept raw.
 */
export const SHOP_STATE_WEBHOOK_TOPICS = ["app_subscriptions/update", "shop/update"] as const

/** Every topic the app subscribes to in `shopify.app.toml` (besides the compliance topics). */
export const SUBSCRIBED_WEBHOOK_TOPICS: ReadonlyArray<string> = [...MODELLED_WEBHOOK_TOPICS, ...SHOP_STATE_WEBHOOK_TOPICS]

export const COMPLIANCE_TOPICS = ["customers/data_request", "customers/redact", "shop/redact"] as const
export type ComplianceTopic = typeof COMPLIANCE_TOPICS[number]

const modelled: ReadonlySet<string> = new Set([...MODELLED_WEBHOOK_TOPICS, ...COMPLIANCE_TOPICS])
export const isModelledTopic = (topic: string): topic is ModelledWebhookTopic | ComplianceTopic => modelled.has(topic)
