/**
 * `GET|POST /webhooks/whatsapp`: the WhatsApp Cloud API's webhooks (Meta's `messages` field:
 * inbound customer messages and the statuses of messages the shops sent).
 *
 * - `GET` is Meta's verification handshake when the callback URL is registered:
 *   `hub.mode=subscribe` and `hub.verify_token` equal to the configured token (compared in
 *   constant time) → 200 with `hub.challenge` as plain text; anything else 403.
 * - `POST` goes through the ingress preamble (`IngressPreamble.ts`: 1 MB, `application/json`,
 *   else 413/415), then `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body with the
 *   app secret>` is checked on the raw bytes in constant time (401, nothing read further, nothing
 *   published); then strict UTF-8 and JSON (400), then the payload's schemas
 *   (`domain/channels/whatsapp.ts`: 400 `invalid_input` listing every problem with its path).
 *   Each inbound message and status is routed to its shop by the business number's
 *   `phone_number_id` and handed to `publish`, in payload order, under a dedupe key without
 *   personal data (`whatsapp:message:<ref>`, `whatsapp:status:<ref>:<status>`). Meta retries a
 *   delivery that is not answered 200, so the answer waits for every `publish`: a failure is a
 *   503 and the whole payload comes again (what was published before is then a duplicate, which
 *   the log and the actor drop).
 *
 * A number that belongs to no shop (another app's number in the same business account) is
 * acknowledged and skipped, with a warning naming only the `phone_number_id`: retrying would
 * not route it. Fields other than `messages` are acknowledged and ignored. Nothing here logs a
 * phone number, a name or a message body.
 */
import { createHmac, timingSafeEqual } from "node:crypto"
import { Config, Effect, Option, Redacted, Result, Schema } from "effect"
import type { Hono } from "hono"
import {
  decodeWhatsAppWebhook,
  inboundMessageKey,
  parsePhoneNumberShops,
  statusUpdateKey,
  WHATSAPP_MESSAGE_TYPES,
  type WhatsAppInboundMessage,
  type WhatsAppStatusUpdate
} from "../../domain/channels/whatsapp.ts"
import { whatsAppMessageRef } from "../../src/channels/WhatsApp.ts"
import type { ShopLogUnavailable } from "../../src/shoplog/ShopLog.ts"
import { type DependencyUnavailable, InvalidInput, InvalidSignature } from "./HttpErrors.ts"
import { problem, respond } from "./HttpProblem.ts"
import { APPLICATION_JSON, parseJson, readBody } from "./IngressPreamble.ts"
import type { RunEffect } from "./RunEffect.ts"

export const WHATSAPP_WEBHOOK_PATH = "/webhooks/whatsapp"
export const WHATSAPP_WEBHOOK_BODY_LIMIT = 1024 * 1024

/** One thing to publish to a shop's log: an inbound message or a status, with its dedupe key. */
export type WhatsAppInbound =
  | {
    readonly type: typeof WHATSAPP_MESSAGE_TYPES.message
    readonly shop: string
    readonly messageId: string
    readonly payload: WhatsAppInboundMessage
  }
  | {
    readonly type: typeof WHATSAPP_MESSAGE_TYPES.status
    readonly shop: string
    readonly messageId: string
    readonly payload: WhatsAppStatusUpdate
  }

export interface WhatsAppWebhookOptions<R> {
  /** What the app's webhook configuration in Meta's dashboard names as the verify token. */
  readonly verifyToken: Redacted.Redacted<string>
  /** The app secret (and a previous one while a reset propagates). */
  readonly appSecrets: ReadonlyArray<Redacted.Redacted<string>>
  /** The shop a business phone number (`phone_number_id`) belongs to, if any. */
  readonly shopOf: (phoneNumberId: string) => string | undefined
  /** Durably hands one message or status to its shop (the route answers 200 only after all). */
  readonly publish: (inbound: WhatsAppInbound) => Effect.Effect<void, ShopLogUnavailable | DependencyUnavailable, R>
}

/**
 * Whether `header` (`sha256=<64 hex>`) is the HMAC-SHA256 of `body` with one of `secrets`.
 * Constant time per secret, and every secret is tried, so timing reveals neither the digest nor
 * which secret matched.
 */
export const verifyHubSignature = (body: Uint8Array, header: string | null | undefined, secrets: ReadonlyArray<Redacted.Redacted<string>>): boolean => {
  const match = /^sha256=([0-9a-fA-F]{64})$/.exec(header?.trim() ?? "")
  if (match === null) return false
  const given = Buffer.from(match[1]!, "hex")
  let ok = false
  for (const secret of secrets) {
    const expected = createHmac("sha256", Redacted.value(secret)).update(body).digest()
    if (timingSafeEqual(given, expected)) ok = true
  }
  return ok
}

/** Constant-time equality of two strings (the verify token). */
const sameText = (a: string, b: string): boolean => {
  const x = createHmac("sha256", "verify-token").update(a).digest()
  const y = createHmac("sha256", "verify-token").update(b).digest()
  return timingSafeEqual(x, y)
}

/** Mounts both methods; `run` provides what `publish` needs. */
export const mountWhatsAppWebhookRoute = <R>(app: Hono, run: RunEffect<R>, options: WhatsAppWebhookOptions<R>): void => {
  app.get(WHATSAPP_WEBHOOK_PATH, (c) => {
    const mode = c.req.query("hub.mode")
    const token = c.req.query("hub.verify_token")
    const challenge = c.req.query("hub.challenge")
    if (mode !== "subscribe" || token === undefined || !sameText(token, Redacted.value(options.verifyToken))) {
      return problem(c, { status: 403, code: "forbidden", message: "the verify token does not match" })
    }
    if (challenge === undefined || challenge === "") return problem(c, { status: 400, code: "missing_challenge", message: "hub.challenge is required" })
    return c.text(challenge, 200)
  })

  app.post(WHATSAPP_WEBHOOK_PATH, (c) =>
    respond(
      run,
      c,
      Effect.gen(function*() {
        const raw = yield* readBody(c.req.raw, { mediaTypes: [APPLICATION_JSON], limit: WHATSAPP_WEBHOOK_BODY_LIMIT })
        if (!verifyHubSignature(raw, c.req.header("x-hub-signature-256"), options.appSecrets)) return yield* new InvalidSignature()
        const json = yield* parseJson(raw)
        const decoded = decodeWhatsAppWebhook(json, whatsAppMessageRef)
        if (Result.isFailure(decoded)) {
          return yield* new InvalidInput({ details: decoded.failure, summary: "the body is not a WhatsApp Cloud API webhook" })
        }
        const batch = decoded.success
        const unrouted = new Set<string>()
        const items: Array<WhatsAppInbound> = []
        for (const m of batch.messages) {
          const shop = options.shopOf(m.phone_number_id)
          if (shop === undefined) unrouted.add(m.phone_number_id)
          else items.push({ type: WHATSAPP_MESSAGE_TYPES.message, shop, messageId: inboundMessageKey(m), payload: m })
        }
        for (const s of batch.statuses) {
          const shop = options.shopOf(s.phone_number_id)
          if (shop === undefined) unrouted.add(s.phone_number_id)
          else items.push({ type: WHATSAPP_MESSAGE_TYPES.status, shop, messageId: statusUpdateKey(s), payload: s })
        }
        for (const phoneNumberId of unrouted) {
          yield* Effect.logWarning("WhatsApp webhook for a phone number no shop has; skipped").pipe(Effect.annotateLogs({ phoneNumberId }))
        }
        yield* Effect.forEach(items, options.publish, { discard: true })
        return c.json({ ok: true, messages: batch.messages.length, statuses: batch.statuses.length, unrouted: unrouted.size })
      })
    ))
}

// --- configuration -----------------------------------------------------------------------------

/** What the route needs from configuration (all but `publish`). */
export interface WhatsAppWebhookSettings {
  readonly verifyToken: Redacted.Redacted<string>
  readonly appSecrets: ReadonlyArray<Redacted.Redacted<string>>
  /** phone number id → shop. */
  readonly phoneNumbers: ReadonlyMap<string, string>
}

const PhoneNumberShops = Schema.String.check(
  Schema.makeFilter((text: string) => {
    const parsed = parsePhoneNumberShops(text)
    return Result.isSuccess(parsed) ? true : parsed.failure.join("; ")
  })
)

/**
 * The route's settings: `WHATSAPP_APP_SECRET` (unset: WhatsApp is off, `None`, and the route is
 * not mounted), `WHATSAPP_APP_SECRET_PREVIOUS`, `WHATSAPP_VERIFY_TOKEN` (required with a secret)
 * and `WHATSAPP_PHONE_NUMBERS` (`shop.myshopify.com:<phone number id>,…`).
 */
export const webhookSettingsFromConfig: Effect.Effect<Option.Option<WhatsAppWebhookSettings>, Config.ConfigError> = Effect.gen(function*() {
  const secret = yield* Config.option(Config.Redacted("WHATSAPP_APP_SECRET"))
  if (Option.isNone(secret)) return Option.none()
  const previous = yield* Config.option(Config.Redacted("WHATSAPP_APP_SECRET_PREVIOUS"))
  const verifyToken = yield* Config.Redacted("WHATSAPP_VERIFY_TOKEN")
  const numbers = yield* Config.schema(PhoneNumberShops, "WHATSAPP_PHONE_NUMBERS").pipe(Config.withDefault(""))
  const phoneNumbers = Result.getOrElse(parsePhoneNumberShops(numbers), () => new Map<string, string>())
  return Option.some({ verifyToken, appSecrets: [secret.value, ...Option.toArray(previous)], phoneNumbers })
})
