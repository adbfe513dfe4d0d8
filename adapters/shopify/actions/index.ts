/**
 * The registry of the decision plane's actions run against Shopify (issue 11 §4): one file per
 * action, each exporting its `meta` (the seed's: key, triggers, resource type, plan, params —
 * defined with the pure registry in `domain/automation/Actions.ts`, which dispatch and the
 * rule validator read) and its `snapshot`, `handler` and `undoHandler`.
 */
import { Effect, Layer } from "effect"
import { type ActionImplementation, ActionSteps } from "../../../src/automation/ActionSteps.ts"
import type { EventStore } from "../../../src/eventstore/EventStore.ts"
import type { ShopLog } from "../../../src/shoplog/ShopLog.ts"
import type { ShopifyAdmin } from "../ShopifyAdmin.ts"
import { bulkSetMetafield } from "./bulkSetMetafield.ts"
import { consolidateCannibalizedPage } from "./consolidateCannibalizedPage.ts"
import { createUrlRedirect } from "./createUrlRedirect.ts"
import { hideDisapprovedProduct } from "./hideDisapprovedProduct.ts"
import { tagProduct } from "./tagProduct.ts"
import { updateSeoMeta } from "./updateSeoMeta.ts"

/** What the actions use: the Admin API, and (to start bulk jobs) the shop log and the event store. */
type Needs = ShopifyAdmin | ShopLog | EventStore

/** Action key → its implementation. */
export const SHOPIFY_ACTIONS: Readonly<Record<string, ActionImplementation<Needs>>> = {
  update_seo_meta: updateSeoMeta,
  create_url_redirect: createUrlRedirect,
  consolidate_cannibalized_page: consolidateCannibalizedPage,
  hide_disapproved_product: hideDisapprovedProduct,
  tag_product: tagProduct,
  bulk_set_metafield: bulkSetMetafield
}

/** `ActionSteps` over the Shopify actions (requires `ShopifyAdmin`, `ShopLog`, `EventStore`). */
export const layer = Layer.effect(
  ActionSteps,
  Effect.gen(function*() {
    const needs = yield* Effect.context<Needs>()
    const provided = new Map(Object.entries(SHOPIFY_ACTIONS).map(([key, a]): [string, ActionImplementation] => [key, {
      snapshot: (shop, run) => Effect.provideContext(a.snapshot(shop, run), needs),
      handler: (shop, run, before) => Effect.provideContext(a.handler(shop, run, before), needs),
      undoHandler: (shop, run, before, after, force) => Effect.provideContext(a.undoHandler(shop, run, before, after, force), needs)
    }]))
    return ActionSteps.of({ implementation: (key) => provided.get(key) })
  })
)
