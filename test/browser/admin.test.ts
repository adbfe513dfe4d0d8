/**
 * The merchant's admin in a real browser (issue 15 §3): `sumeru start` in its demo mode (the
 * Shopify simulator's shop, its 90 days of history), bundled as `npm start` runs it, on the test
 * run's PostgreSQL and NATS, and Debian's headless Chromium driven by playwright-core.
 *
 * The journeys a merchant makes, through the screens only (the test sends nothing to the admin
 * API; it plays Shopify, sending the product webhooks):
 * - run a bulk job and undo it, the confirmation saying what will be restored;
 * - create a rule (a CEL mistake shown at its position as it is typed), backtest it, enable it,
 *   see it fire from a webhook, open its why chain, undo it (refused and explained first: the
 *   product changed in Shopify since; then overwritten);
 * - approve a parked execution;
 * - read attribution.
 * Then every screen, at desktop and mobile widths: axe finds no serious or critical violation, a
 * screenshot is saved under `docs/screenshots/` (the README shows some), and how long the screen
 * took to be usable is printed (performance timings, not asserted).
 */
import { AxeBuilder } from "@axe-core/playwright"
import { execFileSync } from "node:child_process"
import { randomUUID } from "node:crypto"
import { mkdirSync } from "node:fs"
import { fileURLToPath } from "node:url"
import type { Browser, BrowserContext, Page } from "playwright-core"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { signSessionToken } from "../../adapters/http/SessionToken.ts"
import { signBody } from "../../adapters/http/ShopifyHmac.ts"
import { DEMO_API_KEY, DEMO_SECRET, DEMO_SHOP, DEMO_TOKEN } from "../../src/server/ShopifyApp.ts"
import { demoHistory } from "../../src/server/DemoHistory.ts"
import { launchChromium } from "../support/browser.ts"
import { type ServerProcess, startServerProcess } from "../support/serverProcess.ts"

const SCREENSHOTS = fileURLToPath(new URL("../../docs/screenshots/", import.meta.url))
const DESKTOP = { width: 1280, height: 900 }
const MOBILE = { width: 390, height: 844 }

let server: ServerProcess
let browser: Browser
let desktop: BrowserContext
let page: Page
const token = signSessionToken({ shop: DEMO_SHOP, apiKey: DEMO_API_KEY, appSecret: DEMO_SECRET, userId: "demo-user", ttlSeconds: 3_600 })
/** Every uncaught error and console error of the app: any one fails the suite (nothing a user does may break a screen). */
const pageErrors: Array<string> = []
/** Console errors a journey provokes on purpose (the browser logs every 4xx the app receives). */
const expectedErrors = new Set<string>()
const watch = (p: Page, label: string) => {
  p.on("pageerror", (e) => pageErrors.push(`${label}: ${e.message}`))
  p.on("console", (m) => {
    // a failed load names its resource (the message alone does not say which request failed)
    const resource = m.location().url
    const from = resource !== "" && resource !== p.url() ? ` (${resource})` : ""
    if (m.type() === "error" && !expectedErrors.has(m.text())) pageErrors.push(`${label} ${new URL(p.url()).pathname}: console: ${m.text().slice(0, 500)}${from}`)
  })
  return p
}

/** Pages a journey made (a job, a rule, an execution), screenshotted with the others. */
const made: Record<string, string> = {}

/** The admin API as the test's own eyes (waiting for the demo's history), never to act. */
const read = async (path: string) => {
  const res = await fetch(`${server.url}${path}`, { headers: { authorization: `Bearer ${token}` } })
  return res.json() as Promise<any>
}

/** Waits for `check` to hold, polling; fails naming `what`. */
const until = async (what: string, check: () => Promise<boolean>, timeoutMs = 60_000) => {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (await check()) return
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${server.output().slice(-3000)}`)
    await new Promise((r) => setTimeout(r, 250))
  }
}

/** Shopify sending a product webhook, signed with the demo app's secret. */
const productWebhook = async (topic: "products/create" | "products/update", product: Record<string, unknown>) => {
  const body = JSON.stringify(product)
  const res = await fetch(`${server.url}/webhooks/shopify`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "x-shopify-topic": topic,
      "x-shopify-shop-domain": DEMO_SHOP,
      "x-shopify-event-id": randomUUID(),
      "x-shopify-hmac-sha256": signBody(DEMO_SECRET, body)
    },
    body
  })
  expect(res.status).toBe(200)
}

/** The screen has its data: no skeleton left, and `ready` (a text of the loaded screen) shown. */
const settled = async (p: Page, ready: string | RegExp) => {
  await p.getByText(ready).filter({ visible: true }).first().waitFor({ state: "visible", timeout: 30_000 })
  await p.waitForFunction(() => document.querySelectorAll(".Polaris-SkeletonBodyText, .Polaris-SkeletonDisplayText__DisplayText").length === 0, undefined, { timeout: 30_000 })
}

/** Opens an admin path as a navigation (a fresh page load, what a deep link does). */
const open = async (p: Page, path: string, ready: string | RegExp) => {
  await p.goto(`${server.url}/app${path}`)
  await settled(p, ready)
}

beforeAll(async () => {
  // the app under test is the sources' (npm install builds it; an edit since is built here)
  execFileSync(process.execPath, [fileURLToPath(new URL("../../scripts/build-admin.ts", import.meta.url)), "--if-stale"], { stdio: "inherit" })
  mkdirSync(SCREENSHOTS, { recursive: true })
  // the walk through every screen makes a few hundred API calls in a minute (the seed's 100 a
  // minute per shop is tested in test/http/rbac.test.ts)
  // the server as `npm start` runs it: the bundle (scripts/build-server.ts)
  server = await startServerProcess({ ADMIN_RATE_LIMIT_PER_MINUTE: "5000" }, { bundled: true })
  browser = await launchChromium()
  desktop = await browser.newContext({ viewport: DESKTOP })
  page = watch(await desktop.newPage(), "desktop")
  // the demo's development session, as the link `npm start` prints
  await page.goto(`${server.url}/app#session=${token}`)
  await settled(page, "Next best actions")
  expect(new URL(page.url()).hash).toBe("") // the token left the address bar
  // the demo's history, all of it: the shop's actor works through its log in order, so its last
  // message (yesterday's ads report) having made its anomaly means every order before it is in
  const history = demoHistory(DEMO_SHOP, Date.now())
  const lastAdsDay = (history.filter((m) => m.type === "ads.insights_report").at(-1)!.payload as { date: string }).date
  const customers = new Set(history.filter((m) => m.type === "shopify.webhook").map((m) => String((m.payload as any).payload.customer?.id ?? ""))).size
  await until("the demo's history", async () => {
    const ads = await read("/app/ads/anomalies?limit=50")
    const cohorts = await read("/app/cohorts")
    const seen = (cohorts.cohorts ?? []).reduce((s: number, c: { customers: number }) => s + c.customers, 0)
    return (ads.anomalies ?? []).some((a: { event: string; date: string | null }) => a.event === "ads.spend_anomaly" && a.date === lastAdsDay) && seen === customers
  }, 150_000)
}, 240_000)

afterAll(async () => {
  expect(pageErrors, pageErrors.join("\n")).toEqual([])
  await browser?.close()
  await server?.stop()
})

describe("the admin in Chromium, on the demo shop", () => {
  it("a merchant runs a bulk job and undoes it, told first what will be restored", async () => {
    await open(page, "/jobs", "Bulk jobs")
    await page.getByRole("button", { name: "Run a bulk job" }).first().click()
    const dialog = page.getByRole("dialog")
    await dialog.getByLabel("Products matching", { exact: true }).fill("status:active tag:winter")
    await dialog.getByLabel("Key", { exact: true }).fill("e2e_badge")
    await dialog.getByLabel("Value", { exact: true }).fill("Winter picks")
    await dialog.getByLabel(/^Dry run/).uncheck()
    await dialog.getByRole("button", { name: "Start the job" }).click()
    await page.waitForURL(/\/app\/jobs\/[0-9a-f-]{36}$/)
    const jobUrl = page.url()
    made["job-detail"] = new URL(jobUrl).pathname.replace(/^\/app/, "")
    await page.getByText("Job completed").first().waitFor({ timeout: 60_000 })
    const updated = Number((await page.getByText(/completed: [\d,]+ updated/).first().textContent())!.match(/completed: ([\d,]+) updated/)![1]!.replaceAll(",", ""))
    expect(updated).toBeGreaterThan(0)

    await page.getByRole("button", { name: "Undo" }).click()
    const confirm = page.getByRole("dialog")
    // what will be restored: every product of the job, none of which had the metafield before
    await confirm.getByText(`${updated.toLocaleString("en-US")} products will get their`).waitFor()
    await confirm.getByText(`${updated.toLocaleString("en-US")} had no value: the metafield is removed`).waitFor()
    await confirm.getByRole("button", { name: "Undo the job" }).click()
    await page.waitForURL((u) => u.pathname !== new URL(jobUrl).pathname && /\/app\/jobs\/[0-9a-f-]{36}$/.test(u.pathname))
    await page.getByText("This job undoes another").waitFor()
    await page.getByText("Job completed").first().waitFor({ timeout: 60_000 })
    // and the original now says it was undone
    await open(page, made["job-detail"]!, "This job was undone")
  })

  it("a merchant creates a rule, backtests it, enables it, sees it fire from a webhook, reads why, and undoes it", async () => {
    await open(page, "/rules/new", "New rule")
    await page.getByLabel("Name", { exact: true }).fill("Tag drafted Acme products")
    await page.getByLabel("When", { exact: true }).selectOption("product.drafted")
    await page.getByLabel("Do", { exact: true }).selectOption("tag_product")
    await page.getByLabel("Tags", { exact: true }).fill("needs-review")
    // a mistake in the condition is shown at its position as it is typed
    const condition = page.getByLabel("Condition (optional)", { exact: true })
    await condition.fill("resource.payload.vendor ==")
    await page.getByText("At position 24:").waitFor()
    await condition.fill("resource.payload.vendor == 'Acme'")
    await page.getByText("At position 24:").waitFor({ state: "detached" })
    await page.getByRole("button", { name: "Save (disabled)" }).click()
    await page.waitForURL(/\/app\/rules\/[0-9a-f-]{36}$/)
    made["rule-detail"] = new URL(page.url()).pathname.replace(/^\/app/, "")
    await page.getByText("Disabled").first().waitFor()

    // backtest before enabling: nothing of the kind in the demo's history, and it says so
    await page.getByRole("button", { name: "Run the backtest" }).click()
    await page.getByText(/It would (not )?have fired/).waitFor()
    await page.getByRole("button", { name: "Enable" }).click()
    await page.getByText("Enabled").first().waitFor()

    // Shopify: product 1 of the simulated shop, published, then sent back to draft
    const product = { id: 1, admin_graphql_api_id: "gid://shopify/Product/1", title: "Blue Tee", vendor: "Acme", product_type: "Shirts", tags: "summer" }
    await productWebhook("products/create", { ...product, status: "active", updated_at: new Date(Date.now() - 60_000).toISOString() })
    await productWebhook("products/update", { ...product, status: "draft", updated_at: new Date().toISOString() })

    await open(page, "/executions", "Executions")
    await until("the rule's execution", async () => {
      await page.reload()
      await settled(page, "Executions")
      return (await page.getByRole("row").filter({ hasText: "Tag product" }).filter({ hasText: "Applied" }).count()) > 0
    })
    await page.getByRole("row").filter({ hasText: "Tag product" }).first().click()
    await page.waitForURL(/\/app\/executions\/.+/)
    made["execution-detail"] = new URL(page.url()).pathname.replace(/^\/app/, "")
    await page.getByText("Why did this happen?").waitFor()
    const why = page.getByRole("list", { name: "Why chain" })
    await why.getByText(/^The trigger: /).waitFor()
    await why.getByText(/^The rule: /).waitFor()
    await why.getByText(/^What Sumeru did: /).first().waitFor()
    // snapshot against after: the tag it added
    await page.getByRole("table").filter({ hasText: "Before (snapshot)" }).getByText(/needs-review/).first().waitFor()

    // someone removes the tag in Shopify meanwhile: undoing now would undo their change too
    const simulator = /simulator at (http:\/\/127\.0\.0\.1:\d+)/.exec(server.output())![1]!
    const edited = await fetch(`${simulator}/admin/api/2026-07/graphql.json`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-shopify-access-token": DEMO_TOKEN, "x-forwarded-host": DEMO_SHOP },
      body: JSON.stringify({ query: `mutation { tagsRemove(id: "gid://shopify/Product/1", tags: ["needs-review"]) { userErrors { message } } }` })
    })
    expect((await edited.json()).data.tagsRemove.userErrors).toEqual([])

    await page.getByRole("button", { name: "Undo" }).click()
    const conflict = "Failed to load resource: the server responded with a status of 409 (Conflict)"
    expectedErrors.add(conflict)
    await page.getByRole("dialog").getByRole("button", { name: "Undo" }).click()
    // refused and explained, with the choice to overwrite
    const refusal = page.getByRole("dialog")
    await refusal.getByText("The resource changed since").waitFor()
    await refusal.getByText(/changed Product 1 after this rule acted on it/).waitFor()
    expectedErrors.delete(conflict)
    await refusal.getByRole("button", { name: "Overwrite and undo" }).click()
    await until("the undo", async () => {
      await page.reload()
      await settled(page, "What changed")
      return (await page.getByText("This execution was undone").count()) > 0
    })
  })

  it("a merchant approves a parked execution", async () => {
    // a rule asking for approval, made in the editor
    await open(page, "/rules/new", "New rule")
    await page.getByLabel("Name", { exact: true }).fill("Tag published products, with approval")
    await page.getByLabel("When", { exact: true }).selectOption("product.published")
    await page.getByLabel("Do", { exact: true }).selectOption("tag_product")
    await page.getByLabel("Tags", { exact: true }).fill("launched")
    await page.getByLabel("Ask for approval before acting", { exact: true }).check()
    await page.getByRole("button", { name: "Save (disabled)" }).click()
    await page.waitForURL(/\/app\/rules\/[0-9a-f-]{36}$/)
    await page.getByRole("button", { name: "Enable" }).click()
    await page.getByText("Enabled").first().waitFor()

    const product = { id: 2, admin_graphql_api_id: "gid://shopify/Product/2", title: "Green Tee", vendor: "Other", product_type: "Shirts", tags: "" }
    await productWebhook("products/create", { ...product, status: "draft", updated_at: new Date(Date.now() - 60_000).toISOString() })
    await productWebhook("products/update", { ...product, status: "active", updated_at: new Date().toISOString() })

    await open(page, "/approvals", "Approvals")
    await until("the parked execution", async () => {
      await page.reload()
      await settled(page, "Approvals")
      return (await page.getByRole("button", { name: /^Approve tag_product/ }).count()) > 0
    })
    await page.screenshot({ path: `${SCREENSHOTS}approvals-waiting-desktop.png`, fullPage: true })
    await page.getByRole("button", { name: /^Approve tag_product/ }).first().click()
    await page.getByText("Approved: it runs now").waitFor()
    await until("the approved execution to apply", async () => {
      const applied = await read("/app/executions?status=applied&limit=50")
      return applied.executions.some((e: { resource_id: string }) => e.resource_id === "gid://shopify/Product/2")
    })
  })

  it("a merchant accepts a next best action in one click, and backtests the rule it made", async () => {
    await open(page, "/", "Next best actions")
    const card = page.locator(".Polaris-ShadowBevel").filter({ hasText: "Consolidate competing pages" })
    await card.getByRole("button", { name: "Accept: create this rule" }).click()
    await page.waitForURL(/\/app\/rules\/[0-9a-f-]{36}$/)
    made["recommended-rule"] = new URL(page.url()).pathname.replace(/^\/app/, "")
    await settled(page, "Consolidate competing pages")
    await page.getByText("Disabled").first().waitFor() // created disabled, for review
    await page.getByRole("button", { name: "Run the backtest" }).click()
    // the demo's Search Console pull found twelve split queries: it would have fired on each
    await page.getByText(/It would have fired 12 times on 12 resource/).waitFor()
  })

  it("a merchant reads attribution: the seven models per channel and over time", async () => {
    await open(page, "/attribution", "Per channel, by model")
    const table = page.getByRole("table").filter({ hasText: "Channel" })
    for (const model of ["First touch", "Last touch", "Linear", "Time decay", "Position based", "Markov", "Shapley"]) {
      await table.getByRole("columnheader", { name: model }).waitFor()
    }
    expect(await table.getByRole("row").count()).toBeGreaterThan(2)
    // each chart drawn, and its numbers in a table for screen readers
    for (const name of [/per channel under each of the seven models/, /per channel per day under the linear model/]) {
      const figure = page.locator("figure").filter({ has: page.getByRole("table", { name }) })
      await figure.locator("svg").first().waitFor()
      expect(await figure.getByRole("table", { name }).getByRole("row").count()).toBeGreaterThan(2)
    }
  })

  it("an owner gives a staff member the viewer role; the viewer sees the shop, and no action a viewer may not take", async () => {
    await open(page, "/settings", "Members and roles")
    await page.getByLabel("Shopify user id", { exact: true }).fill("viewer-user")
    await page.getByLabel("Role", { exact: true }).first().selectOption("viewer")
    await page.getByRole("button", { name: "Give the role" }).click()
    await page.getByRole("row").filter({ hasText: "viewer-user" }).waitFor()

    const viewerToken = signSessionToken({ shop: DEMO_SHOP, apiKey: DEMO_API_KEY, appSecret: DEMO_SECRET, userId: "viewer-user", ttlSeconds: 3_600 })
    const context = await browser.newContext({ viewport: DESKTOP })
    // any 403 the app provoked would be a console error: watch() fails the suite on it
    const viewer = watch(await context.newPage(), "viewer")
    await viewer.goto(`${server.url}/app#session=${viewerToken}`)
    await settled(viewer, "What fired today")
    // a viewer reads automation and the audit log, not insights, webhooks or AI usage
    const nav = viewer.locator(".Polaris-Navigation")
    for (const shown of ["Jobs", "Rules", "Executions", "Audit log"]) await nav.getByText(shown, { exact: true }).waitFor()
    for (const hidden of ["Attribution", "Outbound webhooks", "AI usage"]) expect(await nav.getByText(hidden, { exact: true }).count(), hidden).toBe(0)
    expect(await viewer.getByText("Next best actions").count()).toBe(0)
    await open(viewer, "/jobs", "Bulk jobs")
    expect(await viewer.getByRole("button", { name: "Run a bulk job" }).count()).toBe(0)
    await open(viewer, "/rules", "Tag drafted Acme products")
    expect(await viewer.getByRole("link", { name: "Create rule" }).count() + await viewer.getByRole("button", { name: "Create rule" }).count()).toBe(0)
    // a row opens from the keyboard: its link is in the tab order
    await viewer.getByRole("link", { name: "Tag drafted Acme products" }).focus()
    await viewer.keyboard.press("Enter")
    await settled(viewer, "Backtest")
    expect(await viewer.getByRole("button", { name: /^(Save|Enable|Disable|Delete)$/ }).count()).toBe(0)
    await open(viewer, "/settings", "Plan")
    expect(await viewer.getByText("Members and roles").count()).toBe(0)
    await context.close()
  })

  it("embedded in the Shopify admin, the app loads App Bridge and asks it for a session token before each call", async () => {
    // Shopify's CDN is out of reach: its App Bridge script is stood in for by one that keeps the
    // contract the app relies on (a global `shopify` whose idToken() resolves to a session token)
    const embedded = await browser.newContext({ viewport: DESKTOP })
    let served = 0
    await embedded.route("https://cdn.shopify.com/shopifycloud/app-bridge.js", (route) => {
      served++
      return route.fulfill({
        contentType: "text/javascript",
        body: `window.__idTokens = 0; window.shopify = { idToken: async () => { window.__idTokens++; return ${JSON.stringify(token)} } };`
      })
    })
    const framed = watch(await embedded.newPage(), "embedded")
    // as Shopify opens an embedded app: no development session in the fragment
    const res = await framed.goto(`${server.url}/app/rules?embedded=1&shop=${DEMO_SHOP}&host=YWRtaW4uc2hvcGlmeS5jb20vc3RvcmUvc3VtZXJ1LWRlbW8`)
    expect(res!.headers()["content-security-policy"]).toBe(`frame-ancestors https://${DEMO_SHOP} https://admin.shopify.com`)
    await settled(framed, "Tag drafted Acme products")
    expect(served).toBe(1)
    expect(await framed.evaluate(() => (window as unknown as { __idTokens: number }).__idTokens)).toBeGreaterThanOrEqual(2) // /app/me and /app/rules
    expect(await framed.evaluate(() => sessionStorage.length)).toBe(0)
    // the admin's own sidebar lists the screens (App Bridge's nav menu), not a second one in the frame
    expect(await framed.locator("ui-nav-menu a").count()).toBeGreaterThan(10)
    expect(await framed.locator(".Polaris-Navigation").count()).toBe(0)
    await embedded.close()
  })

  it("every screen, desktop and mobile: no serious or critical accessibility violation, a screenshot, its timings", async () => {
    /** What a screen shows once a person acted on it (the backtest run), before it is checked and pictured. */
    const backtest = async (p: Page) => {
      await p.getByRole("button", { name: "Run the backtest" }).click()
      await p.getByText(/It would (not )?have fired/).waitFor()
    }
    const screens: ReadonlyArray<readonly [name: string, path: string, ready: string | RegExp, act?: (p: Page) => Promise<void>]> = [
      ["home", "/", "Next best actions"],
      ["jobs", "/jobs", "Bulk jobs"],
      ["job-detail", made["job-detail"]!, "Timeline"],
      ["templates", "/templates", "Badge winter products"],
      ["rules", "/rules", "Tag drafted Acme products"],
      ["rule-editor", made["recommended-rule"]!, "Backtest", backtest],
      ["rule-new", "/rules/new", "Backtest before enabling"],
      ["approvals", "/approvals", "Approvals"],
      ["executions", "/executions", "Executions"],
      ["execution-detail", made["execution-detail"]!, "Why did this happen?"],
      ["audit", "/audit", "Audit log"],
      ["attribution", "/attribution", "Per channel, by model"],
      ["seo", "/seo", "In decay"],
      ["ads", "/ads", "Spend anomaly"],
      ["cohorts", "/cohorts", "First order"],
      ["ltv", "/ltv", "Distribution of predicted value"],
      ["webhooks", "/webhooks", "Deliveries"],
      ["ai", "/ai", "This month's budget"],
      ["settings", "/settings", "Members and roles"]
    ]
    const mobile = await browser.newContext({ viewport: MOBILE, isMobile: true, hasTouch: true })
    const phone = watch(await mobile.newPage(), "mobile")
    await phone.goto(`${server.url}/app#session=${token}`)
    await settled(phone, "Next best actions")
    const timings: Array<Record<string, string | number>> = []
    const problems: Array<string> = []
    for (const [name, path, ready, act] of screens) {
      for (const [width, p] of [["desktop", page], ["mobile", phone]] as const) {
        const started = Date.now()
        await open(p, path, ready)
        const usable = Date.now() - started
        const nav = await p.evaluate(() => {
          const n = performance.getEntriesByType("navigation")[0] as PerformanceNavigationTiming
          return { interactive: Math.round(n.domInteractive), loaded: Math.round(n.loadEventEnd) }
        })
        timings.push({ screen: name, width, "DOM interactive (ms)": nav.interactive, "load event (ms)": nav.loaded, "data shown (ms)": usable })
        if (act !== undefined) await act(p)
        const axe = await new AxeBuilder({ page: p }).analyze()
        for (const v of axe.violations.filter((v) => v.impact === "serious" || v.impact === "critical")) {
          problems.push(`${name} (${width}): ${v.id} (${v.impact}) ${v.help}: ${v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join(" | ")}`)
        }
        await p.screenshot({ path: `${SCREENSHOTS}${name}-${width}.png`, fullPage: true })
      }
    }
    await mobile.close()
    console.log("Admin screens on the demo shop (Chromium, headless; printed, not asserted):")
    console.table(timings)
    expect(problems, problems.join("\n")).toEqual([])
  }, 300_000)
})
