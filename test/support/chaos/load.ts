/**
 * The chaos suite's load generator: signed `orders/create` webhooks as Shopify sends them,
 * to the real ingress over HTTP.
 *
 * - `shops` shops, `messages` webhooks in all, dealt round-robin; every webhook has its own
 *   order id, event id and webhook id.
 * - Each shop's webhooks go strictly in order: the next is sent only after the previous one
 *   was answered 2xx. All shops run concurrently under one global pace (`rate` requests per
 *   second, retries included).
 * - A 5xx, a connection error or a timeout is retried like Shopify does: the same delivery
 *   (same body, same ids), after a short capped backoff, until `giveUpAfterMs`. A 4xx is a
 *   rejection, recorded and not retried (the suite fails on it).
 *
 * The report lists every delivery with its outcome; the ones answered 200 are what the
 * system promised to keep (invariant 3).
 */
import { signBody } from "../../../adapters/http/ShopifyHmac.ts"

export interface Delivery {
  readonly shop: string
  readonly orderId: string
  /** Position of this webhook in its shop's sending order (0, 1, 2, …). */
  readonly sendIndex: number
  readonly eventId: string
  readonly webhookId: string
}

export type Outcome =
  | { readonly _tag: "accepted"; readonly at: number; readonly attempts: number }
  | { readonly _tag: "rejected"; readonly status: number; readonly body: string; readonly attempts: number }
  | { readonly _tag: "gave_up"; readonly last: string; readonly attempts: number }
  /** Never sent: an earlier webhook of the same shop was rejected or given up. */
  | { readonly _tag: "not_sent" }

export interface DeliveryResult extends Delivery {
  readonly outcome: Outcome
}

export interface LoadReport {
  readonly results: ReadonlyArray<DeliveryResult>
  readonly accepted: ReadonlyArray<DeliveryResult>
  /** Answers seen, by status (`error` for connection errors and timeouts). */
  readonly answers: Readonly<Record<string, number>>
  readonly retries: number
  readonly startedAt: number
  readonly durationMs: number
}

export interface LoadOptions {
  readonly url: string
  readonly secret: string
  readonly shops: number
  readonly messages: number
  /** Target requests per second, all shops together. */
  readonly rate: number
  /** Unique per run: part of every event id, so runs never dedupe against each other. */
  readonly tag: string
  /** Per delivery: stop retrying after this long (default 120 s). */
  readonly giveUpAfterMs?: number
  /** Per request (default 10 s). */
  readonly requestTimeoutMs?: number
}

export const shopDomain = (i: number): string => `chaos-${String(i).padStart(4, "0")}.myshopify.com`

/** Every shop's deliveries, in sending order. Order ids are distinct, below 2^53. */
export const planDeliveries = (options: Pick<LoadOptions, "shops" | "messages" | "tag">): ReadonlyArray<ReadonlyArray<Delivery>> => {
  const perShop: Array<Array<Delivery>> = Array.from({ length: Math.min(options.shops, options.messages) }, () => [])
  for (let n = 0; n < options.messages; n++) {
    const list = perShop[n % perShop.length]!
    const orderId = String(5_000_000_000 + n)
    list.push({
      shop: shopDomain(n % perShop.length),
      orderId,
      sendIndex: list.length,
      eventId: `ev-${options.tag}-${orderId}`,
      webhookId: `wh-${options.tag}-${orderId}`
    })
  }
  return perShop
}

const orderBody = (d: Delivery, customerId: number): string => {
  const at = new Date().toISOString()
  return JSON.stringify({
    id: Number(d.orderId),
    admin_graphql_api_id: `gid://shopify/Order/${d.orderId}`,
    name: `#${1001 + d.sendIndex}`,
    email: `buyer${customerId}@example.com`,
    currency: "EUR",
    total_price: "19.90",
    subtotal_price: "16.72",
    total_tax: "3.18",
    financial_status: "paid",
    fulfillment_status: null,
    created_at: at,
    processed_at: at,
    updated_at: at,
    source_name: "web",
    line_items: [{ product_id: 7001, variant_id: 8001, quantity: 1, price: "16.72", sku: "TEE-M", title: "Tee" }],
    customer: { id: customerId, email: `buyer${customerId}@example.com`, first_name: "Ada", last_name: "Buyer" }
  })
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/** One global pace: every request (retries included) takes the next slot `1000 / rate` ms apart. */
const makePacer = (rate: number) => {
  const gap = 1000 / rate
  let next = performance.now()
  return async () => {
    const now = performance.now()
    const slot = Math.max(now, next)
    next = slot + gap
    if (slot > now) await sleep(slot - now)
  }
}

/** Runs the load to completion (every shop's list sent, or given up) and reports. */
export const runLoad = async (options: LoadOptions): Promise<LoadReport> => {
  const giveUpAfterMs = options.giveUpAfterMs ?? 120_000
  const requestTimeoutMs = options.requestTimeoutMs ?? 10_000
  const pace = makePacer(options.rate)
  const answers: Record<string, number> = {}
  let retries = 0
  const startedAt = Date.now()
  const endpoint = `${options.url}/webhooks/shopify`

  const send = async (d: Delivery, body: string): Promise<{ readonly status: number; readonly text: string } | { readonly error: string }> => {
    await pace()
    try {
      const response = await fetch(endpoint, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "x-shopify-topic": "orders/create",
          "x-shopify-shop-domain": d.shop,
          "x-shopify-api-version": "2026-07",
          "x-shopify-webhook-id": d.webhookId,
          "x-shopify-event-id": d.eventId,
          "x-shopify-triggered-at": new Date().toISOString(),
          "x-shopify-hmac-sha256": signBody(options.secret, body)
        },
        body,
        signal: AbortSignal.timeout(requestTimeoutMs)
      })
      return { status: response.status, text: await response.text() }
    } catch (e) {
      return { error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) }
    }
  }

  const deliver = async (d: Delivery, customerId: number): Promise<Outcome> => {
    const body = orderBody(d, customerId)
    const deadline = Date.now() + giveUpAfterMs
    for (let attempt = 1;; attempt++) {
      const answer = await send(d, body)
      const key = "status" in answer ? String(answer.status) : "error"
      answers[key] = (answers[key] ?? 0) + 1
      if ("status" in answer && answer.status >= 200 && answer.status < 300) {
        return { _tag: "accepted", at: Date.now(), attempts: attempt }
      }
      if ("status" in answer && answer.status < 500) {
        return { _tag: "rejected", status: answer.status, body: answer.text.slice(0, 300), attempts: attempt }
      }
      const last = "status" in answer ? `${answer.status} ${answer.text.slice(0, 200)}` : answer.error
      if (Date.now() > deadline) return { _tag: "gave_up", last, attempts: attempt }
      retries++
      // Shopify backs off too; a short cap keeps the test quick once the system is back.
      await sleep(Math.min(1_000, 50 * 2 ** Math.min(attempt - 1, 5)) * (0.5 + Math.random() / 2))
    }
  }

  const plan = planDeliveries(options)
  const perShopResults = await Promise.all(plan.map(async (deliveries, shopIndex) => {
    const results: Array<DeliveryResult> = []
    let blocked = false
    for (const d of deliveries) {
      const outcome: Outcome = blocked ? { _tag: "not_sent" } : await deliver(d, 900_000 + shopIndex)
      if (outcome._tag !== "accepted") blocked = true
      results.push({ ...d, outcome })
    }
    return results
  }))
  const results = perShopResults.flat()
  return {
    results,
    accepted: results.filter((r) => r.outcome._tag === "accepted"),
    answers,
    retries,
    startedAt,
    durationMs: Date.now() - startedAt
  }
}
