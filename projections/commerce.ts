/**
 * Commerce read models from Shopify webhooks: `shopify_orders`, `shopify_products`,
 * `shopify_customers`, `shopify_inventory_levels`.
 *
 * Out-of-order deliveries (Shopify does not order webhooks, and retries arrive hours late):
 * every row keeps the version time of the state it shows (`updated_at`), and an event only
 * overwrites a row whose version is not newer (`WHERE row.updated_at <= event.updated_at`).
 * So an older delivery applied after a newer one changes nothing, whatever the log order.
 * Deleted products stay as tombstones with their deletion time, so a late `products/update`
 * cannot resurrect them.
 *
 * Personal data: only `shopify_customers` holds any (e-mail, name, phone), opened from the
 * sealed record. `customer.redacted` replaces the row by a tombstone (`redacted`, no personal
 * data, version +infinity so no late delivery rewrites it) and unlinks the customer's orders;
 * a rebuild after a redaction cannot open the shredded records and writes no personal data.
 * `shop.redacted` is handled by the runner (every shop row deleted).
 */
import { Effect, Option } from "effect"
import type { RecordedEvent } from "../domain/events/Envelope.ts"
import { CUSTOMER_EVENT_TYPES, ORDER_EVENT_TYPES, PRODUCT_EVENT_TYPES } from "../domain/shopify/webhookRecords.ts"
import type { ApplyContext, Projection } from "../src/projections/Projection.ts"

type Data = Readonly<Record<string, unknown>>
const data = (e: RecordedEvent): Data => (typeof e.data === "object" && e.data !== null ? e.data as Data : {})
const s = (u: unknown): string | null => (typeof u === "string" ? u : null)

const openRecord = (e: RecordedEvent, ctx: ApplyContext) =>
  Effect.map(ctx.open(e.shop, data(e)["record"]), (o) => (Option.isSome(o) && typeof o.value === "object" && o.value !== null ? o.value as Data : null))


const order = (e: RecordedEvent, ctx: ApplyContext) =>
  Effect.gen(function*() {
    const d = data(e)
    const r = yield* openRecord(e, ctx)
    const t = ctx.sql.unsafe(ctx.table("shopify_orders"))
    const lineItems = Array.isArray(r?.["line_items"]) ? (r["line_items"] as Array<unknown>).length : null
    yield* ctx.sql`
      INSERT INTO ${t} (shop, order_id, admin_graphql_api_id, customer_id, name, currency, total_price, financial_status,
                        fulfillment_status, cancelled_at, created_at, line_items, source_name, last_event, updated_at)
      VALUES (${e.shop}, ${s(d["order_id"])}, ${s(d["admin_graphql_api_id"])}, ${s(d["customer_id"])}, ${s(r?.["name"])},
              ${s(r?.["currency"])}, ${s(r?.["total_price"])}::numeric, ${s(r?.["financial_status"])}, ${s(r?.["fulfillment_status"])},
              ${s(r?.["cancelled_at"])}::timestamptz, ${s(r?.["created_at"])}::timestamptz, ${lineItems}, ${s(r?.["source_name"])},
              ${e.type}, ${s(d["updated_at"])}::timestamptz)
      ON CONFLICT (shop, order_id) DO UPDATE SET
        admin_graphql_api_id = EXCLUDED.admin_graphql_api_id,
        customer_id = CASE WHEN ${t}.customer_redacted THEN NULL ELSE EXCLUDED.customer_id END,
        name = EXCLUDED.name, currency = EXCLUDED.currency, total_price = EXCLUDED.total_price,
        financial_status = EXCLUDED.financial_status, fulfillment_status = EXCLUDED.fulfillment_status,
        cancelled_at = EXCLUDED.cancelled_at, created_at = COALESCE(${t}.created_at, EXCLUDED.created_at),
        line_items = EXCLUDED.line_items, source_name = EXCLUDED.source_name, last_event = EXCLUDED.last_event,
        updated_at = EXCLUDED.updated_at
      WHERE ${t}.updated_at <= EXCLUDED.updated_at`
  })

const product = (e: RecordedEvent, ctx: ApplyContext) =>
  Effect.gen(function*() {
    const d = data(e)
    const deleted = e.type === "product.deleted"
    const r = deleted ? null : yield* openRecord(e, ctx)
    const variants = Array.isArray(r?.["variants"]) ? (r["variants"] as Array<unknown>).length : null
    const t = ctx.sql.unsafe(ctx.table("shopify_products"))
    yield* ctx.sql`
      INSERT INTO ${t} (shop, product_id, admin_graphql_api_id, title, handle, status, vendor, product_type, variants, deleted, updated_at)
      VALUES (${e.shop}, ${s(d["product_id"])}, ${s(d["admin_graphql_api_id"])}, ${s(r?.["title"])}, ${s(r?.["handle"])},
              ${s(r?.["status"])}, ${s(r?.["vendor"])}, ${s(r?.["product_type"])}, ${variants}, ${deleted}, ${s(d["updated_at"])}::timestamptz)
      ON CONFLICT (shop, product_id) DO UPDATE SET
        admin_graphql_api_id = COALESCE(EXCLUDED.admin_graphql_api_id, ${t}.admin_graphql_api_id),
        title = CASE WHEN EXCLUDED.deleted THEN ${t}.title ELSE EXCLUDED.title END,
        handle = CASE WHEN EXCLUDED.deleted THEN ${t}.handle ELSE EXCLUDED.handle END,
        status = CASE WHEN EXCLUDED.deleted THEN ${t}.status ELSE EXCLUDED.status END,
        vendor = CASE WHEN EXCLUDED.deleted THEN ${t}.vendor ELSE EXCLUDED.vendor END,
        product_type = CASE WHEN EXCLUDED.deleted THEN ${t}.product_type ELSE EXCLUDED.product_type END,
        variants = CASE WHEN EXCLUDED.deleted THEN ${t}.variants ELSE EXCLUDED.variants END,
        deleted = EXCLUDED.deleted, updated_at = EXCLUDED.updated_at
      WHERE ${t}.updated_at <= EXCLUDED.updated_at`
  })

const customer = (e: RecordedEvent, ctx: ApplyContext) =>
  Effect.gen(function*() {
    const d = data(e)
    const r = yield* openRecord(e, ctx)
    const t = ctx.sql.unsafe(ctx.table("shopify_customers"))
    yield* ctx.sql`
      INSERT INTO ${t} (shop, customer_id, admin_graphql_api_id, email, phone, first_name, last_name, state, redacted, updated_at)
      VALUES (${e.shop}, ${s(d["customer_id"])}, ${s(d["admin_graphql_api_id"])}, ${s(r?.["email"])}, ${s(r?.["phone"])},
              ${s(r?.["first_name"])}, ${s(r?.["last_name"])}, ${s(r?.["state"])}, false, ${s(d["updated_at"])}::timestamptz)
      ON CONFLICT (shop, customer_id) DO UPDATE SET
        admin_graphql_api_id = EXCLUDED.admin_graphql_api_id, email = EXCLUDED.email, phone = EXCLUDED.phone,
        first_name = EXCLUDED.first_name, last_name = EXCLUDED.last_name, state = EXCLUDED.state, updated_at = EXCLUDED.updated_at
      WHERE ${t}.updated_at <= EXCLUDED.updated_at AND NOT ${t}.redacted`
  })

const customerRedacted = (e: RecordedEvent, ctx: ApplyContext) =>
  Effect.gen(function*() {
    const d = data(e)
    const id = s(d["customer_id"])
    const orders = Array.isArray(d["order_ids"]) ? (d["order_ids"] as Array<unknown>).filter((o) => typeof o === "string") as Array<string> : []
    const c = ctx.sql.unsafe(ctx.table("shopify_customers"))
    const o = ctx.sql.unsafe(ctx.table("shopify_orders"))
    yield* ctx.sql`
      INSERT INTO ${c} (shop, customer_id, redacted, updated_at) VALUES (${e.shop}, ${id}, true, 'infinity')
      ON CONFLICT (shop, customer_id) DO UPDATE SET
        admin_graphql_api_id = NULL, email = NULL, phone = NULL, first_name = NULL, last_name = NULL, state = NULL,
        redacted = true, updated_at = 'infinity'`
    yield* ctx.sql`
      UPDATE ${o} SET customer_id = NULL, customer_redacted = true
       WHERE shop = ${e.shop} AND (customer_id = ${id} OR order_id = ANY(${orders}::text[]))`
  })

const inventoryLevel = (e: RecordedEvent, ctx: ApplyContext) =>
  Effect.gen(function*() {
    const d = data(e)
    const r = yield* openRecord(e, ctx)
    const available = typeof r?.["available"] === "number" ? r["available"] : null
    const t = ctx.sql.unsafe(ctx.table("shopify_inventory_levels"))
    yield* ctx.sql`
      INSERT INTO ${t} (shop, inventory_item_id, location_id, available, updated_at)
      VALUES (${e.shop}, ${s(d["inventory_item_id"])}, ${s(d["location_id"])}, ${available}, ${s(d["updated_at"])}::timestamptz)
      ON CONFLICT (shop, inventory_item_id, location_id) DO UPDATE SET available = EXCLUDED.available, updated_at = EXCLUDED.updated_at
      WHERE ${t}.updated_at <= EXCLUDED.updated_at`
  })

export const commerceProjection: Projection = {
  name: "commerce",
  version: 1,
  eventTypes: [...ORDER_EVENT_TYPES, ...PRODUCT_EVENT_TYPES, ...CUSTOMER_EVENT_TYPES, "customer.redacted", "inventory_level.updated"],
  tables: [
    {
      name: "shopify_orders",
      columns: [
        "shop text NOT NULL",
        "order_id text NOT NULL",
        "admin_graphql_api_id text",
        "customer_id text",
        "customer_redacted boolean NOT NULL DEFAULT false",
        "name text",
        "currency text",
        "total_price numeric",
        "financial_status text",
        "fulfillment_status text",
        "cancelled_at timestamptz",
        "created_at timestamptz",
        "line_items integer",
        "source_name text",
        "last_event text NOT NULL",
        "updated_at timestamptz NOT NULL"
      ],
      primaryKey: ["shop", "order_id"],
      indexes: [["shop", "customer_id"], ["shop", "updated_at"]],
      shopColumn: "shop"
    },
    {
      name: "shopify_products",
      columns: [
        "shop text NOT NULL",
        "product_id text NOT NULL",
        "admin_graphql_api_id text",
        "title text",
        "handle text",
        "status text",
        "vendor text",
        "product_type text",
        "variants integer",
        "deleted boolean NOT NULL",
        "updated_at timestamptz NOT NULL"
      ],
      primaryKey: ["shop", "product_id"],
      shopColumn: "shop"
    },
    {
      name: "shopify_customers",
      columns: [
        "shop text NOT NULL",
        "customer_id text NOT NULL",
        "admin_graphql_api_id text",
        "email text",
        "phone text",
        "first_name text",
        "last_name text",
        "state text",
        "redacted boolean NOT NULL",
        "updated_at timestamptz NOT NULL"
      ],
      primaryKey: ["shop", "customer_id"],
      shopColumn: "shop"
    },
    {
      name: "shopify_inventory_levels",
      columns: ["shop text NOT NULL", "inventory_item_id text NOT NULL", "location_id text NOT NULL", "available integer", "updated_at timestamptz NOT NULL"],
      primaryKey: ["shop", "inventory_item_id", "location_id"],
      shopColumn: "shop"
    }
  ],
  // One statement per event, in log order: the version guard needs each row's latest state.
  apply: (events, ctx) =>
    Effect.forEach(events, (e) => {
      if (ORDER_EVENT_TYPES.includes(e.type)) return order(e, ctx)
      if (PRODUCT_EVENT_TYPES.includes(e.type)) return product(e, ctx)
      if (CUSTOMER_EVENT_TYPES.includes(e.type)) return customer(e, ctx)
      if (e.type === "customer.redacted") return customerRedacted(e, ctx)
      if (e.type === "inventory_level.updated") return inventoryLevel(e, ctx)
      return Effect.void
    }, { discard: true })
}
