/**
 * `POST /pixel` (and its CORS preflight `OPTIONS /pixel`): storefront touchpoints — page
 * views, product views, carts, checkouts, purchases — with their UTM parameters, referrer and
 * ad click ids, for attribution. Sent by the storefront's script with `fetch` (JSON) or
 * `navigator.sendBeacon` (`text/plain`, which browsers send without a preflight).
 *
 * Unauthenticated by nature (it runs in shoppers' browsers), so it is kept small and cheap:
 * - at most 4 KB per touchpoint (413); JSON or text/plain only (415);
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
import type { Context, Hono } from "hono"
import { decodeTouchpoint, PIXEL_BODY_LIMIT } from "../../domain/ingest/Touchpoint.ts"
import { isRecord } from "../../domain/ingest/Fields.ts"
import { isShopDomain } from "../../domain/shop/ShopDomain.ts"
import type { ShopMessage } from "../../src/shoplog/ShopLog.ts"
import { problem, Problems, readRawBody } from "./HttpProblem.ts"
import { RateLimiter } from "./RateLimit.ts"

export const TOUCHPOINT_MESSAGE = "pixel.touchpoint"

export interface PixelRouteOptions {
  readonly isKnownShop: (shop: string) => Promise<boolean>
  /** Browser origins allowed to send the shop's touchpoints (including `https://<shop>`). */
  readonly allowedOrigins: (shop: string) => Promise<ReadonlyArray<string>>
  /** Publishes to the shop's log; resolves once durable. */
  readonly publish: (message: ShopMessage) => Promise<unknown>
  /** Per-shop limiter (default: 100 requests at once, refilled over 10 s). */
  readonly rateLimiter?: RateLimiter
  /**
   * How long the answers of `isKnownShop`/`allowedOrigins` are reused, in ms (default 30 s;
   * 0 asks every time). A pixel is hit on every page view: without this, each one would cost
   * database round trips.
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

export const mountPixelRoute = (app: Hono, options: PixelRouteOptions) => {
  const limiter = options.rateLimiter ?? new RateLimiter({ capacity: 100, perMs: 10_000 })
  const cacheMs = options.lookupCacheMs ?? 30_000
  const now = options.now ?? Date.now
  const cache = new Map<string, { readonly access: ShopAccess; readonly until: number }>()

  /** The shop's access rules; throws when the lookups fail (→ 503). */
  const accessOf = async (shop: string): Promise<ShopAccess> => {
    const cached = cache.get(shop)
    if (cached !== undefined && cached.until > now()) return cached.access
    const known = await options.isKnownShop(shop)
    const access: ShopAccess = { known, origins: new Set(known ? await options.allowedOrigins(shop) : []) }
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
  }

  /**
   * Checks the shop and the browser origin. Returns the CORS headers to add (none when the
   * request has no Origin), or the refusal.
   */
  const admit = async (c: Context, shop: string): Promise<{ readonly headers: Record<string, string> } | Response> => {
    let access: ShopAccess
    try {
      access = await accessOf(shop)
    } catch {
      return problem(c, Problems.unavailable("the shop directory"))
    }
    if (!access.known) return problem(c, { status: 401, code: "unknown_shop", message: "this shop does not use Sumeru" })
    const origin = c.req.header("origin")
    if (origin === undefined) return { headers: {} }
    if (!access.origins.has(origin)) {
      return problem(c, { status: 403, code: "origin_not_allowed", message: "this origin may not send touchpoints for the shop" })
    }
    return { headers: corsHeaders(origin) }
  }

  /** The shop named by `?shop=`, or by an Origin that is a shop's own domain. */
  const preflightShop = (c: Context): string | undefined => {
    const query = c.req.query("shop")?.toLowerCase()
    if (query !== undefined) return query
    const origin = c.req.header("origin")
    if (origin === undefined || !URL.canParse(origin)) return undefined
    const url = new URL(origin)
    return url.protocol === "https:" && url.port === "" && isShopDomain(url.hostname) ? url.hostname : undefined
  }

  app.options("/pixel", async (c) => {
    const shop = preflightShop(c)
    if (shop === undefined || !isShopDomain(shop)) {
      return problem(c, { status: 400, code: "missing_shop", message: "name the shop: /pixel?shop=<shop>.myshopify.com" })
    }
    const admitted = await admit(c, shop)
    if (admitted instanceof Response) return admitted
    if (c.req.header("origin") === undefined) return c.body(null, 204)
    for (const [k, v] of Object.entries(admitted.headers)) c.header(k, v)
    c.header("Access-Control-Allow-Methods", "POST")
    c.header("Access-Control-Allow-Headers", "Content-Type")
    c.header("Access-Control-Max-Age", "7200")
    return c.body(null, 204)
  })

  app.post("/pixel", async (c) => {
    const contentType = (c.req.header("content-type") ?? "").toLowerCase()
    if (!contentType.startsWith("application/json") && !contentType.startsWith("text/plain")) {
      return problem(c, { ...Problems.unsupportedMediaType(), message: "send application/json or text/plain (sendBeacon)" })
    }
    const raw = await readRawBody(c.req.raw, PIXEL_BODY_LIMIT)
    if (raw === "too_large") return problem(c, Problems.tooLarge(PIXEL_BODY_LIMIT))
    let body: unknown
    try {
      body = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(raw))
    } catch {
      return problem(c, Problems.malformedJson())
    }
    const shop = isRecord(body) && typeof body["shop"] === "string" ? body["shop"] : undefined
    if (shop === undefined || !isShopDomain(shop)) {
      return problem(c, Problems.invalid({ errors: [{ path: "shop", message: "must be a shop domain such as example.myshopify.com" }] }))
    }
    const named = c.req.query("shop")
    if (named !== undefined && named.toLowerCase() !== shop) {
      return problem(c, Problems.invalid({ errors: [{ path: "shop", message: "differs from the shop in the URL" }] }))
    }
    const admitted = await admit(c, shop)
    if (admitted instanceof Response) return admitted
    // From here on an allowed browser origin can read the answer, errors included.
    for (const [k, v] of Object.entries(admitted.headers)) c.header(k, v)

    const decision = limiter.take(shop)
    if (!decision.allowed) {
      return problem(c, {
        status: 429,
        code: "rate_limited",
        message: "too many touchpoints for this shop; retry later",
        headers: { "Retry-After": String(decision.retryAfterSeconds) }
      })
    }
    const decoded = decodeTouchpoint(body)
    if (decoded._tag === "Failure") return problem(c, Problems.invalid({ errors: decoded.failure }))
    const touchpoint = decoded.success
    try {
      await options.publish({
        shop,
        messageId: `pixel:${touchpoint.event_id}`,
        type: TOUCHPOINT_MESSAGE,
        payload: touchpoint,
        correlationId: touchpoint.event_id
      })
    } catch {
      return problem(c, Problems.unavailable("the shop log"))
    }
    return c.json({ accepted: 1 }, 202)
  })
}
