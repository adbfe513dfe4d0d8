/**
 * The daily Search Console pull of each connected property (issue 13 §1, §3), on a durable timer
 * per shop and property in the shop's actor, due every day at 05:00 UTC:
 * - the pull runs after the commit (the mailbox never waits on Google): the 29 days of final data
 *   ending on the last final day (today − 3: the API's data lag), every (date, page, query) row
 *   and the featured-snippet rows;
 * - what was measured per page goes back to the actor (`seo.search_report`) and is recorded as
 *   `seo.pages_measured` on `seo-<shop>` (the `seo_pages` read model, `GET /app/seo/pages`);
 * - the SEO detectors run over the rows (`domain/intelligence/seoDaily.ts`) and their findings go
 *   back too (`seo.search_findings`): when the property was pulled the day before, only the
 *   findings that start today are reported (once per episode); on a first pull, or after a gap,
 *   every current finding is — nothing found while no pull ran is lost. The actor records the run
 *   (`seo.findings_recorded` on `seo-runs-<shop>`) and, after the commit, emits each detector's
 *   trigger — `seo.content_decay_detected`, `seo.opportunity_found`, `seo.cannibalism_detected`,
 *   `seo.snippet_lost`, `seo.snippet_gained`, `seo.keyword_gap_detected` — fire-and-forget with
 *   an id derived from the property, the day and the detector (reported twice, emitted once), at
 *   most 50 resources each.
 * - the last final day's rows are recorded as `seo_ranking.recorded` — the event the public ingest
 *   API records for rankings pushed to it (`external-<shop>-seo_ranking`), one per (page, query),
 *   through the same `ingest.external_event` message, with a message id derived from the
 *   property, the day, the page and the query (a day pulled twice is recorded once). Only that
 *   day: each day's pull records its own day, so the daily pulls together record every day once.
 * A pull that fails is logged and recorded nowhere; the next day's timer is set either way.
 */
import { Effect, Stream } from "effect"
import { MAX_TRIGGER_RESOURCES } from "../../domain/automation/Triggers.ts"
import { DetectorDefaults, shopDetectorSettings } from "./DetectorSettings.ts"
import { findingsAt, firstFindings, measurePages, resourceTypeOfUrl, SEO_PULL_DAYS, type SeoFindings, startedFindings } from "../../domain/intelligence/seoDaily.ts"
import { addDays } from "../../domain/intelligence/stats.ts"
import type { SearchRow } from "../../domain/intelligence/seoDetectors.ts"
import { encodeShopMessage, type ExternalEventMessage, type TriggerEmitted } from "../../domain/messages/ShopMessages.ts"
import { nameBasedUuid } from "../ids/NameBasedUuid.ts"
import { type Decision, type HandlerRegistry, type ScheduledMessage, TransientFailure } from "../actors/ShopHandlers.ts"
import { EventStore } from "../eventstore/EventStore.ts"
import { detectorTrigger, kickOff, nextDailyAt, parseShopPairs, publishTriggers } from "./DailyPulls.ts"
import { ShopLog } from "../shoplog/ShopLog.ts"
import { SearchConsole } from "./SearchConsole.ts"

/** The shop's stream of SEO measurements. */
export const seoStreamId = (shop: string) => `seo-${shop}`
/** The shop's record of each pull's findings (small: what was reported, not the rows). */
export const seoRunsStreamId = (shop: string) => `seo-runs-${shop}`

/** The API key id the pull's rankings are recorded under (no key sent them: the pull did). */
export const SEARCH_CONSOLE_SOURCE = "search-console-pull"

/**
 * The `seo_ranking` events of one day's rows: plain rows (not an appearance breakdown) with a
 * position, a web URL and a query the ingest API would accept; keyed by property, day, page and query.
 */
export const rankingMessages = (siteUrl: string, day: string, rows: ReadonlyArray<SearchRow>): ReadonlyArray<{ readonly messageId: string; readonly payload: ExternalEventMessage }> =>
  rows
    .filter((r) =>
      r.date === day && (r.searchAppearance ?? null) === null && Number.isFinite(r.position) && r.position >= 1 &&
      /^https?:\/\/\S+$/.test(r.page) && r.page.length <= 2048 && r.query.length > 0 && r.query.length <= 500
    )
    .map((r) => {
      const id = nameBasedUuid("sumeru.searchconsole.ranking", `${siteUrl}\u0000${day}\u0000${r.page}\u0000${r.query}`)
      return {
        messageId: `seo_ranking:${id}`,
        payload: {
          key_id: SEARCH_CONSOLE_SOURCE,
          event: { type: "seo_ranking", idempotency_key: `searchconsole:${id}`, occurred_at: `${day}T23:59:59.000Z`, keyword: r.query, url: r.page, position: r.position, search_engine: "google", date: day }
        }
      }
    })

/** The timer id of a shop's property's daily pull (timer ids are global: the shop is part of it). */
export const searchPullTimerId = (shop: string, siteUrl: string) => `seo.search:${shop}:${siteUrl}`

export const searchPullTimer = (shop: string, siteUrl: string, now: Date): ScheduledMessage => ({
  id: searchPullTimerId(shop, siteUrl),
  at: nextDailyAt(now, 5),
  ...encodeShopMessage({ type: "seo.search_pull", payload: { siteUrl } })
})

/** The last day whose data Search Console calls final: three days before today (UTC). */
export const lastFinalDay = (now: Date): string => new Date(now.getTime() - 3 * 86_400_000).toISOString().slice(0, 10)

/** The triggers of the findings that started on `asOf` (one per detector with any). */
export const seoTriggers = (shop: string, siteUrl: string, asOf: string, f: SeoFindings): ReadonlyArray<TriggerEmitted> => {
  const emitted = (detector: string, trigger: Record<string, unknown>): TriggerEmitted =>
    detectorTrigger("sumeru.seo", `${shop}\u0000${siteUrl}\u0000${asOf}\u0000${detector}`, `seo-${detector}`, trigger)
  const first = <A>(xs: ReadonlyArray<A>) => xs.slice(0, MAX_TRIGGER_RESOURCES)
  const month = { from: addDays(asOf, -27)!, to: asOf }
  const out: Array<TriggerEmitted> = []
  if (f.decay.length > 0) {
    out.push(emitted("decay", {
      event: "seo.content_decay_detected",
      baselineDays: 14,
      resources: first(f.decay).map((d) => ({ resourceType: resourceTypeOfUrl(d.page), resourceId: d.page, payload: { dropPct: d.dropPct, priorClicks: d.priorClicks, nowClicks: d.nowClicks } }))
    }))
  }
  if (f.opportunities.length > 0) {
    out.push(emitted("opportunity", {
      event: "seo.opportunity_found",
      window: month,
      resources: first(f.opportunities).map((o) => ({
        resourceType: resourceTypeOfUrl(o.url), resourceId: o.url,
        payload: { url: o.url, query: o.query, impressions: o.impressions, clicks: o.clicks, position: o.position, ctr: o.ctr }
      }))
    }))
  }
  if (f.cannibalism.length > 0) {
    out.push(emitted("cannibalism", {
      event: "seo.cannibalism_detected",
      resources: first(f.cannibalism).map((c) => ({
        resourceType: "keyword", resourceId: c.query,
        payload: { query: c.query, strongerUrl: c.strongerUrl, weakerUrl: c.weakerUrl, strongerClicks: c.strongerClicks, weakerClicks: c.weakerClicks }
      }))
    }))
  }
  for (const [detector, event, changes] of [["snippet-lost", "seo.snippet_lost", f.snippetLost], ["snippet-gained", "seo.snippet_gained", f.snippetGained]] as const) {
    if (changes.length === 0) continue
    out.push(emitted(detector, {
      event,
      resources: first(changes).map((s) => ({ resourceType: resourceTypeOfUrl(s.url), resourceId: s.url, payload: { url: s.url, query: s.query, position: s.position } }))
    }))
  }
  if (f.keywordGaps.length > 0) {
    out.push(emitted("keyword-gap", {
      event: "seo.keyword_gap_detected",
      resources: first(f.keywordGaps).map((g) => ({ resourceType: "keyword", resourceId: g.query, payload: { query: g.query, impressions: g.impressions, position: g.position } }))
    }))
  }
  return out
}

export const makeSearchPullHandlers = Effect.gen(function*() {
  const log = yield* ShopLog
  const store = yield* EventStore
  const searchConsole = yield* SearchConsole
  const defaults = yield* DetectorDefaults
  return {
    "seo.search_pull": (ctx) =>
      Effect.gen(function*() {
        const { siteUrl } = ctx.message.payload
        const now = new Date()
        const asOf = lastFinalDay(now)
        const pull = Effect.gen(function*() {
          const { effective } = yield* shopDetectorSettings(ctx.shop).pipe(Effect.provideService(EventStore, store), Effect.provideService(DetectorDefaults, defaults))
          const rows = yield* searchConsole.rows(siteUrl, addDays(asOf, -(SEO_PULL_DAYS - 1))!, asOf)
          const messageId = `seo.search_report:${ctx.shop}:${siteUrl}:${asOf}`
          yield* log.publish({
            shop: ctx.shop, messageId, correlationId: messageId,
            ...encodeShopMessage({ type: "seo.search_report", payload: { siteUrl, asOf, pages: measurePages(rows, asOf, effective.seo) } })
          })
          const findingsId = `seo.search_findings:${ctx.shop}:${siteUrl}:${asOf}`
          yield* log.publish({
            shop: ctx.shop, messageId: findingsId, correlationId: findingsId,
            ...encodeShopMessage({
              type: "seo.search_findings",
              payload: { siteUrl, asOf, today: firstFindings(findingsAt(rows, asOf, effective.seo), MAX_TRIGGER_RESOURCES),
                started: firstFindings(startedFindings(rows, asOf, effective.seo), MAX_TRIGGER_RESOURCES) }
            })
          })
          yield* Effect.forEach(rankingMessages(siteUrl, asOf, rows), (m) =>
            log.publish({ shop: ctx.shop, messageId: m.messageId, correlationId: findingsId, ...encodeShopMessage({ type: "ingest.external_event", payload: m.payload }) }), {
            concurrency: 8,
            discard: true
          })
        }).pipe(
          Effect.provideService(ShopLog, log),
          Effect.catchCause((c) => Effect.logWarning(`the Search Console pull of ${siteUrl} for ${ctx.shop} failed (the next day's pull tries again)`, c))
        )
        const decision: Decision = { appends: [], schedule: [searchPullTimer(ctx.shop, siteUrl, now)], afterCommit: pull }
        return decision
      }),
    "seo.search_findings": (ctx) =>
      Effect.gen(function*() {
        const { siteUrl, asOf, today, started } = ctx.message.payload
        const runs = [...yield* Stream.runCollect(store.readStream(seoRunsStreamId(ctx.shop)))]
        const ranYesterday = runs.some((e) => {
          const d = e.data as { readonly siteUrl?: string; readonly asOf?: string }
          return d.siteUrl === siteUrl && d.asOf === addDays(asOf, -1)
        })
        const report = ranYesterday ? started : today
        const triggers = seoTriggers(ctx.shop, siteUrl, asOf, report)
        const decision: Decision = {
          appends: [{
            streamId: seoRunsStreamId(ctx.shop),
            expected: "any",
            events: [{
              type: "seo.findings_recorded",
              occurredAt: new Date(`${asOf}T23:59:59.000Z`),
              data: { siteUrl, asOf, reported: ranYesterday ? "started" : "all", triggers: triggers.map((t) => ({ event: t.trigger.event, resources: t.trigger.resources.length })) }
            }]
          }],
          afterCommit: publishTriggers(ctx.shop, triggers, log)
        }
        return decision
      }).pipe(Effect.catchTag("PersistenceError", (e) => Effect.fail(new TransientFailure({ reason: `event store: ${e.operation}` })))),
    "seo.search_report": (ctx) =>
      Effect.succeed<Decision>({
        appends: [{
          streamId: seoStreamId(ctx.shop),
          expected: "any",
          events: [{ type: "seo.pages_measured", occurredAt: new Date(`${ctx.message.payload.asOf}T23:59:59.000Z`), data: ctx.message.payload }]
        }]
      })
  } satisfies Partial<HandlerRegistry>
})

/** `SEARCH_CONSOLE_SITES`: `shop.myshopify.com=https://shop.example/,other.myshopify.com=sc-domain:other.example`. */
export const parseSearchConsoleSites = (text: string) =>
  parseShopPairs(text, (site) => /^https?:\/\/\S+\/$/.test(site) || /^sc-domain:\S+$/.test(site), "<property> (a URL prefix ending in / or sc-domain:<domain>)")

/** Starts each connected property's daily pulls at boot. */
export const kickOffSearchPulls = (sites: ReadonlyArray<readonly [string, string]>) =>
  kickOff("Search Console pull", sites, (siteUrl) => encodeShopMessage({ type: "seo.search_pull", payload: { siteUrl } }))
