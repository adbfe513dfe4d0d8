/**
 * ★ "Why did this happen?" (issue 11 §7): the causation chain of an execution, oldest first —
 * what came in (a Shopify webhook delivery, an operator, a detector), the data event it made,
 * the trigger, the rule at the version that ran (with its condition), and every step of the
 * execution and of its run (snapshot, action, undo) — each with its time, actor and a plain-language summary. Built from the streams
 * the events already live on and the ids they carry (trigger id, rule id and version, the
 * webhook's message id as the causation of what it appended).
 */
import { Effect, Option, Stream } from "effect"
import { describeAutomationEvent } from "../../domain/audit/automation.ts"
import { describeDataPlaneEvent } from "../../domain/audit/dataPlane.ts"
import { describeEvent } from "../../domain/audit/describeEvent.ts"
import type { RecordedEvent } from "../../domain/events/Envelope.ts"
import { executionRunStreamId } from "../../domain/automation/ExecutionRuns.ts"
import { productStreamId } from "../../domain/shopify/webhookRecords.ts"
import { EventStore } from "../eventstore/EventStore.ts"
import { automationStreamId } from "./AutomationFold.ts"
import { rulesStreamId } from "./RulesFold.ts"
import { TRIGGER_RECEIVED, triggerStreamId } from "./TriggerHandlers.ts"

export interface WhyLink {
  readonly kind: "origin" | "data_event" | "trigger" | "rule" | "execution"
  readonly id: string
  readonly type: string
  readonly at: string
  readonly actor: string
  readonly summary: string
}

const summaryOf = (e: RecordedEvent): string => describeAutomationEvent(e) ?? describeDataPlaneEvent(e) ?? describeEvent(e)

const link = (kind: WhyLink["kind"], id: string, e: RecordedEvent): WhyLink => ({
  kind,
  id,
  type: e.type,
  at: e.occurredAt.toISOString(),
  actor: `${e.actor.kind}:${e.actor.id}`,
  summary: summaryOf(e)
})

const field = (e: RecordedEvent, name: string): unknown =>
  typeof e.data === "object" && e.data !== null ? (e.data as Record<string, unknown>)[name] : undefined

/** The product stream a product resource's gid names (the data event of a product trigger). */
const productStreamOf = (shop: string, resourceId: string): string | undefined => {
  const id = /^gid:\/\/shopify\/Product\/(\d+)$/.exec(resourceId)?.[1]
  return id === undefined ? undefined : productStreamId(shop, id)
}

/** The chain of `executionId`, oldest first; None when the shop has no such execution. */
export const whyExecution = (shop: string, executionId: string) =>
  Effect.gen(function*() {
    const store = yield* EventStore
    const all = (streamId: string) => Effect.map(Stream.runCollect(store.readStream(streamId)), (c) => [...c])
    /** The first event of a stream that `found` accepts, reading no further than it. */
    const firstOf = (streamId: string, found: (e: RecordedEvent) => boolean) =>
      Effect.map(Stream.runHead(Stream.filter(store.readStream(streamId), found)), Option.getOrUndefined)
    const steps = (yield* all(automationStreamId(shop))).filter((e) => field(e, "executionId") === executionId)
    const first = steps[0]
    if (first === undefined) return Option.none<ReadonlyArray<WhyLink>>()
    const triggerId = String(field(first, "triggerId"))
    const ruleId = String(field(first, "ruleId"))
    const ruleVersion = Number(field(first, "ruleVersion"))
    const chain: Array<WhyLink> = []

    const trigger = yield* firstOf(triggerStreamId(shop), (e) => e.type === TRIGGER_RECEIVED && field(e, "triggerId") === triggerId)
    if (trigger !== undefined) {
      const emittedBy = field(trigger, "emittedBy") as { kind?: string; id?: string } | undefined
      const who = emittedBy?.id ?? "?"
      chain.push({
        kind: "origin",
        id: emittedBy?.id ?? trigger.causationId ?? triggerId,
        type: emittedBy?.kind === "webhook" ? "shopify.webhook" : emittedBy?.kind === "operator" ? "operator.emit" : "detector",
        at: trigger.occurredAt.toISOString(),
        actor: `${emittedBy?.kind ?? "unknown"}:${who}`,
        summary: emittedBy?.kind === "webhook"
          ? `Shopify delivered ${who.split(":")[1] ?? "a webhook"}`
          : emittedBy?.kind === "operator" ? `${who} emitted the trigger by hand` : `detector ${who} found it`
      })
      // the data event the same delivery appended (its causation is the same message)
      const resources = (field(trigger, "trigger") as { resources?: ReadonlyArray<{ resourceId?: string }> } | undefined)?.resources ?? []
      const stream = resources[0]?.resourceId === undefined ? undefined : productStreamOf(shop, resources[0].resourceId)
      if (emittedBy?.kind === "webhook" && stream !== undefined) {
        const data = yield* firstOf(stream, (e) => e.causationId !== null && e.causationId === trigger.causationId)
        if (data !== undefined) chain.push(link("data_event", data.eventId, data))
      }
      chain.push(link("trigger", triggerId, trigger))
    }
    const rule = (yield* all(rulesStreamId(shop))).filter((e) => field(e, "ruleId") === ruleId && Number(field(e, "version")) <= ruleVersion)
      .filter((e) => e.type === "rule.created" || e.type === "rule.updated")
      .at(-1)
    if (rule !== undefined) {
      const condition = field(rule, "condition")
      chain.push({
        ...link("rule", `${ruleId}@v${ruleVersion}`, rule),
        summary: `${summaryOf(rule)}; condition: ${typeof condition === "string" ? condition : "none (always)"}`
      })
    }
    for (const s of steps) chain.push(link("execution", executionId, s))
    // the run: its snapshot, what the action did (or why it failed), and any undo
    for (const s of yield* all(executionRunStreamId(shop, executionId))) chain.push(link("execution", executionId, s))
    return Option.some<ReadonlyArray<WhyLink>>(chain)
  })
