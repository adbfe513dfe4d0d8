/**
 * Which events carry the shop's own business data, so that the event store keeps it sealed
 * under the shop's data key (crypto-shredding): after `shop/redact` destroys that key, these
 * immutable events no longer open.
 *
 * - Flowmend jobs (`job.*`): the merchant's queries, metafield values, who asked, error
 *   previews quoting their catalogue.
 * - Third-party and storefront data (`ad_spend.recorded`, `seo_ranking.recorded`,
 *   `conversion.recorded`, `custom_event.recorded`, `touchpoint.recorded`): spend, rankings,
 *   revenue, landing pages, referrers and campaigns.
 * - Dead-letter notices (`message.dead_lettered`): their error text may quote the message.
 *
 * An event whose data names a `subject` has already sealed its identifying part
 * (`identifying`) under that subject's key; `subject` must stay in clear so that a customer's
 * data export finds the event by index. For those, everything else is sealed under the shop's
 * key beside them ({@link SUBJECT_FIELDS}); the others are sealed whole. Install lifecycle and
 * privacy records hold ids and counts only and stay as written.
 */

const SHOP_DATA_TYPES: ReadonlySet<string> = new Set([
  "ad_spend.recorded",
  "seo_ranking.recorded",
  "conversion.recorded",
  "custom_event.recorded",
  "touchpoint.recorded",
  "message.dead_lettered",
  "whatsapp.message_received",
  "whatsapp.status_updated"
])

/** Whether the store seals this event type's payload under the shop's key. */
export const sealedUnderShopKey = (type: string): boolean => type.startsWith("job.") || SHOP_DATA_TYPES.has(type)

/** The fields of a subject-naming payload that stay beside the shop-sealed rest. */
export const SUBJECT_FIELDS = ["subject", "identifying"] as const

/** Whether a payload names a subject (and so is sealed field-wise, keeping `subject` in clear). */
export const namesSubject = (data: unknown): data is Readonly<Record<string, unknown>> & { readonly subject: unknown } =>
  typeof data === "object" && data !== null && !Array.isArray(data) && "subject" in data
