/**
 * The daily insights pull of each connected ad account (issue 12 §2), on a durable schedule in
 * the shop's actor: a timer per account, due every day at 04:00 UTC for the day before (and an
 * operator may pull any day: `ads.insights_pull` with a date). The pull runs after the commit
 * (the mailbox never waits on a platform) and reports back; the report becomes:
 * - `ad_spend.recorded` per campaign and day on `external-<shop>-ad_spend` — the same shape the
 *   public ingest API records (`POST /api/v1/events`), idempotent per platform, account, campaign
 *   and day (a day pulled again records nothing twice);
 * - the `ads.daily_insights_complete` trigger about those campaigns (at most 50, the seed's emit
 *   limit), for the shop's rules — decided in the same commit;
 * - the spend-anomaly detector (`domain/intelligence/adsDetectors.ts`): a campaign of the account
 *   whose spend that day is |z| ≥ 3 from its trailing 28 days (at least 7 of them) — over every
 *   `ad_spend.recorded` of the shop, pulled or pushed — is an `ads.spend_anomaly` trigger,
 *   emitted after the commit, fire-and-forget. Once per episode: a campaign already anomalous the
 *   day before is not reported again (recomputed from the history, so no state to keep), and the
 *   trigger's id is derived from the account and day, so a report handled twice emits once;
 * - the day's keyword rows (Google) as `ad_insight.recorded` on `external-<shop>-ad_insight`
 *   (idempotent per keyword and day), and the keyword detector over the 7 days to that day: a
 *   keyword whose ROAS stands out from the account's other keywords starts an
 *   `ads.keyword_underperforming` / `ads.keyword_overperforming` episode — emitted the same way.
 * A pull that fails is logged and recorded nowhere; the next day's timer is set either way.
 */
import { Effect, Result, Schema, Stream } from "effect"
import { encodeShopMessage } from "../../domain/messages/ShopMessages.ts"
import type { AdsInsightsReport } from "../../domain/messages/ShopMessages.ts"
import type { Decision, HandlerRegistry } from "../actors/ShopHandlers.ts"
import { decideTrigger, newTrigger } from "../automation/TriggerHandlers.ts"
import { EventStore } from "../eventstore/EventStore.ts"
import { externalStream } from "../ingest/IngestHandlers.ts"
import { ShopLog } from "../shoplog/ShopLog.ts"
import { resolveAdAccount } from "./AdAccounts.ts"
import { AdPlatforms } from "./AdPlatform.ts"
import { MAX_TRIGGER_RESOURCES } from "../../domain/automation/Triggers.ts"
import { RunStarter } from "../automation/ExecutionRunner.ts"
import { insightsTimer, insightsTimerId } from "./InsightsSchedule.ts"
import { DetectorDefaults, shopDetectorSettings } from "../intelligence/DetectorSettings.ts"
import { type AdInsightRow, type AdsSettings, keywordPerformance, type KeywordPerformance, spendAnomalies } from "../../domain/intelligence/adsDetectors.ts"
import type { TriggerEmitted } from "../../domain/messages/ShopMessages.ts"
import { addDays } from "../../domain/intelligence/stats.ts"
import { nameBasedUuid } from "../ids/NameBasedUuid.ts"
import { publishTrigger } from "../automation/TriggerHandlers.ts"

const yesterday = (now: Date) => new Date(now.getTime() - 86_400_000).toISOString().slice(0, 10)

/** `12500000` micros → `"12.50"`. */
const decimal = (micros: number) => (Math.round(micros / 10_000) / 100).toFixed(2)

const IdempotencyKey = Schema.Struct({ idempotency_key: Schema.String })
const decodeKey = Schema.decodeUnknownResult(IdempotencyKey)

/** What the spend detector reads of an `ad_spend.recorded` (pulled or pushed through the ingest API). */
const SpendFacts = Schema.Struct({
  platform: Schema.String,
  account_id: Schema.String,
  campaign_id: Schema.String,
  date: Schema.String,
  spend: Schema.String,
  currency: Schema.String,
  impressions: Schema.optional(Schema.NullOr(Schema.Number)),
  clicks: Schema.optional(Schema.NullOr(Schema.Number)),
  conversions: Schema.optional(Schema.NullOr(Schema.Number))
})
const decodeSpend = Schema.decodeUnknownResult(SpendFacts)

const insightRow = (data: unknown): ReadonlyArray<AdInsightRow> => {
  const d = decodeSpend(data)
  if (Result.isFailure(d)) return []
  const r = d.success
  return [{
    date: r.date, platform: r.platform as AdInsightRow["platform"], accountId: r.account_id, campaignId: r.campaign_id,
    spend: Number(r.spend), clicks: r.clicks ?? 0, impressions: r.impressions ?? 0, conversions: r.conversions ?? 0, conversionValue: 0, currency: r.currency
  }]
}

/** Where the pulled keyword days are recorded (`ad_insight.recorded`). */
export const keywordInsightStream = (shop: string) => `external-${shop}-ad_insight`

/** `ad_insight.recorded`: one keyword's day, as pulled (idempotent per platform, account, keyword and day). */
export const keywordInsightKey = (platform: string, accountId: string, keywordId: string, date: string) => `ads:kw:${platform}:${accountId}:${keywordId}:${date}`

const keywordInsightData = (
  platform: string,
  accountId: string,
  date: string,
  k: { readonly campaignId: string; readonly adGroupId: string | null; readonly keywordId: string; readonly keywordText: string | null; readonly currency: string; readonly spendMicros: number; readonly impressions: number; readonly clicks: number; readonly conversions: number; readonly conversionValueMicros: number }
) => ({
  idempotency_key: keywordInsightKey(platform, accountId, k.keywordId, date), occurred_at: `${date}T23:59:59.000Z`, source_key_id: `ads-pull:${platform}`,
  platform, account_id: accountId, campaign_id: k.campaignId, ad_group_id: k.adGroupId, keyword_id: k.keywordId, keyword_text: k.keywordText, date,
  spend: decimal(k.spendMicros), conversion_value: decimal(k.conversionValueMicros), currency: k.currency, impressions: k.impressions, clicks: k.clicks, conversions: k.conversions
})

const KeywordFacts = Schema.Struct({
  platform: Schema.String, account_id: Schema.String, campaign_id: Schema.String, ad_group_id: Schema.NullOr(Schema.String),
  keyword_id: Schema.String, keyword_text: Schema.NullOr(Schema.String), date: Schema.String, spend: Schema.String, conversion_value: Schema.String,
  currency: Schema.String, impressions: Schema.Number, clicks: Schema.Number, conversions: Schema.Number
})
const decodeKeyword = Schema.decodeUnknownResult(KeywordFacts)

/** A keyword's day as the keyword detector reads it: identified by its id (what the ad actions address), its text beside. */
const keywordRow = (data: unknown): ReadonlyArray<AdInsightRow & { readonly keywordText: string | null }> => {
  const d = decodeKeyword(data)
  if (Result.isFailure(d)) return []
  const r = d.success
  return [{
    date: r.date, platform: r.platform as AdInsightRow["platform"], accountId: r.account_id, campaignId: r.campaign_id, adGroupId: r.ad_group_id,
    keyword: r.keyword_id, keywordText: r.keyword_text, spend: Number(r.spend), clicks: r.clicks, impressions: r.impressions,
    conversions: r.conversions, conversionValue: Number(r.conversion_value), currency: r.currency
  }]
}

/** The keyword detector's window: the 7 days ending on the report's day. */
const KEYWORD_WINDOW_DAYS = 7

/**
 * The `ads.keyword_underperforming` / `ads.keyword_overperforming` triggers that start on `date`:
 * a keyword's ROAS over the 7 days to `date` stands out from the account's other keywords
 * (|z| ≥ 2, `domain/intelligence/adsDetectors.ts`) and did not over the 7 days to the day
 * before — once per episode, recomputed from the recorded keyword days. Ids derived from the
 * account, day and direction: a report handled twice emits once.
 */
export const keywordTriggersOf = (
  shop: string,
  platform: string,
  accountId: string,
  date: string,
  rows: ReadonlyArray<AdInsightRow & { readonly keywordText: string | null }>,
  settings: Partial<AdsSettings> = {}
): ReadonlyArray<{ readonly shop: string; readonly emitted: TriggerEmitted }> => {
  const yesterday = addDays(date, -1)
  if (yesterday === null) return []
  const windowTo = (to: string) => ({ from: addDays(to, -(KEYWORD_WINDOW_DAYS - 1))!, to })
  const mine = (list: ReadonlyArray<KeywordPerformance>) => list.filter((k) => k.platform === platform && k.accountId === accountId)
  const today = keywordPerformance(rows, windowTo(date), settings)
  const before = keywordPerformance(rows, windowTo(yesterday), settings)
  const texts = new Map(rows.map((r) => [r.keyword ?? "", r.keywordText]))
  return (["underperforming", "overperforming"] as const).flatMap((direction) => {
    const was = new Set(mine(before[direction]).map((k) => k.keyword))
    const started = mine(today[direction]).filter((k) => !was.has(k.keyword))
    if (started.length === 0) return []
    const emitted: TriggerEmitted = {
      triggerId: nameBasedUuid(`sumeru.ads.keyword_${direction}`, `${shop}\u0000${platform}\u0000${accountId}\u0000${date}`),
      trigger: {
        event: `ads.keyword_${direction}`,
        platform,
        resources: started.slice(0, MAX_TRIGGER_RESOURCES).map((k) => ({
          resourceType: "keyword",
          resourceId: k.keyword,
          payload: {
            keyword: texts.get(k.keyword) ?? k.keyword, campaignId: k.campaignId, metric: k.metric, value: k.value, zScore: k.zScore, accountId,
            ...(k.adGroupId === null ? {} : { adGroupId: k.adGroupId })
          }
        }))
      } as never,
      emittedAt: new Date().toISOString(),
      emittedBy: { kind: "detector", id: `ads-keyword-${direction}` }
    }
    return [{ shop, emitted }]
  })
}

/** The campaigns of `platform`/`accountId` whose spend anomaly starts on `date` (not anomalous the day before). */
export const spendAnomalyStarts = (rows: ReadonlyArray<AdInsightRow>, platform: string, accountId: string, date: string, settings: Partial<AdsSettings> = {}) => {
  const ofAccount = (day: string | null) => day === null ? [] : spendAnomalies(rows, day, settings).filter((a) => a.platform === platform && a.accountId === accountId)
  const before = new Set(ofAccount(addDays(date, -1)).map((a) => a.campaignId))
  return ofAccount(date).filter((a) => !before.has(a.campaignId))
}

export const makeInsightsHandlers = Effect.gen(function*() {
  const store = yield* EventStore
  const log = yield* ShopLog
  const platforms = yield* AdPlatforms
  const services = yield* Effect.context<EventStore | import("../secrets/Secrets.ts").PiiVault>()
  const starter = yield* Effect.serviceOption(RunStarter)
  const defaults = yield* DetectorDefaults

  const report = (shop: string, payload: AdsInsightsReport) =>
    log.publish({
      shop,
      messageId: `ads.insights_report:${payload.platform}:${payload.accountId}:${payload.date}:${Date.now()}`,
      ...encodeShopMessage({ type: "ads.insights_report", payload }),
      correlationId: insightsTimerId(payload.platform, payload.accountId)
    }).pipe(Effect.asVoid, Effect.retry({ times: 3 }), Effect.catchCause((c) => Effect.logError(`insights of ${payload.platform} ${payload.accountId}: could not report`, c)))

  /** Publishes detector triggers after the commit, fire-and-forget (each has a derived id). */
  const publishAll = (triggers: ReadonlyArray<{ readonly shop: string; readonly emitted: TriggerEmitted }>) =>
    Effect.forEach(triggers, (t) =>
      publishTrigger(t.shop, t.emitted).pipe(
        Effect.provideService(ShopLog, log),
        Effect.catchCause((c) => Effect.logWarning(`${t.emitted.trigger.event} of ${t.shop} not emitted`, c))
      ), { discard: true })

  return {
    "ads.insights_pull": (ctx) =>
      Effect.gen(function*() {
        const { platform, accountId } = ctx.message.payload
        const date = ctx.message.payload.date ?? yesterday(new Date())
        const pull = Effect.gen(function*() {
          const account = yield* resolveAdAccount(ctx.shop, platform, accountId)
          if (Result.isFailure(account)) return yield* report(ctx.shop, { platform, accountId, date, outcome: { ok: false, code: "no_account", message: account.failure } })
          const rows = yield* Effect.result(platforms.client(platform).insights(account.success, date))
          if (Result.isFailure(rows)) {
            const e = rows.failure
            yield* Effect.logWarning(`insights of ${platform} ${accountId} for ${date}: ${e._tag}: ${e.message}`)
            return yield* report(ctx.shop, { platform, accountId, date, outcome: { ok: false, code: e._tag, message: e.message } })
          }
          const campaigns = rows.success.filter((r) => r.level === "campaign").map((r) => ({
            campaignId: r.campaignId, campaignName: r.campaignName, currency: r.currency, spendMicros: r.spendMicros,
            impressions: r.impressions, clicks: r.clicks, conversions: r.conversions, conversionValueMicros: r.conversionValueMicros
          }))
          const keywords = rows.success.flatMap((r) => r.level === "keyword" && r.keywordId !== null ? [{
            campaignId: r.campaignId, adGroupId: r.adGroupId, keywordId: r.keywordId, keywordText: r.keywordText, currency: r.currency, spendMicros: r.spendMicros,
            impressions: r.impressions, clicks: r.clicks, conversions: r.conversions, conversionValueMicros: r.conversionValueMicros
          }] : [])
          yield* report(ctx.shop, { platform, accountId, date, outcome: { ok: true, campaigns, keywords } })
        }).pipe(
          Effect.provideContext(services),
          Effect.catchCause((c) => Effect.logError(`insights of ${platform} ${accountId}: the pull failed`, c))
        )
        // the next day's pull, whatever this one finds
        const decision: Decision = { appends: [], schedule: [insightsTimer(platform, accountId, new Date())], afterCommit: pull }
        return decision
      }),
    "ads.insights_report": (ctx) =>
      Effect.gen(function*() {
        const { platform, accountId, date, outcome } = ctx.message.payload
        if (!outcome.ok) return { appends: [] }
        const streamId = externalStream(ctx.shop, "ad_spend")
        const history = [...yield* Stream.runCollect(store.readStream(streamId))]
        const recorded = new Set(
          history.flatMap((e) => {
            const k = decodeKey(e.data)
            return Result.isSuccess(k) ? [k.success.idempotency_key] : []
          })
        )
        const fresh = outcome.campaigns.filter((c) => !recorded.has(`ads:${platform}:${accountId}:${c.campaignId}:${date}`))
        const keywordStream = keywordInsightStream(ctx.shop)
        const keywordHistory = [...yield* Stream.runCollect(store.readStream(keywordStream))]
        const keywordKeys = new Set(keywordHistory.flatMap((e) => {
          const k = decodeKey(e.data)
          return Result.isSuccess(k) ? [k.success.idempotency_key] : []
        }))
        const keywordEvents = (outcome.keywords ?? [])
          .filter((k) => !keywordKeys.has(keywordInsightKey(platform, accountId, k.keywordId, date)))
          .map((k) => ({ type: "ad_insight.recorded", occurredAt: new Date(`${date}T23:59:59.000Z`), data: keywordInsightData(platform, accountId, date, k) }))
        const { effective } = yield* shopDetectorSettings(ctx.shop).pipe(Effect.provideService(EventStore, store), Effect.provideService(DetectorDefaults, defaults))
        const keywordTriggers = keywordTriggersOf(ctx.shop, platform, accountId, date, [...keywordHistory, ...keywordEvents].flatMap((e) => keywordRow(e.data)), effective.ads)
        const keywordAppends = keywordEvents.length === 0 ? [] : [{ streamId: keywordStream, expected: "any" as const, events: keywordEvents }]
        if (fresh.length === 0) {
          return { appends: keywordAppends, afterCommit: keywordEvents.length === 0 ? undefined : publishAll(keywordTriggers) }
        }
        const at = `${date}T23:59:59.000Z`
        const spend = fresh.map((c) => ({
          type: "ad_spend.recorded",
          occurredAt: new Date(at),
          data: {
            idempotency_key: `ads:${platform}:${accountId}:${c.campaignId}:${date}`, occurred_at: at, source_key_id: `ads-pull:${platform}`,
            type: "ad_spend", platform, account_id: accountId, campaign_id: c.campaignId, campaign_name: c.campaignName, date,
            spend: decimal(c.spendMicros), currency: c.currency, impressions: c.impressions, clicks: c.clicks, conversions: c.conversions
          }
        }))
        const trigger = newTrigger({
          event: "ads.daily_insights_complete",
          platform,
          date,
          resources: fresh.slice(0, MAX_TRIGGER_RESOURCES).map((c) => ({
            resourceType: "campaign",
            resourceId: c.campaignId,
            payload: {
              title: c.campaignName,
              spend: Number(decimal(c.spendMicros)),
              currency: c.currency,
              impressions: c.impressions,
              clicks: c.clicks,
              conversions: c.conversions,
              roas: c.spendMicros === 0 ? null : Math.round((c.conversionValueMicros / c.spendMicros) * 100) / 100
            }
          }))
        } as never, { kind: "detector", id: `ads-insights:${platform}` })
        const decided = yield* decideTrigger(ctx.shop, trigger).pipe(
          Effect.provideService(EventStore, store),
          (e) => (starter._tag === "Some" ? Effect.provideService(e, RunStarter, starter.value) : e)
        )
        // the spend detector over everything recorded, this day's pull included
        const rows = [...history.flatMap((e) => e.type === "ad_spend.recorded" ? insightRow(e.data) : []), ...spend.flatMap((e) => insightRow(e.data))]
        const anomalies = spendAnomalyStarts(rows, platform, accountId, date, effective.ads)
        const names = new Map(outcome.campaigns.map((c) => [c.campaignId, c.campaignName]))
        const anomalyTrigger = anomalies.length === 0 ? Effect.void : publishTrigger(ctx.shop, {
          triggerId: nameBasedUuid("sumeru.ads.spend_anomaly", `${ctx.shop}\u0000${platform}\u0000${accountId}\u0000${date}`),
          trigger: {
            event: "ads.spend_anomaly",
            platform,
            date,
            resources: anomalies.slice(0, MAX_TRIGGER_RESOURCES).map((a) => ({
              resourceType: "campaign",
              resourceId: a.campaignId,
              payload: { title: names.get(a.campaignId), spend: a.spend, baselineMean: a.baselineMean, baselineStd: a.baselineStd, zScore: a.zScore, accountId }
            }))
          } as never,
          emittedAt: new Date().toISOString(),
          emittedBy: { kind: "detector", id: "ads-spend-anomaly" }
        }).pipe(
          Effect.provideService(ShopLog, log),
          Effect.catchCause((c) => Effect.logWarning(`ads.spend_anomaly of ${ctx.shop} ${platform} ${accountId} ${date} not emitted`, c)),
          Effect.asVoid
        )
        const decision: Decision = {
          appends: [{ streamId, expected: "any", events: spend }, ...keywordAppends, ...decided.appends],
          schedule: decided.schedule,
          afterCommit: Effect.andThen(decided.afterCommit ?? Effect.void, Effect.andThen(anomalyTrigger, keywordEvents.length === 0 ? Effect.void : publishAll(keywordTriggers)))
        }
        return decision
      })
  } satisfies Partial<HandlerRegistry>
})
