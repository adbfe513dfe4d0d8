/**
 * The site audit end to end (issue 13 §1, §3): a `seo.audit_run` in the shop's actor sets the
 * daily timer and, after the commit, crawls the storefront simulator over HTTP (robots.txt,
 * sitemaps, bounded concurrency) and scores every page by the rubric; the audit is recorded and
 * becomes `seo.audit_completed` and `seo.broken_links_found` — a rule fires on the broken link.
 * A second audit after a page got worse reports `seo.score_dropped` for it, and does not report
 * the same broken link again.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { encodeShopMessage } from "../../domain/messages/ShopMessages.ts"
import { ShopLog } from "../../src/shoplog/ShopLog.ts"
import { type RunningStorefrontSimulator, startStorefrontSimulator } from "../../src/simulator/storefront/index.ts"
import { type AdminApi, type AdminServer, sessionFor, startAdminApi } from "../support/adminApi.ts"

const SHOP = "audit.myshopify.com"
let api: AdminApi
let server: AdminServer
let store: RunningStorefrontSimulator
const owner = () => sessionFor(SHOP, "owner-1")
let runs = 0

const audit = () => {
  const id = `audit-${runs++}`
  return api.run(ShopLog.use((l) => l.publish({ shop: SHOP, messageId: id, correlationId: id, ...encodeShopMessage({ type: "seo.audit_run", payload: { origin: store.origin } }) })))
}
const auditTriggers = async () => (await api.receivedTriggers(SHOP)).filter((t) => t.event.startsWith("seo."))
const untilTrigger = (event: string, n = 1) =>
  api.awaitEvents([`triggers-${SHOP}`], (events) => events.filter((e) => JSON.stringify(e.data).includes(`"${event}"`)).length >= n)

beforeAll(async () => {
  store = await startStorefrontSimulator({})
  api = await startAdminApi({ knownShops: [SHOP], automationActors: true })
  server = await api.serveAdmin()
  await api.setMember(SHOP, "owner-1", "owner")
})

afterAll(async () => {
  await api?.close()
  await store?.stop()
})

describe("the site audit", () => {
  it("scores the storefront, reports the broken link once and a page whose score dropped; a rule fires", async () => {
    const ruleId = await api.parkingRule(server, owner(), "Broken links", "seo.broken_links_found")
    await audit()
    await untilTrigger("seo.broken_links_found")
    await api.awaitProjections()
    const first = await auditTriggers()
    const completed = first.find((t) => t.event === "seo.audit_completed")!
    expect(completed.pagesCrawled).toBeGreaterThan(10)
    expect(completed.score).toBeGreaterThan(50)
    expect(completed.score).toBeLessThan(100)
    // the weakest page first: the discontinued product answers 404
    expect(completed.resources[0]).toMatchObject({ resourceId: `${store.origin}/products/discontinued`, payload: { score: 0, issues: ["http_status:404"] } })
    const mug = completed.resources.find((r) => r.resourceId === `${store.origin}/products/ceramic-mug`)!
    expect(mug.payload["issues"]).toContain("meta_description_missing")
    const broken = first.find((t) => t.event === "seo.broken_links_found")!
    expect(broken.resources).toEqual([{ resourceType: "url", resourceId: "/products/discontinued", payload: { path: "/products/discontinued", status: 404, linkedFrom: [`${store.origin}/products/linen-throw`] } }])
    expect(await api.executionStatuses(server, owner(), ruleId)).toEqual([["/products/discontinued", "awaiting_approval"]])
    // robots.txt was honoured: no disallowed path was requested
    expect(store.requests.entries.filter((r) => /^\/(cart|checkouts|account|search|admin)/.test(r.path))).toEqual([])

    // the hat's page loses its title and description: a second audit reports the drop, not the link again
    store.setPage("/products/wool-hat", "<html><head></head><body><h1>Merino Wool Hat</h1><p>Warm.</p></body></html>")
    await audit()
    await untilTrigger("seo.score_dropped")
    const all = await auditTriggers()
    const dropped = all.find((t) => t.event === "seo.score_dropped")!
    expect(dropped.resources.map((r) => r.resourceId)).toEqual([`${store.origin}/products/wool-hat`])
    expect(dropped.resources[0]!.payload["dropPoints"]).toBeGreaterThanOrEqual(35)
    expect(all.map((t) => t.event)).toEqual(["seo.audit_completed", "seo.broken_links_found", "seo.audit_completed", "seo.score_dropped"])
  })
})
