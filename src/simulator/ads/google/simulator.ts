/**
 * `startGoogleAdsSimulator`: the Google Ads API's REST interface on 127.0.0.1 (the kit's server,
 * so `sim.faults` and `sim.log` work on every route), for the calls an ads client makes:
 *
 * - `POST /{version}/customers/{customerId}/googleAds:searchStream` `{query}` (GAQL) → a JSON array
 *   of `SearchGoogleAdsStreamResponse` batches `{results, fieldMask, requestId}`;
 * - `POST /{version}/customers/{customerId}/{campaigns|adGroups|adGroupCriteria|campaignBudgets}:mutate`
 *   `{operations: [{update: {resourceName, …}, updateMask: "status,cpcBidMicros"}]}` →
 *   `{results: [{resourceName}]}` (atomic; `validateOnly` supported).
 *
 * Credentials: `Authorization: Bearer <access token>` (401 `UNAUTHENTICATED` with
 * `authenticationError` `OAUTH_TOKEN_INVALID` / `OAUTH_TOKEN_EXPIRED`), an optional
 * `login-customer-id` (a manager of the account, else 403 `USER_PERMISSION_DENIED`) and the
 * `developer-token` header (ignored by default, as Google ignores it since developer tokens were
 * sunset; `developerTokenHeader: "required"` checks it as before).
 *
 * Quotas: a per-customer request rate over a sliding second (429 `RESOURCE_EXHAUSTED` with
 * `quotaError: RESOURCE_TEMPORARILY_EXHAUSTED`, `rateScope: ACCOUNT` and a `retryDelay`), and a
 * daily operation quota per developer token / Cloud project (a search is one operation, a mutate
 * one per operation; 429 with `quotaError: RESOURCE_EXHAUSTED`, `rateScope: DEVELOPER`, retry at
 * the next midnight Pacific time). 5xx come from the kit's faults, in Google's error shape.
 */
import { DeterministicIds } from "../../kit/DeterministicIds.ts"
import { FaultQueue, HttpFaults } from "../../kit/Faults.ts"
import { RequestLog } from "../../kit/RequestLog.ts"
import { makeClock, type Clock, type SimulatedClock } from "../../kit/SimulatedClock.ts"
import { startSimulatorServer, type SimulatorServer } from "../../kit/SimulatorServer.ts"
import { durationJson, faultBody, googleAdsFailure, json, rpcError, type GoogleAdsErrorJson } from "./errors.ts"
import { GaqlError, parseGaql } from "./gaql.ts"
import { accountDay, type AccountDay } from "./metrics.ts"
import { AccountModel, keywordKey, type GoogleAdsAccountInit, type GoogleAdsStatus, type KeywordMatchType } from "./model.ts"
import { search } from "./search.ts"

/** Versions Google serves in November 2026 (v22 sunset on 7 Oct 2026; v26 is the latest). */
export const GOOGLE_ADS_API_VERSIONS = ["v23", "v24", "v25", "v26"] as const
export const GOOGLE_ADS_LATEST_VERSION = "v26"

export interface GoogleAdsSimulatorOptions {
  readonly accounts: ReadonlyArray<GoogleAdsAccountInit>
  /** Time of rate windows, quota days and "today" for insights (default: a real-time kit clock). */
  readonly clock?: Clock | SimulatedClock
  /** Seed of request ids, budget ids and insight data (default: random, i.e. new data each run). */
  readonly seed?: string
  /** Versions served; others answer 404. Default `GOOGLE_ADS_API_VERSIONS`. */
  readonly apiVersions?: ReadonlyArray<string>
  /** Requests per customer in any sliding second before `RESOURCE_TEMPORARILY_EXHAUSTED`. Default 10. */
  readonly requestsPerSecond?: number
  /** `retryDelay` of those refusals, in seconds (`null`: no `quotaErrorDetails`). Default 1. */
  readonly rateLimitRetryDelaySeconds?: number | null
  /** Operations per developer token (or Cloud project) per Pacific-time day. Default 15,000 (Basic access). */
  readonly dailyOperations?: number
  /** `"ignored"` (default, Google since the developer-token sunset) or `"required"` (checked: 401 `DEVELOPER_TOKEN_INVALID`). */
  readonly developerTokenHeader?: "ignored" | "required"
  /** Rows per `searchStream` batch. Default 10,000 (Google's). */
  readonly streamBatchSize?: number
  readonly port?: number
  readonly hostname?: string
}

/** One request as the simulator understood it (the protocol log). */
export interface GoogleAdsRequest {
  readonly seq: number
  readonly at: number
  readonly apiVersion: string
  readonly customerId: string
  /** `searchStream` or the mutate service (`campaigns`, `adGroups`, `adGroupCriteria`, `campaignBudgets`). */
  readonly method: "searchStream" | "campaigns" | "adGroups" | "adGroupCriteria" | "campaignBudgets"
  readonly query: string | undefined
  /** Operations counted against the daily quota (1 for a search). */
  readonly operations: number
  readonly loginCustomerId: string | undefined
  readonly requestId: string
  /** HTTP status answered. */
  status: number
  /** `ok`, or the error code answered (`RESOURCE_TEMPORARILY_EXHAUSTED`, `RESOURCE_EXHAUSTED`, `OAUTH_TOKEN_EXPIRED`, …). */
  outcome: string
}

/** An injected `RESOURCE_TEMPORARILY_EXHAUSTED`. */
export interface ThrottleFault {
  /** `retryDelay` in seconds (default: the simulator's `rateLimitRetryDelaySeconds`); `null` for none. */
  readonly retryDelaySeconds?: number | null
}

export interface ThrottleMatch {
  readonly customerId?: string
  readonly method?: GoogleAdsRequest["method"]
}

export interface CampaignSnapshot {
  readonly id: string
  readonly name: string
  readonly status: GoogleAdsStatus
  readonly budgetId: string
  readonly dailyBudgetMicros: number
}

export interface AdGroupSnapshot {
  readonly id: string
  readonly campaignId: string
  readonly name: string
  readonly status: GoogleAdsStatus
  readonly cpcBidMicros: number
}

export interface KeywordSnapshot {
  readonly adGroupId: string
  readonly criterionId: string
  readonly text: string
  readonly matchType: KeywordMatchType
  readonly status: GoogleAdsStatus
  readonly cpcBidMicros: number | null
}

/** Test controls of one customer: read and change its objects behind the client's back. */
export interface GoogleAdsAccountControls {
  readonly customerId: string
  readonly currency: string
  campaign(id: string): CampaignSnapshot
  adGroup(id: string): AdGroupSnapshot
  keyword(adGroupId: string, criterionId: string): KeywordSnapshot
  setCampaign(id: string, patch: { readonly name?: string; readonly status?: GoogleAdsStatus; readonly dailyBudgetMicros?: number }): void
  setAdGroup(id: string, patch: { readonly name?: string; readonly status?: GoogleAdsStatus; readonly cpcBidMicros?: number }): void
  setKeyword(adGroupId: string, criterionId: string, patch: { readonly text?: string; readonly status?: GoogleAdsStatus; readonly cpcBidMicros?: number | null }): void
  /** The day's metrics of every campaign, ad group and keyword, as `searchStream` reports them. */
  metrics(date: string): AccountDay
  /** Expires every access token of this account (401 `OAUTH_TOKEN_EXPIRED` from now on). */
  expireTokens(): void
}

export interface GoogleAdsSimulator extends SimulatorServer {
  readonly clock: SimulatedClock | Clock
  readonly ids: DeterministicIds
  /** Every request that got past routing, with its outcome. */
  readonly requests: RequestLog<GoogleAdsRequest>
  account(customerId: string): GoogleAdsAccountControls
  /** The next matching requests answer `RESOURCE_TEMPORARILY_EXHAUSTED` (before any quota is spent). */
  throttleNext(fault?: ThrottleFault, options?: { readonly count?: number; readonly match?: ThrottleMatch }): void
  /** `RESOURCE_TEMPORARILY_EXHAUSTED` answers so far (of one customer, if given): injected or earned. */
  throttleCount(customerId?: string): number
  /** Expires an access token (401 `OAUTH_TOKEN_EXPIRED` from now on). */
  expireToken(accessToken: string): void
  /** Lets `accessToken` call `customerId` too (a new token after a reconnect). */
  addToken(customerId: string, accessToken: string): void
  /** Operations counted today against a developer token / project (default `"default"`). */
  operationsUsed(quotaKey?: string): number
}

const BASE64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
const MUTATE_SERVICES = ["campaigns", "adGroups", "adGroupCriteria", "campaignBudgets"] as const
type MutateService = typeof MUTATE_SERVICES[number]
const ROUTE = /^\/(v\d+)\/customers\/([^/]+)\/(googleAds:searchStream|campaigns:mutate|adGroups:mutate|adGroupCriteria:mutate|campaignBudgets:mutate)$/
const DAY_MS = 86_400_000

/** The Pacific-time date of `ms` and the seconds until the next Pacific midnight (daily quotas reset then). */
const pacificDay = (ms: number): { readonly day: string; readonly secondsLeft: number } => {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat("en-US", {
      timeZone: "America/Los_Angeles",
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit"
    }).formatToParts(new Date(ms)).map((p) => [p.type, p.value])
  )
  const elapsed = Number(parts.hour) * 3600 + Number(parts.minute) * 60 + Number(parts.second)
  return { day: `${parts.year}-${parts.month}-${parts.day}`, secondsLeft: Math.max(1, 86_400 - elapsed) }
}

const int64 = (value: unknown): number | undefined => {
  if (typeof value === "number" && Number.isSafeInteger(value)) return value
  if (typeof value === "string" && /^-?\d+$/.test(value) && Number.isSafeInteger(Number(value))) return Number(value)
  return undefined
}

/** Starts the simulator on 127.0.0.1 (port 0 by default). */
export const startGoogleAdsSimulator = async (options: GoogleAdsSimulatorOptions): Promise<GoogleAdsSimulator> => {
  const clock: SimulatedClock | Clock = options.clock ?? makeClock()
  const now: Clock = typeof clock === "function" ? clock : clock.now
  const ids = new DeterministicIds(options.seed === undefined ? {} : { seed: options.seed })
  const requestIds = ids.fork("requests")
  const dataSeed = ids.seed
  const versions = new Set(options.apiVersions ?? GOOGLE_ADS_API_VERSIONS)
  const latest = [...versions].sort((a, b) => Number(b.slice(1)) - Number(a.slice(1)))[0] ?? GOOGLE_ADS_LATEST_VERSION
  const perSecond = options.requestsPerSecond ?? 10
  const defaultRetryDelay = options.rateLimitRetryDelaySeconds === undefined ? 1 : options.rateLimitRetryDelaySeconds
  const dailyOperations = options.dailyOperations ?? 15_000
  const checkDeveloperToken = options.developerTokenHeader === "required"
  const batchSize = Math.max(1, options.streamBatchSize ?? 10_000)

  const accounts = new Map<string, AccountModel>()
  const developerTokens = new Map<string, string>()
  /** access token → customers it may call, and whether it expired. */
  const tokens = new Map<string, { readonly customers: Set<string>; expired: boolean }>()
  for (const init of options.accounts) {
    const account = new AccountModel(init, ids.fork(`account/${init.customerId}`))
    accounts.set(account.customerId, account)
    if (init.developerToken !== undefined) developerTokens.set(account.customerId, init.developerToken)
    const entry = tokens.get(init.accessToken) ?? { customers: new Set<string>(), expired: false }
    entry.customers.add(account.customerId)
    tokens.set(init.accessToken, entry)
  }

  const requests = new RequestLog<GoogleAdsRequest>({ limit: 10_000 })
  const throttles = new FaultQueue<ThrottleFault, { readonly customerId: string; readonly method: GoogleAdsRequest["method"] }>()
  /** Admission times per customer within the last second. */
  const windows = new Map<string, Array<number>>()
  /** quota key → operations counted on `day`. */
  const quota = new Map<string, { day: string; used: number }>()
  let seq = 0

  const usedToday = (key: string, at: number): { day: string; used: number } => {
    const { day } = pacificDay(at)
    let entry = quota.get(key)
    if (entry === undefined || entry.day !== day) {
      entry = { day, used: 0 }
      quota.set(key, entry)
    }
    return entry
  }

  const temporarilyExhausted = (version: string, requestId: string, retryDelaySeconds: number | null): Response =>
    googleAdsFailure(429, version, requestId, [{
      errorCode: { quotaError: "RESOURCE_TEMPORARILY_EXHAUSTED" },
      message: retryDelaySeconds === null ? "Too many requests in a short amount of time." : `Too many requests. Retry in ${Math.ceil(retryDelaySeconds)} seconds.`,
      ...(retryDelaySeconds === null
        ? {}
        : { details: { quotaErrorDetails: { rateScope: "ACCOUNT" as const, rateName: "Requests per account", retryDelay: durationJson(retryDelaySeconds) } } })
    }])

  const handle = async (request: Request): Promise<Response> => {
    const url = new URL(request.url)
    const route = ROUTE.exec(url.pathname)
    if (request.method !== "POST" || route === null) return rpcError(404, `Method not found: ${request.method} ${url.pathname}`)
    const [, version, customerId, action] = route as unknown as [string, string, string, string]
    if (!versions.has(version)) return rpcError(404, `Google Ads API ${version} is not served (${[...versions].join(", ")}).`)
    const requestId = requestIds.string(22, BASE64URL)
    const failure = (status: number, errors: ReadonlyArray<GoogleAdsErrorJson>) => googleAdsFailure(status, version, requestId, errors)

    // Credentials, before anything is counted.
    const bearer = /^Bearer\s+(\S+)$/i.exec(request.headers.get("authorization") ?? "")
    if (bearer === null) {
      return rpcError(401, "Request is missing required authentication credential. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.")
    }
    const method: GoogleAdsRequest["method"] = action === "googleAds:searchStream" ? "searchStream" : (action.slice(0, -":mutate".length) as MutateService)
    const loginCustomerId = request.headers.get("login-customer-id") ?? undefined
    const bodyText = await request.text()
    let body: any
    try {
      body = bodyText === "" ? {} : JSON.parse(bodyText)
    } catch {
      body = undefined
    }
    const operations = method === "searchStream" ? 1 : Array.isArray(body?.operations) ? body.operations.length : 0
    const entry = requests.record({
      seq: ++seq,
      at: now(),
      apiVersion: version,
      customerId,
      method,
      query: method === "searchStream" && typeof body?.query === "string" ? body.query : undefined,
      operations,
      loginCustomerId,
      requestId,
      status: 0,
      outcome: "pending"
    })
    const answer = (response: Response, outcome: string): Response => {
      entry.status = response.status
      entry.outcome = outcome
      requests.notify()
      return response
    }

    const token = tokens.get(bearer[1] as string)
    if (token === undefined) {
      return answer(failure(401, [{ errorCode: { authenticationError: "OAUTH_TOKEN_INVALID" }, message: "Oauth token is invalid." }]), "OAUTH_TOKEN_INVALID")
    }
    if (token.expired) {
      return answer(failure(401, [{ errorCode: { authenticationError: "OAUTH_TOKEN_EXPIRED" }, message: "Oauth token is expired." }]), "OAUTH_TOKEN_EXPIRED")
    }
    if (!/^\d{10}$/.test(customerId)) {
      return answer(failure(400, [{ errorCode: { authenticationError: "CLIENT_CUSTOMER_ID_INVALID" }, message: "Client customer ID is not a number." }]), "CLIENT_CUSTOMER_ID_INVALID")
    }
    const account = accounts.get(customerId)
    const denied = () =>
      answer(
        failure(403, [{
          errorCode: { authorizationError: "USER_PERMISSION_DENIED" },
          message: "User doesn't have permission to access customer. Note: If you're accessing a client customer, the manager's customer id must be set in the 'login-customer-id' header. See https://developers.google.com/google-ads/api/docs/concepts/call-structure#cid"
        }]),
        "USER_PERMISSION_DENIED"
      )
    if (account === undefined || !token.customers.has(customerId)) return denied()
    if (loginCustomerId !== undefined && loginCustomerId !== customerId && !account.managerCustomerIds.has(loginCustomerId)) return denied()
    if (checkDeveloperToken) {
      const expected = developerTokens.get(customerId)
      if (expected === undefined || request.headers.get("developer-token") !== expected) {
        return answer(failure(401, [{ errorCode: { authenticationError: "DEVELOPER_TOKEN_INVALID" }, message: "The developer token is not valid." }]), "DEVELOPER_TOKEN_INVALID")
      }
    }
    if (body === undefined || typeof body !== "object" || body === null) {
      return answer(rpcError(400, `Invalid JSON payload received. Unexpected token.\n${bodyText.slice(0, 40)}`), "INVALID_ARGUMENT")
    }

    // The per-customer rate, then the daily operations.
    const at = now()
    const injected = throttles.take({ customerId, method })
    if (injected !== undefined) {
      const delay = injected.retryDelaySeconds === undefined ? defaultRetryDelay : injected.retryDelaySeconds
      return answer(temporarilyExhausted(version, requestId, delay), "RESOURCE_TEMPORARILY_EXHAUSTED")
    }
    const window = (windows.get(customerId) ?? []).filter((t) => t > at - 1000)
    windows.set(customerId, window)
    if (window.length >= perSecond) {
      const delay = defaultRetryDelay === null ? null : Math.max(defaultRetryDelay, Math.ceil(((window[0] as number) + 1000 - at) / 1000))
      return answer(temporarilyExhausted(version, requestId, delay), "RESOURCE_TEMPORARILY_EXHAUSTED")
    }
    window.push(at)
    const spent = usedToday(account.quotaKey, at)
    if (spent.used + Math.max(1, operations) > dailyOperations) {
      const retry = pacificDay(at).secondsLeft
      return answer(
        failure(429, [{
          errorCode: { quotaError: "RESOURCE_EXHAUSTED" },
          message: `Too many requests. Retry in ${retry} seconds.`,
          details: { quotaErrorDetails: { rateScope: "DEVELOPER", rateName: "Number of operations for basic access", retryDelay: durationJson(retry) } }
        }]),
        "RESOURCE_EXHAUSTED"
      )
    }
    spent.used += Math.max(1, operations)

    if (method === "searchStream") {
      if (typeof body.query !== "string" || body.query.trim() === "") {
        return answer(failure(400, [{ errorCode: { queryError: "EXPECTED_SELECT" }, message: "The query is missing." }]), "EXPECTED_SELECT")
      }
      try {
        const today = Math.floor(at / DAY_MS) * DAY_MS
        const result = search(dataSeed, account, parseGaql(body.query), today)
        const batches: Array<Record<string, unknown>> = []
        for (let i = 0; i < result.rows.length; i += batchSize) {
          batches.push({ results: result.rows.slice(i, i + batchSize), fieldMask: result.fieldMask, requestId })
        }
        if (batches.length === 0) batches.push({ fieldMask: result.fieldMask, requestId })
        ;(batches[batches.length - 1] as Record<string, unknown>).queryResourceConsumption = String(40 + result.rows.length)
        return answer(json(200, batches), "ok")
      } catch (error) {
        if (!(error instanceof GaqlError)) throw error
        return answer(failure(400, [{ errorCode: { queryError: error.code }, message: error.message }]), error.code)
      }
    }
    const [response, outcome] = mutate(account, method, body, version, requestId)
    return answer(response, outcome)
  }

  /** Applies a mutate request atomically; answers the response and the outcome to log. */
  const mutate = (account: AccountModel, service: MutateService, body: any, version: string, requestId: string): readonly [Response, string] => {
    if (body.partialFailure === true) return [rpcError(501, "partialFailure is not modelled by the simulator: send atomic requests."), "UNIMPLEMENTED"]
    const ops: Array<any> = Array.isArray(body.operations) ? body.operations : []
    if (ops.length === 0) return [rpcError(400, "operations must not be empty."), "INVALID_ARGUMENT"]
    if (ops.some((op) => op === null || typeof op !== "object" || op.create !== undefined || op.remove !== undefined || op.update === undefined)) {
      return [rpcError(501, "The simulator applies update operations only."), "UNIMPLEMENTED"]
    }
    const errors: Array<GoogleAdsErrorJson> = []
    const applies: Array<() => void> = []
    const results: Array<{ resourceName: string }> = []
    ops.forEach((op, index) => {
      const at = (fieldName?: string) => ({
        fieldPathElements: [{ fieldName: "operations", index }, { fieldName: "update" }, ...(fieldName === undefined ? [] : [{ fieldName }])]
      })
      const fail = (errorCode: Record<string, string>, message: string, field?: string) => {
        errors.push({ errorCode, message, location: at(field) })
      }
      const update = op.update as Record<string, unknown>
      const resourceName = typeof update.resourceName === "string" ? update.resourceName : ""
      const prefix = `customers/${account.customerId}/${service}/`
      const id = resourceName.startsWith(prefix) ? resourceName.slice(prefix.length) : undefined
      const mask = typeof op.updateMask === "string" ? op.updateMask.split(",").map((s: string) => s.trim()).filter((s: string) => s !== "") : []
      if (mask.length === 0) return fail({ fieldMaskError: "FIELD_MASK_MISSING" }, "The field mask must be provided for update operations.")
      const mutable: Record<MutateService, ReadonlyArray<string>> = {
        campaigns: ["status", "name"],
        adGroups: ["status", "name", "cpcBidMicros"],
        adGroupCriteria: ["status", "cpcBidMicros"],
        campaignBudgets: ["amountMicros", "name"]
      }
      const unknown = mask.filter((f: string) => !mutable[service].includes(f))
      if (unknown.length > 0) return fail({ fieldMaskError: "FIELD_NOT_FOUND" }, `The field mask contained an invalid field: ${unknown.join(", ")}.`)

      const record = id === undefined
        ? undefined
        : service === "campaigns"
        ? account.campaigns.get(id)
        : service === "adGroups"
        ? account.adGroups.get(id)
        : service === "adGroupCriteria"
        ? account.keywords.get(id)
        : account.budgets.get(id)
      if (record === undefined) return fail({ mutateError: "RESOURCE_NOT_FOUND" }, "Resource was not found.", "resource_name")

      const changes: Array<() => void> = []
      const before = errors.length
      for (const field of mask) {
        const value = update[field]
        if (field === "status") {
          if (value !== "ENABLED" && value !== "PAUSED") fail({ requestError: "INVALID_ENUM_VALUE" }, `Status must be ENABLED or PAUSED in an update, got ${String(value)}.`, "status")
          else changes.push(() => ((record as { status: GoogleAdsStatus }).status = value))
        } else if (field === "name") {
          if (typeof value !== "string" || value.trim() === "") fail({ fieldError: "REQUIRED" }, "The name is required.", "name")
          else changes.push(() => ((record as { name: string }).name = value))
        } else if (field === "cpcBidMicros") {
          if (value === undefined && service === "adGroupCriteria") {
            changes.push(() => ((record as { cpcBidMicros: number | null }).cpcBidMicros = null)) // cleared: the keyword uses its ad group's bid
            continue
          }
          const micros = int64(value)
          if (micros === undefined) fail({ fieldError: "REQUIRED" }, "cpcBidMicros must be an int64.", "cpc_bid_micros")
          else if (micros < 0) fail({ rangeError: "TOO_LOW" }, "Too low.", "cpc_bid_micros")
          else if (micros % 10_000 !== 0) fail({ biddingError: "BID_TOO_MANY_FRACTIONAL_DIGITS" }, "Bid has too many fractional digit precision.", "cpc_bid_micros")
          else changes.push(() => ((record as { cpcBidMicros: number | null }).cpcBidMicros = micros))
        } else if (field === "amountMicros") {
          const micros = int64(value)
          if (micros === undefined) fail({ fieldError: "REQUIRED" }, "amountMicros must be an int64.", "amount_micros")
          else if (micros < 0) fail({ campaignBudgetError: "NEGATIVE_MONEY_AMOUNT" }, "A money amount was negative.", "amount_micros")
          else if (micros % 10_000 !== 0) fail({ campaignBudgetError: "NON_MULTIPLE_OF_MINIMUM_CURRENCY_UNIT" }, "A money amount was not a multiple of a minimum unit.", "amount_micros")
          else changes.push(() => ((record as { amountMicros: number }).amountMicros = micros))
        }
      }
      if (errors.length === before) {
        applies.push(...changes)
        results.push({ resourceName })
      }
    })
    if (errors.length > 0) return [googleAdsFailure(400, version, requestId, errors), Object.values(errors[0]!.errorCode)[0] ?? "INVALID_ARGUMENT"]
    if (body.validateOnly === true) return [json(200, {}), "ok"]
    for (const apply of applies) apply()
    return [json(200, { results }), "ok"]
  }

  const faults = new HttpFaults({ defaultBody: faultBody(latest) })
  const server = await startSimulatorServer({
    fetch: handle,
    faults,
    clock: now,
    ...(options.port !== undefined ? { port: options.port } : {}),
    ...(options.hostname !== undefined ? { hostname: options.hostname } : {})
  })

  const accountOf = (customerId: string): AccountModel => {
    const account = accounts.get(customerId)
    if (account === undefined) throw new Error(`no simulated Google Ads customer ${customerId}`)
    return account
  }

  const controls = (customerId: string): GoogleAdsAccountControls => {
    const account = accountOf(customerId)
    const campaign = (id: string) => {
      const c = account.campaigns.get(id)
      if (c === undefined) throw new Error(`no campaign ${id} in ${customerId}`)
      return c
    }
    const adGroup = (id: string) => {
      const g = account.adGroups.get(id)
      if (g === undefined) throw new Error(`no ad group ${id} in ${customerId}`)
      return g
    }
    const keyword = (adGroupId: string, criterionId: string) => {
      const k = account.keywords.get(keywordKey(adGroupId, criterionId))
      if (k === undefined) throw new Error(`no keyword ${adGroupId}~${criterionId} in ${customerId}`)
      return k
    }
    return {
      customerId,
      currency: account.currency,
      campaign: (id) => {
        const c = campaign(id)
        return { id: c.id, name: c.name, status: c.status, budgetId: c.budgetId, dailyBudgetMicros: account.budgets.get(c.budgetId)?.amountMicros ?? 0 }
      },
      adGroup: (id) => ({ ...adGroup(id) }),
      keyword: (adGroupId, criterionId) => ({ ...keyword(adGroupId, criterionId) }),
      setCampaign: (id, patch) => {
        const c = campaign(id)
        if (patch.name !== undefined) c.name = patch.name
        if (patch.status !== undefined) c.status = patch.status
        const budget = account.budgets.get(c.budgetId)
        if (patch.dailyBudgetMicros !== undefined && budget !== undefined) budget.amountMicros = patch.dailyBudgetMicros
      },
      setAdGroup: (id, patch) => {
        const g = adGroup(id)
        if (patch.name !== undefined) g.name = patch.name
        if (patch.status !== undefined) g.status = patch.status
        if (patch.cpcBidMicros !== undefined) g.cpcBidMicros = patch.cpcBidMicros
      },
      setKeyword: (adGroupId, criterionId, patch) => {
        const k = keyword(adGroupId, criterionId)
        if (patch.text !== undefined) k.text = patch.text
        if (patch.status !== undefined) k.status = patch.status
        if (patch.cpcBidMicros !== undefined) k.cpcBidMicros = patch.cpcBidMicros
      },
      metrics: (date) => accountDay(dataSeed, account, date),
      expireTokens: () => {
        for (const entry of tokens.values()) if (entry.customers.has(customerId)) entry.expired = true
      }
    }
  }

  return {
    ...server,
    clock,
    ids,
    requests,
    account: controls,
    throttleNext: (fault = {}, opts = {}) => {
      const match = opts.match
      throttles.add(fault, {
        ...(opts.count !== undefined ? { count: opts.count } : {}),
        ...(match === undefined
          ? {}
          : { match: (info) => (match.customerId === undefined || match.customerId === info.customerId) && (match.method === undefined || match.method === info.method) })
      })
    },
    throttleCount: (customerId) =>
      requests.count((r) => r.outcome === "RESOURCE_TEMPORARILY_EXHAUSTED" && (customerId === undefined || r.customerId === customerId)),
    expireToken: (accessToken) => {
      const entry = tokens.get(accessToken)
      if (entry === undefined) throw new Error("unknown access token")
      entry.expired = true
    },
    addToken: (customerId, accessToken) => {
      accountOf(customerId)
      const entry = tokens.get(accessToken) ?? { customers: new Set<string>(), expired: false }
      entry.customers.add(customerId)
      tokens.set(accessToken, entry)
    },
    operationsUsed: (quotaKey = "default") => {
      const entry = quota.get(quotaKey)
      return entry === undefined || entry.day !== pacificDay(now()).day ? 0 : entry.used
    }
  }
}

