/**
 * `GoogleAdsService.SearchStream` over the simulated account: the FROM resource's rows, joined
 * with their attributed resources (campaign, campaign budget, ad group, criterion, customer),
 * segmented by date and carrying that day's metrics when asked, filtered, ordered, limited, and
 * rendered as REST renders a `GoogleAdsRow`: nested by resource, lowerCamelCase, int64 values as
 * JSON strings, doubles as numbers, the resource names of the resources present.
 */
import { GaqlError, type Condition, type GaqlQuery, type Literal } from "./gaql.ts"
import { accountDay, sumDays, type AccountDay, type DayMetrics } from "./metrics.ts"
import { keywordKey, type AccountModel, type AdGroupRecord, type BudgetRecord, type CampaignRecord, type KeywordRecord } from "./model.ts"

type FieldType = "INT64" | "DOUBLE" | "STRING" | "ENUM" | "DATE" | "RESOURCE_NAME"

interface Row {
  readonly campaign?: CampaignRecord | undefined
  readonly budget?: BudgetRecord | undefined
  readonly adGroup?: AdGroupRecord | undefined
  readonly keyword?: KeywordRecord | undefined
  readonly date?: string | undefined
  readonly metrics?: DayMetrics | undefined
}

interface FieldDef {
  readonly type: FieldType
  readonly get: (account: AccountModel, row: Row) => string | number | undefined
}

const F = (type: FieldType, get: FieldDef["get"]): FieldDef => ({ type, get })

/** The selectable fields, by GAQL name. */
const FIELDS: Readonly<Record<string, FieldDef>> = {
  "customer.resource_name": F("RESOURCE_NAME", (a) => `customers/${a.customerId}`),
  "customer.id": F("INT64", (a) => Number(a.customerId)),
  "customer.descriptive_name": F("STRING", (a) => a.name),
  "customer.currency_code": F("STRING", (a) => a.currency),

  "campaign.resource_name": F("RESOURCE_NAME", (a, r) => r.campaign && a.resourceName("campaigns", r.campaign.id)),
  "campaign.id": F("INT64", (_, r) => r.campaign && Number(r.campaign.id)),
  "campaign.name": F("STRING", (_, r) => r.campaign?.name),
  "campaign.status": F("ENUM", (_, r) => r.campaign?.status),
  "campaign.campaign_budget": F("RESOURCE_NAME", (a, r) => r.campaign && a.resourceName("campaignBudgets", r.campaign.budgetId)),

  "campaign_budget.resource_name": F("RESOURCE_NAME", (a, r) => r.budget && a.resourceName("campaignBudgets", r.budget.id)),
  "campaign_budget.id": F("INT64", (_, r) => r.budget && Number(r.budget.id)),
  "campaign_budget.name": F("STRING", (_, r) => r.budget?.name),
  "campaign_budget.amount_micros": F("INT64", (_, r) => r.budget?.amountMicros),

  "ad_group.resource_name": F("RESOURCE_NAME", (a, r) => r.adGroup && a.resourceName("adGroups", r.adGroup.id)),
  "ad_group.id": F("INT64", (_, r) => r.adGroup && Number(r.adGroup.id)),
  "ad_group.name": F("STRING", (_, r) => r.adGroup?.name),
  "ad_group.status": F("ENUM", (_, r) => r.adGroup?.status),
  "ad_group.cpc_bid_micros": F("INT64", (_, r) => r.adGroup?.cpcBidMicros),
  "ad_group.campaign": F("RESOURCE_NAME", (a, r) => r.adGroup && a.resourceName("campaigns", r.adGroup.campaignId)),

  "ad_group_criterion.resource_name": F("RESOURCE_NAME", (a, r) => r.keyword && a.resourceName("adGroupCriteria", keywordKey(r.keyword.adGroupId, r.keyword.criterionId))),
  "ad_group_criterion.criterion_id": F("INT64", (_, r) => r.keyword && Number(r.keyword.criterionId)),
  "ad_group_criterion.ad_group": F("RESOURCE_NAME", (a, r) => r.keyword && a.resourceName("adGroups", r.keyword.adGroupId)),
  "ad_group_criterion.type": F("ENUM", (_, r) => r.keyword && "KEYWORD"),
  "ad_group_criterion.status": F("ENUM", (_, r) => r.keyword?.status),
  "ad_group_criterion.keyword.text": F("STRING", (_, r) => r.keyword?.text),
  "ad_group_criterion.keyword.match_type": F("ENUM", (_, r) => r.keyword?.matchType),
  "ad_group_criterion.cpc_bid_micros": F("INT64", (_, r) => r.keyword?.cpcBidMicros ?? undefined),
  "ad_group_criterion.effective_cpc_bid_micros": F("INT64", (_, r) => r.keyword === undefined ? undefined : (r.keyword.cpcBidMicros ?? r.adGroup?.cpcBidMicros)),

  "keyword_view.resource_name": F("RESOURCE_NAME", (a, r) => r.keyword && a.resourceName("keywordViews", keywordKey(r.keyword.adGroupId, r.keyword.criterionId))),

  "segments.date": F("DATE", (_, r) => r.date),

  "metrics.cost_micros": F("INT64", (_, r) => r.metrics?.costMicros),
  "metrics.impressions": F("INT64", (_, r) => r.metrics?.impressions),
  "metrics.clicks": F("INT64", (_, r) => r.metrics?.clicks),
  "metrics.conversions": F("DOUBLE", (_, r) => r.metrics?.conversions),
  "metrics.conversions_value": F("DOUBLE", (_, r) => r.metrics?.conversionsValue)
}

/** What each FROM resource can select (itself plus its attributed resources). */
const ATTRIBUTED: Readonly<Record<string, ReadonlyArray<string>>> = {
  customer: ["customer"],
  campaign: ["campaign", "campaign_budget", "customer", "segments", "metrics"],
  campaign_budget: ["campaign_budget", "customer"],
  ad_group: ["ad_group", "campaign", "customer", "segments", "metrics"],
  ad_group_criterion: ["ad_group_criterion", "ad_group", "campaign", "customer"],
  keyword_view: ["keyword_view", "ad_group_criterion", "ad_group", "campaign", "customer", "segments", "metrics"]
}

const resourceOf = (field: string): string => field.slice(0, field.indexOf("."))

/** `ad_group_criterion.keyword.match_type` → `adGroupCriterion.keyword.matchType`. */
export const camelPath = (field: string): string => field.split(".").map((p) => p.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase())).join(".")

const DATE = /^\d{4}-\d{2}-\d{2}$/
const DAY_MS = 86_400_000
const MAX_DAYS = 366

const isoDate = (ms: number): string => new Date(ms).toISOString().slice(0, 10)
const dateMs = (date: string): number => Date.parse(`${date}T00:00:00Z`)

const checkField = (from: string, field: string): FieldDef => {
  const def = FIELDS[field]
  if (def === undefined) throw new GaqlError("BAD_FIELD_NAME", `Unrecognized field in the query: '${field}'.`)
  if (!(ATTRIBUTED[from] ?? []).includes(resourceOf(field))) {
    throw new GaqlError("PROHIBITED_RESOURCE_TYPE_IN_SELECT_CLAUSE", `'${field}' cannot be selected with FROM ${from}.`)
  }
  return def
}

const literalValue = (field: string, def: FieldDef, literal: Literal): string | number => {
  if (def.type === "INT64" || def.type === "DOUBLE") {
    if (literal.kind === "number") return literal.value
    if (literal.kind === "string" && /^-?\d+(\.\d+)?$/.test(literal.value)) return Number(literal.value)
    throw new GaqlError("BAD_VALUE", `Value for ${field} must be a number.`)
  }
  if (def.type === "DATE") {
    if (literal.kind !== "string" || !DATE.test(literal.value) || Number.isNaN(dateMs(literal.value))) {
      throw new GaqlError("BAD_VALUE", `Invalid date format for ${field}. Expected 'YYYY-MM-DD'.`)
    }
    return literal.value
  }
  if (def.type === "ENUM") return literal.value
  if (literal.kind === "number") throw new GaqlError("BAD_VALUE", `Value for ${field} must be a string.`)
  return literal.value
}

/** The dates a condition on `segments.date` allows, as [from, to] (inclusive, ms). */
const dateBounds = (condition: Condition, today: number): readonly [number, number] | undefined => {
  const def = FIELDS["segments.date"] as FieldDef
  const day = (l: Literal) => dateMs(literalValue("segments.date", def, l) as string)
  const v = condition.values
  switch (condition.op) {
    case "=":
      return [day(v[0] as Literal), day(v[0] as Literal)]
    case ">":
      return [day(v[0] as Literal) + DAY_MS, Number.POSITIVE_INFINITY]
    case ">=":
      return [day(v[0] as Literal), Number.POSITIVE_INFINITY]
    case "<":
      return [Number.NEGATIVE_INFINITY, day(v[0] as Literal) - DAY_MS]
    case "<=":
      return [Number.NEGATIVE_INFINITY, day(v[0] as Literal)]
    case "BETWEEN":
      return [day(v[0] as Literal), day(v[1] as Literal)]
    case "IN": {
      const days = v.map(day)
      return [Math.min(...days), Math.max(...days)]
    }
    case "DURING": {
      const range = (v[0] as Literal).value as string
      const ranges: Record<string, readonly [number, number]> = {
        TODAY: [today, today],
        YESTERDAY: [today - DAY_MS, today - DAY_MS],
        LAST_7_DAYS: [today - 7 * DAY_MS, today - DAY_MS],
        LAST_14_DAYS: [today - 14 * DAY_MS, today - DAY_MS],
        LAST_30_DAYS: [today - 30 * DAY_MS, today - DAY_MS]
      }
      const found = ranges[range]
      if (found === undefined) throw new GaqlError("BAD_VALUE", `Date range ${range} is not supported by the simulator.`)
      return found
    }
    default:
      return undefined
  }
}

const compare = (a: string | number, b: string | number): number => (a < b ? -1 : a > b ? 1 : 0)

const matches = (account: AccountModel, row: Row, condition: Condition, today: number): boolean => {
  const def = FIELDS[condition.field] as FieldDef
  const actual = def.get(account, row)
  if (condition.op === "DURING") {
    const bounds = dateBounds(condition, today) as readonly [number, number]
    return actual !== undefined && dateMs(actual as string) >= bounds[0] && dateMs(actual as string) <= bounds[1]
  }
  const values = condition.values.map((l) => literalValue(condition.field, def, l))
  if (actual === undefined) return condition.op === "!=" || condition.op === "NOT IN"
  switch (condition.op) {
    case "=":
      return actual === values[0]
    case "!=":
      return actual !== values[0]
    case ">":
      return compare(actual, values[0] as string | number) > 0
    case ">=":
      return compare(actual, values[0] as string | number) >= 0
    case "<":
      return compare(actual, values[0] as string | number) < 0
    case "<=":
      return compare(actual, values[0] as string | number) <= 0
    case "IN":
      return values.includes(actual)
    case "NOT IN":
      return !values.includes(actual)
    case "BETWEEN":
      return compare(actual, values[0] as string | number) >= 0 && compare(actual, values[1] as string | number) <= 0
  }
}

/** The entities of the FROM resource, joined with their parents. */
const baseRows = (account: AccountModel, from: string): Array<Row> => {
  const campaignOf = (id: string) => account.campaigns.get(id)
  const budgetOf = (c: CampaignRecord | undefined) => (c === undefined ? undefined : account.budgets.get(c.budgetId))
  switch (from) {
    case "customer":
      return [{}]
    case "campaign":
      return [...account.campaigns.values()].map((campaign) => ({ campaign, budget: budgetOf(campaign) }))
    case "campaign_budget":
      return [...account.budgets.values()].map((budget) => ({ budget }))
    case "ad_group":
      return [...account.adGroups.values()].map((adGroup) => ({ adGroup, campaign: campaignOf(adGroup.campaignId) }))
    case "ad_group_criterion":
    case "keyword_view":
      return [...account.keywords.values()].map((keyword) => {
        const adGroup = account.adGroups.get(keyword.adGroupId)
        return { keyword, adGroup, campaign: adGroup === undefined ? undefined : campaignOf(adGroup.campaignId) }
      })
    default:
      throw new GaqlError("BAD_RESOURCE_TYPE_IN_FROM_CLAUSE", `Invalid resource type '${from}' in the FROM clause.`)
  }
}

const metricsOf = (from: string, row: Row, day: AccountDay): DayMetrics | undefined => {
  if (from === "campaign") return row.campaign && day.campaigns.get(row.campaign.id)
  if (from === "ad_group") return row.adGroup && day.adGroups.get(row.adGroup.id)
  if (from === "keyword_view") return row.keyword && day.keywords.get(keywordKey(row.keyword.adGroupId, row.keyword.criterionId))
  return undefined
}

const RESOURCE_NAME_FIELD: Readonly<Record<string, string>> = {
  customer: "customer.resource_name",
  campaign: "campaign.resource_name",
  campaign_budget: "campaign_budget.resource_name",
  ad_group: "ad_group.resource_name",
  ad_group_criterion: "ad_group_criterion.resource_name",
  keyword_view: "keyword_view.resource_name"
}

const setPath = (target: Record<string, unknown>, path: string, value: unknown): void => {
  const parts = path.split(".")
  let node = target
  for (const part of parts.slice(0, -1)) {
    node = (node[part] ??= {}) as Record<string, unknown>
  }
  node[parts[parts.length - 1] as string] = value
}

const render = (type: FieldType, value: string | number): string | number => (type === "INT64" ? String(value) : value)

export interface SearchResult {
  /** `GoogleAdsRow`s as REST JSON. */
  readonly rows: ReadonlyArray<Record<string, unknown>>
  /** The selected fields in lowerCamelCase, comma-separated. */
  readonly fieldMask: string
}

/**
 * Runs `query` against `account`. `today` (ms at UTC midnight) bounds date ranges: there is no
 * data after it. Rows whose selected metrics are all zero are left out, as Google leaves them.
 */
export const search = (seed: string, account: AccountModel, query: GaqlQuery, today: number): SearchResult => {
  const from = query.from
  if (ATTRIBUTED[from] === undefined) throw new GaqlError("BAD_RESOURCE_TYPE_IN_FROM_CLAUSE", `Invalid resource type '${from}' in the FROM clause.`)
  const selected = query.select.map((f) => ({ field: f, def: checkField(from, f) }))
  for (const c of query.where) {
    const def = checkField(from, c.field)
    if (c.op === "DURING" && def.type !== "DATE") throw new GaqlError("BAD_OPERATOR", `DURING applies to date segments only, not ${c.field}.`)
  }
  for (const o of query.orderBy) checkField(from, o.field)

  const usesMetrics = [...query.select, ...query.where.map((c) => c.field), ...query.orderBy.map((o) => o.field)].some((f) => resourceOf(f) === "metrics")
  const segmented = query.select.includes("segments.date")
  const dateConditions = query.where.filter((c) => c.field === "segments.date")
  if (dateConditions.length > 0 && !usesMetrics && !segmented) {
    throw new GaqlError("QUERY_ERROR", "A date filter needs metrics or segments.date in the query.")
  }

  let rows: Array<Row> = baseRows(account, from)
  if (usesMetrics || segmented) {
    let low = Number.NEGATIVE_INFINITY
    let high = Number.POSITIVE_INFINITY
    for (const c of dateConditions) {
      const bounds = dateBounds(c, today)
      if (bounds === undefined) continue
      low = Math.max(low, bounds[0])
      high = Math.min(high, bounds[1])
    }
    if (!Number.isFinite(low) || !Number.isFinite(high)) {
      throw new GaqlError("EXPECTED_FILTERS_ON_DATE_RANGE", "Missing filters on date related fields: the simulator needs a finite segments.date range.")
    }
    if (high < low) throw new GaqlError("DATE_RANGE_TOO_NARROW", "The date range starts after it ends.")
    if ((high - low) / DAY_MS + 1 > MAX_DAYS) throw new GaqlError("QUERY_ERROR", `The simulator answers at most ${MAX_DAYS} days.`)
    const dates: Array<string> = []
    for (let d = low; d <= Math.min(high, today); d += DAY_MS) dates.push(isoDate(d))
    const days = new Map(dates.map((d) => [d, accountDay(seed, account, d)]))
    if (segmented) {
      rows = rows.flatMap((row) => dates.map((date) => ({ ...row, date, metrics: metricsOf(from, row, days.get(date) as AccountDay) })))
    } else {
      rows = rows.map((row) => {
        const perDay = dates.map((d) => metricsOf(from, row, days.get(d) as AccountDay)).filter((m): m is DayMetrics => m !== undefined)
        return { ...row, metrics: perDay.length === 0 ? undefined : sumDays(perDay) }
      })
    }
    if (usesMetrics) {
      rows = rows.filter((r) => r.metrics !== undefined && (r.metrics.impressions > 0 || r.metrics.clicks > 0 || r.metrics.costMicros > 0 || r.metrics.conversions > 0))
    }
  }

  rows = rows.filter((row) => query.where.every((c) => matches(account, row, c, today)))
  if (query.orderBy.length > 0) {
    rows.sort((a, b) => {
      for (const o of query.orderBy) {
        const def = FIELDS[o.field] as FieldDef
        const x = def.get(account, a)
        const y = def.get(account, b)
        const c = x === undefined ? (y === undefined ? 0 : -1) : y === undefined ? 1 : compare(x, y)
        if (c !== 0) return o.descending ? -c : c
      }
      return 0
    })
  }
  if (query.limit !== undefined) rows = rows.slice(0, query.limit)

  const presentResources = new Set([from, ...selected.map((s) => resourceOf(s.field))].filter((r) => r !== "segments" && r !== "metrics"))
  const rendered = rows.map((row) => {
    const out: Record<string, unknown> = {}
    for (const resource of presentResources) {
      const rnField = RESOURCE_NAME_FIELD[resource] as string
      const rn = (FIELDS[rnField] as FieldDef).get(account, row)
      if (rn !== undefined) setPath(out, `${camelPath(resource)}.resourceName`, rn)
    }
    for (const { field, def } of selected) {
      const value = def.get(account, row)
      if (value !== undefined) setPath(out, camelPath(field), render(def.type, value))
    }
    return out
  })
  return { rows: rendered, fieldMask: query.select.map(camelPath).join(",") }
}
