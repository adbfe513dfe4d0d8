/**
 * `AdPlatformClient` for the Meta Marketing API (Graph API, `/v{N}/…`): ad account insights at
 * campaign and ad set level, reading and changing campaigns (status, daily budget) and ad sets
 * (`ad_group`: status, daily budget, bid amount). Meta has no keywords (`AdUnsupported`).
 *
 * Throttling is per ad account and fed by Meta's own signal: every answer's
 * `X-Business-Use-Case-Usage` (and, for insights, `X-FB-Ads-Insights-Throttle`) goes into a
 * usage governor per account and use case (`usageGovernor.ts`) that slows the account's calls
 * down from `throttleAtPercent` so Meta's 100 % is not reached; a token bucket per account
 * (`../TokenBucket.ts`) caps the rate whatever the headers say. When Meta blocks anyway
 * (`estimated_time_to_regain_access`, codes 4 / 17 / 613 / 80000–80014), the account waits that
 * long (bounded by `maxThrottleWaitMs`) and retries, then fails `AdThrottled` with the signal.
 * Code 190 is `AdAuthExpired`; 5xx, transient codes (1, 2) and network failures are retried
 * with capped, jittered backoff, then `AdUnavailable`; any other Graph error is `AdRejected`
 * with Meta's code and message. Updates are plain assignments (status, budget, bid), so
 * repeating one after an unanswered attempt is safe.
 *
 * Tokens stay `Redacted` until the `Authorization` header is built; they never go into a URL.
 * Waits use Effect's `Clock` (virtual in tests), jitter Effect's `Random`; only the request
 * deadline is a wall-clock `AbortSignal`.
 */
import { Clock, Deferred, Effect, Random, Redacted, Result, Schema } from "effect"
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
  type AdObjectPatch,
  type AdObjectRef,
  type AdPlatformClient,
  type AdStatus
} from "../../../src/ads/AdPlatform.ts"
import { makeTokenBuckets, type TokenBucketOptions } from "../TokenBucket.ts"
import { countOf, decimalToMicros, microsToMinor, minorToMicros } from "./amounts.ts"
import { makeUsageGovernor, readUsage, type BucType, type UsageGovernor, type UsageReport } from "./usageGovernor.ts"

export interface MetaAdsClientOptions {
  /** `https://graph.facebook.com`, or a simulator's URL. */
  readonly baseUrl: string
  /** Graph API version, e.g. `v25.0`. */
  readonly apiVersion: string
  /** HTTP (default `globalThis.fetch`). */
  readonly fetch?: typeof globalThis.fetch
  /** Usage (percent) from which an account's calls are serialised and delayed. Default 90. */
  readonly throttleAtPercent?: number
  /** Delay after the last answer at 100 % usage, and before a call that could reach it. Default 60 s. */
  readonly slowdownMaxDelayMs?: number
  /** Calls in flight per account and use case at most. Default 10. */
  readonly maxInFlightPerAccount?: number
  /** Token bucket per account. Default 20 calls, refilled at 10 per second. */
  readonly tokenBucket?: TokenBucketOptions
  /** Longest wait for regained access before answering `AdThrottled` at once. Default 5 min. */
  readonly maxThrottleWaitMs?: number
  /** Retries after a throttle answer. Default 3. */
  readonly maxThrottledRetries?: number
  /** Wait after a throttle answer that gave no time to regain access. Default 60 s. */
  readonly throttleFallbackMs?: number
  /** Retries of 5xx, transient errors and network failures. Default 3. */
  readonly maxUnavailableRetries?: number
  /** First backoff step, doubled per attempt with equal jitter, capped. Defaults 500 ms and 10 s. */
  readonly backoffBaseMs?: number
  readonly backoffMaxMs?: number
  /** Deadline of one HTTP request (wall clock). Default 30 s. */
  readonly requestTimeoutMs?: number
  /** Rows per insights page. Default 500. */
  readonly insightsPageSize?: number
  /**
   * The action types counted as conversions, in order of preference: the first present in a
   * row's `actions` (and, separately, `action_values`) is used. Meta reports one purchase under
   * several types at once, so they are never added up. Default `omni_purchase`, `purchase`,
   * `offsite_conversion.fb_pixel_purchase`.
   */
  readonly conversionActionTypes?: ReadonlyArray<string>
}

const DEFAULTS = {
  throttleAtPercent: 90,
  slowdownMaxDelayMs: 60_000,
  maxInFlightPerAccount: 10,
  tokenBucket: { capacity: 20, refillPerSecond: 10 },
  maxThrottleWaitMs: 300_000,
  maxThrottledRetries: 3,
  throttleFallbackMs: 60_000,
  maxUnavailableRetries: 3,
  backoffBaseMs: 500,
  backoffMaxMs: 10_000,
  requestTimeoutMs: 30_000,
  insightsPageSize: 500,
  conversionActionTypes: ["omni_purchase", "purchase", "offsite_conversion.fb_pixel_purchase"] as ReadonlyArray<string>
}

const PLATFORM = "meta"

/** Graph error codes that mean "slow down": app (4), user/account score (17), pages (32), custom (613), BUC (80000–80014). */
export const isThrottleCode = (code: number): boolean => code === 4 || code === 17 || code === 32 || code === 613 || (code >= 80000 && code <= 80014)

// ------------------------------------------------------------------------- wire shapes

const GraphErrorBody = Schema.Struct({
  error: Schema.Struct({
    message: Schema.String,
    type: Schema.optional(Schema.String),
    code: Schema.Number,
    error_subcode: Schema.optional(Schema.Number),
    is_transient: Schema.optional(Schema.Boolean),
    error_user_msg: Schema.optional(Schema.String),
    fbtrace_id: Schema.optional(Schema.String)
  })
})
const decodeGraphError = Schema.decodeUnknownResult(GraphErrorBody)

const Action = Schema.Struct({ action_type: Schema.String, value: Schema.Union([Schema.String, Schema.Number]) })
const InsightsRow = Schema.Struct({
  account_currency: Schema.optional(Schema.String),
  campaign_id: Schema.optional(Schema.String),
  campaign_name: Schema.optional(Schema.String),
  adset_id: Schema.optional(Schema.String),
  spend: Schema.optional(Schema.String),
  impressions: Schema.optional(Schema.String),
  clicks: Schema.optional(Schema.String),
  actions: Schema.optional(Schema.Array(Action)),
  action_values: Schema.optional(Schema.Array(Action)),
  date_start: Schema.String,
  date_stop: Schema.String
})
type InsightsRow = typeof InsightsRow.Type
const InsightsPage = Schema.Struct({
  data: Schema.Array(InsightsRow),
  paging: Schema.optional(
    Schema.Struct({
      cursors: Schema.optional(Schema.Struct({ before: Schema.optional(Schema.String), after: Schema.optional(Schema.String) })),
      next: Schema.optional(Schema.String)
    })
  )
})
const AccountNode = Schema.Struct({ id: Schema.String, currency: Schema.String })
const ObjectNode = Schema.Struct({
  id: Schema.String,
  name: Schema.String,
  status: Schema.String,
  effective_status: Schema.optional(Schema.String),
  daily_budget: Schema.optional(Schema.String),
  bid_amount: Schema.optional(Schema.Union([Schema.Number, Schema.String])),
  account_id: Schema.String,
  campaign_id: Schema.optional(Schema.String)
})
const Success = Schema.Struct({ success: Schema.Boolean })

// ------------------------------------------------------------------------- one call

interface GraphRequest {
  readonly method: "GET" | "POST"
  /** Path after the version, e.g. `act_123/insights` or `120200000000000001`. */
  readonly path: string
  readonly params: Readonly<Record<string, string>>
  readonly buc: BucType
}

/** How one attempt ended. */
type Attempt =
  | { readonly _tag: "ok"; readonly body: unknown }
  | { readonly _tag: "throttled"; readonly signal: string; readonly regainMs: number | undefined; readonly message: string }
  | { readonly _tag: "unavailable"; readonly message: string }
  | { readonly _tag: "auth"; readonly message: string }
  | { readonly _tag: "rejected"; readonly code: string; readonly message: string }

const describe = (cause: unknown): string => {
  if (!(cause instanceof Error)) return String(cause)
  const inner = (cause as Error & { cause?: unknown }).cause
  return inner instanceof Error ? `${cause.message}: ${inner.message}` : cause.message
}

const parseJson = (text: string): unknown => {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

/** Classifies an answer: Graph errors by code, then the HTTP status. */
export const classify = (status: number, body: unknown, usage: UsageReport | undefined): Attempt => {
  const graphError = decodeGraphError(body)
  if (Result.isSuccess(graphError)) {
    const e = graphError.success.error
    const code = e.error_subcode === undefined ? String(e.code) : `${e.code}/${e.error_subcode}`
    if (e.code === 190 || e.code === 102) return { _tag: "auth", message: `${e.message} (code ${code})` }
    if (isThrottleCode(e.code)) {
      const regainMs = usage !== undefined && usage.regainMs > 0 ? usage.regainMs : undefined
      const signal = `error ${code}${usage === undefined ? "" : `; X-Business-Use-Case-Usage ${usage.describe}`}`
      return { _tag: "throttled", signal, regainMs, message: e.message }
    }
    if (status >= 500 || e.code === 1 || e.code === 2 || e.is_transient === true) return { _tag: "unavailable", message: `HTTP ${status}: ${e.message} (code ${code})` }
    return { _tag: "rejected", code, message: e.error_user_msg === undefined ? e.message : `${e.message}: ${e.error_user_msg}` }
  }
  if (status >= 500 || status === 429) return { _tag: "unavailable", message: `HTTP ${status}` }
  if (status >= 200 && status < 300 && body !== undefined) return { _tag: "ok", body }
  return { _tag: "rejected", code: `http_${status}`, message: `HTTP ${status} without a Graph API body` }
}

/** Capped exponential backoff with equal jitter (`random01` in [0, 1)). */
export const backoffDelay = (attempt: number, baseMs: number, maxMs: number, random01: number): number => {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1))
  return Math.round(ceiling / 2 + (ceiling / 2) * random01)
}

const toStatus = (status: string): AdStatus => (status === "ACTIVE" ? "ENABLED" : status === "PAUSED" ? "PAUSED" : "REMOVED")

const CAMPAIGN_FIELDS = "id,name,status,effective_status,daily_budget,account_id"
const ADSET_FIELDS = "id,name,status,effective_status,daily_budget,bid_amount,account_id,campaign_id"
const INSIGHTS_FIELDS = "account_currency,campaign_id,campaign_name,adset_id,spend,impressions,clicks,actions,action_values"

/** Makes the Meta client. Its governors, buckets and currency cache live as long as it does. */
export const makeMetaAdsClient = (options: MetaAdsClientOptions): AdPlatformClient => {
  const o = { ...DEFAULTS, ...options }
  const fetchFn = options.fetch ?? globalThis.fetch
  const root = `${options.baseUrl.replace(/\/+$/, "")}/${options.apiVersion}`
  const buckets = makeTokenBuckets(o.tokenBucket)
  const governors = new Map<string, UsageGovernor>()
  const currencies = new Map<string, string>()
  const pendingCurrencies = new Map<string, Deferred.Deferred<string, AdError>>()

  const governorFor = (accountId: string, buc: BucType): UsageGovernor => {
    const key = `${accountId}/${buc}`
    let g = governors.get(key)
    if (g === undefined) {
      g = makeUsageGovernor({ throttleAtPercent: o.throttleAtPercent, maxDelayMs: o.slowdownMaxDelayMs, maxInFlight: o.maxInFlightPerAccount })
      governors.set(key, g)
    }
    return g
  }

  /**
   * One HTTP exchange through the account's governor and bucket. The governor always hears how
   * it ended (even when interrupted), so a slot is never lost; waiting for one stays interruptible.
   */
  const attempt = (account: AdAccount, request: GraphRequest): Effect.Effect<Attempt> => {
    const governor = governorFor(account.accountId, request.buc)
    return Effect.uninterruptibleMask((restore) => Effect.flatMap(restore(governor.acquire), (ticket) => {
      let report: UsageReport | undefined
      return buckets.forKey(account.accountId).take().pipe(
        Effect.andThen(
          Effect.tryPromise({
            try: async (signal) => {
              const query = new URLSearchParams(request.method === "GET" ? request.params : {})
              const url = `${root}/${request.path}${query.size > 0 ? `?${query}` : ""}`
              const response = await fetchFn(url, {
                method: request.method,
                headers: {
                  Authorization: `Bearer ${Redacted.value(account.accessToken)}`,
                  Accept: "application/json",
                  ...(request.method === "POST" ? { "Content-Type": "application/x-www-form-urlencoded" } : {})
                },
                ...(request.method === "POST" ? { body: new URLSearchParams(request.params).toString() } : {}),
                signal: AbortSignal.any([signal, AbortSignal.timeout(o.requestTimeoutMs)])
              })
              report = readUsage(response.headers, account.accountId, request.buc)
              return { status: response.status, body: parseJson(await response.text()) }
            },
            catch: (cause) => cause
          })
        ),
        Effect.match({
          onFailure: (cause): Attempt => ({ _tag: "unavailable", message: `network: ${describe(cause)}` }),
          onSuccess: ({ status, body }): Attempt => classify(status, body, report)
        }),
        restore,
        Effect.ensuring(Effect.suspend(() => governor.settle(ticket, report)))
      )
    }))
  }

  /** A Graph call with Meta's throttling honoured and transient failures retried, as typed errors. */
  const call = (account: AdAccount, request: GraphRequest): Effect.Effect<unknown, AdError> =>
    Effect.gen(function*() {
      let throttled = 0
      let unavailable = 0
      for (;;) {
        const result = yield* attempt(account, request)
        switch (result._tag) {
          case "ok":
            return result.body
          case "auth":
            return yield* new AdAuthExpired({ platform: PLATFORM, accountId: account.accountId, message: result.message })
          case "rejected":
            return yield* new AdRejected({ platform: PLATFORM, accountId: account.accountId, code: result.code, message: result.message })
          case "throttled": {
            const waitMs = result.regainMs ?? o.throttleFallbackMs
            if (throttled >= o.maxThrottledRetries || waitMs > o.maxThrottleWaitMs) {
              return yield* new AdThrottled({ platform: PLATFORM, accountId: account.accountId, signal: result.signal, retryAfterMs: waitMs, message: result.message })
            }
            throttled++
            const now = yield* Clock.currentTimeMillis
            // Every caller of the account waits, not just this one.
            yield* governorFor(account.accountId, request.buc).blockUntil(now + waitMs)
            break
          }
          case "unavailable": {
            if (unavailable >= o.maxUnavailableRetries) {
              return yield* new AdUnavailable({ platform: PLATFORM, accountId: account.accountId, message: result.message })
            }
            unavailable++
            const jitter = yield* Random.next
            yield* Effect.sleep(backoffDelay(unavailable, o.backoffBaseMs, o.backoffMaxMs, jitter))
            break
          }
        }
      }
    })

  const decode = <S extends Schema.Top & { readonly DecodingServices: never }>(schema: S, account: AdAccount, body: unknown): Effect.Effect<S["Type"], AdRejected> =>
    Effect.mapError(
      Schema.decodeUnknownEffect(schema)(body),
      (issue) => new AdRejected({ platform: PLATFORM, accountId: account.accountId, code: "unexpected_response", message: String(issue) })
    )

  const rejected = (account: AdAccount, code: string, message: string) => new AdRejected({ platform: PLATFORM, accountId: account.accountId, code, message })

  /**
   * The ad account's currency, asked once per client (an account's currency does not change);
   * concurrent first callers share one request, and a failed one is asked again next time.
   */
  const currencyOf = (account: AdAccount): Effect.Effect<string, AdError> =>
    Effect.suspend(() => {
      const known = currencies.get(account.accountId)
      if (known !== undefined) return Effect.succeed(known)
      const waiting = pendingCurrencies.get(account.accountId)
      if (waiting !== undefined) return Deferred.await(waiting)
      const pending = Deferred.makeUnsafe<string, AdError>()
      pendingCurrencies.set(account.accountId, pending)
      return call(account, { method: "GET", path: `act_${account.accountId}`, params: { fields: "currency" }, buc: "ads_management" }).pipe(
        Effect.flatMap((body) => decode(AccountNode, account, body)),
        Effect.map((node) => node.currency),
        Effect.onExit((exit) =>
          Effect.sync(() => {
            pendingCurrencies.delete(account.accountId)
            if (exit._tag === "Success") currencies.set(account.accountId, exit.value)
            Deferred.doneUnsafe(pending, exit)
          })
        )
      )
    })

  const checkAccount = (account: AdAccount): Effect.Effect<void, AdRejected> =>
    /^\d+$/.test(account.accountId) ? Effect.void : Effect.fail(rejected(account, "invalid_account_id", `a Meta ad account id is digits without act_: ${account.accountId}`))

  const checkRef = (account: AdAccount, ref: AdObjectRef): Effect.Effect<void, AdError> => {
    if (ref.kind === "keyword") return Effect.fail(new AdUnsupported({ platform: PLATFORM, message: "Meta has no keywords: target ad sets (ad_group) or campaigns" }))
    if (!/^\d+$/.test(ref.id)) return Effect.fail(rejected(account, "invalid_object_id", `a Meta ${ref.kind === "campaign" ? "campaign" : "ad set"} id is digits: ${ref.id}`))
    return checkAccount(account)
  }

  const conversionsOf = (actions: ReadonlyArray<typeof Action.Type> | undefined): typeof Action.Type | undefined => {
    if (actions === undefined) return undefined
    for (const type of o.conversionActionTypes) {
      const found = actions.find((a) => a.action_type === type)
      if (found !== undefined) return found
    }
    return undefined
  }

  const rowOf = (account: AdAccount, date: string, level: "campaign" | "ad_group", row: InsightsRow, currency: string | undefined): Effect.Effect<AdInsightRow, AdRejected> => {
    const spend = decimalToMicros(row.spend ?? "0")
    const purchases = conversionsOf(row.actions)
    const value = conversionsOf(row.action_values)
    const conversionValue = value === undefined ? 0 : decimalToMicros(String(value.value))
    const conversions = purchases === undefined ? 0 : countOf(purchases.value)
    const impressions = countOf(row.impressions ?? "0")
    const clicks = countOf(row.clicks ?? "0")
    const rowCurrency = row.account_currency ?? currency
    if (spend === undefined || conversionValue === undefined || conversions === undefined || impressions === undefined || clicks === undefined || rowCurrency === undefined || row.campaign_id === undefined) {
      return Effect.fail(rejected(account, "unexpected_response", `an insights row Meta sent could not be read: ${JSON.stringify(row)}`))
    }
    if (level === "ad_group" && row.adset_id === undefined) return Effect.fail(rejected(account, "unexpected_response", "an ad set insights row without adset_id"))
    return Effect.succeed({
      date,
      level,
      campaignId: row.campaign_id,
      campaignName: row.campaign_name ?? "",
      adGroupId: level === "ad_group" ? (row.adset_id as string) : null,
      keywordId: null,
      keywordText: null,
      currency: rowCurrency,
      spendMicros: spend,
      impressions,
      clicks,
      conversions,
      conversionValueMicros: conversionValue
    })
  }

  const insightsAt = (account: AdAccount, date: string, level: "campaign" | "adset"): Effect.Effect<ReadonlyArray<AdInsightRow>, AdError> =>
    Effect.gen(function*() {
      const rows: Array<AdInsightRow> = []
      let after: string | undefined
      for (let page = 0; page < 1000; page++) {
        const params: Record<string, string> = {
          level,
          fields: level === "adset" ? `${INSIGHTS_FIELDS},adset_name` : INSIGHTS_FIELDS,
          time_range: JSON.stringify({ since: date, until: date }),
          time_increment: "1",
          limit: String(o.insightsPageSize),
          ...(after === undefined ? {} : { after })
        }
        const body = yield* call(account, { method: "GET", path: `act_${account.accountId}/insights`, params, buc: "ads_insights" })
        const decoded = yield* decode(InsightsPage, account, body)
        for (const row of decoded.data) rows.push(yield* rowOf(account, date, level === "adset" ? "ad_group" : "campaign", row, currencies.get(account.accountId)))
        after = decoded.paging?.cursors?.after
        if (decoded.paging?.next === undefined || after === undefined) return rows
      }
      return yield* rejected(account, "too_many_pages", "insights paging did not end after 1000 pages")
    })

  const readObject = (account: AdAccount, ref: AdObjectRef): Effect.Effect<AdObject, AdError> =>
    Effect.gen(function*() {
      const currency = yield* currencyOf(account)
      const body = yield* call(account, {
        method: "GET",
        path: ref.id,
        params: { fields: ref.kind === "campaign" ? CAMPAIGN_FIELDS : ADSET_FIELDS },
        buc: "ads_management"
      })
      const node = yield* decode(ObjectNode, account, body)
      if (node.account_id !== account.accountId) {
        return yield* rejected(account, "object_not_in_account", `${ref.id} belongs to ad account ${node.account_id}, not ${account.accountId}`)
      }
      const budget = node.daily_budget === undefined ? undefined : countOf(node.daily_budget)
      const bid = node.bid_amount === undefined ? undefined : countOf(node.bid_amount)
      return {
        ref: { kind: ref.kind, id: node.id },
        name: node.name,
        status: toStatus(node.status),
        bidMicros: ref.kind === "ad_group" && bid !== undefined ? minorToMicros(bid, currency) : null,
        dailyBudgetMicros: budget === undefined || budget <= 0 ? null : minorToMicros(budget, currency),
        currency
      } satisfies AdObject
    })

  return {
    platform: PLATFORM,

    insights: Effect.fn("MetaAdsClient.insights")(function*(account: AdAccount, date: string) {
      yield* checkAccount(account)
      if (!/^\d{4}-\d{2}-\d{2}$/.test(date)) return yield* rejected(account, "invalid_date", `a date is YYYY-MM-DD: ${date}`)
      const [campaigns, adSets] = yield* Effect.all([insightsAt(account, date, "campaign"), insightsAt(account, date, "adset")], { concurrency: 2 })
      return [...campaigns, ...adSets]
    }),

    getObject: Effect.fn("MetaAdsClient.getObject")(function*(account: AdAccount, ref: AdObjectRef) {
      yield* checkRef(account, ref)
      return yield* readObject(account, ref)
    }),

    updateObject: Effect.fn("MetaAdsClient.updateObject")(function*(account: AdAccount, ref: AdObjectRef, patch: AdObjectPatch) {
      yield* checkRef(account, ref)
      if (ref.kind === "campaign" && patch.bidMicros !== undefined) {
        return yield* rejected(account, "bid_on_campaign", "Meta campaigns have no bid amount; set it on an ad set (ad_group)")
      }
      const params: Record<string, string> = {}
      if (patch.status !== undefined) params.status = patch.status === "ENABLED" ? "ACTIVE" : "PAUSED"
      if (patch.dailyBudgetMicros !== undefined || patch.bidMicros !== undefined) {
        const currency = yield* currencyOf(account)
        if (patch.dailyBudgetMicros !== undefined) params.daily_budget = String(microsToMinor(patch.dailyBudgetMicros, currency))
        if (patch.bidMicros !== undefined) params.bid_amount = String(microsToMinor(patch.bidMicros, currency))
      }
      if (Object.keys(params).length > 0) {
        const body = yield* call(account, { method: "POST", path: ref.id, params, buc: "ads_management" })
        const result = yield* decode(Success, account, body)
        if (!result.success) return yield* rejected(account, "not_applied", `Meta answered success: false for ${ref.id}`)
      }
      return yield* readObject(account, ref)
    })
  }
}
