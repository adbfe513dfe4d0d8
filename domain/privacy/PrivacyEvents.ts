/**
 * The events of Shopify's customer compliance webhooks (`src/privacy/Compliance.ts`), on the
 * shop's `privacy-<shop>` stream, described by `effect/Schema`. They hold ids and counts only,
 * never the e-mail or phone a request carried, and each repeats the delivery's source.
 *
 * - `customer.data_exported`: everything held about a customer was exported (the export
 *   itself is stored sealed beside the events, under the customer's key).
 * - `customer.redacted`: the customer's data keys were destroyed; read models forget them.
 *
 * (`shop.redacted` belongs to the shop's lifecycle: `domain/shop/ShopLifecycle.ts`.)
 *
 * Schemas are structural (types, not business rules) so that stored events keep decoding;
 * unknown fields are ignored.
 */
import { Schema } from "effect"
import type { EventDataSchemas } from "../events/EventData.ts"
import { WebhookSource } from "../shopify/WebhookSource.ts"

const Count = Schema.Int.check(Schema.isGreaterThanOrEqualTo(0))

/** A customer's data export was prepared (`customers/data_request`). */
export const CustomerDataExported = Schema.Struct({
  ...WebhookSource.fields,
  export_id: Schema.String,
  customer_id: Schema.String,
  /** Shopify's `data_request.id`, when the request named one. */
  data_request_id: Schema.NullOr(Schema.String),
  orders_requested: Schema.Array(Schema.String),
  /** How many events the export holds, and its size and SHA-256 as JSON. */
  event_count: Count,
  bytes: Count,
  sha256: Schema.String
})
export type CustomerDataExported = typeof CustomerDataExported.Type

/** A customer's personal data was erased (`customers/redact`). */
export const CustomerRedacted = Schema.Struct({
  ...WebhookSource.fields,
  customer_id: Schema.String,
  /** The orders the request named (guest orders sealed under `order:<id>` are shredded too). */
  order_ids: Schema.Array(Schema.String),
  /** The data-key subjects destroyed: `customer:<id>` and `order:<id>` of each named order. */
  subjects_shredded: Schema.Array(Schema.String)
})
export type CustomerRedacted = typeof CustomerRedacted.Type

/** Each privacy event type and the schema of its data. */
export const PRIVACY_EVENTS = {
  "customer.data_exported": CustomerDataExported,
  "customer.redacted": CustomerRedacted
} as const satisfies EventDataSchemas
export type PrivacyEventType = keyof typeof PRIVACY_EVENTS
export type PrivacyEventData<T extends PrivacyEventType = PrivacyEventType> = (typeof PRIVACY_EVENTS)[T]["Type"]
