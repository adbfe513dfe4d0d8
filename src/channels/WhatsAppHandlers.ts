/**
 * WhatsApp's inbound webhooks inside the shop's actor (issue 12 §3): an inbound customer message
 * becomes `whatsapp.message_received`, a delivery receipt `whatsapp.status_updated`, on the shop's
 * `whatsapp-<shop>` stream. What identifies a person — the phone number, the message id (which
 * embeds it), the profile name and the text — is sealed (`domain/channels/whatsapp.ts`
 * `split…`), under the data key of the customer's phone number (`phone:<blind index>`,
 * `domain/privacy/PhoneSubject.ts`): `customers/redact` of the customer with that number — or
 * `shop/redact` — makes it unreadable, whether or not the number was known to be theirs when the
 * message arrived. A number too short to be one falls back to the shop's key. A receipt carries
 * our `callback_data` (the send's idempotency key) in clear, so an execution finds its receipts.
 */
import { Effect } from "effect"
import { splitInboundMessage, splitStatusUpdate, type WhatsAppMessageReceived, type WhatsAppStatusUpdated } from "../../domain/channels/whatsapp.ts"
import type { Decision, HandlerRegistry } from "../actors/ShopHandlers.ts"
import { TransientFailure } from "../actors/ShopHandlers.ts"
import { PHONE_INDEX_PURPOSE, phoneDigits, phoneSubject } from "../../domain/privacy/PhoneSubject.ts"
import { PiiVault, type Sealed, type SecretsUnavailable, shopSubject } from "../secrets/Secrets.ts"

export const whatsAppStreamId = (shop: string) => `whatsapp-${shop}`

export const makeWhatsAppHandlers = Effect.gen(function*() {
  const vault = yield* PiiVault
  const unavailable = (e: SecretsUnavailable) => new TransientFailure({ reason: `secrets: ${e.message}` })
  /** The subject of the customer's number (the shop's when it is not a number). */
  const subjectOf = (shop: string, phone: string) => {
    const digits = phoneDigits(phone)
    return digits === undefined
      ? Effect.succeed(shopSubject)
      : Effect.map(vault.blindIndex(shop, PHONE_INDEX_PURPOSE, digits), phoneSubject)
  }
  /** Sealed under the number's subject; `null` once it was shredded (the customer was redacted). */
  const seal = (shop: string, phone: string, value: unknown) =>
    Effect.gen(function*() {
      const subject = yield* subjectOf(shop, phone)
      const sealed = yield* vault.seal(shop, subject, value).pipe(
        Effect.map((s): Sealed | null => s),
        Effect.catchTag("SubjectShredded", () => Effect.succeed(null))
      )
      return { subject, identifying: sealed }
    }).pipe(Effect.mapError(unavailable))
  const append = (shop: string, type: string, data: unknown, at: string): Decision => ({
    appends: [{ streamId: whatsAppStreamId(shop), expected: "any", events: [{ type, data, occurredAt: new Date(at) }] }]
  })
  return {
    "whatsapp.message": (ctx) =>
      Effect.gen(function*() {
        const { facts, identifying } = splitInboundMessage(ctx.message.payload)
        const data: WhatsAppMessageReceived = { ...facts, ...yield* seal(ctx.shop, identifying.from, identifying) }
        return append(ctx.shop, "whatsapp.message_received", data, facts.timestamp)
      }),
    "whatsapp.status": (ctx) =>
      Effect.gen(function*() {
        const { facts, identifying } = splitStatusUpdate(ctx.message.payload)
        const data: WhatsAppStatusUpdated = { ...facts, ...yield* seal(ctx.shop, identifying.recipient_id, identifying) }
        return append(ctx.shop, "whatsapp.status_updated", data, facts.timestamp)
      })
  } satisfies Partial<HandlerRegistry>
})
