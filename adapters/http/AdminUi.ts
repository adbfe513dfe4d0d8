/**
 * The merchant's admin (issue 15): a React + Polaris single-page app built by Vite into
 * `admin/dist` (`npm run build:admin`, run by `npm install` and by `npm start` when the sources
 * are newer than the build), served under `/app` beside the admin JSON API.
 *
 * One URL, two answers — the seed's "JSON for API mode": `GET /app/jobs` asked by a browser
 * navigation (`Accept: text/html`) answers the app's page, which then asks the same URL with
 * `fetch` (`Accept: application/json`) and gets the JSON. So every screen has a deep link that is
 * also its API route, and the Shopify admin can load any of them in its iframe. The page itself
 * holds no data and needs no authentication; every API call carries a session token.
 *
 * Embedded in the Shopify admin (`?embedded=1`, as Shopify opens an app), the page loads App
 * Bridge from Shopify's CDN with the app's API key: the app then asks App Bridge for a fresh
 * session token before each call. Outside the admin (the demo) the page takes a development
 * session token from its URL's fragment (`/app#session=…`, never sent to a server, removed from
 * the address bar at once), which `npm start` prints — in the demo only (`developmentSessions`).
 * Shopify opens the app at its application URL (`/?shop=…&host=…&embedded=1`): that navigation
 * is sent on to `/app`.
 *
 * `frame-ancestors` lets only the shop's admin frame the page (Shopify's requirement for
 * embedded apps); the hashed assets are cached for a year, the page never.
 */
import { readFile } from "node:fs/promises"
import { fileURLToPath } from "node:url"
import { serveStatic } from "@hono/node-server/serve-static"
import type { Context, Hono } from "hono"
import { isShopDomain } from "../../domain/shop/ShopDomain.ts"

/** Where `npm run build:admin` writes the app. */
export const ADMIN_UI_ROOT = fileURLToPath(new URL("../../admin/dist", import.meta.url))

export interface AdminUiOptions {
  /** The app's API key (client id): App Bridge's `shopify-api-key`. */
  readonly apiKey: string
  /**
   * The demo runs (no Shopify app configured): only then does the page take a development
   * session from its link. Elsewhere a link carrying someone's token could put a merchant to
   * work, unaware, in another shop.
   */
  readonly developmentSessions?: boolean
  /** The built app's folder (tests point it elsewhere). */
  readonly root?: string
}

const APP_BRIDGE = "https://cdn.shopify.com/shopifycloud/app-bridge.js"

/** A browser navigation asks for a page; `fetch`, curl and the SDKs ask for anything or JSON. */
const wantsPage = (accept: string | undefined): boolean => accept !== undefined && accept.includes("text/html")

const escapeAttribute = (s: string) => s.replace(/[&"<>]/g, (ch) => `&#${ch.charCodeAt(0)};`)

const NOT_BUILT = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Sumeru</title></head>
<body><main><h1>The admin is not built</h1><p>Run <code>npm run build:admin</code> (or <code>npm install</code>) and reload.</p></main></body></html>`

export const mountAdminUi = (app: Hono, options: AdminUiOptions) => {
  const root = options.root ?? ADMIN_UI_ROOT
  // read at each navigation (a small file, and navigations are few): a build made while the
  // server runs is served at once, never a page naming assets the build replaced
  const indexHtml = () => readFile(`${root}/index.html`, "utf8").catch(() => null)

  // the build names assets by their content's hash: one never changes
  app.use("/app/assets/*", async (c, next) => {
    await next()
    if (c.res.status === 200) c.res.headers.set("cache-control", "public, max-age=31536000, immutable")
  })
  app.use("/app/assets/*", serveStatic({ root, rewriteRequestPath: (path) => path.replace(/^\/app/, "") }))

  // Shopify opens an app at its application URL (`/`, with `shop`, `host`, `embedded`): the app is at `/app`
  app.get("/", async (c, next) => {
    if (!wantsPage(c.req.header("accept")) || (c.req.query("shop") === undefined && c.req.query("embedded") === undefined)) return next()
    return c.redirect(`/app${new URL(c.req.url).search}`, 302)
  })

  const servePage = async (c: Context, next: () => Promise<void>) => {
    c.header("vary", "Accept")
    if (!wantsPage(c.req.header("accept"))) return next()
    const shop = c.req.query("shop")
    const frameable = shop !== undefined && isShopDomain(shop) ? `https://${shop} https://admin.shopify.com` : "'none'"
    c.header("content-security-policy", `frame-ancestors ${frameable}`)
    c.header("cache-control", "no-store")
    const html = await indexHtml()
    if (html === null) return c.html(NOT_BUILT, 503)
    const embedded = c.req.query("embedded") === "1"
    const head = [
      embedded ? `<meta name="shopify-api-key" content="${escapeAttribute(options.apiKey)}"><script src="${APP_BRIDGE}"></script>` : "",
      options.developmentSessions === true ? `<meta name="sumeru-development-sessions" content="on">` : ""
    ].join("")
    return c.html(head === "" ? html : html.replace("<head>", `<head>${head}`))
  }
  app.get("/app", servePage)
  app.get("/app/*", servePage)
}
