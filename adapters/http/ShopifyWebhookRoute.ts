/**
 * `POST /webhooks/shopify`: Shopify's HTTPS webhooks, every topic (SHOPIFY.md §6).
 *
 * The body goes through the ingress preamble (`IngressPreamble.ts`): over 1 MB 413 (a declared
 * length is refused before anything else, a streamed body as soon as it passes the limit); not
 * `application/json` 415 (parameters such as `; charset=utf-8` are fine); HMAC of the raw bytes
 * with the current or previous secret (constant time) else 401. Then Shopify's headers (topic, shop,
 * event or webhook id) else 400 `missing_headers` — checked after the signature, so that an
 * unauthenticated sender learns nothing — and then strict UTF-8 and JSON, else 400. Each refusal
 * is a typed JSON error that stores nothing. A correctly signed delivery is authentic even for a
 * shop that is not (or no longer) installed (`shop/redact` arrives 48 h after uninstall), so the
 * shop's install state is not consulted here.
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
import { Effect, Result, Schema } from "effect"
import type { Hono } from "hono"
import { isShopDomain } from "../../domain/shop/ShopDomain.ts"
import { BulkOperationsFinish, encodeShopMessage, type ShopMessageBody, type WebhookDelivery } from "../../domain/messages/ShopMessages.ts"
import { ShopLog } from "../../src/shoplog/ShopLog.ts"
import { MissingHeaders } from "./HttpErrors.ts"
import { respond } from "./HttpProblem.ts"
import { APPLICATION_JSON, type IngressSpec, parseJson, readBody } from "./IngressPreamble.ts"
import type { RunEffect } from "./RunEffect.ts"

export const WEBHOOK_BODY_LIMIT = 1024 * 1024

export interface ShopifyWebhookOptions {
  /** The app's client secret, and the previous one during a rotation. */
  readonly secrets: ReadonlyArray<string>
  readonly now?: () => Date
}

/**
 * The message a delivery becomes: `bulk_operations/finish` nudges the running job with
 * Shopify's body; every other topic is the delivery itself (`WebhookDelivery`, declared once in
 * the message catalog). A `bulk_operations/finish` body that does not fit is kept as a delivery.
 */
export const messageOf = (topic: string, delivery: WebhookDelivery): ShopMessageBody => {
  if (topic === "bulk_operations/finish") {
    const finish = decodeBulkOperationsFinish(delivery.payload)
    if (Result.isSuccess(finish)) return { type: "shopify.bulk_operations_finish", payload: finish.success }
  }
  return { type: "shopify.webhook", payload: delivery }
}
const decodeBulkOperationsFinish = Schema.decodeUnknownResult(BulkOperationsFinish)

/** Header names are case-insensitive; the Events delivery also sends un-prefixed variants. */
const header = (headers: Headers, name: string): string | undefined =>
  headers.get(`x-shopify-${name}`) ?? headers.get(`shopify-${name}`) ?? undefined

/** What identifies a delivery, from Shopify's headers. */
interface DeliveryHeaders {
  readonly topic: string
  readonly shop: string
  /** The dedupe key: the event id, else the webhook id. */
  readonly id: string
  readonly webhookId: string | undefined
}

/** The delivery's headers, or every one that is missing or malformed. */
const deliveryHeaders = (headers: Headers): Result.Result<DeliveryHeaders, MissingHeaders> => {
  const topic = header(headers, "topic")
  const shop = header(headers, "shop-domain")?.toLowerCase()
  const webhookId = header(headers, "webhook-id")
  const id = header(headers, "event-id") ?? webhookId
  if (
    topic !== undefined && topic.length > 0 && topic.length <= 100 &&
    shop !== undefined && isShopDomain(shop) &&
    id !== undefined && id.length > 0 && id.length <= 200
  ) {
    return Result.succeed({ topic, shop, id, webhookId })
  }
  return Result.fail(
    new MissingHeaders({
      headers: [
        ...(topic === undefined || topic.length === 0 || topic.length > 100 ? ["X-Shopify-Topic"] : []),
        ...(shop === undefined || !isShopDomain(shop) ? ["X-Shopify-Shop-Domain"] : []),
        ...(id === undefined || id.length === 0 || id.length > 200 ? ["X-Shopify-Event-Id"] : [])
      ]
    })
  )
}

/** Mounts the route; `run` provides the shop log. */
export const mountShopifyWebhookRoute = (app: Hono, run: RunEffect<ShopLog>, options: ShopifyWebhookOptions) => {
  const now = options.now ?? (() => new Date())
  const ingress: IngressSpec = {
    mediaTypes: [APPLICATION_JSON],
    limit: WEBHOOK_BODY_LIMIT,
    signature: { header: (headers) => header(headers, "hmac-sha256"), secrets: options.secrets }
  }
  app.post("/webhooks/shopify", (c) =>
    respond(
      run,
      c,
      Effect.gen(function*() {
        const headers = c.req.raw.headers
        const raw = yield* readBody(c.req.raw, ingress)
        const { topic, shop, id, webhookId } = yield* Effect.fromResult(deliveryHeaders(headers))
        const payload = yield* parseJson(raw)
        const delivery: WebhookDelivery = {
          topic,
          event_id: id,
          webhook_id: webhookId ?? null,
          api_version: header(headers, "api-version") ?? null,
          triggered_at: header(headers, "triggered-at") ?? null,
          received_at: now().toISOString(),
          payload
        }
        const log = yield* ShopLog
        yield* log.publish({
          shop,
          messageId: `webhook:${topic}:${id}`,
          ...encodeShopMessage(messageOf(topic, delivery)),
          correlationId: id
        })
        return c.json({ ok: true })
      })
    ))
}
