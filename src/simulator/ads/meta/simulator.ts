/**
 * Meta Marketing API simulator (Graph API v21.0–v26.0 style) on the simulator kit: ad account
 * insights at account, campaign and ad set level, reading and changing campaigns and ad sets
 * (status, daily budget, bid amount), access tokens that expire, and Business Use Case rate
 * limiting exactly as Meta signals it — `X-Business-Use-Case-Usage` on every answer of an
 * account, HTTP 400 with codes 80004 (`ads_management`) / 80000 (`ads_insights`) past 100 %,
 * and 17 / 613 / 4 on demand. 5xx, latency, hangs and dropped connections come from the kit's
 * `faults`. Keywords do not exist on Meta. See README.md.
 */
import { DeterministicIds } from "../../kit/DeterministicIds.ts"
import { FaultQueue, HttpFaults } from "../../kit/Faults.ts"
import { RequestLog } from "../../kit/RequestLog.ts"
import { makeClock, type Clock, type SimulatedClock } from "../../kit/SimulatedClock.ts"
import { startSimulatorServer, type SimulatorServer } from "../../kit/SimulatorServer.ts"
import { META_STATUSES, MetaAccount, type AccountOptions, type MetaObject, type MetaObjectSnapshot, type MetaStatus } from "./accounts.ts"
import { MetaErrors, graphErrorBody, throttleError, type GraphError, type ThrottleCode } from "./errors.ts"
import { INSIGHTS_FIELDS, insightsRows, overrideKey, type DailyDelivery, type DeliveryOverrides, type InsightsField, type InsightsLevel } from "./insights.ts"
import { BUC_TYPES, type BucType, type BucUsage, type WindowLimits } from "./usage.ts"

/** Graph API versions served by default (those Meta still serves in 2026: v21.0 to v26.0). */
export const DEFAULT_API_VERSIONS: ReadonlyArray<string> = ["v21.0", "v22.0", "v23.0", "v24.0", "v25.0", "v26.0"]

/** Scores of a call in its use case's window (Meta: a read 1 point, a write 3). */
export const CALL_POINTS = { read: 1, write: 3 } as const

export interface RateLimitOptions {
  /** Sliding window length; default one hour (Meta's BUC window). */
  readonly windowMs?: number
  /** Window capacity per use case; defaults are Meta's development tier: 300 and 600. */
  readonly capacity?: Partial<Record<BucType, number>>
  /** Least time a throttled use case stays blocked; default 0 (until the window drained). */
  readonly blockMs?: number
  /** `ads_api_access_tier` reported; default `development_access`. */
  readonly accessTier?: string
  /** The code a full window answers with; default 80004 (`ads_management`) and 80000 (`ads_insights`). */
  readonly throttleCodes?: Partial<Record<BucType, ThrottleCode>>
}

export interface MetaAdsSimulatorOptions {
  readonly accounts: ReadonlyArray<AccountOptions>
  /** Time of every window, expiry and timestamp; a `SimulatedClock` also gives `sim.clock`. Default: real time. */
  readonly clock?: SimulatedClock | Clock
  /** Seed of ids, trace ids and the insights data (default random: a new world per run). */
  readonly seed?: string
  readonly apiVersions?: ReadonlyArray<string>
  readonly rateLimit?: RateLimitOptions
}

/** One Graph API call as the simulator understood it (the protocol log). */
export interface MetaCall {
  readonly seq: number
  readonly at: number
  readonly method: string
  readonly path: string
  readonly version: string | undefined
  /** The ad account the token (and object) belongs to, once known. */
  accountId: string | undefined
  readonly objectId: string | undefined
  /** The use case the call counted against. */
  buc: BucType | undefined
  outcome: "ok" | "throttled" | "auth_error" | "error"
  /** Meta's error code, when it failed. */
  code: number | undefined
  /** The `X-Business-Use-Case-Usage` entries answered for the account. */
  usage: ReadonlyArray<BucUsage> | undefined
}

/** A throttle answer queued by a test. */
export interface ThrottleFault {
  /** Default 17 (the ad-account score limit). */
  readonly code?: ThrottleCode
  /** Also block the use case this long (it then reads 100 % with `estimated_time_to_regain_access`). */
  readonly regainAfterMs?: number
}

interface CallInfo {
  readonly accountId: string
  readonly buc: BucType
  readonly method: string
  readonly objectId: string | undefined
}

/** Test-set state of an object (behind the client's back). */
export interface ObjectPatch {
  readonly name?: string
  readonly status?: MetaStatus
  readonly dailyBudget?: number | null
  readonly bidAmount?: number | null
}

export interface MetaAdsSimulator extends SimulatorServer {
  /** The clock, when the simulator was given a `SimulatedClock` (or made one). */
  readonly clock: SimulatedClock | undefined
  readonly ids: DeterministicIds
  readonly apiVersions: ReadonlyArray<string>
  /** Every Graph API call with its account, use case and outcome. */
  readonly requests: RequestLog<MetaCall>
  readonly accounts: ReadonlyArray<MetaAccount>
  account(adAccountId: string): MetaAccount
  /** A campaign's or ad set's current state. Throws for unknown ids. */
  object(id: string): MetaObjectSnapshot
  /** Changes an object as if someone did it in Ads Manager. */
  setObject(id: string, patch: ObjectPatch): MetaObjectSnapshot
  /** Fixes an ad set's delivery on `date` (money in minor units) instead of the seeded one. */
  setDelivery(adSetId: string, date: string, delivery: DailyDelivery): void
  /** The account's usage as the header would report it now. */
  usage(adAccountId: string): Record<BucType, BucUsage>
  /** Answers refused for throttling (codes 4/17/613/80000/80004), for one account or all. */
  throttledCount(adAccountId?: string): number
  /** The account's token expires at `at` (default: now). */
  expireToken(adAccountId: string, at?: number): void
  /** The account gets a new token (e.g. after the merchant reconnected). */
  setToken(adAccountId: string, token: string, expiresAt?: number): void
  /** The use case reads `percent` (default 100) and refuses calls for `regainAfterMs`. */
  exhaust(adAccountId: string, options: { readonly buc?: BucType; readonly regainAfterMs: number; readonly percent?: number }): void
  /** The next `count` matching calls of the account are refused with a throttle error. */
  throttleNext(adAccountId: string, fault?: ThrottleFault, options?: { readonly count?: number; readonly buc?: BucType }): void
  /** Changes a use case's window capacity for an account. */
  setCapacity(adAccountId: string, buc: BucType, capacity: number): void
  /** Forgets the account's calls and blocks. */
  resetUsage(adAccountId?: string): void
}

const JSON_HEADERS = { "Content-Type": "application/json; charset=UTF-8" }
const VERSION_PATTERN = /^v(\d+)\.(\d+)$/
const TRACE_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

const versionNumber = (v: string): number => {
  const m = VERSION_PATTERN.exec(v)
  return m === null ? Number.NaN : Number(m[1]) * 1000 + Number(m[2])
}

const isoTime = (at: number): string => new Date(at).toISOString().replace(/\.\d{3}Z$/, "+0000")

const CAMPAIGN_FIELDS = new Set(["id", "name", "status", "configured_status", "effective_status", "daily_budget", "account_id", "updated_time", "objective"])
const ADSET_FIELDS = new Set([
  "id",
  "name",
  "status",
  "configured_status",
  "effective_status",
  "daily_budget",
  "bid_amount",
  "bid_strategy",
  "account_id",
  "campaign_id",
  "updated_time",
  "billing_event",
  "optimization_goal"
])
const ACCOUNT_FIELDS = new Set(["id", "account_id", "name", "currency", "account_status", "timezone_name"])
/** Parameters every call may carry that do not change the answer. */
const TRANSPORT_PARAMS = new Set(["access_token", "appsecret_proof", "method", "format", "suppress_http_code", "pretty"])

class Answer {
  readonly status: number
  readonly body: unknown
  readonly error: GraphError | undefined
  constructor(status: number, body: unknown, error?: GraphError) {
    this.status = status
    this.body = body
    this.error = error
  }
  static ok(body: unknown): Answer {
    return new Answer(200, body)
  }
  static fail(error: GraphError): Answer {
    return new Answer(error.status, undefined, error)
  }
}

const readParams = async (request: Request, url: URL): Promise<Map<string, string>> => {
  const params = new Map<string, string>(url.searchParams)
  if (request.method !== "POST") return params
  const type = (request.headers.get("content-type") ?? "").toLowerCase()
  const text = await request.text()
  if (text === "") return params
  if (type.startsWith("application/json")) {
    const body = JSON.parse(text) as Record<string, unknown>
    for (const [k, v] of Object.entries(body)) params.set(k, typeof v === "string" ? v : JSON.stringify(v))
  } else {
    for (const [k, v] of new URLSearchParams(text)) params.set(k, v)
  }
  return params
}

const tokenOf = (request: Request, params: Map<string, string>): string | undefined => {
  const fromParams = params.get("access_token")
  if (fromParams !== undefined && fromParams !== "") return fromParams
  const header = request.headers.get("authorization") ?? ""
  const m = /^(?:Bearer|OAuth)\s+(\S+)$/i.exec(header.trim())
  return m === null ? undefined : m[1]
}

const fieldsOf = (params: Map<string, string>): ReadonlyArray<string> | undefined => {
  const raw = params.get("fields")
  if (raw === undefined || raw.trim() === "") return undefined
  return raw.split(",").map((f) => f.trim()).filter((f) => f !== "")
}

const utcDate = (at: number): string => new Date(at).toISOString().slice(0, 10)

/** Starts the simulator on 127.0.0.1 (a free port) and answers like graph.facebook.com. */
export const startMetaAdsSimulator = async (options: MetaAdsSimulatorOptions): Promise<MetaAdsSimulator> => {
  const simulated: SimulatedClock | undefined =
    options.clock === undefined ? makeClock() : typeof options.clock === "function" ? undefined : options.clock
  const now: Clock = simulated?.now ?? (options.clock as Clock)
  const ids = new DeterministicIds(options.seed === undefined ? {} : { seed: options.seed })
  const traceIds = ids.fork("fbtrace")
  const apiVersions = [...(options.apiVersions ?? DEFAULT_API_VERSIONS)].sort((a, b) => versionNumber(a) - versionNumber(b))
  const latest = apiVersions[apiVersions.length - 1] ?? "v26.0"
  const rate = options.rateLimit ?? {}
  const windowMs = rate.windowMs ?? 3_600_000
  const limits: Record<BucType, WindowLimits> = {
    ads_management: { windowMs, capacity: rate.capacity?.ads_management ?? 300, blockMs: rate.blockMs ?? 0, cpuPerPoint: 0.4, timePerPoint: 0.5 },
    ads_insights: { windowMs, capacity: rate.capacity?.ads_insights ?? 600, blockMs: rate.blockMs ?? 0, cpuPerPoint: 0.6, timePerPoint: 0.7 }
  }
  const tier = rate.accessTier ?? "development_access"
  const objectIds = ids.fork("objects")
  const nextObjectId = (): string => `1202${String(objectIds.next("object")).padStart(14, "0")}`
  const accounts = options.accounts.map((a) => new MetaAccount(a, nextObjectId, limits, now))
  const byId = new Map(accounts.map((a) => [a.id, a]))
  if (byId.size !== accounts.length) throw new TypeError("duplicate adAccountId")
  const overrides: DeliveryOverrides = new Map()
  const throttles = new FaultQueue<ThrottleFault, CallInfo>()
  const requests = new RequestLog<MetaCall>({ limit: 50_000 })
  let seq = 0

  const accountOf = (id: string): MetaAccount => {
    const a = byId.get(id.replace(/^act_/, ""))
    if (a === undefined) throw new Error(`unknown ad account ${id}`)
    return a
  }
  const findObject = (id: string): { readonly account: MetaAccount; readonly object: MetaObject } => {
    for (const account of accounts) {
      const object = account.object(id)
      if (object !== undefined) return { account, object }
    }
    throw new Error(`unknown campaign or ad set ${id}`)
  }

  const usageEntries = (account: MetaAccount, current: BucType | undefined): ReadonlyArray<BucUsage> =>
    BUC_TYPES.filter((t) => t === current || account.windows[t].used).map((t) => account.windows[t].usage(now(), tier))

  const headersFor = (account: MetaAccount | undefined, call: MetaCall, version: string | undefined): Record<string, string> => {
    const headers: Record<string, string> = { ...JSON_HEADERS, "x-fb-trace-id": traceIds.string(11, TRACE_ALPHABET), "x-fb-rev": "1015551234" }
    if (version !== undefined) headers["facebook-api-version"] = version
    if (account !== undefined) {
      const entries = usageEntries(account, call.buc)
      call.usage = entries
      headers["x-business-use-case-usage"] = JSON.stringify({ [account.businessId]: entries })
      if (call.buc === "ads_insights") {
        const insights = account.windows.ads_insights.usage(now(), tier)
        // The app's share: every account's insights score against their summed capacity (reported, not enforced).
        const points = accounts.reduce((sum, a) => sum + a.windows.ads_insights.points(now()), 0)
        const capacity = accounts.reduce((sum, a) => sum + a.windows.ads_insights.limits.capacity, 0)
        const app = Math.floor((points * 100) / capacity)
        headers["x-fb-ads-insights-throttle"] = JSON.stringify({ app_id_util_pct: app, acc_id_util_pct: insights.call_count, ads_api_access_tier: tier })
      }
    }
    return headers
  }

  const respond = (answer: Answer, account: MetaAccount | undefined, call: MetaCall, version: string | undefined): Response => {
    if (answer.error !== undefined) {
      call.code = answer.error.code
      if (call.outcome === "ok") call.outcome = "error"
    }
    const headers = headersFor(account, call, version)
    if (answer.error?.code === 190) headers["www-authenticate"] = `OAuth "Facebook Platform" "invalid_token" "${answer.error.message.replace(/"/g, "'")}"`
    const body = answer.error !== undefined ? graphErrorBody(answer.error, traceIds.string(23, TRACE_ALPHABET)) : answer.body
    requests.notify()
    return new Response(JSON.stringify(body), { status: answer.status, headers })
  }

  // ------------------------------------------------------------------- object reads/writes

  const readObject = (account: MetaAccount, o: MetaObject, fields: ReadonlyArray<string>): Answer => {
    const allowed = o.kind === "campaign" ? CAMPAIGN_FIELDS : ADSET_FIELDS
    const nodeType = o.kind === "campaign" ? "AdCampaignGroup" : "AdCampaign"
    const out: Record<string, unknown> = {}
    for (const f of fields) {
      if (!allowed.has(f)) return Answer.fail(MetaErrors.nonexistingField(f, nodeType))
      switch (f) {
        case "id":
          break
        case "name":
          out.name = o.name
          break
        case "status":
        case "configured_status":
          out[f] = o.status
          break
        case "effective_status":
          out[f] = account.effectiveStatus(o)
          break
        case "daily_budget":
          if (o.dailyBudget !== null) out[f] = String(o.dailyBudget)
          break
        case "bid_amount":
          if (o.bidAmount !== null) out[f] = o.bidAmount
          break
        case "bid_strategy":
          out[f] = o.bidAmount === null ? "LOWEST_COST_WITHOUT_CAP" : "LOWEST_COST_WITH_BID_CAP"
          break
        case "account_id":
          out[f] = account.id
          break
        case "campaign_id":
          out[f] = o.campaignId
          break
        case "updated_time":
          out[f] = isoTime(o.updatedAt)
          break
        case "objective":
          out[f] = "OUTCOME_SALES"
          break
        case "billing_event":
          out[f] = "IMPRESSIONS"
          break
        case "optimization_goal":
          out[f] = "OFFSITE_CONVERSIONS"
          break
      }
    }
    out.id = o.id
    return Answer.ok(out)
  }

  const amountParam = (name: string, raw: string): number | GraphError => {
    if (!/^\d+$/.test(raw.trim())) return MetaErrors.invalidParameter(`Param ${name} must be a non-negative integer`)
    return Number(raw.trim())
  }

  const writeObject = (account: MetaAccount, o: MetaObject, params: Map<string, string>): Answer => {
    const nodeType = o.kind === "campaign" ? "AdCampaignGroup" : "AdCampaign"
    const patch: { name?: string; status?: MetaStatus; dailyBudget?: number; bidAmount?: number } = {}
    for (const [key, raw] of params) {
      if (TRANSPORT_PARAMS.has(key)) continue
      switch (key) {
        case "name":
          patch.name = raw
          break
        case "status": {
          if (!META_STATUSES.includes(raw as MetaStatus)) return Answer.fail(MetaErrors.invalidParameter(`Param status must be one of {${META_STATUSES.join(", ")}}`))
          patch.status = raw as MetaStatus
          break
        }
        case "daily_budget": {
          const amount = amountParam(key, raw)
          if (typeof amount !== "number") return Answer.fail(amount)
          if (o.dailyBudget === null) {
            return Answer.fail(
              MetaErrors.invalidParameter("Invalid parameter", {
                title: "Budget is set elsewhere",
                message: o.kind === "adset"
                  ? "This ad set's campaign uses a campaign budget: change the campaign's daily budget instead."
                  : "This campaign's ad sets hold the budgets: change an ad set's daily budget instead."
              })
            )
          }
          if (amount < account.offset) {
            return Answer.fail(MetaErrors.invalidParameter("Invalid parameter", { title: "Your budget is too low", message: `The daily budget must be at least ${account.offset} (1.00 ${account.currency}).` }))
          }
          patch.dailyBudget = amount
          break
        }
        case "bid_amount": {
          if (o.kind === "campaign") return Answer.fail(MetaErrors.invalidParameter(`Tried to set nonexisting field (bid_amount) on node type (${nodeType})`))
          const amount = amountParam(key, raw)
          if (typeof amount !== "number") return Answer.fail(amount)
          if (amount < 1) return Answer.fail(MetaErrors.invalidParameter("Param bid_amount must be at least 1"))
          patch.bidAmount = amount
          break
        }
        default:
          return Answer.fail(MetaErrors.invalidParameter(`simulator: param ${key} is not implemented on node type (${nodeType})`))
      }
    }
    applyPatch(o, patch)
    return Answer.ok({ success: true })
  }

  const applyPatch = (o: MetaObject, patch: ObjectPatch): void => {
    const before = JSON.stringify([o.name, o.status, o.dailyBudget, o.bidAmount])
    if (patch.name !== undefined) o.name = patch.name
    if (patch.status !== undefined) o.status = patch.status
    if (patch.dailyBudget !== undefined) o.dailyBudget = patch.dailyBudget
    if (patch.bidAmount !== undefined) o.bidAmount = patch.bidAmount
    if (JSON.stringify([o.name, o.status, o.dailyBudget, o.bidAmount]) !== before) o.updatedAt = now()
  }

  const readAccount = (account: MetaAccount, fields: ReadonlyArray<string>): Answer => {
    const out: Record<string, unknown> = {}
    for (const f of fields) {
      if (!ACCOUNT_FIELDS.has(f)) return Answer.fail(MetaErrors.nonexistingField(f, "AdAccount"))
      if (f === "account_id") out[f] = account.id
      if (f === "name") out[f] = account.name
      if (f === "currency") out[f] = account.currency
      if (f === "account_status") out[f] = 1
      if (f === "timezone_name") out[f] = "Etc/UTC"
    }
    out.id = `act_${account.id}`
    return Answer.ok(out)
  }

  // ------------------------------------------------------------------- insights

  const NOT_IMPLEMENTED_INSIGHTS_PARAMS = ["breakdowns", "filtering", "action_breakdowns", "sort", "summary", "time_ranges", "date_preset_range"]

  const readInsights = (account: MetaAccount, url: URL, params: Map<string, string>): Answer => {
    for (const p of NOT_IMPLEMENTED_INSIGHTS_PARAMS) {
      if (params.has(p)) return Answer.fail(MetaErrors.invalidParameter(`simulator: insights parameter ${p} is not implemented`))
    }
    const level = (params.get("level") ?? "account") as InsightsLevel | "ad"
    if (level === "ad") return Answer.fail(MetaErrors.invalidParameter("simulator: level ad is not implemented (the simulator has no ads)"))
    if (level !== "account" && level !== "campaign" && level !== "adset") {
      return Answer.fail(MetaErrors.invalidParameter("level must be one of the following values: ad, adset, campaign, account"))
    }
    const requested = fieldsOf(params) ?? ["impressions", "spend", ...(level === "campaign" ? ["campaign_id"] : level === "adset" ? ["adset_id"] : ["account_id"])]
    for (const f of requested) {
      if (!(INSIGHTS_FIELDS as ReadonlyArray<string>).includes(f)) return Answer.fail(MetaErrors.invalidParameter(`simulator: insights field (${f}) is not implemented`))
    }
    let since: string
    let until: string
    const today = utcDate(now())
    const rangeParam = params.get("time_range")
    if (rangeParam !== undefined) {
      let range: { since?: unknown; until?: unknown }
      try {
        range = JSON.parse(rangeParam) as { since?: unknown; until?: unknown }
      } catch {
        return Answer.fail(MetaErrors.invalidParameter("time_range must be a JSON object with since and until"))
      }
      const date = /^\d{4}-\d{2}-\d{2}$/
      if (typeof range.since !== "string" || typeof range.until !== "string" || !date.test(range.since) || !date.test(range.until)) {
        return Answer.fail(MetaErrors.invalidParameter("time_range must be a JSON object with since and until"))
      }
      if (range.since > range.until) return Answer.fail(MetaErrors.invalidParameter("time_range's since must not be after its until"))
      since = range.since
      until = range.until
    } else {
      const preset = params.get("date_preset") ?? "last_30d"
      const day = (offsetDays: number) => utcDate(now() - offsetDays * 86_400_000)
      if (preset === "today") [since, until] = [today, today]
      else if (preset === "yesterday") [since, until] = [day(1), day(1)]
      else if (preset === "last_7d") [since, until] = [day(7), day(1)]
      else if (preset === "last_30d") [since, until] = [day(30), day(1)]
      else return Answer.fail(MetaErrors.invalidParameter(`simulator: date_preset ${preset} is not implemented`))
    }
    if (until > today) until = today
    const increment = params.get("time_increment") ?? "all_days"
    if (increment !== "all_days" && increment !== "1") return Answer.fail(MetaErrors.invalidParameter(`simulator: time_increment ${increment} is not implemented`))
    const rows = since > until
      ? []
      : insightsRows({ seed: ids.seed, account, level, fields: requested as ReadonlyArray<InsightsField>, since, until, daily: increment === "1", overrides })

    const limit = Math.max(1, Math.min(5000, Number(params.get("limit") ?? "25") || 25))
    const after = params.get("after")
    const start = after === undefined ? 0 : Number(Buffer.from(after, "base64").toString("utf8")) + 1
    if (!Number.isInteger(start) || start < 0) return Answer.fail(MetaErrors.invalidParameter("Invalid cursor"))
    const page = rows.slice(start, start + limit)
    if (page.length === 0) return Answer.ok({ data: [] })
    const cursor = (i: number) => Buffer.from(String(i)).toString("base64")
    const paging: Record<string, unknown> = { cursors: { before: cursor(start), after: cursor(start + page.length - 1) } }
    if (start + page.length < rows.length) {
      const next = new URL(url.href)
      next.searchParams.set("after", cursor(start + page.length - 1))
      paging.next = next.href
    }
    return Answer.ok({ data: page, paging })
  }

  // ------------------------------------------------------------------- the handler

  const handler = async (request: Request): Promise<Response> => {
    const url = new URL(request.url)
    const segments = url.pathname.split("/").filter((s) => s !== "")
    const version = segments[0] !== undefined && VERSION_PATTERN.test(segments[0]) ? segments[0] : undefined
    const node = version === undefined ? undefined : segments[1]
    const edge = segments[2]
    const method = request.method.toUpperCase()
    const call: MetaCall = requests.record({
      seq: ++seq,
      at: now(),
      method,
      path: url.pathname,
      version,
      accountId: undefined,
      objectId: node !== undefined && /^\d+$/.test(node) ? node : undefined,
      buc: undefined,
      outcome: "ok",
      code: undefined,
      usage: undefined
    })
    const fail = (error: GraphError, account?: MetaAccount): Response => respond(Answer.fail(error), account, call, version)

    if (version === undefined || node === undefined || segments.length > 3) return fail(MetaErrors.unknownPath(url.pathname))
    if (!apiVersions.includes(version)) return fail(MetaErrors.deprecatedVersion(latest))
    if (method !== "GET" && method !== "POST") return fail(MetaErrors.unknownObject("get", node))

    let params: Map<string, string>
    try {
      params = await readParams(request, url)
    } catch {
      return fail(MetaErrors.invalidParameter("The request body could not be parsed"))
    }
    const token = tokenOf(request, params)
    if (token === undefined) {
      call.outcome = "auth_error"
      return fail(MetaErrors.tokenMissing())
    }
    const account = accounts.find((a) => a.accessToken === token)
    if (account === undefined) {
      call.outcome = "auth_error"
      return fail(MetaErrors.tokenInvalid())
    }
    call.accountId = account.id
    if (account.tokenExpiresAt !== undefined && now() >= account.tokenExpiresAt) {
      call.outcome = "auth_error"
      return fail(MetaErrors.tokenExpired(account.tokenExpiresAt, now()), account)
    }

    const isAccountNode = node.startsWith("act_")
    const buc: BucType = edge === "insights" ? "ads_insights" : "ads_management"
    call.buc = buc
    const verb = method === "GET" ? "get" : "post"

    // The Business Use Case limits, and throttles queued by a test.
    const injected = throttles.take({ accountId: account.id, buc, method, objectId: call.objectId })
    if (injected !== undefined) {
      if (injected.regainAfterMs !== undefined) account.windows[buc].exhaust(injected.regainAfterMs)
      call.outcome = "throttled"
      return fail(throttleError(injected.code ?? 17), account)
    }
    if (!account.windows[buc].admit(method === "POST" ? CALL_POINTS.write : CALL_POINTS.read)) {
      call.outcome = "throttled"
      return fail(throttleError(rate.throttleCodes?.[buc] ?? (buc === "ads_insights" ? 80000 : 80004)), account)
    }

    let answer: Answer
    if (isAccountNode) {
      if (node !== `act_${account.id}`) answer = Answer.fail(MetaErrors.unknownObject(verb, node))
      else if (edge === "insights" && method === "GET") answer = readInsights(account, url, params)
      else if (edge === undefined && method === "GET") answer = readAccount(account, fieldsOf(params) ?? ["account_id"])
      else answer = Answer.fail(MetaErrors.invalidParameter(`simulator: ${method} /${node}${edge === undefined ? "" : `/${edge}`} is not implemented`))
    } else {
      const object = /^\d+$/.test(node) ? account.object(node) : undefined
      if (object === undefined) answer = Answer.fail(MetaErrors.unknownObject(verb, node))
      else if (edge !== undefined) answer = Answer.fail(MetaErrors.invalidParameter(`simulator: /${node}/${edge} is not implemented`))
      else if (method === "GET") answer = readObject(account, object, fieldsOf(params) ?? ["id"])
      else answer = writeObject(account, object, params)
    }
    return respond(answer, account, call, version)
  }

  const faults = new HttpFaults({
    defaultBody: (status) => ({
      contentType: JSON_HEADERS["Content-Type"],
      body: JSON.stringify(
        graphErrorBody(
          status >= 500 ? MetaErrors.serverError(status) : { status, message: "An unknown error has occurred.", type: "OAuthException", code: 1 },
          traceIds.string(23, TRACE_ALPHABET)
        )
      )
    })
  })
  const server = await startSimulatorServer({ fetch: handler, faults, clock: now })

  return {
    ...server,
    clock: simulated,
    ids,
    apiVersions,
    requests,
    accounts,
    account: accountOf,
    object: (id) => {
      const { account, object } = findObject(id)
      return account.snapshot(object)
    },
    setObject: (id, patch) => {
      const { account, object } = findObject(id)
      applyPatch(object, patch)
      return account.snapshot(object)
    },
    setDelivery: (adSetId, date, delivery) => {
      const { object } = findObject(adSetId)
      if (object.kind !== "adset") throw new Error(`${adSetId} is a campaign; delivery is per ad set`)
      overrides.set(overrideKey(adSetId, date), delivery)
    },
    usage: (adAccountId) => {
      const account = accountOf(adAccountId)
      return Object.fromEntries(BUC_TYPES.map((t) => [t, account.windows[t].usage(now(), tier)])) as Record<BucType, BucUsage>
    },
    throttledCount: (adAccountId) => requests.count((c) => c.outcome === "throttled" && (adAccountId === undefined || c.accountId === adAccountId)),
    expireToken: (adAccountId, at) => {
      accountOf(adAccountId).tokenExpiresAt = at ?? now()
    },
    setToken: (adAccountId, token, expiresAt) => {
      const account = accountOf(adAccountId)
      account.accessToken = token
      account.tokenExpiresAt = expiresAt
    },
    exhaust: (adAccountId, o) => accountOf(adAccountId).windows[o.buc ?? "ads_management"].exhaust(o.regainAfterMs, o.percent ?? 100, now()),
    throttleNext: (adAccountId, fault = {}, o = {}) => {
      const id = accountOf(adAccountId).id
      throttles.add(fault, { count: o.count ?? 1, match: (info) => info.accountId === id && (o.buc === undefined || info.buc === o.buc) })
    },
    setCapacity: (adAccountId, buc, capacity) => {
      const w = accountOf(adAccountId).windows[buc]
      w.limits = { ...w.limits, capacity }
    },
    resetUsage: (adAccountId) => {
      for (const account of adAccountId === undefined ? accounts : [accountOf(adAccountId)]) for (const t of BUC_TYPES) account.windows[t].reset()
    }
  }
}
