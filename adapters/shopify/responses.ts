/**
 * Pure interpretation of what came back from Shopify: GraphQL responses (as
 * `@shopify/admin-api-client` reports them, plus the raw body of non-2xx answers), cost
 * extensions, `Retry-After`, and GCS-style XML errors from staged uploads / result files.
 */
import { Result, Schema } from "effect"
import type { ThrottleStatus } from "./throttle.ts"

export interface CostInfo {
  readonly requestedQueryCost: number
  readonly actualQueryCost: number | null
  readonly throttleStatus: ThrottleStatus
}

const CostExtension = Schema.Struct({
  cost: Schema.Struct({
    requestedQueryCost: Schema.Number,
    actualQueryCost: Schema.NullOr(Schema.Number),
    throttleStatus: Schema.Struct({
      maximumAvailable: Schema.Number,
      currentlyAvailable: Schema.Number,
      restoreRate: Schema.Number
    })
  })
})
const decodeCost = Schema.decodeUnknownResult(CostExtension)

/** `extensions.cost`, when present and well-formed. */
export const costOf = (extensions: unknown): CostInfo | undefined => {
  const r = decodeCost(extensions)
  return Result.isSuccess(r) ? r.success.cost : undefined
}

/** What the adapter saw for one GraphQL request. */
export interface AdminResponse {
  readonly data?: unknown
  readonly extensions?: unknown
  readonly errors?: {
    /** Absent when the request never got a response (network failure, timeout, abort). */
    readonly networkStatusCode?: number
    readonly message?: string
    readonly graphQLErrors?: ReadonlyArray<unknown>
  }
  /** `Retry-After` of a non-2xx answer. */
  readonly retryAfter?: string | null
  /** Body of a non-2xx answer (truncated), for the error message. */
  readonly bodyText?: string
}

export type Classified =
  | { readonly _tag: "Ok"; readonly data: Readonly<Record<string, unknown>>; readonly cost: CostInfo | undefined }
  | {
    readonly _tag: "Throttled"
    readonly code: string
    readonly message: string
    readonly cost: CostInfo | undefined
    readonly retryAfterMs: number | undefined
  }
  | { readonly _tag: "Unavailable"; readonly status: number | undefined; readonly message: string; readonly retryAfterMs: number | undefined }
  | { readonly _tag: "Permanent"; readonly status: number | undefined; readonly code: string; readonly message: string }

/** `Retry-After` in Shopify's unit (seconds, possibly fractional) → milliseconds. */
export const parseRetryAfter = (value: string | null | undefined): number | undefined => {
  if (value === null || value === undefined || value.trim() === "") return undefined
  const seconds = Number(value.trim())
  return Number.isFinite(seconds) && seconds >= 0 ? Math.round(seconds * 1000) : undefined
}

const isRecord = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)

const graphQLErrorCode = (e: unknown): string | undefined => {
  const ext = isRecord(e) ? e["extensions"] : undefined
  const code = isRecord(ext) ? ext["code"] : undefined
  return typeof code === "string" ? code : undefined
}
const graphQLErrorMessage = (e: unknown): string => {
  const m = isRecord(e) ? e["message"] : undefined
  return typeof m === "string" ? m : JSON.stringify(e)
}

/** Shopify's own message from a JSON error body such as `{"errors":"[API] Invalid API key…"}`. */
export const bodyMessage = (text: string | undefined): string | undefined => {
  if (text === undefined || text.trim() === "") return undefined
  try {
    const parsed: unknown = JSON.parse(text)
    const errors = isRecord(parsed) ? parsed["errors"] : undefined
    if (typeof errors === "string") return errors
    if (Array.isArray(errors)) return errors.map(graphQLErrorMessage).join("; ")
    if (isRecord(errors)) return JSON.stringify(errors)
  } catch {
    // not JSON: fall through
  }
  const xml = parseXmlError(text)
  if (xml !== undefined) return `${xml.code}: ${xml.message}`
  return text.length > 300 ? `${text.slice(0, 300)}…` : text
}

const PERMANENT_HTTP: Record<number, string> = {
  400: "BAD_REQUEST",
  401: "UNAUTHORIZED",
  402: "PAYMENT_REQUIRED",
  403: "FORBIDDEN",
  404: "NOT_FOUND",
  406: "NOT_ACCEPTABLE",
  422: "UNPROCESSABLE",
  423: "SHOP_LOCKED"
}

/** Classifies one GraphQL exchange. */
export const classifyAdminResponse = (r: AdminResponse): Classified => {
  const status = r.errors?.networkStatusCode
  const retryAfterMs = parseRetryAfter(r.retryAfter)
  if (r.errors !== undefined && status === undefined) {
    return { _tag: "Unavailable", status: undefined, message: r.errors.message ?? "network failure", retryAfterMs: undefined }
  }
  if (status !== undefined && (status < 200 || status >= 300)) {
    const detail = bodyMessage(r.bodyText) ?? r.errors?.message ?? `HTTP ${status}`
    if (status === 429) return { _tag: "Throttled", code: "HTTP_429", message: detail, cost: undefined, retryAfterMs }
    if (status >= 500) return { _tag: "Unavailable", status, message: `HTTP ${status}: ${detail}`, retryAfterMs }
    if (status === 401) {
      return { _tag: "Permanent", status, code: "UNAUTHORIZED", message: `Shopify rejected the access token (revoked or app uninstalled): ${detail}` }
    }
    return { _tag: "Permanent", status, code: PERMANENT_HTTP[status] ?? `HTTP_${status}`, message: detail }
  }
  const cost = costOf(r.extensions)
  const graphQLErrors = r.errors?.graphQLErrors ?? []
  if (graphQLErrors.length > 0) {
    const codes = graphQLErrors.map(graphQLErrorCode)
    const message = graphQLErrors.map(graphQLErrorMessage).join("; ")
    if (codes.includes("THROTTLED")) return { _tag: "Throttled", code: "THROTTLED", message, cost, retryAfterMs: undefined }
    if (codes.includes("MAX_COST_EXCEEDED")) return { _tag: "Permanent", status, code: "MAX_COST_EXCEEDED", message }
    if (codes.includes("INTERNAL_SERVER_ERROR")) return { _tag: "Unavailable", status, message, retryAfterMs: undefined }
    return { _tag: "Permanent", status, code: codes.find((c) => c !== undefined) ?? "GRAPHQL_ERROR", message }
  }
  if (!isRecord(r.data)) {
    if (r.errors !== undefined) {
      // e.g. a 200 that is not JSON (a proxy's HTML page): treat as an outage.
      return { _tag: "Unavailable", status, message: r.errors.message ?? "response without data", retryAfterMs: undefined }
    }
    return { _tag: "Permanent", status, code: "UNEXPECTED_RESPONSE", message: "GraphQL response without data or errors" }
  }
  return { _tag: "Ok", data: r.data, cost }
}

/**
 * The `status` label of `sumeru_shopify_api_errors_total` for one classified exchange, or
 * undefined when it succeeded: the HTTP status of a non-2xx answer, `network` when no answer
 * came (timeout, refused, reset), else the GraphQL error code of an HTTP 200 (`THROTTLED`,
 * `MAX_COST_EXCEEDED`, `INTERNAL_SERVER_ERROR`, …) or `INVALID_RESPONSE` (a 200 that is not
 * a GraphQL response).
 */
export const apiErrorStatus = (r: AdminResponse, c: Classified): string | undefined => {
  if (c._tag === "Ok") return undefined
  const status = r.errors?.networkStatusCode
  if (r.errors !== undefined && status === undefined) return "network"
  if (status !== undefined && (status < 200 || status >= 300)) return String(status)
  switch (c._tag) {
    case "Throttled":
    case "Permanent":
      return c.code
    case "Unavailable":
      return (r.errors?.graphQLErrors?.length ?? 0) > 0 ? "INTERNAL_SERVER_ERROR" : "INVALID_RESPONSE"
  }
}

/** `<Error><Code>…</Code><Message>…</Message></Error>` as GCS (and the simulator) answer. */
export const parseXmlError = (text: string): { readonly code: string; readonly message: string } | undefined => {
  const code = /<Code>([^<]*)<\/Code>/.exec(text)?.[1]
  if (code === undefined) return undefined
  const message = /<Message>([^<]*)<\/Message>/.exec(text)?.[1] ?? ""
  const details = /<Details>([^<]*)<\/Details>/.exec(text)?.[1]
  const unescape = (s: string) => s.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, "\"").replace(/&apos;/g, "'").replace(/&amp;/g, "&")
  return { code: unescape(code), message: unescape(details === undefined ? message : `${message} ${details}`) }
}
