/**
 * The ad actions (issue 12 §2) run by rules against the Google Ads simulator, over the admin API
 * with the shop actors: an ad account connected through the shop's actor (its token sealed, never
 * in an event in clear); `pause_ad_keyword`, `adjust_keyword_bid` (percent, cap, whole cents) and
 * `cap_campaign_budget` change the simulated account; each undo restores it, and refuses
 * `changed_since` when the object was changed on the platform since.
 */
import { Effect, Stream } from "effect"
import { SqlClient } from "effect/sql"
import { encodeShopMessage } from "../../domain/messages/ShopMessages.ts"
import { ShopLog } from "../../src/shoplog/ShopLog.ts"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import * as AdPlatformsLive from "../../adapters/ads/AdPlatformsLive.ts"
import { submitAdAccountChange } from "../../src/ads/AdAccounts.ts"
import { EventStore } from "../../src/eventstore/EventStore.ts"
import { type GoogleAdsSimulator, startGoogleAdsSimulator } from "../../src/simulator/ads/google/index.ts"
import { type AdminApi, type AdminServer, sessionFor, startAdminApi } from "../support/adminApi.ts"

const SHOP = "ads.myshopify.com"
const CUSTOMER = "1234567890"
const TOKEN = "ya29.ads-secret-token"
const ops = () => sessionFor(SHOP, "ops-1")

describe.each(["embedded", "jetstream"] as const)("ad actions (%s shop log)", (log) => {
let sim: GoogleAdsSimulator
let api: AdminApi
let server: AdminServer

beforeAll(async () => {
  sim = await startGoogleAdsSimulator({
    accounts: [{
      customerId: CUSTOMER, accessToken: TOKEN, currency: "EUR",
      campaigns: [{
        id: "111", name: "Winter", dailyBudgetMicros: 50_000_000,
        adGroups: [{ id: "222", name: "Boots", cpcBidMicros: 800_000, keywords: [{ criterionId: "333", text: "winter boots", cpcBidMicros: 1_000_000 }, { criterionId: "334", text: "snow boots", cpcBidMicros: 1_200_000 }] }]
      }]
    }]
  })
  api = await startAdminApi({
    knownShops: [SHOP],
    log,
    automationActors: true,
    adPlatforms: AdPlatformsLive.layerOptions({ google: { baseUrl: sim.url, apiVersion: "v26" }, meta: { baseUrl: sim.url, apiVersion: "v25.0" }, tiktok: { baseUrl: sim.url } })
  })
  server = await api.serveAdmin({ defaultRole: "viewer" })
  await api.setMember(SHOP, "ops-1", "operator")
  await api.onProPlan(SHOP)
  expect(await api.run(submitAdAccountChange(SHOP, { type: "connect", platform: "google", accountId: CUSTOMER, credentials: { accessToken: TOKEN } }, "ops-1"))).toEqual({ _tag: "Done" })
})

afterAll(async () => {
  await api?.close()
  await sim?.stop()
})

const rule = async (trigger: string, action: string, params: Record<string, unknown>) => {
  const res = await api.call(server, "POST", "/app/rules", ops(), { name: `${action} rule`, trigger_event: trigger, action_key: action, params, enabled: true })
  expect(res.status, res.text).toBe(201)
  return res.json.rule.id as string
}

const fire = async (ruleId: string, trigger: string, body: Record<string, unknown>) => {
  const res = await api.call(server, "POST", `/app/triggers/${trigger}/emit`, ops(), body)
  expect(res.status, res.text).toBe(202)
  const id = `${res.json.trigger_id}_${ruleId}_0`
  await api.awaitEvents([`autoaction-${SHOP}-${id}`], (events) => events.some((e) => e.type === "autoaction.applied" || e.type === "autoaction.failed"))
  await api.awaitProjections()
  return (await api.call(server, "GET", `/app/executions/${encodeURIComponent(id)}`, ops())).json.execution
}

const keywordTrigger = (criterionId: string, text: string) => ({
  platform: "google",
  resources: [{ resourceType: "keyword", resourceId: criterionId, payload: { keyword: text, campaignId: "111", adGroupId: "222", metric: "roas", value: 0.4, zScore: -3.1 } }]
})

describe("against the Google Ads simulator", () => {
  it("the account's token is sealed: no event holds it in clear", async () => {
    const events = await api.run(Effect.flatMap(EventStore, (store) => Stream.runCollect(store.readStream(`ad-accounts-${SHOP}`))))
    expect([...events].map((e) => e.type)).toEqual(["ad_account.connected"])
    expect(JSON.stringify([...events])).not.toContain(TOKEN)
  })

  it("pause_ad_keyword pauses the keyword; undo enables it; a keyword changed since is changed_since", async () => {
    const id = await rule("ads.keyword_underperforming", "pause_ad_keyword", {})
    const paused = await fire(id, "ads.keyword_underperforming", keywordTrigger("333", "winter boots"))
    expect([paused.status, paused.detail]).toEqual(["applied", "paused keyword winter boots"])
    expect(sim.account(CUSTOMER).keyword("222", "333").status).toBe("PAUSED")
    const undone = await api.call(server, "POST", `/app/executions/${encodeURIComponent(paused.id)}/undo`, ops())
    expect([undone.status, undone.json.status], undone.text).toEqual([200, "undone"])
    expect(sim.account(CUSTOMER).keyword("222", "333").status).toBe("ENABLED")

    const again = await fire(id, "ads.keyword_underperforming", keywordTrigger("334", "snow boots"))
    sim.account(CUSTOMER).setKeyword("222", "334", { status: "ENABLED" }) // the merchant turned it back on in Google Ads
    const refused = await api.call(server, "POST", `/app/executions/${encodeURIComponent(again.id)}/undo`, ops())
    expect([refused.status, refused.json.error.code]).toEqual([409, "changed_since"])
  })

  it("adjust_keyword_bid raises the bid by the percent up to the cap; undo restores it", async () => {
    const id = await rule("ads.keyword_overperforming", "adjust_keyword_bid", { percent: 50, cap: 1.4 })
    const adjusted = await fire(id, "ads.keyword_overperforming", keywordTrigger("333", "winter boots"))
    expect(adjusted.status, adjusted.detail).toBe("applied")
    expect(sim.account(CUSTOMER).keyword("222", "333").cpcBidMicros).toBe(1_400_000) // 1.00 × 1.5 = 1.50, capped at 1.40
    expect(adjusted.detail).toBe("changed keyword winter boots's bid from 1.00 EUR to 1.40 EUR")
    const undone = await api.call(server, "POST", `/app/executions/${encodeURIComponent(adjusted.id)}/undo`, ops())
    expect(undone.json.status, undone.text).toBe("undone")
    expect(sim.account(CUSTOMER).keyword("222", "333").cpcBidMicros).toBe(1_000_000)
  })

  it("cap_campaign_budget lowers an anomalous campaign's budget to the cap (never raises it); undo restores it", async () => {
    const id = await rule("ads.spend_anomaly", "cap_campaign_budget", { cap: 20 })
    const spend = { platform: "google", date: "2026-12-05", resources: [{ resourceType: "campaign", resourceId: "111", payload: { spend: 180, baselineMean: 45, baselineStd: 10, zScore: 13.5 } }] }
    const capped = await fire(id, "ads.spend_anomaly", spend)
    expect(capped.detail).toBe("capped campaign Winter's daily budget from 50.00 EUR to 20.00 EUR")
    expect(sim.account(CUSTOMER).campaign("111").dailyBudgetMicros).toBe(20_000_000)
    const undone = await api.call(server, "POST", `/app/executions/${encodeURIComponent(capped.id)}/undo`, ops())
    expect(undone.json.status, undone.text).toBe("undone")
    expect(sim.account(CUSTOMER).campaign("111").dailyBudgetMicros).toBe(50_000_000)
  })

  it("the daily insights pull records each campaign's day as ad_spend.recorded (once) and emits ads.daily_insights_complete", async () => {
    const timers = await api.run(Effect.flatMap(SqlClient.SqlClient, (sql) => sql<{ id: string; due_at: Date }>`SELECT id, due_at FROM scheduled_messages WHERE shop = ${SHOP} AND id LIKE 'ads.insights:%'`))
    expect(timers.map((t) => t.id)).toEqual([`ads.insights:google:${CUSTOMER}`])
    expect(new Date(timers[0]!.due_at).getUTCHours()).toBe(4)
    await api.run(Effect.flatMap(ShopLog, (log) => log.publish({ shop: SHOP, messageId: "pull-1", ...encodeShopMessage({ type: "ads.insights_pull", payload: { platform: "google", accountId: CUSTOMER, date: "2026-12-05" } }) })))
    await api.awaitEvents([`external-${SHOP}-ad_spend`, `triggers-${SHOP}`], (events) => events.some((e) => e.type === "trigger.received" && (e.data as { trigger: { event: string } }).trigger.event === "ads.daily_insights_complete"))
    const expected = sim.account(CUSTOMER).metrics("2026-12-05")
    const spend = (await api.run(Effect.flatMap(EventStore, (store) => Stream.runCollect(store.readStream(`external-${SHOP}-ad_spend`))))).map((e) => e.data as Record<string, unknown>)
    expect(spend).toHaveLength(1)
    expect(spend[0]).toMatchObject({ type: "ad_spend", platform: "google", account_id: CUSTOMER, campaign_id: "111", campaign_name: "Winter", date: "2026-12-05", currency: "EUR" })
    expect(Number(spend[0]!["spend"])).toBeCloseTo(expected.campaigns.get("111")!.costMicros / 1_000_000, 2)
    // the same day reported again records nothing twice (the shop's actor handles messages in order:
    // once a trigger published after the report is recorded, the report was handled)
    const metrics = expected.campaigns.get("111")!
    await api.run(Effect.flatMap(ShopLog, (log) => log.publish({
      shop: SHOP, messageId: "report-again",
      ...encodeShopMessage({ type: "ads.insights_report", payload: { platform: "google", accountId: CUSTOMER, date: "2026-12-05", outcome: { ok: true, campaigns: [{ campaignId: "111", campaignName: "Winter", currency: "EUR", spendMicros: metrics.costMicros, impressions: metrics.impressions, clicks: metrics.clicks, conversions: metrics.conversions, conversionValueMicros: 0 }] } } })
    })))
    const marker = await api.call(server, "POST", "/app/triggers/ads.keyword_underperforming/emit", ops(), keywordTrigger("999", "marker"))
    await api.awaitEvents([`triggers-${SHOP}`], (events) => events.some((e) => (e.data as { triggerId?: string }).triggerId === marker.json.trigger_id))
    const again = await api.run(Effect.flatMap(EventStore, (store) => Stream.runCollect(store.readStream(`external-${SHOP}-ad_spend`))))
    expect([...again]).toHaveLength(1)
  })

  it("a disconnected account's credentials are shredded; it can be connected again", async () => {
    expect(await api.run(submitAdAccountChange(SHOP, { type: "disconnect", platform: "google", accountId: CUSTOMER }, "ops-1"))).toEqual({ _tag: "Done" })
    expect(await api.run(submitAdAccountChange(SHOP, { type: "connect", platform: "google", accountId: CUSTOMER, credentials: { accessToken: TOKEN } }, "ops-1"))).toEqual({ _tag: "Done" })
  })

  it("without a connected account on the platform, the execution fails saying so", async () => {
    const id = await rule("ads.spend_anomaly", "cap_campaign_budget", { cap: 20 })
    const failed = await fire(id, "ads.spend_anomaly", { platform: "meta", date: "2026-12-05", resources: [{ resourceType: "campaign", resourceId: "9", payload: { spend: 1, baselineMean: 1, baselineStd: 1, zScore: 1 } }] })
    expect([failed.status, failed.reason]).toEqual(["failed", "no_account"])
    expect(failed.detail).toBe("no meta account is connected (sumeru ads connect)")
  })
})
})
