/**
 * The decision plane's trigger events: the seeds' canonical catalog (`001_…` §03, names exactly
 * as there), each with a Schema for its payload. A trigger names what a detector (or a webhook,
 * or an operator testing a rule) found, about up to 50 resources at once — the seed's emit site
 * sends `findings.slice(0, 50)` — each `{ resourceType, resourceId, payload }`, plus fields of
 * the trigger as a whole.
 *
 * A rule subscribes to one trigger; the condition (CEL) sees `event` (the trigger's fields),
 * `resource` (one of its resources) and `shop`. The per-resource payloads below are what the
 * producers put there, so a condition like `resource.payload.dropPct > 30` type-checks against
 * them.
 */
import { Schema } from "effect"

/** The seed's limit per emit. */
export const MAX_TRIGGER_RESOURCES = 50

const NonEmpty = Schema.String.check(Schema.isMinLength(1), Schema.isMaxLength(1000))
const Count = Schema.Int.check(Schema.isGreaterThanOrEqualTo(0))
const Ratio = Schema.Finite
const Score = Schema.Finite.check(Schema.isBetween({ minimum: 0, maximum: 100 }))
const AdPlatform = Schema.Literals(["google", "meta", "tiktok", "microsoft"])
const IsoDate = Schema.String.check(Schema.isPattern(/^\d{4}-\d{2}-\d{2}$/, { message: "must be a date YYYY-MM-DD" }))

/** The kinds of things a trigger can be about (and an action can change). */
export const RESOURCE_TYPES = ["product", "page", "article", "collection", "url", "keyword", "campaign", "ad_account", "order", "checkout", "shop"] as const
export type ResourceType = typeof RESOURCE_TYPES[number]

const resource = <const T extends ReadonlyArray<ResourceType>, P extends Schema.Struct.Fields>(types: T, payload: P) =>
  Schema.Struct({
    resourceType: Schema.Literals(types),
    resourceId: NonEmpty,
    payload: Schema.Struct(payload)
  })

const trigger = <const E extends string, R extends Schema.Top, F extends Schema.Struct.Fields>(event: E, res: R, fields: F) =>
  Schema.Struct({
    event: Schema.Literal(event),
    resources: Schema.Array(res).check(
      Schema.isMinLength(1, { message: "a trigger is about at least one resource" }),
      Schema.isMaxLength(MAX_TRIGGER_RESOURCES, { message: `at most ${MAX_TRIGGER_RESOURCES} resources per emit` })
    ),
    ...fields
  })

const page = ["page", "product", "article", "collection"] as const
const product = ["product"] as const

// --- SEO -------------------------------------------------------------------------------------

export const SeoAuditCompleted = trigger("seo.audit_completed", resource(page, {
  url: NonEmpty,
  score: Score,
  issues: Schema.Array(Schema.String)
}), { auditId: NonEmpty, score: Score, pagesCrawled: Count })

export const SeoBrokenLinksFound = trigger("seo.broken_links_found", resource(["url"], {
  /** The broken path (e.g. `/products/old-hat`), the redirect's source. */
  path: NonEmpty,
  status: Schema.Int,
  linkedFrom: Schema.Array(Schema.String)
}), { auditId: NonEmpty })

export const SeoScoreDropped = trigger("seo.score_dropped", resource(page, {
  url: NonEmpty,
  priorScore: Score,
  score: Score,
  dropPoints: Schema.Finite
}), { auditId: NonEmpty })

export const SeoOpportunityFound = trigger("seo.opportunity_found", resource(page, {
  url: NonEmpty,
  query: NonEmpty,
  impressions: Count,
  clicks: Count,
  position: Schema.Finite,
  ctr: Ratio
}), { window: Schema.Struct({ from: IsoDate, to: IsoDate }) })

export const SeoCannibalismDetected = trigger("seo.cannibalism_detected", resource(["keyword"], {
  query: NonEmpty,
  /** The page that should keep the query (more clicks), and the one competing with it. */
  strongerUrl: NonEmpty,
  weakerUrl: NonEmpty,
  weakerResourceId: Schema.optional(Schema.String),
  /** Clicks of each page over the detector's window (what `minClicksRatio` compares). */
  strongerClicks: Schema.optional(Count),
  weakerClicks: Schema.optional(Count)
}), {})

const snippet = { url: NonEmpty, query: NonEmpty, position: Schema.Finite }
export const SeoSnippetLost = trigger("seo.snippet_lost", resource(page, snippet), {})
export const SeoSnippetGained = trigger("seo.snippet_gained", resource(page, snippet), {})

/** The seed's emit site: `{ dropPct, priorClicks, nowClicks }` per page, on a 14-day baseline. */
export const SeoContentDecayDetected = trigger("seo.content_decay_detected", resource(page, {
  dropPct: Schema.Finite,
  priorClicks: Count,
  nowClicks: Count
}), { baselineDays: Schema.optional(Count) })

export const SeoKeywordGapDetected = trigger("seo.keyword_gap_detected", resource(["keyword"], {
  query: NonEmpty,
  impressions: Count,
  position: Schema.NullOr(Schema.Finite)
}), {})

// --- ads and sales ---------------------------------------------------------------------------

export const AdsDailyInsightsComplete = trigger("ads.daily_insights_complete", resource(["campaign", "ad_account"], {
  spend: Schema.Finite,
  currency: NonEmpty,
  impressions: Count,
  clicks: Count,
  conversions: Schema.Finite,
  roas: Schema.NullOr(Schema.Finite)
}), { platform: AdPlatform, date: IsoDate })

export const AdsSpendAnomaly = trigger("ads.spend_anomaly", resource(["campaign", "ad_account"], {
  spend: Schema.Finite,
  baselineMean: Schema.Finite,
  baselineStd: Schema.Finite,
  zScore: Schema.Finite,
  /** The ad account (the shop's only one on the platform when absent). */
  accountId: Schema.optional(NonEmpty)
}), { platform: AdPlatform, date: IsoDate })

const keywordPerformance = {
  keyword: NonEmpty,
  campaignId: NonEmpty,
  metric: Schema.Literals(["ctr", "cpc", "conversion_rate", "roas"]),
  value: Schema.Finite,
  zScore: Schema.Finite,
  /** The ad account (the shop's only one on the platform when absent) and the keyword's ad group (Google). */
  accountId: Schema.optional(NonEmpty),
  adGroupId: Schema.optional(NonEmpty)
}
export const AdsKeywordUnderperforming = trigger("ads.keyword_underperforming", resource(["keyword"], keywordPerformance), { platform: AdPlatform })
export const AdsKeywordOverperforming = trigger("ads.keyword_overperforming", resource(["keyword"], keywordPerformance), { platform: AdPlatform })

export const SalesCartAbandonedThreshold = trigger("sales.cart_abandoned_threshold", resource(["checkout"], {
  value: Schema.Finite,
  currency: NonEmpty,
  abandonedAt: NonEmpty,
  /** The customer's IANA time zone, when known: a rule's quiet hours are read in it rather than the shop's. */
  timeZone: Schema.optional(NonEmpty)
}), { abandoned: Count, threshold: Count, windowMinutes: Count })

export const SalesAttributionComputed = trigger("sales.attribution_computed", resource(["order"], {
  revenue: Schema.Finite,
  currency: NonEmpty,
  /** Credit per channel under the model, summing to 1. */
  credits: Schema.Record(Schema.String, Schema.Finite)
}), { model: Schema.Literals(["first_touch", "last_touch", "linear", "time_decay", "position_based", "data_driven", "last_non_direct"]) })

// --- catalog and commerce --------------------------------------------------------------------

const merchantCenter = {
  /** The product's title, as Merchant Center lists the offer (names it in audit lines). */
  title: Schema.optional(Schema.String),
  offerId: NonEmpty,
  destination: NonEmpty,
  issues: Schema.Array(Schema.Struct({ code: NonEmpty, description: Schema.String, severity: Schema.String }))
}
export const McProductDisapproved = trigger("mc.product_disapproved", resource(product, merchantCenter), {})
export const McProductApproved = trigger("mc.product_approved", resource(product, merchantCenter), {})

/** A product's status as a `products/create|update` webhook showed it (see `ProductStatus.ts`). */
const productStatus = {
  title: Schema.String,
  vendor: Schema.NullOr(Schema.String),
  productType: Schema.NullOr(Schema.String),
  tags: Schema.Array(Schema.String),
  status: Schema.String,
  previousStatus: Schema.NullOr(Schema.String),
  /** Shopify's `updated_at` of the version that showed the transition. */
  updatedAt: NonEmpty
}
export const ProductPublished = trigger("product.published", resource(product, productStatus), {})
export const ProductDrafted = trigger("product.drafted", resource(product, productStatus), {})

/** Every trigger, tagged by `event`. */
export const TriggerEvent = Schema.Union([
  SeoAuditCompleted,
  SeoBrokenLinksFound,
  SeoScoreDropped,
  SeoOpportunityFound,
  SeoCannibalismDetected,
  SeoSnippetLost,
  SeoSnippetGained,
  SeoContentDecayDetected,
  SeoKeywordGapDetected,
  AdsDailyInsightsComplete,
  AdsSpendAnomaly,
  AdsKeywordUnderperforming,
  AdsKeywordOverperforming,
  SalesCartAbandonedThreshold,
  SalesAttributionComputed,
  McProductDisapproved,
  McProductApproved,
  ProductPublished,
  ProductDrafted
])
export type TriggerEvent = typeof TriggerEvent.Type
export type TriggerEventName = TriggerEvent["event"]

/** The catalog in the seed's order, with each trigger's payload schema and what it means. */
export const TRIGGER_CATALOG: ReadonlyArray<{ readonly event: TriggerEventName; readonly domain: string; readonly description: string; readonly schema: Schema.Top }> = [
  { event: "seo.audit_completed", domain: "seo", description: "A site audit finished; its pages with their scores and issues", schema: SeoAuditCompleted },
  { event: "seo.broken_links_found", domain: "seo", description: "Links to paths that answer 4xx/5xx, with the pages linking to them", schema: SeoBrokenLinksFound },
  { event: "seo.score_dropped", domain: "seo", description: "A page's audit score fell since the previous audit", schema: SeoScoreDropped },
  { event: "seo.opportunity_found", domain: "seo", description: "A query with many impressions and a position just off page one", schema: SeoOpportunityFound },
  { event: "seo.cannibalism_detected", domain: "seo", description: "Two of the shop's pages compete for the same query", schema: SeoCannibalismDetected },
  { event: "seo.snippet_lost", domain: "seo", description: "A page lost a featured snippet for a query", schema: SeoSnippetLost },
  { event: "seo.snippet_gained", domain: "seo", description: "A page won a featured snippet for a query", schema: SeoSnippetGained },
  { event: "seo.content_decay_detected", domain: "seo", description: "A page's clicks fell against its 14-day baseline", schema: SeoContentDecayDetected },
  { event: "seo.keyword_gap_detected", domain: "seo", description: "A query the shop shows for but has no page about", schema: SeoKeywordGapDetected },
  { event: "ads.daily_insights_complete", domain: "ads", description: "A day of an ad platform's insights is in", schema: AdsDailyInsightsComplete },
  { event: "ads.spend_anomaly", domain: "ads", description: "Spend far from its baseline (Z-score)", schema: AdsSpendAnomaly },
  { event: "ads.keyword_underperforming", domain: "ads", description: "A keyword well below its baseline on a metric", schema: AdsKeywordUnderperforming },
  { event: "ads.keyword_overperforming", domain: "ads", description: "A keyword well above its baseline on a metric", schema: AdsKeywordOverperforming },
  { event: "sales.cart_abandoned_threshold", domain: "sales", description: "Abandoned checkouts in a window crossed a threshold", schema: SalesCartAbandonedThreshold },
  { event: "sales.attribution_computed", domain: "sales", description: "An order's revenue was attributed to its touchpoints", schema: SalesAttributionComputed },
  { event: "mc.product_disapproved", domain: "catalog", description: "Merchant Center disapproved a product for a destination", schema: McProductDisapproved },
  { event: "mc.product_approved", domain: "catalog", description: "Merchant Center approved a product again", schema: McProductApproved },
  { event: "product.published", domain: "catalog", description: "A product became active (from a products/create or products/update webhook)", schema: ProductPublished },
  { event: "product.drafted", domain: "catalog", description: "A product went back to draft", schema: ProductDrafted }
]

export const TRIGGER_EVENT_NAMES: ReadonlyArray<TriggerEventName> = TRIGGER_CATALOG.map((t) => t.event)

export const isTriggerEventName = (name: string): name is TriggerEventName => (TRIGGER_EVENT_NAMES as ReadonlyArray<string>).includes(name)

/**
 * The same trigger about one of its resources only (a deferral re-checked later, a backtest's
 * deferred resource). The resource comes from the trigger itself, so it fits its schema.
 */
export const narrowedTo = (trigger: TriggerEvent, resourceId: string): TriggerEvent | undefined => {
  const resource = (trigger.resources as ReadonlyArray<TriggerEvent["resources"][number]>).find((r) => r.resourceId === resourceId)
  // (TypeScript cannot pair a union member with its own resources' type: one assertion, here)
  return resource === undefined ? undefined : { ...trigger, resources: [resource] } as TriggerEvent
}

/** A trigger event's name, as stored (refused unless it is in the catalog). */
export const TriggerEventNameSchema = Schema.String.pipe(Schema.refine(isTriggerEventName, { message: "must be an event of the trigger catalog" }))
