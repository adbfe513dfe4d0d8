/**
 * The next best actions (issue 13 §5): from what the shop's detectors reported over the last 30
 * days (its `trigger.received` events), the rules worth enabling — one per kind of finding the
 * shop has no rule for yet — each with its evidence in figures and in plain language.
 *
 * Ranking, by what is at stake (documented so a merchant can check it):
 * 1. money first — the carts left (their value), the spend above its baseline on anomalous days;
 * 2. then clicks — clicks lost by decaying pages, the weaker page's clicks in a cannibalised query;
 * 3. then things to fix — disapproved products, broken links, keywords burning or earning money;
 * within a tier, the larger figure first. Amounts of different currencies are not converted: the
 * figure says which currency (or "mixed").
 *
 * Pure: the caller reads the triggers, the rules and runs the backtest (`src/intelligence/Recommendations.ts`).
 */
import type { TriggerEventName } from "../automation/Triggers.ts"

/** A recorded trigger as the catalog reads it. */
export interface SeenTrigger {
  readonly event: string
  readonly at: number
  readonly resources: ReadonlyArray<{ readonly resourceId: string; readonly payload: Readonly<Record<string, unknown>> }>
}

export interface Impact {
  /** 1 money, 2 clicks, 3 things to fix. */
  readonly tier: 1 | 2 | 3
  readonly value: number
  /** A currency code, `clicks`, or what is counted (`products`, `links`, …). */
  readonly unit: string
}

export interface Suggestion {
  /** Stable per kind: `rec-<trigger event>`. */
  readonly id: string
  readonly triggerEvent: TriggerEventName
  readonly actionKey: string
  readonly ruleName: string
  /** The suggested params; params a merchant must choose (who to e-mail) are listed in `needs`. */
  readonly params: Readonly<Record<string, unknown>>
  readonly needs: ReadonlyArray<string>
  readonly impact: Impact
  /** One sentence: what was found, what the rule would do. */
  readonly explanation: string
  readonly evidence: {
    readonly triggers: number
    readonly resources: number
    readonly firstSeen: string
    readonly lastSeen: string
    /** The resources with the most at stake (at most 5). */
    readonly examples: ReadonlyArray<{ readonly resourceId: string; readonly figure: number }>
  }
}

const num = (u: unknown): number => (typeof u === "number" && Number.isFinite(u) ? u : 0)
const str = (u: unknown): string | null => (typeof u === "string" && u !== "" ? u : null)

interface CatalogEntry {
  readonly triggerEvent: TriggerEventName
  readonly actionKey: string
  readonly ruleName: string
  readonly params: (resources: ReadonlyArray<Resource>) => Readonly<Record<string, unknown>>
  readonly needs?: ReadonlyArray<string>
  readonly tier: 1 | 2 | 3
  /** What one resource puts at stake, in `unit`. */
  readonly figure: (r: Resource) => number
  readonly unit: (resources: ReadonlyArray<Resource>) => string
  readonly explain: (resources: number, total: number, unit: string) => string
}

type Resource = SeenTrigger["resources"][number]

const currencyOf = (resources: ReadonlyArray<Resource>): string => {
  const set = new Set(resources.map((r) => str(r.payload["currency"])).filter((c): c is string => c !== null))
  return set.size === 1 ? [...set][0]! : set.size === 0 ? "money" : "mixed"
}
const fmt = (n: number) => (Number.isInteger(n) ? n.toLocaleString("en-US") : n.toLocaleString("en-US", { maximumFractionDigits: 2 }))

/** What each kind of finding suggests. */
export const RECOMMENDATION_CATALOG: ReadonlyArray<CatalogEntry> = [
  {
    triggerEvent: "sales.cart_abandoned_threshold", actionKey: "send_cart_recovery_message", ruleName: "Win back abandoned carts",
    params: () => ({}), tier: 1, figure: (r) => num(r.payload["value"]), unit: currencyOf,
    explain: (n, total, unit) => `${fmt(n)} checkout(s) worth ${fmt(total)} ${unit} were left unfinished: remind each customer on the channel they agreed to (WhatsApp, else e-mail).`
  },
  {
    triggerEvent: "ads.spend_anomaly", actionKey: "cap_campaign_budget", ruleName: "Cap budgets when spend spikes",
    // a cap at 1.5 × the highest baseline seen: generous for normal days, a stop on runaway ones
    params: (rs) => (rs.length === 0 ? {} : { cap: Math.max(1, Math.round(Math.max(...rs.map((r) => num(r.payload["baselineMean"]))) * 150) / 100) }),
    tier: 1, figure: (r) => Math.max(0, num(r.payload["spend"]) - num(r.payload["baselineMean"])), unit: () => "spend above baseline",
    explain: (n, total) => `${fmt(n)} campaign day(s) spent ${fmt(total)} above their usual level: cap the daily budget when it happens again.`
  },
  {
    triggerEvent: "seo.content_decay_detected", actionKey: "notify_merchant", ruleName: "Refresh decaying pages",
    params: () => ({ subject: "{{event}}: {{resource}}" }), needs: ["recipients"], tier: 2,
    figure: (r) => Math.max(0, num(r.payload["priorClicks"]) - num(r.payload["nowClicks"])), unit: () => "clicks",
    explain: (n, total) => `${fmt(n)} page(s) lost ≥ 30 % of their clicks this fortnight (${fmt(total)} clicks): send the list to whoever refreshes content.`
  },
  {
    triggerEvent: "seo.cannibalism_detected", actionKey: "consolidate_cannibalized_page", ruleName: "Consolidate competing pages",
    params: () => ({ minClicksRatio: 2 }), tier: 2, figure: (r) => num(r.payload["weakerClicks"]), unit: () => "clicks",
    explain: (n, total) => `${fmt(n)} search quer(ies) are split between two of your pages (${fmt(total)} clicks on the weaker ones): redirect the weaker page to the stronger.`
  },
  {
    triggerEvent: "mc.product_disapproved", actionKey: "hide_disapproved_product", ruleName: "Hide disapproved products from Google",
    params: () => ({ tag: "mc-disapproved" }), tier: 3, figure: () => 1, unit: () => "products",
    explain: (n) => `${fmt(n)} product(s) were disapproved by Merchant Center: tag them and take them off the Google channel until they are fixed.`
  },
  {
    triggerEvent: "seo.broken_links_found", actionKey: "create_url_redirect", ruleName: "Redirect broken links",
    params: () => ({ target: "/" }), tier: 3, figure: (r) => Math.max(1, Array.isArray(r.payload["linkedFrom"]) ? r.payload["linkedFrom"].length : 1), unit: () => "links",
    explain: (n, total) => `${fmt(n)} internal link target(s) answer an error (linked ${fmt(total)} time(s)): redirect them so visitors do not land on an error page.`
  },
  {
    triggerEvent: "ads.keyword_underperforming", actionKey: "pause_ad_keyword", ruleName: "Pause keywords that lose money",
    params: () => ({}), tier: 3, figure: (r) => Math.abs(num(r.payload["zScore"])), unit: () => "keywords",
    explain: (n) => `${fmt(n)} keyword(s) return far less than the account's others: pause them.`
  },
  {
    triggerEvent: "ads.keyword_overperforming", actionKey: "adjust_keyword_bid", ruleName: "Bid up keywords that earn",
    params: () => ({ percent: 10, cap: 0 }), tier: 3, figure: (r) => Math.abs(num(r.payload["zScore"])), unit: () => "keywords",
    explain: (n) => `${fmt(n)} keyword(s) return far more than the account's others: raise their bids by 10 %.`
  }
]

/**
 * The suggestions for a shop: one per catalog entry whose trigger was seen and that no rule of
 * the shop answers yet (`covered`: the trigger events of its rules), ranked (see the module comment).
 */
export const suggest = (seen: ReadonlyArray<SeenTrigger>, covered: ReadonlySet<string>): ReadonlyArray<Suggestion> =>
  RECOMMENDATION_CATALOG.flatMap((entry): ReadonlyArray<Suggestion> => {
    if (covered.has(entry.triggerEvent)) return []
    const triggers = seen.filter((t) => t.event === entry.triggerEvent)
    if (triggers.length === 0) return []
    // the latest figure per resource: a resource reported twice is at stake once
    const latest = new Map<string, Resource>()
    for (const t of [...triggers].sort((a, b) => a.at - b.at)) for (const r of t.resources) latest.set(r.resourceId, r)
    const resources = [...latest.values()]
    const figures = resources.map((r) => ({ resourceId: r.resourceId, figure: Math.round(entry.figure(r) * 100) / 100 }))
    const total = Math.round(figures.reduce((s, f) => s + f.figure, 0) * 100) / 100
    const unit = entry.unit(resources)
    const at = triggers.map((t) => t.at)
    return [{
      id: `rec-${entry.triggerEvent}`,
      triggerEvent: entry.triggerEvent,
      actionKey: entry.actionKey,
      ruleName: entry.ruleName,
      params: entry.params(resources),
      needs: entry.needs ?? [],
      impact: { tier: entry.tier, value: total, unit },
      explanation: entry.explain(resources.length, total, unit),
      evidence: {
        triggers: triggers.length,
        resources: resources.length,
        firstSeen: new Date(Math.min(...at)).toISOString(),
        lastSeen: new Date(Math.max(...at)).toISOString(),
        examples: [...figures].sort((a, b) => b.figure - a.figure || a.resourceId.localeCompare(b.resourceId)).slice(0, 5)
      }
    }]
  }).sort((a, b) => a.impact.tier - b.impact.tier || b.impact.value - a.impact.value || a.id.localeCompare(b.id))

/** A catalog entry as a suggestion without findings (accepting a suggestion the shop has no evidence for yet). */
export const catalogSuggestion = (id: string): Suggestion | undefined => {
  const entry = RECOMMENDATION_CATALOG.find((e) => `rec-${e.triggerEvent}` === id)
  if (entry === undefined) return undefined
  return {
    id,
    triggerEvent: entry.triggerEvent,
    actionKey: entry.actionKey,
    ruleName: entry.ruleName,
    params: entry.params([]),
    needs: entry.needs ?? [],
    impact: { tier: entry.tier, value: 0, unit: entry.unit([]) },
    explanation: entry.explain(0, 0, entry.unit([])),
    evidence: { triggers: 0, resources: 0, firstSeen: "", lastSeen: "", examples: [] }
  }
}
