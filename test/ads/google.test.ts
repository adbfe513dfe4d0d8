/**
 * The Google Ads client (`adapters/ads/google/GoogleAdsClient.ts`) against the Google Ads
 * simulator over real HTTP on 127.0.0.1. Most suites run on virtual time: the client's Effect
 * `Clock` is bound to the simulator's fixed clock, so every wait (Google's retryDelay, backoff,
 * the bucket) completes at once and moves the simulator's time by exactly that much. The bucket's
 * steady-state suite runs on real time, where requests and the simulator's sliding second meet.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import { Clock, Duration, Effect, Exit, Random, Redacted } from "effect"
import type { AdAccount, AdObjectRef, AdPlatformClient } from "../../src/ads/AdPlatform.ts"
import { fixedClock, jsonBody, type SimulatedClock } from "../../src/simulator/kit/index.ts"
import { startGoogleAdsSimulator, type GoogleAdsAccountInit, type GoogleAdsSimulator, type GoogleAdsSimulatorOptions } from "../../src/simulator/ads/google/index.ts"
import { GOOGLE_ADS_API_VERSION, makeGoogleAdsClient, type GoogleAdsLimits } from "../../adapters/ads/google/GoogleAdsClient.ts"

const A = "1234567890"
const B = "2345678901"
const MANAGER = "9999999999"
const DAY = "2026-07-14" // the fixed clock stands at 2026-07-15T12:00Z

const ACCOUNTS: ReadonlyArray<GoogleAdsAccountInit> = [
  {
    customerId: A,
    accessToken: "ya29.token-a",
    developerToken: "dev-token-1",
    currency: "EUR",
    managerCustomerIds: [MANAGER],
    campaigns: [
      {
        id: 111,
        name: "Brand",
        dailyBudgetMicros: 50_000_000,
        budgetId: 7001,
        adGroups: [
          {
            id: 211,
            name: "Shoes",
            cpcBidMicros: 1_200_000,
            keywords: [
              { criterionId: 311, text: "red shoes", matchType: "EXACT" },
              { criterionId: 312, text: "running shoes", cpcBidMicros: 900_000 }
            ]
          },
          { id: 212, name: "Boots", keywords: [{ criterionId: 313, text: "winter boots" }] }
        ]
      },
      { id: 112, name: "Generic", status: "PAUSED", dailyBudgetMicros: 20_000_000, adGroups: [{ id: 221, name: "Catch-all" }] }
    ]
  },
  {
    customerId: B,
    accessToken: "ya29.token-b",
    developerToken: "dev-token-2",
    currency: "USD",
    campaigns: [{ id: 511, name: "Other shop", dailyBudgetMicros: 10_000_000, adGroups: [{ id: 611, name: "All", keywords: [{ criterionId: 711, text: "gift" }] }] }]
  }
]

const accountA: AdAccount = {
  platform: "google",
  accountId: A,
  accessToken: Redacted.make("ya29.token-a"),
  developerToken: Redacted.make("dev-token-1"),
  loginCustomerId: MANAGER
}
const accountB: AdAccount = { platform: "google", accountId: B, accessToken: Redacted.make("ya29.token-b"), developerToken: Redacted.make("dev-token-2") }

const campaign = (id: string): AdObjectRef => ({ kind: "campaign", id })
const adGroup = (id: string): AdObjectRef => ({ kind: "ad_group", id })
const keyword = (adGroupId: string, id: string): AdObjectRef => ({ kind: "keyword", id, adGroupId })

/** An Effect `Clock` whose time is the simulator's fixed clock; sleeping advances it. */
const virtualClock = (manual: SimulatedClock) => {
  const sleeps: Array<number> = []
  const nanos = () => BigInt(manual.now()) * 1_000_000n
  const clock: Clock.Clock = {
    currentTimeMillisUnsafe: () => manual.now(),
    currentTimeMillis: Effect.sync(() => manual.now()),
    currentTimeNanosUnsafe: nanos,
    currentTimeNanos: Effect.sync(nanos),
    monotonicTimeNanosUnsafe: nanos,
    monotonicTimeNanos: Effect.sync(nanos),
    sleep: (duration) =>
      Effect.sync(() => {
        const ms = Duration.toMillis(duration)
        sleeps.push(ms)
        manual.advance(ms)
      })
  }
  return { clock, sleeps }
}

interface Harness {
  readonly sim: GoogleAdsSimulator
  readonly client: AdPlatformClient
  readonly sleeps: Array<number>
  readonly run: <A, E>(effect: Effect.Effect<A, E>) => Promise<A>
  readonly fail: <A, E>(effect: Effect.Effect<A, E>) => Promise<E>
}

const start = async (options: Partial<GoogleAdsSimulatorOptions> = {}, limits: GoogleAdsLimits = {}): Promise<Harness> => {
  const manual = fixedClock()
  const sim = await startGoogleAdsSimulator({ seed: "google-ads-test", accounts: ACCOUNTS, clock: manual, ...options })
  const { clock, sleeps } = virtualClock(manual)
  const client = makeGoogleAdsClient({ baseUrl: sim.url, apiVersion: GOOGLE_ADS_API_VERSION, limits })
  const prepare = <A, E>(effect: Effect.Effect<A, E>) => effect.pipe(Effect.provideService(Clock.Clock, clock), Random.withSeed(7))
  return {
    sim,
    client,
    sleeps,
    run: (effect) => Effect.runPromise(prepare(effect)),
    fail: async (effect) => {
      const exit = await Effect.runPromiseExit(prepare(effect))
      if (Exit.isSuccess(exit)) throw new Error(`expected a failure, got ${JSON.stringify(exit.value)}`)
      const reason = exit.cause.reasons.find((r) => r._tag === "Fail")
      if (reason === undefined || reason._tag !== "Fail") throw new Error(`expected a typed failure, got ${String(exit.cause)}`)
      return reason.error
    }
  }
}

describe("Google Ads client: insights and objects", () => {
  let h: Harness
  beforeEach(async () => {
    h = await start()
  })
  afterEach(() => h.sim.stop())

  it("reads a day's insights at campaign, ad group and keyword level with the simulator's micros", async () => {
    const rows = await h.run(h.client.insights(accountA, DAY))
    const truth = h.sim.account(A).metrics(DAY)
    const micros = (value: number) => Math.round(value * 1_000_000)

    const byLevel = (level: string) => rows.filter((r) => r.level === level)
    expect(byLevel("campaign").map((r) => r.campaignId).sort()).toEqual(["111", "112"])
    expect(byLevel("ad_group").map((r) => r.adGroupId).sort()).toEqual(["211", "212", "221"])
    expect(byLevel("keyword").map((r) => `${r.adGroupId}~${r.keywordId}:${r.keywordText}`).sort()).toEqual([
      "211~311:red shoes",
      "211~312:running shoes",
      "212~313:winter boots"
    ])
    for (const row of rows) {
      const m = row.level === "campaign"
        ? truth.campaigns.get(row.campaignId)
        : row.level === "ad_group"
        ? truth.adGroups.get(row.adGroupId as string)
        : truth.keywords.get(`${row.adGroupId}~${row.keywordId}`)
      expect(m).toBeDefined()
      expect(row).toMatchObject({
        date: DAY,
        currency: "EUR",
        spendMicros: m!.costMicros,
        impressions: m!.impressions,
        clicks: m!.clicks,
        conversions: m!.conversions,
        conversionValueMicros: micros(m!.conversionsValue)
      })
      expect(Number.isSafeInteger(row.spendMicros) && row.spendMicros > 0).toBe(true)
    }
    const brand = byLevel("campaign").find((r) => r.campaignId === "111")!
    expect(brand.campaignName).toBe("Brand")
    expect(brand.spendMicros).toBe(byLevel("ad_group").filter((r) => r.campaignId === "111").reduce((s, r) => s + r.spendMicros, 0))
    expect(byLevel("keyword").find((r) => r.keywordId === "311")).toMatchObject({ campaignId: "111", campaignName: "Brand", adGroupId: "211" })

    // On the wire: three searchStream calls (campaign, ad_group, keyword_view) with Google's headers.
    const calls = h.sim.requests.entries
    expect(calls.map((c) => c.method)).toEqual(["searchStream", "searchStream", "searchStream"])
    expect(calls.map((c) => /FROM (\w+)/.exec(c.query ?? "")?.[1]).sort()).toEqual(["ad_group", "campaign", "keyword_view"])
    const exchange = h.sim.log.last()!
    expect(exchange.path).toBe(`/${GOOGLE_ADS_API_VERSION}/customers/${A}/googleAds:searchStream`)
    expect(exchange.headers).toMatchObject({ authorization: "Bearer ya29.token-a", "developer-token": "dev-token-1", "login-customer-id": MANAGER })
  })

  it("gets and updates a campaign (status, daily budget through its campaign budget), an ad group and a keyword", async () => {
    expect(await h.run(h.client.getObject(accountA, campaign("111")))).toEqual({
      ref: { kind: "campaign", id: "111" },
      name: "Brand",
      status: "ENABLED",
      bidMicros: null,
      dailyBudgetMicros: 50_000_000,
      currency: "EUR"
    })

    const budget = await h.run(h.client.updateObject(accountA, campaign("111"), { dailyBudgetMicros: 75_000_000 }))
    expect(budget.dailyBudgetMicros).toBe(75_000_000)
    expect(h.sim.account(A).campaign("111")).toMatchObject({ dailyBudgetMicros: 75_000_000, status: "ENABLED" })
    const budgetMutate = h.sim.log.last((e) => e.path.endsWith("campaignBudgets:mutate"))!
    expect(jsonBody(budgetMutate)).toEqual({
      operations: [{ update: { resourceName: `customers/${A}/campaignBudgets/7001`, amountMicros: "75000000" }, updateMask: "amountMicros" }]
    })

    const paused = await h.run(h.client.updateObject(accountA, campaign("111"), { status: "PAUSED" }))
    expect(paused.status).toBe("PAUSED")
    expect(h.sim.account(A).campaign("111").status).toBe("PAUSED")

    const group = await h.run(h.client.updateObject(accountA, adGroup("211"), { bidMicros: 1_500_000 }))
    expect(group).toMatchObject({ ref: { kind: "ad_group", id: "211" }, name: "Shoes", bidMicros: 1_500_000, dailyBudgetMicros: null })
    expect(h.sim.account(A).adGroup("211").cpcBidMicros).toBe(1_500_000)

    // A keyword without a bid of its own has none; pausing one and setting its bid.
    expect((await h.run(h.client.getObject(accountA, keyword("211", "311")))).bidMicros).toBeNull()
    const pausedKeyword = await h.run(h.client.updateObject(accountA, keyword("211", "311"), { status: "PAUSED" }))
    expect(pausedKeyword).toEqual({ ref: { kind: "keyword", id: "311", adGroupId: "211" }, name: "red shoes", status: "PAUSED", bidMicros: null, dailyBudgetMicros: null, currency: "EUR" })
    expect(h.sim.account(A).keyword("211", "311").status).toBe("PAUSED")
    const keywordMutate = h.sim.log.last((e) => e.path.endsWith("adGroupCriteria:mutate"))!
    expect(jsonBody(keywordMutate)).toEqual({
      operations: [{ update: { resourceName: `customers/${A}/adGroupCriteria/211~311`, status: "PAUSED" }, updateMask: "status" }]
    })
    const bid = await h.run(h.client.updateObject(accountA, keyword("211", "312"), { bidMicros: 1_100_000, status: "PAUSED" }))
    expect(bid).toMatchObject({ status: "PAUSED", bidMicros: 1_100_000 })
    expect(h.sim.account(A).keyword("211", "312")).toMatchObject({ status: "PAUSED", cpcBidMicros: 1_100_000 })

    // The object as the platform has it, even when changed behind the client's back.
    h.sim.account(A).setKeyword("212", "313", { status: "PAUSED", cpcBidMicros: 2_000_000 })
    expect(await h.run(h.client.getObject(accountA, keyword("212", "313")))).toMatchObject({ name: "winter boots", status: "PAUSED", bidMicros: 2_000_000 })
  })

  it("answers Google's refusals as AdRejected with its error code, without retrying them", async () => {
    expect(await h.fail(h.client.getObject(accountA, campaign("999")))).toMatchObject({ _tag: "AdRejected", code: "RESOURCE_NOT_FOUND" })
    const before = h.sim.requests.total
    const error = await h.fail(h.client.updateObject(accountA, adGroup("211"), { bidMicros: 1_234_567 }))
    expect(error).toMatchObject({ _tag: "AdRejected", platform: "google", accountId: A, code: "BID_TOO_MANY_FRACTIONAL_DIGITS" })
    expect(h.sim.requests.since(before).map((r) => r.outcome)).toEqual(["BID_TOO_MANY_FRACTIONAL_DIGITS"])
    expect(h.sim.account(A).adGroup("211").cpcBidMicros).toBe(1_200_000)
    expect(await h.fail(h.client.updateObject(accountA, campaign("111"), { bidMicros: 10_000 }))).toMatchObject({ code: "INVALID_PATCH" })
    // A customer the token cannot reach (the manager of B is not sent): Google's USER_PERMISSION_DENIED.
    expect(await h.fail(h.client.getObject({ ...accountB, accessToken: accountA.accessToken }, campaign("511")))).toMatchObject({ code: "USER_PERMISSION_DENIED" })
  })
})

describe("Google Ads client: Google's throttling, quota, auth and outage signals", () => {
  let h: Harness
  afterEach(() => h.sim.stop())

  it("an injected RESOURCE_TEMPORARILY_EXHAUSTED holds the account's bucket for Google's retryDelay, then the retry succeeds", async () => {
    h = await start()
    h.sim.throttleNext({ retryDelaySeconds: 30 }, { match: { customerId: A } })
    const object = await h.run(h.client.getObject(accountA, adGroup("211")))
    expect(object.name).toBe("Shoes")
    const [refused, retried] = h.sim.requests.entries
    expect(refused).toMatchObject({ outcome: "RESOURCE_TEMPORARILY_EXHAUSTED", status: 429 })
    expect(retried).toMatchObject({ outcome: "ok", status: 200 })
    expect(retried!.at - refused!.at).toBeGreaterThanOrEqual(30_000)

    // Bounded: Google keeps refusing → AdThrottled with Google's signal after 1 + 3 attempts.
    const before = h.sim.requests.total
    h.sim.throttleNext({ retryDelaySeconds: 2 }, { count: 10, match: { customerId: A } })
    const error = await h.fail(h.client.getObject(accountA, adGroup("211")))
    expect(error).toMatchObject({ _tag: "AdThrottled", signal: "RESOURCE_TEMPORARILY_EXHAUSTED", retryAfterMs: 2_000, accountId: A })
    expect(h.sim.requests.since(before)).toHaveLength(4)
  })

  it("the hold applies to every caller of the account: a later call waits out Google's retryDelay, another account's does not", async () => {
    h = await start({}, { maxThrottledRetries: 0 })
    h.sim.throttleNext({ retryDelaySeconds: 30 }, { match: { customerId: A } })
    expect(await h.fail(h.client.getObject(accountA, campaign("111")))).toMatchObject({ _tag: "AdThrottled", retryAfterMs: 30_000 })
    const refusedAt = h.sim.requests.last()!.at

    await h.run(h.client.getObject(accountB, campaign("511")))
    expect(h.sim.requests.last()!).toMatchObject({ customerId: B, outcome: "ok" })
    expect(h.sim.requests.last()!.at - refusedAt).toBeLessThan(1_000)

    await h.run(h.client.getObject(accountA, campaign("112")))
    expect(h.sim.requests.last()!).toMatchObject({ customerId: A, outcome: "ok" })
    expect(h.sim.requests.last()!.at - refusedAt).toBeGreaterThanOrEqual(30_000)
  })

  it("a retryDelay beyond the client's patience is not waited for", async () => {
    h = await start({}, { maxRetryDelayMs: 10_000 })
    h.sim.throttleNext({ retryDelaySeconds: 600 }, { match: { customerId: A } })
    const error = await h.fail(h.client.getObject(accountA, campaign("111")))
    expect(error).toMatchObject({ _tag: "AdThrottled", signal: "RESOURCE_TEMPORARILY_EXHAUSTED", retryAfterMs: 600_000 })
    expect(h.sim.requests.total).toBe(1)
  })

  it("a spent daily operation quota is AdRejected DAILY_QUOTA, and the client stops calling on that developer token", async () => {
    h = await start({ dailyOperations: 3 })
    for (const id of ["111", "112", "111"]) await h.run(h.client.getObject(accountA, campaign(id)))
    expect(h.sim.operationsUsed("dev-token-1")).toBe(3)

    const error = await h.fail(h.client.getObject(accountA, campaign("111")))
    expect(error).toMatchObject({ _tag: "AdRejected", code: "DAILY_QUOTA", accountId: A })
    expect(h.sim.requests.last()).toMatchObject({ outcome: "RESOURCE_EXHAUSTED", status: 429 })
    const refusal = await (await fetch(`${h.sim.url}/${GOOGLE_ADS_API_VERSION}/customers/${A}/googleAds:searchStream`, {
      method: "POST",
      headers: { authorization: "Bearer ya29.token-a", "content-type": "application/json" },
      body: JSON.stringify({ query: "SELECT campaign.id FROM campaign" })
    })).json()
    expect(refusal.error).toMatchObject({ code: 429, status: "RESOURCE_EXHAUSTED" })
    expect(refusal.error.details[0].errors[0]).toMatchObject({
      errorCode: { quotaError: "RESOURCE_EXHAUSTED" },
      details: { quotaErrorDetails: { rateScope: "DEVELOPER" } }
    })

    // Do not hammer: the next call fails without a request; another developer token is not affected.
    const sent = h.sim.requests.total
    expect(await h.fail(h.client.updateObject(accountA, keyword("211", "311"), { status: "PAUSED" }))).toMatchObject({ code: "DAILY_QUOTA" })
    expect(h.sim.requests.total).toBe(sent)
    expect((await h.run(h.client.getObject(accountB, campaign("511")))).name).toBe("Other shop")
    expect(h.sim.account(A).keyword("211", "311").status).toBe("ENABLED")
  })

  it("an expired access token is AdAuthExpired at once; a new token works again", async () => {
    h = await start()
    h.sim.expireToken("ya29.token-a")
    const error = await h.fail(h.client.getObject(accountA, campaign("111")))
    expect(error).toMatchObject({ _tag: "AdAuthExpired", platform: "google", accountId: A })
    expect(h.sim.requests.entries.map((r) => r.outcome)).toEqual(["OAUTH_TOKEN_EXPIRED"])
    expect(String(error)).not.toContain("ya29.token-a")

    h.sim.addToken(A, "ya29.token-a2")
    expect((await h.run(h.client.getObject({ ...accountA, accessToken: Redacted.make("ya29.token-a2") }, campaign("111")))).name).toBe("Brand")
  })

  it("5xx and dropped connections are retried with backoff, then AdUnavailable", async () => {
    h = await start()
    const path = new RegExp(`/customers/${A}/`)
    h.sim.faults.failNext(503, { match: { path } }).dropNext({ match: { path } })
    expect((await h.run(h.client.getObject(accountA, adGroup("212")))).name).toBe("Boots")
    expect(h.sim.log.entries.map((e) => e.outcome)).toEqual(["fault", "dropped", "answered"])
    expect(h.sleeps.filter((ms) => ms >= 250).length).toBeGreaterThanOrEqual(2) // two backoffs (500 ms base, equal jitter)

    h.sim.faults.failNext(500, { count: Number.POSITIVE_INFINITY, match: { path } })
    const before = h.sim.log.total
    const error = await h.fail(h.client.getObject(accountA, adGroup("212")))
    expect(error).toMatchObject({ _tag: "AdUnavailable", platform: "google", accountId: A })
    expect(h.sim.log.since(before).map((e) => e.status)).toEqual([500, 500, 500, 500])
    h.sim.faults.clear()
  })
})

describe("Google Ads client: the per-account token bucket (real time)", () => {
  let sim: GoogleAdsSimulator
  beforeEach(async () => {
    sim = await startGoogleAdsSimulator({ seed: "bucket", accounts: ACCOUNTS, requestsPerSecond: 20 })
  })
  afterEach(() => sim.stop())

  it("50 concurrent callers on one account get no throttle response at steady state, and a second account is not slowed", async () => {
    // Control: without pacing, the same 50 callers earn RESOURCE_TEMPORARILY_EXHAUSTED.
    const unpaced = makeGoogleAdsClient({ baseUrl: sim.url, apiVersion: GOOGLE_ADS_API_VERSION, limits: { requestsPerSecond: 10_000, burst: 10_000, maxThrottledRetries: 0 } })
    await Effect.runPromise(Effect.forEach(Array.from({ length: 50 }), () => Effect.result(unpaced.getObject(accountA, campaign("111"))), { concurrency: "unbounded" }))
    expect(sim.throttleCount(A)).toBeGreaterThan(0)
    await new Promise((resolve) => setTimeout(resolve, 1_200)) // let the simulator's second slide past the control

    const client = makeGoogleAdsClient({ baseUrl: sim.url, apiVersion: GOOGLE_ADS_API_VERSION, limits: { requestsPerSecond: 15, burst: 3 } })
    const mark = sim.requests.total
    const started = performance.now()
    const timed = (effect: Effect.Effect<unknown, unknown>) => Effect.andThen(effect, () => Effect.sync(() => performance.now() - started))
    const [onA, onB] = await Effect.runPromise(
      Effect.all([
        Effect.forEach(Array.from({ length: 50 }, (_, i) => i), (i) => timed(client.getObject(accountA, keyword("211", i % 2 === 0 ? "311" : "312"))), { concurrency: "unbounded" }),
        Effect.forEach(Array.from({ length: 5 }), () => timed(client.getObject(accountB, campaign("511"))), { concurrency: "unbounded" })
      ], { concurrency: "unbounded" })
    )

    const mine = sim.requests.since(mark)
    expect(mine.filter((r) => r.customerId === A)).toHaveLength(50)
    expect(mine.filter((r) => r.outcome !== "ok")).toEqual([])
    // A is paced: 47 requests after the burst of 3 at 15/s take at least ~3 s…
    expect(Math.max(...onA)).toBeGreaterThan(2_800)
    // …while B, with its own bucket, is done long before.
    expect(Math.max(...onB)).toBeLessThan(1_000)
    // In no second did A send more than the simulator allows.
    const times = mine.filter((r) => r.customerId === A).map((r) => r.at)
    const busiest = Math.max(...times.map((t) => times.filter((u) => u > t - 1000 && u <= t).length))
    expect(busiest).toBeLessThanOrEqual(20)
  }, 30_000)
})

describe("Google Ads simulator: the REST wire format", () => {
  let sim: GoogleAdsSimulator
  beforeEach(async () => {
    sim = await startGoogleAdsSimulator({ seed: "wire", accounts: ACCOUNTS, clock: fixedClock(), streamBatchSize: 2 })
  })
  afterEach(() => sim.stop())

  const post = (path: string, body: unknown, token = "ya29.token-a") =>
    fetch(`${sim.url}/${GOOGLE_ADS_API_VERSION}/customers/${A}/${path}`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify(body)
    })

  it("searchStream answers batches of camelCase GoogleAdsRows, int64 as strings, with fieldMask and requestId", async () => {
    const response = await post("googleAds:searchStream", {
      query: `SELECT ad_group.id, ad_group_criterion.criterion_id, ad_group_criterion.keyword.text, metrics.cost_micros, metrics.conversions, segments.date FROM keyword_view WHERE segments.date = '${DAY}' ORDER BY ad_group_criterion.criterion_id`
    })
    expect(response.status).toBe(200)
    const batches = await response.json()
    expect(batches).toHaveLength(2) // 3 rows, 2 per batch
    expect(batches[0].fieldMask).toBe("adGroup.id,adGroupCriterion.criterionId,adGroupCriterion.keyword.text,metrics.costMicros,metrics.conversions,segments.date")
    expect(batches[0].requestId).toMatch(/^[A-Za-z0-9_-]{22}$/)
    const first = batches[0].results[0]
    expect(first).toMatchObject({
      keywordView: { resourceName: `customers/${A}/keywordViews/211~311` },
      adGroup: { resourceName: `customers/${A}/adGroups/211`, id: "211" },
      adGroupCriterion: { resourceName: `customers/${A}/adGroupCriteria/211~311`, criterionId: "311", keyword: { text: "red shoes" } },
      segments: { date: DAY }
    })
    expect(typeof first.metrics.costMicros).toBe("string")
    expect(typeof first.metrics.conversions).toBe("number")
    expect(batches[1].queryResourceConsumption).toMatch(/^\d+$/)
  })

  it("refuses bad GAQL, bad tokens and bad mutates in Google's GoogleAdsFailure shape", async () => {
    const badField = await (await post("googleAds:searchStream", { query: "SELECT campaign.nope FROM campaign" })).json()
    expect(badField.error).toMatchObject({ code: 400, status: "INVALID_ARGUMENT" })
    expect(badField.error.details[0]["@type"]).toBe(`type.googleapis.com/google.ads.googleads.${GOOGLE_ADS_API_VERSION}.errors.GoogleAdsFailure`)
    expect(badField.error.details[0].errors[0].errorCode).toEqual({ queryError: "BAD_FIELD_NAME" })

    const unknownToken = await post("googleAds:searchStream", { query: "SELECT campaign.id FROM campaign" }, "ya29.nope")
    expect(unknownToken.status).toBe(401)
    expect((await unknownToken.json()).error.details[0].errors[0].errorCode).toEqual({ authenticationError: "OAUTH_TOKEN_INVALID" })

    const noMask = await (await post("campaigns:mutate", { operations: [{ update: { resourceName: `customers/${A}/campaigns/111`, status: "PAUSED" } }] })).json()
    expect(noMask.error.details[0].errors[0].errorCode).toEqual({ fieldMaskError: "FIELD_MASK_MISSING" })
    const validated = await post("campaigns:mutate", { validateOnly: true, operations: [{ update: { resourceName: `customers/${A}/campaigns/111`, status: "PAUSED" }, updateMask: "status" }] })
    expect(await validated.json()).toEqual({})
    expect(sim.account(A).campaign("111").status).toBe("ENABLED")
  })
})
