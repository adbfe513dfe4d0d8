/**
 * Where an event recorded from a Shopify webhook came from: the delivery's topic, its event id
 * (Shopify's dedupe key), API version and trigger time. Every event a webhook handler appends
 * carries these fields (the commerce events under `source`, the privacy and lifecycle events
 * spread into their data).
 */
import { Schema } from "effect"

export const WebhookSource = Schema.Struct({
  topic: Schema.String,
  event_id: Schema.NullOr(Schema.String),
  api_version: Schema.NullOr(Schema.String),
  /** `X-Shopify-Triggered-At` as sent, when it was. */
  triggered_at: Schema.NullOr(Schema.String)
})
export type WebhookSource = typeof WebhookSource.Type
