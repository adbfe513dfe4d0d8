/**
 * The Google Search Console Search Analytics API (`searchanalytics.query`), just enough for the
 * search-insight features' tests and the demo: properties (URL-prefix `https://shop.example/` or
 * domain `sc-domain:shop.example`) holding daily fact rows (date × page × query × country ×
 * device, optionally with a search appearance), and
 * `POST /webmasters/v3/sites/{siteUrl}/searchAnalytics/query` answered as Google answers it —
 *
 * 1. the bearer token: missing or not the simulator's → 401 `UNAUTHENTICATED`;
 * 2. the property: not one of the sites (exact match, trailing slash included) → 403
 *    `PERMISSION_DENIED` ("User does not have sufficient permission for site '…'");
 * 3. the body, in Google's JSON error shape (400 `INVALID_ARGUMENT`): unknown fields,
 *    `startDate`/`endDate` (required, `YYYY-MM-DD`, start ≤ end), `dimensions` (date, query,
 *    page, country, device, searchAppearance; searchAppearance only alone), `rowLimit` (1–25,000,
 *    default 1,000), `startRow` (≥ 0), `type`/`searchType`, `dataState` (`final` | `all`),
 *    `aggregationType` (byProperty refused with page grouped or filtered),
 *    `dimensionFilterGroups` (groupType `and`; operators equals, notEquals, contains,
 *    notContains, includingRegex, excludingRegex on page, query, country, device,
 *    searchAppearance);
 *
 * and answers `{rows?: [{keys?, clicks, impressions, ctr, position}], responseAggregationType,
 * metadata?: {firstIncompleteDate}}`.
 *
 * Data lag, on the clock `now` (UTC days): `dataState: "final"` sees days up to today − 3,
 * `"all"` up to today − 1; days today − 2 and today − 1 are incomplete, which `metadata` names
 * when the request groups by date and its range reaches them. Nothing older than 16 months.
 *
 * Aggregation: the fact rows in range that pass the filters are grouped by the requested
 * dimensions (none: one total row without `keys`); clicks and impressions summed, `ctr` =
 * clicks / impressions, `position` weighted by impressions. Rows with a `searchAppearance` are a
 * breakdown that overlaps the plain rows: they are used only when the request groups or filters
 * by searchAppearance, and plain requests use only the rows without one, so nothing is counted
 * twice. Order: clicks descending, then impressions descending, then keys ascending; `startRow`
 * and `rowLimit` page over that order.
 *
 * Kit conventions: HTTP faults (`faults`, answered in Google's error shape: 429
 * `RESOURCE_EXHAUSTED`, 500 `INTERNAL`, 503 `UNAVAILABLE`), the HTTP log (`log`, also
 * `requests`), time from `now`.
 */
import { GOOGLE_STATUS_NAMES } from "../kit/GoogleErrors.ts"
import { Hono } from "hono"
import type { Context } from "hono"
import { hash32, prng, seedOf } from "../kit/DeterministicIds.ts"
import { HttpFaults } from "../kit/Faults.ts"
import type { HttpExchange, RequestLog } from "../kit/RequestLog.ts"
import { systemClock, type Clock } from "../kit/SimulatedClock.ts"
import { startSimulatorServer, type SimulatorServer } from "../kit/SimulatorServer.ts"

export type SearchDevice = "DESKTOP" | "MOBILE" | "TABLET"

/** One day of search traffic for one (page, query, country, device), optionally one search appearance. */
export interface SearchFactRow {
  /** `YYYY-MM-DD`. */
  readonly date: string
  /** The full URL, e.g. `https://shop.example/products/linen-throw`. */
  readonly page: string
  readonly query: string
  /** ISO 3166-1 alpha-3, lower case as Google returns it (`usa`); default `zzz` (unknown region). */
  readonly country?: string
  /** Default `DESKTOP`. */
  readonly device?: SearchDevice
  readonly clicks: number
  readonly impressions: number
  /** Average position of the page for the query that day (1 = top). */
  readonly position: number
  /**
   * A search appearance (e.g. `FEATURED_SNIPPET`): this row is a breakdown of traffic the plain
   * rows (without one) already count; only requests grouping or filtering by searchAppearance see it.
   */
  readonly searchAppearance?: string | null
}

/** A Search Console property and its data. */
export interface SearchConsoleSite {
  /** `https://shop.example/` (URL-prefix property) or `sc-domain:shop.example` (domain property). */
  readonly siteUrl: string
  readonly rows: ReadonlyArray<SearchFactRow>
}

export interface SearchConsoleSimulatorOptions {
  /** The properties the token's user can read. */
  readonly sites: ReadonlyArray<SearchConsoleSite>
  /** The one valid OAuth access token (`Authorization: Bearer <accessToken>`). */
  readonly accessToken: string
  /** The clock deciding "today" for the data lag (UTC). Default `Date.now`. */
  readonly now?: Clock
  /** Default 0: a free port. */
  readonly port?: number
}

export interface RunningSearchConsoleSimulator extends SimulatorServer {
  /** The kit's request log (same as `log`). */
  readonly requests: RequestLog<HttpExchange>
  /** Replaces a property's fact rows (adds the property when it is new). */
  setRows(siteUrl: string, rows: ReadonlyArray<SearchFactRow>): void
}

// ---------------------------------------------------------------------------------------
// Google's error shape

const STATUS_NAMES = GOOGLE_STATUS_NAMES

interface GoogleErrorItem {
  readonly message: string
  readonly domain: string
  readonly reason: string
  readonly location?: string
  readonly locationType?: string
}

/** `{error: {code, message, errors: [{message, domain, reason}], status}}`, as googleapis.com answers. */
export const googleError = (code: number, message: string, item: Partial<GoogleErrorItem> = {}) => ({
  error: {
    code,
    message,
    errors: [{ message: item.message ?? message, domain: item.domain ?? "global", reason: item.reason ?? "badRequest", ...(item.location === undefined ? {} : { location: item.location, locationType: item.locationType ?? "header" }) }],
    status: STATUS_NAMES[code] ?? "UNKNOWN"
  }
})

/** What the kit's faults answer when a test names no body. */
const faultBody = (status: number) => {
  switch (status) {
    case 429: {
      const message =
        "Quota exceeded for quota metric 'Search Analytics queries' and limit 'Search Analytics queries per minute per user' of service 'searchconsole.googleapis.com' for consumer 'project_number:000000000000'."
      return googleError(429, message, { reason: "rateLimitExceeded" })
    }
    case 500:
      return googleError(500, "Internal error encountered.", { reason: "backendError" })
    case 503:
      return googleError(503, "The service is currently unavailable.", { reason: "backendError" })
    case 401:
      return googleError(401, INVALID_CREDENTIALS, { message: "Invalid Credentials", reason: "authError", location: "Authorization" })
    default:
      return googleError(status, status >= 500 ? "Backend Error" : "Request failed.", { reason: status >= 500 ? "backendError" : "badRequest" })
  }
}

const INVALID_CREDENTIALS =
  "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project."
const MISSING_CREDENTIALS =
  "Request is missing required authentication credential. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project."

class BadRequest extends Error {}

// ---------------------------------------------------------------------------------------
// Dates (UTC days)

const DAY_MS = 86_400_000
const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/

/** Days since the epoch of a valid `YYYY-MM-DD`, else undefined. */
const dayNumber = (date: string): number | undefined => {
  const m = DATE_RE.exec(date)
  if (m === null) return undefined
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])]
  const ms = Date.UTC(y, mo - 1, d)
  const back = new Date(ms)
  if (back.getUTCFullYear() !== y || back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d) return undefined
  return Math.floor(ms / DAY_MS)
}

const isoDay = (day: number): string => new Date(day * DAY_MS).toISOString().slice(0, 10)

/** The first day Search Console still keeps: 16 months before `today`. */
const retentionStart = (today: number): number => {
  const d = new Date(today * DAY_MS)
  return Math.floor(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() - 16, d.getUTCDate()) / DAY_MS)
}

// ---------------------------------------------------------------------------------------
// The request

export type SearchDimension = "date" | "query" | "page" | "country" | "device" | "searchAppearance"
type FilterDimension = Exclude<SearchDimension, "date">
type Operator = "equals" | "notEquals" | "contains" | "notContains" | "includingRegex" | "excludingRegex"

const DIMENSIONS: ReadonlyArray<SearchDimension> = ["date", "query", "page", "country", "device", "searchAppearance"]
const OPERATORS: ReadonlyArray<Operator> = ["equals", "notEquals", "contains", "notContains", "includingRegex", "excludingRegex"]
const SEARCH_TYPES = ["web", "image", "video", "news", "discover", "googlenews"]
const REQUEST_FIELDS = new Set(["startDate", "endDate", "dimensions", "type", "searchType", "dimensionFilterGroups", "aggregationType", "rowLimit", "startRow", "dataState"])

interface Filter {
  readonly dimension: FilterDimension
  readonly test: (value: string) => boolean
}

interface Query {
  readonly start: number
  readonly end: number
  readonly dimensions: ReadonlyArray<SearchDimension>
  readonly filters: ReadonlyArray<Filter>
  readonly rowLimit: number
  readonly startRow: number
  readonly searchType: string
  readonly dataState: "final" | "all"
  readonly aggregation: "byPage" | "byProperty"
}

type Json = Readonly<Record<string, unknown>>
const isObject = (u: unknown): u is Json => typeof u === "object" && u !== null && !Array.isArray(u)

const unknownFields = (object: Json, known: ReadonlySet<string>, path: string): void => {
  for (const key of Object.keys(object)) {
    if (!known.has(key)) throw new BadRequest(`Invalid JSON payload received. Unknown name "${key}"${path === "" ? "" : ` at '${path}'`}: Cannot find field.`)
  }
}

/** Enum values compare without case, as the API accepts `date` and `DATE`. */
const enumValue = <T extends string>(values: ReadonlyArray<T>, raw: unknown): T | undefined =>
  typeof raw === "string" ? values.find((v) => v.toLowerCase() === raw.toLowerCase()) : undefined

const int32 = (raw: unknown, field: string): number | undefined => {
  if (raw === undefined || raw === null) return undefined
  const n = typeof raw === "string" && /^-?\d+$/.test(raw) ? Number(raw) : raw
  if (typeof n !== "number" || !Number.isInteger(n)) throw new BadRequest(`Invalid value at '${field}' (TYPE_INT32), ${JSON.stringify(raw)}`)
  return n
}

/** A JavaScript RegExp for an RE2 expression (leading `(?i)` and friends become flags); RE2-only features refused. */
const re2 = (expression: string): RegExp => {
  let source = expression
  let flags = ""
  const leading = /^\(\?([imsU]+)\)/.exec(source)
  if (leading !== null) {
    source = source.slice(leading[0].length)
    for (const f of leading[1] ?? "") if (f !== "U" && !flags.includes(f)) flags += f
  }
  if (/\(\?<?[=!]|\\[1-9]/.test(source)) throw new BadRequest(`Invalid regular expression '${expression}': RE2 does not support lookaround or backreferences.`)
  try {
    return new RegExp(source, flags)
  } catch {
    throw new BadRequest(`Invalid regular expression '${expression}'.`)
  }
}

const makeFilter = (raw: unknown, path: string): Filter => {
  if (!isObject(raw)) throw new BadRequest(`Invalid value at '${path}': each filter must be an object.`)
  unknownFields(raw, new Set(["dimension", "operator", "expression"]), path)
  const dimension = enumValue(DIMENSIONS, raw["dimension"])
  if (dimension === undefined || dimension === "date") {
    throw new BadRequest(`Invalid value at '${path}.dimension': ${JSON.stringify(raw["dimension"] ?? null)}. Filters accept query, page, country, device and searchAppearance.`)
  }
  const operator = raw["operator"] === undefined || raw["operator"] === null ? "equals" : enumValue(OPERATORS, raw["operator"])
  if (operator === undefined) throw new BadRequest(`Invalid value at '${path}.operator': ${JSON.stringify(raw["operator"])}.`)
  const expression = raw["expression"]
  if (typeof expression !== "string") throw new BadRequest(`${path}.expression is required.`)
  // page and query compare case-sensitively for (not)equals; the coded dimensions do not
  const exactCase = dimension === "page" || dimension === "query"
  const norm = (s: string) => (exactCase ? s : s.toLowerCase())
  const lower = expression.toLowerCase()
  let test: (value: string) => boolean
  switch (operator) {
    case "equals":
      test = (v) => norm(v) === norm(expression)
      break
    case "notEquals":
      test = (v) => norm(v) !== norm(expression)
      break
    case "contains":
      test = (v) => v.toLowerCase().includes(lower)
      break
    case "notContains":
      test = (v) => !v.toLowerCase().includes(lower)
      break
    case "includingRegex": {
      const re = re2(expression)
      test = (v) => re.test(v)
      break
    }
    case "excludingRegex": {
      const re = re2(expression)
      test = (v) => !re.test(v)
      break
    }
  }
  return { dimension, test }
}

/** Validates the body the way the API does; throws `BadRequest` with a message naming the field. */
const parseQuery = (body: unknown): Query => {
  if (!isObject(body)) throw new BadRequest("Invalid JSON payload received. Expected an object.")
  unknownFields(body, REQUEST_FIELDS, "")
  const date = (field: "startDate" | "endDate"): number => {
    const raw = body[field]
    if (raw === undefined || raw === null || raw === "") throw new BadRequest(`${field} field is required.`)
    const day = typeof raw === "string" ? dayNumber(raw) : undefined
    if (day === undefined) throw new BadRequest(`Invalid ${field}: ${JSON.stringify(raw)}. Expected a date in YYYY-MM-DD format.`)
    return day
  }
  const start = date("startDate")
  const end = date("endDate")
  if (start > end) throw new BadRequest("startDate must be earlier than or equal to endDate.")

  const rawDimensions = body["dimensions"] ?? []
  if (!Array.isArray(rawDimensions)) throw new BadRequest("Invalid value at 'dimensions': expected a list of dimensions.")
  const dimensions: Array<SearchDimension> = []
  for (const [i, raw] of rawDimensions.entries()) {
    const dimension = enumValue(DIMENSIONS, raw)
    if (dimension === undefined) {
      throw new BadRequest(`Invalid value at 'dimensions[${i}]': ${JSON.stringify(raw)}. Allowed dimensions: date, query, page, country, device, searchAppearance.`)
    }
    if (dimensions.includes(dimension)) throw new BadRequest(`Invalid value at 'dimensions[${i}]': dimension ${dimension} is repeated.`)
    dimensions.push(dimension)
  }
  if (dimensions.includes("searchAppearance") && dimensions.length > 1) {
    throw new BadRequest("Cannot group by searchAppearance together with other dimensions. Group by searchAppearance alone, then filter by searchAppearance to break it down.")
  }

  const rawGroups = body["dimensionFilterGroups"] ?? []
  if (!Array.isArray(rawGroups)) throw new BadRequest("Invalid value at 'dimensionFilterGroups': expected a list of filter groups.")
  const filters: Array<Filter> = []
  for (const [g, group] of rawGroups.entries()) {
    const path = `dimensionFilterGroups[${g}]`
    if (!isObject(group)) throw new BadRequest(`Invalid value at '${path}': expected an object.`)
    unknownFields(group, new Set(["groupType", "filters"]), path)
    if (group["groupType"] !== undefined && group["groupType"] !== null && String(group["groupType"]).toLowerCase() !== "and") {
      throw new BadRequest(`Invalid value at '${path}.groupType': ${JSON.stringify(group["groupType"])}. Only "and" is supported.`)
    }
    const list = group["filters"] ?? []
    if (!Array.isArray(list)) throw new BadRequest(`Invalid value at '${path}.filters': expected a list of filters.`)
    list.forEach((f, i) => filters.push(makeFilter(f, `${path}.filters[${i}]`)))
  }

  const rowLimit = int32(body["rowLimit"], "rowLimit") ?? 0
  if (rowLimit < 0 || rowLimit > 25_000) throw new BadRequest(`rowLimit must be between 1 and 25000 (inclusive); got ${rowLimit}.`)
  const startRow = int32(body["startRow"], "startRow") ?? 0
  if (startRow < 0) throw new BadRequest(`startRow must be a non-negative number; got ${startRow}.`)

  const rawType = body["type"] ?? body["searchType"] ?? "web"
  const searchType = typeof rawType === "string" ? rawType.toLowerCase() : ""
  if (!SEARCH_TYPES.includes(searchType)) throw new BadRequest(`Invalid value at '${body["type"] === undefined ? "searchType" : "type"}': ${JSON.stringify(rawType)}.`)

  const rawState = body["dataState"] ?? "final"
  const dataState = enumValue(["final", "all"] as const, rawState)
  if (dataState === undefined) {
    throw new BadRequest(`Invalid value at 'dataState': ${JSON.stringify(rawState)}.${String(rawState).toLowerCase() === "hourly_all" ? " (hourly data is not simulated)" : ""}`)
  }

  const rawAggregation = body["aggregationType"] ?? "auto"
  const aggregationType = enumValue(["auto", "byPage", "byProperty"] as const, rawAggregation)
  if (aggregationType === undefined) throw new BadRequest(`Invalid value at 'aggregationType': ${JSON.stringify(rawAggregation)}.`)
  const usesPage = dimensions.includes("page") || filters.some((f) => f.dimension === "page")
  if (aggregationType === "byProperty" && usesPage) throw new BadRequest("Cannot aggregate by property when grouping or filtering by page.")
  const aggregation = aggregationType === "auto" ? (usesPage ? "byPage" : "byProperty") : aggregationType

  return { start, end, dimensions, filters, rowLimit: rowLimit === 0 ? 1000 : rowLimit, startRow, searchType, dataState, aggregation }
}

// ---------------------------------------------------------------------------------------
// The answer

/**
 * A property's rows, stored by column: days and figures in typed arrays, each dimension as
 * codes into its own list of distinct values. The demo's property has 120,000 rows; as one
 * object per row (with its fact and its dimension values) they held ~30 MB of the idle
 * server's heap, as columns about 4 MB.
 */
interface StoredRows {
  readonly size: number
  readonly day: Int32Array
  readonly clicks: Float64Array
  readonly impressions: Float64Array
  readonly position: Float64Array
  readonly dimensions: Readonly<Record<SearchDimension, { readonly codes: Uint32Array; readonly values: ReadonlyArray<string> }>>
}

const store = (rows: ReadonlyArray<SearchFactRow>): StoredRows => {
  const size = rows.length
  const day = new Int32Array(size)
  const clicks = new Float64Array(size)
  const impressions = new Float64Array(size)
  const position = new Float64Array(size)
  const column = () => {
    const codes = new Uint32Array(size)
    const values: Array<string> = []
    const known = new Map<string, number>()
    const set = (i: number, value: string) => {
      let code = known.get(value)
      if (code === undefined) {
        code = values.push(value) - 1
        known.set(value, code)
      }
      codes[i] = code
    }
    return { codes, values, set }
  }
  const columns = { date: column(), query: column(), page: column(), country: column(), device: column(), searchAppearance: column() }
  rows.forEach((fact, i) => {
    const d = dayNumber(fact.date)
    if (d === undefined) throw new Error(`search fact row with an invalid date ${JSON.stringify(fact.date)}`)
    day[i] = d
    clicks[i] = fact.clicks
    impressions[i] = fact.impressions
    position[i] = fact.position
    columns.date.set(i, fact.date)
    columns.query.set(i, fact.query)
    columns.page.set(i, fact.page)
    columns.country.set(i, (fact.country ?? "zzz").toLowerCase())
    columns.device.set(i, fact.device ?? "DESKTOP")
    columns.searchAppearance.set(i, fact.searchAppearance ?? "")
  })
  return { size, day, clicks, impressions, position, dimensions: columns }
}

interface ResultRow {
  readonly keys?: ReadonlyArray<string>
  readonly clicks: number
  readonly impressions: number
  readonly ctr: number
  readonly position: number
}

/** Runs a validated query over a property's rows on day `today`. */
const answer = (rows: StoredRows, q: Query, today: number): Record<string, unknown> => {
  const lastDay = q.dataState === "final" ? today - 3 : today - 1
  const firstDay = retentionStart(today)
  const appearances = q.dimensions.includes("searchAppearance") || q.filters.some((f) => f.dimension === "searchAppearance")
  const groups = new Map<string, { keys: ReadonlyArray<string>; clicks: number; impressions: number; weighted: number }>()
  if (q.searchType === "web") {
    const value = (d: SearchDimension, i: number): string => {
      const column = rows.dimensions[d]
      return column.values[column.codes[i]!]!
    }
    for (let i = 0; i < rows.size; i++) {
      const day = rows.day[i]!
      if (day < q.start || day > q.end || day > lastDay || day < firstDay) continue
      if ((value("searchAppearance", i) !== "") !== appearances) continue
      if (!q.filters.every((f) => f.test(value(f.dimension, i)))) continue
      const keys = q.dimensions.map((d) => value(d, i))
      const id = keys.join("\u0000")
      const group = groups.get(id) ?? { keys, clicks: 0, impressions: 0, weighted: 0 }
      group.clicks += rows.clicks[i]!
      group.impressions += rows.impressions[i]!
      group.weighted += rows.position[i]! * rows.impressions[i]!
      groups.set(id, group)
    }
  }
  const compareKeys = (a: ReadonlyArray<string>, b: ReadonlyArray<string>): number => {
    for (let i = 0; i < a.length; i++) {
      const x = a[i] as string
      const y = b[i] as string
      if (x !== y) return x < y ? -1 : 1
    }
    return 0
  }
  const sorted = [...groups.values()]
    .filter((g) => g.impressions > 0)
    .sort((a, b) => b.clicks - a.clicks || b.impressions - a.impressions || compareKeys(a.keys, b.keys))
  const page: Array<ResultRow> = sorted.slice(q.startRow, q.startRow + q.rowLimit).map((g) => ({
    ...(q.dimensions.length === 0 ? {} : { keys: g.keys }),
    clicks: g.clicks,
    impressions: g.impressions,
    ctr: g.clicks / g.impressions,
    position: g.weighted / g.impressions
  }))
  const firstIncomplete = today - 2
  const incomplete = q.dataState === "all" && q.dimensions.includes("date") && q.end >= firstIncomplete && q.start <= lastDay
  return {
    ...(page.length === 0 ? {} : { rows: page }),
    responseAggregationType: q.aggregation,
    ...(incomplete ? { metadata: { firstIncompleteDate: isoDay(firstIncomplete) } } : {})
  }
}

// ---------------------------------------------------------------------------------------
// The server

const QUERY_PATH = /^\/webmasters\/v3\/sites\/([^/]+)\/searchAnalytics\/query$/

/** Starts the simulator on 127.0.0.1 (port 0 unless `port` is given). */
export const startSearchConsoleSimulator = async (options: SearchConsoleSimulatorOptions): Promise<RunningSearchConsoleSimulator> => {
  const now = options.now ?? systemClock
  // the handlers keep this, not `options`: the rows given stay the caller's to drop
  const accessToken = options.accessToken
  const sites = new Map<string, StoredRows>(options.sites.map((s) => [s.siteUrl, store(s.rows)]))

  const error = (c: Context, code: number, message: string, item: Partial<GoogleErrorItem> = {}, headers: Record<string, string> = {}) => {
    for (const [name, value] of Object.entries(headers)) c.header(name, value)
    return c.json(googleError(code, message, item), code as 400)
  }

  /** 401 unless the request carries the simulator's token. */
  const unauthenticated = (c: Context): Response | undefined => {
    const header = c.req.header("authorization")
    if (header === undefined || header === "") {
      return error(c, 401, MISSING_CREDENTIALS, { message: "Login Required.", reason: "required", location: "Authorization" }, { "WWW-Authenticate": 'Bearer realm="https://accounts.google.com/"' })
    }
    const token = /^Bearer\s+(\S+)$/i.exec(header)?.[1]
    if (token !== accessToken) {
      return error(c, 401, INVALID_CREDENTIALS, { message: "Invalid Credentials", reason: "authError", location: "Authorization" }, {
        "WWW-Authenticate": 'Bearer realm="https://accounts.google.com/", error="invalid_token"'
      })
    }
    return undefined
  }

  const app = new Hono()
  app.post("*", async (c) => {
    // matched on the raw path: the property arrives percent-encoded (`https%3A%2F%2Fshop.example%2F`)
    const match = QUERY_PATH.exec(new URL(c.req.url).pathname)
    if (match === null) return c.notFound()
    const denied = unauthenticated(c)
    if (denied !== undefined) return denied
    let siteUrl: string
    try {
      siteUrl = decodeURIComponent(match[1] as string)
    } catch {
      siteUrl = match[1] as string
    }
    const rows = sites.get(siteUrl)
    if (rows === undefined) {
      return error(c, 403, `User does not have sufficient permission for site '${siteUrl}'. See also: https://support.google.com/webmasters/answer/2451999.`, { reason: "forbidden" })
    }
    const text = await c.req.text()
    let body: unknown = {}
    if (text.trim() !== "") {
      try {
        body = JSON.parse(text)
      } catch (e) {
        return error(c, 400, `Invalid JSON payload received. ${e instanceof Error ? e.message : "Unexpected token."}`, { reason: "parseError" })
      }
    }
    try {
      const query = parseQuery(body)
      return c.json(answer(rows, query, Math.floor(now() / DAY_MS)))
    } catch (e) {
      if (e instanceof BadRequest) return error(c, 400, e.message, { reason: "invalidParameter" })
      throw e
    }
  })
  // The property list, so a client can discover what it may read.
  app.get("/webmasters/v3/sites", (c) => {
    const denied = unauthenticated(c)
    if (denied !== undefined) return denied
    return c.json({ siteEntry: [...sites.keys()].map((siteUrl) => ({ siteUrl, permissionLevel: "siteOwner" })) })
  })
  app.notFound((c) => error(c, 404, `The requested URL ${c.req.path} was not found on this server.`, { reason: "notFound" }))

  const faults = new HttpFaults({ defaultBody: (status) => ({ contentType: "application/json; charset=UTF-8", body: JSON.stringify(faultBody(status)) }) })
  const server = await startSimulatorServer({ fetch: app.fetch, faults, clock: now, ...(options.port === undefined ? {} : { port: options.port }) })
  return {
    ...server,
    requests: server.log,
    setRows: (siteUrl, rows) => {
      sites.set(siteUrl, store(rows))
    }
  }
}

// ---------------------------------------------------------------------------------------
// Demo data

export interface DemoSearchRowsOptions {
  /** How many storefront pages (about 70 % products, 20 % blog posts, 10 % pages). */
  readonly pages: number
  /** How many days of data, ending on `endDate`. */
  readonly days: number
  /** The last day with data, `YYYY-MM-DD` (e.g. today − 3 for final data). */
  readonly endDate: string
  /** Default 1. */
  readonly seed?: number
  /** Default `shop.example`. */
  readonly host?: string
  /**
   * Pages whose clicks fall by about half over the last 14 days (ramping from −35 % to −65 %),
   * with fewer impressions and a worse position. Each entry is a full URL, a path
   * (`/products/x`) or a handle (`x`). Default: none.
   */
  readonly decayingPages?: ReadonlyArray<string>
  /**
   * Pages whose top query also gets `FEATURED_SNIPPET` appearance rows (same form as
   * `decayingPages`). Default: the first two pages with a position-1–3 query.
   */
  readonly snippetPages?: ReadonlyArray<string>
}

const ADJECTIVES = ["linen", "organic", "handmade", "vintage", "merino", "ceramic", "bamboo", "recycled", "waxed", "walnut", "copper", "wool"]
const NOUNS = ["throw-blanket", "coffee-mug", "tote-bag", "candle", "apron", "cutting-board", "scarf", "planter", "notebook", "teapot", "pillow-cover", "serving-bowl"]
const POSTS = ["how-to-care-for-linen", "gift-guide", "behind-the-kiln", "choosing-a-wool-throw", "summer-table-ideas", "sustainable-materials", "studio-update", "caring-for-wood"]
const PAGES = ["about-us", "shipping", "returns", "contact", "faq", "size-guide", "stockists", "care-guide"]
const COUNTRIES = [["usa", 0.7], ["gbr", 0.2], ["can", 0.1]] as const
const DEVICES = [["MOBILE", 0.6], ["DESKTOP", 0.35], ["TABLET", 0.05]] as const

/** Expected click-through rate at a position (an industry-typical curve). */
const ctrAt = (position: number): number => {
  const curve = [0.3, 0.16, 0.1, 0.07, 0.055, 0.045, 0.035, 0.028, 0.023, 0.02]
  if (position <= 1) return curve[0] as number
  if (position >= 10) return Math.max(0.003, 0.02 - (position - 10) * 0.0015)
  const i = Math.floor(position) - 1
  const f = position - Math.floor(position)
  return (curve[i] as number) * (1 - f) + (curve[i + 1] as number) * f
}

interface DemoPage {
  readonly url: string
  readonly path: string
  readonly handle: string
  readonly queries: ReadonlyArray<{ readonly query: string; readonly impressions: number; readonly position: number }>
}

const demoPages = (count: number, host: string, seed: number): ReadonlyArray<DemoPage> => {
  const pages: Array<DemoPage> = []
  const used = new Set<string>()
  for (let i = 0; i < count; i++) {
    const rand = prng(hash32(seed, i))
    const kind = i % 10 < 7 ? "products" : i % 10 < 9 ? "blogs/news" : "pages"
    const pool = kind === "products" ? undefined : kind === "blogs/news" ? POSTS : PAGES
    let handle = pool === undefined ? `${ADJECTIVES[i % ADJECTIVES.length]}-${NOUNS[Math.floor(i / ADJECTIVES.length + i) % NOUNS.length]}` : (pool[i % pool.length] as string)
    for (let n = 2; used.has(`${kind}/${handle}`); n++) handle = `${handle.replace(/-\d+$/, "")}-${n}`
    used.add(`${kind}/${handle}`)
    const words = handle.replace(/-\d+$/, "").replace(/-/g, " ")
    const candidates = kind === "products"
      ? [words, `buy ${words}`, `${words} sale`, `best ${words.split(" ").slice(1).join(" ")}`]
      : kind === "blogs/news"
        ? [words, `${words} tips`, `${words} guide`, `what is ${words}`]
        : [`${host.split(".")[0]} ${words}`, `${words} policy`, `${words}`, `${host} ${words}`]
    const queryCount = 1 + Math.floor(rand() * 4)
    const queries = candidates.slice(0, queryCount).map((query, q) => {
      // every fifth page's second query is an opportunity: page two of the results, many impressions
      const opportunity = q === 1 && i % 5 === 2
      const position = opportunity ? 8 + rand() * 12 : 1 + rand() * (q === 0 ? 4 : 9)
      const impressions = opportunity ? 250 + rand() * 600 : 10 + rand() * rand() * 300
      return { query, impressions, position }
    })
    const path = `/${kind}/${handle}`
    pages.push({ url: `https://${host}${path}`, path, handle, queries })
  }
  return pages
}

const matchesPage = (page: DemoPage, names: ReadonlyArray<string>): boolean =>
  names.some((n) => n === page.url || n === page.path || n === page.handle)

/**
 * Deterministic demo traffic for a shop's storefront: `pages` pages
 * (`https://<host>/products/<handle>`, `/blogs/news/<slug>`, `/pages/<slug>`), each with 1–4
 * queries, over `days` days ending on `endDate`. One fact row per (date, page, query, country,
 * device) with any impressions: countries `usa` 70 %, `gbr` 20 %, `can` 10 %; devices MOBILE
 * 60 %, DESKTOP 35 %, TABLET 5 %; clicks from a position-based CTR curve with daily noise
 * (weekends 15 % quieter); positions with two decimals. Every fifth page's second query sits at
 * position 8–20 with hundreds of daily impressions and few clicks (an opportunity).
 * `decayingPages` lose about half their clicks over the last 14 days; `snippetPages` get, for
 * their top query, extra rows with `searchAppearance: "FEATURED_SNIPPET"` at position 1 carrying
 * 60 % of that query's traffic (a breakdown of the plain rows, which already count it).
 * The same options always give the same rows.
 */
export const demoSearchRows = (options: DemoSearchRowsOptions): ReadonlyArray<SearchFactRow> => {
  const seed = seedOf(options.seed ?? 1)
  const host = options.host ?? "shop.example"
  const end = dayNumber(options.endDate)
  if (end === undefined) throw new Error(`demoSearchRows: endDate must be YYYY-MM-DD, got ${options.endDate}`)
  const pages = demoPages(options.pages, host, seed)
  const decaying = options.decayingPages ?? []
  const snippets = options.snippetPages ?? pages.filter((p) => (p.queries[0]?.position ?? 99) <= 3).slice(0, 2).map((p) => p.url)
  const rows: Array<SearchFactRow> = []
  pages.forEach((page, p) => {
    const decays = matchesPage(page, decaying)
    const snippet = matchesPage(page, snippets)
    page.queries.forEach((q, qi) => {
      for (let day = end - options.days + 1; day <= end; day++) {
        const rand = prng(hash32(hash32(seed, p * 8 + qi), day))
        const weekday = new Date(day * DAY_MS).getUTCDay()
        const season = (weekday === 0 || weekday === 6 ? 0.85 : 1) * (0.8 + rand() * 0.4)
        const age = end - day // 0 = the last day
        // decay: over the last 14 days clicks fall from −35 % to −65 %, impressions −25 %, position +1.5
        const ramp = decays && age < 14 ? (14 - age) / 14 : 0
        const clickFactor = decays && age < 14 ? 0.65 - 0.3 * ramp : 1
        const impressionFactor = decays && age < 14 ? 0.75 : 1
        const position = Math.round((q.position + ramp * 1.5 + (rand() - 0.5) * 0.6) * 100) / 100
        // a decaying page has enough traffic for the fall to show through the noise
        const base = decays ? Math.max(q.impressions, 150) : q.impressions
        const dayImpressions = base * season * impressionFactor
        const dayClicks = base * season * ctrAt(q.position) * clickFactor
        for (const [country, countryShare] of COUNTRIES) {
          for (const [device, deviceShare] of DEVICES) {
            const share = countryShare * deviceShare
            const impressions = Math.round(dayImpressions * share + rand() * 0.5)
            if (impressions === 0) continue
            const clicks = Math.min(impressions, Math.floor(dayClicks * share + rand()))
            const cellPosition = Math.max(1, Math.round((position + (device === "MOBILE" ? -0.2 : 0.2)) * 100) / 100)
            rows.push({ date: isoDay(day), page: page.url, query: q.query, country, device, clicks, impressions, position: cellPosition })
            if (snippet && qi === 0) {
              const snippetImpressions = Math.round(impressions * 0.6)
              if (snippetImpressions > 0) {
                rows.push({
                  date: isoDay(day), page: page.url, query: q.query, country, device,
                  clicks: Math.min(snippetImpressions, Math.round(clicks * 0.6)), impressions: snippetImpressions, position: 1,
                  searchAppearance: "FEATURED_SNIPPET"
                })
              }
            }
          }
        }
      }
    })
  })
  return rows
}
