import { auth, searchconsole, type searchconsole_v1 } from "@googleapis/searchconsole"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { jsonBody } from "../../src/simulator/kit/RequestLog.ts"
import { demoSearchRows, startSearchConsoleSimulator, type RunningSearchConsoleSimulator, type SearchFactRow } from "../../src/simulator/searchconsole/index.ts"

const TOKEN = "ya29.sim-token"
const SITE = "https://shop.example/"
const DOMAIN = "sc-domain:pagination.example"
/** Today is 2026-07-15 (UTC): final data ends on 07-12, all data on 07-14, 07-13 is the first incomplete day. */
const NOW = Date.UTC(2026, 6, 15, 12, 0, 0)
const A = "https://shop.example/products/linen-throw"
const B = "https://shop.example/blogs/news/linen-care"

const FACTS: ReadonlyArray<SearchFactRow> = [
  { date: "2026-07-10", page: A, query: "linen throw", country: "usa", device: "MOBILE", clicks: 10, impressions: 100, position: 2 },
  { date: "2026-07-10", page: A, query: "linen throw", country: "usa", device: "DESKTOP", clicks: 5, impressions: 50, position: 4 },
  { date: "2026-07-11", page: A, query: "linen throw", country: "gbr", device: "MOBILE", clicks: 3, impressions: 50, position: 3 },
  { date: "2026-07-11", page: A, query: "buy linen", country: "usa", device: "MOBILE", clicks: 2, impressions: 20, position: 1 },
  { date: "2026-07-10", page: B, query: "linen care", country: "usa", device: "MOBILE", clicks: 4, impressions: 200, position: 8 },
  // a breakdown of the first row: only seen when searchAppearance is filtered or grouped
  { date: "2026-07-10", page: A, query: "linen throw", country: "usa", device: "MOBILE", clicks: 6, impressions: 60, position: 1, searchAppearance: "FEATURED_SNIPPET" },
  // incomplete days (dataState "all" only) and today (never)
  { date: "2026-07-13", page: A, query: "linen throw", country: "usa", device: "MOBILE", clicks: 7, impressions: 70, position: 2 },
  { date: "2026-07-14", page: B, query: "linen care", country: "usa", device: "MOBILE", clicks: 1, impressions: 10, position: 5 },
  { date: "2026-07-15", page: A, query: "linen throw", country: "usa", device: "MOBILE", clicks: 100, impressions: 1000, position: 1 }
]

/** 25 pages on a domain property: clicks 25 − i, so the order is known; pages 10 and 11 tie on clicks. */
const PAGINATION_FACTS: ReadonlyArray<SearchFactRow> = Array.from({ length: 25 }, (_, i) => ({
  date: "2026-07-01",
  page: `https://pagination.example/products/p${String(i).padStart(2, "0")}`,
  query: `q${i}`,
  clicks: i === 11 ? 15 : 25 - i,
  impressions: 1000,
  position: 5
}))

let sim: RunningSearchConsoleSimulator
let client: searchconsole_v1.Searchconsole

const clientWith = (accessToken?: string): searchconsole_v1.Searchconsole => {
  if (accessToken === undefined) return searchconsole({ version: "v1", rootUrl: `${sim.url}/` })
  const oauth = new auth.OAuth2()
  oauth.setCredentials({ access_token: accessToken })
  return searchconsole({ version: "v1", auth: oauth, rootUrl: `${sim.url}/` })
}

const query = async (requestBody: searchconsole_v1.Schema$SearchAnalyticsQueryRequest, siteUrl = SITE) =>
  (await client.searchanalytics.query({ siteUrl, requestBody })).data

/** The error a call rejects with (fails the test when it resolves). */
const failure = async (call: Promise<unknown>): Promise<{ status?: number; code?: unknown; response?: { data: any; headers: Headers } }> => {
  try {
    await call
  } catch (error) {
    return error as { status?: number; code?: unknown; response?: { data: any; headers: Headers } }
  }
  throw new Error("expected the call to fail")
}

beforeAll(async () => {
  sim = await startSearchConsoleSimulator({
    sites: [{ siteUrl: SITE, rows: FACTS }, { siteUrl: DOMAIN, rows: PAGINATION_FACTS }],
    accessToken: TOKEN,
    now: () => NOW
  })
  client = clientWith(TOKEN)
})

afterAll(async () => {
  await sim.stop()
})

describe("Search Console simulator, through the official client", () => {
  it("groups by page with exact sums, ctr and the impression-weighted position", async () => {
    const data = await query({ startDate: "2026-07-01", endDate: "2026-07-15", dimensions: ["page"] })
    expect(data).toEqual({
      rows: [
        { keys: [A], clicks: 20, impressions: 220, ctr: 20 / 220, position: (100 * 2 + 50 * 4 + 50 * 3 + 20 * 1) / 220 },
        { keys: [B], clicks: 4, impressions: 200, ctr: 4 / 200, position: 8 }
      ],
      responseAggregationType: "byPage"
    })
    const last = sim.requests.last()!
    expect(last.path).toBe("/webmasters/v3/sites/https%3A%2F%2Fshop.example%2F/searchAnalytics/query")
    expect(last.headers["authorization"]).toBe(`Bearer ${TOKEN}`)
    expect(jsonBody(last)).toEqual({ startDate: "2026-07-01", endDate: "2026-07-15", dimensions: ["page"] })
  })

  it("groups by query and by date, by clicks descending, aggregated by property", async () => {
    const byQuery = await query({ startDate: "2026-07-01", endDate: "2026-07-15", dimensions: ["query"] })
    expect(byQuery.responseAggregationType).toBe("byProperty")
    expect(byQuery.rows).toEqual([
      { keys: ["linen throw"], clicks: 18, impressions: 200, ctr: 0.09, position: (200 + 200 + 150) / 200 },
      { keys: ["linen care"], clicks: 4, impressions: 200, ctr: 0.02, position: 8 },
      { keys: ["buy linen"], clicks: 2, impressions: 20, ctr: 0.1, position: 1 }
    ])
    const byDate = await query({ startDate: "2026-07-01", endDate: "2026-07-15", dimensions: ["date"] })
    expect(byDate.rows).toEqual([
      { keys: ["2026-07-10"], clicks: 19, impressions: 350, ctr: 19 / 350, position: (200 + 200 + 1600) / 350 },
      { keys: ["2026-07-11"], clicks: 5, impressions: 70, ctr: 5 / 70, position: (150 + 20) / 70 }
    ])
    const byPageAndQuery = await query({
      startDate: "2026-07-01",
      endDate: "2026-07-15",
      dimensions: ["page", "query"],
      dimensionFilterGroups: [{ groupType: "and", filters: [{ dimension: "query", operator: "contains", expression: "LINEN T" }] }]
    })
    expect(byPageAndQuery.rows?.map((r) => [r.keys, r.clicks])).toEqual([[[A, "linen throw"], 18]])
  })

  it("pages through the rows with startRow and rowLimit in a stable order", async () => {
    const body = { startDate: "2026-07-01", endDate: "2026-07-01", dimensions: ["page"], rowLimit: 10 }
    const pages = await Promise.all([0, 10, 20, 30].map((startRow) => query({ ...body, startRow }, DOMAIN)))
    expect(pages.map((p) => p.rows?.length ?? 0)).toEqual([10, 10, 5, 0])
    expect(pages[3]).toEqual({ responseAggregationType: "byPage" })
    const keys = pages.flatMap((p) => p.rows ?? []).map((r) => r.keys![0]!.slice(-3))
    // p10 and p11 both have 15 clicks and 1,000 impressions: keys ascending break the tie
    expect(keys).toEqual(["p00", "p01", "p02", "p03", "p04", "p05", "p06", "p07", "p08", "p09", "p10", "p11", "p12", "p13", "p14", "p15", "p16", "p17", "p18", "p19", "p20", "p21", "p22", "p23", "p24"])
    const all = await query({ ...body, rowLimit: 25_000 }, DOMAIN)
    expect(all.rows?.map((r) => r.keys![0]!.slice(-3))).toEqual(keys)
  })

  it("final data ends three days back; all data reaches yesterday and names the first incomplete date", async () => {
    const body = { startDate: "2026-07-10", endDate: "2026-07-15", dimensions: ["date"] }
    const final = await query(body)
    expect(final.rows?.map((r) => r.keys![0])).toEqual(["2026-07-10", "2026-07-11"])
    expect(final.metadata).toBeUndefined()
    const all = await query({ ...body, dataState: "all" })
    expect(all.rows?.map((r) => [r.keys![0], r.clicks])).toEqual([["2026-07-10", 19], ["2026-07-13", 7], ["2026-07-11", 5], ["2026-07-14", 1]])
    expect(all.metadata).toEqual({ firstIncompleteDate: "2026-07-13" })
    // a range of complete days only carries no metadata
    const complete = await query({ ...body, endDate: "2026-07-12", dataState: "all" })
    expect(complete.metadata).toBeUndefined()
    // the total of the last days: only what is visible
    const total = await query({ startDate: "2026-07-13", endDate: "2026-07-15" })
    expect(total).toEqual({ responseAggregationType: "byProperty" })
    const totalAll = await query({ startDate: "2026-07-13", endDate: "2026-07-15", dataState: "all" })
    expect(totalAll.rows).toEqual([{ clicks: 8, impressions: 80, ctr: 0.1, position: (140 + 50) / 80 }])
  })

  it("snippet rows come only with a searchAppearance filter or grouping, never in plain totals", async () => {
    const snippet = await query({
      startDate: "2026-07-01",
      endDate: "2026-07-15",
      dimensions: ["page", "query"],
      dimensionFilterGroups: [{ filters: [{ dimension: "searchAppearance", operator: "equals", expression: "FEATURED_SNIPPET" }] }]
    })
    expect(snippet).toEqual({ rows: [{ keys: [A, "linen throw"], clicks: 6, impressions: 60, ctr: 0.1, position: 1 }], responseAggregationType: "byPage" })
    const appearances = await query({ startDate: "2026-07-01", endDate: "2026-07-15", dimensions: ["searchAppearance"] })
    expect(appearances.rows).toEqual([{ keys: ["FEATURED_SNIPPET"], clicks: 6, impressions: 60, ctr: 0.1, position: 1 }])
    const total = await query({ startDate: "2026-07-01", endDate: "2026-07-15" })
    expect(total.rows).toEqual([{ clicks: 24, impressions: 420, ctr: 24 / 420, position: (570 + 1600) / 420 }])
  })

  it("refuses searchAppearance grouped with another dimension: 400 INVALID_ARGUMENT", async () => {
    const error = await failure(query({ startDate: "2026-07-01", endDate: "2026-07-15", dimensions: ["searchAppearance", "page"] }))
    expect(error.status).toBe(400)
    expect(error.response?.data.error).toMatchObject({ code: 400, status: "INVALID_ARGUMENT" })
    expect(error.response?.data.error.message).toMatch(/searchAppearance/)
  })

  it("validates the body with messages naming the field", async () => {
    const cases: ReadonlyArray<[searchconsole_v1.Schema$SearchAnalyticsQueryRequest, RegExp]> = [
      [{ endDate: "2026-07-10" }, /startDate/],
      [{ startDate: "2026-07-10", endDate: "2026-07-32" }, /endDate/],
      [{ startDate: "2026-07-11", endDate: "2026-07-10" }, /startDate must be earlier/],
      [{ startDate: "2026-07-10", endDate: "2026-07-10", dimensions: ["hostname"] }, /dimensions\[0\]/],
      [{ startDate: "2026-07-10", endDate: "2026-07-10", rowLimit: 25_001 }, /rowLimit/],
      [{ startDate: "2026-07-10", endDate: "2026-07-10", startRow: -1 }, /startRow/],
      [{ startDate: "2026-07-10", endDate: "2026-07-10", dimensions: ["page"], aggregationType: "byProperty" }, /aggregate by property/],
      [{ startDate: "2026-07-10", endDate: "2026-07-10", dataState: "fresh" }, /dataState/],
      [{ startDate: "2026-07-10", endDate: "2026-07-10", dimensionFilterGroups: [{ filters: [{ dimension: "date", expression: "x" }] }] }, /dimension/]
    ]
    for (const [body, message] of cases) {
      const error = await failure(query(body))
      expect(error.status, JSON.stringify(body)).toBe(400)
      expect(error.response?.data.error.message).toMatch(message)
    }
    const unknownField = await failure(query({ startDate: "2026-07-10", endDate: "2026-07-10", dimensionFilterGroup: [] } as never))
    expect(unknownField.response?.data.error.message).toMatch(/Unknown name "dimensionFilterGroup"/)
  })

  it("answers 401 UNAUTHENTICATED without a token or with a wrong one", async () => {
    const missing = await failure(clientWith().searchanalytics.query({ siteUrl: SITE, requestBody: { startDate: "2026-07-10", endDate: "2026-07-10" } }))
    expect(missing.status).toBe(401)
    expect(missing.response?.data.error).toMatchObject({ code: 401, status: "UNAUTHENTICATED" })
    expect(sim.requests.last()!.headers["authorization"]).toBeUndefined()
    const wrong = await failure(clientWith("ya29.other").searchanalytics.query({ siteUrl: SITE, requestBody: { startDate: "2026-07-10", endDate: "2026-07-10" } }))
    expect(wrong.status).toBe(401)
    expect(wrong.response?.data.error.message).toMatch(/^Request had invalid authentication credentials/)
  })

  it("answers 403 PERMISSION_DENIED for a property the user cannot read", async () => {
    for (const siteUrl of ["https://other.example/", "https://shop.example"]) {
      const error = await failure(query({ startDate: "2026-07-10", endDate: "2026-07-10" }, siteUrl))
      expect(error.status).toBe(403)
      expect(error.response?.data.error).toMatchObject({ code: 403, status: "PERMISSION_DENIED", message: expect.stringContaining(`for site '${siteUrl}'`) })
    }
  })

  it("surfaces an injected 429 as an error with code 429, then answers again", async () => {
    sim.faults.rateLimitNext(30)
    const error = await failure(query({ startDate: "2026-07-10", endDate: "2026-07-10" }))
    expect(error.status).toBe(429)
    expect(error.code).toBe(429)
    expect(error.response?.headers.get("retry-after")).toBe("30")
    expect(error.response?.data.error).toMatchObject({ code: 429, status: "RESOURCE_EXHAUSTED", message: expect.stringMatching(/^Quota exceeded for quota metric/) })
    sim.faults.failNext(503)
    expect((await failure(query({ startDate: "2026-07-10", endDate: "2026-07-10" }))).response?.data.error.status).toBe("UNAVAILABLE")
    expect((await query({ startDate: "2026-07-10", endDate: "2026-07-10" })).rows?.[0]?.clicks).toBe(19)
  })
})

describe("demoSearchRows", () => {
  const sum = (rows: ReadonlyArray<SearchFactRow>, from: string, to: string) =>
    rows.filter((r) => !r.searchAppearance && r.date >= from && r.date <= to).reduce((n, r) => n + r.clicks, 0)

  it("is deterministic and gives a decaying page under 60 % of its previous clicks over the last 14 days", async () => {
    const options = { pages: 30, days: 56, endDate: "2026-07-12", seed: 7 }
    const plain = demoSearchRows(options)
    expect(demoSearchRows(options)).toEqual(plain)
    expect(demoSearchRows({ ...options, seed: 8 })).not.toEqual(plain)
    const pages = [...new Set(plain.map((r) => r.page))]
    expect(pages).toHaveLength(30)
    expect(pages.every((p) => /^https:\/\/shop\.example\/(products|blogs\/news|pages)\/[a-z0-9-]+$/.test(p))).toBe(true)
    const decaying = pages[3]!
    const decayed = demoSearchRows({ ...options, decayingPages: [decaying] })
    const of = (rows: ReadonlyArray<SearchFactRow>, page: string) => rows.filter((r) => r.page === page)
    // last 14 days: 06-29 … 07-12; previous 14: 06-15 … 06-28
    const recent = sum(of(decayed, decaying), "2026-06-29", "2026-07-12")
    const previous = sum(of(decayed, decaying), "2026-06-15", "2026-06-28")
    expect(recent).toBeLessThan(previous * 0.6)
    expect(recent).toBeGreaterThan(previous * 0.3)
    // the same page without the decay holds steady, and the other pages are untouched
    const steady = sum(of(plain, decaying), "2026-06-29", "2026-07-12") / sum(of(plain, decaying), "2026-06-15", "2026-06-28")
    expect(steady).toBeGreaterThan(0.8)
    expect(decayed.filter((r) => r.page !== decaying)).toEqual(plain.filter((r) => r.page !== decaying))

    // snippets and opportunities are there
    const snippetPairs = new Set(plain.filter((r) => r.searchAppearance === "FEATURED_SNIPPET").map((r) => `${r.page} ${r.query}`))
    expect(snippetPairs.size).toBe(2)
    const perQuery = new Map<string, { impressions: number; weighted: number }>()
    for (const r of plain.filter((r) => !r.searchAppearance)) {
      const q = perQuery.get(r.query) ?? { impressions: 0, weighted: 0 }
      q.impressions += r.impressions
      q.weighted += r.position * r.impressions
      perQuery.set(r.query, q)
    }
    const opportunities = [...perQuery.values()].filter((q) => q.weighted / q.impressions >= 8 && q.weighted / q.impressions <= 20 && q.impressions / 56 >= 200)
    expect(opportunities.length).toBeGreaterThanOrEqual(3)

    // and the simulator serves the same decline (final data: the demo ends on today − 3)
    sim.setRows(SITE, decayed)
    try {
      const weekly = async (startDate: string, endDate: string) =>
        (await query({ startDate, endDate, dimensionFilterGroups: [{ filters: [{ dimension: "page", expression: decaying }] }] })).rows?.[0]?.clicks ?? 0
      expect(await weekly("2026-06-29", "2026-07-12")).toBe(recent)
      expect(await weekly("2026-06-15", "2026-06-28")).toBe(previous)
    } finally {
      sim.setRows(SITE, FACTS)
    }
  })
})
