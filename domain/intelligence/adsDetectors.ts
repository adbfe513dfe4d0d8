/**
 * The ads detectors of the intelligence plane: pure functions from daily insight rows to the
 * findings behind `ads.spend_anomaly`, `ads.keyword_underperforming` and
 * `ads.keyword_overperforming` (payloads in `automation/Triggers.ts`; the findings carry those
 * fields plus the trigger-level `platform` and `date`, which the emit site lifts out).
 *
 * Rows may come at three levels — a campaign's day (no ad group, no keyword), an ad group's day,
 * or a keyword's day — and a feed may hold more than one level for the same campaign. The levels
 * overlap (a keyword's spend is inside its campaign's), so each detector reads one level:
 * keyword performance reads keyword rows; spend anomalies read, per campaign, the coarsest level
 * that campaign has rows at (its campaign rows if there are any, else its ad-group rows summed,
 * else its keyword rows summed), chosen once for the whole series so a day never switches level.
 *
 * Every detector is total and deterministic: rows with a malformed day, an unknown platform or
 * an empty account or campaign id are skipped; a non-finite or negative amount counts as 0; a
 * keyword whose sums overflowed is not judged, and a spend that overflowed has no Z-score, so
 * every number in a finding is finite; outputs are sorted with full tie-breaks.
 */
import { type DateWindow, dayNumber, fromDayNumber, mean, sampleStd, windowDays, zScore } from "./stats.ts"

export const AD_PLATFORMS = ["google", "meta", "tiktok", "microsoft"] as const
export type AdPlatform = typeof AD_PLATFORMS[number]

/** One day of an ad platform's insights for a campaign, an ad group or a keyword. */
export interface AdInsightRow {
  /** `YYYY-MM-DD`, in the ad account's time zone (as the platform reports the day). */
  readonly date: string
  readonly platform: AdPlatform
  readonly accountId: string
  readonly campaignId: string
  readonly adGroupId?: string | null | undefined
  readonly keyword?: string | null | undefined
  /** In the account's currency (major units). */
  readonly spend: number
  readonly clicks: number
  readonly impressions: number
  readonly conversions: number
  readonly conversionValue: number
  readonly currency: string
}

/** A shop's ads detector settings. */
export interface AdsSettings {
  /** Spend anomaly: the |Z-score| of a day's spend against its baseline that is anomalous. */
  readonly spendZ: number
  /** Spend anomaly: the trailing days before the day that form its baseline. */
  readonly spendBaselineDays: number
  /** Spend anomaly: the fewest baseline days (within the campaign's life) worth a Z-score. */
  readonly spendMinBaselineDays: number
  /** Keyword performance: the clicks a keyword needs over the window to be judged. */
  readonly minClicks: number
  /** Keyword performance: the spend a keyword needs over the window to be judged. */
  readonly minSpend: number
  /** Keyword performance: the |Z-score| of ROAS against the account's keywords that stands out. */
  readonly keywordZ: number
  /** Keyword performance: the fewest judged keywords an account needs before any is compared. */
  readonly minAccountKeywords: number
}

/** The defaults a shop's settings fall back to, field by field. */
export const DEFAULT_ADS_SETTINGS: AdsSettings = {
  spendZ: 3,
  spendBaselineDays: 28,
  spendMinBaselineDays: 7,
  minClicks: 20,
  minSpend: 10,
  keywordZ: 2,
  minAccountKeywords: 5
}

/** A campaign's day far from its baseline: the `ads.spend_anomaly` payload plus `platform` and `date`. */
export interface SpendAnomaly {
  readonly platform: AdPlatform
  readonly accountId: string
  readonly campaignId: string
  readonly date: string
  readonly spend: number
  readonly baselineMean: number
  readonly baselineStd: number
  readonly zScore: number
}

/** A keyword's totals over a window, with its ROAS and CPA (null without spend / conversions). */
export interface KeywordStats {
  readonly platform: AdPlatform
  readonly accountId: string
  readonly campaignId: string
  readonly adGroupId: string | null
  readonly keyword: string
  readonly spend: number
  readonly clicks: number
  readonly impressions: number
  readonly conversions: number
  readonly conversionValue: number
  /** conversionValue / spend; null when nothing was spent. */
  readonly roas: number | null
  /** spend / conversions; null with no conversions. */
  readonly cpa: number | null
}

/**
 * A keyword whose ROAS stands out in its account: the `ads.keyword_*performing` payload plus
 * `platform` (`adGroupId` null means the payload's optional field is left out).
 */
export interface KeywordPerformance {
  readonly platform: AdPlatform
  readonly accountId: string
  readonly campaignId: string
  readonly adGroupId: string | null
  readonly keyword: string
  readonly metric: "roas"
  readonly value: number
  readonly zScore: number
}

// --- shared ----------------------------------------------------------------------------------

const resolve = (settings: Partial<AdsSettings>): AdsSettings => {
  const pick = (k: keyof AdsSettings) => {
    const v = settings[k]
    return v !== undefined && Number.isFinite(v) ? v : DEFAULT_ADS_SETTINGS[k]
  }
  return {
    spendZ: pick("spendZ"),
    spendBaselineDays: Math.floor(pick("spendBaselineDays")),
    spendMinBaselineDays: pick("spendMinBaselineDays"),
    minClicks: pick("minClicks"),
    minSpend: pick("minSpend"),
    keywordZ: pick("keywordZ"),
    minAccountKeywords: pick("minAccountKeywords")
  }
}

const amount = (x: number): number => (Number.isFinite(x) && x > 0 ? x : 0)
const nonEmpty = (s: string | null | undefined): string | null => (s === undefined || s === null || s.length === 0 ? null : s)
const isPlatform = (p: string): p is AdPlatform => (AD_PLATFORMS as ReadonlyArray<string>).includes(p)
const usable = (r: AdInsightRow) => isPlatform(r.platform) && r.accountId.length > 0 && r.campaignId.length > 0
const byString = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0)
const asc = (a: number, b: number) => (a < b ? -1 : a > b ? 1 : 0)
const finiteNumbers = (o: object): boolean =>
  Object.values(o).every((v) => typeof v !== "number" || Number.isFinite(v))
/** 0 campaign, 1 ad group, 2 keyword. */
const levelOf = (r: AdInsightRow) => (nonEmpty(r.keyword) !== null ? 2 : nonEmpty(r.adGroupId) !== null ? 1 : 0)
const byResource = (a: { readonly platform: string; readonly accountId: string; readonly campaignId: string; readonly adGroupId?: string | null; readonly keyword?: string }, b: typeof a) =>
  byString(a.platform, b.platform) || byString(a.accountId, b.accountId) || byString(a.campaignId, b.campaignId) ||
  byString(a.adGroupId ?? "", b.adGroupId ?? "") || byString(a.keyword ?? "", b.keyword ?? "")

// --- detectors -------------------------------------------------------------------------------

/**
 * Campaigns whose spend on `date` is far from their own recent days: per (platform, account,
 * campaign), that day's spend against the `spendBaselineDays` (28) days before it, as a Z-score
 * (sample std); anomalous when |z| ≥ `spendZ` (3), in either direction.
 *
 * The baseline is every day from the later of (date − 28) and the campaign's first day with a
 * row, up to the day before `date`; a baseline day without a row counts as 0 spend (platforms
 * omit days without delivery, and a paused day is part of the campaign's behaviour). Days before
 * the campaign's first row do not count: a campaign launched 10 days ago has a 10-day baseline,
 * not 18 invented zeros that would make its normal spend look anomalous. Rows after `date` are
 * ignored (the campaign's last seen day is `date` itself), so a backtest as of an earlier day
 * sees what that day saw. Only a campaign with a row on `date` is judged (no row may mean the
 * data is not in yet), and only with at least `spendMinBaselineDays` (7) baseline days. A flat
 * baseline (std 0) judges nothing rather than dividing by zero. Sorted by |z|, largest first.
 */
export const spendAnomalies = (rows: ReadonlyArray<AdInsightRow>, date: string, settings: Partial<AdsSettings> = {}): ReadonlyArray<SpendAnomaly> => {
  const s = resolve(settings)
  const day = dayNumber(date)
  if (day === null) return []
  const campaigns = new Map<string, { readonly platform: AdPlatform; readonly accountId: string; readonly campaignId: string; readonly rows: Array<readonly [number, AdInsightRow]> }>()
  for (const r of rows) {
    if (!usable(r)) continue
    const d = dayNumber(r.date)
    if (d === null || d > day) continue
    const k = JSON.stringify([r.platform, r.accountId, r.campaignId])
    let c = campaigns.get(k)
    if (c === undefined) campaigns.set(k, (c = { platform: r.platform, accountId: r.accountId, campaignId: r.campaignId, rows: [] }))
    c.rows.push([d, r])
  }
  const found: Array<SpendAnomaly> = []
  for (const c of campaigns.values()) {
    const level = c.rows.reduce((min, [, r]) => Math.min(min, levelOf(r)), 2)
    const spendByDay = new Map<number, number>()
    let first = day
    for (const [d, r] of c.rows) {
      if (levelOf(r) !== level) continue
      spendByDay.set(d, (spendByDay.get(d) ?? 0) + amount(r.spend))
      if (d < first) first = d
    }
    const spend = spendByDay.get(day)
    if (spend === undefined) continue
    const baseline: Array<number> = []
    for (let d = Math.max(first, day - s.spendBaselineDays); d < day; d++) baseline.push(spendByDay.get(d) ?? 0)
    if (baseline.length < s.spendMinBaselineDays) continue
    const z = zScore(spend, baseline)
    const baselineMean = mean(baseline)
    const baselineStd = sampleStd(baseline)
    if (z === null || baselineMean === null || baselineStd === null || Math.abs(z) < s.spendZ) continue
    // finite by construction: a finite z needs a finite spend, mean and std
    found.push({ platform: c.platform, accountId: c.accountId, campaignId: c.campaignId, date: fromDayNumber(day)!, spend, baselineMean, baselineStd, zScore: z })
  }
  return found.sort((a, b) => asc(Math.abs(b.zScore), Math.abs(a.zScore)) || byResource(a, b))
}

/**
 * Each keyword's totals over the window (days inclusive), per (platform, account, campaign, ad
 * group, keyword), from keyword rows only, with ROAS (conversionValue / spend) and CPA (spend /
 * conversions), each null when its divisor is 0. Sorted by resource.
 */
export const keywordStats = (rows: ReadonlyArray<AdInsightRow>, window: DateWindow): ReadonlyArray<KeywordStats> => {
  const w = windowDays(window)
  if (w === null) return []
  type Acc = { -readonly [K in keyof KeywordStats]: KeywordStats[K] }
  const keywords = new Map<string, Acc>()
  for (const r of rows) {
    const keyword = nonEmpty(r.keyword)
    if (!usable(r) || keyword === null) continue
    const d = dayNumber(r.date)
    if (d === null || d < w[0] || d > w[1]) continue
    const adGroupId = nonEmpty(r.adGroupId)
    const k = JSON.stringify([r.platform, r.accountId, r.campaignId, adGroupId, keyword])
    let a = keywords.get(k)
    if (a === undefined) {
      keywords.set(k, (a = { platform: r.platform, accountId: r.accountId, campaignId: r.campaignId, adGroupId, keyword, spend: 0, clicks: 0, impressions: 0, conversions: 0, conversionValue: 0, roas: null, cpa: null }))
    }
    a.spend += amount(r.spend)
    a.clicks += amount(r.clicks)
    a.impressions += amount(r.impressions)
    a.conversions += amount(r.conversions)
    a.conversionValue += amount(r.conversionValue)
  }
  const ratio = (n: number, d: number) => {
    const q = d > 0 ? n / d : null
    return q !== null && Number.isFinite(q) ? q : null
  }
  return [...keywords.values()]
    .map((a): KeywordStats => ({ ...a, roas: ratio(a.conversionValue, a.spend), cpa: ratio(a.spend, a.conversions) }))
    .sort(byResource)
}

/**
 * Keywords whose ROAS over the window stands out among their account's keywords. A keyword is
 * judged when it had at least `minClicks` (20) clicks and `minSpend` (10) spend; an account is
 * compared only with at least `minAccountKeywords` (5) judged keywords, else nothing is said
 * about it. Each keyword's Z-score is against the *other* judged keywords of its account
 * (leave-one-out): with the keyword itself in the baseline an outlier inflates the very spread
 * it is measured by, and with n keywords |z| could never exceed (n−1)/√n — 1.79 for five, so the
 * default threshold of 2 could never fire. Under-performing at z ≤ −`keywordZ` (2),
 * over-performing at z ≥ +`keywordZ`; others all equal (no spread) judges nothing. Each list is
 * sorted most extreme first. CPA is in `keywordStats`; the triggers' metric here is ROAS.
 */
export const keywordPerformance = (rows: ReadonlyArray<AdInsightRow>, window: DateWindow, settings: Partial<AdsSettings> = {}): { readonly underperforming: ReadonlyArray<KeywordPerformance>; readonly overperforming: ReadonlyArray<KeywordPerformance> } => {
  const s = resolve(settings)
  const accounts = new Map<string, Array<KeywordStats & { readonly roas: number }>>()
  for (const k of keywordStats(rows, window)) {
    if (k.roas === null || k.clicks < s.minClicks || k.spend < s.minSpend || !finiteNumbers(k)) continue
    const key = JSON.stringify([k.platform, k.accountId])
    const list = accounts.get(key) ?? []
    list.push({ ...k, roas: k.roas })
    accounts.set(key, list)
  }
  const underperforming: Array<KeywordPerformance> = []
  const overperforming: Array<KeywordPerformance> = []
  for (const list of accounts.values()) {
    if (list.length < Math.max(2, s.minAccountKeywords)) continue
    const values = list.map((k) => k.roas)
    list.forEach((k, i) => {
      const z = zScore(k.roas, values.filter((_, j) => j !== i))
      if (z === null) return
      const finding: KeywordPerformance = { platform: k.platform, accountId: k.accountId, campaignId: k.campaignId, adGroupId: k.adGroupId, keyword: k.keyword, metric: "roas", value: k.roas, zScore: z }
      if (z <= -s.keywordZ) underperforming.push(finding)
      else if (z >= s.keywordZ) overperforming.push(finding)
    })
  }
  return {
    underperforming: underperforming.sort((a, b) => asc(a.zScore, b.zScore) || byResource(a, b)),
    overperforming: overperforming.sort((a, b) => asc(b.zScore, a.zScore) || byResource(a, b))
  }
}
