/**
 * `productUpdate` and product SEO. In 2026-07 the argument is `product: ProductUpdateInput`
 * (the older `input: ProductInput` is deprecated but still accepted, as on Shopify; the
 * product may also be named by `identifier: { id }` / `{ handle }`). The simulator applies
 * `title`, `status`, `tags`, `vendor`, `productType` and `seo { title description }`; any
 * other input field is refused with a SIMULATOR_NOT_IMPLEMENTED error rather than ignored.
 *
 * SEO is stored where Shopify stores it: the product metafields `global.title_tag` and
 * `global.description_tag` (so `product.metafield(namespace: "global", key: "title_tag")`
 * and `metafieldsSet` see the same values as `product.seo`). An empty (or null) SEO value
 * removes the metafield, and `seo.title` is null again (storefronts then fall back to the
 * product title).
 *
 * `tags` replaces every tag (normalized like `tagsAdd`: split on commas, trimmed,
 * case-insensitively deduplicated). Any userError means nothing is written and `product` is
 * null. `updatedAt` moves only when something actually changes.
 */
import { GraphQLError } from "graphql"
import type { Catalog, ProductChanges, ProductRecord, ProductStatus } from "./catalog.ts"
import { parseGid } from "./ids.ts"
import type { UserError } from "./metafields.ts"
import { SEO_DESCRIPTION_KEY, SEO_NAMESPACE, SEO_TITLE_KEY } from "./pages.ts"
import { MAX_TAGS_PER_PRODUCT, MAX_TAG_LENGTH, normalizeTags } from "./tags.ts"

const MAX_TITLE_LENGTH = 255

/** The `ProductUpdateInput` (or deprecated `ProductInput`) fields the simulator applies. */
export interface ProductUpdateInput {
  readonly id?: string | null
  readonly title?: string | null
  readonly status?: ProductStatus | null
  readonly tags?: ReadonlyArray<string> | null
  readonly vendor?: string | null
  readonly productType?: string | null
  readonly seo?: { readonly title?: string | null; readonly description?: string | null } | null
}

/** `ProductUpdateIdentifiers`. */
export interface ProductUpdateIdentifiers {
  readonly id?: string | null
  readonly handle?: string | null
  readonly customId?: unknown
}

/**
 * Input fields applied (or, for `deleteConflictingConstrainedMetafields`, which defaults to
 * false and is always present after coercion, meaningless without metafield definitions).
 */
const APPLIED_FIELDS = new Set(["id", "title", "status", "tags", "vendor", "productType", "seo", "deleteConflictingConstrainedMetafields"])

/** Context for `productUpdate`. */
export interface ProductUpdateContext {
  readonly catalog: Catalog
  readonly now: number
}

/** A product's SEO title and description as `Product.seo` serves them (null: not set). */
export interface ProductSeo {
  readonly title: string | null
  readonly description: string | null
}

/** The SEO of product `n`, read from its `global` metafields. */
export const productSeo = (catalog: Catalog, n: number): ProductSeo => ({
  title: catalog.metafield(n, SEO_NAMESPACE, SEO_TITLE_KEY)?.value ?? null,
  description: catalog.metafield(n, SEO_NAMESPACE, SEO_DESCRIPTION_KEY)?.value ?? null
})

const notImplemented = (field: string): GraphQLError =>
  new GraphQLError(`The Shopify simulator does not implement ProductUpdateInput.${field}.`, { extensions: { code: "SIMULATOR_NOT_IMPLEMENTED" } })

/** Finds the product an update is about: `identifier` first, else the input's `id`. */
const targetOf = (catalog: Catalog, input: ProductUpdateInput, identifier: ProductUpdateIdentifiers | null | undefined): number | undefined => {
  if (identifier?.customId !== undefined && identifier.customId !== null) throw notImplemented("identifier.customId")
  if (identifier?.handle !== undefined && identifier.handle !== null) return catalog.numOfHandle(identifier.handle)
  const id = identifier?.id ?? input.id
  return typeof id === "string" && parseGid(id)?.type === "Product" ? catalog.numOf(id) : undefined
}

/** Runs `productUpdate(product:)` (or `input:` / `identifier:`); see the module comment. */
export const productUpdate = (
  ctx: ProductUpdateContext,
  input: ProductUpdateInput,
  identifier?: ProductUpdateIdentifiers | null
): { readonly product: ProductRecord | null; readonly userErrors: ReadonlyArray<UserError> } => {
  for (const [field, value] of Object.entries(input)) {
    if (value !== undefined && !APPLIED_FIELDS.has(field)) throw notImplemented(field)
  }
  const num = targetOf(ctx.catalog, input, identifier)
  const product = num === undefined ? undefined : ctx.catalog.product(num)
  if (num === undefined || product === undefined) return { product: null, userErrors: [{ field: ["id"], message: "Product does not exist" }] }

  const errors: Array<UserError> = []
  const changes: { -readonly [K in keyof ProductChanges]: ProductChanges[K] } = {}
  if (input.title !== undefined && input.title !== null) {
    const title = input.title.trim()
    if (title === "") errors.push({ field: ["title"], message: "Title can't be blank" })
    else if (title.length > MAX_TITLE_LENGTH) errors.push({ field: ["title"], message: `Title is too long (maximum is ${MAX_TITLE_LENGTH} characters)` })
    else if (title !== product.title) changes.title = title
  }
  if (input.status !== undefined && input.status !== null && input.status !== product.status) changes.status = input.status
  if (input.vendor !== undefined && input.vendor !== null && input.vendor !== product.vendor) changes.vendor = input.vendor
  if (input.productType !== undefined && input.productType !== null && input.productType !== product.productType) {
    changes.productType = input.productType
  }
  if (input.tags !== undefined && input.tags !== null) {
    const tags = normalizeTags(input.tags)
    if (tags.some((t) => t.length > MAX_TAG_LENGTH)) {
      errors.push({ field: ["tags"], message: `Tags is too long (maximum is ${MAX_TAG_LENGTH} characters)` })
    } else if (tags.length > MAX_TAGS_PER_PRODUCT) {
      errors.push({ field: ["tags"], message: `Tags cannot be more than ${MAX_TAGS_PER_PRODUCT}` })
    } else if (JSON.stringify([...tags].sort()) !== JSON.stringify(product.tags)) {
      changes.tags = tags
    }
  }
  if (errors.length > 0) return { product: null, userErrors: errors }

  // SEO: `undefined` keeps the value, "" or null clears it.
  const seoWrites: Array<{ readonly key: string; readonly type: string; readonly value: string | null }> = []
  const current = productSeo(ctx.catalog, num)
  const seoField = (key: string, type: string, value: string | null | undefined, now: string | null) => {
    if (value === undefined) return
    const next = value === null || value.trim() === "" ? null : value
    if (next !== now) seoWrites.push({ key, type, value: next })
  }
  if (input.seo !== undefined && input.seo !== null) {
    seoField(SEO_TITLE_KEY, "single_line_text_field", input.seo.title, current.title)
    seoField(SEO_DESCRIPTION_KEY, "multi_line_text_field", input.seo.description, current.description)
  }
  for (const w of seoWrites) {
    if (w.value === null) ctx.catalog.deleteMetafield(num, SEO_NAMESPACE, w.key)
    else ctx.catalog.upsertMetafield(num, { namespace: SEO_NAMESPACE, key: w.key, type: w.type, value: w.value }, ctx.now)
  }
  if (Object.keys(changes).length === 0 && seoWrites.length === 0) return { product, userErrors: [] }
  return { product: ctx.catalog.updateProduct(num, changes, ctx.now), userErrors: [] }
}
