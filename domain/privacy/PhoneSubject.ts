/**
 * Which data key a message from a phone number is sealed under, when the number cannot be tied
 * to a customer at the time it arrives (an inbound WhatsApp message, a delivery receipt).
 *
 * Such data is sealed under the subject `phone:<index>`, where the index is a *blind index* of
 * the number: a keyed HMAC under a per-shop secret (`PiiVault.blindIndex`), so the subject names
 * no number and cannot be reversed from the events without the shop's key. `customers/redact`
 * computes the same index from every number the customer's data names (their records and the
 * request) and shreds those subjects with the customer's own: no lookup table that could lag
 * behind the messages, and no number kept in clear anywhere.
 *
 * Numbers are compared as their digits (E.164 without the `+`): WhatsApp's `wa_id` is
 * `15551234567`, Shopify's `phone` `+15551234567` or `+1 (555) 123-4567`.
 */

/** The digits of a phone number, or `undefined` when it has too few to be one (E.164: 8–15). */
export const phoneDigits = (phone: string): string | undefined => {
  const digits = phone.replace(/\D+/g, "")
  return digits.length >= 7 && digits.length <= 15 ? digits : undefined
}

/** The blind index's purpose: indexes for other purposes never collide with these. */
export const PHONE_INDEX_PURPOSE = "phone"

/** The data-key subject of messages from (or to) the number with this blind index. */
export const phoneSubject = (index: string): string => `phone:${index}`

/**
 * Every phone number named anywhere in a customer's opened data: the values of keys named
 * `phone` (or ending in `_phone`) at any depth — the customer's own, their addresses', an
 * order's billing and shipping phones, an SMS consent's number.
 */
export const phoneNumbersIn = (value: unknown, into: Set<string> = new Set()): Set<string> => {
  if (Array.isArray(value)) {
    for (const v of value) phoneNumbersIn(v, into)
  } else if (typeof value === "object" && value !== null) {
    for (const [k, v] of Object.entries(value)) {
      if ((k === "phone" || k.endsWith("_phone")) && typeof v === "string") {
        const digits = phoneDigits(v)
        if (digits !== undefined) into.add(digits)
      } else {
        phoneNumbersIn(v, into)
      }
    }
  }
  return into
}
