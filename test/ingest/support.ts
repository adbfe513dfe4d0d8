/**
 * A public-ingestion stack for tests: PostgreSQL 15 (fresh database), a shop log (embedded or
 * JetStream), the shop actor runtime running the ingest handlers with the real `PiiVault`
 * (PgSecrets + an in-memory key ring), real API keys (PgApiKeys), and the ingest and pixel
 * routes served over real HTTP on 127.0.0.1.
 */
import { Deferred, Duration, Effect, Layer, ManagedRuntime, Redacted } from "effect"
import { SqlClient } from "effect/sql"
import { Hono } from "hono"
import type { AddressInfo } from "node:net"
import { inject } from "vitest"
import * as EmbeddedShopLog from "../../adapters/embedded/EmbeddedShopLog.ts"
import { serveHttp } from "../../adapters/http/HttpServer.ts"
import { mountPixelRoute, type PixelRouteOptions, StorefrontAccess } from "../../adapters/http/PixelRoute.ts"
import { ingestRateLimiter, mountPublicIngestRoute } from "../../adapters/http/PublicIngestRoute.ts"
import type { RunEffect } from "../../adapters/http/RunEffect.ts"
import * as JetStreamShopLog from "../../adapters/nats/JetStreamShopLog.ts"
import * as PgApiKeys from "../../adapters/postgres/PgApiKeys.ts"
import * as PgStorefrontOrigins from "../../adapters/postgres/PgStorefrontOrigins.ts"
import { type DatabaseMode, layerPostgres } from "../../adapters/postgres/Database.ts"
import { ApiKeys } from "../../src/access/ApiKeys.ts"
import { actorRuntimeLayer } from "../support/actorRuntime.ts"
import { makeDispatcher, ShopHandlers } from "../../src/actors/ShopHandlers.ts"
import { coreLayer } from "../../src/CoreLayer.ts"
import { LogWakeups } from "../../src/eventstore/LogWakeups.ts"
import { makeIngestHandlers } from "../../src/ingest/IngestHandlers.ts"
import { ShopLog, ShopLogUnavailable, type ShopMessage } from "../../src/shoplog/ShopLog.ts"
import { freshPostgresUrl } from "../support/databases.ts"
import { testKeyRing } from "../support/keys.ts"
import { openStored } from "../support/storedEvents.ts"

export interface StoredEvent {
  readonly stream_id: string
  readonly type: string
  readonly data: Record<string, unknown>
}

export const startIngestStack = async (options?: {
  readonly log?: "embedded" | "jetstream"
  readonly knownShops?: ReadonlyArray<string>
  readonly pixel?: Partial<Pick<PixelRouteOptions, "rateLimiter" | "lookupCacheMs">>
}) => {
  const core = coreLayer(layerPostgres(Redacted.make(freshPostgresUrl()), { maxConnections: 8 }), testKeyRing())
  const unique = `ingest${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`
  const chosen: Layer.Layer<ShopLog, unknown, SqlClient.SqlClient | DatabaseMode> = options?.log === "jetstream"
    ? JetStreamShopLog.layer({ servers: inject("natsUrl"), streamName: unique.toUpperCase(), subjectPrefix: unique, partitions: 4 })
    : EmbeddedShopLog.layer({ partitions: 4 })
  const log = chosen.pipe(Layer.provideMerge(core))
  const handlers = Layer.effect(ShopHandlers, Effect.map(makeIngestHandlers, (list) => makeDispatcher(list)))
  const runtimeLayer = actorRuntimeLayer({ backoffBase: Duration.millis(10), backoffCap: Duration.millis(50) }).pipe(
    Layer.provide(handlers),
    Layer.provideMerge(PgApiKeys.layer()),
    Layer.provideMerge(log)
  )
  const runtime = ManagedRuntime.make(runtimeLayer)
  await runtime.runPromise(Effect.void)
  const run = runtime.runPromise

  /** Every message the routes published (a spy around the real log). */
  const published: Array<ShopMessage> = []
  /** Shops whose publishes fail (the log "down" for them). */
  const failingShops = new Set<string>()
  const knownShops = new Set(options?.knownShops ?? [])
  const realLog = await run(ShopLog.use(Effect.succeed))
  /** The routes' shop log: the real one, watched, and unavailable for the failing shops. */
  const routesLog = ShopLog.of({
    ...realLog,
    publish: (m) =>
      failingShops.has(m.shop)
        ? Effect.fail(new ShopLogUnavailable({ operation: "publish", cause: new Error("shop log unavailable (test)") }))
        : Effect.andThen(Effect.sync(() => published.push(m)), realLog.publish(m))
  })
  const sql = await run(SqlClient.SqlClient.use(Effect.succeed))
  /** The storefront rules: the shops this test says are installed, and their registered origins. */
  const storefrontAccess = StorefrontAccess.of({
    isKnownShop: (shop) => Effect.succeed(knownShops.has(shop)),
    allowedOrigins: (shop) => PgStorefrontOrigins.allowedOrigins(shop).pipe(Effect.provideService(SqlClient.SqlClient, sql))
  })
  const runRoutes: RunEffect<ShopLog | ApiKeys | StorefrontAccess> = (effect) =>
    run(effect.pipe(Effect.provideService(ShopLog, routesLog), Effect.provideService(StorefrontAccess, storefrontAccess)))

  const app = new Hono()
  /** The ingest limiter's clock (milliseconds); tests move it. */
  const ingestClock = { now: Date.parse("2026-01-01T00:00:00Z") }
  mountPublicIngestRoute(app, runRoutes, { rateLimiter: ingestRateLimiter(() => ingestClock.now) })
  mountPixelRoute(app, runRoutes, { ...options?.pixel })
  const server = serveHttp({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" })
  await new Promise<void>((resolve) => server.once("listening", () => resolve()))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`

  const createKey = (shop: string, scopes: ReadonlyArray<string>, role: string | null = null) =>
    run(ApiKeys.use((k) => k.create({ shop, name: "test key", scopes, role })))

  const sendEvents = (key: string | null, body: unknown, init?: { readonly contentType?: string; readonly raw?: string; readonly headers?: Record<string, string> }) =>
    fetch(`${url}/api/v1/events`, {
      method: "POST",
      headers: {
        "content-type": init?.contentType ?? "application/json",
        ...(key === null ? {} : { authorization: `Bearer ${key}` }),
        ...init?.headers
      },
      body: init?.raw ?? JSON.stringify(body)
    })

  const events = (where: { readonly streamPrefix: string }) =>
    run(Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const rows = yield* sql<StoredEvent & { shop: string }>`
        SELECT shop, stream_id, type, data FROM events WHERE stream_id LIKE ${`${where.streamPrefix}%`} ORDER BY position`
      return (yield* openStored(rows)).map(({ shop: _shop, ...event }): StoredEvent => event)
    }))

  /** Waits (woken by commits, no sleeps) until `streamId` holds at least `count` events. */
  const awaitStreamCount = (streamId: string, count: number) =>
    run(Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const wakeups = yield* LogWakeups
      for (;;) {
        const next = yield* wakeups.next
        const rows = yield* sql<{ n: number }>`SELECT count(*)::int AS n FROM events WHERE stream_id = ${streamId}`
        if (rows[0]!.n >= count) return rows[0]!.n
        yield* Deferred.await(next).pipe(Effect.timeoutOption("250 millis"))
      }
    }))

  /** Every stored event row, as text (to search for data that must not be in clear). */
  const allEventText = () =>
    run(Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const rows = yield* sql<{ t: string }>`SELECT e::text AS t FROM events e`
      return rows.map((r) => r.t).join("\n")
    }))

  const close = async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()))
    await runtime.dispose()
  }

  return { url, run, runtime, published, failingShops, ingestClock, knownShops, createKey, sendEvents, events, awaitStreamCount, allEventText, close }
}

export type IngestStack = Awaited<ReturnType<typeof startIngestStack>>
