/**
 * `bulkOperationRunQuery`: validates the inner query with Shopify's bulk restrictions and
 * streams its result as JSONL — one node per line, nested connection nodes on later lines
 * with `__parentId`, children right after their parent.
 */
import {
  Kind,
  getArgumentValues,
  getNamedType,
  isAbstractType,
  isInterfaceType,
  isLeafType,
  isListType,
  isNonNullType,
  isObjectType,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLField,
  type GraphQLInterfaceType,
  type GraphQLObjectType,
  type GraphQLOutputType,
  type GraphQLSchema,
  type SelectionSetNode
} from "graphql"
import { prepareDocument } from "../schema.ts"
import { isBulkConnection, resolveField, resolvers, type ExecContext } from "../resolvers.ts"
import type { JsonlWriter } from "./jsonlWriter.ts"
import type { BulkJob } from "./types.ts"

type Composite = GraphQLObjectType | GraphQLInterfaceType

/** A validated bulk query, ready to run. */
export interface BulkQueryPlan {
  readonly schema: GraphQLSchema
  readonly rootField: FieldNode
  readonly rootType: GraphQLObjectType
  readonly fragments: ReadonlyMap<string, FragmentDefinitionNode>
}

export const MAX_BULK_CONNECTIONS = 5
export const MAX_BULK_CONNECTION_DEPTH = 2

/** Properties served straight from the simulator's records (no resolver needed). */
const RECORD_PROPERTIES: Record<string, ReadonlyArray<string>> = {
  Product: ["title", "handle", "status", "tags", "vendor", "productType"],
  Metafield: ["namespace", "key", "type", "value"],
  SEO: ["title", "description"],
  Shop: ["id", "name", "myshopifyDomain", "email", "contactEmail", "currencyCode", "ianaTimezone", "url", "createdAt", "updatedAt"]
}
const GENERIC_CONNECTION_FIELDS = new Set(["edges", "nodes", "node", "cursor", "pageInfo", "hasNextPage", "hasPreviousPage", "startCursor", "endCursor"])

const isConnection = (t: GraphQLOutputType): t is Composite => {
  const named = getNamedType(t)
  return (isObjectType(named) || isInterfaceType(named)) && named.name.endsWith("Connection")
}

const implementsNode = (t: Composite): boolean => t.getInterfaces().some((i) => i.name === "Node")

/** The node type of a connection type (its `nodes` field). */
const connectionNodeType = (connection: Composite): Composite | undefined => {
  const nodes = connection.getFields()["nodes"]
  const named = nodes ? getNamedType(nodes.type) : undefined
  return named !== undefined && (isObjectType(named) || isInterfaceType(named)) ? named : undefined
}

/** Every field node of a selection set with its definition (fragments expanded). */
const collectFields = (
  schema: GraphQLSchema,
  parent: Composite,
  set: SelectionSetNode,
  fragments: ReadonlyMap<string, FragmentDefinitionNode>,
  runtimeTypeName?: string
): Array<{ node: FieldNode; def: GraphQLField<unknown, unknown> | undefined; parent: Composite }> => {
  const out: Array<{ node: FieldNode; def: GraphQLField<unknown, unknown> | undefined; parent: Composite }> = []
  for (const sel of set.selections) {
    if (sel.kind === Kind.FIELD) {
      out.push({ node: sel, def: parent.getFields()[sel.name.value], parent })
      continue
    }
    const fragment = sel.kind === Kind.INLINE_FRAGMENT ? sel : fragments.get(sel.name.value)
    if (fragment === undefined) continue
    const conditionName = fragment.typeCondition?.name.value
    const condition = conditionName ? schema.getType(conditionName) : parent
    if (condition === undefined || !(isObjectType(condition) || isInterfaceType(condition) || isAbstractType(condition))) continue
    if (runtimeTypeName !== undefined && conditionName !== undefined && conditionName !== runtimeTypeName) {
      const runtime = schema.getType(runtimeTypeName)
      const applies =
        runtime !== undefined && isObjectType(runtime) && isAbstractType(condition) && schema.isSubType(condition, runtime)
      if (!applies) continue
    }
    const target = isObjectType(condition) || isInterfaceType(condition) ? condition : parent
    out.push(...collectFields(schema, target, fragment.selectionSet, fragments, runtimeTypeName))
  }
  return out
}

/**
 * Validates a bulk query: valid against the schema, a single query operation, no
 * top-level `node`/`nodes`, 1..5 connections, at most 2 levels of nested connections,
 * connections over `Node` types; plus what the simulator can serve.
 */
export const planBulkQuery = (
  schema: GraphQLSchema,
  source: string
): { readonly ok: true; readonly plan: BulkQueryPlan } | { readonly ok: false; readonly message: string } => {
  const prepared = prepareDocument(schema, source)
  if (prepared.document === undefined || prepared.errors.length > 0) {
    return { ok: false, message: `Invalid bulk query: ${prepared.errors.map((e) => e.message).join(", ")}` }
  }
  const document = prepared.document
  const operations = document.definitions.filter((d) => d.kind === Kind.OPERATION_DEFINITION)
  const fragments = new Map<string, FragmentDefinitionNode>()
  for (const d of document.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d)
  const operation = operations[0]
  if (operations.length !== 1 || operation === undefined) return { ok: false, message: "Invalid bulk query: a bulk query must contain exactly one operation." }
  if (operation.operation !== "query") return { ok: false, message: "Invalid bulk query: bulk queries must be query operations; use bulkOperationRunMutation for mutations." }
  if ((operation.variableDefinitions?.length ?? 0) > 0) return { ok: false, message: "Invalid bulk query: bulk queries cannot use variables." }
  const queryRoot = schema.getQueryType()
  if (!queryRoot) return { ok: false, message: "Invalid bulk query: schema has no query root." }
  const roots = collectFields(schema, queryRoot, operation.selectionSet, fragments)
  for (const r of roots) {
    if (r.node.name.value === "node" || r.node.name.value === "nodes") {
      return { ok: false, message: "Bulk queries cannot contain a top level `node` or `nodes` field." }
    }
  }
  let connections = 0
  let tooDeep = false
  let notNode: string | undefined
  let unsupported: string | undefined
  const walk = (parent: Composite, set: SelectionSetNode, depth: number, insideConnection: boolean): void => {
    for (const { node, def, parent: owner } of collectFields(schema, parent, set, fragments)) {
      if (def === undefined || node.selectionSet === undefined) {
        if (def !== undefined) checkSupported(owner, node.name.value, insideConnection)
        continue
      }
      checkSupported(owner, node.name.value, insideConnection)
      const named = getNamedType(def.type)
      if (!(isObjectType(named) || isInterfaceType(named))) continue
      if (isConnection(def.type)) {
        connections++
        if (depth + 1 > MAX_BULK_CONNECTION_DEPTH) tooDeep = true
        const nodeType = connectionNodeType(named)
        if (nodeType !== undefined && !implementsNode(nodeType)) notNode ??= `${owner.name}.${node.name.value}`
        walk(named, node.selectionSet, depth + 1, true)
      } else {
        walk(named, node.selectionSet, depth, insideConnection && (named.name.endsWith("Edge") || named.name === "PageInfo"))
      }
    }
  }
  const checkSupported = (owner: Composite, field: string, insideConnection: boolean): void => {
    if (unsupported !== undefined || field === "__typename") return
    if (resolvers[owner.name]?.[field] !== undefined) return
    if (RECORD_PROPERTIES[owner.name]?.includes(field)) return
    if ((owner.name.endsWith("Connection") || owner.name.endsWith("Edge") || owner.name === "PageInfo" || insideConnection) && GENERIC_CONNECTION_FIELDS.has(field)) return
    unsupported = `${owner.name}.${field}`
  }
  walk(queryRoot, operation.selectionSet, 0, false)
  if (connections === 0) return { ok: false, message: "Bulk queries must contain at least one connection." }
  if (connections > MAX_BULK_CONNECTIONS) {
    return { ok: false, message: `Bulk queries cannot contain more than ${MAX_BULK_CONNECTIONS} connections.` }
  }
  if (tooDeep) {
    return { ok: false, message: `Bulk queries cannot contain connections with a nesting depth greater than ${MAX_BULK_CONNECTION_DEPTH}.` }
  }
  if (notNode !== undefined) return { ok: false, message: `The connection ${notNode} must return a type that implements the Node interface.` }
  if (unsupported !== undefined) return { ok: false, message: `The Shopify simulator does not implement ${unsupported} in bulk queries.` }
  const root = roots[0]
  if (roots.length !== 1 || root === undefined || root.def === undefined || !isConnection(root.def.type)) {
    return { ok: false, message: "The Shopify simulator only supports bulk queries with a single top-level connection field." }
  }
  return { ok: true, plan: { schema, rootField: root.node, rootType: queryRoot, fragments } }
}

interface PendingConnection {
  readonly parentId: unknown
  readonly nodeType: Composite
  readonly selections: ReadonlyArray<SelectionSetNode>
  readonly iterate: () => Iterable<unknown>
  readonly depth: number
}

/** Selection sets that apply to each node of a connection field (`edges.node` and `nodes`). */
const nodeSelections = (plan: BulkQueryPlan, connection: Composite, field: FieldNode): Array<SelectionSetNode> => {
  const out: Array<SelectionSetNode> = []
  if (field.selectionSet === undefined) return out
  for (const { node, def } of collectFields(plan.schema, connection, field.selectionSet, plan.fragments)) {
    if (node.name.value === "nodes" && node.selectionSet) out.push(node.selectionSet)
    if (node.name.value === "edges" && node.selectionSet && def) {
      const edgeType = getNamedType(def.type)
      if (!(isObjectType(edgeType) || isInterfaceType(edgeType))) continue
      for (const e of collectFields(plan.schema, edgeType, node.selectionSet, plan.fragments)) {
        if (e.node.name.value === "node" && e.node.selectionSet) out.push(e.node.selectionSet)
      }
    }
  }
  return out
}

const runtimeType = (plan: BulkQueryPlan, declared: Composite | GraphQLOutputType, value: unknown): Composite | undefined => {
  const named = getNamedType(declared as GraphQLOutputType)
  if (isObjectType(named)) return named
  const typename = (value as { __typename?: unknown } | null)?.__typename
  const t = typeof typename === "string" ? plan.schema.getType(typename) : undefined
  return t !== undefined && isObjectType(t) ? t : isInterfaceType(named) ? named : undefined
}

type Collected = ReturnType<typeof collectFields>
const collectedCache = new WeakMap<SelectionSetNode, Map<string, Collected>>()
const argsCache = new WeakMap<FieldNode, Record<string, unknown>>()

/** `collectFields` memoised per selection set and runtime type (bulk queries have no variables). */
const collectCached = (plan: BulkQueryPlan, type: Composite, set: SelectionSetNode): Collected => {
  let byType = collectedCache.get(set)
  if (byType === undefined) {
    byType = new Map()
    collectedCache.set(set, byType)
  }
  let hit = byType.get(type.name)
  if (hit === undefined) {
    hit = collectFields(plan.schema, type, set, plan.fragments, type.name)
    byType.set(type.name, hit)
  }
  return hit
}

const argsOf = (def: GraphQLField<unknown, unknown>, node: FieldNode): Record<string, unknown> => {
  let args = argsCache.get(node)
  if (args === undefined) {
    args = getArgumentValues(def, node, {})
    argsCache.set(node, args)
  }
  return args
}

/** Projects one object: selected fields, nested objects inline, connections deferred. */
const project = (
  plan: BulkQueryPlan,
  ctx: ExecContext,
  type: Composite,
  selections: ReadonlyArray<SelectionSetNode>,
  source: unknown,
  depth: number,
  pending: Array<PendingConnection> | undefined
): Record<string, unknown> => {
  const out: Record<string, unknown> = {}
  for (const set of selections) {
    for (const { node, def } of collectCached(plan, type, set)) {
      const key = node.alias?.value ?? node.name.value
      if (node.name.value === "__typename") {
        out[key] = type.name
        continue
      }
      if (def === undefined) continue
      const value = resolveField(type.name, node.name.value, source, argsOf(def, node), ctx, [key])
      if (isBulkConnection(value)) {
        const connectionType = getNamedType(def.type) as Composite
        const nodeType = connectionNodeType(connectionType)
        if (pending !== undefined && nodeType !== undefined) {
          pending.push({
            parentId: resolveField(type.name, "id", source, {}, ctx, ["id"]),
            nodeType,
            selections: nodeSelections(plan, connectionType, node),
            iterate: value.iterate,
            depth: depth + 1
          })
        }
        continue
      }
      out[key] = projectValue(plan, ctx, def.type, node, value, depth)
    }
  }
  return out
}

const projectValue = (plan: BulkQueryPlan, ctx: ExecContext, type: GraphQLOutputType, node: FieldNode, value: unknown, depth: number): unknown => {
  if (value === null || value === undefined) return null
  const inner = isNonNullType(type) ? type.ofType : type
  if (isListType(inner)) {
    return Array.from(value as Iterable<unknown>, (item) => projectValue(plan, ctx, inner.ofType as GraphQLOutputType, node, item, depth))
  }
  if (isLeafType(inner)) return value
  const rt = runtimeType(plan, inner, value)
  if (rt === undefined || node.selectionSet === undefined) return null
  return project(plan, ctx, rt, [node.selectionSet], value, depth, undefined)
}

/** Runs a planned bulk query into a JSONL writer, a bounded number of objects per step. */
export class BulkQueryJob implements BulkJob {
  readonly #plan: BulkQueryPlan
  readonly #ctx: ExecContext
  readonly #writer: JsonlWriter
  #roots: Iterator<unknown> | undefined
  #rootType: Composite | undefined
  #rootSelections: ReadonlyArray<SelectionSetNode> = []
  objectCount = 0
  rootObjectCount = 0

  constructor(plan: BulkQueryPlan, ctx: ExecContext, writer: JsonlWriter) {
    this.#plan = plan
    this.#ctx = ctx
    this.#writer = writer
  }

  get bytesWritten(): number {
    return this.#writer.bytes
  }

  #start(): Iterator<unknown> {
    const plan = this.#plan
    const def = plan.rootType.getFields()[plan.rootField.name.value] as GraphQLField<unknown, unknown>
    const args = getArgumentValues(def, plan.rootField, {})
    const connection = resolveField(plan.rootType.name, plan.rootField.name.value, undefined, args, this.#ctx, [plan.rootField.name.value])
    if (!isBulkConnection(connection)) throw new Error(`root field ${plan.rootField.name.value} did not return a bulk connection`)
    const connectionType = getNamedType(def.type) as Composite
    this.#rootType = connectionNodeType(connectionType)
    this.#rootSelections = nodeSelections(plan, connectionType, plan.rootField)
    return connection.iterate()[Symbol.iterator]()
  }

  async #emitTree(type: Composite, selections: ReadonlyArray<SelectionSetNode>, source: unknown, depth: number, parentId: unknown): Promise<void> {
    const pending: Array<PendingConnection> = []
    const rt = runtimeType(this.#plan, type, source) ?? type
    const line = project(this.#plan, this.#ctx, rt, selections, source, depth, pending)
    if (parentId !== undefined) line["__parentId"] = parentId
    await this.#writer.write(line)
    this.objectCount++
    for (const child of pending) {
      for (const item of child.iterate()) await this.#emitTree(child.nodeType, child.selections, item, child.depth, child.parentId)
    }
  }

  async step(budget: number): Promise<boolean> {
    this.#roots ??= this.#start()
    const stopAt = this.objectCount + Math.max(1, budget)
    while (this.objectCount < stopAt) {
      const next = this.#roots.next()
      if (next.done) {
        await this.#writer.flush()
        return true
      }
      this.rootObjectCount++
      await this.#emitTree(this.#rootType as Composite, this.#rootSelections, next.value, 1, undefined)
    }
    await this.#writer.flush()
    return false
  }

  async finish(): Promise<number> {
    return this.#writer.close()
  }

  async abort(): Promise<void> {
    await this.#writer.discard()
  }
}
