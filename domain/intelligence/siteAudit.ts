/**
 * The site audit's pure half: what a crawler needs to decide what it may fetch (`parseRobots`),
 * what it reads out of a storefront page (`extractPage`), how a page is scored (`scorePage`,
 * rubric below) and how one crawl compares to the last (`auditSummary`, `scoreDrops`).
 * No I/O and no DOM library: `extractPage` is a small tag scanner that tolerates the HTML
 * Shopify themes actually emit (unquoted and single-quoted attributes, any case, comments,
 * entities, JSON-LD in script blocks).
 */

// ---------------------------------------------------------------------------------------
// robots.txt

/** What robots.txt says to one user agent. */
export interface Robots {
  /** Whether `path` (a path with its query, or an absolute URL) may be fetched. */
  readonly allows: (path: string) => boolean
  /** The `Sitemap:` URLs, in file order (they apply to every user agent). */
  readonly sitemaps: ReadonlyArray<string>
}

interface RobotsRule {
  readonly allow: boolean
  readonly pattern: string
  readonly regex: RegExp
}

interface RobotsGroup {
  readonly agents: Array<string>
  readonly rules: Array<RobotsRule>
}

const ruleRegex = (pattern: string): RegExp => {
  const anchored = pattern.endsWith("$")
  const body = anchored ? pattern.slice(0, -1) : pattern
  const source = body.split("*").map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(".*")
  return new RegExp(`^${source}${anchored ? "$" : ""}`)
}

/** `%xx` escapes in upper case, so `/a%2b` and `/a%2B` compare equal (RFC 9309 §2.2.2). */
const normalizeEscapes = (s: string): string => s.replace(/%[0-9a-f]{2}/gi, (m) => m.toUpperCase())

const pathOf = (pathOrUrl: string): string => {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(pathOrUrl)) {
    try {
      const u = new URL(pathOrUrl)
      return `${u.pathname}${u.search}`
    } catch {
      return pathOrUrl
    }
  }
  return pathOrUrl.startsWith("/") ? pathOrUrl : `/${pathOrUrl}`
}

/**
 * Parses robots.txt (RFC 9309, with Google's extensions) for `userAgent`:
 * - groups start at one or more consecutive `User-agent:` lines; the rules of every group
 *   naming the agent's product token (case-insensitive, version ignored: `SumeruAudit/1.0` is
 *   `sumeruaudit`) apply, merged; when none names it, the `*` groups apply; when there is no
 *   `*` group either, everything is allowed;
 * - of the `Allow`/`Disallow` rules matching a path, the longest pattern wins, `Allow` on a tie;
 *   no match allows; an empty `Disallow:` allows everything; `/robots.txt` is always allowed;
 * - patterns match from the start of the path (with its query): `*` is any run of characters,
 *   a trailing `$` anchors the end; percent escapes compare case-insensitively;
 * - `Sitemap:` lines belong to no group; comments (`#`) and unknown fields are ignored.
 */
export const parseRobots = (text: string, userAgent = "SumeruAudit"): Robots => {
  const token = (userAgent.split("/")[0] ?? userAgent).trim().toLowerCase()
  const groups: Array<RobotsGroup> = []
  const sitemaps: Array<string> = []
  let current: RobotsGroup | undefined
  let lastWasAgent = false
  for (const raw of text.split(/\r\n|\r|\n/)) {
    const line = (raw.split("#")[0] ?? "").trim()
    const colon = line.indexOf(":")
    if (colon <= 0) continue
    const field = line.slice(0, colon).trim().toLowerCase()
    const value = line.slice(colon + 1).trim()
    if (field === "user-agent") {
      if (!lastWasAgent || current === undefined) {
        current = { agents: [], rules: [] }
        groups.push(current)
      }
      current.agents.push(value.toLowerCase())
      lastWasAgent = true
      continue
    }
    lastWasAgent = false
    if (field === "sitemap") {
      if (value !== "") sitemaps.push(value)
    } else if ((field === "allow" || field === "disallow") && current !== undefined && value !== "") {
      const pattern = normalizeEscapes(value.startsWith("/") || value.startsWith("*") ? value : `/${value}`)
      current.rules.push({ allow: field === "allow", pattern, regex: ruleRegex(pattern) })
    }
  }
  const named = groups.filter((g) => g.agents.some((a) => a !== "*" && (a.split("/")[0] ?? a) === token))
  const chosen = named.length > 0 ? named : groups.filter((g) => g.agents.includes("*"))
  const rules = chosen.flatMap((g) => g.rules)
  const allows = (pathOrUrl: string): boolean => {
    const path = normalizeEscapes(pathOf(pathOrUrl))
    if (path === "/robots.txt") return true
    let best: RobotsRule | undefined
    for (const rule of rules) {
      if (!rule.regex.test(path)) continue
      if (best === undefined || rule.pattern.length > best.pattern.length || (rule.pattern.length === best.pattern.length && rule.allow)) best = rule
    }
    return best === undefined || best.allow
  }
  return { allows, sitemaps }
}

// ---------------------------------------------------------------------------------------
// Page extraction

export interface ExtractedImage {
  /** Absolute URL (as written when it cannot be resolved). */
  readonly src: string
  /** The `alt` attribute; null when the attribute is absent. */
  readonly alt: string | null
}

/** What the audit reads out of one HTML page. */
export interface ExtractedPage {
  readonly url: string
  /** The first `<title>`'s text, whitespace collapsed; null without one. */
  readonly title: string | null
  /** `<meta name="description" content>`; null without one. */
  readonly metaDescription: string | null
  /** `<link rel="canonical" href>`, absolute; null without one. */
  readonly canonical: string | null
  /** The text of each `<h1>`, whitespace collapsed. */
  readonly h1s: ReadonlyArray<string>
  readonly images: ReadonlyArray<ExtractedImage>
  /** `<a href>` targets: absolute, http(s), same origin as `url`, without fragments, deduplicated in page order. */
  readonly links: ReadonlyArray<string>
  /** The parsed `application/ld+json` blocks, in page order. */
  readonly jsonLd: ReadonlyArray<unknown>
  /** `application/ld+json` blocks that are not valid JSON. */
  readonly jsonLdInvalid: number
  /** Words of visible text (outside head, script, style, noscript, template). */
  readonly wordCount: number
  /** `<meta name="robots">` says `noindex` or `none`. */
  readonly noindex: boolean
}

const NAMED_ENTITIES: Readonly<Record<string, string>> = {
  amp: "&", quot: '"', apos: "'", lt: "<", gt: ">", nbsp: "\u00a0",
  ndash: "\u2013", mdash: "\u2014", hellip: "\u2026", lsquo: "\u2018", rsquo: "\u2019", ldquo: "\u201c", rdquo: "\u201d",
  laquo: "\u00ab", raquo: "\u00bb", middot: "\u00b7", copy: "\u00a9", reg: "\u00ae", trade: "\u2122", times: "\u00d7", euro: "\u20ac", pound: "\u00a3"
}

/**
 * Decodes `&amp; &quot; &apos; &lt; &gt; &nbsp;`, the typographic entities themes emit (`&ndash;`,
 * `&rsquo;`, `&hellip;`, `&copy;`…) and numeric references; unknown names stay as written.
 */
export const decodeEntities = (s: string): string =>
  s.indexOf("&") === -1
    ? s
    : s.replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, (whole, ref: string) => {
        if (ref.startsWith("#")) {
          const code = ref[1] === "x" || ref[1] === "X" ? Number.parseInt(ref.slice(2), 16) : Number.parseInt(ref.slice(1), 10)
          return Number.isFinite(code) && code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole
        }
        return NAMED_ENTITIES[ref.toLowerCase()] ?? whole
      })

const collapse = (s: string): string => s.replace(/\s+/g, " ").trim()

/** Elements whose content is raw text (not markup). */
const RAW_TEXT = new Set(["script", "style", "textarea", "title", "xmp", "noscript", "template", "iframe", "noembed", "noframes"])
/** Elements whose text is not page copy. */
const NO_COPY = new Set(["script", "style", "noscript", "template", "iframe", "noembed", "noframes", "xmp"])
/** Inline elements: their tags do not separate words. */
const INLINE = new Set(["a", "abbr", "b", "bdi", "bdo", "cite", "code", "data", "dfn", "em", "i", "kbd", "mark", "q", "s", "samp", "small", "span", "strong", "sub", "sup", "time", "u", "var", "wbr"])

interface Tag {
  readonly name: string
  readonly attrs: ReadonlyMap<string, string>
  readonly end: number
}

const isSpace = (c: string | undefined): boolean => c === " " || c === "\n" || c === "\t" || c === "\r" || c === "\f"

/** Parses the start tag whose name starts at `i` (just after `<`); attribute names lower-cased, first wins. */
const scanStartTag = (html: string, i: number): Tag => {
  let j = i
  while (j < html.length && !isSpace(html[j]) && html[j] !== ">" && html[j] !== "/") j++
  const name = html.slice(i, j).toLowerCase()
  const attrs = new Map<string, string>()
  while (j < html.length) {
    while (j < html.length && (isSpace(html[j]) || html[j] === "/")) j++
    if (j >= html.length || html[j] === ">") break
    const start = j
    while (j < html.length && !isSpace(html[j]) && html[j] !== "=" && html[j] !== ">" && !(html[j] === "/" && html[j + 1] === ">")) j++
    const attr = html.slice(start, j).toLowerCase()
    if (j === start) {
      j++
      continue
    }
    while (isSpace(html[j])) j++
    let value = ""
    if (html[j] === "=") {
      j++
      while (isSpace(html[j])) j++
      const quote = html[j]
      if (quote === '"' || quote === "'") {
        const close = html.indexOf(quote, j + 1)
        const stop = close === -1 ? html.length : close
        value = html.slice(j + 1, stop)
        j = stop + 1
      } else {
        const vs = j
        while (j < html.length && !isSpace(html[j]) && html[j] !== ">") j++
        value = html.slice(vs, j)
      }
    }
    if (!attrs.has(attr)) attrs.set(attr, decodeEntities(value))
  }
  return { name, attrs, end: Math.min(html.length, j + 1) }
}

const resolve = (href: string, base: string): URL | undefined => {
  try {
    return new URL(href, base)
  } catch {
    return undefined
  }
}

const countWords = (text: string): number => text.split(/\s+/).filter((w) => /[\p{L}\p{N}]/u.test(w)).length

/**
 * Reads a page's audit facts out of its HTML. A forward scan, never a tree: comments and
 * `<!DOCTYPE>` are skipped, raw-text elements (script, style, title, textarea…) are read to
 * their closing tag without looking for markup inside, attribute values may be double-,
 * single- or un-quoted, tag and attribute names are case-insensitive, and entities in text and
 * attributes are decoded. Links resolve against `<base href>` when present, else `url`. Only the
 * first `<title>` and the first description, canonical and robots `<meta>`s count. Never throws.
 */
export const extractPage = (url: string, html: string): ExtractedPage => {
  const origin = resolve(url, "http://invalid/")?.origin
  let base = url
  let title: string | null = null
  let metaDescription: string | null = null
  let canonical: string | null = null
  let noindex = false
  let robotsSeen = false
  const h1s: Array<string> = []
  const images: Array<ExtractedImage> = []
  const links: Array<string> = []
  const seenLinks = new Set<string>()
  const jsonLd: Array<unknown> = []
  let jsonLdInvalid = 0
  const copy: Array<string> = []
  let inHead = false
  let h1Depth = 0
  let h1Text = ""

  const text = (t: string): void => {
    if (h1Depth > 0) h1Text += t
    if (!inHead) copy.push(t)
  }

  let i = 0
  while (i < html.length) {
    const lt = html.indexOf("<", i)
    if (lt === -1) {
      text(decodeEntities(html.slice(i)))
      break
    }
    if (lt > i) text(decodeEntities(html.slice(i, lt)))
    const next = html[lt + 1]
    if (html.startsWith("<!--", lt)) {
      const close = html.indexOf("-->", lt + 4)
      i = close === -1 ? html.length : close + 3
      continue
    }
    if (next === "!" || next === "?") {
      const close = html.indexOf(">", lt)
      i = close === -1 ? html.length : close + 1
      continue
    }
    if (next === "/" && /[a-z]/i.test(html[lt + 2] ?? "")) {
      const close = html.indexOf(">", lt)
      const name = html.slice(lt + 2, close === -1 ? html.length : close).trim().split(/[\s/]/)[0]?.toLowerCase() ?? ""
      if (name === "h1" && h1Depth > 0) {
        h1Depth--
        if (h1Depth === 0) {
          h1s.push(collapse(h1Text))
          h1Text = ""
        }
      }
      if (name === "head") inHead = false
      if (!INLINE.has(name)) text(" ")
      i = close === -1 ? html.length : close + 1
      continue
    }
    if (!/[a-z]/i.test(next ?? "")) {
      text("<")
      i = lt + 1
      continue
    }
    const tag = scanStartTag(html, lt + 1)
    i = tag.end
    const a = tag.attrs
    if (!INLINE.has(tag.name)) text(" ")
    switch (tag.name) {
      case "head":
        inHead = true
        break
      case "body":
        inHead = false
        break
      case "h1":
        h1Depth++
        break
      case "base": {
        const href = a.get("href")
        const resolved = href === undefined ? undefined : resolve(href, url)
        if (resolved !== undefined) base = resolved.href
        break
      }
      case "meta": {
        const name = (a.get("name") ?? "").trim().toLowerCase()
        const content = a.get("content")
        if (name === "description" && metaDescription === null && content !== undefined) metaDescription = collapse(content)
        if (name === "robots" && !robotsSeen && content !== undefined) {
          robotsSeen = true
          noindex = content.toLowerCase().split(/[\s,]+/).some((d) => d === "noindex" || d === "none")
        }
        break
      }
      case "link": {
        const rel = (a.get("rel") ?? "").toLowerCase().split(/\s+/)
        const href = a.get("href")
        if (rel.includes("canonical") && canonical === null && href !== undefined) {
          const resolved = resolve(href.trim(), base)
          canonical = resolved === undefined ? href : resolved.href
        }
        break
      }
      case "img": {
        const src = a.get("src") ?? a.get("data-src") ?? ""
        const resolved = src === "" ? undefined : resolve(src.trim(), base)
        images.push({ src: resolved?.href ?? src, alt: a.has("alt") ? (a.get("alt") as string) : null })
        break
      }
      case "a": {
        const href = a.get("href")?.trim()
        const resolved = href === undefined || href === "" || href.startsWith("#") ? undefined : resolve(href, base)
        if (resolved !== undefined && (resolved.protocol === "http:" || resolved.protocol === "https:") && resolved.origin === origin) {
          resolved.hash = ""
          if (!seenLinks.has(resolved.href)) {
            seenLinks.add(resolved.href)
            links.push(resolved.href)
          }
        }
        break
      }
    }
    if (RAW_TEXT.has(tag.name)) {
      const closer = new RegExp(`</${tag.name}[\\s/>]`, "gi")
      closer.lastIndex = i
      const found = closer.exec(html)
      const stop = found === null ? html.length : found.index
      const content = html.slice(i, stop)
      if (tag.name === "title") {
        if (title === null) title = collapse(decodeEntities(content))
      } else if (tag.name === "textarea") {
        text(decodeEntities(content))
      } else if (tag.name === "script" && (a.get("type") ?? "").split(";")[0]?.trim().toLowerCase() === "application/ld+json") {
        try {
          jsonLd.push(JSON.parse(content))
        } catch {
          jsonLdInvalid++
        }
      } else if (!NO_COPY.has(tag.name)) {
        text(decodeEntities(content))
      }
      const close = found === null ? -1 : html.indexOf(">", found.index)
      i = close === -1 ? html.length : close + 1
      text(" ")
    }
  }
  if (h1Depth > 0) h1s.push(collapse(h1Text))

  return {
    url,
    title,
    metaDescription,
    canonical,
    h1s,
    images,
    links,
    jsonLd,
    jsonLdInvalid,
    wordCount: countWords(copy.join("")),
    noindex
  }
}

// ---------------------------------------------------------------------------------------
// Scoring

/** A scored page: 0–100 and the issue codes that cost points. */
export interface PageScore {
  readonly score: number
  readonly issues: ReadonlyArray<string>
}

/** Whether `url` is a product page: `/products/<handle>` (also under a collection, `/collections/x/products/<handle>`). */
export const isProductUrl = (url: string): boolean => /\/products\/[^/]+\/?$/.test(resolve(url, "http://invalid/")?.pathname ?? url)

/** Every node of the JSON-LD blocks: top-level arrays and `@graph` lists flattened. */
const jsonLdNodes = (blocks: ReadonlyArray<unknown>): ReadonlyArray<Record<string, unknown>> => {
  const out: Array<Record<string, unknown>> = []
  const visit = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(visit)
    else if (v !== null && typeof v === "object") {
      const node = v as Record<string, unknown>
      out.push(node)
      if ("@graph" in node) visit(node["@graph"])
    }
  }
  blocks.forEach(visit)
  return out
}

const hasType = (node: Record<string, unknown>, type: string): boolean => {
  const t = node["@type"]
  const types = Array.isArray(t) ? t : [t]
  return types.some((x) => typeof x === "string" && (x === type || x.endsWith(`/${type}`)))
}

const present = (v: unknown): boolean => v !== undefined && v !== null && v !== ""

/** An offer (or list, or AggregateOffer) that names a price. */
const offersPrice = (offers: unknown): boolean => {
  if (Array.isArray(offers)) return offers.some(offersPrice)
  if (offers === null || typeof offers !== "object") return false
  const o = offers as Record<string, unknown>
  if (present(o["price"]) || present(o["lowPrice"])) return true
  const spec = o["priceSpecification"]
  if (Array.isArray(spec) ? spec.some((s) => present((s as Record<string, unknown> | null)?.["price"])) : present((spec as Record<string, unknown> | null | undefined)?.["price"])) return true
  return offersPrice(o["offers"])
}

const sameUrl = (a: string, b: string): boolean => {
  const ua = resolve(a, "http://invalid/")
  const ub = resolve(b, "http://invalid/")
  if (ua === undefined || ub === undefined) return a === b
  const key = (u: URL) => `${u.origin}${u.pathname.length > 1 ? u.pathname.replace(/\/+$/, "") : u.pathname}${u.search}`
  return key(ua) === key(ub)
}

/** Points and limits of the rubric (see `scorePage`). */
export const RUBRIC = {
  titleMissing: 20,
  titleLength: 5,
  titleMin: 10,
  titleMax: 60,
  metaDescriptionMissing: 15,
  metaDescriptionLength: 5,
  metaDescriptionMin: 50,
  metaDescriptionMax: 160,
  h1Missing: 10,
  h1Multiple: 5,
  imageAltEach: 2,
  imageAltMax: 10,
  productJsonLdMissing: 10,
  jsonLdInvalid: 10,
  productOfferMissing: 5,
  noindex: 20,
  canonicalElsewhere: 5,
  thinContent: 5,
  thinContentWords: 150
} as const

/**
 * Scores one crawled page from 100 down; never below 0. The rubric (issue codes are stable —
 * dashboards and `scoreDrops` consumers may key on them):
 *
 * | check | points | issue code |
 * |---|---|---|
 * | HTTP status not 2xx (0 = no answer) | score is 0, nothing else checked | `http_status:<status>` |
 * | 2xx but not HTML (no extracted page) | score is 0 | `not_html` |
 * | `<title>` missing or empty | −20 | `title_missing` |
 * | title shorter than 10 or longer than 60 characters | −5 | `title_length` |
 * | meta description missing or empty | −15 | `meta_description_missing` |
 * | meta description outside 50–160 characters | −5 | `meta_description_length` |
 * | no `<h1>` | −10 | `h1_missing` |
 * | more than one `<h1>` | −5 | `h1_multiple` |
 * | images whose `alt` is absent or blank | −2 each, at most −10 | `image_alt_missing:<count>` |
 * | product page (`/products/<handle>`) without a JSON-LD `Product` node | −10 | `product_jsonld_missing` |
 * | any `application/ld+json` block that is not valid JSON | −10 | `jsonld_invalid` |
 * | product page whose `Product` has no offer with a price (`price`, `lowPrice`, `priceSpecification.price`) | −5 | `product_offer_missing` |
 * | `<meta name="robots">` with `noindex` or `none` | −20 | `noindex` |
 * | canonical URL other than the page's own (fragment and trailing slash ignored) | −5 | `canonical_elsewhere` |
 * | fewer than 150 words of body copy, not a product page | −5 | `thin_content` |
 *
 * Issues are listed in the table's order. A blank `alt=""` is counted as missing: on a shop's
 * product and article images it is almost always an untouched field, not a decorative image.
 */
export const scorePage = (page: ExtractedPage | null, context: { readonly status: number; readonly url?: string }): PageScore => {
  if (context.status < 200 || context.status > 299) return { score: 0, issues: [`http_status:${context.status}`] }
  if (page === null) return { score: 0, issues: ["not_html"] }
  const url = context.url ?? page.url
  const issues: Array<string> = []
  let lost = 0
  const cost = (points: number, issue: string): void => {
    lost += points
    issues.push(issue)
  }
  const title = page.title?.trim() ?? ""
  if (title === "") cost(RUBRIC.titleMissing, "title_missing")
  else if (title.length < RUBRIC.titleMin || title.length > RUBRIC.titleMax) cost(RUBRIC.titleLength, "title_length")
  const description = page.metaDescription?.trim() ?? ""
  if (description === "") cost(RUBRIC.metaDescriptionMissing, "meta_description_missing")
  else if (description.length < RUBRIC.metaDescriptionMin || description.length > RUBRIC.metaDescriptionMax) cost(RUBRIC.metaDescriptionLength, "meta_description_length")
  if (page.h1s.length === 0) cost(RUBRIC.h1Missing, "h1_missing")
  else if (page.h1s.length > 1) cost(RUBRIC.h1Multiple, "h1_multiple")
  const noAlt = page.images.filter((img) => img.alt === null || img.alt.trim() === "").length
  if (noAlt > 0) cost(Math.min(RUBRIC.imageAltMax, noAlt * RUBRIC.imageAltEach), `image_alt_missing:${noAlt}`)
  const product = isProductUrl(url)
  const products = jsonLdNodes(page.jsonLd).filter((n) => hasType(n, "Product"))
  if (product && products.length === 0) cost(RUBRIC.productJsonLdMissing, "product_jsonld_missing")
  if (page.jsonLdInvalid > 0) cost(RUBRIC.jsonLdInvalid, "jsonld_invalid")
  if (product && products.length > 0 && !products.some((p) => offersPrice(p["offers"]))) cost(RUBRIC.productOfferMissing, "product_offer_missing")
  if (page.noindex) cost(RUBRIC.noindex, "noindex")
  if (page.canonical !== null && !sameUrl(page.canonical, url)) cost(RUBRIC.canonicalElsewhere, "canonical_elsewhere")
  if (!product && page.wordCount < RUBRIC.thinContentWords) cost(RUBRIC.thinContent, "thin_content")
  return { score: Math.max(0, 100 - lost), issues }
}

// ---------------------------------------------------------------------------------------
// Summary and comparison

/** One fetched URL of a crawl. */
export interface CrawledPage {
  readonly url: string
  /** HTTP status; 0 when there was no answer (network error, timeout). */
  readonly status: number
  /** The extracted page: null unless the answer was 2xx HTML. */
  readonly page: ExtractedPage | null
  /** Crawled pages (or sitemaps) that link to this URL, in discovery order. */
  readonly linkedFrom: ReadonlyArray<string>
}

export interface BrokenLink {
  /** The path (with query) of the broken URL. */
  readonly path: string
  readonly status: number
  readonly linkedFrom: ReadonlyArray<string>
}

export interface ScoredPage {
  readonly url: string
  readonly score: number
  readonly issues: ReadonlyArray<string>
}

export interface AuditSummary {
  /** Mean page score (redirects excluded), rounded to one decimal; 0 with no pages. */
  readonly score: number
  readonly pagesCrawled: number
  readonly brokenLinks: ReadonlyArray<BrokenLink>
  /** Every crawled URL, in crawl order (redirects are listed, scored 0, not in the mean). */
  readonly pages: ReadonlyArray<ScoredPage>
}

const pathWithQuery = (url: string): string => {
  const u = resolve(url, "http://invalid/")
  return u === undefined ? url : `${u.pathname}${u.search}`
}

/**
 * Scores every crawled page and sums the crawl up: the mean score (a 3xx is a hop, not a page,
 * and stays out of the mean; 4xx/5xx and unanswered URLs count as 0 — a shop's broken pages are
 * its problem), and the broken links — URLs answered 4xx/5xx or not at all — with the pages
 * that link to them, in crawl order.
 */
export const auditSummary = (pages: ReadonlyArray<CrawledPage>): AuditSummary => {
  const scored = pages.map((p) => ({ url: p.url, status: p.status, ...scorePage(p.page, { status: p.status, url: p.url }) }))
  const counted = scored.filter((p) => p.status < 300 || p.status >= 400)
  const mean = counted.length === 0 ? 0 : counted.reduce((s, p) => s + p.score, 0) / counted.length
  return {
    score: Math.round(mean * 10) / 10,
    pagesCrawled: pages.length,
    brokenLinks: pages
      .filter((p) => p.status === 0 || p.status >= 400)
      .map((p) => ({ path: pathWithQuery(p.url), status: p.status, linkedFrom: p.linkedFrom })),
    pages: scored.map(({ url, score, issues }) => ({ url, score, issues }))
  }
}

export interface ScoreDrop {
  readonly url: string
  readonly priorScore: number
  readonly score: number
  readonly dropPoints: number
}

type Scores = ReadonlyArray<{ readonly url: string; readonly score: number }> | { readonly pages: ReadonlyArray<{ readonly url: string; readonly score: number }> }

const pagesOf = (s: Scores) => ("pages" in s ? s.pages : s)

/**
 * The pages whose score fell by at least `minDrop` points between two audits (summaries or
 * their `pages`), biggest drop first, then by URL. Pages missing from either audit are not
 * compared: a page the crawl did not reach this time has not got worse.
 */
export const scoreDrops = (previous: Scores, current: Scores, minDrop = 10): ReadonlyArray<ScoreDrop> => {
  const prior = new Map(pagesOf(previous).map((p) => [p.url, p.score]))
  const drops: Array<ScoreDrop> = []
  for (const p of pagesOf(current)) {
    const before = prior.get(p.url)
    if (before !== undefined && before - p.score >= minDrop) drops.push({ url: p.url, priorScore: before, score: p.score, dropPoints: before - p.score })
  }
  return drops.sort((a, b) => b.dropPoints - a.dropPoints || (a.url < b.url ? -1 : a.url > b.url ? 1 : 0))
}
