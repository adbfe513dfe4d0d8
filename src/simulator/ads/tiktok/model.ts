/**
 * The simulated TikTok advertisers: their campaigns and ad groups, held as the records the
 * Marketing API v1.3 answers (snake_case, as `campaign/get/` and `adgroup/get/` list them),
 * plus the per-advertiser request window behind code 40100. Money is a decimal amount of
 * the advertiser's currency, as on the wire.
 */
import type { Clock } from "../../kit/SimulatedClock.ts"

export type OperationStatus = "ENABLE" | "DISABLE"
export type BudgetMode = "BUDGET_MODE_DAY" | "BUDGET_MODE_TOTAL" | "BUDGET_MODE_INFINITE"
export type BidType = "BID_TYPE_NO_BID" | "BID_TYPE_CUSTOM"

/** A day's numbers for one ad group, replacing the seeded ones (amounts as decimal strings, e.g. `"12.34"`). */
export interface DayStatsInit {
  readonly spend: string
  readonly impressions: number
  readonly clicks: number
  readonly conversions: number
  /** Purchase value (`total_complete_payment_rate`). */
  readonly value: string
}

export interface AdGroupInit {
  readonly adgroupId: string
  readonly name?: string
  /** Default `ENABLE`. */
  readonly status?: OperationStatus
  /** Default `BUDGET_MODE_DAY`. */
  readonly budgetMode?: BudgetMode
  /** Default 20 (0 with `BUDGET_MODE_INFINITE`). */
  readonly budget?: number
  /** Default `BID_TYPE_CUSTOM`. */
  readonly bidType?: BidType
  /** Default 1.5 with a custom bid, 0 otherwise. */
  readonly bidPrice?: number
  /** Per date (`YYYY-MM-DD`): fixed numbers instead of the seeded ones. */
  readonly stats?: Readonly<Record<string, DayStatsInit>>
}

export interface CampaignInit {
  readonly campaignId: string
  readonly name?: string
  /** Default `ENABLE`. */
  readonly status?: OperationStatus
  /** Default `BUDGET_MODE_DAY`. */
  readonly budgetMode?: BudgetMode
  /** Default 100 (0 with `BUDGET_MODE_INFINITE`). */
  readonly budget?: number
  /** Default `WEB_CONVERSIONS`. */
  readonly objectiveType?: string
  readonly adGroups?: ReadonlyArray<AdGroupInit>
}

/** At most `limit` accepted requests per advertiser in any `windowMs` (sliding window). */
export interface RateLimit {
  readonly limit: number
  readonly windowMs: number
}

export interface AdvertiserInit {
  readonly advertiserId: string
  readonly accessToken: string
  /** ISO 4217, e.g. `USD`. */
  readonly currency: string
  readonly name?: string
  /** Default `Etc/GMT`. */
  readonly timezone?: string
  /** Overrides the simulator's default rate limit for this advertiser. */
  readonly rateLimit?: RateLimit
  readonly campaigns?: ReadonlyArray<CampaignInit>
}

/** A campaign as `campaign/get/` lists it. */
export interface CampaignRecord {
  advertiser_id: string
  campaign_id: string
  campaign_name: string
  objective_type: string
  budget_mode: BudgetMode
  budget: number
  operation_status: OperationStatus
  secondary_status: string
  create_time: string
  modify_time: string
}

/** An ad group as `adgroup/get/` lists it. */
export interface AdGroupRecord {
  advertiser_id: string
  campaign_id: string
  adgroup_id: string
  adgroup_name: string
  budget_mode: BudgetMode
  budget: number
  bid_type: BidType
  bid_price: number
  operation_status: OperationStatus
  secondary_status: string
  create_time: string
  modify_time: string
}

/** Currencies TikTok bills without minor units. */
const ZERO_DECIMAL = new Set(["JPY", "KRW", "VND", "CLP", "HUF", "TWD", "IDR"])

/** Decimal places of amounts in `currency`. */
export const currencyPrecision = (currency: string): number => (ZERO_DECIMAL.has(currency.toUpperCase()) ? 0 : 2)

/** Smallest daily budgets (campaign, ad group) in the currency's units; a simplified table. */
export const minimumDailyBudget = (currency: string): { readonly campaign: number; readonly adGroup: number } =>
  currency.toUpperCase() === "JPY" ? { campaign: 5_000, adGroup: 2_000 } : currency.toUpperCase() === "KRW" ? { campaign: 50_000, adGroup: 20_000 } : { campaign: 50, adGroup: 20 }

/** `YYYY-MM-DD HH:MM:SS` (UTC), TikTok's timestamp format. */
export const formatTime = (ms: number): string => new Date(ms).toISOString().slice(0, 19).replace("T", " ")

/** The secondary status TikTok derives for a campaign. */
export const campaignSecondaryStatus = (status: OperationStatus | "DELETE"): string =>
  status === "DELETE" ? "CAMPAIGN_STATUS_DELETE" : status === "ENABLE" ? "CAMPAIGN_STATUS_ENABLE" : "CAMPAIGN_STATUS_DISABLE"

/** The secondary status TikTok derives for an ad group, given its campaign's. */
export const adGroupSecondaryStatus = (status: OperationStatus | "DELETE", campaign: CampaignRecord): string => {
  if (status === "DELETE") return "ADGROUP_STATUS_DELETE"
  if (campaign.secondary_status === "CAMPAIGN_STATUS_DELETE") return "ADGROUP_STATUS_CAMPAIGN_DELETE"
  if (status === "DISABLE") return "ADGROUP_STATUS_DISABLE"
  if (campaign.operation_status === "DISABLE") return "ADGROUP_STATUS_CAMPAIGN_DISABLE"
  return "ADGROUP_STATUS_DELIVERY_OK"
}

/** One advertiser's objects, credentials, stats overrides and request window. */
export class AdvertiserState {
  readonly advertiserId: string
  readonly currency: string
  readonly name: string
  readonly timezone: string
  readonly rateLimit: RateLimit
  accessToken: string
  /** Set by `expireToken`: every call with the token answers the auth code from then on. */
  tokenRevoked = false
  readonly campaigns = new Map<string, CampaignRecord>()
  readonly adGroups = new Map<string, AdGroupRecord>()
  /** `adgroupId/date` → fixed numbers. */
  readonly stats = new Map<string, DayStatsInit>()
  /** Arrival times of the requests accepted in the current window. */
  readonly #accepted: Array<number> = []

  constructor(init: AdvertiserInit, rateLimit: RateLimit, clock: Clock) {
    this.advertiserId = init.advertiserId
    this.currency = init.currency.toUpperCase()
    this.name = init.name ?? `Advertiser ${init.advertiserId}`
    this.timezone = init.timezone ?? "Etc/GMT"
    this.rateLimit = init.rateLimit ?? rateLimit
    this.accessToken = init.accessToken
    const created = formatTime(clock())
    for (const c of init.campaigns ?? []) {
      const budgetMode = c.budgetMode ?? "BUDGET_MODE_DAY"
      const status = c.status ?? "ENABLE"
      const campaign: CampaignRecord = {
        advertiser_id: this.advertiserId,
        campaign_id: c.campaignId,
        campaign_name: c.name ?? `Campaign ${c.campaignId}`,
        objective_type: c.objectiveType ?? "WEB_CONVERSIONS",
        budget_mode: budgetMode,
        budget: c.budget ?? (budgetMode === "BUDGET_MODE_INFINITE" ? 0 : 100),
        operation_status: status,
        secondary_status: campaignSecondaryStatus(status),
        create_time: created,
        modify_time: created
      }
      this.campaigns.set(c.campaignId, campaign)
      for (const g of c.adGroups ?? []) {
        const groupBudgetMode = g.budgetMode ?? "BUDGET_MODE_DAY"
        const bidType = g.bidType ?? "BID_TYPE_CUSTOM"
        const groupStatus = g.status ?? "ENABLE"
        this.adGroups.set(g.adgroupId, {
          advertiser_id: this.advertiserId,
          campaign_id: c.campaignId,
          adgroup_id: g.adgroupId,
          adgroup_name: g.name ?? `Ad group ${g.adgroupId}`,
          budget_mode: groupBudgetMode,
          budget: g.budget ?? (groupBudgetMode === "BUDGET_MODE_INFINITE" ? 0 : 20),
          bid_type: bidType,
          bid_price: g.bidPrice ?? (bidType === "BID_TYPE_CUSTOM" ? 1.5 : 0),
          operation_status: groupStatus,
          secondary_status: adGroupSecondaryStatus(groupStatus, campaign),
          create_time: created,
          modify_time: created
        })
        for (const [date, s] of Object.entries(g.stats ?? {})) this.stats.set(`${g.adgroupId}/${date}`, s)
      }
    }
  }

  /** The ad groups of `campaignId`, in creation order. */
  adGroupsOf(campaignId: string): ReadonlyArray<AdGroupRecord> {
    return [...this.adGroups.values()].filter((g) => g.campaign_id === campaignId)
  }

  /** Re-derives the ad groups' secondary status after their campaign changed. */
  refreshAdGroups(campaignId: string): void {
    const campaign = this.campaigns.get(campaignId)
    if (campaign === undefined) return
    for (const g of this.adGroupsOf(campaignId)) {
      const own = g.secondary_status === "ADGROUP_STATUS_DELETE" ? "DELETE" : g.operation_status
      g.secondary_status = adGroupSecondaryStatus(own, campaign)
    }
  }

  /**
   * Counts a request arriving at `now` against the sliding window: true when it is within
   * the limit (and is then counted), false when it must be refused with 40100 (refused
   * requests do not count).
   */
  admit(now: number): boolean {
    const from = now - this.rateLimit.windowMs
    while (this.#accepted.length > 0 && (this.#accepted[0] as number) <= from) this.#accepted.shift()
    if (this.#accepted.length >= this.rateLimit.limit) return false
    this.#accepted.push(now)
    return true
  }
}
