/**
 * The spend-anomaly detector end to end (issue 13 §3): daily insights reports of an ad account go
 * through the shop log to the shop's actor (as the daily pull reports them), are recorded as
 * `ad_spend.recorded`, and a day whose spend is far from the campaign's trailing baseline emits
 * `ads.spend_anomaly` — which fires a rule of the decision plane. Once per episode: the next
 * anomalous day of the same campaign, and the same report handled again, emit nothing more.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { encodeShopMessage } from "../../domain/messages/ShopMessages.ts"
import { ShopLog } from "../../src/shoplog/ShopLog.ts"
import { type AdminApi, type AdminServer, sessionFor, startAdminApi } from "../support/adminApi.ts"

const SHOP = "spend.myshopify.com"
let api: AdminApi
let server: AdminServer
const owner = () => sessionFor(SHOP, "owner-1")

const day = (i: number) => new Date(Date.UTC(2026, 10, 1 + i)).toISOString().slice(0, 10)
/** A steady ~100/day with a little noise (deterministic), so the baseline has a spread. */
const steady = (i: number) => 100 + ((i * 7) % 5) - 2

const report = (i: number, spend: number, messageId = `report-${i}`) =>
  api.run(ShopLog.use((l) =>
    l.publish({
      shop: SHOP, messageId, correlationId: messageId,
      ...encodeShopMessage({
        type: "ads.insights_report",
        payload: {
          platform: "google", accountId: "1234567890", date: day(i),
          outcome: { ok: true, campaigns: [
            { campaignId: "c-1", campaignName: "Winter sale", currency: "EUR", spendMicros: spend * 1_000_000, impressions: 1000, clicks: 50, conversions: 2, conversionValueMicros: 200_000_000 },
            { campaignId: "c-2", campaignName: "Brand", currency: "EUR", spendMicros: steady(i + 3) * 1_000_000, impressions: 900, clicks: 40, conversions: 1, conversionValueMicros: 90_000_000 }
          ] }
        }
      })
    })))

const anomalyTriggers = async () => (await api.receivedTriggers(SHOP)).filter((t) => t.event === "ads.spend_anomaly")

beforeAll(async () => {
  api = await startAdminApi({ knownShops: [SHOP], automationActors: true })
  server = await api.serveAdmin()
  await api.setMember(SHOP, "owner-1", "owner")
})

afterAll(async () => {
  await api?.close()
})

describe("ads.spend_anomaly", () => {
  it("a spike against 28 days of steady spend fires a rule once per episode; a steady campaign never", async () => {
    const ruleId = await api.parkingRule(server, owner(), "Spend spikes", "ads.spend_anomaly", "resource.payload.zScore >= 3.0")
    for (let i = 0; i < 28; i++) await report(i, steady(i))
    await api.awaitEvents([`external-${SHOP}-ad_spend`], (events) => events.length >= 56)
    expect(await anomalyTriggers()).toHaveLength(0)
    // day 28: campaign c-1 spends three times its baseline
    await report(28, 300)
    await api.awaitEvents([`triggers-${SHOP}`], (events) => events.some((e) => JSON.stringify(e.data).includes("ads.spend_anomaly")))
    const [trigger] = await anomalyTriggers()
    const emitted = trigger!
    expect(emitted.date).toBe(day(28))
    expect(emitted.resources.map((r) => r.resourceId)).toEqual(["c-1"])
    expect(emitted.resources[0]!.payload.spend).toBe(300)
    expect(emitted.resources[0]!.payload.baselineMean).toBeCloseTo(100, 0)
    expect(emitted.resources[0]!.payload.zScore).toBeGreaterThan(3)
    await api.awaitProjections()
    expect(await api.executionStatuses(server, owner(), ruleId)).toEqual([["c-1", "awaiting_approval"]])
    // the same report again (a redelivery), and the next day still high: the same episode
    await report(28, 300, "report-28-again")
    await report(29, 310)
    await api.awaitEvents([`external-${SHOP}-ad_spend`], (events) => events.length >= 60)
    // back to normal, then a new spike: a new episode, the second trigger — none came in between
    await report(30, steady(30))
    await report(31, 600)
    await api.awaitEvents([`triggers-${SHOP}`], (events) => events.filter((e) => JSON.stringify(e.data).includes("ads.spend_anomaly")).length >= 2)
    const dates = (await anomalyTriggers()).map((t) => t["date"])
    expect(dates).toEqual([day(28), day(31)])
    // the merchant's list: newest first
    const listed = await api.call(server, "GET", "/app/ads/anomalies", owner())
    expect(listed.status, listed.text).toBe(200)
    expect(listed.json.anomalies.map((a: { event: string; date: string; platform: string }) => [a.event, a.platform, a.date])).toEqual([
      ["ads.spend_anomaly", "google", day(31)],
      ["ads.spend_anomaly", "google", day(28)]
    ])
    expect(listed.json.anomalies[1].resources[0]).toMatchObject({ resourceType: "campaign", resourceId: "c-1", payload: { spend: 300 } })
  })
})
