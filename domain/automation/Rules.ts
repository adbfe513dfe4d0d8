/**
 * A shop's automation rules, event-sourced: one `rule-<id>` stream per rule, `rule.created`,
 * `rule.updated` (each a new version), `rule.enabled`, `rule.disabled`, `rule.deleted`. An
 * execution records the version it ran, so "which rule did this" has one answer forever.
 *
 * `validateRule` checks a rule as the admin API receives it (snake_case JSON) against the
 * trigger catalog, the action registry, the shop's plan and time zone, and a condition checker
 * (CEL, injected: the library lives outside `domain/`), and reports **every** problem with its
 * field. `decideRule` is the aggregate's decider.
 */
import { Result, Schema } from "effect"
import { type ActionMeta, actionMeta, type FieldProblem, type Plan, planAllows, subscribes, triggersOf, validateParams } from "./Actions.ts"
import { type QuietHours, validateQuietHours } from "./QuietHours.ts"
import { isTriggerEventName, type TriggerEventName } from "./Triggers.ts"

/** A rule's settings, validated. */
export interface RuleSpec {
  readonly name: string
  readonly triggerEvent: TriggerEventName
  readonly actionKey: string
  readonly params: Readonly<Record<string, unknown>>
  /** CEL over `event`, `resource`, `shop`; null: always. */
  readonly condition: string | null
  /** Per rule and resource: after a fire, the same resource is skipped for this long. */
  readonly cooldownSeconds: number
  readonly quietHours: QuietHours | null
  readonly requiresApproval: boolean
}

export const MAX_COOLDOWN_SECONDS = 30 * 86_400

/** What a condition checker says about an expression (positions are 0-based offsets). */
export interface ConditionProblem {
  readonly message: string
  readonly offset?: number | undefined
}

export interface RuleContext {
  readonly plan: Plan
  readonly timeZone: string
  readonly checkCondition: (expression: string, trigger: TriggerEventName) => ReadonlyArray<ConditionProblem>
}

const isRecord = (u: unknown): u is Readonly<Record<string, unknown>> => typeof u === "object" && u !== null && !Array.isArray(u)

const ALLOWED_FIELDS = new Set(["name", "trigger_event", "action_key", "params", "condition", "cooldown_seconds", "quiet_hours", "requires_approval", "enabled"])

/**
 * A rule from the admin API's JSON (`{ name, trigger_event, action_key, params, condition,
 * cooldown_seconds, quiet_hours, requires_approval, enabled }`), every problem at once. With
 * `base` (a PATCH), absent fields keep the base's value.
 */
export const validateRule = (
  input: unknown,
  context: RuleContext,
  base?: RuleSpec & { readonly enabled: boolean }
): Result.Result<RuleSpec & { readonly enabled: boolean }, ReadonlyArray<FieldProblem>> => {
  if (!isRecord(input)) return Result.fail([{ field: "", message: "the body must be a JSON object" }])
  const problems: Array<FieldProblem> = []
  for (const key of Object.keys(input)) if (!ALLOWED_FIELDS.has(key)) problems.push({ field: key, message: "is not a rule field" })
  const pick = <A>(key: string, fallback: A | undefined): unknown => (key in input ? input[key] : fallback)

  const name = pick("name", base?.name)
  if (typeof name !== "string" || name.trim().length === 0 || name.length > 200) {
    problems.push({ field: "name", message: "must be 1–200 characters" })
  }
  const trigger = pick("trigger_event", base?.triggerEvent)
  const triggerOk = typeof trigger === "string" && isTriggerEventName(trigger)
  if (!triggerOk) problems.push({ field: "trigger_event", message: `must be one of the trigger catalog's events (GET /app/triggers)` })
  const actionKey = pick("action_key", base?.actionKey)
  const action: ActionMeta | undefined = typeof actionKey === "string" ? actionMeta(actionKey) : undefined
  if (action === undefined) problems.push({ field: "action_key", message: "must be an action of the registry (GET /app/actions)" })
  if (action !== undefined && triggerOk && !subscribes(action, trigger)) {
    problems.push({ field: "action_key", message: `${action.key} does not run on ${trigger} (it runs on ${triggersOf(action).join(", ")})` })
  }
  if (action !== undefined && !planAllows(context.plan, action.requiredPlan)) {
    problems.push({ field: "action_key", message: `${action.key} needs the ${action.requiredPlan} plan (the shop is on ${context.plan})` })
  }
  let params: Readonly<Record<string, unknown>> = {}
  if (action !== undefined) {
    const checked = validateParams(action, pick("params", base?.params))
    if (Result.isFailure(checked)) problems.push(...checked.failure)
    else params = checked.success
  }
  const condition = pick("condition", base?.condition ?? null)
  if (condition !== null && (typeof condition !== "string" || condition.trim().length === 0)) {
    problems.push({ field: "condition", message: "must be a CEL expression, or null for none" })
  } else if (typeof condition === "string" && triggerOk) {
    for (const p of context.checkCondition(condition, trigger)) {
      problems.push({ field: "condition", message: p.offset === undefined ? p.message : `${p.message} (at position ${p.offset})` })
    }
  }
  const cooldown = pick("cooldown_seconds", base?.cooldownSeconds ?? 0)
  if (typeof cooldown !== "number" || !Number.isInteger(cooldown) || cooldown < 0 || cooldown > MAX_COOLDOWN_SECONDS) {
    problems.push({ field: "cooldown_seconds", message: `must be a whole number of seconds from 0 to ${MAX_COOLDOWN_SECONDS}` })
  }
  const quiet = pick("quiet_hours", base?.quietHours ?? null)
  if (quiet !== null) {
    if (!isRecord(quiet) || typeof quiet["start"] !== "string" || typeof quiet["end"] !== "string") {
      problems.push({ field: "quiet_hours", message: "must be { \"start\": \"HH:MM\", \"end\": \"HH:MM\" } or null" })
    } else {
      const checked = validateQuietHours({ start: quiet["start"], end: quiet["end"] }, context.timeZone)
      if (Result.isFailure(checked)) for (const m of checked.failure) problems.push({ field: "quiet_hours", message: m })
    }
  }
  const approval = pick("requires_approval", base?.requiresApproval ?? false)
  if (typeof approval !== "boolean") problems.push({ field: "requires_approval", message: "must be true or false" })
  const enabled = pick("enabled", base?.enabled ?? false)
  if (typeof enabled !== "boolean") problems.push({ field: "enabled", message: "must be true or false" })
  if (problems.length > 0) return Result.fail(problems)
  return Result.succeed({
    name: (name as string).trim(),
    triggerEvent: trigger as TriggerEventName,
    actionKey: action!.key,
    params,
    condition: condition as string | null,
    cooldownSeconds: cooldown as number,
    quietHours: quiet === null ? null : { start: (quiet as QuietHours).start, end: (quiet as QuietHours).end },
    requiresApproval: approval as boolean,
    enabled: enabled as boolean
  })
}

// --- the aggregate --------------------------------------------------------------------------

export const QuietHoursSchema = Schema.Struct({ start: Schema.String, end: Schema.String })
/** A rule's settings as stored (the trigger as text: events outlive a deploy's catalog). */
export const RuleSpecFields = {
  name: Schema.String,
  triggerEvent: Schema.String,
  actionKey: Schema.String,
  params: Schema.Record(Schema.String, Schema.Unknown),
  condition: Schema.NullOr(Schema.String),
  cooldownSeconds: Schema.Number,
  quietHours: Schema.NullOr(QuietHoursSchema),
  requiresApproval: Schema.Boolean
}

export const RuleEvent = Schema.Union([
  Schema.Struct({ type: Schema.Literal("rule.created"), ruleId: Schema.String, version: Schema.Int, enabled: Schema.Boolean, ...RuleSpecFields }),
  Schema.Struct({ type: Schema.Literal("rule.updated"), ruleId: Schema.String, version: Schema.Int, ...RuleSpecFields }),
  Schema.Struct({ type: Schema.Literal("rule.enabled"), ruleId: Schema.String, version: Schema.Int }),
  Schema.Struct({ type: Schema.Literal("rule.disabled"), ruleId: Schema.String, version: Schema.Int }),
  Schema.Struct({ type: Schema.Literal("rule.deleted"), ruleId: Schema.String, version: Schema.Int })
])
/** Stored as its own data. */
export type RuleEvent = typeof RuleEvent.Type

const decodeRuleEventResult = Schema.decodeUnknownResult(RuleEvent)
export const decodeRuleEvent = (data: unknown): RuleEvent | undefined => {
  const decoded = decodeRuleEventResult(data)
  return Result.isSuccess(decoded) ? decoded.success : undefined
}

export type RuleState =
  | { readonly exists: false }
  | (RuleSpec & { readonly exists: true; readonly ruleId: string; readonly version: number; readonly enabled: boolean; readonly deleted: boolean })

export const initialRule: RuleState = { exists: false }

const specOf = (e: RuleSpec): RuleSpec => ({
  name: e.name,
  triggerEvent: e.triggerEvent,
  actionKey: e.actionKey,
  params: e.params,
  condition: e.condition,
  cooldownSeconds: e.cooldownSeconds,
  quietHours: e.quietHours,
  requiresApproval: e.requiresApproval
})

/** The settings an event carries (a trigger unknown to this deploy keeps the rule from matching). */
const storedSpec = (e: Extract<RuleEvent, { readonly type: "rule.created" | "rule.updated" }>): RuleSpec | undefined =>
  isTriggerEventName(e.triggerEvent) ? specOf({ ...e, triggerEvent: e.triggerEvent }) : undefined

export const evolveRule = (state: RuleState, e: RuleEvent): RuleState => {
  switch (e.type) {
    case "rule.created": {
      const spec = storedSpec(e)
      return spec === undefined ? state : { exists: true, ruleId: e.ruleId, version: e.version, enabled: e.enabled, deleted: false, ...spec }
    }
    case "rule.updated": {
      const spec = storedSpec(e)
      return state.exists && spec !== undefined ? { ...state, ...spec, version: e.version } : state
    }
    case "rule.enabled":
      return state.exists ? { ...state, enabled: true, version: e.version } : state
    case "rule.disabled":
      return state.exists ? { ...state, enabled: false, version: e.version } : state
    case "rule.deleted":
      return state.exists ? { ...state, deleted: true, enabled: false, version: e.version } : state
  }
}

export type RuleCommand =
  | { readonly type: "CreateRule"; readonly ruleId: string; readonly spec: RuleSpec & { readonly enabled: boolean } }
  | {
    readonly type: "UpdateRule"
    readonly ruleId: string
    readonly spec: RuleSpec & { readonly enabled: boolean }
    /** The version the change was made against: a concurrent change in between is refused. */
    readonly expectedVersion?: number | undefined
  }
  | { readonly type: "EnableRule"; readonly ruleId: string }
  | { readonly type: "DisableRule"; readonly ruleId: string }
  | { readonly type: "DeleteRule"; readonly ruleId: string }

export type RuleRefusal =
  | { readonly _tag: "RuleNotFound"; readonly ruleId: string }
  | { readonly _tag: "RuleExists"; readonly ruleId: string }
  | { readonly _tag: "RuleChanged"; readonly ruleId: string; readonly expected: number; readonly actual: number }

/** `value` with every object's keys in order: a stored rule comes back from jsonb with its keys reordered. */
const sortedKeys = (value: unknown): unknown =>
  Array.isArray(value)
    ? value.map(sortedKeys)
    : value !== null && typeof value === "object"
    ? Object.fromEntries(Object.keys(value).sort().map((k) => [k, sortedKeys((value as Record<string, unknown>)[k])]))
    : value

const same = (a: RuleSpec, b: RuleSpec): boolean => JSON.stringify(sortedKeys(specOf(a))) === JSON.stringify(sortedKeys(specOf(b)))

/** Whether `spec` would change nothing of `rule` (settings and enabled alike). */
export const changesNothing = (rule: RuleSpec & { readonly enabled: boolean }, spec: RuleSpec & { readonly enabled: boolean }): boolean =>
  same(rule, spec) && rule.enabled === spec.enabled

/**
 * Every change is a new version; a no-op (the same settings, enabling an enabled rule) appends
 * nothing. A deleted rule is gone for every command.
 */
export const decideRule = (command: RuleCommand, state: RuleState): Result.Result<ReadonlyArray<RuleEvent>, RuleRefusal> => {
  if (command.type === "CreateRule") {
    if (state.exists) return Result.fail({ _tag: "RuleExists", ruleId: command.ruleId })
    const { enabled, ...spec } = command.spec
    return Result.succeed([{ type: "rule.created", ruleId: command.ruleId, version: 1, enabled, ...specOf(spec) }])
  }
  if (!state.exists || state.deleted) return Result.fail({ _tag: "RuleNotFound", ruleId: command.ruleId })
  const next = state.version + 1
  switch (command.type) {
    case "UpdateRule": {
      if (command.expectedVersion !== undefined && command.expectedVersion !== state.version) {
        return Result.fail({ _tag: "RuleChanged", ruleId: state.ruleId, expected: command.expectedVersion, actual: state.version })
      }
      const events: Array<RuleEvent> = []
      let version = state.version
      if (!same(state, command.spec)) events.push({ type: "rule.updated", ruleId: state.ruleId, version: ++version, ...specOf(command.spec) })
      if (command.spec.enabled !== state.enabled) {
        events.push({ type: command.spec.enabled ? "rule.enabled" : "rule.disabled", ruleId: state.ruleId, version: ++version })
      }
      return Result.succeed(events)
    }
    case "EnableRule":
      return Result.succeed(state.enabled ? [] : [{ type: "rule.enabled", ruleId: state.ruleId, version: next }])
    case "DisableRule":
      return Result.succeed(state.enabled ? [{ type: "rule.disabled", ruleId: state.ruleId, version: next }] : [])
    case "DeleteRule":
      return Result.succeed([{ type: "rule.deleted", ruleId: state.ruleId, version: next }])
  }
}

// --- commands on the wire (the `automation.rule_command` message) ---------------------------

const RuleSpecWire = Schema.Struct({ ...RuleSpecFields, enabled: Schema.Boolean })

export const RuleCommandWire = Schema.Union([
  Schema.Struct({ type: Schema.Literal("CreateRule"), ruleId: Schema.String, spec: RuleSpecWire }),
  Schema.Struct({ type: Schema.Literal("UpdateRule"), ruleId: Schema.String, spec: RuleSpecWire, expectedVersion: Schema.optional(Schema.Int) }),
  Schema.Struct({ type: Schema.Literal("EnableRule"), ruleId: Schema.String }),
  Schema.Struct({ type: Schema.Literal("DisableRule"), ruleId: Schema.String }),
  Schema.Struct({ type: Schema.Literal("DeleteRule"), ruleId: Schema.String })
])
export type RuleCommandWire = typeof RuleCommandWire.Type

/** A rule command as received: its spec's trigger must still be one this deploy knows. */
export const ruleCommandOf = (wire: RuleCommandWire): RuleCommand | undefined => {
  if (wire.type !== "CreateRule" && wire.type !== "UpdateRule") return wire
  if (!isTriggerEventName(wire.spec.triggerEvent)) return undefined
  return { ...wire, spec: { ...wire.spec, triggerEvent: wire.spec.triggerEvent } }
}

export type ExistingRule = Extract<RuleState, { readonly exists: true }>

/** A shop's rules: every rule's state by id (the `rules-<shop>` stream folded). */
export type ShopRules = Readonly<Record<string, ExistingRule>>

export const noRules: ShopRules = {}

export const evolveShopRules = (rules: ShopRules, e: RuleEvent): ShopRules => {
  const next = evolveRule(rules[e.ruleId] ?? initialRule, e)
  return next.exists ? { ...rules, [e.ruleId]: next } : rules
}

/** The rules dispatch consults: enabled, not deleted. */
export const activeRules = (rules: ShopRules): ReadonlyArray<ExistingRule> =>
  Object.values(rules).filter((r) => r.enabled && !r.deleted)
