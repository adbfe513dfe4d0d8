/**
 * The ad platforms' contract (issue 12 §2): one client per platform — Google Ads, Meta Marketing
 * API, TikTok Business API — each speaking its platform's real wire format
 * (`adapters/ads/<Platform>Client.ts`), with a per-account token bucket fed by the platform's
 * own throttling signals so Sumeru slows down before the platform refuses it. Amounts are in
 * micros of the account's currency (Google's unit; Meta's cents and TikTok's decimals are
 * converted at the edge), so rules and insights compare like with like.
 *
 * Object kinds map onto each platform's hierarchy: `campaign` (all three), `ad_group` (Google ad
 * group, Meta ad set, TikTok ad group), `keyword` (Google ad group criteria only; the others
 * answer `AdUnsupported`).
 */
import { Context, type Effect, type Redacted, Schema } from "effect"

export const AD_PLATFORM_NAMES = ["google", "meta", "tiktok"] as const
export type AdPlatformName = typeof AD_PLATFORM_NAMES[number]

/** A connected ad account with its credentials (stored encrypted; only ever `Redacted` in memory). */
export interface AdAccount {
  readonly platform: AdPlatformName
  /** Google customer id (digits), Meta ad account id (digits, without `act_`), TikTok advertiser id. */
  readonly accountId: string
  readonly accessToken: Redacted.Redacted<string>
  /** Google Ads only: the developer token header. */
  readonly developerToken?: Redacted.Redacted<string> | undefined
  /** Google Ads only: the manager account the call goes through (`login-customer-id`). */
  readonly loginCustomerId?: string | undefined
}

export type AdObjectKind = "campaign" | "ad_group" | "keyword"

export interface AdObjectRef {
  readonly kind: AdObjectKind
  readonly id: string
  /** The ad group a keyword belongs to (Google: criteria are addressed `adGroupId~criterionId`). */
  readonly adGroupId?: string | undefined
}

export type AdStatus = "ENABLED" | "PAUSED" | "REMOVED"

export interface AdObject {
  readonly ref: AdObjectRef
  readonly name: string
  readonly status: AdStatus
  /** A keyword's or ad group's bid (max CPC / bid amount), when it has its own. */
  readonly bidMicros: number | null
  /** A campaign's (or Meta ad set's) daily budget, when it has one. */
  readonly dailyBudgetMicros: number | null
  readonly currency: string
}

export interface AdObjectPatch {
  readonly status?: "ENABLED" | "PAUSED" | undefined
  readonly bidMicros?: number | undefined
  readonly dailyBudgetMicros?: number | undefined
}

/** One row of a day's insights, at one level of the hierarchy. */
export interface AdInsightRow {
  readonly date: string
  readonly level: AdObjectKind
  readonly campaignId: string
  readonly campaignName: string
  readonly adGroupId: string | null
  readonly keywordId: string | null
  readonly keywordText: string | null
  readonly currency: string
  readonly spendMicros: number
  readonly impressions: number
  readonly clicks: number
  readonly conversions: number
  readonly conversionValueMicros: number
}

/** The platform said slow down (its own signal in `signal`); retry after `retryAfterMs`. */
export class AdThrottled extends Schema.TaggedError<AdThrottled>()("AdThrottled", {
  platform: Schema.String,
  accountId: Schema.String,
  /** e.g. `RESOURCE_TEMPORARILY_EXHAUSTED`, `X-Business-Use-Case-Usage 100%`, `error 17`, `code 40100`. */
  signal: Schema.String,
  retryAfterMs: Schema.Number,
  message: Schema.String
}) {}

/** Network failure, timeout or 5xx after bounded retries: transient. */
export class AdUnavailable extends Schema.TaggedError<AdUnavailable>()("AdUnavailable", {
  platform: Schema.String,
  accountId: Schema.String,
  message: Schema.String
}) {}

/** The access token expired or was revoked: the account must be connected again. */
export class AdAuthExpired extends Schema.TaggedError<AdAuthExpired>()("AdAuthExpired", {
  platform: Schema.String,
  accountId: Schema.String,
  message: Schema.String
}) {}

/** The platform refused the request (validation, unknown object, daily quota spent); retrying cannot help. */
export class AdRejected extends Schema.TaggedError<AdRejected>()("AdRejected", {
  platform: Schema.String,
  accountId: Schema.String,
  code: Schema.String,
  message: Schema.String
}) {}

/** The platform has no such kind of object (a keyword on Meta or TikTok). */
export class AdUnsupported extends Schema.TaggedError<AdUnsupported>()("AdUnsupported", {
  platform: Schema.String,
  message: Schema.String
}) {}

export type AdError = AdThrottled | AdUnavailable | AdAuthExpired | AdRejected | AdUnsupported

/** One platform's client. */
export interface AdPlatformClient {
  readonly platform: AdPlatformName
  /** The day's insights of the account at campaign, ad group and (Google) keyword level. */
  readonly insights: (account: AdAccount, date: string) => Effect.Effect<ReadonlyArray<AdInsightRow>, AdError>
  readonly getObject: (account: AdAccount, ref: AdObjectRef) => Effect.Effect<AdObject, AdError>
  /** Applies `patch` and answers the object as the platform reports it afterwards. */
  readonly updateObject: (account: AdAccount, ref: AdObjectRef, patch: AdObjectPatch) => Effect.Effect<AdObject, AdError>
}

/** The clients by platform. */
export class AdPlatforms extends Context.Service<AdPlatforms, {
  readonly client: (platform: AdPlatformName) => AdPlatformClient
}>()("sumeru/ads/AdPlatforms") {}
