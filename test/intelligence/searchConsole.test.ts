/**
 * The SEO detectors end to end (issue 13 §1, §3, §6): a `seo.search_pull` in the shop's actor sets
 * the daily timer and, after the commit, reads 29 days of final data from the Search Console
 * simulator through Google's official client; a page whose clicks fell ≥ 30 % against its 14-day
 * baseline today (not yesterday) becomes `seo.content_decay_detected` and fires a rule; a query
 * that won a featured snippet this week becomes `seo.snippet_gained`; the measured pages are
 * recorded and listed by `GET /app/seo/pages`, the decaying one first; the last final day's rows
 * are recorded as `seo_ranking.recorded`, as the public ingest API records rankings.
 */
import { Effect, Redacted, Stream } from "effect"
import { SqlClient } from "effect/sql"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import * as SearchConsoleClient from "../../adapters/searchconsole/SearchConsoleClient.ts"
import { addDays } from "../../domain/intelligence/stats.ts"
import { encodeShopMessage } from "../../domain/messages/ShopMessages.ts"
import { EventStore } from "../../src/eventstore/EventStore.ts"
import { lastFinalDay, searchPullTimerId } from "../../src/intelligence/SearchPull.ts"
import { ShopLog } from "../../src/shoplog/ShopLog.ts"
import { jsonBody } from "../../src/simulator/kit/RequestLog.ts"
import { type RunningSearchConsoleSimulator, type SearchFactRow, startSearchConsoleSimulator } from "../../src/simulator/searchconsole/index.ts"
import { type AdminApi, type AdminServer, sessionFor, startAdminApi } from "../support/adminApi.ts"

const SHOP = "seo.myshopify.com"
/** A shop whose property was pulled yesterday: only what starts today is reported. */
const DAILY = "seo-daily.myshopify.com"
const SITE = "https://seo.example/"
const TOKEN = "sc-test-token"
const AS_OF = lastFinalDay(new Date())
const DECAYING = "https://seo.example/blogs/news/winter-care"
const STEADY = "https://seo.example/products/wool-hat"
const LONG_DECAYED = "https://seo.example/pages/about"

/**
 * 29 days ending AS_OF. The decaying page: 10 clicks a day, none in the last 5 — 35.7 % down
 * today (90 against 140), 28.6 % yesterday (100 against 140): its decay starts today. The steady
 * page: 10 a day, and a featured snippet for "wool hat care" on AS_OF only (gained this week).
 * The about page has been decayed for days: a first pull reports it, a daily one does not.
 */
const rows = (): ReadonlyArray<SearchFactRow> => {
  const out: Array<SearchFactRow> = []
  for (let i = 28; i >= 0; i--) {
    const date = addDays(AS_OF, -i)!
    out.push({ date, page: DECAYING, query: "winter care", clicks: i <= 4 ? 0 : 10, impressions: 200, position: 4 })
    out.push({ date, page: STEADY, query: "wool hat", clicks: 10, impressions: 150, position: 3 })
    if (i === 0) out.push({ date, page: STEADY, query: "wool hat care", clicks: 3, impressions: 20, position: 1, searchAppearance: "FEATURED_SNIPPET" })
    // decayed for a while: 20 a day before, 5 a day in the last 14 (75 % down today and yesterday)
    out.push({ date, page: LONG_DECAYED, query: "about us", clicks: i <= 13 ? 5 : 20, impressions: 100, position: 2 })
  }
  return out
}

/** A property where every other SEO detector finds something: see {@link moreRows}. */
const MORE = "seo-more.myshopify.com"
const MORE_SITE = "https://more.example/"
const SCARF = "https://more.example/products/scarf"
const GLOVES = "https://more.example/products/gloves"
const GLOVES_GUIDE = "https://more.example/blogs/news/gloves-guide"
const SOCKS = "https://more.example/pages/socks"

/**
 * 29 days ending AS_OF, steady clicks (no decay):
 * - "wool scarf" on the scarf page at position 12, 20 impressions a day: just off page one;
 * - "winter gloves" split 60/40 between the gloves page (3 clicks a day) and the guide (1): two
 *   pages competing for one query; the gloves page held its featured snippet 10 days ago and
 *   not in the last 7: lost;
 * - "merino socks" at position 35 only: impressions with no page in the top 20, a gap.
 */
const moreRows = (): ReadonlyArray<SearchFactRow> => {
  const out: Array<SearchFactRow> = []
  for (let i = 28; i >= 0; i--) {
    const date = addDays(AS_OF, -i)!
    out.push({ date, page: SCARF, query: "wool scarf", clicks: 1, impressions: 20, position: 12 })
    out.push({ date, page: GLOVES, query: "winter gloves", clicks: 3, impressions: 30, position: 5 })
    out.push({ date, page: GLOVES_GUIDE, query: "winter gloves", clicks: 1, impressions: 20, position: 6 })
    out.push({ date, page: SOCKS, query: "merino socks", clicks: 0, impressions: 10, position: 35 })
    if (i === 10) out.push({ date, page: GLOVES, query: "winter gloves", clicks: 2, impressions: 10, position: 1, searchAppearance: "FEATURED_SNIPPET" })
  }
  return out
}

let api: AdminApi
let server: AdminServer
let sim: RunningSearchConsoleSimulator
const owner = () => sessionFor(SHOP, "owner-1")

const triggersOf = async (event: string) => (await api.receivedTriggers(SHOP)).filter((t) => t.event === event)

beforeAll(async () => {
  sim = await startSearchConsoleSimulator({ sites: [{ siteUrl: SITE, rows: rows() }, { siteUrl: MORE_SITE, rows: moreRows() }], accessToken: TOKEN })
  api = await startAdminApi({
    knownShops: [SHOP, DAILY, MORE],
    automationActors: true,
    searchConsole: SearchConsoleClient.layer({ accessToken: Redacted.make(TOKEN), apiUrl: sim.url })
  })
  server = await api.serveAdmin()
  await api.setMember(SHOP, "owner-1", "owner")
  await api.setMember(DAILY, "owner-1", "owner")
  await api.setMember(MORE, "owner-1", "owner")
})

afterAll(async () => {
  await api?.close()
  await sim?.stop()
})

describe("the daily Search Console pull", () => {
  it("finds the page whose decay starts today and the snippet won this week; a rule fires; the pages are listed", async () => {
    const ruleId = await api.parkingRule(server, owner(), "Refresh decaying posts", "seo.content_decay_detected", "resource.payload.dropPct >= 30.0")
    await api.run(ShopLog.use((l) => l.publish({ shop: SHOP, messageId: "pull-1", correlationId: "pull-1", ...encodeShopMessage({ type: "seo.search_pull", payload: { siteUrl: SITE } }) })))
    await api.awaitEvents([`seo-${SHOP}`, `triggers-${SHOP}`], (events) =>
      events.some((e) => e.type === "seo.pages_measured") &&
      events.filter((e) => e.type === "trigger.received" && JSON.stringify(e.data).includes("\"seo.")).length >= 2)
    await api.awaitProjections()

    // a first pull: everything decayed now (the long-decayed page first: more clicks lost)
    const [decay] = await triggersOf("seo.content_decay_detected")
    expect(decay).toMatchObject({
      event: "seo.content_decay_detected",
      resources: [
        { resourceType: "page", resourceId: LONG_DECAYED, payload: { dropPct: 75, priorClicks: 280, nowClicks: 70 } },
        { resourceType: "article", resourceId: DECAYING, payload: { dropPct: 35.7, priorClicks: 140, nowClicks: 90 } }
      ]
    })
    const [gained] = await triggersOf("seo.snippet_gained")
    expect(gained).toMatchObject({
      resources: [{ resourceType: "product", resourceId: STEADY, payload: { url: STEADY, query: "wool hat care" } }]
    })
    expect(await triggersOf("seo.snippet_lost")).toHaveLength(0)

    expect((await api.executionStatuses(server, owner(), ruleId)).sort()).toEqual([
      [DECAYING, "awaiting_approval"], [LONG_DECAYED, "awaiting_approval"]
    ])

    const pages = await api.call(server, "GET", "/app/seo/pages", owner())
    expect(pages.status, pages.text).toBe(200)
    expect(pages.json.pages.map((p: { url: string; decayed: boolean; drop_pct: number | null; now_clicks: number }) => [p.url, p.decayed, p.drop_pct, p.now_clicks])).toEqual([
      [LONG_DECAYED, true, 75, 70],
      [DECAYING, true, 35.7, 90],
      [STEADY, false, 0, 140]
    ])
    expect(pages.json.pages[0].as_of).toBe(AS_OF)
    expect((await api.call(server, "GET", "/app/seo/pages?decayed=true", owner())).json.total).toBe(2)
    expect((await api.call(server, "GET", "/app/seo/pages?decayed=maybe", owner())).status).toBe(400)

    // the last final day's rows are recorded as the public API records rankings (plain rows only)
    await api.awaitEvents([`external-${SHOP}-seo_ranking`], (events) => events.length >= 3)
    const rankings = await api.run(Effect.map(Effect.flatMap(EventStore, (s) => Stream.runCollect(s.readStream(`external-${SHOP}-seo_ranking`))), (events) => [...events]))
    expect(rankings.map((e) => e.type)).toEqual(["seo_ranking.recorded", "seo_ranking.recorded", "seo_ranking.recorded"])
    expect(rankings.map((e) => e.data as { url: string; keyword: string; position: number; date: string; search_engine: string; source_key_id: string })
      .map((d) => [d.url, d.keyword, d.position, d.date, d.search_engine, d.source_key_id]).sort()).toEqual([
        [LONG_DECAYED, "about us", 2, AS_OF, "google", "search-console-pull"],
        [DECAYING, "winter care", 4, AS_OF, "google", "search-console-pull"],
        [STEADY, "wool hat", 3, AS_OF, "google", "search-console-pull"]
      ].sort())

    // the next pull is a durable timer at 05:00 UTC
    const timers = await api.run(Effect.flatMap(SqlClient.SqlClient, (sql) => sql<{ due_at: Date }>`SELECT due_at FROM scheduled_messages WHERE id = ${searchPullTimerId(SHOP, SITE)}`))
    expect(new Date(timers[0]!.due_at).getUTCHours()).toBe(5)
    // the official client asked for final data, 29 days, and the snippet rows by filter
    const bodies = sim.requests.entries.filter((r) => r.path.endsWith("/searchAnalytics/query"))
      .map((r) => jsonBody<{ startDate: string; endDate: string; dataState: string; dimensionFilterGroups?: unknown }>(r)!)
      .sort((a, b) => Number(a.dimensionFilterGroups !== undefined) - Number(b.dimensionFilterGroups !== undefined))
    expect(bodies.map((b) => [b.startDate, b.endDate, b.dataState, b.dimensionFilterGroups === undefined])).toEqual([
      [addDays(AS_OF, -28), AS_OF, "final", true],
      [addDays(AS_OF, -28), AS_OF, "final", false]
    ])
  })

  it("a property pulled yesterday reports only what starts today: the page decayed for days is not reported again", async () => {
    await api.run(Effect.flatMap(EventStore, (store) =>
      store.append(`seo-runs-${DAILY}`, DAILY, "any", [{ type: "seo.findings_recorded", data: { siteUrl: SITE, asOf: addDays(AS_OF, -1), reported: "all", triggers: [] } }], { correlationId: "yesterday", actor: { kind: "system", id: "test" } })))
    await api.run(ShopLog.use((l) => l.publish({ shop: DAILY, messageId: "pull-daily", correlationId: "pull-daily", ...encodeShopMessage({ type: "seo.search_pull", payload: { siteUrl: SITE } }) })))
    await api.awaitEvents([`seo-runs-${DAILY}`], (events) => events.some((e) => e.type === "seo.findings_recorded" && (e.data as { asOf: string }).asOf === AS_OF))
    const run = await api.run(Effect.map(Effect.flatMap(EventStore, (s) => Stream.runCollect(s.readStream(`seo-runs-${DAILY}`))), (events) => [...events].at(-1)!.data))
    expect(run).toEqual({
      siteUrl: SITE, asOf: AS_OF, reported: "started",
      triggers: [{ event: "seo.content_decay_detected", resources: 1 }, { event: "seo.snippet_gained", resources: 1 }]
    })
    await api.awaitEvents([`triggers-${DAILY}`], (events) => events.filter((e) => e.type === "trigger.received").length >= 2)
    const decay = (await api.receivedTriggers(DAILY)).find((t) => t.event === "seo.content_decay_detected")!
    expect(decay.resources.map((r) => r.resourceId)).toEqual([DECAYING])
  })

  it("the other detectors from one pull: an opportunity, two pages competing, a keyword gap, a snippet lost; a rule fires on the gap", async () => {
    const ruleId = await api.parkingRule(server, sessionFor(MORE, "owner-1"), "Write for the gaps", "seo.keyword_gap_detected")
    await api.run(ShopLog.use((l) => l.publish({ shop: MORE, messageId: "pull-more", correlationId: "pull-more", ...encodeShopMessage({ type: "seo.search_pull", payload: { siteUrl: MORE_SITE } }) })))
    await api.awaitEvents([`triggers-${MORE}`], (events) => events.filter((e) => e.type === "trigger.received").length >= 4)
    const received = await api.receivedTriggers(MORE)
    const of = (event: string) => received.filter((t) => t.event === event)
    expect(received.map((t) => t.event).sort()).toEqual(["seo.cannibalism_detected", "seo.keyword_gap_detected", "seo.opportunity_found", "seo.snippet_lost"])
    expect(of("seo.opportunity_found")[0]).toMatchObject({
      window: { from: addDays(AS_OF, -27), to: AS_OF },
      resources: [{ resourceType: "product", resourceId: SCARF, payload: { query: "wool scarf", impressions: 560, clicks: 28, position: 12, ctr: 0.05 } }]
    })
    expect(of("seo.cannibalism_detected")[0]!.resources).toEqual([{
      resourceType: "keyword", resourceId: "winter gloves",
      payload: { query: "winter gloves", strongerUrl: GLOVES, weakerUrl: GLOVES_GUIDE, strongerClicks: 84, weakerClicks: 28 }
    }])
    expect(of("seo.keyword_gap_detected")[0]!.resources).toEqual([{ resourceType: "keyword", resourceId: "merino socks", payload: { query: "merino socks", impressions: 280, position: 35 } }])
    expect(of("seo.snippet_lost")[0]!.resources).toMatchObject([{ resourceType: "product", resourceId: GLOVES, payload: { url: GLOVES, query: "winter gloves" } }])

    await api.awaitProjections()
    expect(await api.executionStatuses(server, sessionFor(MORE, "owner-1"), ruleId)).toEqual([["merino socks", "awaiting_approval"]])
  })
})
