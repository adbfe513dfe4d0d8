/**
 * The GraphQL request pipeline: parse + validate against the real schema (cached),
 * pick the operation, coerce variables (graphql-ruby style errors), charge the cost
 * bucket (MAX_COST_EXCEEDED / THROTTLED exactly as Shopify answers), execute, refund
 * `requested − actual`, and attach `extensions.cost`.
 */
import {
  GraphQLError,
  Kind,
  execute,
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLFieldResolver,
  type OperationDefinitionNode,
  type ResponsePath
} from "graphql"
import { MAX_SINGLE_QUERY_COST, operationCost, type ThrottleStatus } from "./cost.ts"
import { coerceVariables, type ShopifyGraphQLError } from "./graphqlErrors.ts"
import { resolveField, type ExecContext } from "./resolvers.ts"
import { prepareDocument } from "./schema.ts"
import type { SimulatedShop } from "./simulatedShop.ts"

const pathArray = (path: ResponsePath | undefined): Array<string | number> => {
  const out: Array<string | number> = []
  for (let p = path; p !== undefined; p = p.prev) out.unshift(p.key)
  return out
}

const fieldResolver: GraphQLFieldResolver<unknown, ExecContext> = (source, args, ctx, info) =>
  resolveField(info.parentType.name, info.fieldName, source, args, ctx, pathArray(info.path))

const formatError = (error: GraphQLError): ShopifyGraphQLError => {
  const json = error.toJSON()
  return {
    message: json.message,
    ...(json.locations ? { locations: json.locations } : {}),
    ...(json.path ? { path: json.path } : {}),
    ...(json.extensions && Object.keys(json.extensions).length > 0 ? { extensions: json.extensions } : {})
  }
}

/**
 * Executes one operation of an already validated document with raw variables; returns
 * the GraphQL result (`data` and/or `errors`). Used for requests and bulk-mutation lines.
 */
export const executeDocument = async (
  ctx: ExecContext,
  document: DocumentNode,
  operation: OperationDefinitionNode,
  variables: Readonly<Record<string, unknown>>
): Promise<Record<string, unknown>> => {
  const schema = ctx.shop.runtime.schema
  const coerced = coerceVariables(schema, operation, variables)
  if (!coerced.ok) return { errors: coerced.errors }
  const result = await execute({
    schema,
    document,
    contextValue: ctx,
    variableValues: variables,
    ...(operation.name ? { operationName: operation.name.value } : {}),
    fieldResolver
  })
  const out: Record<string, unknown> = {}
  if (result.errors && result.errors.length > 0) out["errors"] = result.errors.map(formatError)
  if (result.data !== undefined) out["data"] = result.data
  return out
}

/** A GraphQL request body. */
export interface GraphQLRequestBody {
  readonly query?: unknown
  readonly variables?: unknown
  readonly operationName?: unknown
}

/** A prepared request: either an immediate answer, or an operation ready to run. */
export type PreparedRequest =
  | { readonly kind: "answer"; readonly status: number; readonly body: unknown; readonly rootFields: ReadonlyArray<string>; readonly operationName: string | undefined }
  | {
      readonly kind: "operation"
      readonly document: DocumentNode
      readonly operation: OperationDefinitionNode
      readonly variables: Readonly<Record<string, unknown>>
      readonly rootFields: ReadonlyArray<string>
      readonly operationName: string | undefined
    }

const rootFieldsOf = (operation: OperationDefinitionNode | undefined): Array<string> =>
  operation?.selectionSet.selections.flatMap((s) => (s.kind === Kind.FIELD ? [s.name.value] : [])) ?? []

/** Parses, validates and selects the operation of a request body. */
export const prepareRequest = (shop: SimulatedShop, body: GraphQLRequestBody): PreparedRequest => {
  if (typeof body.query !== "string" || body.query.trim() === "") {
    return { kind: "answer", status: 400, body: { errors: { query: "Required parameter missing or invalid" } }, rootFields: [], operationName: undefined }
  }
  const variables =
    typeof body.variables === "object" && body.variables !== null && !Array.isArray(body.variables)
      ? (body.variables as Record<string, unknown>)
      : {}
  const operationName = typeof body.operationName === "string" && body.operationName !== "" ? body.operationName : undefined
  const prepared = prepareDocument(shop.runtime.schema, body.query)
  const operations =
    prepared.document?.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION) ?? []
  const operation =
    operationName === undefined ? (operations.length === 1 ? operations[0] : undefined) : operations.find((o) => o.name?.value === operationName)
  const rootFields = rootFieldsOf(operation ?? operations[0])
  if (prepared.document === undefined || prepared.errors.length > 0) {
    return { kind: "answer", status: 200, body: { errors: prepared.errors }, rootFields, operationName }
  }
  if (operation === undefined) {
    const message = operationName === undefined ? "An operation name is required" : `No operation named "${operationName}"`
    return { kind: "answer", status: 200, body: { errors: [{ message }] }, rootFields, operationName }
  }
  if (operation.operation === "subscription") {
    return { kind: "answer", status: 200, body: { errors: [{ message: "Subscriptions are not supported" }] }, rootFields, operationName }
  }
  return { kind: "operation", document: prepared.document, operation, variables, rootFields, operationName }
}

/** `extensions.cost` */
export interface CostExtension {
  readonly requestedQueryCost: number
  readonly actualQueryCost: number | null
  readonly throttleStatus: ThrottleStatus
}

/** The THROTTLED answer (HTTP 200, no `data`). */
export const throttledBody = (requested: number, status: ThrottleStatus): unknown => ({
  errors: [{ message: "Throttled", extensions: { code: "THROTTLED", documentation: "https://shopify.dev/api/usage/rate-limits" } }],
  extensions: { cost: { requestedQueryCost: requested, actualQueryCost: null, throttleStatus: status } satisfies CostExtension }
})

/** The MAX_COST_EXCEEDED answer (HTTP 200, no top-level `extensions`). */
export const maxCostBody = (cost: number): unknown => ({
  errors: [
    {
      message:
        `Query cost is ${cost}, which exceeds the single query max cost limit (${MAX_SINGLE_QUERY_COST}).\n\n` +
        "See https://shopify.dev/docs/api/usage/rate-limits for more information on how the\n" +
        "cost of a query is calculated.\n\n" +
        "To query larger amounts of data with fewer limits, bulk operations should be used instead.\n" +
        "See https://shopify.dev/docs/api/usage/bulk-operations/queries for usage details.\n",
      extensions: { code: "MAX_COST_EXCEEDED", cost, maxCost: MAX_SINGLE_QUERY_COST, documentation: "https://shopify.dev/api/usage/rate-limits" }
    }
  ]
})

const fragmentsOf = (document: DocumentNode): Map<string, FragmentDefinitionNode> => {
  const map = new Map<string, FragmentDefinitionNode>()
  for (const d of document.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) map.set(d.name.value, d)
  return map
}

/**
 * Runs a prepared operation against the shop's bucket. `forceThrottle` answers THROTTLED
 * whatever the bucket holds (fault injection).
 */
export const runOperation = async (
  shop: SimulatedShop,
  prepared: Extract<PreparedRequest, { kind: "operation" }>,
  apiVersion: string,
  forceThrottle: boolean
): Promise<{ readonly status: number; readonly body: unknown; readonly outcome: "ok" | "throttled" | "max-cost" | "invalid-variables" }> => {
  const schema = shop.runtime.schema
  const coerced = coerceVariables(schema, prepared.operation, prepared.variables)
  if (!coerced.ok) return { status: 200, body: { errors: coerced.errors }, outcome: "invalid-variables" }
  const fragments = fragmentsOf(prepared.document)
  const requested = operationCost(schema, prepared.operation, fragments, prepared.variables)
  if (requested > MAX_SINGLE_QUERY_COST) return { status: 200, body: maxCostBody(requested), outcome: "max-cost" }
  if (forceThrottle || !shop.bucket.tryTake(requested)) {
    return { status: 200, body: throttledBody(requested, shop.bucket.status()), outcome: "throttled" }
  }
  const ctx: ExecContext = { shop, mode: "request", apiVersion, searchWarnings: [] }
  const result = await executeDocument(ctx, prepared.document, prepared.operation, prepared.variables)
  const data = result["data"] as Record<string, unknown> | null | undefined
  const actual = Math.min(requested, operationCost(schema, prepared.operation, fragments, prepared.variables, data ?? null))
  shop.bucket.refund(requested - actual)
  const extensions: Record<string, unknown> = {
    cost: { requestedQueryCost: requested, actualQueryCost: actual, throttleStatus: shop.bucket.status() } satisfies CostExtension
  }
  if (ctx.searchWarnings.length > 0) {
    extensions["search"] = ctx.searchWarnings.map((w) => ({ path: w.path, query: w.query, warnings: w.warnings }))
  }
  return { status: 200, body: { ...result, extensions }, outcome: "ok" }
}
