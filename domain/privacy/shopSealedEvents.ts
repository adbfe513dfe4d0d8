/**
 * Which events carry the shop's own business data in their payload, so that the event
 * store keeps the whole payload sealed under the shop's data key (crypto-shredding): after
 * `shop/redact` destroys that key, these immutable events no longer open.
 *
 * - Flowmend jobs (`job.*`): the merchant's queries, metafield values, who asked, error
 *   previews quoting their catalogue.
 * - Third-party data (`ad_spend.recorded`, `seo_ranking.recorded`, and conversions or custom
 *   events that name no customer): spend, rankings and revenue figures.
 *
 * Events whose data names a `subject` already seal their identifying part under that
 * subject's key, and keep `subject` in clear so that a customer's data export finds them by
 * index; they are left as their producer wrote them. Everything else (install lifecycle,
 * privacy records, dead-letter notices, queue bookkeeping) holds ids and counts only.
 */

const WHOLE_PAYLOAD_TYPES: ReadonlySet<string> = new Set([
  "ad_spend.recorded",
  "seo_ranking.recorded",
  "conversion.recorded",
  "custom_event.recorded"
])

const namesSubject = (data: unknown): boolean =>
  typeof data === "object" && data !== null && !Array.isArray(data) && "subject" in data

/** Whether an event of this type with this payload is stored sealed under the shop's key. */
export const sealedUnderShopKey = (type: string, data: unknown): boolean =>
  (type.startsWith("job.") || WHOLE_PAYLOAD_TYPES.has(type)) && !namesSubject(data)
