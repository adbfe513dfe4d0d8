/**
 * When Sumeru may write to a customer on WhatsApp (pure: the caller passes the clock's reading).
 *
 * - **Free-form messages** (text, media, interactive) are only delivered inside the customer
 *   service window: 24 hours from the customer's last message to the business phone number.
 *   Outside it the Cloud API refuses them with error 131047 ("Re-engagement message"), either
 *   at once or later in a `failed` status webhook; only an approved template may open a
 *   conversation. {@link customerServiceWindow} answers the question before a send is tried.
 * - **Marketing templates** go only to customers who agreed to receive marketing on that
 *   channel ({@link mayReceiveTemplate}); utility and authentication templates (an order
 *   update, a login code) answer something the customer did and need no marketing consent.
 *
 * Shopify records marketing consent per customer for e-mail (`email_marketing_consent`) and
 * SMS (`sms_marketing_consent`: `state`, `opt_in_level`, `consent_updated_at`,
 * `consent_collected_from`, on `customers/create|update` and `customers_marketing_consent/update`)
 * but has no WhatsApp consent of its own. {@link CustomerMessagingConsent} therefore takes a
 * WhatsApp consent recorded by Sumeru (or a shop's metafield) in the same shape, and the SMS
 * consent of the same phone number, which counts only when the shop's policy says so.
 */
import { Result, Schema } from "effect"

/** How long after the customer's last message free-form messages are delivered: 24 hours. */
export const CUSTOMER_SERVICE_WINDOW_MS = 24 * 60 * 60 * 1000

/** A point in time: epoch milliseconds, a `Date`, or an ISO-8601 string. */
export type Instant = number | Date | string

const millisOf = (at: Instant | null | undefined): number | undefined => {
  if (at === null || at === undefined) return undefined
  const ms = typeof at === "number" ? at : typeof at === "string" ? Date.parse(at) : at.getTime()
  return Number.isFinite(ms) ? ms : undefined
}

/** Whether free-form messages are delivered now, and until when (epoch ms). */
export type ServiceWindow =
  | { readonly open: true; readonly closesAt: number }
  | { readonly open: false; readonly reason: "no_inbound_message" | "expired"; readonly closedAt: number | null }

/**
 * The customer service window at `now`, given the time of the customer's last inbound message
 * (`null`/absent or unreadable: the customer never wrote). The window is half-open: a message
 * exactly 24 hours old no longer keeps it open. A last message "in the future" (clock skew
 * between Meta and this host) keeps it open for 24 hours from that time.
 */
export const customerServiceWindow = (lastInboundAt: Instant | null | undefined, now: Instant): ServiceWindow => {
  const last = millisOf(lastInboundAt)
  const at = millisOf(now) ?? Number.NaN
  if (last === undefined) return { open: false, reason: "no_inbound_message", closedAt: null }
  const closesAt = last + CUSTOMER_SERVICE_WINDOW_MS
  return at < closesAt ? { open: true, closesAt } : { open: false, reason: "expired", closedAt: closesAt }
}

/** Whether a free-form (non-template) message may be sent now. */
export const freeFormAllowed = (lastInboundAt: Instant | null | undefined, now: Instant): boolean =>
  customerServiceWindow(lastInboundAt, now).open

// --- consent ----------------------------------------------------------------------------------

/** Shopify's marketing states (`email_marketing_consent.state`, `sms_marketing_consent.state`). */
export const MARKETING_STATES = ["subscribed", "not_subscribed", "pending", "unsubscribed", "redacted", "invalid"] as const
export type MarketingState = typeof MARKETING_STATES[number]

/**
 * One channel's marketing consent, in Shopify's webhook shape (`sms_marketing_consent`).
 * Structural: unknown states decode (and refuse marketing), unknown fields are ignored.
 */
export const MarketingConsent = Schema.Struct({
  state: Schema.NullOr(Schema.String),
  opt_in_level: Schema.optionalKey(Schema.NullOr(Schema.String)),
  consent_updated_at: Schema.optionalKey(Schema.NullOr(Schema.String)),
  consent_collected_from: Schema.optionalKey(Schema.NullOr(Schema.String))
})
export type MarketingConsent = typeof MarketingConsent.Type

/** What is known of a customer's consent to be messaged on their phone number. */
export interface CustomerMessagingConsent {
  /** Consent to WhatsApp marketing, as Sumeru (or the shop) recorded it; absent when never asked. */
  readonly whatsapp?: MarketingConsent | null | undefined
  /** Shopify's `sms_marketing_consent` of the same customer. */
  readonly sms?: MarketingConsent | null | undefined
}

/** The categories Meta approves templates under. */
export type TemplateCategory = "MARKETING" | "UTILITY" | "AUTHENTICATION"

export interface ConsentPolicy {
  /**
   * Whether a subscribed SMS consent (same phone number) allows WhatsApp marketing when no
   * WhatsApp consent was recorded. Default false: SMS and WhatsApp are separate opt-ins in
   * Meta's policy and in most jurisdictions; a shop whose signup form names both may turn it on.
   */
  readonly smsConsentCounts?: boolean
}

export type ConsentDecision =
  | { readonly allowed: true; readonly basis: "not_marketing" | "whatsapp_consent" | "sms_consent" }
  | { readonly allowed: false; readonly reason: "no_consent" | "unsubscribed" | "pending_confirmation" | "redacted" }

const refusal = (state: string | null | undefined): ConsentDecision => {
  switch (state) {
    case "unsubscribed":
      return { allowed: false, reason: "unsubscribed" }
    case "pending":
      // double opt-in not confirmed yet
      return { allowed: false, reason: "pending_confirmation" }
    case "redacted":
      return { allowed: false, reason: "redacted" }
    default:
      return { allowed: false, reason: "no_consent" }
  }
}

/**
 * Whether a template of `category` may be sent to a customer with `consent`. Non-marketing
 * templates always may. A recorded WhatsApp state decides when there is one (only `subscribed`
 * allows; an explicit WhatsApp opt-out wins over any SMS consent); without one, a subscribed
 * SMS consent allows only under `policy.smsConsentCounts`. Anything else refuses, with the
 * reason a person can act on.
 */
export const mayReceiveTemplate = (
  category: TemplateCategory,
  consent: CustomerMessagingConsent,
  policy: ConsentPolicy = {}
): ConsentDecision => {
  if (category !== "MARKETING") return { allowed: true, basis: "not_marketing" }
  const whatsapp = consent.whatsapp?.state
  if (whatsapp !== undefined && whatsapp !== null) {
    return whatsapp === "subscribed" ? { allowed: true, basis: "whatsapp_consent" } : refusal(whatsapp)
  }
  const sms = consent.sms?.state
  if (sms === "subscribed") return policy.smsConsentCounts === true ? { allowed: true, basis: "sms_consent" } : refusal(undefined)
  return refusal(sms)
}

const decodeConsent = Schema.decodeUnknownResult(MarketingConsent)

/**
 * The SMS consent of a Shopify customer payload (`customers/update`'s `sms_marketing_consent`),
 * or `null` when the payload has none or it does not fit.
 */
export const smsConsentOf = (customer: unknown): MarketingConsent | null => {
  if (typeof customer !== "object" || customer === null) return null
  const decoded = decodeConsent((customer as Readonly<Record<string, unknown>>)["sms_marketing_consent"])
  return Result.isSuccess(decoded) ? decoded.success : null
}
