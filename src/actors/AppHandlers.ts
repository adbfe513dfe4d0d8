/**
 * The application's shop handlers: message type → handler. Areas contribute their handlers
 * (Flowmend jobs, webhooks, …); this registry is the one module that knows them all (the
 * handler types and the dispatcher live in `ShopHandlers.ts`, which imports none of them). A
 * message nobody handles is a permanent failure: it is dead-lettered with a clear reason,
 * never silently dropped.
 */
import { makeAiUsageHandlers } from "../ai/AiUsageHandlers.ts"
import { Effect, Layer } from "effect"
import { type JobTimings, makeJobHandlers } from "../jobs/JobProcess.ts"
import { timingsFromConfig } from "../jobs/JobsLayer.ts"
import { installHandlers } from "../app/InstallHandlers.ts"
import { makePlanHandlers } from "../app/PlanHandlers.ts"
import { makeAdAccountHandlers } from "../ads/AdAccounts.ts"
import { makeInsightsHandlers } from "../ads/InsightsPull.ts"
import { makeWhatsAppHandlers } from "../channels/WhatsAppHandlers.ts"
import { makeIngestHandlers } from "../ingest/IngestHandlers.ts"
import { makeRuleHandlers } from "../automation/RuleHandlers.ts"
import { makeExecutionRunner, RunStarter } from "../automation/ExecutionRunner.ts"
import { makeTriggerHandlers } from "../automation/TriggerHandlers.ts"
import { makeOutboundWebhooks, OutboundNotifier } from "../outbound/OutboundWebhooks.ts"
import { makeWebhookHandlers } from "../webhooks/WebhookHandlers.ts"
import { makeCartAbandonmentHandlers } from "../intelligence/CartAbandonment.ts"
import { makeDetectorSettingsHandlers } from "../intelligence/DetectorSettings.ts"
import { makeSearchPullHandlers } from "../intelligence/SearchPull.ts"
import { makeMerchantCenterHandlers } from "../intelligence/MerchantCenterPull.ts"
import { makeSiteAuditHandlers } from "../intelligence/SiteAudit.ts"
import { type HandlerRegistry, makeDispatcher, ShopHandlers } from "./ShopHandlers.ts"

/** Every area's handlers (requires EventStore, ShopLog, JobSteps, the secrets and the privacy store). */
export const makeAppHandlers = (timings: JobTimings) =>
  Effect.gen(function*() {
    const jobs = yield* makeJobHandlers(timings)
    const runner = yield* makeExecutionRunner
    const webhooks = yield* makeWebhookHandlers.pipe(Effect.provideService(RunStarter, runner.starter))
    const ingest = yield* makeIngestHandlers
    const rules = yield* makeRuleHandlers
    const outbound = yield* makeOutboundWebhooks
    const triggers = yield* makeTriggerHandlers.pipe(Effect.provideService(OutboundNotifier, outbound.notifier))
    const plans = yield* makePlanHandlers
    const adAccounts = yield* makeAdAccountHandlers
    const whatsapp = yield* makeWhatsAppHandlers
    const insights = yield* makeInsightsHandlers.pipe(Effect.provideService(RunStarter, runner.starter))
    const abandonment = yield* makeCartAbandonmentHandlers.pipe(Effect.provideService(RunStarter, runner.starter))
    const search = yield* makeSearchPullHandlers
    const merchant = yield* makeMerchantCenterHandlers
    const audit = yield* makeSiteAuditHandlers
    const detectorSettings = yield* makeDetectorSettingsHandlers
    const aiUsage = yield* makeAiUsageHandlers.pipe(Effect.provideService(OutboundNotifier, outbound.notifier))
    // every message type of the catalog has its handler here, or this does not type-check
    const registry: HandlerRegistry = { ...jobs, ...webhooks, ...installHandlers, ...plans, ...ingest, ...triggers, ...rules, ...outbound.handlers, ...adAccounts, ...whatsapp, ...insights, ...abandonment, ...search, ...merchant, ...audit, ...detectorSettings, ...aiUsage }
    return makeDispatcher(registry)
  })

/** With the job timings given (tests). */
export const layerWithTimings = (timings: JobTimings) => Layer.effect(ShopHandlers, makeAppHandlers(timings))

/** With the job timings from configuration. */
export const layer = Layer.effect(ShopHandlers, Effect.flatMap(timingsFromConfig, makeAppHandlers))
