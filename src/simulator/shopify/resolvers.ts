/**
 * Field resolvers of the simulated Admin API. One table serves both normal GraphQL
 * execution (via graphql-js) and the bulk-query JSONL projector, so both always agree.
 * Fields without a resolver fall back to the source object's property of the same name;
 * anything else is reported as not implemented by the simulator (never silently null).
 */
import { GraphQLError } from "graphql"
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
import { compileSearch, exactMatch, numberMatch, parseSearch, phraseMatch, timeMatch, type SearchTerm, type SearchWarning } from "./search.ts"
import type { BulkOperationRecord } from "./bulk/types.ts"
import type { SimulatedShop } from "./simulatedShop.ts"

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
  now: ctx.shop.runtime.clock(),
  appNamespace: ctx.shop.runtime.appNamespace,
  shopCurrency: ctx.shop.currency,
  injectedErrors: ctx.shop.faults.ownerErrors
})

const tagsContext = (ctx: ExecContext): TagsContext => ({ catalog: ctx.shop.catalog, now: ctx.shop.runtime.clock() })

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
      return n === undefined ? null : (ctx.shop.catalog.metafieldById(n) ?? null)
    }
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
      tagsRemove(tagsContext(ctx), args.id, args.tags)) as Resolver
  },
  Product: {
    id: ((p: ProductRecord) => p.gid) as Resolver,
    legacyResourceId: ((p: ProductRecord) => String(p.id)) as Resolver,
    createdAt: ((p: ProductRecord) => isoSeconds(p.createdAt)) as Resolver,
    updatedAt: ((p: ProductRecord) => isoSeconds(p.updatedAt)) as Resolver,
    publishedAt: ((p: ProductRecord) => (p.status === "ACTIVE" ? isoSeconds(p.createdAt) : null)) as Resolver,
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
    seo: (() => ({ title: null, description: null })) as Resolver,
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
    ownerType: (() => "PRODUCT") as Resolver,
    owner: ((m: MetafieldRecord, _args, ctx) => ctx.shop.catalog.product(m.ownerNum) ?? null) as Resolver,
    sizeInBytes: ((m: MetafieldRecord) => Buffer.byteLength(m.value)) as Resolver,
    definition: (() => null) as Resolver,
    reference: (() => null) as Resolver
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
 * Resolves `typeName.fieldName` on `source`: the resolver table first, then a plain
 * property of the source, else `NotImplemented`.
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
  if (resolver !== undefined) return resolver(source as never, args as never, ctx, path)
  if (fieldName === "__typename") return typeName
  if (typeof source === "object" && source !== null && fieldName in source) {
    return (source as Record<string, unknown>)[fieldName]
  }
  throw new NotImplemented(typeName, fieldName)
}

export { isBulkConnection }
