/**
 * A Shopify online store's public storefront, just enough for the site audit's tests and the
 * demo: server-rendered HTML shaped like the Dawn theme's — a header menu, product cards,
 * product pages with images, a price and `Product` JSON-LD with offers, content pages, blog
 * articles with `BlogPosting` JSON-LD, a footer with policy links — plus Shopify's default-like
 * `/robots.txt` and its sitemap index (`/sitemap.xml` → `sitemap_products_1.xml`, `_pages_`,
 * `_collections_`, `_blogs_`).
 *
 * Routes: `/`, `/collections/all`, `/products/<handle>`, `/pages/<slug>`, `/blogs/news`,
 * `/blogs/news/<slug>`, `/robots.txt`, the sitemaps, and the paths robots.txt keeps crawlers
 * out of (`/cart`, `/search`, `/account/login`, `/policies/<slug>`, sorted collections) so a
 * test can tell whether a crawler went there. Anything else answers Shopify's 404 page.
 *
 * Test controls: `brokenLinks` put links to missing paths on pages, `quirks` break one page's
 * SEO on purpose (a second H1, noindex, invalid JSON-LD, an offer-less Product, a foreign
 * canonical, no title), `setPage(path, html | status)` replaces any path's answer, and
 * `latencyMs` holds each answer so the in-flight counter (`inFlight`, `maxInFlight`) shows how
 * many requests a client really keeps open. Kit conventions: HTTP faults (`faults`), the HTTP
 * log (`log`, also `requests`).
 */
import { setTimeout as sleep } from "node:timers/promises"
import { HttpFaults } from "../kit/Faults.ts"
import type { HttpExchange, RequestLog } from "../kit/RequestLog.ts"
import { systemClock, type Clock } from "../kit/SimulatedClock.ts"
import { startSimulatorServer, type SimulatorServer } from "../kit/SimulatorServer.ts"

export interface StorefrontImage {
  /** A path or URL (paths are served from the shop's CDN path, `/cdn/shop/files/…`). */
  readonly src: string
  /** null: the `alt` attribute is left out entirely. */
  readonly alt: string | null
}

export interface StorefrontProduct {
  readonly handle: string
  readonly title: string
  /** Plain text; paragraphs separated by blank lines. */
  readonly description: string
  /** e.g. `"49.00"`. */
  readonly price: string
  /** The SEO description; null renders no `<meta name="description">`. Default: the description's first 155 characters. */
  readonly metaDescription?: string | null
  readonly images?: ReadonlyArray<StorefrontImage>
  /** Shown on `/collections/all` and the home page. Default true. */
  readonly listed?: boolean
}

export interface StorefrontPage {
  readonly slug: string
  readonly title: string
  readonly body: string
  readonly metaDescription?: string | null
  /** Linked from the footer menu. Default true (false: reachable only through the sitemap). */
  readonly inMenu?: boolean
}

export interface StorefrontArticle {
  readonly slug: string
  readonly title: string
  readonly body: string
  readonly metaDescription?: string | null
  readonly author?: string
  /** `YYYY-MM-DD`. Default 2026-06-01. */
  readonly publishedAt?: string
  readonly image?: StorefrontImage
}

/** A link from the page at `from` to `to` (a path that answers 404 unless something serves it). */
export interface StorefrontBrokenLink {
  readonly from: string
  readonly to: string
  readonly text?: string
}

/** Deliberate SEO faults of one page, keyed by its path in `quirks`. */
export interface StorefrontQuirk {
  /** A second `<h1>` with this text (a theme putting the logo in an H1, say). */
  readonly extraH1?: string
  /** No `<h1>` at all. */
  readonly noH1?: boolean
  /** `<meta name="robots" content="noindex">`. */
  readonly noindex?: boolean
  /** An extra `application/ld+json` block that is not JSON. */
  readonly invalidJsonLd?: boolean
  /** A product's JSON-LD without `offers`. */
  readonly noOffers?: boolean
  /** A product page without JSON-LD. */
  readonly noJsonLd?: boolean
  /** The canonical URL (path or absolute) instead of the page's own. */
  readonly canonical?: string
  /** No `<title>`. */
  readonly noTitle?: boolean
}

export interface StorefrontOptions {
  /** Default "Sumeru Demo Store". */
  readonly shopName?: string
  /** ISO 4217. Default EUR. */
  readonly currency?: string
  readonly products?: ReadonlyArray<StorefrontProduct>
  readonly pages?: ReadonlyArray<StorefrontPage>
  readonly articles?: ReadonlyArray<StorefrontArticle>
  /** robots.txt: text, a function of the origin, or null to answer 404. Default: Shopify's default (`shopifyRobots`). */
  readonly robots?: string | null | ((origin: string) => string)
  readonly brokenLinks?: ReadonlyArray<StorefrontBrokenLink>
  /** Per-path SEO faults, e.g. `{ "/pages/shipping": { extraH1: "Sumeru" } }`. */
  readonly quirks?: Readonly<Record<string, StorefrontQuirk>>
  /** Every answer is held this long (real time) before it is sent. Default 0. */
  readonly latencyMs?: number
  /** Timestamps of the request log. Default the wall clock. */
  readonly now?: Clock
  /** Default 0: a free port. */
  readonly port?: number
}

export interface RunningStorefrontSimulator extends SimulatorServer {
  /** The storefront's origin (same as `url`): `http://127.0.0.1:<port>`. */
  readonly origin: string
  /** The kit's request log (same as `log`). */
  readonly requests: RequestLog<HttpExchange>
  /** Replaces what `path` answers: HTML (200), or a status with Shopify's error page; null restores the storefront's own answer. */
  setPage(path: string, answer: string | number | null): void
  /** Requests being answered now. */
  inFlight(): number
  /** The most requests ever answered at once (since start or `resetInFlight`). */
  maxInFlight(): number
  resetInFlight(): void
}

// ---------------------------------------------------------------------------------------
// Demo content

const FILLER = (
  "crafted from natural materials by small workshops this piece is made to last for years and to look better " +
  "with every season of use we source every fibre and every board from producers we know by name and visit " +
  "each spring care is simple wash gently dry flat and store away from direct sunlight when not in use " +
  "each item is finished by hand so small variations in colour and texture are part of its character " +
  "we ship from our studio within two working days and every order travels in recycled packaging"
).split(" ")

/** `count` words of deterministic copy (sentences of 12 words), starting at word `offset`. */
export const fillerText = (count: number, offset = 0): string => {
  const words: Array<string> = []
  for (let i = 0; i < count; i++) {
    let w = FILLER[(offset + i * 7) % FILLER.length] as string
    if (i % 12 === 0) w = w.charAt(0).toUpperCase() + w.slice(1)
    words.push(i % 12 === 11 || i === count - 1 ? `${w}.` : w)
  }
  return words.join(" ")
}

const product = (handle: string, title: string, price: string, n: number, extra: Partial<StorefrontProduct> = {}): StorefrontProduct => ({
  handle,
  title,
  price,
  description: `${title}: ${fillerText(45, n * 5)}\n\n${fillerText(30, n * 11)}`,
  metaDescription: `${title} from Sumeru Demo Store. ${fillerText(14, n * 3)}`.slice(0, 150),
  images: [
    { src: `/cdn/shop/files/${handle}-1.jpg`, alt: `${title}, front` },
    { src: `/cdn/shop/files/${handle}-2.jpg`, alt: `${title}, detail` }
  ],
  ...extra
})

/**
 * The demo storefront: 8 products, 4 pages, 3 articles, and a few deliberate problems an
 * audit must find —
 * - `/products/ceramic-mug` has no meta description;
 * - `/products/oak-cutting-board` has three images without alt text (one `alt=""`, two without the attribute);
 * - `/pages/shipping` has two H1s;
 * - `/products/linen-throw` links to `/products/discontinued`, which answers 404;
 * - `/pages/wholesale` is in no menu, only in the sitemap.
 */
export const demoStorefront = (): Required<Pick<StorefrontOptions, "products" | "pages" | "articles" | "brokenLinks" | "quirks">> => ({
  products: [
    product("linen-throw", "Linen Throw", "89.00", 1),
    product("wool-hat", "Merino Wool Hat", "39.00", 2),
    product("ceramic-mug", "Stoneware Ceramic Mug", "24.00", 3, { metaDescription: null }),
    product("oak-cutting-board", "Oak Cutting Board", "59.00", 4, {
      images: [
        { src: "/cdn/shop/files/oak-cutting-board-1.jpg", alt: "" },
        { src: "/cdn/shop/files/oak-cutting-board-2.jpg", alt: null },
        { src: "/cdn/shop/files/oak-cutting-board-3.jpg", alt: null }
      ]
    }),
    product("cotton-tote", "Organic Cotton Tote", "19.00", 5),
    product("beeswax-candle", "Beeswax Pillar Candle", "22.00", 6),
    product("copper-kettle", "Copper Stovetop Kettle", "129.00", 7),
    product("alpaca-scarf", "Alpaca Scarf", "74.00", 8)
  ],
  pages: [
    { slug: "about", title: "About us", body: fillerText(190, 2), metaDescription: "Who we are: a small studio making durable goods for the home from natural materials." },
    { slug: "shipping", title: "Shipping & returns", body: fillerText(170, 9), metaDescription: "How we ship, how long delivery takes and how to return an order within 30 days." },
    { slug: "contact", title: "Contact", body: fillerText(160, 4), metaDescription: "Write to the studio: questions about an order, wholesale or care of your products." },
    { slug: "wholesale", title: "Wholesale", body: fillerText(180, 6), metaDescription: "Stock our goods in your shop: terms, minimum orders and how to apply for an account.", inMenu: false }
  ],
  articles: [
    { slug: "caring-for-linen", title: "Caring for linen", body: fillerText(320, 1), author: "Mira", publishedAt: "2026-05-04", metaDescription: "How to wash, dry and store linen so it softens with every wash and lasts for decades." },
    { slug: "why-merino", title: "Why merino wool", body: fillerText(280, 3), author: "Mira", publishedAt: "2026-05-21", metaDescription: "Merino keeps warm when wet, does not itch and needs little washing: what makes it special." },
    { slug: "studio-news", title: "News from the studio", body: fillerText(240, 5), author: "Jon", publishedAt: "2026-06-12", metaDescription: "New kettles, a second kiln and our summer opening hours: what changed in the studio." }
  ],
  brokenLinks: [{ from: "/products/linen-throw", to: "/products/discontinued", text: "Linen Throw (first edition)" }],
  quirks: { "/pages/shipping": { extraH1: "Sumeru Demo Store" } }
})

/** Shopify's default robots.txt (abridged), with the shop's sitemap. */
export const shopifyRobots = (origin: string): string =>
  [
    "# we use Shopify as our ecommerce platform",
    "",
    "User-agent: *",
    "Disallow: /a/downloads/-/*",
    "Disallow: /admin",
    "Disallow: /cart",
    "Disallow: /orders",
    "Disallow: /checkouts/",
    "Disallow: /checkout",
    "Disallow: /carts",
    "Disallow: /account",
    "Disallow: /collections/*sort_by*",
    "Disallow: /*/collections/*sort_by*",
    "Disallow: /collections/*+*",
    "Disallow: /collections/*%2B*",
    "Disallow: /blogs/*+*",
    "Disallow: /*?*oseid=*",
    "Disallow: /*preview_theme_id*",
    "Disallow: /policies/",
    "Disallow: /*/policies/",
    "Disallow: /search",
    "Disallow: /apple-app-site-association",
    "Disallow: /.well-known/shopify/monorail",
    "Disallow: /cdn/wpm/*.js",
    "Disallow: /recommendations/products",
    `Sitemap: ${origin}/sitemap.xml`,
    "",
    "# Google adsbot ignores robots.txt unless specifically named!",
    "User-agent: adsbot-google",
    "Disallow: /checkouts/",
    "Disallow: /checkout",
    "Disallow: /carts",
    "Disallow: /orders",
    "",
    "User-agent: Nutch",
    "Disallow: /",
    "",
    "User-agent: AhrefsBot",
    "Crawl-delay: 10",
    "Disallow: /cart",
    "",
    ""
  ].join("\n")

// ---------------------------------------------------------------------------------------
// Rendering

const esc = (s: string): string => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&#39;")
const paragraphs = (text: string): string => text.split(/\n\s*\n/).map((p) => `<p>${esc(p.trim())}</p>`).join("\n")
/** JSON inside a script element: `</` cannot close it. */
const scriptJson = (value: unknown): string => JSON.stringify(value).replace(/<\//g, "<\\/")
const defaultDescription = (text: string): string => {
  const flat = text.replace(/\s+/g, " ").trim()
  return flat.length <= 155 ? flat : `${flat.slice(0, 152).replace(/\s+\S*$/, "")}...`
}

interface Shop {
  readonly name: string
  readonly currency: string
  readonly products: ReadonlyArray<StorefrontProduct>
  readonly pages: ReadonlyArray<StorefrontPage>
  readonly articles: ReadonlyArray<StorefrontArticle>
  readonly brokenLinks: ReadonlyArray<StorefrontBrokenLink>
  readonly quirks: Readonly<Record<string, StorefrontQuirk>>
}

interface Document {
  readonly path: string
  readonly template: string
  readonly title: string
  readonly description: string | null
  readonly h1: string
  readonly main: string
  readonly jsonLd?: ReadonlyArray<unknown>
}

const imageSrc = (src: string, origin: string): string => (/^https?:\/\//.test(src) ? src : `${origin}${src.startsWith("/") ? "" : "/"}${src}`)
const img = (image: StorefrontImage, origin: string, width = 800): string =>
  `<img src="${esc(imageSrc(image.src, origin))}?width=${width}"${image.alt === null ? "" : ` alt="${esc(image.alt)}"`} width="${width}" height="${width}" loading="lazy">`

const render = (shop: Shop, origin: string, doc: Document): string => {
  const quirk = shop.quirks[doc.path] ?? {}
  const canonical = quirk.canonical === undefined ? `${origin}${doc.path}` : imageSrc(quirk.canonical, origin)
  const broken = shop.brokenLinks.filter((b) => b.from === doc.path)
  const menuPages = shop.pages.filter((p) => p.inMenu !== false)
  const jsonLd = [
    ...(doc.jsonLd ?? []).map((block) => `<script type="application/ld+json">${scriptJson(block)}</script>`),
    ...(quirk.invalidJsonLd === true ? [`<script type="application/ld+json">{"@context": "http://schema.org", "@type": "Organization", "name": "${esc(shop.name)}",}</script>`] : [])
  ]
  return `<!doctype html>
<html class="no-js" lang="en">
  <head>
    <meta charset="utf-8">
    <meta http-equiv="X-UA-Compatible" content="IE=edge">
    <meta name="viewport" content="width=device-width,initial-scale=1">
    <meta name="theme-color" content="">
    <link rel="canonical" href="${esc(canonical)}">
${quirk.noTitle === true ? "" : `    <title>\n      ${esc(doc.title)}${doc.title.includes(shop.name) ? "" : `\n &ndash; ${esc(shop.name)}`}</title>\n`}${doc.description === null ? "" : `    <meta name="description" content="${esc(doc.description)}">\n`}${quirk.noindex === true ? `    <meta name="robots" content="noindex,nofollow">\n` : ""}    <meta property="og:site_name" content="${esc(shop.name)}">
    <meta property="og:url" content="${esc(canonical)}">
    <script>window.Shopify = window.Shopify || {}; Shopify.shop = "demo.myshopify.com"; if (1 < 2 && "<h1>" !== "") { Shopify.theme = {"name":"Dawn","role":"main"}; }</script>
    <style data-shopify>:root { --font-body-family: Assistant, sans-serif; } h1 > a { color: red; }</style>
    ${jsonLd.join("\n    ")}
  </head>
  <body class="gradient template-${doc.template}">
    <a class="skip-to-content-link button visually-hidden" href="#MainContent">Skip to content</a>
    <!-- BEGIN sections: header-group -->
    <header class="header">
      <a href="/" class="header__heading-link link"><span class="h2">${esc(shop.name)}</span></a>
      <nav class="header__inline-menu"><ul class="list-menu">
        <li><a href="/" class="header__menu-item">Home</a></li>
        <li><a href="/collections/all" class="header__menu-item">Catalog</a></li>
        <li><a href="/blogs/news" class="header__menu-item">Blog</a></li>
${menuPages.map((p) => `        <li><a href="/pages/${esc(p.slug)}" class="header__menu-item">${esc(p.title)}</a></li>`).join("\n")}
      </ul></nav>
      <a href="/search" class="header__icon header__icon--search">Search</a>
      <a href="/account/login" class="header__icon header__icon--account">Log in</a>
      <a href="/cart" class="header__icon header__icon--cart" id="cart-icon-bubble">Cart</a>
    </header>
    <!-- END sections: header-group -->
    <main id="MainContent" class="content-for-layout" role="main" tabindex="-1">
${quirk.extraH1 === undefined ? "" : `      <h1 class="banner__heading">${esc(quirk.extraH1)}</h1>\n`}${quirk.noH1 === true ? "" : `      <h1 class="title">${esc(doc.h1)}</h1>\n`}${doc.main}
${broken.length === 0 ? "" : `      <ul class="related">${broken.map((b) => `<li><a href="${esc(b.to)}">${esc(b.text ?? b.to)}</a></li>`).join("")}</ul>\n`}    </main>
    <footer class="footer">
      <ul class="footer-block__details-content list-unstyled">
${menuPages.map((p) => `        <li><a href="/pages/${esc(p.slug)}" class="link list-menu__item--link">${esc(p.title)}</a></li>`).join("\n")}
        <li><a href="/policies/refund-policy" class="link">Refund policy</a></li>
        <li><a href="/policies/privacy-policy" class="link">Privacy policy</a></li>
      </ul>
      <form method="post" action="/contact#contact_form" id="ContactFooter"><input type="email" name="contact[email]" placeholder="Email"></form>
      <small class="copyright__content">&copy; 2026, <a href="/" title="">${esc(shop.name)}</a> <a target="_blank" rel="nofollow" href="https://www.shopify.com?utm_campaign=poweredby&amp;utm_medium=shopify&amp;utm_source=onlinestore">Powered by Shopify</a></small>
    </footer>
  </body>
</html>
`
}

const productCard = (p: StorefrontProduct, origin: string, currency: string): string =>
  `<li class="grid__item"><div class="card-wrapper product-card-wrapper">${p.images?.[0] === undefined ? "" : img(p.images[0], origin, 360)}<h3 class="card__heading"><a href="/products/${esc(p.handle)}" class="full-unstyled-link">${esc(p.title)}</a></h3><span class="price-item price-item--regular">&euro;${esc(p.price)} ${esc(currency)}</span></div></li>`

const productJsonLd = (shop: Shop, p: StorefrontProduct, origin: string, quirk: StorefrontQuirk): unknown => ({
  "@context": "http://schema.org/",
  "@type": "Product",
  name: p.title,
  url: `${origin}/products/${p.handle}`,
  image: (p.images ?? []).map((i) => imageSrc(i.src, origin)),
  description: p.description.replace(/\s+/g, " ").trim(),
  sku: p.handle.toUpperCase(),
  brand: { "@type": "Brand", name: shop.name },
  ...(quirk.noOffers === true
    ? {}
    : {
        offers: [
          {
            "@type": "Offer",
            availability: "http://schema.org/InStock",
            price: p.price,
            priceCurrency: shop.currency,
            url: `${origin}/products/${p.handle}?variant=${1000 + p.handle.length}`
          }
        ]
      })
})

const errorPage = (shop: Shop, origin: string, path: string, status: number): string =>
  render(shop, origin, {
    path,
    template: "404",
    title: status === 404 ? "404 Not Found" : `Error ${status}`,
    description: null,
    h1: status === 404 ? "Page not found" : "Something went wrong",
    main: `      <p>The page you were looking for does not exist.</p><a href="/collections/all" class="button">Continue shopping</a>`
  })

const urlset = (urls: ReadonlyArray<{ readonly loc: string; readonly images?: ReadonlyArray<string> }>): string =>
  `<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" xmlns:image="http://www.google.com/schemas/sitemap-image/1.1">
${urls
  .map((u) => `  <url>\n    <loc>${esc(u.loc)}</loc>\n    <lastmod>2026-06-30T12:00:00+00:00</lastmod>\n    <changefreq>daily</changefreq>\n${(u.images ?? []).map((i) => `    <image:image>\n      <image:loc>${esc(i)}</image:loc>\n    </image:image>\n`).join("")}  </url>`)
  .join("\n")}
</urlset>
`

const html = (body: string, status = 200): Response => new Response(body, { status, headers: { "Content-Type": "text/html; charset=utf-8" } })
const xml = (body: string): Response => new Response(body, { headers: { "Content-Type": "application/xml; charset=utf-8" } })

/**
 * Starts the storefront on `127.0.0.1:<port>`. Content not given comes from `demoStorefront()`
 * (each of products, pages, articles, broken links and quirks separately: giving `products`
 * keeps the demo pages). Links are root-relative, as Shopify themes write them.
 */
export const startStorefrontSimulator = async (options: StorefrontOptions = {}): Promise<RunningStorefrontSimulator> => {
  const demo = demoStorefront()
  const shop: Shop = {
    name: options.shopName ?? "Sumeru Demo Store",
    currency: options.currency ?? "EUR",
    products: options.products ?? demo.products,
    pages: options.pages ?? demo.pages,
    articles: options.articles ?? demo.articles,
    brokenLinks: options.brokenLinks ?? demo.brokenLinks,
    quirks: options.quirks ?? demo.quirks
  }
  const overrides = new Map<string, string | number>()
  const latencyMs = options.latencyMs ?? 0
  let inFlight = 0
  let maxInFlight = 0

  const route = (path: string, search: URLSearchParams, origin: string): Response => {
    const override = overrides.get(path)
    if (typeof override === "string") return html(override)
    if (typeof override === "number") return html(errorPage(shop, origin, path, override), override)
    const listed = shop.products.filter((p) => p.listed !== false)
    const cards = (ps: ReadonlyArray<StorefrontProduct>) => `      <ul class="grid product-grid">\n${ps.map((p) => `        ${productCard(p, origin, shop.currency)}`).join("\n")}\n      </ul>`
    const articleLink = (a: StorefrontArticle) => `<li><a href="/blogs/news/${esc(a.slug)}">${esc(a.title)}</a></li>`
    const page = (doc: Document): Response => html(render(shop, origin, doc))

    if (path === "/robots.txt") {
      const robots = options.robots === undefined ? shopifyRobots(origin) : typeof options.robots === "function" ? options.robots(origin) : options.robots
      return robots === null ? new Response("Not Found", { status: 404 }) : new Response(robots, { headers: { "Content-Type": "text/plain; charset=utf-8" } })
    }
    if (path === "/sitemap.xml") {
      const children = ["sitemap_products_1.xml?from=1&to=9999999999", "sitemap_pages_1.xml", "sitemap_collections_1.xml", "sitemap_blogs_1.xml"]
      return xml(`<?xml version="1.0" encoding="UTF-8"?>
<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
${children.map((c) => `  <sitemap>\n    <loc>${esc(`${origin}/${c}`)}</loc>\n  </sitemap>`).join("\n")}
</sitemapindex>
`)
    }
    if (path === "/sitemap_products_1.xml") return xml(urlset([{ loc: `${origin}/` }, ...shop.products.map((p) => ({ loc: `${origin}/products/${p.handle}`, images: (p.images ?? []).map((i) => imageSrc(i.src, origin)) }))]))
    if (path === "/sitemap_pages_1.xml") return xml(urlset(shop.pages.map((p) => ({ loc: `${origin}/pages/${p.slug}` }))))
    if (path === "/sitemap_collections_1.xml") return xml(urlset([{ loc: `${origin}/collections/all` }]))
    if (path === "/sitemap_blogs_1.xml") return xml(urlset([{ loc: `${origin}/blogs/news` }, ...shop.articles.map((a) => ({ loc: `${origin}/blogs/news/${a.slug}` }))]))

    if (path === "/") {
      return page({
        path,
        template: "index",
        title: shop.name,
        description: `${shop.name}: durable goods for the home, made from linen, wool, oak and clay by small workshops.`,
        h1: shop.name,
        main: `      <div class="rich-text">${paragraphs(fillerText(110, 13))}</div>\n      <h2>Featured products</h2>\n${cards(listed.slice(0, 4))}\n      <h2>From the blog</h2>\n      <ul class="blog-articles">${shop.articles.map(articleLink).join("")}</ul>`
      })
    }
    if (path === "/collections/all") {
      return page({
        path,
        template: "collection",
        title: "Products",
        description: `Every product in ${shop.name}: throws, hats, mugs, boards and more, made to last.`,
        h1: "Products",
        main: `      <div class="facets"><a href="/collections/all?sort_by=price-ascending">Price, low to high</a> <a href="/collections/all?sort_by=created-descending">Date, new to old</a></div>\n${cards(listed)}\n      <div class="collection__description">${paragraphs(fillerText(120, 17))}</div>`
      })
    }
    const productMatch = /^\/products\/([^/]+)$/.exec(path)
    if (productMatch !== null) {
      const p = shop.products.find((x) => x.handle === decodeURIComponent(productMatch[1] ?? ""))
      if (p === undefined) return html(errorPage(shop, origin, path, 404), 404)
      const quirk = shop.quirks[path] ?? {}
      const related = shop.products.filter((x) => x.handle !== p.handle && x.listed !== false).slice(0, 3)
      return page({
        path,
        template: "product",
        title: p.title,
        description: p.metaDescription === undefined ? defaultDescription(p.description) : p.metaDescription,
        h1: p.title,
        jsonLd: quirk.noJsonLd === true ? [] : [productJsonLd(shop, p, origin, quirk)],
        main: `      <div class="product__media-list">${(p.images ?? []).map((i) => img(i, origin)).join("\n")}</div>
      <div class="price"><span class="price-item price-item--regular">&euro;${esc(p.price)} ${esc(shop.currency)}</span></div>
      <form method="post" action="/cart/add" class="form"><input type="hidden" name="id" value="${1000 + p.handle.length}"><button type="submit" name="add">Add to cart</button></form>
      <div class="product__description rte">${paragraphs(p.description)}</div>
      <h2>You may also like</h2>
${cards(related)}`
      })
    }
    const pageMatch = /^\/pages\/([^/]+)$/.exec(path)
    if (pageMatch !== null) {
      const p = shop.pages.find((x) => x.slug === decodeURIComponent(pageMatch[1] ?? ""))
      if (p === undefined) return html(errorPage(shop, origin, path, 404), 404)
      return page({ path, template: "page", title: p.title, description: p.metaDescription === undefined ? defaultDescription(p.body) : p.metaDescription, h1: p.title, main: `      <div class="rte">${paragraphs(p.body)}</div>` })
    }
    if (path === "/blogs/news") {
      return page({
        path,
        template: "blog",
        title: "News",
        description: `Stories from the ${shop.name} studio: care guides, materials and what we are making next.`,
        h1: "News",
        main: `      <ul class="blog-articles">${shop.articles.map((a) => `${articleLink(a)}<p>${esc(fillerText(40, a.slug.length))}</p>`).join("\n")}</ul>`
      })
    }
    const articleMatch = /^\/blogs\/news\/([^/]+)$/.exec(path)
    if (articleMatch !== null) {
      const a = shop.articles.find((x) => x.slug === decodeURIComponent(articleMatch[1] ?? ""))
      if (a === undefined) return html(errorPage(shop, origin, path, 404), 404)
      const published = a.publishedAt ?? "2026-06-01"
      return page({
        path,
        template: "article",
        title: a.title,
        description: a.metaDescription === undefined ? defaultDescription(a.body) : a.metaDescription,
        h1: a.title,
        jsonLd: [{ "@context": "http://schema.org", "@type": "BlogPosting", headline: a.title, datePublished: published, author: { "@type": "Person", name: a.author ?? shop.name }, url: `${origin}${path}` }],
        main: `      <article class="article-template">${a.image === undefined ? "" : img(a.image, origin)}<p class="caption">${esc(a.author ?? shop.name)} &middot; <time datetime="${published}">${published}</time></p>
      <div class="article-template__content rte">${paragraphs(a.body)}</div>
      <a href="/blogs/news" class="article-template__link link">Back to blog</a></article>`
      })
    }
    // paths crawlers are kept out of by robots.txt: served, so a test sees any visit in the log
    if (path === "/cart" || path === "/search" || path === "/account/login" || path.startsWith("/policies/")) {
      const title = path === "/cart" ? "Your cart" : path === "/search" ? `Search${search.has("q") ? `: ${search.get("q")}` : ""}` : path === "/account/login" ? "Account" : "Policy"
      return page({ path, template: path.slice(1).split("/")[0] ?? "page", title, description: null, h1: title, main: `      <p>${esc(fillerText(20))}</p>` })
    }
    return html(errorPage(shop, origin, path, 404), 404)
  }

  const fetch = async (request: Request): Promise<Response> => {
    inFlight++
    maxInFlight = Math.max(maxInFlight, inFlight)
    try {
      if (latencyMs > 0) await sleep(latencyMs)
      const url = new URL(request.url)
      if (request.method !== "GET" && request.method !== "HEAD") return new Response(null, { status: 405, headers: { Allow: "GET, HEAD" } })
      return route(url.pathname, url.searchParams, url.origin)
    } finally {
      inFlight--
    }
  }

  const server = await startSimulatorServer({
    fetch,
    faults: new HttpFaults({ defaultBody: (status) => ({ contentType: "text/html; charset=utf-8", body: `<!doctype html><title>${status}</title><h1>${status}</h1>` }) }),
    clock: options.now ?? systemClock,
    ...(options.port === undefined ? {} : { port: options.port })
  })
  return {
    ...server,
    origin: server.url,
    requests: server.log,
    setPage: (path, answer) => {
      if (answer === null) overrides.delete(path)
      else overrides.set(path, answer)
    },
    inFlight: () => inFlight,
    maxInFlight: () => maxInFlight,
    resetInFlight: () => {
      maxInFlight = inFlight
    }
  }
}
