/**
 * What `npm start` prints in demo mode: ready-to-paste, correctly signed commands that start a
 * dry-run and a live job against the simulated shop and show a job's detail.
 */
import { Console, Effect } from "effect"
import { signSessionToken } from "../../adapters/http/SessionToken.ts"
import { signBody } from "../../adapters/http/ShopifyHmac.ts"
import type { ShopifyApp } from "./ShopifyApp.ts"

const shellQuote = (s: string) => `'${s.replaceAll("'", "'\\''")}'`

const flowCommand = (url: string, shop: string, secret: string, body: Record<string, unknown>) => {
  const raw = JSON.stringify(body)
  return [
    `curl -s -X POST ${url}/webhooks/flow-action \\`,
    `  -H 'content-type: application/json' \\`,
    `  -H 'x-shopify-shop-domain: ${shop}' \\`,
    `  -H 'x-shopify-hmac-sha256: ${signBody(secret, raw)}' \\`,
    `  -d ${shellQuote(raw)}`
  ].join("\n")
}

export const printDemo = (url: string, app: ShopifyApp["Service"]) =>
  Effect.gen(function*() {
    const demo = app.demo!
    const secret = app.secrets[0]!
    const token = signSessionToken({ shop: demo.shop, apiKey: app.apiKey, appSecret: secret, userId: "demo-user", ttlSeconds: 86_400 })
    const base = { query_string: "status:active tag:winter", namespace: "custom", key: "seasonal_badge", type: "single_line_text_field", value: "Winter Collection", max_items: 5000 }
    yield* Console.log([
      "",
      `Sumeru demo: a simulated Shopify shop ${demo.shop} with ${demo.products.toLocaleString("en-US")} products (simulator at ${demo.simulatorUrl}).`,
      "",
      "1. Start a dry run (counts the matching products, changes nothing):",
      "",
      flowCommand(url, demo.shop, secret, { ...base, dry_run: true }),
      "",
      "2. Start a live job (sets the metafield on every matching product):",
      "",
      flowCommand(url, demo.shop, secret, { ...base, dry_run: false }),
      "",
      "3. The shop's jobs and one job's detail with its timeline (an App Bridge session token, valid 24 h):",
      "",
      `export TOKEN=${token}`,
      `curl -s ${url}/app/jobs -H "authorization: Bearer $TOKEN"`,
      `curl -s ${url}/app/jobs/<job_id> -H "authorization: Bearer $TOKEN"`,
      `curl -s -X POST ${url}/app/jobs/<job_id>/undo -H "authorization: Bearer $TOKEN"   # undo a live job`,
      "",
      `After stopping the server: npm run cli -- events replay --shop ${demo.shop} --format table`,
      ""
    ].join("\n"))
  })
