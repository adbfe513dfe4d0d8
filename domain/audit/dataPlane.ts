/**
 * The audit log and the data plane. The audit log is what merchants and auditors read: what
 * Sumeru did and what changed about the shop's installation and its customers' privacy. The
 * data plane's observations (orders, products, carts, touchpoints, ad spend…) are data, not
 * actions; at storefront volume they would drown the audit log, so they are not in it (they
 * stay in the event store and the read models).
 */
import type { RecordedEvent } from "../events/Envelope.ts"
import { COMMERCE_EVENT_TYPES } from "../shopify/webhookRecords.ts"

const OBSERVATIONS: ReadonlySet<string> = new Set([
  ...COMMERCE_EVENT_TYPES,
  "shopify.webhook_received",
  "touchpoint.recorded",
  "ad_spend.recorded",
  "seo_ranking.recorded",
  "conversion.recorded",
  "custom_event.recorded",
  "whatsapp.message_received",
  "whatsapp.status_updated",
  // each AI call is a row of the usage log (GET /app/ai/usage), not an audit line
  "ai.call_completed"
])

export const isAuditable = (type: string): boolean => !OBSERVATIONS.has(type)

const field = (e: RecordedEvent, name: string): unknown =>
  typeof e.data === "object" && e.data !== null ? (e.data as Record<string, unknown>)[name] : undefined

/** Plain-language lines for the shop lifecycle, privacy and detector settings events. */
export const describeDataPlaneEvent = (e: RecordedEvent): string | undefined => {
  switch (e.type) {
    case "shop.installed": {
      const via = field(e, "method") === "token_exchange" ? "token exchange" : "OAuth"
      return `App installed through ${via} with scopes ${String(field(e, "scopes"))}`
    }
    case "shop.uninstalled":
      return field(e, "stale") === true
        ? "App uninstall notice arrived after a newer install; the current access token was kept"
        : "App uninstalled; the access token was discarded"
    case "shop.redacted":
      return "All of the shop's data was erased (Shopify shop/redact): data keys destroyed, read models cleared"
    case "customer.redacted": {
      const orders = Array.isArray(field(e, "order_ids")) ? (field(e, "order_ids") as Array<unknown>).length : 0
      return `Customer ${String(field(e, "customer_id"))}'s personal data was erased (Shopify customers/redact, ${orders} order(s) named)`
    }
    case "customer.data_exported":
      return `Data export for customer ${String(field(e, "customer_id"))} prepared: ${String(field(e, "event_count"))} event(s), ${
        String(field(e, "bytes"))
      } bytes (Shopify customers/data_request)`
    case "detectors.settings_changed": {
      const changes = Array.isArray(field(e, "changes")) ? (field(e, "changes") as Array<{ field?: unknown; from?: unknown; to?: unknown }>) : []
      const value = (v: unknown) => (typeof v === "number" ? String(v) : "the default")
      return `Detector settings changed by ${String(field(e, "by"))}: ${changes.map((c) => `${String(c.field)} ${value(c.from)} → ${value(c.to)}`).join(", ")}`
    }
    case "ai.budget_threshold_reached": {
      const money = (v: unknown) => (typeof v === "number" ? `$${(v / 1_000_000).toFixed(2)}` : "?")
      const spent = `${money(field(e, "spentMicros"))} of ${money(field(e, "capMicros"))}`
      return field(e, "threshold") === 100
        ? `AI budget for ${String(field(e, "month"))} is spent (${spent}): AI calls are refused until the month ends`
        : `AI budget for ${String(field(e, "month"))}: 80 % reached (${spent})`
    }
    case "detectors.settings_rejected":
      return `A detector settings change by ${String(field(e, "by"))} was refused: another change came first and it no longer fits`
    default:
      return undefined
  }
}
