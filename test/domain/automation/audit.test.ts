/**
 * The decision plane's audit lines (`domain/audit/automation.ts`): every step of a run and every
 * skip in plain language, with the rule's name and version, the resource's title and the reason.
 */
import { describe, expect, it } from "vitest"
import { describeAutomationEvent } from "../../../domain/audit/automation.ts"
import type { RecordedEvent } from "../../../domain/events/Envelope.ts"

const recorded = (type: string, data: unknown): RecordedEvent => ({
  position: 1,
  eventId: "00000000-0000-7000-8000-000000000001",
  shop: "a.myshopify.com",
  streamId: "automation-a.myshopify.com",
  streamVersion: 1,
  type,
  schemaVersion: 1,
  data,
  correlationId: "c",
  causationId: null,
  actor: { kind: "system", id: "worker-1" },
  occurredAt: new Date("2026-12-01T10:00:00Z"),
  recordedAt: new Date("2026-12-01T10:00:00Z")
})

const base = {
  executionId: "t1_r1_0",
  triggerId: "t1",
  triggerEvent: "product.drafted",
  ruleId: "r1",
  ruleVersion: 3,
  ruleName: "Tag drafted products",
  actionKey: "tag_product",
  resourceType: "product",
  resourceId: "gid://shopify/Product/1",
  resourceLabel: "Blue Tee"
}

describe("audit lines of the decision plane", () => {
  it("says what each step did and why, by rule name and version, about the resource by title", () => {
    const lines = [
      recorded("autoaction.requested", { type: "autoaction.requested", ...base, params: { tags: ["x"] } }),
      recorded("autoaction.skipped", { type: "autoaction.skipped", ...base, reason: "cooldown", detail: "cooldown until …", until: "2026-12-01T14:05:00.000Z" }),
      recorded("autoaction.skipped", { type: "autoaction.skipped", ...base, reason: "condition_false", detail: "resource.payload.vendor == 'Acme'" }),
      recorded("autoaction.deferred", { type: "autoaction.deferred", ...base, reason: "quiet_hours", until: "2026-12-02T08:00:00.000Z" }),
      recorded("autoaction.awaiting_approval", { type: "autoaction.awaiting_approval", ...base, params: {} }),
      recorded("autoaction.rejected", { type: "autoaction.rejected", ...base, by: "ada@shop", reason: "not during the sale" }),
      recorded("autoaction.approval_expired", { type: "autoaction.approval_expired", ...base })
    ].map(describeAutomationEvent)
    expect(lines).toEqual([
      "Rule 'Tag drafted products' (v3) runs tag_product on Blue Tee (product.drafted)",
      "Rule 'Tag drafted products' (v3) skipped Blue Tee: cooldown until 14:05 UTC",
      "Rule 'Tag drafted products' (v3) skipped Blue Tee: its condition (resource.payload.vendor == 'Acme') was false",
      "Rule 'Tag drafted products' (v3) deferred Blue Tee until 08:00 UTC (quiet hours)",
      "Rule 'Tag drafted products' (v3) waits for approval to run tag_product on Blue Tee",
      "Rejected by ada@shop: Rule 'Tag drafted products' (v3) on Blue Tee — not during the sale",
      "Nobody approved Rule 'Tag drafted products' (v3) on Blue Tee in time: expired"
    ])
  })

  it("describes triggers and rule changes, and leaves other events to the other describers", () => {
    const trigger = recorded("trigger.received", {
      triggerId: "t1",
      trigger: { event: "product.drafted", resources: [{ resourceId: "gid://shopify/Product/1", resourceType: "product", payload: { title: "Blue Tee" } }, { resourceId: "gid://shopify/Product/2", resourceType: "product", payload: {} }] },
      emittedAt: "2026-12-01T10:00:00Z",
      emittedBy: { kind: "webhook", id: "webhook:products/update:e-1" }
    })
    expect(describeAutomationEvent(trigger)).toBe("Trigger product.drafted about Blue Tee and 1 more, from a Shopify webhook (webhook:products/update:e-1)")
    const created = recorded("rule.created", {
      type: "rule.created", ruleId: "r1", version: 1, enabled: true, name: "Tag drafted products", triggerEvent: "product.drafted", actionKey: "tag_product",
      params: {}, condition: null, cooldownSeconds: 0, quietHours: null, requiresApproval: false, requestedBy: "ops-1"
    })
    expect(describeAutomationEvent(created)).toBe("Rule 'Tag drafted products' created by ops-1 (v1): tag_product on product.drafted, enabled")
    expect(describeAutomationEvent(recorded("order.created", {}))).toBeUndefined()
  })
})
