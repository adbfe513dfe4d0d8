/**
 * Shopify webhook payloads → Sumeru's typed commerce events (pure).
 *
 * Each modelled topic becomes one event on the entity's own stream
 * (`order-<shop>-<id>`, `product-<shop>-<id>`, …). The event data has two parts:
 * - clear fields: the entity id (exact digits), its GraphQL id, the version time
 *   (`updated_at`, what read models compare so an older delivery never overwrites newer
 *   state), the owning customer id when there is one, and the data-key `subject`;
 * - `record`: the normalised entity plus the raw payload, which the caller seals with the
 *   subject's data key (crypto-shredding: `customers/redact` destroys `customer:<id>`,
 *   `shop/redact` every key of the shop, and the sealed records become unreadable while the
 *   events stay immutable).
 *
 * Subjects: a customer's data is sealed under `customer:<id>`; a guest order or checkout
 * under `order:<id>` / `checkout:<token>` (customers/redact lists the orders to redact);
 * catalogue and inventory data under `shop`.
 *
 * The events' data and the records are described by the schemas of `CommerceEvents.ts`; each
 * reader below is typed against its event type's, so a misspelt field does not compile.
 */
import type {
  CartEventType,
  CheckoutEventType,
  CommerceClear,
  CommerceEventType,
  CommerceRecord,
  CustomerEventType,
  LineItem,
  OrderEventType,
  Person,
  ProductEventType
} from "./CommerceEvents.ts"
import { shopifyId } from "./losslessJson.ts"

export interface WebhookContext {
  readonly shop: string
  /** `X-Shopify-Triggered-At`, if sent. */
  readonly triggeredAt: string | null
  /** When Sumeru received the delivery (ISO). */
  readonly receivedAt: string
}

/** A modelled delivery as one of the event types `T` (see `CommerceEvents.ts` for their data). */
export interface TypedWebhook<T extends CommerceEventType> {
  readonly eventType: T
  readonly streamId: string
  readonly subject: string
  readonly clear: CommerceClear<T>
  /** What gets sealed under `subject`. */
  readonly record: CommerceRecord<T>
}

/** What a reader gets: one of the typed events, whose record's fields can also be read by name. */
type Readable<W extends TypedWebhook<CommerceEventType>> = W & { readonly record: Readonly<Record<string, unknown>> }

export type NormalizedWebhook =
  | Readable<TypedWebhook<OrderEventType>>
  | Readable<TypedWebhook<Exclude<ProductEventType, "product.deleted">>>
  | Readable<TypedWebhook<"product.deleted">>
  | Readable<TypedWebhook<CustomerEventType>>
  | Readable<TypedWebhook<CartEventType>>
  | Readable<TypedWebhook<CheckoutEventType>>
  | Readable<TypedWebhook<"inventory_level.updated">>

export type Normalized =
  | { readonly _tag: "Typed"; readonly value: NormalizedWebhook }
  | { readonly _tag: "Unmodelled" }
  | { readonly _tag: "Invalid"; readonly reason: string }

type Json = Readonly<Record<string, unknown>>

const isObject = (u: unknown): u is Json => typeof u === "object" && u !== null && !Array.isArray(u)
const str = (u: unknown): string | null => (typeof u === "string" ? u : typeof u === "number" ? String(u) : null)
const num = (u: unknown): number | null => {
  if (typeof u === "number" && Number.isFinite(u)) return u
  if (typeof u === "string" && u.trim() !== "" && Number.isFinite(Number(u))) return Number(u)
  return null
}

/** An ISO-8601 UTC instant, or null when absent/unparseable. */
export const isoInstant = (u: unknown): string | null => {
  if (typeof u !== "string") return null
  // Shopify's header uses nanoseconds (`…00.000000000Z`); Date parses milliseconds.
  const trimmed = u.replace(/(\.\d{3})\d+/, "$1")
  const ms = Date.parse(trimmed)
  return Number.isNaN(ms) ? null : new Date(ms).toISOString()
}

/** The version of a delivery: the entity's `updated_at`, else when Shopify fired it, else receipt. */
const versionOf = (payload: Json, ctx: WebhookContext): string =>
  isoInstant(payload["updated_at"]) ?? isoInstant(ctx.triggeredAt) ?? ctx.receivedAt

const customerIdOf = (payload: Json): string | null =>
  isObject(payload["customer"]) ? shopifyId(payload["customer"]["id"]) ?? null : null

const lineItems = (u: unknown): Array<LineItem> =>
  Array.isArray(u)
    ? u.filter(isObject).map((li) => ({
      product_id: shopifyId(li["product_id"]) ?? null,
      variant_id: shopifyId(li["variant_id"]) ?? null,
      quantity: num(li["quantity"]),
      price: str(li["price"]),
      sku: str(li["sku"]),
      title: str(li["title"])
    }))
    : []

const person = (u: unknown): Person | null =>
  isObject(u)
    ? {
      id: shopifyId(u["id"]) ?? null,
      email: str(u["email"]),
      phone: str(u["phone"]),
      first_name: str(u["first_name"]),
      last_name: str(u["last_name"])
    }
    : null

const invalid = (reason: string): Normalized => ({ _tag: "Invalid", reason })
/** Checked against the event type's schemas where it is written (a misspelt field does not compile). */
const typed = <T extends CommerceEventType>(value: TypedWebhook<T>): Normalized => ({ _tag: "Typed", value: value as NormalizedWebhook })

const order = (eventType: OrderEventType, p: Json, ctx: WebhookContext): Normalized => {
  const id = shopifyId(p["id"])
  if (id === undefined) return invalid("the order has no numeric id")
  const customerId = customerIdOf(p)
  return typed<OrderEventType>({
    eventType,
    streamId: `order-${ctx.shop}-${id}`,
    subject: customerId !== null ? `customer:${customerId}` : `order:${id}`,
    clear: { order_id: id, admin_graphql_api_id: str(p["admin_graphql_api_id"]), customer_id: customerId, updated_at: versionOf(p, ctx) },
    record: {
      name: str(p["name"]),
      email: str(p["email"]),
      currency: str(p["currency"]),
      total_price: str(p["total_price"]),
      subtotal_price: str(p["subtotal_price"]),
      total_tax: str(p["total_tax"]),
      financial_status: str(p["financial_status"]),
      fulfillment_status: str(p["fulfillment_status"]),
      created_at: isoInstant(p["created_at"]),
      processed_at: isoInstant(p["processed_at"]),
      cancelled_at: isoInstant(p["cancelled_at"]),
      source_name: str(p["source_name"]),
      landing_site: str(p["landing_site"]),
      referring_site: str(p["referring_site"]),
      tags: str(p["tags"]),
      line_items: lineItems(p["line_items"]),
      customer: person(p["customer"]),
      raw: p
    }
  })
}

/** A product's stream (its numeric id). */
export const productStreamId = (shop: string, productId: string): string => `product-${shop}-${productId}`

const productClear = (id: string, p: Json, ctx: WebhookContext): CommerceClear<ProductEventType> => ({
  product_id: id,
  admin_graphql_api_id: str(p["admin_graphql_api_id"]),
  updated_at: versionOf(p, ctx),
  status: str(p["status"])
})

const product = (eventType: Exclude<ProductEventType, "product.deleted">, p: Json, ctx: WebhookContext): Normalized => {
  const id = shopifyId(p["id"])
  if (id === undefined) return invalid("the product has no numeric id")
  const variants = Array.isArray(p["variants"]) ? p["variants"].filter(isObject) : []
  return typed<Exclude<ProductEventType, "product.deleted">>({
    eventType,
    streamId: productStreamId(ctx.shop, id),
    subject: "shop",
    clear: productClear(id, p, ctx),
    record: {
      title: str(p["title"]),
      handle: str(p["handle"]),
      status: str(p["status"]),
      vendor: str(p["vendor"]),
      product_type: str(p["product_type"]),
      tags: str(p["tags"]),
      published_at: isoInstant(p["published_at"]),
      variants: variants.map((v) => ({
        id: shopifyId(v["id"]) ?? null,
        sku: str(v["sku"]),
        price: str(v["price"]),
        inventory_item_id: shopifyId(v["inventory_item_id"]) ?? null,
        inventory_quantity: num(v["inventory_quantity"])
      })),
      raw: p
    }
  })
}

const productDeleted = (eventType: "product.deleted", p: Json, ctx: WebhookContext): Normalized => {
  const id = shopifyId(p["id"])
  if (id === undefined) return invalid("the product has no numeric id")
  return typed<"product.deleted">({
    eventType,
    streamId: productStreamId(ctx.shop, id),
    subject: "shop",
    clear: productClear(id, p, ctx),
    record: { raw: p }
  })
}

const customer = (eventType: CustomerEventType, p: Json, ctx: WebhookContext): Normalized => {
  const id = shopifyId(p["id"])
  if (id === undefined) return invalid("the customer has no numeric id")
  return typed<CustomerEventType>({
    eventType,
    streamId: `customer-${ctx.shop}-${id}`,
    subject: `customer:${id}`,
    clear: { customer_id: id, admin_graphql_api_id: str(p["admin_graphql_api_id"]), updated_at: versionOf(p, ctx) },
    record: {
      email: str(p["email"]),
      phone: str(p["phone"]),
      first_name: str(p["first_name"]),
      last_name: str(p["last_name"]),
      state: str(p["state"]),
      tags: str(p["tags"]),
      verified_email: typeof p["verified_email"] === "boolean" ? p["verified_email"] : null,
      created_at: isoInstant(p["created_at"]),
      raw: p
    }
  })
}

const cart = (eventType: CartEventType, p: Json, ctx: WebhookContext): Normalized => {
  const token = str(p["token"]) ?? str(p["id"])
  if (token === null || token === "") return invalid("the cart has no token")
  return typed<CartEventType>({
    eventType,
    streamId: `cart-${ctx.shop}-${token}`,
    subject: "shop",
    clear: { cart_token: token, updated_at: versionOf(p, ctx) },
    record: { line_items: lineItems(p["line_items"]), note: str(p["note"]), created_at: isoInstant(p["created_at"]), raw: p }
  })
}

const checkout = (eventType: CheckoutEventType, p: Json, ctx: WebhookContext): Normalized => {
  const token = str(p["token"]) ?? shopifyId(p["id"]) ?? null
  if (token === null || token === "") return invalid("the checkout has no token")
  const customerId = customerIdOf(p)
  return typed<CheckoutEventType>({
    eventType,
    streamId: `checkout-${ctx.shop}-${token}`,
    subject: customerId !== null ? `customer:${customerId}` : `checkout:${token}`,
    clear: { checkout_token: token, checkout_id: shopifyId(p["id"]) ?? null, cart_token: str(p["cart_token"]), customer_id: customerId, updated_at: versionOf(p, ctx) },
    record: {
      email: str(p["email"]),
      currency: str(p["currency"]),
      total_price: str(p["total_price"]),
      completed_at: isoInstant(p["completed_at"]),
      line_items: lineItems(p["line_items"]),
      customer: person(p["customer"]),
      raw: p
    }
  })
}

const inventoryLevel = (eventType: "inventory_level.updated", p: Json, ctx: WebhookContext): Normalized => {
  const item = shopifyId(p["inventory_item_id"])
  const location = shopifyId(p["location_id"])
  if (item === undefined || location === undefined) return invalid("the inventory level lacks inventory_item_id or location_id")
  return typed<"inventory_level.updated">({
    eventType,
    streamId: `inventory-${ctx.shop}-${item}`,
    subject: "shop",
    clear: { inventory_item_id: item, location_id: location, updated_at: versionOf(p, ctx) },
    record: { available: num(p["available"]), raw: p }
  })
}

interface Model {
  readonly eventType: CommerceEventType
  readonly normalize: (payload: Json, ctx: WebhookContext) => Normalized
}

/** A topic's event type and its reader, which only ever produces that type. */
const modelled = <T extends CommerceEventType>(eventType: T, normalize: (eventType: T, payload: Json, ctx: WebhookContext) => Normalized): Model => ({
  eventType,
  normalize: (payload, ctx) => normalize(eventType, payload, ctx)
})

/** Each modelled commerce topic: its event type and how its payload is read. */
const MODELS: Readonly<Record<string, Model>> = {
  "orders/create": modelled("order.created", order),
  "orders/updated": modelled("order.updated", order),
  "orders/paid": modelled("order.paid", order),
  "orders/cancelled": modelled("order.cancelled", order),
  "orders/fulfilled": modelled("order.fulfilled", order),
  "products/create": modelled("product.created", product),
  "products/update": modelled("product.updated", product),
  "products/delete": modelled("product.deleted", productDeleted),
  "customers/create": modelled("customer.created", customer),
  "customers/update": modelled("customer.updated", customer),
  "carts/create": modelled("cart.created", cart),
  "carts/update": modelled("cart.updated", cart),
  "checkouts/create": modelled("checkout.created", checkout),
  "checkouts/update": modelled("checkout.updated", checkout),
  "inventory_levels/update": modelled("inventory_level.updated", inventoryLevel)
}

const eventTypesOf = (prefix: string): ReadonlyArray<string> =>
  Object.values(MODELS).map((m) => m.eventType).filter((t) => t.startsWith(prefix))

export const ORDER_EVENT_TYPES = eventTypesOf("order.")
export const PRODUCT_EVENT_TYPES = eventTypesOf("product.")
export const CUSTOMER_EVENT_TYPES = eventTypesOf("customer.")
/** Every typed event type produced from webhooks. */
export const COMMERCE_EVENT_TYPES: ReadonlyArray<string> = Object.values(MODELS).map((m) => m.eventType)

/** Maps a delivery of a modelled commerce topic to its typed event. */
export const normalizeWebhook = (topic: string, payload: unknown, ctx: WebhookContext): Normalized => {
  const model = MODELS[topic]
  if (model === undefined) return { _tag: "Unmodelled" }
  if (!isObject(payload)) return invalid("the payload is not a JSON object")
  return model.normalize(payload, ctx)
}

/** `customers/data_request` and `customers/redact` payloads (SHOPIFY.md §6). */
export interface CustomerPrivacyRequest {
  readonly customerId: string
  /** Order ids named by the request (`orders_requested` / `orders_to_redact`). */
  readonly orderIds: ReadonlyArray<string>
  /** `data_request.id` (data requests only). */
  readonly requestId: string | null
  /** `customer.phone`, only to find the data sealed under the number (never recorded). */
  readonly phone: string | null
}

export const parseCustomerPrivacyRequest = (payload: unknown): CustomerPrivacyRequest | string => {
  if (!isObject(payload)) return "the payload is not a JSON object"
  const customerId = isObject(payload["customer"]) ? shopifyId(payload["customer"]["id"]) : undefined
  if (customerId === undefined) return "customer.id is missing or not numeric"
  const list = payload["orders_requested"] ?? payload["orders_to_redact"] ?? []
  if (!Array.isArray(list)) return "the order list is not an array"
  const orderIds = list.map(shopifyId)
  if (orderIds.some((o) => o === undefined)) return "an order id is not numeric"
  const request = isObject(payload["data_request"]) ? str(payload["data_request"]["id"]) : null
  const phone = isObject(payload["customer"]) ? str(payload["customer"]["phone"]) : null
  return { customerId, orderIds: orderIds as Array<string>, requestId: request, phone }
}

/** The data-key subjects holding a customer's data: theirs, and their named (guest) orders. */
export const customerSubjects = (request: CustomerPrivacyRequest): ReadonlyArray<string> => [
  `customer:${request.customerId}`,
  ...request.orderIds.map((o) => `order:${o}`)
]
