import { describe, expect, it } from "vitest"
import { describeDataPlaneEvent, isAuditable } from "../../../domain/audit/dataPlane.ts"
import type { RecordedEvent } from "../../../domain/events/Envelope.ts"

const event = (type: string, data: unknown) => ({ type, data, streamId: "s", streamVersion: 1, shop: "a.myshopify.com" }) as unknown as RecordedEvent

describe("the audit log and the data plane", () => {
  it("leaves data-plane observations out and keeps actions, lifecycle and privacy events", () => {
    for (const t of ["order.created", "product.deleted", "touchpoint.recorded", "ad_spend.recorded", "shopify.webhook_received", "inventory_level.updated"]) {
      expect(isAuditable(t), t).toBe(false)
    }
    for (const t of ["job.requested", "job.completed", "shop.installed", "shop.uninstalled", "shop.redacted", "customer.redacted", "customer.data_exported", "message.dead_lettered"]) {
      expect(isAuditable(t), t).toBe(true)
    }
  })
  it("describes lifecycle and privacy events in plain language, without personal data", () => {
    expect(describeDataPlaneEvent(event("shop.installed", { method: "token_exchange", scopes: "read_products" })))
      .toBe("App installed through token exchange with scopes read_products")
    expect(describeDataPlaneEvent(event("shop.uninstalled", { stale: true }))).toContain("current access token was kept")
    expect(describeDataPlaneEvent(event("customer.redacted", { customer_id: "77", order_ids: ["1", "2"] })))
      .toBe("Customer 77's personal data was erased (Shopify customers/redact, 2 order(s) named)")
    expect(describeDataPlaneEvent(event("customer.data_exported", { customer_id: "77", event_count: 3, bytes: 1200 })))
      .toBe("Data export for customer 77 prepared: 3 event(s), 1200 bytes (Shopify customers/data_request)")
    expect(describeDataPlaneEvent(event("job.completed", {}))).toBeUndefined()
  })
})
