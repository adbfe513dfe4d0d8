/**
 * `tagsAdd` / `tagsRemove` semantics on products (the only taggable resource the simulator
 * holds): tags are split on commas (the argument may be `"a, b"`), trimmed, blanks dropped,
 * and compared case-insensitively (the first spelling wins); each tag is at most 255
 * characters and a product holds at most 250. Adding a tag already present or removing an
 * absent one is not an error. Any userError means nothing is written and `node` is null.
 * The product's `updatedAt` moves only when its tags actually change.
 */
import type { Catalog, ProductRecord } from "./catalog.ts"
import { parseGid } from "./ids.ts"
import type { UserError } from "./metafields.ts"

export const MAX_TAG_LENGTH = 255
export const MAX_TAGS_PER_PRODUCT = 250

/** Resources `tagsAdd`/`tagsRemove` accept in 2026-07; only products exist in the simulator. */
const TAGGABLE_TYPES = new Set(["Product", "Order", "DraftOrder", "Customer", "Article", "DiscountNode"])

/** Context for tag mutations. */
export interface TagsContext {
  readonly catalog: Catalog
  readonly now: number
}

/** `TagsAddPayload` / `TagsRemovePayload`. */
export interface TagsPayload {
  readonly node: ProductRecord | null
  readonly userErrors: ReadonlyArray<UserError>
}

/**
 * Normalises a tag argument: splits on commas, trims, drops blanks, and removes
 * case-insensitive duplicates (keeping the first spelling).
 */
export const normalizeTags = (input: ReadonlyArray<string>): Array<string> => {
  const out: Array<string> = []
  const seen = new Set<string>()
  for (const raw of input) {
    for (const part of raw.split(",")) {
      const tag = part.trim()
      const key = tag.toLowerCase()
      if (tag === "" || seen.has(key)) continue
      seen.add(key)
      out.push(tag)
    }
  }
  return out
}

/** The product number behind `id`, or the userError Shopify answers for it. */
const resolveProduct = (catalog: Catalog, id: string): { readonly num: number } | { readonly error: UserError } => {
  const parsed = parseGid(id)
  const num = parsed?.type === "Product" ? catalog.numOf(id) : undefined
  if (num !== undefined) return { num }
  const type = parsed !== undefined && TAGGABLE_TYPES.has(parsed.type) ? parsed.type : "Resource"
  return { error: { field: ["id"], message: `${type} does not exist` } }
}

const failed = (...userErrors: Array<UserError>): TagsPayload => ({ node: null, userErrors })

/** Runs `tagsAdd(id:, tags:)`. */
export const tagsAdd = (ctx: TagsContext, id: string, tags: ReadonlyArray<string>): TagsPayload => {
  const target = resolveProduct(ctx.catalog, id)
  if ("error" in target) return failed(target.error)
  const adding = normalizeTags(tags)
  const tooLong = adding.find((t) => t.length > MAX_TAG_LENGTH)
  if (tooLong !== undefined) {
    return failed({ field: ["tags"], message: `Tags is too long (maximum is ${MAX_TAG_LENGTH} characters)` })
  }
  const product = ctx.catalog.product(target.num) as ProductRecord
  const present = new Set(product.tags.map((t) => t.toLowerCase()))
  const added = adding.filter((t) => !present.has(t.toLowerCase()))
  if (added.length === 0) return { node: product, userErrors: [] }
  if (product.tags.length + added.length > MAX_TAGS_PER_PRODUCT) {
    return failed({ field: ["tags"], message: `Tags cannot be more than ${MAX_TAGS_PER_PRODUCT}` })
  }
  return { node: ctx.catalog.setTags(target.num, [...product.tags, ...added], ctx.now), userErrors: [] }
}

/** Runs `tagsRemove(id:, tags:)`: removes the listed tags that are present (case-insensitively). */
export const tagsRemove = (ctx: TagsContext, id: string, tags: ReadonlyArray<string>): TagsPayload => {
  const target = resolveProduct(ctx.catalog, id)
  if ("error" in target) return failed(target.error)
  const removing = new Set(normalizeTags(tags).map((t) => t.toLowerCase()))
  const product = ctx.catalog.product(target.num) as ProductRecord
  const kept = product.tags.filter((t) => !removing.has(t.toLowerCase()))
  if (kept.length === product.tags.length) return { node: product, userErrors: [] }
  return { node: ctx.catalog.setTags(target.num, kept, ctx.now), userErrors: [] }
}
