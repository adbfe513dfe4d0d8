/**
 * `send_cart_recovery_message` (trigger `sales.cart_abandoned_threshold`, resource: a checkout by
 * its token): reminds the customer of the checkout they left —
 * 1. a WhatsApp template (the rule's, `{{1}}` first name, `{{2}}` checkout link) when they
 *    consented to marketing messages on their phone (Shopify's SMS marketing consent is the
 *    consent Shopify records for a phone number) and the shop has a WhatsApp number;
 * 2. else an e-mail when they accepted e-mail marketing;
 * 3. else nothing, and the execution says why.
 * A checkout completed since is not reminded. The customer's contact details are read from the
 * checkout's sealed record (the data plane's `checkout-<shop>-<token>` stream) and never written
 * in clear: the snapshot keeps only what decides the channel, the after-state the channel and the
 * message's reference. Undo answers `already_sent` (a message cannot be unsent).
 *
 * The rule's quiet hours are read in the customer's time zone when the trigger names it (the
 * checkout's `timeZone`), else the shop's; a reminder still deferred by them is cancelled by undo.
 */
import { Context, Effect, Option, Stream } from "effect"
import { actionMeta } from "../../../domain/automation/Actions.ts"
import { cartRecoveryEmail } from "../../../domain/channels/emailTemplates.ts"
import { ActionPermanent, type ActionImplementation, ActionTransient } from "../../../src/automation/ActionSteps.ts"
import { EmailSender, emailMessageId } from "../../../src/channels/Email.ts"
import { WhatsAppSender } from "../../../src/channels/WhatsApp.ts"
import { EventStore } from "../../../src/eventstore/EventStore.ts"
import { PiiVault, type Sealed } from "../../../src/secrets/Secrets.ts"

export const meta = actionMeta("send_cart_recovery_message")!

/** Each shop's WhatsApp business number (its Graph id), from `WHATSAPP_PHONE_NUMBERS`. */
export const ShopWhatsAppNumbers = Context.Reference<(shop: string) => string | undefined>("sumeru/channels/ShopWhatsAppNumbers", {
  defaultValue: () => () => undefined
})

const obj = (u: unknown): Record<string, unknown> => (typeof u === "object" && u !== null && !Array.isArray(u) ? u as Record<string, unknown> : {})
const str = (u: unknown): string | null => (typeof u === "string" && u.length > 0 ? u : null)
const subscribed = (consent: unknown) => str(obj(consent)["state"]) === "subscribed"

interface Contact {
  readonly email: string | null
  readonly phone: string | null
  readonly firstName: string | null
  readonly emailConsent: boolean
  readonly phoneConsent: boolean
  readonly completed: boolean
  readonly checkoutUrl: string | null
  readonly currency: string
  readonly items: ReadonlyArray<{ readonly title: string; readonly quantity: number; readonly price: string }>
}

/** The consent fields of the customer's latest record (`customer-<shop>-<id>`), when the data plane has one. */
const latestCustomer = (shop: string, customerId: string | null) =>
  Effect.gen(function*() {
    if (customerId === null) return {}
    const store = yield* EventStore
    const vault = yield* PiiVault
    const events = [...yield* Stream.runCollect(store.readStream(`customer-${shop}-${customerId}`))].filter((e) => e.type.startsWith("customer."))
    const sealed = obj(events.at(-1)?.data)["record"] as Sealed | null | undefined
    if (sealed === undefined || sealed === null) return {}
    const opened = yield* vault.open(shop, sealed)
    if (Option.isNone(opened)) return {}
    const raw = obj(obj(opened.value)["raw"])
    return Object.fromEntries(["email_marketing_consent", "sms_marketing_consent"].flatMap((k) => (k in raw ? [[k, raw[k]]] : [])))
  })

/** The checkout's latest record, opened (its personal data stays in memory). */
const readCheckout = (shop: string, token: string) =>
  Effect.gen(function*() {
    const store = yield* EventStore
    const vault = yield* PiiVault
    const events = [...yield* Stream.runCollect(store.readStream(`checkout-${shop}-${token}`))].filter((e) => e.type.startsWith("checkout."))
    const last = events.at(-1)
    if (last === undefined) return yield* Effect.fail(new ActionPermanent({ code: "not_found", message: `no checkout ${token} was recorded` }))
    const sealed = obj(last.data)["record"] as Sealed | null
    const opened = sealed === null ? Option.none() : yield* vault.open(shop, sealed)
    if (Option.isNone(opened)) return yield* Effect.fail(new ActionPermanent({ code: "redacted", message: "the customer's data was redacted: nothing is sent" }))
    const record = obj(opened.value)
    const raw = obj(record["raw"])
    // the customer's latest consent (customers/update) overrides what the checkout showed: an opt-out counts at once
    const latest = yield* latestCustomer(shop, str(obj(last.data)["customer_id"]))
    const customer = { ...obj(raw["customer"]), ...latest }
    const address = obj(raw["shipping_address"])
    const contact: Contact = {
      email: str(record["email"]) ?? str(customer["email"]),
      phone: str(raw["phone"]) ?? str(customer["phone"]) ?? str(address["phone"]),
      firstName: str(customer["first_name"]) ?? str(address["first_name"]),
      emailConsent: raw["buyer_accepts_marketing"] === true || subscribed(customer["email_marketing_consent"]),
      phoneConsent: subscribed(customer["sms_marketing_consent"]) || subscribed(raw["sms_marketing_consent"]),
      completed: str(record["completed_at"]) !== null,
      checkoutUrl: str(raw["abandoned_checkout_url"]),
      currency: str(record["currency"]) ?? "USD",
      items: (Array.isArray(record["line_items"]) ? record["line_items"] : []).map((l) => {
        const li = obj(l)
        return { title: str(li["title"]) ?? "item", quantity: typeof li["quantity"] === "number" ? li["quantity"] : 1, price: str(li["price"]) ?? "0" }
      })
    }
    return contact
  }).pipe(Effect.catchTags({
    SecretsUnavailable: (e) => Effect.fail(new ActionTransient({ message: `the secret store: ${e.message}`, retryAfterMs: null })),
    DecryptionFailed: (e) => Effect.fail(new ActionPermanent({ code: "unreadable", message: e.message })),
    PersistenceError: () => Effect.fail(new ActionTransient({ message: "the event store did not answer", retryAfterMs: null }))
  }))

/** What decides the channel, without any personal data. */
const decisionOf = (c: Contact, whatsappNumber: string | undefined) => ({
  completed: c.completed,
  whatsapp: c.phone !== null && c.phoneConsent && whatsappNumber !== undefined,
  email: c.email !== null && c.emailConsent,
  why: c.completed
    ? "the checkout was completed since"
    : c.phone !== null && c.phoneConsent && whatsappNumber === undefined
    ? "the customer consented on their phone, but the shop has no WhatsApp number"
    : "the customer gave no marketing consent for their phone or e-mail"
})

export const sendCartRecovery: ActionImplementation<EventStore | PiiVault | WhatsAppSender | EmailSender> = {
  snapshot: (shop, run) =>
    Effect.gen(function*() {
      const numberOf = yield* ShopWhatsAppNumbers
      return decisionOf(yield* readCheckout(shop, run.resourceId), numberOf(shop))
    }),
  handler: (shop, run, before) =>
    Effect.gen(function*() {
      const decided = before as ReturnType<typeof decisionOf>
      if (decided.completed || (!decided.whatsapp && !decided.email)) {
        return { after: { channel: "none" }, summary: `sent nothing: ${decided.why}` }
      }
      const c = yield* readCheckout(shop, run.resourceId)
      const link = c.checkoutUrl ?? `https://${shop}/checkouts/${run.resourceId}`
      if (decided.whatsapp && c.phone !== null) {
        const numberOf = yield* ShopWhatsAppNumbers
        const whatsapp = yield* WhatsAppSender
        const sent = yield* whatsapp.sendTemplate({
          phoneNumberId: numberOf(shop)!,
          to: c.phone,
          idempotencyKey: `cart-recovery:${run.executionId}`,
          template: {
            name: typeof run.params.whatsappTemplate === "string" ? run.params.whatsappTemplate : "cart_recovery",
            language: typeof run.params.language === "string" ? run.params.language : "en_US",
            parameters: [c.firstName ?? "there", link]
          }
        }).pipe(Effect.mapError((e) =>
          e._tag === "WhatsAppThrottled" || e._tag === "WhatsAppUnavailable"
            ? new ActionTransient({ message: `WhatsApp: ${e.message}`, retryAfterMs: e._tag === "WhatsAppThrottled" ? e.retryAfterMs : null })
            : new ActionPermanent({ code: e._tag === "WhatsAppAuthExpired" ? "whatsapp_auth" : "whatsapp_refused", message: `WhatsApp refused the message: ${e.message}` })
        ))
        return { after: { channel: "whatsapp", messageRef: sent.messageRef }, summary: "sent the WhatsApp cart-recovery template" }
      }
      const email = yield* EmailSender
      const rendered = cartRecoveryEmail({
        shopName: shop, customerFirstName: c.firstName ?? undefined, checkoutUrl: link, items: c.items, currency: c.currency,
        unsubscribeUrl: `https://${shop}/account/unsubscribe`
      })
      yield* email.send({
        to: c.email!, subject: rendered.subject, text: rendered.text, html: rendered.html,
        messageId: emailMessageId(`cart-recovery.${run.executionId}`), listUnsubscribe: { url: `https://${shop}/account/unsubscribe` }
      }).pipe(Effect.mapError((e) =>
        e._tag === "EmailTransient"
          ? new ActionTransient({ message: `the mail server: ${e.message}`, retryAfterMs: null })
          : new ActionPermanent({ code: e.bounce ? "bounced" : "email_refused", message: `the e-mail was refused: ${e.message}` })
      ))
      return { after: { channel: "email" }, summary: "e-mailed the cart-recovery message" }
    }),
  undoHandler: (_shop, _run, _before, after) =>
    (after as { readonly channel: string }).channel === "none"
      ? Effect.succeed({ summary: "nothing was sent" })
      : Effect.fail(new ActionPermanent({ code: "already_sent", message: "a message cannot be unsent" }))
}
