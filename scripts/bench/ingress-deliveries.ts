/**
 * Signed Shopify webhook deliveries for `bench:ingress`: every one a new event (its own
 * `X-Shopify-Event-Id`, hence its own dedupe key `webhook:<topic>:<event id>`), with a
 * realistic 1–2 KB body (`orders/create` with line items, customer and addresses, or
 * `products/update` with variants), over `shops` shops, signed with the app secret over the
 * exact bytes sent. Delivery `i` is a pure function of `i`, so a pool can be generated ahead
 * and extended on the fly without ever repeating an event.
 */
import { createHmac } from "node:crypto"

export interface Delivery {
  /** The message id the route publishes (`webhook:<topic>:<event id>`). */
  readonly messageId: string
  readonly shop: string
  readonly headers: Readonly<Record<string, string>>
  readonly body: Buffer
}

const PRODUCTS = [
  ["Merino Crew Sweater", "merino-crew-sweater", "Apparel", "Northwind Knits", 89.0],
  ["Trail Running Shoe", "trail-running-shoe", "Footwear", "Ridgeline", 139.0],
  ["Ceramic Pour-Over Set", "ceramic-pour-over-set", "Kitchen", "Kiln & Co", 54.5],
  ["Waxed Canvas Tote", "waxed-canvas-tote", "Bags", "Harbor Goods", 72.0],
  ["Organic Cotton Tee", "organic-cotton-tee", "Apparel", "Northwind Knits", 29.0],
  ["Insulated Bottle 750 ml", "insulated-bottle-750", "Outdoor", "Ridgeline", 34.95]
] as const
const FIRST = ["Ada", "Grace", "Linus", "Margaret", "Ken", "Barbara", "Dennis", "Radia", "Tim", "Frances"]
const LAST = ["Lovelace", "Hopper", "Torvalds", "Hamilton", "Thompson", "Liskov", "Ritchie", "Perlman", "Berners-Lee", "Allen"]
const CITIES = [["Berlin", "DE", "10115"], ["Lyon", "FR", "69001"], ["Toronto", "CA", "M5V 2T6"], ["Austin", "US", "73301"], ["Leeds", "GB", "LS1 4AP"]] as const

/** A UUID-shaped id, unique per (tag, n). */
const uuidOf = (tag: number, n: number): string => {
  const hex = n.toString(16).padStart(12, "0")
  return `${tag.toString(16).padStart(8, "0")}-b3c4-4d5e-8f60-${hex.slice(-12)}`
}

const money = (n: number) => n.toFixed(2)

const address = (first: string, last: string, i: number) => {
  const [city, country, zip] = CITIES[i % CITIES.length]!
  return {
    first_name: first, last_name: last, company: null, address1: `${10 + (i % 190)} Market Street`, address2: null,
    city, province: null, country_code: country, zip, phone: `+1555${String(1_000_000 + (i % 8_999_999)).slice(0, 7)}`
  }
}

const orderCreate = (i: number, shopIndex: number, at: string) => {
  const orderId = 5_000_000_000_000 + i
  const customerId = 7_000_000_000_000 + ((i * 7919) % 200_000)
  const first = FIRST[i % FIRST.length]!
  const last = LAST[(i >> 3) % LAST.length]!
  const items = [PRODUCTS[i % PRODUCTS.length]!, PRODUCTS[(i + 2) % PRODUCTS.length]!]
  const lineItems = items.map((p, k) => ({
    id: 13_000_000_000_000 + i * 2 + k,
    product_id: 8_000_000_000_000 + (PRODUCTS.indexOf(p) * 100 + shopIndex),
    variant_id: 9_000_000_000_000 + (PRODUCTS.indexOf(p) * 1000 + shopIndex * 3 + k),
    title: p[0], variant_title: k === 0 ? "M / Charcoal" : "Default Title", sku: `${p[1].toUpperCase().slice(0, 10)}-${k}`,
    vendor: p[3], quantity: 1 + ((i + k) % 3), price: money(p[4]), taxable: true, fulfillment_status: null
  }))
  const subtotal = lineItems.reduce((s, li) => s + Number(li.price) * li.quantity, 0)
  const tax = Math.round(subtotal * 19) / 100
  return {
    id: orderId,
    admin_graphql_api_id: `gid://shopify/Order/${orderId}`,
    name: `#${1001 + i}`, order_number: 1001 + i, email: `${first.toLowerCase()}.${last.toLowerCase()}@example.com`,
    created_at: at, updated_at: at, processed_at: at, cancelled_at: null,
    currency: "EUR", financial_status: "paid", fulfillment_status: null,
    subtotal_price: money(subtotal), total_tax: money(tax), total_price: money(subtotal + tax + 4.9), total_discounts: "0.00",
    taxes_included: false, source_name: "web", tags: "bench, webhook",
    landing_site: "/products/merino-crew-sweater?utm_source=newsletter", referring_site: "https://www.example.com/",
    line_items: lineItems,
    shipping_lines: [{ code: "Standard", title: "Standard", price: "4.90", source: "shopify" }],
    customer: {
      id: customerId, admin_graphql_api_id: `gid://shopify/Customer/${customerId}`,
      email: `${first.toLowerCase()}.${last.toLowerCase()}@example.com`, first_name: first, last_name: last,
      state: "enabled", verified_email: true, tags: ""
    },
    shipping_address: address(first, last, i)
  }
}

const productUpdate = (i: number, shopIndex: number, at: string) => {
  const p = PRODUCTS[i % PRODUCTS.length]!
  const productId = 8_000_000_000_000 + ((i * 31) % 50_000) * 10 + (shopIndex % 10)
  return {
    id: productId,
    admin_graphql_api_id: `gid://shopify/Product/${productId}`,
    title: p[0], handle: p[1], product_type: p[2], vendor: p[3], status: "active",
    body_html: `<p>${p[0]}: made to last, sold by ${p[3]}. Update ${i}.</p>`,
    tags: "bench, catalogue", created_at: "2025-03-01T10:00:00Z", updated_at: at, published_at: "2025-03-02T10:00:00Z",
    variants: ["S", "M", "L"].map((size, k) => ({
      id: productId * 10 + k, admin_graphql_api_id: `gid://shopify/ProductVariant/${productId * 10 + k}`,
      product_id: productId, title: size, sku: `${p[1].toUpperCase().slice(0, 10)}-${size}`, price: money(p[4]),
      compare_at_price: null, position: k + 1, inventory_item_id: productId * 100 + k, inventory_quantity: (i + k * 7) % 120,
      option1: size, taxable: true, barcode: null, weight: 400, weight_unit: "g", updated_at: at
    })),
    options: [{ id: productId * 7, product_id: productId, name: "Size", position: 1, values: ["S", "M", "L"] }]
  }
}

/** Delivery `n` of a run tagged `tag` (topic: two orders for one product update). */
export const makeDelivery = (secret: string, shops: number, tag: number, n: number): Delivery => {
  const shopIndex = (n * 2_654_435_761) % shops // spread consecutive deliveries over the shops
  const shop = `bench-shop-${shopIndex}.myshopify.com`
  const topic = n % 3 === 2 ? "products/update" : "orders/create"
  const at = new Date(Date.UTC(2026, 10, 1) + n * 37).toISOString()
  const payload = topic === "orders/create" ? orderCreate(n, shopIndex, at) : productUpdate(n, shopIndex, at)
  const body = Buffer.from(JSON.stringify(payload))
  const eventId = uuidOf(tag, n)
  return {
    messageId: `webhook:${topic}:${eventId}`,
    shop,
    // frozen: a delivery is sent again in the next mode, exactly as generated
    headers: Object.freeze({
      "Content-Type": "application/json",
      "X-Shopify-Topic": topic,
      "X-Shopify-Shop-Domain": shop,
      "X-Shopify-Api-Version": "2026-07",
      "X-Shopify-Webhook-Id": uuidOf(tag + 1, n),
      "X-Shopify-Event-Id": eventId,
      "X-Shopify-Triggered-At": at.replace("Z", "000000Z"),
      "X-Shopify-Hmac-Sha256": createHmac("sha256", secret).update(body).digest("base64")
    }),
    body
  }
}

/**
 * A source of never-repeating deliveries: the first `poolSize` are generated ahead (so the
 * load generator only picks them up), later ones on demand. `reset` starts over at the first
 * delivery, for a fresh log (a new database or stream) that has seen none of them.
 */
export const makeDeliverySource = (options: { readonly secret: string; readonly shops: number; readonly poolSize: number; readonly tag: number }) => {
  const pool: Array<Delivery> = []
  for (let n = 0; n < options.poolSize; n++) pool.push(makeDelivery(options.secret, options.shops, options.tag, n))
  let cursor = 0
  let generatedOnDemand = 0
  return {
    next: (): Delivery => {
      const n = cursor++
      if (n < pool.length) return pool[n]!
      generatedOnDemand++
      return makeDelivery(options.secret, options.shops, options.tag, n)
    },
    /** Deliveries handed out since the last reset. */
    used: () => cursor,
    /** Of those, how many were generated during the load (beyond the pool). */
    generatedOnDemand: () => generatedOnDemand,
    reset: () => {
      cursor = 0
      generatedOnDemand = 0
    },
    averageBodyBytes: () => pool.length === 0 ? 0 : pool.reduce((s, d) => s + d.body.length, 0) / pool.length
  }
}
export type DeliverySource = ReturnType<typeof makeDeliverySource>
