/**
 * Plain-language audit lines for the decision plane (issue 11 §5), e.g.
 * "Rule 'Tag drafted products' (v3) skipped Blue Tee: cooldown until 14:05 UTC",
 * "Rule 'Ask first' (v1) deferred Blue Tee until 08:00 UTC (quiet hours)",
 * "Rejected by ops-1: Rule 'Ask first' (v1) on Blue Tee — not during the sale".
 * Every step of a run and every skip gets its line, with the reason.
 */
import { Result, Schema } from "effect"
import type { RecordedEvent } from "../events/Envelope.ts"
import { resourceLabelOf } from "../automation/Dispatch.ts"
import { decodeExecutionRunEvent, type ExecutionRunEvent } from "../automation/ExecutionRuns.ts"
import { decodeExecutionEvent, type ExecutionEvent } from "../automation/Executions.ts"
import { decodeRuleEvent } from "../automation/Rules.ts"

const hhmm = (iso: string): string => `${iso.slice(11, 16)} UTC`

type Identified = ExecutionEvent | ExecutionRunEvent
const ruleOf = (e: Identified): string => `Rule '${e.ruleName ?? e.ruleId}' (v${e.ruleVersion})`
const what = (e: Identified): string => e.resourceLabel ?? e.resourceId

const SKIPS: Readonly<Record<string, (e: Extract<ExecutionEvent, { readonly type: "autoaction.skipped" }>) => string>> = {
  condition_false: (e) => `its condition (${e.detail}) was false`,
  condition_error: (e) => `its condition could not be evaluated (${e.detail})`,
  cooldown: (e) => `cooldown until ${e.until === undefined ? "later" : hhmm(e.until)}`,
  plan: (e) => e.detail,
  resource_type: (e) => e.detail
}

const describeExecution = (e: ExecutionEvent): string => {
  switch (e.type) {
    case "autoaction.requested":
      return `${ruleOf(e)} runs ${e.actionKey} on ${what(e)} (${e.triggerEvent})`
    case "autoaction.skipped":
      return `${ruleOf(e)} skipped ${what(e)}: ${(SKIPS[e.reason] ?? ((x) => `${x.reason}: ${x.detail}`))(e)}`
    case "autoaction.deferred":
      return `${ruleOf(e)} deferred ${what(e)} until ${hhmm(e.until)} (quiet hours)`
    case "autoaction.awaiting_approval":
      return `${ruleOf(e)} waits for approval to run ${e.actionKey} on ${what(e)}`
    case "autoaction.approved":
      return `Approved by ${e.by}: ${ruleOf(e)} runs ${e.actionKey} on ${what(e)}`
    case "autoaction.rejected":
      return `Rejected by ${e.by}: ${ruleOf(e)} on ${what(e)}${e.reason === null ? "" : ` — ${e.reason}`}`
    case "autoaction.approval_expired":
      return `Nobody approved ${ruleOf(e)} on ${what(e)} in time: expired`
    case "autoaction.cancelled":
      return `Cancelled by ${e.by}: ${ruleOf(e)} on ${what(e)}, before its quiet hours ended`
  }
}

const describeRun = (e: ExecutionRunEvent): string => {
  switch (e.type) {
    case "autoaction.snapshot_taken":
      return `${ruleOf(e)} recorded ${what(e)} as it was, before running ${e.actionKey}`
    case "autoaction.applied":
      return `${ruleOf(e)} ran ${e.actionKey} on ${what(e)} (${e.triggerEvent}): ${e.summary}`
    case "autoaction.failed":
      return `${ruleOf(e)} could not run ${e.actionKey} on ${what(e)}: ${e.message}`
    case "autoaction.run_deferred":
      return `${ruleOf(e)} waits to run ${e.actionKey} on ${what(e)} until ${e.until} (${e.code}): ${e.message}`
    case "autoaction.undo_requested":
      return `Undo requested by ${e.by}${e.force ? " (forced)" : ""}: ${e.actionKey} on ${what(e)}`
    case "autoaction.undone":
      return `Undone by ${e.by}: ${what(e)} — ${e.summary}`
    case "autoaction.undo_failed":
      return e.code === "changed_since"
        ? `Undo by ${e.by} refused: ${what(e)} changed since ${e.actionKey} ran — ${e.message}`
        : `Undo by ${e.by} of ${e.actionKey} on ${what(e)} failed: ${e.message}`
  }
}

const TriggerSummary = Schema.Struct({
  trigger: Schema.Struct({
    event: Schema.String,
    resources: Schema.Array(Schema.Struct({ resourceId: Schema.String, payload: Schema.Unknown }))
  }),
  emittedBy: Schema.Struct({ kind: Schema.String, id: Schema.String })
})
const decodeTrigger = Schema.decodeUnknownResult(TriggerSummary)


const FROM: Readonly<Record<string, string>> = { detector: "detector", webhook: "a Shopify webhook", operator: "an operator" }

/** The line of a decision-plane event, or undefined for any other. */
export const describeAutomationEvent = (event: RecordedEvent): string | undefined => {
  if (event.type.startsWith("autoaction.")) {
    const e = decodeExecutionEvent(event.data)
    if (e !== undefined) return describeExecution(e)
    const r = decodeExecutionRunEvent(event.data)
    return r === undefined ? undefined : describeRun(r)
  }
  if (event.type === "trigger.received") {
    const t = decodeTrigger(event.data)
    if (Result.isFailure(t)) return undefined
    const [first, ...rest] = t.success.trigger.resources
    const about = first === undefined ? "" : ` about ${resourceLabelOf(first)}${rest.length > 0 ? ` and ${rest.length} more` : ""}`
    return `Trigger ${t.success.trigger.event}${about}, from ${FROM[t.success.emittedBy.kind] ?? t.success.emittedBy.kind} (${t.success.emittedBy.id})`
  }
  if (event.type.startsWith("rule.") && event.type !== "rule.command_rejected") {
    const r = decodeRuleEvent(event.data)
    if (r === undefined) return undefined
    const by = typeof (event.data as { requestedBy?: unknown }).requestedBy === "string" ? ` by ${(event.data as { requestedBy: string }).requestedBy}` : ""
    switch (r.type) {
      case "rule.created":
        return `Rule '${r.name}' created${by} (v1): ${r.actionKey} on ${r.triggerEvent}${r.enabled ? ", enabled" : ", not enabled yet"}`
      case "rule.updated":
        return `Rule '${r.name}' changed${by} (now v${r.version})`
      case "rule.enabled":
        return `Rule ${r.ruleId} enabled${by} (v${r.version})`
      case "rule.disabled":
        return `Rule ${r.ruleId} disabled${by} (v${r.version})`
      case "rule.deleted":
        return `Rule ${r.ruleId} deleted${by}`
    }
  }
  return undefined
}
