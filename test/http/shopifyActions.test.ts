/**
 * The decision plane's Shopify actions (issue 11 §4), each run by a rule against the Shopify
 * simulator and undone, over the admin API (PostgreSQL 15, the embedded shop log, the shop
 * actors): `update_seo_meta` on a product and on a page, `create_url_redirect`,
 * `consolidate_cannibalized_page`, `hide_disapproved_product` and `bulk_set_metafield` (a real
 * Flowmend job, and its undo). Each undo restores what the action changed and refuses
 * `changed_since` when someone changed it after the action. (`tag_product`:
 * `executions.test.ts`.)
 */
import { createAdminApiClient } from "@shopify/admin-api-client"
import { Effect } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { EventStore } from "../../src/eventstore/EventStore.ts"
import { jobStateFold } from "../../src/jobs/JobStateFold.ts"
import { type AdminApi, type AdminServer, sessionFor, startAdminApi } from "../support/adminApi.ts"

const SHOP = "actions.myshopify.com"
const ops = () => sessionFor(SHOP, "ops-1")

let api: AdminApi
let server: AdminServer

beforeAll(async () => {
  api = await startAdminApi({ knownShops: [SHOP], automationActors: true })
  server = await api.serveAdmin({ defaultRole: "viewer" })
  await api.setMember(SHOP, "ops-1", "operator")
  await api.onProPlan(SHOP)
})

afterAll(async () => {
  await api?.close()
})

const shop = () => api.sim.shop(SHOP)

/** Someone else changes the shop on Shopify (not through Sumeru). */
const behindTheBack = async (document: string) => {
  const client = createAdminApiClient(api.sim.adminClientOptions(SHOP) as Parameters<typeof createAdminApiClient>[0])
  const res = await client.request(document)
  expect(res.errors).toBeUndefined()
}

/** A rule on `trigger` running `action` with `params`, no condition, no cooldown. */
const rule = async (name: string, trigger: string, action: string, params: Record<string, unknown>) => {
  const res = await api.call(server, "POST", "/app/rules", ops(), {
    name, trigger_event: trigger, action_key: action, params, condition: null, cooldown_seconds: 0, quiet_hours: null, requires_approval: false, enabled: true
  })
  expect(res.status, res.text).toBe(201)
  return res.json.rule.id as string
}

/** Emits `trigger` about `resources`; resolves to the execution of `ruleId` on each resource, once applied (or failed). */
const fire = async (ruleId: string, trigger: string, resources: ReadonlyArray<unknown>, fields: Record<string, unknown> = {}) => {
  const res = await api.call(server, "POST", `/app/triggers/${trigger}/emit`, ops(), { resources, ...fields })
  expect(res.status, res.text).toBe(202)
  const ids = resources.map((_, i) => `${res.json.trigger_id}_${ruleId}_${i}`)
  for (const id of ids) {
    await api.awaitEvents([`autoaction-${SHOP}-${id}`], (events) => events.some((e) => e.type === "autoaction.applied" || e.type === "autoaction.failed"))
  }
  await api.awaitProjections()
  return Promise.all(ids.map(async (id) => (await api.call(server, "GET", `/app/executions/${encodeURIComponent(id)}`, ops())).json.execution))
}

const undo = (id: string, body?: unknown) => api.call(server, "POST", `/app/executions/${encodeURIComponent(id)}/undo`, ops(), body)

describe("the Shopify actions", () => {
  it("update_seo_meta fills its templates on a product and on a page; undo restores both; a later edit is changed_since", async () => {
    const id = await rule("SEO on score drops", "seo.score_dropped", "update_seo_meta", {
      titleTemplate: "{{title}} by {{vendor}} | Shop", descriptionTemplate: "Buy {{title}} — rated {{score}}/100."
    })
    const vendor = shop().product(3).vendor
    const before = shop().productSeo(3)
    const pageBefore = shop().pageSeo(2)
    const [product, page] = await fire(id, "seo.score_dropped", [
      { resourceType: "product", resourceId: "gid://shopify/Product/3", payload: { url: "/products/three", priorScore: 90, score: 61, dropPoints: 29 } },
      { resourceType: "page", resourceId: "gid://shopify/Page/2", payload: { url: "/pages/contact", priorScore: 80, score: 40, dropPoints: 40 } }
    ], { auditId: "audit-1" })
    expect(product.status, product.detail).toBe("applied")
    const title3 = shop().product(3).title
    expect(shop().productSeo(3)).toEqual({ title: `${title3} by ${vendor} | Shop`.slice(0, 70), description: `Buy ${title3} — rated 61/100.` })
    expect(page.status, page.detail).toBe("applied")
    expect(shop().pageSeo(2)).toEqual({ title: `${shop().page(2).title} by | Shop`, description: `Buy ${shop().page(2).title} — rated 40/100.` })

    expect((await undo(product.id)).json.status).toBe("undone")
    expect(shop().productSeo(3)).toEqual(before)
    expect((await undo(page.id)).json.status).toBe("undone")
    expect(shop().pageSeo(2)).toEqual(pageBefore)

    // a merchant edits the SEO title after the action: undo refuses until forced
    const [again] = await fire(id, "seo.score_dropped", [
      { resourceType: "product", resourceId: "gid://shopify/Product/4", payload: { url: "/products/four", priorScore: 90, score: 50, dropPoints: 40 } }
    ], { auditId: "audit-2" })
    await behindTheBack(`mutation { productUpdate(product: { id: "gid://shopify/Product/4", seo: { title: "Hand-written" } }) { userErrors { message } } }`)
    const refused = await undo(again.id)
    expect([refused.status, refused.json.error.code]).toEqual([409, "changed_since"])
    expect(shop().productSeo(4).title).toBe("Hand-written")
  })

  it("create_url_redirect redirects a broken path once; undo deletes it; a redirect changed since is left alone", async () => {
    const id = await rule("Fix broken links", "seo.broken_links_found", "create_url_redirect", { target: "/collections/all" })
    const [one, two] = await fire(id, "seo.broken_links_found", [
      { resourceType: "url", resourceId: "/products/old-hat", payload: { path: "/products/old-hat", status: 404, linkedFrom: ["/"] } },
      { resourceType: "url", resourceId: "/products/old-scarf", payload: { path: "https://actions.myshopify.com/products/old-scarf?ref=x", status: 404, linkedFrom: [] } }
    ], { auditId: "audit-3" })
    expect([one.status, one.detail]).toEqual(["applied", "redirected /products/old-hat to /collections/all"])
    expect(shop().redirect("/products/old-hat")?.target).toBe("/collections/all")
    expect(shop().redirect("/products/old-scarf")?.target).toBe("/collections/all")
    expect(shop().mutationCalls("urlRedirectCreate").length).toBe(2)

    expect((await undo(one.id)).json).toMatchObject({ status: "undone", summary: "removed the redirect of /products/old-hat" })
    expect(shop().redirect("/products/old-hat")).toBeUndefined()

    await behindTheBack(`mutation { urlRedirectUpdate(id: "${two.after.created.id}", urlRedirect: { target: "/pages/sale" }) { userErrors { message } } }`)
    const refused = await undo(two.id)
    expect([refused.status, refused.json.error.code]).toEqual([409, "changed_since"])
    expect(shop().redirect("/products/old-scarf")?.target).toBe("/pages/sale")

    // a path that already redirects elsewhere is never overwritten
    shop().addRedirect("/products/taken", "/somewhere")
    const [taken] = await fire(id, "seo.broken_links_found", [
      { resourceType: "url", resourceId: "/products/taken", payload: { path: "/products/taken", status: 404, linkedFrom: [] } }
    ], { auditId: "audit-4" })
    expect([taken.status, taken.reason]).toEqual(["failed", "redirect_exists"])
    expect(shop().redirect("/products/taken")?.target).toBe("/somewhere")
  })

  it("consolidate_cannibalized_page redirects the weaker page to the stronger and unpublishes it; undo republishes; a weak ratio changes nothing", async () => {
    const id = await rule("Merge competing pages", "seo.cannibalism_detected", "consolidate_cannibalized_page", { minClicksRatio: 3 })
    const keyword = (weakerClicks: number) => ({
      resourceType: "keyword", resourceId: "winter boots",
      payload: { query: "winter boots", strongerUrl: "/pages/about-us", weakerUrl: "/pages/contact", weakerResourceId: "gid://shopify/Page/2", strongerClicks: 300, weakerClicks }
    })
    const [close] = await fire(id, "seo.cannibalism_detected", [keyword(200)])
    expect([close.status, close.detail]).toEqual(["applied", "left both pages alone: the stronger page had 300 clicks, less than 3× the weaker page's 200"])
    expect(shop().redirect("/pages/contact")).toBeUndefined()

    const [merged] = await fire(id, "seo.cannibalism_detected", [keyword(20)])
    expect([merged.status, merged.detail]).toEqual(["applied", "redirected /pages/contact to /pages/about-us and unpublished the weaker page"])
    expect(shop().redirect("/pages/contact")?.target).toBe("/pages/about-us")
    expect(shop().page(2).isPublished).toBe(false)

    expect((await undo(merged.id)).json).toMatchObject({ status: "undone", summary: "republished the weaker page and removed the redirect of /pages/contact" })
    expect(shop().page(2).isPublished).toBe(true)
    expect(shop().redirect("/pages/contact")).toBeUndefined()
  })

  it("hide_disapproved_product tags the product and takes it off Google & YouTube only; undo republishes it and removes the tag", async () => {
    const id = await rule("Hide disapproved products", "mc.product_disapproved", "hide_disapproved_product", {})
    expect(shop().isPublished(5, "Google & YouTube")).toBe(true)
    const [hidden] = await fire(id, "mc.product_disapproved", [{
      resourceType: "product", resourceId: "gid://shopify/Product/5",
      payload: { title: "Blue Tee", offerId: "online:en:US:5", destination: "Shopping", issues: [{ code: "image_too_small", description: "Image too small", severity: "disapproved" }] }
    }])
    expect([hidden.status, hidden.detail]).toEqual(["applied", "hid it from Google & YouTube and tagged it mc-disapproved"])
    expect(shop().isPublished(5, "Google & YouTube")).toBe(false)
    expect(shop().isPublished(5, "Online Store")).toBe(true)
    expect(shop().product(5).tags).toContain("mc-disapproved")
    const audit = await api.call(server, "GET", "/app/audit?q=hide%20disapproved", ops())
    expect(audit.json.entries.map((l: { summary: string }) => l.summary)).toContain(
      "Rule 'Hide disapproved products' (v1) ran hide_disapproved_product on Blue Tee (mc.product_disapproved): hid it from Google & YouTube and tagged it mc-disapproved"
    )

    expect((await undo(hidden.id)).json).toMatchObject({ status: "undone", summary: "republished on Google & YouTube and removed the tag mc-disapproved" })
    expect(shop().isPublished(5, "Google & YouTube")).toBe(true)
    expect(shop().product(5).tags).not.toContain("mc-disapproved")
  })

  it("bulk_set_metafield starts a real Flowmend job (once) that sets the metafield; undo is the job's undo", async () => {
    const id = await rule("Badge published products", "product.published", "bulk_set_metafield", {
      queryString: "status:active", namespace: "custom", key: "badge", type: "single_line_text_field", value: "new", dryRun: false, maxItems: 1000
    })
    const [started] = await fire(id, "product.published", [{
      resourceType: "product", resourceId: "gid://shopify/Product/6",
      payload: { title: "P6", vendor: null, productType: null, tags: [], status: "active", previousStatus: "draft", updatedAt: "2026-12-01T10:00:00Z" }
    }])
    expect(started.status, started.detail).toBe("applied")
    const jobId = started.after.jobId as string
    const jobDone = (jid: string) =>
      api.awaitEvents([`job-${jid}`], (events) => events.some((e) => e.type === "job.completed" || e.type === "job.failed"))
    await jobDone(jobId)
    const job = await api.run(Effect.flatMap(EventStore, (store) => store.loadFold(`job-${jobId}`, jobStateFold)))
    expect(job.state.exists && [job.state.status, job.state.source, job.state.requestedBy]).toEqual(["COMPLETED", "automation", `rule:${id}`])
    const changed = job.state.exists ? job.state.updatedCount : 0
    expect(changed).toBeGreaterThan(0)
    expect(shop().metafield(6, "custom", "badge")?.value).toBe("new")

    const undone = await undo(started.id)
    expect(undone.json.status, undone.text).toBe("undone")
    const undoJobId = /undo job ([0-9a-f-]{36})/.exec(undone.json.summary)![1]!
    await jobDone(undoJobId)
    expect(shop().metafield(6, "custom", "badge")).toBeUndefined()
  })
})
