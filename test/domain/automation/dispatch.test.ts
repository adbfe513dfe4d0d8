/**
 * The dispatcher (`domain/automation/Dispatch.ts`), given rules and cooldowns / when a trigger
 * arrives / then each rule's outcome per resource, with its reason: condition, cooldown, quiet
 * hours (deferred to the window's end in the shop's zone), approval, execution.
 */
import { Result } from "effect"
import { describe, expect, it } from "vitest"
import { type ActiveRule, cooldownKey, type DispatchContext, dispatch } from "../../../domain/automation/Dispatch.ts"
import type { RuleSpec } from "../../../domain/automation/Rules.ts"
import type { TriggerEvent } from "../../../domain/automation/Triggers.ts"

const drafted = (...vendors: ReadonlyArray<string | null>): TriggerEvent => ({
  event: "product.drafted",
  resources: vendors.map((vendor, i) => ({
    resourceType: "product" as const,
    resourceId: `gid://shopify/Product/${i + 1}`,
    payload: { title: `P${i + 1}`, vendor, productType: null, tags: [], status: "draft", previousStatus: "active", updatedAt: "2026-11-30T10:00:00Z" }
  }))
})

const rule = (overrides: Partial<RuleSpec> = {}, ruleId = "r1"): ActiveRule => ({
  ruleId,
  version: 3,
  spec: {
    name: "Tag drafted products",
    triggerEvent: "product.drafted",
    actionKey: "tag_product",
    params: { tags: ["needs-review"] },
    condition: null,
    cooldownSeconds: 0,
    quietHours: null,
    requiresApproval: false,
    ...overrides
  }
})

/** A stand-in for CEL: `vendor == X`. */
const context = (now: string, overrides: Partial<DispatchContext> = {}): DispatchContext => ({
  triggerId: "t1",
  now: Date.parse(now),
  plan: "pro",
  timeZone: "Europe/Berlin",
  evaluate: (r, _t, resource) => {
    const want = /vendor == '(.*)'/.exec(r.spec.condition ?? "")?.[1]
    if (want === undefined) return Result.fail("unsupported condition")
    return Result.succeed((resource.payload as { vendor: string | null }).vendor === want)
  },
  ...overrides
})

describe("dispatch", () => {
  it("a matching rule executes per resource, with its version and a deterministic execution id", () => {
    const { outcomes } = dispatch(drafted("Acme", "Other"), [rule()], new Map(), context("2026-11-30T12:00:00Z"))
    expect(outcomes.map((o) => [o.kind, o.resourceId, o.ruleVersion, o.executionId])).toEqual([
      ["execute", "gid://shopify/Product/1", 3, "t1_r1_0"],
      ["execute", "gid://shopify/Product/2", 3, "t1_r1_1"]
    ])
  })

  it("the condition decides per resource; an error is a skip with its reason, not a failure of the others", () => {
    const { outcomes } = dispatch(drafted("Acme", "Other"), [rule({ condition: "resource.payload.vendor == 'Acme'" }), rule({ condition: "nonsense" }, "r2")], new Map(), context("2026-11-30T12:00:00Z"))
    expect(outcomes.map((o) => [o.ruleId, o.kind, "reason" in o ? o.reason : null])).toEqual([
      ["r1", "execute", null],
      ["r1", "skipped", "condition_false"],
      ["r2", "skipped", "condition_error"],
      ["r2", "skipped", "condition_error"]
    ])
  })

  it("cooldown per rule and resource: skipped until it ends, then executes again", () => {
    const r = rule({ cooldownSeconds: 3600 })
    const first = dispatch(drafted("Acme"), [r], new Map(), context("2026-11-30T12:00:00Z"))
    expect(first.cooldowns.get(cooldownKey("r1", "gid://shopify/Product/1"))).toBe(Date.parse("2026-11-30T12:00:00Z"))
    const soon = dispatch(drafted("Acme"), [r], first.cooldowns, context("2026-11-30T12:30:00Z", { triggerId: "t2" }))
    expect(soon.outcomes[0]).toMatchObject({ kind: "skipped", reason: "cooldown", until: Date.parse("2026-11-30T13:00:00Z") })
    const later = dispatch(drafted("Acme"), [r], soon.cooldowns, context("2026-11-30T13:00:00Z", { triggerId: "t3" }))
    expect(later.outcomes[0]!.kind).toBe("execute")
  })

  it("quiet hours are read in the resource's own zone when it names one (a customer's), else the shop's", () => {
    const checkout = (timeZone?: string): TriggerEvent => ({
      event: "sales.cart_abandoned_threshold",
      abandoned: 1, threshold: 1, windowMinutes: 60,
      resources: [{ resourceType: "checkout", resourceId: "c1", payload: { value: 42, currency: "EUR", abandonedAt: "2026-11-30T22:00:00Z", ...(timeZone === undefined ? {} : { timeZone }) } }]
    })
    const recovery = rule({ triggerEvent: "sales.cart_abandoned_threshold", actionKey: "send_cart_recovery_message", params: {}, quietHours: { start: "22:00", end: "08:00" } })
    const at = context("2026-11-30T22:30:00Z") // 23:30 in Berlin (the shop), 17:30 in New York
    expect(dispatch(checkout(), [recovery], new Map(), at).outcomes[0]).toMatchObject({ kind: "deferred" })
    expect(dispatch(checkout("America/New_York"), [recovery], new Map(), at).outcomes[0]).toMatchObject({ kind: "execute" })
    expect(dispatch(checkout("Asia/Tokyo"), [recovery], new Map(), at).outcomes[0]).toMatchObject({ kind: "deferred", until: Date.parse("2026-11-30T23:00:00Z") }) // 08:00 JST
    expect(dispatch(checkout("Not/AZone"), [recovery], new Map(), at).outcomes[0]).toMatchObject({ kind: "deferred" }) // unknown: the shop's
  })

  it("quiet hours in the shop's zone defer to the window's end; approval parks; another plan or resource type skips", () => {
    const quiet = dispatch(drafted("Acme"), [rule({ quietHours: { start: "22:00", end: "08:00" } })], new Map(), context("2026-11-30T22:30:00Z")) // 23:30 in Berlin
    expect(quiet.outcomes[0]).toMatchObject({ kind: "deferred", reason: "quiet_hours", until: Date.parse("2026-12-01T07:00:00Z") }) // 08:00 CET
    expect(quiet.cooldowns.size).toBe(0) // nothing ran: no cooldown starts
    const approval = dispatch(drafted("Acme"), [rule({ requiresApproval: true })], new Map(), context("2026-11-30T12:00:00Z"))
    expect(approval.outcomes[0]).toMatchObject({ kind: "awaiting_approval", params: { tags: ["needs-review"] } })
    const free = dispatch(drafted("Acme"), [rule({ actionKey: "bulk_set_metafield" })], new Map(), context("2026-11-30T12:00:00Z", { plan: "free" }))
    expect(free.outcomes[0]).toMatchObject({ kind: "skipped", reason: "plan" })
    const decay: TriggerEvent = { event: "seo.content_decay_detected", resources: [{ resourceType: "page", resourceId: "/blogs/a", payload: { dropPct: 50, priorClicks: 10, nowClicks: 5 } }] }
    const wrongType = dispatch(decay, [rule({ triggerEvent: "seo.content_decay_detected", actionKey: "hide_disapproved_product" })], new Map(), context("2026-11-30T12:00:00Z"))
    expect(wrongType.outcomes[0]).toMatchObject({ kind: "skipped", reason: "resource_type" })
  })

  it("rules of other triggers are not consulted", () => {
    const { outcomes } = dispatch(drafted("Acme"), [rule({ triggerEvent: "product.published" })], new Map(), context("2026-11-30T12:00:00Z"))
    expect(outcomes).toEqual([])
  })
})
