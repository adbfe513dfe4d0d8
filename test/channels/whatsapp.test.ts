/**
 * The WhatsApp channel over real HTTP: the Cloud API client against the simulator (templates,
 * the 24-hour window, its own pacing per number and per recipient, retries, typed failures), and
 * the webhook route receiving the simulator's signed webhooks. Every "0 throttle answers" check
 * has a control beside it: the same load through a client without that pacing is throttled by
 * the simulator, so the check cannot pass with the pacing deleted. Nothing waits on a timer to
 * synchronise: tests await the sends and the simulator's webhook deliveries.
 */
import { Effect, Redacted } from "effect"
import { Hono } from "hono"
import type { AddressInfo } from "node:net"
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest"
import { serveHttp } from "../../adapters/http/HttpServer.ts"
import type { RunEffect } from "../../adapters/http/RunEffect.ts"
import { mountWhatsAppWebhookRoute, type WhatsAppInbound } from "../../adapters/http/WhatsAppWebhookRoute.ts"
import { type CloudApiClientOptions, make } from "../../adapters/whatsapp/CloudApiClient.ts"
import type { SendTemplateRequest } from "../../src/channels/WhatsApp.ts"
import { jsonBody } from "../../src/simulator/kit/index.ts"
import { DEFAULT_ACCESS_TOKEN, DEFAULT_PHONE_NUMBER, hubSignature, type RunningWhatsAppSimulator, startWhatsAppSimulator } from "../../src/simulator/whatsapp/index.ts"

const NUMBER = DEFAULT_PHONE_NUMBER.id
const SHOP = "whatsapp-test.myshopify.com"
const APP_SECRET = "whatsapp-app-secret-test"
const VERIFY_TOKEN = "verify-me-0123"
const CUSTOMER = "+4915112345678"
const HOUR = 60 * 60 * 1000

const run = <A, E>(effect: Effect.Effect<A, E>) => Effect.runPromise(effect)
/** The failure of `effect` (the test fails if it succeeds). */
const failure = <A, E>(effect: Effect.Effect<A, E>) => Effect.runPromise(Effect.flip(effect))

const clientFor = (sim: RunningWhatsAppSimulator, options: Partial<CloudApiClientOptions> = {}) =>
  make({
    accessToken: Redacted.make(DEFAULT_ACCESS_TOKEN),
    baseUrl: sim.url,
    throttleBaseMs: 10,
    throttleMaxMs: 50,
    unavailableBaseMs: 10,
    pairIntervalMs: 100,
    ...options
  })

const orderUpdate = (to: string, idempotencyKey: string): SendTemplateRequest => ({
  phoneNumberId: NUMBER,
  to,
  idempotencyKey,
  template: { name: "order_update", language: "en_US", parameters: ["#1001", "shipped"] }
})

/** Distinct customer numbers. */
const customer = (i: number) => `+4917000${String(i).padStart(5, "0")}`

describe("the Cloud API client against the simulator", () => {
  let sim: RunningWhatsAppSimulator
  beforeEach(async () => {
    sim = await startWhatsAppSimulator({ seed: "client", pairIntervalMs: 100 })
    return () => sim.stop()
  })

  it("sends a template in the API's shape and answers Meta's message id", async () => {
    const sent = await run(clientFor(sim).sendTemplate(orderUpdate(CUSTOMER, "execution-1")))
    expect(sent.messageId).toMatch(/^wamid\./)
    expect(sent.waId).toBe("4915112345678")
    expect(sent.messageRef).toMatch(/^[0-9a-f]{32}$/)
    const exchange = sim.log.last()!
    expect(exchange.path).toBe(`/v26.0/${NUMBER}/messages`)
    expect(exchange.headers["authorization"]).toBe(`Bearer ${DEFAULT_ACCESS_TOKEN}`)
    expect(jsonBody(exchange)).toEqual({
      messaging_product: "whatsapp",
      recipient_type: "individual",
      to: CUSTOMER,
      type: "template",
      template: {
        name: "order_update",
        language: { policy: "deterministic", code: "en_US" },
        components: [{ type: "body", parameters: [{ type: "text", text: "#1001" }, { type: "text", text: "shipped" }] }]
      },
      biz_opaque_callback_data: "execution-1"
    })
    expect(sim.sent().map((m) => m.id)).toEqual([sent.messageId])
  })

  it("a template the platform refuses is WhatsAppRejected with Meta's code, not retried", async () => {
    const client = clientFor(sim)
    const wrongCount = await failure(client.sendTemplate({ ...orderUpdate(CUSTOMER, "k1"), template: { name: "order_update", language: "en_US", parameters: ["#1001"] } }))
    expect(wrongCount).toMatchObject({ _tag: "WhatsAppRejected", code: 132000 })
    const unknown = await failure(client.sendTemplate({ ...orderUpdate(CUSTOMER, "k2"), template: { name: "order_update", language: "fr" } }))
    expect(unknown).toMatchObject({ _tag: "WhatsAppRejected", code: 132001 })
    expect(sim.sends.length).toBe(2)
  })

  it("the same idempotency key sends once and answers the first result", async () => {
    const client = clientFor(sim)
    const [a, b] = await run(Effect.all([client.sendTemplate(orderUpdate(CUSTOMER, "same")), client.sendTemplate(orderUpdate(CUSTOMER, "same"))], { concurrency: 2 }))
    const c = await run(client.sendTemplate(orderUpdate(CUSTOMER, "same")))
    expect(b.messageId).toBe(a.messageId)
    expect(c.messageId).toBe(a.messageId)
    expect(sim.sent()).toHaveLength(1)
  })

  it("free-form text is refused before the customer wrote, sent inside the 24 h window, refused after it", async () => {
    const client = clientFor(sim)
    const text = (key: string) => client.sendText({ phoneNumberId: NUMBER, to: CUSTOMER, body: "Your parcel left the warehouse", idempotencyKey: key })

    expect(await failure(text("t1"))).toMatchObject({ _tag: "WhatsAppWindowClosed", code: 131047 })

    await sim.receiveMessage({ from: CUSTOMER, text: "Where is my order?" })
    sim.clock.advance(23 * HOUR)
    const sent = await run(text("t2"))
    expect(sim.sent().find((m) => m.id === sent.messageId)).toMatchObject({ type: "text", text: "Your parcel left the warehouse" })

    sim.clock.advance(1 * HOUR)
    expect(await failure(text("t3"))).toMatchObject({ _tag: "WhatsAppWindowClosed", code: 131047 })
    expect(sim.sent()).toHaveLength(1)
  })

  it("80 messages/s per number: 200 concurrent sends to distinct recipients get no throttle answer", async () => {
    const requests = Array.from({ length: 200 }, (_, i) => orderUpdate(customer(i), `burst-${i}`))
    const client = clientFor(sim)
    const started = Date.now()
    await run(Effect.forEach(requests, (r) => client.sendTemplate(r), { concurrency: "unbounded" }))
    expect(sim.sent()).toHaveLength(200)
    expect(sim.throttleAnswers()).toBe(0)
    // 40 at once (half a second's burst), then 80/s for the other 160
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_900)

    // control: the same load without the client's bucket is throttled by the simulator
    const unpaced = clientFor(sim, { messagesPerSecond: 100_000, burst: 100_000, throttleRetries: 0 })
    const outcomes = await run(Effect.forEach(requests.map((r, i) => ({ ...r, idempotencyKey: `control-${i}` })), (r) => Effect.result(unpaced.sendTemplate(r)), { concurrency: "unbounded" }))
    expect(sim.throttleAnswers(130429)).toBeGreaterThan(0)
    expect(outcomes.some((o) => o._tag === "Failure" && o.failure._tag === "WhatsAppThrottled")).toBe(true)
  })

  it("pair pacing: 5 rapid sends to one recipient get no 131056, and leave at least the interval apart", async () => {
    const client = clientFor(sim, { pairIntervalMs: 100 })
    const requests = Array.from({ length: 5 }, (_, i) => orderUpdate(CUSTOMER, `pair-${i}`))
    await run(Effect.forEach(requests, (r) => client.sendTemplate(r), { concurrency: "unbounded" }))
    expect(sim.throttleAnswers(131056)).toBe(0)
    const accepted = sim.sent().map((m) => m.acceptedAt)
    expect(accepted).toHaveLength(5)
    for (let i = 1; i < accepted.length; i++) expect(accepted[i]! - accepted[i - 1]!).toBeGreaterThanOrEqual(100)
    // messages to one person keep their order
    expect(sim.sent().map((m) => m.callbackData)).toEqual(requests.map((r) => r.idempotencyKey))

    // control: without the client's pacing the simulator answers 131056
    const unpaced = clientFor(sim, { pairIntervalMs: 0, throttleRetries: 0 })
    const outcomes = await run(Effect.forEach(requests.map((r, i) => ({ ...r, idempotencyKey: `unpaced-${i}` })), (r) => Effect.result(unpaced.sendTemplate(r)), { concurrency: "unbounded" }))
    expect(sim.throttleAnswers(131056)).toBeGreaterThan(0)
    expect(outcomes.some((o) => o._tag === "Failure" && o.failure._tag === "WhatsAppThrottled" && o.failure.code === 131056)).toBe(true)
  })

  it("an injected 130429 is retried with backoff; past the bound it is WhatsAppThrottled", async () => {
    const client = clientFor(sim, { throttleRetries: 2 })
    sim.throttleNext({ count: 2 })
    const sent = await run(client.sendTemplate(orderUpdate(CUSTOMER, "retry")))
    expect(sent.messageId).toMatch(/^wamid\./)
    expect(sim.sends.entries.map((a) => a.code ?? "ok")).toEqual([130429, 130429, "ok"])

    sim.throttleNext({ count: 3, code: 130429 })
    const throttled = await failure(client.sendTemplate(orderUpdate(customer(1), "exhausted")))
    expect(throttled).toMatchObject({ _tag: "WhatsAppThrottled", code: 130429 })
    expect((throttled as { retryAfterMs: number }).retryAfterMs).toBeGreaterThan(0)
    expect(sim.throttleAnswers(130429)).toBe(5)
  })

  it("a 5xx is retried, then WhatsAppUnavailable", async () => {
    const client = clientFor(sim, { unavailableRetries: 2 })
    sim.faults.failNext(503)
    await run(client.sendTemplate(orderUpdate(CUSTOMER, "once-down")))
    expect(sim.log.entries.map((e) => e.status)).toEqual([503, 200])

    sim.faults.failNext(500, { count: 3 })
    expect(await failure(client.sendTemplate(orderUpdate(customer(2), "down")))).toMatchObject({ _tag: "WhatsAppUnavailable", status: 500 })
    expect(sim.log.count((e) => e.status === 500)).toBe(3)
  })

  it("an expired token is WhatsAppAuthExpired (190), not retried", async () => {
    sim.expireToken(DEFAULT_ACCESS_TOKEN)
    const error = await failure(clientFor(sim).sendTemplate(orderUpdate(CUSTOMER, "expired")))
    expect(error).toMatchObject({ _tag: "WhatsAppAuthExpired", code: 190 })
    expect(sim.sends.entries.map((a) => a.code)).toEqual([190])
    expect(sim.log.last()!.status).toBe(401)
  })
})

describe("the webhook route", () => {
  const published: Array<WhatsAppInbound> = []
  const runRoute: RunEffect<never> = (effect) => Effect.runPromise(effect)
  let server: ReturnType<typeof serveHttp>
  let webhookUrl: string
  let sim: RunningWhatsAppSimulator

  beforeAll(async () => {
    const app = new Hono()
    mountWhatsAppWebhookRoute(app, runRoute, {
      verifyToken: Redacted.make(VERIFY_TOKEN),
      appSecrets: [Redacted.make(APP_SECRET)],
      shopOf: (id) => (id === NUMBER ? SHOP : undefined),
      publish: (inbound) => Effect.sync(() => void published.push(inbound))
    })
    server = serveHttp({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" })
    await new Promise<void>((resolve) => server.once("listening", () => resolve()))
    webhookUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/whatsapp`
  })

  afterAll(async () => {
    server.closeAllConnections()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  })

  beforeEach(async () => {
    published.length = 0
    sim = await startWhatsAppSimulator({ seed: "route", appSecret: APP_SECRET, webhookUrl, webhookRetryDelaysMs: [] })
    return () => sim.stop()
  })

  const handshake = (token: string) => fetch(`${webhookUrl}?hub.mode=subscribe&hub.verify_token=${token}&hub.challenge=1158201444`)

  it("answers Meta's verification handshake with the challenge, and refuses a wrong token", async () => {
    const ok = await handshake(VERIFY_TOKEN)
    expect(ok.status).toBe(200)
    expect(ok.headers.get("content-type")).toMatch(/^text\/plain/)
    expect(await ok.text()).toBe("1158201444")
    expect((await handshake("not-the-token")).status).toBe(403)
    expect((await fetch(`${webhookUrl}?hub.mode=unsubscribe&hub.verify_token=${VERIFY_TOKEN}&hub.challenge=1`)).status).toBe(403)
  })

  it("status webhooks signed by the simulator are accepted and handed to publish, in order, without personal data in their keys", async () => {
    const sent = await run(clientFor(sim).sendTemplate(orderUpdate(CUSTOMER, "execution-42")))
    await sim.webhooksIdle()
    expect(sim.webhookDeliveries().map((d) => [d.status, d.state, d.lastStatusCode])).toEqual([
      ["sent", "delivered", 200],
      ["delivered", "delivered", 200],
      ["read", "delivered", 200]
    ])
    expect(published.map((p) => [p.type, p.shop, p.payload.message_ref])).toEqual([
      ["whatsapp.status", SHOP, sent.messageRef],
      ["whatsapp.status", SHOP, sent.messageRef],
      ["whatsapp.status", SHOP, sent.messageRef]
    ])
    const statuses = published.map((p) => p.type === "whatsapp.status" ? p.payload : undefined)
    expect(statuses.map((s) => s?.status)).toEqual(["sent", "delivered", "read"])
    expect(statuses[0]).toMatchObject({ message_id: sent.messageId, recipient_id: "4915112345678", callback_data: "execution-42", phone_number_id: NUMBER, pricing_category: "utility" })
    for (const p of published) {
      expect(p.messageId).not.toContain("4915112345678")
      expect(p.messageId).not.toContain(sent.messageId)
    }
  })

  it("an inbound customer message reaches publish with its sender and text", async () => {
    const delivery = await sim.receiveMessage({ from: CUSTOMER, text: "Hi, is this in stock?", profileName: "Ada" })
    expect(delivery.state).toBe("delivered")
    expect(published).toHaveLength(1)
    expect(published[0]).toMatchObject({
      type: "whatsapp.message",
      shop: SHOP,
      payload: { from: "4915112345678", profile_name: "Ada", type: "text", text: "Hi, is this in stock?", message_id: delivery.messageId, phone_number_id: NUMBER }
    })
  })

  it("a failed delivery (131047 reported late) reaches publish with its error", async () => {
    await sim.stop()
    sim = await startWhatsAppSimulator({ seed: "route-async", appSecret: APP_SECRET, webhookUrl, webhookRetryDelaysMs: [], windowErrors: "async" })
    await run(clientFor(sim).sendText({ phoneNumberId: NUMBER, to: CUSTOMER, body: "hello", idempotencyKey: "late" }))
    await sim.webhooksIdle()
    expect(published).toHaveLength(1)
    expect(published[0]!.payload).toMatchObject({ status: "failed", errors: [{ code: 131047, title: "Re-engagement message" }] })
  })

  it("a forged or missing signature is 401 and publishes nothing", async () => {
    await sim.receiveMessage({ from: CUSTOMER, text: "genuine" })
    published.length = 0
    const genuine = sim.webhookDeliveries()[0]!
    const forged = await fetch(webhookUrl, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-Hub-Signature-256": hubSignature("not-the-app-secret", genuine.body) },
      body: genuine.body
    })
    expect(forged.status).toBe(401)
    const tampered = await fetch(webhookUrl, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-Hub-Signature-256": genuine.headers["X-Hub-Signature-256"]! },
      body: genuine.body.replace("genuine", "forged!")
    })
    expect(tampered.status).toBe(401)
    const unsigned = await fetch(webhookUrl, { method: "POST", headers: { "Content-Type": "application/json" }, body: genuine.body })
    expect(unsigned.status).toBe(401)
    expect(published).toHaveLength(0)
  })

  it("a signed but malformed body is 400 listing every problem, and publishes nothing", async () => {
    const body = JSON.stringify({
      object: "whatsapp_business_account",
      entry: [{
        id: "200000000000001",
        changes: [
          { field: "messages", value: { messaging_product: "whatsapp", metadata: { phone_number_id: NUMBER }, statuses: [{ id: "wamid.x", status: "sent", recipient_id: "4915112345678" }] } },
          { field: "message_template_status_update", value: { event: "APPROVED" } }
        ]
      }]
    })
    const response = await fetch(webhookUrl, { method: "POST", headers: { "Content-Type": "application/json", "X-Hub-Signature-256": hubSignature(APP_SECRET, body) }, body })
    expect(response.status).toBe(400)
    const answer = await response.json() as { error: { code: string; details: ReadonlyArray<{ path: string }> } }
    expect(answer.error.code).toBe("invalid_input")
    expect(answer.error.details.map((d) => d.path).sort()).toEqual([
      "entry[0].changes[0].value.metadata.display_phone_number",
      "entry[0].changes[0].value.statuses[0].timestamp"
    ])
    const notJson = "{not json"
    const malformed = await fetch(webhookUrl, { method: "POST", headers: { "Content-Type": "application/json", "X-Hub-Signature-256": hubSignature(APP_SECRET, notJson) }, body: notJson })
    expect(malformed.status).toBe(400)
    expect(published).toHaveLength(0)
  })

  it("a number no shop has is acknowledged and skipped", async () => {
    await sim.stop()
    sim = await startWhatsAppSimulator({
      seed: "route-other",
      appSecret: APP_SECRET,
      webhookUrl,
      webhookRetryDelaysMs: [],
      phoneNumbers: [{ id: "999000999000999", displayPhoneNumber: "15559999999" }]
    })
    const delivery = await sim.receiveMessage({ from: CUSTOMER, text: "hello?" })
    expect(delivery.lastStatusCode).toBe(200)
    expect(published).toHaveLength(0)
  })
})
