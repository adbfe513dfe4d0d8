/**
 * The app's lifecycle on a shop, as events on the shop's `shop-<shop>` stream. An install
 * (authorization code grant or token exchange, `adapters/http/OAuthRoutes.ts`) has already
 * stored the shop's token when its `shopify.app_installed` message arrives; the actor records
 * `shop.installed { scopes, method, installedAt }`. The event never carries the token: the
 * message does not have it, and only these three fields are copied.
 *
 * (`app/uninstalled` → `shop.uninstalled` lives with the webhook handlers, on the same stream.)
 */
import { Effect } from "effect"
import { type HandlerRegistry, PermanentFailure } from "../actors/ShopHandlers.ts"

export const APP_INSTALLED_MESSAGE = "shopify.app_installed"
export const SHOP_INSTALLED_EVENT = "shop.installed"

/** The stream of a shop's lifecycle (installs, uninstalls). */
export const shopStreamId = (shop: string): string => `shop-${shop}`

/** Data of a `shop.installed` event. */
export interface ShopInstalled {
  readonly scopes: string
  readonly method: "oauth" | "token_exchange"
  readonly installedAt: string
}

export const installHandlers = {
  "shopify.app_installed": (ctx) =>
    Effect.gen(function*() {
      const installed = ctx.message.payload
      const installedAt = new Date(installed.installedAt)
      if (Number.isNaN(installedAt.getTime())) {
        return yield* new PermanentFailure({ reason: `${APP_INSTALLED_MESSAGE} has an invalid installedAt` })
      }
      // Copy field by field: whatever else a payload carries never reaches the event.
      const data: ShopInstalled = {
        scopes: installed.scopes,
        method: installed.method,
        installedAt: installed.installedAt
      }
      return {
        appends: [{
          streamId: shopStreamId(ctx.shop),
          expected: "any" as const,
          // occurredAt is the install itself, not when the actor got to it: a delayed
          // app/uninstalled is compared against it.
          events: [{ type: SHOP_INSTALLED_EVENT, data, occurredAt: installedAt }]
        }]
      }
    })
} satisfies Partial<HandlerRegistry>
