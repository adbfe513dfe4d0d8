/**
 * The ad actions through rules on Meta and TikTok (issue 12 §2), each against its simulator:
 * `cap_campaign_budget` lowers the campaign's daily budget to the cap through the shop's
 * connected account on the trigger's platform, and undo restores it (Google: `adActions.test.ts`).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import * as AdPlatformsLive from "../../adapters/ads/AdPlatformsLive.ts"
import { submitAdAccountChange } from "../../src/ads/AdAccounts.ts"
import { type MetaAdsSimulator, startMetaAdsSimulator } from "../../src/simulator/ads/meta/index.ts"
import { startTikTokAdsSimulator, type TikTokAdsSimulator } from "../../src/simulator/ads/tiktok/index.ts"
import { type AdminApi, type AdminServer, sessionFor, startAdminApi } from "../support/adminApi.ts"

const SHOP = "ads-platforms.myshopify.com"
const ops = () => sessionFor(SHOP, "ops-1")

let meta: MetaAdsSimulator
let tiktok: TikTokAdsSimulator
let api: AdminApi
let server: AdminServer
let ruleId: string

beforeAll(async () => {
  meta = await startMetaAdsSimulator({
    accounts: [{ adAccountId: "777000", accessToken: "meta-token", currency: "USD", campaigns: [{ id: "6001", name: "Meta winter", dailyBudget: 5000, adSets: [{ name: "Boots", dailyBudget: null }] }] }]
  })
  tiktok = await startTikTokAdsSimulator({
    advertisers: [{ advertiserId: "888000", accessToken: "tiktok-token", currency: "USD", campaigns: [{ campaignId: "7001", name: "TikTok winter", budget: 100, adGroups: [{ adgroupId: "7101" }] }] }]
  })
  api = await startAdminApi({
    knownShops: [SHOP],
    automationActors: true,
    adPlatforms: AdPlatformsLive.layerOptions({ google: { baseUrl: meta.url, apiVersion: "v26" }, meta: { baseUrl: meta.url, apiVersion: "v25.0" }, tiktok: { baseUrl: tiktok.url } })
  })
  server = await api.serveAdmin({ defaultRole: "viewer" })
  await api.setMember(SHOP, "ops-1", "operator")
  await api.onProPlan(SHOP)
  for (const [platform, accountId, token] of [["meta", "777000", "meta-token"], ["tiktok", "888000", "tiktok-token"]] as const) {
    expect(await api.run(submitAdAccountChange(SHOP, { type: "connect", platform, accountId, credentials: { accessToken: token } }, "ops-1"))).toEqual({ _tag: "Done" })
  }
  const rule = await api.call(server, "POST", "/app/rules", ops(), { name: "Cap runaway spend", trigger_event: "ads.spend_anomaly", action_key: "cap_campaign_budget", params: { cap: 20 }, enabled: true })
  expect(rule.status, rule.text).toBe(201)
  ruleId = rule.json.rule.id
})

afterAll(async () => {
  await api?.close()
  await meta?.stop()
  await tiktok?.stop()
})

const anomaly = async (platform: string, campaignId: string) => {
  const res = await api.call(server, "POST", "/app/triggers/ads.spend_anomaly/emit", ops(), {
    platform, date: "2026-12-05", resources: [{ resourceType: "campaign", resourceId: campaignId, payload: { spend: 300, baselineMean: 60, baselineStd: 15, zScore: 16 } }]
  })
  expect(res.status, res.text).toBe(202)
  const id = `${res.json.trigger_id}_${ruleId}_0`
  await api.awaitEvents([`autoaction-${SHOP}-${id}`], (events) => events.some((e) => e.type === "autoaction.applied" || e.type === "autoaction.failed"))
  await api.awaitProjections()
  return (await api.call(server, "GET", `/app/executions/${encodeURIComponent(id)}`, ops())).json.execution
}

describe("cap_campaign_budget on Meta and TikTok", () => {
  it("Meta: the campaign's daily budget (cents on the wire) goes down to the cap; undo restores it", async () => {
    const capped = await anomaly("meta", "6001")
    expect([capped.status, capped.detail]).toEqual(["applied", "capped campaign Meta winter's daily budget from 50.00 USD to 20.00 USD"])
    expect(meta.object("6001").dailyBudget).toBe(2000)
    const undone = await api.call(server, "POST", `/app/executions/${encodeURIComponent(capped.id)}/undo`, ops())
    expect(undone.json.status, undone.text).toBe("undone")
    expect(meta.object("6001").dailyBudget).toBe(5000)
  })

  it("TikTok: below the platform's minimum the execution fails with TikTok's words; above it the budget goes down to the cap; undo restores it", async () => {
    const refused = await anomaly("tiktok", "7001")
    expect(refused.status).toBe("failed")
    expect(refused.detail).toContain("The daily budget must be at least 50 USD")
    expect(tiktok.campaign("888000", "7001").budget).toBe(100)
    const patched = await api.call(server, "PATCH", `/app/rules/${ruleId}`, ops(), { params: { cap: 60 } })
    expect(patched.status, patched.text).toBe(200)
    const capped = await anomaly("tiktok", "7001")
    expect([capped.status, capped.detail]).toEqual(["applied", "capped campaign TikTok winter's daily budget from 100.00 USD to 60.00 USD"])
    expect(tiktok.campaign("888000", "7001").budget).toBe(60)
    const undone = await api.call(server, "POST", `/app/executions/${encodeURIComponent(capped.id)}/undo`, ops())
    expect(undone.json.status, undone.text).toBe("undone")
    expect(tiktok.campaign("888000", "7001").budget).toBe(100)
  })
})
