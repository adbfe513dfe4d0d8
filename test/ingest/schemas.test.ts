/**
 * The public ingest API's event schemas and the pixel's touchpoint schema: pure decoding,
 * every error with its path, normalization (instants to UTC, money to decimal strings), and
 * the split of a touchpoint into clear facts and identifiers to seal.
 */
import { Result } from "effect"
import { describe, expect, it } from "vitest"
import { decodeEventBatch, decodeExternalEvent, MAX_BATCH_EVENTS } from "../../domain/ingest/ExternalEvents.ts"
import { normalizeOrigin } from "../../domain/ingest/StorefrontOrigins.ts"
import { adSpend } from "./fixtures.ts"
import { decodeTouchpoint, splitTouchpoint } from "../../domain/ingest/Touchpoint.ts"

const errorsOf = <A, E>(r: Result.Result<A, E>): E => {
  if (Result.isSuccess(r)) throw new Error(`expected a failure, got ${JSON.stringify(r.success)}`)
  return r.failure
}

describe("external events", () => {
  it("decodes each type, normalizing the instant to UTC and a numeric spend to a decimal string", () => {
    const ad = decodeExternalEvent(adSpend("k1", { spend: 12.5 }))
    expect(Result.getOrThrow(ad)).toMatchObject({ type: "ad_spend", occurred_at: "2026-03-02T05:00:00.000Z", spend: "12.5" })
    const seo = decodeExternalEvent({
      idempotency_key: "k2", type: "seo_ranking", occurred_at: "2026-03-01T00:00:00Z",
      keyword: "winter boots", url: "https://shop.example.com/boots", position: 3.4, search_engine: "google", country: "DE", date: "2026-03-01"
    })
    expect(Result.isSuccess(seo)).toBe(true)
    const conversion = decodeExternalEvent({
      idempotency_key: "k3", type: "conversion", occurred_at: "2026-03-01T00:00:00Z", name: "phone_order", value: "99.00", currency: "USD", customer_id: "42"
    })
    expect(Result.isSuccess(conversion)).toBe(true)
    const custom = decodeExternalEvent({
      idempotency_key: "k4", type: "custom", occurred_at: "2026-03-01T00:00:00Z", name: "review_posted", properties: { stars: 5, product: "boots" }
    })
    expect(Result.getOrThrow(custom)).toMatchObject({ properties: { stars: 5, product: "boots" } })
    // a decoded event decodes to itself (the actor re-validates what the ingress accepted)
    const once = Result.getOrThrow(ad)
    expect(Result.getOrThrow(decodeExternalEvent(once))).toEqual(once)
  })

  it("reports every failed field of an event with its path, without echoing values", () => {
    const errors = errorsOf(decodeExternalEvent(adSpend("", {
      platform: "myspace", spend: "-3", currency: "EURO", date: "2026-02-30", impressions: 1.5, occurred_at: "yesterday", campaign_id: undefined
    })))
    const paths = errors.map((e) => e.path).sort()
    expect(paths).toEqual(["campaign_id", "currency", "date", "idempotency_key", "impressions", "occurred_at", "platform", "spend"])
    expect(JSON.stringify(errors)).not.toContain("myspace")
    expect(errorsOf(decodeExternalEvent({ idempotency_key: "x", type: "tweet" }))).toEqual([
      { path: "type", message: "must be one of ad_spend, seo_ranking, conversion, custom" }
    ])
    expect(errorsOf(decodeExternalEvent({
      idempotency_key: "x", type: "conversion", occurred_at: "2026-03-01T00:00:00Z", name: "sale", value: 10
    }))).toEqual([{ path: "currency", message: "is required when value is given" }])
    const big = errorsOf(decodeExternalEvent({
      idempotency_key: "x", type: "custom", occurred_at: "2026-03-01T00:00:00Z", name: "blob", properties: { s: "x".repeat(5000) }
    }))
    expect(big.map((e) => e.path)).toEqual(["properties"])
  })

  it("a batch is 1 to 1,000 events; one invalid event refuses it with every failure by index", () => {
    expect(errorsOf(decodeEventBatch({ events: [] }))).toMatchObject({ _tag: "InvalidBatch", errors: [{ path: "events" }] })
    expect(errorsOf(decodeEventBatch({}))).toMatchObject({ _tag: "InvalidBatch", errors: [{ path: "events", message: "is required" }] })
    const tooMany = Array.from({ length: MAX_BATCH_EVENTS + 1 }, (_, i) => adSpend(`k${i}`))
    expect(errorsOf(decodeEventBatch({ events: tooMany }))).toMatchObject({ _tag: "InvalidBatch" })
    expect(Result.getOrThrow(decodeEventBatch({ events: tooMany.slice(0, MAX_BATCH_EVENTS) }))).toHaveLength(MAX_BATCH_EVENTS)
    const mixed = [adSpend("a"), adSpend("b", { spend: "lots" }), adSpend("c"), adSpend("a"), 7]
    expect(errorsOf(decodeEventBatch({ events: mixed }))).toEqual({
      _tag: "InvalidEvents",
      events: [
        { index: 1, errors: [{ path: "spend", message: expect.any(String) }] },
        { index: 3, errors: [{ path: "idempotency_key", message: "repeats the key of event 0 in this batch" }] },
        { index: 4, errors: [{ path: "", message: "must be a JSON object" }] }
      ]
    })
  })
})

describe("touchpoints", () => {
  const touchpoint = (overrides: Record<string, unknown> = {}) => ({
    shop: "pixel.myshopify.com",
    event: "page_view",
    event_id: "0b4f5a52-4c1e-4d8e-9d0b-6a1f2e3d4c5b",
    occurred_at: "2026-03-01T12:00:00Z",
    url: "https://pixel.myshopify.com/products/boots?email=alice%40example.com&utm_source=google",
    referrer: "https://www.google.com/search?q=alice+boots",
    utm: { source: "google", medium: "cpc", campaign: "spring", term: null, content: null },
    click_ids: { gclid: "Cj0KCQiA-secret", fbclid: "IwAR-secret" },
    client_id: "client-123",
    session_id: "session-456",
    customer_id: "7412983",
    ...overrides
  })

  it("decodes a touchpoint; null and empty optional fields mean absent", () => {
    const t = Result.getOrThrow(decodeTouchpoint(touchpoint({ referrer: "", customer_id: null, utm: null })))
    expect(t.event).toBe("page_view")
    const { identifiers } = splitTouchpoint(t)
    expect(identifiers).not.toHaveProperty("referrer")
    expect(identifiers).not.toHaveProperty("customer_id")
  })

  it("reports every bad field with its path", () => {
    const errors = errorsOf(decodeTouchpoint(touchpoint({
      shop: "evil.com", event: "hover", event_id: "nope", url: "javascript:alert(1)", utm: { source: 5 }, click_ids: { "GCLID!": "x" }
    })))
    expect(errors.map((e) => e.path).sort()).toEqual(["click_ids.GCLID!", "event", "event_id", "shop", "url", "utm.source"])
  })

  it("keeps the attribution facts in clear and moves everything identifying to the sealed part", () => {
    const { facts, identifiers } = splitTouchpoint(Result.getOrThrow(decodeTouchpoint(touchpoint())))
    expect(facts).toEqual({
      event_id: "0b4f5a52-4c1e-4d8e-9d0b-6a1f2e3d4c5b",
      event: "page_view",
      name: null,
      occurred_at: "2026-03-01T12:00:00.000Z",
      page: { host: "pixel.myshopify.com", path: "/products/boots" },
      referrer_host: "www.google.com",
      utm: { source: "google", medium: "cpc", campaign: "spring", term: null, content: null },
      click_id_kinds: ["fbclid", "gclid"]
    })
    const clear = JSON.stringify(facts)
    for (const secret of ["alice", "secret", "client-123", "session-456", "7412983"]) expect(clear).not.toContain(secret)
    expect(identifiers).toEqual({
      url: touchpoint().url,
      referrer: touchpoint().referrer,
      click_ids: touchpoint().click_ids,
      client_id: "client-123",
      session_id: "session-456",
      customer_id: "7412983"
    })
  })

  it("storefront origins are compared in canonical form", () => {
    expect(normalizeOrigin("https://Shop.Example.com/")).toBe("https://shop.example.com")
    expect(normalizeOrigin("https://shop.example.com:8443")).toBe("https://shop.example.com:8443")
    expect(normalizeOrigin("https://shop.example.com/path")).toBeUndefined()
    expect(normalizeOrigin("ftp://shop.example.com")).toBeUndefined()
  })
})
