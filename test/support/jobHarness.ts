/**
 * A complete Flowmend stack for tests: PostgreSQL 15, a shop log (embedded or JetStream),
 * the shop actor runtime running the job process, the Shopify simulator, and the Flow
 * endpoint served over real HTTP.
 */
import { Deferred, Duration, Effect, Layer, ManagedRuntime, Redacted } from "effect"
import { SqlClient } from "effect/sql"
import { Hono } from "hono"
import type { AddressInfo } from "node:net"
import * as EmbeddedShopLog from "../../adapters/embedded/EmbeddedShopLog.ts"
import { serveHttp } from "../../adapters/http/HttpServer.ts"
import * as JetStreamShopLog from "../../adapters/nats/JetStreamShopLog.ts"
import { inject } from "vitest"
import { mountFlowActionRoute } from "../../adapters/http/FlowActionRoute.ts"
import { signBody } from "../../adapters/http/ShopifyHmac.ts"
import { ShopCredentials } from "../../adapters/shopify/index.ts"
import * as ShopifyAdminLive from "../../adapters/shopify/ShopifyAdminLive.ts"
import * as ShopifyJobSteps from "../../adapters/shopify/ShopifyJobSteps.ts"
import * as PgJobArtefacts from "../../adapters/postgres/PgJobArtefacts.ts"
import * as PgJobRequests from "../../adapters/postgres/PgJobRequests.ts"
import { coreLayer } from "../../src/CoreLayer.ts"
import { actorRuntimeLayer } from "./actorRuntime.ts"
import { LogWakeups } from "../../src/eventstore/LogWakeups.ts"
import { JobIngress } from "../../src/jobs/JobIngress.ts"
import { ShopLog } from "../../src/shoplog/ShopLog.ts"
import { ProjectionRunner } from "../../src/projections/ProjectionRunner.ts"
import { reconcile } from "../../adapters/postgres/PgProjectionStore.ts"
import { allProjections } from "../../projections/index.ts"
import { mountAdminJobActions } from "../../adapters/http/AdminJobActions.ts"
import { mountAdminJobRoutes } from "../../adapters/http/AdminJobRoutes.ts"
import { mountShopifyWebhookRoute } from "../../adapters/http/ShopifyWebhookRoute.ts"
import { signSessionToken } from "../../adapters/http/SessionToken.ts"
import * as JobsLayer from "../../src/jobs/JobsLayer.ts"
import { startShopifySimulator } from "../../src/simulator/shopify/index.ts"
import { freshPostgresUrl } from "./databases.ts"
import { type DatabaseMode, layerPostgres } from "../../adapters/postgres/Database.ts"
import { testKeyRing } from "./keys.ts"
import { openStored } from "./storedEvents.ts"

export const APP_SECRET = "test-app-secret"
export const SHOP = "flowmend-test.myshopify.com"
export const TOKEN = "shpat_test_token"
export const API_KEY = "test-api-key"

/** An App Bridge session token for `shop`. */
export const sessionToken = (shop: string = SHOP) => signSessionToken({ shop, apiKey: API_KEY, appSecret: APP_SECRET })

export const startJobStack = async (options?: {
  readonly products?: number | ReadonlyArray<Record<string, unknown>>
  readonly bulkPace?: "immediate" | "manual"
  /** The shop log: the embedded one (default) or JetStream on the test run's nats-server. */
  readonly log?: "embedded" | "jetstream"
  /** Bulk operation polling interval (default 20 ms); long = only the webhook can finish a step. */
  readonly pollMs?: number
  /** Run the shop actors (default true); without them accepted jobs are never recorded. */
  readonly worker?: boolean
  /** Run the projections (default true); without them the read models stay empty. */
  readonly projections?: boolean
  /** How long `GET /app/jobs/:id` waits for an accepted job (default the route's). */
  readonly awaitAcceptedJobMs?: number
}) => {
  const sim = await startShopifySimulator({
    appSecret: APP_SECRET,
    shops: [{ domain: SHOP, accessToken: TOKEN, products: (options?.products ?? 300) as number, seed: 7 }],
    bulkPace: options?.bulkPace ?? "immediate"
  } as Parameters<typeof startShopifySimulator>[0])
  const dbUrl = freshPostgresUrl()
  const core = coreLayer(layerPostgres(Redacted.make(dbUrl), { maxConnections: 12 }), testKeyRing())
  const unique = `jobs${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`
  const chosen: Layer.Layer<ShopLog, unknown, SqlClient.SqlClient | DatabaseMode> = options?.log === "jetstream"
    ? JetStreamShopLog.layer({ servers: inject("natsUrl"), streamName: unique.toUpperCase(), subjectPrefix: unique, partitions: 4 })
    : EmbeddedShopLog.layer({ partitions: 4 })
  const log = chosen.pipe(Layer.provideMerge(core))
  const admin = ShopifyAdminLive.layer({ adminUrlOverride: sim.url, fetch: sim.fetch as unknown as typeof globalThis.fetch, backoffBaseMs: 10, backoffMaxMs: 50 }).pipe(
    Layer.provide(ShopCredentials.fromRecord({ [SHOP]: TOKEN }))
  )
  const steps = ShopifyJobSteps.layer.pipe(Layer.provide([admin, PgJobArtefacts.layer]))
  const handlers = JobsLayer.handlersLayer({ pollQueryMs: options?.pollMs ?? 20, pollMutationMs: options?.pollMs ?? 20, watchdogMs: Math.max(3_000, (options?.pollMs ?? 0) * 2), retryDelayMs: 30 }).pipe(Layer.provide(steps))
  const actors = actorRuntimeLayer({ backoffBase: Duration.millis(10), backoffCap: Duration.millis(50) }).pipe(Layer.provide(handlers))
  const runtimeLayer = Layer.merge(
    options?.worker === false ? Layer.empty : actors,
    options?.projections === false ? Layer.empty : ProjectionRunner.layer(allProjections)
  ).pipe(Layer.provideMerge(JobIngress.layer.pipe(Layer.provide(PgJobRequests.layer), Layer.provideMerge(log))))
  let runtime = ManagedRuntime.make(runtimeLayer)
  await runtime.runPromise(Effect.void)
  if (options?.projections === false) {
    // the runner would create the read models' views when it starts: without it, create them empty
    await runtime.runPromise(Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      for (const projection of allProjections) yield* reconcile(sql, projection)
    }))
  }
  /**
   * A worker crash, as far as one process can stage it: the runtime is torn down mid-job
   * (its in-flight side effects are lost, nothing is acked after that), then a new one
   * starts on the same database and shop log.
   */
  const restart = async () => {
    await runtime.dispose()
    runtime = ManagedRuntime.make(runtimeLayer)
    await runtime.runPromise(Effect.void)
  }
  const app = new Hono()
  /** Runs on the current runtime (a restart replaces it). */
  const run: typeof runtime.runPromise = (effect) => runtime.runPromise(effect)
  mountFlowActionRoute(app, run, { secrets: [APP_SECRET] })
  const auth = { apiKey: API_KEY, appSecret: APP_SECRET }
  mountAdminJobRoutes(app, run, auth, options?.awaitAcceptedJobMs === undefined ? {} : { awaitAcceptedJobMs: options.awaitAcceptedJobMs })
  mountShopifyWebhookRoute(app, run, { secrets: [APP_SECRET] })
  mountAdminJobActions(app, run, { ...auth, publish: (m) => run(ShopLog.use((l) => l.publish(m))) })
  const server = serveHttp({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" })
  await new Promise<void>((resolve) => server.once("listening", () => resolve()))
  const port = (server.address() as AddressInfo).port
  const url = `http://127.0.0.1:${port}`
  sim.setWebhookUrl(`${url}/webhooks/shopify`)

  const post = (body: unknown, opts?: { readonly secret?: string; readonly shop?: string; readonly hmac?: string }) => {
    const raw = JSON.stringify(body)
    return fetch(`${url}/webhooks/flow-action`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "x-shopify-hmac-sha256": opts?.hmac ?? signBody(opts?.secret ?? APP_SECRET, raw),
        "x-shopify-shop-domain": opts?.shop ?? SHOP
      },
      body: raw
    })
  }

  /** Waits (woken by commits, no sleeps) until job `jobId` has an event of one of `types`. */
  const awaitJobEvent = (jobId: string, types: ReadonlyArray<string>) =>
    runtime.runPromise(Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const wakeups = yield* LogWakeups
      for (;;) {
        const next = yield* wakeups.next
        const rows = yield* openStored(yield* sql<{ shop: string; type: string; data: Record<string, unknown> }>`
          SELECT shop, type, data FROM events WHERE stream_id = ${`job-${jobId}`} AND type = ANY(${types}::text[]) ORDER BY stream_version DESC LIMIT 1`)
        if (rows.length > 0) return rows[0]!
        yield* Deferred.await(next).pipe(Effect.timeoutOption("250 millis"))
      }
    }))

  const jobEvents = (jobId: string) =>
    runtime.runPromise(Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      return yield* openStored(
        yield* sql<{ shop: string; type: string; data: Record<string, unknown> }>`SELECT shop, type, data FROM events WHERE stream_id = ${`job-${jobId}`} ORDER BY stream_version`
      )
    }))

  /** An admin API call with a session token for `shop`. */
  const adminApi = (path: string, init?: RequestInit & { readonly shop?: string }) =>
    fetch(`${url}${path}`, { ...init, headers: { authorization: `Bearer ${sessionToken(init?.shop)}`, ...(init?.headers ?? {}) } })

  /** Asks the shop's actor to undo `jobId` (what `POST /app/jobs/:id/undo` does). */
  const requestUndo = (jobId: string, undoJobId: string) =>
    runtime.runPromise(Effect.gen(function*() {
      const log = yield* ShopLog
      yield* log.publish({ shop: SHOP, messageId: `job.undo:${jobId}`, type: "job.undo", payload: { jobId, undoJobId, requestedBy: "test" } })
    }))

  const errorLines = (jobId: string) =>
    runtime.runPromise(Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      return yield* sql<{ line: string }>`SELECT line FROM job_error_lines WHERE job_id = ${jobId} ORDER BY chunk_index, line_number`
    }))

  const close = async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()))
    await runtime.dispose()
    await sim.close()
  }
  return { sim, get runtime() { return runtime }, restart, url, post, admin: adminApi, awaitJobEvent, jobEvents, requestUndo, errorLines, close }
}
