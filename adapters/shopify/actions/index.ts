/**
 * The decision plane's actions run against Shopify (issue 11 §4), one file each; registered with
 * the other channels' actions in `adapters/actions/index.ts`.
 */
import type { ActionImplementation } from "../../../src/automation/ActionSteps.ts"
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
