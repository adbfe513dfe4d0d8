/**
 * Triggers reach the shop's actor and are recorded there: `trigger.received` on the shop's
 * `triggers-<shop>` stream, with who emitted it. This is where the decision plane's dispatcher
 * runs the shop's rules on each trigger (issue 11 §3); the webhook handlers use the same
 * {@link triggerDecision} in-process for triggers they derive themselves (`product.published` /
 * `product.drafted`), so a trigger is handled the same way whichever way it came in.
 *
 * Emitting, for a detector outside the actor, is fire-and-forget: {@link emitTrigger} never
 * fails and never blocks its caller (the seed's emit site); a trigger that cannot be published
 * is logged and dropped — the detector runs again on its schedule.
 */
import { Effect } from "effect"
import { uuidV7Unsafe } from "effect/crypto/SecureRandom"
import type { NewEvent } from "../../domain/events/Envelope.ts"
import type { TriggerEvent } from "../../domain/automation/Triggers.ts"
import { encodeShopMessage, type TriggerEmitted, type TriggerEmitter } from "../../domain/messages/ShopMessages.ts"
import type { Decision, HandlerRegistry } from "../actors/ShopHandlers.ts"
import { ShopLog, type ShopLogUnavailable } from "../shoplog/ShopLog.ts"

export const TRIGGER_RECEIVED = "trigger.received"

/** The stream of a shop's triggers. */
export const triggerStreamId = (shop: string): string => `triggers-${shop}`

/** The event a received trigger becomes (its data is the emitted trigger itself). */
export const triggerReceivedEvent = (emitted: TriggerEmitted): NewEvent => ({
  type: TRIGGER_RECEIVED,
  data: emitted,
  occurredAt: new Date(emitted.emittedAt)
})

/** What the actor decides on a trigger: record it (and, with rules, dispatch it). */
export const triggerDecision = (shop: string, emitted: TriggerEmitted): Decision => ({
  appends: [{ streamId: triggerStreamId(shop), expected: "any", events: [triggerReceivedEvent(emitted)] }]
})

export const triggerHandlers = {
  "automation.trigger": (ctx) => Effect.succeed(triggerDecision(ctx.shop, ctx.message.payload))
} satisfies Partial<HandlerRegistry>

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
