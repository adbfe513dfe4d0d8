/**
 * The WhatsApp channel's pure rules: the 24-hour customer service window, marketing consent,
 * which shop a business number belongs to, and how a webhook payload becomes shop messages and
 * events with the personal fields apart.
 */
import { Result } from "effect"
import { describe, expect, it } from "vitest"
import {
  decodeWhatsAppWebhook,
  inboundMessageKey,
  parsePhoneNumberShops,
  splitInboundMessage,
  splitStatusUpdate,
  statusUpdateKey,
  WHATSAPP_PERSONAL_FIELDS
} from "../../domain/channels/whatsapp.ts"
import { customerServiceWindow, freeFormAllowed, mayReceiveTemplate, smsConsentOf } from "../../domain/channels/whatsappWindow.ts"

const HOUR = 60 * 60 * 1000
const T0 = Date.UTC(2026, 6, 15, 12, 0, 0)

describe("the customer service window", () => {
  it("is open for 24 hours after the customer's last message, and closed without one", () => {
    expect(customerServiceWindow(T0, T0 + 23 * HOUR + 59 * 60_000)).toEqual({ open: true, closesAt: T0 + 24 * HOUR })
    expect(customerServiceWindow(T0, T0 + 24 * HOUR)).toEqual({ open: false, reason: "expired", closedAt: T0 + 24 * HOUR })
    expect(customerServiceWindow(null, T0)).toEqual({ open: false, reason: "no_inbound_message", closedAt: null })
    expect(customerServiceWindow("not a date", T0)).toMatchObject({ open: false, reason: "no_inbound_message" })
  })

  it("reads ISO strings and Dates, and a last message slightly in the future keeps it open", () => {
    expect(freeFormAllowed(new Date(T0).toISOString(), new Date(T0 + HOUR))).toBe(true)
    expect(freeFormAllowed(T0 + 5_000, T0)).toBe(true)
  })
})

describe("marketing consent", () => {
  const subscribed = { state: "subscribed" }
  it("utility and authentication templates need no marketing consent", () => {
    expect(mayReceiveTemplate("UTILITY", {})).toEqual({ allowed: true, basis: "not_marketing" })
    expect(mayReceiveTemplate("AUTHENTICATION", { whatsapp: { state: "unsubscribed" } })).toEqual({ allowed: true, basis: "not_marketing" })
  })

  it("a marketing template needs a subscribed WhatsApp consent; an explicit WhatsApp opt-out wins over SMS", () => {
    expect(mayReceiveTemplate("MARKETING", { whatsapp: subscribed })).toEqual({ allowed: true, basis: "whatsapp_consent" })
    expect(mayReceiveTemplate("MARKETING", { whatsapp: { state: "unsubscribed" }, sms: subscribed }, { smsConsentCounts: true })).toEqual({ allowed: false, reason: "unsubscribed" })
    expect(mayReceiveTemplate("MARKETING", { whatsapp: { state: "pending" } })).toEqual({ allowed: false, reason: "pending_confirmation" })
    expect(mayReceiveTemplate("MARKETING", {})).toEqual({ allowed: false, reason: "no_consent" })
  })

  it("SMS consent counts only when the shop's policy says so", () => {
    const customer = { id: 1, sms_marketing_consent: { state: "subscribed", opt_in_level: "single_opt_in", consent_updated_at: "2026-07-01T10:00:00Z" } }
    const sms = smsConsentOf(customer)
    expect(sms?.state).toBe("subscribed")
    expect(mayReceiveTemplate("MARKETING", { sms })).toEqual({ allowed: false, reason: "no_consent" })
    expect(mayReceiveTemplate("MARKETING", { sms }, { smsConsentCounts: true })).toEqual({ allowed: true, basis: "sms_consent" })
    expect(mayReceiveTemplate("MARKETING", { sms: { state: "redacted" } }, { smsConsentCounts: true })).toEqual({ allowed: false, reason: "redacted" })
    expect(smsConsentOf({ id: 2 })).toBeNull()
  })
})

describe("which shop a business number belongs to", () => {
  it("parses shop:id pairs, a shop may have several numbers", () => {
    const parsed = parsePhoneNumberShops(" a.myshopify.com:123, b.myshopify.com:456 ,a.myshopify.com:789")
    expect(Result.isSuccess(parsed) && [...parsed.success]).toEqual([["123", "a.myshopify.com"], ["456", "b.myshopify.com"], ["789", "a.myshopify.com"]])
    expect(Result.isSuccess(parsePhoneNumberShops(""))).toBe(true)
  })

  it("refuses malformed entries and a number given to two shops, naming each problem", () => {
    const parsed = parsePhoneNumberShops("a.myshopify.com:123,example.com:1,b.myshopify.com:123,c.myshopify.com")
    expect(Result.isFailure(parsed) && parsed.failure).toEqual([
      "entry 2 must be <shop>.myshopify.com:<phone number id>",
      "phone number id 123 is given to two shops",
      "entry 4 must be <shop>.myshopify.com:<phone number id>"
    ])
  })
})

describe("a webhook payload as shop messages and events", () => {
  /** A stand-in digest (the route uses SHA-256): it must not contain the id. */
  const ref = (id: string) => `ref-${id.slice(6).toLowerCase()}`
  const payload = {
    object: "whatsapp_business_account",
    entry: [{
      id: "200",
      changes: [{
        field: "messages",
        value: {
          messaging_product: "whatsapp",
          metadata: { display_phone_number: "15550000001", phone_number_id: "100" },
          contacts: [{ profile: { name: "Ada" }, wa_id: "4915112345678" }],
          messages: [{ from: "4915112345678", id: "wamid.IN", timestamp: "1784116800", type: "button", button: { text: "Track order", payload: "track" }, context: { from: "15550000001", id: "wamid.OUT" } }],
          statuses: [{
            id: "wamid.OUT",
            status: "failed",
            timestamp: "1784116801",
            recipient_id: "4915112345678",
            biz_opaque_callback_data: "execution-7",
            errors: [{ code: 131026, title: "Message Undeliverable", message: "Message Undeliverable", error_data: { details: "Unable to deliver message." } }]
          }]
        }
      }, { field: "account_update", value: { anything: true } }]
    }]
  }

  it("flattens messages and statuses with their business number, ISO times and refs", () => {
    const decoded = decodeWhatsAppWebhook(payload, ref)
    if (Result.isFailure(decoded)) throw new Error(JSON.stringify(decoded.failure))
    const { messages: [message], statuses: [status], ignoredFields } = decoded.success
    expect(ignoredFields).toEqual(["account_update"])
    expect(message).toEqual({
      phone_number_id: "100",
      display_phone_number: "15550000001",
      waba_id: "200",
      message_id: "wamid.IN",
      message_ref: "ref-in",
      from: "4915112345678",
      profile_name: "Ada",
      type: "button",
      text: "Track order",
      context_message_id: "wamid.OUT",
      context_message_ref: "ref-out",
      timestamp: "2026-07-15T12:00:00.000Z",
      errors: []
    })
    expect(status).toMatchObject({ status: "failed", callback_data: "execution-7", timestamp: "2026-07-15T12:00:01.000Z", errors: [{ code: 131026, title: "Message Undeliverable", message: "Message Undeliverable", details: "Unable to deliver message." }] })
    expect(inboundMessageKey(message!)).toBe("whatsapp:message:ref-in")
    expect(statusUpdateKey(status!)).toBe("whatsapp:status:ref-out:failed")
  })

  it("keeps the personal fields apart from the facts", () => {
    const decoded = decodeWhatsAppWebhook(payload, ref)
    if (Result.isFailure(decoded)) throw new Error("did not decode")
    const received = splitInboundMessage(decoded.success.messages[0]!)
    expect(Object.keys(received.identifying).sort()).toEqual([...WHATSAPP_PERSONAL_FIELDS["whatsapp.message_received"]].sort())
    expect(JSON.stringify(received.facts)).not.toMatch(/4915112345678|Ada|Track order|wamid\./)
    const updated = splitStatusUpdate(decoded.success.statuses[0]!)
    expect(Object.keys(updated.identifying).sort()).toEqual(["message_id", "recipient_id"])
    expect(JSON.stringify(updated.facts)).not.toMatch(/4915112345678|wamid\./)
  })

  it("reports every problem with its path, envelope first", () => {
    const wrongEnvelope = decodeWhatsAppWebhook({ object: "page", entry: "x" }, ref)
    expect(Result.isFailure(wrongEnvelope) && wrongEnvelope.failure.map((p) => p.path).sort()).toEqual(["entry", "object"])
    const textWithoutBody = decodeWhatsAppWebhook({
      object: "whatsapp_business_account",
      entry: [{ id: "1", changes: [{ field: "messages", value: { messaging_product: "whatsapp", metadata: { display_phone_number: "1", phone_number_id: "2" }, messages: [{ from: "3", id: "wamid.A", timestamp: "1", type: "text" }] } }] }]
    }, ref)
    expect(Result.isFailure(textWithoutBody) && textWithoutBody.failure).toEqual([{ path: "entry[0].changes[0].value.messages[0].text", message: "a text message has text.body" }])
  })
})
