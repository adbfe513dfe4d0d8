/**
 * Seeded daily delivery of each ad set, and the Ads Insights rows built from it as Meta
 * returns them: every number a string (`"impressions": "4210"`), money as a decimal string
 * in the account currency's major unit (`"spend": "123.4"`), conversions in `actions` and
 * their value in `action_values`, with the purchase reported under each of its action types
 * (`purchase`, `omni_purchase`, `offsite_conversion.fb_pixel_purchase`) carrying the same
 * number — a reader must pick one, not add them up. A campaign's row is the sum of its ad
 * sets' rows; an object without impressions in the range has no row.
 */
import { prng, seedOf } from "../../kit/DeterministicIds.ts"
import type { MetaAccount, MetaObject } from "./accounts.ts"

/** One ad set's delivery on one day; money in the currency's minor unit. */
export interface DailyDelivery {
  readonly impressions: number
  readonly clicks: number
  readonly spend: number
  readonly purchases: number
  readonly purchaseValue: number
}

const ZERO: DailyDelivery = { impressions: 0, clicks: 0, spend: 0, purchases: 0, purchaseValue: 0 }

const add = (a: DailyDelivery, b: DailyDelivery): DailyDelivery => ({
  impressions: a.impressions + b.impressions,
  clicks: a.clicks + b.clicks,
  spend: a.spend + b.spend,
  purchases: a.purchases + b.purchases,
  purchaseValue: a.purchaseValue + b.purchaseValue
})

/** The seeded delivery of `adSet` on `date` (YYYY-MM-DD), in minor units of a currency with `offset`. */
export const seededDelivery = (seed: string, adSet: MetaObject, date: string, offset: number): DailyDelivery => {
  if (adSet.weight <= 0) return ZERO
  const random = prng(seedOf(`${seed}/${adSet.id}/${date}`))
  const impressions = Math.round((1_000 + Math.floor(random() * 9_000)) * adSet.weight)
  const clicks = Math.floor(impressions * (0.005 + random() * 0.025))
  const cpm = 4 + random() * 12 // major units per 1,000 impressions
  const spend = Math.round((impressions / 1000) * cpm * offset)
  const purchases = Math.floor(clicks * (0.01 + random() * 0.06))
  const purchaseValue = purchases * Math.round((15 + random() * 85) * offset)
  return { impressions, clicks, spend, purchases, purchaseValue }
}

/** The dates from `since` to `until` inclusive (YYYY-MM-DD, UTC calendar). */
export const datesBetween = (since: string, until: string): ReadonlyArray<string> => {
  const out: Array<string> = []
  const end = Date.parse(`${until}T00:00:00Z`)
  for (let t = Date.parse(`${since}T00:00:00Z`); t <= end && out.length <= 400; t += 86_400_000) out.push(new Date(t).toISOString().slice(0, 10))
  return out
}

/** A minor-unit amount as Meta writes money: major units, no trailing zeros (`"5339.5"`). */
export const formatMoney = (minor: number, offset: number): string => {
  if (offset === 1) return String(minor)
  const negative = minor < 0
  const abs = Math.abs(minor)
  const whole = Math.floor(abs / offset)
  const cents = String(abs % offset).padStart(String(offset).length - 1, "0").replace(/0+$/, "")
  return `${negative ? "-" : ""}${whole}${cents === "" ? "" : `.${cents}`}`
}

export const INSIGHTS_FIELDS = [
  "account_currency",
  "account_id",
  "account_name",
  "campaign_id",
  "campaign_name",
  "adset_id",
  "adset_name",
  "spend",
  "impressions",
  "clicks",
  "actions",
  "action_values",
  "ctr",
  "cpc",
  "cpm"
] as const
export type InsightsField = typeof INSIGHTS_FIELDS[number]

export type InsightsLevel = "account" | "campaign" | "adset"

/** The purchase action types Meta reports side by side for the same purchases. */
export const PURCHASE_ACTION_TYPES = ["omni_purchase", "purchase", "offsite_conversion.fb_pixel_purchase"] as const

/** Per-day overrides set by tests: (ad set id, date) → delivery. */
export type DeliveryOverrides = Map<string, DailyDelivery>

export const overrideKey = (adSetId: string, date: string): string => `${adSetId}/${date}`

const deliveryOf = (seed: string, account: MetaAccount, adSet: MetaObject, date: string, overrides: DeliveryOverrides): DailyDelivery =>
  overrides.get(overrideKey(adSet.id, date)) ?? seededDelivery(seed, adSet, date, account.offset)

/** Builds the rows of one insights request (unpaged), in the account's object order. */
export const insightsRows = (options: {
  readonly seed: string
  readonly account: MetaAccount
  readonly level: InsightsLevel
  readonly fields: ReadonlyArray<InsightsField>
  readonly since: string
  readonly until: string
  /** One row per day (`time_increment=1`) or one for the whole range (`all_days`). */
  readonly daily: boolean
  readonly overrides: DeliveryOverrides
}): ReadonlyArray<Record<string, unknown>> => {
  const { account, level, fields, overrides, seed } = options
  const periods: ReadonlyArray<readonly [string, string, ReadonlyArray<string>]> = options.daily
    ? datesBetween(options.since, options.until).map((d) => [d, d, [d]] as const)
    : [[options.since, options.until, datesBetween(options.since, options.until)]]

  const groups: ReadonlyArray<{ readonly campaign: MetaObject | undefined; readonly adSet: MetaObject | undefined; readonly members: ReadonlyArray<MetaObject> }> =
    level === "adset"
      ? account.adSets.map((s) => ({ campaign: account.campaignOf(s), adSet: s, members: [s] }))
      : level === "campaign"
        ? account.campaigns.map((c) => ({ campaign: c, adSet: undefined, members: account.adSets.filter((s) => s.campaignId === c.id) }))
        : [{ campaign: undefined, adSet: undefined, members: account.adSets }]

  const rows: Array<Record<string, unknown>> = []
  for (const [start, stop, days] of periods) {
    for (const g of groups) {
      let d = ZERO
      for (const member of g.members) for (const day of days) d = add(d, deliveryOf(seed, account, member, day, overrides))
      if (d.impressions === 0) continue
      rows.push(rowOf(account, g.campaign, g.adSet, d, fields, start, stop))
    }
  }
  return rows
}

const rowOf = (
  account: MetaAccount,
  campaign: MetaObject | undefined,
  adSet: MetaObject | undefined,
  d: DailyDelivery,
  fields: ReadonlyArray<InsightsField>,
  start: string,
  stop: string
): Record<string, unknown> => {
  const offset = account.offset
  const row: Record<string, unknown> = {}
  const ratio = (n: number) => String(Math.round(n * 1e6) / 1e6)
  for (const f of fields) {
    switch (f) {
      case "account_currency":
        row[f] = account.currency
        break
      case "account_id":
        row[f] = account.id
        break
      case "account_name":
        row[f] = account.name
        break
      case "campaign_id":
        if (campaign !== undefined) row[f] = campaign.id
        break
      case "campaign_name":
        if (campaign !== undefined) row[f] = campaign.name
        break
      case "adset_id":
        if (adSet !== undefined) row[f] = adSet.id
        break
      case "adset_name":
        if (adSet !== undefined) row[f] = adSet.name
        break
      case "spend":
        row[f] = formatMoney(d.spend, offset)
        break
      case "impressions":
        row[f] = String(d.impressions)
        break
      case "clicks":
        row[f] = String(d.clicks)
        break
      case "ctr":
        row[f] = ratio(d.impressions === 0 ? 0 : (d.clicks * 100) / d.impressions)
        break
      case "cpc":
        if (d.clicks > 0) row[f] = ratio(d.spend / offset / d.clicks)
        break
      case "cpm":
        row[f] = ratio(((d.spend / offset) * 1000) / d.impressions)
        break
      case "actions": {
        const actions: Array<{ action_type: string; value: string }> = []
        if (d.clicks > 0) actions.push({ action_type: "link_click", value: String(d.clicks) })
        if (d.clicks > 0) actions.push({ action_type: "landing_page_view", value: String(Math.floor(d.clicks * 0.8)) })
        if (d.purchases > 0) for (const t of PURCHASE_ACTION_TYPES) actions.push({ action_type: t, value: String(d.purchases) })
        if (actions.length > 0) row[f] = actions
        break
      }
      case "action_values":
        if (d.purchases > 0) row[f] = PURCHASE_ACTION_TYPES.map((t) => ({ action_type: t, value: formatMoney(d.purchaseValue, offset) }))
        break
    }
  }
  row.date_start = start
  row.date_stop = stop
  return row
}
