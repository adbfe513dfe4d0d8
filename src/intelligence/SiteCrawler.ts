/**
 * The site audit's crawler: walks a shop's storefront the way a polite search-engine bot does
 * and hands back what `domain/intelligence/siteAudit.ts` scores. It reads `/robots.txt` first,
 * then fetches breadth-first from `/` and the sitemap URLs, same origin only, never more than
 * `concurrency` requests at once and never more than `maxPages` pages. Every linked URL that is
 * fetched keeps its status and the pages linking to it, so broken internal links are known
 * with their sources (a GET counts; no HEAD requests).
 */
import { Effect } from "effect"
import { type CrawledPage, decodeEntities, extractPage, parseRobots, type Robots } from "../../domain/intelligence/siteAudit.ts"

export interface CrawlOptions {
  /** The storefront's origin, e.g. `https://shop.example` (a path is ignored). */
  readonly origin: string
  /** Default: the global `fetch`. */
  readonly fetch?: typeof fetch
  /** Page budget: at most this many page requests (robots.txt and sitemaps not counted). Default 200. */
  readonly maxPages?: number
  /** Requests in flight at most (pages and sitemaps). Default 4. */
  readonly concurrency?: number
  /** Per request, headers and body. Default 10 s; a timeout is recorded as status 0. */
  readonly timeoutMs?: number
  /** The robots.txt product token and `User-Agent` header. Default `SumeruAudit`. */
  readonly userAgent?: string
  /** Sitemap files read at most (a sitemap index's children included). Default 20. */
  readonly maxSitemaps?: number
}

export interface CrawlRobots extends Robots {
  /** robots.txt's status: 404 (or any 4xx) allows everything; 5xx or 0 (unreachable) allows nothing, per RFC 9309. */
  readonly status: number
}

export interface CrawlResult {
  /** Every page fetched, in crawl order (BFS level by level, discovery order within a level). */
  readonly pages: ReadonlyArray<CrawledPage & { readonly error: string | null }>
  readonly robots: CrawlRobots
  /** Same-origin URLs found but not fetched because robots.txt disallows them. */
  readonly blocked: ReadonlyArray<string>
  /** Same-origin URLs found but not fetched because the page budget ran out. */
  readonly unvisited: number
}

interface Fetched {
  readonly status: number
  readonly contentType: string
  readonly body: string | null
  readonly location: string | null
  readonly error: string | null
}

const DEFAULTS = { maxPages: 200, concurrency: 4, timeoutMs: 10_000, userAgent: "SumeruAudit", maxSitemaps: 20 } as const

/** `<loc>` values of a sitemap or sitemap index (not `<image:loc>`), entities decoded. */
export const sitemapLocs = (xml: string): { readonly index: boolean; readonly locs: ReadonlyArray<string> } => ({
  index: /<sitemapindex[\s>]/i.test(xml),
  locs: [...xml.matchAll(/<loc>\s*(?:<!\[CDATA\[)?\s*([^<\]]*?)\s*(?:\]\]>)?\s*<\/loc>/gi)].map((m) => decodeEntities(m[1] ?? ""))
})

const sameOrigin = (href: string, origin: string): string | undefined => {
  try {
    const u = new URL(href, origin)
    if (u.origin !== origin || (u.protocol !== "http:" && u.protocol !== "https:")) return undefined
    u.hash = ""
    return u.href
  } catch {
    return undefined
  }
}

const pathOf = (url: string): string => {
  const u = new URL(url)
  return `${u.pathname}${u.search}`
}

/**
 * Crawls a storefront. Guarantees: robots.txt is the first request, and no URL it disallows
 * for `userAgent` is requested; at most `concurrency` requests are in flight (each BFS level
 * runs through one `Effect.forEach` with that concurrency); at most `maxPages` page requests
 * (the first levels win: `/` and the sitemap URLs, then what they link to, in discovery order);
 * each URL is requested once; redirects are not followed by fetch but their same-origin
 * `Location` joins the next level. Never fails: an unanswered request is a page with status 0.
 */
export const crawlSite = Effect.fn("SiteCrawler.crawlSite")(function* (options: CrawlOptions) {
  const origin = new URL(options.origin).origin
  const fetchFn = options.fetch ?? globalThis.fetch
  const maxPages = Math.max(0, options.maxPages ?? DEFAULTS.maxPages)
  const concurrency = Math.max(1, options.concurrency ?? DEFAULTS.concurrency)
  const timeoutMs = options.timeoutMs ?? DEFAULTS.timeoutMs
  const userAgent = options.userAgent ?? DEFAULTS.userAgent
  const maxSitemaps = options.maxSitemaps ?? DEFAULTS.maxSitemaps

  const get = (url: string): Effect.Effect<Fetched> =>
    Effect.tryPromise({
      try: async (signal) => {
        const response = await fetchFn(url, {
          redirect: "manual",
          headers: { "User-Agent": userAgent, Accept: "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8" },
          signal: AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)])
        })
        const contentType = (response.headers.get("content-type") ?? "").toLowerCase()
        const readable = response.ok && /html|xml|text\/plain/.test(contentType)
        const body = readable ? await response.text() : null
        if (!readable) await response.body?.cancel()
        return { status: response.status, contentType, body, location: response.headers.get("location"), error: null }
      },
      catch: (cause) => cause
    }).pipe(
      Effect.catch((cause) =>
        Effect.succeed<Fetched>({ status: 0, contentType: "", body: null, location: null, error: cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause) })
      )
    )

  // robots.txt
  const robotsAnswer = yield* get(`${origin}/robots.txt`)
  const robotsText =
    robotsAnswer.status >= 200 && robotsAnswer.status < 300 ? (robotsAnswer.body ?? "") : robotsAnswer.status >= 400 && robotsAnswer.status < 500 ? "" : "User-agent: *\nDisallow: /\n"
  const parsed = parseRobots(robotsText, userAgent)
  const robots: CrawlRobots = { ...parsed, status: robotsAnswer.status }

  // sitemaps: robots' Sitemap lines (same origin), else /sitemap.xml; an index's children follow
  const linkedFrom = new Map<string, Array<string>>()
  const link = (to: string, from: string): void => {
    const sources = linkedFrom.get(to)
    if (sources === undefined) linkedFrom.set(to, [from])
    else if (!sources.includes(from)) sources.push(from)
  }
  const seeds: Array<string> = [`${origin}/`]
  const sitemapSeen = new Set<string>()
  let sitemapLevel = (robots.sitemaps.length > 0 ? robots.sitemaps : [`${origin}/sitemap.xml`]).flatMap((s) => sameOrigin(s, origin) ?? [])
  while (sitemapLevel.length > 0 && sitemapSeen.size < maxSitemaps) {
    const batch = [...new Set(sitemapLevel)].filter((s) => !sitemapSeen.has(s)).slice(0, maxSitemaps - sitemapSeen.size)
    batch.forEach((s) => sitemapSeen.add(s))
    const answers = yield* Effect.forEach(batch, (s) => Effect.map(get(s), (a) => [s, a] as const), { concurrency })
    sitemapLevel = []
    for (const [sitemap, answer] of answers) {
      if (answer.body === null) continue
      const { index, locs } = sitemapLocs(answer.body)
      for (const loc of locs) {
        const url = sameOrigin(loc, origin)
        if (url === undefined) continue
        if (index) sitemapLevel.push(url)
        else {
          seeds.push(url)
          link(url, sitemap)
        }
      }
    }
  }

  // BFS over pages
  const seen = new Set<string>()
  const blocked: Array<string> = []
  const pages: Array<CrawledPage & { readonly error: string | null }> = []
  const admit = (urls: ReadonlyArray<string>): Array<string> => {
    const out: Array<string> = []
    for (const url of urls) {
      if (seen.has(url)) continue
      seen.add(url)
      if (robots.allows(pathOf(url))) out.push(url)
      else blocked.push(url)
    }
    return out
  }
  let level = admit(seeds)
  while (level.length > 0 && pages.length < maxPages) {
    const batch = level.slice(0, maxPages - pages.length)
    const answers = yield* Effect.forEach(batch, (url) => Effect.map(get(url), (answer) => [url, answer] as const), { concurrency })
    const found: Array<string> = []
    const results: Array<{ readonly url: string; readonly answer: Fetched; readonly page: CrawledPage["page"] }> = []
    for (const [url, answer] of answers) {
      const page = answer.body !== null && answer.contentType.includes("html") ? extractPage(url, answer.body) : null
      results.push({ url, answer, page })
      const targets = page?.links ?? []
      for (const target of targets) {
        link(target, url)
        found.push(target)
      }
      const redirect = answer.location === null ? undefined : sameOrigin(answer.location, url)
      if (redirect !== undefined && answer.status >= 300 && answer.status < 400) {
        link(redirect, url)
        found.push(redirect)
      }
    }
    for (const { url, answer, page } of results) pages.push({ url, status: answer.status, page, linkedFrom: [], error: answer.error })
    level = admit(found)
  }
  // linkedFrom is read at the end: links found after a page was fetched count too
  return {
    pages: pages.map((p) => ({ ...p, linkedFrom: [...(linkedFrom.get(p.url) ?? [])] })),
    robots,
    blocked,
    unvisited: seen.size - blocked.length - pages.length
  } satisfies CrawlResult
})
