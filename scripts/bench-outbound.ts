/**
 * `npm run bench:outbound` (issue 12 §6): outbound webhook deliveries under load. BENCH_SHOPS
 * (200) shops, each with a `tag_product` rule and an outbound subscription to a receiver in this
 * process; 10 % of the shops' endpoints always answer 500 (they retry with backoff, then
 * dead-letter). Triggers at BENCH_RATE (100/s) for BENCH_SECONDS (20 s) through the real
 * pipeline (PostgreSQL 15 started by this script, the embedded shop log, the Shopify simulator).
 *
 * Reports: deliveries accepted by healthy receivers per second, and the added latency from the
 * commit of `autoaction.applied` (which records the delivery) to the first attempt's arrival at
 * the receiver, p50/p95/p99. A measurement, not a test. (The ad platforms' token buckets under 50
 * concurrent callers are measured by their own tests, counting the simulators' throttle answers.)
 */
import { AiGateway } from "../src/ai/AiGateway.ts"
import { Context, Effect, Layer, Redacted } from "effect"
import { createServer } from "node:http"
import type { AddressInfo } from "node:net"
import * as EmbeddedShopLog from "../adapters/embedded/EmbeddedShopLog.ts"
import * as FetchOutbound from "../adapters/outbound/FetchOutbound.ts"
import { layerPostgres } from "../adapters/postgres/Database.ts"
import * as PgActorStore from "../adapters/postgres/PgActorStore.ts"
import * as PgPartitionLeases from "../adapters/postgres/PgPartitionLeases.ts"
import * as PgSecrets from "../adapters/postgres/PgSecrets.ts"
import * as KeyRing from "../adapters/crypto/KeyRing.ts"
import * as ShopifyActions from "../adapters/actions/index.ts"
import { EmailSender } from "../src/channels/Email.ts"
import { AdPlatforms } from "../src/ads/AdPlatform.ts"
import { WhatsAppSender } from "../src/channels/WhatsApp.ts"
import { ShopCredentials } from "../adapters/shopify/index.ts"
import * as ShopifyAdminLive from "../adapters/shopify/ShopifyAdminLive.ts"
import { encodeShopMessage } from "../domain/messages/ShopMessages.ts"
import { parseAllowedTargets } from "../domain/outbound/Ssrf.ts"
import { ActorStore } from "../src/actors/ActorStore.ts"
import * as ShopActorRuntime from "../src/actors/ShopActorRuntime.ts"
import { makeDispatcher, ShopHandlers } from "../src/actors/ShopHandlers.ts"
import { makeRuleHandlers } from "../src/automation/RuleHandlers.ts"
import { makeTriggerHandlers, newTrigger } from "../src/automation/TriggerHandlers.ts"
import { coreLayer } from "../src/CoreLayer.ts"
import { EventStore } from "../src/eventstore/EventStore.ts"
import { OutboundHttp } from "../src/outbound/OutboundHttp.ts"
import { makeOutboundWebhooks, OutboundNotifier, OutboundTimings, secretSubject, newSecret } from "../src/outbound/OutboundWebhooks.ts"
import { PiiVault } from "../src/secrets/Secrets.ts"
import { ShopLog } from "../src/shoplog/ShopLog.ts"
import { startShopifySimulator } from "../src/simulator/shopify/index.ts"
import { testKeyRing } from "../test/support/keys.ts"
import { startPgServer } from "../test/support/pgServer.ts"
import { randomBytes } from "node:crypto"

const SHOPS = Number(process.env["BENCH_SHOPS"] ?? 200)
const RATE = Number(process.env["BENCH_RATE"] ?? 100)
const SECONDS = Number(process.env["BENCH_SECONDS"] ?? 20)
const FAILING = 0.1

const quantile = (xs: ReadonlyArray<number>, q: number) => (xs.length === 0 ? NaN : xs[Math.min(xs.length - 1, Math.floor(q * xs.length))]!)

const pg = await startPgServer({ durable: true })
const shops = Array.from({ length: SHOPS }, (_, i) => `out-${i}.myshopify.com`)
const failing = new Set(shops.filter((_, i) => i < Math.round(SHOPS * FAILING)))
const sim = await startShopifySimulator({
  appSecret: "bench",
  shops: shops.map((domain, i) => ({ domain, accessToken: `shpat_${i}`, products: 20, seed: i + 1 })),
  bulkPace: "immediate"
} as Parameters<typeof startShopifySimulator>[0])
const firstArrival = new Map<string, number>()
let accepted = 0
let refusedByFailing = 0
const receiver = createServer((req, res) => {
  req.resume()
  req.on("end", () => {
    const id = String(req.headers["webhook-id"])
    if (!firstArrival.has(id)) firstArrival.set(id, performance.now())
    if (req.url === "/fail") {
      refusedByFailing++
      res.writeHead(500).end()
    } else {
      accepted++
      res.writeHead(204).end()
    }
  })
})
await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", () => resolve()))
const port = (receiver.address() as AddressInfo).port
const requestedAt = new Map<string, number>()

try {
  const core = coreLayer(layerPostgres(Redacted.make(pg.url), { maxConnections: 20 }), testKeyRing())
  const secrets = PgSecrets.layer().pipe(
    Layer.provide(KeyRing.layer({ currentKid: "k1", keys: new Map([["k1", new Uint8Array(randomBytes(32))]]) })),
    Layer.provideMerge(core)
  )
  const log = EmbeddedShopLog.layer({ partitions: 16 }).pipe(Layer.provideMerge(secrets))
  const admin = ShopifyAdminLive.layer({ adminUrlOverride: sim.url, fetch: sim.fetch as unknown as typeof globalThis.fetch }).pipe(
    Layer.provide(ShopCredentials.fromRecord(Object.fromEntries(shops.map((s, i) => [s, `shpat_${i}`]))))
  )
  const handlers = Layer.effect(ShopHandlers, Effect.gen(function*() {
    const outbound = yield* makeOutboundWebhooks
    const triggers = yield* makeTriggerHandlers.pipe(Effect.provideService(OutboundNotifier, outbound.notifier))
    return makeDispatcher({ ...triggers, ...(yield* makeRuleHandlers), ...outbound.handlers })
  })).pipe(Layer.provide([
    ShopifyActions.layer.pipe(Layer.provide([admin, Layer.succeed(EmailSender, EmailSender.of({ send: () => Effect.die("no email in this bench") })), Layer.succeed(AdPlatforms, AdPlatforms.of({ client: () => { throw new Error("no ad platforms in this bench") } })), Layer.succeed(WhatsAppSender, WhatsAppSender.of({ sendTemplate: () => Effect.die("no WhatsApp in this bench"), sendText: () => Effect.die("no WhatsApp in this bench") })), Layer.succeed(AiGateway, AiGateway.of({ generate: () => Effect.die("no AI in this bench") }))])),
    Layer.succeed(OutboundHttp, FetchOutbound.make({ allowed: parseAllowedTargets(`127.0.0.1:${port}`).targets, timeoutMs: 5_000 })),
    Layer.succeed(OutboundTimings, { retryBaseMs: 1_000, watchdogMs: 30_000, disableAfterMs: 3 * 86_400_000 })
  ]))
  const observed = Layer.effect(ActorStore, Effect.gen(function*() {
    const real = yield* ActorStore
    return ActorStore.of({
      ...real,
      commit: (item) =>
        Effect.tap(real.commit(item), () =>
          Effect.sync(() => {
            const now = performance.now()
            for (const a of item.appends) {
              for (const e of a.events) {
                if (e.type === "webhook.delivery_requested") requestedAt.set((e.data as { deliveryId: string }).deliveryId, now)
              }
            }
          }))
    })
  })).pipe(Layer.provide(PgActorStore.layer))
  const runtime = Layer.effect(ShopActorRuntime.ShopActorRuntime, ShopActorRuntime.make({ workerId: "bench-outbound" })).pipe(
    Layer.provide([observed, PgPartitionLeases.layerForDatabase]),
    Layer.provide(handlers),
    Layer.provideMerge(log)
  )
  await Effect.runPromise(Effect.scoped(Effect.gen(function*() {
    const context = yield* Layer.build(runtime)
    const store = Context.get(context, EventStore)
    const vault = Context.get(context, PiiVault)
    const shopLog = Context.get(context, ShopLog)
    const system = { correlationId: "bench", actor: { kind: "system" as const, id: "bench" } }
    yield* Effect.forEach(shops, (shop, i) =>
      Effect.gen(function*() {
        yield* store.append(`rules-${shop}`, shop, "no_stream", [{
          type: "rule.created",
          data: {
            type: "rule.created", ruleId: "r1", version: 1, enabled: true, name: "Tag drafts", triggerEvent: "product.drafted", actionKey: "tag_product",
            params: { tags: ["bench"] }, condition: null, cooldownSeconds: 0, quietHours: null, requiresApproval: false, requestedBy: "bench"
          }
        }], system)
        const subscriptionId = `s${i}`
        const secret = yield* vault.seal(shop, secretSubject(subscriptionId), newSecret())
        yield* store.append(`webhook-subscriptions-${shop}`, shop, "no_stream", [{
          type: "webhook_subscription.created",
          data: {
            type: "webhook_subscription.created", subscriptionId, url: `http://127.0.0.1:${port}/${failing.has(shop) ? "fail" : "ok"}`,
            events: ["autoaction.applied"], secret, by: "bench"
          }
        }], system)
      }), { concurrency: 8, discard: true })
    const run = Effect.runPromiseWith(context)
    const total = RATE * SECONDS
    const start = performance.now()
    const publishes: Array<Promise<unknown>> = []
    for (let i = 0; i < total; i++) {
      const wait = start + (i * 1000) / RATE - performance.now()
      if (wait > 1) yield* Effect.sleep(`${Math.floor(wait)} millis`)
      const shop = shops[i % shops.length]!
      const product = 1 + (Math.floor(i / shops.length) % 20)
      const emitted = newTrigger({
        event: "product.drafted",
        resources: [{ resourceType: "product", resourceId: `gid://shopify/Product/${product}`, payload: { title: `P${product}`, vendor: null, productType: null, tags: [], status: "draft", previousStatus: "active", updatedAt: new Date().toISOString() } }]
      }, { kind: "detector", id: "bench" })
      publishes.push(run(shopLog.publish({ shop, messageId: `trigger:${emitted.triggerId}`, ...encodeShopMessage({ type: "automation.trigger", payload: emitted }) })))
    }
    yield* Effect.promise(() => Promise.all(publishes))
    const deadline = performance.now() + 60_000
    while (firstArrival.size < total && performance.now() < deadline) yield* Effect.sleep("100 millis")
    const elapsed = (performance.now() - start) / 1000
    const added = [...requestedAt].flatMap(([id, t]) => (firstArrival.has(id) ? [firstArrival.get(id)! - t] : [])).sort((a, b) => a - b)
    console.log(`outbound webhooks: ${SHOPS} shops (${failing.size} endpoints failing), ${RATE} triggers/s for ${SECONDS} s (${total} applied actions), embedded shop log on PostgreSQL 15`)
    console.log(`first attempts: ${firstArrival.size} of ${requestedAt.size} deliveries; accepted by healthy receivers: ${accepted} (${(accepted / elapsed).toFixed(0)}/s); 500s from failing endpoints: ${refusedByFailing}`)
    console.log("| added latency (autoaction.applied committed → first attempt at the receiver) | p50 | p95 | p99 |")
    console.log("|---|---|---|---|")
    console.log(`| | ${quantile(added, 0.5).toFixed(1)} ms | ${quantile(added, 0.95).toFixed(1)} ms | ${quantile(added, 0.99).toFixed(1)} ms |`)
  })))
} finally {
  receiver.close()
  await sim.close()
  await pg.stop()
}
process.exit(0)
