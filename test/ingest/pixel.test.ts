/**
 * `POST /pixel` end to end over real HTTP: CORS for the shop's origins only, sendBeacon's
 * text/plain, size and shop checks, per-shop rate limiting on an injected clock, and the
 * recorded touchpoint with its personal data sealed (crypto-shreddable) on PostgreSQL 15.
 */
import { Effect, Option } from "effect"
import { SqlClient } from "effect/sql"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { RateLimiter } from "../../adapters/http/RateLimit.ts"
import * as PgStorefrontOrigins from "../../adapters/postgres/PgStorefrontOrigins.ts"
import { PiiVault, type Sealed } from "../../src/secrets/Secrets.ts"
import { ShopLog } from "../../src/shoplog/ShopLog.ts"
import { type IngestStack, startIngestStack } from "./support.ts"

const SHOP = "pixel-test.myshopify.com"
const LIMITED = "pixel-limited.myshopify.com"
const CUSTOM_DOMAIN = "https://boots.example.com"

interface ProblemBody {
  readonly error: { readonly code: string; readonly message: string; readonly details?: unknown }
}

let clock = 1_000_000
const limiter = new RateLimiter({ capacity: 100, perMs: 10_000, now: () => clock })
const tightLimiter = new RateLimiter({ capacity: 3, perMs: 30_000, now: () => clock })

const touchpoint = (overrides: Record<string, unknown> = {}) => ({
  shop: SHOP,
  event: "page_view",
  event_id: crypto.randomUUID(),
  occurred_at: "2026-03-01T12:00:00Z",
  url: `https://${SHOP}/products/boots?email=alice.shopper%40example.com&discount=SECRETCODE`,
  referrer: "https://www.google.com/search?q=alice+shopper+boots",
  utm: { source: "google", medium: "cpc", campaign: "spring-sale" },
  click_ids: { gclid: "GCLID-VALUE-123" },
  client_id: "client-abc-999",
  session_id: "session-def-888",
  customer_id: "7412983",
  ...overrides
})

describe("storefront pixel", () => {
  let stack: IngestStack
  let limitedStack: IngestStack

  beforeAll(async () => {
    stack = await startIngestStack({ knownShops: [SHOP], pixel: { rateLimiter: limiter, lookupCacheMs: 0 } })
    limitedStack = await startIngestStack({ knownShops: [LIMITED], pixel: { rateLimiter: tightLimiter, lookupCacheMs: 0 } })
    await stack.run(PgStorefrontOrigins.addOrigin(SHOP, `${CUSTOM_DOMAIN}/`))
  }, 120_000)

  afterAll(async () => {
    await stack?.close()
    await limitedStack?.close()
  })

  const post = (body: unknown, init?: { readonly origin?: string; readonly contentType?: string; readonly raw?: string; readonly target?: IngestStack; readonly query?: string }) =>
    fetch(`${(init?.target ?? stack).url}/pixel${init?.query ?? ""}`, {
      method: "POST",
      headers: {
        "content-type": init?.contentType ?? "application/json",
        ...(init?.origin === undefined ? {} : { origin: init.origin })
      },
      body: init?.raw ?? JSON.stringify(body)
    })

  const preflight = (origin: string, query = `?shop=${SHOP}`) =>
    fetch(`${stack.url}/pixel${query}`, {
      method: "OPTIONS",
      headers: { origin, "access-control-request-method": "POST", "access-control-request-headers": "content-type" }
    })

  it("a preflight from the shop's own origin or a registered storefront domain is allowed; a foreign origin gets 403 and no CORS headers", async () => {
    const own = await preflight(`https://${SHOP}`)
    expect(own.status).toBe(204)
    expect(own.headers.get("access-control-allow-origin")).toBe(`https://${SHOP}`)
    expect(own.headers.get("access-control-allow-methods")).toContain("POST")
    expect(own.headers.get("access-control-allow-headers")?.toLowerCase()).toContain("content-type")
    expect(own.headers.get("vary")).toContain("Origin")
    // the shop's own origin also names the shop when the script omits ?shop=
    expect((await preflight(`https://${SHOP}`, "")).headers.get("access-control-allow-origin")).toBe(`https://${SHOP}`)
    const custom = await preflight(CUSTOM_DOMAIN)
    expect(custom.status).toBe(204)
    expect(custom.headers.get("access-control-allow-origin")).toBe(CUSTOM_DOMAIN)
    const foreign = await preflight("https://evil.example.net")
    expect(foreign.status).toBe(403)
    expect(foreign.headers.get("access-control-allow-origin")).toBeNull()
    expect((await foreign.json() as ProblemBody).error.code).toBe("origin_not_allowed")
    // another shop's storefront is not this shop's
    expect((await preflight("https://other-shop.myshopify.com")).status).toBe(403)
  })

  it("a POST from a foreign origin is 403 without CORS headers and publishes nothing", async () => {
    const before = stack.published.length
    const res = await post(touchpoint(), { origin: "https://evil.example.net" })
    expect(res.status).toBe(403)
    expect(res.headers.get("access-control-allow-origin")).toBeNull()
    expect(stack.published.length).toBe(before)
  })

  it("a sendBeacon (text/plain) touchpoint is 202 with CORS for the storefront, and recorded with its personal data sealed", async () => {
    const t = touchpoint()
    const res = await post(t, { origin: CUSTOM_DOMAIN, contentType: "text/plain;charset=UTF-8" })
    expect(res.status).toBe(202)
    expect(res.headers.get("access-control-allow-origin")).toBe(CUSTOM_DOMAIN)
    await stack.awaitStreamCount(`touchpoints-${SHOP}`, 1)
    const [recorded] = (await stack.events({ streamPrefix: `touchpoints-${SHOP}` })).filter((e) => e.data["event_id"] === t.event_id)
    expect(recorded!.type).toBe("touchpoint.recorded")
    expect(recorded!.data).toMatchObject({
      event: "page_view",
      occurred_at: "2026-03-01T12:00:00.000Z",
      page: { host: SHOP, path: "/products/boots" },
      referrer_host: "www.google.com",
      utm: { source: "google", medium: "cpc", campaign: "spring-sale", term: null, content: null },
      click_id_kinds: ["gclid"],
      subject: "customer:7412983",
      identifying: { sealed: 1, subject: "customer:7412983" }
    })
    // Nothing identifying is readable anywhere in the event store: the URL's query, the
    // referrer's search, the click id, client and session ids. The customer id is in clear
    // only as the `subject` naming the key it was sealed under.
    const everything = await stack.allEventText()
    for (const secret of ["alice", "SECRETCODE", "GCLID-VALUE-123", "client-abc-999", "session-def-888"]) {
      expect(everything, secret).not.toContain(secret)
    }
    const { identifying, subject: _subject, ...clear } = recorded!.data
    expect(JSON.stringify(clear)).not.toContain("7412983")
    // The sealed part opens to the identifiers, until the customer's key is shredded.
    const opened = await stack.run(PiiVault.use((v) => v.open(SHOP, identifying as Sealed)))
    expect(Option.getOrNull(opened)).toEqual({
      url: t.url,
      referrer: t.referrer,
      click_ids: t.click_ids,
      client_id: t.client_id,
      session_id: t.session_id,
      customer_id: "7412983"
    })
    await stack.run(PiiVault.use((v) => v.shred(SHOP, "customer:7412983")))
    expect(Option.isNone(await stack.run(PiiVault.use((v) => v.open(SHOP, identifying as Sealed))))).toBe(true)
  })

  it("an anonymous touchpoint is sealed under the shop's key; a re-sent event id is recorded once", async () => {
    const t = touchpoint({ customer_id: null, event: "add_to_cart" })
    expect((await post(t, { origin: `https://${SHOP}` })).status).toBe(202)
    expect((await post(t, { origin: `https://${SHOP}` })).status).toBe(202)
    const marker = touchpoint({ customer_id: null })
    expect((await post(marker)).status).toBe(202)
    await stack.awaitStreamCount(`touchpoints-${SHOP}`, 3)
    const recorded = await stack.events({ streamPrefix: `touchpoints-${SHOP}` })
    const mine = recorded.filter((e) => e.data["event_id"] === t.event_id)
    expect(mine).toHaveLength(1)
    expect(mine[0]!.data).toMatchObject({ event: "add_to_cart", subject: "shop", identifying: { subject: "shop" } })
    expect(recorded.some((e) => e.data["event_id"] === marker.event_id)).toBe(true)
  })

  it("a message in the log that does not decode (an older ingress's, say) is dead-lettered at once with the reason; its shop moves on", async () => {
    const bad = { shop: SHOP, messageId: "pixel:undecodable", type: "pixel.touchpoint", payload: { ...touchpoint({}), event: "teleported" } }
    const good = touchpoint({ customer_id: null })
    const before = (await stack.events({ streamPrefix: `touchpoints-${SHOP}` })).length
    await stack.run(ShopLog.use((log) => log.publish(bad)))
    expect((await post(good, { origin: `https://${SHOP}` })).status).toBe(202)
    await stack.awaitStreamCount(`deadletters-${SHOP}`, 1)
    const dead = await stack.run(Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      return yield* sql<{ error: string; attempts: number; permanent: boolean }>`
        SELECT error, attempts, permanent FROM dead_letters WHERE shop = ${SHOP} AND message_id = 'pixel:undecodable'`
    }))
    expect(dead).toHaveLength(1)
    expect(dead[0]).toMatchObject({ attempts: 1, permanent: true })
    expect(dead[0]!.error).toMatch(/pixel\.touchpoint payload does not fit its schema/)
    expect(dead[0]!.error).toMatch(/event/)
    // the shop moved on: the good touchpoint, published after, is recorded; the bad one never is
    await stack.awaitStreamCount(`touchpoints-${SHOP}`, before + 1)
    const recorded = await stack.events({ streamPrefix: `touchpoints-${SHOP}` })
    expect(recorded.some((e) => e.data["event_id"] === good.event_id)).toBe(true)
    expect(recorded.some((e) => e.data["event_id"] === bad.payload.event_id)).toBe(false)
  })

  it("5 KB is 413, another content type 415, broken JSON 400, an invalid touchpoint 400 with its paths; nothing published", async () => {
    const before = stack.published.length
    const big = await post(touchpoint({ url: `https://${SHOP}/?q=${"x".repeat(5 * 1024)}` }), { origin: `https://${SHOP}` })
    expect(big.status).toBe(413)
    expect((await big.json() as ProblemBody).error.code).toBe("payload_too_large")
    expect((await post(null, { contentType: "application/x-www-form-urlencoded", raw: "a=1" })).status).toBe(415)
    const broken = await post(null, { raw: "{\"shop\":" })
    expect(broken.status).toBe(400)
    expect((await broken.json() as ProblemBody).error.code).toBe("malformed_json")
    const invalid = await post(touchpoint({ event: "hover", event_id: "not-a-uuid" }), { origin: `https://${SHOP}` })
    expect(invalid.status).toBe(400)
    expect(invalid.headers.get("access-control-allow-origin")).toBe(`https://${SHOP}`)
    const details = (await invalid.json() as ProblemBody).error.details as { errors: Array<{ path: string }> }
    expect(details.errors.map((e) => e.path).sort()).toEqual(["event", "event_id"])
    expect((await post(touchpoint(), { query: "?shop=someone-else.myshopify.com" })).status).toBe(400)
    expect(stack.published.length).toBe(before)
  })

  it("an unknown shop is 401 unknown_shop", async () => {
    const res = await post(touchpoint({ shop: "stranger.myshopify.com" }), { origin: "https://stranger.myshopify.com" })
    expect(res.status).toBe(401)
    expect((await res.json() as ProblemBody).error.code).toBe("unknown_shop")
    expect(res.headers.get("access-control-allow-origin")).toBeNull()
  })

  it("past the shop's burst, touchpoints are 429 with Retry-After until the bucket refills", async () => {
    const send = () => post(touchpoint({ shop: LIMITED, url: `https://${LIMITED}/` }), { target: limitedStack, origin: `https://${LIMITED}` })
    for (let i = 0; i < 3; i++) expect((await send()).status).toBe(202)
    const limited = await send()
    expect(limited.status).toBe(429)
    expect(limited.headers.get("retry-after")).toBe("10")
    expect(limited.headers.get("access-control-allow-origin")).toBe(`https://${LIMITED}`)
    expect((await limited.json() as ProblemBody).error.code).toBe("rate_limited")
    clock += 9_000
    expect((await send()).status).toBe(429)
    clock += 1_000
    expect((await send()).status).toBe(202)
    expect((await send()).status).toBe(429)
  })
})
