/**
 * The decision plane's dispatcher as one pure function (issue 11 §3): a trigger, the shop's
 * rules and what has fired before → per rule and resource, what happens and why. Live dispatch
 * (in the shop's actor) and backtesting (replaying a window of stored triggers in event time)
 * run this same code, so a backtest answers exactly what live dispatch would have done.
 *
 * Per enabled rule subscribed to the trigger, per resource, in this order:
 * 1. the resource must be of a type the rule's action changes          → skipped `resource_type`
 * 2. the shop's plan must allow the action                             → skipped `plan`
 * 3. the condition (CEL, evaluated by the injected `evaluate`)         → skipped `condition_false` / `condition_error`
 * 4. cooldown per rule and resource (since the last execution)         → skipped `cooldown` (with until when)
 * 5. quiet hours in the shop's time zone (the resource's own, e.g. a customer's, when it names one) → `deferred` until the window ends (then re-checked)
 * 6. approval                                                          → `awaiting_approval`
 * 7. otherwise                                                         → `execute`
 * Every outcome carries the rule's id and version, so no run looks "completed" while a step
 * was skipped, and every skip has its reason.
 */
import { Result } from "effect"
import { actionMeta, type Plan, planAllows } from "./Actions.ts"
import { quietUntil } from "./QuietHours.ts"
import type { RuleSpec } from "./Rules.ts"
import type { TriggerEvent } from "./Triggers.ts"

/** A rule as the dispatcher sees it (enabled, not deleted). */
export interface ActiveRule {
  readonly ruleId: string
  readonly version: number
  readonly spec: RuleSpec
}

export type Resource = TriggerEvent["resources"][number]

/** How a resource is named in plain language: its title, else its id. */
export const resourceLabelOf = (r: { readonly resourceId: string; readonly payload: unknown }): string => {
  const title = typeof r.payload === "object" && r.payload !== null ? (r.payload as { readonly title?: unknown }).title : undefined
  return typeof title === "string" && title.length > 0 ? title : r.resourceId
}

/**
 * The time zone a resource names for itself (a customer's, on a checkout: quiet hours are then
 * the customer's night, not the shop's), when it is a zone this runtime knows.
 */
const resourceTimeZone = (r: Resource): string | undefined => {
  const tz = typeof r.payload === "object" && r.payload !== null ? (r.payload as { readonly timeZone?: unknown }).timeZone : undefined
  if (typeof tz !== "string") return undefined
  try {
    new Intl.DateTimeFormat("en", { timeZone: tz })
    return tz
  } catch {
    return undefined
  }
}

export interface DispatchContext {
  readonly triggerId: string
  /** Event time: when the trigger was emitted (live: now; backtest: the stored trigger's time). */
  readonly now: number
  readonly plan: Plan
  readonly timeZone: string
  /** The rule's condition on one resource: true / false, or why it could not be evaluated. */
  readonly evaluate: (rule: ActiveRule, trigger: TriggerEvent, resource: Resource) => Result.Result<boolean, string>
}

/** When each (rule, resource) last executed (epoch ms): the cooldown's memory. */
export type Cooldowns = ReadonlyMap<string, number>

export const cooldownKey = (ruleId: string, resourceId: string): string => `${ruleId}\u0000${resourceId}`

interface Base {
  readonly ruleId: string
  readonly ruleVersion: number
  /** The rule's name and the resource's title (its id when it has none), for plain-language lines. */
  readonly ruleName: string
  readonly resourceLabel: string
  readonly actionKey: string
  readonly resourceType: string
  readonly resourceId: string
  /** The resource's payload in the trigger: what the action works from (a broken link's path, the competing pages). */
  readonly resourcePayload: unknown
  /** `<trigger>_<rule>_<resource index>`, URL-safe and deterministic: the same trigger, rule and resource is the same execution (redeliveries). */
  readonly executionId: string
}

export type DispatchOutcome =
  | Base & { readonly kind: "skipped"; readonly reason: "resource_type" | "plan" | "condition_false"; readonly detail: string }
  | Base & { readonly kind: "skipped"; readonly reason: "condition_error"; readonly detail: string }
  | Base & { readonly kind: "skipped"; readonly reason: "cooldown"; readonly detail: string; readonly until: number }
  | Base & { readonly kind: "deferred"; readonly reason: "quiet_hours"; readonly until: number }
  | Base & { readonly kind: "awaiting_approval"; readonly params: Readonly<Record<string, unknown>> }
  | Base & { readonly kind: "execute"; readonly params: Readonly<Record<string, unknown>> }

export interface Dispatched {
  readonly outcomes: ReadonlyArray<DispatchOutcome>
  /** The cooldowns after this trigger (an execution, or a parked approval, starts one). */
  readonly cooldowns: Cooldowns
}

/** The rules of the shop that listen to this trigger, in a stable order (by rule id). */
const listeners = (trigger: TriggerEvent, rules: ReadonlyArray<ActiveRule>) => {
  const matching = rules.filter((r) => r.spec.triggerEvent === trigger.event)
  return matching.length < 2 ? matching : matching.sort((a, b) => (a.ruleId < b.ruleId ? -1 : a.ruleId > b.ruleId ? 1 : 0))
}

export const dispatch = (trigger: TriggerEvent, rules: ReadonlyArray<ActiveRule>, cooldowns: Cooldowns, context: DispatchContext): Dispatched => {
  const outcomes: Array<DispatchOutcome> = []
  // copied on the first write only: most triggers start no cooldown (a backtest replays millions)
  let next: Map<string, number> | undefined
  for (const rule of listeners(trigger, rules)) {
    const action = actionMeta(rule.spec.actionKey)
    trigger.resources.forEach((resource, index) => {
      const base: Base = {
        ruleId: rule.ruleId,
        ruleVersion: rule.version,
        ruleName: rule.spec.name,
        resourceLabel: resourceLabelOf(resource),
        actionKey: rule.spec.actionKey,
        resourceType: resource.resourceType,
        resourceId: resource.resourceId,
        resourcePayload: resource.payload,
        executionId: `${context.triggerId}_${rule.ruleId}_${index}`
      }
      if (action === undefined || !action.resourceType.includes(resource.resourceType)) {
        outcomes.push({ ...base, kind: "skipped", reason: "resource_type", detail: `${rule.spec.actionKey} does not change a ${resource.resourceType}` })
        return
      }
      if (!planAllows(context.plan, action.requiredPlan)) {
        outcomes.push({ ...base, kind: "skipped", reason: "plan", detail: `${action.key} needs the ${action.requiredPlan} plan (the shop is on ${context.plan})` })
        return
      }
      if (rule.spec.condition !== null) {
        const verdict = context.evaluate(rule, trigger, resource)
        if (Result.isFailure(verdict)) {
          outcomes.push({ ...base, kind: "skipped", reason: "condition_error", detail: verdict.failure })
          return
        }
        if (!verdict.success) {
          outcomes.push({ ...base, kind: "skipped", reason: "condition_false", detail: rule.spec.condition })
          return
        }
      }
      const key = cooldownKey(rule.ruleId, resource.resourceId)
      const last = (next ?? cooldowns).get(key)
      if (last !== undefined && rule.spec.cooldownSeconds > 0 && context.now < last + rule.spec.cooldownSeconds * 1000) {
        const until = last + rule.spec.cooldownSeconds * 1000
        outcomes.push({ ...base, kind: "skipped", reason: "cooldown", detail: `cooldown until ${new Date(until).toISOString()}`, until })
        return
      }
      if (rule.spec.quietHours !== null) {
        const until = quietUntil(context.now, rule.spec.quietHours, resourceTimeZone(resource) ?? context.timeZone)
        if (until !== undefined) {
          outcomes.push({ ...base, kind: "deferred", reason: "quiet_hours", until })
          return
        }
      }
      next ??= new Map(cooldowns)
      next.set(key, context.now)
      outcomes.push(
        rule.spec.requiresApproval
          ? { ...base, kind: "awaiting_approval", params: rule.spec.params }
          : { ...base, kind: "execute", params: rule.spec.params }
      )
    })
  }
  return { outcomes, cooldowns: next ?? cooldowns }
}
