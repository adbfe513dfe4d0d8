/**
 * The app's lifecycle on a shop, as events on the shop's `shop-<shop>` stream. An install
 * (authorization code grant or token exchange, `adapters/http/OAuthRoutes.ts`) has already
 * stored the shop's token when its `shopify.app_installed` message arrives; the actor records
 * `shop.installed { scopes, method, installedAt }`. The event never carries the token: the
 * message does not have it, and only these three fields are copied.
 *
 * The rules are the lifecycle decider's (`domain/shop/ShopLifecycle.ts`); `app/uninstalled` →
 * `shop.uninstalled` is handled with the webhooks, on the same stream.
 */
import { Effect, Result } from "effect"
import { decideInstall } from "../../domain/shop/ShopLifecycle.ts"
import { type HandlerRegistry, PermanentFailure } from "../actors/ShopHandlers.ts"

/** The stream of a shop's lifecycle (installs, uninstalls). */
export const shopStreamId = (shop: string): string => `shop-${shop}`

export const installHandlers = {
  "shopify.app_installed": (ctx) =>
    Effect.gen(function*() {
      const decided = decideInstall(ctx.message.payload)
      if (Result.isFailure(decided)) return yield* new PermanentFailure({ reason: decided.failure.reason })
      const event = decided.success
      return { appends: [{ streamId: shopStreamId(ctx.shop), expected: "any" as const, events: [event] }] }
    })
} satisfies Partial<HandlerRegistry>
