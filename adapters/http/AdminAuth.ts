/**
 * Authentication, rate limiting and authorization of the admin API (issue 5 §5), and the one
 * place where its typed errors become HTTP responses.
 *
 * Every admin route is mounted by {@link mountAdminRoute} from its declaration in
 * `AdminRouteCatalog.ts`; each request then goes through, in this order:
 * 1. **who**: `Authorization: Bearer <token>`. A token starting with `sk_` is an operator API
 *    key (`verifyApiKey`: the key's shop, role and scopes). Anything else is an App Bridge
 *    session token (HS256 with the app secret, `SessionToken.ts`); its role is the one the shop
 *    gave the token's user (`shop_members`), else the default role. A missing, invalid,
 *    unknown or revoked credential is a 401, and so is a valid one for a shop that is not
 *    installed (`isKnownShop`).
 * 2. **how often**: 100 requests per minute per shop (a token bucket, `RateLimit.ts`), shared by
 *    every admin route of the process: 429 with `Retry-After`. Every answer carries
 *    `X-RateLimit-Limit` and `X-RateLimit-Remaining`.
 * 3. **may it**: the route's permission (`domain/access/Permissions.ts`), else a 403 naming the
 *    missing permission. A 403 reveals nothing: the caller is authenticated for its own shop,
 *    and it only ever sees that shop. Another shop's resources stay 404 (tenancy, invariant 6).
 *
 * The default role of a staff member with no `shop_members` row is `owner` (configurable with
 * `ADMIN_DEFAULT_ROLE`): Shopify already decides who may open the embedded app (the store owner
 * and the staff the merchant granted the app to), so by default everyone the merchant let in can
 * do everything, as before roles existed. A shop that wants less lists its staff with lower roles,
 * or sets a lower default and lists the people who need more.
 */
import { Config, Effect, Option, Result, Schema } from "effect"
import { SqlClient } from "effect/sql"
import type { SqlError } from "effect/sql/SqlError"
import type { Context, Hono, MiddlewareHandler } from "hono"
import { createMiddleware } from "hono/factory"
import type { ContentfulStatusCode } from "hono/utils/http-status"
import {
  can,
  grantedPermissions,
  isRole,
  type Permission,
  permissionsOf,
  type Principal,
  type Role,
  ROLES
} from "../../domain/access/Permissions.ts"
import type { ApiKeyPrincipal, ApiKeys } from "../../src/access/ApiKeys.ts"
import type { PersistenceError } from "../../src/eventstore/EventStore.ts"
import { ShopLogUnavailable } from "../../src/shoplog/ShopLog.ts"
import { asTenant } from "../postgres/Tenancy.ts"
import { ADMIN_ROUTES, type AdminRoute } from "./AdminRouteCatalog.ts"
import { DependencyUnavailable } from "./HttpErrors.ts"
import { closesConnection, isDatabaseUnreachable, RETRY_AFTER_SECONDS } from "./HttpProblem.ts"
import { readRawBody } from "./IngressPreamble.ts"
import { RateLimiter } from "./RateLimit.ts"
import type { RunEffect } from "./RunEffect.ts"
import { SessionTokenFailure, type SessionTokenKeys, verifySessionTokenAt } from "./SessionToken.ts"

// ---------------------------------------------------------------------------
// Typed errors and their HTTP mapping
// ---------------------------------------------------------------------------

/** No credential, or one that does not verify, or a shop that is not installed. HTTP 401. */
export class Unauthorized extends Schema.TaggedError<Unauthorized>()("Unauthorized", {
  reason: Schema.Union([SessionTokenFailure, Schema.Literals(["MISSING_TOKEN", "UNKNOWN_API_KEY", "UNKNOWN_SHOP"])]),
  message: Schema.String
}) {}

/** The principal lacks a permission the request needs. HTTP 403. */
export class Forbidden extends Schema.TaggedError<Forbidden>()("Forbidden", {
  missing: Schema.Array(Schema.String),
  message: Schema.String
}) {}

/** A query parameter is not acceptable. HTTP 400. */
export class InvalidQueryParameter extends Schema.TaggedError<InvalidQueryParameter>()("InvalidQueryParameter", {
  parameter: Schema.String,
  message: Schema.String
}) {}

/** A path parameter cannot be an id of the kind the route takes. HTTP 400. */
export class InvalidPathParameter extends Schema.TaggedError<InvalidPathParameter>()("InvalidPathParameter", {
  parameter: Schema.String,
  message: Schema.String
}) {}

/** The request body is not the JSON the route takes. HTTP 400. */
export class InvalidRequestBody extends Schema.TaggedError<InvalidRequestBody>()("InvalidRequestBody", {
  message: Schema.String,
  /** Every problem with its field (a JSON path like `resources[0].resourceId`), when known. */
  errors: Schema.optional(Schema.Array(Schema.Struct({ field: Schema.String, message: Schema.String })))
}) {}

/** The request body exceeds the route's limit. HTTP 413. */
export class RequestBodyTooLarge extends Schema.TaggedError<RequestBodyTooLarge>()("RequestBodyTooLarge", {
  limit: Schema.Number
}) {}

/** Nothing the shop can see has this id (it may exist for another shop). HTTP 404. */
export class ResourceNotFound extends Schema.TaggedError<ResourceNotFound>()("ResourceNotFound", {
  resource: Schema.String,
  id: Schema.String
}) {}

/**
 * The request conflicts with the resource's state. HTTP 409 `{ error: { code, message }, ...fields }`
 * (`fields` point at what to look at instead, e.g. the existing undo job).
 */
export class Conflict extends Schema.TaggedError<Conflict>()("Conflict", {
  code: Schema.String,
  message: Schema.String,
  fields: Schema.optionalKey(Schema.Record(Schema.String, Schema.Unknown))
}) {}

/** The shop has used up its requests for now. HTTP 429 with `Retry-After`. */
export class RateLimited extends Schema.TaggedError<RateLimited>()("RateLimited", {
  limit: Schema.Number,
  retryAfterSeconds: Schema.Number
}) {}

/** A dependency (the shop log, the database) cannot be reached. HTTP 503 with `Retry-After`. */
export class Unavailable extends Schema.TaggedError<Unavailable>()("Unavailable", {
  what: Schema.String
}) {}

/**
 * The resource was accepted (its request is durably in the shop's log) but the shop's actor has
 * not recorded it yet: it will exist, so not a 404. HTTP 503 with `Retry-After`.
 */
export class NotYetRecorded extends Schema.TaggedError<NotYetRecorded>()("NotYetRecorded", {
  resource: Schema.String,
  id: Schema.String
}) {}

export type AdminApiError =
  | Unauthorized
  | Forbidden
  | InvalidQueryParameter
  | InvalidPathParameter
  | InvalidRequestBody
  | RequestBodyTooLarge
  | ResourceNotFound
  | Conflict
  | RateLimited
  | Unavailable
  | NotYetRecorded

/** Status code of each typed error. */
export const adminErrorStatus = (error: AdminApiError): ContentfulStatusCode => {
  switch (error._tag) {
    case "Unauthorized":
      return 401
    case "Forbidden":
      return 403
    case "InvalidQueryParameter":
    case "InvalidPathParameter":
    case "InvalidRequestBody":
      return 400
    case "RequestBodyTooLarge":
      return 413
    case "ResourceNotFound":
      return 404
    case "Conflict":
      return 409
    case "RateLimited":
      return 429
    case "Unavailable":
    case "NotYetRecorded":
      return 503
  }
}

/** The JSON error body of each typed error. */
export const adminErrorBody = (error: AdminApiError) => {
  switch (error._tag) {
    case "Unauthorized":
      return { error: { code: "UNAUTHORIZED", reason: error.reason, message: error.message } }
    case "Forbidden":
      return { error: { code: "FORBIDDEN", missing: error.missing, message: error.message } }
    case "InvalidQueryParameter":
      return { error: { code: "INVALID_QUERY_PARAMETER", parameter: error.parameter, message: error.message } }
    case "InvalidPathParameter":
      return { error: { code: "INVALID_PATH_PARAMETER", parameter: error.parameter, message: error.message } }
    case "InvalidRequestBody":
      return { error: { code: "INVALID_REQUEST_BODY", message: error.message, ...(error.errors === undefined ? {} : { errors: error.errors }) } }
    case "RequestBodyTooLarge":
      return { error: { code: "PAYLOAD_TOO_LARGE", message: `the body exceeds ${error.limit} bytes` } }
    case "ResourceNotFound":
      return { error: { code: "NOT_FOUND", message: `${error.resource} ${error.id} not found` } }
    case "Conflict":
      return { error: { code: error.code, message: error.message }, ...error.fields }
    case "RateLimited":
      return {
        error: {
          code: "RATE_LIMITED",
          message: `at most ${error.limit} admin requests per minute per shop; retry in ${error.retryAfterSeconds} s`,
          retry_after_seconds: error.retryAfterSeconds
        }
      }
    case "Unavailable":
      return { error: { code: "unavailable", message: `${error.what} is unavailable; retry later` } }
    case "NotYetRecorded":
      return {
        error: { code: "NOT_YET_RECORDED", message: `${error.resource} ${error.id} was accepted and is not recorded yet; retry shortly` }
      }
  }
}

const errorHeaders = (error: AdminApiError): Record<string, string> => {
  switch (error._tag) {
    case "Unauthorized":
      // tells App Bridge to fetch a fresh session token and retry
      return { "WWW-Authenticate": `Bearer error="invalid_token"`, "X-Shopify-Retry-Invalid-Session-Request": "1" }
    case "RateLimited":
      return {
        "Retry-After": String(error.retryAfterSeconds),
        "X-RateLimit-Limit": String(error.limit),
        "X-RateLimit-Remaining": "0"
      }
    case "Unavailable":
      return { "Retry-After": String(RETRY_AFTER_SECONDS) }
    case "NotYetRecorded":
      return { "Retry-After": "1" }
    case "RequestBodyTooLarge":
      return closesConnection
    default:
      return {}
  }
}

/** The one place typed errors become responses. */
export const adminErrorResponse = (c: Context, error: AdminApiError): Response =>
  c.json(adminErrorBody(error), adminErrorStatus(error), errorHeaders(error))

/** Something unexpected: only the id of the log line with the details goes out. */
const internalErrorResponse = (c: Context, correlationId: string): Response =>
  c.json({ error: { code: "INTERNAL_ERROR", message: "internal error", correlation_id: correlationId } }, 500)

// ---------------------------------------------------------------------------
// Running Effects from Hono
// ---------------------------------------------------------------------------

/** How routes run Effects that need the database: `RunEffect` over the process's context (see `Server.ts`). */
export type RunSqlEffect = RunEffect<SqlClient.SqlClient>

/**
 * A rejection that means a dependency cannot be reached now (the shop log, the shop directory,
 * the database), as the admin API's 503; `undefined` for anything else.
 */
export const unavailableOf = (error: unknown): Unavailable | undefined => {
  if (error instanceof ShopLogUnavailable) return new Unavailable({ what: "the shop log" })
  if (error instanceof DependencyUnavailable) return new Unavailable({ what: error.what })
  if (isDatabaseUnreachable(error)) return new Unavailable({ what: "the database" })
  return undefined
}

/** Logs an unexpected failure under a fresh correlation id, and answers 500 with that id. */
const unexpected = async <R>(run: RunEffect<R>, c: Context, failure: unknown): Promise<Response> => {
  const correlationId = crypto.randomUUID()
  await run(
    Effect.logError(`${c.req.method} ${c.req.path}: unexpected failure`, failure).pipe(Effect.annotateLogs({ correlation: correlationId }))
  ).catch(() => undefined)
  return internalErrorResponse(c, correlationId)
}

/**
 * Runs `effect` and answers `ok(value)`; typed errors become their responses, a database that
 * cannot be reached a 503 with `Retry-After`, any other database failure and any defect a 500
 * whose correlation id is on the log line with the failure.
 */
export const runAdminEffect = async <A, R>(
  run: RunEffect<R>,
  c: Context,
  effect: Effect.Effect<A, AdminApiError | SqlError | PersistenceError, R>,
  ok: (value: A) => Response | Promise<Response>
): Promise<Response> => {
  try {
    const result = await run(Effect.result(effect))
    if (Result.isSuccess(result)) return await ok(result.success)
    const failure = result.failure
    if (failure._tag !== "SqlError" && failure._tag !== "PersistenceError") return adminErrorResponse(c, failure)
    if (isDatabaseUnreachable(failure)) return adminErrorResponse(c, new Unavailable({ what: "the database" }))
    return await unexpected(run, c, failure)
  } catch (defect) {
    return await unexpected(run, c, defect)
  }
}

/** Admin request bodies are small JSON documents. */
export const ADMIN_BODY_LIMIT = 16 * 1024

/** The request's JSON body (at most `limit` bytes), for a route's Effect. */
export const readJsonBody = (c: Context, limit: number = ADMIN_BODY_LIMIT): Effect.Effect<unknown, InvalidRequestBody | RequestBodyTooLarge> =>
  Effect.gen(function*() {
    const raw = yield* Effect.promise(() => readRawBody(c.req.raw, limit))
    if (raw === "too_large") return yield* new RequestBodyTooLarge({ limit })
    return yield* Effect.try({
      try: (): unknown => JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(raw)),
      catch: () => new InvalidRequestBody({ message: "the body is not valid JSON" })
    })
  })

// ---------------------------------------------------------------------------
// The guard: principal, rate limit, permission
// ---------------------------------------------------------------------------

/** The admin API's rate limit: 100 requests per minute per shop. */
export const ADMIN_RATE_LIMIT = { capacity: 100, perMs: 60_000 } as const

/** A limiter with the admin API's limit (`now`: the clock, for tests; `capacity`: requests a minute). */
export const adminRateLimiter = (now?: () => number, capacity: number = ADMIN_RATE_LIMIT.capacity): RateLimiter =>
  new RateLimiter({ ...ADMIN_RATE_LIMIT, capacity, ...(now === undefined ? {} : { now }) })

/**
 * `ADMIN_RATE_LIMIT_PER_MINUTE`: the admin API's requests per minute per shop (default the seed's
 * 100). The admin app's screens share it with the shop's scripts; a shop with many staff, or a
 * browser test walking every screen in seconds, needs more.
 */
export const AdminRateLimitPerMinute: Config.Config<number> = Config.Int("ADMIN_RATE_LIMIT_PER_MINUTE").pipe(
  Config.withDefault(ADMIN_RATE_LIMIT.capacity)
)

/** `ADMIN_DEFAULT_ROLE`: the role of a staff member the shop has not listed (default `owner`). */
export const AdminDefaultRole: Config.Config<Role> = Config.Literals(ROLES, "ADMIN_DEFAULT_ROLE").pipe(
  Config.withDefault<Role>("owner")
)

export interface AdminAuthConfig extends SessionTokenKeys {
  /** Clock skew tolerated on `exp`/`nbf` (default 5 s). */
  readonly leewaySeconds?: number | undefined
  /** Current time in milliseconds (default `Date.now`). */
  readonly now?: (() => number) | undefined
  /**
   * Resolves an operator API key (`sk_…`) to its principal, undefined when unknown or revoked
   * ({@link verifyApiKeyWith}). Without it, API keys are refused (401).
   */
  readonly verifyApiKey?: ((key: string) => Promise<ApiKeyPrincipal | undefined>) | undefined
  /**
   * Whether the shop has the app installed. Without it every shop with a valid credential is
   * accepted (tests that do not model installs); the server must pass it.
   */
  readonly isKnownShop?: ((shop: string) => Promise<boolean>) | undefined
  /** The per-shop limiter (default {@link adminRateLimiter}). */
  readonly limiter?: RateLimiter | undefined
  /** Role of a staff member without a `shop_members` row (default `owner`, {@link AdminDefaultRole}). */
  readonly defaultRole?: Role | undefined
}

/** Hono environment of admin routes: the authenticated principal. */
export type AdminEnv = { Variables: { principal: Principal } }

/** A route handler behind the guard. */
export type AdminHandler = (c: Context<AdminEnv>) => Response | Promise<Response>

/**
 * One per process (or per test app): the authentication middleware, with the per-shop limiter
 * that all admin routes share. Build it with {@link makeAdminGuard} and pass it to every mount.
 */
export interface AdminGuard {
  readonly _tag: "AdminGuard"
  readonly run: RunSqlEffect
  readonly defaultRole: Role
  readonly limiter: RateLimiter
  /** Establishes the principal and takes a token from its shop's bucket. */
  readonly authenticate: MiddlewareHandler<AdminEnv>
}

/** Verifies API keys through the `ApiKeys` port. */
export const verifyApiKeyWith = (run: RunSqlEffect, apiKeys: ApiKeys["Service"]) => (key: string): Promise<ApiKeyPrincipal | undefined> =>
  run(apiKeys.verify(key)).then(Option.getOrUndefined)

/** The role the shop gave `userId`, if any (as the tenant). */
export const memberRole = (shop: string, userId: string): Effect.Effect<Role | null, SqlError, SqlClient.SqlClient> =>
  asTenant(
    shop,
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const rows = yield* sql<{ role: string }>`SELECT role FROM shop_members WHERE shop = ${shop} AND user_id = ${userId}`
      const role = rows[0]?.role
      return isRole(role) ? role : null
    })
  )

const BEARER = /^Bearer\s+(\S+)\s*$/i
const API_KEY_PREFIX = "sk_"
/** Far longer than any key or session token: not worth a lookup. */
const MAX_TOKEN_LENGTH = 4096

type Credential =
  | { readonly kind: "session"; readonly shop: string; readonly userId: string | null }
  | { readonly kind: "api_key"; readonly key: ApiKeyPrincipal }

export const makeAdminGuard = (run: RunSqlEffect, config: AdminAuthConfig): AdminGuard => {
  const limiter = config.limiter ?? adminRateLimiter()
  const defaultRole = config.defaultRole ?? "owner"
  const now = config.now ?? Date.now

  const credential = async (token: string): Promise<Result.Result<Credential, Unauthorized>> => {
    if (token.startsWith(API_KEY_PREFIX)) {
      const key = token.length > MAX_TOKEN_LENGTH || config.verifyApiKey === undefined
        ? undefined
        : await config.verifyApiKey(token)
      return key === undefined
        ? Result.fail(new Unauthorized({ reason: "UNKNOWN_API_KEY", message: "the API key is unknown or revoked" }))
        : Result.succeed({ kind: "api_key", key })
    }
    const verified = verifySessionTokenAt(token, config, now(), config.leewaySeconds)
    return Result.isFailure(verified)
      ? Result.fail(new Unauthorized({ reason: verified.failure.reason, message: verified.failure.message }))
      : Result.succeed({ kind: "session", shop: verified.success.shop, userId: verified.success.userId })
  }

  const principalOf = async (found: Credential): Promise<Principal> => {
    if (found.kind === "api_key") {
      const role = isRole(found.key.role) ? found.key.role : null
      return {
        shop: found.key.shop,
        kind: "api_key",
        subject: found.key.keyId,
        role,
        permissions: grantedPermissions(role, found.key.scopes)
      }
    }
    const listed = found.userId === null ? null : await run(memberRole(found.shop, found.userId))
    const role = listed ?? defaultRole
    return { shop: found.shop, kind: "session", subject: found.userId ?? "", role, permissions: permissionsOf(role) }
  }

  const authenticate = createMiddleware<AdminEnv>(async (c, next) => {
    try {
      const match = BEARER.exec(c.req.header("authorization") ?? "")
      if (match === null) {
        return adminErrorResponse(
          c,
          new Unauthorized({ reason: "MISSING_TOKEN", message: "an Authorization: Bearer <session token or API key> header is required" })
        )
      }
      const found = await credential(match[1]!)
      if (Result.isFailure(found)) return adminErrorResponse(c, found.failure)
      const shop = found.success.kind === "api_key" ? found.success.key.shop : found.success.shop
      if (config.isKnownShop !== undefined && !(await config.isKnownShop(shop))) {
        return adminErrorResponse(c, new Unauthorized({ reason: "UNKNOWN_SHOP", message: "the app is not installed on this shop" }))
      }
      // limit before the membership lookup: a flood costs the database nothing more
      const taken = limiter.take(shop)
      if (!taken.allowed) {
        return adminErrorResponse(c, new RateLimited({ limit: limiter.capacity, retryAfterSeconds: taken.retryAfterSeconds }))
      }
      c.set("principal", await principalOf(found.success))
      await next()
      c.header("X-RateLimit-Limit", String(limiter.capacity))
      c.header("X-RateLimit-Remaining", String(taken.remaining))
    } catch (error) {
      const unavailable = unavailableOf(error)
      return unavailable === undefined ? await unexpected(run, c, error) : adminErrorResponse(c, unavailable)
    }
  })

  return { _tag: "AdminGuard", run, defaultRole, limiter, authenticate }
}

/** Mounts accept a guard (share one across mounts) or, for older callers, its config. */
export const toAdminGuard = (run: RunSqlEffect, guard: AdminGuard | AdminAuthConfig): AdminGuard =>
  "_tag" in guard && guard._tag === "AdminGuard" ? guard : makeAdminGuard(run, guard as AdminAuthConfig)

/** Middleware: 403 unless the principal holds `permission`. Behind {@link AdminGuard.authenticate}. */
export const requirePermission = (permission: Permission): MiddlewareHandler<AdminEnv> =>
  createMiddleware<AdminEnv>(async (c, next) => {
    if (!can(requirePrincipal(c), permission)) {
      return adminErrorResponse(c, new Forbidden({ missing: [permission], message: `this requires the ${permission} permission` }))
    }
    await next()
  })

/** The authenticated principal; only valid behind the guard. */
export const requirePrincipal = (c: Context<AdminEnv>): Principal => {
  const principal = c.get("principal") as Principal | undefined
  if (principal === undefined) throw new Error("requirePrincipal: the admin guard did not run for this route")
  return principal
}

/** The principal's shop: the only shop the request can see. */
export const requireShop = (c: Context<AdminEnv>): string => requirePrincipal(c).shop

/** How a principal appears in audit text (`requestedBy`): the user id, or `api_key:<id>`. */
export const principalLabel = (principal: Principal): string =>
  principal.kind === "session" ? principal.subject : `api_key:${principal.subject}`

/**
 * Mounts one declared admin route behind the guard and its permission. Refuses a route that is
 * not in `ADMIN_ROUTES`, so that every admin route is documented and covered by the RBAC and
 * tenancy tests.
 */
export const mountAdminRoute = (app: Hono, guard: AdminGuard, route: AdminRoute, handler: AdminHandler): void => {
  if (!ADMIN_ROUTES.includes(route)) {
    throw new Error(`admin route ${route.method} ${route.path} is not declared in ADMIN_ROUTES (adapters/http/AdminRouteCatalog.ts)`)
  }
  app.on(route.method, route.path, privateAnswer, guard.authenticate, requirePermission(route.permission), handler)
}

/**
 * Every admin answer is the shop's own data: no shared or disk cache may keep it, and the same
 * URL is also the admin app's page for a browser navigation (`AdminUi.ts`), so the answer varies
 * by `Accept` — without that, Back could show the JSON a screen fetched in place of the screen.
 */
const privateAnswer: MiddlewareHandler = async (c, next) => {
  await next()
  c.res.headers.set("vary", "Accept")
  if (!c.res.headers.has("cache-control")) c.res.headers.set("cache-control", "private, no-store")
}

/** An optional JSON object body: `{}` when there is none; a body that is not an object is a 400. */
export const readOptionalJson = (c: Context) =>
  Effect.gen(function*() {
    if ((c.req.header("content-length") ?? "0") === "0" && c.req.header("transfer-encoding") === undefined) return {} as Record<string, unknown>
    const body = yield* readJsonBody(c)
    if (typeof body !== "object" || body === null || Array.isArray(body)) {
      return yield* new InvalidRequestBody({ message: "the body must be a JSON object, e.g. { \"reason\": \"not now\" }" })
    }
    return body as Record<string, unknown>
  })
