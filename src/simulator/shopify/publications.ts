/**
 * Sales channel publications (`publications`, `publication(id:)`) and where products are
 * published (`publishablePublish` / `publishableUnpublish`, `Product.publishedOnPublication`,
 * `Product.resourcePublicationsV2`). In 2026-07 only `Product`, `Collection` and
 * `ProductVariant` implement `Publishable`; `Page` does not (pages are published with
 * `pageUpdate(page: { isPublished })`), and the simulator only holds products.
 *
 * Seeding: a product whose seeded status is ACTIVE starts out published on every
 * publication, since its creation; others start unpublished. After that, publication is
 * independent of the product's status, as on Shopify (a DRAFT product can stay published
 * on a channel; it is just not visible there until it is ACTIVE again).
 *
 * Both mutations are idempotent: publishing a product already published keeps its original
 * publish date, and unpublishing one that is not published is not an error.
 */
import type { Catalog, ProductRecord } from "./catalog.ts"
import { gid, gidNumber, parseGid } from "./ids.ts"
import type { UserError } from "./metafields.ts"

/** The publications every shop has unless `ShopOptions.publications` names others. */
export const DEFAULT_PUBLICATION_NAMES: ReadonlyArray<string> = ["Online Store", "Google & YouTube"]

/** The one channel kind that supports scheduled (future) publishing, per Shopify's docs. */
const ONLINE_STORE = "Online Store"

/** A publication. Publication n is `gid://shopify/Publication/<n>`, in the configured order. */
export interface PublicationRecord {
  readonly __typename: "Publication"
  readonly num: number
  readonly gid: string
  readonly name: string
  readonly autoPublish: boolean
  readonly supportsFuturePublishing: boolean
}

/** Where a product is published on one publication (a `ResourcePublicationV2`). */
export interface ResourcePublication {
  readonly publication: PublicationRecord
  readonly publishable: ProductRecord
  readonly publishDate: number
  readonly isPublished: boolean
}

/** A shop's publications and the products published on them. */
export class Publications {
  readonly #list: ReadonlyArray<PublicationRecord>
  readonly #catalog: Catalog
  /**
   * Product number → publication number → publish date (ms), for products that were
   * published or unpublished through the API; null means explicitly unpublished. Products
   * not in the map have their seeded state, so a million-product catalog costs nothing.
   */
  readonly #written = new Map<number, Map<number, number | null>>()

  constructor(names: ReadonlyArray<string>, catalog: Catalog) {
    this.#catalog = catalog
    this.#list = names.map((name, i) => ({
      __typename: "Publication",
      num: i + 1,
      gid: gid("Publication", i + 1),
      name,
      autoPublish: true,
      supportsFuturePublishing: name === ONLINE_STORE
    }))
  }

  /** Every publication, by id. */
  list(): ReadonlyArray<PublicationRecord> {
    return this.#list
  }

  get(num: number): PublicationRecord | undefined {
    return this.#list[num - 1]
  }

  /** A publication by gid. */
  byGid(publicationGid: unknown): PublicationRecord | undefined {
    const n = gidNumber(publicationGid, "Publication")
    return n === undefined ? undefined : this.get(n)
  }

  /** A publication by name (e.g. `"Online Store"`) or gid. */
  find(nameOrGid: string): PublicationRecord | undefined {
    return this.byGid(nameOrGid) ?? this.#list.find((p) => p.name === nameOrGid)
  }

  /** The publish date of product `n` on publication `pub` (may be in the future), or undefined. */
  publishDate(n: number, pub: number): number | undefined {
    return this.#entry(n, pub)?.date
  }

  /**
   * Whether product `n` is published (not merely scheduled) on publication `pub` at `now`.
   * A seeded publication counts whatever the clock says: a test clock may well be set
   * before the generated creation dates.
   */
  isPublished(n: number, pub: number, now: number): boolean {
    const entry = this.#entry(n, pub)
    return entry !== undefined && (entry.seeded || entry.date <= now)
  }

  #entry(n: number, pub: number): { readonly date: number; readonly seeded: boolean } | undefined {
    const written = this.#written.get(n)
    if (written?.has(pub)) {
      const date = written.get(pub)
      return date === null || date === undefined ? undefined : { date, seeded: false }
    }
    const seeded = this.#catalog.seededProduct(n)
    return seeded?.status === "ACTIVE" ? { date: seeded.createdAt, seeded: true } : undefined
  }

  /**
   * Publishes product `n` on `pub` from `date`. Already published (at or before `now`): the
   * original date is kept, so publishing twice changes nothing.
   */
  publish(n: number, pub: number, date: number, now: number): void {
    if (this.isPublished(n, pub, now)) return
    this.#state(n).set(pub, date)
  }

  /** Unpublishes product `n` from `pub` (also cancels a scheduled publication). */
  unpublish(n: number, pub: number): void {
    if (this.publishDate(n, pub) === undefined) return
    this.#state(n).set(pub, null)
  }

  /** Resource publications of product `n` (scheduled ones too unless `onlyPublished`). */
  resourcePublications(product: ProductRecord, onlyPublished: boolean, now: number): ReadonlyArray<ResourcePublication> {
    const out: Array<ResourcePublication> = []
    for (const publication of this.#list) {
      const date = this.publishDate(product.num, publication.num)
      if (date === undefined) continue
      const isPublished = this.isPublished(product.num, publication.num, now)
      if (onlyPublished && !isPublished) continue
      out.push({ publication, publishable: product, publishDate: date, isPublished })
    }
    return out
  }

  #state(n: number): Map<number, number | null> {
    let state = this.#written.get(n)
    if (state === undefined) {
      state = new Map()
      this.#written.set(n, state)
    }
    return state
  }
}

/** `PublicationInput` after coercion. */
export interface PublicationInput {
  readonly publicationId?: string | null
  readonly channelId?: string | null
  readonly publishDate?: string | null
}

/** Context for the publish mutations. */
export interface PublishContext {
  readonly catalog: Catalog
  readonly publications: Publications
  readonly now: number
}

/** `PublishablePublishPayload` / `PublishableUnpublishPayload` without `shop` (added by the resolver). */
export interface PublishPayload {
  readonly publishable: ProductRecord | null
  readonly userErrors: ReadonlyArray<UserError>
}

/** Resources that implement `Publishable` in 2026-07; only products exist in the simulator. */
const PUBLISHABLE_TYPES = new Set(["Product", "Collection", "ProductVariant"])

/** Validates the id and inputs; the product number and the publications with their dates, or userErrors. */
const plan = (
  ctx: PublishContext,
  id: string,
  inputs: ReadonlyArray<PublicationInput>,
  unpublishing: boolean
): { readonly num: number; readonly targets: ReadonlyArray<{ readonly pub: number; readonly date: number }> } | { readonly errors: ReadonlyArray<UserError> } => {
  const parsed = parseGid(id)
  const num = parsed?.type === "Product" ? ctx.catalog.numOf(id) : undefined
  if (num === undefined) {
    const type = parsed !== undefined && PUBLISHABLE_TYPES.has(parsed.type) ? parsed.type : "Resource"
    return { errors: [{ field: ["id"], message: `${type} does not exist` }] }
  }
  const errors: Array<UserError> = []
  const targets: Array<{ pub: number; date: number }> = []
  inputs.forEach((input, i) => {
    // `channelId` is deprecated in favour of `publicationId`; channels are not simulated.
    const publication = ctx.publications.byGid(input.publicationId ?? input.channelId)
    if (publication === undefined) {
      errors.push({ field: ["input", String(i), "publicationId"], message: "Publication does not exist" })
      return
    }
    let date = ctx.now
    // `publishDate` "has no effect" in `publishableUnpublish` (schema description).
    if (!unpublishing && input.publishDate !== undefined && input.publishDate !== null) {
      const parsedDate = Date.parse(input.publishDate)
      if (Number.isNaN(parsedDate)) {
        errors.push({ field: ["input", String(i), "publishDate"], message: "Publish date is invalid" })
        return
      }
      if (parsedDate > ctx.now && !publication.supportsFuturePublishing) {
        errors.push({ field: ["input", String(i), "publishDate"], message: `${publication.name} does not support future publishing` })
        return
      }
      date = parsedDate
    }
    targets.push({ pub: publication.num, date })
  })
  return errors.length > 0 ? { errors } : { num, targets }
}

/**
 * Runs `publishablePublish(id:, input:)`. Atomic: any userError means nothing changes and
 * `publishable` is null. The product's `updatedAt` does not move (publication is not a
 * product field).
 */
export const publishablePublish = (ctx: PublishContext, id: string, inputs: ReadonlyArray<PublicationInput>): PublishPayload => {
  const p = plan(ctx, id, inputs, false)
  if ("errors" in p) return { publishable: null, userErrors: p.errors }
  for (const t of p.targets) ctx.publications.publish(p.num, t.pub, t.date, ctx.now)
  return { publishable: ctx.catalog.product(p.num) ?? null, userErrors: [] }
}

/** Runs `publishableUnpublish(id:, input:)`; unpublishing where not published is not an error. */
export const publishableUnpublish = (ctx: PublishContext, id: string, inputs: ReadonlyArray<PublicationInput>): PublishPayload => {
  const p = plan(ctx, id, inputs, true)
  if ("errors" in p) return { publishable: null, userErrors: p.errors }
  for (const t of p.targets) ctx.publications.unpublish(p.num, t.pub)
  return { publishable: ctx.catalog.product(p.num) ?? null, userErrors: [] }
}
