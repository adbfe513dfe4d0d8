/**
 * The registry of the decision plane's actions run against Shopify (issue 11 §4): one file per
 * action, each exporting its `meta` (the seed's: key, triggers, resource type, plan, params —
 * defined with the pure registry in `domain/automation/Actions.ts`, which dispatch and the
 * rule validator read) and its `snapshot`, `handler` and `undoHandler`.
 */
import { Effect, Layer } from "effect"
import { type ActionImplementation, ActionSteps } from "../../../src/automation/ActionSteps.ts"
import { ShopifyAdmin } from "../ShopifyAdmin.ts"
import { tagProduct } from "./tagProduct.ts"

/** Action key → its implementation (needs the Shopify Admin API). */
export const SHOPIFY_ACTIONS: Readonly<Record<string, ActionImplementation<ShopifyAdmin>>> = {
  tag_product: tagProduct
}

/** `ActionSteps` over the Shopify actions (requires `ShopifyAdmin`). */
export const layer = Layer.effect(
  ActionSteps,
  Effect.gen(function*() {
    const admin = yield* ShopifyAdmin
    const provided = new Map(Object.entries(SHOPIFY_ACTIONS).map(([key, a]): [string, ActionImplementation] => [key, {
      snapshot: (shop, run) => Effect.provideService(a.snapshot(shop, run), ShopifyAdmin, admin),
      handler: (shop, run, before) => Effect.provideService(a.handler(shop, run, before), ShopifyAdmin, admin),
      undoHandler: (shop, run, before, after, force) => Effect.provideService(a.undoHandler(shop, run, before, after, force), ShopifyAdmin, admin)
    }]))
    return ActionSteps.of({ implementation: (key) => provided.get(key) })
  })
)
