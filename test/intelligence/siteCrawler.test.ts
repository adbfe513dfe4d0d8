/**
 * The site crawler over real HTTP against the storefront simulator: robots.txt is read first and
 * obeyed (the simulator's log never shows a disallowed path — and does once robots.txt is gone),
 * the sitemap index leads to pages no menu links, the page budget caps the requests, no more
 * requests are in flight than the concurrency allows, and the broken link is reported with the
 * page that links to it.
 */
import { Effect } from "effect"
import { afterEach, describe, expect, it } from "vitest"
import { auditSummary } from "../../domain/intelligence/siteAudit.ts"
import { crawlSite } from "../../src/intelligence/SiteCrawler.ts"
import { type RunningStorefrontSimulator, startStorefrontSimulator, type StorefrontOptions } from "../../src/simulator/storefront/index.ts"

const sims: Array<RunningStorefrontSimulator> = []
const start = async (options: StorefrontOptions = {}) => {
  const sim = await startStorefrontSimulator(options)
  sims.push(sim)
  return sim
}
afterEach(async () => {
  await Promise.all(sims.splice(0).map((s) => s.stop()))
})

const isInfrastructure = (path: string) => path === "/robots.txt" || /^\/sitemap[^/]*\.xml$/.test(path)
const disallowed = (path: string, search: string) =>
  path === "/cart" || path === "/search" || path.startsWith("/account") || path.startsWith("/policies/") || search.includes("sort_by")

describe("crawlSite", () => {
  it("reads robots.txt first, never requests what it disallows, follows the sitemap index and finds the broken link", async () => {
    const sim = await start({ latencyMs: 5 })
    const result = await Effect.runPromise(crawlSite({ origin: sim.origin }))

    const log = sim.requests.entries
    expect(log[0]?.path).toBe("/robots.txt")
    expect(log.filter((e) => disallowed(e.path, e.search))).toEqual([])
    // the menu links to them; robots.txt is what kept the crawler out
    expect(result.blocked).toEqual(expect.arrayContaining([`${sim.origin}/cart`, `${sim.origin}/search`, `${sim.origin}/policies/refund-policy`, `${sim.origin}/collections/all?sort_by=price-ascending`]))
    // each URL once
    const paths = log.map((e) => `${e.path}${e.search}`)
    expect(new Set(paths).size).toBe(paths.length)
    // the sitemap index and its children were read; /pages/wholesale is linked from no page, only listed there
    expect(log.filter((e) => isInfrastructure(e.path)).map((e) => e.path)).toEqual(["/robots.txt", "/sitemap.xml", "/sitemap_products_1.xml", "/sitemap_pages_1.xml", "/sitemap_collections_1.xml", "/sitemap_blogs_1.xml"])
    expect(result.pages.find((p) => p.url === `${sim.origin}/pages/wholesale`)?.linkedFrom).toEqual([`${sim.origin}/sitemap_pages_1.xml`])

    const summary = auditSummary(result.pages)
    expect(summary.pagesCrawled).toBe(19)
    expect(summary.brokenLinks).toEqual([{ path: "/products/discontinued", status: 404, linkedFrom: [`${sim.origin}/products/linen-throw`] }])
    const issuesOf = (path: string) => summary.pages.find((p) => p.url === `${sim.origin}${path}`)?.issues
    expect(issuesOf("/products/ceramic-mug")).toContain("meta_description_missing")
    expect(issuesOf("/products/oak-cutting-board")).toEqual(["image_alt_missing:3"])
    expect(issuesOf("/pages/shipping")).toEqual(["h1_multiple"])
    expect(issuesOf("/blogs/news/why-merino")).toEqual([])
  })

  it("without robots.txt (404) everything is allowed, and /sitemap.xml is still tried", async () => {
    const sim = await start({ robots: null })
    const result = await Effect.runPromise(crawlSite({ origin: sim.origin }))
    expect(result.robots.status).toBe(404)
    expect(result.blocked).toEqual([])
    expect(sim.requests.count((e) => e.path === "/cart")).toBe(1)
    expect(sim.requests.count((e) => e.path === "/sitemap.xml")).toBe(1)
  })

  it("obeys the group naming its user agent over the * group", async () => {
    const sim = await start({ robots: (origin) => `User-agent: *\nDisallow: /cart\n\nUser-agent: SumeruAudit\nDisallow: /blogs/\nDisallow: /pages/\nSitemap: ${origin}/sitemap.xml\n` })
    await Effect.runPromise(crawlSite({ origin: sim.origin }))
    expect(sim.requests.count((e) => e.path.startsWith("/blogs/") || e.path.startsWith("/pages/"))).toBe(0)
    expect(sim.requests.count((e) => e.path === "/cart")).toBe(1)
  })

  it("stops at the page budget", async () => {
    const sim = await start()
    const result = await Effect.runPromise(crawlSite({ origin: sim.origin, maxPages: 5, concurrency: 2 }))
    expect(result.pages).toHaveLength(5)
    expect(sim.requests.count((e) => !isInfrastructure(e.path))).toBe(5)
    expect(result.pages[0]?.url).toBe(`${sim.origin}/`)
    expect(result.unvisited).toBeGreaterThan(0)
  })

  it("never has more requests in flight than the concurrency allows", async () => {
    for (const concurrency of [1, 3]) {
      const sim = await start({ latencyMs: 30 })
      const result = await Effect.runPromise(crawlSite({ origin: sim.origin, concurrency }))
      expect(result.pages.length).toBe(19)
      expect(sim.maxInFlight()).toBe(concurrency)
      // the same from the log's timings: no request started while `concurrency` others were open
      const log = sim.requests.entries
      const overlap = Math.max(...log.map((e) => log.filter((o) => o.startedAt <= e.startedAt && (o.endedAt ?? Infinity) > e.startedAt).length))
      expect(overlap).toBeLessThanOrEqual(concurrency)
    }
  })

  it("records an unanswered page as status 0 after the timeout", async () => {
    const sim = await start()
    sim.faults.hangNext({ match: { path: "/pages/about" } })
    sim.setPage("/pages/contact", 500)
    const result = await Effect.runPromise(crawlSite({ origin: sim.origin, timeoutMs: 300 }))
    const about = result.pages.find((p) => p.url === `${sim.origin}/pages/about`)
    expect(about?.status).toBe(0)
    expect(about?.error).toMatch(/Timeout|abort/i)
    expect(auditSummary(result.pages).brokenLinks.map((b) => [b.path, b.status])).toEqual(expect.arrayContaining([["/pages/about", 0], ["/pages/contact", 500]]))
  })
})
