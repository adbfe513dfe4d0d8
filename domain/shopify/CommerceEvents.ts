/**
 * The events recorded from Shopify webhooks (see `webhookRecords.ts` for how a delivery
 * becomes one), described by `effect/Schema`:
 *
 * - the commerce events (`order.*`, `product.*`, `customer.created|updated`, `cart.*`,
 *   `checkout.*`, `inventory_level.updated`), one per modelled delivery on the entity's
 *   stream: clear fields (ids, the version time `updated_at`, the owning customer), the data
 *   key's `subject`, the delivery's `source`, and `record` — the normalised entity and the raw
 *   payload, sealed under `subject` ({@link SealedValue}), or `null` when that subject had
 *   already been shredded (a late delivery about a redacted customer keeps its ids only);
 * - `shopify.webhook_received`: a delivery of a topic without a model, or one whose payload
 *   did not fit its model, kept raw (sealed under the shop's key) with the reason.
 *
 * What the sealed records hold once opened is described too (`COMMERCE_RECORDS`), so the
 * read models decode a record before they use it.
 *
 * Schemas are structural (types, not business rules) so that stored events keep decoding;
 * unknown fields are ignored. A breaking change needs a new event version and an upcaster.
 */
import { Schema } from "effect"
import type { EventDataSchemas } from "../events/EventData.ts"
import { SealedOrShredded, SealedValue } from "../privacy/SealedValue.ts"
import { WebhookSource } from "./WebhookSource.ts"

const Text = Schema.NullOr(Schema.String)
const Count = Schema.NullOr(Schema.Number)
/** The delivery's payload as Shopify sent it (ids above 2^53 kept as digit strings). */
const RawPayload = Schema.Record(Schema.String, Schema.Unknown)

// --- what the sealed records hold -----------------------------------------------------------

export const LineItem = Schema.Struct({
  product_id: Text,
  variant_id: Text,
  quantity: Count,
  price: Text,
  sku: Text,
  title: Text
})
export type LineItem = typeof LineItem.Type

/** The customer named by an order or checkout. */
export const Person = Schema.Struct({
  id: Text,
  email: Text,
  phone: Text,
  first_name: Text,
  last_name: Text
})
export type Person = typeof Person.Type

export const OrderRecord = Schema.Struct({
  name: Text,
  email: Text,
  currency: Text,
  total_price: Text,
  subtotal_price: Text,
  total_tax: Text,
  financial_status: Text,
  fulfillment_status: Text,
  created_at: Text,
  processed_at: Text,
  cancelled_at: Text,
  source_name: Text,
  landing_site: Text,
  referring_site: Text,
  tags: Text,
  line_items: Schema.Array(LineItem),
  customer: Schema.NullOr(Person),
  raw: RawPayload
})
export type OrderRecord = typeof OrderRecord.Type

export const ProductVariant = Schema.Struct({
  id: Text,
  sku: Text,
  price: Text,
  inventory_item_id: Text,
  inventory_quantity: Count
})
export type ProductVariant = typeof ProductVariant.Type

export const ProductRecord = Schema.Struct({
  title: Text,
  handle: Text,
  status: Text,
  vendor: Text,
  product_type: Text,
  tags: Text,
  published_at: Text,
  variants: Schema.Array(ProductVariant),
  raw: RawPayload
})
export type ProductRecord = typeof ProductRecord.Type

/** A deleted product's record: Shopify sends little more than its id. */
export const DeletedProductRecord = Schema.Struct({ raw: RawPayload })
export type DeletedProductRecord = typeof DeletedProductRecord.Type

export const CustomerRecord = Schema.Struct({
  email: Text,
  phone: Text,
  first_name: Text,
  last_name: Text,
  state: Text,
  tags: Text,
  verified_email: Schema.NullOr(Schema.Boolean),
  created_at: Text,
  raw: RawPayload
})
export type CustomerRecord = typeof CustomerRecord.Type

export const CartRecord = Schema.Struct({
  line_items: Schema.Array(LineItem),
  note: Text,
  created_at: Text,
  raw: RawPayload
})
export type CartRecord = typeof CartRecord.Type

export const CheckoutRecord = Schema.Struct({
  email: Text,
  currency: Text,
  total_price: Text,
  completed_at: Text,
  line_items: Schema.Array(LineItem),
  customer: Schema.NullOr(Person),
  raw: RawPayload
})
export type CheckoutRecord = typeof CheckoutRecord.Type

export const InventoryLevelRecord = Schema.Struct({
  available: Count,
  raw: RawPayload
})
export type InventoryLevelRecord = typeof InventoryLevelRecord.Type

// --- the events' data ----------------------------------------------------------------------

/** What every commerce event carries beside its entity's clear fields. */
const recorded = {
  /** The data key `record` is sealed under: `customer:<id>`, `order:<id>`, `checkout:<token>` or `shop`. */
  subject: Schema.String,
  source: WebhookSource,
  record: SealedOrShredded
}

/** The entity's clear fields: exact ids, and `updated_at`, the version time read models compare. */
export const OrderClear = Schema.Struct({
  order_id: Schema.String,
  admin_graphql_api_id: Text,
  customer_id: Text,
  updated_at: Schema.String
})
export const ProductClear = Schema.Struct({
  product_id: Schema.String,
  admin_graphql_api_id: Text,
  updated_at: Schema.String,
  /** `active`, `draft`, `archived` — not personal data; kept in clear since the decision plane (older events lack it). */
  status: Schema.optionalKey(Text)
})
export const CustomerClear = Schema.Struct({
  customer_id: Schema.String,
  admin_graphql_api_id: Text,
  updated_at: Schema.String
})
export const CartClear = Schema.Struct({
  cart_token: Schema.String,
  updated_at: Schema.String
})
export const CheckoutClear = Schema.Struct({
  checkout_token: Schema.String,
  checkout_id: Text,
  cart_token: Text,
  customer_id: Text,
  updated_at: Schema.String
})
export const InventoryLevelClear = Schema.Struct({
  inventory_item_id: Schema.String,
  location_id: Schema.String,
  updated_at: Schema.String
})

export const OrderEvent = Schema.Struct({ ...OrderClear.fields, ...recorded })
export type OrderEvent = typeof OrderEvent.Type
export const ProductEvent = Schema.Struct({ ...ProductClear.fields, ...recorded })
export type ProductEvent = typeof ProductEvent.Type
export const CustomerEvent = Schema.Struct({ ...CustomerClear.fields, ...recorded })
export type CustomerEvent = typeof CustomerEvent.Type
export const CartEvent = Schema.Struct({ ...CartClear.fields, ...recorded })
export type CartEvent = typeof CartEvent.Type
export const CheckoutEvent = Schema.Struct({ ...CheckoutClear.fields, ...recorded })
export type CheckoutEvent = typeof CheckoutEvent.Type
export const InventoryLevelEvent = Schema.Struct({ ...InventoryLevelClear.fields, ...recorded })
export type InventoryLevelEvent = typeof InventoryLevelEvent.Type

/** Each commerce event type and the schema of its data. */
export const COMMERCE_EVENTS = {
  "order.created": OrderEvent,
  "order.updated": OrderEvent,
  "order.paid": OrderEvent,
  "order.cancelled": OrderEvent,
  "order.fulfilled": OrderEvent,
  "product.created": ProductEvent,
  "product.updated": ProductEvent,
  "product.deleted": ProductEvent,
  "customer.created": CustomerEvent,
  "customer.updated": CustomerEvent,
  "cart.created": CartEvent,
  "cart.updated": CartEvent,
  "checkout.created": CheckoutEvent,
  "checkout.updated": CheckoutEvent,
  "inventory_level.updated": InventoryLevelEvent
} as const satisfies EventDataSchemas

export type CommerceEventType = keyof typeof COMMERCE_EVENTS
export type OrderEventType = Extract<CommerceEventType, `order.${string}`>
export type ProductEventType = Extract<CommerceEventType, `product.${string}`>
export type CustomerEventType = Extract<CommerceEventType, `customer.${string}`>
export type CartEventType = Extract<CommerceEventType, `cart.${string}`>
export type CheckoutEventType = Extract<CommerceEventType, `checkout.${string}`>

/** The data of commerce event `T`. */
export type CommerceEventData<T extends CommerceEventType = CommerceEventType> = (typeof COMMERCE_EVENTS)[T]["Type"]

/** What the sealed `record` of each commerce event type holds, once opened. */
export const COMMERCE_RECORDS = {
  "order.created": OrderRecord,
  "order.updated": OrderRecord,
  "order.paid": OrderRecord,
  "order.cancelled": OrderRecord,
  "order.fulfilled": OrderRecord,
  "product.created": ProductRecord,
  "product.updated": ProductRecord,
  "product.deleted": DeletedProductRecord,
  "customer.created": CustomerRecord,
  "customer.updated": CustomerRecord,
  "cart.created": CartRecord,
  "cart.updated": CartRecord,
  "checkout.created": CheckoutRecord,
  "checkout.updated": CheckoutRecord,
  "inventory_level.updated": InventoryLevelRecord
} as const satisfies { readonly [T in CommerceEventType]: Schema.Top }

/** The opened record of commerce event `T`. */
export type CommerceRecord<T extends CommerceEventType = CommerceEventType> = (typeof COMMERCE_RECORDS)[T]["Type"]

/** The clear fields of commerce event `T`: its data without what every commerce event carries. */
export type CommerceClear<T extends CommerceEventType = CommerceEventType> = Omit<CommerceEventData<T>, keyof typeof recorded>

// --- deliveries kept raw -------------------------------------------------------------------

/**
 * `shopify.webhook_received` as written now: the delivery's source, the raw payload sealed
 * under the shop's key, and why a modelled topic's payload did not fit its model (`null` for
 * a topic without a model).
 */
export const WebhookKept = Schema.Struct({
  ...WebhookSource.fields,
  subject: Schema.Literal("shop"),
  decode_error: Text,
  payload: SealedValue
})
export type WebhookKept = typeof WebhookKept.Type

/**
 * `shopify.webhook_received` as the first ingress wrote it (before typed commerce events):
 * the delivery message itself, its payload in clear. It has no `subject`.
 */
export const WebhookKeptRaw = Schema.Struct({
  topic: Schema.String,
  event_id: Schema.optionalKey(Text),
  webhook_id: Schema.optionalKey(Text),
  api_version: Schema.optionalKey(Text),
  triggered_at: Schema.optionalKey(Text),
  triggeredAt: Schema.optionalKey(Text),
  received_at: Schema.optionalKey(Text),
  subject: Schema.optionalKey(Schema.Never),
  payload: Schema.Unknown
})
export type WebhookKeptRaw = typeof WebhookKeptRaw.Type

export const WebhookReceived = Schema.Union([WebhookKept, WebhookKeptRaw])
export type WebhookReceived = typeof WebhookReceived.Type

/** Every event type recorded from Shopify webhooks (but privacy and shop lifecycle) and its data's schema. */
export const SHOPIFY_EVENTS = {
  ...COMMERCE_EVENTS,
  "shopify.webhook_received": WebhookReceived
} as const satisfies EventDataSchemas
export type ShopifyEventType = keyof typeof SHOPIFY_EVENTS
