/**
 * The long-running process. Roles: `ingress` (HTTP), `worker` (shop actors), `projector`
 * (projections), or `all`. The HTTP port always serves /healthz, /readyz and /metrics.
 */
import { serve as serveHttp } from "@hono/node-server"
import { Config, Context, Effect, Layer, Logger, Option } from "effect"
import { Hono } from "hono"
import * as Database from "../../adapters/postgres/Database.ts"
import { mountAdminJobActions } from "../../adapters/http/AdminJobActions.ts"
import { mountAdminJobRoutes } from "../../adapters/http/AdminJobRoutes.ts"
import { mountFlowActionRoute } from "../../adapters/http/FlowActionRoute.ts"
import { mountHealthRoutes, type ReadinessCheck } from "../../adapters/http/HealthRoutes.ts"
import { mountShopifyWebhookRoute } from "../../adapters/http/ShopifyWebhookRoute.ts"
import { allProjections } from "../../projections/index.ts"
import { coreLayer } from "../CoreLayer.ts"
import * as AppHandlers from "../actors/AppHandlers.ts"
import * as ShopActorRuntime from "../actors/ShopActorRuntime.ts"
import { JobIngress } from "../jobs/JobIngress.ts"
import * as ShopifyJobSteps from "../jobs/ShopifyJobSteps.ts"
import { ProjectionRunner } from "../projections/ProjectionRunner.ts"
import { ShopLog } from "../shoplog/ShopLog.ts"
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
          return { ok: owned.length > 0, detail: { owned: owned.length, residentActors: runtime.value.residentActors() } }
        })
      })
    }
    mountHealthRoutes(app, run, checks)
    if (has(options.role, "ingress") && Option.isSome(log)) {
      mountFlowActionRoute(app, run, { secrets: shopify.secrets })
      mountShopifyWebhookRoute(app, { secrets: shopify.secrets, publish: (m) => run(log.value.publish(m)) })
      const auth = { apiKey: shopify.apiKey, appSecret: shopify.secrets[0]! }
      mountAdminJobRoutes(app, run, auth)
      mountAdminJobActions(app, run, { ...auth, publish: (m) => run(log.value.publish(m)) })
    }
    app.get("/", (c) => c.json({ name: "sumeru", role: options.role, docs: "see README.md" }))

    yield* Effect.acquireRelease(
      Effect.callback<ReturnType<typeof serveHttp>>((resume) => {
        const s = serveHttp({ fetch: app.fetch, port, hostname: "0.0.0.0" }, () => resume(Effect.succeed(s)))
      }),
      (s) => Effect.callback<void>((resume) => { s.close(() => resume(Effect.void)) })
    )
    shopify.setWebhookUrl(`http://127.0.0.1:${port}/webhooks/shopify`)
    yield* Effect.logInfo(`sumeru listening on http://127.0.0.1:${port} (role ${options.role})`)
    if (shopify.demo !== null && has(options.role, "ingress")) yield* printDemo(`http://127.0.0.1:${port}`, shopify)
    return yield* Effect.never
  }).pipe(
    Effect.provide(
      Layer.mergeAll(
        has(options.role, "projector") ? ProjectionRunner.layer(allProjections) : Layer.empty,
        has(options.role, "worker")
          ? ShopActorRuntime.layer().pipe(
            Layer.provide(AppHandlers.layer.pipe(Layer.provide(ShopifyJobSteps.layer))),
            Layer.provideMerge(ShopLogLayer.layerFromConfig)
          )
          : Layer.empty,
        has(options.role, "ingress") ? JobIngress.layer.pipe(Layer.provideMerge(ShopLogLayer.layerFromConfig)) : Layer.empty
      ).pipe(
        Layer.provideMerge(ShopifyApp.layer),
        Layer.provideMerge(coreLayer(Database.layerFromConfig))
      )
    ),
    // Structured JSON logs (shop and correlation ids are log annotations); LOG_FORMAT=pretty for humans.
    Effect.provide(Layer.unwrap(Effect.map(
      Config.String("LOG_FORMAT").pipe(Config.withDefault("json")),
      (format) => Logger.layer([format === "pretty" ? Logger.consolePretty() : Logger.consoleJson])
    )))
  )
