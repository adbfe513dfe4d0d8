/**
 * Every HTTP error Sumeru's ingress answers, in one place: a status, a stable code and a
 * message, as JSON. Routes fail with typed errors (`HttpErrors.ts`, and the ports' own:
 * `ShopLogUnavailable`, `SqlError`, `PersistenceError`); {@link problemOf} maps each to its
 * answer and {@link respond} runs a route's handler and answers whatever it failed with.
 * Nothing partial is ever written first.
 *
 * A dependency that cannot be reached now is a 503 with `Retry-After` (the shop log; the
 * database only when it is unreachable — a bad statement or a violated constraint is a bug, not
 * an outage, and retrying it would not help). Anything unexpected is a 500 whose body carries a
 * correlation id that is also on the log line with the failure, so that a report can be matched
 * to its cause without the answer revealing it.
 */
import { Cause, Effect, Option, Predicate } from "effect"
import { Headers, HttpTraceContext } from "effect/http"
import { noStack } from "../../src/observability/TraceContext.ts"
import { isSqlError, type SqlError } from "effect/sql/SqlError"
import type { Context } from "hono"
import type { ContentfulStatusCode } from "hono/utils/http-status"
import type { PersistenceError } from "../../src/eventstore/EventStore.ts"
import type { ShopLogUnavailable } from "../../src/shoplog/ShopLog.ts"
import type { IngressPreambleError, IngressRouteError } from "./HttpErrors.ts"
import type { RunEffect } from "./RunEffect.ts"

export interface Problem {
  readonly status: ContentfulStatusCode
  readonly code: string
  readonly message: string
  readonly details?: unknown
  /** Unexpected failures only: the id of the log line with the cause. */
  readonly correlationId?: string
  readonly headers?: Readonly<Record<string, string>>
}

/** The JSON body of every error: `{"error":{"code","message"[,"details"][,"correlation_id"]}}`. */
export const problemBody = (p: Problem) => ({
  error: {
    code: p.code,
    message: p.message,
    ...(p.details === undefined ? {} : { details: p.details }),
    ...(p.correlationId === undefined ? {} : { correlation_id: p.correlationId })
  }
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

/** Seconds a client is asked to wait before retrying after a 503. */
export const RETRY_AFTER_SECONDS = 5

export const Problems = {
  unauthorized: (message = "invalid or missing HMAC signature"): Problem => ({ status: 401, code: "unauthorized", message }),
  malformedJson: (message = "the body is not valid JSON"): Problem => ({ status: 400, code: "malformed_json", message }),
  invalid: (details: unknown, message = "the request has invalid fields"): Problem => ({ status: 400, code: "invalid_input", message, details }),
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
  unsupportedMediaType: (accepted: ReadonlyArray<string> = ["application/json"]): Problem => ({
    status: 415,
    code: "unsupported_media_type",
    message: `send ${accepted.join(" or ")}`
  }),
  unavailable: (what: string): Problem => ({
    status: 503,
    code: "unavailable",
    message: `${what} is unavailable; retry later`,
    headers: { "Retry-After": String(RETRY_AFTER_SECONDS) }
  }),
  notFound: (what = "resource"): Problem => ({ status: 404, code: "not_found", message: `${what} not found` }),
  /** Something unexpected: no details in the answer, only the id of the log line that has them. */
  internal: (correlationId: string): Problem => ({
    status: 500,
    code: "internal_error",
    message: "internal error; the server's log has the details under this correlation id",
    correlationId
  })
} as const

/** Every failure an ingress route may end with. */
export type EdgeFailure = IngressPreambleError | IngressRouteError | ShopLogUnavailable | SqlError | PersistenceError

/**
 * Whether a database failure means the database could not be reached (a retry later may
 * succeed), as opposed to a failing statement. The event store wraps the driver's error as the
 * `cause` of its `PersistenceError`; the chain is followed a few links down.
 */
export const isDatabaseUnreachable = (error: unknown): boolean => {
  let current = error
  for (let depth = 0; depth < 4 && current !== undefined; depth++) {
    if (isSqlError(current)) return current.reason._tag === "ConnectionError"
    current = Predicate.hasProperty(current, "cause") ? current.cause : undefined
  }
  return false
}

/**
 * The answer to an expected failure; `undefined` for an unexpected one (a database error that
 * is not an outage), which {@link respond} answers 500 with a correlation id.
 */
export const problemOf = (error: EdgeFailure): Problem | undefined => {
  switch (error._tag) {
    case "UnsupportedMediaType":
      return Problems.unsupportedMediaType(error.accepted)
    case "PayloadTooLarge":
      return Problems.tooLarge(error.limit)
    case "InvalidSignature":
      return Problems.unauthorized()
    case "InvalidUtf8":
      // the same code as any other body that is not JSON text: clients handle one
      return Problems.malformedJson("the body is not valid UTF-8, so not JSON text")
    case "MalformedJson":
      return Problems.malformedJson()
    case "InvalidInput":
      return Problems.invalid(error.details, error.summary)
    case "MissingHeaders":
      return { status: 400, code: "missing_headers", message: `missing or invalid headers: ${error.headers.join(", ")}` }
    case "ApiKeyRejected":
      return { ...Problems.unauthorized(error.reason), headers: { "WWW-Authenticate": "Bearer realm=\"sumeru\"" } }
    case "PermissionMissing":
      return { status: 403, code: "forbidden", message: `this API key lacks the ${error.permission} permission` }
    case "RateLimitExceeded":
      return {
        status: 429,
        code: "rate_limited",
        message: error.reason,
        headers: { "Retry-After": String(error.retryAfterSeconds) }
      }
    case "UnknownShop":
      return { status: 401, code: "unknown_shop", message: "this shop does not use Sumeru" }
    case "OriginNotAllowed":
      return { status: 403, code: "origin_not_allowed", message: "this origin may not send touchpoints for the shop" }
    case "MissingShop":
      return { status: 400, code: "missing_shop", message: error.hint }
    case "DependencyUnavailable":
      return Problems.unavailable(error.what)
    case "ShopLogUnavailable":
      return Problems.unavailable("the shop log")
    case "SqlError":
    case "PersistenceError":
      return isDatabaseUnreachable(error) ? Problems.unavailable("the database") : undefined
  }
}

/** Answers a failed handler: {@link problemOf}, or a logged 500 with a correlation id. */
const answerCause = (c: Context, cause: Cause.Cause<EdgeFailure>) =>
  Effect.gen(function*() {
    const failure = Cause.findErrorOption(cause)
    const expected = Option.isSome(failure) ? problemOf(failure.value) : undefined
    if (expected !== undefined) return problem(c, expected)
    const correlationId = crypto.randomUUID()
    yield* Effect.logError(`${c.req.method} ${c.req.path}: unexpected failure`, cause).pipe(
      Effect.annotateLogs({ correlation: correlationId })
    )
    return problem(c, Problems.internal(correlationId))
  })

/**
 * Runs a route's handler with the process's services and answers: its response, or its failure
 * as {@link problemOf} says (anything unexpected — a defect, a database error that is not an
 * outage — a 500 with a correlation id, logged). Never rejects.
 */
export const respond = <R>(
  run: RunEffect<R>,
  c: Context,
  handler: Effect.Effect<Response, EdgeFailure, R>
): Promise<Response> =>
  run(Effect.catchCause(handler, (cause) => answerCause(c, cause)).pipe(
    Effect.tap((res) => Effect.annotateCurrentSpan("http.response.status_code", res.status)),
    // the request's server span: continues a caller's trace (`traceparent`), and the shop log
    // carries it on to the actor and the projections
    Effect.withSpan(`${c.req.method} ${c.req.routePath}`, {
      kind: "server",
      parent: Option.getOrUndefined(HttpTraceContext.fromHeaders(Headers.fromInput(c.req.raw.headers))),
      attributes: { "http.request.method": c.req.method, "url.path": c.req.path, "http.route": c.req.routePath }
    }, noStack)
  ))
    // only when the runtime itself is gone (shutting down): nothing left to log with
    .catch(() => problem(c, Problems.internal(crypto.randomUUID())))
