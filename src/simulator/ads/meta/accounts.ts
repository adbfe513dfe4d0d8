/**
 * The simulated ad accounts: each with its access token, currency, campaigns and their ad
 * sets, and its Business Use Case usage windows. Budgets and bid amounts are stored as Meta
 * stores them: integers in the currency's minor unit (its "offset": 100 for USD/EUR, 1 for
 * JPY/KRW…); Meta answers `daily_budget` as a numeric string and `bid_amount` as a number.
 */
import type { Clock } from "../../kit/SimulatedClock.ts"
import { BUC_TYPES, UsageWindow, type BucType, type WindowLimits } from "./usage.ts"

export type MetaStatus = "ACTIVE" | "PAUSED" | "DELETED" | "ARCHIVED"
export const META_STATUSES: ReadonlyArray<MetaStatus> = ["ACTIVE", "PAUSED", "DELETED", "ARCHIVED"]

/** Currencies whose Meta offset is 1 (amounts are whole units); every other one has 100. */
export const OFFSET_ONE_CURRENCIES: ReadonlySet<string> = new Set(["CLP", "COP", "CRC", "HUF", "IDR", "ISK", "JPY", "KRW", "PYG", "TWD", "VND"])

/** Minor units per major unit of `currency` in Meta's amounts (Marketing API "Currency Codes"). */
export const currencyOffset = (currency: string): number => (OFFSET_ONE_CURRENCIES.has(currency.toUpperCase()) ? 1 : 100)

export interface AdSetOptions {
  /** Default: a fresh numeric id. */
  readonly id?: string
  readonly name: string
  readonly status?: MetaStatus
  /** Minor units; null when the campaign holds the budget (CBO). Default 2000 unless the campaign has one. */
  readonly dailyBudget?: number | null
  /** Minor units; null for automatic bidding. Default null. */
  readonly bidAmount?: number | null
  /** Relative delivery volume in the seeded insights (default 1; 0: no delivery). */
  readonly weight?: number
}

export interface CampaignOptions {
  readonly id?: string
  readonly name: string
  readonly status?: MetaStatus
  /** Minor units, for a campaign budget (CBO); default null (the ad sets hold budgets). */
  readonly dailyBudget?: number | null
  readonly adSets: ReadonlyArray<AdSetOptions>
}

export interface AccountOptions {
  /** Digits, without `act_`. */
  readonly adAccountId: string
  readonly accessToken: string
  /** ISO 4217; default `USD`. */
  readonly currency?: string
  readonly name?: string
  /** Key of the account's entry in `X-Business-Use-Case-Usage` (Meta: the business or the account id). Default the account id. */
  readonly businessId?: string
  /** When the token expires (clock millis); default never. */
  readonly tokenExpiresAt?: number
  /** Per use case capacity overrides for this account. */
  readonly capacity?: Partial<Record<BucType, number>>
  readonly campaigns: ReadonlyArray<CampaignOptions>
}

export type ObjectKind = "campaign" | "adset"

/** A campaign or ad set as the simulator holds it. */
export interface MetaObject {
  readonly kind: ObjectKind
  readonly id: string
  readonly accountId: string
  /** The ad set's campaign (the campaign's own id for a campaign). */
  readonly campaignId: string
  name: string
  status: MetaStatus
  dailyBudget: number | null
  bidAmount: number | null
  readonly weight: number
  updatedAt: number
}

/** A read-only copy of an object's state with its effective status, for assertions. */
export interface MetaObjectSnapshot {
  readonly kind: ObjectKind
  readonly id: string
  readonly accountId: string
  readonly campaignId: string
  readonly name: string
  readonly status: MetaStatus
  readonly effectiveStatus: string
  readonly dailyBudget: number | null
  readonly bidAmount: number | null
  readonly updatedAt: number
}

export class MetaAccount {
  readonly id: string
  readonly currency: string
  readonly name: string
  readonly businessId: string
  accessToken: string
  tokenExpiresAt: number | undefined
  readonly campaigns: Array<MetaObject> = []
  readonly adSets: Array<MetaObject> = []
  readonly windows: Record<BucType, UsageWindow>

  /** `nextObjectId` numbers the campaigns and ad sets not given an id (unique across accounts). */
  constructor(options: AccountOptions, nextObjectId: () => string, limits: Record<BucType, WindowLimits>, clock: Clock) {
    if (!/^\d+$/.test(options.adAccountId)) throw new TypeError(`adAccountId must be digits without act_: ${options.adAccountId}`)
    this.id = options.adAccountId
    this.currency = (options.currency ?? "USD").toUpperCase()
    this.name = options.name ?? `Account ${options.adAccountId}`
    this.businessId = options.businessId ?? options.adAccountId
    this.accessToken = options.accessToken
    this.tokenExpiresAt = options.tokenExpiresAt
    const nextId = nextObjectId
    const now = clock()
    for (const c of options.campaigns) {
      const campaignId = c.id ?? nextId()
      const campaignBudget = c.dailyBudget ?? null
      this.campaigns.push({
        kind: "campaign",
        id: campaignId,
        accountId: this.id,
        campaignId,
        name: c.name,
        status: c.status ?? "ACTIVE",
        dailyBudget: campaignBudget,
        bidAmount: null,
        weight: 1,
        updatedAt: now
      })
      for (const s of c.adSets) {
        this.adSets.push({
          kind: "adset",
          id: s.id ?? nextId(),
          accountId: this.id,
          campaignId,
          name: s.name,
          status: s.status ?? "ACTIVE",
          dailyBudget: s.dailyBudget !== undefined ? s.dailyBudget : campaignBudget === null ? 2000 : null,
          bidAmount: s.bidAmount ?? null,
          weight: s.weight ?? 1,
          updatedAt: now
        })
      }
    }
    const windowsFor = (type: BucType) => {
      const override = options.capacity?.[type]
      return new UsageWindow(type, override === undefined ? limits[type] : { ...limits[type], capacity: override }, clock)
    }
    this.windows = Object.fromEntries(BUC_TYPES.map((t) => [t, windowsFor(t)])) as Record<BucType, UsageWindow>
  }

  get offset(): number {
    return currencyOffset(this.currency)
  }

  object(id: string): MetaObject | undefined {
    return this.campaigns.find((c) => c.id === id) ?? this.adSets.find((s) => s.id === id)
  }

  campaignOf(adSet: MetaObject): MetaObject {
    return this.campaigns.find((c) => c.id === adSet.campaignId) as MetaObject
  }

  /** Meta's `effective_status`: an active ad set under a paused campaign reads `CAMPAIGN_PAUSED`. */
  effectiveStatus(o: MetaObject): string {
    if (o.kind === "campaign" || o.status !== "ACTIVE") return o.status
    const campaign = this.campaignOf(o)
    if (campaign.status === "PAUSED") return "CAMPAIGN_PAUSED"
    if (campaign.status !== "ACTIVE") return campaign.status
    return "ACTIVE"
  }

  snapshot(o: MetaObject): MetaObjectSnapshot {
    return {
      kind: o.kind,
      id: o.id,
      accountId: o.accountId,
      campaignId: o.campaignId,
      name: o.name,
      status: o.status,
      effectiveStatus: this.effectiveStatus(o),
      dailyBudget: o.dailyBudget,
      bidAmount: o.bidAmount,
      updatedAt: o.updatedAt
    }
  }
}
