/**
 * WhatsApp's inbound webhooks inside the shop's actor (issue 12 §3): an inbound customer message
 * becomes `whatsapp.message_received`, a delivery receipt `whatsapp.status_updated`, on the shop's
 * `whatsapp-<shop>` stream. What identifies a person — the phone number, the message id (which
 * embeds it), the profile name and the text — is sealed (`domain/channels/whatsapp.ts`
 * `split…`), under the shop's data key: a sender is not matched to a Shopify customer yet, so
 * `shop/redact` (not `customers/redact`) makes it unreadable. A receipt carries our
 * `callback_data` (the send's idempotency key) in clear, so an execution finds its receipts.
 */
import { Effect } from "effect"
import { splitInboundMessage, splitStatusUpdate, type WhatsAppMessageReceived, type WhatsAppStatusUpdated } from "../../domain/channels/whatsapp.ts"
import type { Decision, HandlerRegistry } from "../actors/ShopHandlers.ts"
import { TransientFailure } from "../actors/ShopHandlers.ts"
import { PiiVault, type Sealed, shopSubject } from "../secrets/Secrets.ts"

export const whatsAppStreamId = (shop: string) => `whatsapp-${shop}`

export const makeWhatsAppHandlers = Effect.gen(function*() {
  const vault = yield* PiiVault
  const seal = (shop: string, value: unknown) =>
    vault.seal(shop, shopSubject, value).pipe(
      Effect.map((s): Sealed | null => s),
      Effect.catchTag("SubjectShredded", () => Effect.succeed(null)),
      Effect.mapError((e) => new TransientFailure({ reason: `secrets: ${e.message}` }))
    )
  const append = (shop: string, type: string, data: unknown, at: string): Decision => ({
    appends: [{ streamId: whatsAppStreamId(shop), expected: "any", events: [{ type, data, occurredAt: new Date(at) }] }]
  })
  return {
    "whatsapp.message": (ctx) =>
      Effect.gen(function*() {
        const { facts, identifying } = splitInboundMessage(ctx.message.payload)
        const data: WhatsAppMessageReceived = { ...facts, subject: shopSubject, identifying: yield* seal(ctx.shop, identifying) }
        return append(ctx.shop, "whatsapp.message_received", data, facts.timestamp)
      }),
    "whatsapp.status": (ctx) =>
      Effect.gen(function*() {
        const { facts, identifying } = splitStatusUpdate(ctx.message.payload)
        const data: WhatsAppStatusUpdated = { ...facts, subject: shopSubject, identifying: yield* seal(ctx.shop, identifying) }
        return append(ctx.shop, "whatsapp.status_updated", data, facts.timestamp)
      })
  } satisfies Partial<HandlerRegistry>
})
