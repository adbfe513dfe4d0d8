/**
 * Backtesting (`domain/automation/Backtest.ts`): a window of stored triggers replayed in event
 * time through the live dispatcher — fires with their resource and time, skips by reason; a
 * quiet-hours deferral is re-checked when the window ends, as the live timer would; cooldowns
 * run in event time.
 */
import { Result } from "effect"
import { describe, expect, it } from "vitest"
import { backtest, type StoredTrigger } from "../../../domain/automation/Backtest.ts"
import type { ActiveRule } from "../../../domain/automation/Dispatch.ts"

const rule: ActiveRule = {
  ruleId: "r1",
  version: 1,
  spec: {
    name: "Tag drafted Acme products",
    triggerEvent: "product.drafted",
    actionKey: "tag_product",
    params: { tags: ["needs-review"] },
    condition: "vendor == 'Acme'",
    cooldownSeconds: 3600,
    quietHours: { start: "22:00", end: "08:00" },
    requiresApproval: false
  }
}

const stored = (id: string, at: string, product: number, vendor: string): StoredTrigger => ({
  triggerId: id,
  at: Date.parse(at),
  trigger: {
    event: "product.drafted",
    resources: [{
      resourceType: "product",
      resourceId: `gid://shopify/Product/${product}`,
      payload: { title: "T", vendor, productType: null, tags: [], status: "draft", previousStatus: "active", updatedAt: at }
    }]
  }
})

const evaluate = (_r: ActiveRule, _t: unknown, resource: { readonly payload: unknown }) =>
  Result.succeed((resource.payload as { vendor: string }).vendor === "Acme")

describe("backtest", () => {
  it("answers what would have fired, when, and every skip by reason", () => {
    const window = [
      stored("t1", "2026-11-30T09:00:00Z", 1, "Acme"), // 10:00 Berlin: fires
      stored("t2", "2026-11-30T09:30:00Z", 1, "Acme"), // same product within the hour: cooldown
      stored("t3", "2026-11-30T09:45:00Z", 2, "Other"), // condition false
      stored("t4", "2026-11-30T22:00:00Z", 3, "Acme"), // 23:00 Berlin: deferred to 08:00, then fires
      stored("t5", "2026-12-01T06:30:00Z", 1, "Acme") // 07:30 Berlin: quiet, deferred to 08:00 too
    ]
    const result = backtest(rule, window, { plan: "free", timeZone: "Europe/Berlin", evaluate })
    expect(result.eventsScanned).toBe(5)
    expect(result.fires.map((f) => [f.resourceId, new Date(f.at).toISOString()])).toEqual([
      ["gid://shopify/Product/1", "2026-11-30T09:00:00.000Z"],
      ["gid://shopify/Product/3", "2026-12-01T07:00:00.000Z"],
      ["gid://shopify/Product/1", "2026-12-01T07:00:00.000Z"]
    ])
    expect(result.skipped).toEqual({ cooldown: 1, condition_false: 1, quiet_hours: 2 })
  })

  it("calls nothing but the evaluator: the same input gives the same answer", () => {
    const window = Array.from({ length: 200 }, (_, i) => stored(`t${i}`, new Date(Date.parse("2026-11-01T00:00:00Z") + i * 600_000).toISOString(), i % 7, i % 3 === 0 ? "Acme" : "Other"))
    const a = backtest(rule, window, { plan: "free", timeZone: "Europe/Berlin", evaluate })
    const b = backtest(rule, window, { plan: "free", timeZone: "Europe/Berlin", evaluate })
    expect(a).toEqual(b)
    expect(a.fires.length).toBeGreaterThan(0)
  })
})
