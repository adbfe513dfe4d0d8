/**
 * The next best actions (issue 13 §5) over the admin API: what the detectors reported in the last
 * 30 days (triggers emitted to the shop's actor) becomes a ranked list of suggested rules — money
 * at stake first, then clicks, then things to fix — each with its evidence and the decision
 * plane's backtest of the suggested rule; a finding the shop already has a rule for is not
 * suggested. Accepting one creates the rule disabled; a parameter only the merchant can give is
 * asked for with a 400 that names it.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type AdminApi, type AdminServer, sessionFor, startAdminApi } from "../support/adminApi.ts"

const SHOP = "recs.myshopify.com"
let api: AdminApi
let server: AdminServer
const owner = () => sessionFor(SHOP, "owner-1")
const emit = async (event: string, body: Record<string, unknown>) => {
  const res = await api.call(server, "POST", `/app/triggers/${event}/emit`, owner(), body)
  expect(res.status, res.text).toBe(202)
}

beforeAll(async () => {
  api = await startAdminApi({ knownShops: [SHOP], automationActors: true })
  server = await api.serveAdmin()
  await api.setMember(SHOP, "owner-1", "owner")
  await api.onProPlan(SHOP)
  // the shop already redirects broken links: that finding needs no suggestion
  const rule = await api.call(server, "POST", "/app/rules", owner(), { name: "Redirect", trigger_event: "seo.broken_links_found", action_key: "create_url_redirect", params: { target: "/" }, enabled: true })
  expect(rule.status, rule.text).toBe(201)
  const at = new Date().toISOString()
  await emit("mc.product_disapproved", {
    resources: [1, 2].map((i) => ({ resourceType: "product", resourceId: `gid://shopify/Product/${i}`, payload: { offerId: `shopify_US_${i}_9`, destination: "SHOPPING_ADS", issues: [] } }))
  })
  await emit("sales.cart_abandoned_threshold", {
    resources: [["ck-1", 80], ["ck-2", 40]].map(([id, value]) => ({ resourceType: "checkout", resourceId: id, payload: { value, currency: "EUR", abandonedAt: at } })),
    abandoned: 2, threshold: 0, windowMinutes: 60
  })
  await emit("seo.content_decay_detected", {
    resources: [{ resourceType: "article", resourceId: "https://shop.example/blogs/news/a", payload: { dropPct: 40, priorClicks: 500, nowClicks: 300 } }], baselineDays: 14
  })
  await emit("seo.broken_links_found", { resources: [{ resourceType: "url", resourceId: "/gone", payload: { path: "/gone", status: 404, linkedFrom: ["/"] } }], auditId: "a-1" })
  await api.awaitEvents([`triggers-${SHOP}`], (events) => events.filter((e) => e.type === "trigger.received").length >= 4)
})

afterAll(async () => {
  await api?.close()
})

describe("recommendations", () => {
  it("ranks the suggested rules by what is at stake, with evidence and a 30-day backtest", async () => {
    const res = await api.call(server, "GET", "/app/recommendations", owner())
    expect(res.status, res.text).toBe(200)
    const recs = res.json.recommendations as Array<{ id: string; impact: { tier: number; value: number; unit: string }; explanation: string; evidence: { resources: number; examples: Array<{ resourceId: string; figure: number }> }; backtest: { fires: number; resources: number }; rule: { needs: string[]; params: Record<string, unknown> } }>
    expect(recs.map((r) => r.id)).toEqual(["rec-sales.cart_abandoned_threshold", "rec-seo.content_decay_detected", "rec-mc.product_disapproved"])
    expect(recs[0]!.impact).toEqual({ tier: 1, value: 120, unit: "EUR" })
    expect(recs[0]!.explanation).toBe("2 checkout(s) worth 120 EUR were left unfinished: remind each customer on the channel they agreed to (WhatsApp, else e-mail).")
    expect(recs[0]!.evidence.examples).toEqual([{ resourceId: "ck-1", figure: 80 }, { resourceId: "ck-2", figure: 40 }])
    expect(recs[1]!.impact).toEqual({ tier: 2, value: 200, unit: "clicks" })
    expect(recs[1]!.rule.needs).toEqual(["recipients"])
    expect(recs[2]!.impact).toEqual({ tier: 3, value: 2, unit: "products" })
    // the suggested rules would have fired on what was found
    expect(recs.map((r) => [r.backtest.fires, r.backtest.resources])).toEqual([[2, 2], [1, 1], [2, 2]])
  })

  it("accepting creates the rule disabled; a parameter only the merchant knows is asked for; then it is no longer suggested", async () => {
    const accepted = await api.call(server, "POST", "/app/recommendations/rec-mc.product_disapproved/accept", owner())
    expect(accepted.status, accepted.text).toBe(201)
    expect(accepted.json.rule).toMatchObject({ name: "Hide disapproved products from Google", trigger_event: "mc.product_disapproved", action_key: "hide_disapproved_product", params: { tag: "mc-disapproved" }, enabled: false })
    const missing = await api.call(server, "POST", "/app/recommendations/rec-seo.content_decay_detected/accept", owner())
    expect(missing.status).toBe(400)
    expect(missing.json.error.errors).toEqual([{ field: "params.recipients", message: "is required" }])
    const given = await api.call(server, "POST", "/app/recommendations/rec-seo.content_decay_detected/accept", owner(), { params: { recipients: ["content@shop.example"] } })
    expect(given.status, given.text).toBe(201)
    expect(given.json.rule.params.recipients).toEqual(["content@shop.example"])
    const after = await api.call(server, "GET", "/app/recommendations", owner())
    expect(after.json.recommendations.map((r: { id: string }) => r.id)).toEqual(["rec-sales.cart_abandoned_threshold"])
    expect((await api.call(server, "POST", "/app/recommendations/rec-nothing/accept", owner())).status).toBe(404)
  })
})
