/**
 * The SEO detectors of the intelligence plane: pure functions from Search Console rows to the
 * findings behind `seo.content_decay_detected`, `seo.opportunity_found`,
 * `seo.cannibalism_detected`, `seo.snippet_lost` / `seo.snippet_gained` and
 * `seo.keyword_gap_detected` (their per-resource payloads are in `automation/Triggers.ts`; each
 * finding here has exactly those fields, so the emit site only adds `resourceType` and
 * `resourceId`).
 *
 * Rows are Search Console's `(date, page, query)` rows. A row carrying a `searchAppearance` is
 * the *breakdown* Search Console gives by appearance (its API answers appearance data only by a
 * second query filtered on the appearance), so its clicks and impressions are already counted in
 * the plain rows: the metric detectors read only plain rows (no appearance), and
 * `snippetChanges` reads the appearance rows for membership. Summing both would double-count.
 *
 * Every detector is total and deterministic: rows with a malformed day, an empty page or query
 * are skipped; a non-finite or negative count counts as 0; a non-finite or non-positive position
 * carries no weight; a finding whose arithmetic overflowed is dropped. Outputs are sorted with
 * full tie-breaks, so the same rows always give the same findings in the same order.
 */
import { type DateWindow, dayNumber, windowDays } from "./stats.ts"

/** One Search Console row (a day, a page, a query), as the ingester stores it. */
export interface SearchRow {
  /** `YYYY-MM-DD`, Search Console's (Pacific) day. */
  readonly date: string
  /** The page's URL. */
  readonly page: string
  readonly query: string
  readonly clicks: number
  readonly impressions: number
  /** Average position that day (1 = top); aggregated weighted by impressions. */
  readonly position: number
  /** Set on the rows of an appearance breakdown (e.g. `"FEATURED_SNIPPET"`); absent or null on plain rows. */
  readonly searchAppearance?: string | null | undefined
}

/** The appearance `snippetChanges` looks for. */
export const FEATURED_SNIPPET = "FEATURED_SNIPPET"

/** The days of each window `contentDecay` compares (the seed's 14-day baseline, `baselineDays`). */
export const DECAY_WINDOW_DAYS = 14

/** A shop's SEO detector settings. Percentages are 0–100, like the findings' `dropPct`. */
export interface SeoSettings {
  /** Content decay: the prior window's clicks a page needs before a drop means anything. */
  readonly minPriorClicks: number
  /** Content decay: the drop, in percent of the prior window's clicks, that counts as decay. */
  readonly decayDropPct: number
  /** Opportunities: the impressions a (page, query) needs over the window. */
  readonly opportunityMinImpressions: number
  /** Opportunities: the band of average positions "just off page one" (inclusive). */
  readonly opportunityMinPosition: number
  readonly opportunityMaxPosition: number
  /** Cannibalism: the share of the query's impressions, in percent, each competing page takes. */
  readonly cannibalShare: number
  /** Cannibalism: the impressions the query needs over the window. */
  readonly cannibalMinImpressions: number
  /** Keyword gaps: the impressions the query needs over the window. */
  readonly gapMinImpressions: number
  /** Keyword gaps: a page at this average position or better means the shop has a page for the query. */
  readonly gapMaxPosition: number
}

/** The defaults a shop's settings fall back to, field by field. */
export const DEFAULT_SEO_SETTINGS: SeoSettings = {
  minPriorClicks: 50,
  decayDropPct: 30,
  opportunityMinImpressions: 100,
  opportunityMinPosition: 8,
  opportunityMaxPosition: 20,
  cannibalShare: 20,
  cannibalMinImpressions: 100,
  gapMinImpressions: 50,
  gapMaxPosition: 20
}

/** A page whose clicks fell: the `seo.content_decay_detected` payload (the page goes in `resourceId`). */
export interface ContentDecay {
  readonly page: string
  /** The drop in percent of `priorClicks`, 0–100, one decimal. */
  readonly dropPct: number
  readonly priorClicks: number
  readonly nowClicks: number
}

/** A (page, query) just off page one: the `seo.opportunity_found` payload. */
export interface Opportunity {
  readonly url: string
  readonly query: string
  readonly impressions: number
  readonly clicks: number
  /** Impression-weighted average position over the window. */
  readonly position: number
  /** clicks / impressions, 0–1. */
  readonly ctr: number
}

/** Two of the shop's pages sharing a query: the `seo.cannibalism_detected` payload. */
export interface Cannibalism {
  readonly query: string
  readonly strongerUrl: string
  readonly weakerUrl: string
  readonly strongerClicks: number
  readonly weakerClicks: number
}

/** A (page, query) that lost or won its featured snippet: the `seo.snippet_lost|gained` payload. */
export interface SnippetChange {
  readonly url: string
  readonly query: string
  /** The pair's average position in the current window (the previous one's when it has no rows now). */
  readonly position: number
}

/** A query the shop shows for without a page ranking for it: the `seo.keyword_gap_detected` payload. */
export interface KeywordGap {
  readonly query: string
  readonly impressions: number
  /** The best page's impression-weighted average position, or null when no row had one. */
  readonly position: number | null
}

// --- shared ----------------------------------------------------------------------------------

const resolve = (settings: Partial<SeoSettings>): SeoSettings => {
  const pick = (k: keyof SeoSettings) => {
    const v = settings[k]
    return v !== undefined && Number.isFinite(v) ? v : DEFAULT_SEO_SETTINGS[k]
  }
  return {
    minPriorClicks: pick("minPriorClicks"),
    decayDropPct: pick("decayDropPct"),
    opportunityMinImpressions: pick("opportunityMinImpressions"),
    opportunityMinPosition: pick("opportunityMinPosition"),
    opportunityMaxPosition: pick("opportunityMaxPosition"),
    cannibalShare: pick("cannibalShare"),
    cannibalMinImpressions: pick("cannibalMinImpressions"),
    gapMinImpressions: pick("gapMinImpressions"),
    gapMaxPosition: pick("gapMaxPosition")
  }
}

const count = (x: number): number => (Number.isFinite(x) && x > 0 ? x : 0)
const isPlain = (r: SearchRow) => r.searchAppearance === undefined || r.searchAppearance === null || r.searchAppearance === ""
const usable = (r: SearchRow) => r.page.length > 0 && r.query.length > 0
const byString = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0)
/** Larger first; a comparator that stays consistent even for infinities (no `Infinity − Infinity`). */
const desc = (a: number, b: number) => (a > b ? -1 : a < b ? 1 : 0)
const finiteNumbers = (o: object): boolean =>
  Object.values(o).every((v) => typeof v !== "number" || Number.isFinite(v))

/** Clicks, impressions and an impression-weighted position, accumulated over rows. */
interface Agg {
  clicks: number
  impressions: number
  weighted: number
  weight: number
}
const emptyAgg = (): Agg => ({ clicks: 0, impressions: 0, weighted: 0, weight: 0 })
const addRow = (a: Agg, r: SearchRow) => {
  const impressions = count(r.impressions)
  a.clicks += count(r.clicks)
  a.impressions += impressions
  if (Number.isFinite(r.position) && r.position > 0 && impressions > 0) {
    a.weighted += r.position * impressions
    a.weight += impressions
  }
}
const positionOf = (a: Agg | undefined): number | null => {
  if (a === undefined || a.weight <= 0) return null
  const p = a.weighted / a.weight
  return Number.isFinite(p) ? p : null
}
const aggOf = <K>(map: Map<K, Agg>, key: K): Agg => {
  let a = map.get(key)
  if (a === undefined) map.set(key, (a = emptyAgg()))
  return a
}

/** The rows inside a window (as day numbers), usable, of the wanted kind. */
const rowsIn = (rows: ReadonlyArray<SearchRow>, window: readonly [number, number] | null, plain: boolean): ReadonlyArray<SearchRow> => {
  if (window === null) return []
  const dayOf = daysOf()
  return rows.filter((r) => {
    if (!usable(r) || isPlain(r) !== plain) return false
    const d = dayOf(r.date)
    return d !== null && d >= window[0] && d <= window[1]
  })
}

/** `dayNumber`, remembered per date string: a report has a handful of days and a million rows. */
const daysOf = () => {
  const known = new Map<string, number | null>()
  return (date: string): number | null => {
    let d = known.get(date)
    if (d === undefined) known.set(date, (d = dayNumber(date)))
    return d
  }
}

type PairAgg = Agg & { readonly page: string; readonly query: string }

/** Per (page, query): a map per page (no composite key to build per row). */
class PairAggs {
  private readonly byPage = new Map<string, Map<string, PairAgg>>()
  get(page: string, query: string): PairAgg | undefined {
    return this.byPage.get(page)?.get(query)
  }
  has(a: { readonly page: string; readonly query: string }): boolean {
    return this.get(a.page, a.query) !== undefined
  }
  add(r: SearchRow): void {
    let queries = this.byPage.get(r.page)
    if (queries === undefined) this.byPage.set(r.page, (queries = new Map()))
    let a = queries.get(r.query)
    if (a === undefined) queries.set(r.query, (a = { ...emptyAgg(), page: r.page, query: r.query }))
    addRow(a, r)
  }
  *values(): Iterable<PairAgg> {
    for (const queries of this.byPage.values()) yield* queries.values()
  }
}

const aggregatePairs = (rows: ReadonlyArray<SearchRow>): PairAggs => {
  const out = new PairAggs()
  for (const r of rows) out.add(r)
  return out
}

/** Per query, per page. */
const aggregateQueries = (rows: ReadonlyArray<SearchRow>) => {
  const out = new Map<string, { readonly total: Agg; readonly pages: Map<string, Agg> }>()
  for (const r of rows) {
    let q = out.get(r.query)
    if (q === undefined) out.set(r.query, (q = { total: emptyAgg(), pages: new Map() }))
    addRow(q.total, r)
    addRow(aggOf(q.pages, r.page), r)
  }
  return out
}

// --- detectors -------------------------------------------------------------------------------

/**
 * Pages whose clicks fell: clicks over the 14 days ending on `asOf` (asOf−13 … asOf, both
 * included) against the 14 days before (asOf−27 … asOf−14). A page decays when it had at least
 * `minPriorClicks` before and lost at least `decayDropPct` percent of them (compared exactly,
 * before rounding; a page with no rows now has 0 clicks now). `asOf` is the last day with final
 * data: a later row is ignored, so a backtest as of an earlier day sees what that day saw.
 * Sorted by clicks lost, most first (then by page). A malformed `asOf` finds nothing.
 */
export const contentDecay = (rows: ReadonlyArray<SearchRow>, asOf: string, settings: Partial<SeoSettings> = {}): ReadonlyArray<ContentDecay> => {
  const s = resolve(settings)
  const end = dayNumber(asOf)
  if (end === null) return []
  const nowFrom = end - (DECAY_WINDOW_DAYS - 1)
  const priorFrom = nowFrom - DECAY_WINDOW_DAYS
  const clicks = new Map<string, { now: number; prior: number }>()
  const dayOf = daysOf()
  for (const r of rowsIn(rows, [priorFrom, end], true)) {
    let c = clicks.get(r.page)
    if (c === undefined) clicks.set(r.page, (c = { now: 0, prior: 0 }))
    if (dayOf(r.date)! >= nowFrom) c.now += count(r.clicks)
    else c.prior += count(r.clicks)
  }
  const found: Array<ContentDecay> = []
  for (const [page, { now, prior }] of clicks) {
    if (prior <= 0 || prior < s.minPriorClicks || now > prior) continue
    if ((prior - now) * 100 < s.decayDropPct * prior) continue
    const finding = { page, dropPct: Math.round(((prior - now) / prior) * 1000) / 10, priorClicks: prior, nowClicks: now }
    if (finiteNumbers(finding)) found.push(finding)
  }
  return found.sort((a, b) => desc(a.priorClicks - a.nowClicks, b.priorClicks - b.nowClicks) || byString(a.page, b.page))
}

/**
 * (page, query) pairs just off page one: impression-weighted average position over the window in
 * [`opportunityMinPosition`, `opportunityMaxPosition`] (8–20) with at least
 * `opportunityMinImpressions` impressions. Ranked by impressions (then clicks, URL, query).
 */
export const opportunities = (rows: ReadonlyArray<SearchRow>, window: DateWindow, settings: Partial<SeoSettings> = {}): ReadonlyArray<Opportunity> => {
  const s = resolve(settings)
  const found: Array<Opportunity> = []
  for (const a of aggregatePairs(rowsIn(rows, windowDays(window), true)).values()) {
    const position = positionOf(a)
    if (position === null || a.impressions <= 0 || a.impressions < s.opportunityMinImpressions) continue
    if (position < s.opportunityMinPosition || position > s.opportunityMaxPosition) continue
    const finding = { url: a.page, query: a.query, impressions: a.impressions, clicks: a.clicks, position, ctr: a.clicks / a.impressions }
    if (finiteNumbers(finding)) found.push(finding)
  }
  return found.sort((a, b) => desc(a.impressions, b.impressions) || desc(a.clicks, b.clicks) || byString(a.url, b.url) || byString(a.query, b.query))
}

/**
 * Queries two or more of the shop's pages compete for: the query has at least
 * `cannibalMinImpressions` impressions over the window and at least two pages each take at least
 * `cannibalShare` percent of them. The stronger page is the one with the most clicks (ties: more
 * impressions, then the smaller URL, so a tie always names the same page); one finding per
 * (query, weaker page), against that one stronger page. Sorted by the query's impressions (then
 * query), then the weaker pages in strength order.
 */
export const cannibalism = (rows: ReadonlyArray<SearchRow>, window: DateWindow, settings: Partial<SeoSettings> = {}): ReadonlyArray<Cannibalism> => {
  const s = resolve(settings)
  const queries = [...aggregateQueries(rowsIn(rows, windowDays(window), true))]
    .filter(([, q]) => q.total.impressions > 0 && q.total.impressions >= s.cannibalMinImpressions)
    .sort(([qa, a], [qb, b]) => desc(a.total.impressions, b.total.impressions) || byString(qa, qb))
  const found: Array<Cannibalism> = []
  for (const [query, q] of queries) {
    const competing = [...q.pages]
      .filter(([, p]) => p.impressions > 0 && p.impressions * 100 >= s.cannibalShare * q.total.impressions)
      .sort(([ua, a], [ub, b]) => desc(a.clicks, b.clicks) || desc(a.impressions, b.impressions) || byString(ua, ub))
    if (competing.length < 2) continue
    const [strongerUrl, stronger] = competing[0]!
    for (const [weakerUrl, weaker] of competing.slice(1)) {
      const finding = { query, strongerUrl, weakerUrl, strongerClicks: stronger.clicks, weakerClicks: weaker.clicks }
      if (finiteNumbers(finding)) found.push(finding)
    }
  }
  return found
}

/**
 * Featured snippets won and lost between two windows: a (page, query) with a
 * `FEATURED_SNIPPET` row in the previous window and none in the current one is lost; the reverse
 * is gained. The position reported is the pair's impression-weighted average position in the
 * current window (plain rows, else its appearance rows), or — for a pair that has no rows at all
 * now — the previous window's; a pair with no usable position anywhere is left out (the payload
 * needs a number). Each list sorted by URL, then query.
 */
export const snippetChanges = (rows: ReadonlyArray<SearchRow>, previousWindow: DateWindow, currentWindow: DateWindow): { readonly lost: ReadonlyArray<SnippetChange>; readonly gained: ReadonlyArray<SnippetChange> } => {
  const prev = windowDays(previousWindow)
  const cur = windowDays(currentWindow)
  const snippets = (w: readonly [number, number] | null) =>
    aggregatePairs(rowsIn(rows, w, false).filter((r) => r.searchAppearance === FEATURED_SNIPPET))
  const prevSnip = snippets(prev)
  const curSnip = snippets(cur)
  const prevPlain = aggregatePairs(rowsIn(rows, prev, true))
  const curPlain = aggregatePairs(rowsIn(rows, cur, true))
  const curAppearance = aggregatePairs(rowsIn(rows, cur, false))
  const prevAppearance = aggregatePairs(rowsIn(rows, prev, false))
  const position = (a: PairAgg) =>
    positionOf(curPlain.get(a.page, a.query)) ?? positionOf(curAppearance.get(a.page, a.query)) ??
      positionOf(prevPlain.get(a.page, a.query)) ?? positionOf(prevAppearance.get(a.page, a.query))
  const changes = (from: PairAggs, notIn: PairAggs) => {
    const out: Array<SnippetChange> = []
    for (const a of from.values()) {
      if (notIn.has(a)) continue
      const p = position(a)
      if (p !== null) out.push({ url: a.page, query: a.query, position: p })
    }
    return out.sort((a, b) => byString(a.url, b.url) || byString(a.query, b.query))
  }
  return { lost: changes(prevSnip, curSnip), gained: changes(curSnip, prevSnip) }
}

/**
 * Queries the shop shows for without a page about them: at least `gapMinImpressions` impressions
 * over the window, and no page of the shop with an impression-weighted average position of
 * `gapMaxPosition` (20) or better. The position reported is the best page's (null when no row had
 * a usable position). Sorted by impressions (then query).
 */
export const keywordGaps = (rows: ReadonlyArray<SearchRow>, window: DateWindow, settings: Partial<SeoSettings> = {}): ReadonlyArray<KeywordGap> => {
  const s = resolve(settings)
  const found: Array<KeywordGap> = []
  for (const [query, q] of aggregateQueries(rowsIn(rows, windowDays(window), true))) {
    if (q.total.impressions <= 0 || q.total.impressions < s.gapMinImpressions) continue
    let best: number | null = null
    for (const p of q.pages.values()) {
      const pos = positionOf(p)
      if (pos !== null && (best === null || pos < best)) best = pos
    }
    if (best !== null && best <= s.gapMaxPosition) continue
    const finding = { query, impressions: q.total.impressions, position: best }
    if (finiteNumbers(finding)) found.push(finding)
  }
  return found.sort((a, b) => desc(a.impressions, b.impressions) || byString(a.query, b.query))
}
