/**
 * The daily site audit of each shop's storefront (issue 13 §1, §3), on a durable timer per shop
 * and origin in the shop's actor, due every day at 06:00 UTC:
 * - after the commit the crawler reads the storefront (`SiteCrawler.ts`: robots.txt, the
 *   sitemaps, bounded concurrency, the shop's page budget — its detector setting
 *   `siteAudit.maxPages`, default `SITE_AUDIT_MAX_PAGES` or 200) and each
 *   page is scored by the documented rubric (`domain/intelligence/siteAudit.ts`);
 * - the result goes back to the actor (`seo.audit_report`), which records it
 *   (`seo.audit_recorded` on `seo-audit-<shop>`) and, against the previous audit it knows,
 *   emits after the commit — fire-and-forget, ids derived from the audit — `seo.audit_completed`
 *   (the score and the 50 weakest pages), `seo.broken_links_found` (internal links answering
 *   4xx/5xx that the previous audit did not have: once per episode) and `seo.score_dropped`
 *   (pages whose score fell by at least the shop's `siteAudit.scoreDropPoints`, default 10,
 *   since the previous audit).
 */
import { Context, Effect, Schema } from "effect"
import { DEFAULT_SITE_AUDIT_SETTINGS } from "../../domain/intelligence/detectorSettings.ts"
import { MAX_TRIGGER_RESOURCES } from "../../domain/automation/Triggers.ts"
import { resourceTypeOfUrl } from "../../domain/intelligence/seoDaily.ts"
import { auditSummary, scoreDrops } from "../../domain/intelligence/siteAudit.ts"
import { encodeShopMessage, SiteAuditReport, type TriggerEmitted } from "../../domain/messages/ShopMessages.ts"
import { type Decision, type HandlerRegistry, type ScheduledMessage, TransientFailure } from "../actors/ShopHandlers.ts"
import { detectorTrigger, kickOff, nextDailyAt, parseShopPairs, publishTriggers } from "./DailyPulls.ts"
import { EventStore, type Fold } from "../eventstore/EventStore.ts"
import { nameBasedUuid } from "../ids/NameBasedUuid.ts"
import { ShopLog } from "../shoplog/ShopLog.ts"
import { DetectorDefaults, shopDetectorSettings } from "./DetectorSettings.ts"
import { crawlSite } from "./SiteCrawler.ts"

export const siteAuditStreamId = (shop: string) => `seo-audit-${shop}`
export const siteAuditTimerId = (shop: string, origin: string) => `seo.audit:${shop}:${origin}`

/** Pages per recorded audit (the weakest first): what an event may reasonably hold. */
const MAX_RECORDED_PAGES = 500

/** The crawl's concurrency per audit (the page budget is the shop's setting). */
export const SiteAuditConcurrency = Context.Reference<number>("sumeru/intelligence/SiteAuditConcurrency", {
  defaultValue: () => 4
})

export const siteAuditTimer = (shop: string, origin: string, now: Date): ScheduledMessage => ({
  id: siteAuditTimerId(shop, origin),
  at: nextDailyAt(now, 6),
  ...encodeShopMessage({ type: "seo.audit_run", payload: { origin } })
})

/** The shop's latest audit of each origin (a fold the store snapshots: a year of audits is not re-read daily). */
const latestAudits: Fold<Readonly<Record<string, SiteAuditReport>>> = {
  name: "seo-latest-audits",
  version: 1,
  initial: () => ({}),
  evolve: (state, event) => {
    if (event.type !== "seo.audit_recorded") return state
    const d = Schema.decodeUnknownOption(SiteAuditReport)(event.data)
    return d._tag === "Some" ? { ...state, [d.value.origin]: d.value } : state
  },
  schema: Schema.Record(Schema.String, SiteAuditReport) as never
}

/** The triggers of an audit, given the previous one of the same origin. */
export const auditTriggers = (
  shop: string,
  report: SiteAuditReport,
  previous: SiteAuditReport | undefined,
  scoreDropPoints: number = DEFAULT_SITE_AUDIT_SETTINGS.scoreDropPoints
): ReadonlyArray<TriggerEmitted> => {
  const emitted = (kind: string, trigger: Record<string, unknown>): TriggerEmitted =>
    detectorTrigger("sumeru.audit", `${shop}\u0000${report.auditId}\u0000${kind}`, `site-audit-${kind}`, trigger)
  const clamp = (n: number) => Math.max(0, Math.min(100, n))
  const out: Array<TriggerEmitted> = []
  const weakest = [...report.pages].sort((a, b) => a.score - b.score || a.url.localeCompare(b.url)).slice(0, MAX_TRIGGER_RESOURCES)
  if (weakest.length > 0) {
    out.push(emitted("completed", {
      event: "seo.audit_completed", auditId: report.auditId, score: clamp(report.score), pagesCrawled: report.pagesCrawled,
      resources: weakest.map((p) => ({ resourceType: resourceTypeOfUrl(p.url), resourceId: p.url, payload: { url: p.url, score: clamp(p.score), issues: p.issues } }))
    }))
  }
  const knownBroken = new Set(previous?.brokenLinks.map((b) => b.path) ?? [])
  const newBroken = report.brokenLinks.filter((b) => !knownBroken.has(b.path))
  if (newBroken.length > 0) {
    out.push(emitted("broken-links", {
      event: "seo.broken_links_found", auditId: report.auditId,
      resources: newBroken.slice(0, MAX_TRIGGER_RESOURCES).map((b) => ({ resourceType: "url", resourceId: b.path, payload: { path: b.path, status: b.status, linkedFrom: b.linkedFrom.slice(0, 20) } }))
    }))
  }
  const drops = previous === undefined ? [] : scoreDrops(previous.pages, report.pages, scoreDropPoints)
  if (drops.length > 0) {
    out.push(emitted("score-dropped", {
      event: "seo.score_dropped", auditId: report.auditId,
      resources: drops.slice(0, MAX_TRIGGER_RESOURCES).map((d) => ({
        resourceType: resourceTypeOfUrl(d.url), resourceId: d.url, payload: { url: d.url, priorScore: clamp(d.priorScore), score: clamp(d.score), dropPoints: d.dropPoints }
      }))
    }))
  }
  return out
}

export const makeSiteAuditHandlers = Effect.gen(function*() {
  const log = yield* ShopLog
  const store = yield* EventStore
  const concurrency = yield* SiteAuditConcurrency
  const defaults = yield* DetectorDefaults
  return {
    "seo.audit_run": (ctx) =>
      Effect.gen(function*() {
        const { origin } = ctx.message.payload
        const now = new Date()
        const audit = Effect.gen(function*() {
          const { effective } = yield* shopDetectorSettings(ctx.shop).pipe(Effect.provideService(EventStore, store), Effect.provideService(DetectorDefaults, defaults))
          const crawl = yield* crawlSite({ origin, maxPages: effective.siteAudit.maxPages, concurrency })
          const summary = auditSummary(crawl.pages)
          const auditId = nameBasedUuid("sumeru.audit.id", `${ctx.shop}\u0000${origin}\u0000${ctx.message.messageId}`)
          const pages = [...summary.pages].sort((a, b) => a.score - b.score || a.url.localeCompare(b.url)).slice(0, MAX_RECORDED_PAGES)
          const messageId = `seo.audit_report:${auditId}`
          yield* log.publish({
            shop: ctx.shop, messageId, correlationId: messageId,
            ...encodeShopMessage({ type: "seo.audit_report", payload: { origin, auditId, score: summary.score, pagesCrawled: summary.pagesCrawled, pages, brokenLinks: summary.brokenLinks.slice(0, 200) } })
          })
        }).pipe(Effect.catchCause((c) => Effect.logWarning(`the site audit of ${origin} for ${ctx.shop} failed (the next day's audit tries again)`, c)))
        const decision: Decision = { appends: [], schedule: [siteAuditTimer(ctx.shop, origin, now)], afterCommit: audit }
        return decision
      }),
    "seo.audit_report": (ctx) =>
      Effect.gen(function*() {
        const report = ctx.message.payload
        const { state } = yield* store.loadFold(siteAuditStreamId(ctx.shop), latestAudits)
        const previous = state[report.origin]
        if (previous?.auditId === report.auditId) return { appends: [] } satisfies Decision
        const { effective } = yield* shopDetectorSettings(ctx.shop).pipe(Effect.provideService(EventStore, store), Effect.provideService(DetectorDefaults, defaults))
        const triggers = auditTriggers(ctx.shop, report, previous, effective.siteAudit.scoreDropPoints)
        const decision: Decision = {
          appends: [{ streamId: siteAuditStreamId(ctx.shop), expected: "any", events: [{ type: "seo.audit_recorded", data: report }] }],
          afterCommit: publishTriggers(ctx.shop, triggers, log)
        }
        return decision
      }).pipe(Effect.catchTag("PersistenceError", (e) => Effect.fail(new TransientFailure({ reason: `event store: ${e.operation}` }))))
  } satisfies Partial<HandlerRegistry>
})

/** `SITE_AUDIT_ORIGINS`: `shop.myshopify.com=https://shop.example,…`. */
export const parseAuditOrigins = (text: string) => parseShopPairs(text, (origin) => /^https?:\/\/[^/\s]+$/.test(origin), "<origin such as https://shop.example>")

/** Starts each shop's daily audits at boot. */
export const kickOffSiteAudits = (sites: ReadonlyArray<readonly [string, string]>) =>
  kickOff("site audit", sites, (origin) => encodeShopMessage({ type: "seo.audit_run", payload: { origin } }))
