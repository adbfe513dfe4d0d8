/**
 * Bad input, fuzzed, against the real `sumeru start` process (PostgreSQL 15 + JetStream):
 * thousands of random and mutated requests to every public entry point — Shopify webhooks,
 * the Flow action, OAuth, the public ingest API, the pixel, the admin API, unknown routes.
 * Each must get a 4xx with a typed JSON error body; afterwards nothing is stored, and the
 * process is still up and healthy. Then a real delivery replayed many times is stored once.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { Deferred, Duration, Effect, ManagedRuntime, Redacted } from "effect"
import { SqlClient } from "effect/sql"
import fc from "fast-check"
import { signSessionToken } from "../../adapters/http/SessionToken.ts"
import { signBody } from "../../adapters/http/ShopifyHmac.ts"
import { layerPostgres } from "../../adapters/postgres/Database.ts"
import { coreLayer } from "../../src/CoreLayer.ts"
import { LogWakeups } from "../../src/eventstore/LogWakeups.ts"
import { type ServerProcess, startServerProcess } from "../support/serverProcess.ts"
import { testKeyRing } from "../support/keys.ts"

const SECRET = "fuzz-app-secret"
const API_KEY = "fuzz-api-key"
const SHOP = "fuzz-target.myshopify.com"

interface FuzzRequest {
  readonly label: string
  readonly method: string
  readonly path: string
  readonly headers: Record<string, string>
  readonly body?: Uint8Array | string | undefined
  /** Acceptable statuses (all 4xx). */
  readonly expect: ReadonlyArray<number>
}

const json = (u: unknown) => JSON.stringify(u)
const enc = (s: string) => new TextEncoder().encode(s)

const webhookHeaders = (body: Uint8Array | string, overrides: Record<string, string | undefined> = {}) => {
  const headers: Record<string, string | undefined> = {
    "content-type": "application/json",
    "x-shopify-topic": "orders/create",
    "x-shopify-shop-domain": SHOP,
    "x-shopify-event-id": crypto.randomUUID(),
    "x-shopify-webhook-id": crypto.randomUUID(),
    "x-shopify-api-version": "2026-07",
    "x-shopify-hmac-sha256": signBody(SECRET, body),
    ...overrides
  }
  return Object.fromEntries(Object.entries(headers).filter(([, v]) => v !== undefined)) as Record<string, string>
}

const notJson = fc.string({ minLength: 1, maxLength: 60 }).filter((s) => {
  try {
    JSON.parse(s)
    return false
  } catch {
    return true
  }
})
const badShop = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.constantFrom("evil.com", "fuzz.myshopify.com.evil.com", "FUZZ..myshopify.com", "-x.myshopify.com", "x.myshopify.com/", "https://x.myshopify.com")
).filter((s) => !/^[a-z0-9][a-z0-9-]*\.myshopify\.com$/.test(s))
const payload = fc.jsonValue({ maxDepth: 3 }).map(json)

/** Webhook deliveries broken in one way each. */
const webhookCases: fc.Arbitrary<FuzzRequest> = fc.oneof(
  payload.map((b) => ({ label: "webhook: wrong secret", method: "POST", path: "/webhooks/shopify", body: b, headers: webhookHeaders(b, { "x-shopify-hmac-sha256": signBody("not-the-secret", b) }), expect: [401] })),
  payload.map((b) => ({ label: "webhook: no hmac", method: "POST", path: "/webhooks/shopify", body: b, headers: webhookHeaders(b, { "x-shopify-hmac-sha256": undefined }), expect: [401] })),
  fc.tuple(payload, fc.nat(), fc.integer({ min: 1, max: 255 })).map(([b, at, flip]) => {
    const bytes = enc(b)
    const headers = webhookHeaders(bytes)
    const tampered = bytes.slice()
    tampered[at % tampered.length] = tampered[at % tampered.length]! ^ flip
    return { label: "webhook: body changed after signing", method: "POST", path: "/webhooks/shopify", body: tampered, headers, expect: [401] }
  }),
  fc.tuple(payload, fc.constantFrom("x-shopify-topic", "x-shopify-shop-domain")).map(([b, h]) => ({
    label: `webhook: no ${h}`, method: "POST", path: "/webhooks/shopify", body: b, headers: webhookHeaders(b, { [h]: undefined }), expect: [400]
  })),
  payload.map((b) => ({
    label: "webhook: no event or webhook id", method: "POST", path: "/webhooks/shopify", body: b,
    headers: webhookHeaders(b, { "x-shopify-event-id": undefined, "x-shopify-webhook-id": undefined }), expect: [400]
  })),
  fc.tuple(payload, badShop).map(([b, shop]) => ({
    label: "webhook: not a shop domain", method: "POST", path: "/webhooks/shopify", body: b, headers: webhookHeaders(b, { "x-shopify-shop-domain": shop }), expect: [400]
  })),
  fc.tuple(payload, fc.constantFrom("text/plain", "application/xml", "multipart/form-data; boundary=x", "application/x-www-form-urlencoded", "")).map(([b, ct]) => ({
    label: "webhook: wrong content type", method: "POST", path: "/webhooks/shopify", body: b, headers: webhookHeaders(b, { "content-type": ct }), expect: [415]
  })),
  notJson.map((b) => ({ label: "webhook: malformed JSON, signed", method: "POST", path: "/webhooks/shopify", body: b, headers: webhookHeaders(b), expect: [400] })),
  fc.uint8Array({ minLength: 1, maxLength: 30 }).map((noise) => {
    const b = new Uint8Array([0x7b, 0x22, 0xff, 0xfe, ...noise, 0x22, 0x7d]) // {"<invalid utf-8>…"}
    return { label: "webhook: invalid UTF-8, signed", method: "POST", path: "/webhooks/shopify", body: b, headers: webhookHeaders(b), expect: [400] }
  })
)

const flowCases: fc.Arbitrary<FuzzRequest> = fc.oneof(
  payload.map((b) => ({ label: "flow: wrong secret", method: "POST", path: "/webhooks/flow-action", body: b, headers: { "content-type": "application/json", "x-shopify-hmac-sha256": signBody("nope", b), "x-shopify-shop-domain": SHOP }, expect: [401] })),
  notJson.map((b) => ({ label: "flow: malformed JSON", method: "POST", path: "/webhooks/flow-action", body: b, headers: { "content-type": "application/json", "x-shopify-hmac-sha256": signBody(SECRET, b), "x-shopify-shop-domain": SHOP }, expect: [400] })),
  payload.map((b) => ({ label: "flow: not an action", method: "POST", path: "/webhooks/flow-action", body: b, headers: { "content-type": "application/json", "x-shopify-hmac-sha256": signBody(SECRET, b), "x-shopify-shop-domain": SHOP }, expect: [400] })),
  payload.map((b) => ({ label: "flow: wrong content type", method: "POST", path: "/webhooks/flow-action", body: b, headers: { "content-type": "text/plain", "x-shopify-hmac-sha256": signBody(SECRET, b) }, expect: [415] }))
)

const authorization = fc.oneof(
  fc.constant(undefined),
  fc.string({ maxLength: 80 }).map((s) => `Bearer ${s}`),
  fc.tuple(fc.stringMatching(/^[a-z0-9]{6,16}$/), fc.base64String({ minLength: 8, maxLength: 44 })).map(([id, secret]) => `Bearer sk_${id}_${secret}`),
  // session tokens: forged, expired, or genuine for a shop that never installed the app
  fc.constantFrom(
    `Bearer ${signSessionToken({ shop: SHOP, apiKey: API_KEY, appSecret: "forged" })}`,
    `Bearer ${signSessionToken({ shop: SHOP, apiKey: API_KEY, appSecret: SECRET, issuedAtMs: Date.now() - 3_600_000 })}`,
    `Bearer ${signSessionToken({ shop: "never-installed.myshopify.com", apiKey: API_KEY, appSecret: SECRET })}`,
    `Bearer ${signSessionToken({ shop: SHOP, apiKey: "another-app", appSecret: SECRET })}`
  )
)
const withAuth = (auth: string | undefined, headers: Record<string, string> = {}) => (auth === undefined ? headers : { ...headers, authorization: auth })

const apiCases: fc.Arbitrary<FuzzRequest> = fc.oneof(
  fc.tuple(authorization.filter((a) => a === undefined || a.includes("sk_") || !a.includes(".")), payload).map(([auth, b]) => ({
    label: "ingest: unknown key", method: "POST", path: "/api/v1/events", body: b, headers: withAuth(auth, { "content-type": "application/json" }), expect: [401]
  })),
  fc.tuple(authorization, fc.constantFrom(
    ["GET", "/app/jobs"], ["GET", "/app/jobs/550e8400-e29b-41d4-a716-446655440000"], ["POST", "/app/jobs/550e8400-e29b-41d4-a716-446655440000/undo"],
    ["GET", "/app/members"], ["PUT", "/app/members/42"], ["GET", "/app/api-keys"], ["POST", "/app/api-keys"], ["DELETE", "/app/api-keys/abc"],
    ["GET", "/app/privacy/exports"], ["GET", "/app/me"]
  )).map(([auth, [method, path]]) => ({
    label: `admin: ${method} ${path} unauthenticated`, method: method!, path: path!, body: method === "GET" ? undefined : "{}", headers: withAuth(auth, { "content-type": "application/json" }), expect: [401]
  })),
  fc.tuple(fc.oneof(payload, notJson), fc.constantFrom("application/json", "text/plain")).map(([b, ct]) => ({
    // no shop has installed the app in this process: a well-formed touchpoint is an unknown shop
    label: "pixel: unknown shop or bad body", method: "POST", path: "/pixel", body: b, headers: { "content-type": ct }, expect: [400, 401]
  })),
  payload.map((b) => ({ label: "pixel: wrong content type", method: "POST", path: "/pixel", body: b, headers: { "content-type": "application/xml" }, expect: [415] })),
  fc.constant(null).map(() => ({ label: "pixel: too large", method: "POST", path: "/pixel", body: json({ shop: SHOP, pad: "x".repeat(5000) }), headers: { "content-type": "application/json" }, expect: [413] })),
  badShop.map((shop) => ({ label: "oauth: bad shop", method: "GET", path: `/auth?shop=${encodeURIComponent(shop)}`, headers: {}, expect: [400] })),
  fc.dictionary(fc.constantFrom("code", "hmac", "shop", "state", "timestamp", "host", "x"), fc.string({ maxLength: 30 })).map((q) => ({
    label: "oauth: forged callback", method: "GET", path: `/auth/callback?${new URLSearchParams(q)}`, headers: {}, expect: [400, 401, 403]
  })),
  fc.tuple(fc.constantFrom("GET", "POST", "PUT", "DELETE", "PATCH"), fc.webPath()).filter(([, p]) => {
    // what the server will see: fetch normalises dot segments ("/." is "/")
    let path: string
    try {
      path = new URL(`http://127.0.0.1:1${p}`).pathname
    } catch {
      return false // not a URL fetch would send
    }
    return !/^\/(healthz|readyz|metrics|auth|pixel|webhooks|api|app)?($|\/)/.test(path)
  }).map(([method, path]) => ({
    label: "unknown route", method, path, body: method === "GET" ? undefined : "{}", headers: {}, expect: [404]
  }))
)

describe("bad input, fuzzed against the real process", () => {
  let server: ServerProcess
  let runtime: ManagedRuntime.ManagedRuntime<SqlClient.SqlClient | LogWakeups, unknown>
  const count = (table: string) =>
    runtime.runPromise(Effect.flatMap(SqlClient.SqlClient, (sql) => sql.unsafe<{ n: string }>(`SELECT count(*)::text AS n FROM ${table}`))).then((r) => Number(r[0]!.n))
  const STORED = ["events", "shop_log", "processed_messages", "dead_letters", "job_requests", "api_keys", "data_keys", "shop_tokens", "data_exports", "shop_members"]

  beforeAll(async () => {
    server = await startServerProcess({ SHOPIFY_API_KEY: API_KEY, SHOPIFY_API_SECRET: SECRET })
    runtime = ManagedRuntime.make(coreLayer(layerPostgres(Redacted.make(server.databaseUrl), { maxConnections: 2 }), testKeyRing()))
  }, 90_000)
  afterAll(async () => {
    await runtime?.dispose()
    await server?.stop()
  })

  it("answers thousands of random and mutated requests with typed 4xx errors, stores nothing and stays up", async () => {
    const seen = new Map<string, number>()
    const send = async (r: FuzzRequest) => {
      const response = await fetch(`${server.url}${r.path}`, { method: r.method, headers: r.headers, ...(r.body === undefined ? {} : { body: r.body as BodyInit }) })
      const text = await response.text()
      seen.set(r.label, (seen.get(r.label) ?? 0) + 1)
      if (!r.expect.includes(response.status)) throw new Error(`${r.label}: ${r.method} ${r.path} → ${response.status} ${text.slice(0, 200)}`)
      expect(response.headers.get("content-type") ?? "").toMatch(/^application\/json/)
      const body = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } }
      expect(typeof body.error?.code).toBe("string")
      expect(typeof body.error?.message).toBe("string")
    }
    await fc.assert(fc.asyncProperty(fc.oneof(webhookCases, flowCases, apiCases), send), { numRuns: Number(process.env["FUZZ_RUNS"] ?? 3_000) })
    // a few oversized deliveries (1 MB + 1 byte), declared and streamed without a length
    const big = json({ pad: "x".repeat(1024 * 1024) })
    await send({ label: "webhook: too large", method: "POST", path: "/webhooks/shopify", body: big, headers: webhookHeaders(big), expect: [413] })
    const stream = new Blob([big]).stream()
    const r = await fetch(`${server.url}/webhooks/shopify`, { method: "POST", headers: webhookHeaders(big), body: stream, duplex: "half" } as RequestInit)
    expect(r.status).toBe(413)

    expect(seen.size).toBeGreaterThan(20) // every kind of case was exercised
    for (const table of STORED) expect(await count(table), table).toBe(0)
    expect(server.child.exitCode).toBeNull()
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200)
    const ready = await fetch(`${server.url}/readyz`)
    expect(ready.status).toBe(200)
    // every role's check is there, the projector's lock session included
    const { checks } = await ready.json() as { checks: Array<{ name: string; ok: boolean }> }
    expect(checks.filter((c) => c.ok).map((c) => c.name).sort()).toEqual(["database", "partitions", "projection_locks", "projections", "shop_log"])
  }, 300_000)

  it("stores a genuine delivery once however often Shopify re-sends it", async () => {
    const body = json({ id: 4242, updated_at: "2026-11-20T10:00:00Z" })
    const eventId = crypto.randomUUID()
    const deliveries = Array.from({ length: 25 }, () => webhookHeaders(body, { "x-shopify-topic": "products/update", "x-shopify-event-id": eventId }))
    for (const headers of deliveries) {
      expect((await fetch(`${server.url}/webhooks/shopify`, { method: "POST", headers, body })).status).toBe(200)
    }
    // a marker after the replays: once it is stored, every replay has been handled
    const marker = json({ id: 4343, updated_at: "2026-11-20T10:00:00Z" })
    expect((await fetch(`${server.url}/webhooks/shopify`, { method: "POST", headers: webhookHeaders(marker, { "x-shopify-topic": "products/update" }), body: marker })).status).toBe(200)
    await runtime.runPromise(Effect.gen(function*() {
      const wakeups = yield* LogWakeups
      const sql = yield* SqlClient.SqlClient
      for (;;) {
        const next = yield* wakeups.next
        const rows = yield* sql<{ n: string }>`SELECT count(*)::text AS n FROM events WHERE type = 'product.updated' AND data->>'product_id' = '4343'`
        if (rows[0]!.n === "1") return
        yield* Deferred.await(next).pipe(Effect.timeoutOption(Duration.millis(250)))
      }
    }).pipe(Effect.timeout(Duration.seconds(60))))
    const stored = await runtime.runPromise(Effect.flatMap(SqlClient.SqlClient, (sql) =>
      sql<{ n: string }>`SELECT count(*)::text AS n FROM events WHERE type = 'product.updated' AND data->>'product_id' = '4242'`))
    expect(stored[0]!.n).toBe("1")
    expect(server.child.exitCode).toBeNull()
  }, 120_000)
})
