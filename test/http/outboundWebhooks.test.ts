/**
 * Outbound webhooks (issue 12 §1) over the admin API, on PostgreSQL 15 with the embedded shop
 * log, the shop actors, the Shopify simulator, and a real HTTP receiver in this process that
 * verifies every delivery with the `standardwebhooks` library (as any receiver would): an
 * applied action arrives signed, as the seed's JSON; a failing endpoint gets exactly 4 attempts
 * under one `webhook-id`, then the delivery is dead-lettered, listed and redriven; a rotated
 * secret and the previous one both verify during the grace period; internal targets are refused
 * in any spelling unless allowed by their exact `host:port`.
 */
import { createServer, type IncomingMessage, type Server } from "node:http"
import type { AddressInfo } from "node:net"
import { Webhook } from "standardwebhooks"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type AdminApi, type AdminServer, sessionFor, startAdminApi } from "../support/adminApi.ts"

const SHOP = "outbound.myshopify.com"
const ops = () => sessionFor(SHOP, "ops-1")

interface Received {
  readonly headers: Record<string, string>
  readonly body: string
}

/** A webhook receiver: records each request; answers `failNext` of them with 500. */
const receiver = { received: [] as Array<Received>, failNext: 0, waiters: [] as Array<() => void> }
let server: Server
let port: number

const readBody = (req: IncomingMessage) =>
  new Promise<string>((resolve) => {
    const chunks: Array<Buffer> = []
    req.on("data", (c: Buffer) => chunks.push(c))
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")))
  })

/** Resolves once the receiver has `n` requests in all (no polling sleeps). */
const receivedCount = (n: number) =>
  new Promise<void>((resolve) => {
    const check = () => (receiver.received.length >= n ? resolve() : receiver.waiters.push(check))
    check()
  })

let api: AdminApi
let admin: AdminServer
let ruleId: string

beforeAll(async () => {
  server = createServer(async (req, res) => {
    const body = await readBody(req)
    receiver.received.push({ headers: Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)])), body })
    const fail = receiver.failNext > 0
    if (fail) receiver.failNext--
    res.writeHead(fail ? 500 : 204).end(fail ? "receiver down" : undefined)
    for (const w of receiver.waiters.splice(0)) w()
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()))
  port = (server.address() as AddressInfo).port
  api = await startAdminApi({ knownShops: [SHOP], automationActors: true, outboundAllowed: `127.0.0.1:${port}` })
  admin = await api.serveAdmin({ defaultRole: "viewer" })
  await api.setMember(SHOP, "ops-1", "operator")
  const rule = await api.call(admin, "POST", "/app/rules", ops(), {
    name: "Tag drafts", trigger_event: "product.drafted", action_key: "tag_product", params: { tags: ["needs-review"] }, enabled: true
  })
  ruleId = rule.json.rule.id
})

afterAll(async () => {
  await api?.close()
  await new Promise<void>((resolve) => server?.close(() => resolve()))
})

/** A product sent back to draft: the rule tags it. Resolves to the execution id, once applied. */
const draft = async (n: number) => {
  const res = await api.call(admin, "POST", "/app/triggers/product.drafted/emit", ops(), {
    resources: [{ resourceType: "product", resourceId: `gid://shopify/Product/${n}`, payload: { title: `P${n}`, vendor: null, productType: null, tags: [], status: "draft", previousStatus: "active", updatedAt: "2026-12-01T10:00:00Z" } }]
  })
  const id = `${res.json.trigger_id}_${ruleId}_0`
  await api.awaitExecution(SHOP, id, "autoaction.applied")
  return id
}

const subscribe = async (events: ReadonlyArray<string> = ["autoaction.applied"]) => {
  const res = await api.call(admin, "POST", "/app/webhook-subscriptions", ops(), { url: `http://127.0.0.1:${port}/hooks`, events })
  expect(res.status, res.text).toBe(201)
  return res.json as { subscription: { id: string }; secret: string }
}

describe("outbound webhooks", () => {
  it("refuses internal targets in every spelling, with a 400 that says why; allows only the exact allowed host:port", async () => {
    for (const url of [`http://127.0.0.1:${port + 1}/x`, `http://localhost:${port}/x`, "http://0x7f000001/x", "http://[::ffff:127.0.0.1]/x", "http://169.254.169.254/latest"]) {
      const res = await api.call(admin, "POST", "/app/webhook-subscriptions", ops(), { url, events: ["autoaction.applied"] })
      expect(res.status, url).toBe(400)
      expect(res.json.error.errors[0].field).toBe("url")
      expect(res.json.error.errors[0].message).toMatch(/address|name of this machine/)
    }
    const bad = await api.call(admin, "POST", "/app/webhook-subscriptions", ops(), { events: ["autoaction.sent", 3], extra: true })
    expect(bad.status).toBe(400)
    expect(bad.json.error.errors.map((e: { field: string }) => e.field)).toEqual(["url", "events[0]", "events[1]", "extra"])
    expect((await api.call(admin, "POST", "/app/webhook-subscriptions", sessionFor(SHOP, "viewer-1"), { url: "https://x.example.com", events: ["autoaction.applied"] })).status).toBe(403)
  })

  it("an applied action arrives signed (Standard Webhooks) as the seed's JSON; the secret is shown once, never listed", async () => {
    const { subscription, secret } = await subscribe()
    expect(secret).toMatch(/^whsec_/)
    const listed = await api.call(admin, "GET", "/app/webhook-subscriptions", ops())
    expect(listed.text).not.toContain(secret.slice(6))
    expect(listed.json.subscriptions.map((s: { id: string }) => s.id)).toContain(subscription.id)

    const before = receiver.received.length
    const execution = await draft(1)
    await receivedCount(before + 1)
    const got = receiver.received[before]!
    const payload = new Webhook(secret).verify(got.body, got.headers) as Record<string, unknown>
    expect(payload).toMatchObject({
      event: "autoaction.applied", eventId: `${execution}.autoaction.applied`, shop: SHOP, ruleId, ruleName: "Tag drafts", actionKey: "tag_product",
      resourceType: "product", resourceId: "gid://shopify/Product/1", after: { added: ["needs-review"] }
    })
    // a forged body does not verify; a replayed (old) timestamp does not either
    expect(() => new Webhook(secret).verify(got.body.replace("needs-review", "x"), got.headers)).toThrow()
    expect(() => new Webhook(secret).verify(got.body, { ...got.headers, "webhook-timestamp": String(Math.floor(Date.now() / 1000) - 3600) })).toThrow()
    await api.awaitEvents([`webhook-delivery-${SHOP}-${got.headers["webhook-id"]}`], (events) => events.some((e) => e.type === "webhook.delivered"))
    await api.awaitProjections()
    const deliveries = await api.call(admin, "GET", "/app/webhook-deliveries?status=delivered", ops())
    expect(deliveries.json.deliveries[0]).toMatchObject({ id: got.headers["webhook-id"], status: "delivered", attempts: 1, subscription_id: subscription.id })
    expect((await api.call(admin, "DELETE", `/app/webhook-subscriptions/${subscription.id}`, ops())).status).toBe(204)
  })

  it("a failing endpoint gets exactly 4 attempts under one webhook-id, then the delivery is dead-lettered; redrive delivers it", async () => {
    const { subscription, secret } = await subscribe()
    receiver.failNext = 4
    const before = receiver.received.length
    await draft(2)
    await receivedCount(before + 4)
    const deliveryId = receiver.received[before]!.headers["webhook-id"]!
    await api.awaitEvents([`webhook-delivery-${SHOP}-${deliveryId}`], (events) => events.some((e) => e.type === "webhook.dead_lettered"))
    await api.awaitProjections()
    const deadList = await api.call(admin, "GET", "/app/webhook-deliveries?status=dead", ops())
    const dead = deadList.json.deliveries.find((d: { id: string }) => d.id === deliveryId)
    expect(dead).toMatchObject({ status: "dead", attempts: 4, last_status: 500, last_error: "HTTP 500: receiver down" })
    const attempts = receiver.received.slice(before)
    expect(attempts).toHaveLength(4)
    expect(new Set(attempts.map((a) => a.headers["webhook-id"]))).toEqual(new Set([dead.id]))
    for (const a of attempts) expect(() => new Webhook(secret).verify(a.body, a.headers)).not.toThrow()
    const audit = await api.call(admin, "GET", "/app/audit?q=dead-lettered", ops())
    expect(audit.json.entries[0].summary).toBe(`Webhook delivery ${dead.id} dead-lettered after 4 failed attempts: HTTP 500: receiver down`)

    const redriven = await api.call(admin, "POST", `/app/webhook-deliveries/${dead.id}/redrive`, ops())
    expect(redriven.status).toBe(202)
    await receivedCount(before + 5)
    expect(receiver.received[before + 4]!.headers["webhook-id"]).toBe(dead.id)
    await api.awaitEvents([`webhook-delivery-${SHOP}-${dead.id}`], (events) => events.some((e) => e.type === "webhook.delivered"))
    await api.awaitProjections()
    const again = await api.call(admin, "POST", `/app/webhook-deliveries/${dead.id}/redrive`, ops())
    expect([again.status, again.json.error.code]).toEqual([409, "not_dead"])
    await api.call(admin, "DELETE", `/app/webhook-subscriptions/${subscription.id}`, ops())
  })

  it("a rotated secret signs at once, and the previous one still verifies during its grace period", async () => {
    const { subscription, secret: old } = await subscribe()
    const rotated = await api.call(admin, "POST", `/app/webhook-subscriptions/${subscription.id}/rotate`, ops())
    expect(rotated.status, rotated.text).toBe(200)
    const fresh = rotated.json.secret as string
    expect(fresh).not.toBe(old)
    const before = receiver.received.length
    await draft(3)
    await receivedCount(before + 1)
    const got = receiver.received[before]!
    expect(() => new Webhook(fresh).verify(got.body, got.headers)).not.toThrow()
    expect(() => new Webhook(old).verify(got.body, got.headers)).not.toThrow()
    expect((await api.call(admin, "DELETE", `/app/webhook-subscriptions/${subscription.id}`, ops())).status).toBe(204)
    expect((await api.call(admin, "POST", `/app/webhook-subscriptions/${subscription.id}/rotate`, ops())).status).toBe(404)
  })
})
