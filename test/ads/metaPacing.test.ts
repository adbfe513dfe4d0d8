/**
 * The pure parts of the Meta client: reading Meta's usage headers, the governor's decisions
 * (free below the threshold, serialised and proportionally delayed above it, held while Meta
 * says access is lost), classifying Graph errors, and converting Meta's money to micros
 * without floating-point drift.
 */
import { describe, expect, it } from "vitest"
import { countOf, decimalToMicros, microsToMinor, minorToMicros } from "../../adapters/ads/meta/amounts.ts"
import { classify, isThrottleCode } from "../../adapters/ads/meta/MetaAdsClient.ts"
import { decide, emptyModel, readUsage, reserve, settle, type GovernorOptions, type UsageModel } from "../../adapters/ads/meta/usageGovernor.ts"

const bucHeader = (table: Record<string, ReadonlyArray<Record<string, unknown>>>) => new Headers({ "x-business-use-case-usage": JSON.stringify(table) })
const entry = (type: string, call: number, cpu = 0, time = 0, regain = 0) => ({
  type,
  call_count: call,
  total_cputime: cpu,
  total_time: time,
  estimated_time_to_regain_access: regain,
  ads_api_access_tier: "standard_access"
})

describe("readUsage: X-Business-Use-Case-Usage as Meta sends it", () => {
  it("takes the highest of call count, CPU and wall time of the account's use case, and the regain time in ms", () => {
    const report = readUsage(bucHeader({ "1000001": [entry("ads_management", 28, 61, 40, 0), entry("ads_insights", 99, 0, 0, 7)] }), "1000001", "ads_management")
    expect(report).toMatchObject({ percent: 61, regainMs: 0 })
    expect(readUsage(bucHeader({ "1000001": [entry("ads_insights", 99, 0, 0, 7)] }), "1000001", "ads_insights")).toMatchObject({ percent: 99, regainMs: 420_000 })
  })

  it("prefers the account's own key; under a business id every entry of the use case counts", () => {
    const both = bucHeader({ "1000001": [entry("ads_management", 10)], "66782684": [entry("ads_management", 95)] })
    expect(readUsage(both, "1000001", "ads_management")?.percent).toBe(10)
    const business = bucHeader({ "66782684": [entry("ads_management", 95)], "10153848260347724": [entry("ads_management", 97)] })
    expect(readUsage(business, "1000001", "ads_management")?.percent).toBe(97)
  })

  it("adds X-FB-Ads-Insights-Throttle for insights, and says nothing when no header (or a garbled one) came", () => {
    const headers = new Headers({ "x-fb-ads-insights-throttle": JSON.stringify({ app_id_util_pct: 12, acc_id_util_pct: 93, ads_api_access_tier: "standard_access" }) })
    expect(readUsage(headers, "1", "ads_insights")?.percent).toBe(93)
    expect(readUsage(headers, "1", "ads_management")).toBeUndefined()
    expect(readUsage(new Headers({ "x-business-use-case-usage": "{not json" }), "1", "ads_management")).toBeUndefined()
  })
})

describe("the usage governor", () => {
  const options: GovernorOptions = { throttleAtPercent: 90, maxDelayMs: 60_000, maxInFlight: 10 }
  const model = (m: Partial<UsageModel>): UsageModel => ({ ...emptyModel, ...m })

  it("sends one probe until Meta has reported usage", () => {
    expect(decide(emptyModel, options, 0)).toEqual({ _tag: "send" })
    expect(decide(model({ inFlight: 1 }), options, 0)).toEqual({ _tag: "await-answer" })
  })

  it("below the threshold, lets calls go together as long as the projected usage stays below it", () => {
    expect(decide(model({ percent: 50, perCall: 3, inFlight: 10 - 1 }), options, 0)).toEqual({ _tag: "send" }) // 50 + 27 + 3 < 90
    expect(decide(model({ percent: 50, perCall: 3, inFlight: 13 }), { ...options, maxInFlight: 20 }, 0)).toEqual({ _tag: "await-answer" }) // 50 + 39 + 3 ≥ 90
    expect(decide(model({ percent: 10, perCall: 1, inFlight: 10 }), options, 0)).toEqual({ _tag: "await-answer" }) // the in-flight cap
  })

  it("from the threshold, delays each call after the last answer in proportion to the usage past it", () => {
    const at95 = model({ percent: 95, perCall: 2, observedAt: 1_000 })
    expect(decide(at95, options, 1_000)).toEqual({ _tag: "sleep", ms: 30_000 }) // half-way from 90 to 100
    expect(decide(at95, options, 31_000)).toEqual({ _tag: "send" })
    expect(decide(model({ percent: 90, perCall: 2, observedAt: 1_000 }), options, 1_000)).toEqual({ _tag: "send" })
    expect(decide({ ...at95, inFlight: 1 }, options, 50_000)).toEqual({ _tag: "await-answer" }) // one at a time
    // The next call could reach 100 %: the longest delay.
    expect(decide(model({ percent: 99, perCall: 2, observedAt: 0 }), options, 0)).toEqual({ _tag: "sleep", ms: 60_000 })
  })

  it("holds every call while Meta says access is lost", () => {
    const [reserved, ticket] = reserve(model({ percent: 20, reportSeq: 0 }))
    const blocked = settle(reserved, ticket, { percent: 100, regainMs: 180_000, describe: "" }, 5_000)
    expect(blocked).toMatchObject({ inFlight: 0, percent: 100, blockedUntil: 185_000 })
    expect(decide(blocked, options, 5_000)).toEqual({ _tag: "sleep", ms: 180_000 })
  })

  it("learns the share of one call from successive reports (rounded up), and ignores a report older than the last one", () => {
    let m = emptyModel
    const [a, t1] = reserve(m)
    const [b, t2] = reserve(a)
    m = settle(b, t2, { percent: 4, regainMs: 0, describe: "" }, 10) // 2 calls, 4 % → (4 + 1) / 2
    expect(m).toMatchObject({ percent: 4, perCall: 2.5, reportSeq: 2, inFlight: 1 })
    m = settle(m, t1, { percent: 2, regainMs: 0, describe: "" }, 11) // answered later, sent earlier: stale
    expect(m).toMatchObject({ percent: 4, reportSeq: 2, inFlight: 0 })
  })
})

describe("classify: Graph API answers", () => {
  const body = (code: number, extra: Record<string, unknown> = {}) => ({ error: { message: `(#${code}) m`, type: "OAuthException", code, fbtrace_id: "A", ...extra } })

  it("sorts Meta's codes into the platform errors", () => {
    expect(classify(400, body(190, { error_subcode: 463 }), undefined)).toMatchObject({ _tag: "auth" })
    expect(classify(400, body(80004, { error_subcode: 2446079 }), { percent: 100, regainMs: 120_000, describe: "ads_management call_count 100%" })).toMatchObject({
      _tag: "throttled",
      regainMs: 120_000,
      signal: "error 80004/2446079; X-Business-Use-Case-Usage ads_management call_count 100%"
    })
    expect(classify(400, body(17, { is_transient: true }), undefined)).toMatchObject({ _tag: "throttled", regainMs: undefined })
    expect(classify(500, body(2, { is_transient: true }), undefined)).toMatchObject({ _tag: "unavailable" })
    expect(classify(400, body(100, { error_subcode: 33 }), undefined)).toMatchObject({ _tag: "rejected", code: "100/33" })
    expect(classify(502, undefined, undefined)).toMatchObject({ _tag: "unavailable" })
    expect(classify(200, { success: true }, undefined)).toEqual({ _tag: "ok", body: { success: true } })
    expect([4, 17, 32, 613, 80000, 80004, 80014].every(isThrottleCode)).toBe(true)
    expect([1, 2, 100, 190, 80015].some(isThrottleCode)).toBe(false)
  })
})

describe("Meta's money in micros", () => {
  it("converts decimal strings digit by digit", () => {
    expect(decimalToMicros("12.34")).toBe(12_340_000)
    expect(decimalToMicros("0.29")).toBe(290_000) // 0.29 * 1e6 is 289999.99999999994 in floating point
    expect(decimalToMicros("5339.5")).toBe(5_339_500_000)
    expect(decimalToMicros("1234")).toBe(1_234_000_000)
    expect(decimalToMicros("0.0000005")).toBe(1)
    expect(decimalToMicros("-1.5")).toBe(-1_500_000)
    expect(decimalToMicros("1e3")).toBeUndefined()
    expect(countOf("4210")).toBe(4210)
    expect(countOf("x")).toBeUndefined()
  })

  it("scales minor units by the currency's offset (cents for USD, whole yen for JPY) and rounds micros to them", () => {
    expect(minorToMicros(2_000, "USD")).toBe(20_000_000)
    expect(minorToMicros(2_000, "JPY")).toBe(2_000_000_000)
    expect(microsToMinor(20_004_999, "USD")).toBe(2_000)
    expect(microsToMinor(20_005_000, "USD")).toBe(2_001)
    expect(microsToMinor(1_500_000_000, "krw")).toBe(1_500)
  })
})
