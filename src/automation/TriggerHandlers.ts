/**
 * Triggers reach the shop's actor and are recorded there: `trigger.received` on the shop's
 * `triggers-<shop>` stream, with who emitted it. This is where the decision plane's dispatcher
 * runs the shop's rules on each trigger (issue 11 §3); the webhook handlers use the same
 * {@link decideTrigger} in-process for triggers they derive themselves (`product.published` /
 * `product.drafted`), so a trigger is handled the same way whichever way it came in.
 *
 * Emitting, for a detector outside the actor, is fire-and-forget: {@link emitTrigger} never
 * fails and never blocks its caller (the seed's emit site); a trigger that cannot be published
 * is logged and dropped — the detector runs again on its schedule.
 */
import { Context, Duration, Effect, Option, Result } from "effect"
import { uuidV7Unsafe } from "effect/crypto/SecureRandom"
import type { NewEvent } from "../../domain/events/Envelope.ts"
import { type ActiveRule, dispatch, type Resource } from "../../domain/automation/Dispatch.ts"
import { type ApprovalDecision, decideApproval, decideCancel, executionEvents, type ExecutionEvent, requestedRunOf } from "../../domain/automation/Executions.ts"
import { executionRunStreamId } from "../../domain/automation/ExecutionRuns.ts"
import { activeRules, type ExistingRule } from "../../domain/automation/Rules.ts"
import { narrowedTo, type TriggerEvent } from "../../domain/automation/Triggers.ts"
import { encodeShopMessage, type TriggerEmitted, type TriggerEmitter } from "../../domain/messages/ShopMessages.ts"
import { keepNewStream, loadFolded } from "../actors/ActorFolds.ts"
import type { Decision, HandlerRegistry } from "../actors/ShopHandlers.ts"
import { EventStore, type PersistenceError } from "../eventstore/EventStore.ts"
import { ShopLog, type ShopLogUnavailable } from "../shoplog/ShopLog.ts"
import { makeExecutionRunner, RunStarter, startByTimers } from "./ExecutionRunner.ts"
import { checkCondition, describeConditionError, evaluateCondition } from "./Conditions.ts"
import { automationFold, automationStreamId } from "./AutomationFold.ts"
import { executionRunFold } from "./ExecutionRunFold.ts"
import { shopAutomationContext, type ShopAutomationContext } from "./ShopDefaults.ts"
import { rulesFold, rulesStreamId } from "./RulesFold.ts"

export const TRIGGER_RECEIVED = "trigger.received"

/** The stream of a shop's triggers. */
export const triggerStreamId = (shop: string): string => `triggers-${shop}`

/** The event a received trigger becomes (its data is the emitted trigger itself). */
const triggerReceivedEvent = (emitted: TriggerEmitted): NewEvent => ({
  type: TRIGGER_RECEIVED,
  data: emitted,
  occurredAt: new Date(emitted.emittedAt)
})

/** A rule's condition on one resource, in CEL (`Conditions.ts`); an error says why. */
export const evaluateWithCel = (shop: string, context: ShopAutomationContext) => (rule: ActiveRule, trigger: TriggerEvent, resource: Resource): Result.Result<boolean, string> => {
  if (rule.spec.condition === null) return Result.succeed(true)
  const compiled = checkCondition(rule.spec.condition, trigger.event)
  if (Result.isFailure(compiled)) return Result.fail(compiled.failure.map(describeConditionError).join("; "))
  const { resources: _resources, ...event } = trigger
  return Result.mapError(
    evaluateCondition(compiled.success, { event, resource, shop: { domain: shop, ...context } }),
    describeConditionError
  )
}

/**
 * What the actor decides on a trigger: record it, and dispatch it to the shop's enabled rules
 * (`domain/automation/Dispatch.ts`) — every outcome an event on `automation-<shop>` with its
 * reason; a quiet-hours deferral sets a durable timer that re-checks it when the window ends.
 */
export const decideTrigger = (shop: string, emitted: TriggerEmitted): Effect.Effect<Decision, PersistenceError, EventStore> =>
  Effect.gen(function*() {
    const received = { streamId: triggerStreamId(shop), expected: "any" as const, events: [triggerReceivedEvent(emitted)] }
    const { state: rules } = yield* loadFolded(rulesStreamId(shop), rulesFold)
    const listening = activeRules(rules).filter((r) => r.triggerEvent === emitted.trigger.event)
    if (listening.length === 0) return { appends: [received] }
    return yield* dispatchTo(shop, emitted, listening, [received])
  })

/** Dispatches `emitted` to `rules` and records the outcomes (after `appends`). */
const dispatchTo = (
  shop: string,
  emitted: TriggerEmitted,
  rules: ReadonlyArray<ExistingRule>,
  appends: Decision["appends"],
  executionIdOf?: (executionId: string) => string
): Effect.Effect<Decision, PersistenceError, EventStore> =>
  Effect.gen(function*() {
    const { state: automation, version } = yield* loadFolded(automationStreamId(shop), automationFold)
    const context = yield* shopAutomationContext(shop)
    const out = dispatch(
      emitted.trigger,
      rules.map((r): ActiveRule => ({ ruleId: r.ruleId, version: r.version, spec: r })),
      new Map(Object.entries(automation.cooldowns)),
      { triggerId: emitted.triggerId, now: Date.parse(emitted.emittedAt), ...context, evaluate: evaluateWithCel(shop, context) }
    )
    const outcomes = executionIdOf === undefined ? out.outcomes : out.outcomes.map((o) => ({ ...o, executionId: executionIdOf(o.executionId) }))
    const { event: _event, resources: _resources, ...fields } = emitted.trigger
    const events = executionEvents(outcomes, { triggerId: emitted.triggerId, event: emitted.trigger.event, fields })
    const started = yield* runsStarted(shop, events)
    const ttl = yield* ApprovalTtl
    const expiries = outcomes.flatMap((o) =>
      o.kind !== "awaiting_approval" ? [] : [{
        id: `automation.approval_expiry:${o.executionId}`,
        at: new Date(Date.parse(emitted.emittedAt) + Duration.toMillis(ttl)),
        ...encodeShopMessage({ type: "automation.approval_expiry", payload: { executionId: o.executionId } })
      }]
    )
    const rechecks = outcomes.flatMap((o) => {
      const narrowed = o.kind === "deferred" ? narrowedTo(emitted.trigger, o.resourceId) : undefined
      if (o.kind !== "deferred" || narrowed === undefined) return []
      const recheck = { ...emitted, trigger: narrowed }
      return [{
        id: `automation.recheck:${o.executionId}`,
        at: new Date(o.until),
        ...encodeShopMessage({ type: "automation.recheck", payload: { executionId: o.executionId, ruleId: o.ruleId, emitted: recheck } })
      }]
    })
    return {
      appends: [...appends, {
        streamId: automationStreamId(shop),
        expected: version === 0 ? "no_stream" as const : version,
        events: events.map((e) => ({ type: e.type, data: e, occurredAt: new Date(emitted.emittedAt) }))
      }],
      schedule: [...rechecks, ...expiries, ...started.schedule],
      afterCommit: started.afterCommit
    }
  })

/**
 * The runs `events` request, started (`ExecutionRunner.ts`): by this process's runner, else by
 * durable timers. A requested run's stream is empty until its first step reports, so the
 * actor is told so and that report's handler does not read it.
 */
const runsStarted = (shop: string, events: ReadonlyArray<ExecutionEvent>) =>
  Effect.gen(function*() {
    const starter = yield* Effect.serviceOption(RunStarter)
    const runs = events.flatMap((e) => {
      const run = requestedRunOf(e)
      return run === undefined ? [] : [run]
    })
    for (const run of runs) yield* keepNewStream(executionRunStreamId(shop, run.executionId), executionRunFold)
    return runs.length === 0 ? startByTimers([]) : Option.isSome(starter) ? starter.value.start(shop, runs) : startByTimers(runs)
  })

/** How long a parked execution waits for a person before it expires (default 72 hours). */
export const ApprovalTtl = Context.Reference<Duration.Duration>("sumeru/automation/ApprovalTtl", {
  defaultValue: () => Duration.hours(72)
})

/** Ends a waiting approval: approved (then requested), rejected, or expired; nothing if it is not waiting. */
const answerApproval = (shop: string, executionId: string, decision: ApprovalDecision): Effect.Effect<Decision, PersistenceError, EventStore> =>
  Effect.gen(function*() {
    const { state, version } = yield* loadFolded(automationStreamId(shop), automationFold)
    const events = decideApproval(state.awaiting[executionId], decision)
    const started = yield* runsStarted(shop, events)
    const decided: Decision = {
      appends: events.length === 0 ? [] : [{
        streamId: automationStreamId(shop),
        expected: version === 0 ? "no_stream" : version,
        events: events.map((e) => ({ type: e.type, data: e }))
      }],
      cancelTimers: decision.kind === "expire" ? [] : [`automation.approval_expiry:${executionId}`],
      schedule: started.schedule,
      afterCommit: started.afterCommit
    }
    return decided
  })

export const makeTriggerHandlers = Effect.gen(function*() {
  const store = yield* EventStore
  const runner = yield* makeExecutionRunner
  const withStore = <A, E>(effect: Effect.Effect<A, E, EventStore>) =>
    effect.pipe(Effect.provideService(EventStore, store), Effect.provideService(RunStarter, runner.starter))
  return {
    ...runner.handlers,
    "automation.trigger": (ctx) => withStore(decideTrigger(ctx.shop, ctx.message.payload)),
    "automation.approval": (ctx) => {
      const a = ctx.message.payload
      return withStore(answerApproval(ctx.shop, a.executionId, a.decision === "approve" ? { kind: "approve", by: a.by } : { kind: "reject", by: a.by, reason: a.reason }))
    },
    "automation.approval_expiry": (ctx) => withStore(answerApproval(ctx.shop, ctx.message.payload.executionId, { kind: "expire" })),
    // a person cancels an execution still deferred by quiet hours: recorded, and its recheck timer cancelled
    "automation.cancel": (ctx) =>
      Effect.gen(function*() {
        const { executionId, by } = ctx.message.payload
        const { state, version } = yield* withStore(loadFolded(automationStreamId(ctx.shop), automationFold))
        const events = decideCancel(state.deferred[executionId], by)
        const decision: Decision = events.length === 0 ? { appends: [] } : {
          appends: [{ streamId: automationStreamId(ctx.shop), expected: version === 0 ? "no_stream" : version, events: events.map((e) => ({ type: e.type, data: e })) }],
          cancelTimers: [`automation.recheck:${executionId}`]
        }
        return decision
      }),
    // a quiet-hours deferral's timer: the rule is checked again now, under the same execution id
    "automation.recheck": (ctx) =>
      withStore(Effect.gen(function*() {
        const { executionId, ruleId, emitted } = ctx.message.payload
        const { state: automation } = yield* loadFolded(automationStreamId(ctx.shop), automationFold)
        if (automation.deferred[executionId] === undefined) return { appends: [] } as Decision // cancelled (or decided) meanwhile
        const { state: rules } = yield* loadFolded(rulesStreamId(ctx.shop), rulesFold)
        const rule = activeRules(rules).find((r) => r.ruleId === ruleId)
        const nothing: Decision = { appends: [] }
        if (rule === undefined) return nothing // disabled or deleted meanwhile
        return yield* dispatchTo(ctx.shop, { ...emitted, emittedAt: new Date(ctx.message.publishedAt ?? Date.now()).toISOString() }, [rule], [], () => executionId)
      }))
  } satisfies Partial<HandlerRegistry>
})

/** A new trigger, stamped now. */
export const newTrigger = (trigger: TriggerEvent, emittedBy: TriggerEmitter): TriggerEmitted => ({
  triggerId: uuidV7Unsafe(),
  trigger,
  emittedAt: new Date().toISOString(),
  emittedBy
})

/** Publishes a trigger to the shop's actor; resolves once durable (the message id is the trigger id). */
export const publishTrigger = (shop: string, emitted: TriggerEmitted): Effect.Effect<{ readonly duplicate: boolean }, ShopLogUnavailable, ShopLog> =>
  Effect.flatMap(ShopLog, (log) =>
    log.publish({
      shop,
      messageId: `trigger:${emitted.triggerId}`,
      ...encodeShopMessage({ type: "automation.trigger", payload: emitted }),
      correlationId: emitted.triggerId
    }))

/** Fire-and-forget for detectors: never fails, never blocks beyond the publish itself. */
export const emitTrigger = (shop: string, trigger: TriggerEvent, emittedBy: TriggerEmitter): Effect.Effect<void, never, ShopLog> =>
  publishTrigger(shop, newTrigger(trigger, emittedBy)).pipe(
    Effect.asVoid,
    Effect.catchCause((cause) => Effect.logWarning(`trigger ${trigger.event} of ${shop} not emitted (the detector carries on)`, cause))
  )
