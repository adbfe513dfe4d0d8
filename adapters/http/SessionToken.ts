/**
 * Shopify App Bridge session tokens: how the embedded admin UI proves which shop it acts for.
 *
 * A session token is a JWT signed with HS256 using the app's API secret. Verification
 * (Shopify's "Set up session tokens" rules):
 * - three base64url segments; the header names `HS256` (anything else, `none` included, is
 *   refused before the signature is looked at);
 * - the signature is HMAC-SHA256(secret, `header.payload`), compared in constant time;
 * - `exp` is in the future and `nbf` in the past, with a few seconds of leeway for clock skew;
 * - `aud` is the app's API key (a token minted for another app is refused);
 * - `dest` is `https://<shop>.myshopify.com` and `iss` is the same origin followed by
 *   `/admin`: the shop is `dest`'s host name, e.g. `example.myshopify.com`.
 *
 * No JWT library: Node's `crypto` HMAC is all it takes. {@link signSessionToken} mints tokens
 * for tests and the demo.
 */
import { Clock, Effect, Result, Schema } from "effect"
import { createHmac, randomUUID, timingSafeEqual } from "node:crypto"

/** Clock skew tolerated on `exp` and `nbf`, in seconds. */
export const SESSION_TOKEN_LEEWAY_SECONDS = 5
/** Lifetime of a token minted by {@link signSessionToken} (App Bridge tokens live one minute). */
export const SESSION_TOKEN_TTL_SECONDS = 60

export const SessionTokenFailure = Schema.Literals([
  /** Not three base64url segments of JSON objects, or a claim of the wrong type. */
  "MALFORMED",
  /** The header names another algorithm than HS256. */
  "UNSUPPORTED_ALGORITHM",
  /** The signature does not match the app secret. */
  "BAD_SIGNATURE",
  "EXPIRED",
  "NOT_YET_VALID",
  /** `aud` is not this app's API key. */
  "WRONG_AUDIENCE",
  /** `iss`/`dest` are not a `https://<shop>.myshopify.com` origin (and its `/admin`). */
  "BAD_ISSUER"
])
export type SessionTokenFailure = typeof SessionTokenFailure.Type

/** The token was refused; `reason` says why (safe to return to the caller). */
export class InvalidSessionToken extends Schema.TaggedError<InvalidSessionToken>()("InvalidSessionToken", {
  reason: SessionTokenFailure,
  message: Schema.String
}) {}

/** The claims Shopify puts in a session token. */
export interface SessionTokenClaims {
  /** `https://<shop>.myshopify.com/admin` */
  readonly iss: string
  /** `https://<shop>.myshopify.com` */
  readonly dest: string
  /** The app's API key (client id). */
  readonly aud: string | ReadonlyArray<string>
  /** The Shopify user id (online tokens). */
  readonly sub?: string | undefined
  readonly exp: number
  readonly nbf: number
  readonly iat?: number | undefined
  readonly jti?: string | undefined
  readonly sid?: string | undefined
}

export interface SessionTokenKeys {
  /** The app's API key: the expected `aud`. */
  readonly apiKey: string
  /** The app's API secret: the HMAC key. */
  readonly appSecret: string
}

/** What a valid token establishes. */
export interface VerifiedSession {
  /** The shop domain, e.g. `example.myshopify.com`. */
  readonly shop: string
  readonly userId: string | null
  readonly sessionId: string | null
  readonly expiresAt: Date
  readonly claims: SessionTokenClaims
}

const SEGMENT = /^[A-Za-z0-9_-]+$/
const SHOP_HOST = /^[a-z0-9][a-z0-9-]*\.myshopify\.com$/

const fail = (reason: SessionTokenFailure, message: string): Result.Result<never, InvalidSessionToken> =>
  Result.fail(new InvalidSessionToken({ reason, message }))

const base64url = (data: string | Buffer): string => Buffer.from(data).toString("base64url")

const hmac = (secret: string, signingInput: string): Buffer =>
  createHmac("sha256", secret).update(signingInput, "utf8").digest()

const parseObject = (segment: string): Record<string, unknown> | undefined => {
  try {
    const value: unknown = JSON.parse(Buffer.from(segment, "base64url").toString("utf8"))
    return typeof value === "object" && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined
  } catch {
    return undefined
  }
}

const isNumber = (u: unknown): u is number => typeof u === "number" && Number.isFinite(u)
const optionalString = (u: unknown): boolean => u === undefined || typeof u === "string"

/** The shop of a `dest` claim (`https://<shop>.myshopify.com`), or undefined. */
export const shopFromDestination = (dest: string): string | undefined => {
  let url: URL
  try {
    url = new URL(dest)
  } catch {
    return undefined
  }
  const bare = url.protocol === "https:" && url.port === "" && url.username === "" && url.password === "" &&
    (url.pathname === "/" || url.pathname === "") && url.search === "" && url.hash === "" &&
    // the string itself must be the plain origin (no trailing junk the URL parser normalised away)
    (dest === url.origin || dest === `${url.origin}/`)
  return bare && SHOP_HOST.test(url.hostname) ? url.hostname : undefined
}

/**
 * Verifies `token` at time `nowMs` (milliseconds since the epoch). Pure: the caller brings the
 * clock ({@link verifySessionToken} reads Effect's `Clock`).
 */
export const verifySessionTokenAt = (
  token: string,
  keys: SessionTokenKeys,
  nowMs: number,
  leewaySeconds: number = SESSION_TOKEN_LEEWAY_SECONDS
): Result.Result<VerifiedSession, InvalidSessionToken> => {
  const parts = token.split(".")
  if (parts.length !== 3 || !parts.every((p) => SEGMENT.test(p))) {
    return fail("MALFORMED", "a session token is three base64url segments")
  }
  const [headerPart, payloadPart, signaturePart] = parts as [string, string, string]
  const header = parseObject(headerPart)
  if (header === undefined) return fail("MALFORMED", "the token header is not a JSON object")
  if (header["alg"] !== "HS256") return fail("UNSUPPORTED_ALGORITHM", "session tokens are signed with HS256")
  if (header["typ"] !== undefined && header["typ"] !== "JWT") return fail("MALFORMED", "the token type is not JWT")

  const expected = hmac(keys.appSecret, `${headerPart}.${payloadPart}`)
  const given = Buffer.from(signaturePart, "base64url")
  // The length of an HS256 signature is public (32 bytes); the comparison of its bytes is not.
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return fail("BAD_SIGNATURE", "the token signature does not match")
  }

  const claims = parseObject(payloadPart)
  if (claims === undefined) return fail("MALFORMED", "the token payload is not a JSON object")
  const { aud, dest, exp, iss, nbf } = claims
  const audOk = typeof aud === "string" || (Array.isArray(aud) && aud.every((a) => typeof a === "string"))
  if (
    !isNumber(exp) || !isNumber(nbf) || typeof iss !== "string" || typeof dest !== "string" || !audOk ||
    !(claims["iat"] === undefined || isNumber(claims["iat"])) ||
    !optionalString(claims["sub"]) || !optionalString(claims["sid"]) || !optionalString(claims["jti"])
  ) {
    return fail("MALFORMED", "the token lacks exp, nbf, iss, dest or aud, or a claim has the wrong type")
  }
  const now = nowMs / 1000
  if (now >= exp + leewaySeconds) return fail("EXPIRED", "the session token has expired")
  if (now + leewaySeconds < nbf) return fail("NOT_YET_VALID", "the session token is not valid yet")
  const audiences: ReadonlyArray<string> = typeof aud === "string" ? [aud] : (aud as ReadonlyArray<string>)
  if (!audiences.includes(keys.apiKey)) return fail("WRONG_AUDIENCE", "the session token was issued for another app")
  const shop = shopFromDestination(dest)
  if (shop === undefined || iss !== `https://${shop}/admin`) {
    return fail("BAD_ISSUER", "the session token's iss and dest do not name one myshopify.com shop")
  }
  const typed: SessionTokenClaims = {
    iss,
    dest,
    aud: aud as string | ReadonlyArray<string>,
    exp,
    nbf,
    iat: claims["iat"] as number | undefined,
    sub: claims["sub"] as string | undefined,
    jti: claims["jti"] as string | undefined,
    sid: claims["sid"] as string | undefined
  }
  return Result.succeed({
    shop,
    userId: typed.sub ?? null,
    sessionId: typed.sid ?? null,
    expiresAt: new Date(exp * 1000),
    claims: typed
  })
}

/** Verifies `token` now (Effect's `Clock`, so tests can move time). */
export const verifySessionToken = (
  token: string,
  keys: SessionTokenKeys,
  leewaySeconds: number = SESSION_TOKEN_LEEWAY_SECONDS
): Effect.Effect<VerifiedSession, InvalidSessionToken> =>
  Effect.flatMap(Clock.currentTimeMillis, (now) => Effect.fromResult(verifySessionTokenAt(token, keys, now, leewaySeconds)))

export interface SignSessionTokenOptions {
  /** The shop domain, e.g. `example.myshopify.com`. */
  readonly shop: string
  readonly apiKey: string
  readonly appSecret: string
  readonly userId?: string | undefined
  /** Issue time in milliseconds since the epoch (default: now). */
  readonly issuedAtMs?: number | undefined
  readonly ttlSeconds?: number | undefined
  /** Claims to override or add (tests: a wrong `aud`, a forged `dest`, …). */
  readonly claims?: Partial<Record<keyof SessionTokenClaims, unknown>> & Record<string, unknown>
  /** Header to override (tests: `{ alg: "none" }`). */
  readonly header?: Record<string, unknown>
}

/** Mints a session token as Shopify would (tests and the demo). */
export const signSessionToken = (options: SignSessionTokenOptions): string => {
  const iat = Math.floor((options.issuedAtMs ?? Date.now()) / 1000)
  const origin = `https://${options.shop}`
  const claims = {
    iss: `${origin}/admin`,
    dest: origin,
    aud: options.apiKey,
    sub: options.userId ?? "1",
    exp: iat + (options.ttlSeconds ?? SESSION_TOKEN_TTL_SECONDS),
    nbf: iat,
    iat,
    jti: randomUUID(),
    sid: randomUUID(),
    ...options.claims
  }
  const header = base64url(JSON.stringify({ alg: "HS256", typ: "JWT", ...options.header }))
  const payload = base64url(JSON.stringify(claims))
  return `${header}.${payload}.${hmac(options.appSecret, `${header}.${payload}`).toString("base64url")}`
}
