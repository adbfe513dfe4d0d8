/**
 * `POST /api/v1/events` — the public ingest API for third parties (ad platforms' spend, search
 * rankings, offline conversions, custom facts). Authenticated by a per-shop API key with the
 * `events:write` permission (`Authorization: Bearer sk_…` or `X-Api-Key: sk_…`).
 *
 * A batch of 1…1,000 events is validated whole: one invalid event refuses the batch (400,
 * every event's errors by index) and nothing is published. A valid batch is published as one
 * shop-log message per event, `messageId` `ingest:<idempotency_key>`; the shop actor records
 * each message id durably, so a re-sent key is a no-op. The answer is 202 only after every
 * publish is durable; 503 if any failed — retrying the same batch is safe.
 *
 * Status codes: 401 missing/unknown/revoked key, 403 key without `events:write`, 429 over the
 * key's rate (120 requests/min by default), 415 not JSON, 413 over 1 MB, 400 malformed JSON
 * or invalid events, 503 key store or shop log unavailable.
 */
import { Effect, Exit } from "effect"
import type { Context, Hono } from "hono"
import { grantedPermissions, isRole } from "../../domain/access/Permissions.ts"
import { decodeEventBatch, type ExternalEvent } from "../../domain/ingest/ExternalEvents.ts"
import { EVENTS_WRITE } from "../../domain/ingest/Scopes.ts"
import type { ApiKeyPrincipal } from "../../src/access/ApiKeys.ts"
import type { ShopMessage } from "../../src/shoplog/ShopLog.ts"
import { problem, Problems, readRawBody } from "./HttpProblem.ts"
import { RateLimiter } from "./RateLimit.ts"

export const INGEST_BODY_LIMIT = 1024 * 1024

/** The message the ingress publishes per event (handled by `src/ingest/IngestHandlers.ts`). */
export const EXTERNAL_EVENT_MESSAGE = "ingest.external_event"

export interface ExternalEventPayload {
  /** The API key that sent the event (its id, never the key). */
  readonly key_id: string
  readonly event: ExternalEvent
}

export interface PublicIngestOptions {
  /** The key's principal, or `undefined` for an unknown, malformed or revoked key. */
  readonly verifyKey: (key: string) => Promise<ApiKeyPrincipal | undefined>
  /** Publishes to the shop's log; resolves once durable. */
  readonly publish: (message: ShopMessage) => Promise<unknown>
  /** Publishes in flight per request (default 64; the logs batch concurrent publishes). */
  readonly publishConcurrency?: number
  /**
   * Requests per API key (each up to 1,000 events); default {@link ingestRateLimiter}. A
   * refused request gets 429 with `Retry-After` and publishes nothing.
   */
  readonly rateLimiter?: RateLimiter
}

/** The ingest API's default limit: 120 requests (up to 120,000 events) per minute per key. */
export const ingestRateLimiter = (now?: () => number): RateLimiter =>
  new RateLimiter({ capacity: 120, perMs: 60_000, ...(now === undefined ? {} : { now }) })

const unauthorized = (message: string) => ({
  status: 401 as const,
  code: "unauthorized",
  message,
  headers: { "WWW-Authenticate": "Bearer realm=\"sumeru\"" }
})

/** The key from `Authorization: Bearer …`, else `X-Api-Key`. */
const presentedKey = (c: Context): string | undefined => {
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(c.req.header("authorization") ?? "")?.[1]
  if (bearer !== undefined) return bearer
  const header = c.req.header("x-api-key")?.trim()
  return header === undefined || header === "" ? undefined : header
}

/** The key may send events: `events:write` as a scope, or through its role. */
const maySendEvents = (principal: ApiKeyPrincipal): boolean =>
  grantedPermissions(isRole(principal.role) ? principal.role : null, principal.scopes).has(EVENTS_WRITE)

export const messageOf = (shop: string, keyId: string, event: ExternalEvent, correlationId: string): ShopMessage => ({
  shop,
  messageId: `ingest:${event.idempotency_key}`,
  type: EXTERNAL_EVENT_MESSAGE,
  payload: { key_id: keyId, event } satisfies ExternalEventPayload,
  correlationId
})

export const mountPublicIngestRoute = (app: Hono, options: PublicIngestOptions) => {
  const concurrency = Math.max(1, options.publishConcurrency ?? 64)
  const limiter = options.rateLimiter ?? ingestRateLimiter()

  app.post("/api/v1/events", async (c) => {
    const key = presentedKey(c)
    if (key === undefined) return problem(c, unauthorized("send an API key: Authorization: Bearer sk_…"))
    let principal: ApiKeyPrincipal | undefined
    try {
      principal = await options.verifyKey(key)
    } catch {
      return problem(c, Problems.unavailable("API key verification"))
    }
    if (principal === undefined) return problem(c, unauthorized("unknown or revoked API key"))
    if (!maySendEvents(principal)) {
      return problem(c, { status: 403, code: "forbidden", message: `this API key lacks the ${EVENTS_WRITE} permission` })
    }
    const allowed = limiter.take(principal.keyId)
    if (!allowed.allowed) {
      return problem(c, {
        status: 429,
        code: "rate_limited",
        message: `this API key sends more than ${limiter.capacity} requests a minute; retry after ${allowed.retryAfterSeconds} s`,
        headers: { "Retry-After": String(allowed.retryAfterSeconds) }
      })
    }

    const contentType = (c.req.header("content-type") ?? "").toLowerCase()
    if (!contentType.startsWith("application/json")) return problem(c, Problems.unsupportedMediaType())
    const raw = await readRawBody(c.req.raw, INGEST_BODY_LIMIT)
    if (raw === "too_large") return problem(c, Problems.tooLarge(INGEST_BODY_LIMIT))
    let body: unknown
    try {
      body = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(raw))
    } catch {
      return problem(c, Problems.malformedJson())
    }

    const decoded = decodeEventBatch(body)
    if (decoded._tag === "Failure") {
      const rejection = decoded.failure
      return problem(c, {
        ...Problems.invalid(rejection._tag === "InvalidBatch" ? { errors: rejection.errors } : { events: rejection.events }),
        message: rejection._tag === "InvalidBatch"
          ? "the batch is invalid; nothing was accepted"
          : `${rejection.events.length} event(s) are invalid; nothing was accepted`
      })
    }

    const events = decoded.success
    const { keyId, shop } = principal
    const correlationId = crypto.randomUUID()
    const published = await Effect.runPromiseExit(
      Effect.forEach(events, (event) => Effect.tryPromise(() => options.publish(messageOf(shop, keyId, event, correlationId))), {
        concurrency,
        discard: true
      })
    )
    // Some events may be durable already: the client retries the whole batch, and the
    // idempotency keys make the ones already in the log no-ops.
    if (Exit.isFailure(published)) return problem(c, Problems.unavailable("the shop log"))
    return c.json({ accepted: events.length }, 202)
  })
}
