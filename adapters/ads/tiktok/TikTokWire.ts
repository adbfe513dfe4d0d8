/**
 * TikTok Marketing API v1.3 on the wire: the answer envelope and the objects the client reads
 * (schemas), how an answer is classified (success, throttling, auth, transient, refusal), and
 * the conversion between TikTok's decimal amounts in the advertiser's currency and the micros
 * of `src/ads/AdPlatform.ts`.
 *
 * TikTok answers HTTP 200 for everything it decides itself and puts the verdict in the body's
 * `code`: 0 is success, 40100 is "too many requests" (its throttling signal: never an HTTP
 * 429), 4010x are access-token problems, 40001 a missing permission on the advertiser, 5xxxx
 * its own internal errors; anything else (40002 invalid parameters, …) is a refusal.
 */
import { Option, Schema } from "effect"

// ------------------------------------------------------------------------- schemas

export const Envelope = Schema.Struct({
  code: Schema.Number,
  message: Schema.String,
  request_id: Schema.optional(Schema.String),
  data: Schema.optional(Schema.Unknown)
})
export type Envelope = typeof Envelope.Type

export const PageInfo = Schema.Struct({
  page: Schema.Number,
  page_size: Schema.Number,
  total_number: Schema.Number,
  total_page: Schema.Number
})

const MetricValue = Schema.NullOr(Schema.Union([Schema.String, Schema.Number]))

export const ReportRow = Schema.Struct({
  dimensions: Schema.Record(Schema.String, Schema.NullOr(Schema.Union([Schema.String, Schema.Number]))),
  metrics: Schema.Record(Schema.String, MetricValue)
})
export type ReportRow = typeof ReportRow.Type

export const ReportPage = Schema.Struct({ list: Schema.Array(ReportRow), page_info: PageInfo })

export const Campaign = Schema.Struct({
  campaign_id: Schema.String,
  campaign_name: Schema.String,
  budget_mode: Schema.String,
  budget: Schema.NullOr(Schema.Number),
  operation_status: Schema.String,
  secondary_status: Schema.optional(Schema.String)
})
export type Campaign = typeof Campaign.Type

export const AdGroup = Schema.Struct({
  adgroup_id: Schema.String,
  campaign_id: Schema.String,
  adgroup_name: Schema.String,
  budget_mode: Schema.String,
  budget: Schema.NullOr(Schema.Number),
  bid_type: Schema.optional(Schema.String),
  bid_price: Schema.optional(Schema.NullOr(Schema.Number)),
  operation_status: Schema.String,
  secondary_status: Schema.optional(Schema.String)
})
export type AdGroup = typeof AdGroup.Type

export const CampaignPage = Schema.Struct({ list: Schema.Array(Campaign) })
export const AdGroupPage = Schema.Struct({ list: Schema.Array(AdGroup) })
export const AdvertiserInfo = Schema.Struct({
  list: Schema.Array(Schema.Struct({ advertiser_id: Schema.String, currency: Schema.String }))
})

const decodeEnvelope = Schema.decodeUnknownOption(Envelope)

// ------------------------------------------------------------------------- classification

/** TikTok's throttling code: the request rate of the app / advertiser was exceeded. */
export const TOO_MANY_REQUESTS = 40100

/**
 * Codes meaning the token can no longer act for the advertiser: 4010x are the access-token
 * family (missing, expired, invalid, revoked); 40001 is a missing permission on the
 * advertiser, which happens when the advertiser withdrew the app's authorisation. Both are
 * fixed only by connecting the account again.
 */
export const AUTH_CODES: ReadonlySet<number> = new Set([40001, 40101, 40102, 40103, 40104, 40105, 40106, 40107])

/** TikTok's own internal errors (e.g. 50000 "system error"): transient. */
export const isTransientCode = (code: number): boolean => code >= 50000 && code < 60000

export type Answer =
  | { readonly _tag: "Ok"; readonly data: unknown }
  | { readonly _tag: "Throttled"; readonly signal: string; readonly message: string }
  | { readonly _tag: "Unavailable"; readonly message: string }
  | { readonly _tag: "AuthExpired"; readonly code: number; readonly message: string }
  | { readonly _tag: "Rejected"; readonly code: string; readonly message: string }

const parse = (text: string): unknown => {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

const snippet = (text: string): string => (text.length > 200 ? `${text.slice(0, 200)}…` : text)

/** What an HTTP answer (status and body text) means for the caller. */
export const classifyAnswer = (status: number, text: string): Answer => {
  const envelope = decodeEnvelope(parse(text))
  const withRequest = (e: Envelope) => (e.request_id === undefined ? e.message : `${e.message} (request_id ${e.request_id})`)
  if (status >= 500) {
    return { _tag: "Unavailable", message: `HTTP ${status}${Option.isSome(envelope) ? `: ${withRequest(envelope.value)}` : ""}` }
  }
  if (status === 429) return { _tag: "Throttled", signal: "HTTP 429", message: "HTTP 429 Too Many Requests" }
  if (Option.isNone(envelope)) {
    return status >= 200 && status < 300
      ? { _tag: "Unavailable", message: `HTTP ${status} without a TikTok answer: ${snippet(text)}` }
      : { _tag: "Rejected", code: `HTTP ${status}`, message: snippet(text) }
  }
  const e = envelope.value
  if (e.code === 0) {
    return status >= 200 && status < 300 ? { _tag: "Ok", data: e.data } : { _tag: "Rejected", code: `HTTP ${status}`, message: withRequest(e) }
  }
  if (e.code === TOO_MANY_REQUESTS) return { _tag: "Throttled", signal: `code ${TOO_MANY_REQUESTS}`, message: withRequest(e) }
  if (AUTH_CODES.has(e.code)) return { _tag: "AuthExpired", code: e.code, message: `code ${e.code}: ${withRequest(e)}` }
  if (isTransientCode(e.code)) return { _tag: "Unavailable", message: `code ${e.code}: ${withRequest(e)}` }
  return { _tag: "Rejected", code: String(e.code), message: withRequest(e) }
}

// ------------------------------------------------------------------------- money

/** Currencies TikTok bills without minor units. */
const ZERO_DECIMAL = new Set(["JPY", "KRW", "VND", "CLP", "HUF", "TWD", "IDR"])

/** Decimal places TikTok accepts for amounts (budgets, bids) in `currency`. */
export const currencyDecimals = (currency: string): number => (ZERO_DECIMAL.has(currency.toUpperCase()) ? 0 : 2)

/**
 * A TikTok amount (`"12.34"` in a report, `50.5` in an object) as micros, exactly for
 * strings (no binary floating point), rounded half up beyond six decimals. Empty values and
 * TikTok's `"-"` (not available) count as 0.
 */
export const amountToMicros = (value: string | number | null | undefined): number => {
  if (value === null || value === undefined) return 0
  if (typeof value === "number") return Number.isFinite(value) ? Math.round(value * 1_000_000) : 0
  const match = /^\s*(-?)(\d*)(?:\.(\d*))?\s*$/.exec(value)
  if (match === null || (match[2] === "" && (match[3] ?? "") === "")) return 0
  const fraction = (match[3] ?? "").padEnd(7, "0")
  const micros = Number(match[2] || "0") * 1_000_000 + Number(fraction.slice(0, 6)) + (Number(fraction[6]) >= 5 ? 1 : 0)
  return match[1] === "-" ? -micros : micros
}

/** A count metric (`"1500"`, `"-"`) as a number. */
export const countOf = (value: string | number | null | undefined): number => {
  if (value === null || value === undefined) return 0
  const n = typeof value === "number" ? value : Number(value)
  return Number.isFinite(n) ? n : 0
}

/**
 * Micros as the decimal amount TikTok accepts in `currency`: rounded half up to the
 * currency's decimals (cents; whole yen), since TikTok refuses finer amounts.
 */
export const microsToAmount = (micros: number, currency: string): number => {
  const decimals = currencyDecimals(currency)
  const step = 10 ** (6 - decimals)
  return Math.round(micros / step) / 10 ** decimals
}
