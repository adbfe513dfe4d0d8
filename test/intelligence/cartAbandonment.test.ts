/**
 * `sales.cart_abandoned_threshold` end to end (issue 13 §3): Shopify checkout webhooks through the
 * shop's actor set a durable timer per checkout (`scheduled_messages`); an update moves it, a
 * completed checkout or an order naming the checkout cancels it; a checkout left alone for the
 * window fires the trigger once, and a rule of the decision plane fires on it.
 */
import { Effect } from "effect"
import { SqlClient } from "effect/sql"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { encodeShopMessage } from "../../domain/messages/ShopMessages.ts"
import { ShopLog } from "../../src/shoplog/ShopLog.ts"
import { type AdminApi, type AdminServer, sessionFor, startAdminApi } from "../support/adminApi.ts"

const SHOP = "carts.myshopify.com"
const MINUTE = 60_000
const NOW = Date.now()
const iso = (ms: number) => new Date(ms).toISOString()

let api: AdminApi
let server: AdminServer
const owner = () => sessionFor(SHOP, "owner-1")
let n = 0

const webhook = (topic: string, payload: Record<string, unknown>) => {
  const id = `wh-${n++}`
  return api.run(ShopLog.use((l) => l.publish({ shop: SHOP, messageId: id, correlationId: id, ...encodeShopMessage({ type: "shopify.webhook", payload: { topic, payload } }) })))
}
const checkout = (token: string, updatedAt: number, extra: Record<string, unknown> = {}) =>
  webhook("checkouts/update", { id: token.length, token, cart_token: `cart-${token}`, total_price: "80.00", currency: "EUR", completed_at: null, updated_at: iso(updatedAt), line_items: [], ...extra })

const timers = () =>
  api.run(Effect.flatMap(SqlClient.SqlClient, (sql) => sql<{ id: string; due_at: Date }>`SELECT id, due_at FROM scheduled_messages WHERE shop = ${SHOP} AND id LIKE 'cart.abandon:%' ORDER BY id`))
const abandonTriggers = async () => (await api.receivedTriggers(SHOP)).filter((t) => t.event === "sales.cart_abandoned_threshold")
const checkoutEvents = (count: number) =>
  api.awaitEvents(["ck-open", "ck-done", "ck-ordered", "ck-left"].map((t) => `checkout-${SHOP}-${t}`), (events) => events.length >= count)

beforeAll(async () => {
  api = await startAdminApi({ knownShops: [SHOP], automationActors: true })
  server = await api.serveAdmin()
  await api.setMember(SHOP, "owner-1", "owner")
})

afterAll(async () => {
  await api?.close()
})

describe("sales.cart_abandoned_threshold", () => {
  it("one timer per open checkout, moved by updates, cancelled by completion or the order; a checkout left alone fires a rule once", async () => {
    const ruleId = await api.parkingRule(server, owner(), "Abandoned carts", "sales.cart_abandoned_threshold", "resource.payload.value >= 50.0")
    // still open, changed just now: due in an hour; then changed again: the timer moves
    await checkout("ck-open", NOW)
    await checkout("ck-open", NOW + 5 * MINUTE)
    // completed: no timer
    await checkout("ck-done", NOW, { completed_at: iso(NOW) })
    // an order from it: its timer is cancelled
    await checkout("ck-ordered", NOW)
    await checkoutEvents(4)
    expect((await timers()).map((t) => [t.id, new Date(t.due_at).toISOString()])).toEqual([
      ["cart.abandon:ck-open", iso(NOW + 65 * MINUTE)],
      ["cart.abandon:ck-ordered", iso(NOW + 60 * MINUTE)]
    ])
    await webhook("orders/create", { id: 555, checkout_token: "ck-ordered", total_price: "80.00", currency: "EUR", line_items: [], updated_at: iso(NOW) })
    await api.awaitEvents([`order-${SHOP}-555`], (events) => events.length === 1)
    expect((await timers()).map((t) => t.id)).toEqual(["cart.abandon:ck-open"])

    // left two hours ago: the timer is due at once, fires, and the rule parks it for approval
    await checkout("ck-left", NOW - 120 * MINUTE)
    await api.awaitEvents([`triggers-${SHOP}`], (events) => events.some((e) => JSON.stringify(e.data).includes("sales.cart_abandoned_threshold")))
    await api.awaitProjections()
    expect(await api.executionStatuses(server, owner(), ruleId)).toEqual([["ck-left", "awaiting_approval"]])
    const [trigger] = await abandonTriggers()
    expect(trigger).toMatchObject({
      event: "sales.cart_abandoned_threshold", windowMinutes: 60,
      resources: [{ resourceType: "checkout", resourceId: "ck-left", payload: { value: 80, currency: "EUR", abandonedAt: iso(NOW - 120 * MINUTE) } }]
    })
    // its timer is spent (fired and removed); the open checkout still waits
    expect((await timers()).map((t) => t.id)).toEqual(["cart.abandon:ck-open"])
  })
})
