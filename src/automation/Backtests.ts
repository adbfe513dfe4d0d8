/**
 * ★ Backtest a rule (issue 11 §6) over the shop's recorded triggers: the `trigger.received`
 * events of `triggers-<shop>` in a window, replayed in event time through the same `dispatch`
 * live dispatch runs (`domain/automation/Backtest.ts`), with the same CEL conditions and shop
 * defaults. Reads the event store; calls no action, no Shopify, nothing else.
 */
import { Effect, Schema, Stream } from "effect"
import { backtest, type StoredTrigger } from "../../domain/automation/Backtest.ts"
import type { ActiveRule } from "../../domain/automation/Dispatch.ts"
import type { ExistingRule } from "../../domain/automation/Rules.ts"
import { TriggerEmitted } from "../../domain/messages/ShopMessages.ts"
import { EventStore } from "../eventstore/EventStore.ts"
import { shopAutomationContext } from "./ShopDefaults.ts"
import { evaluateWithCel, TRIGGER_RECEIVED, triggerStreamId } from "./TriggerHandlers.ts"

const decodeEmitted = Schema.decodeUnknownOption(TriggerEmitted)

export const backtestRule = (shop: string, rule: ExistingRule, window: { readonly from: Date; readonly to: Date }) =>
  backtestSpec(shop, { ruleId: rule.ruleId, version: rule.version, spec: rule }, window)

/** The same for rule settings that are not (yet) a rule of the shop: a draft, a recommendation. */
export const backtestSpec = (shop: string, rule: ActiveRule, window: { readonly from: Date; readonly to: Date }) =>
  Effect.gen(function*() {
    const store = yield* EventStore
    const events = yield* Stream.runCollect(store.readStream(triggerStreamId(shop), { until: window.to }))
    const stored: Array<StoredTrigger> = []
    for (const e of events) {
      if (e.type !== TRIGGER_RECEIVED || e.occurredAt < window.from) continue
      const emitted = decodeEmitted(e.data)
      if (emitted._tag === "None") continue
      stored.push({ triggerId: emitted.value.triggerId, at: Date.parse(emitted.value.emittedAt), trigger: emitted.value.trigger })
    }
    // today's plan and zone: the question is what this rule would do as the shop stands
    const context = yield* shopAutomationContext(shop)
    return backtest(rule, stored, {
      ...context,
      evaluate: evaluateWithCel(shop, context),
      endAt: window.to.getTime()
    })
  })
