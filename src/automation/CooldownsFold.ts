/**
 * When each (rule, resource) of a shop last executed — the dispatcher's cooldown memory — as a
 * snapshot-able fold of the shop's `automation-<shop>` stream (`domain/automation/Executions.ts`).
 */
import { Schema } from "effect"
import { decodeExecutionEvent, evolveCooldowns } from "../../domain/automation/Executions.ts"
import type { Fold } from "../eventstore/EventStore.ts"

export const COOLDOWNS_FOLD_VERSION = 1

export const automationStreamId = (shop: string): string => `automation-${shop}`

/** (rule, resource) key → epoch ms of its last execution. */
export type CooldownState = Readonly<Record<string, number>>

export const cooldownsFold: Fold<CooldownState> = {
  name: "cooldowns",
  version: COOLDOWNS_FOLD_VERSION,
  initial: () => ({}),
  evolve: (state, event) => {
    const e = decodeExecutionEvent(event.data)
    if (e === undefined) return state
    const next = evolveCooldowns(new Map(Object.entries(state)), e, event.occurredAt.getTime())
    return next.size === Object.keys(state).length && [...next].every(([k, v]) => state[k] === v) ? state : Object.fromEntries(next)
  },
  schema: Schema.Record(Schema.String, Schema.Number)
}
