/**
 * The intelligence plane's pure detectors (`domain/intelligence/`), on hand-made Search Console
 * and ad-insight rows: content decay at its thresholds and exact 14-day window boundaries,
 * opportunities, cannibalism (with ties), snippets lost and gained, keyword gaps, spend anomalies
 * by Z-score (too short and flat baselines judge nothing), keyword ROAS against the account,
 * episodes that fire once per condition, and — as a property — no NaN, no infinity and no throw
 * on arbitrary rows.
 */
import fc from "fast-check"
import { Schema } from "effect"
import { describe, expect, it } from "vitest"
import { type AdInsightRow, keywordPerformance, keywordStats, spendAnomalies } from "../../../domain/intelligence/adsDetectors.ts"
import { ActiveEpisodes, episodeKey, fromStoredEpisodes, nextEpisodes, startedFindings, toStoredEpisodes } from "../../../domain/intelligence/episodes.ts"
import { cannibalism, contentDecay, keywordGaps, opportunities, type SearchRow, snippetChanges } from "../../../domain/intelligence/seoDetectors.ts"
import { addDays, dateRange, dayNumber, daysBetween, mean, sampleStd, windowEnding, zScore } from "../../../domain/intelligence/stats.ts"

const row = (date: string, page: string, query: string, clicks: number, impressions = clicks * 10, position = 5, searchAppearance: string | null = null): SearchRow =>
  ({ date, page, query, clicks, impressions, position, searchAppearance })

/** `clicks` spread over the given days (the remainder on the first), one row a day. */
const spread = (page: string, days: ReadonlyArray<string>, clicks: number): ReadonlyArray<SearchRow> =>
  days.map((d, i) => row(d, page, "q", Math.floor(clicks / days.length) + (i === 0 ? clicks % days.length : 0)))

const ASOF = "2026-03-31"
const NOW = dateRange("2026-03-18", "2026-03-31") // asOf−13 … asOf
const PRIOR = dateRange("2026-03-04", "2026-03-17") // asOf−27 … asOf−14
const WINDOW = { from: "2026-03-01", to: "2026-03-28" }

describe("stats", () => {
  it("mean and sample std (n − 1); nothing to say about fewer points or non-finite values", () => {
    expect(mean([1, 2, 3, 4])).toBe(2.5)
    expect(sampleStd([2, 4, 4, 4, 5, 5, 7, 9])).toBeCloseTo(Math.sqrt(32 / 7), 12)
    expect(mean([])).toBeNull()
    expect(sampleStd([5])).toBeNull()
    expect(mean([1, Number.NaN])).toBeNull()
    expect(sampleStd([0.1, 0.1, 0.1])).toBe(0)
  })

  it("a Z-score is null, not an infinity, without two baseline points or without spread", () => {
    expect(zScore(10, [1, 2, 3])).toBeCloseTo((10 - 2) / 1, 12)
    expect(zScore(10, [5])).toBeNull()
    expect(zScore(200, Array(28).fill(100))).toBeNull()
    expect(zScore(500, Array(28).fill(100.1))).toBeNull()
    expect(zScore(1, Array(3).fill(0.1))).toBeNull() // 0.1 × 3 / 3 is not 0.1 in floats
    expect(zScore(0.4, [0.1 + 0.2, 0.3, 0.3, 0.3])).toBeNull() // one ulp apart: float noise, not spread
    expect(zScore(Number.POSITIVE_INFINITY, [1, 2, 3])).toBeNull()
  })

  it("day arithmetic across month ends, leap days and years, without Date", () => {
    expect(addDays("2024-02-28", 1)).toBe("2024-02-29")
    expect(addDays("2023-02-28", 1)).toBe("2023-03-01")
    expect(addDays("2026-01-01", -1)).toBe("2025-12-31")
    expect(addDays("2026-03-29", 1)).toBe("2026-03-30") // a DST night in Europe changes nothing
    expect(daysBetween("2026-03-04", "2026-03-31")).toBe(27)
    expect(dateRange("2026-02-27", "2026-03-02")).toEqual(["2026-02-27", "2026-02-28", "2026-03-01", "2026-03-02"])
    expect(dateRange("2026-03-02", "2026-03-01")).toEqual([])
    expect(windowEnding(ASOF, 14)).toEqual({ from: "2026-03-18", to: ASOF })
    for (const bad of ["2026-02-29", "2026-13-01", "2026-1-01", "", "2026-03-31T00:00:00Z"]) {
      expect(dayNumber(bad)).toBeNull()
      expect(addDays(bad, 1)).toBeNull()
    }
  })

  it("agrees with UTC calendar arithmetic on any day and offset", () => {
    fc.assert(fc.property(fc.integer({ min: -700_000, max: 2_900_000 }), fc.integer({ min: -5000, max: 5000 }), (n, k) => {
      const iso = (ms: number) => new Date(ms).toISOString().slice(0, 10)
      const day = iso(n * 86_400_000)
      expect(dayNumber(day)).toBe(n)
      const later = addDays(day, k)
      if (n + k >= -719_528 && n + k <= 2_932_896) expect(later).toBe(iso((n + k) * 86_400_000))
      if (later !== null) expect(daysBetween(day, later)).toBe(k)
    }))
  })
})

describe("content decay", () => {
  it("a page losing 35 % of 60 prior clicks decays; 25 % does not; 40 % of 30 prior clicks does not", () => {
    const rows = [
      ...spread("/fell-35", PRIOR, 60), ...spread("/fell-35", NOW, 39),
      ...spread("/fell-25", PRIOR, 60), ...spread("/fell-25", NOW, 45),
      ...spread("/small-40", PRIOR, 30), ...spread("/small-40", NOW, 18)
    ]
    expect(contentDecay(rows, ASOF)).toEqual([{ page: "/fell-35", dropPct: 35, priorClicks: 60, nowClicks: 39 }])
  })

  it("the threshold is inclusive and follows the shop's settings", () => {
    const rows = [...spread("/p", PRIOR, 100), ...spread("/p", NOW, 70)]
    expect(contentDecay(rows, ASOF).map((d) => d.dropPct)).toEqual([30])
    expect(contentDecay(rows, ASOF, { decayDropPct: 31 })).toEqual([])
    expect(contentDecay(rows, ASOF, { minPriorClicks: 101 })).toEqual([])
  })

  it("the windows are exactly asOf−13 … asOf against asOf−27 … asOf−14", () => {
    const rows = [
      row("2026-03-03", "/edge", "q", 1000), // asOf−28: before both windows
      row("2026-03-04", "/edge", "q", 40), // asOf−27: prior
      row("2026-03-17", "/edge", "q", 20), // asOf−14: prior
      row("2026-03-18", "/edge", "q", 12), // asOf−13: now
      row("2026-03-31", "/edge", "q", 3), // asOf: now
      row("2026-04-01", "/edge", "q", 1000) // after asOf: not final, not seen
    ]
    expect(contentDecay(rows, ASOF)).toEqual([{ page: "/edge", dropPct: 75, priorClicks: 60, nowClicks: 15 }])
  })

  it("a page with no rows now dropped 100 %; dropPct has one decimal; sorted by clicks lost", () => {
    const rows = [
      ...spread("/gone", PRIOR, 50),
      ...spread("/third", PRIOR, 300), ...spread("/third", NOW, 200), // lost 100, 33.333…%
      ...spread("/a", PRIOR, 60), ...spread("/a", NOW, 39) // lost 21
    ]
    expect(contentDecay(rows, ASOF)).toEqual([
      { page: "/third", dropPct: 33.3, priorClicks: 300, nowClicks: 200 },
      { page: "/gone", dropPct: 100, priorClicks: 50, nowClicks: 0 },
      { page: "/a", dropPct: 35, priorClicks: 60, nowClicks: 39 }
    ])
  })

  it("appearance rows are a breakdown of the plain rows, not more clicks", () => {
    const rows = [...spread("/p", PRIOR, 60), ...spread("/p", NOW, 39), row("2026-03-20", "/p", "q", 30, 300, 1, "FEATURED_SNIPPET")]
    expect(contentDecay(rows, ASOF)).toEqual([{ page: "/p", dropPct: 35, priorClicks: 60, nowClicks: 39 }])
  })

  it("a malformed asOf finds nothing", () => {
    expect(contentDecay([...spread("/p", PRIOR, 60)], "2026-02-30")).toEqual([])
  })
})

describe("opportunities", () => {
  it("(page, query) at an impression-weighted position of 8–20 with 100+ impressions, by impressions", () => {
    const rows = [
      // weighted (900·10 + 100·40) / 1000 = 13, though the plain mean of 10 and 40 is 25
      row("2026-03-02", "/blue", "blue hat", 20, 900, 10), row("2026-03-03", "/blue", "blue hat", 1, 100, 40),
      row("2026-03-02", "/red", "red hat", 50, 500, 5), // page one already
      row("2026-03-02", "/green", "green hat", 2, 99, 12), // too few impressions
      row("2026-03-02", "/sale", "hat sale", 3, 150, 20), // the band's edge
      row("2026-03-02", "/wool", "wool hat", 3, 120, 8), // the other edge
      row("2026-02-28", "/old", "old hat", 3, 5000, 12) // before the window
    ]
    expect(opportunities(rows, WINDOW)).toEqual([
      { url: "/blue", query: "blue hat", impressions: 1000, clicks: 21, position: 13, ctr: 0.021 },
      { url: "/sale", query: "hat sale", impressions: 150, clicks: 3, position: 20, ctr: 0.02 },
      { url: "/wool", query: "wool hat", impressions: 120, clicks: 3, position: 8, ctr: 0.025 }
    ])
  })
})

describe("cannibalism", () => {
  it("pages each taking ≥ 20 % of a query's impressions compete; the stronger has more clicks", () => {
    const rows = [
      row("2026-03-02", "/a", "wool hat", 30, 500, 4),
      row("2026-03-02", "/b", "wool hat", 10, 300, 9),
      row("2026-03-02", "/c", "wool hat", 1, 100, 30), // 100 / 900 = 11 %
      row("2026-03-02", "/x", "small", 1, 40, 5), row("2026-03-02", "/y", "small", 1, 40, 6) // 80 impressions
    ]
    expect(cannibalism(rows, WINDOW)).toEqual([{ query: "wool hat", strongerUrl: "/a", weakerUrl: "/b", strongerClicks: 30, weakerClicks: 10 }])
    expect(cannibalism(rows, WINDOW, { cannibalShare: 10 }).map((c) => c.weakerUrl)).toEqual(["/b", "/c"])
  })

  it("ties in clicks go to more impressions, then to the smaller URL, whatever the rows' order", () => {
    const rows = [
      row("2026-03-02", "/x", "tie", 10, 200, 5), row("2026-03-02", "/y", "tie", 10, 300, 6),
      row("2026-03-02", "/n", "dead heat", 10, 200, 5), row("2026-03-02", "/m", "dead heat", 10, 200, 5)
    ]
    const expected = [
      { query: "tie", strongerUrl: "/y", weakerUrl: "/x", strongerClicks: 10, weakerClicks: 10 },
      { query: "dead heat", strongerUrl: "/m", weakerUrl: "/n", strongerClicks: 10, weakerClicks: 10 }
    ]
    expect(cannibalism(rows, WINDOW)).toEqual(expected)
    expect(cannibalism([...rows].reverse(), WINDOW)).toEqual(expected)
  })
})

describe("snippets", () => {
  const previous = { from: "2026-03-01", to: "2026-03-14" }
  const current = { from: "2026-03-15", to: "2026-03-28" }
  it("a FEATURED_SNIPPET in one window and not the other is lost or gained, with the position now", () => {
    const rows = [
      row("2026-03-05", "/lost", "q1", 40, 200, 1, "FEATURED_SNIPPET"), row("2026-03-05", "/lost", "q1", 40, 200, 1),
      row("2026-03-20", "/lost", "q1", 5, 200, 4),
      row("2026-03-05", "/won", "q2", 5, 100, 3),
      row("2026-03-20", "/won", "q2", 30, 100, 1, "FEATURED_SNIPPET"), row("2026-03-20", "/won", "q2", 30, 100, 1.5),
      row("2026-03-05", "/kept", "q3", 30, 100, 1, "FEATURED_SNIPPET"), row("2026-03-20", "/kept", "q3", 30, 100, 1, "FEATURED_SNIPPET"),
      row("2026-02-20", "/old", "q4", 30, 100, 1, "FEATURED_SNIPPET"), // outside both windows
      row("2026-03-05", "/vanished", "q5", 30, 100, 2, "FEATURED_SNIPPET") // no rows now: the previous position
    ]
    expect(snippetChanges(rows, previous, current)).toEqual({
      lost: [{ url: "/lost", query: "q1", position: 4 }, { url: "/vanished", query: "q5", position: 2 }],
      gained: [{ url: "/won", query: "q2", position: 1.5 }]
    })
  })
})

describe("keyword gaps", () => {
  it("a query with 50+ impressions and no page at an average position of 20 or better, with the best page's", () => {
    const rows = [
      row("2026-03-02", "/a", "cashmere scarf", 0, 10, 22), row("2026-03-03", "/a", "cashmere scarf", 0, 30, 40), // /a: 35.5
      row("2026-03-02", "/b", "cashmere scarf", 1, 40, 30), // /b: 30, the best
      row("2026-03-02", "/a", "hat", 5, 150, 40), row("2026-03-02", "/b", "hat", 5, 50, 15), // /b ranks
      row("2026-03-02", "/a", "rare", 0, 40, 50) // too few impressions
    ]
    expect(keywordGaps(rows, WINDOW)).toEqual([{ query: "cashmere scarf", impressions: 80, position: 30 }])
  })

  it("a query whose rows have no usable position is a gap with position null", () => {
    expect(keywordGaps([row("2026-03-02", "/a", "odd", 0, 60, Number.NaN)], WINDOW)).toEqual([{ query: "odd", impressions: 60, position: null }])
  })
})

// --- ads -------------------------------------------------------------------------------------

const ad = (date: string, campaignId: string, spend: number, extra: Partial<AdInsightRow> = {}): AdInsightRow => ({
  date, platform: "google", accountId: "acc-1", campaignId, adGroupId: null, keyword: null,
  spend, clicks: 10, impressions: 100, conversions: 1, conversionValue: 0, currency: "EUR", ...extra
})
const TODAY = "2026-03-29"
const BASELINE = dateRange("2026-03-01", "2026-03-28") // the 28 days before TODAY
const wobble = (i: number) => 100 + [-5, 0, 5, 3, -3][i % 5]!

describe("spend anomalies", () => {
  it("a day at 200 against 28 days of about 100 ± 5 is anomalous (z ≫ 3); a normal day is not", () => {
    const rows = [...BASELINE.map((d, i) => ad(d, "spiked", wobble(i))), ad(TODAY, "spiked", 200), ...BASELINE.map((d, i) => ad(d, "calm", wobble(i))), ad(TODAY, "calm", 104)]
    const found = spendAnomalies(rows, TODAY)
    expect(found.map((f) => f.campaignId)).toEqual(["spiked"])
    const [f] = found
    const baseline = BASELINE.map((_, i) => wobble(i))
    expect(f).toMatchObject({ platform: "google", accountId: "acc-1", date: TODAY, spend: 200, baselineMean: mean(baseline), baselineStd: sampleStd(baseline) })
    expect(f!.zScore).toBeGreaterThan(20)
  })

  it("a drop to 0 is anomalous too, with a negative z", () => {
    const rows = [...BASELINE.map((d, i) => ad(d, "c", wobble(i))), ad(TODAY, "c", 0)]
    expect(spendAnomalies(rows, TODAY)[0]!.zScore).toBeLessThan(-3)
  })

  it("fewer than 7 baseline days judge nothing; 7 do", () => {
    const six = [...dateRange("2026-03-23", "2026-03-28").map((d, i) => ad(d, "new", wobble(i))), ad(TODAY, "new", 200)]
    expect(spendAnomalies(six, TODAY)).toEqual([])
    const seven = [ad("2026-03-22", "new", 100), ...six]
    expect(spendAnomalies(seven, TODAY).map((f) => f.campaignId)).toEqual(["new"])
  })

  it("a flat baseline (std 0) judges nothing and does not throw", () => {
    for (const level of [100, 100.1, 0.1, 0]) {
      const rows = [...BASELINE.map((d) => ad(d, "flat", level)), ad(TODAY, "flat", 500)]
      expect(spendAnomalies(rows, TODAY)).toEqual([])
    }
  })

  it("missing days inside the campaign's life count as 0 spend; days before its first row do not count", () => {
    // Every other day at 100, today 300: zero-filled, the baseline is 100, 0, 100, … (z ≈ 4.9).
    const everyOther = [...BASELINE.filter((_, i) => i % 2 === 0).map((d) => ad(d, "alt", 100)), ad(TODAY, "alt", 300)]
    expect(spendAnomalies(everyOther, TODAY).map((f) => [f.campaignId, Number(f.baselineMean.toFixed(2))])).toEqual([["alt", 50]])
    // Launched 10 days ago at about 100: today's 110 is ordinary, not 18 invented zeros away.
    const launched = [...dateRange("2026-03-19", "2026-03-28").map((d, i) => ad(d, "launch", wobble(i))), ad(TODAY, "launch", 110)]
    expect(spendAnomalies(launched, TODAY)).toEqual([])
  })

  it("a campaign with no row on the day, rows after the day, and finer rows under campaign rows", () => {
    const base = BASELINE.map((d, i) => ad(d, "c", wobble(i)))
    expect(spendAnomalies(base, TODAY)).toEqual([]) // no data for today yet
    expect(spendAnomalies([...base, ad(TODAY, "c", 100), ad("2026-03-30", "c", 5000)], TODAY)).toEqual([])
    const keywordsToo = [...base, ad(TODAY, "c", 100), ad(TODAY, "c", 150, { adGroupId: "g", keyword: "hat" }), ad(TODAY, "c", 150, { adGroupId: "g", keyword: "cap" })]
    expect(spendAnomalies(keywordsToo, TODAY)).toEqual([]) // the keywords' 300 is inside the campaign's 100's level, not added
    const keywordsOnly = BASELINE.flatMap((d, i) => [ad(d, "k", wobble(i) / 2, { keyword: "a" }), ad(d, "k", wobble(i) / 2, { keyword: "b" })])
    expect(spendAnomalies([...keywordsOnly, ad(TODAY, "k", 100, { keyword: "a" }), ad(TODAY, "k", 100, { keyword: "b" })], TODAY).map((f) => f.spend)).toEqual([200])
  })
})

describe("keyword performance", () => {
  const kw = (keyword: string, roas: number, extra: Partial<AdInsightRow> = {}) =>
    ad("2026-03-10", "c", 100, { adGroupId: "g", keyword, clicks: 30, conversionValue: roas * 100, conversions: 2, ...extra })

  it("a keyword's ROAS far below its account's other keywords under-performs; far above over-performs", () => {
    const rows = [
      ...[3.0, 3.2, 2.8, 3.1, 2.9].map((r, i) => kw(`good ${i}`, r)), kw("dud", 0.2),
      // a second account, exactly five keywords: reachable only because each is compared with the others
      ...[2, 2.1, 1.9, 2.05].map((r, i) => kw(`fine ${i}`, r, { accountId: "acc-2" })), kw("star", 8, { accountId: "acc-2" })
    ]
    const { underperforming, overperforming } = keywordPerformance(rows, WINDOW)
    expect(underperforming.map((k) => [k.accountId, k.keyword, k.metric, Number(k.value.toFixed(6))])).toEqual([["acc-1", "dud", "roas", 0.2]])
    expect(underperforming[0]!.zScore).toBeCloseTo(zScore(0.2, [3.0, 3.2, 2.8, 3.1, 2.9])!, 6)
    expect(overperforming.map((k) => [k.accountId, k.campaignId, k.adGroupId, k.keyword])).toEqual([["acc-2", "c", "g", "star"]])
    expect(overperforming[0]!.zScore).toBeGreaterThan(2)
  })

  it("fewer than five judged keywords in the account say nothing; too few clicks or too little spend are not judged", () => {
    const four = [...[3.0, 3.2, 2.8].map((r, i) => kw(`good ${i}`, r)), kw("dud", 0.2)]
    const unjudged = [kw("few clicks", 3, { clicks: 19 }), kw("cheap", 3, { spend: 9.99, conversionValue: 30 })]
    expect(keywordPerformance([...four, ...unjudged], WINDOW)).toEqual({ underperforming: [], overperforming: [] })
    expect(keywordPerformance([...four, kw("enough", 3, { clicks: 20, spend: 10, conversionValue: 30 })], WINDOW).underperforming.map((k) => k.keyword)).toEqual(["dud"])
  })

  it("a keyword's totals are summed over the window's days only; ROAS and CPA are null without spend or conversions", () => {
    const rows = [
      kw("hat", 2, { date: "2026-03-01", conversions: 0 }), kw("hat", 4, { date: "2026-03-28", conversions: 4 }), kw("hat", 9, { date: "2026-03-29" }),
      kw("free", 0, { spend: 0, conversions: 0 })
    ]
    const stats = keywordStats(rows, WINDOW)
    expect(stats.find((k) => k.keyword === "hat")).toMatchObject({ spend: 200, clicks: 60, conversions: 4, conversionValue: 600, roas: 3, cpa: 50 })
    expect(stats.find((k) => k.keyword === "free")).toMatchObject({ roas: null, cpa: null })
  })
})

describe("episodes", () => {
  it("a page decayed three days in a row starts one episode; it recovers (ended); it decays again (a new start)", () => {
    const key = episodeKey("decay", "/blogs/news/winter-care")
    expect(key).toBe("decay:/blogs/news/winter-care")
    const days: ReadonlyArray<ReadonlyArray<string>> = [[key], [key], [key], [], [key]]
    let active: ReadonlySet<string> = new Set()
    const log: Array<[ReadonlyArray<string>, ReadonlyArray<string>]> = []
    for (const found of days) {
      // each day's active set goes through its stored form, as it would through an event
      const step = nextEpisodes(active, found)
      log.push([step.started, step.ended])
      const stored = Schema.decodeUnknownSync(ActiveEpisodes)(JSON.parse(JSON.stringify(toStoredEpisodes(step.active))))
      active = fromStoredEpisodes(stored)
    }
    expect(log).toEqual([[[key], []], [[], []], [[], []], [[], [key]], [[key], []]])
  })

  it("each detector's findings are emitted once per episode, duplicates once", () => {
    const keyOf = (d: { readonly page: string }) => episodeKey("decay", d.page)
    const first = startedFindings(new Set(), [{ page: "/a" }, { page: "/b" }, { page: "/a" }], keyOf)
    expect(first.emit).toEqual([{ page: "/a" }, { page: "/b" }])
    const second = startedFindings(first.step.active, [{ page: "/b" }, { page: "/c" }], keyOf)
    expect(second.emit).toEqual([{ page: "/c" }])
    expect(second.step.ended).toEqual(["decay:/a"])
    expect(toStoredEpisodes(second.step.active)).toEqual(["decay:/b", "decay:/c"])
  })

  it("keys of different parts never collide", () => {
    expect(episodeKey("cannibal", "a|b", "c")).not.toBe(episodeKey("cannibal", "a", "b|c"))
    expect(episodeKey("cannibal", "a\\", "|b")).not.toBe(episodeKey("cannibal", "a\\|", "b"))
  })
})

// --- properties ------------------------------------------------------------------------------

/** Every number anywhere in a value is finite. */
const allFinite = (v: unknown): boolean =>
  typeof v === "number" ? Number.isFinite(v)
    : Array.isArray(v) ? v.every(allFinite)
      : v instanceof Set ? [...v].every(allFinite)
        : typeof v === "object" && v !== null ? Object.values(v).every(allFinite)
          : true

const day = fc.oneof(
  { weight: 9, arbitrary: fc.integer({ min: 0, max: 70 }).map((i) => addDays("2026-02-01", i)!) },
  { weight: 1, arbitrary: fc.constantFrom("2026-02-30", "", "yesterday", "2026-3-1", "9999-12-31", "0000-01-01") }
)
const num = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 0, max: 500 }) },
  { weight: 2, arbitrary: fc.double() },
  { weight: 1, arbitrary: fc.constantFrom(0, -1, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 5e-324) },
  { weight: 1, arbitrary: fc.constantFrom(Number.MAX_VALUE, 1e308, 1e300) } // sums overflow
)
const name = (xs: ReadonlyArray<string>) => fc.constantFrom(...xs)
const searchRow: fc.Arbitrary<SearchRow> = fc.record({
  date: day, page: name(["/a", "/b", "/c", ""]), query: name(["hat", "cap", "wool|hat", ""]),
  clicks: num, impressions: num, position: num,
  searchAppearance: fc.constantFrom(null, undefined, "FEATURED_SNIPPET", "VIDEO", "")
})
const adRow: fc.Arbitrary<AdInsightRow> = fc.record({
  date: day, platform: fc.constantFrom("google", "meta", "tiktok", "microsoft"), accountId: name(["a1", "a2", ""]), campaignId: name(["c1", "c2", ""]),
  adGroupId: fc.constantFrom(null, undefined, "g1", "g2", ""), keyword: fc.constantFrom(null, undefined, "k1", "k2", "k3", "k4", "k5", "k6", ""),
  spend: num, clicks: num, impressions: num, conversions: num, conversionValue: num, currency: fc.constant("EUR")
})
const window = fc.tuple(day, day).map(([from, to]) => ({ from, to }))
const settingValue = fc.option(num, { nil: undefined })

describe("properties", () => {
  it("sums that overflow drop the finding rather than report an infinity", () => {
    const huge = Number.MAX_VALUE
    const seo = [
      row("2026-03-05", "/p", "q", huge, huge, 10), row("2026-03-06", "/p", "q", huge, huge, 10),
      row("2026-03-05", "/o", "q", huge, huge, 12), row("2026-03-06", "/o", "q", 1, 1, 12)
    ]
    expect(contentDecay(seo, ASOF).map((d) => d.page)).toEqual(["/o"]) // /p's clicks overflowed; /o's did not
    expect(opportunities(seo, WINDOW)).toEqual([])
    expect(cannibalism(seo, WINDOW)).toEqual([])
    expect(keywordGaps(seo, WINDOW, { gapMaxPosition: 1 })).toEqual([])
    const ads = [...BASELINE.map((d, i) => ad(d, "c", wobble(i))), ad(TODAY, "c", huge), ad(TODAY, "c", huge)]
    expect(spendAnomalies(ads, TODAY)).toEqual([])
    const kw = (keyword: string, roas: number, clicks = 30) => ad("2026-03-10", "c", 100, { keyword, clicks, conversionValue: roas * 100 })
    const keywords = [...[3.0, 3.2, 2.8, 3.1, 2.9].map((r, i) => kw(`good ${i}`, r)), kw("garbage", 0.2, huge), kw("garbage", 0.2, huge)]
    expect(keywordPerformance(keywords, WINDOW).underperforming).toEqual([]) // its clicks overflowed: not judged
    expect(spendAnomalies([...BASELINE.map((d, i) => ad(d, "c", i % 2 === 0 ? huge : 0)), ad(TODAY, "c", 1)], TODAY).every((f) => allFinite(f))).toBe(true)
  })

  it("detectors never throw and never return NaN or an infinity, whatever the rows and settings", () => {
    fc.assert(fc.property(fc.array(searchRow, { maxLength: 80 }), fc.array(adRow, { maxLength: 80 }), day, window, window, settingValue, settingValue, (seo, ads, asOf, w1, w2, a, b) => {
      const seoSettings = { ...(a === undefined ? {} : { minPriorClicks: a, cannibalShare: a }), ...(b === undefined ? {} : { decayDropPct: b, gapMaxPosition: b }) }
      const adsSettings = { ...(a === undefined ? {} : { spendZ: a, minClicks: a }), ...(b === undefined ? {} : { keywordZ: b, spendBaselineDays: b }) }
      const outputs = [
        contentDecay(seo, asOf, seoSettings), opportunities(seo, w1, seoSettings), cannibalism(seo, w1, seoSettings),
        snippetChanges(seo, w1, w2), keywordGaps(seo, w2, seoSettings),
        spendAnomalies(ads, asOf, adsSettings), keywordPerformance(ads, w1, adsSettings), keywordStats(ads, w2)
      ]
      expect(outputs.every(allFinite), JSON.stringify(outputs)).toBe(true)
    }), { numRuns: 300 })
  })

  it("findings fire on dense random data too (the property above is not vacuous)", () => {
    const realistic = searchRow.map((r) => ({ ...r, clicks: Math.abs(Math.round(r.clicks)) % 1000 || 1, impressions: Math.abs(Math.round(r.impressions)) % 1000 || 1, position: Math.abs(r.position) % 50 || 1 }))
    const [seo] = fc.sample(fc.array(realistic, { minLength: 400, maxLength: 400 }), { numRuns: 1, seed: 7 })
    const everywhere = { from: "2026-02-01", to: "2026-04-12" }
    expect(opportunities(seo!, everywhere, { opportunityMinImpressions: 0, opportunityMinPosition: 0, opportunityMaxPosition: 1e9 }).length).toBeGreaterThan(0)
    expect(cannibalism(seo!, everywhere, { cannibalMinImpressions: 0, cannibalShare: 0 }).length).toBeGreaterThan(0)
  })
})
