/**
 * The events public ingestion records (`src/ingest/IngestHandlers.ts`), described by
 * `effect/Schema`:
 *
 * - `<type>.recorded` for each external event (`ad_spend.recorded`, `seo_ranking.recorded`,
 *   `conversion.recorded`, `custom_event.recorded`, see {@link recordedEventType}) on
 *   `external-<shop>-<type>`: the event as validated (its `type` included) plus
 *   `source_key_id`, the API key that sent it. A conversion naming a customer keeps its
 *   customer and order ids sealed under the customer's key (`identifying`, `null` when the
 *   customer had been redacted) beside a clear `subject`.
 * - `touchpoint.recorded` on `touchpoints-<shop>`: the touchpoint's clear facts
 *   ({@link TouchpointFacts}), the `subject` its identifiers are sealed under (`customer:<id>`
 *   or `shop`) and those identifiers sealed (`identifying`, `null` once the customer was
 *   redacted).
 *
 * These are described as readers get them: the event store also seals them under the shop's
 * key, which it opens before any reader sees the data. Schemas are structural (types, not the
 * ingress's validation rules: lengths, URL and currency checks) so that stored events keep
 * decoding when those rules change; unknown fields are ignored.
 */
import { Schema } from "effect"
import type { EventDataSchemas } from "../events/EventData.ts"
import { SealedOrShredded } from "../privacy/SealedValue.ts"
import { AD_PLATFORMS, type ExternalEventType, recordedEventType } from "./ExternalEvents.ts"
import { TouchpointFacts } from "./Touchpoint.ts"

/** Absent or `null`: an optional field of the ingest API, stored as it was received. */
const optional = <S extends Schema.Top>(schema: S) => Schema.optionalKey(Schema.NullOr(schema))

const recorded = {
  idempotency_key: Schema.String,
  /** UTC, with milliseconds (`2026-03-01T10:00:00.000Z`). */
  occurred_at: Schema.String,
  /** The id of the API key that sent the event. */
  source_key_id: Schema.String
}

export const AdSpendRecorded = Schema.Struct({
  ...recorded,
  type: Schema.Literal("ad_spend"),
  platform: Schema.Literals(AD_PLATFORMS),
  account_id: Schema.String,
  campaign_id: Schema.String,
  campaign_name: optional(Schema.String),
  /** `YYYY-MM-DD`. */
  date: Schema.String,
  /** A decimal string (`"12.50"`). */
  spend: Schema.String,
  currency: Schema.String,
  impressions: optional(Schema.Number),
  clicks: optional(Schema.Number),
  conversions: optional(Schema.Number)
})
export type AdSpendRecorded = typeof AdSpendRecorded.Type

export const SeoRankingRecorded = Schema.Struct({
  ...recorded,
  type: Schema.Literal("seo_ranking"),
  keyword: Schema.String,
  url: Schema.String,
  position: Schema.Number,
  search_engine: Schema.String,
  country: optional(Schema.String),
  date: Schema.String
})
export type SeoRankingRecorded = typeof SeoRankingRecorded.Type

/**
 * A conversion: with `customer_id` and `order_id` in clear when no customer was named; with a
 * customer, those two sealed in `identifying` under `subject` (`customer:<id>`) instead.
 */
export const ConversionRecorded = Schema.Struct({
  ...recorded,
  type: Schema.Literal("conversion"),
  name: Schema.String,
  value: optional(Schema.String),
  currency: optional(Schema.String),
  order_id: optional(Schema.String),
  customer_id: optional(Schema.String),
  subject: Schema.optionalKey(Schema.String),
  identifying: Schema.optionalKey(SealedOrShredded)
})
export type ConversionRecorded = typeof ConversionRecorded.Type

export const CustomEventRecorded = Schema.Struct({
  ...recorded,
  type: Schema.Literal("custom"),
  name: Schema.String,
  properties: Schema.Record(Schema.String, Schema.Unknown)
})
export type CustomEventRecorded = typeof CustomEventRecorded.Type

export const TouchpointRecorded = Schema.Struct({
  ...TouchpointFacts.fields,
  /** The key `identifying` is sealed under: `customer:<id>` when the customer is known, else `shop`. */
  subject: Schema.String,
  /** URL with its query, referrer, click id values, client/session/customer ids; sealed. */
  identifying: SealedOrShredded
})
export type TouchpointRecorded = typeof TouchpointRecorded.Type

/** The recorded event of each external event type. */
export const EXTERNAL_RECORDED_EVENTS = {
  [recordedEventType.ad_spend]: AdSpendRecorded,
  [recordedEventType.seo_ranking]: SeoRankingRecorded,
  [recordedEventType.conversion]: ConversionRecorded,
  [recordedEventType.custom]: CustomEventRecorded
} as const

/** Each event type public ingestion records and the schema of its data. */
export const RECORDED_EVENTS = {
  ...EXTERNAL_RECORDED_EVENTS,
  "touchpoint.recorded": TouchpointRecorded
} as const satisfies EventDataSchemas
export type RecordedEventType = keyof typeof RECORDED_EVENTS
export type RecordedEventData<T extends RecordedEventType = RecordedEventType> = (typeof RECORDED_EVENTS)[T]["Type"]

/** The data recorded for an external event of type `K`. */
export type ExternalRecordedData<K extends ExternalEventType = ExternalEventType> = RecordedEventData<(typeof recordedEventType)[K]>
