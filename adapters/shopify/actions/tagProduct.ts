/**
 * `tag_product` (triggers `product.published`, `product.drafted`, `mc.product_approved`): adds
 * the rule's tags to the product; undo removes exactly the tags it added — never one the
 * product already had.
 *
 * - snapshot: the product's title and tags.
 * - handler: the tags to add are the rule's tags the snapshot lacked (the snapshot decides what
 *   "added" means, so a re-run after a crash adds nothing twice and claims nothing it did not
 *   add); only those still missing now are sent (`tagsAdd` is looked up before it is repeated).
 * - undoHandler: refuses with `changed_since` when someone removed one of the added tags since
 *   (unless forced), else `tagsRemove` of the added tags still there.
 */
import { Effect } from "effect"
import { actionMeta } from "../../../domain/automation/Actions.ts"
import { ActionPermanent, type ActionImplementation, ChangedSince } from "../../../src/automation/ActionSteps.ts"
import type { ShopifyAdmin } from "../ShopifyAdmin.ts"
import { PRODUCT_SNAPSHOT, PRODUCT_TAGS, TAGS_ADD, TAGS_REMOVE } from "./documents.ts"
import { graphql, hasTag, mutationPayload, tagList } from "./shared.ts"

export const meta = actionMeta("tag_product")!

export interface TagProductBefore {
  readonly title: string
  readonly tags: ReadonlyArray<string>
}

export interface TagProductAfter {
  /** The tags this execution added (the rule's tags the product did not have). */
  readonly added: ReadonlyArray<string>
}

/** The product's title and tags now (`document`: the snapshot's, or a handler's look-up). */
export const readProductTags = (shop: string, productId: string, document: string = PRODUCT_TAGS) =>
  Effect.gen(function*() {
    const data = yield* graphql(shop, document, { id: productId })
    const product = data.product as { readonly title: string; readonly tags: ReadonlyArray<string> } | null
    if (product === null) return yield* Effect.fail(new ActionPermanent({ code: "not_found", message: `product ${productId} no longer exists` }))
    return { title: product.title, tags: product.tags } satisfies TagProductBefore
  })

export const tagsAdd = (shop: string, id: string, tags: ReadonlyArray<string>) =>
  tags.length === 0 ? Effect.void : Effect.asVoid(Effect.flatMap(graphql(shop, TAGS_ADD, { id, tags }), (d) => mutationPayload(d, "tagsAdd")))

export const tagsRemove = (shop: string, id: string, tags: ReadonlyArray<string>) =>
  tags.length === 0 ? Effect.void : Effect.asVoid(Effect.flatMap(graphql(shop, TAGS_REMOVE, { id, tags }), (d) => mutationPayload(d, "tagsRemove")))

const paramTags = (params: Readonly<Record<string, unknown>>): ReadonlyArray<string> =>
  Array.isArray(params.tags) ? params.tags.filter((t): t is string => typeof t === "string") : []

export const tagProduct: ActionImplementation<ShopifyAdmin> = {
  snapshot: (shop, run) => readProductTags(shop, run.resourceId, PRODUCT_SNAPSHOT),
  handler: (shop, run, before) =>
    Effect.gen(function*() {
      const was = before as TagProductBefore
      const added = paramTags(run.params).filter((t) => !hasTag(was.tags, t))
      const now = yield* readProductTags(shop, run.resourceId)
      yield* tagsAdd(shop, run.resourceId, added.filter((t) => !hasTag(now.tags, t)))
      return {
        after: { added } satisfies TagProductAfter,
        summary: added.length === 0 ? `${tagList(paramTags(run.params))} were already there: nothing added` : `added ${tagList(added)}`
      }
    }),
  undoHandler: (shop, run, _before, after, force) =>
    Effect.gen(function*() {
      const { added } = after as TagProductAfter
      const now = yield* readProductTags(shop, run.resourceId)
      const gone = added.filter((t) => !hasTag(now.tags, t))
      if (gone.length > 0 && !force) {
        return yield* Effect.fail(new ChangedSince({ message: `${tagList(gone)} ${gone.length === 1 ? "was" : "were"} removed since by someone else; undo with force to remove the rest` }))
      }
      const present = added.filter((t) => hasTag(now.tags, t))
      yield* tagsRemove(shop, run.resourceId, present)
      return { summary: present.length === 0 ? "nothing to remove" : `removed ${tagList(present)}` }
    })
}
