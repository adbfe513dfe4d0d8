/**
 * The TikTok Business API client against the TikTok simulator over real HTTP on 127.0.0.1:
 * report rows in micros, ad group and campaign changes, keyword refusal, per-advertiser
 * pacing (no code-40100 answers for a burst of callers, another advertiser not held up),
 * code-40100 retries, token expiry and 5xx retries. Waits are real but short (the client's
 * delays are configured down); nothing here sleeps to synchronise.
 */
import { Effect, Redacted, type Exit } from "effect"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import { makeTikTokAdsClient, type TikTokAdsClientOptions } from "../../adapters/ads/tiktok/TikTokAdsClient.ts"
import type { AdAccount, AdObjectRef, AdPlatformClient } from "../../src/ads/AdPlatform.ts"
import { exchangesTo, jsonBody, makeClock, type SimulatedClock } from "../../src/simulator/kit/index.ts"
import { startTikTokAdsSimulator, type TikTokAdsSimulator } from "../../src/simulator/ads/tiktok/index.ts"

const ADV_A = "7100000000000000001"
const ADV_B = "7100000000000000002"
const TOKEN_A = "tt-access-token-a-0f3c"
const TOKEN_B = "tt-access-token-b-91d2"
const C1 = "1810000000000000001"
const C2 = "1810000000000000002"
const C3 = "1810000000000000003"
const C9 = "1810000000000000009"
const G1 = "1710000000000000001"
const G2 = "1710000000000000002"
const G3 = "1710000000000000003"
const G4 = "1710000000000000004"
const G9 = "1710000000000000009"
const DAY = "2026-07-14"

const accountA: AdAccount = { platform: "tiktok", accountId: ADV_A, accessToken: Redacted.make(TOKEN_A) }
const accountB: AdAccount = { platform: "tiktok", accountId: ADV_B, accessToken: Redacted.make(TOKEN_B) }

/** Fast delays so retries take milliseconds; pacing as configured per test. */
const FAST: Omit<TikTokAdsClientOptions, "baseUrl"> = { backoffBaseMs: 5, backoffMaxMs: 200, throttlePauseMs: 40, qps: 50, burst: 10 }

const run = <A, E>(effect: Effect.Effect<A, E>): Promise<A> => Effect.runPromise(effect)
const exit = <A, E>(effect: Effect.Effect<A, E>): Promise<Exit.Exit<A, E>> => Effect.runPromiseExit(effect)

/** The typed failure of an Exit (throws when it succeeded or died). */
const failureOf = <A, E>(result: Exit.Exit<A, E>): E => {
  if (result._tag === "Success") throw new Error(`expected a failure, got ${JSON.stringify(result.value)}`)
  const reason = result.cause.reasons.find((r) => r._tag === "Fail")
  if (reason === undefined || reason._tag !== "Fail") throw new Error(`expected a typed failure, got ${String(result.cause)}`)
  return reason.error
}

/** Decimal string → micros, independently of the client's own conversion. */
const micros = (amount: string): number => Math.round(Number(amount) * 1_000_000)

describe("TikTok ads client against the simulator", () => {
  let sim: TikTokAdsSimulator
  let clock: SimulatedClock
  const client = (options: Omit<TikTokAdsClientOptions, "baseUrl"> = {}): AdPlatformClient =>
    makeTikTokAdsClient({ baseUrl: sim.url, ...FAST, ...options })

  beforeEach(async () => {
    clock = makeClock()
    sim = await startTikTokAdsSimulator({
      seed: "tiktok-client-test",
      clock,
      rateLimit: { limit: 40, windowMs: 1_000 },
      advertisers: [
        {
          advertiserId: ADV_A,
          accessToken: TOKEN_A,
          currency: "USD",
          campaigns: [
            {
              campaignId: C1,
              name: "Summer sale",
              budget: 100,
              adGroups: [
                {
                  adgroupId: G1,
                  name: "Lookalikes",
                  budget: 30,
                  bidPrice: 1.25,
                  stats: { [DAY]: { spend: "12.34", impressions: 1_500, clicks: 42, conversions: 3, value: "150.50" } }
                },
                { adgroupId: G2, name: "Retargeting" }
              ]
            },
            { campaignId: C2, name: "Lifetime push", budgetMode: "BUDGET_MODE_TOTAL", budget: 1_000, adGroups: [{ adgroupId: G3, bidType: "BID_TYPE_NO_BID" }] },
            { campaignId: C3, name: "Evergreen", budget: 80, adGroups: [{ adgroupId: G4 }] }
          ]
        },
        {
          advertiserId: ADV_B,
          accessToken: TOKEN_B,
          currency: "JPY",
          campaigns: [
            {
              campaignId: C9,
              name: "Tokyo",
              budget: 10_000,
              adGroups: [{ adgroupId: G9, budget: 3_000, bidPrice: 150, stats: { [DAY]: { spend: "1234", impressions: 900, clicks: 30, conversions: 2, value: "5600" } } }]
            }
          ]
        }
      ]
    })
  })
  afterEach(() => sim.stop())

  it("answers a day's rows at campaign and ad group level, following the report's pages, amounts in micros", async () => {
    const rows = await run(client({ pageSize: 2 }).insights(accountA, DAY))

    expect(rows).toHaveLength(3 + 4)
    const g1 = rows.find((r) => r.adGroupId === G1)
    expect(g1).toEqual({
      date: DAY,
      level: "ad_group",
      campaignId: C1,
      campaignName: "Summer sale",
      adGroupId: G1,
      keywordId: null,
      keywordText: null,
      currency: "USD",
      spendMicros: 12_340_000,
      impressions: 1_500,
      clicks: 42,
      conversions: 3,
      conversionValueMicros: 150_500_000
    })
    // Seeded rows: what the simulator's report says, converted; a campaign is the sum of its ad groups.
    const g2 = sim.dayMetrics(ADV_A, "adgroup", G2, DAY)
    const c1 = rows.find((r) => r.level === "campaign" && r.campaignId === C1)
    expect(c1).toMatchObject({ campaignName: "Summer sale", adGroupId: null, spendMicros: micros(sim.dayMetrics(ADV_A, "campaign", C1, DAY)["spend"] as string) })
    expect(c1?.spendMicros).toBe(12_340_000 + micros(g2["spend"] as string))
    expect(c1?.conversionValueMicros).toBe(150_500_000 + micros(g2["total_complete_payment_rate"] as string))
    expect(rows.filter((r) => r.level === "campaign").map((r) => r.campaignId).sort()).toEqual([C1, C2, C3])

    // The wire: Access-Token header, JSON lists in the query, two pages per level, HTTP 200 throughout.
    const reports = exchangesTo(sim.log, "GET", "/open_api/v1.3/report/integrated/get/")
    expect(reports).toHaveLength(4)
    expect(reports.map((e) => [e.query["data_level"], e.query["page"]])).toEqual([
      ["AUCTION_CAMPAIGN", "1"], ["AUCTION_CAMPAIGN", "2"], ["AUCTION_ADGROUP", "1"], ["AUCTION_ADGROUP", "2"]
    ])
    expect(JSON.parse(reports[0]?.query["dimensions"] as string)).toEqual(["campaign_id", "stat_time_day"])
    expect(JSON.parse(reports[2]?.query["dimensions"] as string)).toEqual(["adgroup_id", "stat_time_day"])
    expect(reports.every((e) => e.headers["access-token"] === TOKEN_A && e.status === 200)).toBe(true)
  })

  it("converts a zero-decimal currency (JPY) to micros as well", async () => {
    const rows = await run(client().insights(accountB, DAY))
    expect(rows.find((r) => r.adGroupId === G9)).toMatchObject({ currency: "JPY", spendMicros: 1_234_000_000, conversionValueMicros: 5_600_000_000 })
    const adGroup = await run(client().getObject(accountB, { kind: "ad_group", id: G9 }))
    expect(adGroup).toMatchObject({ bidMicros: 150_000_000, dailyBudgetMicros: 3_000_000_000, currency: "JPY" })
  })

  it("pauses and enables an ad group (ENABLE/DISABLE on the wire, ENABLED/PAUSED in the contract)", async () => {
    const tiktok = client()
    const ref: AdObjectRef = { kind: "ad_group", id: G1 }
    expect(await run(tiktok.getObject(accountA, ref))).toEqual({
      ref,
      name: "Lookalikes",
      status: "ENABLED",
      bidMicros: 1_250_000,
      dailyBudgetMicros: 30_000_000,
      currency: "USD"
    })

    const paused = await run(tiktok.updateObject(accountA, ref, { status: "PAUSED" }))
    expect(paused.status).toBe("PAUSED")
    expect(sim.adGroup(ADV_A, G1)).toMatchObject({ operation_status: "DISABLE", secondary_status: "ADGROUP_STATUS_DISABLE" })
    expect(jsonBody(exchangesTo(sim.log, "POST", "/open_api/v1.3/adgroup/status/update/")[0] ?? { body: undefined })).toEqual({
      advertiser_id: ADV_A,
      adgroup_ids: [G1],
      operation_status: "DISABLE"
    })

    const enabled = await run(tiktok.updateObject(accountA, ref, { status: "ENABLED" }))
    expect(enabled.status).toBe("ENABLED")
    expect(sim.adGroup(ADV_A, G1).operation_status).toBe("ENABLE")
  })

  it("changes a campaign's daily budget and an ad group's bid, micros to decimal amounts rounded to the currency", async () => {
    const tiktok = client()
    const campaign = await run(tiktok.updateObject(accountA, { kind: "campaign", id: C1 }, { dailyBudgetMicros: 150_500_000 }))
    expect(campaign).toMatchObject({ status: "ENABLED", dailyBudgetMicros: 150_500_000, bidMicros: null })
    expect(sim.campaign(ADV_A, C1).budget).toBe(150.5)
    expect(jsonBody(exchangesTo(sim.log, "POST", "/open_api/v1.3/campaign/update/")[0] ?? { body: undefined })).toEqual({
      advertiser_id: ADV_A,
      campaign_id: C1,
      budget: 150.5
    })

    const adGroup = await run(tiktok.updateObject(accountA, { kind: "ad_group", id: G1 }, { bidMicros: 1_756_789, status: "PAUSED" }))
    expect(adGroup).toMatchObject({ bidMicros: 1_760_000, status: "PAUSED" }) // cents: 1.756789 → 1.76
    expect(sim.adGroup(ADV_A, G1)).toMatchObject({ bid_price: 1.76, operation_status: "DISABLE" })
  })

  it("reads what TikTok has now, and passes TikTok's and its own refusals on as AdRejected", async () => {
    const tiktok = client()
    sim.setAdGroup(ADV_A, G1, { bidPrice: 2.5, status: "DISABLE" }) // changed in the UI, behind the client's back
    expect(await run(tiktok.getObject(accountA, { kind: "ad_group", id: G1 }))).toMatchObject({ status: "PAUSED", bidMicros: 2_500_000 })
    sim.setCampaign(ADV_A, C3, { status: "DELETE" })
    expect(await run(tiktok.getObject(accountA, { kind: "campaign", id: C3 }))).toMatchObject({ status: "REMOVED" })

    // TikTok's own validation (code 40002): a daily budget under the minimum.
    const tooLow = failureOf(await exit(tiktok.updateObject(accountA, { kind: "campaign", id: C1 }, { dailyBudgetMicros: 10_000_000 })))
    expect(tooLow).toMatchObject({ _tag: "AdRejected", platform: "tiktok", accountId: ADV_A, code: "40002" })
    expect(sim.campaign(ADV_A, C1).budget).toBe(100)

    // What TikTok's model cannot express is refused before anything is sent.
    const posts = () => sim.log.count((e) => e.method === "POST")
    const before = posts()
    expect(failureOf(await exit(tiktok.updateObject(accountA, { kind: "campaign", id: C2 }, { dailyBudgetMicros: 60_000_000 })))).toMatchObject({
      _tag: "AdRejected",
      code: "NOT_DAILY_BUDGET"
    })
    expect(failureOf(await exit(tiktok.updateObject(accountA, { kind: "ad_group", id: G3 }, { bidMicros: 1_000_000 })))).toMatchObject({
      _tag: "AdRejected",
      code: "NO_CUSTOM_BID"
    })
    expect(failureOf(await exit(tiktok.getObject(accountA, { kind: "campaign", id: "1819999999999999999" })))).toMatchObject({ _tag: "AdRejected", code: "NOT_FOUND" })
    expect(posts()).toBe(before)
  })

  it("answers AdUnsupported for keywords without calling TikTok", async () => {
    const tiktok = client()
    const ref: AdObjectRef = { kind: "keyword", id: "kw-1", adGroupId: G1 }
    expect(failureOf(await exit(tiktok.getObject(accountA, ref)))).toMatchObject({ _tag: "AdUnsupported", platform: "tiktok" })
    expect(failureOf(await exit(tiktok.updateObject(accountA, ref, { status: "PAUSED" })))).toMatchObject({ _tag: "AdUnsupported" })
    expect(sim.log.length).toBe(0)
  })

  it("paces 50 concurrent callers of one advertiser so TikTok answers no 40100, and another advertiser is not held up", async () => {
    // Control: the same burst without the client's bucket is throttled by the simulator (40 per second).
    const raw = await Promise.all(Array.from({ length: 50 }, () =>
      fetch(`${sim.url}/open_api/v1.3/campaign/get/?advertiser_id=${ADV_A}`, { headers: { "Access-Token": TOKEN_A } }).then((r) => r.json() as Promise<{ code: number }>)
    ))
    expect(raw.filter((r) => r.code === 40100).length).toBeGreaterThan(0)
    expect(raw.every((r) => r.code === 0 || r.code === 40100)).toBe(true)
    clock.advance(60_000) // the simulator's window forgets the control burst
    const mark = sim.requests.total

    // 20 calls/s after a burst of 5: at most 25 in any second, under TikTok's 40.
    const tiktok = client({ qps: 20, burst: 5 })
    const refs: ReadonlyArray<AdObjectRef> = [{ kind: "campaign", id: C1 }, { kind: "ad_group", id: G1 }, { kind: "ad_group", id: G2 }, { kind: "campaign", id: C3 }]
    const many = run(Effect.forEach(Array.from({ length: 50 }, (_, i) => refs[i % refs.length] as AdObjectRef), (ref) => tiktok.getObject(accountA, ref), { concurrency: "unbounded" }))

    const other = await run(tiktok.getObject(accountB, { kind: "campaign", id: C9 }))
    expect(other).toMatchObject({ name: "Tokyo", currency: "JPY" })
    const aSoFar = sim.requests.since(mark).filter((r) => r.advertiserId === ADV_A).length
    expect(aSoFar).toBeLessThan(25) // B was served while A's callers were still queued

    const results = await many
    expect(results).toHaveLength(50)
    const mine = sim.requests.since(mark)
    const ofA = mine.filter((r) => r.advertiserId === ADV_A)
    expect(ofA).toHaveLength(51) // one advertiser/info, shared by all callers, then 50 reads
    expect(ofA.filter((r) => r.path === "/advertiser/info/")).toHaveLength(1)
    expect(sim.countCode(40100, ADV_A) - raw.filter((r) => r.code === 40100).length).toBe(0)
    expect(mine.filter((r) => r.code !== 0)).toEqual([])
    // They were paced: 46 calls beyond the burst at 20 per second take at least 2.3 s.
    expect((ofA.at(-1)?.at ?? 0) - (ofA[0]?.at ?? 0)).toBeGreaterThanOrEqual(2_200)
  })

  it("retries an HTTP 200 with code 40100 after holding the advertiser's bucket, and succeeds", async () => {
    const tiktok = client({ throttlePauseMs: 40 })
    await run(tiktok.getObject(accountA, { kind: "campaign", id: C1 })) // currency known
    const mark = sim.requests.total
    sim.throttleNext(2, { advertiserId: ADV_A, path: "/campaign/get/" })

    const campaign = await run(tiktok.getObject(accountA, { kind: "campaign", id: C1 }))

    expect(campaign.name).toBe("Summer sale")
    const calls = sim.requests.since(mark)
    expect(calls.map((r) => r.code)).toEqual([40100, 40100, 0])
    expect(sim.log.entries.slice(-3).map((e) => e.status)).toEqual([200, 200, 200])
    // Holds of at least 20 ms then 40 ms (equal jitter over 40 ms, then 80 ms).
    expect((calls[1]?.at ?? 0) - (calls[0]?.at ?? 0)).toBeGreaterThanOrEqual(20)
    expect((calls[2]?.at ?? 0) - (calls[1]?.at ?? 0)).toBeGreaterThanOrEqual(40)
  })

  it("gives up on code 40100 after the bounded retries with AdThrottled (signal code 40100)", async () => {
    const tiktok = client({ maxThrottledRetries: 2 })
    sim.throttleNext(3, { advertiserId: ADV_A })

    const error = failureOf(await exit(tiktok.getObject(accountA, { kind: "campaign", id: C1 })))

    expect(error).toMatchObject({ _tag: "AdThrottled", platform: "tiktok", accountId: ADV_A, signal: "code 40100" })
    expect((error as { retryAfterMs: number }).retryAfterMs).toBeGreaterThan(0)
    expect(sim.countCode(40100, ADV_A)).toBe(3)
  })

  it("fails with AdAuthExpired once the token expired, without retrying and without leaking the token", async () => {
    const tiktok = client()
    await run(tiktok.getObject(accountA, { kind: "campaign", id: C1 }))
    sim.expireToken(ADV_A)
    const mark = sim.requests.total

    const error = failureOf(await exit(tiktok.updateObject(accountA, { kind: "ad_group", id: G1 }, { status: "PAUSED" })))

    expect(error).toMatchObject({ _tag: "AdAuthExpired", platform: "tiktok", accountId: ADV_A })
    expect(sim.requests.since(mark).map((r) => r.code)).toEqual([40105])
    expect(JSON.stringify(error)).not.toContain(TOKEN_A)
    expect(String((error as { message: string }).message)).toContain("40105")
    expect(sim.adGroup(ADV_A, G1).operation_status).toBe("ENABLE")
    // Another advertiser's token still works.
    expect(await run(tiktok.getObject(accountB, { kind: "campaign", id: C9 }))).toMatchObject({ status: "ENABLED" })
  })

  it("retries 5xx, TikTok's 50000 and dropped connections, then ends with AdUnavailable when they persist", async () => {
    const tiktok = client({ maxUnavailableRetries: 3 })
    await run(tiktok.getObject(accountA, { kind: "campaign", id: C1 }))
    const path = "/open_api/v1.3/campaign/get/"

    sim.faults.failNext(503, { count: 1, match: { path } }).dropNext({ match: { path } })
    sim.codeNext(50000, { match: { path: "/campaign/get/" } })
    const mark = sim.log.total
    expect(await run(tiktok.getObject(accountA, { kind: "campaign", id: C1 }))).toMatchObject({ name: "Summer sale" })
    expect(sim.log.since(mark).map((e) => [e.outcome, e.status])).toEqual([["fault", 503], ["dropped", undefined], ["answered", 200], ["answered", 200]])

    sim.faults.failNext(502, { count: 10, match: { path } })
    const error = failureOf(await exit(tiktok.getObject(accountA, { kind: "campaign", id: C1 })))
    expect(error).toMatchObject({ _tag: "AdUnavailable", platform: "tiktok", accountId: ADV_A })
    expect(sim.log.since(mark).filter((e) => e.status === 502)).toHaveLength(4) // 1 + 3 retries
  })
})
