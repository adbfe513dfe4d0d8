/**
 * The AI-driven actions end to end (issue 14 §4). `add_faq_structured_data`: a rule on `seo.snippet_lost` runs the action
 * through the shop's actor; the AI gateway (the live one, over the providers' simulator) writes
 * the FAQ; the action stores schema.org FAQPage JSON-LD in the page's metafield on Shopify (its
 * simulator, real schema); undo removes it. When the shop's AI limit is reached the execution is
 * not failed but deferred — recorded, audited, and run again from a durable timer once the
 * limit frees. `update_seo_meta` in mode `generate`: the gateway writes the product's SEO title and
 * description for the trigger's query; undo restores them.
 */
import { createAdminApiClient } from "@shopify/admin-api-client"
import { Effect } from "effect"
import { SqlClient } from "effect/sql"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { FAQ_RESOURCE, PRODUCT_SEO } from "../../adapters/shopify/actions/documents.ts"
import { type RunningAiSimulator, startAiSimulator } from "../../src/simulator/ai/index.ts"
import { type AdminApi, type AdminServer, sessionFor, startAdminApi } from "../support/adminApi.ts"
import { gatewayLayer } from "./support.ts"

const SHOP = "faq.myshopify.com"
let api: AdminApi
let server: AdminServer
let sim: RunningAiSimulator
const clock = { at: Date.parse("2026-12-06T10:00:00Z"), now: () => clock.at }
const ops = () => sessionFor(SHOP, "ops-1")

/** A model that answers FAQ prompts with `Q:` / `A:` lines, and SEO prompts with a title and a description. */
const respond = (r: { readonly prompt: string }) => {
  if (r.prompt.startsWith("Refresh this blog post")) return "Wool throws, updated for this winter.\n\nMerino is soft; lambswool is sturdy; both last."
  if (r.prompt.startsWith("Write a content brief")) return "Intent: buyers comparing socks.\nOutline: why merino; sizes; care."
  if (r.prompt.startsWith("Write the SEO title")) {
    const query = /searching "([^"]*)"/.exec(r.prompt)?.[1] ?? "?"
    return `Title: ${query} that lasts — handmade and warm, in every size you need for winter\nDescription: Shop ${query}: made to last.`
  }
  const n = Number(/Write (\d+) questions/.exec(r.prompt)?.[1] ?? 2)
  const title = /Title: (.*)/.exec(r.prompt)?.[1] ?? "?"
  return Array.from({ length: n }, (_, i) => `Q: Question ${i + 1} about ${title}?\nA: Answer ${i + 1}.`).join("\n")
}

beforeAll(async () => {
  sim = await startAiSimulator({ respond })
  // one AI call an hour per shop: the second execution meets the limit
  api = await startAdminApi({
    knownShops: [SHOP],
    automationActors: true,
    ai: gatewayLayer(sim, { clock, limits: { requestsPerWindow: 1, windowSeconds: 3_600, monthlyBudgetMicros: 10_000_000 } })
  })
  server = await api.serveAdmin()
  await api.setMember(SHOP, "ops-1", "operator")
  await api.onProPlan(SHOP)
})

afterAll(async () => {
  await api?.close()
  await sim?.stop()
})

const faqOf = async (id: string) => {
  const client = createAdminApiClient(api.sim.adminClientOptions(SHOP) as Parameters<typeof createAdminApiClient>[0])
  const res = await client.request(FAQ_RESOURCE, { variables: { id } })
  expect(res.errors).toBeUndefined()
  const node = res.data.node as { faq: { value: string } | null; marker: { value: string } | null }
  return { faq: node.faq === null ? null : JSON.parse(node.faq.value), marker: node.marker?.value ?? null }
}

const emit = async (resources: ReadonlyArray<unknown>) => {
  const res = await api.call(server, "POST", "/app/triggers/seo.snippet_lost/emit", ops(), { resources })
  expect(res.status, res.text).toBe(202)
  return res.json.trigger_id as string
}

const execution = async (id: string) => (await api.call(server, "GET", `/app/executions/${encodeURIComponent(id)}`, ops())).json.execution

describe("the AI actions", () => {
  let ruleId: string

  it("writes FAQ JSON-LD for the page named by its storefront URL, through the gateway; undo removes it", async () => {
    const created = await api.call(server, "POST", "/app/rules", ops(), {
      name: "FAQ for lost snippets", trigger_event: "seo.snippet_lost", action_key: "add_faq_structured_data", params: { questions: 3 },
      condition: null, cooldown_seconds: 0, quiet_hours: null, requires_approval: false, enabled: true
    })
    expect(created.status, created.text).toBe(201)
    ruleId = created.json.rule.id
    const page = api.sim.shop(SHOP).page(1)
    const triggerId = await emit([{ resourceType: "page", resourceId: `https://faq.example/pages/${page.handle}`, payload: { url: `https://faq.example/pages/${page.handle}`, query: "who we are", position: 2.5 } }])
    const id = `${triggerId}_${ruleId}_0`
    await api.awaitEvents([`autoaction-${SHOP}-${id}`], (events) => events.some((e) => e.type === "autoaction.applied" || e.type === "autoaction.failed"))
    await api.awaitProjections()
    const done = await execution(id)
    expect(done.status, done.detail).toBe("applied")
    expect(done.detail).toMatch(/^wrote 3 questions and answers for "who we are" into .+'s FAQ structured data \(anthropic claude-sonnet-4-5, \$0\.\d{4}\)$/)

    const written = await faqOf(`gid://shopify/Page/1`)
    expect(written.faq).toEqual({
      "@context": "https://schema.org",
      "@type": "FAQPage",
      mainEntity: [1, 2, 3].map((i) => ({ "@type": "Question", name: `Question ${i} about ${page.title}?`, acceptedAnswer: { "@type": "Answer", text: `Answer ${i}.` } }))
    })
    expect(written.marker).toBe(id)
    // the model was asked about the page and the query
    expect(sim.seen.at(-1)).toMatchObject({ provider: "anthropic", maxTokens: 450 })
    expect(sim.seen.at(-1)!.prompt).toContain(`Title: ${page.title}`)
    expect(sim.seen.at(-1)!.prompt).toContain(`people searching "who we are"`)

    const undone = await api.call(server, "POST", `/app/executions/${encodeURIComponent(id)}/undo`, ops())
    expect(undone.json.status, undone.text).toBe("undone")
    expect(await faqOf(`gid://shopify/Page/1`)).toEqual({ faq: null, marker: null })
  })

  it("at the shop's AI limit the execution waits instead of failing — audited — and runs when the limit frees", async () => {
    // the hour's one call was made above: this one meets RATE_LIMIT
    const page = api.sim.shop(SHOP).page(2)
    const triggerId = await emit([{ resourceType: "page", resourceId: `https://faq.example/pages/${page.handle}`, payload: { url: `https://faq.example/pages/${page.handle}`, query: "contact", position: 1.5 } }])
    const id = `${triggerId}_${ruleId}_0`
    await api.awaitEvents([`autoaction-${SHOP}-${id}`], (events) => events.some((e) => e.type === "autoaction.run_deferred"))
    await api.awaitProjections()
    const waiting = await execution(id)
    expect([waiting.status, waiting.reason]).toEqual(["deferred", "RATE_LIMIT"])
    expect(Date.parse(waiting.until) - Date.now()).toBeGreaterThan(3_500_000)
    const audit = await api.call(server, "GET", "/app/audit?q=waits%20to%20run", ops())
    expect(audit.json.entries.map((l: { summary: string }) => l.summary)).toEqual([
      expect.stringMatching(/^Rule 'FAQ for lost snippets' \(v1\) waits to run add_faq_structured_data on .+ until .+ \(RATE_LIMIT\): .+ made 1 AI calls in the last 3600 s/)
    ])
    // the step's durable timer is set for then
    const timer = await api.run(Effect.flatMap(SqlClient.SqlClient, (sql) => sql<{ due_at: Date }>`SELECT due_at FROM scheduled_messages WHERE id = ${`automation.action_step:${id}`}`))
    expect(new Date(timer[0]!.due_at).toISOString()).toBe(waiting.until)

    // an hour passes (for the gateway's clock and for the timer): the step runs, and applies
    clock.at += 3_601_000
    await api.run(Effect.flatMap(SqlClient.SqlClient, (sql) => sql`UPDATE scheduled_messages SET due_at = now() WHERE id = ${`automation.action_step:${id}`}`))
    await api.awaitEvents([`autoaction-${SHOP}-${id}`], (events) => events.some((e) => e.type === "autoaction.applied" || e.type === "autoaction.failed"))
    await api.awaitProjections()
    const applied = await execution(id)
    expect(applied.status, applied.detail).toBe("applied")
    expect((await faqOf(`gid://shopify/Page/2`)).faq.mainEntity).toHaveLength(3)
  })

  it("update_seo_meta in mode generate: the gateway writes the SEO title and description for the query; undo restores them", async () => {
    clock.at += 3_601_000 // a fresh hour: the shop's one call
    const invalid = await api.call(server, "POST", "/app/rules", ops(), {
      name: "bad", trigger_event: "seo.opportunity_found", action_key: "update_seo_meta", params: { mode: "magic" }, enabled: false
    })
    expect(invalid.status).toBe(400)
    expect(invalid.json.error.errors).toEqual([{ field: "params.mode", message: "must be one of template, generate" }])
    const noTemplate = await api.call(server, "POST", "/app/rules", ops(), {
      name: "bad", trigger_event: "seo.opportunity_found", action_key: "update_seo_meta", params: {}, enabled: false
    })
    expect(noTemplate.json.error.errors).toEqual([{ field: "params.titleTemplate", message: "mode template needs a titleTemplate or a descriptionTemplate" }])
    const created = await api.call(server, "POST", "/app/rules", ops(), {
      name: "SEO for opportunities", trigger_event: "seo.opportunity_found", action_key: "update_seo_meta", params: { mode: "generate" },
      condition: null, cooldown_seconds: 0, quiet_hours: null, requires_approval: false, enabled: true
    })
    expect(created.status, created.text).toBe(201)
    const product = api.sim.shop(SHOP).product(5)
    const before = api.sim.shop(SHOP).productSeo(5)
    const url = `https://faq.example/products/${product.handle}`
    const res = await api.call(server, "POST", "/app/triggers/seo.opportunity_found/emit", ops(), {
      window: { from: "2026-11-01", to: "2026-11-28" },
      resources: [{ resourceType: "product", resourceId: url, payload: { url, query: "wool mittens", impressions: 900, clicks: 12, position: 11.4, ctr: 0.013 } }]
    })
    expect(res.status, res.text).toBe(202)
    const id = `${res.json.trigger_id}_${created.json.rule.id}_0`
    await api.awaitEvents([`autoaction-${SHOP}-${id}`], (events) => events.some((e) => e.type === "autoaction.applied" || e.type === "autoaction.failed"))
    await api.awaitProjections()
    const done = await execution(id)
    expect(done.status, done.detail).toBe("applied")
    // cut at 70 characters on a word
    expect(api.sim.shop(SHOP).productSeo(5)).toEqual({ title: "wool mittens that lasts — handmade and warm, in every size you need", description: "Shop wool mittens: made to last." })
    expect(done.detail).toContain("(written by anthropic claude-sonnet-4-5)")
    // written with the marker of its execution, in the same call (a re-run finds it)
    const client = createAdminApiClient(api.sim.adminClientOptions(SHOP) as Parameters<typeof createAdminApiClient>[0])
    const seo = await client.request(PRODUCT_SEO, { variables: { id: "gid://shopify/Product/5" } })
    expect((seo.data.product as { marker: { value: string } | null }).marker?.value).toBe(id)
    expect(sim.seen.at(-1)!.prompt).toContain(`title: ${product.title}`)
    const undone = await api.call(server, "POST", `/app/executions/${encodeURIComponent(id)}/undo`, ops())
    expect(undone.json.status, undone.text).toBe("undone")
    expect(api.sim.shop(SHOP).productSeo(5)).toEqual(before)
  })

  /** A rule on `trigger` running `action`, then a trigger about `resources`: the executions once each is over. */
  const run = async (name: string, trigger: string, action: string, params: Record<string, unknown>, resources: ReadonlyArray<unknown>) => {
    const created = await api.call(server, "POST", "/app/rules", ops(), {
      name, trigger_event: trigger, action_key: action, params, condition: null, cooldown_seconds: 0, quiet_hours: null, requires_approval: false, enabled: true
    })
    expect(created.status, created.text).toBe(201)
    const res = await api.call(server, "POST", `/app/triggers/${trigger}/emit`, ops(), { resources })
    expect(res.status, res.text).toBe(202)
    const ids = resources.map((_, i) => `${res.json.trigger_id}_${created.json.rule.id}_${i}`)
    for (const id of ids) await api.awaitEvents([`autoaction-${SHOP}-${id}`], (events) => events.some((e) => e.type === "autoaction.applied" || e.type === "autoaction.failed"))
    await api.awaitProjections()
    return Promise.all(ids.map(execution))
  }

  it("refresh_blog_post: the gateway refreshes a decaying post's body (one that lost less than minDropPct is left alone); undo restores it", async () => {
    clock.at += 3_601_000
    const blogs = api.sim.shop(SHOP).blogs
    const post = blogs.article(1)!
    const url = (p: { handle: string }) => `https://faq.example/blogs/news/${p.handle}`
    const calls = sim.seen.length
    const [refreshed, kept] = await run("Refresh decaying posts", "seo.content_decay_detected", "refresh_blog_post", { minDropPct: 30 }, [
      { resourceType: "article", resourceId: url(post), payload: { dropPct: 45, priorClicks: 140, nowClicks: 77 } },
      { resourceType: "article", resourceId: url(blogs.article(2)!), payload: { dropPct: 20, priorClicks: 100, nowClicks: 80 } }
    ])
    expect(refreshed.status, refreshed.detail).toBe("applied")
    expect(blogs.article(1)!.body).toBe(`<p>Wool throws, updated for this winter.</p><p>Merino is soft; lambswool is sturdy; both last.</p><!-- sumeru:refresh:${refreshed.id} -->`)
    expect(sim.seen.at(-1)!.prompt).toContain("Its clicks fell 45 % over 14 days (from 140 to 77)")
    expect([kept.status, kept.detail]).toEqual(["applied", `left ${blogs.article(2)!.title} as it is: it lost 20 % of its clicks, less than 30 %`])
    expect(sim.seen.length).toBe(calls + 1)
    const undone = await api.call(server, "POST", `/app/executions/${encodeURIComponent(refreshed.id)}/undo`, ops())
    expect(undone.json.status, undone.text).toBe("undone")
    expect(blogs.article(1)!.body).toBe(post.body)
  })

  it("create_content_brief: the gateway's brief for a keyword gap becomes an unpublished draft; undo deletes it while unpublished", async () => {
    clock.at += 3_601_000
    const blogs = api.sim.shop(SHOP).blogs
    const before = blogs.articles().length
    const [brief] = await run("Briefs for keyword gaps", "seo.keyword_gap_detected", "create_content_brief", {}, [
      { resourceType: "keyword", resourceId: "merino socks", payload: { query: "merino socks", impressions: 280, position: 35 } }
    ])
    expect(brief.status, brief.detail).toBe("applied")
    expect(brief.detail).toBe(`drafted a brief for "merino socks" in the blog news, unpublished (anthropic claude-sonnet-4-5)`)
    const draft = blogs.articles().at(-1)!
    expect(blogs.articles()).toHaveLength(before + 1)
    expect(draft).toMatchObject({ title: "Brief: merino socks", publishedAt: null, tags: ["sumeru-brief"], author: "Sumeru", body: "<p>Intent: buyers comparing socks.</p><p>Outline: why merino; sizes; care.</p>" })
    const undone = await api.call(server, "POST", `/app/executions/${encodeURIComponent(brief.id)}/undo`, ops())
    expect(undone.json.status, undone.text).toBe("undone")
    expect(blogs.articles()).toHaveLength(before)
  })
})
