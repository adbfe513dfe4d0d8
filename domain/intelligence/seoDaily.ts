/**
 * The daily SEO pass over a property's Search Console rows (issue 13 §3): each page's clicks over
 * the last 14 days against the 14 before (what `/app/seo/pages` shows), and the findings of every
 * SEO detector that START on `asOf` — found with the data up to `asOf` and not with the data up to
 * the day before. So a detector reports each condition once per episode (a page that stays
 * decayed is not reported every day) without keeping any state: the day before is recomputed
 * from the same rows, which is why a pull fetches 29 days.
 *
 * Windows: decay 14 + 14 days ending `asOf`; opportunities, cannibalism and keyword gaps the 28
 * days ending `asOf`; snippets the 7 days ending `asOf` against the 7 before.
 */
import {
  cannibalism,
  type Cannibalism,
  contentDecay,
  type ContentDecay,
  keywordGaps,
  type KeywordGap,
  opportunities,
  type Opportunity,
  type SearchRow,
  type SeoSettings,
  snippetChanges,
  type SnippetChange
} from "./seoDetectors.ts"
import { addDays, dayNumber } from "./stats.ts"

/** How many days of rows the pass needs before `asOf` (inclusive): 28 for the windows, 1 for the day before. */
export const SEO_PULL_DAYS = 29
/** Pages listed per measurement (the most clicked): what the admin shows. */
export const MAX_MEASURED_PAGES = 500

export interface PageMeasure {
  readonly url: string
  readonly nowClicks: number
  readonly priorClicks: number
  /** Percent lost (negative: gained); null without prior clicks. */
  readonly dropPct: number | null
  readonly impressions: number
  /** Impression-weighted average position over the 28 days; null without impressions. */
  readonly position: number | null
  readonly decayed: boolean
}

export interface SeoFindings {
  readonly decay: ReadonlyArray<ContentDecay>
  readonly opportunities: ReadonlyArray<Opportunity>
  readonly cannibalism: ReadonlyArray<Cannibalism>
  readonly snippetLost: ReadonlyArray<SnippetChange>
  readonly snippetGained: ReadonlyArray<SnippetChange>
  readonly keywordGaps: ReadonlyArray<KeywordGap>
}

const window = (to: string, days: number) => ({ from: addDays(to, -(days - 1))!, to })

/** Every finding with the data up to `asOf`. */
export const findingsAt = (rows: ReadonlyArray<SearchRow>, asOf: string, settings: Partial<SeoSettings>): SeoFindings => {
  const month = window(asOf, 28)
  const snippets = snippetChanges(rows, window(addDays(asOf, -7)!, 7), window(asOf, 7))
  return {
    decay: contentDecay(rows, asOf, settings),
    opportunities: opportunities(rows, month, settings),
    cannibalism: cannibalism(rows, month, settings),
    snippetLost: snippets.lost,
    snippetGained: snippets.gained,
    keywordGaps: keywordGaps(rows, month, settings)
  }
}

const keys: { readonly [K in keyof SeoFindings]: (f: SeoFindings[K][number]) => string } = {
  decay: (f) => f.page,
  opportunities: (f) => `${f.url}\u0000${f.query}`,
  cannibalism: (f) => `${f.query}\u0000${f.weakerUrl}`,
  snippetLost: (f) => `${f.url}\u0000${f.query}`,
  snippetGained: (f) => `${f.url}\u0000${f.query}`,
  keywordGaps: (f) => f.query
}

/** The findings that start on `asOf` (see the module comment). */
export const startedFindings = (rows: ReadonlyArray<SearchRow>, asOf: string, settings: Partial<SeoSettings> = {}): SeoFindings => {
  const yesterday = addDays(asOf, -1)
  const today = findingsAt(rows, asOf, settings)
  if (yesterday === null) return today
  const before = findingsAt(rows, yesterday, settings)
  const started = <K extends keyof SeoFindings>(k: K): SeoFindings[K] => {
    const key = keys[k] as (f: SeoFindings[K][number]) => string
    const was = new Set((before[k] as ReadonlyArray<SeoFindings[K][number]>).map(key))
    return (today[k] as ReadonlyArray<SeoFindings[K][number]>).filter((f) => !was.has(key(f))) as unknown as SeoFindings[K]
  }
  return {
    decay: started("decay"),
    opportunities: started("opportunities"),
    cannibalism: started("cannibalism"),
    snippetLost: started("snippetLost"),
    snippetGained: started("snippetGained"),
    keywordGaps: started("keywordGaps")
  }
}

/** Each page's clicks now against before, the most clicked first (at most {@link MAX_MEASURED_PAGES}). */
export const measurePages = (rows: ReadonlyArray<SearchRow>, asOf: string, settings: Partial<SeoSettings> = {}): ReadonlyArray<PageMeasure> => {
  const end = dayNumber(asOf)
  if (end === null) return []
  const decayed = new Set(contentDecay(rows, asOf, settings).map((d) => d.page))
  const pages = new Map<string, { now: number; prior: number; impressions: number; weighted: number }>()
  for (const r of rows) {
    // the appearance rows repeat clicks the plain rows hold (see seoDetectors.ts)
    if ((r.searchAppearance ?? null) !== null) continue
    const d = dayNumber(r.date)
    if (d === null || d > end || d <= end - 28) continue
    const p = pages.get(r.page) ?? { now: 0, prior: 0, impressions: 0, weighted: 0 }
    const clicks = Number.isFinite(r.clicks) && r.clicks > 0 ? r.clicks : 0
    const impressions = Number.isFinite(r.impressions) && r.impressions > 0 ? r.impressions : 0
    if (d > end - 14) p.now += clicks
    else p.prior += clicks
    p.impressions += impressions
    p.weighted += impressions * (Number.isFinite(r.position) ? r.position : 0)
    pages.set(r.page, p)
  }
  return [...pages.entries()]
    .map(([url, p]): PageMeasure => ({
      url,
      nowClicks: p.now,
      priorClicks: p.prior,
      dropPct: p.prior === 0 ? null : Math.round(((p.prior - p.now) / p.prior) * 1000) / 10,
      impressions: p.impressions,
      position: p.impressions === 0 ? null : Math.round((p.weighted / p.impressions) * 10) / 10,
      decayed: decayed.has(url)
    }))
    .sort((a, b) => b.nowClicks + b.priorClicks - (a.nowClicks + a.priorClicks) || a.url.localeCompare(b.url))
    .slice(0, MAX_MEASURED_PAGES)
}

/** The trigger resource type of a storefront URL: products, articles, collections, else a page. */
export const resourceTypeOfUrl = (url: string): "product" | "article" | "collection" | "page" => {
  const path = (() => {
    try {
      return new URL(url).pathname
    } catch {
      return url
    }
  })()
  return path.startsWith("/products/") ? "product" : path.startsWith("/blogs/") ? "article" : path.startsWith("/collections/") ? "collection" : "page"
}

/** At most `n` findings of each detector (a trigger names at most 50 resources). */
export const firstFindings = (f: SeoFindings, n: number): SeoFindings => ({
  decay: f.decay.slice(0, n),
  opportunities: f.opportunities.slice(0, n),
  cannibalism: f.cannibalism.slice(0, n),
  snippetLost: f.snippetLost.slice(0, n),
  snippetGained: f.snippetGained.slice(0, n),
  keywordGaps: f.keywordGaps.slice(0, n)
})
