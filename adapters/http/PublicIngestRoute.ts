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
 * key's rate (120 requests/min by default) — all before the body is read — then the ingress
 * preamble (`IngressPreamble.ts`): 413 over 1 MB declared or streamed, 415 not exactly
 * `application/json` (parameters such as `; charset=utf-8` are fine; `application/json-seq` and
 * the like, which this route used to let through, are not), 400 not UTF-8 or not JSON (integers
 * beyond 2^53 kept exact); then 400 invalid events; 503 when the shop log or the key store's
 * database cannot be reached.
 */
import { Effect, Option } from "effect"
import type { Context, Hono } from "hono"
import { grantedPermissions, isRole } from "../../domain/access/Permissions.ts"
import { decodeEventBatch, type ExternalEvent } from "../../domain/ingest/ExternalEvents.ts"
import { EVENTS_WRITE } from "../../domain/ingest/Scopes.ts"
import { type ApiKeyPrincipal, ApiKeys } from "../../src/access/ApiKeys.ts"
import { ShopLog, type ShopMessage } from "../../src/shoplog/ShopLog.ts"
import { ApiKeyRejected, InvalidInput, PermissionMissing, RateLimitExceeded } from "./HttpErrors.ts"
import { respond } from "./HttpProblem.ts"
import { APPLICATION_JSON, type IngressSpec, readJson } from "./IngressPreamble.ts"
import { RateLimiter } from "./RateLimit.ts"
import type { RunEffect } from "./RunEffect.ts"
import { encodeShopMessage } from "../../domain/messages/ShopMessages.ts"

export const INGEST_BODY_LIMIT = 1024 * 1024


export interface PublicIngestOptions {
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
  // handled by `src/ingest/IngestHandlers.ts`; `key_id` is the sending API key's id, never the key
  ...encodeShopMessage({ type: "ingest.external_event", payload: { key_id: keyId, event } }),
  correlationId
})

const ingress: IngressSpec = { mediaTypes: [APPLICATION_JSON], limit: INGEST_BODY_LIMIT }

/** Mounts the route; `run` provides the API keys and the shop log. */
export const mountPublicIngestRoute = (app: Hono, run: RunEffect<ApiKeys | ShopLog>, options: PublicIngestOptions = {}) => {
  const concurrency = Math.max(1, options.publishConcurrency ?? 64)
  const limiter = options.rateLimiter ?? ingestRateLimiter()

  app.post("/api/v1/events", (c) =>
    respond(
      run,
      c,
      Effect.gen(function*() {
        const key = presentedKey(c)
        if (key === undefined) return yield* new ApiKeyRejected({ reason: "send an API key: Authorization: Bearer sk_…" })
        const keys = yield* ApiKeys
        const principal = yield* keys.verify(key)
        if (Option.isNone(principal)) return yield* new ApiKeyRejected({ reason: "unknown or revoked API key" })
        if (!maySendEvents(principal.value)) return yield* new PermissionMissing({ permission: EVENTS_WRITE })
        const { keyId, shop } = principal.value
        const allowed = limiter.take(keyId)
        if (!allowed.allowed) {
          return yield* new RateLimitExceeded({
            reason: `this API key sends more than ${limiter.capacity} requests a minute; retry after ${allowed.retryAfterSeconds} s`,
            retryAfterSeconds: allowed.retryAfterSeconds
          })
        }

        const body = yield* readJson(c.req.raw, ingress)
        const decoded = decodeEventBatch(body)
        if (decoded._tag === "Failure") {
          const rejection = decoded.failure
          return yield* new InvalidInput({
            details: rejection._tag === "InvalidBatch" ? { errors: rejection.errors } : { events: rejection.events },
            summary: rejection._tag === "InvalidBatch"
              ? "the batch is invalid; nothing was accepted"
              : `${rejection.events.length} event(s) are invalid; nothing was accepted`
          })
        }

        const events = decoded.success
        const correlationId = crypto.randomUUID()
        const log = yield* ShopLog
        // Some events may be durable already when one publish fails: the client retries the
        // whole batch, and the idempotency keys make the ones already in the log no-ops.
        yield* Effect.forEach(events, (event) => log.publish(messageOf(shop, keyId, event, correlationId)), { concurrency, discard: true })
        return c.json({ accepted: events.length }, 202)
      })
    ))
}
