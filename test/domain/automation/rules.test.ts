/**
 * Rules (`domain/automation/Rules.ts`): validation reports every problem with its field
 * against the trigger catalog, the action registry, the shop's plan and time zone and the
 * condition checker; the aggregate versions every change and appends nothing for a no-op.
 */
import { Result } from "effect"
import { describe, expect, it } from "vitest"
import { validateParams, actionMeta } from "../../../domain/automation/Actions.ts"
import { decideRule, evolveRule, initialRule, type RuleContext, type RuleEvent, type RuleState, validateRule } from "../../../domain/automation/Rules.ts"
import { exampleRuleJson } from "../../support/automation.ts"

const context: RuleContext = {
  plan: "pro",
  timeZone: "Europe/Berlin",
  // a stand-in checker: the real one is CEL (src/automation/Conditions.ts)
  checkCondition: (expression) => (expression.includes("==") || expression === "true" ? [] : [{ message: "syntax error: expected an operator", offset: expression.length }])
}

const seedRule = exampleRuleJson

const given = (...events: ReadonlyArray<RuleEvent>): RuleState => events.reduce(evolveRule, initialRule)

describe("rules", () => {
  it("accepts the issue's example rule, defaults filled in", () => {
    const checked = validateRule(seedRule, context)
    expect(Result.isSuccess(checked) && checked.success).toEqual({
      name: "Tag drafted products",
      triggerEvent: "product.drafted",
      actionKey: "tag_product",
      params: { tags: ["needs-review"] },
      condition: "resource.payload.vendor == 'Acme'",
      cooldownSeconds: 3600,
      quietHours: { start: "22:00", end: "08:00" },
      requiresApproval: false,
      enabled: true
    })
  })

  it("lists every problem with its field: unknown trigger, action not on it, params out of range, condition error, bad quiet hours", () => {
    const refused = validateRule({
      name: "",
      trigger_event: "seo.vibes_changed",
      action_key: "tag_product",
      params: { tags: [], colour: "red" },
      condition: "resource.payload.vendor",
      cooldown_seconds: -1,
      quiet_hours: { start: "22:00", end: "25:00" },
      requires_approval: "yes",
      surprise: 1
    }, context)
    expect(Result.isFailure(refused)).toBe(true)
    const fields = Result.isFailure(refused) ? refused.failure.map((p) => p.field) : []
    expect(fields).toEqual(expect.arrayContaining(["surprise", "name", "trigger_event", "params.colour", "params.tags", "cooldown_seconds", "quiet_hours", "requires_approval"]))
    const notOnTrigger = validateRule({ ...seedRule, trigger_event: "seo.content_decay_detected" }, context)
    expect(Result.isFailure(notOnTrigger) && notOnTrigger.failure).toEqual([{
      field: "action_key",
      message: "tag_product does not run on seo.content_decay_detected (it runs on product.published, product.drafted, mc.product_approved)"
    }])
    const badCondition = validateRule({ ...seedRule, condition: "resource.payload.vendor" }, context)
    expect(Result.isFailure(badCondition) && badCondition.failure).toEqual([{ field: "condition", message: "syntax error: expected an operator (at position 23)" }])
  })

  it("an action above the shop's plan is refused for a free shop", () => {
    const free = validateRule({ ...seedRule, action_key: "bulk_set_metafield", params: { queryString: "tag:x", namespace: "custom", key: "k", value: "v" } }, { ...context, plan: "free" })
    expect(Result.isFailure(free) && free.failure).toEqual([{ field: "action_key", message: "bulk_set_metafield needs the pro plan (the shop is on free)" }])
  })

  it("params: defaults, ranges and types against the action's paramSchema", () => {
    const action = actionMeta("consolidate_cannibalized_page")!
    expect(validateParams(action, {})).toEqual(Result.succeed({ minClicksRatio: 2 }))
    const out = validateParams(action, { minClicksRatio: 500 })
    expect(Result.isFailure(out) && out.failure).toEqual([{ field: "params.minClicksRatio", message: "must be at most 100" }])
  })

  it("given a rule, every change is a new version; the same settings append nothing; a deleted rule is gone", () => {
    const spec = Result.getOrThrow(validateRule(seedRule, context))
    const created = Result.getOrThrow(decideRule({ type: "CreateRule", ruleId: "r1", spec }, initialRule))
    expect(created.map((e) => [e.type, e.version])).toEqual([["rule.created", 1]])
    const state = given(...created)
    expect(Result.getOrThrow(decideRule({ type: "UpdateRule", ruleId: "r1", spec }, state))).toEqual([])
    // the same settings with their keys in another order (as jsonb gives a stored rule back) are the same
    const reordered = { ...spec, quietHours: { end: spec.quietHours!.end, start: spec.quietHours!.start }, params: Object.fromEntries(Object.entries({ ...spec.params, extra: { b: 1, a: 2 } }).reverse()) }
    const withExtra = given(...created, ...Result.getOrThrow(decideRule({ type: "UpdateRule", ruleId: "r1", spec: { ...spec, params: { ...spec.params, extra: { a: 2, b: 1 } } } }, state)))
    expect(Result.getOrThrow(decideRule({ type: "UpdateRule", ruleId: "r1", spec: reordered }, withExtra))).toEqual([])
    const changed = Result.getOrThrow(decideRule({ type: "UpdateRule", ruleId: "r1", spec: { ...spec, cooldownSeconds: 60, enabled: false } }, state))
    expect(changed.map((e) => [e.type, e.version])).toEqual([["rule.updated", 2], ["rule.disabled", 3]])
    const after = given(...created, ...changed)
    expect(after).toMatchObject({ version: 3, cooldownSeconds: 60, enabled: false })
    expect(Result.getOrThrow(decideRule({ type: "DisableRule", ruleId: "r1" }, after))).toEqual([])
    // a change made against version 1 while the rule is at 3: refused, nothing overwritten
    expect(decideRule({ type: "UpdateRule", ruleId: "r1", spec, expectedVersion: 1 }, after)).toEqual(
      Result.fail({ _tag: "RuleChanged", ruleId: "r1", expected: 1, actual: 3 })
    )
    const deleted = given(...created, ...changed, ...Result.getOrThrow(decideRule({ type: "DeleteRule", ruleId: "r1" }, after)))
    expect(decideRule({ type: "EnableRule", ruleId: "r1" }, deleted)).toEqual(Result.fail({ _tag: "RuleNotFound", ruleId: "r1" }))
    expect(decideRule({ type: "CreateRule", ruleId: "r1", spec }, deleted)).toEqual(Result.fail({ _tag: "RuleExists", ruleId: "r1" }))
  })
})
