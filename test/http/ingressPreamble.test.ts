/**
 * The ingress preamble, one table applied to each of the four routes that take a body from
 * outside — Shopify webhooks, the Flow action, the pixel, the public ingest API — over real
 * HTTP (`serveHttp`, 127.0.0.1): wrong media type 415, oversized body 413 (declared and
 * streamed), bad or missing HMAC 401 and the previous secret accepted (signed routes), invalid
 * UTF-8 400, malformed JSON 400, an integer beyond 2^53 kept to the digit. A route that drifts
 * from the others fails here. Then where failures of the ports go: an unreachable database or
 * shop log is a 503 with `Retry-After`, anything unexpected a 500 whose correlation id is on the
 * log line with the cause.
 *
 * The ports are in memory (nothing here needs a database): the shop log and the job ingress
 * record what reached them, and can be made to fail.
 */
import { Effect, Logger, Option, References } from "effect"
import { ConnectionError, SqlError, UniqueViolation } from "effect/sql/SqlError"
import { Hono } from "hono"
import type { AddressInfo } from "node:net"
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest"
import { FLOW_BODY_LIMIT, mountFlowActionRoute } from "../../adapters/http/FlowActionRoute.ts"
import { serveHttp } from "../../adapters/http/HttpServer.ts"
import { mountPixelRoute, StorefrontAccess } from "../../adapters/http/PixelRoute.ts"
import { INGEST_BODY_LIMIT, mountPublicIngestRoute } from "../../adapters/http/PublicIngestRoute.ts"
import type { RunEffect } from "../../adapters/http/RunEffect.ts"
import { signBody } from "../../adapters/http/ShopifyHmac.ts"
import { mountShopifyWebhookRoute, WEBHOOK_BODY_LIMIT } from "../../adapters/http/ShopifyWebhookRoute.ts"
import { PIXEL_BODY_LIMIT } from "../../domain/ingest/Touchpoint.ts"
import type { JobInput } from "../../domain/jobs/index.ts"
import { ApiKeys } from "../../src/access/ApiKeys.ts"
import { JobIngress, type RequestOutcome } from "../../src/jobs/JobIngress.ts"
import { ShopLog, ShopLogUnavailable, type ShopMessage } from "../../src/shoplog/ShopLog.ts"

const SECRET = "preamble-secret"
const PREVIOUS_SECRET = "preamble-secret-previous"
const SHOP = "preamble.myshopify.com"
const API_KEY = "sk_preamble_0123456789"
/** 2^53 + 1: `JSON.parse` would make it …992. */
const BIG = "9007199254740993"

// ---------------------------------------------------------------------------
// In-memory ports
// ---------------------------------------------------------------------------

/** What reached the ports, and how they fail next (reset before each test). */
const state = {
  published: [] as Array<ShopMessage>,
  jobs: [] as Array<JobInput>,
  logDown: false,
  jobIngress: "ok" as "ok" | "database_unreachable" | "database_error" | "defect",
  logs: [] as Array<string>
}

const notUsed = Effect.die(new Error("not used by the ingress routes"))

const shopLog = ShopLog.of({
  partitions: 1,
  publish: (message) =>
    state.logDown
      ? Effect.fail(new ShopLogUnavailable({ operation: "publish", cause: new Error("log down (test)") }))
      : Effect.sync(() => {
        state.published.push(message)
        return { sequence: state.published.length, duplicate: false, partition: 0 }
      }),
  consume: () => notUsed,
  ping: Effect.void,
  pending: notUsed,
  oldestUnacked: () => notUsed,
  isQueued: () => notUsed
})

const jobIngress = JobIngress.of({
  request: (_shop, input) => {
    switch (state.jobIngress) {
      case "database_unreachable":
        return Effect.fail(new SqlError({ reason: new ConnectionError({ cause: new Error("ECONNREFUSED (test)"), message: "connect failed" }) }))
      case "database_error":
        return Effect.fail(new SqlError({ reason: new UniqueViolation({ cause: new Error("duplicate key (test)"), constraint: "job_requests_pkey" }) }))
      case "defect":
        return Effect.die(new Error("a bug (test)"))
      case "ok":
        return Effect.sync((): RequestOutcome => {
          state.jobs.push(input)
          return { _tag: "Created", jobId: crypto.randomUUID() }
        })
    }
  }
})

const apiKeys = ApiKeys.of({
  create: () => notUsed,
  verify: (key) => Effect.succeed(key === API_KEY ? Option.some({ keyId: "preamble", shop: SHOP, name: "test", scopes: ["events:write"], role: null }) : Option.none()),
  revoke: () => notUsed,
  list: () => notUsed
})

const storefronts = StorefrontAccess.of({
  isKnownShop: (shop) => Effect.succeed(shop === SHOP),
  allowedOrigins: (shop) => Effect.succeed([`https://${shop}`])
})

/** The routes' services, and a logger that keeps every line (JSON, annotations included). */
const run: RunEffect<ShopLog | JobIngress | ApiKeys | StorefrontAccess> = (effect) =>
  Effect.runPromise(effect.pipe(
    Effect.provideService(ShopLog, shopLog),
    Effect.provideService(JobIngress, jobIngress),
    Effect.provideService(ApiKeys, apiKeys),
    Effect.provideService(StorefrontAccess, storefronts),
    Effect.provide(Logger.layer([Logger.make((o) => void state.logs.push(Logger.formatJson.log(o)))])),
    Effect.provideService(References.MinimumLogLevel, "All")
  ))

// ---------------------------------------------------------------------------
// The four routes, each with a request it accepts
// ---------------------------------------------------------------------------

interface Route {
  readonly name: string
  readonly path: string
  readonly limit: number
  /** The status of an accepted request. */
  readonly accepted: number
  /** Signed with Shopify's HMAC of the raw body. */
  readonly signed: boolean
  /** A body it accepts whose JSON text has {@link BIG} as a bare integer. */
  readonly bigIntegerBody: string
  /** Where {@link BIG} arrived, as the route handed it on. */
  readonly bigIntegerAsReceived: () => unknown
  /** Headers besides the content type and the signature (the shop, the key, Shopify's). */
  readonly headers: Record<string, string>
}

const routes: ReadonlyArray<Route> = [
  {
    name: "Shopify webhook",
    path: "/webhooks/shopify",
    limit: WEBHOOK_BODY_LIMIT,
    accepted: 200,
    signed: true,
    bigIntegerBody: `{"id":${BIG},"name":"#1001","updated_at":"2026-11-20T10:00:00Z"}`,
    bigIntegerAsReceived: () => (state.published.at(-1)?.payload as { payload: { id: unknown } } | undefined)?.payload.id,
    headers: {
      "x-shopify-topic": "orders/create",
      "x-shopify-shop-domain": SHOP,
      "x-shopify-event-id": "preamble-event",
      "x-shopify-api-version": "2026-07"
    }
  },
  {
    name: "Flow action",
    path: "/webhooks/flow-action",
    limit: FLOW_BODY_LIMIT,
    accepted: 202,
    signed: true,
    // a text metafield whose value was sent as a bare number: its text is every digit sent
    bigIntegerBody: `{"query_string":"tag:x","namespace":"custom","key":"big","type":"single_line_text_field","value":${BIG},"dry_run":true}`,
    bigIntegerAsReceived: () => state.jobs.at(-1)?.value,
    headers: { "x-shopify-shop-domain": SHOP }
  },
  {
    name: "pixel",
    path: "/pixel",
    limit: PIXEL_BODY_LIMIT,
    accepted: 202,
    signed: false,
    bigIntegerBody: JSON.stringify({
      shop: SHOP,
      event: "page_view",
      event_id: "0199a000-0000-7000-8000-000000000001",
      occurred_at: "2026-03-01T12:00:00Z",
      url: `https://${SHOP}/`,
      customer_id: "__BIG__"
    }).replace("\"__BIG__\"", BIG),
    bigIntegerAsReceived: () => (state.published.at(-1)?.payload as { customer_id?: unknown } | undefined)?.customer_id,
    headers: {}
  },
  {
    name: "public ingest",
    path: "/api/v1/events",
    limit: INGEST_BODY_LIMIT,
    accepted: 202,
    signed: false,
    bigIntegerBody: `{"events":[{"idempotency_key":"preamble-1","type":"custom","occurred_at":"2026-03-01T00:00:00Z","name":"big_number","properties":{"n":${BIG}}}]}`,
    bigIntegerAsReceived: () =>
      (state.published.at(-1)?.payload as { event: { properties?: { n?: unknown } } } | undefined)?.event.properties?.n,
    headers: { authorization: `Bearer ${API_KEY}` }
  }
]

let url: string
let server: ReturnType<typeof serveHttp>

beforeAll(async () => {
  const app = new Hono()
  mountShopifyWebhookRoute(app, run, { secrets: [SECRET, PREVIOUS_SECRET] })
  mountFlowActionRoute(app, run, { secrets: [SECRET, PREVIOUS_SECRET] })
  mountPixelRoute(app, run, { lookupCacheMs: 0 })
  mountPublicIngestRoute(app, run)
  server = serveHttp({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" })
  await new Promise<void>((resolve) => server.once("listening", () => resolve()))
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()))
})

beforeEach(() => {
  state.published = []
  state.jobs = []
  state.logDown = false
  state.jobIngress = "ok"
  state.logs = []
})

interface Send {
  readonly body?: string | Uint8Array<ArrayBuffer>
  readonly contentType?: string | null
  /** The signing secret (signed routes; default the current one), or the signature itself. */
  readonly secret?: string
  readonly signature?: string | null
  /** Sends the body as a stream without a length (chunked). */
  readonly chunked?: boolean
}

/** One request to `route`: its accepted body and headers unless told otherwise, signed when the route is. */
const send = (route: Route, options: Send = {}) => {
  const body = options.body ?? route.bigIntegerBody
  const headers: Record<string, string> = { ...route.headers }
  const contentType = options.contentType === undefined ? "application/json" : options.contentType
  if (contentType !== null) headers["content-type"] = contentType
  const signature = options.signature === undefined ? signBody(options.secret ?? SECRET, body) : options.signature
  if (route.signed && signature !== null) headers["x-shopify-hmac-sha256"] = signature
  const bytes = typeof body === "string" ? new TextEncoder().encode(body) : body
  return fetch(`${url}${route.path}`, {
    method: "POST",
    headers,
    ...(options.chunked === true
      ? { body: new Blob([bytes]).stream(), duplex: "half" }
      : { body: bytes })
  } as RequestInit)
}

/** The error code of a typed JSON error answer. */
const errorOf = async (res: Response) => ((await res.json()) as { error: { code: string; correlation_id?: string } }).error

/** Nothing reached a port. */
const nothingStored = () => {
  expect(state.published).toEqual([])
  expect(state.jobs).toEqual([])
}

/** A JSON body just past the route's limit. */
const oversized = (route: Route) => JSON.stringify({ pad: "x".repeat(route.limit) })

interface Case {
  readonly name: string
  readonly applies?: (route: Route) => boolean
  readonly send: (route: Route) => Send
  readonly status: number | ((route: Route) => number)
  readonly code?: string
}

const cases: ReadonlyArray<Case> = [
  { name: "an accepted request (the control)", send: () => ({}), status: (r) => r.accepted },
  { name: "application/json with parameters, any case", send: () => ({ contentType: "Application/JSON; charset=utf-8" }), status: (r) => r.accepted },
  { name: "no content type", send: () => ({ contentType: null }), status: 415, code: "unsupported_media_type" },
  { name: "another media type", send: () => ({ contentType: "application/xml" }), status: 415, code: "unsupported_media_type" },
  { name: "a media type that only starts like JSON", send: () => ({ contentType: "application/json-patch+json" }), status: 415, code: "unsupported_media_type" },
  { name: "JSON named as a parameter of another type", send: () => ({ contentType: "text/html; application/json" }), status: 415, code: "unsupported_media_type" },
  {
    // sendBeacon's string body: only the pixel takes it
    name: "a text/plain beacon",
    send: () => ({ contentType: "text/plain;charset=UTF-8" }),
    status: (r) => (r.path === "/pixel" ? r.accepted : 415)
  },
  { name: "a declared body past the limit", send: (r) => ({ body: oversized(r) }), status: 413, code: "payload_too_large" },
  {
    // refused before its type is even looked at: the upload is dropped, not read
    name: "a declared body past the limit, of another media type",
    send: (r) => ({ body: oversized(r), contentType: "application/xml" }),
    status: 413,
    code: "payload_too_large"
  },
  { name: "a streamed body past the limit", send: (r) => ({ body: oversized(r), chunked: true }), status: 413, code: "payload_too_large" },
  { name: "a streamed body within the limit", send: () => ({ chunked: true }), status: (r) => r.accepted },
  { name: "a signature with another secret", applies: (r) => r.signed, send: () => ({ secret: "not-the-secret" }), status: 401, code: "unauthorized" },
  { name: "no signature", applies: (r) => r.signed, send: () => ({ signature: null }), status: 401, code: "unauthorized" },
  { name: "a signature that is not base64 of an HMAC", applies: (r) => r.signed, send: () => ({ signature: "%%%" }), status: 401, code: "unauthorized" },
  { name: "the previous secret (during a rotation)", applies: (r) => r.signed, send: () => ({ secret: PREVIOUS_SECRET }), status: (r) => r.accepted },
  {
    name: "bytes that are not UTF-8",
    send: () => ({ body: new Uint8Array([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]) }),
    status: 400,
    code: "malformed_json"
  },
  { name: "text that is not JSON", send: () => ({ body: "{\"shop\":" }), status: 400, code: "malformed_json" }
]

describe.each(routes)("the ingress preamble of the $name route", (route) => {
  const applicable = cases.filter((c) => c.applies?.(route) ?? true)

  it.each(applicable)("$name", async (c) => {
    const res = await send(route, c.send(route))
    const status = typeof c.status === "number" ? c.status : c.status(route)
    expect(res.status).toBe(status)
    if (status === route.accepted) return
    expect(res.headers.get("content-type") ?? "").toMatch(/^application\/json/)
    const error = await errorOf(res)
    if (c.code !== undefined) expect(error.code).toBe(c.code)
    if (status === 413) expect(res.headers.get("connection")?.toLowerCase()).toBe("close")
    nothingStored()
  })

  it("keeps an integer beyond 2^53 to the digit", async () => {
    const res = await send(route)
    expect(res.status).toBe(route.accepted)
    expect(route.bigIntegerAsReceived()).toBe(BIG)
  })
})

describe("failures of the ports", () => {
  const [webhook, flow, pixel, ingest] = routes

  it("an unreachable shop log is a 503 with Retry-After, on every route that publishes", async () => {
    state.logDown = true
    for (const route of [webhook!, pixel!, ingest!]) {
      const res = await send(route)
      expect(res.status, route.name).toBe(503)
      expect(res.headers.get("retry-after")).toBe("5")
      expect((await errorOf(res)).code).toBe("unavailable")
    }
  })

  it("an unreachable database is a 503 with Retry-After", async () => {
    state.jobIngress = "database_unreachable"
    const res = await send(flow!)
    expect(res.status).toBe(503)
    expect(res.headers.get("retry-after")).toBe("5")
    const error = await errorOf(res)
    expect(error.code).toBe("unavailable")
    expect(JSON.stringify(error)).toContain("database")
  })

  it.each(["database_error", "defect"] as const)("an unexpected failure (%s) is a 500 whose correlation id is on the logged cause", async (failure) => {
    state.jobIngress = failure
    const res = await send(flow!)
    expect(res.status).toBe(500)
    expect(res.headers.get("retry-after")).toBeNull()
    const error = await errorOf(res)
    expect(error.code).toBe("internal_error")
    expect(error.correlation_id).toMatch(/^[0-9a-f-]{36}$/)
    expect(JSON.stringify(error)).not.toContain("unavailable")
    const logged = state.logs.filter((line) => line.includes(error.correlation_id!))
    expect(logged).toHaveLength(1)
    expect(logged[0]).toContain(failure === "defect" ? "a bug (test)" : "duplicate key (test)")
  })
})
