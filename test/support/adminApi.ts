/**
 * The whole admin API for access-control tests: PostgreSQL 15 (migrated), the event store, the
 * jobs projections, `PgApiKeys`, the embedded shop log, and every admin route mounted behind
 * one admin guard and served over real HTTP (127.0.0.1, port 0). The guard's rate limiter runs
 * on a clock the test moves (no sleeping).
 */
import { AiGateway } from "../../src/ai/AiGateway.ts"
import { Deferred, Duration, Effect, Layer, ManagedRuntime, Redacted, Stream } from "effect"
import { SqlClient } from "effect/sql"
import { Hono } from "hono"
import type { AddressInfo } from "node:net"
import { serveHttp } from "../../adapters/http/HttpServer.ts"
import type { Role } from "../../domain/access/Permissions.ts"
import type { JobCommand } from "../../domain/jobs/index.ts"
import * as EmbeddedShopLog from "../../adapters/embedded/EmbeddedShopLog.ts"
import * as JetStreamShopLog from "../../adapters/nats/JetStreamShopLog.ts"
import { inject } from "vitest"
import { mountAdminAccessRoutes } from "../../adapters/http/AdminAccessRoutes.ts"
import { mountAdminPrivacyRoutes } from "../../adapters/http/AdminPrivacyRoutes.ts"
import { mountAdminExecutionRoutes } from "../../adapters/http/AdminExecutionRoutes.ts"
import { mountAdminRuleRoutes } from "../../adapters/http/AdminRuleRoutes.ts"
import { auditLogProjection } from "../../projections/auditLog.ts"
import { executionsProjection } from "../../projections/executions.ts"
import { attributionProjection } from "../../projections/attribution.ts"
import { commerceProjection } from "../../projections/commerce.ts"
import { seoPagesProjection } from "../../projections/seoPages.ts"
import { aiUsageProjection } from "../../projections/aiUsage.ts"
import { mountAdminAttributionRoutes } from "../../adapters/http/AdminAttributionRoutes.ts"
import { mountAdminCustomerValueRoutes } from "../../adapters/http/AdminCustomerValueRoutes.ts"
import { mountAdminFindingsRoutes } from "../../adapters/http/AdminFindingsRoutes.ts"
import { automationStreamId } from "../../src/automation/AutomationFold.ts"
import { executionRunStreamId } from "../../domain/automation/ExecutionRuns.ts"
import type { RecordedEvent } from "../../domain/events/Envelope.ts"
import { EventStore } from "../../src/eventstore/EventStore.ts"
import { LogWakeups } from "../../src/eventstore/LogWakeups.ts"
import { mountAdminTriggerRoutes } from "../../adapters/http/AdminTriggerRoutes.ts"
import { makeDispatcher, ShopHandlers } from "../../src/actors/ShopHandlers.ts"
import { makeRuleHandlers } from "../../src/automation/RuleHandlers.ts"
import { ApprovalTtl, makeTriggerHandlers } from "../../src/automation/TriggerHandlers.ts"
import { ActionTimings } from "../../src/automation/ExecutionRunner.ts"
import * as Actions from "../../adapters/actions/index.ts"
import { EmailSender } from "../../src/channels/Email.ts"
import { AdPlatforms } from "../../src/ads/AdPlatform.ts"
import { WhatsAppSender } from "../../src/channels/WhatsApp.ts"
import { ShopWhatsAppNumbers } from "../../adapters/channels/actions/sendCartRecovery.ts"
import { makeAdAccountHandlers } from "../../src/ads/AdAccounts.ts"
import { makeInsightsHandlers } from "../../src/ads/InsightsPull.ts"
import { makeWhatsAppHandlers } from "../../src/channels/WhatsAppHandlers.ts"
import { makeWebhookHandlers } from "../../src/webhooks/WebhookHandlers.ts"
import { makeIngestHandlers } from "../../src/ingest/IngestHandlers.ts"
import { makeCartAbandonmentHandlers } from "../../src/intelligence/CartAbandonment.ts"
import { makeDetectorSettingsHandlers } from "../../src/intelligence/DetectorSettings.ts"
import { makeAiUsageHandlers } from "../../src/ai/AiUsageHandlers.ts"
import { makeSearchPullHandlers } from "../../src/intelligence/SearchPull.ts"
import { makeMerchantCenterHandlers } from "../../src/intelligence/MerchantCenterPull.ts"
import { makeSiteAuditHandlers } from "../../src/intelligence/SiteAudit.ts"
import { layerNotConfigured as merchantCenterNotConfigured, type MerchantCenter } from "../../src/intelligence/MerchantCenter.ts"
import { layerNotConfigured as searchConsoleNotConfigured, type SearchConsole } from "../../src/intelligence/SearchConsole.ts"
import { ShopCredentials } from "../../adapters/shopify/index.ts"
import * as ShopifyAdminLive from "../../adapters/shopify/ShopifyAdminLive.ts"
import * as ShopifyJobSteps from "../../adapters/shopify/ShopifyJobSteps.ts"
import * as PgJobArtefacts from "../../adapters/postgres/PgJobArtefacts.ts"
import { makeJobHandlers } from "../../src/jobs/JobProcess.ts"
import { makePlanHandlers } from "../../src/app/PlanHandlers.ts"
import { mountAdminWebhookRoutes } from "../../adapters/http/AdminWebhookRoutes.ts"
import { mountAdminDetectorSettingsRoutes } from "../../adapters/http/AdminDetectorSettingsRoutes.ts"
import { mountAdminAiRoutes } from "../../adapters/http/AdminAiRoutes.ts"
import * as FetchOutbound from "../../adapters/outbound/FetchOutbound.ts"
import { parseAllowedTargets } from "../../domain/outbound/Ssrf.ts"
import { OutboundHttp } from "../../src/outbound/OutboundHttp.ts"
import { makeOutboundWebhooks, OutboundNotifier, OutboundTimings } from "../../src/outbound/OutboundWebhooks.ts"
import { webhookDeliveriesProjection } from "../../projections/webhookDeliveries.ts"
import { startShopifySimulator } from "../../src/simulator/shopify/index.ts"
import { actorRuntimeLayer } from "./actorRuntime.ts"
import * as PgPrivacyStore from "../../adapters/postgres/PgPrivacyStore.ts"
import * as PgSecrets from "../../adapters/postgres/PgSecrets.ts"
import { exportCustomerData } from "../../src/privacy/Compliance.ts"
import { PiiVault } from "../../src/secrets/Secrets.ts"
import { type AdminAuthConfig, adminRateLimiter, type AdminGuard, makeAdminGuard, verifyApiKeyWith } from "../../adapters/http/AdminAuth.ts"
import { type AdminRoute, AdminRoutes } from "../../adapters/http/AdminRouteCatalog.ts"
import { mountAdminJobActions, mountAdminJobRequestRoute } from "../../adapters/http/AdminJobActions.ts"
import * as PgJobRequests from "../../adapters/postgres/PgJobRequests.ts"
import { JobIngress } from "../../src/jobs/JobIngress.ts"
import { mountAdminJobRoutes } from "../../adapters/http/AdminJobRoutes.ts"
import { signSessionToken } from "../../adapters/http/SessionToken.ts"
import * as PgApiKeys from "../../adapters/postgres/PgApiKeys.ts"
import { jobsProjection } from "../../projections/jobs.ts"
import { jobTimelineProjection } from "../../projections/jobTimeline.ts"
import { ApiKeys } from "../../src/access/ApiKeys.ts"
import { coreLayer } from "../../src/CoreLayer.ts"
import { ProjectionRunner } from "../../src/projections/ProjectionRunner.ts"
import { reconcile } from "../../adapters/postgres/PgProjectionStore.ts"
import { ShopLog } from "../../src/shoplog/ShopLog.ts"
import { freshPostgresUrl } from "./databases.ts"
import { layerPostgres } from "../../adapters/postgres/Database.ts"
import { awaitAllCaughtUp } from "./projections.ts"
import { handleJobCommands as appendJobCommands } from "./jobCommands.ts"
import { testKeyRing } from "./keys.ts"

export const API_KEY = "test-api-key"
export const APP_SECRET = "test-app-secret"

/** An App Bridge session token of `userId` in `shop`. */
export const sessionFor = (shop: string, userId: string, extra: Partial<Parameters<typeof signSessionToken>[0]> = {}) =>
  signSessionToken({ shop, apiKey: API_KEY, appSecret: APP_SECRET, userId, ...extra })

/**
 * A request body each declared admin route accepts from a caller allowed to use it (`tag` keeps
 * created things apart). A new route that takes a body needs its sample here.
 */
export const sampleBody = (route: AdminRoute, tag: string): unknown => {
  if (route === AdminRoutes.setMember) return { role: "viewer" }
  if (route === AdminRoutes.createApiKey) return { name: `key ${tag}`, scopes: ["jobs:read"] }
  if (route === AdminRoutes.createRule) {
    return { name: `Tag drafted products (${tag})`, trigger_event: "product.drafted", action_key: "tag_product", params: { tags: ["needs-review"] }, enabled: true }
  }
  if (route === AdminRoutes.validateRule) {
    return { name: `Check ${tag}`, trigger_event: "product.drafted", action_key: "tag_product", params: { tags: ["x"] }, condition: "resource.payload.vendor == 'Acme'" }
  }
  // a job of its own per caller (an identical one would be a 409 duplicate)
  if (route === AdminRoutes.createJob) {
    return { query_string: "status:active", namespace: "custom", key: "badge", type: "single_line_text_field", value: `v ${tag}`, dry_run: true, max_items: 10 }
  }
  if (route === AdminRoutes.updateRule) return { cooldown_seconds: 60 + tag.length }
  if (route === AdminRoutes.updateDetectorSettings) return { seo: { decayDropPct: 20 + tag.length } }
  if (route === AdminRoutes.backtestRule) return { from: "2026-01-01T00:00:00Z", to: "2027-01-01T00:00:00Z" }
  if (route === AdminRoutes.createWebhookSubscription) return { url: `https://hooks.example.com/${tag}`, events: ["autoaction.applied"] }
  if (route === AdminRoutes.emitTrigger) {
    return {
      resources: [{
        resourceType: "product",
        resourceId: `gid://shopify/Product/${tag.length}`,
        payload: { title: `Tee ${tag}`, vendor: null, productType: null, tags: [], status: "draft", previousStatus: "active", updatedAt: "2026-11-30T10:00:00Z" }
      }]
    }
  }
  return undefined
}

/** A valid name for each kind of catalog parameter (`AdminRoute.catalogParams`). */
export const CATALOG_VALUES: Readonly<Record<string, string>> = { trigger_event: "product.drafted", recommendation: "rec-seo.broken_links_found" }

/** Fills a route's catalog parameters; the others are left for the caller. */
export const withCatalogParams = (route: AdminRoute, path: string = route.path): string =>
  path.replace(/:([A-Za-z]+)/g, (whole, name: string) => {
    const kind = route.catalogParams?.[name]
    return kind === undefined ? whole : encodeURIComponent(CATALOG_VALUES[kind] ?? `no-catalog-value-for-${kind}`)
  })

export interface AdminServer {
  readonly app: Hono
  readonly url: string
  readonly guard: AdminGuard
}

export interface AdminResponse {
  readonly status: number
  readonly headers: Headers
  readonly text: string
  /** The parsed JSON body, or undefined when it is not JSON. */
  readonly json: any
}

export const startAdminApi = async (options: {
  /** Shops with the app installed; any other shop is unknown (401). */
  readonly knownShops: ReadonlyArray<string>
  /**
   * Run the shop actors for the decision plane's messages (rules, triggers), so rule changes
   * over the API are decided and answered. Other messages (a job undo) would be dead-lettered,
   * so suites that look at those leave this off.
   */
  readonly automationActors?: boolean
  /** How long a parked execution waits for approval (default: the production 72 hours). */
  readonly approvalTtl?: Duration.Duration
  /** `OUTBOUND_ALLOWED_TARGETS` for outbound webhooks (a test's local receiver), and their timings. */
  readonly outboundAllowed?: string
  readonly outboundTimings?: OutboundTimings
  /** The AI gateway the actions use (suites without it die on a call); see `test/ai/support.ts`. */
  readonly ai?: Layer.Layer<AiGateway, never, ShopLog | EventStore | SqlClient.SqlClient>
  /** The email channel (an SMTP sink's sender); suites without email die on a send. */
  readonly email?: Layer.Layer<EmailSender>
  /** The ad platforms' clients (pointed at simulators); suites without them fail on use. */
  readonly adPlatforms?: Layer.Layer<AdPlatforms>
  /** The WhatsApp channel (pointed at the simulator) and each shop's WhatsApp number id. */
  readonly whatsapp?: Layer.Layer<WhatsAppSender>
  readonly whatsappNumbers?: Readonly<Record<string, string>>
  /** Search Console (pointed at the simulator); suites without it get "not configured". */
  readonly searchConsole?: Layer.Layer<SearchConsole>
  /** Merchant Center (pointed at the simulator); suites without it get "not configured". */
  readonly merchantCenter?: Layer.Layer<MerchantCenter>
  /** The shop log: the embedded one (default) or JetStream on the test run's nats-server. */
  readonly log?: "embedded" | "jetstream"
}) => {
  const uniqueLog = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`.toUpperCase()
  // the shops' Shopify (products 1..50 each), where the actors' actions run
  const sim = await startShopifySimulator({
    appSecret: APP_SECRET,
    shops: options.knownShops.map((domain, i) => ({ domain, accessToken: `shpat_${i}`, products: 50, seed: i + 1 })),
    bulkPace: "immediate"
  } as Parameters<typeof startShopifySimulator>[0])
  const shopify = ShopifyAdminLive.layer({ adminUrlOverride: sim.url, fetch: sim.fetch as unknown as typeof globalThis.fetch, backoffBaseMs: 10, backoffMaxMs: 50 }).pipe(
    Layer.provide(ShopCredentials.fromRecord(Object.fromEntries(options.knownShops.map((domain, i) => [domain, `shpat_${i}`]))))
  )
  const adPlatforms = options.adPlatforms ?? Layer.succeed(AdPlatforms, AdPlatforms.of({ client: () => { throw new Error("no ad platforms in this suite") } }))
  const actions = Layer.mergeAll(
    adPlatforms,
    Actions.layer.pipe(Layer.provide([
      shopify,
      options.email ?? Layer.succeed(EmailSender, EmailSender.of({ send: () => Effect.die("no email in this suite") })),
      adPlatforms,
      options.whatsapp ?? Layer.succeed(WhatsAppSender, WhatsAppSender.of({ sendTemplate: () => Effect.die("no WhatsApp in this suite"), sendText: () => Effect.die("no WhatsApp in this suite") })),
      options.ai ?? Layer.succeed(AiGateway, AiGateway.of({ generate: () => Effect.die("no AI in this suite") })),
      Layer.succeed(ShopWhatsAppNumbers, (shop: string) => options.whatsappNumbers?.[shop])
    ])),
    Layer.succeed(ActionTimings, { retryBaseMs: 10, retries: 2, stepTimeoutMs: 10_000, watchdogMs: 15_000 }),
    Layer.succeed(OutboundTimings, options.outboundTimings ?? { retryBaseMs: 20, watchdogMs: 10_000, disableAfterMs: 3 * 86_400_000 }),
    options.searchConsole ?? searchConsoleNotConfigured,
    options.merchantCenter ?? merchantCenterNotConfigured
  )
  const outboundHttp = Layer.succeed(OutboundHttp, FetchOutbound.make({ allowed: parseAllowedTargets(options.outboundAllowed ?? "").targets, timeoutMs: 5_000 }))
  const databaseUrl = freshPostgresUrl()
  const core = coreLayer(layerPostgres(Redacted.make(databaseUrl)), testKeyRing())
  const secrets = PgSecrets.layer().pipe(
    // the core's ring: the event store's sealing and the handlers' vault open each other's data keys
    Layer.provide(testKeyRing()),
    Layer.provideMerge(core)
  )
  const base = Layer.mergeAll(
    PgApiKeys.layer(),
    PgPrivacyStore.layer,
    options.log === "jetstream"
      ? JetStreamShopLog.layer({ servers: inject("natsUrl"), streamName: `ADMIN${uniqueLog}`, subjectPrefix: `admin${uniqueLog.toLowerCase()}`, partitions: 4 })
      : EmbeddedShopLog.layer({ partitions: 4 }),
    ProjectionRunner.layer([jobsProjection, jobTimelineProjection, executionsProjection, auditLogProjection, webhookDeliveriesProjection, attributionProjection, commerceProjection, seoPagesProjection, aiUsageProjection]),
    outboundHttp
  ).pipe(Layer.provideMerge(secrets))
  const baseWithJobs = JobIngress.layer.pipe(Layer.provide(PgJobRequests.layer), Layer.provideMerge(base))
  // the decision plane's handlers, and the bulk jobs its `bulk_set_metafield` action starts
  const automation = Layer.effect(ShopHandlers, Effect.gen(function*() {
    const jobs = yield* makeJobHandlers({ pollQueryMs: 20, pollMutationMs: 20, watchdogMs: 5_000, retryDelayMs: 30 })
    const outbound = yield* makeOutboundWebhooks
    const triggers = yield* makeTriggerHandlers.pipe(Effect.provideService(OutboundNotifier, outbound.notifier))
    return makeDispatcher({ ...jobs, ...triggers, ...(yield* makeRuleHandlers), ...(yield* makePlanHandlers), ...outbound.handlers, ...(yield* makeAdAccountHandlers), ...(yield* makeWhatsAppHandlers), ...(yield* makeInsightsHandlers), ...(yield* makeWebhookHandlers), ...(yield* makeIngestHandlers), ...(yield* makeCartAbandonmentHandlers), ...(yield* makeSearchPullHandlers), ...(yield* makeMerchantCenterHandlers), ...(yield* makeSiteAuditHandlers), ...(yield* makeDetectorSettingsHandlers), ...(yield* makeAiUsageHandlers.pipe(Effect.provideService(OutboundNotifier, outbound.notifier))) })
  })).pipe(Layer.provide(ShopifyJobSteps.layer.pipe(Layer.provide([shopify, PgJobArtefacts.layer]))))
  const ttl = options.approvalTtl === undefined ? Layer.empty : Layer.succeed(ApprovalTtl, options.approvalTtl)
  const layer = options.automationActors === true
    ? actorRuntimeLayer().pipe(Layer.provide(automation), Layer.provide([ttl, actions]), Layer.provideMerge(baseWithJobs))
    : baseWithJobs
  const runtime = ManagedRuntime.make(layer)
  const run = runtime.runPromise
  const apiKeys = await run(ApiKeys.use(Effect.succeed))
  const vault = await run(PiiVault.use(Effect.succeed))
  const known = new Set(options.knownShops)
  /** The rate limiter's clock (milliseconds); tests move it. */
  const clock = { now: Date.parse("2026-01-01T00:00:00Z") }
  const servers: Array<ReturnType<typeof serveHttp>> = []

  /** A Hono app with every admin route behind one guard, on its own port. */
  const serveAdmin = async (guardOptions: Partial<AdminAuthConfig> = {}): Promise<AdminServer> => {
    const app = new Hono()
    const guard = makeAdminGuard(run, {
      apiKey: API_KEY,
      appSecret: APP_SECRET,
      verifyApiKey: verifyApiKeyWith(run, apiKeys),
      isKnownShop: async (shop) => known.has(shop),
      limiter: adminRateLimiter(() => clock.now),
      ...guardOptions
    })
    mountAdminJobRoutes(app, run, guard)
    mountAdminJobRequestRoute(app, run, guard)
    mountAdminJobActions(app, run, { guard, publish: (m) => run(ShopLog.use((log) => log.publish(m))) })
    mountAdminAccessRoutes(app, run, guard, { apiKeys })
    mountAdminPrivacyRoutes(app, run, guard, vault)
    mountAdminTriggerRoutes(app, run, guard)
    mountAdminRuleRoutes(app, run, guard)
    mountAdminExecutionRoutes(app, run, guard)
    mountAdminAttributionRoutes(app, run, guard)
    mountAdminCustomerValueRoutes(app, run, guard)
    mountAdminFindingsRoutes(app, run, guard)
    mountAdminWebhookRoutes(app, run, guard)
    mountAdminDetectorSettingsRoutes(app, run, guard)
    mountAdminAiRoutes(app, run, guard)
    const server = serveHttp({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" })
    servers.push(server)
    await new Promise<void>((resolve) => server.once("listening", () => resolve()))
    return { app, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, guard }
  }

  /** One HTTP request with `Authorization: Bearer <credential>`. */
  const call = async (
    server: AdminServer,
    method: string,
    path: string,
    credential: string | undefined,
    body?: unknown
  ): Promise<AdminResponse> => {
    const headers: Record<string, string> = {}
    if (credential !== undefined) headers["authorization"] = `Bearer ${credential}`
    if (body !== undefined) headers["content-type"] = "application/json"
    const res = await fetch(`${server.url}${path}`, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) })
    const text = await res.text()
    let json: unknown
    try {
      json = text === "" ? undefined : JSON.parse(text)
    } catch {
      json = undefined
    }
    return { status: res.status, headers: res.headers, text, json }
  }

  /** Lists `userId` with `role` in `shop` directly (test setup, as the owning role). */
  /**
   * A rule that e-mails the merchant about `trigger` and parks each execution for approval: a
   * detector's trigger that reached the rules shows as an execution `awaiting_approval`.
   */
  const parkingRule = async (server: AdminServer, token: string, name: string, trigger: string, condition?: string) => {
    const res = await call(server, "POST", "/app/rules", token, {
      name, trigger_event: trigger, action_key: "notify_merchant", params: { recipients: ["owner@shop.example"] },
      ...(condition === undefined ? {} : { condition }), enabled: true, requires_approval: true
    })
    if (res.status !== 201) throw new Error(`the rule was not created: ${res.status} ${res.text}`)
    return res.json.rule.id as string
  }

  /** The rule's executions as `[resource id, status]`, in the API's order. */
  const executionStatuses = async (server: AdminServer, token: string, ruleId: string): Promise<Array<[string, string]>> => {
    const res = await call(server, "GET", `/app/executions?rule_id=${ruleId}`, token)
    return (res.json.executions as Array<{ resource_id: string; status: string }>).map((e) => [e.resource_id, e.status])
  }

  /** Puts `shop` on the pro plan (what most actions need), as an operator's plan change records it. */
  const onProPlan = (shop: string) =>
    run(Effect.flatMap(EventStore, (store) =>
      store.append(`shop-${shop}`, shop, "any", [{
        type: "shop.plan_changed",
        data: { plan: "pro", previousPlan: "free", source: "operator", subscription: null, setBy: "test" }
      }], { correlationId: `plan-${shop}`, actor: { kind: "system", id: "test" } })))

  const setMember = (shop: string, userId: string, role: Role) =>
    run(Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      yield* sql`
        INSERT INTO shop_members (shop, user_id, role) VALUES (${shop}, ${userId}, ${role})
        ON CONFLICT (shop, user_id) DO UPDATE SET role = EXCLUDED.role`
    }))

  /** Creates a key through the port (test setup); returns its id and secret. */
  const createKey = (shop: string, name: string, scopes: ReadonlyArray<string>, role: Role | null = null) =>
    run(apiKeys.create({ shop, name, scopes, role }))

  /** Decides each command against the job's stream and appends its events, as the shop actor does. */
  const handleJobCommands = (shop: string, commands: ReadonlyArray<JobCommand>) => run(appendJobCommands(shop, commands))

  /** Waits, without sleeping, until the jobs projections have reached the log's head. */
  const awaitProjections = () => run(awaitAllCaughtUp(["jobs", "job_timeline", "executions", "audit_log", "webhook_deliveries", "attribution", "commerce", "seo_pages", "ai_usage"]))

  const close = async () => {
    await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))))
    await runtime.dispose()
    await sim.close()
  }

  // The runner creates the `jobs` and `job_timeline` views when it first starts, and notifies
  // no progress for that on an empty log: set them up here (idempotent, under the store's lock).
  await run(Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    for (const projection of [jobsProjection, jobTimelineProjection, executionsProjection, auditLogProjection, webhookDeliveriesProjection, attributionProjection, commerceProjection, seoPagesProjection, aiUsageProjection]) yield* reconcile(sql, projection)
  }))
  /** A customer data export of `shop` (what customers/data_request produces). */
  const createExport = (shop: string, customerId: string) =>
    run(exportCustomerData(shop, { customerId, orderIds: [], requestId: `request-of-${customerId}`, phone: null }, `test:${shop}:${customerId}`))

  /**
   * Waits (woken by commits, no sleeps) until the shop's actor has recorded an outcome of
   * `executionId` (of `type`, when given) on `automation-<shop>` or on the execution's run
   * stream, then until the read models caught up with it.
   */
  const awaitExecution = async (shop: string, executionId: string, type?: string) => {
    await awaitEvents([automationStreamId(shop), executionRunStreamId(shop, executionId)], (events) =>
      events.some((e) => (e.data as { executionId?: string }).executionId === executionId && (type === undefined || e.type === type)))
    await awaitProjections()
  }

  /** Waits (woken by commits, no sleeps; at most 30 s) until the events of `streams` satisfy `done`. */
  const awaitEvents = (streams: ReadonlyArray<string>, done: (events: ReadonlyArray<RecordedEvent>) => boolean) =>
    run(Effect.gen(function*() {
      const wakeups = yield* LogWakeups
      const store = yield* EventStore
      for (;;) {
        const next = yield* wakeups.next
        const events: Array<RecordedEvent> = []
        for (const streamId of streams) events.push(...yield* Stream.runCollect(store.readStream(streamId)))
        if (done(events)) return
        yield* Deferred.await(next).pipe(Effect.timeoutOption("250 millis"))
      }
    }).pipe(Effect.timeout("30 seconds")))

  /** The triggers `shop`'s actor has received, in order (what a detector or a person emitted). */
  const receivedTriggers = (shop: string) =>
    run(Effect.map(Effect.flatMap(EventStore, (store) => Stream.runCollect(store.readStream(`triggers-${shop}`))), (events) =>
      [...events].filter((e) => e.type === "trigger.received").map((e) => (e.data as { readonly trigger: ReceivedTrigger }).trigger)))

  return { databaseUrl, receivedTriggers, sim, run, apiKeys, clock, serveAdmin, call, setMember, onProPlan, parkingRule, executionStatuses, createKey, createExport, handleJobCommands, awaitProjections, awaitExecution, awaitEvents, close }
}

export type AdminApi = Awaited<ReturnType<typeof startAdminApi>>

/**
 * The admin API with the shop actors running, served, an operator `ops-1` of `shop`, and one
 * rule they created (`rule`, as the API takes it): where the execution suites start.
 */
export const startWithRule = async (shop: string, rule: Record<string, unknown>) => {
  const api = await startAdminApi({ knownShops: [shop], automationActors: true })
  const server = await api.serveAdmin({ defaultRole: "viewer" })
  await api.setMember(shop, "ops-1", "operator")
  const created = await api.call(server, "POST", "/app/rules", sessionFor(shop, "ops-1"), rule)
  if (created.status !== 201) throw new Error(`the suite's rule was not created (${created.status}): ${created.text}`)
  return { api, server, ruleId: created.json.rule.id as string }
}

/** A received trigger as tests read it: its event, its resources, and its other fields. */
export interface ReceivedTrigger {
  readonly event: string
  readonly resources: ReadonlyArray<{ readonly resourceType: string; readonly resourceId: string; readonly payload: Record<string, any> }>
  readonly [field: string]: any
}
