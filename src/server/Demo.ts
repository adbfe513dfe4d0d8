/**
 * What `npm start` prints in demo mode: ready-to-paste, correctly signed commands for every plane
 * built so far — Flowmend jobs (dry run, live, detail, undo), webhooks and privacy, the pixel, and
 * the decision plane (a rule, the product webhooks that fire it, its execution, why, audit, undo
 * and backtest) against the simulated shop.
 */
import { createHash } from "node:crypto"
import { Console, Effect } from "effect"
import { signSessionToken } from "../../adapters/http/SessionToken.ts"
import { signBody } from "../../adapters/http/ShopifyHmac.ts"
import type { ShopifyApp } from "./ShopifyApp.ts"

/** The issue's example rule, without quiet hours (so the demo runs at any hour). */
const DEMO_RULE = JSON.stringify({
  name: "Tag drafted products",
  trigger_event: "product.drafted",
  action_key: "tag_product",
  params: { tags: ["needs-review"] },
  condition: "resource.payload.vendor == 'Acme'",
  cooldown_seconds: 3600,
  quiet_hours: null,
  requires_approval: false,
  enabled: true
})

const shellQuote = (s: string) => `'${s.replaceAll("'", "'\\''")}'`

/** An order id above 2^53: written into the JSON text as digits (a JS number would lose the last one). */
const BIG_ORDER_ID = "9007199254740993"
const withBigIds = (body: Record<string, unknown>) => JSON.stringify(body).replaceAll("\"__BIG_ORDER_ID__\"", BIG_ORDER_ID)

const webhookCommand = (url: string, shop: string, secret: string, topic: string, body: Record<string, unknown>) => {
  const raw = withBigIds(body)
  return [
    `curl -s -X POST ${url}/webhooks/shopify \\`,
    `  -H 'content-type: application/json' \\`,
    `  -H 'x-shopify-topic: ${topic}' \\`,
    `  -H 'x-shopify-shop-domain: ${shop}' \\`,
    // one event id per delivery (Shopify's dedupe key): two orders/create of the demo are two events
    `  -H 'x-shopify-event-id: demo-${topic.replace("/", "-")}-${createHash("sha256").update(raw).digest("hex").slice(0, 12)}' \\`,
    `  -H 'x-shopify-hmac-sha256: ${signBody(secret, raw)}' \\`,
    `  -d ${shellQuote(raw)}`
  ].join("\n")
}

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

/** The admin app with a development session: the token rides in the fragment, which the browser never sends. */
export const adminLink = (url: string, token: string) => `${url}/app#session=${token}`

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
      "Open the admin in a browser (a development session for the demo shop, valid 24 h; in the Shopify admin the app gets App Bridge session tokens instead):",
      "",
      `  ${adminLink(url, token)}`,
      "",
      "Or follow along with curl:",
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
      "4. A Shopify webhook (ids above 2^53 keep every digit; personal data is sealed with the customer's key):",
      "",
      webhookCommand(url, demo.shop, secret, "orders/create", {
        id: "__BIG_ORDER_ID__",
        name: "#1001",
        email: "ada@example.com",
        currency: "EUR",
        total_price: "42.00",
        updated_at: new Date().toISOString(),
        customer: { id: 7001, email: "ada@example.com", first_name: "Ada" }
      }),
      "",
      "5. The customer asks for their data (Shopify's customers/data_request), then to be forgotten (customers/redact):",
      "",
      webhookCommand(url, demo.shop, secret, "customers/data_request", {
        shop_domain: demo.shop,
        customer: { id: 7001, email: "ada@example.com" },
        orders_requested: ["__BIG_ORDER_ID__"],
        data_request: { id: 1 }
      }),
      `curl -s ${url}/app/privacy/exports -H "authorization: Bearer $TOKEN"            # the export's id`,
      `curl -s ${url}/app/privacy/exports/<export_id> -H "authorization: Bearer $TOKEN"  # everything held about the customer`,
      "",
      webhookCommand(url, demo.shop, secret, "customers/redact", {
        shop_domain: demo.shop,
        customer: { id: 7001, email: "ada@example.com" },
        orders_to_redact: ["__BIG_ORDER_ID__"]
      }),
      "",
      "6. A storefront touchpoint (the pixel; CORS allows the shop's own domains):",
      "",
      `curl -s -X POST ${url}/pixel -H 'content-type: text/plain' -d ${shellQuote(JSON.stringify({
        shop: demo.shop,
        event: "page_view",
        event_id: "0190a0c2-7c9e-7679-8425-40de944be07f",
        occurred_at: new Date().toISOString(),
        url: `https://${demo.shop}/products/tee?utm_source=google&utm_medium=cpc&gclid=abc`,
        utm: { source: "google", medium: "cpc" },
        click_ids: { gclid: "abc" }
      }))}`,
      "",
      "7. The decision plane: a rule, created over HTTP (201, version 1), tags drafted Acme products:",
      "",
      `curl -s -X POST ${url}/app/rules -H "authorization: Bearer $TOKEN" -H 'content-type: application/json' -d ${shellQuote(DEMO_RULE)}`,
      `curl -s ${url}/app/triggers -H "authorization: Bearer $TOKEN"   # the 19 trigger events with their payload schemas`,
      `curl -s ${url}/app/actions -H "authorization: Bearer $TOKEN"    # the actions (the seed's meta)`,
      "",
      "8. Shopify says the simulated shop's product 1 was published, then sent back to draft: the",
      "   second webhook becomes product.drafted, the rule runs tag_product on the simulated shop",
      "   (snapshot, then the tags added), and every step is an event with its reason:",
      "",
      webhookCommand(url, demo.shop, secret, "products/create", {
        id: 1, admin_graphql_api_id: "gid://shopify/Product/1", title: "Blue Tee", vendor: "Acme",
        product_type: "Shirts", tags: "summer", status: "active", updated_at: "2026-12-01T10:00:00Z"
      }),
      webhookCommand(url, demo.shop, secret, "products/update", {
        id: 1, admin_graphql_api_id: "gid://shopify/Product/1", title: "Blue Tee", vendor: "Acme",
        product_type: "Shirts", tags: "summer", status: "draft", updated_at: "2026-12-01T11:00:00Z"
      }),
      `curl -s "${url}/app/executions?status=applied" -H "authorization: Bearer $TOKEN"   # before, after, what it did; its id`,
      `curl -s ${url}/app/executions/<execution_id>/why -H "authorization: Bearer $TOKEN"  # webhook → product event → trigger → rule v1 → steps`,
      `curl -s "${url}/app/audit?q=blue%20tee" -H "authorization: Bearer $TOKEN"          # every step in plain language`,
      `curl -s -X POST ${url}/app/executions/<execution_id>/undo -H "authorization: Bearer $TOKEN"  # removes exactly the tag it added`,
      `curl -s -X POST ${url}/app/rules/<rule_id>/backtest -H "authorization: Bearer $TOKEN" -H 'content-type: application/json' -d ${shellQuote(JSON.stringify({ from: new Date(Date.now() - 30 * 86_400_000).toISOString(), to: new Date(Date.now() + 86_400_000).toISOString() }))}`,
      "",
      "   Any trigger can be emitted by hand to try a rule (here an SEO detector's):",
      "",
      `curl -s -X POST ${url}/app/triggers/seo.content_decay_detected/emit -H "authorization: Bearer $TOKEN" -H 'content-type: application/json' -d ${shellQuote(JSON.stringify({
        resources: [{ resourceType: "page", resourceId: "/blogs/news/winter-care", payload: { dropPct: 42.5, priorClicks: 1200, nowClicks: 690 } }],
        baselineDays: 14
      }))}`,
      "",
      "9. The action plane: an outbound webhook to a local receiver (signed, Standard Webhooks; this",
      "   server's log prints what it receives), and a cart-recovery rule sending a WhatsApp template",
      "   (to the demo's WhatsApp simulator) to a customer who consented on their phone. The checkout",
      "   was last touched two hours ago: its abandonment timer (60 minutes) fires at once and the",
      "   sales.cart_abandoned_threshold trigger runs the rule:",
      "",
      `curl -s -X POST ${url}/app/webhook-subscriptions -H "authorization: Bearer $TOKEN" -H 'content-type: application/json' -d ${shellQuote(JSON.stringify({ url: demo.channels.receiver.url, events: ["autoaction.applied", "autoaction.undone", "autoaction.failed"] }))}   # its secret, shown once`,
      `curl -s -X POST ${url}/app/rules -H "authorization: Bearer $TOKEN" -H 'content-type: application/json' -d ${shellQuote(JSON.stringify({ name: "Win back abandoned carts", trigger_event: "sales.cart_abandoned_threshold", action_key: "send_cart_recovery_message", params: { whatsappTemplate: "cart_recovery", language: "en_US" }, enabled: true }))}`,
      webhookCommand(url, demo.shop, secret, "checkouts/create", {
        id: 9001, token: "demo-checkout-1", email: "ada@example.com", phone: "+4915112345678", currency: "EUR", total_price: "42.00",
        abandoned_checkout_url: `https://${demo.shop}/checkouts/demo-checkout-1/recover`,
        line_items: [{ title: "Blue Tee", quantity: 2, price: "21.00" }],
        customer: { id: 7002, first_name: "Ada", sms_marketing_consent: { state: "subscribed" } },
        updated_at: new Date(Date.now() - 2 * 3_600_000).toISOString()
      }),
      `curl -s ${demo.channels.whatsapp.url}/__sim/messages   # the cart_recovery template WhatsApp received for +4915112345678`,
      `curl -s "${url}/app/webhook-deliveries" -H "authorization: Bearer $TOKEN"   # delivered, and to whom`,
      "",
      "10. The intelligence plane: a customer's visits (a newsletter, then a Google ad click) and their",
      "    order, attributed under the seven models; cohorts and predicted lifetime value:",
      "",
      ...[
        { event_id: "0190a0c2-7c9e-7679-8425-40de944be101", ago: 3 * 86_400_000, url: `https://${demo.shop}/?utm_source=newsletter&utm_medium=email`, utm: { source: "newsletter", medium: "email" } },
        { event_id: "0190a0c2-7c9e-7679-8425-40de944be102", ago: 3_600_000, url: `https://${demo.shop}/products/tee?gclid=demo`, click_ids: { gclid: "demo" } }
      ].map(({ ago, ...t }) =>
        `curl -s -X POST ${url}/pixel -H 'content-type: text/plain' -d ${shellQuote(JSON.stringify({
          shop: demo.shop, event: "page_view", occurred_at: new Date(Date.now() - ago).toISOString(), client_id: "demo-visitor", customer_id: "7003", ...t
        }))}`),
      webhookCommand(url, demo.shop, secret, "orders/create", {
        id: 1002, name: "#1002", currency: "EUR", total_price: "84.00", customer: { id: 7003 },
        created_at: new Date().toISOString(), processed_at: new Date().toISOString(), updated_at: new Date().toISOString()
      }),
      `curl -s ${url}/app/attribution -H "authorization: Bearer $TOKEN"             # first/last touch, linear, time decay, position-based, Markov, Shapley per channel`,
      `curl -s ${url}/app/attribution/orders/1002 -H "authorization: Bearer $TOKEN" # its journey: email, then paid_search_google`,
      `curl -s ${url}/app/cohorts -H "authorization: Bearer $TOKEN"; curl -s ${url}/app/ltv -H "authorization: Bearer $TOKEN"`,
      "",
      "    Search Console (its simulator: 90 days of the storefront's search traffic) was pulled at start;",
      "    two pages lost over half their clicks against their 14-day baseline, and the SEO detectors'",
      "    triggers (seo.content_decay_detected, seo.opportunity_found, …) reached the shop's rules:",
      "",
      `curl -s "${url}/app/seo/pages?decayed=true" -H "authorization: Bearer $TOKEN"`,
      "",
      "    The demo storefront (its simulator) was audited and Merchant Center (its simulator) pulled at start:",
      "    a broken link, pages scored by the rubric, two disapproved products — each a trigger for the rules",
      `    (see them: npm run cli -- events replay --shop ${demo.shop} --types trigger.received --format table, after stopping the server).`,
      "    The next best actions, from what was found (accepting one creates its rule, disabled):",
      "",
      `curl -s ${url}/app/recommendations -H "authorization: Bearer $TOKEN"`,
      `curl -s -X POST ${url}/app/recommendations/rec-seo.broken_links_found/accept -H "authorization: Bearer $TOKEN"`,
      "",
      "11. The AI gateway (the demo's providers are a simulator of Claude, GPT, Gemini, Mistral and Cohere;",
      "    every call is admitted against the shop's plan limits and monthly budget, and logged). A rule",
      "    has the gateway write FAQ structured data for a page that lost its featured snippet:",
      "",
      `curl -s -X POST ${url}/app/rules -H "authorization: Bearer $TOKEN" -H 'content-type: application/json' -d ${shellQuote(JSON.stringify({
        name: "FAQ for lost snippets", trigger_event: "seo.snippet_lost", action_key: "add_faq_structured_data", params: { questions: 3 }, requires_approval: false, enabled: true
      }))}`,
      `curl -s -X POST ${url}/app/triggers/seo.snippet_lost/emit -H "authorization: Bearer $TOKEN" -H 'content-type: application/json' -d ${shellQuote(JSON.stringify({
        resources: [{ resourceType: "page", resourceId: "https://sumeru-demo.example/pages/about-us", payload: { url: "https://sumeru-demo.example/pages/about-us", query: "who makes sumeru", position: 2.4 } }]
      }))}`,
      `curl -s "${url}/app/executions?status=applied" -H "authorization: Bearer $TOKEN"   # wrote 3 questions and answers … (anthropic claude-sonnet-4-5, $…)`,
      `curl -s ${url}/app/ai/usage -H "authorization: Bearer $TOKEN"                     # calls, tokens, cost per model and purpose, the month's budget`,
      "",
      `After stopping the server: npm run cli -- events replay --shop ${demo.shop} --format table; npm run cli -- ai usage --shop ${demo.shop}`,
      ""
    ].join("\n"))
  })
