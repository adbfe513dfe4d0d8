/**
 * What the decision plane knows of a shop when it validates and dispatches rules: its plan, from
 * its lifecycle (`shop.plan_changed`: an `app_subscriptions/update` webhook, or an operator;
 * `free` until then), and its IANA time zone, also from its lifecycle (`shop.timezone_changed`:
 * the `iana_timezone` of a `shop/update` webhook; UTC until one is known). Quiet hours are read
 * in that zone. One place, so the rule validator, the dispatcher and backtests agree; inside the
 * shop's actor it is read from the actor's memory once folded (`ActorFolds.ts`).
 */
import { Effect } from "effect"
import type { Plan } from "../../domain/automation/Actions.ts"
import { shopStreamId } from "../app/InstallHandlers.ts"
import { shopLifecycleFold } from "../app/ShopLifecycleFold.ts"
import { loadFolded } from "../actors/ActorFolds.ts"

export interface ShopAutomationContext {
  readonly plan: Plan
  readonly timeZone: string
}

/** The zone of a shop whose zone Shopify has not told us yet. */
export const DEFAULT_TIME_ZONE = "UTC"

/** The shop's plan and time zone, as its lifecycle stream says now. */
export const shopAutomationContext = (shop: string) =>
  Effect.gen(function*() {
    const { state } = yield* loadFolded(shopStreamId(shop), shopLifecycleFold)
    return { plan: state.plan, timeZone: state.timeZone ?? DEFAULT_TIME_ZONE } satisfies ShopAutomationContext
  })
