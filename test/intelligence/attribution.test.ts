/**
 * Attribution end to end (issue 13 §2, §6): pixel touchpoints and a Shopify order go through the
 * shop log to the shop's actor, the `attribution` projection stitches the journey (a signed-in
 * visit joins the visitor's earlier anonymous touch), and the admin API answers the seven models
 * side by side with the numbers worked out by hand below. The attributed order becomes a
 * `sales.attribution_computed` trigger that fires a rule of the decision plane — once, also
 * after a second round.
 */
import { Effect, Stream } from "effect"
import { SqlClient } from "effect/sql"
import { randomUUID } from "node:crypto"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import * as PgAttributionOutbox from "../../adapters/postgres/PgAttributionOutbox.ts"
import { encodeShopMessage } from "../../domain/messages/ShopMessages.ts"
import { EventStore } from "../../src/eventstore/EventStore.ts"
import { emitAttributionTriggers } from "../../src/intelligence/AttributionTriggers.ts"
import { ShopLog } from "../../src/shoplog/ShopLog.ts"
import { cliEnv, runCli } from "../cli/support.ts"
import { type AdminApi, type AdminServer, sessionFor, startAdminApi } from "../support/adminApi.ts"

const SHOP = "attr.myshopify.com"
const HOUR = 3_600_000
const DAY = 24 * HOUR
const NOW = Date.now()
const at = (ms: number) => new Date(NOW - ms).toISOString()

let api: AdminApi
let server: AdminServer
const owner = () => sessionFor(SHOP, "owner-1")

const publish = (messageId: string, type: "shopify.webhook" | "pixel.touchpoint", payload: unknown) =>
  api.run(ShopLog.use((l) => l.publish({ shop: SHOP, messageId, correlationId: messageId, ...encodeShopMessage({ type, payload } as never) })))

const touch = (ago: number, extra: Record<string, unknown>) => {
  const id = randomUUID()
  return publish(`pixel:${id}`, "pixel.touchpoint", {
    shop: SHOP, event: "page_view", event_id: id, occurred_at: at(ago), url: `https://${SHOP}/products/hat`, ...extra
  })
}

const emitRound = () => api.run(emitAttributionTriggers({ recentMs: DAY }).pipe(Effect.provide(PgAttributionOutbox.layer)))

const touchesRecorded = (n: number) =>
  api.awaitEvents([`touchpoints-${SHOP}`], (events) => events.filter((e) => e.type === "touchpoint.recorded").length >= n)

beforeAll(async () => {
  api = await startAdminApi({ knownShops: [SHOP], automationActors: true })
  server = await api.serveAdmin()
  await api.setMember(SHOP, "owner-1", "owner")
  // customer 501's journey: e-mail, then an anonymous Meta ad click by a visitor who signs in
  // later from Google, then a Google ad click; internal navigation is no touch
  await touch(10 * DAY, { utm: { source: "newsletter", medium: "email" }, client_id: "c-501", customer_id: "501" })
  await touch(5 * DAY, { click_ids: { fbclid: "fb-1" }, client_id: "c-anon" })
  await touch(3 * DAY, { referrer: "https://www.google.com/", client_id: "c-anon", customer_id: "501" })
  await touch(HOUR, { click_ids: { gclid: "g-1" }, client_id: "c-501", customer_id: "501" })
  await touch(HOUR - 60_000, { referrer: `https://${SHOP}/`, client_id: "c-501", customer_id: "501" })
  // visits that did not convert
  await touch(2 * DAY, { utm: { source: "partnerblog" }, client_id: "c-partner" })
  await touch(2 * DAY, { click_ids: { fbclid: "fb-2" }, client_id: "c-meta2" })
  await touchesRecorded(7)
  await publish("order-9001", "shopify.webhook", {
    topic: "orders/create",
    payload: {
      id: 9001, name: "#9001", total_price: "100.00", currency: "EUR", processed_at: at(60_000), created_at: at(60_000), updated_at: at(60_000),
      customer: { id: 501 }, line_items: [], landing_site: "/?gclid=g-1", referring_site: "https://www.google.com/"
    }
  })
  // a guest order without pixel touches: its landing visit is its journey (an unmapped utm_source is its own channel)
  await publish("order-9002", "shopify.webhook", {
    topic: "orders/create",
    payload: {
      id: 9002, name: "#9002", total_price: "40.00", currency: "EUR", processed_at: at(30_000), created_at: at(30_000), updated_at: at(30_000),
      customer: null, line_items: [], landing_site: "/products/hat?utm_source=podcast", referring_site: ""
    }
  })
  // its payment, later: the same conversion, counted once
  await publish("order-9001-paid", "shopify.webhook", {
    topic: "orders/paid",
    payload: {
      id: 9001, name: "#9001", total_price: "100.00", currency: "EUR", processed_at: at(60_000), created_at: at(60_000), updated_at: at(20_000),
      customer: { id: 501 }, line_items: [], landing_site: "/?gclid=g-1", referring_site: "https://www.google.com/", financial_status: "paid"
    }
  })
  await api.awaitEvents([`order-${SHOP}-9001`, `order-${SHOP}-9002`], (events) => events.length >= 3)
  await api.awaitProjections()
})

afterAll(async () => {
  await api?.close()
})

describe("attribution", () => {
  it("the seven models side by side, by hand: one stitched four-touch journey and one landing visit", async () => {
    const res = await api.call(server, "GET", "/app/attribution", owner())
    expect(res.status, res.text).toBe(200)
    const body = res.json
    expect([body.conversions, body.revenue, body.currency]).toEqual([2, 140, "EUR"])
    const m = body.models
    const c = (conversions: number, revenue: number) => ({ conversions, revenue })
    expect(m.first_touch).toEqual({ email: c(1, 100), podcast: c(1, 40) })
    expect(m.last_touch).toEqual({ paid_search_google: c(1, 100), podcast: c(1, 40) })
    expect(m.linear).toEqual({ email: c(0.25, 25), organic_search: c(0.25, 25), paid_search_google: c(0.25, 25), paid_social_meta: c(0.25, 25), podcast: c(1, 40) })
    // 40 % first, 40 % last, 20 % over the two middle touches
    expect(m.position_based).toEqual({ email: c(0.4, 40), organic_search: c(0.1, 10), paid_search_google: c(0.4, 40), paid_social_meta: c(0.1, 10), podcast: c(1, 40) })
    // time decay: 2^(−Δt/7d) for Δt = 10 d, 5 d, 3 d, 1 h − 1 min (the order came a minute after the last touch… less one minute of the hour)
    const w = { email: 2 ** (-(10 * DAY - 60_000) / (7 * DAY)), paid_social_meta: 2 ** (-(5 * DAY - 60_000) / (7 * DAY)), organic_search: 2 ** (-(3 * DAY - 60_000) / (7 * DAY)), paid_search_google: 2 ** (-(HOUR - 60_000) / (7 * DAY)) }
    const total = Object.values(w).reduce((a, b) => a + b, 0)
    for (const [channel, weight] of Object.entries(w)) expect(m.time_decay[channel].conversions).toBeCloseTo(weight / total, 5)
    // Shapley: the converting set is all four channels together: by symmetry a quarter each
    for (const ch of ["email", "organic_search", "paid_search_google", "paid_social_meta"]) expect(m.shapley[ch].conversions).toBeCloseTo(0.25, 9)
    expect(m.shapley.podcast.conversions).toBeCloseTo(1, 9)
    // Markov: every model's credits sum to the conversions; partnerblog, only on a visit that did not convert, gets none
    for (const model of Object.keys(m)) {
      const sum = Object.values(m[model] as Record<string, { conversions: number }>).reduce((s, x) => s + x.conversions, 0)
      expect(sum, model).toBeCloseTo(2, 5)
    }
    expect(m.markov.partnerblog).toBeUndefined()
    expect(m.markov.paid_social_meta.conversions).toBeGreaterThan(0)
    // day by day (the admin's "over time" chart): the five per-journey models, each day's sums adding up to the period's
    const daily = body.daily as ReadonlyArray<{ day: string; model: string; channel: string; conversions: number; revenue: number }>
    expect([...new Set(daily.map((d) => d.model))].sort()).toEqual(["first_touch", "last_touch", "linear", "position_based", "time_decay"])
    for (const d of daily) expect(d.day >= body.from && d.day <= body.to, d.day).toBe(true)
    for (const model of ["first_touch", "last_touch", "linear", "position_based", "time_decay"]) {
      const days = daily.filter((d) => d.model === model)
      expect(days.reduce((s, d) => s + d.revenue, 0), model).toBeCloseTo(140, 5)
      expect(days.reduce((s, d) => s + d.conversions, 0), model).toBeCloseTo(2, 5)
      // and per channel, what the period's table says
      for (const [channel, credit] of Object.entries(m[model] as Record<string, { revenue: number }>)) {
        expect(days.filter((d) => d.channel === channel).reduce((s, d) => s + d.revenue, 0), `${model} ${channel}`).toBeCloseTo(credit.revenue, 5)
      }
    }
  })

  it("one order: its journey and its shares under every model", async () => {
    const res = await api.call(server, "GET", "/app/attribution/orders/9001", owner())
    expect(res.status, res.text).toBe(200)
    expect(res.json.touches.map((t: { channel: string }) => t.channel)).toEqual(["email", "paid_social_meta", "organic_search", "paid_search_google"])
    expect(res.json.models.position_based).toEqual({ email: 0.4, paid_social_meta: 0.1, organic_search: 0.1, paid_search_google: 0.4 })
    const markov = res.json.models.markov as Record<string, number>
    expect(Object.values(markov).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5)
    expect((await api.call(server, "GET", "/app/attribution/orders/777", owner())).status).toBe(404)
  })

  it("the touches an order's journey used are marked with it; the rest are the non-converting journeys", async () => {
    const rows = await api.run(Effect.flatMap(SqlClient.SqlClient, (sql) =>
      sql<{ channel: string; order_id: string | null }>`SELECT channel, order_id FROM attribution_touches WHERE shop = ${SHOP} ORDER BY at, channel`))
    expect(rows.map((r) => [r.channel, r.order_id])).toEqual([
      ["email", "9001"],
      ["paid_social_meta", "9001"],
      ["organic_search", "9001"],
      ["paid_social_meta", null],
      ["partnerblog", null],
      ["paid_search_google", "9001"]
    ])
  })

  it("sumeru attribution export: one CSV line per order × model × channel, as the read model has it", async () => {
    const day = (ms: number) => new Date(ms).toISOString().slice(0, 10)
    const out = await runCli(["attribution", "export", "--shop", SHOP, "--from", day(NOW - DAY), "--to", day(NOW + DAY)], cliEnv({ url: api.databaseUrl }))
    expect(out.code, out.stderr).toBe(0)
    const lines = out.stdout.trim().split("\n")
    expect(lines[0]).toBe("order_id,converted_at,currency,revenue,model,channel,share,revenue_credit")
    // 9001: 1 + 1 + 4 + 4 + 4 channel lines over the five models; 9002: one line per model
    expect(lines.filter((l) => l.startsWith("9001,"))).toHaveLength(14)
    expect(lines.filter((l) => l.startsWith("9002,"))).toHaveLength(5)
    expect(lines).toContain(`9001,${new Date(NOW - 60_000).toISOString()},EUR,100,position_based,paid_social_meta,0.1,10`)
    const bad = await runCli(["attribution", "export", "--shop", SHOP, "--from", "2026-02-30", "--to", "x"], cliEnv({ url: api.databaseUrl }))
    expect(bad.code).toBe(1)
    expect(bad.stderr).toContain("--from must be a date")
    expect(bad.stderr).toContain("--to must be a date")
  })

  it("a bad period is a 400 naming every problem", async () => {
    const res = await api.call(server, "GET", "/app/attribution?from=2026-13-01&to=yesterday", owner())
    expect(res.status).toBe(400)
    expect(res.text).toContain("from must be a date")
    expect(res.text).toContain("to must be a date")
    const reversed = await api.call(server, "GET", "/app/attribution?from=2026-12-05&to=2026-12-01", owner())
    expect([reversed.status, reversed.text.includes("from must not be after to")]).toEqual([400, true])
  })

  it("each attributed order emits sales.attribution_computed once, and a rule fires on it", async () => {
    const ruleId = await api.parkingRule(server, owner(), "Paid search orders", "sales.attribution_computed", "resource.payload.credits['paid_search_google'] >= 0.4")
    expect(await emitRound()).toBe(2)
    expect(await emitRound()).toBe(0)
    await api.awaitEvents([`triggers-${SHOP}`], (events) => events.filter((e) => e.type === "trigger.received").length >= 2)
    await api.awaitProjections()
    const byResource = Object.fromEntries(await api.executionStatuses(server, owner(), ruleId))
    // order 9001 had 40 % paid search: parked for approval; 9002 had none: skipped by the condition
    expect(byResource["9001"]).toBe("awaiting_approval")
    expect(byResource["9002"]).toBe("skipped")
    const triggers = await api.run(Effect.flatMap(EventStore, (s) => Stream.runCollect(s.readStream(`triggers-${SHOP}`))))
    expect([...triggers].filter((e) => e.type === "trigger.received")).toHaveLength(2)
  })
})
