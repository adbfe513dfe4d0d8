/**
 * The shop's next best actions (issue 13 §5): the triggers its detectors reported over the last
 * 30 days, against the rules it already has, through the catalog of suggestions
 * (`domain/intelligence/recommendations.ts`); each suggestion with the backtest of its rule over
 * the same 30 days by the decision plane (`Backtests.ts`): how often it would have fired, on what,
 * and what would have skipped it. Reads the event store only.
 */
import { Effect, Schema, Stream } from "effect"
import type { RuleSpec } from "../../domain/automation/Rules.ts"
import { type SeenTrigger, suggest, type Suggestion } from "../../domain/intelligence/recommendations.ts"
import { TriggerEmitted } from "../../domain/messages/ShopMessages.ts"
import { backtestSpec } from "../automation/Backtests.ts"
import { readRules } from "../automation/RuleCommands.ts"
import { TRIGGER_RECEIVED, triggerStreamId } from "../automation/TriggerHandlers.ts"
import { EventStore } from "../eventstore/EventStore.ts"

const WINDOW_MS = 30 * 86_400_000
const decodeEmitted = Schema.decodeUnknownOption(TriggerEmitted)

/** The rule a suggestion would create: disabled, no condition, no cooldown, the suggested params. */
export const suggestedRule = (s: Suggestion, params: Readonly<Record<string, unknown>> = s.params): RuleSpec & { readonly enabled: false } => ({
  name: s.ruleName,
  triggerEvent: s.triggerEvent,
  actionKey: s.actionKey,
  params,
  condition: null,
  cooldownSeconds: 0,
  quietHours: null,
  requiresApproval: false,
  enabled: false
})

export interface Recommendation extends Suggestion {
  readonly backtest: {
    readonly from: string
    readonly to: string
    readonly fires: number
    readonly resources: number
    readonly skipped: Readonly<Record<string, number>>
  }
}

/** The shop's suggestions over the 30 days to `now`, without their backtests (what accepting one needs). */
export const suggestionsFor = (shop: string, now: Date) =>
  Effect.gen(function*() {
    const store = yield* EventStore
    const from = new Date(now.getTime() - WINDOW_MS)
    const events = yield* Stream.runCollect(store.readStream(triggerStreamId(shop), { until: now }))
    const seen: Array<SeenTrigger> = []
    for (const e of events) {
      if (e.type !== TRIGGER_RECEIVED || e.occurredAt < from) continue
      const emitted = decodeEmitted(e.data)
      if (emitted._tag === "None") continue
      seen.push({ event: emitted.value.trigger.event, at: Date.parse(emitted.value.emittedAt), resources: emitted.value.trigger.resources })
    }
    const { rules } = yield* readRules(shop)
    const covered = new Set(Object.values(rules).filter((r) => !r.deleted).map((r) => r.triggerEvent))
    return suggest(seen, covered)
  })

/** The suggestions, each with the backtest of its rule over the same 30 days. */
export const recommendationsFor = (shop: string, now: Date) =>
  Effect.gen(function*() {
    const from = new Date(now.getTime() - WINDOW_MS)
    return yield* Effect.forEach(yield* suggestionsFor(shop, now), (s) =>
      Effect.map(backtestSpec(shop, { ruleId: s.id, version: 0, spec: suggestedRule(s) }, { from, to: now }), (b): Recommendation => ({
        ...s,
        backtest: { from: from.toISOString(), to: now.toISOString(), fires: b.fires.length, resources: new Set(b.fires.map((f) => f.resourceId)).size, skipped: b.skipped }
      })))
  })
