/**
 * Field resolvers of the simulated Admin API. One table serves both normal GraphQL
 * execution (via graphql-js) and the bulk-query JSONL projector, so both always agree.
 * Fields without a resolver fall back to the source object's property of the same name;
 * anything else is reported as not implemented by the simulator (never silently null).
 */
import { GraphQLError, getNamedType, isObjectType } from "graphql"
import { isoSeconds } from "./clock.ts"
import { isBulkConnection, pageArray, pageByKey, type BulkConnection, type PageArgs } from "./connections.ts"
import { metafieldDigest, type MetafieldRecord, type ProductRecord } from "./catalog.ts"
import { gid, gidNumber, parseGid } from "./ids.ts"
import {
  metafieldsDelete,
  metafieldsSet,
  type MetafieldIdentifierInput,
  type MetafieldsContext,
  type MetafieldsSetInput
} from "./metafields.ts"
import { tagsAdd, tagsRemove, type TagsContext } from "./tags.ts"
import { isPagePublished, pageSortValue, pageUpdate, type PageRecord, type PageUpdateInput } from "./pages.ts"
import { articleCreate, articleDelete, type ArticleInput, type ArticleRecord, articleUpdate, type BlogRecord } from "./articles.ts"
import { productSeo, productUpdate, type ProductUpdateIdentifiers, type ProductUpdateInput } from "./products.ts"
import {
  publishablePublish,
  publishableUnpublish,
  type PublicationInput,
  type PublicationRecord,
  type PublishContext,
  type ResourcePublication
} from "./publications.ts"
import { urlRedirectCreate, urlRedirectDelete, urlRedirectUpdate, type UrlRedirectInput, type UrlRedirectRecord } from "./urlRedirects.ts"
import { compileSearch, exactMatch, numberMatch, parseSearch, phraseMatch, timeMatch, type SearchTerm, type SearchWarning } from "./search.ts"
import type { BulkOperationRecord } from "./bulk/types.ts"
import type { MutationCall, SimulatedShop } from "./simulatedShop.ts"

/** Per-execution context. */
export interface ExecContext {
  readonly shop: SimulatedShop
  /** `bulk`: connections stream every node and ignore pagination. */
  readonly mode: "request" | "bulk"
  readonly apiVersion: string
  /** Collected for `extensions.search`. */
  readonly searchWarnings: Array<{ readonly path: ReadonlyArray<string | number>; readonly query: string; readonly warnings: ReadonlyArray<SearchWarning> }>
}

export type Resolver = (source: never, args: never, ctx: ExecContext, path: ReadonlyArray<string | number>) => unknown

/** Thrown for schema fields the simulator does not implement. */
export class NotImplemented extends GraphQLError {
  constructor(typeName: string, fieldName: string) {
    super(`The Shopify simulator does not implement ${typeName}.${fieldName}.`, {
      extensions: { code: "SIMULATOR_NOT_IMPLEMENTED" }
    })
  }
}

const productFields = {
  status: (p: ProductRecord, t: SearchTerm) => exactMatch(p.status, t),
  tag: (p: ProductRecord, t: SearchTerm) => p.tags.some((tag) => exactMatch(tag, t)),
  tag_not: (p: ProductRecord, t: SearchTerm) => !p.tags.some((tag) => exactMatch(tag, t)),
  vendor: (p: ProductRecord, t: SearchTerm) => exactMatch(p.vendor, t),
  product_type: (p: ProductRecord, t: SearchTerm) => exactMatch(p.productType, t),
  title: (p: ProductRecord, t: SearchTerm) => phraseMatch(p.title, t),
  handle: (p: ProductRecord, t: SearchTerm) => exactMatch(p.handle, t),
  id: (p: ProductRecord, t: SearchTerm) => numberMatch(p.id, t),
  created_at: (p: ProductRecord, t: SearchTerm) => timeMatch(p.createdAt, t),
  updated_at: (p: ProductRecord, t: SearchTerm) => timeMatch(p.updatedAt, t)
}

const productDefault = (p: ProductRecord, t: SearchTerm): boolean =>
  phraseMatch(p.title, t) || phraseMatch(p.vendor, t) || phraseMatch(p.productType, t) || p.tags.some((tag) => phraseMatch(tag, t))

/** Compiles a product search (`products(query:)`), recording unknown-field warnings. */
export const productPredicate = (
  ctx: ExecContext,
  query: unknown,
  path: ReadonlyArray<string | number>
): ((p: ProductRecord) => boolean) => {
  if (typeof query !== "string" || query.trim() === "") return () => true
  const { predicate, warnings } = compileSearch(parseSearch(query), productFields, productDefault)
  if (warnings.length > 0) ctx.searchWarnings.push({ path, query, warnings })
  return predicate
}

const bulkOperationFields = {
  status: (o: BulkOperationRecord, t: SearchTerm) => exactMatch(o.status, t),
  operation_type: (o: BulkOperationRecord, t: SearchTerm) => exactMatch(o.type, t),
  type: (o: BulkOperationRecord, t: SearchTerm) => exactMatch(o.type, t),
  created_at: (o: BulkOperationRecord, t: SearchTerm) => timeMatch(o.createdAt, t),
  completed_at: (o: BulkOperationRecord, t: SearchTerm) => timeMatch(o.completedAt, t),
  id: (o: BulkOperationRecord, t: SearchTerm) => numberMatch(o.id, t)
}

const metafieldsContext = (ctx: ExecContext): MetafieldsContext => ({
  catalog: ctx.shop.catalog,
  pages: ctx.shop.pages,
  now: ctx.shop.runtime.clock(),
  appNamespace: ctx.shop.runtime.appNamespace,
  shopCurrency: ctx.shop.currency,
  injectedErrors: ctx.shop.faults.ownerErrors
})

const tagsContext = (ctx: ExecContext): TagsContext => ({ catalog: ctx.shop.catalog, now: ctx.shop.runtime.clock() })

const publishContext = (ctx: ExecContext): PublishContext => ({
  catalog: ctx.shop.catalog,
  publications: ctx.shop.publications,
  now: ctx.shop.runtime.clock()
})

/** `articles(query:)` fields (https://shopify.dev/docs/api/admin-graphql/latest/queries/articles). */
const articleFields = {
  id: (a: ArticleRecord, t: SearchTerm) => numberMatch(a.num, t),
  handle: (a: ArticleRecord, t: SearchTerm) => exactMatch(a.handle, t),
  title: (a: ArticleRecord, t: SearchTerm) => phraseMatch(a.title, t),
  blog_id: (a: ArticleRecord, t: SearchTerm) => numberMatch(a.blogNum, t),
  tag: (a: ArticleRecord, t: SearchTerm) => a.tags.some((tag) => exactMatch(tag, t))
}

/** `pages(query:)` fields (https://shopify.dev/docs/api/admin-graphql/latest/queries/pages). */
const pageFields = (now: number) => ({
  id: (p: PageRecord, t: SearchTerm) => numberMatch(p.id, t),
  handle: (p: PageRecord, t: SearchTerm) => exactMatch(p.handle, t),
  title: (p: PageRecord, t: SearchTerm) => phraseMatch(p.title, t),
  created_at: (p: PageRecord, t: SearchTerm) => timeMatch(p.createdAt, t),
  updated_at: (p: PageRecord, t: SearchTerm) => timeMatch(p.updatedAt, t),
  published_at: (p: PageRecord, t: SearchTerm) => timeMatch(p.publishedAt, t),
  published_status: (p: PageRecord, t: SearchTerm) => {
    const status = t.value.toLowerCase()
    return status === "any" || (status === "published") === isPagePublished(p, now)
  }
})

/** `urlRedirects(query:)` fields: `path:/old` is an exact (case-insensitive) match, as paths are. */
const urlRedirectFields = {
  id: (r: UrlRedirectRecord, t: SearchTerm) => numberMatch(r.id, t),
  path: (r: UrlRedirectRecord, t: SearchTerm) => exactMatch(r.path, t),
  target: (r: UrlRedirectRecord, t: SearchTerm) => exactMatch(r.target, t),
  created_at: (r: UrlRedirectRecord, t: SearchTerm) => timeMatch(r.createdAt, t)
}

/** Compiles a search over an in-memory list, recording unknown-field warnings like `productPredicate`. */
const listPredicate = <T>(
  ctx: ExecContext,
  query: unknown,
  path: ReadonlyArray<string | number>,
  fields: Readonly<Record<string, (item: T, t: SearchTerm) => boolean>>,
  defaultField: (item: T, t: SearchTerm) => boolean
): ((item: T) => boolean) => {
  if (typeof query !== "string" || query.trim() === "") return () => true
  const { predicate, warnings } = compileSearch(parseSearch(query), fields, defaultField)
  if (warnings.length > 0) ctx.searchWarnings.push({ path, query, warnings })
  return predicate
}

/** Sorts by `value` (then id), reversed with `reverse: true`. */
const sortedBy = <T extends { readonly id: number }>(items: ReadonlyArray<T>, value: (item: T) => string | number, reverse: boolean): Array<T> => {
  const out = [...items].sort((a, b) => {
    const va = value(a)
    const vb = value(b)
    return va < vb ? -1 : va > vb ? 1 : a.id - b.id
  })
  return reverse ? out.reverse() : out
}

/** The `AppCatalog` behind a sales channel publication (what `Publication.catalog` serves). */
const appCatalogOf = (p: PublicationRecord) => ({ __typename: "AppCatalog", id: gid("AppCatalog", p.num), title: p.name, status: "ACTIVE", publication: p })

/** Product `publishedAt`: when it was published on the Online Store publication (null: not published there). */
const onlineStorePublishedAt = (ctx: ExecContext, p: ProductRecord): string | null => {
  const store = ctx.shop.publications.find("Online Store")
  if (store === undefined) return null
  const date = ctx.shop.publications.publishDate(p.num, store.num)
  return date !== undefined && ctx.shop.publications.isPublished(p.num, store.num, ctx.shop.runtime.clock()) ? isoSeconds(date) : null
}

const connection = <T>(ctx: ExecContext, iterate: () => Iterable<T>, page: () => unknown): BulkConnection<T> | unknown =>
  ctx.mode === "bulk" ? ({ kind: "bulk-connection", iterate } satisfies BulkConnection<T>) : page()

/** Products matching a search, in ID order (or reversed), starting after product number `after`. */
function* scanProducts(ctx: ExecContext, predicate: (p: ProductRecord) => boolean, afterNum: number | undefined, backwards: boolean) {
  const start = afterNum === undefined ? undefined : backwards ? afterNum - 1 : afterNum + 1
  for (const p of ctx.shop.catalog.iterate(start, backwards)) if (predicate(p)) yield p
}

const resolveNode = (ctx: ExecContext, id: unknown): unknown => {
  if (typeof id !== "string") return null
  const parsed = parseGid(id)
  if (parsed === undefined) return null
  switch (parsed.type) {
    case "Product": {
      const n = ctx.shop.catalog.numOf(id)
      return n === undefined ? null : (ctx.shop.catalog.product(n) ?? null)
    }
    case "Metafield": {
      const n = gidNumber(id, "Metafield")
      return n === undefined ? null : (ctx.shop.catalog.metafieldById(n) ?? ctx.shop.pages.metafieldById(n) ?? null)
    }
    case "Page": {
      const n = ctx.shop.pages.numOf(id)
      return n === undefined ? null : (ctx.shop.pages.get(n) ?? null)
    }
    case "Article": {
      const n = ctx.shop.blogs.articleNumOf(id)
      return n === undefined ? null : (ctx.shop.blogs.article(n) ?? null)
    }
    case "Blog": {
      const n = ctx.shop.blogs.blogNumOf(id)
      return n === undefined ? null : (ctx.shop.blogs.blog(n) ?? null)
    }
    case "UrlRedirect": {
      const n = gidNumber(id, "UrlRedirect")
      return n === undefined ? null : (ctx.shop.urlRedirects.get(n) ?? null)
    }
    case "Publication":
      return ctx.shop.publications.byGid(id) ?? null
    case "BulkOperation": {
      const n = gidNumber(id, "BulkOperation")
      return n === undefined ? null : (ctx.shop.bulk.get(n) ?? null)
    }
    case "Shop":
      return gidNumber(id, "Shop") === ctx.shop.number ? ctx.shop.shopObject() : null
    default:
      return null
  }
}

const jsonValueOf = (m: MetafieldRecord): unknown => {
  try {
    switch (m.type) {
      case "number_integer":
      case "number_decimal":
        return Number(m.value)
      case "boolean":
        return m.value === "true"
      case "json":
      case "money":
      case "rating":
      case "dimension":
      case "weight":
      case "volume":
      case "link":
      case "rich_text_field":
        return JSON.parse(m.value)
      default:
        return m.type.startsWith("list.") ? JSON.parse(m.value) : m.value
    }
  } catch {
    return m.value
  }
}

/** The resolver table, by GraphQL type then field. */
export const resolvers: Record<string, Record<string, Resolver>> = {
  QueryRoot: {
    products: ((_: unknown, args: PageArgs & { query?: string | null }, ctx, path) => {
      const predicate = productPredicate(ctx, args.query, path)
      const reverse = args.reverse === true
      return connection(
        ctx,
        () => scanProducts(ctx, predicate, undefined, reverse),
        () =>
          pageByKey<ProductRecord>(
            args,
            (p) => p.id,
            (afterKey, backwards) =>
              scanProducts(
                ctx,
                predicate,
                afterKey === undefined ? undefined : afterKey - ctx.shop.catalog.productIdOffset,
                backwards !== reverse
              ),
            "products"
          )
      )
    }) as Resolver,
    product: ((_: unknown, args: { id: string }, ctx) => {
      const n = ctx.shop.catalog.numOf(args.id)
      return n === undefined ? null : (ctx.shop.catalog.product(n) ?? null)
    }) as Resolver,
    productsCount: ((_: unknown, args: { query?: string | null; limit?: number | null }, ctx, path) => {
      const predicate = productPredicate(ctx, args.query, path)
      const limit = args.limit ?? null
      let count = 0
      for (const p of ctx.shop.catalog.iterate()) {
        if (!predicate(p)) continue
        count++
        if (limit !== null && count > limit) return { count: limit, precision: "AT_LEAST" }
      }
      return { count, precision: "EXACT" }
    }) as Resolver,
    page: ((_: unknown, args: { id: string }, ctx) => {
      const n = ctx.shop.pages.numOf(args.id)
      return n === undefined ? null : (ctx.shop.pages.get(n) ?? null)
    }) as Resolver,
    pages: ((_: unknown, args: PageArgs & { query?: string | null; sortKey?: string | null; savedSearchId?: string | null }, ctx, path) => {
      if (args.savedSearchId !== undefined && args.savedSearchId !== null) throw new NotImplemented("QueryRoot", "pages(savedSearchId:)")
      const now = ctx.shop.runtime.clock()
      const predicate = listPredicate(ctx, args.query, path, pageFields(now), (p: PageRecord, t) => phraseMatch(p.title, t) || phraseMatch(p.handle, t))
      const pages = sortedBy(ctx.shop.pages.list().filter(predicate), pageSortValue(args.sortKey), args.reverse === true)
      return connection(ctx, () => pages, () => pageArray(args, pages, (p) => p.id, "pages"))
    }) as Resolver,
    article: ((_: unknown, args: { id: string }, ctx) => {
      const n = ctx.shop.blogs.articleNumOf(args.id)
      return n === undefined ? null : (ctx.shop.blogs.article(n) ?? null)
    }) as Resolver,
    articles: ((_: unknown, args: PageArgs & { query?: string | null; sortKey?: string | null }, ctx, path) => {
      if (args.sortKey !== undefined && args.sortKey !== null && args.sortKey !== "ID") throw new NotImplemented("QueryRoot", `articles(sortKey: ${args.sortKey})`)
      const predicate = listPredicate(ctx, args.query, path, articleFields, (a: ArticleRecord, t) => phraseMatch(a.title, t) || phraseMatch(a.handle, t))
      const list = ctx.shop.blogs.articles().filter(predicate)
      const ordered = args.reverse === true ? [...list].reverse() : list
      return connection(ctx, () => ordered, () => pageArray(args, ordered, (a) => a.num, "articles"))
    }) as Resolver,
    blog: ((_: unknown, args: { id: string }, ctx) => {
      const n = ctx.shop.blogs.blogNumOf(args.id)
      return n === undefined ? null : (ctx.shop.blogs.blog(n) ?? null)
    }) as Resolver,
    blogs: ((_: unknown, args: PageArgs, ctx) => {
      const list = ctx.shop.blogs.blogs()
      return connection(ctx, () => list, () => pageArray(args, list, (b) => b.num, "blogs"))
    }) as Resolver,
    urlRedirect: ((_: unknown, args: { id: string }, ctx) => {
      const n = gidNumber(args.id, "UrlRedirect")
      return n === undefined ? null : (ctx.shop.urlRedirects.get(n) ?? null)
    }) as Resolver,
    urlRedirects: ((_: unknown, args: PageArgs & { query?: string | null; sortKey?: string | null; savedSearchId?: string | null }, ctx, path) => {
      if (args.savedSearchId !== undefined && args.savedSearchId !== null) throw new NotImplemented("QueryRoot", "urlRedirects(savedSearchId:)")
      const predicate = listPredicate(ctx, args.query, path, urlRedirectFields, (r: UrlRedirectRecord, t) => phraseMatch(r.path, t) || phraseMatch(r.target, t))
      // RELEVANCE has no meaning without a ranking: it keeps id order, like ID.
      const byPath = args.sortKey === "PATH"
      const redirects = sortedBy(ctx.shop.urlRedirects.list().filter(predicate), (r) => (byPath ? r.path.toLowerCase() : r.id), args.reverse === true)
      return connection(ctx, () => redirects, () => pageArray(args, redirects, (r) => r.id, "urlRedirects"))
    }) as Resolver,
    publications: ((_: unknown, args: PageArgs & { catalogType?: string | null }, ctx) => {
      // Every simulated publication belongs to a sales channel app's catalog (`APP`).
      const all = args.catalogType === undefined || args.catalogType === null || args.catalogType === "APP" ? ctx.shop.publications.list() : []
      const publications = args.reverse === true ? [...all].reverse() : all
      return connection(ctx, () => publications, () => pageArray(args, publications, (p) => p.num, "publications"))
    }) as Resolver,
    publication: ((_: unknown, args: { id: string }, ctx) => ctx.shop.publications.byGid(args.id) ?? null) as Resolver,
    node: ((_: unknown, args: { id: string }, ctx) => resolveNode(ctx, args.id)) as Resolver,
    nodes: ((_: unknown, args: { ids: ReadonlyArray<string> }, ctx) => {
      if (args.ids.length > 250) throw new GraphQLError("The maximum number of ids is 250.")
      return args.ids.map((id) => resolveNode(ctx, id))
    }) as Resolver,
    shop: ((_: unknown, _args, ctx) => ctx.shop.shopObject()) as Resolver,
    bulkOperation: ((_: unknown, args: { id: string }, ctx) => {
      const n = gidNumber(args.id, "BulkOperation")
      return n === undefined ? null : (ctx.shop.bulk.get(n) ?? null)
    }) as Resolver,
    currentBulkOperation: ((_: unknown, args: { type?: string | null }, ctx) => ctx.shop.bulk.current((args.type ?? "QUERY") as "QUERY" | "MUTATION") ?? null) as Resolver,
    bulkOperations: ((_: unknown, args: PageArgs & { query?: string | null; sortKey?: string | null }, ctx, path) => {
      let ops = [...ctx.shop.bulk.list()]
      if (typeof args.query === "string" && args.query.trim() !== "") {
        const { predicate, warnings } = compileSearch(parseSearch(args.query), bulkOperationFields, () => true)
        if (warnings.length > 0) ctx.searchWarnings.push({ path, query: args.query, warnings })
        ops = ops.filter(predicate)
      }
      const completedKey = (o: BulkOperationRecord) => o.completedAt ?? Number.POSITIVE_INFINITY
      ops.sort((a, b) => (args.sortKey === "COMPLETED_AT" ? completedKey(a) - completedKey(b) || a.id - b.id : a.id - b.id))
      // Newest first unless `reverse: true`.
      if (args.reverse !== true) ops.reverse()
      return connection(ctx, () => ops, () => pageArray(args, ops, (o) => o.id, "bulkOperations"))
    }) as Resolver
  },
  Mutation: {
    bulkOperationRunQuery: ((_: unknown, args: { query: string; groupObjects: boolean }, ctx) =>
      ctx.shop.bulk.submitQuery(args.query, args.groupObjects, ctx.apiVersion)) as Resolver,
    bulkOperationRunMutation: ((
      _: unknown,
      args: { mutation: string; stagedUploadPath: string; clientIdentifier?: string | null; groupObjects?: boolean | null },
      ctx
    ) => ctx.shop.bulk.submitMutation(args.mutation, args.stagedUploadPath, args.clientIdentifier ?? null, ctx.apiVersion)) as Resolver,
    bulkOperationCancel: ((_: unknown, args: { id: string }, ctx) => ctx.shop.bulk.cancel(args.id)) as Resolver,
    stagedUploadsCreate: ((
      _: unknown,
      args: { input: ReadonlyArray<{ resource: string; filename: string; mimeType: string; httpMethod?: string | null }> },
      ctx
    ) => {
      if (args.input.length > 250) {
        return { stagedTargets: null, userErrors: [{ field: ["input"], message: "The input array size of 251 is greater than the maximum allowed of 250." }] }
      }
      const userErrors: Array<{ field: ReadonlyArray<string>; message: string }> = []
      args.input.forEach((input, i) => {
        if (input.resource !== "BULK_MUTATION_VARIABLES") {
          userErrors.push({ field: ["input", String(i), "resource"], message: `The Shopify simulator only supports BULK_MUTATION_VARIABLES (got ${input.resource}).` })
        } else if ((input.httpMethod ?? "PUT") !== "POST") {
          userErrors.push({ field: ["input", String(i), "httpMethod"], message: "The Shopify simulator only supports httpMethod POST for BULK_MUTATION_VARIABLES." })
        } else if (input.filename.trim() === "") {
          userErrors.push({ field: ["input", String(i), "filename"], message: "Filename can't be blank" })
        }
      })
      if (userErrors.length > 0) return { stagedTargets: null, userErrors }
      const stagedTargets = args.input.map((input) => {
        const t = ctx.shop.staged.createTarget({
          filename: input.filename,
          mimeType: input.mimeType,
          baseUrl: ctx.shop.runtime.baseUrl,
          now: ctx.shop.runtime.clock()
        })
        return { url: t.url, resourceUrl: null, parameters: t.parameters }
      })
      return { stagedTargets, userErrors: [] }
    }) as Resolver,
    metafieldsSet: ((_: unknown, args: { metafields: ReadonlyArray<MetafieldsSetInput> }, ctx) => {
      const result = metafieldsSet(metafieldsContext(ctx), args.metafields)
      return { metafields: result.metafields, userErrors: result.userErrors }
    }) as Resolver,
    metafieldsDelete: ((_: unknown, args: { metafields: ReadonlyArray<MetafieldIdentifierInput> }, ctx) =>
      metafieldsDelete(metafieldsContext(ctx), args.metafields)) as Resolver,
    tagsAdd: ((_: unknown, args: { id: string; tags: ReadonlyArray<string> }, ctx) => tagsAdd(tagsContext(ctx), args.id, args.tags)) as Resolver,
    tagsRemove: ((_: unknown, args: { id: string; tags: ReadonlyArray<string> }, ctx) =>
      tagsRemove(tagsContext(ctx), args.id, args.tags)) as Resolver,
    productUpdate: ((
      _: unknown,
      args: { product?: ProductUpdateInput | null; input?: ProductUpdateInput | null; identifier?: ProductUpdateIdentifiers | null; media?: unknown },
      ctx
    ) => {
      if (args.media !== undefined && args.media !== null) throw new NotImplemented("Mutation", "productUpdate(media:)")
      // `input:` (ProductInput) is deprecated in favour of `product:` but still works on Shopify.
      return productUpdate({ catalog: ctx.shop.catalog, now: ctx.shop.runtime.clock() }, args.product ?? args.input ?? {}, args.identifier)
    }) as Resolver,
    pageUpdate: ((_: unknown, args: { id: string; page: PageUpdateInput }, ctx) =>
      pageUpdate(
        { pages: ctx.shop.pages, redirects: ctx.shop.urlRedirects, metafields: metafieldsContext(ctx), now: ctx.shop.runtime.clock() },
        args.id,
        args.page
      )) as Resolver,
    articleCreate: ((_: unknown, args: { article: ArticleInput; blog?: { title?: string | null } | null }, ctx) =>
      articleCreate(ctx.shop.blogs, ctx.shop.runtime.clock(), args.article, args.blog)) as Resolver,
    articleUpdate: ((_: unknown, args: { id: string; article: ArticleInput }, ctx) =>
      articleUpdate(ctx.shop.blogs, ctx.shop.runtime.clock(), args.id, args.article)) as Resolver,
    articleDelete: ((_: unknown, args: { id: string }, ctx) => articleDelete(ctx.shop.blogs, args.id)) as Resolver,
    urlRedirectCreate: ((_: unknown, args: { urlRedirect: UrlRedirectInput }, ctx) =>
      urlRedirectCreate(ctx.shop.urlRedirects, args.urlRedirect, ctx.shop.runtime.clock())) as Resolver,
    urlRedirectUpdate: ((_: unknown, args: { id: string; urlRedirect: UrlRedirectInput }, ctx) =>
      urlRedirectUpdate(ctx.shop.urlRedirects, args.id, args.urlRedirect)) as Resolver,
    urlRedirectDelete: ((_: unknown, args: { id: string }, ctx) => urlRedirectDelete(ctx.shop.urlRedirects, args.id)) as Resolver,
    publishablePublish: ((_: unknown, args: { id: string; input: ReadonlyArray<PublicationInput> }, ctx) => ({
      ...publishablePublish(publishContext(ctx), args.id, args.input),
      shop: ctx.shop.shopObject()
    })) as Resolver,
    publishableUnpublish: ((_: unknown, args: { id: string; input: ReadonlyArray<PublicationInput> }, ctx) => ({
      ...publishableUnpublish(publishContext(ctx), args.id, args.input),
      shop: ctx.shop.shopObject()
    })) as Resolver
  },
  Product: {
    id: ((p: ProductRecord) => p.gid) as Resolver,
    legacyResourceId: ((p: ProductRecord) => String(p.id)) as Resolver,
    createdAt: ((p: ProductRecord) => isoSeconds(p.createdAt)) as Resolver,
    updatedAt: ((p: ProductRecord) => isoSeconds(p.updatedAt)) as Resolver,
    publishedAt: ((p: ProductRecord, _args, ctx) => onlineStorePublishedAt(ctx, p)) as Resolver,
    description: (() => "") as Resolver,
    descriptionHtml: (() => "") as Resolver,
    totalInventory: (() => 0) as Resolver,
    tracksInventory: (() => false) as Resolver,
    isGiftCard: (() => false) as Resolver,
    hasOnlyDefaultVariant: (() => true) as Resolver,
    hasOutOfStockVariants: (() => false) as Resolver,
    requiresSellingPlan: (() => false) as Resolver,
    templateSuffix: (() => null) as Resolver,
    giftCardTemplateSuffix: (() => null) as Resolver,
    onlineStoreUrl: (() => null) as Resolver,
    seo: ((p: ProductRecord, _args, ctx) => productSeo(ctx.shop.catalog, p.num)) as Resolver,
    publishedOnPublication: ((p: ProductRecord, args: { publicationId: string }, ctx) => {
      const publication = ctx.shop.publications.byGid(args.publicationId)
      return publication !== undefined && ctx.shop.publications.isPublished(p.num, publication.num, ctx.shop.runtime.clock())
    }) as Resolver,
    // "Published to the app's publication": the simulated app is not a sales channel and has none.
    publishedOnCurrentPublication: (() => false) as Resolver,
    resourcePublicationsV2: ((p: ProductRecord, args: PageArgs & { onlyPublished?: boolean | null; catalogType?: string | null }, ctx) => {
      const app = args.catalogType === undefined || args.catalogType === null || args.catalogType === "APP"
      const list = app ? ctx.shop.publications.resourcePublications(p, args.onlyPublished !== false, ctx.shop.runtime.clock()) : []
      const ordered = args.reverse === true ? [...list].reverse() : list
      return connection(ctx, () => ordered, () => pageArray(args, ordered, (r) => r.publication.num, "resourcePublicationsV2"))
    }) as Resolver,
    resourcePublications: ((p: ProductRecord, args: PageArgs & { onlyPublished?: boolean | null }, ctx) => {
      const list = ctx.shop.publications.resourcePublications(p, args.onlyPublished !== false, ctx.shop.runtime.clock())
      const ordered = args.reverse === true ? [...list].reverse() : list
      return connection(ctx, () => ordered, () => pageArray(args, ordered, (r) => r.publication.num, "resourcePublications"))
    }) as Resolver,
    resourcePublicationsCount: ((p: ProductRecord, args: { onlyPublished?: boolean | null }, ctx) => ({
      count: ctx.shop.publications.resourcePublications(p, args.onlyPublished !== false, ctx.shop.runtime.clock()).length,
      precision: "EXACT"
    })) as Resolver,
    availablePublicationsCount: ((_p: ProductRecord, _args, ctx) => ({ count: ctx.shop.publications.list().length, precision: "EXACT" })) as Resolver,
    unpublishedPublications: ((p: ProductRecord, args: PageArgs, ctx) => {
      const now = ctx.shop.runtime.clock()
      const list = ctx.shop.publications.list().filter((pub) => !ctx.shop.publications.isPublished(p.num, pub.num, now))
      const ordered = args.reverse === true ? [...list].reverse() : list
      return connection(ctx, () => ordered, () => pageArray(args, ordered, (pub) => pub.num, "unpublishedPublications"))
    }) as Resolver,
    defaultCursor: ((p: ProductRecord) => Buffer.from(JSON.stringify({ last_id: p.id, last_value: p.id })).toString("base64")) as Resolver,
    metafield: ((p: ProductRecord, args: { namespace?: string | null; key: string }, ctx) =>
      ctx.shop.catalog.metafield(p.num, args.namespace ?? ctx.shop.runtime.appNamespace, args.key) ?? null) as Resolver,
    metafields: ((
      p: ProductRecord,
      args: PageArgs & { namespace?: string | null; keys?: ReadonlyArray<string> | null },
      ctx
    ) => {
      let list = ctx.shop.catalog.metafields(p.num)
      if (args.namespace !== undefined && args.namespace !== null) list = list.filter((m) => m.namespace === args.namespace)
      if (args.keys !== undefined && args.keys !== null) {
        const keys = new Set(args.keys)
        list = list.filter((m) => keys.has(`${m.namespace}.${m.key}`))
      }
      if (args.reverse === true) list = [...list].reverse()
      return connection(ctx, () => list, () => pageArray(args, list, (m) => m.id, "metafields"))
    }) as Resolver
  },
  Metafield: {
    id: ((m: MetafieldRecord) => m.gid) as Resolver,
    legacyResourceId: ((m: MetafieldRecord) => String(m.id)) as Resolver,
    createdAt: ((m: MetafieldRecord) => isoSeconds(m.createdAt)) as Resolver,
    updatedAt: ((m: MetafieldRecord) => isoSeconds(m.updatedAt)) as Resolver,
    compareDigest: ((m: MetafieldRecord) => metafieldDigest(m)) as Resolver,
    jsonValue: ((m: MetafieldRecord) => jsonValueOf(m)) as Resolver,
    ownerType: ((m: MetafieldRecord) => (parseGid(m.ownerGid)?.type === "Page" ? "PAGE" : "PRODUCT")) as Resolver,
    owner: ((m: MetafieldRecord, _args, ctx) =>
      (parseGid(m.ownerGid)?.type === "Page" ? ctx.shop.pages.get(m.ownerNum) : ctx.shop.catalog.product(m.ownerNum)) ?? null) as Resolver,
    sizeInBytes: ((m: MetafieldRecord) => Buffer.byteLength(m.value)) as Resolver,
    definition: (() => null) as Resolver,
    reference: (() => null) as Resolver
  },
  Article: {
    id: ((a: ArticleRecord) => a.gid) as Resolver,
    createdAt: ((a: ArticleRecord) => isoSeconds(a.createdAt)) as Resolver,
    updatedAt: ((a: ArticleRecord) => isoSeconds(a.updatedAt)) as Resolver,
    publishedAt: ((a: ArticleRecord) => (a.publishedAt === null ? null : isoSeconds(a.publishedAt))) as Resolver,
    isPublished: ((a: ArticleRecord) => a.publishedAt !== null) as Resolver,
    author: ((a: ArticleRecord) => ({ name: a.author })) as Resolver,
    blog: ((a: ArticleRecord, _args, ctx) => ctx.shop.blogs.blog(a.blogNum) ?? null) as Resolver
  },
  Blog: {
    id: ((b: BlogRecord) => b.gid) as Resolver,
    createdAt: ((b: BlogRecord) => isoSeconds(b.createdAt)) as Resolver,
    articles: ((b: BlogRecord, args: PageArgs, ctx) => {
      const list = ctx.shop.blogs.articles(b.num)
      return connection(ctx, () => list, () => pageArray(args, list, (a) => a.num, "articles"))
    }) as Resolver
  },
  Page: {
    id: ((p: PageRecord) => p.gid) as Resolver,
    createdAt: ((p: PageRecord) => isoSeconds(p.createdAt)) as Resolver,
    updatedAt: ((p: PageRecord) => isoSeconds(p.updatedAt)) as Resolver,
    publishedAt: ((p: PageRecord) => (p.publishedAt === null ? null : isoSeconds(p.publishedAt))) as Resolver,
    isPublished: ((p: PageRecord, _args, ctx) => isPagePublished(p, ctx.shop.runtime.clock())) as Resolver,
    bodySummary: ((p: PageRecord) => p.body.replace(/<[^>]*>/g, " ").replace(/\s+/g, " ").trim().slice(0, 150)) as Resolver,
    defaultCursor: ((p: PageRecord) => Buffer.from(JSON.stringify({ last_id: p.id, last_value: p.id })).toString("base64")) as Resolver,
    metafield: ((p: PageRecord, args: { namespace?: string | null; key: string }, ctx) =>
      ctx.shop.pages.metafield(p.num, args.namespace ?? ctx.shop.runtime.appNamespace, args.key) ?? null) as Resolver,
    metafields: ((p: PageRecord, args: PageArgs & { namespace?: string | null; keys?: ReadonlyArray<string> | null }, ctx) => {
      let list = ctx.shop.pages.metafields(p.num)
      if (args.namespace !== undefined && args.namespace !== null) list = list.filter((m) => m.namespace === args.namespace)
      if (args.keys !== undefined && args.keys !== null) {
        const keys = new Set(args.keys)
        list = list.filter((m) => keys.has(`${m.namespace}.${m.key}`))
      }
      if (args.reverse === true) list = [...list].reverse()
      return connection(ctx, () => list, () => pageArray(args, list, (m) => m.id, "metafields"))
    }) as Resolver
  },
  UrlRedirect: {
    id: ((r: UrlRedirectRecord) => r.gid) as Resolver
  },
  Publication: {
    id: ((p: PublicationRecord) => p.gid) as Resolver,
    catalog: ((p: PublicationRecord) => appCatalogOf(p)) as Resolver
  },
  ResourcePublicationV2: {
    publishDate: ((r: ResourcePublication) => isoSeconds(r.publishDate)) as Resolver
  },
  ResourcePublication: {
    publishDate: ((r: ResourcePublication) => isoSeconds(r.publishDate)) as Resolver
  },
  BulkOperation: {
    id: ((o: BulkOperationRecord) => gid("BulkOperation", o.id)) as Resolver,
    status: ((o: BulkOperationRecord, _args, ctx) => ctx.shop.bulk.effectiveStatus(o)) as Resolver,
    createdAt: ((o: BulkOperationRecord) => isoSeconds(o.createdAt)) as Resolver,
    completedAt: ((o: BulkOperationRecord) => (o.completedAt === null ? null : isoSeconds(o.completedAt))) as Resolver,
    objectCount: ((o: BulkOperationRecord) => String(o.objectCount)) as Resolver,
    rootObjectCount: ((o: BulkOperationRecord) => String(o.rootObjectCount)) as Resolver,
    fileSize: ((o: BulkOperationRecord) => (o.fileSize === null ? null : String(o.fileSize))) as Resolver,
    url: ((o: BulkOperationRecord, _args, ctx) => ctx.shop.bulk.resultUrl(o)) as Resolver,
    partialDataUrl: ((o: BulkOperationRecord, _args, ctx) => ctx.shop.bulk.partialDataUrl(o)) as Resolver,
    query: ((o: BulkOperationRecord) => o.query) as Resolver,
    type: ((o: BulkOperationRecord) => o.type) as Resolver,
    errorCode: ((o: BulkOperationRecord) => o.errorCode) as Resolver
  }
}

/**
 * The payload a `faults.userErrorNext` fault answers for root mutation field `fieldName`:
 * every field of the payload type null except `userErrors` (the injected error) and `shop`
 * (non-null in the publish payloads).
 */
const injectedPayload = (ctx: ExecContext, fieldName: string, error: { readonly message: string; readonly field?: ReadonlyArray<string> | null; readonly code?: string | null }) => {
  const field = ctx.shop.runtime.schema.getMutationType()?.getFields()[fieldName]
  const type = field === undefined ? undefined : getNamedType(field.type)
  const payload: Record<string, unknown> = {}
  if (type !== undefined && isObjectType(type)) for (const name of Object.keys(type.getFields())) payload[name] = null
  payload["userErrors"] = [{ field: error.field ?? null, message: error.message, code: error.code ?? null }]
  if ("shop" in payload) payload["shop"] = ctx.shop.shopObject()
  return payload
}

const userErrorsOf = (payload: unknown): MutationCall["userErrors"] => {
  const errors = typeof payload === "object" && payload !== null ? (payload as { userErrors?: unknown }).userErrors : undefined
  return Array.isArray(errors) ? (errors as MutationCall["userErrors"]) : undefined
}

/**
 * Runs a root mutation field: answers an injected userError instead when a fault is queued
 * for it, and records the call (coerced arguments and outcome) in `shop.mutationLog`.
 */
const runMutation = (
  resolver: Resolver,
  fieldName: string,
  args: Record<string, unknown>,
  ctx: ExecContext,
  path: ReadonlyArray<string | number>
): unknown => {
  const base = {
    at: ctx.shop.runtime.clock(),
    field: fieldName,
    responseKey: String(path[path.length - 1] ?? fieldName),
    args,
    via: ctx.mode === "bulk" ? ("bulk" as const) : ("request" as const)
  }
  const record = (outcome: Pick<MutationCall, "userErrors" | "injected" | "error">) => ctx.shop.mutationLog.record({ ...base, ...outcome })
  const injected = ctx.shop.faults.takeUserError(fieldName)
  if (injected !== undefined) {
    const payload = injectedPayload(ctx, fieldName, injected)
    record({ userErrors: userErrorsOf(payload), injected: true, error: undefined })
    return payload
  }
  const failed = (error: unknown) => record({ userErrors: undefined, injected: false, error: error instanceof Error ? error.message : String(error) })
  const succeeded = (payload: unknown) => record({ userErrors: userErrorsOf(payload), injected: false, error: undefined })
  let result: unknown
  try {
    result = resolver(undefined as never, args as never, ctx, path)
  } catch (error) {
    failed(error)
    throw error
  }
  if (result instanceof Promise) {
    return result.then(
      (payload: unknown) => {
        succeeded(payload)
        return payload
      },
      (error: unknown) => {
        failed(error)
        throw error
      }
    )
  }
  succeeded(result)
  return result
}

/**
 * Resolves `typeName.fieldName` on `source`: the resolver table first, then a plain
 * property of the source, else `NotImplemented`. Root mutation fields go through
 * `runMutation` (fault injection and the mutation log).
 */
export const resolveField = (
  typeName: string,
  fieldName: string,
  source: unknown,
  args: Record<string, unknown>,
  ctx: ExecContext,
  path: ReadonlyArray<string | number>
): unknown => {
  const resolver = resolvers[typeName]?.[fieldName]
  if (resolver !== undefined && typeName === "Mutation") return runMutation(resolver, fieldName, args, ctx, path)
  if (resolver !== undefined) return resolver(source as never, args as never, ctx, path)
  if (fieldName === "__typename") return typeName
  if (typeof source === "object" && source !== null && fieldName in source) {
    return (source as Record<string, unknown>)[fieldName]
  }
  throw new NotImplemented(typeName, fieldName)
}

export { isBulkConnection }
