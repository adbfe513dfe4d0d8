/**
 * `AdPlatformClient` for Google Ads over its REST interface (`https://googleads.googleapis.com`):
 * insights through `GoogleAdsService.SearchStream` (GAQL at campaign, ad group and keyword
 * level), objects read the same way and changed through the `campaigns`, `campaignBudgets`,
 * `adGroups` and `adGroupCriteria` `:mutate` services (updates with an `updateMask`).
 *
 * Pacing: one token bucket per customer id (`adapters/ads/TokenBucket.ts`), shared by every
 * caller of this client, is taken before each request, so a burst of callers leaves at the
 * configured rate instead of earning `RESOURCE_TEMPORARILY_EXHAUSTED`. When Google still answers
 * it, the bucket is held for Google's `retryDelay` (every caller of that account waits, not just
 * the refused one) and the request is retried, a bounded number of times, then `AdThrottled`.
 * A spent daily operation quota (`quotaError: RESOURCE_EXHAUSTED`) is `AdRejected` `DAILY_QUOTA`,
 * and further calls on the same developer token / project fail at once without a request until
 * Google's retry delay has passed. 401 is `AdAuthExpired`; 5xx, network failures and timeouts are
 * retried with capped, jittered exponential backoff, then `AdUnavailable`; any other refusal is
 * `AdRejected` with Google's error code (`RESOURCE_NOT_FOUND`, `BAD_FIELD_NAME`, …) and message.
 * Updates carry absolute values (a status, a bid, a budget amount), so retrying one is safe.
 *
 * Waits and time are Effect's (`Effect.sleep`, `Clock`), jitter is `Random`: tests run it on a
 * virtual clock. Only the request deadline is a wall-clock `AbortSignal`. Tokens stay `Redacted`
 * until they are written into a request's headers.
 */
import { createHash } from "node:crypto"
import { Clock, Effect, Random, Redacted, Schema } from "effect"
import {
  AdAuthExpired,
  AdRejected,
  AdThrottled,
  AdUnavailable,
  AdUnsupported,
  type AdAccount,
  type AdError,
  type AdInsightRow,
  type AdObject,
  type AdObjectKind,
  type AdObjectPatch,
  type AdObjectRef,
  type AdPlatformClient,
  type AdStatus
} from "../../../src/ads/AdPlatform.ts"
import { makeTokenBuckets } from "../TokenBucket.ts"

export const GOOGLE_ADS_BASE_URL = "https://googleads.googleapis.com"
/** The newest Google Ads API version (released 14 Oct 2026). */
export const GOOGLE_ADS_API_VERSION = "v26"

/** Pacing and retry settings (all optional). */
export interface GoogleAdsLimits {
  /** Requests per second the per-customer bucket lets through. Default 5. */
  readonly requestsPerSecond?: number
  /** Requests that may leave back to back after a quiet spell (the bucket's capacity). Default 5. */
  readonly burst?: number
  /** `RESOURCE_TEMPORARILY_EXHAUSTED` answers retried per call before `AdThrottled`. Default 3. */
  readonly maxThrottledRetries?: number
  /** The wait when Google's refusal carries no `retryDelay`. Default 1 s. */
  readonly defaultRetryDelayMs?: number
  /** A `retryDelay` longer than this is not waited for: `AdThrottled` at once. Default 60 s. */
  readonly maxRetryDelayMs?: number
  /** How long a spent daily quota blocks calls when Google names no `retryDelay`. Default 1 h. */
  readonly dailyQuotaPauseMs?: number
  /** 5xx answers, network failures and timeouts retried per call before `AdUnavailable`. Default 3. */
  readonly maxUnavailableRetries?: number
  /** First backoff step, doubled per attempt with equal jitter, capped at `backoffMaxMs`. Defaults 500 ms and 8 s. */
  readonly backoffBaseMs?: number
  readonly backoffMaxMs?: number
  /** Deadline of one HTTP request (wall clock). Default 60 s. */
  readonly requestTimeoutMs?: number
}

export interface GoogleAdsClientOptions {
  /** Default `https://googleads.googleapis.com` (a simulator's `url` in tests). */
  readonly baseUrl?: string
  /** e.g. `"v26"` (`GOOGLE_ADS_API_VERSION`). */
  readonly apiVersion: string
  /** Default `globalThis.fetch`. */
  readonly fetch?: typeof globalThis.fetch
  readonly limits?: GoogleAdsLimits
}

const DEFAULT_LIMITS: Required<GoogleAdsLimits> = {
  requestsPerSecond: 5,
  burst: 5,
  maxThrottledRetries: 3,
  defaultRetryDelayMs: 1_000,
  maxRetryDelayMs: 60_000,
  dailyQuotaPauseMs: 3_600_000,
  maxUnavailableRetries: 3,
  backoffBaseMs: 500,
  backoffMaxMs: 8_000,
  requestTimeoutMs: 60_000
}

const PLATFORM = "google"

// ------------------------------------------------------------------------------ wire format

/** int64 fields arrive as JSON strings (proto3 JSON mapping); numbers are accepted too. */
const Int64 = Schema.Union([Schema.String, Schema.Number])
const opt = Schema.optional

const GoogleAdsRow = Schema.Struct({
  customer: opt(Schema.Struct({ currencyCode: opt(Schema.String) })),
  campaign: opt(Schema.Struct({ id: opt(Int64), name: opt(Schema.String), status: opt(Schema.String), campaignBudget: opt(Schema.String) })),
  campaignBudget: opt(Schema.Struct({ resourceName: opt(Schema.String), amountMicros: opt(Int64) })),
  adGroup: opt(Schema.Struct({ id: opt(Int64), name: opt(Schema.String), status: opt(Schema.String), cpcBidMicros: opt(Int64) })),
  adGroupCriterion: opt(Schema.Struct({
    criterionId: opt(Int64),
    status: opt(Schema.String),
    cpcBidMicros: opt(Int64),
    keyword: opt(Schema.Struct({ text: opt(Schema.String) }))
  })),
  segments: opt(Schema.Struct({ date: opt(Schema.String) })),
  metrics: opt(Schema.Struct({
    costMicros: opt(Int64),
    impressions: opt(Int64),
    clicks: opt(Int64),
    conversions: opt(Schema.Number),
    conversionsValue: opt(Schema.Number)
  }))
})
type GoogleAdsRow = typeof GoogleAdsRow.Type

/** `SearchStream` answers a JSON array of `SearchGoogleAdsStreamResponse` batches. */
const SearchStreamResponse = Schema.Array(Schema.Struct({ results: opt(Schema.Array(GoogleAdsRow)), requestId: opt(Schema.String) }))
const MutateResponse = Schema.Struct({ results: opt(Schema.Array(Schema.Struct({ resourceName: opt(Schema.String) }))) })

const GoogleAdsError = Schema.Struct({
  errorCode: opt(Schema.Record(Schema.String, Schema.String)),
  message: opt(Schema.String),
  details: opt(Schema.Struct({ quotaErrorDetails: opt(Schema.Struct({ rateScope: opt(Schema.String), retryDelay: opt(Schema.String) })) }))
})
const ErrorBody = Schema.Struct({
  error: Schema.Struct({
    code: opt(Schema.Number),
    message: opt(Schema.String),
    status: opt(Schema.String),
    details: opt(Schema.Array(Schema.Struct({ "@type": opt(Schema.String), errors: opt(Schema.Array(GoogleAdsError)), requestId: opt(Schema.String) })))
  })
})
const decodeErrorBody = Schema.decodeUnknownOption(ErrorBody)

/** What one HTTP exchange came to. */
type Outcome =
  | { readonly _tag: "Ok"; readonly body: unknown }
  | { readonly _tag: "Throttled"; readonly signal: string; readonly retryDelayMs: number | undefined; readonly message: string }
  | { readonly _tag: "DailyQuota"; readonly retryDelayMs: number | undefined; readonly message: string }
  | { readonly _tag: "AuthExpired"; readonly message: string }
  | { readonly _tag: "Unavailable"; readonly message: string }
  | { readonly _tag: "Rejected"; readonly code: string; readonly message: string }

/** `"30s"`, `"1.500s"` (a proto `Duration` in JSON) → milliseconds. */
export const durationMs = (duration: string | undefined): number | undefined => {
  const m = duration === undefined ? null : /^(\d+(?:\.\d+)?)s$/.exec(duration)
  return m === null ? undefined : Math.round(Number(m[1]) * 1000)
}

const TEMPORARY_QUOTA_ERRORS = new Set(["RESOURCE_TEMPORARILY_EXHAUSTED", "EXCESSIVE_SHORT_TERM_QUERY_RESOURCE_CONSUMPTION"])

/** Reads an HTTP answer as Google Ads means it. */
export const classify = (status: number, text: string, retryAfter: string | null): Outcome => {
  if (status >= 200 && status < 300) {
    try {
      return { _tag: "Ok", body: JSON.parse(text) }
    } catch {
      return { _tag: "Unavailable", message: `HTTP ${status} with a body that is not JSON (truncated?)` }
    }
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    parsed = undefined
  }
  const body = decodeErrorBody(parsed)
  const rpc = body._tag === "Some" ? body.value.error : undefined
  const failure = rpc?.details?.find((d) => d["@type"]?.endsWith(".errors.GoogleAdsFailure") === true)
  const errors = failure?.errors ?? []
  const codes = errors.map((e) => Object.entries(e.errorCode ?? {})[0]).filter((c): c is [string, string] => c !== undefined)
  const requestId = failure?.requestId
  const message = [
    errors.map((e) => e.message).filter((m) => m !== undefined && m !== "").join("; ") || rpc?.message || `HTTP ${status}`,
    requestId === undefined ? "" : ` (request ${requestId})`
  ].join("")
  const quota = codes.find(([type]) => type === "quotaError")?.[1]
  const retryDelayMs = durationMs(errors.find((e) => e.details?.quotaErrorDetails?.retryDelay !== undefined)?.details?.quotaErrorDetails?.retryDelay)
  if (quota !== undefined && TEMPORARY_QUOTA_ERRORS.has(quota)) return { _tag: "Throttled", signal: quota, retryDelayMs, message }
  if (quota === "RESOURCE_EXHAUSTED") return { _tag: "DailyQuota", retryDelayMs, message }
  if (status === 429) {
    const seconds = retryAfter === null ? Number.NaN : Number(retryAfter)
    return { _tag: "Throttled", signal: rpc?.status ?? "HTTP 429", retryDelayMs: Number.isFinite(seconds) ? seconds * 1000 : undefined, message }
  }
  const code = codes[0]?.[1] ?? rpc?.status ?? `HTTP_${status}`
  if (status === 401) return code.startsWith("DEVELOPER_TOKEN") ? { _tag: "Rejected", code, message } : { _tag: "AuthExpired", message }
  if (status >= 500 || status === 408) return { _tag: "Unavailable", message: `HTTP ${status}: ${message}` }
  return { _tag: "Rejected", code, message }
}

/** Capped exponential backoff with equal jitter (`random01` in [0, 1)). */
const backoff = (attempt: number, baseMs: number, maxMs: number, random01: number): number => {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1))
  return Math.round(ceiling / 2 + (ceiling / 2) * random01)
}

const describe = (cause: unknown): string => {
  if (!(cause instanceof Error)) return String(cause)
  const inner = (cause as Error & { cause?: unknown }).cause
  return inner instanceof Error ? `${cause.message}: ${inner.message}` : cause.message
}

const STATUSES: ReadonlySet<string> = new Set(["ENABLED", "PAUSED", "REMOVED"])
const DIGITS = /^\d+$/
const DATE = /^\d{4}-\d{2}-\d{2}$/

const METRICS = "metrics.cost_micros, metrics.impressions, metrics.clicks, metrics.conversions, metrics.conversions_value"

/** A Google Ads `AdPlatformClient`; keep one per process so its per-customer buckets are shared. */
export const makeGoogleAdsClient = (options: GoogleAdsClientOptions): AdPlatformClient => {
  const limits = { ...DEFAULT_LIMITS, ...options.limits }
  const fetchFn = options.fetch ?? globalThis.fetch
  const baseUrl = (options.baseUrl ?? GOOGLE_ADS_BASE_URL).replace(/\/+$/, "")
  const apiVersion = options.apiVersion
  const buckets = makeTokenBuckets({ capacity: limits.burst, refillPerSecond: limits.requestsPerSecond })
  /** Daily quota spent: developer token (hashed; "" for the Cloud project) → Clock millis it may be tried again. */
  const quotaSpentUntil = new Map<string, number>()

  const quotaKeyOf = (account: AdAccount): string =>
    account.developerToken === undefined ? "" : createHash("sha256").update(Redacted.value(account.developerToken)).digest("hex")

  const rejected = (account: AdAccount, code: string, message: string) => new AdRejected({ platform: PLATFORM, accountId: account.accountId, code, message })

  const checkAccount = (account: AdAccount): Effect.Effect<void, AdError> => {
    if (account.platform !== "google") return Effect.fail(new AdUnsupported({ platform: PLATFORM, message: `a ${account.platform} account cannot be used with the Google Ads client` }))
    if (!DIGITS.test(account.accountId)) return Effect.fail(rejected(account, "INVALID_CUSTOMER_ID", `a Google Ads customer id is digits without dashes, got ${account.accountId}`))
    if (account.loginCustomerId !== undefined && !DIGITS.test(account.loginCustomerId)) {
      return Effect.fail(rejected(account, "INVALID_CUSTOMER_ID", `login-customer-id must be digits, got ${account.loginCustomerId}`))
    }
    return Effect.void
  }

  /** One HTTP exchange; never fails (a network failure is an `Unavailable` outcome). */
  const send = (account: AdAccount, path: string, body: unknown): Effect.Effect<Outcome> => {
    const headers: Record<string, string> = {
      "content-type": "application/json",
      authorization: `Bearer ${Redacted.value(account.accessToken)}`
    }
    if (account.developerToken !== undefined) headers["developer-token"] = Redacted.value(account.developerToken)
    if (account.loginCustomerId !== undefined) headers["login-customer-id"] = account.loginCustomerId
    const url = `${baseUrl}/${apiVersion}/customers/${account.accountId}/${path}`
    return Effect.tryPromise({
      try: (interrupt) =>
        fetchFn(url, { method: "POST", headers, body: JSON.stringify(body), signal: AbortSignal.any([interrupt, AbortSignal.timeout(limits.requestTimeoutMs)]) }),
      catch: describe
    }).pipe(
      Effect.flatMap((response) =>
        Effect.map(Effect.tryPromise({ try: () => response.text(), catch: describe }), (text) => classify(response.status, text, response.headers.get("retry-after")))
      ),
      Effect.catch((message) => Effect.succeed<Outcome>({ _tag: "Unavailable", message: `network: ${message}` }))
    )
  }

  /** A request with the bucket, Google's throttling signals and bounded retries. */
  const call = Effect.fnUntraced(function*(account: AdAccount, path: string, body: unknown): Effect.fn.Return<unknown, AdError> {
    const accountId = account.accountId
    const bucket = buckets.forKey(accountId)
    const quotaKey = quotaKeyOf(account)
    let throttled = 0
    let unavailable = 0
    for (;;) {
      const blockedUntil = quotaSpentUntil.get(quotaKey)
      if (blockedUntil !== undefined) {
        const now = yield* Clock.currentTimeMillis
        if (now < blockedUntil) {
          return yield* rejected(account, "DAILY_QUOTA", `the daily operation quota is spent; not calling Google again for ${Math.ceil((blockedUntil - now) / 1000)} s`)
        }
        quotaSpentUntil.delete(quotaKey)
      }
      yield* bucket.take()
      const outcome = yield* send(account, path, body)
      switch (outcome._tag) {
        case "Ok":
          return outcome.body
        case "Throttled": {
          const delay = outcome.retryDelayMs ?? limits.defaultRetryDelayMs
          const now = yield* Clock.currentTimeMillis
          yield* bucket.holdUntil(now + delay)
          if (delay > limits.maxRetryDelayMs || ++throttled > limits.maxThrottledRetries) {
            return yield* new AdThrottled({ platform: PLATFORM, accountId, signal: outcome.signal, retryAfterMs: delay, message: outcome.message })
          }
          continue // the next take waits out the hold
        }
        case "DailyQuota": {
          const now = yield* Clock.currentTimeMillis
          quotaSpentUntil.set(quotaKey, now + (outcome.retryDelayMs ?? limits.dailyQuotaPauseMs))
          return yield* rejected(account, "DAILY_QUOTA", outcome.message)
        }
        case "AuthExpired":
          return yield* new AdAuthExpired({ platform: PLATFORM, accountId, message: outcome.message })
        case "Rejected":
          return yield* rejected(account, outcome.code, outcome.message)
        case "Unavailable": {
          if (++unavailable > limits.maxUnavailableRetries) return yield* new AdUnavailable({ platform: PLATFORM, accountId, message: outcome.message })
          const jitter = yield* Random.next
          yield* Effect.sleep(backoff(unavailable, limits.backoffBaseMs, limits.backoffMaxMs, jitter))
          continue
        }
      }
    }
  })

  const decode = <S extends Schema.Constraint>(schema: S, account: AdAccount) => (value: unknown) =>
    Schema.decodeUnknownEffect(schema)(value).pipe(
      Effect.mapError((error) => rejected(account, "UNEXPECTED_RESPONSE", `unexpected Google Ads answer: ${error.message}`))
    ) as Effect.Effect<S["Type"], AdRejected>

  const searchStream = (account: AdAccount, query: string): Effect.Effect<ReadonlyArray<GoogleAdsRow>, AdError> =>
    call(account, "googleAds:searchStream", { query }).pipe(
      Effect.flatMap(decode(SearchStreamResponse, account)),
      Effect.map((batches) => batches.flatMap((b) => b.results ?? []))
    )

  const mutate = (account: AdAccount, service: "campaigns" | "campaignBudgets" | "adGroups" | "adGroupCriteria", update: Record<string, unknown>) =>
    call(account, `${service}:mutate`, {
      operations: [{ update, updateMask: Object.keys(update).filter((k) => k !== "resourceName").join(",") }]
    }).pipe(
      Effect.flatMap(decode(MutateResponse, account)),
      Effect.flatMap((r) =>
        r.results?.[0]?.resourceName === update.resourceName
          ? Effect.void
          : Effect.fail(rejected(account, "UNEXPECTED_RESPONSE", `the mutate answered ${JSON.stringify(r.results ?? [])} for ${String(update.resourceName)}`))
      )
    )

  const num = (value: string | number | undefined): number => (value === undefined ? 0 : Number(value))
  const micros = (value: number | undefined): number => Math.round((value ?? 0) * 1_000_000)

  const insightRow = (level: AdObjectKind, date: string) => (row: GoogleAdsRow): AdInsightRow => ({
    date: row.segments?.date ?? date,
    level,
    campaignId: String(row.campaign?.id ?? ""),
    campaignName: row.campaign?.name ?? "",
    adGroupId: level === "campaign" || row.adGroup?.id === undefined ? null : String(row.adGroup.id),
    keywordId: level === "keyword" && row.adGroupCriterion?.criterionId !== undefined ? String(row.adGroupCriterion.criterionId) : null,
    keywordText: level === "keyword" ? (row.adGroupCriterion?.keyword?.text ?? null) : null,
    currency: row.customer?.currencyCode ?? "",
    spendMicros: num(row.metrics?.costMicros),
    impressions: num(row.metrics?.impressions),
    clicks: num(row.metrics?.clicks),
    conversions: row.metrics?.conversions ?? 0,
    conversionValueMicros: micros(row.metrics?.conversionsValue)
  })

  const insights = Effect.fn("GoogleAds.insights")(function*(account: AdAccount, date: string): Effect.fn.Return<ReadonlyArray<AdInsightRow>, AdError> {
    yield* checkAccount(account)
    if (!DATE.test(date)) return yield* rejected(account, "INVALID_DATE", `a date is YYYY-MM-DD, got ${date}`)
    const where = `WHERE segments.date = '${date}'`
    const common = `customer.currency_code, campaign.id, campaign.name, segments.date, ${METRICS}`
    const [campaigns, adGroups, keywords] = yield* Effect.all([
      searchStream(account, `SELECT ${common} FROM campaign ${where}`),
      searchStream(account, `SELECT ${common}, ad_group.id FROM ad_group ${where}`),
      searchStream(account, `SELECT ${common}, ad_group.id, ad_group_criterion.criterion_id, ad_group_criterion.keyword.text FROM keyword_view ${where}`)
    ], { concurrency: 3 })
    return [
      ...campaigns.map(insightRow("campaign", date)),
      ...adGroups.map(insightRow("ad_group", date)),
      ...keywords.map(insightRow("keyword", date))
    ]
  })

  const status = (account: AdAccount, value: string | undefined): Effect.Effect<AdStatus, AdRejected> =>
    value !== undefined && STATUSES.has(value) ? Effect.succeed(value as AdStatus) : Effect.fail(rejected(account, "UNEXPECTED_RESPONSE", `unexpected status ${String(value)}`))

  const checkRef = (account: AdAccount, ref: AdObjectRef): Effect.Effect<void, AdRejected> => {
    if (!DIGITS.test(ref.id)) return Effect.fail(rejected(account, "INVALID_REF", `a Google Ads id is digits, got ${ref.id}`))
    if (ref.kind === "keyword" && (ref.adGroupId === undefined || !DIGITS.test(ref.adGroupId))) {
      return Effect.fail(rejected(account, "INVALID_REF", "a keyword is addressed by its ad group id and criterion id"))
    }
    return Effect.void
  }

  const notFound = (account: AdAccount, ref: AdObjectRef) => rejected(account, "RESOURCE_NOT_FOUND", `no ${ref.kind} ${ref.kind === "keyword" ? `${ref.adGroupId}~${ref.id}` : ref.id}`)

  const criterionName = (account: AdAccount, ref: AdObjectRef) => `customers/${account.accountId}/adGroupCriteria/${ref.adGroupId}~${ref.id}`

  /** The object, plus (for a campaign) its budget's resource name. */
  const read = Effect.fnUntraced(function*(account: AdAccount, ref: AdObjectRef): Effect.fn.Return<{ readonly object: AdObject; readonly budget: string | undefined }, AdError> {
    yield* checkRef(account, ref)
    switch (ref.kind) {
      case "campaign": {
        const rows = yield* searchStream(
          account,
          `SELECT campaign.id, campaign.name, campaign.status, campaign.campaign_budget, campaign_budget.amount_micros, customer.currency_code FROM campaign WHERE campaign.id = ${ref.id}`
        )
        const row = rows[0]
        if (row === undefined) return yield* notFound(account, ref)
        return {
          object: {
            ref: { kind: "campaign", id: ref.id },
            name: row.campaign?.name ?? "",
            status: yield* status(account, row.campaign?.status),
            bidMicros: null,
            dailyBudgetMicros: row.campaignBudget?.amountMicros === undefined ? null : Number(row.campaignBudget.amountMicros),
            currency: row.customer?.currencyCode ?? ""
          },
          budget: row.campaign?.campaignBudget
        }
      }
      case "ad_group": {
        const rows = yield* searchStream(
          account,
          `SELECT ad_group.id, ad_group.name, ad_group.status, ad_group.cpc_bid_micros, customer.currency_code FROM ad_group WHERE ad_group.id = ${ref.id}`
        )
        const row = rows[0]
        if (row === undefined) return yield* notFound(account, ref)
        return {
          object: {
            ref: { kind: "ad_group", id: ref.id },
            name: row.adGroup?.name ?? "",
            status: yield* status(account, row.adGroup?.status),
            bidMicros: row.adGroup?.cpcBidMicros === undefined ? null : Number(row.adGroup.cpcBidMicros),
            dailyBudgetMicros: null,
            currency: row.customer?.currencyCode ?? ""
          },
          budget: undefined
        }
      }
      case "keyword": {
        const rows = yield* searchStream(
          account,
          `SELECT ad_group.id, ad_group_criterion.criterion_id, ad_group_criterion.keyword.text, ad_group_criterion.status, ad_group_criterion.cpc_bid_micros, customer.currency_code FROM ad_group_criterion WHERE ad_group_criterion.resource_name = '${criterionName(account, ref)}'`
        )
        const row = rows[0]
        if (row === undefined) return yield* notFound(account, ref)
        return {
          object: {
            ref: { kind: "keyword", id: ref.id, adGroupId: ref.adGroupId },
            name: row.adGroupCriterion?.keyword?.text ?? "",
            status: yield* status(account, row.adGroupCriterion?.status),
            bidMicros: row.adGroupCriterion?.cpcBidMicros === undefined ? null : Number(row.adGroupCriterion.cpcBidMicros),
            dailyBudgetMicros: null,
            currency: row.customer?.currencyCode ?? ""
          },
          budget: undefined
        }
      }
    }
  })

  const getObject = Effect.fn("GoogleAds.getObject")(function*(account: AdAccount, ref: AdObjectRef): Effect.fn.Return<AdObject, AdError> {
    yield* checkAccount(account)
    return (yield* read(account, ref)).object
  })

  const updateObject = Effect.fn("GoogleAds.updateObject")(function*(account: AdAccount, ref: AdObjectRef, patch: AdObjectPatch): Effect.fn.Return<AdObject, AdError> {
    yield* checkAccount(account)
    yield* checkRef(account, ref)
    const customer = `customers/${account.accountId}`
    const withStatus = patch.status === undefined ? {} : { status: patch.status }
    switch (ref.kind) {
      case "campaign": {
        if (patch.bidMicros !== undefined) return yield* rejected(account, "INVALID_PATCH", "a Google Ads campaign has no bid of its own")
        if (patch.dailyBudgetMicros !== undefined) {
          const { budget } = yield* read(account, ref)
          if (budget === undefined) return yield* rejected(account, "NO_BUDGET", `campaign ${ref.id} has no campaign budget`)
          yield* mutate(account, "campaignBudgets", { resourceName: budget, amountMicros: String(patch.dailyBudgetMicros) })
        }
        if (patch.status !== undefined) yield* mutate(account, "campaigns", { resourceName: `${customer}/campaigns/${ref.id}`, ...withStatus })
        break
      }
      case "ad_group": {
        if (patch.dailyBudgetMicros !== undefined) return yield* rejected(account, "INVALID_PATCH", "a Google Ads ad group has no budget of its own")
        const update = { ...withStatus, ...(patch.bidMicros === undefined ? {} : { cpcBidMicros: String(patch.bidMicros) }) }
        if (Object.keys(update).length > 0) yield* mutate(account, "adGroups", { resourceName: `${customer}/adGroups/${ref.id}`, ...update })
        break
      }
      case "keyword": {
        if (patch.dailyBudgetMicros !== undefined) return yield* rejected(account, "INVALID_PATCH", "a keyword has no budget")
        const update = { ...withStatus, ...(patch.bidMicros === undefined ? {} : { cpcBidMicros: String(patch.bidMicros) }) }
        if (Object.keys(update).length > 0) yield* mutate(account, "adGroupCriteria", { resourceName: criterionName(account, ref), ...update })
        break
      }
    }
    return (yield* read(account, ref)).object
  })

  return { platform: PLATFORM, insights, getObject, updateObject }
}
