/**
 * Every HTTP error Sumeru answers, in one place: a status, a stable code and a message, as
 * JSON. Handlers return these instead of throwing; nothing partial is ever written first.
 */
import type { Context } from "hono"
import type { ContentfulStatusCode } from "hono/utils/http-status"

export interface Problem {
  readonly status: ContentfulStatusCode
  readonly code: string
  readonly message: string
  readonly details?: unknown
  readonly headers?: Readonly<Record<string, string>>
}

/** The JSON body of every error: `{"error":{"code","message"[,"details"]}}`. */
export const problemBody = (p: Problem) => ({
  error: { code: p.code, message: p.message, ...(p.details === undefined ? {} : { details: p.details }) }
})

export const problem = (c: Context, p: Problem) => {
  for (const [k, v] of Object.entries(p.headers ?? {})) c.header(k, v)
  return c.json(problemBody(p), p.status)
}

/**
 * Headers of an answer after which Sumeru reads no more of the request (a body past the limit):
 * the client learns the connection will not be reused, and the server closes it gracefully
 * once the answer is out (see `HttpServer.ts`).
 */
export const closesConnection: Readonly<Record<string, string>> = { Connection: "close" }

export const Problems = {
  unauthorized: (message = "invalid or missing HMAC signature"): Problem => ({ status: 401, code: "unauthorized", message }),
  malformedJson: (): Problem => ({ status: 400, code: "malformed_json", message: "the body is not valid JSON" }),
  invalid: (details: unknown): Problem => ({ status: 400, code: "invalid_input", message: "the request has invalid fields", details }),
  tooLarge: (limit: number): Problem => ({
    status: 413,
    code: "payload_too_large",
    message: `the body exceeds ${limit} bytes`,
    headers: closesConnection
  }),
  /** Node's parser refused the request line and headers: together longer than `limit` bytes. */
  headersTooLarge: (limit: number): Problem => ({
    status: 431,
    code: "header_fields_too_large",
    message: `the request line and headers exceed ${limit} bytes`
  }),
  /** Node's parser refused the request: not HTTP/1.1 (bad framing, bad chunk sizes, …). */
  badRequest: (): Problem => ({ status: 400, code: "bad_request", message: "the request is not valid HTTP/1.1" }),
  /** The request's headers or body did not arrive in time (Node's `headersTimeout` / `requestTimeout`). */
  requestTimeout: (): Problem => ({ status: 408, code: "request_timeout", message: "the request did not arrive in time" }),
  unsupportedMediaType: (): Problem => ({ status: 415, code: "unsupported_media_type", message: "send application/json" }),
  unavailable: (what: string): Problem => ({
    status: 503,
    code: "unavailable",
    message: `${what} is unavailable; retry later`,
    headers: { "Retry-After": "5" }
  }),
  notFound: (what = "resource"): Problem => ({ status: 404, code: "not_found", message: `${what} not found` })
} as const

/** Reads the raw body with a size cap (streams, so a huge body is refused without buffering it). */
export const readRawBody = async (request: Request, limit: number): Promise<Uint8Array | "too_large"> => {
  const declared = Number(request.headers.get("content-length") ?? NaN)
  if (Number.isFinite(declared) && declared > limit) return "too_large"
  // With a declared length the HTTP parser delivers exactly that many bytes: read them in one
  // go (@hono/node-server reads the socket directly instead of building a web stream).
  if (Number.isFinite(declared)) return new Uint8Array(await request.arrayBuffer())
  if (request.body === null) return new Uint8Array(0)
  const reader = request.body.getReader()
  const chunks: Array<Uint8Array> = []
  let size = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    size += value.byteLength
    if (size > limit) {
      await reader.cancel().catch(() => undefined)
      return "too_large"
    }
    chunks.push(value)
  }
  const out = new Uint8Array(size)
  let offset = 0
  for (const c of chunks) {
    out.set(c, offset)
    offset += c.byteLength
  }
  return out
}
