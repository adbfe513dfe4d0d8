/**
 * Merchant Center product statuses through Google's official client (`@googleapis/merchantapi`,
 * `products_v1`) against the simulator over real HTTP: the adapter pages to the end, maps each
 * destination's countries to one status, keeps issues once, parses Shopify offer ids, and
 * surfaces Google's refusals and outages as the contract's typed errors; the simulator answers
 * the requests the official client actually makes.
 */
import { auth, merchantapi } from "@googleapis/merchantapi"
import { Effect, Redacted } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import * as MerchantCenterClient from "../../adapters/merchantcenter/MerchantCenterClient.ts"
import { MerchantCenterRefused, MerchantCenterUnavailable, type MerchantProductStatus, productIdOfOffer } from "../../src/intelligence/MerchantCenter.ts"
import {
  DEMO_DEMOTED,
  DEMO_IMAGE_TOO_SMALL,
  DEMO_MISSING_GTIN,
  DEMO_PENDING,
  demoMerchantProducts,
  type RunningMerchantCenterSimulator,
  type SimProduct,
  startMerchantCenterSimulator
} from "../../src/simulator/merchantcenter/index.ts"

const TOKEN = "ya29.mc-sim-token"
const DEMO = "123456789"
const BIG = "555000111"
const MAPPING = "777000222"
const NOW = Date.UTC(2026, 6, 15, 12, 0, 0)
const LIST = (account: string) => `/products/v1/accounts/${account}/products`

/** 2,345 products: three pages of the adapter's 1,000. */
const BIG_CATALOG: ReadonlyArray<SimProduct> = Array.from({ length: 2345 }, (_, i) => ({
  offerId: `shopify_US_${8_000_000 + i}_${9_000_000 + i}`,
  title: `Product ${i}`,
  destinations: [{ reportingContext: "SHOPPING_ADS", approvedCountries: ["US"] }]
}))

/** One product per status rule, in the API's own shape. */
const MAPPING_CATALOG: ReadonlyArray<SimProduct> = [
  {
    offerId: "shopify_GB_111_222",
    title: "Mixed",
    destinations: [
      // disapproved anywhere beats approved and pending elsewhere
      { reportingContext: "SHOPPING_ADS", approvedCountries: ["US"], pendingCountries: ["CA"], disapprovedCountries: ["GB"] },
      // pending anywhere beats approved
      { reportingContext: "FREE_LISTINGS", approvedCountries: ["US", "GB"], pendingCountries: ["CA"] },
      { reportingContext: "DISPLAY_ADS", approvedCountries: ["US"] }
    ],
    issues: [
      { code: "image_too_small", severity: "DISAPPROVED", reportingContext: "SHOPPING_ADS", description: "Image too small" },
      { code: "image_too_small", severity: "DISAPPROVED", reportingContext: "FREE_LISTINGS", description: "Image too small" },
      { code: "missing_color", severity: "NOT_IMPACTED", reportingContext: "DISPLAY_ADS", detail: "Add a color" }
    ]
  },
  { offerId: "SKU-42", destinations: [] }
]

let sim: RunningMerchantCenterSimulator

const adapter = (options: Partial<MerchantCenterClient.MerchantCenterOptions> = {}) =>
  MerchantCenterClient.make({ accessToken: Redacted.make(TOKEN), apiUrl: sim.url, ...options })

const statuses = (account: string, options: Partial<MerchantCenterClient.MerchantCenterOptions> = {}) =>
  Effect.runPromise(adapter(options).statuses(account))

const failure = (account: string, options: Partial<MerchantCenterClient.MerchantCenterOptions> = {}) =>
  Effect.runPromise(Effect.flip(adapter(options).statuses(account)))

/** The official client, raw (no token when `token` is undefined). */
const rawClient = (token: string | undefined) => {
  if (token === undefined) return merchantapi({ version: "products_v1", rootUrl: `${sim.url}/`, retry: false })
  const oauth = new auth.OAuth2()
  oauth.setCredentials({ access_token: token })
  return merchantapi({ version: "products_v1", auth: oauth, rootUrl: `${sim.url}/`, retry: false })
}

/** The error a raw call rejects with. */
const rejection = async (call: Promise<unknown>): Promise<{ status?: number; response?: { data: any } }> => {
  try {
    await call
  } catch (error) {
    return error as { status?: number; response?: { data: any } }
  }
  throw new Error("expected the call to fail")
}

beforeAll(async () => {
  sim = await startMerchantCenterSimulator({
    accessToken: TOKEN,
    accounts: [
      { accountId: DEMO, products: demoMerchantProducts() },
      { accountId: BIG, products: BIG_CATALOG },
      { accountId: MAPPING, products: MAPPING_CATALOG }
    ],
    now: () => NOW
  })
})

afterAll(async () => {
  await sim.stop()
})

describe("MerchantCenterClient against the simulator", () => {
  it("pages to the end with the token the simulator served, on the official client's exact path and query", async () => {
    // the token page 1 carries, read with the raw client
    const first = await rawClient(TOKEN).accounts.products.list({ parent: `accounts/${DEMO}`, pageSize: 7 })
    expect(first.data.products).toHaveLength(7)
    const served = first.data.nextPageToken
    expect(served).toEqual(expect.any(String))

    const mark = sim.requests.count()
    const all = await statuses(DEMO, { pageSize: 7 })
    expect(all).toHaveLength(20)
    expect(all.map((s) => s.offerId)).toEqual(demoMerchantProducts().map((p) => p.offerId))

    const calls = sim.requests.since(mark)
    expect(calls.map((c) => [c.method, c.path])).toEqual([["GET", LIST(DEMO)], ["GET", LIST(DEMO)], ["GET", LIST(DEMO)]])
    expect(calls[0]!.query).toEqual({ pageSize: "7" })
    expect(calls[1]!.query).toEqual({ pageSize: "7", pageToken: served })
    expect(calls[2]!.query).toEqual({ pageSize: "7", pageToken: expect.any(String) })
    expect(calls[2]!.query["pageToken"]).not.toBe(served)
    expect(calls.every((c) => c.headers["authorization"] === `Bearer ${TOKEN}` && c.status === 200)).toBe(true)
  })

  it("reads 2,345 products in three requests of the API's maximum page size", async () => {
    const mark = sim.requests.count()
    const all = await statuses(`accounts/${BIG}`)
    expect(all).toHaveLength(2345)
    expect(all.map((s) => s.productId)).toEqual(BIG_CATALOG.map((_, i) => String(8_000_000 + i)))
    const calls = sim.requests.since(mark)
    expect(calls.map((c) => [c.path, c.query["pageSize"]])).toEqual([[LIST(BIG), "1000"], [LIST(BIG), "1000"], [LIST(BIG), "1000"]])
    expect(calls.map((c) => "pageToken" in c.query)).toEqual([false, true, true])
  })

  it("maps each destination: disapproved in any country, else pending in any, else approved; issues once each", async () => {
    const [mixed, plain] = await statuses(MAPPING)
    expect(mixed).toEqual<MerchantProductStatus>({
      offerId: "shopify_GB_111_222",
      productId: "111",
      title: "Mixed",
      destinations: [
        { destination: "SHOPPING_ADS", status: "disapproved" },
        { destination: "FREE_LISTINGS", status: "pending" },
        { destination: "DISPLAY_ADS", status: "approved" }
      ],
      issues: [
        { code: "image_too_small", description: "Image too small", severity: "DISAPPROVED" },
        { code: "missing_color", description: "Add a color", severity: "NOT_IMPACTED" }
      ]
    })
    // not a Shopify offer id, no title, no destinations
    expect(plain).toEqual<MerchantProductStatus>({ offerId: "SKU-42", productId: "SKU-42", title: null, destinations: [], issues: [] })
  })

  it("parses the Shopify product id only from the Shopify channel's offer id shape", () => {
    expect(productIdOfOffer("shopify_US_1234567_4567")).toBe("1234567")
    expect(productIdOfOffer("shopify_de_7890123456789_41234567890123")).toBe("7890123456789")
    for (const other of ["shopify_US_1234567", "shopify_USA_1_2", "shopify_US_abc_4567", "SKU-42", "1234567"]) {
      expect(productIdOfOffer(other)).toBe(other)
    }
  })

  it("sees the demo catalogue's two disapprovals, the pending product and the demoted one", async () => {
    const all = await statuses(DEMO)
    const demo = demoMerchantProducts()
    const disapproved = all.filter((s) => s.destinations.some((d) => d.status === "disapproved"))
    expect(disapproved.map((s) => s.offerId)).toEqual([demo[DEMO_MISSING_GTIN]!.offerId, demo[DEMO_IMAGE_TOO_SMALL]!.offerId])
    expect(disapproved.map((s) => s.issues.map((i) => [i.description, i.severity]))).toEqual([
      [["Missing GTIN", "DISAPPROVED"]],
      [["Image too small", "DISAPPROVED"]]
    ])
    expect(all.filter((s) => s.destinations.some((d) => d.status === "pending")).map((s) => s.offerId)).toEqual([demo[DEMO_PENDING]!.offerId])
    expect(all[DEMO_DEMOTED]!.destinations.every((d) => d.status === "approved")).toBe(true)
    expect(all[DEMO_DEMOTED]!.issues.map((i) => i.severity)).toEqual(["DEMOTED"])
    for (const s of all) {
      expect(s.offerId).toMatch(/^shopify_US_\d{13}_\d{14}$/)
      expect(s.offerId.split("_")[2]).toBe(s.productId)
      expect(s.destinations.map((d) => d.destination)).toEqual(["SHOPPING_ADS", "FREE_LISTINGS"])
    }
    expect(new Set(all.map((s) => s.title)).size).toBe(20)
  })

  it("surfaces a wrong token as MerchantCenterRefused 401 and another account as MerchantCenterRefused 403", async () => {
    const wrong = await Effect.runPromise(Effect.flip(MerchantCenterClient.make({ accessToken: Redacted.make("ya29.other"), apiUrl: sim.url }).statuses(DEMO)))
    expect(wrong).toBeInstanceOf(MerchantCenterRefused)
    expect(wrong).toMatchObject({ _tag: "MerchantCenterRefused", status: 401, message: expect.stringMatching(/^Request had invalid authentication credentials/) })

    const other = await failure("42")
    expect(other).toBeInstanceOf(MerchantCenterRefused)
    expect(other).toMatchObject({ status: 403, message: "The caller does not have access to the accounts: [42]" })
    expect(sim.requests.last()!.path).toBe(LIST("42"))
  })

  it("surfaces 429 as MerchantCenterUnavailable without retries, and the official client's retries absorb a single one", async () => {
    sim.faults.rateLimitNext(30)
    const limited = await failure(DEMO, { retry: false })
    expect(limited).toBeInstanceOf(MerchantCenterUnavailable)
    expect(limited.message).toMatch(/^HTTP 429: Quota exceeded for quota metric/)

    sim.faults.failNext(503)
    expect(await failure(DEMO, { retry: false })).toMatchObject({ _tag: "MerchantCenterUnavailable", message: expect.stringMatching(/^HTTP 503/) })

    // with the client's default retries (3, from 100 ms) one 429 costs one more request
    sim.faults.rateLimitNext(1)
    const mark = sim.requests.count()
    expect(await statuses(DEMO)).toHaveLength(20)
    expect(sim.requests.since(mark).map((c) => c.status)).toEqual([429, 200])

    // and four in a row exhaust them
    sim.faults.failNext(500, { count: 4 })
    const mark2 = sim.requests.count()
    expect(await failure(DEMO)).toMatchObject({ _tag: "MerchantCenterUnavailable", message: expect.stringMatching(/^HTTP 500/) })
    expect(sim.requests.since(mark2).map((c) => c.status)).toEqual([500, 500, 500, 500])
  })
})

describe("Merchant Center simulator, through the official client", () => {
  it("answers 401 UNAUTHENTICATED without a token or with a wrong one, in Google's error shape", async () => {
    const missing = await rejection(rawClient(undefined).accounts.products.list({ parent: `accounts/${DEMO}` }))
    expect(missing.status).toBe(401)
    expect(missing.response?.data.error).toMatchObject({ code: 401, status: "UNAUTHENTICATED", message: expect.stringMatching(/^Request is missing required authentication credential/) })
    expect(missing.response?.data.error.details[0]).toMatchObject({ "@type": "type.googleapis.com/google.rpc.ErrorInfo", reason: "CREDENTIALS_MISSING" })
    expect(sim.requests.last()!.headers["authorization"]).toBeUndefined()
    const wrong = await rejection(rawClient("ya29.other").accounts.products.list({ parent: `accounts/${DEMO}` }))
    expect(wrong.response?.data.error).toMatchObject({ code: 401, status: "UNAUTHENTICATED", message: expect.stringMatching(/^Request had invalid authentication credentials/) })
  })

  it("answers 403 PERMISSION_DENIED for another account and 400 for a malformed one", async () => {
    const other = await rejection(rawClient(TOKEN).accounts.products.list({ parent: "accounts/42" }))
    expect(other.response?.data.error).toMatchObject({ code: 403, status: "PERMISSION_DENIED" })
    const malformed = await rejection(rawClient(TOKEN).accounts.products.list({ parent: "accounts/shop" }))
    expect(malformed.response?.data.error).toMatchObject({ code: 400, status: "INVALID_ARGUMENT" })
  })

  it("pages 25 by default, coerces pageSize above 1,000 to 1,000, and refuses bad sizes, tokens and parameters", async () => {
    const client = rawClient(TOKEN)
    const byDefault = await client.accounts.products.list({ parent: `accounts/${BIG}` })
    expect(byDefault.data.products).toHaveLength(25)
    const coerced = await client.accounts.products.list({ parent: `accounts/${BIG}`, pageSize: 1500 })
    expect(coerced.data.products).toHaveLength(1000)
    expect(sim.requests.last()!.query).toEqual({ pageSize: "1500" })

    const negative = await rejection(client.accounts.products.list({ parent: `accounts/${BIG}`, pageSize: -1 }))
    expect(negative.response?.data.error).toMatchObject({ code: 400, status: "INVALID_ARGUMENT" })
    const notInt = await rejection(client.accounts.products.list({ parent: `accounts/${BIG}`, pageSize: "ten" as never }))
    expect(notInt.response?.data.error.message).toBe(`Invalid value at 'page_size' (TYPE_INT32), "ten"`)
    const garbage = await rejection(client.accounts.products.list({ parent: `accounts/${BIG}`, pageToken: "nope" }))
    expect(garbage.response?.data.error).toMatchObject({ code: 400, status: "INVALID_ARGUMENT" })
    // a token is bound to the account that issued it
    const foreign = await rejection(client.accounts.products.list({ parent: `accounts/${DEMO}`, pageToken: byDefault.data.nextPageToken! }))
    expect(foreign.status).toBe(400)
    const unknown = await rejection(client.accounts.products.list({ parent: `accounts/${BIG}`, filter: "x" } as never))
    expect(unknown.response?.data.error.message).toMatch(/^Invalid JSON payload received. Unknown name "filter": Cannot bind query parameter/)
  })

  it("serves processed products in the API's shape, and an empty account as {}", async () => {
    const { data } = await rawClient(TOKEN).accounts.products.list({ parent: `accounts/${MAPPING}` })
    expect(data.nextPageToken).toBeUndefined()
    expect(data.products?.[1]).toEqual({
      name: `accounts/${MAPPING}/products/en~US~SKU-42`,
      offerId: "SKU-42",
      contentLanguage: "en",
      feedLabel: "US",
      dataSource: `accounts/${MAPPING}/dataSources/10001`,
      productAttributes: {},
      productStatus: { creationDate: "2026-07-15T12:00:00Z", lastUpdateDate: "2026-07-15T12:00:00Z", googleExpirationDate: "2026-08-14T12:00:00Z" },
      base64EncodedName: `accounts/${MAPPING}/products/${Buffer.from("en~US~SKU-42").toString("base64url")}`
    })
    expect(data.products?.[0]?.productStatus?.destinationStatuses?.[1]).toEqual({ reportingContext: "FREE_LISTINGS", approvedCountries: ["US", "GB"], pendingCountries: ["CA"] })

    sim.setProducts("31337", [])
    expect((await rawClient(TOKEN).accounts.products.list({ parent: "accounts/31337" })).data).toEqual({})
  })
})
