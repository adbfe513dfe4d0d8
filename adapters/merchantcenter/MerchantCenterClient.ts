/**
 * `MerchantCenter` on Google's official client (`@googleapis/merchantapi`, Products sub-API
 * `products_v1`, `accounts.products.list` = `GET {root}/products/v1/accounts/{account}/products`),
 * with an OAuth access token; `apiUrl` points it at the simulator (tests, the demo) or is
 * Google's. Pages through `pageToken` at the API's maximum `pageSize` (1,000) until no
 * `nextPageToken`. 429, 5xx and network failures are `MerchantCenterUnavailable` once the
 * client's own retries are spent (the pull tries again), other answers `MerchantCenterRefused`
 * with Google's message. An item-level issue Google repeats per reporting context is kept once.
 */
import { googleApiFailure } from "../google/GoogleApiErrors.ts"
import { auth, merchantapi, type merchantapi_products_v1 } from "@googleapis/merchantapi"
import { Effect, Layer, Redacted } from "effect"
import {
  destinationStatus,
  MerchantCenter,
  MerchantCenterRefused,
  MerchantCenterUnavailable,
  type MerchantProductStatus,
  productIdOfOffer
} from "../../src/intelligence/MerchantCenter.ts"

export interface MerchantCenterOptions {
  readonly accessToken: Redacted.Redacted<string>
  /** Google's `https://merchantapi.googleapis.com/` unless pointed elsewhere (the simulator). */
  readonly apiUrl?: string
  /** Products per request (the API allows 1,000). */
  readonly pageSize?: number
  /**
   * The official client's own retries of a GET answered 429, 5xx or not at all (3, with
   * exponential backoff from 100 ms; `Retry-After` is not read). Default true; false surfaces the
   * first failure.
   */
  readonly retry?: boolean
}

/** A runaway guard: 1,000 pages of 1,000 products. */
const MAX_PAGES = 1000

const failure = (error: unknown): MerchantCenterRefused | MerchantCenterUnavailable => {
  const f = googleApiFailure(error)
  return f.retryable
    ? new MerchantCenterUnavailable({ message: f.status === 0 ? f.message : `HTTP ${f.status}: ${f.message}` })
    : new MerchantCenterRefused({ status: f.status, message: f.message })
}

/** A processed product as the contract sees it; undefined without an offer id (never sent by Google). */
export const toStatus = (product: merchantapi_products_v1.Schema$Product): MerchantProductStatus | undefined => {
  const offerId = product.offerId
  if (offerId === undefined || offerId === null || offerId === "") return undefined
  const seen = new Set<string>()
  const issues: Array<MerchantProductStatus["issues"][number]> = []
  for (const issue of product.productStatus?.itemLevelIssues ?? []) {
    const code = issue.code ?? ""
    const description = issue.description ?? issue.detail ?? ""
    const severity = issue.severity ?? "SEVERITY_UNSPECIFIED"
    const key = `${code}\u0000${description}\u0000${severity}`
    if (seen.has(key)) continue
    seen.add(key)
    issues.push({ code, description, severity })
  }
  return {
    offerId,
    productId: productIdOfOffer(offerId),
    title: product.productAttributes?.title ?? null,
    destinations: (product.productStatus?.destinationStatuses ?? []).map((d) => ({
      destination: d.reportingContext ?? "REPORTING_CONTEXT_ENUM_UNSPECIFIED",
      status: destinationStatus(d)
    })),
    issues
  }
}

export const make = (options: MerchantCenterOptions) => {
  const oauth = new auth.OAuth2()
  oauth.setCredentials({ access_token: Redacted.value(options.accessToken) })
  const client = merchantapi({
    version: "products_v1",
    auth: oauth,
    ...(options.apiUrl === undefined ? {} : { rootUrl: options.apiUrl.replace(/\/*$/, "/") }),
    ...(options.retry === false ? { retry: false } : {})
  })
  const pageSize = options.pageSize ?? 1000

  return MerchantCenter.of({
    statuses: Effect.fn("MerchantCenter.statuses")(function*(accountId: string) {
      const parent = accountId.startsWith("accounts/") ? accountId : `accounts/${accountId}`
      const out: Array<MerchantProductStatus> = []
      let pageToken: string | undefined
      for (let page = 0; page < MAX_PAGES; page++) {
        const token = pageToken
        const res = yield* Effect.tryPromise({
          try: () => client.accounts.products.list({ parent, pageSize, ...(token === undefined ? {} : { pageToken: token }) }),
          catch: failure
        })
        for (const product of res.data.products ?? []) {
          const status = toStatus(product)
          if (status !== undefined) out.push(status)
        }
        const next = res.data.nextPageToken
        if (next === undefined || next === null || next === "") break
        pageToken = next
      }
      return out
    })
  })
}

export const layer = (options: MerchantCenterOptions): Layer.Layer<MerchantCenter> => Layer.succeed(MerchantCenter, make(options))
