/**
 * What dispatch decided, as events on the shop's `automation-<shop>` stream — one per rule and
 * resource of a trigger, each with its reason, so no run looks "completed" while a step was
 * skipped (what users of Shopify Flow complain about):
 * - `autoaction.skipped` (resource type, plan, condition false or in error, cooldown);
 * - `autoaction.deferred` (quiet hours: re-checked when the window ends);
 * - `autoaction.awaiting_approval` (parked for a person);
 * - `autoaction.requested` (the action is to run: snapshot, handler, `autoaction.applied`);
 * - `autoaction.approved` (then `autoaction.requested`), `autoaction.rejected`,
 *   `autoaction.approval_expired` — a parked approval's end, by a person or by the clock.
 * The cooldowns are folded from these (an execution or a parked approval starts one), and so
 * are the approvals still waiting.
 */
import { Result, Schema } from "effect"
import { cooldownKey, type DispatchOutcome } from "./Dispatch.ts"
import { ExecutionIdentity, identityOf, type RequestedRun } from "./ExecutionRuns.ts"

/** The execution's identity and names, on every event about it (`ExecutionRuns.ts` keeps the same). */
const base = ExecutionIdentity.fields

/** `autoaction.awaiting_approval`: parked for a person, with the params it would run with. */
export const AwaitingApprovalEvent = Schema.Struct({
  type: Schema.Literal("autoaction.awaiting_approval"),
  ...base,
  params: Schema.Record(Schema.String, Schema.Unknown),
  /** The resource's payload in the trigger (absent in events recorded before it was kept). */
  resourcePayload: Schema.optional(Schema.Unknown),
  /** The trigger's own fields (e.g. an ads trigger's `platform`), absent before they were kept. */
  triggerFields: Schema.optional(Schema.Record(Schema.String, Schema.Unknown))
})

/** `autoaction.deferred`: waiting for the rule's quiet hours to end (then re-checked). */
export const DeferredEvent = Schema.Struct({ type: Schema.Literal("autoaction.deferred"), ...base, reason: Schema.Literal("quiet_hours"), until: Schema.String })

export const ExecutionEvent = Schema.Union([
  Schema.Struct({ type: Schema.Literal("autoaction.skipped"), ...base, reason: Schema.String, detail: Schema.String, until: Schema.optional(Schema.String) }),
  DeferredEvent,
  AwaitingApprovalEvent,
  Schema.Struct({
    type: Schema.Literal("autoaction.requested"),
    ...base,
    params: Schema.Record(Schema.String, Schema.Unknown),
    resourcePayload: Schema.optional(Schema.Unknown),
    triggerFields: Schema.optional(Schema.Record(Schema.String, Schema.Unknown))
  }),
  Schema.Struct({ type: Schema.Literal("autoaction.approved"), ...base, by: Schema.String }),
  Schema.Struct({ type: Schema.Literal("autoaction.rejected"), ...base, by: Schema.String, reason: Schema.NullOr(Schema.String) }),
  Schema.Struct({ type: Schema.Literal("autoaction.approval_expired"), ...base }),
  /** A person cancelled an execution deferred by quiet hours, before it ran. */
  Schema.Struct({ type: Schema.Literal("autoaction.cancelled"), ...base, by: Schema.String })
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
  trigger: { readonly triggerId: string; readonly event: string; readonly fields?: Readonly<Record<string, unknown>> | undefined }
): ReadonlyArray<ExecutionEvent> =>
  outcomes.map((o): ExecutionEvent => {
    const fields = trigger.fields === undefined || Object.keys(trigger.fields).length === 0 ? {} : { triggerFields: trigger.fields }
    const b = {
      executionId: o.executionId,
      ruleName: o.ruleName,
      resourceLabel: o.resourceLabel,
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
        return { type: "autoaction.awaiting_approval", ...b, params: o.params, resourcePayload: o.resourcePayload, ...fields }
      case "execute":
        return { type: "autoaction.requested", ...b, params: o.params, resourcePayload: o.resourcePayload, ...fields }
    }
  })

/** An approval waiting for a person: the parked execution as recorded. */
export type AwaitingApproval = typeof AwaitingApprovalEvent.Type

/** The parked execution's identity, for the events that end it. */
export const executionBase = (e: AwaitingApproval) => identityOf(e)

export type ApprovalDecision =
  | { readonly kind: "approve"; readonly by: string }
  | { readonly kind: "reject"; readonly by: string; readonly reason: string | null }
  | { readonly kind: "expire" }

/** What ends a waiting approval (nothing when it is not waiting any more). */
export const decideApproval = (awaiting: AwaitingApproval | undefined, decision: ApprovalDecision): ReadonlyArray<ExecutionEvent> => {
  if (awaiting === undefined) return []
  const b = executionBase(awaiting)
  switch (decision.kind) {
    case "approve":
      return [
        { type: "autoaction.approved", ...b, by: decision.by },
        {
          type: "autoaction.requested",
          ...b,
          params: awaiting.params,
          ...(awaiting.resourcePayload === undefined ? {} : { resourcePayload: awaiting.resourcePayload }),
          ...(awaiting.triggerFields === undefined ? {} : { triggerFields: awaiting.triggerFields })
        }
      ]
    case "reject":
      return [{ type: "autoaction.rejected", ...b, by: decision.by, reason: decision.reason }]
    case "expire":
      return [{ type: "autoaction.approval_expired", ...b }]
  }
}

/** The run a `autoaction.requested` asks for (`domain/automation/ExecutionRuns.ts`). */
export const requestedRunOf = (e: ExecutionEvent): RequestedRun | undefined => {
  if (e.type !== "autoaction.requested") return undefined
  const { type: _type, ...run } = e
  return run
}

/** A deferred execution as its deferral recorded it (what a cancel needs to name it). */
export type DeferredExecution = typeof DeferredEvent.Type

/** Cancelling a deferred execution: `autoaction.cancelled`, or nothing when it is not deferred any more. */
export const decideCancel = (deferred: DeferredExecution | undefined, by: string): ReadonlyArray<ExecutionEvent> => {
  if (deferred === undefined) return []
  const { type: _type, reason: _reason, until: _until, ...b } = deferred
  return [{ type: "autoaction.cancelled", ...b, by }]
}

/** The cooldown key `e` starts (an execution, or a parked approval), if any. */
export const cooldownStartedBy = (e: ExecutionEvent): string | undefined =>
  e.type === "autoaction.requested" || e.type === "autoaction.awaiting_approval" ? cooldownKey(e.ruleId, e.resourceId) : undefined
