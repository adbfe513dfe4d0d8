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
 *
 * Each event's data is decoded with its schema (`domain/shopify/CommerceEvents.ts`,
 * `domain/privacy/PrivacyEvents.ts`), and each opened record with its record's schema, before
 * a field is used; an event that does not decode stops the projection at it (`eventData.ts`).
 */
import { Effect, Option, type Schema } from "effect"
import type { SqlError } from "effect/sql/SqlError"
import type { RecordedEvent } from "../domain/events/Envelope.ts"
import { CustomerRedacted } from "../domain/privacy/PrivacyEvents.ts"
import type { SealedOrShredded } from "../domain/privacy/SealedValue.ts"
import {
  CustomerEvent,
  CustomerRecord,
  InventoryLevelEvent,
  InventoryLevelRecord,
  OrderEvent,
  OrderRecord,
  ProductEvent,
  ProductRecord
} from "../domain/shopify/CommerceEvents.ts"
import { CUSTOMER_EVENT_TYPES, ORDER_EVENT_TYPES, PRODUCT_EVENT_TYPES } from "../domain/shopify/webhookRecords.ts"
import type { ApplyContext, Projection } from "../src/projections/Projection.ts"
import { decodeData } from "./eventData.ts"

/**
 * The event's sealed record, opened and decoded with its schema; null when nothing was kept
 * (the subject was already shredded when the event was recorded) or its key has been shredded.
 */
const openRecord = <S extends Schema.Decoder<unknown>>(
  schema: S,
  e: RecordedEvent,
  sealed: SealedOrShredded,
  ctx: ApplyContext
): Effect.Effect<S["Type"] | null, SqlError> =>
  sealed === null
    ? Effect.succeed(null)
    : Effect.flatMap(ctx.open(e.shop, sealed), Option.match({
      onNone: () => Effect.succeed(null),
      onSome: (opened) => decodeData(schema, e, opened, "its sealed record")
    }))

const order = (e: RecordedEvent, ctx: ApplyContext) =>
  Effect.gen(function*() {
    const d = yield* decodeData(OrderEvent, e)
    const r = yield* openRecord(OrderRecord, e, d.record, ctx)
    const t = ctx.sql.unsafe(ctx.table("shopify_orders"))
    const lineItems = r === null ? null : r.line_items.length
    yield* ctx.sql`
      INSERT INTO ${t} (shop, order_id, admin_graphql_api_id, customer_id, name, currency, total_price, financial_status,
                        fulfillment_status, cancelled_at, created_at, line_items, source_name, last_event, updated_at)
      VALUES (${e.shop}, ${d.order_id}, ${d.admin_graphql_api_id}, ${d.customer_id}, ${r?.name ?? null},
              ${r?.currency ?? null}, ${r?.total_price ?? null}::numeric, ${r?.financial_status ?? null}, ${r?.fulfillment_status ?? null},
              ${r?.cancelled_at ?? null}::timestamptz, ${r?.created_at ?? null}::timestamptz, ${lineItems}, ${r?.source_name ?? null},
              ${e.type}, ${d.updated_at}::timestamptz)
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
    const d = yield* decodeData(ProductEvent, e)
    const deleted = e.type === "product.deleted"
    const r = deleted ? null : yield* openRecord(ProductRecord, e, d.record, ctx)
    const variants = r === null ? null : r.variants.length
    const t = ctx.sql.unsafe(ctx.table("shopify_products"))
    yield* ctx.sql`
      INSERT INTO ${t} (shop, product_id, admin_graphql_api_id, title, handle, status, vendor, product_type, variants, deleted, updated_at)
      VALUES (${e.shop}, ${d.product_id}, ${d.admin_graphql_api_id}, ${r?.title ?? null}, ${r?.handle ?? null},
              ${r?.status ?? null}, ${r?.vendor ?? null}, ${r?.product_type ?? null}, ${variants}, ${deleted}, ${d.updated_at}::timestamptz)
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
    const d = yield* decodeData(CustomerEvent, e)
    const r = yield* openRecord(CustomerRecord, e, d.record, ctx)
    const t = ctx.sql.unsafe(ctx.table("shopify_customers"))
    yield* ctx.sql`
      INSERT INTO ${t} (shop, customer_id, admin_graphql_api_id, email, phone, first_name, last_name, state, redacted, updated_at)
      VALUES (${e.shop}, ${d.customer_id}, ${d.admin_graphql_api_id}, ${r?.email ?? null}, ${r?.phone ?? null},
              ${r?.first_name ?? null}, ${r?.last_name ?? null}, ${r?.state ?? null}, false, ${d.updated_at}::timestamptz)
      ON CONFLICT (shop, customer_id) DO UPDATE SET
        admin_graphql_api_id = EXCLUDED.admin_graphql_api_id, email = EXCLUDED.email, phone = EXCLUDED.phone,
        first_name = EXCLUDED.first_name, last_name = EXCLUDED.last_name, state = EXCLUDED.state, updated_at = EXCLUDED.updated_at
      WHERE ${t}.updated_at <= EXCLUDED.updated_at AND NOT ${t}.redacted`
  })

const customerRedacted = (e: RecordedEvent, ctx: ApplyContext) =>
  Effect.gen(function*() {
    const d = yield* decodeData(CustomerRedacted, e)
    const c = ctx.sql.unsafe(ctx.table("shopify_customers"))
    const o = ctx.sql.unsafe(ctx.table("shopify_orders"))
    yield* ctx.sql`
      INSERT INTO ${c} (shop, customer_id, redacted, updated_at) VALUES (${e.shop}, ${d.customer_id}, true, 'infinity')
      ON CONFLICT (shop, customer_id) DO UPDATE SET
        admin_graphql_api_id = NULL, email = NULL, phone = NULL, first_name = NULL, last_name = NULL, state = NULL,
        redacted = true, updated_at = 'infinity'`
    yield* ctx.sql`
      UPDATE ${o} SET customer_id = NULL, customer_redacted = true
       WHERE shop = ${e.shop} AND (customer_id = ${d.customer_id} OR order_id = ANY(${d.order_ids}::text[]))`
  })

const inventoryLevel = (e: RecordedEvent, ctx: ApplyContext) =>
  Effect.gen(function*() {
    const d = yield* decodeData(InventoryLevelEvent, e)
    const r = yield* openRecord(InventoryLevelRecord, e, d.record, ctx)
    const t = ctx.sql.unsafe(ctx.table("shopify_inventory_levels"))
    yield* ctx.sql`
      INSERT INTO ${t} (shop, inventory_item_id, location_id, available, updated_at)
      VALUES (${e.shop}, ${d.inventory_item_id}, ${d.location_id}, ${r?.available ?? null}, ${d.updated_at}::timestamptz)
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
