/**
 * A shop's automation state, as a snapshot-able fold of its `automation-<shop>` stream
 * (`domain/automation/Executions.ts`): when each (rule, resource) last executed — the
 * dispatcher's cooldown memory — and the approvals still waiting for a person.
 */
import { Schema } from "effect"
import {
  type AwaitingApproval,
  AwaitingApprovalEvent,
  cooldownStartedBy,
  decodeExecutionEvent,
  DeferredEvent,
  type DeferredExecution
} from "../../domain/automation/Executions.ts"
import type { AppendFold } from "../eventstore/EventStore.ts"

export const AUTOMATION_FOLD_VERSION = 2

export const automationStreamId = (shop: string): string => `automation-${shop}`

export interface AutomationState {
  /** (rule, resource) key → epoch ms of its last execution. */
  readonly cooldowns: Readonly<Record<string, number>>
  /** Execution id → the parked execution, while it waits for approval. */
  readonly awaiting: Readonly<Record<string, AwaitingApproval>>
  /** Execution id → its deferral, while it waits for quiet hours to end (a person may cancel it). */
  readonly deferred: Readonly<Record<string, DeferredExecution>>
}

export const automationFold: AppendFold<AutomationState> = {
  name: "automation",
  version: AUTOMATION_FOLD_VERSION,
  initial: () => ({ cooldowns: {}, awaiting: {}, deferred: {} }),
  evolve: (state, event) => {
    const e = decodeExecutionEvent(event.data)
    if (e === undefined) return state
    const key = cooldownStartedBy(e)
    const cooldowns = key === undefined ? state.cooldowns : { ...state.cooldowns, [key]: event.occurredAt.getTime() }
    let awaiting = state.awaiting
    if (e.type === "autoaction.awaiting_approval") awaiting = { ...awaiting, [e.executionId]: e }
    else if ((e.type === "autoaction.approved" || e.type === "autoaction.rejected" || e.type === "autoaction.approval_expired") && e.executionId in awaiting) {
      const { [e.executionId]: _ended, ...rest } = awaiting
      awaiting = rest
    }
    // a deferral waits until its execution's next outcome (run, skip, park, cancel, or another deferral)
    let deferred = state.deferred
    if (e.type === "autoaction.deferred") deferred = { ...deferred, [e.executionId]: e }
    else if (e.executionId in deferred) {
      const { [e.executionId]: _ended, ...rest } = deferred
      deferred = rest
    }
    return cooldowns === state.cooldowns && awaiting === state.awaiting && deferred === state.deferred ? state : { cooldowns, awaiting, deferred }
  },
  schema: Schema.Struct({
    cooldowns: Schema.Record(Schema.String, Schema.Number),
    awaiting: Schema.Record(Schema.String, AwaitingApprovalEvent),
    deferred: Schema.Record(Schema.String, DeferredEvent)
  })
}
