/**
 * Installing the app, end to end over real HTTP: `/auth` → the Shopify simulator's
 * `/admin/oauth/authorize` → `/auth/callback` (with a cookie jar), and the token-exchange grant
 * of embedded apps. Tokens are sealed in PostgreSQL 15 through the `ShopTokens` port
 * (`PgSecrets`, in-memory key ring), installs go through the embedded shop log to the shop
 * actor, which records `shop.installed` on `shop-<shop>`.
 *
 * Every forged or altered request is refused with a typed 4xx before anything is stored or
 * published, and before the authorization code is spent (the genuine callback still works
 * afterwards). The token never shows up in a response, a message, an event or a log line.
 */
import { Deferred, Duration, Effect, Layer, ManagedRuntime, Option, Redacted } from "effect"
import { SqlClient } from "effect/sql"
import { Hono } from "hono"
import { createHmac } from "node:crypto"
import type { AddressInfo } from "node:net"
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest"
import * as EmbeddedShopLog from "../../adapters/embedded/EmbeddedShopLog.ts"
import {
  missingScopes,
  mountOAuthRoutes,
  type OAuthLogEntry,
  signStateCookie,
  STATE_COOKIE
} from "../../adapters/http/OAuthRoutes.ts"
import { serveHttp } from "../../adapters/http/HttpServer.ts"
import { signSessionToken } from "../../adapters/http/SessionToken.ts"
import { layerPostgres } from "../../adapters/postgres/Database.ts"
import { coreLayer } from "../../src/CoreLayer.ts"
import { actorRuntimeLayer } from "../support/actorRuntime.ts"
import { makeDispatcher, ShopHandlers } from "../../src/actors/ShopHandlers.ts"
import { installHandlers } from "../../src/app/InstallHandlers.ts"
import { LogWakeups } from "../../src/eventstore/LogWakeups.ts"
import { ShopTokens } from "../../src/secrets/Secrets.ts"
import { ShopLog, type ShopMessage } from "../../src/shoplog/ShopLog.ts"
import { type RunningShopifySimulator, signAdminQuery, startShopifySimulator } from "../../src/simulator/shopify/index.ts"
import { freshPostgresUrl } from "../support/databases.ts"
import { testKeyRing } from "../support/keys.ts"

const SHOP = "oauth-test.myshopify.com"
const OTHER = "oauth-other.myshopify.com"
const API_KEY = "oauth-test-api-key"
const SECRET = "oauth-test-secret"
const PREVIOUS = "oauth-test-previous-secret"
const SCOPES = "read_products,write_products"
const PREINSTALLED = "shpat_preinstalled_token"

let sim: RunningShopifySimulator
let runtime: ManagedRuntime.ManagedRuntime<any, any>
let server: ReturnType<typeof serveHttp>
let url: string
/** Where the routes reach Shopify (tests point it at a dead port). */
let adminBase: string
/** Added to the routes' clock (tests make callbacks stale). */
let skewMs = 0

const issuedTokens: Array<string> = []
const saves: Array<{ readonly shop: string; readonly scopes: string }> = []
const published: Array<ShopMessage> = []
const routeLogs: Array<OAuthLogEntry> = []
const simLogs: Array<string> = []
const consoleLines: Array<string> = []
const responseBodies: Array<string> = []

const run = <A, E>(effect: Effect.Effect<A, E, any>) => runtime.runPromise(effect as Effect.Effect<A, E, never>)

beforeAll(async () => {
  for (const level of ["log", "info", "warn", "error", "debug"] as const) {
    vi.spyOn(console, level).mockImplementation((...args: Array<unknown>) => {
      consoleLines.push(args.map((a) => (typeof a === "string" ? a : JSON.stringify(a))).join(" "))
    })
  }
  sim = await startShopifySimulator({
    appSecret: SECRET,
    apiKey: API_KEY,
    scopes: SCOPES,
    shops: [
      { domain: SHOP, accessToken: PREINSTALLED, products: 3, seed: 1 },
      { domain: OTHER, accessToken: "shpat_other_shop", products: 1, seed: 2 }
    ],
    log: (m) => simLogs.push(m)
  })
  adminBase = sim.url
  const core = coreLayer(layerPostgres(Redacted.make(freshPostgresUrl()), { maxConnections: 6 }), testKeyRing())
  const base = EmbeddedShopLog.layer({ partitions: 2 }).pipe(Layer.provideMerge(core))
  const handlers = Layer.succeed(ShopHandlers, makeDispatcher(installHandlers))
  runtime = ManagedRuntime.make(
    actorRuntimeLayer({ backoffBase: Duration.millis(10), backoffCap: Duration.millis(50) }).pipe(
      Layer.provide(handlers),
      Layer.provideMerge(base)
    )
  )
  await runtime.runPromise(Effect.void)

  const app = new Hono()
  server = serveHttp({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" })
  await new Promise<void>((resolve) => server.once("listening", () => resolve()))
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  mountOAuthRoutes(app, {
    apiKey: API_KEY,
    secrets: [SECRET, PREVIOUS],
    scopes: SCOPES,
    appUrl: url,
    adminOrigin: () => adminBase,
    saveToken: async (shop, token, scopes) => {
      await run(ShopTokens.use((t) => t.save(shop, token, scopes)))
      issuedTokens.push(Redacted.value(token))
      saves.push({ shop, scopes })
    },
    publish: async (message) => {
      const ack = await run(ShopLog.use((l) => l.publish(message)))
      published.push(message)
      return ack
    },
    now: () => Date.now() + skewMs,
    log: (entry) => routeLogs.push(entry)
  })
}, 120_000)

afterAll(async () => {
  await new Promise<void>((resolve) => server?.close(() => resolve()))
  await runtime?.dispose()
  await sim?.close()
  vi.restoreAllMocks()
})

// ---------------------------------------------------------------------------- helpers

/** A request to the app; its body is kept for the "never the token" sweep. */
const call = async (path: string, init: RequestInit = {}) => {
  const res = await fetch(path.startsWith("http") ? path : `${url}${path}`, { redirect: "manual", ...init })
  const text = await res.text()
  responseBodies.push(text)
  return { status: res.status, headers: res.headers, text, json: () => JSON.parse(text) as any }
}

const stateCookie = (headers: Headers): { readonly value: string; readonly attributes: string } | undefined => {
  const line = headers.getSetCookie().find((c) => c.startsWith(`${STATE_COOKIE}=`))
  if (line === undefined) return undefined
  const [pair, ...attributes] = line.split(";")
  return { value: pair!.slice(STATE_COOKIE.length + 1), attributes: attributes.join(";") }
}

/** `/auth` → Shopify's authorize page (approves at once) → the callback URL, not yet followed. */
const startInstall = async (shop: string = SHOP) => {
  const start = await call(`/auth?shop=${shop}`)
  expect(start.status).toBe(302)
  const cookie = stateCookie(start.headers)!.value
  const approve = await fetch(start.headers.get("location")!, { redirect: "manual" })
  expect(approve.status).toBe(302)
  const callback = approve.headers.get("location")!
  expect(callback.startsWith(`${url}/auth/callback?`)).toBe(true)
  return { cookie, callback }
}

const finish = (callback: string, cookie: string | undefined, headers: Record<string, string> = {}) =>
  call(callback, { headers: { ...(cookie === undefined ? {} : { cookie: `${STATE_COOKIE}=${cookie}` }), ...headers } })

const install = async (shop: string = SHOP) => {
  const { cookie, callback } = await startInstall(shop)
  const done = await finish(callback, cookie)
  expect(done.status, done.text).toBe(302)
  return { cookie, callback, done }
}

const storedToken = async (shop: string = SHOP) => {
  const stored = await run(ShopTokens.use((t) => t.get(shop)))
  return Option.isSome(stored) ? { token: Redacted.value(stored.value.token), scopes: stored.value.scopes } : undefined
}

/** Status of `{ shop { name } }` on the simulator's Admin API with `token`. */
const adminStatus = async (token: string, shop: string = SHOP) => {
  const res = await fetch(`${sim.url}/admin/api/2026-07/graphql.json`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-forwarded-host": shop, "x-shopify-access-token": token },
    body: JSON.stringify({ query: "{ shop { name myshopifyDomain } }" })
  })
  const body = (await res.json()) as any
  if (res.status === 200) expect(body.data.shop.myshopifyDomain).toBe(shop)
  return res.status
}

const shopEvents = (shop: string = SHOP) =>
  run(Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    return yield* sql<{ type: string; data: Record<string, unknown> }>`
      SELECT type, data FROM events WHERE stream_id = ${`shop-${shop}`} ORDER BY stream_version`
  }))

/** Waits (woken by commits) until `shop-<shop>` has `count` events. */
const awaitShopEvents = (count: number, shop: string = SHOP) =>
  run(Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const wakeups = yield* LogWakeups
    for (;;) {
      const next = yield* wakeups.next
      const rows = yield* sql<{ type: string; data: Record<string, unknown> }>`
        SELECT type, data FROM events WHERE stream_id = ${`shop-${shop}`} ORDER BY stream_version`
      if (rows.length >= count) return rows
      yield* Deferred.await(next).pipe(Effect.timeoutOption("250 millis"))
    }
  }).pipe(Effect.timeout("20 seconds")))

/** The callback's query with `overrides`, signed as Shopify would sign it (with `secret`). */
const signedCallback = (callback: string, overrides: Record<string, string | undefined>, secret: string = SECRET) => {
  const params: Record<string, string> = {}
  for (const [k, v] of new URL(callback).searchParams) if (k !== "hmac") params[k] = v
  for (const [k, v] of Object.entries(overrides)) {
    if (v === undefined) delete params[k]
    else params[k] = v
  }
  const query = new URLSearchParams(params)
  query.set("hmac", signAdminQuery(secret, params))
  return `${url}/auth/callback?${query.toString()}`
}

const counts = () => ({ saves: saves.length, published: published.length })

// ------------------------------------------------------------------------------ tests

describe("OAuth install (authorization code grant)", () => {
  it("starts with a signed, HttpOnly, SameSite=Lax state cookie and a redirect to Shopify asking for offline access", async () => {
    const first = await call(`/auth?shop=${SHOP}`)
    expect(first.status).toBe(302)
    const location = new URL(first.headers.get("location")!)
    expect(location.origin).toBe(sim.url)
    expect(location.pathname).toBe("/admin/oauth/authorize")
    expect(location.searchParams.get("client_id")).toBe(API_KEY)
    expect(location.searchParams.get("scope")).toBe(SCOPES)
    expect(location.searchParams.get("redirect_uri")).toBe(`${url}/auth/callback`)
    // The simulator's origin is shared by every shop, so the shop is named too.
    expect(location.searchParams.get("shop")).toBe(SHOP)
    expect([...location.searchParams.keys()].some((k) => k.startsWith("grant_options"))).toBe(false)
    const state = location.searchParams.get("state")!
    expect(state.length).toBeGreaterThanOrEqual(20)
    const cookie = stateCookie(first.headers)!
    expect(cookie.attributes).toMatch(/HttpOnly/i)
    expect(cookie.attributes).toMatch(/SameSite=Lax/i)
    expect(cookie.attributes).toMatch(/Path=\/auth/i)
    expect(cookie.attributes).toMatch(/Max-Age=600/i)
    // Served over http here; over https the cookie is Secure.
    expect(cookie.attributes).not.toMatch(/Secure/i)
    const second = await call(`/auth?shop=${SHOP}`)
    expect(new URL(second.headers.get("location")!).searchParams.get("state")).not.toBe(state)
  })

  it("installs a shop: the token is sealed in Postgres, works on the Admin API, and shop.installed is recorded without it", async () => {
    const before = counts()
    const { done } = await install()
    expect(done.headers.get("location")).toBe(`https://${SHOP}/admin/apps/${API_KEY}`)
    // the state is single use
    expect(stateCookie(done.headers)?.attributes).toMatch(/Max-Age=0/i)

    const stored = await storedToken()
    expect(stored).toBeDefined()
    expect(stored!.scopes).toBe(SCOPES)
    expect(stored!.token).not.toBe(PREINSTALLED)
    expect(await adminStatus(stored!.token)).toBe(200)
    const sealed = await run(Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      return yield* sql<{ sealed: string }>`SELECT sealed FROM shop_tokens WHERE shop = ${SHOP}`
    }))
    expect(sealed[0]!.sealed).not.toContain(stored!.token)

    expect(counts()).toEqual({ saves: before.saves + 1, published: before.published + 1 })
    const message = published.at(-1)!
    expect(message).toMatchObject({ shop: SHOP, type: "shopify.app_installed", payload: { scopes: SCOPES, method: "oauth" } })
    const events = await awaitShopEvents(1)
    expect(events.map((e) => e.type)).toEqual(["shop.installed"])
    expect(Object.keys(events[0]!.data).sort()).toEqual(["installedAt", "method", "scopes"])
    expect(events[0]!.data).toMatchObject({ scopes: SCOPES, method: "oauth" })
    expect(Date.parse(String(events[0]!.data["installedAt"]))).toBeGreaterThan(Date.now() - 60_000)
  })

  it("answers JSON instead of redirecting when the caller asks for JSON", async () => {
    const { cookie, callback } = await startInstall()
    const done = await finish(callback, cookie, { accept: "application/json" })
    expect(done.status).toBe(200)
    expect(done.json()).toEqual({ shop: SHOP, scopes: SCOPES, method: "oauth" })
    expect(await adminStatus((await storedToken())!.token)).toBe(200)
  })

  it("refuses a shop that is not <name>.myshopify.com with a 400, never a redirect", async () => {
    for (const shop of ["evil.com", "foo.myshopify.com.evil.com", "https%3A%2F%2Fevil.com", "foo.myshopify.com%2F%40evil.com", ""]) {
      const res = await call(`/auth?shop=${shop}`)
      expect(res.status, shop).toBe(400)
      expect(res.json().error.code, shop).toBe("invalid_shop")
      expect(res.headers.get("location"), shop).toBeNull()
      expect(stateCookie(res.headers), shop).toBeUndefined()
    }
    const missing = await call("/auth")
    expect(missing.status).toBe(400)
    expect(missing.json().error.code).toBe("invalid_shop")
    const repeated = await call(`/auth?shop=${SHOP}&shop=evil.com`)
    expect(repeated.status).toBe(400)
    expect(repeated.json().error.code).toBe("invalid_request")
    expect(repeated.headers.get("location")).toBeNull()
  })

  it("checks Shopify's signed install request when it carries an hmac", async () => {
    const params = { shop: SHOP, timestamp: String(Math.floor(Date.now() / 1000)), host: Buffer.from(`${SHOP}/admin`).toString("base64") }
    const signed = new URLSearchParams({ ...params, hmac: signAdminQuery(SECRET, params) })
    expect((await call(`/auth?${signed.toString()}`)).status).toBe(302)
    const forged = new URLSearchParams({ ...params, hmac: signAdminQuery("not-the-secret", params) })
    const refused = await call(`/auth?${forged.toString()}`)
    expect(refused.status).toBe(401)
    expect(refused.json().error.code).toBe("invalid_hmac")
    expect(stateCookie(refused.headers)).toBeUndefined()
  })

  it("refuses forged or altered callbacks before spending the code, storing or publishing anything", async () => {
    const { cookie, callback } = await startInstall()
    const other = await startInstall(OTHER)
    const state = new URL(callback).searchParams.get("state")!
    // This flow's nonce, carried through Shopify's authorize page of another shop: Shopify signs
    // that callback, and only the cookie's shop binding tells the two apart.
    const authorizeOther = new URL(`${sim.url}/admin/oauth/authorize`)
    for (const [k, v] of Object.entries({ client_id: API_KEY, scope: SCOPES, redirect_uri: `${url}/auth/callback`, state, shop: OTHER })) {
      authorizeOther.searchParams.set(k, v)
    }
    const crossShopCallback = (await fetch(authorizeOther, { redirect: "manual" })).headers.get("location")!
    expect(new URL(crossShopCallback).searchParams.get("shop")).toBe(OTHER)
    const tokenBefore = (await storedToken())!.token
    const before = counts()
    const future = Math.floor(Date.now() / 1000) + 600
    const cases: ReadonlyArray<readonly [string, string, string | undefined, number, string]> = [
      ["a wrong hmac", callback.replace(/hmac=[0-9a-f]+/, `hmac=${"0".repeat(64)}`), cookie, 401, "invalid_hmac"],
      ["an altered code", signedCallback(callback, {}).replace(/code=[0-9a-f]+/, "code=0123456789abcdef0123456789abcdef"), cookie, 401, "invalid_hmac"],
      ["an hmac made with another secret", signedCallback(callback, {}, "not-the-secret"), cookie, 401, "invalid_hmac"],
      ["no hmac", callback.replace(/&?hmac=[0-9a-f]+/, ""), cookie, 400, "invalid_request"],
      ["a tampered state", signedCallback(callback, { state: "forged-state-value" }), cookie, 401, "invalid_state"],
      ["no state cookie", callback, undefined, 401, "invalid_state"],
      ["a cookie signed with another secret", callback, signStateCookie("not-the-secret", { n: state, s: SHOP, e: future }), 401, "invalid_state"],
      ["an expired cookie", callback, signStateCookie(SECRET, { n: state, s: SHOP, e: Math.floor(Date.now() / 1000) - 1 }), 401, "invalid_state"],
      ["another shop's cookie", callback, other.cookie, 401, "invalid_state"],
      ["this flow's state on another shop's callback", crossShopCallback, cookie, 401, "invalid_state"],
      ["shop foo.myshopify.com.evil.com", signedCallback(callback, { shop: "foo.myshopify.com.evil.com" }), cookie, 400, "invalid_shop"],
      ["shop evil.com", signedCallback(callback, { shop: "evil.com" }), cookie, 400, "invalid_shop"],
      ["a repeated shop", `${callback}&shop=evil.com`, cookie, 400, "invalid_request"]
    ]
    for (const [name, target, jar, status, code] of cases) {
      const res = await finish(target, jar)
      expect(res.status, name).toBe(status)
      expect(res.json().error.code, name).toBe(code)
      expect(res.headers.get("location"), name).toBeNull()
    }
    skewMs = 10 * 60 * 1000
    try {
      const stale = await finish(callback, cookie)
      expect(stale.status).toBe(401)
      expect(stale.json().error.code).toBe("stale_request")
    } finally {
      skewMs = 0
    }
    expect(counts()).toEqual(before)
    expect((await storedToken())!.token).toBe(tokenBefore)
    expect(routeLogs.filter((l) => l.level === "warn").length).toBeGreaterThanOrEqual(cases.length + 1)

    // None of that spent the code: the genuine callback still installs.
    const genuine = await finish(callback, cookie)
    expect(genuine.status, genuine.text).toBe(302)
    expect(counts()).toEqual({ saves: before.saves + 1, published: before.published + 1 })
    expect((await storedToken())!.token).not.toBe(tokenBefore)
  })

  it("refuses a replayed callback: Shopify has already spent the code", async () => {
    const { cookie, callback, done } = await install()
    const token = (await storedToken())!.token
    const before = counts()
    // The browser's jar no longer has the state…
    expect(stateCookie(done.headers)?.attributes).toMatch(/Max-Age=0/i)
    const noCookie = await finish(callback, undefined)
    expect(noCookie.status).toBe(401)
    expect(noCookie.json().error.code).toBe("invalid_state")
    // …and an attacker who kept it finds the code spent.
    const replay = await finish(callback, cookie)
    expect(replay.status).toBe(400)
    expect(replay.json().error.code).toBe("code_rejected")
    expect(counts()).toEqual(before)
    expect((await storedToken())!.token).toBe(token)
  })

  it("answers 502 when Shopify cannot be reached, stores nothing, and the install can be retried", async () => {
    const { cookie, callback } = await startInstall()
    const before = counts()
    adminBase = "http://127.0.0.1:1"
    try {
      const down = await finish(callback, cookie)
      expect(down.status).toBe(502)
      expect(down.json().error.code).toBe("shopify_unreachable")
    } finally {
      adminBase = sim.url
    }
    expect(counts()).toEqual(before)
    const retried = await finish(callback, cookie)
    expect(retried.status).toBe(302)
    expect(counts()).toEqual({ saves: before.saves + 1, published: before.published + 1 })
  })

  it("uninstalling revokes the token; reinstalling issues a new token that works", async () => {
    const first = (await storedToken())!.token
    expect(await adminStatus(first)).toBe(200)
    const installs = (await shopEvents()).length
    const uninstall = await fetch(`${sim.url}/__sim/shops/${SHOP}/uninstall`, { method: "POST" })
    expect(uninstall.status).toBe(200)
    expect(await adminStatus(first)).toBe(401)

    await install()
    const second = (await storedToken())!.token
    expect(second).not.toBe(first)
    expect(await adminStatus(second)).toBe(200)
    expect(await adminStatus(first)).toBe(401)
    const events = await awaitShopEvents(installs + 1)
    expect(events.at(-1)).toMatchObject({ type: "shop.installed", data: { method: "oauth", scopes: SCOPES } })
  })
})

describe("token exchange (embedded app)", () => {
  const exchange = (token: string | undefined) =>
    call("/auth/token-exchange", { method: "POST", headers: token === undefined ? {} : { authorization: `Bearer ${token}` } })

  it("exchanges a valid App Bridge session token for an offline token and answers { shop, scopes } only", async () => {
    const installs = (await shopEvents(OTHER)).length
    const before = counts()
    const res = await exchange(signSessionToken({ shop: OTHER, apiKey: API_KEY, appSecret: SECRET }))
    expect(res.status, res.text).toBe(200)
    expect(res.json()).toEqual({ shop: OTHER, scopes: SCOPES })
    const stored = (await storedToken(OTHER))!
    expect(stored.token).not.toBe("shpat_other_shop")
    expect(await adminStatus(stored.token, OTHER)).toBe(200)
    expect(counts()).toEqual({ saves: before.saves + 1, published: before.published + 1 })
    expect(published.at(-1)).toMatchObject({ shop: OTHER, type: "shopify.app_installed", payload: { method: "token_exchange", scopes: SCOPES } })
    const events = await awaitShopEvents(installs + 1, OTHER)
    expect(events.at(-1)).toMatchObject({ type: "shop.installed", data: { method: "token_exchange", scopes: SCOPES } })
  })

  it("refuses missing, forged, foreign and expired session tokens (401, App Bridge retries), storing nothing", async () => {
    const before = counts()
    const tokenBefore = (await storedToken(OTHER))?.token
    const now = Date.now()
    const cases: ReadonlyArray<readonly [string, string | undefined, string]> = [
      ["no token", undefined, "invalid_session_token"],
      ["not a JWT", "not-a-jwt", "invalid_session_token"],
      ["signed with another secret", signSessionToken({ shop: OTHER, apiKey: API_KEY, appSecret: "not-the-secret" }), "invalid_session_token"],
      ["for another app", signSessionToken({ shop: OTHER, apiKey: "another-app", appSecret: SECRET }), "invalid_session_token"],
      ["expired", signSessionToken({ shop: OTHER, apiKey: API_KEY, appSecret: SECRET, issuedAtMs: now - 10 * 60_000 }), "invalid_session_token"],
      ["alg none", signSessionToken({ shop: OTHER, apiKey: API_KEY, appSecret: SECRET, header: { alg: "none" } }), "invalid_session_token"],
      ["for a host outside myshopify.com", signSessionToken({ shop: "evil.com", apiKey: API_KEY, appSecret: SECRET }), "invalid_session_token"],
      // Accepted here (the previous secret during a rotation) but refused by Shopify.
      ["signed with the previous secret", signSessionToken({ shop: OTHER, apiKey: API_KEY, appSecret: PREVIOUS }), "session_token_rejected"]
    ]
    for (const [name, token, code] of cases) {
      const res = await exchange(token)
      expect(res.status, name).toBe(401)
      expect(res.json().error.code, name).toBe(code)
      expect(res.headers.get("x-shopify-retry-invalid-session-request"), name).toBe("1")
    }
    expect(counts()).toEqual(before)
    expect((await storedToken(OTHER))?.token).toBe(tokenBefore)
  })
})

describe("the simulator's OAuth endpoints (Shopify's side)", () => {
  const authorize = (params: Record<string, string>) => {
    const target = new URL(`${sim.url}/admin/oauth/authorize`)
    for (const [k, v] of Object.entries({ shop: SHOP, ...params })) target.searchParams.set(k, v)
    return fetch(target, { redirect: "manual" })
  }
  const valid = { client_id: API_KEY, scope: SCOPES, redirect_uri: "https://app.example.com/auth/callback", state: "s1" }

  it("approves at once and signs the callback as Shopify documents it", async () => {
    const res = await authorize(valid)
    expect(res.status).toBe(302)
    const callback = new URL(res.headers.get("location")!)
    expect(callback.origin + callback.pathname).toBe(valid.redirect_uri)
    const params = Object.fromEntries(callback.searchParams)
    expect(Object.keys(params).sort()).toEqual(["code", "hmac", "host", "shop", "state", "timestamp"])
    expect(params).toMatchObject({ shop: SHOP, state: "s1" })
    expect(Buffer.from(params["host"]!, "base64").toString("utf8")).toBe(`${SHOP}/admin`)
    expect(Math.abs(Number(params["timestamp"]) - Date.now() / 1000)).toBeLessThan(60)
    // shopify.dev: remove hmac, sort the rest by key, join k=v with & (URL-encoded), hex HMAC-SHA256.
    const message = Object.keys(params).filter((k) => k !== "hmac").sort()
      .map((k) => `${encodeURIComponent(k)}=${encodeURIComponent(params[k]!)}`).join("&")
    expect(params["hmac"]).toBe(createHmac("sha256", SECRET).update(message).digest("hex"))
  })

  it("refuses an unknown client id and a redirect_uri that is not http(s)", async () => {
    expect((await authorize({ ...valid, client_id: "someone-else" })).status).toBe(400)
    for (const redirect of ["javascript:alert(1)", "ftp://app.example.com/cb", "not a url"]) {
      const res = await authorize({ ...valid, redirect_uri: redirect })
      expect(res.status, redirect).toBe(400)
      expect(res.headers.get("location"), redirect).toBeNull()
    }
    expect((await authorize({ ...valid, shop: "unknown.myshopify.com" })).status).toBe(404)
  })

  it("refuses a token exchange for another shop, with wrong client credentials, or for online tokens", async () => {
    const body = (overrides: Record<string, string>) => JSON.stringify({
      client_id: API_KEY,
      client_secret: SECRET,
      grant_type: "urn:ietf:params:oauth:grant-type:token-exchange",
      subject_token: signSessionToken({ shop: OTHER, apiKey: API_KEY, appSecret: SECRET }),
      subject_token_type: "urn:ietf:params:oauth:token-type:id_token",
      requested_token_type: "urn:shopify:params:oauth:token-type:offline-access-token",
      ...overrides
    })
    const post = (host: string, overrides: Record<string, string> = {}) =>
      fetch(`${sim.url}/admin/oauth/access_token`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-forwarded-host": host },
        body: body(overrides)
      }).then(async (r) => ({ status: r.status, body: (await r.json()) as Record<string, unknown> }))
    // a session token for OTHER presented at SHOP's endpoint
    expect(await post(SHOP)).toEqual({ status: 400, body: { error: "invalid_subject_token", error_description: "Subject token is invalid" } })
    expect((await post(OTHER, { client_secret: "wrong" })).body["error"]).toBe("invalid_client")
    expect((await post(OTHER, { requested_token_type: "urn:shopify:params:oauth:token-type:online-access-token" })).status).toBe(400)
    expect((await post(OTHER, { subject_token_type: "urn:ietf:params:oauth:token-type:access_token" })).status).toBe(400)
  })
})

describe("secrets", () => {
  it("a grant must cover the app's scopes; a write scope covers its read scope", () => {
    expect(missingScopes("read_products,write_products", "write_products")).toEqual([])
    expect(missingScopes("read_products,write_products", "read_products")).toEqual(["write_products"])
    expect(missingScopes("read_products,read_orders", "write_products, read_orders")).toEqual([])
    expect(missingScopes("read_products,read_orders", "write_orders")).toEqual(["read_products"])
  })

  it("no token ever appears in a response, a published message, an event or a log line", async () => {
    expect(issuedTokens.length).toBeGreaterThanOrEqual(6)
    const rows = await run(Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      return yield* sql<{ text: string }>`SELECT data::text AS text FROM events UNION ALL SELECT sealed FROM shop_tokens`
    }))
    const haystacks: ReadonlyArray<readonly [string, ReadonlyArray<string>]> = [
      ["responses", responseBodies],
      ["published messages", published.map((m) => JSON.stringify(m))],
      ["route logs", routeLogs.map((l) => JSON.stringify(l))],
      ["console", consoleLines],
      ["simulator log", simLogs],
      ["database", rows.map((r) => r.text)]
    ]
    expect(responseBodies.length).toBeGreaterThan(20)
    expect(rows.length).toBeGreaterThanOrEqual(issuedTokens.length)
    for (const token of issuedTokens) {
      for (const [where, texts] of haystacks) {
        expect(texts.some((t) => t.includes(token)), `${where} contain a token`).toBe(false)
      }
    }
  })
})
