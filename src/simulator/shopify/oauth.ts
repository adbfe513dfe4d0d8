/**
 * Shopify's OAuth endpoints, as an app sees them:
 *
 * - `GET /admin/oauth/authorize` (authorization code grant): the merchant "approves" at once
 *   and the browser is sent back to `redirect_uri` with `code`, `hmac`, `host`, `shop`,
 *   `state` and `timestamp`. `hmac` is computed as Shopify does: hex HMAC-SHA256 with the
 *   app's client secret over every other parameter, sorted by key and serialised as
 *   `URLSearchParams` serialises them (`k=v&…`, values URL-encoded; shopify-api's
 *   `stringifyQueryForAdmin`).
 * - `POST /admin/oauth/access_token` with `grant_type` =
 *   `urn:ietf:params:oauth:grant-type:token-exchange` (embedded apps): an App Bridge session
 *   token (HS256 JWT signed with the client secret, `aud` = client id, `dest` = the shop) is
 *   exchanged for an offline access token. A token that fails any check gets Shopify's
 *   `400 {"error":"invalid_subject_token"}`.
 *
 * The session-token check is written here independently of the app's own verifier
 * (`adapters/http/SessionToken.ts`) on purpose: the simulator stands in for Shopify, so a bug
 * in the app's verifier must not be mirrored by the simulator.
 */
import { createHmac, timingSafeEqual } from "node:crypto"

/** Scopes granted when the app asks for none (what the Flowmend app needs). */
export const DEFAULT_APP_SCOPES = "read_products,write_products"

export const TOKEN_EXCHANGE_GRANT = "urn:ietf:params:oauth:grant-type:token-exchange"
export const ID_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:id_token"
export const OFFLINE_TOKEN_TYPE = "urn:shopify:params:oauth:token-type:offline-access-token"
export const ONLINE_TOKEN_TYPE = "urn:shopify:params:oauth:token-type:online-access-token"

/** The message Shopify signs for an admin redirect: every parameter but `hmac`/`signature`, sorted. */
export const adminQueryMessage = (params: Readonly<Record<string, string>>): string => {
  const sorted = new URLSearchParams()
  for (const key of Object.keys(params).filter((k) => k !== "hmac" && k !== "signature").sort()) {
    sorted.append(key, params[key]!)
  }
  return sorted.toString()
}

/** Shopify's `hmac` query parameter for `params` (hex HMAC-SHA256 with the client secret). */
export const signAdminQuery = (secret: string, params: Readonly<Record<string, string>>): string =>
  createHmac("sha256", secret).update(adminQueryMessage(params), "utf8").digest("hex")

/** Why the authorize request was refused (Shopify shows the merchant an error page). */
export type AuthorizeRefusal = { readonly status: 400 | 404; readonly message: string }

export interface AuthorizeRequest {
  readonly shop: string
  readonly query: URLSearchParams
  readonly apiKey: string | undefined
  /** Redirect URLs allowed by the app configuration (`[auth] redirect_urls`); any http(s) URL when undefined. */
  readonly redirectUrls: ReadonlyArray<string> | undefined
  readonly appScopes: string
}

export interface AuthorizeGrant {
  readonly redirectUri: URL
  readonly scopes: string
  readonly state: string | null
}

/** Checks an authorize request the way Shopify does before showing the consent screen. */
export const checkAuthorizeRequest = (request: AuthorizeRequest): AuthorizeGrant | AuthorizeRefusal => {
  const single = (name: string): string | null | "duplicate" => {
    const all = request.query.getAll(name)
    return all.length === 0 ? null : all.length > 1 ? "duplicate" : all[0]!
  }
  const clientId = single("client_id")
  if (clientId === null || clientId === "duplicate" || clientId === "" || (request.apiKey !== undefined && clientId !== request.apiKey)) {
    return { status: 400, message: "Oauth error invalid_request: The client_id is missing or does not belong to an app" }
  }
  const redirect = single("redirect_uri")
  let redirectUri: URL | undefined
  try {
    redirectUri = redirect === null || redirect === "duplicate" ? undefined : new URL(redirect)
  } catch {
    redirectUri = undefined
  }
  if (redirectUri === undefined || (redirectUri.protocol !== "https:" && redirectUri.protocol !== "http:") || redirectUri.hash !== "") {
    return { status: 400, message: "Oauth error invalid_request: The redirect_uri is missing or is not an http(s) URL" }
  }
  if (request.redirectUrls !== undefined && !request.redirectUrls.includes(redirect as string)) {
    return { status: 400, message: "Oauth error invalid_request: The redirect_uri is not whitelisted" }
  }
  const scope = single("scope")
  const state = single("state")
  if (scope === "duplicate" || state === "duplicate") {
    return { status: 400, message: "Oauth error invalid_request: A parameter was given more than once" }
  }
  const scopes = scope === null || scope.trim() === "" ? request.appScopes : scope.split(",").map((s) => s.trim()).filter((s) => s !== "").join(",")
  return { redirectUri, scopes, state }
}

/** The callback URL Shopify redirects the merchant's browser to after approval. */
export const callbackUrl = (
  grant: AuthorizeGrant,
  shop: string,
  code: string,
  nowMs: number,
  secret: string
): string => {
  const params: Record<string, string> = {
    code,
    // The legacy `host`: base64 of `<shop>/admin` (App Bridge decodes it to find the admin).
    host: Buffer.from(`${shop}/admin`, "utf8").toString("base64"),
    shop,
    timestamp: String(Math.floor(nowMs / 1000))
  }
  if (grant.state !== null) params["state"] = grant.state
  const url = new URL(grant.redirectUri)
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v)
  url.searchParams.set("hmac", signAdminQuery(secret, params))
  return url.toString()
}

/** Clock skew Shopify tolerates on `exp`/`nbf` of a session token (seconds). */
const LEEWAY_SECONDS = 5

const decodeSegment = (segment: string): Record<string, unknown> | undefined => {
  if (!/^[A-Za-z0-9_-]+$/.test(segment)) return undefined
  try {
    const value: unknown = JSON.parse(Buffer.from(segment, "base64url").toString("utf8"))
    return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined
  } catch {
    return undefined
  }
}

/**
 * Whether `token` is a session token Shopify would accept for `shop` and app `clientId`:
 * HS256 signed with `secret`, unexpired, `aud` = the client id, `dest` = `https://<shop>`.
 */
export const isValidSubjectToken = (token: string, options: {
  readonly secret: string
  readonly clientId: string
  readonly shop: string
  readonly nowMs: number
}): boolean => {
  const parts = token.split(".")
  if (parts.length !== 3) return false
  const [h, p, s] = parts as [string, string, string]
  const header = decodeSegment(h)
  const claims = decodeSegment(p)
  if (header === undefined || claims === undefined || header["alg"] !== "HS256") return false
  const expected = createHmac("sha256", options.secret).update(`${h}.${p}`).digest()
  const given = Buffer.from(s, "base64url")
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return false
  const now = options.nowMs / 1000
  const { aud, dest, exp, nbf } = claims
  if (typeof exp !== "number" || typeof nbf !== "number") return false
  if (now >= exp + LEEWAY_SECONDS || now + LEEWAY_SECONDS < nbf) return false
  const audiences = typeof aud === "string" ? [aud] : Array.isArray(aud) ? aud : []
  if (!audiences.includes(options.clientId)) return false
  return dest === `https://${options.shop}`
}
