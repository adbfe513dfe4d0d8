/**
 * `POST /webhooks/shopify`: Shopify's HTTPS webhooks, every topic (SHOPIFY.md §6).
 *
 * Checks, cheapest first, each a typed JSON error that stores nothing: body over 1 MB → 413;
 * not `application/json` → 415; HMAC of the raw bytes with the current or previous secret
 * (constant time) → 401; Shopify's headers missing → 400; not JSON → 400. A correctly signed
 * delivery is authentic even for a shop that is not (or no longer) installed (`shop/redact`
 * arrives 48 h after uninstall), so the shop's install state is not consulted here.
 *
 * The body is parsed so that numeric ids above 2^53 keep every digit. The delivery is
 * published to the shop's log and answered 200 only once the log has it durably (invariant
 * 3); 503 with `Retry-After` otherwise, so Shopify retries. The message id is Shopify's dedupe
 * key (`X-Shopify-Event-Id`, the same across re-deliveries of one event; the webhook id
 * otherwise): the log drops a repeat inside its dedupe window and the shop actor, which
 * records every handled message id durably, turns a later repeat into a no-op.
 *
 * `bulk_operations/finish` nudges the shop's running job (`shopify.bulk_operations_finish`);
 * every other topic is a `shopify.webhook` message that the webhook handlers turn into a
 * typed event, or keep raw (`shopify.webhook_received`) when Sumeru does not model the topic.
 */
import type { Hono } from "hono"
import type { ShopMessage } from "../../src/shoplog/ShopLog.ts"
import { isShopDomain } from "../../domain/shop/ShopDomain.ts"
import { parseJsonLossless } from "../../domain/shopify/losslessJson.ts"
import { problem, Problems, readRawBody } from "./HttpProblem.ts"
import { verifyHmac } from "./ShopifyHmac.ts"

export const WEBHOOK_BODY_LIMIT = 1024 * 1024

export interface ShopifyWebhookOptions {
  readonly secrets: ReadonlyArray<string>
  /** Publishes to the shop's log; resolves once durable. */
  readonly publish: (message: ShopMessage) => Promise<unknown>
  readonly now?: () => Date
}

/** The `shopify.webhook` message payload. */
export interface WebhookDelivery {
  readonly topic: string
  readonly event_id: string
  readonly webhook_id: string | null
  readonly api_version: string | null
  readonly triggered_at: string | null
  readonly received_at: string
  readonly payload: unknown
}

export const messageTypeOf = (topic: string): string =>
  topic === "bulk_operations/finish" ? "shopify.bulk_operations_finish" : "shopify.webhook"

const isJsonContentType = (value: string | undefined): boolean =>
  value !== undefined && /^application\/json\s*(;|$)/i.test(value.trim())

/** Header names are case-insensitive; the Events delivery also sends un-prefixed variants. */
const header = (headers: Headers, name: string): string | undefined =>
  headers.get(`x-shopify-${name}`) ?? headers.get(`shopify-${name}`) ?? undefined

export const mountShopifyWebhookRoute = (app: Hono, options: ShopifyWebhookOptions) => {
  const now = options.now ?? (() => new Date())
  app.post("/webhooks/shopify", async (c) => {
    const headers = c.req.raw.headers
    const declared = Number(headers.get("content-length") ?? NaN)
    if (Number.isFinite(declared) && declared > WEBHOOK_BODY_LIMIT) return problem(c, Problems.tooLarge(WEBHOOK_BODY_LIMIT))
    if (!isJsonContentType(headers.get("content-type") ?? undefined)) return problem(c, Problems.unsupportedMediaType())
    const raw = await readRawBody(c.req.raw, WEBHOOK_BODY_LIMIT)
    if (raw === "too_large") return problem(c, Problems.tooLarge(WEBHOOK_BODY_LIMIT))
    if (!verifyHmac(raw, header(headers, "hmac-sha256"), options.secrets)) return problem(c, Problems.unauthorized())
    const topic = header(headers, "topic")
    const shop = header(headers, "shop-domain")?.toLowerCase()
    const webhookId = header(headers, "webhook-id")
    const id = header(headers, "event-id") ?? webhookId
    const missing = [
      ...(topic === undefined || topic.length === 0 || topic.length > 100 ? ["X-Shopify-Topic"] : []),
      ...(shop === undefined || !isShopDomain(shop) ? ["X-Shopify-Shop-Domain"] : []),
      ...(id === undefined || id.length === 0 || id.length > 200 ? ["X-Shopify-Event-Id"] : [])
    ]
    if (missing.length > 0) {
      return problem(c, { status: 400, code: "missing_headers", message: `missing or invalid headers: ${missing.join(", ")}` })
    }
    let payload: unknown
    try {
      payload = parseJsonLossless(new TextDecoder("utf-8", { fatal: true }).decode(raw))
    } catch {
      return problem(c, Problems.malformedJson())
    }
    const delivery: WebhookDelivery = {
      topic: topic!,
      event_id: id!,
      webhook_id: webhookId ?? null,
      api_version: header(headers, "api-version") ?? null,
      triggered_at: header(headers, "triggered-at") ?? null,
      received_at: now().toISOString(),
      payload
    }
    try {
      await options.publish({
        shop: shop!,
        messageId: `webhook:${topic}:${id}`,
        type: messageTypeOf(topic!),
        payload: topic === "bulk_operations/finish" ? payload : delivery,
        correlationId: id!
      })
    } catch {
      return problem(c, Problems.unavailable("the shop log"))
    }
    return c.json({ ok: true })
  })
}
