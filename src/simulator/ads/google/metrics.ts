/**
 * Deterministic performance data: every keyword (or keywordless ad group) gets, per date, a
 * day of impressions, clicks, cost and conversions drawn from a PRNG seeded by the simulator's
 * seed, the customer, the object and the date, so the same seed answers the same numbers on
 * every run and in any request order. Ad groups add up their keywords and campaigns their ad
 * groups, as a test would check them. The data does not depend on the objects' current status
 * (a day's history does not change when a keyword is paused later).
 */
import { prng, seedOf } from "../../kit/DeterministicIds.ts"
import { keywordKey, type AccountModel } from "./model.ts"

export interface DayMetrics {
  readonly costMicros: number
  readonly impressions: number
  readonly clicks: number
  /** Fractional, as Google's (data-driven attribution splits conversions). */
  readonly conversions: number
  /** In the account's currency units (not micros), as Google's `metrics.conversions_value`. */
  readonly conversionsValue: number
}

export interface AccountDay {
  readonly campaigns: ReadonlyMap<string, DayMetrics>
  readonly adGroups: ReadonlyMap<string, DayMetrics>
  /** By `adGroupId~criterionId`. */
  readonly keywords: ReadonlyMap<string, DayMetrics>
}

const ZERO: DayMetrics = { costMicros: 0, impressions: 0, clicks: 0, conversions: 0, conversionsValue: 0 }

const round2 = (n: number): number => Math.round(n * 100) / 100

/** One object's day. */
export const drawDay = (seed: string, customerId: string, object: string, date: string): DayMetrics => {
  const random = prng(seedOf(`${seed}|${customerId}|${object}|${date}`))
  const impressions = 100 + Math.floor(random() * 4_900)
  const ctr = 0.01 + random() * 0.07
  const clicks = Math.max(1, Math.round(impressions * ctr))
  const cpcMicros = 200_000 + Math.floor(random() * 2_800_000)
  const conversions = round2(clicks * random() * 0.1)
  const averageValue = 20 + random() * 130
  return { costMicros: clicks * cpcMicros, impressions, clicks, conversions, conversionsValue: round2(conversions * averageValue) }
}

const add = (a: DayMetrics, b: DayMetrics): DayMetrics => ({
  costMicros: a.costMicros + b.costMicros,
  impressions: a.impressions + b.impressions,
  clicks: a.clicks + b.clicks,
  conversions: round2(a.conversions + b.conversions),
  conversionsValue: round2(a.conversionsValue + b.conversionsValue)
})

/** Every object's metrics of `date` in `account`, consistent across the three levels. */
export const accountDay = (seed: string, account: AccountModel, date: string): AccountDay => {
  const keywords = new Map<string, DayMetrics>()
  const adGroups = new Map<string, DayMetrics>()
  const campaigns = new Map<string, DayMetrics>()
  for (const k of account.keywords.values()) {
    const key = keywordKey(k.adGroupId, k.criterionId)
    const day = drawDay(seed, account.customerId, `keyword:${key}`, date)
    keywords.set(key, day)
    adGroups.set(k.adGroupId, add(adGroups.get(k.adGroupId) ?? ZERO, day))
  }
  for (const g of account.adGroups.values()) {
    const day = adGroups.get(g.id) ?? drawDay(seed, account.customerId, `adGroup:${g.id}`, date)
    adGroups.set(g.id, day)
    campaigns.set(g.campaignId, add(campaigns.get(g.campaignId) ?? ZERO, day))
  }
  for (const c of account.campaigns.values()) if (!campaigns.has(c.id)) campaigns.set(c.id, ZERO)
  return { campaigns, adGroups, keywords }
}

/** The sum of several days (a query over a date range without `segments.date`). */
export const sumDays = (days: ReadonlyArray<DayMetrics>): DayMetrics => days.reduce(add, ZERO)
