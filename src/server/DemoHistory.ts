/**
 * The demo shop's history (issue 13: "the demo's shop comes with 90 days of simulated search, ads
 * and order history"): published to the shop's log at start, as the real sources would have sent
 * it over 90 days — storefront touchpoints and Shopify orders (attribution, cohorts, lifetime
 * value), and a Google Ads account's daily insights reports with a spend spike and a keyword that
 * stopped converting on the last day (`ads.spend_anomaly`, `ads.keyword_underperforming`). The
 * search history is the Search Console simulator's own (`ShopifyApp.ts`).
 *
 * The shop is on the pro plan from the start (the AI-driven actions need it).
 *
 * Deterministic (a seeded generator) and idempotent: every message id is fixed, so a restart
 * publishes nothing new. Dates are relative to the day the demo first starts.
 */
import { Effect } from "effect"
import { encodeShopMessage } from "../../domain/messages/ShopMessages.ts"
import { ShopLog, type ShopMessage } from "../shoplog/ShopLog.ts"

const DAY = 86_400_000

/** mulberry32: small, seeded, good enough for demo data. */
const generator = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}

/** What a visit came from: the touchpoint fields that decide its channel. */
const VISITS: ReadonlyArray<Record<string, unknown>> = [
  { utm: { source: "newsletter", medium: "email" } },
  { click_ids: { gclid: "demo" } },
  { click_ids: { fbclid: "demo" } },
  { referrer: "https://www.google.com/" },
  { referrer: "https://www.instagram.com/" },
  { utm: { source: "partnerblog" } },
  {}
]

const uuid = (n: number) => `0190a0c2-7c9e-7679-8425-${n.toString(16).padStart(12, "0")}`

/** The messages of the demo's history, in the order they happened. */
export const demoHistory = (shop: string, now: number): ReadonlyArray<ShopMessage> => {
  const random = generator(2026)
  const today = Math.floor(now / DAY) * DAY
  const messages: Array<{ readonly at: number; readonly message: ShopMessage }> = []
  const push = (at: number, messageId: string, body: ReturnType<typeof encodeShopMessage>) =>
    messages.push({ at, message: { shop, messageId, correlationId: messageId, ...body } })

  // the demo shop is on the pro plan (its AI actions need it), as a subscription would have set it
  push(today - 91 * DAY, "demo:plan", encodeShopMessage({ type: "shop.set_plan", payload: { commandId: "demo-plan", plan: "pro", by: "demo" } }))

  // 120 customers; a third come back for more
  let touch = 0
  let order = 0
  for (let c = 1; c <= 120; c++) {
    const customerId = String(90_000 + c)
    const orders = random() < 0.35 ? 2 + Math.floor(random() * 4) : 1
    // each customer spends about the same each time (what the order-value model assumes)
    const basket = 30 + random() * 120
    let at = today - Math.floor(random() * 88 + 2) * DAY + Math.floor(random() * DAY)
    for (let o = 0; o < orders && at < now - DAY; o++) {
      const visits = 1 + Math.floor(random() * 3)
      for (let v = visits; v >= 1; v--) {
        const visitAt = at - v * Math.floor(random() * 3 + 1) * DAY / 2
        push(visitAt, `demo:touch:${touch}`, encodeShopMessage({
          type: "pixel.touchpoint",
          payload: {
            shop, event: "page_view", event_id: uuid(touch), occurred_at: new Date(visitAt).toISOString(),
            url: `https://${shop}/products/tee`, client_id: `demo-client-${c}`, customer_id: customerId,
            ...VISITS[Math.floor(random() * VISITS.length)]
          } as never
        }))
        touch++
      }
      const id = 5_000_000 + order++
      const total = (basket * (0.85 + random() * 0.3)).toFixed(2)
      const iso = new Date(at).toISOString()
      push(at, `demo:order:${id}`, encodeShopMessage({
        type: "shopify.webhook",
        payload: {
          topic: "orders/create",
          payload: { id, name: `#D${id}`, currency: "EUR", total_price: total, customer: { id: Number(customerId) }, line_items: [], created_at: iso, processed_at: iso, updated_at: iso }
        }
      }))
      at += Math.floor(random() * 25 + 7) * DAY
    }
  }

  // a Google Ads account: three campaigns, six keywords; on the last day campaign 2 spends three
  // times its usual and keyword 6 spends for nothing
  for (let d = 89; d >= 1; d--) {
    const date = new Date(today - d * DAY).toISOString().slice(0, 10)
    const last = d === 1
    const campaigns = [1, 2, 3].map((k) => {
      const usual = [120, 80, 45][k - 1]! * (0.9 + random() * 0.2)
      const spend = last && k === 2 ? usual * 3 : usual
      return { campaignId: `demo-campaign-${k}`, campaignName: ["Search — brand", "Search — winter", "Shopping"][k - 1]!, currency: "EUR", spendMicros: Math.round(spend * 1e6), impressions: 4000, clicks: 120, conversions: 6, conversionValueMicros: Math.round(spend * 4 * 1e6) }
    })
    const keywords = [1, 2, 3, 4, 5, 6].map((k) => {
      const dead = last && k === 6
      return {
        campaignId: "demo-campaign-2", adGroupId: "demo-ad-group-1", keywordId: `demo-kw-${k}`, keywordText: `winter ${["boots", "coat", "hat", "scarf", "gloves", "socks"][k - 1]}`, currency: "EUR",
        spendMicros: Math.round((dead ? 150 : 10) * 1e6), impressions: 400, clicks: 12, conversions: dead ? 0 : 1, conversionValueMicros: dead ? 0 : Math.round((3.5 + k * 0.2) * 10 * 1e6)
      }
    })
    push(today - d * DAY + 4 * 3_600_000, `demo:ads:${date}`, encodeShopMessage({
      type: "ads.insights_report",
      payload: { platform: "google", accountId: "demo-google-1234567890", date, outcome: { ok: true, campaigns, keywords } }
    }))
  }
  return messages.sort((a, b) => a.at - b.at).map((m) => m.message)
}

/** Publishes the history (in order; a message already published is a duplicate the log drops). */
export const publishDemoHistory = (shop: string, now: number) =>
  Effect.flatMap(ShopLog, (log) =>
    Effect.forEach(demoHistory(shop, now), (m) => log.publish(m), { discard: true })).pipe(
      Effect.catchCause((c) => Effect.logWarning("the demo's history was not fully published", c))
    )
