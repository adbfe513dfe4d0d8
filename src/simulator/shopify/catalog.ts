/**
 * A shop's product catalog. Products are generated on demand from `(seed, n)` so a
 * catalog of a million products costs nothing until it is read; only writes are stored:
 * metafields (as an overlay over the generated metafields) and product fields written by
 * `tagsAdd`/`tagsRemove`/`productUpdate` with the `updatedAt` they bring (as an overlay
 * over the generated products).
 */
import { createHash } from "node:crypto"
import { gid, hash32, seedOf } from "./ids.ts"

/** `ProductStatus` of 2026-07 (`UNLISTED` is never generated, only written). */
export type ProductStatus = "ACTIVE" | "DRAFT" | "ARCHIVED" | "UNLISTED"

/** A metafield to seed on an explicitly listed product. */
export interface MetafieldInit {
  readonly namespace: string
  readonly key: string
  readonly type: string
  readonly value: string
}

/** An explicitly listed product (for fixtures such as `title: "Red shirt"`). */
export interface ProductInit {
  readonly title: string
  readonly status?: ProductStatus
  readonly tags?: ReadonlyArray<string>
  readonly vendor?: string
  readonly productType?: string
  readonly handle?: string
  readonly metafields?: ReadonlyArray<MetafieldInit>
}

/** A product as the simulator serves it. `id` is the numeric part of the gid. */
export interface ProductRecord {
  readonly __typename: "Product"
  readonly num: number
  readonly id: number
  readonly gid: string
  readonly title: string
  readonly handle: string
  readonly status: ProductStatus
  readonly tags: ReadonlyArray<string>
  readonly vendor: string
  readonly productType: string
  readonly createdAt: number
  readonly updatedAt: number
}

/** A stored or generated metafield. */
export interface MetafieldRecord {
  readonly __typename: "Metafield"
  readonly id: number
  readonly gid: string
  readonly ownerNum: number
  readonly ownerGid: string
  readonly namespace: string
  readonly key: string
  readonly type: string
  readonly value: string
  readonly createdAt: number
  readonly updatedAt: number
}

export interface CatalogOptions {
  /** How many products to generate, or the explicit product list. */
  readonly products: number | ReadonlyArray<ProductInit>
  /** Seed of the generated catalog (same seed, same catalog). */
  readonly seed?: number | string
  /** Added to product numbers to form IDs (`gid://shopify/Product/<offset + n>`). Default 0. */
  readonly productIdOffset?: number
  /** Creation time of product 1 (ms); product n is created n minutes later. */
  readonly createdAtBase?: number
}

const ADJECTIVES = ["Classic", "Vintage", "Modern", "Rustic", "Cozy", "Sleek", "Bold", "Essential", "Premium", "Everyday", "Lightweight", "Soft", "Organic", "Urban", "Heritage", "Retro"] as const
const COLORS = ["Red", "Blue", "Green", "Black", "White", "Grey", "Navy", "Olive", "Beige", "Yellow", "Pink", "Purple"] as const
const TYPES: ReadonlyArray<readonly [string, string]> = [
  ["Shirts", "Shirt"],
  ["Hoodies", "Hoodie"],
  ["Pants", "Chinos"],
  ["Jackets", "Jacket"],
  ["Shoes", "Sneakers"],
  ["Hats", "Beanie"],
  ["Socks", "Socks"],
  ["Bags", "Tote Bag"],
  ["Mugs", "Mug"],
  ["Candles", "Candle"],
  ["Blankets", "Blanket"],
  ["Posters", "Poster"]
]
const VENDORS = ["Acme Apparel", "Northwind", "Globex", "Initech", "Umbrella Goods", "Stark Supply", "Wayne Textiles", "Hooli Home"] as const
const TAGS = ["winter", "summer", "spring", "autumn", "sale", "new", "clearance", "bestseller", "eco", "limited"] as const
const MATERIALS = ["Cotton", "Wool", "Linen", "Polyester", "Leather", "Bamboo"] as const

/** Generated metafield slots: (namespace, key, type, probability per mille, value). */
const SEEDED_SLOTS: ReadonlyArray<{
  readonly namespace: string
  readonly key: string
  readonly type: string
  readonly perMille: number
  readonly value: (h: number) => string
}> = [
  { namespace: "custom", key: "material", type: "single_line_text_field", perMille: 400, value: (h) => MATERIALS[h % MATERIALS.length] ?? "Cotton" },
  { namespace: "custom", key: "care_guide", type: "multi_line_text_field", perMille: 150, value: () => "Machine wash cold.\nTumble dry low." },
  { namespace: "specs", key: "weight_grams", type: "number_integer", perMille: 250, value: (h) => String(50 + (h % 4950)) },
  { namespace: "custom", key: "featured", type: "boolean", perMille: 100, value: (h) => (h % 2 === 0 ? "true" : "false") }
]
/** Metafield IDs below `SLOT_STRIDE * (size + 1)` are generated ones: id = n * stride + slot. */
const SLOT_STRIDE = 16

/** Product fields a write may change (see `Catalog.updateProduct`). */
export interface ProductChanges {
  readonly title?: string
  readonly status?: ProductStatus
  readonly tags?: ReadonlyArray<string>
  readonly vendor?: string
  readonly productType?: string
}

/** What is stored for a written product: the changed fields and the resulting `updatedAt`. */
type ProductOverlay = ProductChanges & { readonly updatedAt: number }

const mfKey = (namespace: string, key: string): string => `${namespace}\u0000${key}`

const slug = (title: string): string =>
  title
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-|-$/g, "")

/** Shopify-style compare digest of a metafield's current state. */
export const metafieldDigest = (m: MetafieldRecord): string =>
  createHash("sha256").update(`${m.id}\u0000${m.type}\u0000${m.value}\u0000${m.updatedAt}`).digest("hex")

/**
 * The catalog: generated products plus a metafield overlay. All reads are O(1) per product
 * and iteration is lazy, so `size` can be in the millions.
 */
export class Catalog {
  readonly size: number
  readonly productIdOffset: number
  readonly #seed: number
  readonly #explicit: ReadonlyArray<ProductInit> | undefined
  readonly #createdAtBase: number
  /** Per product: overlay of metafields (null = a generated metafield was deleted). */
  readonly #overlay = new Map<number, Map<string, MetafieldRecord | null>>()
  /** Created (non-generated) metafields by id. */
  readonly #created = new Map<number, MetafieldRecord>()
  /** Per product: fields written by `tagsAdd`/`tagsRemove`/`productUpdate` and the resulting `updatedAt`. */
  readonly #productOverlay = new Map<number, ProductOverlay>()
  #nextMetafieldId: number

  constructor(options: CatalogOptions) {
    this.#explicit = typeof options.products === "number" ? undefined : options.products
    this.size = typeof options.products === "number" ? Math.max(0, Math.floor(options.products)) : options.products.length
    this.#seed = seedOf(options.seed ?? 1)
    this.productIdOffset = options.productIdOffset ?? 0
    this.#createdAtBase = options.createdAtBase ?? Date.UTC(2025, 0, 1)
    this.#nextMetafieldId = SLOT_STRIDE * (this.size + 1) + 1
  }

  /** Product number (1-based) of a product gid, or undefined when not in the catalog. */
  numOf(productGid: unknown): number | undefined {
    if (typeof productGid !== "string") return undefined
    const m = /^gid:\/\/shopify\/Product\/(\d+)$/.exec(productGid)
    if (m?.[1] === undefined) return undefined
    const n = Number(m[1]) - this.productIdOffset
    return Number.isSafeInteger(n) && n >= 1 && n <= this.size ? n : undefined
  }

  /** The product with number `n` (1..size), with its stored writes applied. */
  product(n: number): ProductRecord | undefined {
    const generated = this.#generatedProduct(n)
    if (generated === undefined || this.#productOverlay.size === 0) return generated
    const overlay = this.#productOverlay.get(n)
    return overlay === undefined ? generated : { ...generated, ...overlay }
  }

  /**
   * Product `n` as seeded (generated or listed), ignoring every write: what publications
   * use to decide where a product starts out published.
   */
  seededProduct(n: number): ProductRecord | undefined {
    return this.#generatedProduct(n)
  }

  /**
   * Replaces the tags of product `n` (kept sorted, as generated products are) and sets its
   * `updatedAt` to `now` (never before its creation). No validation: see `tags.ts`.
   */
  setTags(n: number, tags: ReadonlyArray<string>, now: number): ProductRecord {
    return this.updateProduct(n, { tags }, now)
  }

  /**
   * Writes fields of product `n` (tags kept sorted, as generated products are) and sets its
   * `updatedAt` to `now` (never before its creation). No validation and no change detection:
   * callers (`tags.ts`, `products.ts`) only call it when something actually changes.
   */
  updateProduct(n: number, changes: ProductChanges, now: number): ProductRecord {
    const product = this.product(n)
    if (product === undefined) throw new Error(`product ${n} is not in the catalog`)
    const previous = this.#productOverlay.get(n)
    this.#productOverlay.set(n, {
      ...previous,
      ...changes,
      ...(changes.tags !== undefined ? { tags: [...changes.tags].sort() } : {}),
      updatedAt: Math.max(now, product.createdAt)
    })
    return this.product(n) as ProductRecord
  }

  /** The first product whose handle is `handle` (a scan: for `productUpdate(identifier: { handle })`). */
  numOfHandle(handle: string): number | undefined {
    for (const p of this.iterate()) if (p.handle === handle) return p.num
    return undefined
  }

  /** Product `n` as generated from the seed (or listed explicitly), without stored writes. */
  #generatedProduct(n: number): ProductRecord | undefined {
    if (!Number.isInteger(n) || n < 1 || n > this.size) return undefined
    const id = this.productIdOffset + n
    const createdAt = this.#createdAtBase + (n - 1) * 60_000
    const explicit = this.#explicit?.[n - 1]
    if (explicit !== undefined) {
      return {
        __typename: "Product",
        num: n,
        id,
        gid: gid("Product", id),
        title: explicit.title,
        handle: explicit.handle ?? slug(explicit.title),
        status: explicit.status ?? "ACTIVE",
        tags: [...(explicit.tags ?? [])].sort(),
        vendor: explicit.vendor ?? "Simulator",
        productType: explicit.productType ?? "",
        createdAt,
        updatedAt: createdAt
      }
    }
    const h = hash32(this.#seed, n)
    const h2 = hash32(h, 0x51ed)
    const [productType, noun] = TYPES[h % TYPES.length] ?? ["Shirts", "Shirt"]
    const title = `${ADJECTIVES[(h >>> 4) % ADJECTIVES.length]} ${COLORS[(h >>> 9) % COLORS.length]} ${noun}`
    const s = (h >>> 14) % 10
    const status: ProductStatus = s < 7 ? "ACTIVE" : s < 9 ? "DRAFT" : "ARCHIVED"
    const tags: Array<string> = []
    for (let i = 0; i < TAGS.length; i++) if (((h2 >>> (i * 3)) & 7) < 2) tags.push(TAGS[i] ?? "")
    tags.sort()
    return {
      __typename: "Product",
      num: n,
      id,
      gid: gid("Product", id),
      title,
      handle: `${slug(title)}-${n}`,
      status,
      tags,
      vendor: VENDORS[(h2 >>> 28) % VENDORS.length] ?? "Acme Apparel",
      productType,
      createdAt,
      updatedAt: createdAt
    }
  }

  /** Products from `start` (inclusive) upwards, or downwards with `reverse`. Lazy. */
  *iterate(start?: number, reverse = false): Generator<ProductRecord> {
    if (reverse) {
      for (let n = Math.min(start ?? this.size, this.size); n >= 1; n--) yield this.product(n) as ProductRecord
    } else {
      for (let n = Math.max(start ?? 1, 1); n <= this.size; n++) yield this.product(n) as ProductRecord
    }
  }

  #generated(n: number): Array<MetafieldRecord> {
    const product = this.#generatedProduct(n)
    if (product === undefined) return []
    const explicit = this.#explicit?.[n - 1]
    const out: Array<MetafieldRecord> = []
    const push = (slot: number, namespace: string, key: string, type: string, value: string) => {
      const id = n * SLOT_STRIDE + slot
      out.push({
        __typename: "Metafield",
        id,
        gid: gid("Metafield", id),
        ownerNum: n,
        ownerGid: product.gid,
        namespace,
        key,
        type,
        value,
        createdAt: product.createdAt,
        updatedAt: product.createdAt
      })
    }
    if (explicit !== undefined) {
      ;(explicit.metafields ?? []).slice(0, SLOT_STRIDE).forEach((m, i) => push(i, m.namespace, m.key, m.type, m.value))
      return out
    }
    SEEDED_SLOTS.forEach((slot, i) => {
      const h = hash32(this.#seed ^ (0x1000 + i), n)
      if (h % 1000 < slot.perMille) push(i, slot.namespace, slot.key, slot.type, slot.value(h >>> 10))
    })
    return out
  }

  /** Current metafields of product `n`, generated ones first, then created ones by id. */
  metafields(n: number): Array<MetafieldRecord> {
    const generated = this.#generated(n)
    const overlay = this.#overlay.get(n)
    if (overlay === undefined) return generated
    const out: Array<MetafieldRecord> = []
    const seen = new Set<string>()
    for (const m of generated) {
      const k = mfKey(m.namespace, m.key)
      seen.add(k)
      const o = overlay.has(k) ? overlay.get(k) : m
      if (o) out.push(o)
    }
    const extra = [...overlay.entries()].filter(([k, v]) => !seen.has(k) && v !== null).map(([, v]) => v as MetafieldRecord)
    extra.sort((a, b) => a.id - b.id)
    return [...out, ...extra]
  }

  /** One metafield of product `n` (namespace + key), if it exists. */
  metafield(n: number, namespace: string, key: string): MetafieldRecord | undefined {
    const overlay = this.#overlay.get(n)
    const k = mfKey(namespace, key)
    if (overlay?.has(k)) return overlay.get(k) ?? undefined
    return this.#generated(n).find((m) => m.namespace === namespace && m.key === key)
  }

  /** A metafield by numeric id (any product), if it still exists. */
  metafieldById(id: number): MetafieldRecord | undefined {
    const created = this.#created.get(id)
    if (created !== undefined) return this.metafield(created.ownerNum, created.namespace, created.key)?.id === id ? created : undefined
    const n = Math.floor(id / SLOT_STRIDE)
    if (n < 1 || n > this.size) return undefined
    const generated = this.#generated(n).find((m) => m.id === id)
    if (generated === undefined) return undefined
    const current = this.metafield(n, generated.namespace, generated.key)
    return current?.id === id ? current : undefined
  }

  /** Creates or updates a metafield (no validation: see `metafields.ts`). */
  upsertMetafield(n: number, input: { namespace: string; key: string; type: string; value: string }, now: number): MetafieldRecord {
    const product = this.product(n)
    if (product === undefined) throw new Error(`product ${n} is not in the catalog`)
    const existing = this.metafield(n, input.namespace, input.key)
    const id = existing?.id ?? this.#nextMetafieldId++
    const record: MetafieldRecord = {
      __typename: "Metafield",
      id,
      gid: gid("Metafield", id),
      ownerNum: n,
      ownerGid: product.gid,
      namespace: input.namespace,
      key: input.key,
      type: input.type,
      value: input.value,
      createdAt: existing?.createdAt ?? now,
      updatedAt: now
    }
    let overlay = this.#overlay.get(n)
    if (overlay === undefined) {
      overlay = new Map()
      this.#overlay.set(n, overlay)
    }
    overlay.set(mfKey(input.namespace, input.key), record)
    if (existing === undefined || this.#created.has(id)) this.#created.set(id, record)
    return record
  }

  /** Deletes a metafield; returns whether it existed. */
  deleteMetafield(n: number, namespace: string, key: string): boolean {
    const existing = this.metafield(n, namespace, key)
    if (existing === undefined) return false
    let overlay = this.#overlay.get(n)
    if (overlay === undefined) {
      overlay = new Map()
      this.#overlay.set(n, overlay)
    }
    overlay.set(mfKey(namespace, key), null)
    this.#created.delete(existing.id)
    return true
  }
}
