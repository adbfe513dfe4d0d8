/**
 * `POST /api/v1/events` end to end: real HTTP, real API keys, the shop actors recording the
 * events on PostgreSQL 15, with the embedded shop log and with JetStream.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { ApiKeys } from "../../src/access/ApiKeys.ts"
import { adSpend } from "./fixtures.ts"
import { type IngestStack, startIngestStack } from "./support.ts"

const SHOP = "ingest-test.myshopify.com"
const OTHER = "ingest-other.myshopify.com"

interface ProblemBody {
  readonly error: { readonly code: string; readonly message: string; readonly details?: unknown }
}

for (const log of ["embedded", "jetstream"] as const) describe(`public ingest API (${log} shop log)`, () => {
  let stack: IngestStack
  let key: string
  let run = 0
  /** Idempotency keys unique to this suite run (JetStream keeps its dedupe window across suites). */
  const k = (name: string) => `${log}-${run}-${name}`

  beforeAll(async () => {
    run = Date.now()
    stack = await startIngestStack({ log })
    key = (await stack.createKey(SHOP, ["events:write"])).key
  }, 120_000)

  afterAll(async () => {
    await stack?.close()
  })

  const publishedFor = (shop: string) => stack.published.filter((m) => m.shop === shop).length

  it("a valid batch is 202 after every event is durable; the actor records each event once, typed, on its stream", async () => {
    const batch = [
      adSpend(k("spend-1")),
      adSpend(k("spend-2"), { campaign_id: "cmp-2", spend: 7 }),
      {
        idempotency_key: k("rank-1"), type: "seo_ranking", occurred_at: "2026-03-01T00:00:00Z",
        keyword: "winter boots", url: "https://shop.example.com/boots", position: 2, search_engine: "google", date: "2026-03-01"
      },
      { idempotency_key: k("custom-1"), type: "custom", occurred_at: "2026-03-01T00:00:00Z", name: "review_posted", properties: { stars: 5 } }
    ]
    const res = await stack.sendEvents(key, { events: batch })
    expect(res.status).toBe(202)
    expect(await res.json()).toEqual({ accepted: 4 })
    const { keyId } = (await stack.run(ApiKeys.use((a) => a.list(SHOP))))[0]!
    await stack.awaitStreamCount(`external-${SHOP}-ad_spend`, 2)
    await stack.awaitStreamCount(`external-${SHOP}-seo_ranking`, 1)
    await stack.awaitStreamCount(`external-${SHOP}-custom`, 1)
    const stored = await stack.events({ streamPrefix: `external-${SHOP}-` })
    expect(stored.map((e) => [e.stream_id, e.type]).sort()).toEqual([
      [`external-${SHOP}-ad_spend`, "ad_spend.recorded"],
      [`external-${SHOP}-ad_spend`, "ad_spend.recorded"],
      [`external-${SHOP}-custom`, "custom_event.recorded"],
      [`external-${SHOP}-seo_ranking`, "seo_ranking.recorded"]
    ])
    const spend2 = stored.find((e) => e.data["idempotency_key"] === k("spend-2"))!
    expect(spend2.data).toMatchObject({ type: "ad_spend", spend: "7", currency: "EUR", source_key_id: keyId, occurred_at: "2026-03-02T05:00:00.000Z" })
  })

  it("the same batch again is accepted and records nothing new; a new key in the next batch is recorded", async () => {
    const batch = [adSpend(k("again-1")), adSpend(k("again-2"))]
    expect((await stack.sendEvents(key, { events: batch })).status).toBe(202)
    await stack.awaitStreamCount(`external-${SHOP}-ad_spend`, 4)
    expect((await stack.sendEvents(key, { events: batch })).status).toBe(202)
    // A later event of the same shop: once it is recorded, the repeat before it was handled.
    expect((await stack.sendEvents(key, { events: [adSpend(k("after-repeat"))] })).status).toBe(202)
    await stack.awaitStreamCount(`external-${SHOP}-ad_spend`, 5)
    const keys = (await stack.events({ streamPrefix: `external-${SHOP}-ad_spend` })).map((e) => e.data["idempotency_key"])
    expect(keys.filter((x) => x === k("again-1"))).toHaveLength(1)
    expect(keys.filter((x) => x === k("again-2"))).toHaveLength(1)
    expect(keys).toHaveLength(5)
  })

  it("a conversion's customer and order ids are sealed under the customer's key; a clear subject names the customer", async () => {
    const conversion = {
      idempotency_key: k("conv-1"), type: "conversion", occurred_at: "2026-03-01T00:00:00Z",
      name: "phone_order", value: "99.00", currency: "USD", order_id: "ORDER-SECRET-77", customer_id: "55501"
    }
    expect((await stack.sendEvents(key, { events: [conversion] })).status).toBe(202)
    await stack.awaitStreamCount(`external-${SHOP}-conversion`, 1)
    const [stored] = await stack.events({ streamPrefix: `external-${SHOP}-conversion` })
    expect(stored!.data).toMatchObject({ name: "phone_order", value: "99.00", subject: "customer:55501", identifying: { sealed: 1, subject: "customer:55501" } })
    expect(stored!.data).not.toHaveProperty("customer_id")
    expect(await stack.allEventText()).not.toContain("ORDER-SECRET-77")
  })

  it("1,001 events are refused whole (400) and nothing is published", async () => {
    const before = publishedFor(SHOP)
    const events = Array.from({ length: 1001 }, (_, i) => adSpend(k(`big-${i}`)))
    const res = await stack.sendEvents(key, { events })
    expect(res.status).toBe(400)
    const body = await res.json() as ProblemBody
    expect(body.error.code).toBe("invalid_input")
    expect(body.error.details).toMatchObject({ errors: [{ path: "events" }] })
    expect(publishedFor(SHOP)).toBe(before)
  })

  it("one invalid event among many refuses the batch with its index and errors; nothing is published", async () => {
    const before = publishedFor(SHOP)
    const events = Array.from({ length: 50 }, (_, i) => adSpend(k(`mixed-${i}`)))
    events[17] = adSpend(k("mixed-17"), { currency: "EURO", spend: "-1" })
    const res = await stack.sendEvents(key, { events })
    expect(res.status).toBe(400)
    const body = await res.json() as ProblemBody
    expect(body.error.message).toContain("nothing was accepted")
    const details = body.error.details as { events: Array<{ index: number; errors: Array<{ path: string }> }> }
    expect(details.events.map((e) => e.index)).toEqual([17])
    expect(details.events[0]!.errors.map((e) => e.path).sort()).toEqual(["currency", "spend"])
    expect(publishedFor(SHOP)).toBe(before)
    // and a valid retry of the same batch records all 50
    events[17] = adSpend(k("mixed-17"))
    expect((await stack.sendEvents(key, { events })).status).toBe(202)
  })

  it("bad transport: 415 not JSON, 413 over 1 MB, 400 malformed JSON; each a typed error body", async () => {
    const before = publishedFor(SHOP)
    const form = await stack.sendEvents(key, null, { contentType: "application/x-www-form-urlencoded", raw: "events=1" })
    expect(form.status).toBe(415)
    expect((await form.json() as ProblemBody).error.code).toBe("unsupported_media_type")
    const huge = await stack.sendEvents(key, null, { raw: JSON.stringify({ events: [{ pad: "x".repeat(1024 * 1024) }] }) })
    expect(huge.status).toBe(413)
    expect((await huge.json() as ProblemBody).error.code).toBe("payload_too_large")
    const broken = await stack.sendEvents(key, null, { raw: "{\"events\": [" })
    expect(broken.status).toBe(400)
    expect((await broken.json() as ProblemBody).error.code).toBe("malformed_json")
    expect(publishedFor(SHOP)).toBe(before)
  })

  it("401 without a key, for an unknown, malformed, revoked or other shop's key; X-Api-Key works too", async () => {
    const body = { events: [adSpend(k("auth-1"))] }
    const missing = await stack.sendEvents(null, body)
    expect(missing.status).toBe(401)
    expect(missing.headers.get("www-authenticate")).toContain("Bearer")
    expect((await missing.json() as ProblemBody).error.code).toBe("unauthorized")
    expect((await stack.sendEvents("sk_000000000000_" + "A".repeat(43), body)).status).toBe(401)
    expect((await stack.sendEvents("garbage", body)).status).toBe(401)
    const other = await stack.createKey(OTHER, ["events:write"])
    const mine = await stack.createKey(SHOP, ["events:write"])
    const otherSecret = other.key.slice(`sk_${other.keyId}_`.length)
    expect((await stack.sendEvents(`sk_${mine.keyId}_${otherSecret}`, body)).status).toBe(401)
    const viaHeader = await stack.sendEvents(null, body, { headers: { "x-api-key": mine.key } })
    expect(viaHeader.status).toBe(202)
    await stack.run(ApiKeys.use((a) => a.revoke(SHOP, mine.keyId)))
    const revoked = await stack.sendEvents(mine.key, { events: [adSpend(k("auth-2"))] })
    expect(revoked.status).toBe(401)
    expect((await revoked.json() as ProblemBody).error.message).toContain("revoked")
  })

  it("403 for a key without events:write; a role that includes it is enough", async () => {
    const before = publishedFor(SHOP)
    const reader = await stack.createKey(SHOP, ["events:read"])
    const res = await stack.sendEvents(reader.key, { events: [adSpend(k("scope-1"))] })
    expect(res.status).toBe(403)
    expect((await res.json() as ProblemBody).error).toMatchObject({ code: "forbidden", message: expect.stringContaining("events:write") })
    const viewer = await stack.createKey(SHOP, [], "viewer")
    expect((await stack.sendEvents(viewer.key, { events: [adSpend(k("scope-2"))] })).status).toBe(403)
    expect(publishedFor(SHOP)).toBe(before)
    const admin = await stack.createKey(SHOP, [], "admin")
    expect((await stack.sendEvents(admin.key, { events: [adSpend(k("scope-3"))] })).status).toBe(202)
  })

  it("429 with Retry-After past 120 requests a minute per key (nothing published); another key is unaffected; the bucket refills", async () => {
    const shop = "ingest-busy.myshopify.com"
    const busy = (await stack.createKey(shop, ["events:write"])).key
    const other = (await stack.createKey(shop, ["events:write"])).key
    for (let i = 0; i < 120; i++) expect((await stack.sendEvents(busy, { events: [adSpend(k(`busy-${i}`))] })).status).toBe(202)
    const before = publishedFor(shop)
    const refused = await stack.sendEvents(busy, { events: [adSpend(k("busy-over"))] })
    expect(refused.status).toBe(429)
    expect(refused.headers.get("retry-after")).toBe("1")
    expect((await refused.json() as ProblemBody).error.code).toBe("rate_limited")
    expect(publishedFor(shop)).toBe(before)
    expect((await stack.sendEvents(other, { events: [adSpend(k("other-1"))] })).status).toBe(202)
    stack.ingestClock.now += 500 // one request's worth of tokens comes back every 0.5 s
    expect((await stack.sendEvents(busy, { events: [adSpend(k("busy-later"))] })).status).toBe(202)
  })

  it("503 when the shop log cannot take the events; the retry succeeds and records each event once", async () => {
    const shop = "ingest-down.myshopify.com"
    const downKey = (await stack.createKey(shop, ["events:write"])).key
    const batch = { events: [adSpend(k("down-1")), adSpend(k("down-2"))] }
    stack.failingShops.add(shop)
    const res = await stack.sendEvents(downKey, batch)
    expect(res.status).toBe(503)
    expect(res.headers.get("retry-after")).toBe("5")
    expect((await res.json() as ProblemBody).error.code).toBe("unavailable")
    stack.failingShops.delete(shop)
    expect((await stack.sendEvents(downKey, batch)).status).toBe(202)
    await stack.awaitStreamCount(`external-${shop}-ad_spend`, 2)
    expect(await stack.events({ streamPrefix: `external-${shop}-` })).toHaveLength(2)
  })
})
