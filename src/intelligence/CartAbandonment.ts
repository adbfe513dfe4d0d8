/**
 * The cart-abandonment detector in the shop's actor (`domain/intelligence/cartAbandonment.ts`):
 * the checkout webhooks set, move and cancel each checkout's durable timer
 * ({@link cartAbandonmentTimers}, called by the webhook handlers in the same commit as the
 * checkout's event); the timer's `checkout.abandon_check` decides the
 * `sales.cart_abandoned_threshold` trigger for the shop's rules in the commit that handles it.
 * The window and the threshold are the shop's detector settings (`cartAbandonment`, defaults
 * `CART_ABANDON_MINUTES` / `CART_ABANDON_MIN_VALUE`), read when a checkout's webhook sets its timer.
 */
import { Effect, Stream } from "effect"
import {
  abandonedCheckoutTrigger,
  cartAbandonTimerId,
  type CartAbandonmentSettings,
  watchCheckout
} from "../../domain/intelligence/cartAbandonment.ts"
import { encodeShopMessage } from "../../domain/messages/ShopMessages.ts"
import type { Decision, HandlerRegistry } from "../actors/ShopHandlers.ts"
import { TransientFailure } from "../actors/ShopHandlers.ts"
import { RunStarter } from "../automation/ExecutionRunner.ts"
import { decideTrigger, newTrigger } from "../automation/TriggerHandlers.ts"
import { EventStore } from "../eventstore/EventStore.ts"

/** The timer change a checkout's webhook makes (merged into its decision): set, moved or cancelled. */
export const checkoutAbandonmentTimers = (
  settings: CartAbandonmentSettings,
  checkout: { readonly token: string; readonly totalPrice: string | null; readonly currency: string | null; readonly completedAt: string | null; readonly updatedAt: string }
): Pick<Decision, "schedule" | "cancelTimers"> => {
  const watch = watchCheckout(checkout, settings)
  return watch._tag === "Stop"
    ? { cancelTimers: [cartAbandonTimerId(checkout.token)] }
    : { schedule: [{ id: cartAbandonTimerId(checkout.token), at: watch.at, ...encodeShopMessage({ type: "checkout.abandon_check", payload: watch.check }) }] }
}

/** An order cancels its checkout's timer (merged into its decision). */
export const orderAbandonmentTimers = (checkoutToken: string | null): Pick<Decision, "cancelTimers"> =>
  checkoutToken === null ? {} : { cancelTimers: [cartAbandonTimerId(checkoutToken)] }

export const makeCartAbandonmentHandlers = Effect.gen(function*() {
  const store = yield* EventStore
  const starter = yield* Effect.serviceOption(RunStarter)
  return {
    "checkout.abandon_check": (ctx) =>
      Effect.gen(function*() {
        const check = ctx.message.payload
        // the timer moves with every change; one that fires anyway about an older version is stale
        const events = [...yield* Stream.runCollect(store.readStream(`checkout-${ctx.shop}-${check.checkoutToken}`))]
        const latest = events.at(-1)?.data as { readonly updated_at?: string } | undefined
        if (latest?.updated_at !== undefined && Date.parse(latest.updated_at) > Date.parse(check.abandonedAt)) return { appends: [] }
        const trigger = newTrigger(abandonedCheckoutTrigger(check) as never, { kind: "detector", id: "cart-abandonment" })
        const decided: Decision = yield* decideTrigger(ctx.shop, trigger).pipe(
          Effect.provideService(EventStore, store),
          (e) => (starter._tag === "Some" ? Effect.provideService(e, RunStarter, starter.value) : e)
        )
        return decided
      }).pipe(Effect.catchTag("PersistenceError", (e) => Effect.fail(new TransientFailure({ reason: `event store: ${e.operation}` }))))
  } satisfies Partial<HandlerRegistry>
})
