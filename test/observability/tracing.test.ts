/**
 * Traces you can follow in production: the real `sumeru start` (PostgreSQL 15 + JetStream)
 * exports over OTLP/HTTP to a receiver this test stands up. One signed `orders/create` webhook
 * sent with a caller's `traceparent` yields one connected trace: the route's server span (a
 * child of the caller's), the publish to the shop log, the shop actor handling the message,
 * its commit, and the projection applying the event — across the log and the event store,
 * every span's parent in the same trace.
 *
 * Log lines carry the ids of the span they were written in (unit-tested below with the
 * production logger).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { Effect, Logger } from "effect"
import { TestConsole } from "effect/testing"
import { signBody } from "../../adapters/http/ShopifyHmac.ts"
import { jsonLogger } from "../../src/server/Observability.ts"
import { type OtlpReceiver, type ReceivedSpan, startOtlpReceiver } from "../support/otlpReceiver.ts"
import { type ServerProcess, startServerProcess } from "../support/serverProcess.ts"

const SECRET = "trace-app-secret"
const SHOP = "traced.myshopify.com"

const hex = (bytes: number) => Array.from(crypto.getRandomValues(new Uint8Array(bytes)), (b) => b.toString(16).padStart(2, "0")).join("")

const waitFor = async <A>(probe: () => A | undefined, what: string, ms = 30_000, context?: () => string): Promise<A> => {
  const deadline = Date.now() + ms
  for (;;) {
    const found = probe()
    if (found !== undefined) return found
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${context === undefined ? "" : `; received: ${context()}`}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

describe("tracing across the shop log and the event store", () => {
  let receiver: OtlpReceiver
  let server: ServerProcess
  beforeAll(async () => {
    receiver = await startOtlpReceiver()
    server = await startServerProcess({
      SHOPIFY_API_KEY: "trace-api-key",
      SHOPIFY_API_SECRET: SECRET,
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_BSP_SCHEDULE_DELAY: "100"
    })
  }, 90_000)
  afterAll(async () => {
    await server?.stop()
    await receiver?.close()
  })

  it("one webhook is one connected trace from the route to the projection", async () => {
    const traceId = hex(16)
    const callerSpan = hex(8)
    const body = JSON.stringify({ id: 820982911946154500, admin_graphql_api_id: "gid://shopify/Order/820982911946154500", name: "#1001", currency: "EUR", total_price: "12.00", created_at: "2026-12-01T10:00:00Z", updated_at: "2026-12-01T10:00:00Z", line_items: [] })
    const res = await fetch(`${server.url}/webhooks/shopify`, {
      method: "POST",
      body,
      headers: {
        "content-type": "application/json",
        "x-shopify-topic": "orders/create",
        "x-shopify-shop-domain": SHOP,
        "x-shopify-event-id": crypto.randomUUID(),
        "x-shopify-webhook-id": crypto.randomUUID(),
        "x-shopify-api-version": "2026-07",
        "x-shopify-hmac-sha256": signBody(SECRET, body),
        traceparent: `00-${traceId}-${callerSpan}-01`
      }
    })
    expect(res.status).toBe(200)

    const inTrace = () => receiver.spans().filter((s) => s.traceId === traceId)
    const named = (pattern: RegExp) => () => inTrace().find((s) => pattern.test(s.name))
    // what arrived, for a failure message
    const seen = () => receiver.spans().map((s) => `${s.name} (${s.traceId === traceId ? "this trace" : "another trace"})`).join(", ")
    const route = await waitFor(named(/^POST \/webhooks\/shopify$/), "the route's span", 30_000, seen)
    const publish = await waitFor(named(/^ShopLog\.publish$/), "the publish span", 30_000, seen)
    const actor = await waitFor(named(/^ShopActor\.handle$/), "the actor's span", 30_000, seen)
    const commit = await waitFor(named(/^ActorStore\.commit$/), "the commit span", 30_000, seen)
    const projection = await waitFor(named(/^Projection\.apply commerce$/), "the projection's span", 60_000, seen)
    // every projection that applies an order ends its span (its queries' parent) before the trace is judged
    await waitFor(named(/^Projection\.apply attribution$/), "the attribution projection's span", 60_000, seen)

    expect(route.parentSpanId).toBe(callerSpan)
    expect(publish.parentSpanId).toBe(route.spanId)
    expect(actor.parentSpanId).toBe(publish.spanId)
    expect(actor.attributes["shop"]).toBe(SHOP)
    expect(actor.attributes["message.type"]).toBe("shopify.webhook")
    expect(commit.parentSpanId === actor.spanId || ancestorsOf(commit, inTrace()).includes(actor.spanId)).toBe(true)
    expect(ancestorsOf(projection, inTrace())).toContain(actor.spanId)
    // connected: every span of the trace but the route's has its parent in the trace
    const ids = new Set(inTrace().map((s) => s.spanId))
    const orphans = inTrace().filter((s) => s !== route && (s.parentSpanId === undefined || !ids.has(s.parentSpanId)))
    expect(orphans.map((s) => s.name)).toEqual([])
    expect(receiver.rejected()).toBe(0)
  }, 90_000)

  it("a log line carries the trace and span ids of the span it was written in", async () => {
    const lines = await Effect.gen(function*() {
      yield* Effect.logInfo("inside").pipe(Effect.withSpan("traced-work"))
      yield* Effect.logInfo("outside")
      return yield* TestConsole.logLines
    }).pipe(Effect.provide(Logger.layer([jsonLogger])), Effect.provide(TestConsole.layer), Effect.runPromise)
    const [inside, outside] = lines.map((l) => JSON.parse(String(l)) as Record<string, unknown>)
    expect(inside!["message"]).toBe("inside")
    expect(inside!["traceId"]).toMatch(/^[0-9a-f]{32}$/)
    expect(inside!["spanId"]).toMatch(/^[0-9a-f]{16}$/)
    expect(outside!["traceId"]).toBeUndefined()
  })
})

/** The span ids above `span`, nearest first, within `spans`. */
const ancestorsOf = (span: ReceivedSpan, spans: ReadonlyArray<ReceivedSpan>): ReadonlyArray<string> => {
  const byId = new Map(spans.map((s) => [s.spanId, s]))
  const out: Array<string> = []
  let parent = span.parentSpanId
  while (parent !== undefined && !out.includes(parent)) {
    out.push(parent)
    parent = byId.get(parent)?.parentSpanId
  }
  return out
}
