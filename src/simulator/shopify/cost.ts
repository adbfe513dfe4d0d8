/**
 * Shopify's calculated query cost and the per-shop leaky bucket
 * (https://shopify.dev/docs/apps/build/apis/graphql-admin/rate-limits).
 *
 * Cost rules (approximating Shopify's published ones):
 * - scalar / enum: 0; object (or interface/union): 1;
 * - connection: 2 + n, plus n × the cost of what is selected inside each node, where n is
 *   `first`/`last` for the requested cost and the number of returned nodes for the actual
 *   cost; `edges`, `node`, `nodes`, `pageInfo` themselves are free;
 * - mutation field: 10, plus 1 for each list-of-objects field of its payload other than
 *   `userErrors` (so `stagedUploadsCreate` costs 11 and `bulkOperationRunMutation` 10, as in
 *   Shopify's docs).
 */
import {
  Kind,
  getNamedType,
  isAbstractType,
  isListType,
  isNonNullType,
  isObjectType,
  isInterfaceType,
  valueFromASTUntyped,
  type FragmentDefinitionNode,
  type GraphQLField,
  type GraphQLNamedType,
  type GraphQLObjectType,
  type GraphQLInterfaceType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type FieldNode
} from "graphql"
import type { Clock } from "./clock.ts"

/** Bucket settings: `maximumAvailable` points, refilled at `restoreRate` points/second. */
export interface CostLimits {
  readonly maximumAvailable: number
  readonly restoreRate: number
}

/** Shopify plans and their buckets (see SHOPIFY.md §5). */
export const PLAN_LIMITS = {
  standard: { maximumAvailable: 2000, restoreRate: 100 },
  advanced: { maximumAvailable: 4000, restoreRate: 200 },
  plus: { maximumAvailable: 20000, restoreRate: 1000 },
  enterprise: { maximumAvailable: 40000, restoreRate: 2000 }
} as const satisfies Record<string, CostLimits>

export type ShopPlan = keyof typeof PLAN_LIMITS

/** Maximum cost of a single query, on every plan. */
export const MAX_SINGLE_QUERY_COST = 1000

/** `throttleStatus` as Shopify reports it. */
export interface ThrottleStatus {
  readonly maximumAvailable: number
  readonly currentlyAvailable: number
  readonly restoreRate: number
}

/**
 * A leaky bucket that refills continuously from the injected clock (no timers), so the
 * same sequence of calls and clock readings always gives the same answers.
 */
export class CostBucket {
  #limits: CostLimits
  #level: number
  #at: number
  readonly #clock: Clock

  constructor(limits: CostLimits, clock: Clock) {
    this.#limits = limits
    this.#level = limits.maximumAvailable
    this.#clock = clock
    this.#at = clock()
  }

  #refill(): void {
    const now = this.#clock()
    const elapsed = Math.max(0, now - this.#at) / 1000
    this.#level = Math.min(this.#limits.maximumAvailable, this.#level + elapsed * this.#limits.restoreRate)
    this.#at = now
  }

  /** Points available now. */
  available(): number {
    this.#refill()
    return this.#level
  }

  /** Takes `points` if available; returns whether it did. */
  tryTake(points: number): boolean {
    this.#refill()
    if (points > this.#level) return false
    this.#level -= points
    return true
  }

  /** Gives back `points` (never above the maximum). */
  refund(points: number): void {
    this.#refill()
    this.#level = Math.min(this.#limits.maximumAvailable, this.#level + points)
  }

  /** Sets the level directly (test helper: e.g. drain the bucket). */
  setAvailable(points: number): void {
    this.#refill()
    this.#level = Math.max(0, Math.min(this.#limits.maximumAvailable, points))
  }

  /** Replaces the limits (plan change); the level is clamped. */
  setLimits(limits: CostLimits): void {
    this.#refill()
    this.#limits = limits
    this.#level = Math.min(this.#level, limits.maximumAvailable)
  }

  status(): ThrottleStatus {
    this.#refill()
    return {
      maximumAvailable: this.#limits.maximumAvailable,
      currentlyAvailable: Math.floor(this.#level),
      restoreRate: this.#limits.restoreRate
    }
  }
}

type Fields = ReadonlyMap<string, FragmentDefinitionNode>

const isConnectionType = (t: GraphQLNamedType): boolean => t.name.endsWith("Connection") && (isObjectType(t) || isInterfaceType(t))

const argValue = (field: FieldNode, name: string, variables: Readonly<Record<string, unknown>>): unknown => {
  const arg = field.arguments?.find((a) => a.name.value === name)
  return arg === undefined ? undefined : valueFromASTUntyped(arg.value, variables)
}

interface Walk {
  readonly schema: GraphQLSchema
  readonly fragments: Fields
  readonly variables: Readonly<Record<string, unknown>>
}

/** Visits every field node of a selection set (through fragments) with its definition. */
const eachField = (
  w: Walk,
  parent: GraphQLObjectType | GraphQLInterfaceType,
  set: SelectionSetNode,
  visit: (node: FieldNode, def: GraphQLField<unknown, unknown>) => void
): void => {
  for (const sel of set.selections) {
    if (sel.kind === Kind.FIELD) {
      const def = parent.getFields()[sel.name.value]
      if (def !== undefined) visit(sel, def)
    } else {
      const fragment = sel.kind === Kind.INLINE_FRAGMENT ? sel : w.fragments.get(sel.name.value)
      if (fragment === undefined) continue
      const condition = fragment.typeCondition ? w.schema.getType(fragment.typeCondition.name.value) : parent
      const target = condition !== undefined && (isObjectType(condition) || isInterfaceType(condition)) ? condition : parent
      eachField(w, target, fragment.selectionSet, visit)
    }
  }
}

const responseKey = (node: FieldNode): string => node.alias?.value ?? node.name.value

/** Cost of a selection set on `parent`; with `data`, counts what was actually returned. */
const selectionCost = (
  w: Walk,
  parent: GraphQLObjectType | GraphQLInterfaceType,
  set: SelectionSetNode,
  data: Record<string, unknown> | undefined,
  actual: boolean
): number => {
  let total = 0
  eachField(w, parent, set, (node, def) => {
    const named = getNamedType(def.type)
    if (!(isObjectType(named) || isInterfaceType(named) || isAbstractType(named)) || node.selectionSet === undefined) return
    const value = data?.[responseKey(node)]
    if (actual && (value === undefined || value === null)) return
    if (isConnectionType(named) && (isObjectType(named) || isInterfaceType(named))) {
      total += connectionCost(w, named, node, value, actual)
      return
    }
    const objectType = isObjectType(named) || isInterfaceType(named) ? named : undefined
    if (actual && isListType(isNonNullType(def.type) ? def.type.ofType : def.type) && Array.isArray(value)) {
      for (const item of value) {
        total += 1
        if (objectType) total += selectionCost(w, objectType, node.selectionSet, item as Record<string, unknown>, actual)
      }
      return
    }
    total += 1
    if (objectType) {
      total += selectionCost(w, objectType, node.selectionSet, actual ? (value as Record<string, unknown>) : undefined, actual)
    }
  })
  return total
}

const connectionCost = (
  w: Walk,
  connection: GraphQLObjectType | GraphQLInterfaceType,
  node: FieldNode,
  value: unknown,
  actual: boolean
): number => {
  const first = argValue(node, "first", w.variables)
  const last = argValue(node, "last", w.variables)
  const requested = typeof first === "number" ? first : typeof last === "number" ? last : 0
  // What one node costs (its nested objects), and how many nodes were returned.
  let perNode = 0
  let returned = 0
  const items: Array<Record<string, unknown>> = []
  eachField(w, connection, node.selectionSet as SelectionSetNode, (child, def) => {
    const childNamed = getNamedType(def.type)
    if (!(isObjectType(childNamed) || isInterfaceType(childNamed)) || child.selectionSet === undefined) return
    const childValue = (value as Record<string, unknown> | undefined)?.[responseKey(child)]
    if (child.name.value === "nodes") {
      if (!actual) perNode = Math.max(perNode, selectionCost(w, childNamed, child.selectionSet, undefined, false))
      if (Array.isArray(childValue)) {
        returned = Math.max(returned, childValue.length)
        items.push(...(childValue as Array<Record<string, unknown>>).map((v) => ({ __node: v, __type: childNamed, __set: child.selectionSet })))
      }
    } else if (child.name.value === "edges") {
      eachField(w, childNamed, child.selectionSet, (edgeField, edgeDef) => {
        const nodeType = getNamedType(edgeDef.type)
        if (edgeField.name.value !== "node" || edgeField.selectionSet === undefined) return
        if (!(isObjectType(nodeType) || isInterfaceType(nodeType))) return
        if (!actual) perNode = Math.max(perNode, selectionCost(w, nodeType, edgeField.selectionSet, undefined, false))
        if (Array.isArray(childValue)) {
          returned = Math.max(returned, childValue.length)
          for (const edge of childValue as Array<Record<string, unknown>>) {
            items.push({ __node: edge?.[responseKey(edgeField)], __type: nodeType, __set: edgeField.selectionSet })
          }
        }
      })
    }
  })
  if (!actual) return 2 + requested + requested * perNode
  let nested = 0
  for (const item of items) {
    const type = item["__type"] as GraphQLObjectType
    const set = item["__set"] as SelectionSetNode
    const v = item["__node"] as Record<string, unknown> | undefined
    if (v) nested += selectionCost(w, type, set, v, true)
  }
  return 2 + returned + nested
}

const mutationCost = (w: Walk, mutationRoot: GraphQLObjectType, set: SelectionSetNode): number => {
  let total = 0
  eachField(w, mutationRoot, set, (node, def) => {
    total += 10
    const payload = getNamedType(def.type)
    if (!(isObjectType(payload) || isInterfaceType(payload)) || node.selectionSet === undefined) return
    eachField(w, payload, node.selectionSet, (child, childDef) => {
      const t = isNonNullType(childDef.type) ? childDef.type.ofType : childDef.type
      const named = getNamedType(childDef.type)
      if (child.name.value !== "userErrors" && isListType(t) && (isObjectType(named) || isInterfaceType(named))) total += 1
    })
  })
  return total
}

/**
 * Requested cost of an operation (static, from `first`/`last`), or, when `data` is given,
 * the actual cost of what was returned.
 */
export const operationCost = (
  schema: GraphQLSchema,
  operation: OperationDefinitionNode,
  fragments: Fields,
  variables: Readonly<Record<string, unknown>>,
  data?: Record<string, unknown> | null
): number => {
  const w: Walk = { schema, fragments, variables }
  if (operation.operation === "mutation") {
    const root = schema.getMutationType()
    return root ? mutationCost(w, root, operation.selectionSet) : 0
  }
  const root = schema.getQueryType()
  if (!root) return 0
  if (data === undefined) return selectionCost(w, root, operation.selectionSet, undefined, false)
  return selectionCost(w, root, operation.selectionSet, data ?? {}, true)
}
