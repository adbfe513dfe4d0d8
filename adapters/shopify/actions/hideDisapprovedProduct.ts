/**
 * `hide_disapproved_product` (trigger `mc.product_disapproved`): tags the product (param `tag`)
 * and unpublishes it from the Google & YouTube channel's publication, so Merchant Center stops
 * showing an offer it disapproved; undo republishes it and removes the tag — each only if this
 * execution did it.
 *
 * - snapshot: the product's tags and whether it is on the Google & YouTube publication.
 * - handler: adds the tag if the product lacked it, unpublishes if it was published; each change
 *   is looked up first, so a re-run after a crash repeats nothing.
 * - undoHandler: `changed_since` when someone republished the product or removed the tag since
 *   (unless forced); else republishes and removes the tag.
 */
import { Effect } from "effect"
import { actionMeta } from "../../../domain/automation/Actions.ts"
import { ActionPermanent, type ActionImplementation, ChangedSince } from "../../../src/automation/ActionSteps.ts"
import type { ShopifyAdmin } from "../ShopifyAdmin.ts"
import { PRODUCT_PUBLICATION } from "./documents.ts"
import { publicationNamed, publish, unpublish } from "./resources.ts"
import { graphql, hasTag } from "./shared.ts"
import { tagsAdd, tagsRemove } from "./tagProduct.ts"

export const meta = actionMeta("hide_disapproved_product")!

/** The Merchant Center sales channel's publication, as Shopify names it. */
export const GOOGLE_CHANNEL = "Google & YouTube"

export interface HideBefore {
  readonly publicationId: string
  readonly tags: ReadonlyArray<string>
  readonly published: boolean
}

export interface HideAfter {
  readonly tagAdded: string | null
  readonly unpublished: boolean
}

const readProduct = (shop: string, id: string, publicationId: string) =>
  Effect.gen(function*() {
    const data = yield* graphql(shop, PRODUCT_PUBLICATION, { id, publicationId })
    const p = data.product as { readonly tags: ReadonlyArray<string>; readonly publishedOnPublication: boolean } | null
    if (p === null) return yield* Effect.fail(new ActionPermanent({ code: "not_found", message: `product ${id} no longer exists` }))
    return { tags: p.tags, published: p.publishedOnPublication }
  })

const tagParam = (params: Readonly<Record<string, unknown>>) => (typeof params.tag === "string" ? params.tag : "mc-disapproved")

export const hideDisapprovedProduct: ActionImplementation<ShopifyAdmin> = {
  snapshot: (shop, run) =>
    Effect.gen(function*() {
      const publicationId = yield* publicationNamed(shop, GOOGLE_CHANNEL)
      return { publicationId, ...(yield* readProduct(shop, run.resourceId, publicationId)) } satisfies HideBefore
    }),
  handler: (shop, run, before) =>
    Effect.gen(function*() {
      const was = before as HideBefore
      const tag = tagParam(run.params)
      const after: HideAfter = { tagAdded: hasTag(was.tags, tag) ? null : tag, unpublished: was.published }
      const now = yield* readProduct(shop, run.resourceId, was.publicationId)
      if (after.tagAdded !== null && !hasTag(now.tags, tag)) yield* tagsAdd(shop, run.resourceId, [tag])
      if (now.published) yield* unpublish(shop, run.resourceId, was.publicationId)
      return {
        after,
        summary: after.unpublished ? `hid it from ${GOOGLE_CHANNEL} and tagged it ${tag}` : `tagged it ${tag} (it was not on ${GOOGLE_CHANNEL})`
      }
    }),
  undoHandler: (shop, run, before, after, force) =>
    Effect.gen(function*() {
      const was = before as HideBefore
      const did = after as HideAfter
      const now = yield* readProduct(shop, run.resourceId, was.publicationId)
      const changes = [
        ...(did.unpublished && now.published ? [`it is back on ${GOOGLE_CHANNEL}`] : []),
        ...(did.tagAdded !== null && !hasTag(now.tags, did.tagAdded) ? [`the tag ${did.tagAdded} was removed`] : [])
      ]
      if (changes.length > 0 && !force) return yield* Effect.fail(new ChangedSince({ message: `${changes.join(" and ")} since, by someone else` }))
      const done: Array<string> = []
      if (did.unpublished && !now.published) {
        yield* publish(shop, run.resourceId, was.publicationId)
        done.push(`republished on ${GOOGLE_CHANNEL}`)
      }
      if (did.tagAdded !== null && hasTag(now.tags, did.tagAdded)) {
        yield* tagsRemove(shop, run.resourceId, [did.tagAdded])
        done.push(`removed the tag ${did.tagAdded}`)
      }
      return { summary: done.length === 0 ? "nothing to restore" : done.join(" and ") }
    })
}
