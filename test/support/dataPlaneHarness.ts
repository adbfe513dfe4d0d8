/**
 * The data plane for tests: PostgreSQL 15, a shop log (embedded or JetStream on the test
 * run's nats-server), the secrets (an in-memory key ring over the real tables), the shop
 * actors running the data-plane handlers, every projection, and the ingress routes over real
 * HTTP on 127.0.0.1. Waiting is driven by commit and projection signals, never by sleeping.
 */
import { Deferred, Duration, Effect, Layer, ManagedRuntime, Redacted } from "effect"
import { SqlClient } from "effect/sql"
import { Hono } from "hono"
import type { AddressInfo } from "node:net"
import { inject } from "vitest"
import * as EmbeddedShopLog from "../../adapters/embedded/EmbeddedShopLog.ts"
import { serveHttp } from "../../adapters/http/HttpServer.ts"
import { signBody } from "../../adapters/http/ShopifyHmac.ts"
import { mountShopifyWebhookRoute } from "../../adapters/http/ShopifyWebhookRoute.ts"
import * as JetStreamShopLog from "../../adapters/nats/JetStreamShopLog.ts"
import { type DatabaseMode, layerPostgres } from "../../adapters/postgres/Database.ts"
import * as PgPrivacyStore from "../../adapters/postgres/PgPrivacyStore.ts"
import { allProjections } from "../../projections/index.ts"
import { coreLayer } from "../../src/CoreLayer.ts"
import { actorRuntimeLayer } from "./actorRuntime.ts"
import { makeDispatcher, ShopHandlers } from "../../src/actors/ShopHandlers.ts"
import { LogWakeups } from "../../src/eventstore/LogWakeups.ts"
import { ProjectionRunner } from "../../src/projections/ProjectionRunner.ts"
import { ShopLog } from "../../src/shoplog/ShopLog.ts"
import { makeWebhookHandlers } from "../../src/webhooks/WebhookHandlers.ts"
import { freshPostgresUrl } from "./databases.ts"
import { awaitAllCaughtUp } from "./projections.ts"
import { testKeyRing } from "./keys.ts"

export const APP_SECRET = "test-app-secret"
export const PREVIOUS_SECRET = "test-app-secret-previous"

export interface DataPlaneOptions {
  readonly log?: "embedded" | "jetstream"
  /** JetStream on another nats-server than the test run's (tests that stop it). */
  readonly natsUrl?: string
  readonly publishTimeoutMs?: number
  /** Extra routes on the same app (public ingest, OAuth, admin…). */
  readonly mount?: (app: Hono, run: <A, E>(effect: Effect.Effect<A, E, any>) => Promise<A>) => void
}

export const startDataPlane = async (options: DataPlaneOptions = {}) => {
  const dbUrl = freshPostgresUrl()
  const core = coreLayer(layerPostgres(Redacted.make(dbUrl), { maxConnections: 10 }), testKeyRing())
  const unique = `dp${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`
  const chosen: Layer.Layer<ShopLog, unknown, SqlClient.SqlClient | DatabaseMode> = options.log === "jetstream"
    ? JetStreamShopLog.layer({
      servers: options.natsUrl ?? inject("natsUrl"),
      streamName: unique.toUpperCase(),
      subjectPrefix: unique,
      partitions: 4,
      ...(options.publishTimeoutMs === undefined ? {} : { publishTimeoutMs: options.publishTimeoutMs, requestTimeoutMs: options.publishTimeoutMs })
    })
    : EmbeddedShopLog.layer({ partitions: 4 })
  const base = chosen.pipe(Layer.provideMerge(core))
  const handlers = Layer.effect(ShopHandlers, Effect.map(makeWebhookHandlers, (h) => makeDispatcher(h))).pipe(
    Layer.provide(PgPrivacyStore.layer)
  )
  const runtimeLayer = Layer.merge(
    actorRuntimeLayer({ backoffBase: Duration.millis(10), backoffCap: Duration.millis(50) }).pipe(Layer.provide(handlers)),
    ProjectionRunner.layer(allProjections)
  ).pipe(Layer.provideMerge(base))
  const runtime = ManagedRuntime.make(runtimeLayer)
  await runtime.runPromise(Effect.void)
  const run = runtime.runPromise

  const app = new Hono()
  mountShopifyWebhookRoute(app, run, { secrets: [APP_SECRET, PREVIOUS_SECRET] })
  options.mount?.(app, run)
  const server = serveHttp({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" })
  await new Promise<void>((resolve) => server.once("listening", () => resolve()))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`

  let deliveries = 0
  /** A webhook as Shopify sends it (override any header, or the raw body). */
  const webhook = (topic: string, shop: string, payload: unknown, opts: {
    readonly eventId?: string
    readonly secret?: string
    readonly headers?: Record<string, string | undefined>
    readonly raw?: string
  } = {}) => {
    const body = opts.raw ?? JSON.stringify(payload)
    const n = deliveries++
    const headers: Record<string, string> = {
      "content-type": "application/json",
      "x-shopify-topic": topic,
      "x-shopify-shop-domain": shop,
      "x-shopify-api-version": "2026-07",
      "x-shopify-webhook-id": `wh-${unique}-${n}`,
      "x-shopify-event-id": opts.eventId ?? `ev-${unique}-${n}`,
      "x-shopify-triggered-at": new Date().toISOString(),
      "x-shopify-hmac-sha256": signBody(opts.secret ?? APP_SECRET, body)
    }
    for (const [k, v] of Object.entries(opts.headers ?? {})) {
      if (v === undefined) delete headers[k]
      else headers[k] = v
    }
    return fetch(`${url}/webhooks/shopify`, { method: "POST", headers, body })
  }

  const query = <T extends object>(text: string, ...params: Array<unknown>) =>
    run(Effect.flatMap(SqlClient.SqlClient, (sql) => sql.unsafe<T>(text, params as Array<never>)))

  /** Waits, woken by every commit to the log, until `check` returns a value. */
  const until = <A>(check: () => Promise<A | undefined>, what: string, timeoutMs = 30_000): Promise<A> =>
    run(Effect.gen(function*() {
      const wakeups = yield* LogWakeups
      for (;;) {
        const next = yield* wakeups.next
        const value = yield* Effect.promise(check)
        if (value !== undefined) return value
        yield* Deferred.await(next).pipe(Effect.timeoutOption("200 millis"))
      }
    }).pipe(Effect.timeoutOrElse({ duration: Duration.millis(timeoutMs), orElse: () => Effect.die(new Error(`timed out waiting for ${what}`)) })))

  /** Waits until every live projection has applied the whole log. */
  const projectionsCaughtUp = () => run(awaitAllCaughtUp(allProjections.map((p) => p.name)))

  const events = (shop: string) =>
    query<{ type: string; stream_id: string; data: Record<string, unknown> }>(
      "SELECT type, stream_id, data FROM events WHERE shop = $1 ORDER BY position",
      shop
    )

  /** Tables (and rows) of the whole database whose text contains `needle`. */
  const searchDatabase = async (needle: string) => {
    const tables = await query<{ table_schema: string; table_name: string }>(
      "SELECT table_schema, table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema')"
    )
    const hits: Array<string> = []
    for (const t of tables) {
      const rows = await query<{ n: string }>(
        `SELECT count(*)::text AS n FROM "${t.table_schema}"."${t.table_name}" x WHERE x::text ILIKE $1`,
        `%${needle}%`
      )
      if (rows[0]!.n !== "0") hits.push(`${t.table_name} (${rows[0]!.n})`)
    }
    return { tables: tables.length, hits }
  }

  const close = async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()))
    await runtime.dispose()
  }
  return { url, run, runtime, webhook, query, until, projectionsCaughtUp, events, searchDatabase, close }
}
export type DataPlane = Awaited<ReturnType<typeof startDataPlane>>
