/**
 * The Meta Marketing API client (`adapters/ads/meta/MetaAdsClient.ts`) against the Meta
 * simulator over real HTTP on 127.0.0.1. Time is virtual: the simulator's clock is fixed and
 * every `Effect.sleep` of the client moves it by exactly the slept amount, so waits for
 * regained access take no wall-clock time and are asserted to the millisecond.
 */
import { afterEach, describe, expect, it } from "vitest"
import { Clock, Duration, Effect, Exit, Random, Redacted } from "effect"
import { makeMetaAdsClient, type MetaAdsClientOptions } from "../../adapters/ads/meta/MetaAdsClient.ts"
import type { AdAccount, AdError, AdPlatformClient } from "../../src/ads/AdPlatform.ts"
import { fixedClock, type SimulatedClock } from "../../src/simulator/kit/index.ts"
import { startMetaAdsSimulator, type MetaAdsSimulator, type MetaAdsSimulatorOptions } from "../../src/simulator/ads/meta/index.ts"

const DAY = "2026-07-14" // the simulator's clock stands at 2026-07-15T12:00Z
const USD = "1000001"
const JPY = "2000002"
const TOKEN_USD = "EAAB-usd-token"
const TOKEN_JPY = "EAAB-jpy-token"

const accountUsd: AdAccount = { platform: "meta", accountId: USD, accessToken: Redacted.make(TOKEN_USD) }
const accountJpy: AdAccount = { platform: "meta", accountId: JPY, accessToken: Redacted.make(TOKEN_JPY) }

// Object ids are fixed so the tests can name them.
const PROSPECTING = "120200000000000101"
const BROAD = "120200000000000111"
const LOOKALIKE = "120200000000000112"
const RETARGETING = "120200000000000201"
const CART = "120200000000000211"
const JP_CAMPAIGN = "120200000000000301"
const JP_ADSET = "120200000000000311"

const WORLD: MetaAdsSimulatorOptions["accounts"] = [
  {
    adAccountId: USD,
    accessToken: TOKEN_USD,
    currency: "USD",
    campaigns: [
      {
        id: PROSPECTING,
        name: "Prospecting",
        adSets: [
          { id: BROAD, name: "Broad", dailyBudget: 5000, bidAmount: 150 },
          { id: LOOKALIKE, name: "Lookalike 1%", dailyBudget: 3000 }
        ]
      },
      // Campaign budget (CBO): the ad set holds none.
      { id: RETARGETING, name: "Retargeting", dailyBudget: 10_000, adSets: [{ id: CART, name: "Cart abandoners" }] }
    ]
  },
  {
    adAccountId: JPY,
    accessToken: TOKEN_JPY,
    currency: "JPY",
    campaigns: [{ id: JP_CAMPAIGN, name: "Japan", adSets: [{ id: JP_ADSET, name: "Tokyo", dailyBudget: 5000, bidAmount: 120 }] }]
  }
]

interface VirtualClock {
  readonly clock: Clock.Clock
  /** Every sleep of the client, in order (ms). */
  readonly sleeps: Array<number>
}

/** An Effect clock reading the simulator's clock; a sleep moves it forward at once. */
const virtualClock = (sim: SimulatedClock): VirtualClock => {
  const sleeps: Array<number> = []
  const nanos = () => BigInt(sim.now()) * 1_000_000n
  return {
    sleeps,
    clock: {
      currentTimeMillisUnsafe: () => sim.now(),
      currentTimeMillis: Effect.sync(() => sim.now()),
      currentTimeNanosUnsafe: nanos,
      currentTimeNanos: Effect.sync(nanos),
      monotonicTimeNanosUnsafe: nanos,
      monotonicTimeNanos: Effect.sync(nanos),
      sleep: (duration) =>
        Effect.sync(() => {
          const ms = Duration.toMillis(duration)
          sleeps.push(ms)
          sim.advance(ms)
        })
    }
  }
}

interface World {
  readonly sim: MetaAdsSimulator
  readonly clock: SimulatedClock
  readonly time: VirtualClock
  readonly client: AdPlatformClient
  readonly run: <A>(effect: Effect.Effect<A, AdError>) => Promise<A>
  readonly exit: <A>(effect: Effect.Effect<A, AdError>) => Promise<Exit.Exit<A, AdError>>
}

const worlds: Array<World> = []
afterEach(async () => {
  await Promise.all(worlds.splice(0).map((w) => w.sim.stop()))
})

const startWorld = async (
  options: Partial<MetaAdsSimulatorOptions> = {},
  clientOptions: Partial<MetaAdsClientOptions> = {}
): Promise<World> => {
  const clock = fixedClock()
  const sim = await startMetaAdsSimulator({ accounts: WORLD, clock, seed: "meta-suite", ...options })
  const time = virtualClock(clock)
  const client = makeMetaAdsClient({ baseUrl: sim.url, apiVersion: "v25.0", ...clientOptions })
  const prepare = <A>(effect: Effect.Effect<A, AdError>) => effect.pipe(Effect.provideService(Clock.Clock, time.clock), Random.withSeed(7))
  const world: World = {
    sim,
    clock,
    time,
    client,
    run: (effect) => Effect.runPromise(prepare(effect)),
    exit: (effect) => Effect.runPromiseExit(prepare(effect))
  }
  worlds.push(world)
  return world
}

/** The typed failure of an Exit (throws when it succeeded or died). */
const failureOf = <A, E>(exit: Exit.Exit<A, E>): E => {
  if (exit._tag === "Success") throw new Error(`expected a failure, got ${JSON.stringify(exit.value)}`)
  const reason = exit.cause.reasons.find((r) => r._tag === "Fail")
  if (reason === undefined || reason._tag !== "Fail") throw new Error(`expected a typed failure, got ${String(exit.cause)}`)
  return reason.error
}

const sum = (xs: ReadonlyArray<number>) => xs.reduce((a, b) => a + b, 0)

describe("Meta simulator: the wire as Meta sends it", () => {
  it("answers insights with numbers as strings, money as decimal strings, each purchase under every action type, and the usage header", async () => {
    const { sim } = await startWorld()
    sim.setDelivery(BROAD, DAY, { impressions: 1200, clicks: 34, spend: 1234, purchases: 3, purchaseValue: 29_999 })
    const url = `${sim.url}/v25.0/act_${USD}/insights?level=adset&fields=adset_id,spend,impressions,actions,action_values&time_range=${encodeURIComponent(JSON.stringify({ since: DAY, until: DAY }))}&access_token=${TOKEN_USD}`
    const response = await fetch(url)
    expect(response.status).toBe(200)
    const body = (await response.json()) as { data: Array<Record<string, any>>; paging: unknown }
    const broad = body.data.find((r) => r.adset_id === BROAD)
    expect(broad).toMatchObject({ spend: "12.34", impressions: "1200", date_start: DAY, date_stop: DAY })
    expect(broad?.actions.filter((a: any) => a.value === "3").map((a: any) => a.action_type).sort()).toEqual(
      ["offsite_conversion.fb_pixel_purchase", "omni_purchase", "purchase"]
    )
    expect(broad?.action_values).toContainEqual({ action_type: "purchase", value: "299.99" })
    const usage = JSON.parse(response.headers.get("x-business-use-case-usage") ?? "{}")
    expect(usage[USD]).toEqual([
      { type: "ads_insights", call_count: 0, total_cputime: 0, total_time: 0, estimated_time_to_regain_access: 0, ads_api_access_tier: "development_access" }
    ])
    expect(JSON.parse(response.headers.get("x-fb-ads-insights-throttle") ?? "{}")).toMatchObject({ acc_id_util_pct: 0 })
  })

  it("refuses calls past 100 % with HTTP 400 and code 80004, announcing the time to regain access", async () => {
    const { sim, clock } = await startWorld({ rateLimit: { windowMs: 600_000, capacity: { ads_management: 10 } } })
    const get = () => fetch(`${sim.url}/v25.0/${BROAD}?fields=name&access_token=${TOKEN_USD}`)
    for (let i = 0; i < 10; i++) expect((await get()).status).toBe(200)
    const refused = await get()
    expect(refused.status).toBe(400)
    const body = (await refused.json()) as { error: Record<string, unknown> }
    expect(body.error).toMatchObject({ type: "OAuthException", code: 80004, error_subcode: 2446079 })
    expect(String(body.error.message)).toMatch(/^\(#80004\) There have been too many calls to this ad-account/)
    expect(JSON.parse(refused.headers.get("x-business-use-case-usage") ?? "{}")[USD][0]).toMatchObject({ call_count: 100, estimated_time_to_regain_access: 10 })
    expect(sim.throttledCount(USD)).toBe(1)
    clock.advance(600_001)
    expect((await get()).status).toBe(200)
  })

  it("answers an expired token with code 190 / 463 and a WWW-Authenticate header", async () => {
    const { sim } = await startWorld()
    sim.expireToken(USD)
    const response = await fetch(`${sim.url}/v25.0/${BROAD}?fields=name`, { headers: { Authorization: `Bearer ${TOKEN_USD}` } })
    expect(response.status).toBe(400)
    expect(response.headers.get("www-authenticate")).toMatch(/^OAuth "Facebook Platform" "invalid_token"/)
    const body = (await response.json()) as { error: Record<string, unknown> }
    expect(body.error).toMatchObject({ type: "OAuthException", code: 190, error_subcode: 463 })
    expect(String(body.error.message)).toMatch(/^Error validating access token: Session has expired on /)
  })
})

describe("MetaAdsClient", () => {
  it("reads a day's insights at campaign and ad set level: conversions from actions (one purchase type, not their sum), money in micros", async () => {
    const { sim, client, run } = await startWorld()
    sim.setDelivery(BROAD, DAY, { impressions: 1200, clicks: 34, spend: 1234, purchases: 3, purchaseValue: 29_999 })
    sim.setDelivery(LOOKALIKE, DAY, { impressions: 800, clicks: 10, spend: 5, purchases: 0, purchaseValue: 0 })
    sim.setDelivery(CART, DAY, { impressions: 0, clicks: 0, spend: 0, purchases: 0, purchaseValue: 0 })

    const rows = await run(client.insights(accountUsd, DAY))

    expect(rows).toEqual([
      {
        date: DAY, level: "campaign", campaignId: PROSPECTING, campaignName: "Prospecting", adGroupId: null, keywordId: null, keywordText: null,
        currency: "USD", spendMicros: 12_390_000, impressions: 2000, clicks: 44, conversions: 3, conversionValueMicros: 299_990_000
      },
      {
        date: DAY, level: "ad_group", campaignId: PROSPECTING, campaignName: "Prospecting", adGroupId: BROAD, keywordId: null, keywordText: null,
        currency: "USD", spendMicros: 12_340_000, impressions: 1200, clicks: 34, conversions: 3, conversionValueMicros: 299_990_000
      },
      {
        date: DAY, level: "ad_group", campaignId: PROSPECTING, campaignName: "Prospecting", adGroupId: LOOKALIKE, keywordId: null, keywordText: null,
        currency: "USD", spendMicros: 50_000, impressions: 800, clicks: 10, conversions: 0, conversionValueMicros: 0
      }
    ])
    // Two insights calls, the token only in the Authorization header.
    const calls = sim.log.filter((e) => e.path === `/v25.0/act_${USD}/insights`)
    expect(calls.map((e) => e.query.level).sort()).toEqual(["adset", "campaign"])
    expect(calls.every((e) => JSON.parse(e.query.time_range ?? "{}").since === DAY && e.query.access_token === undefined)).toBe(true)
    expect(calls.every((e) => e.headers.authorization === `Bearer ${TOKEN_USD}`)).toBe(true)
  })

  it("follows insights paging: page by page, the same rows as in one page", async () => {
    const { sim, client, run } = await startWorld({}, { insightsPageSize: 1 })
    const paged = await run(client.insights(accountUsd, DAY))
    const whole = await run(makeMetaAdsClient({ baseUrl: sim.url, apiVersion: "v25.0" }).insights(accountUsd, DAY))
    expect(paged).toEqual(whole)
    expect(paged.map((r) => [r.level, r.adGroupId ?? r.campaignId])).toEqual([
      ["campaign", PROSPECTING],
      ["campaign", RETARGETING],
      ["ad_group", BROAD],
      ["ad_group", LOOKALIKE],
      ["ad_group", CART]
    ])
    const calls = sim.log.filter((e) => e.path === `/v25.0/act_${USD}/insights`)
    expect(calls).toHaveLength(5 + 2)
    expect(calls.filter((e) => e.query.after !== undefined)).toHaveLength(3)
  })

  it("reads a zero-decimal currency (JPY: Meta's amounts are whole yen)", async () => {
    const { sim, client, run } = await startWorld()
    sim.setDelivery(JP_ADSET, DAY, { impressions: 5000, clicks: 50, spend: 1234, purchases: 2, purchaseValue: 9800 })

    const rows = await run(client.insights(accountJpy, DAY))
    expect(rows.map((r) => [r.level, r.currency, r.spendMicros, r.conversions, r.conversionValueMicros])).toEqual([
      ["campaign", "JPY", 1_234_000_000, 2, 9_800_000_000],
      ["ad_group", "JPY", 1_234_000_000, 2, 9_800_000_000]
    ])
    const object = await run(client.getObject(accountJpy, { kind: "ad_group", id: JP_ADSET }))
    expect(object).toMatchObject({ currency: "JPY", dailyBudgetMicros: 5_000_000_000, bidMicros: 120_000_000 })
    await run(client.updateObject(accountJpy, { kind: "ad_group", id: JP_ADSET }, { dailyBudgetMicros: 7_000_000_000 }))
    expect(sim.object(JP_ADSET).dailyBudget).toBe(7_000)
  })

  it("pauses and resumes an ad set, answering the state Meta reports afterwards", async () => {
    const { sim, client, run } = await startWorld()
    const ref = { kind: "ad_group", id: BROAD } as const

    const paused = await run(client.updateObject(accountUsd, ref, { status: "PAUSED" }))
    expect(paused).toEqual({ ref, name: "Broad", status: "PAUSED", bidMicros: 1_500_000, dailyBudgetMicros: 50_000_000, currency: "USD" })
    expect(sim.object(BROAD)).toMatchObject({ status: "PAUSED", effectiveStatus: "PAUSED" })
    const post = sim.log.last((e) => e.method === "POST")
    expect(post?.path).toBe(`/v25.0/${BROAD}`)
    expect(new URLSearchParams(post?.body).get("status")).toBe("PAUSED")

    const resumed = await run(client.updateObject(accountUsd, ref, { status: "ENABLED" }))
    expect(resumed.status).toBe("ENABLED")
    expect(sim.object(BROAD).status).toBe("ACTIVE")
  })

  it("changes a campaign's daily budget (micros → cents, rounded to the cent)", async () => {
    const { sim, client, run } = await startWorld()
    const ref = { kind: "campaign", id: RETARGETING } as const
    expect((await run(client.getObject(accountUsd, ref))).dailyBudgetMicros).toBe(100_000_000)

    const updated = await run(client.updateObject(accountUsd, ref, { dailyBudgetMicros: 150_004_999 }))

    expect(new URLSearchParams(sim.log.last((e) => e.method === "POST")?.body).get("daily_budget")).toBe("15000")
    expect(sim.object(RETARGETING).dailyBudget).toBe(15_000)
    expect(updated).toEqual({ ref, name: "Retargeting", status: "ENABLED", bidMicros: null, dailyBudgetMicros: 150_000_000, currency: "USD" })
  })

  it("changes an ad set's bid amount", async () => {
    const { sim, client, run } = await startWorld()
    const updated = await run(client.updateObject(accountUsd, { kind: "ad_group", id: BROAD }, { bidMicros: 2_250_000 }))
    expect(new URLSearchParams(sim.log.last((e) => e.method === "POST")?.body).get("bid_amount")).toBe("225")
    expect(sim.object(BROAD).bidAmount).toBe(225)
    expect(updated.bidMicros).toBe(2_250_000)
  })

  it("reads what Meta holds now, even when someone changed it in Ads Manager", async () => {
    const { sim, client, run } = await startWorld()
    sim.setObject(LOOKALIKE, { status: "PAUSED", dailyBudget: 7_000 })
    const object = await run(client.getObject(accountUsd, { kind: "ad_group", id: LOOKALIKE }))
    expect(object).toMatchObject({ status: "PAUSED", dailyBudgetMicros: 70_000_000, bidMicros: null })
  })

  it("answers AdUnsupported for keywords (Meta has none) without calling Meta", async () => {
    const { sim, client, exit } = await startWorld()
    const read = failureOf(await exit(client.getObject(accountUsd, { kind: "keyword", id: "1", adGroupId: BROAD })))
    const write = failureOf(await exit(client.updateObject(accountUsd, { kind: "keyword", id: "1", adGroupId: BROAD }, { status: "PAUSED" })))
    expect(read._tag).toBe("AdUnsupported")
    expect(write._tag).toBe("AdUnsupported")
    expect(sim.log.length).toBe(0)
  })

  it("answers AdRejected with Meta's code and message for other Graph errors", async () => {
    const { client, exit } = await startWorld()
    const unknown = failureOf(await exit(client.getObject(accountUsd, { kind: "campaign", id: "999" })))
    expect(unknown).toMatchObject({ _tag: "AdRejected", code: "100/33" })
    expect(unknown.message).toMatch(/^Unsupported get request\. Object with ID '999' does not exist/)
    // A CBO campaign's ad set holds no budget: Meta refuses, with a message for the user.
    const budget = failureOf(await exit(client.updateObject(accountUsd, { kind: "ad_group", id: CART }, { dailyBudgetMicros: 20_000_000 })))
    expect(budget).toMatchObject({ _tag: "AdRejected", code: "100" })
    expect(budget.message).toContain("campaign budget")
  })

  it("answers AdAuthExpired when the token expired (code 190), without retrying", async () => {
    const { sim, client, exit } = await startWorld()
    sim.expireToken(USD)
    const error = failureOf(await exit(client.getObject(accountUsd, { kind: "campaign", id: PROSPECTING })))
    expect(error._tag).toBe("AdAuthExpired")
    expect(error.message).toMatch(/Session has expired/)
    expect(error.message).not.toContain(TOKEN_USD)
    expect(sim.requests.count((c) => c.outcome === "auth_error")).toBe(1)
    expect(sim.log.length).toBe(1)
  })

  it("retries 5xx and dropped connections with backoff, then answers AdUnavailable", async () => {
    const { sim, time, client, run, exit } = await startWorld()
    await run(client.getObject(accountUsd, { kind: "campaign", id: PROSPECTING })) // currency known
    const mark = sim.log.total
    sim.faults.failNext(500).failNext(503).dropNext()
    const object = await run(client.getObject(accountUsd, { kind: "campaign", id: PROSPECTING }))
    expect(object.name).toBe("Prospecting")
    expect(sim.log.since(mark).map((e) => e.outcome)).toEqual(["fault", "fault", "dropped", "answered"])
    expect(time.sleeps).toHaveLength(3) // one backoff per failure

    sim.faults.failNext(503, { count: 10 })
    const error = failureOf(await exit(client.getObject(accountUsd, { kind: "campaign", id: PROSPECTING })))
    expect(error._tag).toBe("AdUnavailable")
    expect(error.message).toContain("Service temporarily unavailable")
    expect(sim.log.since(mark + 4)).toHaveLength(4) // 1 + 3 retries
  })

  it("slows 50 concurrent callers down on the usage header so that none is throttled", async () => {
    const windowMs = 10_000
    const { sim, time, client, run } = await startWorld(
      { rateLimit: { windowMs, capacity: { ads_management: 60 } } },
      { slowdownMaxDelayMs: windowMs, tokenBucket: { capacity: 1_000, refillPerSecond: 1_000 } }
    )
    // Control: the same load sent without the client is refused by the simulator.
    const raw = await Promise.all(Array.from({ length: 150 }, () => fetch(`${sim.url}/v25.0/${BROAD}?fields=name&access_token=${TOKEN_USD}`)))
    expect(raw.filter((r) => r.status === 400).length).toBeGreaterThan(0)
    expect(sim.throttledCount(USD)).toBeGreaterThan(0)
    sim.resetUsage(USD)
    const mark = sim.requests.total
    const start = sim.clock?.now() ?? 0

    const ids = [BROAD, LOOKALIKE, CART]
    const objects = await run(
      Effect.forEach(
        Array.from({ length: 50 }, (_, i) => i),
        (caller) => Effect.forEach([0, 1, 2], (round) => client.getObject(accountUsd, { kind: "ad_group", id: ids[(caller + round) % 3] as string })),
        { concurrency: "unbounded" }
      )
    )

    expect(objects.flat()).toHaveLength(150)
    const mine = sim.requests.since(mark)
    expect(mine.filter((c) => c.outcome === "throttled")).toEqual([])
    expect(mine.every((c) => c.outcome === "ok")).toBe(true)
    expect(mine).toHaveLength(151) // 150 reads + the account's currency, once
    const peak = Math.max(...mine.map((c) => c.usage?.[0]?.call_count ?? 0))
    expect(peak).toBeGreaterThanOrEqual(90) // it went into the slow zone…
    expect(peak).toBeLessThanOrEqual(100) // …and never past Meta's limit
    // 151 calls through a window of 60 per 10 s cannot take less than two windows.
    expect((sim.clock?.now() ?? 0) - start).toBeGreaterThanOrEqual(2 * windowMs)
    expect(sum(time.sleeps)).toBeGreaterThanOrEqual(2 * windowMs)
  })

  it("honours an injected 100 % with estimated_time_to_regain_access: waits exactly that long, then succeeds", async () => {
    const { sim, time, client, run } = await startWorld()
    await run(client.getObject(accountUsd, { kind: "campaign", id: PROSPECTING }))
    sim.exhaust(USD, { buc: "ads_management", regainAfterMs: 180_000 })
    const mark = sim.requests.total
    const start = sim.clock?.now() ?? 0

    const object = await run(client.getObject(accountUsd, { kind: "campaign", id: PROSPECTING }))

    expect(object.name).toBe("Prospecting")
    const [refused, answered, ...rest] = sim.requests.since(mark)
    expect(rest).toEqual([])
    expect(refused).toMatchObject({ outcome: "throttled", code: 80004 })
    expect(refused?.usage?.[0]).toMatchObject({ type: "ads_management", call_count: 100, estimated_time_to_regain_access: 3 })
    expect(answered).toMatchObject({ outcome: "ok" })
    expect((answered?.at ?? 0) - start).toBe(180_000)
    expect(time.sleeps).toEqual([180_000])
  })

  it("waits on error 17 without an estimate, and answers AdThrottled with the signal when access is lost for too long", async () => {
    const { sim, time, client, run, exit } = await startWorld({}, { throttleFallbackMs: 30_000, maxThrottleWaitMs: 600_000 })
    await run(client.getObject(accountUsd, { kind: "campaign", id: PROSPECTING }))
    sim.throttleNext(USD, { code: 17 })
    await run(client.getObject(accountUsd, { kind: "campaign", id: PROSPECTING }))
    expect(time.sleeps).toEqual([30_000])

    sim.exhaust(USD, { regainAfterMs: 3_600_000 })
    const mark = sim.requests.total
    const error = failureOf(await exit(client.getObject(accountUsd, { kind: "campaign", id: PROSPECTING })))
    expect(error).toMatchObject({ _tag: "AdThrottled", platform: "meta", accountId: USD, retryAfterMs: 3_600_000 })
    if (error._tag !== "AdThrottled") throw new Error("unreachable")
    expect(error.signal).toContain("error 80004/2446079")
    expect(error.signal).toContain("estimated_time_to_regain_access 60 min")
    expect(sim.requests.since(mark)).toHaveLength(1) // it did not hammer a blocked account
  })

  it("caps an account's rate with its token bucket whatever the usage header says", async () => {
    const { sim, time, client, run } = await startWorld({}, { tokenBucket: { capacity: 2, refillPerSecond: 1 } })
    const mark = sim.requests.total
    await run(Effect.forEach([BROAD, LOOKALIKE, CART, BROAD, LOOKALIKE], (id) => client.getObject(accountUsd, { kind: "ad_group", id }), { concurrency: "unbounded" }))
    // 6 calls (the currency, then 5 objects) at usage ≈ 1 %: a burst of 2, then one a second.
    expect(sim.requests.since(mark).map((c) => c.outcome)).toEqual(["ok", "ok", "ok", "ok", "ok", "ok"])
    expect(time.sleeps).toEqual([1_000, 1_000, 1_000, 1_000])
  })

  it("keeps accounts apart: one account's block does not hold another's calls", async () => {
    const { sim, time, client, run, exit } = await startWorld()
    await run(client.getObject(accountUsd, { kind: "campaign", id: PROSPECTING }))
    sim.exhaust(USD, { regainAfterMs: 3_600_000 })
    expect(failureOf(await exit(client.getObject(accountUsd, { kind: "campaign", id: PROSPECTING })))._tag).toBe("AdThrottled")
    // The client now holds the USD account back for an hour; the JPY account goes at once.
    const object = await run(client.getObject(accountJpy, { kind: "campaign", id: JP_CAMPAIGN }))
    expect(object.name).toBe("Japan")
    expect(time.sleeps).toEqual([])
  })
})
