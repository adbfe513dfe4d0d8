/**
 * What a Cloud API answer to `POST /{phone-number-id}/messages` means (pure). Meta's guidance is
 * to act on the Graph error's `code` (and `error_data.details`), not on the HTTP status or the
 * message text, so the code decides first and the status only when there is no code:
 *
 * | answer | meaning |
 * |---|---|
 * | 2xx with `messages[0].id` | sent |
 * | 130429 (throughput), 131056 (pair rate), 80007 / 4 (account or app call limits) | throttled: back off, retry |
 * | 131047 | the customer service window is closed |
 * | 190, or 401 without a code | the access token expired or was revoked |
 * | 1, 2, 131000, 131016, or a 5xx without a known code | unavailable: retry |
 * | any other code | rejected: the same request will be refused again |
 * | 2xx that does not parse | unavailable, **not** retried (Meta may have accepted the message) |
 */
import { Result, Schema } from "effect"

const SendAnswer = Schema.Struct({
  messaging_product: Schema.optionalKey(Schema.String),
  contacts: Schema.optionalKey(Schema.Array(Schema.Struct({ input: Schema.optionalKey(Schema.String), wa_id: Schema.optionalKey(Schema.String) }))),
  messages: Schema.NonEmptyArray(Schema.Struct({ id: Schema.String.check(Schema.isMinLength(1)), message_status: Schema.optionalKey(Schema.String) }))
})

const GraphErrorBody = Schema.Struct({
  error: Schema.Struct({
    message: Schema.optionalKey(Schema.String),
    type: Schema.optionalKey(Schema.String),
    code: Schema.optionalKey(Schema.Number),
    error_subcode: Schema.optionalKey(Schema.Number),
    error_data: Schema.optionalKey(Schema.Struct({ details: Schema.optionalKey(Schema.String) })),
    fbtrace_id: Schema.optionalKey(Schema.String)
  })
})

const decodeSendAnswer = Schema.decodeUnknownResult(SendAnswer)
const decodeGraphError = Schema.decodeUnknownResult(GraphErrorBody)

/** Throughput of the number, pair rate, WABA / app call limits. */
export const THROTTLE_CODES: ReadonlySet<number> = new Set([130429, 131056, 80007, 4])
export const WINDOW_CLOSED_CODE = 131047
export const AUTH_EXPIRED_CODE = 190
/** Unknown API error, service temporarily down, "something went wrong", service unavailable. */
const TRANSIENT_CODES: ReadonlySet<number> = new Set([1, 2, 131000, 131016])

export type GraphOutcome =
  | { readonly _tag: "Sent"; readonly messageId: string; readonly waId: string | null }
  | { readonly _tag: "Throttled"; readonly code: number; readonly message: string; readonly retryAfterMs: number | null }
  | { readonly _tag: "WindowClosed"; readonly code: number; readonly message: string }
  | { readonly _tag: "AuthExpired"; readonly code: number; readonly message: string }
  | { readonly _tag: "Rejected"; readonly code: number; readonly subcode: number | null; readonly message: string; readonly details: string | null }
  | { readonly _tag: "Unavailable"; readonly status: number | null; readonly message: string; readonly retry: boolean }

/** `Retry-After` in seconds (or an HTTP date) as milliseconds; null when absent or unreadable. */
export const retryAfterMs = (header: string | null | undefined, now: number): number | null => {
  if (header === null || header === undefined || header.trim() === "") return null
  const seconds = Number(header)
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000)
  const at = Date.parse(header)
  return Number.isFinite(at) ? Math.max(0, at - now) : null
}

const parse = (text: string): unknown => {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

/** Classifies one HTTP answer (`status`, body text, `Retry-After`). */
export const classifyGraphAnswer = (status: number, text: string, retryAfter: number | null): GraphOutcome => {
  const body = parse(text)
  if (status >= 200 && status < 300) {
    const sent = decodeSendAnswer(body)
    return Result.isSuccess(sent)
      ? { _tag: "Sent", messageId: sent.success.messages[0].id, waId: sent.success.contacts?.[0]?.wa_id ?? null }
      : { _tag: "Unavailable", status, message: `HTTP ${status} without a message id`, retry: false }
  }
  const graph = decodeGraphError(body)
  const error = Result.isSuccess(graph) ? graph.success.error : undefined
  const code = error?.code
  const message = error?.message ?? `HTTP ${status}`
  if (code !== undefined) {
    if (THROTTLE_CODES.has(code)) return { _tag: "Throttled", code, message, retryAfterMs: retryAfter }
    if (code === WINDOW_CLOSED_CODE) return { _tag: "WindowClosed", code, message }
    if (code === AUTH_EXPIRED_CODE) return { _tag: "AuthExpired", code, message }
    if (TRANSIENT_CODES.has(code)) return { _tag: "Unavailable", status, message, retry: true }
    return { _tag: "Rejected", code, subcode: error?.error_subcode ?? null, message, details: error?.error_data?.details ?? null }
  }
  if (status === 401) return { _tag: "AuthExpired", code: AUTH_EXPIRED_CODE, message }
  if (status === 429) return { _tag: "Throttled", code: 130429, message, retryAfterMs: retryAfter }
  if (status >= 500 || status === 408) return { _tag: "Unavailable", status, message, retry: true }
  return { _tag: "Rejected", code: 0, subcode: null, message, details: null }
}
