/**
 * The site audit's pure half: robots.txt groups and rule precedence, what the tag scanner reads
 * out of a hand-written page (entities, quoting, comments, scripts, invalid JSON-LD), the scoring
 * rubric on hand-made pages with exact scores and issue codes, and score drops between audits.
 */
import { describe, expect, it } from "vitest"
import { auditSummary, type ExtractedPage, extractPage, parseRobots, scoreDrops, scorePage } from "../../../domain/intelligence/siteAudit.ts"

const ROBOTS = `# Shopify-ish
User-agent: *
Disallow: /cart
Disallow: /collections/*sort_by*
Disallow: /collections/*%2b*
Disallow: /*.json$
Disallow: /blogs/
Allow: /blogs/news/
Disallow: /blogs/news/drafts
Disallow: /tie
Allow: /tie
Disallow:
Sitemap: https://shop.example/sitemap.xml

User-agent: SumeruAudit
User-agent: OtherBot
Disallow: /private   # not for bots
Allow: /private/press

Sitemap: https://shop.example/sitemap-extra.xml
`

describe("parseRobots", () => {
  const star = parseRobots(ROBOTS, "GenericBot")

  it("a path matching no rule is allowed, a Disallow prefix blocks everything under it", () => {
    expect(star.allows("/products/linen")).toBe(true)
    expect(star.allows("/cart")).toBe(false)
    expect(star.allows("/cart/add?id=1")).toBe(false)
    expect(star.allows("/carts")).toBe(false)
    expect(star.allows("/robots.txt")).toBe(true)
  })

  it("the longest matching pattern wins, and Allow wins a tie", () => {
    expect(star.allows("/blogs/")).toBe(false)
    expect(star.allows("/blogs/journal/a")).toBe(false)
    expect(star.allows("/blogs/news/caring-for-linen")).toBe(true)
    expect(star.allows("/blogs/news/drafts/next")).toBe(false)
    expect(star.allows("/tie")).toBe(true)
  })

  it("* matches any run of characters (query included), $ anchors the end, escapes compare case-insensitively", () => {
    expect(star.allows("/collections/all")).toBe(true)
    expect(star.allows("/collections/all?sort_by=price-ascending")).toBe(false)
    expect(star.allows("/collections/a%2Bb")).toBe(false)
    expect(star.allows("/products/linen.json")).toBe(false)
    expect(star.allows("/products/linen.json?v=2")).toBe(true)
    expect(star.allows("https://shop.example/cart?x=1")).toBe(false)
  })

  it("a group naming the agent replaces the * group; its product token matches any case and version", () => {
    for (const agent of ["SumeruAudit", "sumeruaudit", "SumeruAudit/1.0"]) {
      const named = parseRobots(ROBOTS, agent)
      expect(named.allows("/cart")).toBe(true)
      expect(named.allows("/private/orders")).toBe(false)
      expect(named.allows("/private/press/kit")).toBe(true)
    }
    expect(parseRobots(ROBOTS, "OtherBot").allows("/private")).toBe(false)
  })

  it("sitemaps come from anywhere in the file; no applicable group allows everything", () => {
    expect(star.sitemaps).toEqual(["https://shop.example/sitemap.xml", "https://shop.example/sitemap-extra.xml"])
    expect(parseRobots("").allows("/anything")).toBe(true)
    expect(parseRobots("User-agent: Nutch\nDisallow: /\n").allows("/cart")).toBe(true)
    expect(parseRobots("User-agent: *\nDisallow: /\n").allows("/")).toBe(false)
  })
})

const HAND_WRITTEN = `<!DOCTYPE html>
<HTML lang=en>
<head>
<Title>Tom &amp; Jerry&#39;s &quot;Shop&quot; &lt;1&gt;</Title>
<title>Second title</title>
<meta NAME="Description" content='Fish &amp; chips &#x2014; "best" in town'>
<meta name=robots content="NOINDEX, follow">
<link rel="alternate canonical" href="/products/fish">
<script type="application/ld+json">{"@type":"Product","name":"Fish","offers":{"@type":"Offer","price":"9.50"}}</script>
<script type="application/ld+json">{ "@type": "Organization", }</script>
<script>var s = "<h1>not a heading</h1> <a href='/nope'>"; </script>
<style>h1::after { content: "<a href='/style'>" }</style>
</head>
<body>
<!-- <h1>commented</h1> <a href="/commented">x</a> -->
<h1 class=title>Fish <em>&amp;</em> Chips</h1>
<p>Fresh fish, fried daily.</p>
<img src="/img/a.jpg" alt="A plate">
<IMG SRC='/img/b.jpg'>
<img src=/img/c.jpg alt="">
<a href="/pages/about#team">About</a>
<a href="/pages/about">About again</a>
<a href='https://elsewhere.example/x'>Elsewhere</a>
<a href="mailto:a@b.c">Mail</a>
<a href="#top">Top</a>
<a href="//shop.example/blogs/news">Blog</a>
<a href="../collections/all?page=2">All</a>
<A HREF=https://shop.example/cart>Cart</A>
</body></HTML>`

describe("extractPage", () => {
  const page = extractPage("https://shop.example/products/fish", HAND_WRITTEN)

  it("reads the head: first title and meta description with entities decoded, canonical resolved, robots noindex", () => {
    expect(page.title).toBe(`Tom & Jerry's "Shop" <1>`)
    expect(page.metaDescription).toBe(`Fish & chips \u2014 "best" in town`)
    expect(page.canonical).toBe("https://shop.example/products/fish")
    expect(page.noindex).toBe(true)
  })

  it("reads headings and images outside comments and scripts; alt is null only when absent", () => {
    expect(page.h1s).toEqual(["Fish & Chips"])
    expect(page.images).toEqual([
      { src: "https://shop.example/img/a.jpg", alt: "A plate" },
      { src: "https://shop.example/img/b.jpg", alt: null },
      { src: "https://shop.example/img/c.jpg", alt: "" }
    ])
  })

  it("keeps same-origin http links only, absolute, without fragments, once each", () => {
    expect(page.links).toEqual([
      "https://shop.example/pages/about",
      "https://shop.example/blogs/news",
      "https://shop.example/collections/all?page=2",
      "https://shop.example/cart"
    ])
  })

  it("parses JSON-LD blocks and counts the invalid one; counts words of body copy only", () => {
    expect(page.jsonLd).toEqual([{ "@type": "Product", name: "Fish", offers: { "@type": "Offer", price: "9.50" } }])
    expect(page.jsonLdInvalid).toBe(1)
    // Fish Chips · Fresh fish fried daily · About · About again · Elsewhere · Mail · Top · Blog · All · Cart
    expect(page.wordCount).toBe(15)
  })

  it("scores the page by the rubric", () => {
    expect(scorePage(page, { status: 200 })).toEqual({
      score: 61,
      issues: ["meta_description_length", "image_alt_missing:2", "jsonld_invalid", "noindex"]
    })
  })

  it("survives unterminated markup", () => {
    const broken = extractPage("https://shop.example/", `<title>Half<h1>Open <img src="/x.jpg <!-- never closed`)
    expect(broken.title).toBe("Half<h1>Open <img src=\"/x.jpg <!-- never closed")
    expect(broken.h1s).toEqual([])
  })
})

const page = (over: Partial<ExtractedPage> = {}): ExtractedPage => ({
  url: "https://shop.example/pages/about",
  title: "About our studio",
  metaDescription: "Who we are: a small studio making durable goods for the home.",
  canonical: null,
  h1s: ["About us"],
  images: [{ src: "https://shop.example/a.jpg", alt: "The studio" }],
  links: [],
  jsonLd: [],
  jsonLdInvalid: 0,
  wordCount: 400,
  noindex: false,
  ...over
})

const productJsonLd = { "@context": "http://schema.org/", "@type": "Product", name: "Linen Throw", offers: [{ "@type": "Offer", price: "89.00", priceCurrency: "EUR" }] }

describe("scorePage", () => {
  it("a clean content page and a clean product page score 100", () => {
    expect(scorePage(page({ canonical: "https://shop.example/pages/about/" }), { status: 200 })).toEqual({ score: 100, issues: [] })
    expect(scorePage(page({ url: "https://shop.example/products/linen-throw", jsonLd: [productJsonLd], wordCount: 40 }), { status: 200 })).toEqual({ score: 100, issues: [] })
  })

  it("a non-2xx answer scores 0; a 2xx that is not HTML too", () => {
    expect(scorePage(page(), { status: 404 })).toEqual({ score: 0, issues: ["http_status:404"] })
    expect(scorePage(null, { status: 0 })).toEqual({ score: 0, issues: ["http_status:0"] })
    expect(scorePage(null, { status: 200 })).toEqual({ score: 0, issues: ["not_html"] })
  })

  it("a product page with everything wrong: −20 −15 −5 −10 (alt, capped) −10 −10 −20 −5 = 5", () => {
    const worst = page({
      url: "https://shop.example/products/linen-throw",
      title: null,
      metaDescription: null,
      h1s: ["Linen Throw", "Sumeru"],
      images: Array.from({ length: 6 }, (_, i) => ({ src: `https://shop.example/${i}.jpg`, alt: i % 2 === 0 ? null : " " })),
      jsonLd: [],
      jsonLdInvalid: 1,
      noindex: true,
      canonical: "https://shop.example/collections/all",
      wordCount: 10
    })
    expect(scorePage(worst, { status: 200 })).toEqual({
      score: 5,
      issues: ["title_missing", "meta_description_missing", "h1_multiple", "image_alt_missing:6", "product_jsonld_missing", "jsonld_invalid", "noindex", "canonical_elsewhere"]
    })
  })

  it("a thin content page with short title and description and no H1: −5 −5 −10 −5 = 75", () => {
    const thin = page({ title: "About", metaDescription: "We make things for your home.", h1s: [], wordCount: 149 })
    expect(scorePage(thin, { status: 200 })).toEqual({ score: 75, issues: ["title_length", "meta_description_length", "h1_missing", "thin_content"] })
    expect(scorePage(page({ title: "x".repeat(61), metaDescription: "y".repeat(161), wordCount: 150 }), { status: 200 })).toEqual({ score: 90, issues: ["title_length", "meta_description_length"] })
  })

  it("a Product (inside @graph) without a priced offer costs 5; an AggregateOffer lowPrice counts as a price", () => {
    const graph = (offers: unknown) => [{ "@context": "https://schema.org", "@graph": [{ "@type": "BreadcrumbList" }, { "@type": ["Product"], name: "Mug", ...(offers === undefined ? {} : { offers }) }] }]
    const url = "https://shop.example/collections/kitchen/products/mug"
    expect(scorePage(page({ url, jsonLd: graph(undefined) }), { status: 200 })).toEqual({ score: 95, issues: ["product_offer_missing"] })
    expect(scorePage(page({ url, jsonLd: graph({ "@type": "Offer", availability: "InStock" }) }), { status: 200 })).toEqual({ score: 95, issues: ["product_offer_missing"] })
    expect(scorePage(page({ url, jsonLd: graph({ "@type": "AggregateOffer", lowPrice: 12 }) }), { status: 200 })).toEqual({ score: 100, issues: [] })
  })

  it("images without alt cost 2 each", () => {
    const images = [{ src: "a", alt: null }, { src: "b", alt: "" }, { src: "c", alt: "ok" }]
    expect(scorePage(page({ images }), { status: 200 })).toEqual({ score: 96, issues: ["image_alt_missing:2"] })
  })
})

describe("auditSummary and scoreDrops", () => {
  it("averages the pages (redirects left out, broken pages as 0) and lists broken links with their sources", () => {
    const summary = auditSummary([
      { url: "https://shop.example/", status: 200, page: page({ url: "https://shop.example/" }), linkedFrom: [] },
      { url: "https://shop.example/pages/old", status: 301, page: null, linkedFrom: ["https://shop.example/"] },
      { url: "https://shop.example/pages/thin", status: 200, page: page({ url: "https://shop.example/pages/thin", wordCount: 3 }), linkedFrom: [] },
      { url: "https://shop.example/products/gone?variant=1", status: 404, page: null, linkedFrom: ["https://shop.example/", "https://shop.example/pages/thin"] }
    ])
    expect(summary.score).toBe(65) // (100 + 95 + 0) / 3
    expect(summary.pagesCrawled).toBe(4)
    expect(summary.brokenLinks).toEqual([{ path: "/products/gone?variant=1", status: 404, linkedFrom: ["https://shop.example/", "https://shop.example/pages/thin"] }])
    expect(summary.pages.map((p) => p.score)).toEqual([100, 0, 95, 0])
  })

  it("reports pages that lost at least minDrop points, biggest drop first", () => {
    const previous = { pages: [{ url: "/a", score: 90 }, { url: "/b", score: 80 }, { url: "/c", score: 50 }, { url: "/gone", score: 100 }] }
    const current = [{ url: "/a", score: 75 }, { url: "/b", score: 75 }, { url: "/c", score: 20 }, { url: "/new", score: 0 }]
    expect(scoreDrops(previous, current)).toEqual([
      { url: "/c", priorScore: 50, score: 20, dropPoints: 30 },
      { url: "/a", priorScore: 90, score: 75, dropPoints: 15 }
    ])
    expect(scoreDrops(previous, current, 5).map((d) => d.url)).toEqual(["/c", "/a", "/b"])
    expect(scoreDrops(current, previous)).toEqual([])
  })
})
