/**
 * WhatsApp's inbound webhooks end to end (issue 12 §3): the simulator, as Meta, POSTs a signed
 * inbound message and delivery receipts to Sumeru's `/webhooks/whatsapp`; they go through the
 * shop log to the shop's actor and are recorded on `whatsapp-<shop>` with the phone number, the
 * message id and the text sealed (not a digit of the number in clear in the event store), under
 * the key of the sender's number. A customer's data export holds their messages, and
 * `customers/redact` makes them unreadable — found by the numbers in the customer's records,
 * without any lookup kept in clear — while another sender's stay readable. A forged signature
 * stores nothing.
 */

import { Effect, Option, Redacted, Stream } from "effect"
import { SqlClient } from "effect/sql"
import { Hono } from "hono"
import type { AddressInfo } from "node:net"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { serveHttp } from "../../adapters/http/HttpServer.ts"
import { mountWhatsAppWebhookRoute } from "../../adapters/http/WhatsAppWebhookRoute.ts"
import { encodeShopMessage } from "../../domain/messages/ShopMessages.ts"
import { whatsAppStreamId } from "../../src/channels/WhatsAppHandlers.ts"
import { EventStore } from "../../src/eventstore/EventStore.ts"
import { readCustomerExport } from "../../src/privacy/Compliance.ts"
import { PiiVault } from "../../src/secrets/Secrets.ts"
import { ShopLog } from "../../src/shoplog/ShopLog.ts"
import { type RunningWhatsAppSimulator, startWhatsAppSimulator } from "../../src/simulator/whatsapp/index.ts"
import { type AdminApi, startAdminApi } from "../support/adminApi.ts"

const SHOP = "wa.myshopify.com"
const SECRET = "wa-app-secret"
const PHONE_NUMBER_ID = "100000000000001"
const CUSTOMER = "4915112345678"

let api: AdminApi
let sim: RunningWhatsAppSimulator
let server: ReturnType<typeof serveHttp>
let url: string

beforeAll(async () => {
  api = await startAdminApi({ knownShops: [SHOP], automationActors: true })
  const app = new Hono()
  mountWhatsAppWebhookRoute(app, api.run, {
    verifyToken: Redacted.make("verify-me"),
    appSecrets: [Redacted.make(SECRET)],
    shopOf: (id) => (id === PHONE_NUMBER_ID ? SHOP : undefined),
    publish: (m) =>
      Effect.asVoid(ShopLog.use((l) =>
        l.publish({
          shop: m.shop, messageId: m.messageId, correlationId: m.messageId,
          ...(m.type === "whatsapp.message" ? encodeShopMessage({ type: "whatsapp.message", payload: m.payload }) : encodeShopMessage({ type: "whatsapp.status", payload: m.payload }))
        })))
  })
  server = serveHttp({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" })
  await new Promise<void>((resolve) => server.once("listening", () => resolve()))
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  sim = await startWhatsAppSimulator({ appSecret: SECRET, webhookUrl: `${url}/webhooks/whatsapp`, phoneNumbers: [{ id: PHONE_NUMBER_ID, displayPhoneNumber: "15550000001" }] })
})

afterAll(async () => {
  await sim?.stop()
  await new Promise<void>((resolve) => server?.close(() => resolve()))
  await api?.close()
})

describe("WhatsApp inbound", () => {
  it("an inbound message is recorded with the number and the text sealed, readable with the shop's key", async () => {
    await sim.receiveMessage({ from: CUSTOMER, text: "Where is my order?" })
    await api.awaitEvents([whatsAppStreamId(SHOP)], (events) => events.some((e) => e.type === "whatsapp.message_received"))
    const stored = await api.run(Effect.flatMap(SqlClient.SqlClient, (sql) => sql<{ data: string }>`SELECT data::text AS data FROM events WHERE stream_id = ${whatsAppStreamId(SHOP)}`))
    expect(stored.map((r) => r.data).join("")).not.toContain(CUSTOMER.slice(-6))
    expect(stored.map((r) => r.data).join("")).not.toContain("Where is my order")
    const opened = await api.run(Effect.gen(function*() {
      const store = yield* EventStore
      const vault = yield* PiiVault
      const events = [...yield* Stream.runCollect(store.readStream(whatsAppStreamId(SHOP)))]
      const e = events.find((x) => x.type === "whatsapp.message_received")!
      const data = e.data as { type: string; identifying: Parameters<typeof vault.open>[1] }
      return { type: data.type, identifying: Option.getOrThrow(yield* vault.open(SHOP, data.identifying)) }
    }))
    expect(opened).toMatchObject({ type: "text", identifying: { from: CUSTOMER, text: "Where is my order?" } })
  })

  it("customers/data_request exports the customer's messages and customers/redact makes them unreadable; another sender's stay readable", async () => {
    const ADA = "+49 151 7654 3210" // as Shopify shows it; WhatsApp's wa_id is the digits
    const STRANGER = "4917000000042"
    const publish = (messageId: string, type: "shopify.webhook" | "whatsapp.message", payload: unknown) =>
      api.run(ShopLog.use((l) => l.publish({ shop: SHOP, messageId, correlationId: messageId, ...encodeShopMessage({ type, payload } as never) })))
    await publish("cust-88", "shopify.webhook", {
      topic: "customers/create",
      payload: { id: 88, email: "ada@example.com", phone: ADA, first_name: "Ada", updated_at: "2026-12-06T09:00:00Z", created_at: "2026-12-06T09:00:00Z" }
    })
    await api.awaitEvents([`customer-${SHOP}-88`], (events) => events.length === 1)
    const messagesBefore = (await api.run(Effect.flatMap(EventStore, (store) => Stream.runCollect(store.readStream(whatsAppStreamId(SHOP)))))).length
    await sim.receiveMessage({ from: "4915176543210", text: "Ada here, can I change my size?" })
    await sim.receiveMessage({ from: STRANGER, text: "Stranger asking about opening hours" })
    const received = () =>
      api.run(Effect.gen(function*() {
        const store = yield* EventStore
        const vault = yield* PiiVault
        const events = [...yield* Stream.runCollect(store.readStream(whatsAppStreamId(SHOP)))].filter((e) => e.type === "whatsapp.message_received")
        return yield* Effect.forEach(events, (e) => {
          const data = e.data as { subject: string; identifying: Parameters<typeof vault.open>[1] }
          return Effect.map(vault.open(SHOP, data.identifying), (o) => ({ subject: data.subject, text: Option.isSome(o) ? (o.value as { text: string }).text : null }))
        })
      }))
    await api.awaitEvents([whatsAppStreamId(SHOP)], (events) => events.length >= messagesBefore + 2)
    const before = await received()
    const adaSubject = before.find((m) => m.text?.startsWith("Ada here"))!.subject
    expect(adaSubject).toMatch(/^phone:[\w-]{22}$/)
    expect(before.find((m) => m.text?.startsWith("Stranger"))!.subject).not.toBe(adaSubject)

    // the export holds her message (found by the number in her record)
    await publish("dr-88", "shopify.webhook", { topic: "customers/data_request", payload: { shop_domain: SHOP, customer: { id: 88 }, orders_requested: [], data_request: { id: 5150 } } })
    await api.awaitEvents([`privacy-${SHOP}`], (events) => events.some((e) => e.type === "customer.data_exported"))
    const exported = await api.run(Effect.gen(function*() {
      const store = yield* EventStore
      const events = [...yield* Stream.runCollect(store.readStream(`privacy-${SHOP}`))]
      const id = (events.find((e) => e.type === "customer.data_exported")!.data as { export_id: string }).export_id
      return Option.getOrThrow(yield* readCustomerExport(SHOP, id)) as { events: ReadonlyArray<{ type: string; data: { identifying: { text?: string } } }> }
    }))
    const texts = exported.events.filter((e) => e.type === "whatsapp.message_received").map((e) => e.data.identifying.text)
    expect(texts).toEqual(["Ada here, can I change my size?"])

    await publish("redact-88", "shopify.webhook", { topic: "customers/redact", payload: { shop_domain: SHOP, customer: { id: 88 }, orders_to_redact: [] } })
    await api.awaitEvents([`privacy-${SHOP}`], (events) => events.some((e) => e.type === "customer.redacted"))
    const after = await received()
    expect(after.find((m) => m.subject === adaSubject)!.text).toBeNull()
    expect(after.find((m) => m.text?.startsWith("Stranger"))).toBeDefined()
    expect(after.filter((m) => m.text === null)).toHaveLength(1)
    // a later message from her number keeps its facts, not its content: the customer asked to be forgotten
    await sim.receiveMessage({ from: "4915176543210", text: "Ada again" })
    await api.awaitEvents([whatsAppStreamId(SHOP)], (events) => events.length >= messagesBefore + 3)
    const late = await api.run(Effect.flatMap(EventStore, (store) => Stream.runCollect(store.readStream(whatsAppStreamId(SHOP)))))
    expect([...late].filter((e) => e.type === "whatsapp.message_received").at(-1)!.data).toMatchObject({ subject: adaSubject, identifying: null })
  })

  it("a forged signature is a 401 and stores nothing", async () => {
    const before = (await api.run(Effect.flatMap(EventStore, (store) => Stream.runCollect(store.readStream(whatsAppStreamId(SHOP)))))).length
    const body = JSON.stringify({ object: "whatsapp_business_account", entry: [] })
    const res = await fetch(`${url}/webhooks/whatsapp`, { method: "POST", headers: { "content-type": "application/json", "x-hub-signature-256": `sha256=${"0".repeat(64)}` }, body })
    expect(res.status).toBe(401)
    const after = (await api.run(Effect.flatMap(EventStore, (store) => Stream.runCollect(store.readStream(whatsAppStreamId(SHOP)))))).length
    expect(after).toBe(before)
  })
})
