/**
 * The long-running process. Roles: `ingress` (HTTP), `worker` (shop actors), `projector`
 * (projections), or `all`. The HTTP port always serves /healthz, /readyz and /metrics.
 *
 * Every role shares the core (database, secrets, event store) and the Shopify app; each role
 * then builds its own layer for the life of the process, and the HTTP routes run their Effects
 * with exactly the context those layers built (`RunEffect<R>`). A route that needs a service no
 * layer provides is therefore a type error here, not a failure at its first request; and the
 * shop log, which the worker and the ingress both use, is built once (one memo map).
 */
import * as AiGatewayLive from "../../adapters/ai/AiGatewayLive.ts"
import * as ProviderClients from "../../adapters/ai/ProviderClients.ts"
import * as PgAiLedger from "../../adapters/postgres/PgAiLedger.ts"
import { PROVIDERS } from "../../domain/ai/policy.ts"
import { AI_BASE_PATHS } from "../simulator/ai/index.ts"
import { Config, Context, Effect, Layer, Option, Redacted, Result } from "effect"
import * as IdleMemory from "./IdleMemory.ts"
import * as Observability from "./Observability.ts"
import { Hono } from "hono"
import * as KeyRing from "../../adapters/crypto/KeyRing.ts"
import { mountAdminAccessRoutes } from "../../adapters/http/AdminAccessRoutes.ts"
import { AdminDefaultRole, AdminRateLimitPerMinute, adminRateLimiter, makeAdminGuard, verifyApiKeyWith } from "../../adapters/http/AdminAuth.ts"
import { mountAdminJobActions, mountAdminJobRequestRoute } from "../../adapters/http/AdminJobActions.ts"
import { mountAdminJobRoutes } from "../../adapters/http/AdminJobRoutes.ts"
import { mountAdminPrivacyRoutes } from "../../adapters/http/AdminPrivacyRoutes.ts"
import { mountAdminExecutionRoutes } from "../../adapters/http/AdminExecutionRoutes.ts"
import { mountAdminAttributionRoutes } from "../../adapters/http/AdminAttributionRoutes.ts"
import { mountAdminCustomerValueRoutes } from "../../adapters/http/AdminCustomerValueRoutes.ts"
import { mountAdminFindingsRoutes } from "../../adapters/http/AdminFindingsRoutes.ts"
import * as PgAttributionOutbox from "../../adapters/postgres/PgAttributionOutbox.ts"
import * as AttributionTriggers from "../intelligence/AttributionTriggers.ts"
import * as DetectorSettings from "../intelligence/DetectorSettings.ts"
import * as SearchConsole from "../intelligence/SearchConsole.ts"
import * as SearchPull from "../intelligence/SearchPull.ts"
import * as SearchConsoleClient from "../../adapters/searchconsole/SearchConsoleClient.ts"
import * as MerchantCenterClient from "../../adapters/merchantcenter/MerchantCenterClient.ts"
import * as MerchantCenter from "../intelligence/MerchantCenter.ts"
import * as MerchantCenterPull from "../intelligence/MerchantCenterPull.ts"
import * as SiteAudit from "../intelligence/SiteAudit.ts"
import { mountAdminWebhookRoutes } from "../../adapters/http/AdminWebhookRoutes.ts"
import { mountAdminDetectorSettingsRoutes } from "../../adapters/http/AdminDetectorSettingsRoutes.ts"
import { mountAdminAiRoutes } from "../../adapters/http/AdminAiRoutes.ts"
import { mountWhatsAppWebhookRoute, webhookSettingsFromConfig } from "../../adapters/http/WhatsAppWebhookRoute.ts"
import { encodeShopMessage } from "../../domain/messages/ShopMessages.ts"
import { mountAdminUi } from "../../adapters/http/AdminUi.ts"
import { mountAdminRuleRoutes } from "../../adapters/http/AdminRuleRoutes.ts"
import { mountAdminTriggerRoutes } from "../../adapters/http/AdminTriggerRoutes.ts"
import { mountFlowActionRoute } from "../../adapters/http/FlowActionRoute.ts"
import { mountHealthRoutes, type ReadinessCheck } from "../../adapters/http/HealthRoutes.ts"
import { problem, Problems } from "../../adapters/http/HttpProblem.ts"
import { serveHttp } from "../../adapters/http/HttpServer.ts"
import { mountOAuthRoutes } from "../../adapters/http/OAuthRoutes.ts"
import { mountPixelRoute, StorefrontAccess } from "../../adapters/http/PixelRoute.ts"
import { mountPublicIngestRoute } from "../../adapters/http/PublicIngestRoute.ts"
import { RateLimiter } from "../../adapters/http/RateLimit.ts"
import { runEffectWith } from "../../adapters/http/RunEffect.ts"
import { mountShopifyWebhookRoute } from "../../adapters/http/ShopifyWebhookRoute.ts"
import * as Database from "../../adapters/postgres/Database.ts"
import * as PgActorStore from "../../adapters/postgres/PgActorStore.ts"
import * as PgApiKeys from "../../adapters/postgres/PgApiKeys.ts"
import * as PgHandledMessages from "../../adapters/postgres/PgHandledMessages.ts"
import * as PgJobArtefacts from "../../adapters/postgres/PgJobArtefacts.ts"
import * as PgJobRequests from "../../adapters/postgres/PgJobRequests.ts"
import * as PgPartitionLeases from "../../adapters/postgres/PgPartitionLeases.ts"
import * as PgPrivacyStore from "../../adapters/postgres/PgPrivacyStore.ts"
import { ShopCredentials } from "../../adapters/shopify/index.ts"
import * as FetchOutbound from "../../adapters/outbound/FetchOutbound.ts"
import * as Actions from "../../adapters/actions/index.ts"
import * as SmtpEmail from "../../adapters/email/SmtpEmail.ts"
import * as AdPlatformsLive from "../../adapters/ads/AdPlatformsLive.ts"
import * as CloudApiClient from "../../adapters/whatsapp/CloudApiClient.ts"
import { ShopWhatsAppNumbers } from "../../adapters/channels/actions/sendCartRecovery.ts"
import { parsePhoneNumberShops } from "../../domain/channels/whatsapp.ts"
import * as ShopifyJobSteps from "../../adapters/shopify/ShopifyJobSteps.ts"
import { allProjections } from "../../projections/index.ts"
import { ApiKeys } from "../access/ApiKeys.ts"
import * as AppHandlers from "../actors/AppHandlers.ts"
import * as AuditRetention from "../automation/AuditRetention.ts"
import { actionTimingsLayer } from "../automation/ExecutionRunner.ts"
import { outboundTimingsLayer } from "../outbound/OutboundWebhooks.ts"
import * as Retention from "../actors/Retention.ts"
import * as ShopActorRuntime from "../actors/ShopActorRuntime.ts"
import { type CoreServices, coreLayer } from "../CoreLayer.ts"
import { JobIngress } from "../jobs/JobIngress.ts"
import { ProjectionRunner } from "../projections/ProjectionRunner.ts"
import { PiiVault, ShopTokens } from "../secrets/Secrets.ts"
import { ShopLog, type ShopMessage } from "../shoplog/ShopLog.ts"
import * as ShopLogLayer from "../shoplog/ShopLogLayer.ts"
import { printDemo } from "./Demo.ts"
import { publishDemoHistory } from "./DemoHistory.ts"
import * as ShopifyApp from "./ShopifyApp.ts"
import { DEMO_SHOP, type DemoChannels } from "./ShopifyApp.ts"
import { OutboundHttp } from "../outbound/OutboundHttp.ts"
import { parseAllowedTargets } from "../../domain/outbound/Ssrf.ts"

export type Role = "all" | "ingress" | "worker" | "projector"

export interface ServeOptions {
  readonly role: Role
  readonly port?: number | undefined
}

const has = (role: Role, part: Exclude<Role, "all">) => role === "all" || role === part

/** Each shop's WhatsApp number (its Graph id), from `WHATSAPP_PHONE_NUMBERS` (`shop:phone-number-id,…`). */
const shopWhatsAppNumbersLayer = Layer.effect(
  ShopWhatsAppNumbers,
  Effect.map(Config.String("WHATSAPP_PHONE_NUMBERS").pipe(Config.withDefault("")), (text) => {
    const routes = Result.getOrElse(parsePhoneNumberShops(text), () => new Map<string, string>())
    const byShop = new Map([...routes].map(([id, shop]) => [shop, id] as const))
    return (shop: string) => byShop.get(shop)
  })
)

/**
 * The channels the actions and outbound webhooks use: from configuration (each optional), or —
 * in the demo — the demo's WhatsApp simulator, SMTP sink and webhook receiver.
 */
const channelLayers = (demo: DemoChannels | undefined) =>
  demo === undefined
    ? { email: SmtpEmail.layerIfConfigured, whatsapp: CloudApiClient.layerIfConfigured, numbers: shopWhatsAppNumbersLayer, outbound: FetchOutbound.layer }
    : {
      email: SmtpEmail.layerFromOptions({ host: demo.smtp.host, port: demo.smtp.port, from: "Sumeru demo <demo@sumeru.example>" }),
      whatsapp: CloudApiClient.layer({ accessToken: Redacted.make(demo.whatsapp.token), baseUrl: demo.whatsapp.url }),
      numbers: Layer.succeed(ShopWhatsAppNumbers, (shop: string) => (shop === DEMO_SHOP ? demo.whatsapp.phoneNumberId : undefined)),
      outbound: Layer.succeed(OutboundHttp, FetchOutbound.make({ allowed: parseAllowedTargets(demo.receiver.hostPort).targets, timeoutMs: 10_000 }))
    }

/**
 * A Google API the intelligence plane pulls (Search Console, Merchant Center): the demo's
 * simulator, else Google with an OAuth access token from `<PREFIX>_TOKEN` (and `<PREFIX>_API_URL`
 * to point the client elsewhere), else not configured — a pull then says so and records nothing.
 */
const googleApiLayer = <S>(
  prefix: string,
  demo: { readonly url: string; readonly token: string } | undefined,
  make: (options: { readonly accessToken: Redacted.Redacted<string>; readonly apiUrl?: string }) => Layer.Layer<S>,
  notConfigured: Layer.Layer<S>
) =>
  Layer.unwrap(Effect.gen(function*() {
    if (demo !== undefined) return make({ accessToken: Redacted.make(demo.token), apiUrl: demo.url })
    const token = yield* Config.option(Config.Redacted(`${prefix}_TOKEN`))
    if (Option.isNone(token) || Redacted.value(token.value) === "") return notConfigured
    const apiUrl = yield* Config.option(Config.String(`${prefix}_API_URL`))
    return make({ accessToken: token.value, ...(Option.isSome(apiUrl) ? { apiUrl: apiUrl.value } : {}) })
  }))

const searchConsoleLayer = (demo: DemoChannels | undefined) =>
  googleApiLayer("SEARCH_CONSOLE", demo?.searchConsole, SearchConsoleClient.layer, SearchConsole.layerNotConfigured)

const merchantCenterLayer = (demo: DemoChannels | undefined) =>
  googleApiLayer("MERCHANT_CENTER", demo?.merchantCenter, MerchantCenterClient.layer, MerchantCenter.layerNotConfigured)

/**
 * Starts a daily source's runs at boot for the shops configured in `env` (`shop=value,…`; the
 * demo's own value when it runs): a malformed entry stops the process with every problem.
 */
const dailyKickoff = (
  env: string,
  demoValue: string | undefined,
  parse: (text: string) => { readonly pairs: ReadonlyArray<readonly [string, string]>; readonly problems: ReadonlyArray<string> },
  start: (pairs: ReadonlyArray<readonly [string, string]>) => Effect.Effect<void, never, ShopLog>
) =>
  Layer.effectDiscard(Effect.gen(function*() {
    const configured = demoValue !== undefined ? `${DEMO_SHOP}=${demoValue}` : yield* Config.String(env).pipe(Config.withDefault(""))
    const { pairs, problems } = parse(configured)
    if (problems.length > 0) return yield* Effect.die(new Error(`${env}: ${problems.join("; ")}`))
    yield* Effect.forkScoped(start(pairs))
  }))

const intelligenceKickoffs = (demo: DemoChannels | undefined) =>
  Layer.mergeAll(
    dailyKickoff("SEARCH_CONSOLE_SITES", demo?.searchConsole.siteUrl, SearchPull.parseSearchConsoleSites, SearchPull.kickOffSearchPulls),
    dailyKickoff("MERCHANT_CENTER_ACCOUNTS", demo?.merchantCenter.accountId, MerchantCenterPull.parseMerchantAccounts, MerchantCenterPull.kickOffMerchantPulls),
    dailyKickoff("SITE_AUDIT_ORIGINS", demo?.storefront.origin, SiteAudit.parseAuditOrigins, SiteAudit.kickOffSiteAudits)
  )

/**
 * The AI gateway (issue 14): the demo's simulator of the five providers, else each provider's API
 * with `AI_<PROVIDER>_API_KEY` (and `AI_<PROVIDER>_BASE_URL`); the plans' limits from `AI_LIMITS`.
 */
const aiGatewayLayer = (demo: DemoChannels | undefined) =>
  AiGatewayLive.layer.pipe(Layer.provide([
    PgAiLedger.layer,
    demo === undefined
      ? ProviderClients.layerFromConfig
      : ProviderClients.layer(Object.fromEntries(PROVIDERS.map((p) => [p, { baseURL: `${demo.ai.url}${AI_BASE_PATHS[p]}`, apiKey: Redacted.make(`sim-${p}-key`) }])) as Parameters<typeof ProviderClients.layer>[0]),
    AiGatewayLive.planLimitsFromConfig
  ]))

/** The worker's layer: the shop actors (with the app's handlers) and the retention sweeps. */
const workerLayer = (demo: DemoChannels | undefined) => {
  const channels = channelLayers(demo)
  return ShopActorRuntime.layer().pipe(
    Layer.provide(AppHandlers.layer.pipe(Layer.provide([
      ShopifyJobSteps.layer.pipe(Layer.provide(PgJobArtefacts.layer)),
      Actions.layer.pipe(Layer.provide([channels.email, AdPlatformsLive.layer, channels.whatsapp, channels.numbers, aiGatewayLayer(demo)])),
      AdPlatformsLive.layer,
      actionTimingsLayer,
      channels.outbound,
      outboundTimingsLayer,
      PgPrivacyStore.layer,
      DetectorSettings.detectorDefaultsFromConfig,
      searchConsoleLayer(demo),
      merchantCenterLayer(demo)
    ]))),
    Layer.provide([PgActorStore.layer, PgPartitionLeases.layerForDatabase]),
    // the intelligence plane's triggers that follow read models (sales.attribution_computed)
    Layer.merge(AttributionTriggers.layerFromConfig.pipe(Layer.provide(PgAttributionOutbox.layer))),
    // the daily pulls of the shops' connected sources (Search Console, Merchant Center, the site audit)
    Layer.merge(intelligenceKickoffs(demo)),
    Layer.provideMerge(ShopLogLayer.layerFromConfig),
    Layer.merge(Retention.layer.pipe(Layer.provide(PgHandledMessages.layer)))
  )
}

/** The ingress's layer: what its routes use beyond the core. */
const ingressLayer = (demo: DemoChannels | undefined) =>
  Layer.mergeAll(
    JobIngress.layer.pipe(Layer.provide(PgJobRequests.layer)),
    PgApiKeys.layer(),
    StorefrontAccess.layer,
    channelLayers(demo).outbound,
    // the admin API shows a shop's detector settings over the same defaults the worker uses
    DetectorSettings.detectorDefaultsFromConfig
  ).pipe(
    Layer.provideMerge(ShopLogLayer.layerFromConfig)
  )

/** The readiness check of the shop log. */
const shopLogCheck = (log: ShopLog["Service"]): ReadinessCheck => ({
  name: "shop_log",
  check: Effect.map(log.ping, () => ({ ok: true }))
})

/**
 * The readiness check of the projector: its lock session is up (while a lost session is
 * re-established — a database restart — no projection advances in this process).
 */
const projectionLocksCheck = (runner: ProjectionRunner["Service"]): ReadinessCheck => ({
  name: "projection_locks",
  check: Effect.map(runner.health, (h) => ({ ok: h.state === "running", detail: h }))
})

/** The readiness check of the worker: it owns partitions (stuck messages are reported, not a reason to take it out). */
const partitionsCheck = (runtime: ShopActorRuntime.ShopActorRuntime["Service"]): ReadinessCheck => ({
  name: "partitions",
  check: Effect.sync(() => {
    const owned = runtime.ownedPartitions()
    // Stuck messages are redelivered by the runtime itself: reported, not a reason to
    // take the worker out of service.
    const stuck = runtime.stuckMessages()
    return {
      ok: owned.length > 0,
      detail: { owned: owned.length, residentActors: runtime.residentActors(), stuckMessages: stuck.total, recentStuck: stuck.recent }
    }
  })
})

/** Runs the process until interrupted (SIGINT/SIGTERM through the runtime). */
export const serve = (options: ServeOptions): Effect.Effect<never, unknown> =>
  Effect.gen(function*() {
    const port = options.port ?? (yield* Config.Int("PORT").pipe(Config.withDefault(3000)))
    // What every role has; each role's routes run with this plus what its own layer built.
    const base = yield* Effect.context<CoreServices | ShopifyApp.ShopifyApp | ShopCredentials>()
    const run = runEffectWith(base)
    const shopify = Context.get(base, ShopifyApp.ShopifyApp)
    const memoMap = yield* Layer.makeMemoMap
    const scope = yield* Effect.scope
    /** Builds a role's layer for the life of the process; a layer two roles share is built once. */
    const build = <ROut, E, RIn>(layer: Layer.Layer<ROut, E, RIn>) => Layer.buildWithMemoMap(layer, memoMap, scope)

    // every role: the memory of a busy spell goes back to the OS once the process is idle
    yield* build(IdleMemory.layer)
    const worker = has(options.role, "worker") ? Option.some(yield* build(workerLayer(shopify.demo?.channels))) : Option.none()
    // the projections, after the audit retention (its sweep, once now then hourly) has read its configuration
    const projector = has(options.role, "projector")
      ? Option.some(yield* build(ProjectionRunner.layer(allProjections).pipe(Layer.provideMerge(AuditRetention.layer))))
      : Option.none()
    const ingress = has(options.role, "ingress") ? Option.some(yield* build(ingressLayer(shopify.demo?.channels))) : Option.none()

    const app = new Hono()
    const log = Option.orElse(Option.map(worker, Context.get(ShopLog)), () => Option.map(ingress, Context.get(ShopLog)))
    mountHealthRoutes(app, run, [
      ...Option.toArray(Option.map(log, shopLogCheck)),
      ...Option.toArray(Option.map(worker, (w) => partitionsCheck(Context.get(w, ShopActorRuntime.ShopActorRuntime)))),
      ...Option.toArray(Option.map(projector, (p) => projectionLocksCheck(Context.get(p, ProjectionRunner))))
    ])
    if (Option.isSome(ingress)) {
      const runIngress = runEffectWith(Context.merge(base, ingress.value))
      const publish = (m: ShopMessage) => runIngress(ShopLog.use((l) => l.publish(m)))
      /**
       * Installed: a stored token (or a configured one: SHOPIFY_SHOP_TOKENS, the demo shop). Rejects
       * when the token store cannot answer: the admin guard's 503, never a misleading "not installed".
       */
      const isKnownShop = (shop: string) => runIngress(StorefrontAccess.use((access) => access.isKnownShop(shop)))
      mountFlowActionRoute(app, runIngress, { secrets: shopify.secrets })
      mountShopifyWebhookRoute(app, runIngress, { secrets: shopify.secrets })
      // WhatsApp's inbound webhook (only when WHATSAPP_APP_SECRET is set): messages and receipts to the shop's actor
      const whatsapp = yield* webhookSettingsFromConfig
      if (Option.isSome(whatsapp)) {
        mountWhatsAppWebhookRoute(app, runIngress, {
          verifyToken: whatsapp.value.verifyToken,
          appSecrets: whatsapp.value.appSecrets,
          shopOf: (id) => whatsapp.value.phoneNumbers.get(id),
          publish: (m) =>
            Effect.asVoid(ShopLog.use((l) =>
              l.publish({
                shop: m.shop,
                messageId: m.messageId,
                correlationId: m.messageId,
                ...(m.type === "whatsapp.message"
                  ? encodeShopMessage({ type: "whatsapp.message", payload: m.payload })
                  : encodeShopMessage({ type: "whatsapp.status", payload: m.payload }))
              })
            ))
        })
      }
      mountPublicIngestRoute(app, runIngress)
      const pixelBurst = yield* Config.Int("PIXEL_RATE_LIMIT_BURST").pipe(Config.withDefault(100))
      const pixelRefillSeconds = yield* Config.Int("PIXEL_RATE_LIMIT_REFILL_SECONDS").pipe(Config.withDefault(10))
      mountPixelRoute(app, runIngress, { rateLimiter: new RateLimiter({ capacity: pixelBurst, perMs: pixelRefillSeconds * 1000 }) })
      const adminOverride = yield* Config.option(Config.String("SHOPIFY_ADMIN_URL_OVERRIDE"))
      const adminBase = shopify.demo?.simulatorUrl ?? Option.getOrUndefined(adminOverride)
      mountOAuthRoutes(app, {
        apiKey: shopify.apiKey,
        secrets: shopify.secrets,
        scopes: yield* Config.String("SHOPIFY_SCOPES").pipe(
          Config.withDefault("read_products,write_products,read_orders,read_customers,read_inventory")
        ),
        appUrl: yield* Config.String("SHOPIFY_APP_URL").pipe(Config.withDefault(`http://127.0.0.1:${port}`)),
        adminOrigin: (shop) => adminBase?.replace(/\/+$/, "") ?? `https://${shop}`,
        saveToken: (shop, token, scopes) => runIngress(ShopTokens.use((t) => t.save(shop, token, scopes))),
        publish,
        log: (e) =>
          void runIngress(
            (e.level === "warn" ? Effect.logWarning(e.message) : Effect.logInfo(e.message)).pipe(
              Effect.annotateLogs(Object.fromEntries(Object.entries({ shop: e.shop, reason: e.reason, method: e.method }).filter(([, v]) => v !== undefined)))
            )
          )
      })
      // One guard for every admin route: session token or operator API key, the shop installed,
      // 100 requests/min per shop, then each route's permission.
      const apiKeys = Context.get(ingress.value, ApiKeys)
      const guard = makeAdminGuard(runIngress, {
        apiKey: shopify.apiKey,
        appSecret: shopify.secrets[0]!,
        verifyApiKey: verifyApiKeyWith(runIngress, apiKeys),
        isKnownShop,
        defaultRole: yield* AdminDefaultRole,
        limiter: adminRateLimiter(undefined, yield* AdminRateLimitPerMinute)
      })
      // the admin app's pages and assets first: a browser navigation to `/app/…` gets the page
      mountAdminUi(app, { apiKey: shopify.apiKey, developmentSessions: shopify.demo !== null })
      mountAdminJobRoutes(app, runIngress, guard)
      mountAdminJobRequestRoute(app, runIngress, guard)
      mountAdminJobActions(app, runIngress, { guard, publish })
      mountAdminAccessRoutes(app, runIngress, guard, { apiKeys })
      mountAdminPrivacyRoutes(app, runIngress, guard, Context.get(base, PiiVault))
      mountAdminTriggerRoutes(app, runIngress, guard)
      mountAdminRuleRoutes(app, runIngress, guard)
      mountAdminExecutionRoutes(app, runIngress, guard)
      mountAdminAttributionRoutes(app, runIngress, guard)
      mountAdminCustomerValueRoutes(app, runIngress, guard)
      mountAdminFindingsRoutes(app, runIngress, guard)
      mountAdminWebhookRoutes(app, runIngress, guard)
      mountAdminDetectorSettingsRoutes(app, runIngress, guard)
      mountAdminAiRoutes(app, runIngress, guard)
    }
    app.get("/", (c) => c.json({ name: "sumeru", role: options.role, docs: "see README.md" }))
    // Every answer is typed JSON, unknown paths and unexpected failures included.
    app.notFound((c) => problem(c, Problems.notFound("route")))
    app.onError((error, c) => {
      const correlationId = crypto.randomUUID()
      void run(Effect.logError(`${c.req.method} ${c.req.path}: unhandled error`, error).pipe(Effect.annotateLogs({ correlation: correlationId })))
      return problem(c, Problems.internal(correlationId))
    })

    const server = yield* Effect.acquireRelease(
      Effect.callback<ReturnType<typeof serveHttp>>((resume) => {
        const s = serveHttp({ fetch: app.fetch, port, hostname: "0.0.0.0" }, () => resume(Effect.succeed(s)))
      }),
      (s) => Effect.callback<void>((resume) => { s.close(() => resume(Effect.void)) })
    )
    // the bound port (`--port 0` picks a free one)
    const address = server.address()
    const bound = typeof address === "object" && address !== null ? address.port : port
    shopify.setWebhookUrl(`http://127.0.0.1:${bound}/webhooks/shopify`)
    yield* Effect.logInfo(`sumeru listening on http://127.0.0.1:${bound} (role ${options.role})`)
    if (shopify.demo !== null && Option.isSome(log)) {
      // the demo shop is on the pro plan (the actions of the walkthrough need it): once per log, whatever the restarts
      yield* log.value.publish({
        shop: DEMO_SHOP,
        messageId: "demo:plan:pro",
        ...encodeShopMessage({ type: "shop.set_plan", payload: { commandId: "demo-plan", plan: "pro", by: "demo" } })
      }).pipe(Effect.ignore)
      // 90 days of orders, visits and ads history, in the background (the walkthrough does not wait)
      yield* Effect.forkScoped(publishDemoHistory(DEMO_SHOP, Date.now()).pipe(Effect.provideService(ShopLog, log.value)))
    }
    if (shopify.demo !== null && has(options.role, "ingress")) yield* printDemo(`http://127.0.0.1:${bound}`, shopify)
    return yield* Effect.never
  }).pipe(
    // The roles' layers and the HTTP server live in this scope, which closes (server first, in
    // reverse order of building) before the core they use is released.
    Effect.scoped,
    Effect.provide(
      ShopifyApp.layer.pipe(
        // tokens and data keys are sealed with the key ring (SUMERU_ENCRYPTION_KEYS or the data dir's key file)
        Layer.provideMerge(coreLayer(Database.layerFromConfig, KeyRing.layerFromConfig))
      )
    ),
    // Traces over OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set; structured JSON logs (shop and
    // correlation ids as annotations, trace and span ids); LOG_FORMAT=pretty for humans.
    Effect.provide(Layer.merge(Observability.tracingLayerFromConfig(options.role), Observability.loggerLayerFromConfig))
  )
