/**
 * The admin app's page and assets under `/app` (`AdminUi.ts`): a browser navigation gets the
 * page, anything else falls through to the admin API; App Bridge only when Shopify embeds the
 * app; only the shop's admin may frame it; hashed assets cached for a year, the page never; a
 * build missing is a plain 503 page, and a build made while the server runs is served at once.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Hono } from "hono"
import { afterAll, describe, expect, it } from "vitest"
import { mountAdminUi } from "../../adapters/http/AdminUi.ts"

const root = mkdtempSync(join(tmpdir(), "sumeru-admin-ui-"))
const PAGE = "<!doctype html><html><head><title>Sumeru</title></head><body><div id=root></div><script type=module src=/app/assets/app-1.js></script></body></html>"

const appWith = (dir: string) => {
  const app = new Hono()
  mountAdminUi(app, { apiKey: "key-\"<x>", root: dir })
  // the API behind it, as the server mounts it
  app.get("/app/jobs", (c) => c.json({ jobs: [] }))
  return app
}

afterAll(() => rmSync(root, { recursive: true, force: true }))

describe("the admin app under /app", () => {
  it("a build missing is a plain 503 page; a build made afterwards is served without a restart", async () => {
    const app = appWith(root)
    const before = await app.request("/app/jobs", { headers: { accept: "text/html" } })
    expect(before.status).toBe(503)
    expect(await before.text()).toContain("npm run build:admin")
    mkdirSync(join(root, "assets"), { recursive: true })
    writeFileSync(join(root, "index.html"), PAGE)
    writeFileSync(join(root, "assets", "app-1.js"), "console.log(1)")
    const after = await app.request("/app/jobs", { headers: { accept: "text/html" } })
    expect(after.status).toBe(200)
  })

  it("a navigation gets the page at every /app path; fetch and curl get the API", async () => {
    const app = appWith(root)
    for (const path of ["/app", "/app/", "/app/jobs", "/app/rules/123/anything"]) {
      const res = await app.request(path, { headers: { accept: "text/html,application/xhtml+xml,*/*;q=0.8" } })
      expect([path, res.status, res.headers.get("content-type")]).toEqual([path, 200, "text/html; charset=UTF-8"])
      expect(res.headers.get("cache-control")).toBe("no-store")
      expect(res.headers.get("vary")).toBe("Accept")
      expect(await res.text()).toBe(PAGE)
    }
    for (const accept of ["application/json", "*/*", undefined]) {
      const res = await app.request("/app/jobs", accept === undefined ? {} : { headers: { accept } })
      expect(await res.json()).toEqual({ jobs: [] })
    }
  })

  it("Shopify's navigation to the application URL is sent on to /app with its query; the API answers are untouched", async () => {
    const app = appWith(root)
    app.get("/", (c) => c.json({ name: "sumeru" }))
    const opened = await app.request("/?embedded=1&shop=alpha.myshopify.com&host=abc", { headers: { accept: "text/html" } })
    expect([opened.status, opened.headers.get("location")]).toEqual([302, "/app?embedded=1&shop=alpha.myshopify.com&host=abc"])
    expect(await (await app.request("/?shop=alpha.myshopify.com")).json()).toEqual({ name: "sumeru" })
    expect(await (await app.request("/", { headers: { accept: "text/html" } })).json()).toEqual({ name: "sumeru" })
  })

  it("the page takes a development session from its link only where the server says so (the demo)", async () => {
    const demo = new Hono()
    mountAdminUi(demo, { apiKey: "k", root, developmentSessions: true })
    expect(await (await demo.request("/app", { headers: { accept: "text/html" } })).text()).toContain(`<meta name="sumeru-development-sessions" content="on">`)
    expect(await (await appWith(root).request("/app", { headers: { accept: "text/html" } })).text()).not.toContain("sumeru-development-sessions")
  })

  it("App Bridge and the API key only when Shopify embeds the app; only the shop's admin may frame it", async () => {
    const app = appWith(root)
    const plain = await app.request("/app?shop=alpha.myshopify.com", { headers: { accept: "text/html" } })
    expect(await plain.text()).not.toContain("app-bridge.js")
    expect(plain.headers.get("content-security-policy")).toBe("frame-ancestors https://alpha.myshopify.com https://admin.shopify.com")
    const embedded = await app.request("/app?embedded=1&shop=alpha.myshopify.com&host=abc", { headers: { accept: "text/html" } })
    const html = await embedded.text()
    expect(html).toContain(`<head><meta name="shopify-api-key" content="key-&#34;&#60;x&#62;"><script src="https://cdn.shopify.com/shopifycloud/app-bridge.js"></script>`)
    const stranger = await app.request("/app?shop=https://evil.example", { headers: { accept: "text/html" } })
    expect(stranger.headers.get("content-security-policy")).toBe("frame-ancestors 'none'")
  })

  it("assets are served with a year's immutable cache; a missing one is not the page", async () => {
    const app = appWith(root)
    const js = await app.request("/app/assets/app-1.js")
    expect([js.status, await js.text()]).toEqual([200, "console.log(1)"])
    expect(js.headers.get("cache-control")).toBe("public, max-age=31536000, immutable")
    const missing = await app.request("/app/assets/nope.js")
    expect(missing.status).toBe(404)
    // a path climbing out of the build, encoded so that no URL parser folds it first
    for (const path of ["/app/assets/%2e%2e/%2e%2e/package.json", "/app/assets/..%2f..%2fpackage.json", "/app/assets/%2E%2E%5C%2E%2E%5Cpackage.json"]) {
      const escape = await app.fetch(new Request(`http://localhost${path}`))
      expect([path, escape.status]).toEqual([path, 404])
    }
  })
})
