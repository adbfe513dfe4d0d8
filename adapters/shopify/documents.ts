/**
 * Every GraphQL document the Shopify adapter sends (Admin API 2026-07), plus the helpers
 * that derive documents at runtime. `test/shopify/documents.test.ts` validates all of them
 * against the real schema. Pure: no I/O.
 */
import { Kind, parse, print, type DocumentNode, type OperationDefinitionNode } from "graphql"

export const ADMIN_API_VERSION = "2026-07"

const BULK_OPERATION_FIELDS = `fragment SumeruBulkOperationFields on BulkOperation {
  id type status errorCode objectCount rootObjectCount fileSize url partialDataUrl createdAt completedAt query
}`

/** `bulkOperationRunQuery`: `groupObjects` is required (Boolean!) in 2026-07. */
export const BULK_QUERY_RUN = `mutation SumeruBulkQueryRun($query: String!) {
  bulkOperationRunQuery(query: $query, groupObjects: false) {
    bulkOperation { ...SumeruBulkOperationFields }
    userErrors { field message code }
  }
}
${BULK_OPERATION_FIELDS}`

/** `bulkOperationRunMutation` (2026-07: `clientIdentifier` optional, `groupObjects` deprecated and not sent). */
export const BULK_MUTATION_RUN = `mutation SumeruBulkMutationRun($mutation: String!, $stagedUploadPath: String!, $clientIdentifier: String) {
  bulkOperationRunMutation(mutation: $mutation, stagedUploadPath: $stagedUploadPath, clientIdentifier: $clientIdentifier) {
    bulkOperation { ...SumeruBulkOperationFields }
    userErrors { field message code }
  }
}
${BULK_OPERATION_FIELDS}`

/** Direct lookup (`currentBulkOperation` is deprecated since 2026-01). */
export const BULK_OPERATION = `query SumeruBulkOperation($id: ID!) {
  bulkOperation(id: $id) { ...SumeruBulkOperationFields }
}
${BULK_OPERATION_FIELDS}`

/** Listing with Shopify search syntax, newest first. */
export const BULK_OPERATIONS = `query SumeruBulkOperations($query: String!, $after: String) {
  bulkOperations(first: 25, after: $after, query: $query) {
    nodes { ...SumeruBulkOperationFields }
    pageInfo { hasNextPage endCursor }
  }
}
${BULK_OPERATION_FIELDS}`

export const BULK_OPERATION_CANCEL = `mutation SumeruBulkOperationCancel($id: ID!) {
  bulkOperationCancel(id: $id) {
    bulkOperation { ...SumeruBulkOperationFields }
    userErrors { field message }
  }
}
${BULK_OPERATION_FIELDS}`

export const STAGED_UPLOADS_CREATE = `mutation SumeruStagedUploadsCreate($input: [StagedUploadInput!]!) {
  stagedUploadsCreate(input: $input) {
    stagedTargets { url resourceUrl parameters { name value } }
    userErrors { field message }
  }
}`

/** The search that lists this app's active operations of a type. */
export const runningBulkOperationsSearch = (type: "QUERY" | "MUTATION"): string =>
  `operation_type:${type.toLowerCase()} AND (status:created OR status:running)`

/** A GraphQL string literal (JSON string syntax is valid GraphQL string syntax). */
export const graphqlString = (value: string): string => JSON.stringify(value)

// ------------------------------------------------------------------ client identifiers

/** Operation-name prefix carrying a bulk mutation's client identifier. */
export const CLIENT_IDENTIFIER_PREFIX = "sumeru__"
const MAX_CLIENT_IDENTIFIER = 255

/** Encodes any string into `[A-Za-z0-9_]` reversibly: alphanumerics stay, others become `_xx` / `_uxxxx`. */
export const encodeName = (value: string): string => {
  let out = ""
  for (const ch of value) {
    const code = ch.codePointAt(0) ?? 0
    if ((code >= 48 && code <= 57) || (code >= 65 && code <= 90) || (code >= 97 && code <= 122)) out += ch
    else if (code < 256) out += `_${code.toString(16).padStart(2, "0")}`
    else out += `_u${code.toString(16).padStart(6, "0")}`
  }
  return out
}

/** Inverse of `encodeName`; undefined when `name` is not an encoding. */
export const decodeName = (name: string): string | undefined => {
  let out = ""
  for (let i = 0; i < name.length; ) {
    const ch = name[i] as string
    if (ch !== "_") {
      out += ch
      i++
      continue
    }
    if (name[i + 1] === "u") {
      const hex = name.slice(i + 2, i + 8)
      if (!/^[0-9a-f]{6}$/.test(hex)) return undefined
      out += String.fromCodePoint(parseInt(hex, 16))
      i += 8
    } else {
      const hex = name.slice(i + 1, i + 3)
      if (!/^[0-9a-f]{2}$/.test(hex)) return undefined
      out += String.fromCharCode(parseInt(hex, 16))
      i += 3
    }
  }
  return out
}

/** Checks a client identifier (non-empty, at most 255 characters as in 2027-01). */
export const clientIdentifierProblem = (clientIdentifier: string): string | undefined =>
  clientIdentifier.length === 0
    ? "clientIdentifier must not be empty"
    : clientIdentifier.length > MAX_CLIENT_IDENTIFIER
      ? `clientIdentifier must be at most ${MAX_CLIENT_IDENTIFIER} characters`
      : undefined

const singleMutation = (document: DocumentNode): OperationDefinitionNode | string => {
  const operations = document.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION)
  const operation = operations[0]
  if (operations.length !== 1 || operation === undefined) return "a bulk mutation document must contain exactly one operation"
  if (operation.operation !== "mutation") return "a bulk mutation document must be a mutation"
  return operation
}

/**
 * Renames the (single) mutation of `document` to `sumeru__<encoded clientIdentifier>` so the
 * identifier survives in `BulkOperation.query`, the only place 2026-07 lets us read it back.
 * Returns an error message for documents that cannot be bulk mutations.
 */
export const tagBulkMutation = (document: string, clientIdentifier: string): { readonly document: string } | { readonly error: string } => {
  const problem = clientIdentifierProblem(clientIdentifier)
  if (problem !== undefined) return { error: problem }
  let parsed: DocumentNode
  try {
    parsed = parse(document, { noLocation: true })
  } catch (error) {
    return { error: `the mutation does not parse: ${error instanceof Error ? error.message : String(error)}` }
  }
  const operation = singleMutation(parsed)
  if (typeof operation === "string") return { error: operation }
  const named: OperationDefinitionNode = {
    ...operation,
    name: { kind: Kind.NAME, value: `${CLIENT_IDENTIFIER_PREFIX}${encodeName(clientIdentifier)}` }
  }
  return { document: print({ ...parsed, definitions: parsed.definitions.map((d) => (d === operation ? named : d)) }) }
}

/** The client identifier carried by a tagged mutation document, or null. */
export const clientIdentifierOf = (document: string): string | null => {
  const m = /\bmutation\s+sumeru__([A-Za-z0-9_]*)/.exec(document)
  return m === null ? null : (decodeName(m[1] ?? "") ?? null)
}
