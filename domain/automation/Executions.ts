/**
 * What dispatch decided, as events on the shop's `automation-<shop>` stream — one per rule and
 * resource of a trigger, each with its reason, so no run looks "completed" while a step was
 * skipped (what users of Shopify Flow complain about):
 * - `autoaction.skipped` (resource type, plan, condition false or in error, cooldown);
 * - `autoaction.deferred` (quiet hours: re-checked when the window ends);
 * - `autoaction.awaiting_approval` (parked for a person);
 * - `autoaction.requested` (the action is to run: snapshot, handler, `autoaction.applied`).
 * The cooldowns are folded from these (an execution or a parked approval starts one).
 */
import { Result, Schema } from "effect"
import { cooldownKey, type Cooldowns, type DispatchOutcome } from "./Dispatch.ts"

const base = {
  executionId: Schema.String,
  triggerId: Schema.String,
  triggerEvent: Schema.String,
  ruleId: Schema.String,
  ruleVersion: Schema.Int,
  actionKey: Schema.String,
  resourceType: Schema.String,
  resourceId: Schema.String
}

export const ExecutionEvent = Schema.Union([
  Schema.Struct({ type: Schema.Literal("autoaction.skipped"), ...base, reason: Schema.String, detail: Schema.String, until: Schema.optional(Schema.String) }),
  Schema.Struct({ type: Schema.Literal("autoaction.deferred"), ...base, reason: Schema.Literal("quiet_hours"), until: Schema.String }),
  Schema.Struct({ type: Schema.Literal("autoaction.awaiting_approval"), ...base, params: Schema.Record(Schema.String, Schema.Unknown) }),
  Schema.Struct({ type: Schema.Literal("autoaction.requested"), ...base, params: Schema.Record(Schema.String, Schema.Unknown) })
])
/** Stored as its own data. */
export type ExecutionEvent = typeof ExecutionEvent.Type

const decode = Schema.decodeUnknownResult(ExecutionEvent)
export const decodeExecutionEvent = (data: unknown): ExecutionEvent | undefined => {
  const d = decode(data)
  return Result.isSuccess(d) ? d.success : undefined
}

/** The events of a dispatch's outcomes. */
export const executionEvents = (
  outcomes: ReadonlyArray<DispatchOutcome>,
  trigger: { readonly triggerId: string; readonly event: string }
): ReadonlyArray<ExecutionEvent> =>
  outcomes.map((o): ExecutionEvent => {
    const b = {
      executionId: o.executionId,
      triggerId: trigger.triggerId,
      triggerEvent: trigger.event,
      ruleId: o.ruleId,
      ruleVersion: o.ruleVersion,
      actionKey: o.actionKey,
      resourceType: o.resourceType,
      resourceId: o.resourceId
    }
    switch (o.kind) {
      case "skipped":
        return { type: "autoaction.skipped", ...b, reason: o.reason, detail: o.detail, ...(o.reason === "cooldown" ? { until: new Date(o.until).toISOString() } : {}) }
      case "deferred":
        return { type: "autoaction.deferred", ...b, reason: "quiet_hours", until: new Date(o.until).toISOString() }
      case "awaiting_approval":
        return { type: "autoaction.awaiting_approval", ...b, params: o.params }
      case "execute":
        return { type: "autoaction.requested", ...b, params: o.params }
    }
  })

/** Cooldowns as of `e` (recorded at `at`). */
export const evolveCooldowns = (cooldowns: Cooldowns, e: ExecutionEvent, at: number): Cooldowns => {
  if (e.type !== "autoaction.requested" && e.type !== "autoaction.awaiting_approval") return cooldowns
  const next = new Map(cooldowns)
  next.set(cooldownKey(e.ruleId, e.resourceId), at)
  return next
}
