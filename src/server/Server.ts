/**
 * The long-running process. Roles: `ingress` (HTTP), `worker` (shop actors), `projector`
 * (projections), or `all`. The HTTP port always serves /healthz, /readyz and /metrics.
 */
import { Config, Context, Effect, Layer, Logger, Option } from "effect"
import { Hono } from "hono"
import * as KeyRing from "../../adapters/crypto/KeyRing.ts"
import * as Database from "../../adapters/postgres/Database.ts"
import { mountAdminJobActions } from "../../adapters/http/AdminJobActions.ts"
import { mountAdminJobRoutes } from "../../adapters/http/AdminJobRoutes.ts"
import { mountFlowActionRoute } from "../../adapters/http/FlowActionRoute.ts"
import { mountHealthRoutes, type ReadinessCheck } from "../../adapters/http/HealthRoutes.ts"
import { mountAdminAccessRoutes } from "../../adapters/http/AdminAccessRoutes.ts"
import { AdminDefaultRole, makeAdminGuard, verifyApiKeyWith } from "../../adapters/http/AdminAuth.ts"
import { mountAdminPrivacyRoutes } from "../../adapters/http/AdminPrivacyRoutes.ts"
import { problem, Problems } from "../../adapters/http/HttpProblem.ts"
import { serveHttp } from "../../adapters/http/HttpServer.ts"
import { mountOAuthRoutes } from "../../adapters/http/OAuthRoutes.ts"
import { mountPixelRoute } from "../../adapters/http/PixelRoute.ts"
import { mountPublicIngestRoute } from "../../adapters/http/PublicIngestRoute.ts"
import { RateLimiter } from "../../adapters/http/RateLimit.ts"
import * as PgApiKeys from "../../adapters/postgres/PgApiKeys.ts"
import * as PgStorefrontOrigins from "../../adapters/postgres/PgStorefrontOrigins.ts"
import { ShopCredentials } from "../../adapters/shopify/index.ts"
import { ApiKeys } from "../access/ApiKeys.ts"
import { mountShopifyWebhookRoute } from "../../adapters/http/ShopifyWebhookRoute.ts"
import { allProjections } from "../../projections/index.ts"
import { coreLayer } from "../CoreLayer.ts"
import * as AppHandlers from "../actors/AppHandlers.ts"
import * as Retention from "../actors/Retention.ts"
import * as ShopActorRuntime from "../actors/ShopActorRuntime.ts"
import { JobIngress } from "../jobs/JobIngress.ts"
import * as ShopifyJobSteps from "../jobs/ShopifyJobSteps.ts"
import { ProjectionRunner } from "../projections/ProjectionRunner.ts"
import { PiiVault, ShopTokens } from "../secrets/Secrets.ts"
import { ShopLog, type ShopMessage } from "../shoplog/ShopLog.ts"
import * as ShopLogLayer from "../shoplog/ShopLogLayer.ts"
import { printDemo } from "./Demo.ts"
import * as ShopifyApp from "./ShopifyApp.ts"

export type Role = "all" | "ingress" | "worker" | "projector"

export interface ServeOptions {
  readonly role: Role
  readonly port?: number | undefined
}

const has = (role: Role, part: Exclude<Role, "all">) => role === "all" || role === part

const optional = <S, I>(context: Context.Context<never>, tag: Context.Key<I, S>) =>
  Context.getOption(context as unknown as Context.Context<I>, tag)

/** Runs the process until interrupted (SIGINT/SIGTERM through the runtime). */
export const serve = (options: ServeOptions) =>
  Effect.gen(function*() {
    const port = options.port ?? (yield* Config.Int("PORT").pipe(Config.withDefault(3000)))
    const context = yield* Effect.context<never>()
    const app = new Hono()
    const run = <A, E>(effect: Effect.Effect<A, E, any>) => Effect.runPromiseWith(context)(effect as Effect.Effect<A, E, never>)
    const shopify = yield* ShopifyApp.ShopifyApp

    const checks: Array<ReadinessCheck> = []
    const log = optional(context, ShopLog)
    if (Option.isSome(log)) checks.push({ name: "shop_log", check: Effect.map(log.value.ping, () => ({ ok: true })) })
    const runtime = optional(context, ShopActorRuntime.ShopActorRuntime)
    if (Option.isSome(runtime)) {
      checks.push({
        name: "partitions",
        check: Effect.sync(() => {
          const owned = runtime.value.ownedPartitions()
          // Stuck messages are redelivered by the runtime itself: reported, not a reason to
          // take the worker out of service.
          const stuck = runtime.value.stuckMessages()
          return {
            ok: owned.length > 0,
            detail: { owned: owned.length, residentActors: runtime.value.residentActors(), stuckMessages: stuck.total, recentStuck: stuck.recent }
          }
        })
      })
    }
    mountHealthRoutes(app, run, checks)
    if (has(options.role, "ingress") && Option.isSome(log)) {
      const publish = (m: ShopMessage) => run(log.value.publish(m))
      /** Installed: a stored token (or a configured one: SHOPIFY_SHOP_TOKENS, the demo shop). */
      const isKnownShop = (shop: string) =>
        run(ShopCredentials.use((c) => c.get(shop)).pipe(Effect.as(true), Effect.catch(() => Effect.succeed(false))))
      mountFlowActionRoute(app, run, { secrets: shopify.secrets })
      mountShopifyWebhookRoute(app, { secrets: shopify.secrets, publish })
      mountPublicIngestRoute(app, { verifyKey: (key) => run(ApiKeys.use((k) => k.verify(key))).then(Option.getOrUndefined), publish })
      const pixelBurst = yield* Config.Int("PIXEL_RATE_LIMIT_BURST").pipe(Config.withDefault(100))
      const pixelRefillSeconds = yield* Config.Int("PIXEL_RATE_LIMIT_REFILL_SECONDS").pipe(Config.withDefault(10))
      mountPixelRoute(app, {
        isKnownShop,
        allowedOrigins: (shop) => run(PgStorefrontOrigins.allowedOrigins(shop)),
        publish,
        rateLimiter: new RateLimiter({ capacity: pixelBurst, perMs: pixelRefillSeconds * 1000 })
      })
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
        saveToken: (shop, token, scopes) => run(ShopTokens.use((t) => t.save(shop, token, scopes))),
        publish,
        log: (e) =>
          void run(
            (e.level === "warn" ? Effect.logWarning(e.message) : Effect.logInfo(e.message)).pipe(
              Effect.annotateLogs(Object.fromEntries(Object.entries({ shop: e.shop, reason: e.reason, method: e.method }).filter(([, v]) => v !== undefined)))
            )
          )
      })
      // One guard for every admin route: session token or operator API key, the shop installed,
      // 100 requests/min per shop, then each route's permission.
      const apiKeys = yield* ApiKeys
      const guard = makeAdminGuard(run, {
        apiKey: shopify.apiKey,
        appSecret: shopify.secrets[0]!,
        verifyApiKey: verifyApiKeyWith(run, apiKeys),
        isKnownShop,
        defaultRole: yield* AdminDefaultRole
      })
      mountAdminJobRoutes(app, run, guard)
      mountAdminJobActions(app, run, { guard, publish })
      mountAdminAccessRoutes(app, run, guard, { apiKeys })
      mountAdminPrivacyRoutes(app, run, guard, yield* PiiVault)
    }
    app.get("/", (c) => c.json({ name: "sumeru", role: options.role, docs: "see README.md" }))
    // Every answer is typed JSON, unknown paths and unexpected failures included.
    app.notFound((c) => problem(c, Problems.notFound("route")))
    app.onError((error, c) => {
      void run(Effect.logError("unhandled error in an HTTP route", error))
      return c.json({ error: { code: "internal_error", message: "internal error" } }, 500)
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
    if (shopify.demo !== null && has(options.role, "ingress")) yield* printDemo(`http://127.0.0.1:${bound}`, shopify)
    return yield* Effect.never
  }).pipe(
    Effect.provide(
      Layer.mergeAll(
        has(options.role, "projector") ? ProjectionRunner.layer(allProjections) : Layer.empty,
        has(options.role, "worker")
          ? ShopActorRuntime.layer().pipe(
            Layer.provide(AppHandlers.layer.pipe(Layer.provide(ShopifyJobSteps.layer))),
            Layer.provideMerge(ShopLogLayer.layerFromConfig),
            Layer.merge(Retention.layer)
          )
          : Layer.empty,
        has(options.role, "ingress")
          ? Layer.merge(JobIngress.layer, PgApiKeys.layer()).pipe(Layer.provideMerge(ShopLogLayer.layerFromConfig))
          : Layer.empty
      ).pipe(
        Layer.provideMerge(ShopifyApp.layer),
        // tokens and data keys are sealed with the key ring (SUMERU_ENCRYPTION_KEYS or the data dir's key file)
        Layer.provideMerge(coreLayer(Database.layerFromConfig, KeyRing.layerFromConfig))
      )
    ),
    // Structured JSON logs (shop and correlation ids are log annotations); LOG_FORMAT=pretty for humans.
    Effect.provide(Layer.unwrap(Effect.map(
      Config.String("LOG_FORMAT").pipe(Config.withDefault("json")),
      (format) => Logger.layer([format === "pretty" ? Logger.consolePretty() : Logger.consoleJson])
    )))
  )
