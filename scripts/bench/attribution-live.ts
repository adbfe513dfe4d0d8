/**
 * The live half of `npm run bench:intelligence` (issue 13 §7: order webhook →
 * `sales.attribution_computed` committed, p95 < 1 s; the seed: < 60 s). The production path,
 * piece by piece, on a PostgreSQL 15 this script starts (durable: fsync on) and the embedded shop
 * log:
 *   `orders/create` published to the shop log → the shop's actor records `order.created` → the
 *   `attribution` projection stitches the order's journey and writes its shares → the emitter
 *   (`AttributionTriggers`, polling every 500 ms when idle, as deployed) publishes the trigger →
 *   the shop's actor commits `trigger.received`.
 * History first: BENCH_LIVE_SHOPS (20) shops × BENCH_LIVE_CUSTOMERS (25) customers ×
 * BENCH_LIVE_TOUCHES (8) pixel touches over the last 20 days, through the actors like any
 * touch. Then orders at BENCH_LIVE_RATE (20/s) for BENCH_LIVE_SECONDS (15 s), each for a random
 * customer; the latency of each is from its publish to its trigger's `recorded_at`.
 */
import { randomUUID } from "node:crypto"
import { Context, Effect, Layer, Redacted } from "effect"
import { SqlClient } from "effect/sql"
import * as EmbeddedShopLog from "../../adapters/embedded/EmbeddedShopLog.ts"
import { layerPostgres } from "../../adapters/postgres/Database.ts"
import * as PgAttributionOutbox from "../../adapters/postgres/PgAttributionOutbox.ts"
import * as PgPrivacyStore from "../../adapters/postgres/PgPrivacyStore.ts"
import * as PgSecrets from "../../adapters/postgres/PgSecrets.ts"
import { encodeShopMessage } from "../../domain/messages/ShopMessages.ts"
import { attributionProjection } from "../../projections/attribution.ts"
import * as ShopActorRuntime from "../../src/actors/ShopActorRuntime.ts"
import { makeDispatcher, ShopHandlers } from "../../src/actors/ShopHandlers.ts"
import { ActionSteps } from "../../src/automation/ActionSteps.ts"
import { makeTriggerHandlers } from "../../src/automation/TriggerHandlers.ts"
import { coreLayer } from "../../src/CoreLayer.ts"
import { makeIngestHandlers } from "../../src/ingest/IngestHandlers.ts"
import * as AttributionTriggers from "../../src/intelligence/AttributionTriggers.ts"
import { ProjectionRunner } from "../../src/projections/ProjectionRunner.ts"
import { ShopLog } from "../../src/shoplog/ShopLog.ts"
import { makeWebhookHandlers } from "../../src/webhooks/WebhookHandlers.ts"
import { actorBackends } from "../../test/support/actorRuntime.ts"
import { testKeyRing } from "../../test/support/keys.ts"
import { startPgServer } from "../../test/support/pgServer.ts"

const SHOPS = Number(process.env["BENCH_LIVE_SHOPS"] ?? 20)
const CUSTOMERS = Number(process.env["BENCH_LIVE_CUSTOMERS"] ?? 25)
const TOUCHES = Number(process.env["BENCH_LIVE_TOUCHES"] ?? 8)
const RATE = Number(process.env["BENCH_LIVE_RATE"] ?? 20)
const SECONDS = Number(process.env["BENCH_LIVE_SECONDS"] ?? 15)
const DAY = 86_400_000
const SOURCES = [
  { utm: { source: "newsletter", medium: "email" } },
  { click_ids: { gclid: "g" } },
  { click_ids: { fbclid: "f" } },
  { referrer: "https://www.google.com/" },
  { referrer: "https://www.instagram.com/" },
  { utm: { source: "partnerblog" } }
]

const quantile = (sorted: ReadonlyArray<number>, q: number) => sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!
const ms = (x: number) => (Number.isNaN(x) ? "–" : `${x.toFixed(0)} ms`)

export const runAttributionLiveBench = async () => {
  const pg = await startPgServer({ durable: true })
  const shops = Array.from({ length: SHOPS }, (_, i) => `attr-bench-${i}.myshopify.com`)
  try {
    const core = coreLayer(layerPostgres(Redacted.make(pg.url), { maxConnections: 20 }), testKeyRing())
    const secrets = PgSecrets.layer().pipe(Layer.provide(testKeyRing()), Layer.provideMerge(core))
    const base = Layer.mergeAll(PgPrivacyStore.layer, EmbeddedShopLog.layer({ partitions: 8 }), ProjectionRunner.layer([attributionProjection])).pipe(
      Layer.provideMerge(secrets)
    )
    // the shops have no rules: a trigger is recorded and dispatched to none, so no action runs
    const noActions = Layer.succeed(ActionSteps, ActionSteps.of({ implementation: () => undefined }))
    const handlers = Layer.effect(ShopHandlers, Effect.gen(function*() {
      return makeDispatcher({ ...(yield* makeTriggerHandlers), ...(yield* makeWebhookHandlers), ...(yield* makeIngestHandlers) })
    })).pipe(Layer.provide(noActions))
    const runtime = ShopActorRuntime.layer().pipe(Layer.provide(actorBackends), Layer.provide(handlers), Layer.provideMerge(base))
    const emitter = AttributionTriggers.layer({ recentMs: DAY }).pipe(Layer.provide(PgAttributionOutbox.layer))
    await Effect.runPromise(Effect.scoped(Effect.gen(function*() {
      const context = yield* Layer.build(runtime)
      const run = Effect.runPromiseWith(context)
      const sql = Context.get(context, SqlClient.SqlClient)
      const log = Context.get(context, ShopLog)
      const publish = (shop: string, messageId: string, type: "shopify.webhook" | "pixel.touchpoint", payload: unknown) =>
        log.publish({ shop, messageId, correlationId: messageId, ...encodeShopMessage({ type, payload } as never) })
      const count = (query: string) => Effect.map(sql.unsafe<{ n: number }>(query), (rows) => Number(rows[0]?.n ?? 0))
      const waitFor = (query: string, n: number, seconds: number) =>
        Effect.gen(function*() {
          const deadline = performance.now() + seconds * 1000
          while ((yield* count(query)) < n && performance.now() < deadline) yield* Effect.sleep("200 millis")
        })

      // the history: touches through the actors
      const now = Date.now()
      const t0 = performance.now()
      const touches = shops.flatMap((shop) =>
        Array.from({ length: CUSTOMERS * TOUCHES }, (_, k) => {
          const customer = k % CUSTOMERS
          const id = randomUUID()
          return publish(shop, `pixel:${id}`, "pixel.touchpoint", {
            shop, event: "page_view", event_id: id, occurred_at: new Date(now - Math.floor(Math.random() * 20 * DAY)).toISOString(),
            url: `https://${shop}/products/p${k % 50}`, client_id: `c-${customer}`, customer_id: String(1000 + customer), ...SOURCES[k % SOURCES.length]
          })
        }))
      yield* Effect.all(touches, { concurrency: 32, discard: true })
      const totalTouches = SHOPS * CUSTOMERS * TOUCHES
      yield* waitFor("SELECT count(*)::int AS n FROM events WHERE type = 'touchpoint.recorded'", totalTouches, 300)
      console.log(`history: ${totalTouches.toLocaleString()} touches over ${SHOPS} shops recorded in ${((performance.now() - t0) / 1000).toFixed(1)} s`)

      // the emitter runs from here, as in the worker
      yield* Layer.build(emitter.pipe(Layer.provide(Layer.succeedContext(context))))

      const total = RATE * SECONDS
      const publishedAt = new Map<string, number>()
      const start = Date.now()
      const publishes: Array<Promise<unknown>> = []
      for (let i = 0; i < total; i++) {
        const due = start + (i * 1000) / RATE
        const wait = due - Date.now()
        if (wait > 1) yield* Effect.sleep(`${Math.floor(wait)} millis`)
        const shop = shops[i % SHOPS]!
        const orderId = 500_000 + i
        const customer = 1000 + Math.floor(Math.random() * CUSTOMERS)
        const at = new Date().toISOString()
        publishedAt.set(`${orderId}`, Date.now())
        publishes.push(run(publish(shop, `order-${orderId}`, "shopify.webhook", {
          topic: "orders/create",
          payload: { id: orderId, name: `#${orderId}`, total_price: "80.00", currency: "EUR", processed_at: at, created_at: at, updated_at: at, customer: { id: customer }, line_items: [] }
        })))
      }
      yield* Effect.promise(() => Promise.all(publishes))
      yield* waitFor("SELECT count(*)::int AS n FROM events WHERE type = 'trigger.received'", total, 60)
      const rows = yield* sql<{ order_id: string; recorded_at: Date }>`
        SELECT data->'trigger'->'resources'->0->>'resourceId' AS order_id, recorded_at FROM events WHERE type = 'trigger.received'`
      const latencies = rows.flatMap((r) => {
        const sent = publishedAt.get(r.order_id)
        return sent === undefined ? [] : [new Date(r.recorded_at).getTime() - sent]
      }).sort((a, b) => a - b)
      console.log("")
      console.log(`live attribution: ${total} orders at ${RATE}/s over ${SHOPS} shops (each customer with ~${TOUCHES} touches), PostgreSQL 15 (fsync on), embedded shop log`)
      console.log(`emitted ${latencies.length} of ${total}`)
      console.log("| stage | p50 | p95 | p99 | max |")
      console.log("|---|---|---|---|---|")
      console.log(`| orders/create published → sales.attribution_computed committed | ${ms(quantile(latencies, 0.5))} | ${ms(quantile(latencies, 0.95))} | ${ms(quantile(latencies, 0.99))} | ${ms(latencies.at(-1) ?? NaN)} |`)
    })))
  } finally {
    await pg.stop()
  }
}
