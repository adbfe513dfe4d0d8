/**
 * The Shopify app Sumeru runs as: its API key and secret(s), and how to reach the Admin API.
 * With no `SHOPIFY_API_SECRET` configured, Sumeru runs a demo: the built-in Shopify simulator
 * serves one shop with 10,000 products, and the demo's keys are printed with ready-to-paste
 * commands.
 */
import { demoSearchRows, startSearchConsoleSimulator } from "../simulator/searchconsole/index.ts"
import { type AiRequestSeen, startAiSimulator } from "../simulator/ai/index.ts"
import { demoMerchantProducts, startMerchantCenterSimulator } from "../simulator/merchantcenter/index.ts"
import { startStorefrontSimulator } from "../simulator/storefront/index.ts"
import { Config, Context, Effect, Layer, Option, Redacted } from "effect"
import { layerShopCredentials } from "../../adapters/postgres/PgSecrets.ts"
import * as ShopifyAdminLive from "../../adapters/shopify/ShopifyAdminLive.ts"
import { startShopifySimulator } from "../simulator/shopify/index.ts"
import { startSmtpSink } from "../simulator/smtp/SmtpSink.ts"
import { startWhatsAppSimulator } from "../simulator/whatsapp/index.ts"
import { createServer, type Server } from "node:http"
import type { AddressInfo } from "node:net"

export interface DemoShop {
  readonly shop: string
  readonly simulatorUrl: string
  readonly products: number
  /** The demo's other channels, each a simulator or a real server in this process. */
  readonly channels: DemoChannels
}

/** WhatsApp (its simulator, with an approved `cart_recovery` template), e-mail (a real SMTP sink) and a local webhook receiver. */
export interface DemoChannels {
  readonly whatsapp: { readonly url: string; readonly token: string; readonly phoneNumberId: string }
  readonly smtp: { readonly host: string; readonly port: number }
  /** Prints every outbound webhook it receives; the only target outbound webhooks may reach in the demo. */
  readonly receiver: { readonly url: string; readonly hostPort: string }
  /** Search Console's simulator, with 90 days of the demo storefront's search traffic (a decaying page among them). */
  readonly searchConsole: { readonly url: string; readonly token: string; readonly siteUrl: string }
  /** Merchant Center's simulator: the demo catalog's offers, two of them disapproved. */
  readonly merchantCenter: { readonly url: string; readonly token: string; readonly accountId: string }
  /** The demo's storefront (its simulator, with a few SEO problems and a broken link), audited at start. */
  readonly storefront: { readonly origin: string }
  /** The five AI providers' simulator: the AI gateway's providers in the demo (no keys needed). */
  readonly ai: { readonly url: string }
}

export class ShopifyApp extends Context.Service<ShopifyApp, {
  readonly apiKey: string
  /** The current client secret first, then a previous one during a rotation. */
  readonly secrets: ReadonlyArray<string>
  readonly demo: DemoShop | null
  /** Lets the simulator deliver webhooks to this process once its port is known. */
  readonly setWebhookUrl: (url: string) => void
}>()("sumeru/server/ShopifyApp") {}

export const DEMO_SHOP = "sumeru-demo.myshopify.com"

/**
 * The demo's AI answers: deterministic, and shaped like what each prompt asks for (an FAQ as
 * `Q:` / `A:` lines, an SEO title and description), so the demo's AI actions have something real
 * to write.
 */
const demoAiAnswer = (r: AiRequestSeen): string => {
  const seo = /^Write the SEO title and meta description of this \w+ for people searching "([^"]*)"/.exec(r.prompt)
  if (seo !== null) {
    const title = /^title: (.*)$/m.exec(r.prompt)?.[1] ?? "Our product"
    return `Title: ${title} — ${seo[1]} | Sumeru demo\nDescription: ${title}: everything about ${seo[1]}, made to last and shipped in two days.`
  }
  const asked = /Write (\d+) questions and answers for this page, for people searching "([^"]*)"/.exec(r.prompt)
  if (asked === null) return `Simulated ${r.model} answer to: ${r.prompt.slice(0, 120)}`
  const n = Number(asked[1])
  const topic = asked[2]!
  const title = /Title: (.*)/.exec(r.prompt)?.[1] ?? "this product"
  return Array.from({ length: n }, (_, i) =>
    [`Q: ${["What is", "How do I care for", "Who is", "Where does"][i % 4]} ${topic}${i >= 4 ? ` (${i + 1})` : ""}?`, `A: ${title} answers it: see the page for details (${i + 1}).`].join("\n")).join("\n")
}
export const DEMO_API_KEY = "sumeru-demo-api-key"
export const DEMO_SECRET = "sumeru-demo-secret"
export const DEMO_TOKEN = "shpat_sumeru_demo_offline_token"

const DEMO_WHATSAPP_TOKEN = "demo-whatsapp-system-user-token"
export const DEMO_WHATSAPP_NUMBER = "100000000000777"
const DEMO_SEARCH_CONSOLE_TOKEN = "demo-search-console-token"
const DEMO_SEARCH_SITE = "https://sumeru-demo.example/"
const DEMO_MERCHANT_TOKEN = "demo-merchant-center-token"
const DEMO_MERCHANT_ACCOUNT = "5550001"

/** The demo's WhatsApp simulator, SMTP sink and webhook receiver, for the life of the process. */
const demoChannels = Effect.gen(function*() {
  const whatsapp = yield* Effect.acquireRelease(
    Effect.promise(() =>
      startWhatsAppSimulator({
        accessTokens: [DEMO_WHATSAPP_TOKEN],
        phoneNumbers: [{ id: DEMO_WHATSAPP_NUMBER, displayPhoneNumber: "15550000777" }],
        templates: [{ name: "cart_recovery", language: "en_US", category: "MARKETING", bodyParameters: 2 }]
      })
    ),
    (w) => Effect.promise(() => w.stop())
  )
  const smtp = yield* Effect.acquireRelease(Effect.promise(() => startSmtpSink()), (s) => Effect.promise(() => s.close()))
  const receiver = yield* Effect.acquireRelease(
    Effect.promise(() =>
      new Promise<Server>((resolve) => {
        const server = createServer((req, res) => {
          const chunks: Array<Buffer> = []
          req.on("data", (c: Buffer) => chunks.push(c))
          req.on("end", () => {
            const body = Buffer.concat(chunks).toString("utf8")
            console.log(`demo webhook receiver: ${String(req.headers["webhook-id"])} ${body.slice(0, 300)}`)
            res.writeHead(204).end()
          })
        })
        server.listen(0, "127.0.0.1", () => resolve(server))
      })
    ),
    (server) => Effect.promise(() => new Promise<void>((resolve) => server.close(() => resolve())))
  )
  const port = (receiver.address() as AddressInfo).port
  // 90 days of the storefront's search traffic, ending on the last day Search Console calls
  // final: the daily pull finds the decaying posts at once
  const searchConsole = yield* Effect.acquireRelease(
    Effect.promise(() =>
      startSearchConsoleSimulator({
        accessToken: DEMO_SEARCH_CONSOLE_TOKEN,
        sites: [{
          siteUrl: DEMO_SEARCH_SITE,
          rows: demoSearchRows({ pages: 60, days: 90, endDate: new Date(Date.now() - 3 * 86_400_000).toISOString().slice(0, 10), host: "sumeru-demo.example", decayingPages: ["/blogs/news/choosing-a-wool-throw", "/products/wool-throw-blanket"] })
        }]
      })
    ),
    (sc) => Effect.promise(() => sc.stop())
  )
  const merchantCenter = yield* Effect.acquireRelease(
    Effect.promise(() => startMerchantCenterSimulator({ accessToken: DEMO_MERCHANT_TOKEN, accounts: [{ accountId: DEMO_MERCHANT_ACCOUNT, products: demoMerchantProducts({}) }] })),
    (mc) => Effect.promise(() => mc.stop())
  )
  const storefront = yield* Effect.acquireRelease(Effect.promise(() => startStorefrontSimulator({})), (sf) => Effect.promise(() => sf.stop()))
  const ai = yield* Effect.acquireRelease(Effect.promise(() => startAiSimulator({ seed: "demo", respond: demoAiAnswer })), (sim) => Effect.promise(() => sim.stop()))
  return {
    whatsapp: { url: whatsapp.url, token: DEMO_WHATSAPP_TOKEN, phoneNumberId: DEMO_WHATSAPP_NUMBER },
    smtp: { host: smtp.host, port: smtp.port },
    receiver: { url: `http://127.0.0.1:${port}/hooks`, hostPort: `127.0.0.1:${port}` },
    searchConsole: { url: searchConsole.url, token: DEMO_SEARCH_CONSOLE_TOKEN, siteUrl: DEMO_SEARCH_SITE },
    merchantCenter: { url: merchantCenter.url, token: DEMO_MERCHANT_TOKEN, accountId: DEMO_MERCHANT_ACCOUNT },
    storefront: { origin: storefront.origin },
    ai: { url: ai.url }
  } satisfies DemoChannels
})

/** `ShopifyApp` + `ShopifyAdmin` (+ credentials) from configuration, or the simulator demo. */
export const layer = Layer.unwrap(Effect.gen(function*() {
  const secret = yield* Config.option(Config.Redacted("SHOPIFY_API_SECRET"))
  if (Option.isSome(secret) && Redacted.value(secret.value) !== "") {
    const apiKey = yield* Config.String("SHOPIFY_API_KEY")
    const previous = yield* Config.option(Config.Redacted("SHOPIFY_API_SECRET_PREVIOUS"))
    // Tokens stored by installs (OAuth / token exchange); SHOPIFY_SHOP_TOKENS (JSON:
    // {"shop.myshopify.com": "shpat_…"}) covers shops installed before Sumeru stored tokens.
    const tokens = yield* Config.String("SHOPIFY_SHOP_TOKENS").pipe(Config.withDefault("{}"))
    const app = Layer.succeed(ShopifyApp, ShopifyApp.of({
      apiKey,
      secrets: [Redacted.value(secret.value), ...(Option.isSome(previous) ? [Redacted.value(previous.value)] : [])],
      demo: null,
      setWebhookUrl: () => undefined
    }))
    const admin = ShopifyAdminLive.layerConfig().pipe(Layer.provideMerge(layerShopCredentials(JSON.parse(tokens) as Record<string, string>)))
    return Layer.merge(app, admin)
  }
  const products = yield* Config.Int("DEMO_PRODUCTS").pipe(Config.withDefault(10_000))
  const sim = yield* Effect.acquireRelease(
    Effect.promise(() =>
      startShopifySimulator({
        appSecret: DEMO_SECRET,
        apiKey: DEMO_API_KEY,
        shops: [{ domain: DEMO_SHOP, accessToken: DEMO_TOKEN, products, seed: 2026 }],
        bulkPace: { objectsPerSecond: 20_000, startDelayMs: 200 }
      } as Parameters<typeof startShopifySimulator>[0])
    ),
    (s) => Effect.promise(() => s.close())
  )
  const channels = yield* demoChannels
  const app = Layer.succeed(ShopifyApp, ShopifyApp.of({
    apiKey: DEMO_API_KEY,
    secrets: [DEMO_SECRET],
    demo: { shop: DEMO_SHOP, simulatorUrl: sim.url, products, channels },
    setWebhookUrl: (url) => sim.setWebhookUrl(url)
  }))
  const admin = ShopifyAdminLive.layer({ adminUrlOverride: sim.url, fetch: sim.fetch as unknown as typeof globalThis.fetch }).pipe(
    Layer.provideMerge(layerShopCredentials({ [DEMO_SHOP]: DEMO_TOKEN }))
  )
  return Layer.merge(app, admin)
}))
