/**
 * What `npm start` prints in demo mode: ready-to-paste, correctly signed commands that start a
 * dry-run and a live job against the simulated shop and show a job's detail.
 */
import { Console, Effect } from "effect"
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
      "3. Follow it: the job's events in plain language (audit log) and its stream:",
      "",
      `npm run cli -- events replay --shop ${demo.shop} --format table   # after stopping the server (embedded DB)`,
      `curl -s ${url}/readyz`,
      ""
    ].join("\n"))
  })
