/**
 * A shop's plan set by an operator (issue 11 §2: `sumeru shops plan <shop> <plan>`): the change
 * goes to the shop's actor, the single writer of its lifecycle, as `shop.set_plan`; the actor
 * decides it with the same lifecycle decider as a subscription webhook (`shop.plan_changed`,
 * source `operator`; the same plan again is no change). The requester waits, bounded, for the
 * shop's plan to read as asked — or hears that the change is queued (no worker running).
 */
import { Duration, Effect, Option } from "effect"
import { uuidV7Unsafe } from "effect/crypto/SecureRandom"
import { decideLifecycle, type ShopPlan } from "../../domain/shop/ShopLifecycle.ts"
import { encodeShopMessage } from "../../domain/messages/ShopMessages.ts"
import type { Decision, HandlerRegistry } from "../actors/ShopHandlers.ts"
import { EventStore } from "../eventstore/EventStore.ts"
import { awaitCommitted } from "../eventstore/LogWakeups.ts"
import { ShopLog } from "../shoplog/ShopLog.ts"
import { shopStreamId } from "./InstallHandlers.ts"
import { shopLifecycleFold } from "./ShopLifecycleFold.ts"

export const makePlanHandlers = Effect.gen(function*() {
  const store = yield* EventStore
  return {
    "shop.set_plan": (ctx) =>
      Effect.gen(function*() {
        const { plan, by } = ctx.message.payload
        const { state } = yield* store.loadFold(shopStreamId(ctx.shop), shopLifecycleFold)
        const decided = decideLifecycle({ type: "SetPlan", plan, source: "operator", subscription: null, setBy: by, occurredAt: new Date() }, state)
        const decision: Decision = {
          appends: decided.events.length === 0
            ? []
            : [{ streamId: shopStreamId(ctx.shop), expected: "any", events: decided.events.map((e) => ({ type: e.type, data: e.data, occurredAt: e.occurredAt })) }]
        }
        return decision
      })
  } satisfies Partial<HandlerRegistry>
})

export type PlanOutcome = { readonly _tag: "Set"; readonly previous: ShopPlan } | { readonly _tag: "Pending" }

/** Sends the plan change to the shop's actor and waits (at most `wait`) until the shop is on `plan`. */
export const submitPlan = (shop: string, plan: ShopPlan, by: string, wait: Duration.Input = Duration.seconds(10)) =>
  Effect.gen(function*() {
    const store = yield* EventStore
    const log = yield* ShopLog
    const commandId = uuidV7Unsafe()
    const { state: before } = yield* store.loadFold(shopStreamId(shop), shopLifecycleFold)
    yield* log.publish({
      shop,
      messageId: `plan:${commandId}`,
      ...encodeShopMessage({ type: "shop.set_plan", payload: { commandId, plan, by } }),
      correlationId: commandId
    })
    const outcome = Effect.map(store.loadFold(shopStreamId(shop), shopLifecycleFold), ({ state }) =>
      state.plan === plan ? Option.some<PlanOutcome>({ _tag: "Set", previous: before.plan }) : Option.none<PlanOutcome>())
    return yield* awaitCommitted(outcome, wait).pipe(Effect.map(Option.getOrElse((): PlanOutcome => ({ _tag: "Pending" }))))
  })
