/**
 * `AdPlatformClient` for the TikTok Marketing API v1.3 (TikTok API for Business): daily
 * insights from synchronous BASIC reports at campaign and ad group level, and campaigns and
 * ad groups read and changed through `campaign|adgroup/get/`, `…/status/update/` and
 * `…/update/`. TikTok has no keywords: they answer `AdUnsupported` without a call.
 *
 * Pacing: every call for an advertiser first takes a token from that advertiser's bucket
 * (`qps` refill, `burst` capacity), so Sumeru slows down before TikTok refuses it and one
 * busy advertiser never delays another. TikTok signals throttling with **HTTP 200 and body
 * `code: 40100`**; the client then empties the bucket and holds it for a jittered, growing
 * pause (every caller of that advertiser waits, not just the refused one) and retries, up to
 * `maxThrottledRetries` times, then fails with `AdThrottled` (`signal: "code 40100"`).
 * 5xx, TikTok's 5xxxx codes, network failures and timeouts are retried with backoff up to
 * `maxUnavailableRetries` times, then `AdUnavailable`. Access-token codes (4010x) and 40001
 * fail with `AdAuthExpired`; any other non-zero code with `AdRejected` (its code and message).
 * Every retried call is idempotent (reads, and writes that set absolute values).
 *
 * Amounts: TikTok budgets, bids and report money are decimal amounts of the advertiser's
 * currency (read once per advertiser from `advertiser/info/`); they are converted to and
 * from micros here. Writes are rounded to the currency's decimals (cents; whole yen).
 *
 * The access token is only unwrapped to set the `Access-Token` header; it never appears in
 * an error message. Waits use Effect's `Clock`, jitter its `Random`; only the per-request
 * deadline is a wall-clock `AbortSignal`.
 */
import { Clock, Deferred, Effect, Option, Random, Redacted, Schema } from "effect"
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
import { makeTokenBuckets } from "../TokenBucket.ts"
import {
  AdGroupPage,
  AdvertiserInfo,
  CampaignPage,
  ReportPage,
  amountToMicros,
  classifyAnswer,
  countOf,
  microsToAmount,
  type AdGroup,
  type Answer,
  type Campaign,
  type ReportRow
} from "./TikTokWire.ts"

export interface TikTokAdsClientOptions {
  /** Origin of the API, e.g. `https://business-api.tiktok.com` or the simulator's URL. */
  readonly baseUrl: string
  /** HTTP (default `globalThis.fetch`). */
  readonly fetch?: typeof globalThis.fetch
  /** Calls per second per advertiser once the burst is spent (default 5). */
  readonly qps?: number
  /** Calls an idle advertiser may make at once (default 3). */
  readonly burst?: number
  /** Report rows per page (default 1000, TikTok's maximum). */
  readonly pageSize?: number
  /** Deadline of one HTTP call (default 30 s). */
  readonly requestTimeoutMs?: number
  /** Retries after a code-40100 answer (default 5). */
  readonly maxThrottledRetries?: number
  /** Retries after a 5xx, a 5xxxx code, a network failure or a timeout (default 3). */
  readonly maxUnavailableRetries?: number
  /** First hold of the advertiser's bucket after a 40100 (default 1 s), growing like the backoff. */
  readonly throttlePauseMs?: number
  /** First backoff step after a transient failure (default 500 ms), doubled per attempt with equal jitter. */
  readonly backoffBaseMs?: number
  /** Cap of the backoff and of the hold (default 30 s). */
  readonly backoffMaxMs?: number
}

const DEFAULTS = {
  qps: 5,
  burst: 3,
  pageSize: 1_000,
  requestTimeoutMs: 30_000,
  maxThrottledRetries: 5,
  maxUnavailableRetries: 3,
  throttlePauseMs: 1_000,
  backoffBaseMs: 500,
  backoffMaxMs: 30_000
}

const PLATFORM = "tiktok"
const API = "/open_api/v1.3"
/** Report pages followed at most (1000 rows each). */
const MAX_REPORT_PAGES = 1_000

const CAMPAIGN_FIELDS = ["campaign_id", "campaign_name", "budget_mode", "budget", "operation_status", "secondary_status"]
const ADGROUP_FIELDS = ["adgroup_id", "campaign_id", "adgroup_name", "budget_mode", "budget", "bid_type", "bid_price", "operation_status", "secondary_status"]
const REPORT_METRICS = ["spend", "impressions", "clicks", "conversion", "total_complete_payment_rate"]

/** Capped exponential backoff with "equal jitter": half fixed, half random (`random01` in [0, 1)). */
const backoffDelay = (attempt: number, baseMs: number, maxMs: number, random01: number): number => {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1))
  return Math.round(ceiling / 2 + (ceiling / 2) * random01)
}

const describe = (cause: unknown): string => {
  if (!(cause instanceof Error)) return String(cause)
  const inner = (cause as Error & { cause?: unknown }).cause
  return inner instanceof Error ? `${cause.name}: ${cause.message}: ${inner.message}` : `${cause.name}: ${cause.message}`
}

const statusOf = (operation: string, secondary: string | undefined): AdStatus =>
  secondary !== undefined && secondary.endsWith("_DELETE") ? "REMOVED" : operation === "ENABLE" ? "ENABLED" : "PAUSED"

const unsupported = (ref: AdObjectRef) =>
  new AdUnsupported({ platform: PLATFORM, message: `TikTok has no ${ref.kind} objects (${ref.kind} ${ref.id}); only campaigns and ad groups` })

/**
 * A TikTok client. Buckets and the advertisers' currencies live as long as the client: make
 * one per process (per base URL), not one per call.
 */
export const makeTikTokAdsClient = (options: TikTokAdsClientOptions): AdPlatformClient => {
  const o = { ...DEFAULTS, ...options }
  const fetchFn = options.fetch ?? globalThis.fetch
  const base = options.baseUrl.replace(/\/+$/, "")
  const buckets = makeTokenBuckets({ capacity: Math.max(1, o.burst), refillPerSecond: o.qps })

  const rejected = (account: AdAccount, code: string, message: string) => new AdRejected({ platform: PLATFORM, accountId: account.accountId, code, message })

  /** One HTTP exchange, classified; never fails (a network failure is an `Unavailable` answer). */
  const send = (account: AdAccount, method: "GET" | "POST", path: string, params: Readonly<Record<string, unknown>>): Effect.Effect<Answer> =>
    Effect.tryPromise({
      try: async (interrupt): Promise<Answer> => {
        const signal = AbortSignal.any([interrupt, AbortSignal.timeout(o.requestTimeoutMs)])
        const url = new URL(`${base}${API}${path}`)
        const headers: Record<string, string> = { "Access-Token": Redacted.value(account.accessToken), Accept: "application/json" }
        let body: string | undefined
        if (method === "GET") {
          // TikTok takes lists and objects in the query string as JSON.
          for (const [name, value] of Object.entries(params)) url.searchParams.set(name, typeof value === "string" ? value : JSON.stringify(value))
        } else {
          headers["Content-Type"] = "application/json"
          body = JSON.stringify(params)
        }
        const response = await fetchFn(url, { method, headers, signal, ...(body !== undefined ? { body } : {}) })
        return classifyAnswer(response.status, await response.text())
      },
      catch: (cause) => cause
    }).pipe(Effect.catch((cause) => Effect.succeed<Answer>({ _tag: "Unavailable", message: describe(cause) })))

  /**
   * One API call for `account`, paced by its bucket, with TikTok's throttling and transient
   * failures retried (bounded); answers the envelope's `data`.
   */
  const call = Effect.fnUntraced(function*(
    account: AdAccount,
    method: "GET" | "POST",
    path: string,
    params: Readonly<Record<string, unknown>>
  ): Effect.fn.Return<unknown, AdError> {
    if (account.platform !== PLATFORM) return yield* rejected(account, "WRONG_PLATFORM", `a ${account.platform} account given to the TikTok client`)
    const bucket = buckets.forKey(account.accountId)
    let throttled = 0
    let unavailable = 0
    for (;;) {
      yield* bucket.take()
      const answer = yield* send(account, method, path, params)
      switch (answer._tag) {
        case "Ok":
          return answer.data
        case "Throttled": {
          // Drain: every caller of this advertiser waits out the hold, not only this one.
          const hold = backoffDelay(++throttled, o.throttlePauseMs, o.backoffMaxMs, yield* Random.next)
          yield* bucket.holdUntil((yield* Clock.currentTimeMillis) + hold)
          if (throttled > o.maxThrottledRetries) {
            return yield* new AdThrottled({ platform: PLATFORM, accountId: account.accountId, signal: answer.signal, retryAfterMs: hold, message: answer.message })
          }
          continue
        }
        case "Unavailable": {
          if (++unavailable > o.maxUnavailableRetries) {
            return yield* new AdUnavailable({ platform: PLATFORM, accountId: account.accountId, message: `${method} ${path}: ${answer.message}` })
          }
          yield* Effect.sleep(backoffDelay(unavailable, o.backoffBaseMs, o.backoffMaxMs, yield* Random.next))
          continue
        }
        case "AuthExpired":
          return yield* new AdAuthExpired({ platform: PLATFORM, accountId: account.accountId, message: answer.message })
        case "Rejected":
          return yield* rejected(account, answer.code, `${method} ${path}: ${answer.message}`)
      }
    }
  })

  /** `call`, then the data decoded with `schema` (a mismatch is a refusal we cannot retry). */
  const callAs = <A, I>(schema: Schema.Codec<A, I>, account: AdAccount, method: "GET" | "POST", path: string, params: Readonly<Record<string, unknown>>) =>
    Effect.flatMap(call(account, method, path, params), (data) => {
      const decoded = Schema.decodeUnknownOption(schema)(data)
      return Option.isSome(decoded)
        ? Effect.succeed(decoded.value)
        : Effect.fail(rejected(account, "UNEXPECTED_RESPONSE", `${method} ${path}: the answer's data does not have the expected shape`))
    })

  // --------------------------------------------------------------------- currencies

  const currencies = new Map<string, string>()
  const lookups = new Map<string, Deferred.Deferred<string, AdError>>()

  /**
   * The advertiser's currency, asked once: concurrent callers share one `advertiser/info/`
   * call and its outcome (a failure is not cached: the next caller asks again; if the asking
   * fiber is interrupted, the callers waiting on it are interrupted too).
   */
  const currencyOf = (account: AdAccount): Effect.Effect<string, AdError> =>
    Effect.suspend(() => {
      const known = currencies.get(account.accountId)
      if (known !== undefined) return Effect.succeed(known)
      const pending = lookups.get(account.accountId)
      if (pending !== undefined) return Deferred.await(pending)
      const lookup = Deferred.makeUnsafe<string, AdError>()
      lookups.set(account.accountId, lookup)
      return callAs(AdvertiserInfo, account, "GET", "/advertiser/info/", { advertiser_ids: [account.accountId], fields: ["advertiser_id", "currency"] }).pipe(
        Effect.flatMap((info) => {
          const currency = info.list.find((a) => a.advertiser_id === account.accountId)?.currency
          return currency === undefined
            ? Effect.fail(rejected(account, "NOT_FOUND", `advertiser ${account.accountId} is not in the advertiser/info answer`))
            : Effect.succeed(currency)
        }),
        Effect.tap((currency) => Effect.sync(() => currencies.set(account.accountId, currency))),
        Effect.onExit((exit) =>
          Effect.sync(() => {
            lookups.delete(account.accountId)
            Deferred.doneUnsafe(lookup, exit)
          })
        )
      )
    })

  // --------------------------------------------------------------------- insights

  /** Every row of one day's BASIC report at `dataLevel`, following the pages. */
  const reportRows = Effect.fnUntraced(function*(
    account: AdAccount,
    dataLevel: "AUCTION_CAMPAIGN" | "AUCTION_ADGROUP",
    date: string
  ): Effect.fn.Return<ReadonlyArray<ReportRow>, AdError> {
    const rows: Array<ReportRow> = []
    const level = dataLevel === "AUCTION_CAMPAIGN"
      ? { dimensions: ["campaign_id", "stat_time_day"], metrics: ["campaign_name", ...REPORT_METRICS] }
      : { dimensions: ["adgroup_id", "stat_time_day"], metrics: ["campaign_id", "campaign_name", "adgroup_name", ...REPORT_METRICS] }
    for (let page = 1; page <= MAX_REPORT_PAGES; page++) {
      const answer = yield* callAs(ReportPage, account, "GET", "/report/integrated/get/", {
        advertiser_id: account.accountId,
        report_type: "BASIC",
        service_type: "AUCTION",
        data_level: dataLevel,
        dimensions: level.dimensions,
        metrics: level.metrics,
        start_date: date,
        end_date: date,
        page: String(page),
        page_size: String(o.pageSize)
      })
      rows.push(...answer.list)
      if (page >= answer.page_info.total_page || answer.list.length === 0) break
    }
    return rows
  })

  const text = (value: string | number | null | undefined): string => (value === null || value === undefined ? "" : String(value))

  const insightRow = (row: ReportRow, level: "campaign" | "ad_group", date: string, currency: string): AdInsightRow => {
    const m = row.metrics
    const day = text(row.dimensions["stat_time_day"]).slice(0, 10)
    return {
      date: day === "" ? date : day,
      level,
      campaignId: level === "campaign" ? text(row.dimensions["campaign_id"]) : text(m["campaign_id"]),
      campaignName: text(m["campaign_name"]),
      adGroupId: level === "ad_group" ? text(row.dimensions["adgroup_id"]) : null,
      keywordId: null,
      keywordText: null,
      currency,
      spendMicros: amountToMicros(m["spend"]),
      impressions: countOf(m["impressions"]),
      clicks: countOf(m["clicks"]),
      conversions: countOf(m["conversion"]),
      conversionValueMicros: amountToMicros(m["total_complete_payment_rate"])
    }
  }

  const insights = Effect.fn("TikTokAds.insights")(function*(account: AdAccount, date: string): Effect.fn.Return<ReadonlyArray<AdInsightRow>, AdError> {
    const currency = yield* currencyOf(account)
    const campaigns = yield* reportRows(account, "AUCTION_CAMPAIGN", date)
    const adGroups = yield* reportRows(account, "AUCTION_ADGROUP", date)
    return [
      ...campaigns.map((r) => insightRow(r, "campaign", date, currency)),
      ...adGroups.map((r) => insightRow(r, "ad_group", date, currency))
    ]
  })

  // --------------------------------------------------------------------- objects

  const campaignObject = (c: Campaign, currency: string): AdObject => ({
    ref: { kind: "campaign", id: c.campaign_id },
    name: c.campaign_name,
    status: statusOf(c.operation_status, c.secondary_status),
    bidMicros: null,
    dailyBudgetMicros: c.budget_mode === "BUDGET_MODE_DAY" && c.budget !== null ? amountToMicros(c.budget) : null,
    currency
  })

  const adGroupObject = (g: AdGroup, currency: string): AdObject => ({
    ref: { kind: "ad_group", id: g.adgroup_id },
    name: g.adgroup_name,
    status: statusOf(g.operation_status, g.secondary_status),
    bidMicros: g.bid_type === "BID_TYPE_CUSTOM" && g.bid_price !== undefined && g.bid_price !== null ? amountToMicros(g.bid_price) : null,
    dailyBudgetMicros: g.budget_mode === "BUDGET_MODE_DAY" && g.budget !== null ? amountToMicros(g.budget) : null,
    currency
  })

  const read = Effect.fnUntraced(function*(account: AdAccount, ref: AdObjectRef): Effect.fn.Return<AdObject, AdError> {
    if (ref.kind === "keyword") return yield* unsupported(ref)
    const currency = yield* currencyOf(account)
    // STATUS_ALL: a deleted object is reported as REMOVED rather than as missing.
    if (ref.kind === "campaign") {
      const page = yield* callAs(CampaignPage, account, "GET", "/campaign/get/", {
        advertiser_id: account.accountId,
        filtering: { campaign_ids: [ref.id], primary_status: "STATUS_ALL" },
        fields: CAMPAIGN_FIELDS
      })
      const found = page.list.find((c) => c.campaign_id === ref.id)
      if (found === undefined) return yield* rejected(account, "NOT_FOUND", `campaign ${ref.id} does not exist in advertiser ${account.accountId}`)
      return campaignObject(found, currency)
    }
    const page = yield* callAs(AdGroupPage, account, "GET", "/adgroup/get/", {
      advertiser_id: account.accountId,
      filtering: { adgroup_ids: [ref.id], primary_status: "STATUS_ALL" },
      fields: ADGROUP_FIELDS
    })
    const found = page.list.find((g) => g.adgroup_id === ref.id)
    if (found === undefined) return yield* rejected(account, "NOT_FOUND", `ad group ${ref.id} does not exist in advertiser ${account.accountId}`)
    return adGroupObject(found, currency)
  })

  const getObject = Effect.fn("TikTokAds.getObject")(function*(account: AdAccount, ref: AdObjectRef): Effect.fn.Return<AdObject, AdError> {
    return yield* read(account, ref)
  })

  /**
   * Reads the object, refuses what TikTok's model cannot express (a bid on a campaign, a
   * daily budget on a lifetime / unlimited budget, a bid without a custom bid strategy), sends
   * the amount changes, then the status change, then reads the object again. Values already
   * in place are not sent.
   */
  const updateObject = Effect.fn("TikTokAds.updateObject")(function*(
    account: AdAccount,
    ref: AdObjectRef,
    patch: AdObjectPatch
  ): Effect.fn.Return<AdObject, AdError> {
    if (ref.kind === "keyword") return yield* unsupported(ref)
    const current = yield* read(account, ref)
    const noun = ref.kind === "campaign" ? "campaign" : "ad group"
    const amounts: Record<string, number> = {}
    if (patch.bidMicros !== undefined) {
      if (ref.kind === "campaign") return yield* rejected(account, "UNSUPPORTED_FIELD", `TikTok campaigns have no bid (campaign ${ref.id}); bid on its ad groups`)
      if (current.bidMicros === null) return yield* rejected(account, "NO_CUSTOM_BID", `ad group ${ref.id} does not use a custom bid (bid_type BID_TYPE_CUSTOM)`)
      const bid = microsToAmount(patch.bidMicros, current.currency)
      if (amountToMicros(bid) !== current.bidMicros) amounts["bid_price"] = bid
    }
    if (patch.dailyBudgetMicros !== undefined) {
      if (current.dailyBudgetMicros === null) return yield* rejected(account, "NOT_DAILY_BUDGET", `${noun} ${ref.id} has no daily budget (budget_mode is not BUDGET_MODE_DAY)`)
      const budget = microsToAmount(patch.dailyBudgetMicros, current.currency)
      if (amountToMicros(budget) !== current.dailyBudgetMicros) amounts["budget"] = budget
    }
    const status = patch.status !== undefined && patch.status !== current.status ? patch.status : undefined
    if (Object.keys(amounts).length === 0 && status === undefined) return current
    if (Object.keys(amounts).length > 0) {
      yield* ref.kind === "campaign"
        ? call(account, "POST", "/campaign/update/", { advertiser_id: account.accountId, campaign_id: ref.id, ...amounts })
        : call(account, "POST", "/adgroup/update/", { advertiser_id: account.accountId, adgroup_id: ref.id, ...amounts })
    }
    if (status !== undefined) {
      const operation_status = status === "ENABLED" ? "ENABLE" : "DISABLE"
      yield* ref.kind === "campaign"
        ? call(account, "POST", "/campaign/status/update/", { advertiser_id: account.accountId, campaign_ids: [ref.id], operation_status })
        : call(account, "POST", "/adgroup/status/update/", { advertiser_id: account.accountId, adgroup_ids: [ref.id], operation_status })
    }
    return yield* read(account, ref)
  })

  return { platform: PLATFORM, insights, getObject, updateObject }
}
