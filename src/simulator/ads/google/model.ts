/**
 * The simulated Google Ads accounts: customers, campaigns with their campaign budgets, ad
 * groups and keyword criteria, as the simulator holds them. Ids are digits (Google's int64s);
 * a keyword criterion is addressed `adGroupId~criterionId` like in its resource name.
 */
import type { DeterministicIds } from "../../kit/DeterministicIds.ts"

export type GoogleAdsStatus = "ENABLED" | "PAUSED" | "REMOVED"
export type KeywordMatchType = "EXACT" | "PHRASE" | "BROAD"

export interface KeywordInit {
  readonly criterionId: string | number
  readonly text: string
  /** Default `BROAD`. */
  readonly matchType?: KeywordMatchType
  /** Default `ENABLED`. */
  readonly status?: GoogleAdsStatus
  /** The keyword's own max CPC; absent (the default) when it uses its ad group's bid. */
  readonly cpcBidMicros?: number | null
}

export interface AdGroupInit {
  readonly id: string | number
  readonly name: string
  readonly status?: GoogleAdsStatus
  /** Default 1,000,000 (1.00 in the account's currency). */
  readonly cpcBidMicros?: number
  readonly keywords?: ReadonlyArray<KeywordInit>
}

export interface CampaignInit {
  readonly id: string | number
  readonly name: string
  readonly status?: GoogleAdsStatus
  /** The daily amount of the campaign's own (not shared) campaign budget. */
  readonly dailyBudgetMicros: number
  /** Id of that budget (default: drawn from the simulator's ids). */
  readonly budgetId?: string | number
  readonly adGroups?: ReadonlyArray<AdGroupInit>
}

export interface GoogleAdsAccountInit {
  /** Ten digits, without dashes. */
  readonly customerId: string
  /** The OAuth access token that may call this account (others may be added with `addToken`). */
  readonly accessToken: string
  /**
   * Whose daily operation quota the account draws on. Google keyed it on the developer token
   * until developer tokens were sunset (9 Sep 2026); since then on the Google Cloud project of
   * the OAuth client. Accounts with the same value share one quota. Default `"default"`.
   */
  readonly developerToken?: string
  /** ISO 4217, default `USD`. */
  readonly currency?: string
  readonly name?: string
  /** Manager accounts whose id may be sent as `login-customer-id` for this account. */
  readonly managerCustomerIds?: ReadonlyArray<string>
  readonly campaigns: ReadonlyArray<CampaignInit>
}

export interface CampaignRecord {
  readonly id: string
  name: string
  status: GoogleAdsStatus
  readonly budgetId: string
}

export interface BudgetRecord {
  readonly id: string
  name: string
  amountMicros: number
}

export interface AdGroupRecord {
  readonly id: string
  readonly campaignId: string
  name: string
  status: GoogleAdsStatus
  cpcBidMicros: number
}

export interface KeywordRecord {
  readonly adGroupId: string
  readonly criterionId: string
  text: string
  matchType: KeywordMatchType
  status: GoogleAdsStatus
  cpcBidMicros: number | null
}

/** `adGroupId~criterionId`. */
export const keywordKey = (adGroupId: string, criterionId: string): string => `${adGroupId}~${criterionId}`

/** One customer's objects (mutable: the simulator and the tests' helpers change them). */
export class AccountModel {
  readonly customerId: string
  readonly name: string
  readonly currency: string
  readonly quotaKey: string
  readonly managerCustomerIds: ReadonlySet<string>
  readonly campaigns = new Map<string, CampaignRecord>()
  readonly budgets = new Map<string, BudgetRecord>()
  readonly adGroups = new Map<string, AdGroupRecord>()
  /** By `adGroupId~criterionId`. */
  readonly keywords = new Map<string, KeywordRecord>()

  constructor(init: GoogleAdsAccountInit, ids: DeterministicIds) {
    if (!/^\d{10}$/.test(init.customerId)) throw new TypeError(`customerId must be 10 digits, got ${init.customerId}`)
    this.customerId = init.customerId
    this.name = init.name ?? `Account ${init.customerId}`
    this.currency = init.currency ?? "USD"
    this.quotaKey = init.developerToken ?? "default"
    this.managerCustomerIds = new Set(init.managerCustomerIds ?? [])
    for (const c of init.campaigns) {
      const id = digits(c.id, "campaign id")
      const budgetId = c.budgetId === undefined ? String(ids.next("budget", 7_000_000_001)) : digits(c.budgetId, "budget id")
      this.budgets.set(budgetId, { id: budgetId, name: `${c.name} budget`, amountMicros: c.dailyBudgetMicros })
      this.campaigns.set(id, { id, name: c.name, status: c.status ?? "ENABLED", budgetId })
      for (const g of c.adGroups ?? []) {
        const adGroupId = digits(g.id, "ad group id")
        this.adGroups.set(adGroupId, { id: adGroupId, campaignId: id, name: g.name, status: g.status ?? "ENABLED", cpcBidMicros: g.cpcBidMicros ?? 1_000_000 })
        for (const k of g.keywords ?? []) {
          const criterionId = digits(k.criterionId, "criterion id")
          this.keywords.set(keywordKey(adGroupId, criterionId), {
            adGroupId,
            criterionId,
            text: k.text,
            matchType: k.matchType ?? "BROAD",
            status: k.status ?? "ENABLED",
            cpcBidMicros: k.cpcBidMicros ?? null
          })
        }
      }
    }
  }

  resourceName(collection: "campaigns" | "campaignBudgets" | "adGroups" | "adGroupCriteria" | "keywordViews", id: string): string {
    return `customers/${this.customerId}/${collection}/${id}`
  }
}

const digits = (value: string | number, what: string): string => {
  const s = String(value)
  if (!/^\d+$/.test(s)) throw new TypeError(`${what} must be digits, got ${s}`)
  return s
}
