/**
 * The live half of `npm run bench:rules` (issue 11 §8: p95 < 100 ms at 500 triggers/s): BENCH_SHOPS
 * (1,000) shops with 10 rules each (`product.drafted` → `tag_product`, one condition per vendor, so
 * each trigger is dispatched to 10 rules: one runs, nine are skipped with their reason), triggers
 * published at each of BENCH_RATES (default 500/s; e.g. `100,200,500`, one after the other on the
 * same warm shops, each drained before the next) for BENCH_LIVE_SECONDS (20 s) over the shops at
 * random, against the Shopify simulator (every action is a real snapshot query and a real
 * `tagsAdd` over HTTP). One row per rate.
 *
 * Measured, per trigger, from its scheduled publish time to the moment the commit returned:
 * - dispatched: the 10 outcomes (`autoaction.requested` + 9 skips) committed;
 * - applied: `autoaction.applied` committed (the snapshot, then the handler ran on Shopify, each a
 *   message through the shop's actor: what "trigger accepted → autoaction.applied" means here).
 * Beside them, each process's CPU per applied trigger (this one, PostgreSQL, the simulator's, and
 * the rest of the machine): what the ceiling is made of on this machine.
 * PostgreSQL 15 (started and removed by this script), the embedded shop log (the default; or
 * BENCH_LOG=nats: JetStream on a nats-server this script starts),
 * ShopifyAdminLive → the simulator in this process (or BENCH_SIM=process: in a process of its
 * own, over HTTP, so the plane does not share its CPU with Shopify's stand-in; `rules-sim.ts`).
 * A warm-up trigger per shop (cold actors, rules loaded) is not counted.
 */
import { AiGateway } from "../../src/ai/AiGateway.ts"
import { Context, Effect, Layer, Redacted } from "effect"
import { SqlClient } from "effect/sql"
import * as EmbeddedShopLog from "../../adapters/embedded/EmbeddedShopLog.ts"
import * as JetStreamShopLog from "../../adapters/nats/JetStreamShopLog.ts"
import { layerPostgres } from "../../adapters/postgres/Database.ts"
import * as PgActorStore from "../../adapters/postgres/PgActorStore.ts"
import * as PgPartitionLeases from "../../adapters/postgres/PgPartitionLeases.ts"
import * as ShopifyActions from "../../adapters/actions/index.ts"
import { EmailSender } from "../../src/channels/Email.ts"
import { AdPlatforms } from "../../src/ads/AdPlatform.ts"
import { WhatsAppSender } from "../../src/channels/WhatsApp.ts"
import { ShopCredentials } from "../../adapters/shopify/index.ts"
import * as ShopifyAdminLive from "../../adapters/shopify/ShopifyAdminLive.ts"
import { encodeShopMessage } from "../../domain/messages/ShopMessages.ts"
import { ActorStore } from "../../src/actors/ActorStore.ts"
import * as ShopActorRuntime from "../../src/actors/ShopActorRuntime.ts"
import { makeDispatcher, ShopHandlers } from "../../src/actors/ShopHandlers.ts"
import { makeRuleHandlers } from "../../src/automation/RuleHandlers.ts"
import { makeTriggerHandlers, newTrigger } from "../../src/automation/TriggerHandlers.ts"
import { coreLayer } from "../../src/CoreLayer.ts"
import { EventStore } from "../../src/eventstore/EventStore.ts"
import { ShopLog } from "../../src/shoplog/ShopLog.ts"
import { benchShops, startBenchSimulator } from "./rules-sim.ts"
import { cpuSecondsOf, machineBusySeconds, postmasterPidOf, processCpuSeconds, serverCpuSeconds } from "./proc.ts"
import { testKeyRing } from "../../test/support/keys.ts"
import { startNatsServer } from "../../test/support/natsServer.ts"
import { startPgServer } from "../../test/support/pgServer.ts"

const SHOPS = Number(process.env["BENCH_SHOPS"] ?? 1_000)
/** The offered rates, measured one after the other on the same warm shops (BENCH_RATES=100,200,500; BENCH_RATE=n for one). */
const RATES = (process.env["BENCH_RATES"] ?? process.env["BENCH_RATE"] ?? "500").split(",").map((r) => Number(r.trim()))
const SECONDS = Number(process.env["BENCH_LIVE_SECONDS"] ?? 20)
const RULES = 10
const PRODUCTS = 20
const PARTITIONS = 16
/** BENCH_SIM=process: the simulator in a process of its own, over HTTP (default: in this process, without HTTP). */
const SIM_OWN_PROCESS = process.env["BENCH_SIM"] === "process"
/** `embedded` (the shop log in PostgreSQL, the default) or `nats` (JetStream; a nats-server is started). */
const LOG = process.env["BENCH_LOG"] === "nats" ? "nats" : "embedded"

const quantile = (sorted: ReadonlyArray<number>, q: number) => sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!
const ms = (x: number) => (Number.isNaN(x) ? "–" : `${x.toFixed(1)} ms`)

export const runLiveBench = async () => {
  const pg = await startPgServer({ durable: true })
  const nats = LOG === "nats" ? await startNatsServer() : undefined
  const shops = benchShops(SHOPS)
  const sim = await startBenchSimulator(SHOPS, PRODUCTS, SIM_OWN_PROCESS)
  const publishedAt = new Map<string, number>()
  const dispatchedAt = new Map<string, number>()
  const appliedAt = new Map<string, number>()
  try {
    const core = coreLayer(layerPostgres(Redacted.make(pg.url), { maxConnections: 20 }), testKeyRing())
    const chosen = nats === undefined
      ? EmbeddedShopLog.layer({ partitions: PARTITIONS })
      : JetStreamShopLog.layer({ servers: nats.url, partitions: PARTITIONS, name: "bench-rules" })
    const log = chosen.pipe(Layer.provideMerge(core))
    const admin = ShopifyAdminLive.layer({ adminUrlOverride: sim.url, ...(sim.fetch === undefined ? {} : { fetch: sim.fetch }) }).pipe(
      Layer.provide(ShopCredentials.fromRecord(Object.fromEntries(shops.map((s, i) => [s, `shpat_${i}`]))))
    )
    const handlers = Layer.effect(ShopHandlers, Effect.gen(function*() {
      return makeDispatcher({ ...(yield* makeTriggerHandlers), ...(yield* makeRuleHandlers) })
    })).pipe(Layer.provide(ShopifyActions.layer.pipe(Layer.provide([admin, Layer.succeed(EmailSender, EmailSender.of({ send: () => Effect.die("no email in this bench") })), Layer.succeed(AdPlatforms, AdPlatforms.of({ client: () => { throw new Error("no ad platforms in this bench") } })), Layer.succeed(WhatsAppSender, WhatsAppSender.of({ sendTemplate: () => Effect.die("no WhatsApp in this bench"), sendText: () => Effect.die("no WhatsApp in this bench") })), Layer.succeed(AiGateway, AiGateway.of({ generate: () => Effect.die("no AI in this bench") }))]))))
    /** The real ActorStore, observed: when each trigger's outcomes and its action's result were committed. */
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
                  const triggerId = (e.data as { triggerId?: unknown } | null)?.triggerId
                  if (typeof triggerId !== "string") continue
                  if (e.type === "autoaction.requested" && !dispatchedAt.has(triggerId)) dispatchedAt.set(triggerId, now)
                  if (e.type === "autoaction.applied" && !appliedAt.has(triggerId)) appliedAt.set(triggerId, now)
                }
              }
            }))
      })
    })).pipe(Layer.provide(PgActorStore.layer))
    const runtime = Layer.effect(ShopActorRuntime.ShopActorRuntime, ShopActorRuntime.make({ workerId: "bench-rules" })).pipe(
      Layer.provide([observed, PgPartitionLeases.layerForDatabase]),
      Layer.provide(handlers),
      Layer.provideMerge(log)
    )
    await Effect.runPromise(Effect.scoped(Effect.gen(function*() {
      const context = yield* Layer.build(runtime)
      const store = Context.get(context, EventStore)
      const shopLog = Context.get(context, ShopLog)
      const sql = Context.get(context, SqlClient.SqlClient)
      const postmaster = postmasterPidOf((yield* sql<{ data_directory: string }>`SHOW data_directory`)[0]!.data_directory)
      /** CPU seconds so far: this process (the plane and the load generator), PostgreSQL, the simulator's process, the whole machine. */
      const cpuNow = () => ({ node: processCpuSeconds(), pg: serverCpuSeconds(postmaster), sim: cpuSecondsOf(sim.pid, false), machine: machineBusySeconds() })
      // 10 rules per shop, as the shop's actor records them
      yield* Effect.forEach(shops, (shop) =>
        store.append(`rules-${shop}`, shop, "no_stream", Array.from({ length: RULES }, (_, k) => ({
          type: "rule.created",
          data: {
            type: "rule.created", ruleId: `r${k}`, version: 1, enabled: true, name: `Tag vendor ${k}`, triggerEvent: "product.drafted", actionKey: "tag_product",
            params: { tags: [`vendor-${k}`] }, condition: `resource.payload.vendor == 'Vendor ${k}'`, cooldownSeconds: 0, quietHours: null, requiresApproval: false,
            requestedBy: "bench"
          }
        })), { correlationId: "bench", actor: { kind: "system", id: "bench" } }), { concurrency: 16, discard: true })

      let seq = 0
      const publish = (shop: string, counted: boolean) => {
        const product = 1 + (seq++ % PRODUCTS)
        const emitted = newTrigger({
          event: "product.drafted",
          resources: [{
            resourceType: "product", resourceId: `gid://shopify/Product/${product}`,
            payload: { title: `P${product}`, vendor: `Vendor ${seq % RULES}`, productType: null, tags: [], status: "draft", previousStatus: "active", updatedAt: new Date().toISOString() }
          }]
        }, { kind: "detector", id: "bench" })
        if (counted) publishedAt.set(emitted.triggerId, performance.now())
        return shopLog.publish({ shop, messageId: `trigger:${emitted.triggerId}`, ...encodeShopMessage({ type: "automation.trigger", payload: emitted }) })
      }
      const drain = (ids: () => number, expected: number, seconds: number) =>
        Effect.gen(function*() {
          const deadline = performance.now() + seconds * 1000
          while (ids() < expected && performance.now() < deadline) yield* Effect.sleep("100 millis")
        })

      // warm-up: one trigger per shop (cold actors), not counted
      const warm = performance.now()
      yield* Effect.forEach(shops, (shop) => publish(shop, false), { concurrency: 32, discard: true })
      yield* drain(() => appliedAt.size, shops.length, 120)
      console.log(`warm-up: ${appliedAt.size} of ${shops.length} shops applied in ${((performance.now() - warm) / 1000).toFixed(1)} s`)

      // the measured loads, one after the other: `rate` triggers/s, open loop, shops at random
      const run = Effect.runPromiseWith(context)
      const measure = (rate: number) =>
        Effect.gen(function*() {
          publishedAt.clear()
          dispatchedAt.clear()
          appliedAt.clear()
          const total = rate * SECONDS
          const cpu0 = cpuNow()
          const start = performance.now()
          const publishes: Array<Promise<unknown>> = []
          for (let i = 0; i < total; i++) {
            const due = start + (i * 1000) / rate
            const wait = due - performance.now()
            if (wait > 1) yield* Effect.sleep(`${Math.floor(wait)} millis`)
            publishes.push(run(publish(shops[Math.floor(Math.random() * shops.length)]!, true)))
          }
          yield* Effect.promise(() => Promise.all(publishes))
          yield* drain(() => appliedAt.size, total, 60)
          const cpu1 = cpuNow()
          const elapsed = (Math.max(...appliedAt.values()) - start) / 1000
          // CPU ms per applied trigger, from the first publish to the last commit
          const perTrigger = (a: number | null, b: number | null) => (a === null || b === null || appliedAt.size === 0 ? "–" : ((b - a) * 1000 / appliedAt.size).toFixed(2))
          const other = cpu0.machine === null || cpu1.machine === null || cpu0.pg === null || cpu1.pg === null
            ? null
            : (cpu1.machine - cpu0.machine) - (cpu1.node - cpu0.node) - (cpu1.pg - cpu0.pg) - (cpu1.sim ?? 0) + (cpu0.sim ?? 0)
          const latency = (at: Map<string, number>) =>
            [...publishedAt].flatMap(([id, t]) => (at.has(id) ? [at.get(id)! - t] : [])).sort((a, b) => a - b)
          const dispatched = latency(dispatchedAt)
          const applied = latency(appliedAt)
          const all = appliedAt.size === total ? "" : ` (${appliedAt.size} of ${total})`
          return `| ${rate} | ${(appliedAt.size / elapsed).toFixed(0)}${all} | ${ms(quantile(dispatched, 0.5))} | ${ms(quantile(dispatched, 0.95))} | ${ms(quantile(applied, 0.5))} | ${ms(quantile(applied, 0.95))} | ${ms(quantile(applied, 0.99))} | ` +
            `${perTrigger(cpu0.node, cpu1.node)} | ${perTrigger(cpu0.pg, cpu1.pg)} | ${sim.pid === null ? "(in node)" : perTrigger(cpu0.sim, cpu1.sim)} | ${other === null ? "–" : perTrigger(0, other)} |`
        })
      const rows: Array<string> = []
      for (const rate of RATES) rows.push(yield* measure(rate))
      console.log("")
      console.log(`live dispatch: ${SHOPS} shops × ${RULES} rules, each rate offered for ${SECONDS} s, ${LOG === "nats" ? "JetStream shop log, PostgreSQL 15 store" : "embedded shop log on PostgreSQL 15"}, the Shopify simulator ${SIM_OWN_PROCESS ? "in a process of its own (BENCH_SIM=process)" : "in this process"}`)
      console.log("dispatched: the 10 outcomes committed; applied: `autoaction.applied` committed (snapshot + tagsAdd on Shopify)")
      console.log("CPU ms per applied trigger, from the first publish to the last commit: node = this process (the plane and the load generator); PG = the")
      console.log("postmaster and its backends; sim = the simulator's process; other = the rest of the machine meanwhile. 1000 × cores ÷ their sum ≈ the ceiling.")
      console.log("| offered/s | applied/s | dispatched p50 | dispatched p95 | applied p50 | applied p95 | applied p99 | node CPU ms | PG CPU ms | sim CPU ms | other CPU ms |")
      console.log("|---|---|---|---|---|---|---|---|---|---|---|")
      for (const row of rows) console.log(row)
    })))
  } finally {
    await sim.close()
    await nats?.stop()
    await pg.stop()
  }
}
