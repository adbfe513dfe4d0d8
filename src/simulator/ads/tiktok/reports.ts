/**
 * Report numbers of the simulated advertisers. An ad group's day is drawn from a PRNG seeded
 * by (simulator seed, advertiser, ad group, date), so the same seed gives the same report on
 * every run and in any request order; a campaign's day is the sum of its ad groups', as on
 * TikTok. Amounts are kept in minor units of the currency and rendered as TikTok does: every
 * metric a string (`"12.34"`, `"1500"`).
 */
import { prng, seedOf } from "../../kit/DeterministicIds.ts"
import { currencyPrecision, type AdvertiserState, type DayStatsInit } from "./model.ts"

/** A day of one object, amounts in minor units (cents; yen). */
export interface DayNumbers {
  readonly spend: number
  readonly impressions: number
  readonly clicks: number
  readonly conversions: number
  readonly value: number
}

const ZERO: DayNumbers = { spend: 0, impressions: 0, clicks: 0, conversions: 0, value: 0 }

/** `"12.34"` → 1234 at precision 2 (exact: no binary floating point on the way). */
export const toMinor = (amount: string, precision: number): number => {
  const match = /^(-?)(\d+)(?:\.(\d+))?$/.exec(amount.trim())
  if (match === null) throw new Error(`not a decimal amount: ${amount}`)
  const fraction = (match[3] ?? "").padEnd(precision, "0")
  if (fraction.length > precision && /[1-9]/.test(fraction.slice(precision))) throw new Error(`${amount} has more than ${precision} decimals`)
  const minor = Number(match[2]) * 10 ** precision + Number(fraction.slice(0, precision) || "0")
  return match[1] === "-" ? -minor : minor
}

/** 1234 → `"12.34"` at precision 2. */
export const fromMinor = (minor: number, precision: number): string => (minor / 10 ** precision).toFixed(precision)

const fixed = (s: DayStatsInit, precision: number): DayNumbers => ({
  spend: toMinor(s.spend, precision),
  impressions: s.impressions,
  clicks: s.clicks,
  conversions: s.conversions,
  value: toMinor(s.value, precision)
})

/** One ad group's day: the fixed numbers when the test gave some, else seeded ones. */
export const adGroupDay = (seed: string, advertiser: AdvertiserState, adgroupId: string, date: string): DayNumbers => {
  const precision = currencyPrecision(advertiser.currency)
  const given = advertiser.stats.get(`${adgroupId}/${date}`)
  if (given !== undefined) return fixed(given, precision)
  const random = prng(seedOf(`${seed}/report/${advertiser.advertiserId}/${adgroupId}/${date}`))
  const unit = 10 ** precision
  const impressions = 1_000 + Math.floor(random() * 19_000)
  const clicks = Math.floor(impressions * (0.005 + random() * 0.025))
  // cost per click 0.20–1.50 units, order value 20–120 units (in minor units of the currency)
  const spend = Math.round(clicks * unit * (0.2 + random() * 1.3))
  const conversions = Math.floor(clicks * (0.01 + random() * 0.07))
  const value = conversions * Math.round(unit * (20 + random() * 100))
  return { spend, impressions, clicks, conversions, value }
}

/** A campaign's day: the sum of its ad groups'. */
export const campaignDay = (seed: string, advertiser: AdvertiserState, campaignId: string, date: string): DayNumbers =>
  advertiser.adGroupsOf(campaignId).reduce((sum, g) => {
    const d = adGroupDay(seed, advertiser, g.adgroup_id, date)
    return {
      spend: sum.spend + d.spend,
      impressions: sum.impressions + d.impressions,
      clicks: sum.clicks + d.clicks,
      conversions: sum.conversions + d.conversions,
      value: sum.value + d.value
    }
  }, ZERO)

/** The metrics `report/integrated/get/` accepts at campaign and ad group level. */
export const NUMERIC_METRICS = [
  "spend",
  "impressions",
  "clicks",
  "ctr",
  "cpc",
  "cpm",
  "conversion",
  "cost_per_conversion",
  "complete_payment",
  "total_complete_payment_rate",
  "complete_payment_roas"
] as const

/** The numeric metrics of a day, as the strings TikTok answers. */
export const renderMetric = (metric: string, d: DayNumbers, precision: number): string | undefined => {
  const money = (minor: number) => fromMinor(minor, precision)
  const ratio = (a: number, b: number, digits: number) => (b === 0 ? "0.00" : (a / b).toFixed(digits))
  switch (metric) {
    case "spend":
      return money(d.spend)
    case "impressions":
      return String(d.impressions)
    case "clicks":
      return String(d.clicks)
    case "ctr":
      return ratio(d.clicks * 100, d.impressions, 2)
    case "cpc":
      return d.clicks === 0 ? money(0) : money(Math.round(d.spend / d.clicks))
    case "cpm":
      return d.impressions === 0 ? money(0) : money(Math.round((d.spend * 1000) / d.impressions))
    case "conversion":
    case "complete_payment":
      return String(d.conversions)
    case "cost_per_conversion":
      return d.conversions === 0 ? money(0) : money(Math.round(d.spend / d.conversions))
    case "total_complete_payment_rate":
      return money(d.value)
    case "complete_payment_roas":
      return ratio(d.value, d.spend, 2)
    default:
      return undefined
  }
}
