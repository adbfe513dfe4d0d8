/**
 * Events third parties send to `POST /api/v1/events`: ad spend, search rankings, offline
 * conversions and custom facts that feed the intelligence plane (attribution, SEO decay,
 * anomalies). A batch is `{ "events": [ … ] }` with 1…1,000 events; each carries its own
 * `idempotency_key` (re-sending it is a no-op) and a `type` that selects its fields.
 *
 * A batch is accepted or refused whole: {@link decodeEventBatch} returns either every event
 * decoded or every event's errors by index. Unknown fields are dropped (what is stored is
 * exactly what is described here); `null` counts as absent for optional fields.
 */
import { Result, Schema } from "effect"
import {
  CalendarDate,
  CurrencyCode,
  decodeAll,
  type FieldError,
  HttpUrl,
  Instant,
  isRecord,
  jsonBytes,
  NonNegativeDecimal,
  NonNegativeInt,
  NonNegativeNumber,
  optional,
  text
} from "./Fields.ts"

export const MAX_BATCH_EVENTS = 1_000
export const MAX_IDEMPOTENCY_KEY_LENGTH = 200
export const MAX_CUSTOM_PROPERTIES_BYTES = 4 * 1024

export const EXTERNAL_EVENT_TYPES = ["ad_spend", "seo_ranking", "conversion", "custom"] as const
export type ExternalEventType = (typeof EXTERNAL_EVENT_TYPES)[number]

export const AD_PLATFORMS = ["google", "meta", "tiktok", "microsoft", "other"] as const

const common = {
  idempotency_key: text(MAX_IDEMPOTENCY_KEY_LENGTH),
  occurred_at: Instant
}

/** Daily spend of one campaign on one ad platform (for ROAS, blended CAC, attribution cost). */
export const AdSpend = Schema.Struct({
  ...common,
  type: Schema.Literal("ad_spend"),
  platform: Schema.Literals(AD_PLATFORMS),
  account_id: text(200),
  campaign_id: text(200),
  campaign_name: optional(text(500)),
  date: CalendarDate,
  spend: NonNegativeDecimal,
  currency: CurrencyCode,
  impressions: optional(NonNegativeInt),
  clicks: optional(NonNegativeInt),
  /** Fractional on platforms with data-driven attribution. */
  conversions: optional(NonNegativeNumber)
})

/** Where a page ranked for a keyword on a day (for SEO content-decay detection). */
export const SeoRanking = Schema.Struct({
  ...common,
  type: Schema.Literal("seo_ranking"),
  keyword: text(500),
  url: HttpUrl(),
  /** 1 is the top; an average position (Search Console) may be fractional. */
  position: Schema.Finite.check(Schema.isGreaterThanOrEqualTo(1, { message: "must be a number ≥ 1" })),
  search_engine: Schema.String.check(
    Schema.isPattern(/^[a-z][a-z0-9_-]{0,49}$/, { message: "must be a lowercase name such as google or bing" })
  ),
  /** ISO 3166 country (alpha-2 or alpha-3 as search consoles report it). */
  country: optional(Schema.String.check(Schema.isPattern(/^[A-Za-z]{2,3}$/, { message: "must be an ISO 3166 country code" }))),
  date: CalendarDate
})

/** An offline or third-party conversion (call-centre sale, lead, subscription renewal). */
export const Conversion = Schema.Struct({
  ...common,
  type: Schema.Literal("conversion"),
  name: text(200),
  value: optional(NonNegativeDecimal),
  currency: optional(CurrencyCode),
  order_id: optional(text(200)),
  /** The Shopify customer id, when known: sealed under the customer's key when stored. */
  customer_id: optional(text(200))
}).check(
  Schema.makeFilter(
    (c) => c.value === undefined || c.value === null || (c.currency !== undefined && c.currency !== null)
      ? undefined
      : { path: ["currency"], issue: "is required when value is given" }
  )
)

/**
 * Anything else, as a named fact with free-form JSON properties (≤ 4 KB). Properties are
 * stored in clear for analysis: they must not contain personal data.
 */
export const CustomEvent = Schema.Struct({
  ...common,
  type: Schema.Literal("custom"),
  name: Schema.String.check(
    Schema.isPattern(/^[A-Za-z][A-Za-z0-9_.:-]{0,99}$/, { message: "must be 1–100 characters of letters, digits, _ . : -, starting with a letter" })
  ),
  properties: Schema.Record(Schema.String, Schema.Unknown).check(
    Schema.makeFilter((p) => jsonBytes(p) <= MAX_CUSTOM_PROPERTIES_BYTES, {
      message: `must be at most ${MAX_CUSTOM_PROPERTIES_BYTES} bytes as JSON`
    })
  )
})

export const ExternalEvent = Schema.Union([AdSpend, SeoRanking, Conversion, CustomEvent])
export type ExternalEvent = typeof ExternalEvent.Type
export type AdSpend = typeof AdSpend.Type
export type SeoRanking = typeof SeoRanking.Type
export type Conversion = typeof Conversion.Type
export type CustomEvent = typeof CustomEvent.Type

const byType: { readonly [K in ExternalEventType]: Schema.Decoder<Extract<ExternalEvent, { readonly type: K }>> } = {
  ad_spend: AdSpend,
  seo_ranking: SeoRanking,
  conversion: Conversion,
  custom: CustomEvent
}

const decoders = {
  ad_spend: decodeAll(AdSpend),
  seo_ranking: decodeAll(SeoRanking),
  conversion: decodeAll(Conversion),
  custom: decodeAll(CustomEvent)
} as const

const isEventType = (u: unknown): u is ExternalEventType =>
  typeof u === "string" && Object.hasOwn(byType, u)

/**
 * Decodes one event. The `type` is checked first, so an unknown type is one clear error
 * rather than a failure against every possible shape.
 */
export const decodeExternalEvent = (input: unknown): Result.Result<ExternalEvent, ReadonlyArray<FieldError>> => {
  if (!isRecord(input)) return Result.fail([{ path: "", message: "must be a JSON object" }])
  const type = input["type"]
  if (!isEventType(type)) {
    return Result.fail([{
      path: "type",
      message: type === undefined ? "is required" : `must be one of ${EXTERNAL_EVENT_TYPES.join(", ")}`
    }])
  }
  return decoders[type](input)
}

/** The errors of one refused event: its index in the batch and every failed field. */
export interface EventErrors {
  readonly index: number
  readonly errors: ReadonlyArray<FieldError>
}

/**
 * Why a batch was refused: its shape (`errors`: no `events` array, too many or none), or
 * the events that failed (`events`, by index; the others were fine but are refused too).
 */
export type BatchRejection =
  | { readonly _tag: "InvalidBatch"; readonly errors: ReadonlyArray<FieldError> }
  | { readonly _tag: "InvalidEvents"; readonly events: ReadonlyArray<EventErrors> }

/**
 * Decodes a whole batch body. Total and pure: any `unknown` yields a result. Two events of
 * one batch may not share an idempotency key (the second would silently be dropped).
 */
export const decodeEventBatch = (body: unknown): Result.Result<ReadonlyArray<ExternalEvent>, BatchRejection> => {
  if (!isRecord(body)) return Result.fail({ _tag: "InvalidBatch", errors: [{ path: "", message: "must be a JSON object with an events array" }] })
  const events = body["events"]
  if (!Array.isArray(events)) {
    return Result.fail({ _tag: "InvalidBatch", errors: [{ path: "events", message: events === undefined ? "is required" : "must be an array" }] })
  }
  if (events.length === 0 || events.length > MAX_BATCH_EVENTS) {
    return Result.fail({
      _tag: "InvalidBatch",
      errors: [{ path: "events", message: `must hold 1 to ${MAX_BATCH_EVENTS} events (got ${events.length})` }]
    })
  }
  const decoded: Array<ExternalEvent> = []
  const failed: Array<EventErrors> = []
  const firstIndexOfKey = new Map<string, number>()
  events.forEach((raw, index) => {
    const result = decodeExternalEvent(raw)
    if (Result.isFailure(result)) {
      failed.push({ index, errors: result.failure })
      return
    }
    const key = result.success.idempotency_key
    const first = firstIndexOfKey.get(key)
    if (first !== undefined) {
      failed.push({ index, errors: [{ path: "idempotency_key", message: `repeats the key of event ${first} in this batch` }] })
      return
    }
    firstIndexOfKey.set(key, index)
    decoded.push(result.success)
  })
  return failed.length > 0 ? Result.fail({ _tag: "InvalidEvents", events: failed }) : Result.succeed(decoded)
}

/** The event type recorded for each external event type (`<area>.<past_tense>`). */
export const recordedEventType = {
  ad_spend: "ad_spend.recorded",
  seo_ranking: "seo_ranking.recorded",
  conversion: "conversion.recorded",
  custom: "custom_event.recorded"
} as const satisfies { readonly [K in ExternalEventType]: `${string}.recorded` }
