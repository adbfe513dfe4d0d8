/**
 * The real Shopify Admin schema (2026-07), loaded from the introspection JSON that
 * `scripts/fetch-shopify-schema.ts` caches under `.cache/shopify/`. Every document the
 * simulator receives is parsed and validated against it.
 */
import { existsSync, readFileSync } from "node:fs"
import { dirname, join, resolve } from "node:path"
import { fileURLToPath } from "node:url"
import { gunzipSync } from "node:zlib"
import {
  GraphQLError,
  buildClientSchema,
  parse,
  specifiedRules,
  validate,
  type DocumentNode,
  type GraphQLSchema,
  type IntrospectionQuery
} from "graphql"
import { formatSyntaxError, formatValidationErrors, type ShopifyGraphQLError } from "./graphqlErrors.ts"

/** The Admin API version whose schema the simulator serves. */
export const ADMIN_API_VERSION = "2026-07"

/**
 * The repository's root: the nearest directory above this module with a `package.json`. Found,
 * not counted in `..`s, because the server `npm start` runs is a bundle in `dist/server/`
 * (scripts/build-server.ts), where this module's own depth is gone.
 */
const repoRoot = (() => {
  const here = dirname(fileURLToPath(import.meta.url))
  for (let dir = here; ; dir = dirname(dir)) {
    if (existsSync(join(dir, "package.json"))) return dir
    if (dirname(dir) === dir) return resolve(here, "..", "..", "..")
  }
})()

/**
 * Default schema location: `$SHOPIFY_ADMIN_SCHEMA_PATH`, else
 * `<repo>/.cache/shopify/admin_2026-07.json.gz`.
 */
export const defaultAdminSchemaPath = (): string =>
  process.env["SHOPIFY_ADMIN_SCHEMA_PATH"] ?? join(repoRoot, ".cache", "shopify", `admin_${ADMIN_API_VERSION}.json.gz`)

const schemaCache = new Map<string, GraphQLSchema>()

/**
 * Builds (once per path, then cached) the `GraphQLSchema` of Shopify's Admin API from the
 * gzipped introspection JSON. Throws with instructions when the file has not been fetched.
 */
export const loadAdminSchema = (path: string = defaultAdminSchemaPath()): GraphQLSchema => {
  const cached = schemaCache.get(path)
  if (cached !== undefined) return cached
  let raw: Buffer
  try {
    raw = readFileSync(path)
  } catch (cause) {
    throw new Error(
      `Shopify Admin schema not found at ${path}. Run \`node scripts/fetch-shopify-schema.ts\` (it runs on postinstall).`,
      { cause }
    )
  }
  const json = JSON.parse(gunzipSync(raw).toString("utf8")) as { data?: IntrospectionQuery } & IntrospectionQuery
  const schema = buildClientSchema(json.data ?? json, { assumeValid: true })
  schemaCache.set(path, schema)
  return schema
}

/** A parsed document plus its Shopify-shaped errors (empty when valid). */
export interface PreparedDocument {
  readonly document: DocumentNode | undefined
  readonly errors: ReadonlyArray<ShopifyGraphQLError>
}

const MAX_CACHED_DOCUMENTS = 1000
const documentCaches = new WeakMap<GraphQLSchema, Map<string, PreparedDocument>>()

/**
 * Parses and validates `source` against `schema`; results are memoised per schema
 * (bounded LRU) because clients send the same few documents over and over.
 */
export const prepareDocument = (schema: GraphQLSchema, source: string): PreparedDocument => {
  let cache = documentCaches.get(schema)
  if (cache === undefined) {
    cache = new Map()
    documentCaches.set(schema, cache)
  }
  const hit = cache.get(source)
  if (hit !== undefined) {
    cache.delete(source)
    cache.set(source, hit)
    return hit
  }
  let prepared: PreparedDocument
  try {
    const document = parse(source)
    const errors = validate(schema, document, specifiedRules)
    prepared = { document, errors: errors.length > 0 ? formatValidationErrors(document, errors) : [] }
  } catch (error) {
    if (!(error instanceof GraphQLError)) throw error
    prepared = { document: undefined, errors: [formatSyntaxError(error)] }
  }
  cache.set(source, prepared)
  if (cache.size > MAX_CACHED_DOCUMENTS) {
    const oldest = cache.keys().next()
    if (!oldest.done) cache.delete(oldest.value)
  }
  return prepared
}

/**
 * Validates a GraphQL document against the 2026-07 Admin schema and returns Shopify's
 * error messages (empty array when the document is valid). Use it to check, in tests,
 * every document the app sends to Shopify.
 */
export const validateAdminDocument = (doc: string, schema: GraphQLSchema = loadAdminSchema()): ReadonlyArray<string> =>
  prepareDocument(schema, doc).errors.map((e) => e.message)
