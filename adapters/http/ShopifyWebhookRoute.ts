/**
 * `POST /webhooks/shopify`: Shopify's HTTPS webhooks. Verifies the HMAC over the raw body
 * (401), requires Shopify's headers (400), and answers 200 only once the delivery is durably
 * in the shop's log (503 otherwise, so Shopify retries). The dedupe key is Shopify's
 * `X-Shopify-Event-Id` (falling back to the webhook id): a re-delivery is the same message.
 *
 * `bulk_operations/finish` nudges the shop's running job; every other topic is kept as a raw
 * `shopify.webhook_received` event until a typed model exists for it (never lost).
 */
import type { Hono } from "hono"
import type { ShopMessage } from "../../src/shoplog/ShopLog.ts"
import { isShopDomain } from "../../domain/shop/ShopDomain.ts"
import { problem, Problems, readRawBody } from "./HttpProblem.ts"
import { verifyHmac } from "./ShopifyHmac.ts"

export const WEBHOOK_BODY_LIMIT = 1024 * 1024

export interface ShopifyWebhookOptions {
  readonly secrets: ReadonlyArray<string>
  /** Publishes to the shop's log; resolves once durable. */
  readonly publish: (message: ShopMessage) => Promise<unknown>
}

export const messageTypeOf = (topic: string): string =>
  topic === "bulk_operations/finish" ? "shopify.bulk_operations_finish" : "shopify.webhook_received"

export const mountShopifyWebhookRoute = (app: Hono, options: ShopifyWebhookOptions) => {
  app.post("/webhooks/shopify", async (c) => {
    const raw = await readRawBody(c.req.raw, WEBHOOK_BODY_LIMIT)
    if (raw === "too_large") return problem(c, Problems.tooLarge(WEBHOOK_BODY_LIMIT))
    if (!verifyHmac(raw, c.req.header("x-shopify-hmac-sha256"), options.secrets)) return problem(c, Problems.unauthorized())
    const topic = c.req.header("x-shopify-topic")
    const shop = c.req.header("x-shopify-shop-domain")?.toLowerCase()
    const id = c.req.header("x-shopify-event-id") ?? c.req.header("x-shopify-webhook-id")
    const missing = [
      ...(topic === undefined ? ["X-Shopify-Topic"] : []),
      ...(shop === undefined || !isShopDomain(shop) ? ["X-Shopify-Shop-Domain"] : []),
      ...(id === undefined ? ["X-Shopify-Event-Id"] : [])
    ]
    if (missing.length > 0) {
      return problem(c, { status: 400, code: "missing_headers", message: `missing or invalid headers: ${missing.join(", ")}` })
    }
    let payload: unknown
    try {
      payload = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(raw))
    } catch {
      return problem(c, Problems.malformedJson())
    }
    try {
      await options.publish({
        shop: shop!,
        messageId: `webhook:${topic}:${id}`,
        type: messageTypeOf(topic!),
        payload: topic === "bulk_operations/finish" ? payload : { topic, payload, triggeredAt: c.req.header("x-shopify-triggered-at") ?? null },
        correlationId: id!
      })
    } catch {
      return problem(c, Problems.unavailable("the shop log"))
    }
    return c.json({ ok: true })
  })
}
