/**
 * Relay connections as Shopify serves them: `first`/`last` are mandatory (max 250) for
 * normal requests; in bulk operations every node is streamed and pagination arguments
 * are ignored.
 */
import { GraphQLError } from "graphql"
import { decodeCursor, encodeCursor } from "./ids.ts"

export const MAX_PAGE_SIZE = 250

/** A connection as a bulk operation sees it: a lazy stream of every node. */
export interface BulkConnection<T> {
  readonly kind: "bulk-connection"
  readonly iterate: () => Iterable<T>
}

export const isBulkConnection = (value: unknown): value is BulkConnection<unknown> =>
  typeof value === "object" && value !== null && (value as { kind?: unknown }).kind === "bulk-connection"

/** A page of a connection, shaped so the default resolvers can serve it. */
export interface Page<T> {
  readonly edges: ReadonlyArray<{ readonly cursor: string; readonly node: T }>
  readonly nodes: ReadonlyArray<T>
  readonly pageInfo: {
    readonly hasNextPage: boolean
    readonly hasPreviousPage: boolean
    readonly startCursor: string | null
    readonly endCursor: string | null
  }
}

export interface PageArgs {
  readonly first?: number | null
  readonly last?: number | null
  readonly after?: string | null
  readonly before?: string | null
  readonly reverse?: boolean | null
}

/** Checks `first`/`last` like Shopify does for non-bulk requests; returns the page size. */
export const pageSize = (args: PageArgs): { readonly size: number; readonly fromEnd: boolean } => {
  const { first, last } = args
  if ((first === undefined || first === null) && (last === undefined || last === null)) {
    throw new GraphQLError("you must provide one of first or last")
  }
  if (first !== undefined && first !== null && last !== undefined && last !== null) {
    throw new GraphQLError("providing both first and last is not supported")
  }
  const size = (first ?? last) as number
  if (size < 0) throw new GraphQLError(`${first !== undefined && first !== null ? "first" : "last"} must be non-negative`)
  if (size > MAX_PAGE_SIZE) {
    throw new GraphQLError(`The maximum number of ${first !== undefined && first !== null ? "first" : "last"} items that can be requested is ${MAX_PAGE_SIZE}.`)
  }
  return { size, fromEnd: first === undefined || first === null }
}

const cursorKey = (cursor: string | null | undefined, what: string): number | undefined => {
  if (cursor === undefined || cursor === null) return undefined
  const key = decodeCursor(cursor)
  if (key === undefined) throw new GraphQLError(`Invalid cursor for ${what}.`)
  return key
}

/**
 * Pages over items ordered by a numeric key. `scan(startAfterKey, backwards)` yields items
 * in order (backwards = opposite direction) starting strictly after the given key.
 */
export const pageByKey = <T>(
  args: PageArgs,
  keyOf: (item: T) => number,
  scan: (startAfter: number | undefined, backwards: boolean) => Iterable<T>,
  what: string
): Page<T> => {
  const { size, fromEnd } = pageSize(args)
  const after = cursorKey(args.after, what)
  const before = cursorKey(args.before, what)
  const taken: Array<T> = []
  let more = false
  if (!fromEnd) {
    for (const item of scan(after, false)) {
      if (before !== undefined && keyOf(item) === before) break
      if (taken.length === size) {
        more = true
        break
      }
      taken.push(item)
    }
  } else {
    for (const item of scan(before, true)) {
      if (after !== undefined && keyOf(item) === after) break
      if (taken.length === size) {
        more = true
        break
      }
      taken.push(item)
    }
    taken.reverse()
  }
  const edges = taken.map((node) => ({ cursor: encodeCursor(keyOf(node)), node }))
  return {
    edges,
    nodes: taken,
    pageInfo: {
      hasNextPage: fromEnd ? before !== undefined : more,
      hasPreviousPage: fromEnd ? more : after !== undefined,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges[edges.length - 1]?.cursor ?? null
    }
  }
}

/** Pages over an in-memory, already ordered list. */
export const pageArray = <T>(args: PageArgs, items: ReadonlyArray<T>, keyOf: (item: T) => number, what: string): Page<T> =>
  pageByKey(
    args,
    keyOf,
    function* (startAfter, backwards) {
      const ordered = backwards ? [...items].reverse() : items
      let started = startAfter === undefined
      for (const item of ordered) {
        if (!started) {
          if (keyOf(item) === startAfter) started = true
          continue
        }
        yield item
      }
    },
    what
  )
