/**
 * `ShopifyAdmin.graphql` against the simulator over real HTTP on 127.0.0.1: cost-aware
 * waiting, THROTTLED handling, 5xx / timeout retries, permanent errors. Time is virtual
 * (see support.ts): waits are asserted exactly and take no wall-clock time.
 */
import { createAdminApiClient } from "@shopify/admin-api-client"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import { ConfigProvider, Effect, Layer } from "effect"
import * as ShopifyAdminLive from "../../adapters/shopify/ShopifyAdminLive.ts"
import { ShopCredentials } from "../../adapters/shopify/ShopifyAdmin.ts"
import { ShopifyAdmin, type ShopifyPermanentError, type ShopifyThrottled, type ShopifyUnavailable } from "../../adapters/shopify/ShopifyAdmin.ts"
import { SHOP, failureOf, startHarness, type Harness } from "./support.ts"

const PRODUCTS_10 = `query Ten { products(first: 10) { nodes { id } } }` // requested cost 12
const SHOP_NAME = `query Name { shop { name } }` // cost 1

const graphql = (document: string, variables?: Record<string, unknown>) =>
  ShopifyAdmin.use((admin) => admin.graphql(SHOP, document, variables))

const outcomes = (h: Harness) => h.sim.shop().requests.map((r) => r.outcome)

describe("ShopifyAdmin.graphql", () => {
  let h: Harness
  beforeEach(async () => {
    h = await startHarness()
  })
  afterEach(() => h.close())

  it("answers data through admin-api-client re-targeted at the simulator", async () => {
    const data = await h.run(graphql(SHOP_NAME))
    expect(data).toEqual({ shop: { name: "acme" } })
    expect(h.sim.shop().requests).toHaveLength(1)
    expect(h.sim.shop().requests[0]).toMatchObject({ apiVersion: "2026-07", rootFields: ["shop"], outcome: "ok" })
  })

  it("takes the base URL from SHOPIFY_ADMIN_URL_OVERRIDE (layerConfig)", async () => {
    const layer = ShopifyAdminLive.layerConfig().pipe(
      Layer.provide([ShopCredentials.fromRecord({ [SHOP]: h.sim.shop().accessToken }), ConfigProvider.layer(ConfigProvider.fromEnvRecord({ SHOPIFY_ADMIN_URL_OVERRIDE: h.sim.url }))])
    )
    const data = await Effect.runPromise(graphql(SHOP_NAME).pipe(Effect.provide(layer)))
    expect(data).toEqual({ shop: { name: "acme" } })
    expect(h.sim.shop().requests).toHaveLength(1)
  })

  it("waits before a request the bucket cannot pay: a burst on a small bucket gets no THROTTLED", async () => {
    const shop = h.sim.shop()
    shop.setCostLimits({ maximumAvailable: 60, restoreRate: 10 })
    // Control: the same burst without the adapter's waits is throttled by the simulator.
    const raw = createAdminApiClient({ ...h.sim.adminClientOptions(SHOP), apiVersion: "2026-07" })
    const rawResults = await Promise.all(Array.from({ length: 12 }, () => raw.request(PRODUCTS_10)))
    expect(rawResults.filter((r) => r.errors?.graphQLErrors?.[0]?.extensions?.code === "THROTTLED").length).toBeGreaterThan(0)
    h.time.manual.advance(60_000) // refill
    const before = shop.requests.length

    const results = await h.run(Effect.forEach(Array.from({ length: 24 }, (_, i) => i), () => graphql(PRODUCTS_10), { concurrency: 6 }))

    expect(results).toHaveLength(24)
    for (const r of results) expect((r as any).products.nodes).toHaveLength(10)
    const mine = shop.requests.slice(before)
    expect(mine.map((r) => r.outcome).filter((o) => o !== "ok")).toEqual([])
    expect(mine).toHaveLength(24)
    // 24 × 12 points from a 60-point bucket refilling at 10/s: at least (288 − 60) / 10 s of waiting.
    const waited = h.time.sleeps.reduce((a, b) => a + b, 0)
    expect(waited).toBeGreaterThanOrEqual(22_800)
    // ...and within 2× of that: unanswered requests are counted against the bucket until they
    // answer (conservative), which costs extra waiting only on a tiny, saturated bucket.
    expect(waited).toBeLessThan(2 * 22_800)
  })

  it("answers THROTTLED by waiting the computed refill time and retrying", async () => {
    const shop = h.sim.shop()
    await h.run(graphql(SHOP_NAME)) // learn the bucket: 2000 points, 100/s
    shop.setAvailablePoints(0) // someone else (another worker of the app) drained it
    const data = await h.run(graphql(PRODUCTS_10))
    expect((data as any).products.nodes).toHaveLength(10)
    expect(outcomes(h)).toEqual(["ok", "throttled", "ok"])
    // requestedQueryCost 12, currentlyAvailable 0, restoreRate 100/s → 120 ms
    expect(h.time.sleeps).toEqual([120])
  })

  it("retries an injected THROTTLED at once when the reported bucket can pay", async () => {
    h.sim.shop().faults.throttleNext(1)
    await h.run(graphql(SHOP_NAME))
    expect(outcomes(h)).toEqual(["throttled", "ok"])
    expect(h.time.sleeps).toEqual([])
  })

  it("gives up with ShopifyThrottled after the bounded THROTTLED retries", async () => {
    h.sim.shop().faults.throttleNext(10)
    const error = failureOf(await h.exit(graphql(SHOP_NAME), { maxThrottledRetries: 2 })) as ShopifyThrottled
    expect(error._tag).toBe("ShopifyThrottled")
    expect(error.code).toBe("THROTTLED")
    expect(outcomes(h)).toEqual(["throttled", "throttled", "throttled"])
  })

  it("retries 5xx with exponential backoff and jitter, then succeeds", async () => {
    h.sim.shop().faults.httpErrorNext(502, 2)
    const data = await h.run(graphql(SHOP_NAME), { backoffBaseMs: 1000 })
    expect(data).toEqual({ shop: { name: "acme" } })
    expect(h.sim.shop().requests.map((r) => r.httpStatus)).toEqual([502, 502, 200])
    const [first, second] = h.time.sleeps
    expect(h.time.sleeps).toHaveLength(2)
    expect(first).toBeGreaterThanOrEqual(500)
    expect(first).toBeLessThanOrEqual(1000)
    expect(second).toBeGreaterThanOrEqual(1000)
    expect(second).toBeLessThanOrEqual(2000)
  })

  it("honours Retry-After (seconds) of a 503 and a 429", async () => {
    h.sim.shop().faults.httpErrorNext(503, 1, { retryAfter: "3" }).httpErrorNext(429, 1, { retryAfter: "2" })
    await h.run(graphql(SHOP_NAME), { backoffBaseMs: 100 })
    expect(h.sim.shop().requests.map((r) => r.httpStatus)).toEqual([503, 429, 200])
    expect(h.time.sleeps).toEqual([3000, 2000])
  })

  it("fails with ShopifyUnavailable when 5xx persists past the bounded retries", async () => {
    h.sim.shop().faults.httpErrorNext(500, 10)
    const error = failureOf(await h.exit(graphql(SHOP_NAME), { maxUnavailableRetries: 2 })) as ShopifyUnavailable
    expect(error).toMatchObject({ _tag: "ShopifyUnavailable", status: 500, operation: "graphql", shop: SHOP })
    expect(h.sim.shop().requests).toHaveLength(3)
  })

  it("times out a hanging request, then retries it", async () => {
    h.sim.shop().faults.hangNext(1)
    const data = await h.run(graphql(SHOP_NAME), { requestTimeoutMs: 150 })
    expect(data).toEqual({ shop: { name: "acme" } })
    expect(outcomes(h)).toEqual(["hang", "ok"])
    expect(h.sim.shop().faults.hangingRequests).toBe(0)
  })

  it("never retries MAX_COST_EXCEEDED", async () => {
    const expensive = `{ products(first: 250) { nodes { id metafields(first: 3) { nodes { value } } } } }`
    const error = failureOf(await h.exit(graphql(expensive))) as ShopifyPermanentError
    expect(error._tag).toBe("ShopifyPermanentError")
    expect(error.code).toBe("MAX_COST_EXCEEDED")
    expect(error.message).toMatch(/^Query cost is 1502, which exceeds the single query max cost limit \(1000\)/)
    expect(outcomes(h)).toEqual(["max-cost"])
    expect(h.time.sleeps).toEqual([])
  })

  it("reports a revoked token (401) as a permanent UNAUTHORIZED error, without retrying", async () => {
    h.sim.shop().uninstall({ webhook: false })
    const error = failureOf(await h.exit(graphql(SHOP_NAME))) as ShopifyPermanentError
    expect(error).toMatchObject({ _tag: "ShopifyPermanentError", code: "UNAUTHORIZED", status: 401, shop: SHOP })
    expect(error.message).toContain("Invalid API key or access token")
    expect(error.message).not.toContain(h.sim.shop().accessToken || "shpat_")
    expect(outcomes(h)).toEqual(["unauthorized"])
  })

  it("reports schema errors with Shopify's code and message", async () => {
    const error = failureOf(await h.exit(graphql(`{ shop { nosuch } }`))) as ShopifyPermanentError
    expect(error).toMatchObject({ code: "undefinedField", message: "Field 'nosuch' doesn't exist on type 'Shop'" })
  })

  it("does not put the access token in errors or logs", async () => {
    h.sim.shop().faults.httpErrorNext(500, 10)
    const exit = await h.exit(graphql(SHOP_NAME), { maxUnavailableRetries: 0 })
    expect(JSON.stringify(exit)).not.toContain(h.sim.shop().accessToken)
    expect(String(failureOf(exit))).not.toContain(h.sim.shop().accessToken)
  })
})
