/**
 * `POST /pixel` (and its CORS preflight `OPTIONS /pixel`): storefront touchpoints — page
 * views, product views, carts, checkouts, purchases — with their UTM parameters, referrer and
 * ad click ids, for attribution. Sent by the storefront's script with `fetch` (JSON) or
 * `navigator.sendBeacon` (`text/plain`, which browsers send without a preflight).
 *
 * Unauthenticated by nature (it runs in shoppers' browsers), so it is kept small and cheap:
 * - the ingress preamble (`IngressPreamble.ts`): at most 4 KB per touchpoint, declared or
 *   streamed (413); `application/json` or `text/plain` with any parameters (a beacon's string
 *   body is `text/plain;charset=UTF-8`), else 415 — exactly these types, no longer anything that
 *   merely starts like them; strict UTF-8 and JSON (400), a beacon's body being JSON text too.
 *   No signature: browsers cannot keep a secret;
 * - the shop must be one Sumeru knows (401 `unknown_shop`);
 * - a browser `Origin` must be the shop's (`https://<shop>`) or one of its registered
 *   storefront domains: CORS headers are sent only to those, any other origin gets 403 and no
 *   CORS headers. Requests without `Origin` (not from a browser page) are not CORS and pass;
 * - a token bucket per shop (default 100 at once, refilled over 10 s): 429 with `Retry-After`.
 *
 * The shop comes from the body's `shop`; the preflight has no body, so the script posts to
 * `/pixel?shop=<shop>` (or the Origin is the shop's own `https://<shop>`). Each touchpoint is
 * published as `pixel.touchpoint` with message id `pixel:<event_id>` (a re-sent beacon is a
 * no-op) and answered 202 once durable (503 otherwise). Nothing here logs the URL, referrer,
 * click ids or visitor/customer ids: they are personal data (sealed when stored).
 */
import { Context, Effect, Layer } from "effect"
import { SqlClient } from "effect/sql"
import type { SqlError } from "effect/sql/SqlError"
import type { Context as HonoContext, Hono } from "hono"
import { isRecord } from "../../domain/ingest/Fields.ts"
import { decodeTouchpoint, PIXEL_BODY_LIMIT } from "../../domain/ingest/Touchpoint.ts"
import { isShopDomain } from "../../domain/shop/ShopDomain.ts"
import { ShopLog } from "../../src/shoplog/ShopLog.ts"
import { allowedOrigins } from "../postgres/PgStorefrontOrigins.ts"
import { ShopCredentials } from "../shopify/ShopifyAdmin.ts"
import { DependencyUnavailable, InvalidInput, MissingShop, OriginNotAllowed, RateLimitExceeded, UnknownShop } from "./HttpErrors.ts"
import { respond } from "./HttpProblem.ts"
import { APPLICATION_JSON, type IngressSpec, readJson } from "./IngressPreamble.ts"
import { RateLimiter } from "./RateLimit.ts"
import type { RunEffect } from "./RunEffect.ts"
import { encodeShopMessage } from "../../domain/messages/ShopMessages.ts"

/** Which shops may send touchpoints, and from which browser origins. */
export class StorefrontAccess extends Context.Service<StorefrontAccess, {
  /** Whether the shop uses Sumeru (has installed the app). */
  readonly isKnownShop: (shop: string) => Effect.Effect<boolean, DependencyUnavailable | SqlError>
  /** Browser origins allowed to send the shop's touchpoints (including `https://<shop>`). */
  readonly allowedOrigins: (shop: string) => Effect.Effect<ReadonlyArray<string>, SqlError>
}>()("sumeru/http/StorefrontAccess") {
  /**
   * A shop is known when it has credentials (a stored token, or a configured one); its origins
   * are its own and the ones registered in `storefront_origins`. A credential store that cannot
   * answer is a 503, never an "unknown shop".
   */
  static readonly layer: Layer.Layer<StorefrontAccess, never, ShopCredentials | SqlClient.SqlClient> = Layer.effect(
    StorefrontAccess,
    Effect.gen(function*() {
      const credentials = yield* ShopCredentials
      const sql = yield* SqlClient.SqlClient
      return StorefrontAccess.of({
        isKnownShop: (shop) =>
          credentials.get(shop).pipe(
            Effect.as(true),
            Effect.catchTags({
              ShopifyPermanentError: () => Effect.succeed(false),
              ShopifyUnavailable: () => Effect.fail(new DependencyUnavailable({ what: "the shop directory" }))
            })
          ),
        allowedOrigins: (shop) => allowedOrigins(shop).pipe(Effect.provideService(SqlClient.SqlClient, sql))
      })
    })
  )
}

export interface PixelRouteOptions {
  /** Per-shop limiter (default: 100 requests at once, refilled over 10 s). */
  readonly rateLimiter?: RateLimiter
  /**
   * How long the answers of `StorefrontAccess` are reused, in ms (default 30 s; 0 asks every
   * time). A pixel is hit on every page view: without this, each one would cost database
   * round trips.
   */
  readonly lookupCacheMs?: number
  /** The cache's clock (tests move it). */
  readonly now?: () => number
}

interface ShopAccess {
  readonly known: boolean
  readonly origins: ReadonlySet<string>
}

const MAX_CACHED_SHOPS = 10_000

const corsHeaders = (origin: string): Record<string, string> => ({
  "Access-Control-Allow-Origin": origin,
  Vary: "Origin"
})

/** Mounts the route and its preflight; `run` provides the shop log and the storefront access rules. */
export const mountPixelRoute = (app: Hono, run: RunEffect<ShopLog | StorefrontAccess>, options: PixelRouteOptions = {}) => {
  const limiter = options.rateLimiter ?? new RateLimiter({ capacity: 100, perMs: 10_000 })
  const cacheMs = options.lookupCacheMs ?? 30_000
  const now = options.now ?? Date.now
  const cache = new Map<string, { readonly access: ShopAccess; readonly until: number }>()
  const ingress: IngressSpec = { mediaTypes: [APPLICATION_JSON, "text/plain"], limit: PIXEL_BODY_LIMIT }

  /** The shop's access rules, cached. */
  const accessOf = (shop: string) =>
    Effect.gen(function*() {
      const cached = cache.get(shop)
      if (cached !== undefined && cached.until > now()) return cached.access
      const rules = yield* StorefrontAccess
      const known = yield* rules.isKnownShop(shop)
      const access: ShopAccess = { known, origins: new Set(known ? yield* rules.allowedOrigins(shop) : []) }
      if (cacheMs > 0) {
        cache.delete(shop)
        cache.set(shop, { access, until: now() + cacheMs })
        // Map iteration is insertion order: drop the oldest entries beyond the bound.
        for (const oldest of cache.keys()) {
          if (cache.size <= MAX_CACHED_SHOPS) break
          cache.delete(oldest)
        }
      }
      return access
    })

  /**
   * Checks the shop and the browser origin; the CORS headers to add (none when the request has
   * no Origin).
   */
  const admit = (c: HonoContext, shop: string) =>
    Effect.gen(function*() {
      const access = yield* accessOf(shop)
      if (!access.known) return yield* new UnknownShop()
      const origin = c.req.header("origin")
      if (origin === undefined) return {}
      if (!access.origins.has(origin)) return yield* new OriginNotAllowed()
      return corsHeaders(origin)
    })

  /** The shop named by `?shop=`, or by an Origin that is a shop's own domain. */
  const preflightShop = (c: HonoContext): string | undefined => {
    const query = c.req.query("shop")?.toLowerCase()
    if (query !== undefined) return query
    const origin = c.req.header("origin")
    if (origin === undefined || !URL.canParse(origin)) return undefined
    const url = new URL(origin)
    return url.protocol === "https:" && url.port === "" && isShopDomain(url.hostname) ? url.hostname : undefined
  }

  app.options("/pixel", (c) =>
    respond(
      run,
      c,
      Effect.gen(function*() {
        const shop = preflightShop(c)
        if (shop === undefined || !isShopDomain(shop)) {
          return yield* new MissingShop({ hint: "name the shop: /pixel?shop=<shop>.myshopify.com" })
        }
        const cors = yield* admit(c, shop)
        if (c.req.header("origin") === undefined) return c.body(null, 204)
        for (const [k, v] of Object.entries(cors)) c.header(k, v)
        c.header("Access-Control-Allow-Methods", "POST")
        c.header("Access-Control-Allow-Headers", "Content-Type")
        c.header("Access-Control-Max-Age", "7200")
        return c.body(null, 204)
      })
    ))

  app.post("/pixel", (c) =>
    respond(
      run,
      c,
      Effect.gen(function*() {
        const body = yield* readJson(c.req.raw, ingress)
        const shop = isRecord(body) && typeof body["shop"] === "string" ? body["shop"] : undefined
        if (shop === undefined || !isShopDomain(shop)) {
          return yield* new InvalidInput({ details: { errors: [{ path: "shop", message: "must be a shop domain such as example.myshopify.com" }] } })
        }
        const named = c.req.query("shop")
        if (named !== undefined && named.toLowerCase() !== shop) {
          return yield* new InvalidInput({ details: { errors: [{ path: "shop", message: "differs from the shop in the URL" }] } })
        }
        const cors = yield* admit(c, shop)
        // From here on an allowed browser origin can read the answer, errors included.
        for (const [k, v] of Object.entries(cors)) c.header(k, v)

        const decision = limiter.take(shop)
        if (!decision.allowed) {
          return yield* new RateLimitExceeded({
            reason: "too many touchpoints for this shop; retry later",
            retryAfterSeconds: decision.retryAfterSeconds
          })
        }
        const decoded = decodeTouchpoint(body)
        if (decoded._tag === "Failure") return yield* new InvalidInput({ details: { errors: decoded.failure } })
        const touchpoint = decoded.success
        const log = yield* ShopLog
        yield* log.publish({
          shop,
          messageId: `pixel:${touchpoint.event_id}`,
          ...encodeShopMessage({ type: "pixel.touchpoint", payload: touchpoint }),
          correlationId: touchpoint.event_id
        })
        return c.json({ accepted: 1 }, 202)
      })
    ))
}
