/**
 * A protocol-faithful local simulator of the TikTok Marketing API v1.3 (TikTok API for
 * Business) for what the ad platform client uses: `advertiser/info/`, synchronous BASIC
 * reports at campaign and ad group level (`report/integrated/get/`), `campaign/get/`,
 * `adgroup/get/`, status updates and budget / bid updates.
 *
 * Wire conventions followed (TikTok's, not REST's): the token travels in the `Access-Token`
 * header; every answer the API gives itself is HTTP 200 with `{code, message, request_id,
 * data}` and `code: 0` for success; GET parameters that are lists or objects are JSON in the
 * query string (`dimensions=["campaign_id","stat_time_day"]`); report metrics are strings.
 * Refusals are body codes: 40100 when the advertiser's request rate is exceeded, 40104 without
 * a token, 40105 for an unknown, expired or revoked token, 40001 when the token may not act
 * for the advertiser, 40002 for invalid parameters. HTTP 5xx, latency, hangs and dropped
 * connections come from the kit's `HttpFaults` (`sim.faults`); protocol faults (an injected
 * 40100, a `50000` system error) from `throttleNext` / `codeNext`.
 *
 * Keywords do not exist on TikTok; nothing here simulates them.
 */
import { Hono, type Context } from "hono"
import { DeterministicIds } from "../../kit/DeterministicIds.ts"
import { FaultQueue, HttpFaults } from "../../kit/Faults.ts"
import { RequestLog } from "../../kit/RequestLog.ts"
import { makeClock, type Clock, type SimulatedClock } from "../../kit/SimulatedClock.ts"
import { startSimulatorServer, type SimulatorServer } from "../../kit/SimulatorServer.ts"
import {
  AdvertiserState,
  adGroupSecondaryStatus,
  campaignSecondaryStatus,
  currencyPrecision,
  formatTime,
  minimumDailyBudget,
  type AdGroupRecord,
  type AdvertiserInit,
  type BidType,
  type BudgetMode,
  type CampaignRecord,
  type OperationStatus,
  type RateLimit
} from "./model.ts"
import { NUMERIC_METRICS, adGroupDay, campaignDay, renderMetric, type DayNumbers } from "./reports.ts"

/** The API's path prefix. */
export const TIKTOK_API_PREFIX = "/open_api/v1.3"

/** Return codes the simulator answers. */
export const TikTokCode = {
  OK: 0,
  NO_PERMISSION: 40001,
  INVALID_PARAMS: 40002,
  TOO_MANY_REQUESTS: 40100,
  ACCESS_TOKEN_MISSING: 40104,
  ACCESS_TOKEN_INVALID: 40105,
  SYSTEM_ERROR: 50000
} as const

/** Default per-advertiser limit: 10 requests in any second. */
export const DEFAULT_RATE_LIMIT: RateLimit = { limit: 10, windowMs: 1_000 }

const MAX_PAGE_SIZE = 1_000
const MAX_REPORT_DAYS = 30

export interface TikTokAdsSimulatorOptions {
  readonly advertisers: ReadonlyArray<AdvertiserInit>
  /** Time of the rate windows, timestamps and request ids (default: the wall clock). */
  readonly clock?: Clock | SimulatedClock
  /** Seed of request ids and report numbers (default random: new numbers every run). */
  readonly seed?: string | number
  /** Default per-advertiser rate limit (each advertiser may override it). */
  readonly rateLimit?: RateLimit
}

/** One API call as the simulator understood it. */
export interface TikTokRequest {
  readonly seq: number
  readonly at: number
  readonly method: string
  /** Path without the `/open_api/v1.3` prefix, e.g. `/campaign/get/`. */
  readonly path: string
  readonly advertiserId: string | undefined
  readonly code: number
  readonly message: string
  /** True when a `throttleNext` / `codeNext` rule produced the answer. */
  readonly injected: boolean
  readonly requestId: string
}

/** Which calls a protocol fault applies to. */
export interface TikTokFaultMatch {
  readonly advertiserId?: string
  /** Path without the prefix, e.g. `/report/integrated/get/`. */
  readonly path?: string
}

interface ProtocolFault {
  readonly code: number
  readonly message: string
}

/** A campaign change made "in the UI", behind the client's back. */
export interface CampaignPatch {
  readonly status?: OperationStatus | "DELETE"
  readonly budget?: number
  readonly budgetMode?: BudgetMode
  readonly name?: string
}

/** An ad group change made behind the client's back. */
export interface AdGroupPatch {
  readonly status?: OperationStatus | "DELETE"
  readonly budget?: number
  readonly budgetMode?: BudgetMode
  readonly bidType?: BidType
  readonly bidPrice?: number
  readonly name?: string
}

export interface TikTokAdsSimulator extends SimulatorServer {
  readonly clock: Clock
  readonly ids: DeterministicIds
  /** Every API call (outside `/__sim/`), with the code it was answered. */
  readonly requests: RequestLog<TikTokRequest>
  /** An advertiser's live state (throws for unknown ids). */
  advertiser(advertiserId: string): AdvertiserState
  /** A copy of a campaign as `campaign/get/` would list it. */
  campaign(advertiserId: string, campaignId: string): CampaignRecord
  /** A copy of an ad group as `adgroup/get/` would list it. */
  adGroup(advertiserId: string, adgroupId: string): AdGroupRecord
  setCampaign(advertiserId: string, campaignId: string, patch: CampaignPatch): CampaignRecord
  setAdGroup(advertiserId: string, adgroupId: string, patch: AdGroupPatch): AdGroupRecord
  /** From now on the advertiser's token (for every advertiser it opens) is refused with 40105 (expired or revoked). */
  expireToken(advertiserId: string): void
  /** Gives the advertiser a new valid token. */
  renewToken(advertiserId: string, accessToken: string): void
  /** The next `count` matching calls answer code 40100 (HTTP 200), before the rate window sees them. */
  throttleNext(count?: number, match?: TikTokFaultMatch): void
  /** The next `count` matching calls answer `code` (e.g. 50000, 40002) with `message`. */
  codeNext(code: number, options?: { readonly count?: number; readonly message?: string; readonly match?: TikTokFaultMatch }): void
  /** Calls answered with `code` (for one advertiser, if given). */
  countCode(code: number, advertiserId?: string): number
  /** The report metrics of one object's day, as the strings the report answers. */
  dayMetrics(advertiserId: string, level: "campaign" | "adgroup", id: string, date: string): Readonly<Record<string, string>>
}

/** A refusal in TikTok's shape. */
class ApiRefusal {
  readonly code: number
  readonly message: string
  constructor(code: number, message: string) {
    this.code = code
    this.message = message
  }
}

const invalid = (message: string): ApiRefusal => new ApiRefusal(TikTokCode.INVALID_PARAMS, message)

type Params = Readonly<Record<string, unknown>>

const str = (params: Params, name: string, required = true): string | undefined => {
  const value = params[name]
  if (value === undefined || value === null || value === "") {
    if (required) throw invalid(`${name}: Missing data for required field.`)
    return undefined
  }
  if (typeof value === "string") return value
  if (typeof value === "number") return String(value)
  throw invalid(`${name}: Not a valid string.`)
}

/** A GET parameter that TikTok expects as JSON (a list or an object), or the parsed POST value. */
const json = (params: Params, name: string): unknown => {
  const value = params[name]
  if (value === undefined || value === "") return undefined
  if (typeof value !== "string") return value
  try {
    return JSON.parse(value)
  } catch {
    throw invalid(`${name}: Not a valid JSON.`)
  }
}

const stringList = (params: Params, name: string, required: boolean, max = Infinity): ReadonlyArray<string> | undefined => {
  const value = json(params, name)
  if (value === undefined) {
    if (required) throw invalid(`${name}: Missing data for required field.`)
    return undefined
  }
  if (!Array.isArray(value) || value.some((v) => typeof v !== "string" && typeof v !== "number")) throw invalid(`${name}: Not a valid list.`)
  if (value.length > max) throw invalid(`${name}: Length must be between 1 and ${max}.`)
  if (required && value.length === 0) throw invalid(`${name}: Length must be between 1 and ${max}.`)
  return value.map(String)
}

const int = (params: Params, name: string, fallback: number, min: number, max: number): number => {
  const raw = params[name]
  if (raw === undefined || raw === "") return fallback
  const n = typeof raw === "number" ? raw : Number(raw)
  if (!Number.isInteger(n)) throw invalid(`${name}: Not a valid integer.`)
  if (n < min || n > max) throw invalid(`${name}: Must be between ${min} and ${max}.`)
  return n
}

/** A money field of a POST body: a number (or numeric string) with at most the currency's decimals. */
const amount = (params: Params, name: string, precision: number): number | undefined => {
  const raw = params[name]
  if (raw === undefined || raw === null) return undefined
  const n = typeof raw === "number" ? raw : typeof raw === "string" && raw.trim() !== "" ? Number(raw) : Number.NaN
  if (!Number.isFinite(n)) throw invalid(`${name}: Not a valid number.`)
  if (n <= 0) throw invalid(`${name}: Must be greater than 0.`)
  if (Math.abs(Math.round(n * 10 ** precision) - n * 10 ** precision) > 1e-6) {
    throw invalid(`${name}: At most ${precision} decimal places are allowed for this currency.`)
  }
  return n
}

const operationStatus = (params: Params): OperationStatus | "DELETE" => {
  const value = str(params, "operation_status")
  if (value !== "ENABLE" && value !== "DISABLE" && value !== "DELETE") throw invalid("operation_status: Must be one of: ENABLE, DISABLE, DELETE.")
  return value
}

const DATE = /^\d{4}-\d{2}-\d{2}$/

const datesBetween = (start: string, end: string): ReadonlyArray<string> => {
  const out: Array<string> = []
  for (let t = Date.parse(`${start}T00:00:00Z`); t <= Date.parse(`${end}T00:00:00Z`); t += 86_400_000) out.push(new Date(t).toISOString().slice(0, 10))
  return out
}

const pageOf = <A>(items: ReadonlyArray<A>, page: number, pageSize: number) => ({
  list: items.slice((page - 1) * pageSize, page * pageSize),
  page_info: { page, page_size: pageSize, total_number: items.length, total_page: Math.ceil(items.length / pageSize) }
})

const pick = (record: object, fields: ReadonlyArray<string> | undefined): Record<string, unknown> => {
  const all = record as Record<string, unknown>
  if (fields === undefined) return { ...all }
  return Object.fromEntries(fields.filter((f) => f in all).map((f) => [f, all[f]]))
}

const sumDays = (days: ReadonlyArray<DayNumbers>): DayNumbers =>
  days.reduce((a, d) => ({
    spend: a.spend + d.spend,
    impressions: a.impressions + d.impressions,
    clicks: a.clicks + d.clicks,
    conversions: a.conversions + d.conversions,
    value: a.value + d.value
  }), { spend: 0, impressions: 0, clicks: 0, conversions: 0, value: 0 })

/** Starts the simulator on 127.0.0.1 (a free port) behind the kit's faults and request log. */
export const startTikTokAdsSimulator = async (options: TikTokAdsSimulatorOptions): Promise<TikTokAdsSimulator> => {
  const clock: Clock = options.clock === undefined ? makeClock().now : typeof options.clock === "function" ? options.clock : options.clock.now
  const root = new DeterministicIds(options.seed === undefined ? {} : { seed: options.seed })
  const requestIds = root.fork("request-ids")
  const reportSeed = root.seed
  const defaultRate = options.rateLimit ?? DEFAULT_RATE_LIMIT
  const advertisers = new Map<string, AdvertiserState>()
  for (const init of options.advertisers) advertisers.set(init.advertiserId, new AdvertiserState(init, defaultRate, clock))
  const requests = new RequestLog<TikTokRequest>({ limit: 10_000 })
  const protocolFaults = new FaultQueue<ProtocolFault, { readonly advertiserId: string | undefined; readonly path: string }>()
  let seq = 0

  const requestId = (): string => `${formatTime(clock()).replace(/\D/g, "")}${requestIds.hex(9).toUpperCase()}`
  const envelope = (code: number, message: string, data: unknown, id: string) => ({ code, message, request_id: id, data })

  const advertiserOf = (advertiserId: string): AdvertiserState => {
    const a = advertisers.get(advertiserId)
    if (a === undefined) throw new Error(`unknown advertiser ${advertiserId}`)
    return a
  }

  // ------------------------------------------------------------------ endpoints

  const advertiserInfo = (params: Params, token: string) => {
    const ids = stringList(params, "advertiser_ids", true, 100) as ReadonlyArray<string>
    const fields = stringList(params, "fields", false)
    const list = ids.map((id) => {
      const a = advertisers.get(id)
      if (a === undefined || a.accessToken !== token) throw new ApiRefusal(TikTokCode.NO_PERMISSION, `No permission to operate advertiser ${id}.`)
      return pick({
        advertiser_id: a.advertiserId,
        name: a.name,
        currency: a.currency,
        timezone: a.timezone,
        display_timezone: a.timezone,
        status: "STATUS_ENABLE",
        create_time: Math.floor(clock() / 1000)
      }, fields)
    })
    return { list }
  }

  const report = (params: Params, a: AdvertiserState) => {
    if (str(params, "report_type") !== "BASIC") throw invalid("report_type: Only BASIC reports are simulated.")
    const serviceType = str(params, "service_type", false) ?? "AUCTION"
    if (serviceType !== "AUCTION") throw invalid("service_type: Must be one of: AUCTION, RESERVATION.")
    const dataLevel = str(params, "data_level", false) ?? "AUCTION_ADVERTISER"
    if (dataLevel !== "AUCTION_CAMPAIGN" && dataLevel !== "AUCTION_ADGROUP") throw invalid(`data_level: ${dataLevel} is not simulated (AUCTION_CAMPAIGN, AUCTION_ADGROUP).`)
    const idDimension = dataLevel === "AUCTION_CAMPAIGN" ? "campaign_id" : "adgroup_id"
    const dimensions = stringList(params, "dimensions", true, 4) as ReadonlyArray<string>
    if (!dimensions.includes(idDimension)) throw invalid(`dimensions: ${idDimension} is required when data_level is ${dataLevel}.`)
    for (const d of dimensions) if (d !== idDimension && d !== "stat_time_day") throw invalid(`dimensions: Invalid dimension ${d} for data_level ${dataLevel}.`)
    const daily = dimensions.includes("stat_time_day")
    const attributes = dataLevel === "AUCTION_CAMPAIGN" ? ["campaign_name", "objective_type"] : ["campaign_id", "campaign_name", "adgroup_name"]
    const metrics = stringList(params, "metrics", false) ?? ["spend", "impressions"]
    for (const m of metrics) if (!(NUMERIC_METRICS as ReadonlyArray<string>).includes(m) && !attributes.includes(m)) throw invalid(`metrics: Invalid metric ${m}.`)
    if (params["query_lifetime"] === "true" || params["query_lifetime"] === true) throw invalid("query_lifetime: Lifetime reports are not simulated.")
    const start = str(params, "start_date") as string
    const end = str(params, "end_date") as string
    if (!DATE.test(start) || Number.isNaN(Date.parse(start))) throw invalid("start_date: Not a valid date (YYYY-MM-DD).")
    if (!DATE.test(end) || Number.isNaN(Date.parse(end))) throw invalid("end_date: Not a valid date (YYYY-MM-DD).")
    if (end < start) throw invalid("end_date: Must not be earlier than start_date.")
    const dates = datesBetween(start, end)
    if (daily && dates.length > MAX_REPORT_DAYS) throw invalid(`The time span between start_date and end_date cannot exceed ${MAX_REPORT_DAYS} days when stat_time_day is a dimension.`)
    const page = int(params, "page", 1, 1, 1_000_000)
    const pageSize = int(params, "page_size", 10, 1, MAX_PAGE_SIZE)
    const precision = currencyPrecision(a.currency)

    const objects: ReadonlyArray<{ readonly id: string; readonly attrs: Readonly<Record<string, string>>; readonly day: (date: string) => DayNumbers }> =
      dataLevel === "AUCTION_CAMPAIGN"
        ? [...a.campaigns.values()]
          .filter((c) => a.adGroupsOf(c.campaign_id).length > 0)
          .map((c) => ({
            id: c.campaign_id,
            attrs: { campaign_name: c.campaign_name, objective_type: c.objective_type },
            day: (date: string) => campaignDay(reportSeed, a, c.campaign_id, date)
          }))
        : [...a.adGroups.values()].map((g) => ({
          id: g.adgroup_id,
          attrs: { campaign_id: g.campaign_id, campaign_name: a.campaigns.get(g.campaign_id)?.campaign_name ?? "", adgroup_name: g.adgroup_name },
          day: (date: string) => adGroupDay(reportSeed, a, g.adgroup_id, date)
        }))

    const render = (d: DayNumbers, attrs: Readonly<Record<string, string>>) =>
      Object.fromEntries(metrics.map((m) => [m, attrs[m] ?? renderMetric(m, d, precision) ?? ""]))
    const rows = objects.flatMap((o) =>
      daily
        ? dates.map((date) => ({ dimensions: { [idDimension]: o.id, stat_time_day: `${date} 00:00:00` }, metrics: render(o.day(date), o.attrs) }))
        : [{ dimensions: { [idDimension]: o.id }, metrics: render(sumDays(dates.map(o.day)), o.attrs) }]
    )
    return pageOf(rows, page, pageSize)
  }

  const primaryStatusFilter = (filtering: Record<string, unknown>, deleted: (status: string) => boolean) => {
    const primary = filtering["primary_status"] ?? "STATUS_NOT_DELETE"
    if (primary !== "STATUS_ALL" && primary !== "STATUS_NOT_DELETE" && primary !== "STATUS_DELETE") {
      throw invalid("filtering.primary_status: Must be one of: STATUS_ALL, STATUS_NOT_DELETE, STATUS_DELETE.")
    }
    return (secondary: string) => primary === "STATUS_ALL" || (primary === "STATUS_DELETE") === deleted(secondary)
  }

  const filteringOf = (params: Params): Record<string, unknown> => {
    const filtering = json(params, "filtering") ?? {}
    if (typeof filtering !== "object" || filtering === null || Array.isArray(filtering)) throw invalid("filtering: Not a valid object.")
    return filtering as Record<string, unknown>
  }

  const idFilter = (filtering: Record<string, unknown>, name: string): ReadonlySet<string> | undefined => {
    const ids = filtering[name]
    if (ids === undefined) return undefined
    if (!Array.isArray(ids) || ids.some((v) => typeof v !== "string" && typeof v !== "number")) throw invalid(`filtering.${name}: Not a valid list.`)
    if (ids.length > 100) throw invalid(`filtering.${name}: Length must be between 1 and 100.`)
    return new Set(ids.map(String))
  }

  const campaignGet = (params: Params, a: AdvertiserState) => {
    const filtering = filteringOf(params)
    const ids = idFilter(filtering, "campaign_ids")
    const status = primaryStatusFilter(filtering, (s) => s === "CAMPAIGN_STATUS_DELETE")
    const fields = stringList(params, "fields", false)
    const page = int(params, "page", 1, 1, 1_000_000)
    const pageSize = int(params, "page_size", 10, 1, MAX_PAGE_SIZE)
    const list = [...a.campaigns.values()].filter((c) => (ids === undefined || ids.has(c.campaign_id)) && status(c.secondary_status))
    return pageOf(list.map((c) => pick(c, fields)), page, pageSize)
  }

  const adGroupGet = (params: Params, a: AdvertiserState) => {
    const filtering = filteringOf(params)
    const ids = idFilter(filtering, "adgroup_ids")
    const campaigns = idFilter(filtering, "campaign_ids")
    const status = primaryStatusFilter(filtering, (s) => s === "ADGROUP_STATUS_DELETE")
    const fields = stringList(params, "fields", false)
    const page = int(params, "page", 1, 1, 1_000_000)
    const pageSize = int(params, "page_size", 10, 1, MAX_PAGE_SIZE)
    const list = [...a.adGroups.values()].filter((g) =>
      (ids === undefined || ids.has(g.adgroup_id)) && (campaigns === undefined || campaigns.has(g.campaign_id)) && status(g.secondary_status)
    )
    return pageOf(list.map((g) => pick(g, fields)), page, pageSize)
  }

  const existingCampaign = (a: AdvertiserState, id: string): CampaignRecord => {
    const c = a.campaigns.get(id)
    if (c === undefined) throw invalid(`campaign_id: Campaign ${id} does not exist.`)
    if (c.secondary_status === "CAMPAIGN_STATUS_DELETE") throw invalid(`campaign_id: Campaign ${id} has been deleted and cannot be modified.`)
    return c
  }

  const existingAdGroup = (a: AdvertiserState, id: string): AdGroupRecord => {
    const g = a.adGroups.get(id)
    if (g === undefined) throw invalid(`adgroup_id: Ad group ${id} does not exist.`)
    if (g.secondary_status === "ADGROUP_STATUS_DELETE") throw invalid(`adgroup_id: Ad group ${id} has been deleted and cannot be modified.`)
    return g
  }

  const applyCampaignStatus = (a: AdvertiserState, c: CampaignRecord, status: OperationStatus | "DELETE") => {
    if (status !== "DELETE") c.operation_status = status
    c.secondary_status = campaignSecondaryStatus(status)
    c.modify_time = formatTime(clock())
    a.refreshAdGroups(c.campaign_id)
  }

  const applyAdGroupStatus = (a: AdvertiserState, g: AdGroupRecord, status: OperationStatus | "DELETE") => {
    if (status !== "DELETE") g.operation_status = status
    g.secondary_status = adGroupSecondaryStatus(status, a.campaigns.get(g.campaign_id) as CampaignRecord)
    g.modify_time = formatTime(clock())
  }

  const campaignStatusUpdate = (params: Params, a: AdvertiserState) => {
    const ids = stringList(params, "campaign_ids", true, 20) as ReadonlyArray<string>
    const status = operationStatus(params)
    const campaigns = ids.map((id) => existingCampaign(a, id)) // all-or-nothing
    for (const c of campaigns) applyCampaignStatus(a, c, status)
    return { campaign_ids: ids, status }
  }

  const adGroupStatusUpdate = (params: Params, a: AdvertiserState) => {
    const ids = stringList(params, "adgroup_ids", true, 20) as ReadonlyArray<string>
    const status = operationStatus(params)
    const groups = ids.map((id) => existingAdGroup(a, id))
    for (const g of groups) applyAdGroupStatus(a, g, status)
    return { adgroup_ids: ids, status }
  }

  const checkBudget = (a: AdvertiserState, mode: BudgetMode, budget: number, level: "campaign" | "adGroup") => {
    if (mode === "BUDGET_MODE_INFINITE") throw invalid("budget: Budget cannot be set when budget_mode is BUDGET_MODE_INFINITE.")
    const minimum = minimumDailyBudget(a.currency)[level]
    if (mode === "BUDGET_MODE_DAY" && budget < minimum) {
      throw invalid(`budget: The daily budget must be at least ${minimum} ${a.currency}.`)
    }
  }

  const campaignUpdate = (params: Params, a: AdvertiserState) => {
    const c = existingCampaign(a, str(params, "campaign_id") as string)
    const precision = currencyPrecision(a.currency)
    const budget = amount(params, "budget", precision)
    const name = str(params, "campaign_name", false)
    if (budget !== undefined) {
      checkBudget(a, c.budget_mode, budget, "campaign")
      const tooLow = a.adGroupsOf(c.campaign_id).find((g) => g.bid_type === "BID_TYPE_CUSTOM" && g.secondary_status !== "ADGROUP_STATUS_DELETE" && g.bid_price >= budget)
      if (tooLow !== undefined) throw invalid(`budget: The campaign budget must be higher than the bid of ad group ${tooLow.adgroup_id}.`)
    }
    if (name !== undefined && name.length > 512) throw invalid("campaign_name: Longer than maximum length 512.")
    if (budget !== undefined) c.budget = budget
    if (name !== undefined) c.campaign_name = name
    c.modify_time = formatTime(clock())
    return { ...c }
  }

  const adGroupUpdate = (params: Params, a: AdvertiserState) => {
    const g = existingAdGroup(a, str(params, "adgroup_id") as string)
    const precision = currencyPrecision(a.currency)
    const budget = amount(params, "budget", precision)
    const bid = amount(params, "bid_price", precision)
    const name = str(params, "adgroup_name", false)
    if (budget !== undefined) checkBudget(a, g.budget_mode, budget, "adGroup")
    if (bid !== undefined && g.bid_type !== "BID_TYPE_CUSTOM") throw invalid("bid_price: bid_price can only be set when bid_type is BID_TYPE_CUSTOM.")
    const effectiveBudget = budget ?? g.budget
    const effectiveBid = bid ?? g.bid_price
    if ((budget !== undefined || bid !== undefined) && g.bid_type === "BID_TYPE_CUSTOM" && g.budget_mode === "BUDGET_MODE_DAY" && effectiveBid >= effectiveBudget) {
      throw invalid("bid_price: The bid must be lower than the ad group budget.")
    }
    if (name !== undefined && name.length > 512) throw invalid("adgroup_name: Longer than maximum length 512.")
    if (budget !== undefined) g.budget = budget
    if (bid !== undefined) g.bid_price = bid
    if (name !== undefined) g.adgroup_name = name
    g.modify_time = formatTime(clock())
    return { ...g }
  }

  // ------------------------------------------------------------------ the pipeline of every call

  type Handler = (params: Params, advertiser: AdvertiserState, token: string) => unknown

  const app = new Hono()

  const serve = (method: "GET" | "POST", path: string, handler: Handler, advertiserParam: "advertiser_id" | "advertiser_ids" = "advertiser_id") => {
    const run = async (c: Context) => {
      const id = requestId()
      let advertiserId: string | undefined
      let injected = false
      let answer: { readonly code: number; readonly message: string; readonly data: unknown }
      try {
        let params: Params
        if (method === "GET") params = c.req.query()
        else {
          const body: unknown = await c.req.json().catch(() => undefined)
          if (typeof body !== "object" || body === null || Array.isArray(body)) throw invalid("The request body must be a JSON object.")
          params = body as Params
        }
        if (advertiserParam === "advertiser_id") advertiserId = str(params, "advertiser_id", false)
        else advertiserId = (() => {
          try {
            return stringList(params, "advertiser_ids", false)?.[0]
          } catch {
            return undefined
          }
        })()
        const token = c.req.header("Access-Token")
        if (token === undefined || token === "") throw new ApiRefusal(TikTokCode.ACCESS_TOKEN_MISSING, "Access token is null. Please pass the Access-Token header.")
        const owned = [...advertisers.values()].filter((a) => a.accessToken === token)
        if (owned.length === 0 || owned.every((a) => a.tokenRevoked)) {
          throw new ApiRefusal(TikTokCode.ACCESS_TOKEN_INVALID, "Access token is invalid or has expired. Please authorize again.")
        }
        if (advertiserId === undefined) throw invalid(`${advertiserParam}: Missing data for required field.`)
        const advertiser = advertisers.get(advertiserId)
        if (advertiser === undefined || advertiser.accessToken !== token) {
          throw new ApiRefusal(TikTokCode.NO_PERMISSION, `No permission to operate advertiser ${advertiserId}.`)
        }
        const fault = protocolFaults.take({ advertiserId, path })
        if (fault !== undefined) {
          injected = true
          throw new ApiRefusal(fault.code, fault.message)
        }
        if (!advertiser.admit(clock())) {
          throw new ApiRefusal(TikTokCode.TOO_MANY_REQUESTS, `Too many requests. Advertiser ${advertiserId} reached the QPS limit ${advertiser.rateLimit.limit} per ${advertiser.rateLimit.windowMs} ms; please retry later.`)
        }
        answer = { code: TikTokCode.OK, message: "OK", data: handler(params, advertiser, token) }
      } catch (e) {
        if (!(e instanceof ApiRefusal)) throw e
        answer = { code: e.code, message: e.message, data: {} }
      }
      requests.record({ seq: ++seq, at: clock(), method, path, advertiserId, code: answer.code, message: answer.message, injected, requestId: id })
      return c.json(envelope(answer.code, answer.message, answer.data, id), 200)
    }
    if (method === "GET") app.get(`${TIKTOK_API_PREFIX}${path}`, run)
    else app.post(`${TIKTOK_API_PREFIX}${path}`, run)
  }

  serve("GET", "/advertiser/info/", (params, _a, token) => advertiserInfo(params, token), "advertiser_ids")
  serve("GET", "/report/integrated/get/", report)
  serve("GET", "/campaign/get/", campaignGet)
  serve("GET", "/adgroup/get/", adGroupGet)
  serve("POST", "/campaign/status/update/", campaignStatusUpdate)
  serve("POST", "/adgroup/status/update/", adGroupStatusUpdate)
  serve("POST", "/campaign/update/", campaignUpdate)
  serve("POST", "/adgroup/update/", adGroupUpdate)

  // HTTP faults without a body answer in TikTok's envelope (a gateway error carries a system code).
  const faults = new HttpFaults({
    defaultBody: (status) => ({
      contentType: "application/json; charset=utf-8",
      body: JSON.stringify(envelope(TikTokCode.SYSTEM_ERROR, `System error (HTTP ${status}). Please retry later.`, {}, requestId()))
    })
  })
  const server = await startSimulatorServer({ fetch: app.fetch, faults, clock })

  const matchOf = (match: TikTokFaultMatch | undefined) =>
    match === undefined
      ? {}
      : { match: (info: { readonly advertiserId: string | undefined; readonly path: string }) => (match.advertiserId === undefined || match.advertiserId === info.advertiserId) && (match.path === undefined || match.path === info.path) }

  return {
    ...server,
    clock,
    ids: root,
    requests,
    advertiser: advertiserOf,
    campaign: (advertiserId, campaignId) => {
      const c = advertiserOf(advertiserId).campaigns.get(campaignId)
      if (c === undefined) throw new Error(`unknown campaign ${campaignId}`)
      return { ...c }
    },
    adGroup: (advertiserId, adgroupId) => {
      const g = advertiserOf(advertiserId).adGroups.get(adgroupId)
      if (g === undefined) throw new Error(`unknown ad group ${adgroupId}`)
      return { ...g }
    },
    setCampaign: (advertiserId, campaignId, patch) => {
      const a = advertiserOf(advertiserId)
      const c = a.campaigns.get(campaignId)
      if (c === undefined) throw new Error(`unknown campaign ${campaignId}`)
      if (patch.budgetMode !== undefined) c.budget_mode = patch.budgetMode
      if (patch.budget !== undefined) c.budget = patch.budget
      if (patch.name !== undefined) c.campaign_name = patch.name
      if (patch.status !== undefined) applyCampaignStatus(a, c, patch.status)
      c.modify_time = formatTime(clock())
      return { ...c }
    },
    setAdGroup: (advertiserId, adgroupId, patch) => {
      const a = advertiserOf(advertiserId)
      const g = a.adGroups.get(adgroupId)
      if (g === undefined) throw new Error(`unknown ad group ${adgroupId}`)
      if (patch.budgetMode !== undefined) g.budget_mode = patch.budgetMode
      if (patch.budget !== undefined) g.budget = patch.budget
      if (patch.bidType !== undefined) g.bid_type = patch.bidType
      if (patch.bidPrice !== undefined) g.bid_price = patch.bidPrice
      if (patch.name !== undefined) g.adgroup_name = patch.name
      if (patch.status !== undefined) applyAdGroupStatus(a, g, patch.status)
      g.modify_time = formatTime(clock())
      return { ...g }
    },
    expireToken: (advertiserId) => {
      // A token is the user's, not the advertiser's: every advertiser it opens loses it.
      const token = advertiserOf(advertiserId).accessToken
      for (const a of advertisers.values()) if (a.accessToken === token) a.tokenRevoked = true
    },
    renewToken: (advertiserId, accessToken) => {
      const a = advertiserOf(advertiserId)
      a.accessToken = accessToken
      a.tokenRevoked = false
    },
    throttleNext: (count = 1, match) => {
      protocolFaults.add({ code: TikTokCode.TOO_MANY_REQUESTS, message: "Too many requests. Please retry in some time." }, { count, ...matchOf(match) })
    },
    codeNext: (code, o = {}) => {
      protocolFaults.add({ code, message: o.message ?? (code >= 50000 ? "System error. Please retry later." : `Simulated error ${code}.`) }, { count: o.count ?? 1, ...matchOf(o.match) })
    },
    countCode: (code, advertiserId) => requests.count((r) => r.code === code && (advertiserId === undefined || r.advertiserId === advertiserId)),
    dayMetrics: (advertiserId, level, id, date) => {
      const a = advertiserOf(advertiserId)
      const day = level === "campaign" ? campaignDay(reportSeed, a, id, date) : adGroupDay(reportSeed, a, id, date)
      const precision = currencyPrecision(a.currency)
      return Object.fromEntries(NUMERIC_METRICS.map((m) => [m, renderMetric(m, day, precision) as string]))
    }
  }
}
