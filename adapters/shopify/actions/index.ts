/**
 * The decision plane's actions run against Shopify (issue 11 §4), one file each; registered with
 * the other channels' actions in `adapters/actions/index.ts`.
 */
import type { ActionImplementation } from "../../../src/automation/ActionSteps.ts"
import type { EventStore } from "../../../src/eventstore/EventStore.ts"
import type { ShopLog } from "../../../src/shoplog/ShopLog.ts"
import type { AiGateway } from "../../../src/ai/AiGateway.ts"
import type { ShopifyAdmin } from "../ShopifyAdmin.ts"
import { addFaqStructuredData } from "./addFaqStructuredData.ts"
import { createContentBrief, refreshBlogPost } from "./blogActions.ts"
import { bulkSetMetafield } from "./bulkSetMetafield.ts"
import { consolidateCannibalizedPage } from "./consolidateCannibalizedPage.ts"
import { createUrlRedirect } from "./createUrlRedirect.ts"
import { hideDisapprovedProduct } from "./hideDisapprovedProduct.ts"
import { tagProduct } from "./tagProduct.ts"
import { updateSeoMeta } from "./updateSeoMeta.ts"

/** What the actions use: the Admin API, the AI gateway, and (to start bulk jobs) the shop log and the event store. */
type Needs = ShopifyAdmin | ShopLog | EventStore | AiGateway

/** Action key → its implementation. */
export const SHOPIFY_ACTIONS: Readonly<Record<string, ActionImplementation<Needs>>> = {
  update_seo_meta: updateSeoMeta,
  add_faq_structured_data: addFaqStructuredData,
  refresh_blog_post: refreshBlogPost,
  create_content_brief: createContentBrief,
  create_url_redirect: createUrlRedirect,
  consolidate_cannibalized_page: consolidateCannibalizedPage,
  hide_disapproved_product: hideDisapprovedProduct,
  tag_product: tagProduct,
  bulk_set_metafield: bulkSetMetafield
}
