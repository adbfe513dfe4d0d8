/**
 * `mc.product_disapproved` / `mc.product_approved` end to end (issue 13 §1, §3): a
 * `mc.status_pull` in the shop's actor sets the daily timer and, after the commit, lists the
 * account's products from the Merchant Center simulator through Google's official client; only the
 * edges come back and are recorded (`mc.product_status_changed`): a product newly disapproved, one
 * approved again after a disapproval. The triggers name the Shopify product (what
 * `hide_disapproved_product` acts on) and fire a rule; an unchanged status is never reported twice.
 */
import { Redacted } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import * as MerchantCenterClient from "../../adapters/merchantcenter/MerchantCenterClient.ts"
import { encodeShopMessage } from "../../domain/messages/ShopMessages.ts"
import { ShopLog } from "../../src/shoplog/ShopLog.ts"
import { type RunningMerchantCenterSimulator, type SimProduct, startMerchantCenterSimulator } from "../../src/simulator/merchantcenter/index.ts"
import { type AdminApi, type AdminServer, sessionFor, startAdminApi } from "../support/adminApi.ts"

const SHOP = "merchant.myshopify.com"
const ACCOUNT = "424242"
const TOKEN = "mc-test-token"

const product = (id: number, title: string, status: "approved" | "disapproved" | "pending", issue?: string): SimProduct => ({
  offerId: `shopify_US_${id}_${id + 1}`,
  title,
  destinations: [{
    reportingContext: "SHOPPING_ADS",
    ...(status === "approved" ? { approvedCountries: ["US"] } : status === "pending" ? { pendingCountries: ["US"] } : { disapprovedCountries: ["US"] })
  }],
  ...(issue === undefined ? {} : { issues: [{ code: "missing_required_gtin", severity: "DISAPPROVED", description: issue, reportingContext: "SHOPPING_ADS" }] })
})

let api: AdminApi
let server: AdminServer
let sim: RunningMerchantCenterSimulator
const owner = () => sessionFor(SHOP, "owner-1")
let pulls = 0

const pull = () => {
  const id = `mc-pull-${pulls++}`
  return api.run(ShopLog.use((l) => l.publish({ shop: SHOP, messageId: id, correlationId: id, ...encodeShopMessage({ type: "mc.status_pull", payload: { accountId: ACCOUNT } }) })))
}
const merchantTriggers = async () => (await api.receivedTriggers(SHOP)).filter((t) => t.event.startsWith("mc."))
const untilTriggers = (n: number) =>
  api.awaitEvents([`triggers-${SHOP}`], (events) => events.filter((e) => JSON.stringify(e.data).includes("\"mc.product_")).length >= n)

beforeAll(async () => {
  sim = await startMerchantCenterSimulator({
    accessToken: TOKEN,
    accounts: [{ accountId: ACCOUNT, products: [product(101, "Wool Hat", "disapproved", "Missing GTIN"), product(202, "Linen Throw", "approved"), product(303, "Tea Pot", "pending")] }]
  })
  api = await startAdminApi({ knownShops: [SHOP], automationActors: true, merchantCenter: MerchantCenterClient.layer({ accessToken: Redacted.make(TOKEN), apiUrl: sim.url }) })
  server = await api.serveAdmin()
  await api.setMember(SHOP, "owner-1", "owner")
})

afterAll(async () => {
  await api?.close()
  await sim?.stop()
})

describe("Merchant Center statuses", () => {
  it("reports each edge once: disapproved, approved again, a pending review is neither; a rule fires", async () => {
    const ruleId = await api.parkingRule(server, owner(), "Disapproved products", "mc.product_disapproved")
    await pull()
    await untilTriggers(1)
    // the hat is fixed, the throw is now disapproved; then nothing changes; then the pot is disapproved
    sim.setProducts(ACCOUNT, [product(101, "Wool Hat", "approved"), product(202, "Linen Throw", "disapproved", "Image too small"), product(303, "Tea Pot", "pending")])
    await pull()
    await untilTriggers(3)
    await pull()
    sim.setProducts(ACCOUNT, [product(101, "Wool Hat", "approved"), product(202, "Linen Throw", "disapproved", "Image too small"), product(303, "Tea Pot", "disapproved", "Missing GTIN")])
    await pull()
    await untilTriggers(4)
    await api.awaitProjections()
    const triggers = await merchantTriggers()
    expect(triggers.map((t) => [t.event, t.resources.map((r) => r.resourceId)])).toEqual([
      ["mc.product_disapproved", ["gid://shopify/Product/101"]],
      ["mc.product_disapproved", ["gid://shopify/Product/202"]],
      ["mc.product_approved", ["gid://shopify/Product/101"]],
      ["mc.product_disapproved", ["gid://shopify/Product/303"]]
    ])
    expect(triggers[0]!.resources[0]!.payload).toMatchObject({ title: "Wool Hat", offerId: "shopify_US_101_102", destination: "SHOPPING_ADS", issues: [{ code: "missing_required_gtin", description: "Missing GTIN" }] })
    expect((await api.executionStatuses(server, owner(), ruleId)).map(([id]) => id).sort()).toEqual(["gid://shopify/Product/101", "gid://shopify/Product/202", "gid://shopify/Product/303"])
  })
})
