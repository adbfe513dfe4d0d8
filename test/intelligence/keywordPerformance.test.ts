/**
 * The keyword detectors end to end (issue 13 §3): daily insights reports with keyword rows go
 * through the shop log to the shop's actor, are recorded as `ad_insight.recorded`, and a keyword
 * whose ROAS over the last 7 days falls far below the account's other keywords starts an
 * `ads.keyword_underperforming` episode — its trigger names the keyword by its criterion id (what
 * `pause_ad_keyword` addresses) with its ad group, and fires a rule. Reported once: the next days,
 * still bad, emit nothing more — the next trigger is another keyword's over-performing episode.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { encodeShopMessage } from "../../domain/messages/ShopMessages.ts"
import { ShopLog } from "../../src/shoplog/ShopLog.ts"
import { type AdminApi, type AdminServer, sessionFor, startAdminApi } from "../support/adminApi.ts"

const SHOP = "keywords.myshopify.com"
let api: AdminApi
let server: AdminServer
const owner = () => sessionFor(SHOP, "owner-1")
const day = (i: number) => new Date(Date.UTC(2026, 10, 1 + i)).toISOString().slice(0, 10)
/** Six keywords at ROAS 3.6 … 4.6 (10 spent, 10 clicks a day); on `badFrom`, kw-6 spends 200 for nothing. */
const ROAS = [3.6, 3.8, 4.0, 4.2, 4.4, 4.6]

const report = (i: number, badFrom: number) =>
  api.run(ShopLog.use((l) =>
    l.publish({
      shop: SHOP, messageId: `kw-report-${i}`, correlationId: `kw-report-${i}`,
      ...encodeShopMessage({
        type: "ads.insights_report",
        payload: {
          platform: "google", accountId: "1234567890", date: day(i),
          outcome: {
            ok: true,
            campaigns: [{ campaignId: "c-1", campaignName: "Search", currency: "EUR", spendMicros: 60_000_000, impressions: 6000, clicks: 60, conversions: 6, conversionValueMicros: 240_000_000 }],
            keywords: ROAS.map((roas, k) => {
              const bad = k === 5 && i >= badFrom
              // day 10: kw-1 brings in 1,000 for its 10 — it stands out the other way
              const boost = k === 0 && i === 10
              return {
                campaignId: "c-1", adGroupId: "ag-1", keywordId: `kw-${k + 1}`, keywordText: `winter boots ${k + 1}`, currency: "EUR",
                spendMicros: (bad ? 200 : 10) * 1_000_000, impressions: 500, clicks: 10, conversions: bad ? 0 : 1, conversionValueMicros: bad ? 0 : boost ? 1_000_000_000 : Math.round(roas * 10 * 1_000_000)
              }
            })
          }
        }
      })
    })))

const keywordTriggers = async () => (await api.receivedTriggers(SHOP)).filter((t) => t.event.startsWith("ads.keyword_"))

beforeAll(async () => {
  api = await startAdminApi({ knownShops: [SHOP], automationActors: true })
  server = await api.serveAdmin()
  await api.setMember(SHOP, "owner-1", "owner")
})

afterAll(async () => {
  await api?.close()
})

describe("ads.keyword_underperforming", () => {
  it("a keyword whose ROAS collapses against the account's others starts one episode, and a rule fires on it", async () => {
    const ruleId = await api.parkingRule(server, owner(), "Keywords burning money", "ads.keyword_underperforming")
    for (let i = 0; i < 7; i++) await report(i, 7)
    await report(7, 7) // kw-6 spends 200 for nothing
    await report(8, 7) // and again: the same episode
    await report(9, 99) // a day of the old normal … the 7-day window still holds the bad days
    await report(10, 7) // kw-1 shines: an over-performing episode, emitted after everything above
    await api.awaitEvents([`triggers-${SHOP}`], (events) => events.some((e) => JSON.stringify(e.data).includes("ads.keyword_overperforming")))
    await api.awaitProjections()
    const triggers = await keywordTriggers()
    const emitted = triggers
    expect(emitted.map((t) => [t.event, t.resources.map((r) => r.resourceId)])).toEqual([
      ["ads.keyword_underperforming", ["kw-6"]],
      ["ads.keyword_overperforming", ["kw-1"]]
    ])
    expect(emitted[0]!.resources[0]!.payload).toMatchObject({ keyword: "winter boots 6", campaignId: "c-1", adGroupId: "ag-1", accountId: "1234567890", metric: "roas" })
    expect(emitted[0]!.resources[0]!.payload["zScore"]).toBeLessThan(-2)
    expect(await api.executionStatuses(server, owner(), ruleId)).toEqual([["kw-6", "awaiting_approval"]])
  })
})
