/**
 * Online store pages (`page(id:)`, `pages(query:)`, `pageUpdate(id:, page:)`) and their
 * metafields. In 2026-07 `Page` has no `seo` field and `PageUpdateInput` has no `seo`
 * input: as on Shopify, a page's SEO title and description are the metafields
 * `global.title_tag` and `global.description_tag` (the storefront falls back to the page
 * title and body when they are absent). They are read with
 * `page.metafield(namespace: "global", key: "title_tag")` and written either with
 * `pageUpdate(page: { metafields: [...] })` or with `metafieldsSet` on the page id — both
 * work on Shopify, and both work here.
 *
 * Publishing: a page is visible when it has a `publishedAt` that is not in the future.
 * `isPublished: true` publishes now (keeping an earlier `publishedAt`), `isPublished: false`
 * unpublishes, and a `publishDate` alone schedules (or back-dates) the page.
 */
import { GraphQLError } from "graphql"
import type { MetafieldInit, MetafieldRecord } from "./catalog.ts"
import { gid, gidNumber } from "./ids.ts"
import { planMetafieldsSet, type MetafieldOwnerStore, type MetafieldsContext, type MetafieldsSetInput } from "./metafields.ts"
import type { UrlRedirects } from "./urlRedirects.ts"

/** Namespace and keys under which Shopify keeps SEO fields of pages (and products). */
export const SEO_NAMESPACE = "global"
export const SEO_TITLE_KEY = "title_tag"
export const SEO_DESCRIPTION_KEY = "description_tag"

/** A page to seed. */
export interface PageInit {
  readonly title: string
  /** Default: the title as a handle (`"About us"` → `about-us`). */
  readonly handle?: string
  readonly body?: string
  /** Default true: published when the shop is created. */
  readonly isPublished?: boolean
  readonly templateSuffix?: string | null
  /** e.g. `{ namespace: "global", key: "title_tag", type: "single_line_text_field", value: "…" }`. */
  readonly metafields?: ReadonlyArray<MetafieldInit>
}

/**
 * The pages every shop starts with unless `ShopOptions.pages` says otherwise: two published
 * pages (the first with SEO metafields, the second without) and an unpublished one.
 */
export const DEFAULT_PAGES: ReadonlyArray<PageInit> = [
  {
    title: "About us",
    body: "<p>We make everyday goods that last.</p>",
    metafields: [
      { namespace: SEO_NAMESPACE, key: SEO_TITLE_KEY, type: "single_line_text_field", value: "About us | Our story" },
      { namespace: SEO_NAMESPACE, key: SEO_DESCRIPTION_KEY, type: "multi_line_text_field", value: "Who we are and how we make our products." }
    ]
  },
  { title: "Contact", body: "<p>Write to us any time.</p>" },
  { title: "Shipping policy", body: "<p>We ship within 2 business days.</p>", isPublished: false }
]

/** A page as the simulator serves it. `id` is the numeric part of the gid (= its number). */
export interface PageRecord {
  readonly __typename: "Page"
  readonly num: number
  readonly id: number
  readonly gid: string
  readonly title: string
  readonly handle: string
  readonly body: string
  readonly templateSuffix: string | null
  readonly createdAt: number
  readonly updatedAt: number
  /** When the page became (or, if in the future, will become) visible; null: unpublished. */
  readonly publishedAt: number | null
}

/** Whether a page is visible at `now`. */
export const isPagePublished = (page: PageRecord, now: number): boolean => page.publishedAt !== null && page.publishedAt <= now

/** A handle as Shopify derives it: lower case, runs of other characters turned into `-`. */
export const toHandle = (text: string): string =>
  text
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, "-")
    .replace(/^-+|-+$/g, "")

const mfKey = (namespace: string, key: string): string => `${namespace}\u0000${key}`

/**
 * Page metafield ids start here: far above any product metafield id (generated ones are
 * `n * 16 + slot`, created ones follow them), so `node(id:)` can tell them apart and seeding
 * pages does not shift the ids of product metafields created later.
 */
export const PAGE_METAFIELD_ID_BASE = 9_000_000_000_000

/** A shop's pages and their metafields. Pages are numbered 1..n (`gid://shopify/Page/<n>`). */
export class Pages implements MetafieldOwnerStore {
  readonly #pages = new Map<number, PageRecord>()
  readonly #metafields = new Map<number, Map<string, MetafieldRecord>>()
  #nextMetafieldId = PAGE_METAFIELD_ID_BASE + 1

  /**
   * Seeds `inits`: page n is created `createdAtBase + (n - 1)` days and, when published,
   * published at creation.
   */
  constructor(inits: ReadonlyArray<PageInit>, options: { readonly createdAtBase: number }) {
    inits.forEach((init, i) => {
      const num = i + 1
      const createdAt = options.createdAtBase + i * 86_400_000
      this.#pages.set(num, {
        __typename: "Page",
        num,
        id: num,
        gid: gid("Page", num),
        title: init.title,
        handle: init.handle ?? toHandle(init.title),
        body: init.body ?? "",
        templateSuffix: init.templateSuffix ?? null,
        createdAt,
        updatedAt: createdAt,
        publishedAt: init.isPublished === false ? null : createdAt
      })
      for (const m of init.metafields ?? []) this.upsertMetafield(num, m, createdAt)
    })
  }

  numOf(pageGid: unknown): number | undefined {
    const n = gidNumber(pageGid, "Page")
    return n !== undefined && this.#pages.has(n) ? n : undefined
  }

  get(n: number): PageRecord | undefined {
    return this.#pages.get(n)
  }

  /** Every page, by id. */
  list(): ReadonlyArray<PageRecord> {
    return [...this.#pages.values()]
  }

  byHandle(handle: string): PageRecord | undefined {
    for (const p of this.#pages.values()) if (p.handle === handle) return p
    return undefined
  }

  /** Writes page fields and `updatedAt` (no validation: see `pageUpdate`). */
  update(n: number, changes: Partial<Pick<PageRecord, "title" | "handle" | "body" | "templateSuffix" | "publishedAt">>, now: number): PageRecord {
    const page = this.#pages.get(n)
    if (page === undefined) throw new Error(`no page ${n}`)
    const updated: PageRecord = { ...page, ...changes, updatedAt: Math.max(now, page.createdAt) }
    this.#pages.set(n, updated)
    return updated
  }

  /** Metafields of page `n`, by id. */
  metafields(n: number): ReadonlyArray<MetafieldRecord> {
    return [...(this.#metafields.get(n)?.values() ?? [])].sort((a, b) => a.id - b.id)
  }

  metafield(n: number, namespace: string, key: string): MetafieldRecord | undefined {
    return this.#metafields.get(n)?.get(mfKey(namespace, key))
  }

  /** A page metafield by numeric id, if it exists. */
  metafieldById(id: number): MetafieldRecord | undefined {
    for (const owned of this.#metafields.values()) for (const m of owned.values()) if (m.id === id) return m
    return undefined
  }

  upsertMetafield(n: number, input: { namespace: string; key: string; type: string; value: string }, now: number): MetafieldRecord {
    const page = this.#pages.get(n)
    if (page === undefined) throw new Error(`no page ${n}`)
    let owned = this.#metafields.get(n)
    if (owned === undefined) {
      owned = new Map()
      this.#metafields.set(n, owned)
    }
    const existing = owned.get(mfKey(input.namespace, input.key))
    const id = existing?.id ?? this.#nextMetafieldId++
    const record: MetafieldRecord = {
      __typename: "Metafield",
      id,
      gid: gid("Metafield", id),
      ownerNum: n,
      ownerGid: page.gid,
      namespace: input.namespace,
      key: input.key,
      type: input.type,
      value: input.value,
      createdAt: existing?.createdAt ?? now,
      updatedAt: now
    }
    owned.set(mfKey(input.namespace, input.key), record)
    return record
  }

  deleteMetafield(n: number, namespace: string, key: string): boolean {
    return this.#metafields.get(n)?.delete(mfKey(namespace, key)) ?? false
  }
}

/** `PageUpdateInput` after GraphQL coercion. */
export interface PageUpdateInput {
  readonly title?: string | null
  readonly handle?: string | null
  readonly body?: string | null
  readonly isPublished?: boolean | null
  readonly publishDate?: string | null
  readonly templateSuffix?: string | null
  readonly redirectNewHandle?: boolean | null
  readonly metafields?: ReadonlyArray<{
    readonly id?: string | null
    readonly namespace?: string | null
    readonly key?: string | null
    readonly type?: string | null
    readonly value?: string | null
  }> | null
}

/** `PageUpdateUserError`. */
export interface PageUpdateUserError {
  readonly field: ReadonlyArray<string> | null
  readonly message: string
  readonly code: string | null
}

/** Context for `pageUpdate`. */
export interface PageUpdateContext {
  readonly pages: Pages
  readonly redirects: UrlRedirects
  /** For validating `metafields` exactly as `metafieldsSet` does. */
  readonly metafields: MetafieldsContext
  readonly now: number
}

const MAX_TITLE_LENGTH = 255
/** `PageUpdateUserErrorCode` values; `metafieldsSet` codes outside it are reported as INVALID. */
const PAGE_ERROR_CODES = new Set(["BLANK", "INVALID", "INVALID_PUBLISH_DATE", "INVALID_TYPE", "INVALID_VALUE", "NOT_FOUND", "TAKEN", "TOO_BIG", "TOO_LONG"])

/**
 * Runs `pageUpdate(id:, page:)`. Partial: omitted fields keep their value. Atomic: any
 * userError means nothing is written and `page` is null. `updatedAt` moves only when
 * something actually changes (fields, publication or metafields).
 */
export const pageUpdate = (
  ctx: PageUpdateContext,
  id: string,
  input: PageUpdateInput
): { readonly page: PageRecord | null; readonly userErrors: ReadonlyArray<PageUpdateUserError> } => {
  const num = ctx.pages.numOf(id)
  const page = num === undefined ? undefined : ctx.pages.get(num)
  if (num === undefined || page === undefined) {
    return { page: null, userErrors: [{ field: ["id"], message: "Page does not exist", code: "NOT_FOUND" }] }
  }
  const errors: Array<PageUpdateUserError> = []
  const fail = (field: ReadonlyArray<string>, message: string, code: string) => errors.push({ field: ["page", ...field], message, code })
  const changes: { -readonly [K in "title" | "handle" | "body" | "templateSuffix" | "publishedAt"]?: PageRecord[K] } = {}

  if (input.title !== undefined && input.title !== null) {
    const title = input.title.trim()
    if (title === "") fail(["title"], "Title can't be blank", "BLANK")
    else if (title.length > MAX_TITLE_LENGTH) fail(["title"], `Title is too long (maximum is ${MAX_TITLE_LENGTH} characters)`, "TOO_LONG")
    else if (title !== page.title) changes.title = title
  }
  if (input.handle !== undefined && input.handle !== null) {
    // A blank handle is derived from the (new) title again, as in the admin.
    const handle = toHandle(input.handle.trim() === "" ? (changes.title ?? page.title) : input.handle)
    const holder = ctx.pages.byHandle(handle)
    if (holder !== undefined && holder.num !== num) fail(["handle"], "Handle has already been taken", "TAKEN")
    else if (handle !== page.handle) changes.handle = handle
  }
  if (input.body !== undefined && input.body !== null && input.body !== page.body) changes.body = input.body
  if (input.templateSuffix !== undefined) {
    const suffix = input.templateSuffix === null || input.templateSuffix === "" ? null : input.templateSuffix
    if (suffix !== page.templateSuffix) changes.templateSuffix = suffix
  }

  // Publication: see the module comment.
  let publishDate: number | undefined
  if (input.publishDate !== undefined && input.publishDate !== null) {
    publishDate = Date.parse(input.publishDate)
    if (Number.isNaN(publishDate)) {
      fail(["publishDate"], "Publish date is invalid", "INVALID")
      publishDate = undefined
    }
  }
  if (input.isPublished === true && publishDate !== undefined && publishDate > ctx.now) {
    fail(["publishDate"], "Can’t set isPublished to true and also set a future publish date.", "INVALID_PUBLISH_DATE")
  } else if (input.isPublished === false) {
    if (page.publishedAt !== null) changes.publishedAt = null
  } else if (publishDate !== undefined) {
    if (publishDate !== page.publishedAt) changes.publishedAt = publishDate
  } else if (input.isPublished === true && !isPagePublished(page, ctx.now)) {
    changes.publishedAt = ctx.now
  }

  // Metafields: validated exactly like `metafieldsSet` on this page, reported under `page.metafields`.
  const metafieldInputs: Array<MetafieldsSetInput> = []
  ;(input.metafields ?? []).forEach((m, i) => {
    const byId = m.id === undefined || m.id === null ? undefined : ctx.pages.metafields(num).find((x) => x.gid === m.id)
    if (m.id !== undefined && m.id !== null && byId === undefined) {
      return fail(["metafields", String(i), "id"], "Metafield does not exist", "NOT_FOUND")
    }
    const key = byId?.key ?? m.key
    if (key === undefined || key === null) return fail(["metafields", String(i), "key"], "Key can't be blank", "BLANK")
    if (m.value === undefined || m.value === null) return fail(["metafields", String(i), "value"], "Value can't be blank", "BLANK")
    metafieldInputs.push({
      ownerId: page.gid,
      namespace: byId?.namespace ?? m.namespace ?? null,
      key,
      type: m.type ?? byId?.type ?? null,
      value: m.value
    })
  })
  const plan = errors.length > 0 ? { planned: [], userErrors: [] } : planMetafieldsSet(ctx.metafields, metafieldInputs)
  for (const e of plan.userErrors) {
    const [, index, ...rest] = e.field ?? []
    errors.push({
      field: e.field === null ? null : ["page", "metafields", ...(index === undefined ? [] : [index]), ...rest],
      message: e.message,
      code: PAGE_ERROR_CODES.has(e.code) ? e.code : "INVALID"
    })
  }
  if (errors.length > 0) return { page: null, userErrors: errors }

  // Only metafields whose value or type differ are written, so an identical retry changes nothing.
  const metafieldWrites = plan.planned.filter((p) => {
    const existing = ctx.pages.metafield(num, p.namespace, p.key)
    return existing === undefined || existing.value !== p.value || existing.type !== p.type
  })
  for (const p of metafieldWrites) p.store.upsertMetafield(p.num, p, ctx.now)
  if (Object.keys(changes).length === 0 && metafieldWrites.length === 0) return { page, userErrors: [] }
  // `redirectNewHandle`: the old URL keeps working, unless a redirect already owns that path.
  if (changes.handle !== undefined && input.redirectNewHandle === true) {
    const from = `/pages/${page.handle}`
    if (ctx.redirects.byPath(from) === undefined) ctx.redirects.add(from, `/pages/${changes.handle}`, ctx.now)
  }
  return { page: ctx.pages.update(num, changes, ctx.now), userErrors: [] }
}

/** The sort value of `pages(sortKey:)` (`PageSortKeys` of 2026-07). */
export const pageSortValue = (sortKey: string | null | undefined): ((p: PageRecord) => string | number) => {
  switch (sortKey ?? "ID") {
    case "ID":
      return (p) => p.id
    case "TITLE":
      return (p) => p.title.toLowerCase()
    case "UPDATED_AT":
      return (p) => p.updatedAt
    case "PUBLISHED_AT":
      return (p) => p.publishedAt ?? Number.POSITIVE_INFINITY
    default:
      throw new GraphQLError(`The Shopify simulator does not implement pages(sortKey: ${sortKey}).`, { extensions: { code: "SIMULATOR_NOT_IMPLEMENTED" } })
  }
}
