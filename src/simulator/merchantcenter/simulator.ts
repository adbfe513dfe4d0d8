/**
 * The Google Merchant API's Products sub-API (`products_v1`), just enough for the Merchant Center
 * product-status features' tests and the demo: Merchant Center accounts holding processed
 * products, and `GET /products/v1/accounts/{account}/products` (`accounts.products.list`)
 * answered as Google answers it —
 *
 * 1. the bearer token (`Authorization: Bearer …`, or the `access_token` query parameter): missing
 *    or not the simulator's → 401 `UNAUTHENTICATED`;
 * 2. the account: not a number → 400 `INVALID_ARGUMENT`; not one of the simulator's accounts →
 *    403 `PERMISSION_DENIED` ("The caller does not have access to the accounts: [123]");
 * 3. the query: an unknown parameter → 400 ("Unknown name … Cannot bind query parameter");
 *    `pageSize` not an int32 → 400, negative → 400, 0 or absent → 25, above 1,000 → coerced to
 *    1,000 (as the API reference says); a `pageToken` not issued for this account → 400;
 *
 * and answers `{products?: [Product], nextPageToken?}` in the account's insertion order, each
 * product `{name, offerId, contentLanguage, feedLabel, dataSource, productAttributes: {title, …},
 * productStatus: {destinationStatuses, itemLevelIssues?, creationDate, lastUpdateDate,
 * googleExpirationDate}, base64EncodedName}`; empty lists are omitted (proto3 JSON), an empty
 * account is `{}`.
 *
 * Errors are the One Platform shape the Merchant API uses: `{error: {code, message, status,
 * details: [{"@type": "type.googleapis.com/google.rpc.ErrorInfo" | "….BadRequest", …}]}}`.
 *
 * Kit conventions: HTTP faults (`faults`, answered in that shape: 429 `RESOURCE_EXHAUSTED`, 500
 * `INTERNAL`, 503 `UNAVAILABLE`), the HTTP log (`log`, also `requests`), time from `now`.
 */
import { GOOGLE_STATUS_NAMES } from "../kit/GoogleErrors.ts"
import { Hono } from "hono"
import type { Context } from "hono"
import { prng, seedOf } from "../kit/DeterministicIds.ts"
import { HttpFaults } from "../kit/Faults.ts"
import type { HttpExchange, RequestLog } from "../kit/RequestLog.ts"
import { systemClock, type Clock } from "../kit/SimulatedClock.ts"
import { startSimulatorServer, type SimulatorServer } from "../kit/SimulatorServer.ts"

/** A product's status in one reporting context (`DestinationStatus` in the API). */
export interface SimDestinationStatus {
  /** `SHOPPING_ADS`, `FREE_LISTINGS`, `DISPLAY_ADS`, `LOCAL_INVENTORY_ADS`, `FREE_LOCAL_LISTINGS`, `YOUTUBE_SHOPPING`, … */
  readonly reportingContext: string
  /** ISO 3166-1 alpha-2 codes. */
  readonly approvedCountries?: ReadonlyArray<string>
  readonly pendingCountries?: ReadonlyArray<string>
  readonly disapprovedCountries?: ReadonlyArray<string>
}

/** An item-level issue (`ItemLevelIssue` in the API). */
export interface SimItemLevelIssue {
  readonly code: string
  /** `NOT_IMPACTED` | `DEMOTED` | `DISAPPROVED`. */
  readonly severity: string
  readonly description?: string
  readonly detail?: string
  /** The attribute at fault, e.g. `gtin`, `image_link`. */
  readonly attribute?: string
  readonly reportingContext?: string
  /** `MERCHANT_ACTION` | `PENDING_PROCESSING`. */
  readonly resolution?: string
  readonly applicableCountries?: ReadonlyArray<string>
  readonly documentation?: string
}

/** A processed product as a test gives it: the API's fields, the rest defaulted. */
export interface SimProduct {
  readonly offerId: string
  /** `productAttributes.title`. */
  readonly title?: string
  /** Default `en`. */
  readonly contentLanguage?: string
  /** Default `US`. */
  readonly feedLabel?: string
  /** More of `productAttributes` (`link`, `imageLink`, `gtins`, `price`…), served as given. */
  readonly attributes?: Readonly<Record<string, unknown>>
  /** `productStatus.destinationStatuses`. */
  readonly destinations: ReadonlyArray<SimDestinationStatus>
  /** `productStatus.itemLevelIssues`. */
  readonly issues?: ReadonlyArray<SimItemLevelIssue>
  /** ISO 8601; default: when the product was given to the simulator. */
  readonly createdAt?: string
  /** ISO 8601; default `createdAt`. */
  readonly updatedAt?: string
  /** The primary data source's id; default `10001`. */
  readonly dataSourceId?: string
}

/** A Merchant Center account and its processed products. */
export interface MerchantCenterAccount {
  /** The numeric account id, e.g. `"123456789"`. */
  readonly accountId: string
  readonly products: ReadonlyArray<SimProduct>
}

export interface MerchantCenterSimulatorOptions {
  /** The one valid OAuth access token. */
  readonly accessToken: string
  /** The accounts the token's user can read. */
  readonly accounts: ReadonlyArray<MerchantCenterAccount>
  /** Timestamps of products without their own dates, and of the log. Default `Date.now`. */
  readonly now?: Clock
  /** Default 0: a free port. */
  readonly port?: number
}

export interface RunningMerchantCenterSimulator extends SimulatorServer {
  /** The kit's request log (same as `log`). */
  readonly requests: RequestLog<HttpExchange>
  /** Replaces an account's products (adds the account when it is new). */
  setProducts(accountId: string, products: ReadonlyArray<SimProduct>): void
}

// ---------------------------------------------------------------------------------------
// Google's error shape (One Platform / ESF, as merchantapi.googleapis.com answers)

const STATUS_NAMES = GOOGLE_STATUS_NAMES

const SERVICE = "merchantapi.googleapis.com"
const LIST_METHOD = "google.shopping.merchant.products.v1.ProductsService.ListProducts"

/** `{error: {code, message, status, details?}}`, as the Merchant API answers. */
export const merchantApiError = (code: number, message: string, details: ReadonlyArray<Record<string, unknown>> = []) => ({
  error: { code, message, status: STATUS_NAMES[code] ?? "UNKNOWN", ...(details.length === 0 ? {} : { details }) }
})

const errorInfo = (reason: string, metadata: Record<string, string> = {}) => ({
  "@type": "type.googleapis.com/google.rpc.ErrorInfo",
  reason,
  domain: "googleapis.com",
  metadata: { service: SERVICE, method: LIST_METHOD, ...metadata }
})

const badRequest = (field: string, description: string) => ({
  "@type": "type.googleapis.com/google.rpc.BadRequest",
  fieldViolations: [{ field, description }]
})

const INVALID_CREDENTIALS =
  "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project."
const MISSING_CREDENTIALS =
  "Request is missing required authentication credential. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project."

/** What the kit's faults answer when a test names no body. */
const faultBody = (status: number) => {
  switch (status) {
    case 429:
      return merchantApiError(
        429,
        "Quota exceeded for quota metric 'Product list requests' and limit 'Product list requests per minute per project' of service 'merchantapi.googleapis.com' for consumer 'project_number:000000000000'.",
        [errorInfo("RATE_LIMIT_EXCEEDED", { quota_metric: "merchantapi.googleapis.com/product_list_requests", quota_limit: "ProductListRequestsPerMinutePerProject", consumer: "projects/000000000000" })]
      )
    case 500:
      return merchantApiError(500, "Internal error encountered.")
    case 503:
      return merchantApiError(503, "The service is currently unavailable.")
    case 401:
      return merchantApiError(401, INVALID_CREDENTIALS, [errorInfo("ACCESS_TOKEN_TYPE_UNSUPPORTED")])
    default:
      return merchantApiError(status, status >= 500 ? "Backend Error" : "Request failed.")
  }
}

// ---------------------------------------------------------------------------------------
// Stored products and their JSON

interface StoredProduct {
  readonly product: SimProduct
  readonly createdAt: string
}

/** ISO 8601 to the second, as the API writes `creationDate`. */
const isoSeconds = (ms: number): string => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(".000Z", "Z")

const EXPIRY_MS = 30 * 86_400_000

const store = (accountId: string, products: ReadonlyArray<SimProduct>, now: number): ReadonlyArray<StoredProduct> => {
  const seen = new Set<string>()
  return products.map((product) => {
    if (product.offerId.trim() === "") throw new Error(`account ${accountId}: a product without an offerId`)
    const key = `${product.contentLanguage ?? "en"}~${product.feedLabel ?? "US"}~${product.offerId}`
    if (seen.has(key)) throw new Error(`account ${accountId}: product ${key} given twice`)
    seen.add(key)
    return { product, createdAt: product.createdAt ?? isoSeconds(now) }
  })
}

const nonEmpty = <K extends string>(key: K, list: ReadonlyArray<string> | undefined): Partial<Record<K, ReadonlyArray<string>>> =>
  list === undefined || list.length === 0 ? {} : ({ [key]: list } as Partial<Record<K, ReadonlyArray<string>>>)

const base64url = (text: string): string => Buffer.from(text, "utf8").toString("base64url")

/** The processed product as `accounts.products.list` returns it. */
const productJson = (accountId: string, stored: StoredProduct): Record<string, unknown> => {
  const p = stored.product
  const contentLanguage = p.contentLanguage ?? "en"
  const feedLabel = p.feedLabel ?? "US"
  const id = `${contentLanguage}~${feedLabel}~${p.offerId}`
  const lastUpdateDate = p.updatedAt ?? stored.createdAt
  const expires = Date.parse(lastUpdateDate)
  const issues = (p.issues ?? []).map((i) => ({
    code: i.code,
    severity: i.severity,
    ...(i.resolution === undefined ? { resolution: "MERCHANT_ACTION" } : { resolution: i.resolution }),
    ...(i.attribute === undefined ? {} : { attribute: i.attribute }),
    ...(i.reportingContext === undefined ? {} : { reportingContext: i.reportingContext }),
    ...(i.description === undefined ? {} : { description: i.description }),
    ...(i.detail === undefined ? {} : { detail: i.detail }),
    ...(i.documentation === undefined ? {} : { documentation: i.documentation }),
    ...nonEmpty("applicableCountries", i.applicableCountries)
  }))
  return {
    name: `accounts/${accountId}/products/${id}`,
    offerId: p.offerId,
    contentLanguage,
    feedLabel,
    dataSource: `accounts/${accountId}/dataSources/${p.dataSourceId ?? "10001"}`,
    productAttributes: { ...(p.title === undefined ? {} : { title: p.title }), ...p.attributes },
    productStatus: {
      ...(p.destinations.length === 0 ? {} : {
        destinationStatuses: p.destinations.map((d) => ({
          reportingContext: d.reportingContext,
          ...nonEmpty("approvedCountries", d.approvedCountries),
          ...nonEmpty("pendingCountries", d.pendingCountries),
          ...nonEmpty("disapprovedCountries", d.disapprovedCountries)
        }))
      }),
      ...(issues.length === 0 ? {} : { itemLevelIssues: issues }),
      creationDate: stored.createdAt,
      lastUpdateDate,
      ...(Number.isNaN(expires) ? {} : { googleExpirationDate: isoSeconds(expires + EXPIRY_MS) })
    },
    base64EncodedName: `accounts/${accountId}/products/${base64url(id)}`
  }
}

// ---------------------------------------------------------------------------------------
// Page tokens: opaque to the client, bound to the account

const pageToken = (accountId: string, offset: number): string => base64url(JSON.stringify({ a: accountId, o: offset }))

const offsetOf = (token: string, accountId: string): number | undefined => {
  try {
    const parsed = JSON.parse(Buffer.from(token, "base64url").toString("utf8")) as { a?: unknown; o?: unknown }
    return parsed.a === accountId && typeof parsed.o === "number" && Number.isInteger(parsed.o) && parsed.o >= 0 ? parsed.o : undefined
  } catch {
    return undefined
  }
}

// ---------------------------------------------------------------------------------------
// The server

const LIST_PATH = /^\/products\/v1\/accounts\/([^/]+)\/products$/
/** Google's system parameters, accepted on every method. */
const SYSTEM_PARAMS = new Set(["$.xgafv", "access_token", "alt", "callback", "fields", "key", "oauth_token", "prettyPrint", "quotaUser", "upload_protocol", "uploadType"])
const DEFAULT_PAGE_SIZE = 25
const MAX_PAGE_SIZE = 1000

class BadRequest extends Error {
  readonly field: string
  constructor(field: string, message: string) {
    super(message)
    this.field = field
  }
}

/** Starts the simulator on 127.0.0.1 (port 0 unless `port` is given). */
export const startMerchantCenterSimulator = async (options: MerchantCenterSimulatorOptions): Promise<RunningMerchantCenterSimulator> => {
  const now = options.now ?? systemClock
  const accounts = new Map<string, ReadonlyArray<StoredProduct>>(options.accounts.map((a) => [a.accountId, store(a.accountId, a.products, now())]))

  const error = (c: Context, code: number, message: string, details: ReadonlyArray<Record<string, unknown>> = [], headers: Record<string, string> = {}) => {
    for (const [name, value] of Object.entries(headers)) c.header(name, value)
    return c.json(merchantApiError(code, message, details), code as 400)
  }

  /** 401 unless the request carries the simulator's token. */
  const unauthenticated = (c: Context, query: URLSearchParams): Response | undefined => {
    const header = c.req.header("authorization")
    const token = header === undefined || header === "" ? query.get("access_token") ?? query.get("oauth_token") ?? undefined : /^Bearer\s+(\S+)$/i.exec(header)?.[1] ?? ""
    if (token === undefined) {
      return error(c, 401, MISSING_CREDENTIALS, [errorInfo("CREDENTIALS_MISSING")], { "WWW-Authenticate": 'Bearer realm="https://accounts.google.com/"' })
    }
    if (token !== options.accessToken) {
      return error(c, 401, INVALID_CREDENTIALS, [errorInfo("ACCESS_TOKEN_TYPE_UNSUPPORTED")], {
        "WWW-Authenticate": 'Bearer realm="https://accounts.google.com/", error="invalid_token"'
      })
    }
    return undefined
  }

  /** `pageSize` / `page_size`: int32, ≥ 0; 0 or absent → 25; above 1,000 → 1,000. */
  const pageSizeOf = (query: URLSearchParams): number => {
    const raw = query.get("pageSize") ?? query.get("page_size")
    if (raw === null || raw === "") return DEFAULT_PAGE_SIZE
    const n = Number(raw)
    if (!/^[+-]?\d+$/.test(raw.trim()) || !Number.isSafeInteger(n) || n > 2_147_483_647 || n < -2_147_483_648) {
      throw new BadRequest("page_size", `Invalid value at 'page_size' (TYPE_INT32), "${raw}"`)
    }
    if (n < 0) throw new BadRequest("page_size", "The page size must not be negative.")
    return n === 0 ? DEFAULT_PAGE_SIZE : Math.min(n, MAX_PAGE_SIZE)
  }

  const app = new Hono()
  app.get("*", (c) => {
    const url = new URL(c.req.url)
    const match = LIST_PATH.exec(url.pathname)
    if (match === null) return c.notFound()
    const denied = unauthenticated(c, url.searchParams)
    if (denied !== undefined) return denied
    const accountId = decodeURIComponent(match[1] as string)
    for (const name of url.searchParams.keys()) {
      if (!SYSTEM_PARAMS.has(name) && !["pageSize", "page_size", "pageToken", "page_token"].includes(name)) {
        return error(c, 400, `Invalid JSON payload received. Unknown name "${name}": Cannot bind query parameter. Field '${name}' could not be found in request message.`, [
          badRequest(name, `Invalid JSON payload received. Unknown name "${name}": Cannot bind query parameter. Field '${name}' could not be found in request message.`)
        ])
      }
    }
    if (!/^\d{1,19}$/.test(accountId)) {
      return error(c, 400, `Invalid account ID: ${accountId}.`, [badRequest("parent", `Invalid account ID: ${accountId}.`)])
    }
    const products = accounts.get(accountId)
    if (products === undefined) {
      return error(c, 403, `The caller does not have access to the accounts: [${accountId}]`, [errorInfo("PERMISSION_DENIED")])
    }
    try {
      const pageSize = pageSizeOf(url.searchParams)
      const token = url.searchParams.get("pageToken") ?? url.searchParams.get("page_token") ?? ""
      const offset = token === "" ? 0 : offsetOf(token, accountId)
      if (offset === undefined) throw new BadRequest("page_token", "The page token is invalid.")
      const page = products.slice(offset, offset + pageSize)
      const next = offset + pageSize < products.length ? pageToken(accountId, offset + pageSize) : undefined
      return c.json({
        ...(page.length === 0 ? {} : { products: page.map((p) => productJson(accountId, p)) }),
        ...(next === undefined ? {} : { nextPageToken: next })
      })
    } catch (e) {
      if (e instanceof BadRequest) return error(c, 400, e.message, [badRequest(e.field, e.message)])
      throw e
    }
  })
  app.notFound((c) => error(c, 404, `The requested URL ${c.req.path} was not found on this server.`))

  const faults = new HttpFaults({ defaultBody: (status) => ({ contentType: "application/json; charset=UTF-8", body: JSON.stringify(faultBody(status)) }) })
  const server = await startSimulatorServer({ fetch: app.fetch, faults, clock: now, ...(options.port === undefined ? {} : { port: options.port }) })
  return {
    ...server,
    requests: server.log,
    setProducts: (accountId, products) => {
      accounts.set(accountId, store(accountId, products, now()))
    }
  }
}

// ---------------------------------------------------------------------------------------
// Demo data

export interface DemoMerchantProductsOptions {
  /** How many products (default 20). */
  readonly count?: number
  /** Varies ids and titles (default 1). */
  readonly seed?: number | string
  /** The target country, ISO 3166-1 alpha-2 (default `US`). */
  readonly country?: string
}

const ADJECTIVES = ["Linen", "Wool", "Cedar", "Copper", "Organic Cotton", "Stoneware", "Walnut", "Merino", "Rattan", "Brass"]
const NOUNS = ["Throw", "Beanie", "Candle", "Mug", "Tote Bag", "Serving Bowl", "Cutting Board", "Scarf", "Basket", "Lamp"]

/** Indices of the demo catalogue with a status other than approved (when `count` reaches them). */
export const DEMO_MISSING_GTIN = 3
export const DEMO_PENDING = 7
export const DEMO_IMAGE_TOO_SMALL = 12
export const DEMO_DEMOTED = 15

/**
 * A deterministic storefront catalogue as the Shopify Google channel submits it: offer ids
 * `shopify_<country>_<productId>_<variantId>`, each product in SHOPPING_ADS and FREE_LISTINGS for
 * `country`. All approved except: product 3 disapproved for a missing GTIN (both destinations),
 * product 12 disapproved for an image too small (both; the issue once per destination, as Google
 * lists it), product 7 pending (just submitted), product 15 approved with a DEMOTED issue
 * (missing colour). The same options always give the same products.
 */
export const demoMerchantProducts = (options: DemoMerchantProductsOptions = {}): ReadonlyArray<SimProduct> => {
  const count = options.count ?? 20
  const country = options.country ?? "US"
  const random = prng(seedOf(options.seed ?? 1))
  const contexts = ["SHOPPING_ADS", "FREE_LISTINGS"]
  const used = new Set<string>()
  const out: Array<SimProduct> = []
  for (let i = 0; i < count; i++) {
    const productId = 7_000_000_000_000 + Math.floor(random() * 2_000_000_000_000)
    const variantId = 40_000_000_000_000 + Math.floor(random() * 9_000_000_000_000)
    let title = `${ADJECTIVES[Math.floor(random() * ADJECTIVES.length)]} ${NOUNS[Math.floor(random() * NOUNS.length)]}`
    while (used.has(title)) title = `${title} II`
    used.add(title)
    const offerId = `shopify_${country}_${productId}_${variantId}`
    const handle = title.toLowerCase().replace(/[^a-z0-9]+/g, "-")
    const attributes = { link: `https://shop.example/products/${handle}?variant=${variantId}`, imageLink: `https://cdn.shop.example/files/${handle}.jpg`, availability: "IN_STOCK", brand: "Shop Example" }
    const approved = contexts.map((reportingContext) => ({ reportingContext, approvedCountries: [country] }))
    const base = { offerId, title, feedLabel: country, attributes }
    if (i === DEMO_MISSING_GTIN) {
      out.push({
        ...base,
        destinations: contexts.map((reportingContext) => ({ reportingContext, disapprovedCountries: [country] })),
        issues: contexts.map((reportingContext) => ({
          code: "missing_required_gtin",
          severity: "DISAPPROVED",
          attribute: "gtin",
          reportingContext,
          description: "Missing GTIN",
          detail: "Add a GTIN (Global Trade Item Number) for this product; products of this brand need one.",
          applicableCountries: [country],
          documentation: "https://support.google.com/merchants/answer/6324461"
        }))
      })
    } else if (i === DEMO_IMAGE_TOO_SMALL) {
      out.push({
        ...base,
        destinations: contexts.map((reportingContext) => ({ reportingContext, disapprovedCountries: [country] })),
        issues: contexts.map((reportingContext) => ({
          code: "image_too_small",
          severity: "DISAPPROVED",
          attribute: "image link",
          reportingContext,
          description: "Image too small",
          detail: "Use an image that is at least 100 x 100 pixels (250 x 250 for apparel).",
          applicableCountries: [country],
          documentation: "https://support.google.com/merchants/answer/6324350"
        }))
      })
    } else if (i === DEMO_PENDING) {
      out.push({ ...base, destinations: contexts.map((reportingContext) => ({ reportingContext, pendingCountries: [country] })) })
    } else if (i === DEMO_DEMOTED) {
      out.push({
        ...base,
        destinations: approved,
        issues: [{
          code: "missing_color",
          severity: "DEMOTED",
          attribute: "color",
          reportingContext: "SHOPPING_ADS",
          description: "Limited performance due to missing value [color]",
          applicableCountries: [country]
        }]
      })
    } else {
      out.push({ ...base, destinations: approved })
    }
  }
  return out
}
