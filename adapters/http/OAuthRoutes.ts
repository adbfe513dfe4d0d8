/**
 * Installing the app on a shop: Shopify's authorization code grant (`/auth`, `/auth/callback`)
 * and, for the embedded admin, the token-exchange grant (`/auth/token-exchange`). Both end
 * the same way: the shop's offline access token is handed to `saveToken` (as `Redacted`,
 * encrypted at rest by the `ShopTokens` adapter) and a `shopify.app_installed` message is
 * published to the shop's log, whose actor records `shop.installed`. The token itself never
 * reaches a response, a log entry or a message.
 *
 * Authorization code grant (shopify.dev "Implement authorization code grant manually"):
 * - `GET /auth?shop=<shop>.myshopify.com` checks the shop (anything else is a 400, never a
 *   redirect to a host the caller chose), creates a random state nonce, keeps it in a
 *   short-lived, HttpOnly, SameSite=Lax cookie signed with the app secret and bound to the
 *   shop, and redirects to `<admin>/admin/oauth/authorize` asking for offline access (no
 *   `grant_options[]=per-user`). When Shopify's install request carries an `hmac`, it must be
 *   valid.
 * - `GET /auth/callback` refuses, before anything is stored: a parameter missing or given
 *   twice, a shop that is not `<name>.myshopify.com`, a query HMAC that matches neither the
 *   current nor the previous secret (constant time), a `timestamp` more than
 *   `callbackMaxAgeSeconds` away from now, and a `state` that does not match the signed
 *   cookie of the same shop. The cookie is cleared by every callback (single use). The code
 *   is then exchanged at `<admin>/admin/oauth/access_token`; Shopify spends it, so a replayed
 *   callback is refused there.
 * - Success answers `302` to the embedded app in the shop's admin
 *   (`https://<shop>/admin/apps/<apiKey>`), or `200` JSON `{ shop, scopes, method }` when the
 *   request prefers `application/json` (scripts, tests).
 *
 * Token exchange (shopify.dev "Exchange a session token for an access token"):
 * `POST /auth/token-exchange` with `Authorization: Bearer <App Bridge session token>`; the
 * token is verified here first (an invalid one is a 401 with
 * `X-Shopify-Retry-Invalid-Session-Request: 1`, so App Bridge fetches a fresh one), then sent
 * to Shopify as `subject_token` for an offline token.
 *
 * `adminOrigin(shop)` is `https://<shop>` in production and the simulator's (or a proxy's)
 * origin when `SHOPIFY_ADMIN_URL_OVERRIDE` is set. A shared origin cannot tell shops apart by
 * host, so then, as `ShopifyAdminLive` does, requests carry `X-Forwarded-Host: <shop>` and the
 * authorize redirect also names `shop`.
 *
 * Every refusal is an {@link OAuthFailure}; {@link failureProblem} maps them to HTTP in one place.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto"
import { Predicate, Redacted, Result, Schema } from "effect"
import type { Context, Hono } from "hono"
import { deleteCookie, getCookie, setCookie } from "hono/cookie"
import type { ContentfulStatusCode } from "hono/utils/http-status"
import { isShopDomain } from "../../domain/shop/ShopDomain.ts"
import type { ShopMessage } from "../../src/shoplog/ShopLog.ts"
import { problem, type Problem } from "./HttpProblem.ts"
import { type InvalidSessionToken, verifySessionTokenAt, type VerifiedSession } from "./SessionToken.ts"
import { type AppInstalled, encodeShopMessage } from "../../domain/messages/ShopMessages.ts"


export const STATE_COOKIE = "sumeru_oauth_state"
/** How long an `/auth` → `/auth/callback` round trip may take (the merchant may read the consent screen). */
export const STATE_TTL_SECONDS = 600
/** How far a callback's `timestamp` may be from now (either way: clock skew). */
export const CALLBACK_MAX_AGE_SECONDS = 300
export const SHOPIFY_TIMEOUT_MS = 10_000

export const TOKEN_EXCHANGE_GRANT = "urn:ietf:params:oauth:grant-type:token-exchange"
export const ID_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:id_token"
export const OFFLINE_ACCESS_TOKEN_TYPE = "urn:shopify:params:oauth:token-type:offline-access-token"

export type InstallMethod = "oauth" | "token_exchange"


/** A structured, token-free account of what the routes did (for the process log). */
export interface OAuthLogEntry {
  readonly level: "info" | "warn"
  readonly message: string
  readonly shop?: string | undefined
  readonly reason?: OAuthFailureReason | undefined
  readonly method?: InstallMethod | undefined
}

export interface OAuthOptions {
  /** The app's client id. */
  readonly apiKey: string
  /** The app's client secret, then the previous one during a rotation. */
  readonly secrets: ReadonlyArray<string>
  /** Scopes to request (comma-separated); a grant must cover them (a write scope covers its read scope). */
  readonly scopes: string
  /** Public base URL of this app: `redirect_uri` is `<appUrl>/auth/callback`. */
  readonly appUrl: string
  /** Origin of a shop's admin: `https://<shop>`, or the simulator's when overridden. */
  readonly adminOrigin: (shop: string) => string
  readonly fetch?: typeof globalThis.fetch | undefined
  /**
   * Stores the shop's offline token (encrypted at rest); replaces a previous one. Rejects with
   * the store's `SecretsUnavailable` when it cannot be reached (503); any other rejection is a bug (500).
   */
  readonly saveToken: (shop: string, token: Redacted.Redacted<string>, scopes: string) => Promise<void>
  /**
   * Publishes to the shop's log; resolves once durably accepted. Rejects with `ShopLogUnavailable`
   * when the log cannot take it (503); any other rejection is a bug (500).
   */
  readonly publish: (message: ShopMessage) => Promise<unknown>
  /** Milliseconds since the epoch (tests move it). */
  readonly now?: (() => number) | undefined
  readonly log?: ((entry: OAuthLogEntry) => void) | undefined
  readonly callbackMaxAgeSeconds?: number | undefined
  readonly stateTtlSeconds?: number | undefined
  readonly shopifyTimeoutMs?: number | undefined
}

// ---------------------------------------------------------------------------------- failures

export const OAuthFailureReason = Schema.Literals([
  /** The shop is not `<name>.myshopify.com`. */
  "invalid_shop",
  /** A required query parameter is missing, empty or repeated. */
  "invalid_request",
  /** The query HMAC matches no secret. */
  "invalid_hmac",
  /** The callback's `timestamp` is too old (or too far in the future). */
  "stale_request",
  /** No state cookie, a forged or expired one, or another nonce or shop than the callback's. */
  "invalid_state",
  /** The App Bridge session token is missing or invalid. */
  "invalid_session_token",
  /** Shopify refused the authorization code (unknown, expired or already used). */
  "code_rejected",
  /** Shopify refused the session token that was verified here (secret or app mismatch). */
  "session_token_rejected",
  /** Shopify refused the app's credentials: a configuration problem on our side. */
  "shopify_refused_app",
  /** Shopify could not be reached, timed out or answered 5xx. */
  "shopify_unreachable",
  /** Shopify answered something that is not a token response. */
  "shopify_bad_response",
  /** The merchant granted fewer scopes than the app needs. */
  "scopes_not_granted",
  /** The token could not be stored. */
  "token_store_unavailable",
  /** The install could not be recorded in the shop's log. */
  "shop_log_unavailable"
])
export type OAuthFailureReason = typeof OAuthFailureReason.Type

/** An install step was refused; nothing was stored (or, for the last two, nothing after the token). */
export class OAuthFailure extends Schema.TaggedError<OAuthFailure>()("OAuthFailure", {
  reason: OAuthFailureReason,
  message: Schema.String,
  details: Schema.optional(Schema.Unknown)
}) {}

const STATUS: Record<OAuthFailureReason, ContentfulStatusCode> = {
  invalid_shop: 400,
  invalid_request: 400,
  invalid_hmac: 401,
  stale_request: 401,
  invalid_state: 401,
  invalid_session_token: 401,
  code_rejected: 400,
  session_token_rejected: 401,
  shopify_refused_app: 502,
  shopify_unreachable: 502,
  shopify_bad_response: 502,
  scopes_not_granted: 403,
  token_store_unavailable: 503,
  shop_log_unavailable: 503
}

/** The one place an {@link OAuthFailure} becomes an HTTP answer. */
export const failureProblem = (failure: OAuthFailure): Problem => {
  const headers: Record<string, string> = {}
  if (failure.reason === "invalid_session_token" || failure.reason === "session_token_rejected") {
    // App Bridge's contract: fetch a new session token and retry.
    headers["X-Shopify-Retry-Invalid-Session-Request"] = "1"
  }
  if (STATUS[failure.reason] === 503) headers["Retry-After"] = "5"
  return {
    status: STATUS[failure.reason],
    code: failure.reason,
    message: failure.message,
    ...(failure.details === undefined ? {} : { details: failure.details }),
    headers
  }
}

const failure = (reason: OAuthFailureReason, message: string, details?: unknown) =>
  new OAuthFailure(details === undefined ? { reason, message } : { reason, message, details })

// --------------------------------------------------------------------------- pure helpers

/**
 * The message Shopify signs in an admin redirect's `hmac`: every parameter but `hmac` and
 * `signature`, sorted by key and serialised as `URLSearchParams` serialises them (Shopify's
 * own library, `stringifyQueryForAdmin`).
 */
export const adminQueryMessage = (params: ReadonlyMap<string, string>): string => {
  const sorted = new URLSearchParams()
  for (const key of [...params.keys()].filter((k) => k !== "hmac" && k !== "signature").sort()) {
    sorted.append(key, params.get(key)!)
  }
  return sorted.toString()
}

/** Hex HMAC-SHA256 of {@link adminQueryMessage} with `secret`. */
export const signAdminQuery = (secret: string, params: ReadonlyMap<string, string>): string =>
  createHmac("sha256", secret).update(adminQueryMessage(params), "utf8").digest("hex")

/** Whether `hmac` signs `params` with one of `secrets`; every secret is tried, in constant time each. */
export const verifyAdminQuery = (params: ReadonlyMap<string, string>, hmac: string, secrets: ReadonlyArray<string>): boolean => {
  const given = /^[0-9a-f]{64}$/i.test(hmac) ? Buffer.from(hmac, "hex") : Buffer.alloc(0)
  let ok = false
  for (const secret of secrets) {
    const expected = Buffer.from(signAdminQuery(secret, params), "hex")
    if (given.length === expected.length && timingSafeEqual(given, expected)) ok = true
  }
  return ok
}

/**
 * The query as a map of single values, or the first parameter that is repeated. A repeated
 * parameter is refused outright: `shop=a&shop=b` must never be read one way for the HMAC and
 * another way for the token request.
 */
export const singleValuedQuery = (search: URLSearchParams): Map<string, string> | { readonly repeated: string } => {
  const out = new Map<string, string>()
  for (const [k, v] of search) {
    if (out.has(k)) return { repeated: k }
    out.set(k, v)
  }
  return out
}

/**
 * The required scopes a grant does not cover. Shopify reports granted scopes compressed
 * (`write_products` without the `read_products` it implies), so a write scope covers its read.
 */
export const missingScopes = (required: string, granted: string): ReadonlyArray<string> => {
  const split = (s: string) => s.split(",").map((x) => x.trim()).filter((x) => x !== "")
  const have = new Set(split(granted))
  return split(required).filter((scope) =>
    !have.has(scope) && !(scope.startsWith("read_") && have.has(`write_${scope.slice("read_".length)}`))
  )
}

const base64url = (data: string | Buffer) => Buffer.from(data).toString("base64url")
const stateSignature = (secret: string, payload: string) =>
  createHmac("sha256", secret).update(`${STATE_COOKIE}.${payload}`, "utf8").digest()

interface StateClaims {
  /** The nonce sent as `state`. */
  readonly n: string
  /** The shop the flow was started for. */
  readonly s: string
  /** Expiry, seconds since the epoch. */
  readonly e: number
}

/** A state cookie value: `<payload>.<signature>`, both base64url. */
export const signStateCookie = (secret: string, claims: StateClaims): string => {
  const payload = base64url(JSON.stringify(claims))
  return `${payload}.${base64url(stateSignature(secret, payload))}`
}

const StateClaimsSchema = Schema.Struct({ n: Schema.String, s: Schema.String, e: Schema.Finite })

/** Reads a state cookie signed with one of `secrets`; `undefined` if forged or malformed. */
export const readStateCookie = (value: string, secrets: ReadonlyArray<string>): StateClaims | undefined => {
  const [payload, signature, ...rest] = value.split(".")
  if (payload === undefined || signature === undefined || rest.length > 0) return undefined
  const given = Buffer.from(signature, "base64url")
  let ok = false
  for (const secret of secrets) {
    const expected = stateSignature(secret, payload)
    if (given.length === expected.length && timingSafeEqual(given, expected)) ok = true
  }
  if (!ok) return undefined
  try {
    const decoded = Schema.decodeUnknownResult(StateClaimsSchema)(JSON.parse(Buffer.from(payload, "base64url").toString("utf8")))
    return Result.isSuccess(decoded) ? decoded.success : undefined
  } catch {
    return undefined
  }
}

const equalStrings = (a: string, b: string): boolean => {
  const x = Buffer.from(a, "utf8")
  const y = Buffer.from(b, "utf8")
  return x.length === y.length && timingSafeEqual(x, y)
}

/** Shopify's token endpoint answer (offline token; expiring tokens add fields we ignore). */
const TokenResponse = Schema.Struct({ access_token: Schema.NonEmptyString, scope: Schema.String })
const ErrorResponse = Schema.Struct({ error: Schema.String })

// ----------------------------------------------------------------------------------- routes

/** Mounts `/auth`, `/auth/callback` and `/auth/token-exchange` on `app`. */
export const mountOAuthRoutes = (app: Hono, options: OAuthOptions) => {
  if (options.secrets.length === 0) throw new Error("mountOAuthRoutes needs at least one client secret")
  const secrets = options.secrets
  const now = options.now ?? Date.now
  const doFetch = options.fetch ?? globalThis.fetch
  const log = options.log ?? (() => undefined)
  const appUrl = options.appUrl.replace(/\/+$/, "")
  if (!/^https?:\/\/[^/?#]+(\/[^?#]*)?$/.test(appUrl)) throw new Error("mountOAuthRoutes: appUrl must be an http(s) base URL such as https://app.example.com")
  const redirectUri = `${appUrl}/auth/callback`
  const secureCookie = appUrl.startsWith("https://")
  const maxAge = options.callbackMaxAgeSeconds ?? CALLBACK_MAX_AGE_SECONDS
  const stateTtl = options.stateTtlSeconds ?? STATE_TTL_SECONDS
  const timeoutMs = options.shopifyTimeoutMs ?? SHOPIFY_TIMEOUT_MS
  const cookieOptions = { path: "/auth", httpOnly: true, sameSite: "Lax", secure: secureCookie } as const

  const origin = (shop: string) => options.adminOrigin(shop).replace(/\/+$/, "")
  /** A shared origin (simulator, proxy) cannot tell shops apart by host. */
  const sharedOrigin = (shop: string) => new URL(origin(shop)).host !== shop

  const refuse = (c: Context, f: OAuthFailure, shop?: string) => {
    log({ level: "warn", message: "shopify install refused", shop, reason: f.reason })
    return problem(c, failureProblem(f))
  }

  /** POSTs a grant to Shopify's token endpoint; the answer's token is wrapped at once. */
  const requestToken = async (
    shop: string,
    body: Record<string, string>,
    refused: (error: string | undefined) => OAuthFailure
  ): Promise<{ readonly token: Redacted.Redacted<string>; readonly scopes: string } | OAuthFailure> => {
    const headers: Record<string, string> = { "Content-Type": "application/json", Accept: "application/json" }
    if (sharedOrigin(shop)) headers["X-Forwarded-Host"] = shop
    let response: Response
    let text: string
    try {
      response = await doFetch(`${origin(shop)}/admin/oauth/access_token`, {
        method: "POST",
        headers,
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs)
      })
      text = await response.text()
    } catch {
      return failure("shopify_unreachable", "Shopify's token endpoint could not be reached; retry the install")
    }
    let json: unknown
    try {
      json = JSON.parse(text)
    } catch {
      json = undefined
    }
    if (response.status >= 500 || response.status === 429) {
      return failure("shopify_unreachable", `Shopify's token endpoint answered ${response.status}; retry the install`)
    }
    if (response.status !== 200) {
      const error = Schema.decodeUnknownResult(ErrorResponse)(json)
      const code = Result.isSuccess(error) ? error.success.error : undefined
      if (code === "invalid_client") return failure("shopify_refused_app", "Shopify refused the app's client id or secret")
      return refused(code)
    }
    const decoded = Schema.decodeUnknownResult(TokenResponse)(json)
    if (Result.isFailure(decoded)) return failure("shopify_bad_response", "Shopify's token endpoint answered without an access token")
    return { token: Redacted.make(decoded.success.access_token), scopes: decoded.success.scope }
  }

  /** Stores the token, then records the install in the shop's log. */
  const complete = async (
    shop: string,
    granted: { readonly token: Redacted.Redacted<string>; readonly scopes: string },
    method: InstallMethod,
    messageId: string
  ): Promise<OAuthFailure | AppInstalled> => {
    const missing = missingScopes(options.scopes, granted.scopes)
    if (missing.length > 0) {
      return failure("scopes_not_granted", "the app was not granted every scope it needs; approve them to install it", { missing })
    }
    try {
      await options.saveToken(shop, granted.token, granted.scopes)
    } catch (error) {
      // Only a store that says it cannot be reached is worth a retry; anything else is a bug,
      // answered 500 with a correlation id by the app's error handler, not passed off as an outage.
      if (!Predicate.isTagged(error, "SecretsUnavailable")) throw error
      return failure("token_store_unavailable", "the access token could not be stored; retry the install")
    }
    // `shopify.app_installed` (handled by `src/app/InstallHandlers.ts`): no token, ever
    const payload: AppInstalled = { scopes: granted.scopes, method, installedAt: new Date(now()).toISOString() }
    try {
      await options.publish({ shop, messageId, ...encodeShopMessage({ type: "shopify.app_installed", payload }), correlationId: messageId })
    } catch (error) {
      if (!Predicate.isTagged(error, "ShopLogUnavailable")) throw error
      // The token is stored (the app works); only the history entry is missing. A retried
      // install records it, and repeating it is harmless.
      return failure("shop_log_unavailable", "the install could not be recorded; retry the install")
    }
    log({ level: "info", message: "shopify app installed", shop, method })
    return payload
  }

  app.get("/auth", (c) => {
    const query = singleValuedQuery(new URL(c.req.url).searchParams)
    if (!(query instanceof Map)) return refuse(c, failure("invalid_request", `the parameter ${query.repeated} is repeated`))
    const shop = query.get("shop") ?? ""
    if (!isShopDomain(shop)) {
      return refuse(c, failure("invalid_shop", "shop must be a shop domain such as example.myshopify.com"))
    }
    // Shopify's own install request is signed; a signature that is present must be right.
    const hmac = query.get("hmac")
    if (hmac !== undefined) {
      if (!verifyAdminQuery(query, hmac, secrets)) return refuse(c, failure("invalid_hmac", "the request's hmac does not match"), shop)
      const timestamp = Number(query.get("timestamp"))
      if (!Number.isInteger(timestamp) || Math.abs(now() / 1000 - timestamp) > maxAge) {
        return refuse(c, failure("stale_request", "the request's timestamp is missing or too old"), shop)
      }
    }
    const nonce = randomBytes(16).toString("base64url")
    const expires = Math.floor(now() / 1000) + stateTtl
    setCookie(c, STATE_COOKIE, signStateCookie(secrets[0]!, { n: nonce, s: shop, e: expires }), { ...cookieOptions, maxAge: stateTtl })
    const authorize = new URL(`${origin(shop)}/admin/oauth/authorize`)
    authorize.searchParams.set("client_id", options.apiKey)
    authorize.searchParams.set("scope", options.scopes)
    authorize.searchParams.set("redirect_uri", redirectUri)
    authorize.searchParams.set("state", nonce)
    if (sharedOrigin(shop)) authorize.searchParams.set("shop", shop)
    c.header("Cache-Control", "no-store")
    return c.redirect(authorize.toString(), 302)
  })

  app.get("/auth/callback", async (c) => {
    const cookie = getCookie(c, STATE_COOKIE)
    // Single use: whatever happens next, this flow's state is spent.
    deleteCookie(c, STATE_COOKIE, cookieOptions)
    c.header("Cache-Control", "no-store")
    const query = singleValuedQuery(new URL(c.req.url).searchParams)
    if (!(query instanceof Map)) return refuse(c, failure("invalid_request", `the parameter ${query.repeated} is repeated`))
    const missing = ["code", "hmac", "shop", "state", "timestamp"].filter((k) => (query.get(k) ?? "") === "")
    if (missing.length > 0) return refuse(c, failure("invalid_request", "the callback lacks required parameters", { missing }))
    const shop = query.get("shop")!
    if (!isShopDomain(shop)) return refuse(c, failure("invalid_shop", "shop must be a shop domain such as example.myshopify.com"))
    if (!verifyAdminQuery(query, query.get("hmac")!, secrets)) {
      return refuse(c, failure("invalid_hmac", "the callback's hmac does not match"), shop)
    }
    const timestamp = Number(query.get("timestamp"))
    if (!Number.isInteger(timestamp) || Math.abs(now() / 1000 - timestamp) > maxAge) {
      return refuse(c, failure("stale_request", "the callback's timestamp is too old; start the install again"), shop)
    }
    const state = cookie === undefined ? undefined : readStateCookie(cookie, secrets)
    if (state === undefined) {
      return refuse(c, failure("invalid_state", "the install was not started here (no valid state cookie); start it again"), shop)
    }
    if (state.e < now() / 1000 || state.s !== shop || !equalStrings(state.n, query.get("state")!)) {
      return refuse(c, failure("invalid_state", "the callback's state does not match this install; start it again"), shop)
    }
    const code = query.get("code")!
    const granted = await requestToken(shop, { client_id: options.apiKey, client_secret: secrets[0]!, code }, () =>
      failure("code_rejected", "Shopify refused the authorization code (expired or already used); start the install again"))
    if (granted instanceof OAuthFailure) return refuse(c, granted, shop)
    // One install per code (Shopify spends it), so the code's digest names the install.
    const messageId = `shopify.app_installed:oauth:${createHash("sha256").update(code).digest("hex").slice(0, 32)}`
    const done = await complete(shop, granted, "oauth", messageId)
    if (done instanceof OAuthFailure) return refuse(c, done, shop)
    if (prefersJson(c)) return c.json({ shop, scopes: done.scopes, method: done.method }, 200)
    return c.redirect(`https://${shop}/admin/apps/${encodeURIComponent(options.apiKey)}`, 302)
  })

  app.post("/auth/token-exchange", async (c) => {
    const header = c.req.header("authorization") ?? ""
    const match = /^Bearer\s+(\S+)$/i.exec(header)
    if (match === null) return refuse(c, failure("invalid_session_token", "send the App Bridge session token as Authorization: Bearer <token>"))
    const sessionToken = match[1]!
    const verified = verifyWithAnySecret(sessionToken, options.apiKey, secrets, now())
    if (Result.isFailure(verified)) {
      return refuse(c, failure("invalid_session_token", verified.failure.message, { reason: verified.failure.reason }))
    }
    const shop = verified.success.shop
    if (!isShopDomain(shop)) return refuse(c, failure("invalid_shop", "the session token names no myshopify.com shop"))
    const granted = await requestToken(shop, {
      client_id: options.apiKey,
      client_secret: secrets[0]!,
      grant_type: TOKEN_EXCHANGE_GRANT,
      subject_token: sessionToken,
      subject_token_type: ID_TOKEN_TYPE,
      requested_token_type: OFFLINE_ACCESS_TOKEN_TYPE
    }, () => failure("session_token_rejected", "Shopify refused the session token; fetch a new one and retry"))
    if (granted instanceof OAuthFailure) return refuse(c, granted, shop)
    // A session token is exchanged at most once into a recorded install (its jti is unique).
    const jti = verified.success.claims.jti
    const messageId = `shopify.app_installed:token_exchange:${jti ?? randomBytes(16).toString("hex")}`
    const done = await complete(shop, granted, "token_exchange", messageId)
    if (done instanceof OAuthFailure) return refuse(c, done, shop)
    return c.json({ shop, scopes: done.scopes }, 200)
  })
}

/** Whether the client asked for JSON rather than a page (scripts and tests do). */
const prefersJson = (c: Context): boolean => {
  const accept = c.req.header("accept") ?? ""
  return accept.includes("application/json") && !accept.includes("text/html")
}

/** A session token signed with the current or the previous secret (rotation). */
const verifyWithAnySecret = (
  token: string,
  apiKey: string,
  secrets: ReadonlyArray<string>,
  nowMs: number
): Result.Result<VerifiedSession, InvalidSessionToken> => {
  let first: Result.Result<VerifiedSession, InvalidSessionToken> | undefined
  for (const appSecret of secrets) {
    const result = verifySessionTokenAt(token, { apiKey, appSecret }, nowMs)
    if (Result.isSuccess(result)) return result
    // Only a signature mismatch is worth trying the next secret for.
    if (result.failure.reason !== "BAD_SIGNATURE") return result
    first ??= result
  }
  return first!
}
