/**
 * `npm run bench:ai` (issue 14 §5): the AI gateway's overhead — the latency it adds to a call
 * over calling the provider directly — at BENCH_AI_RATE (1,000) requests/s for
 * BENCH_AI_SECONDS (10 s), with everything on: the shop's sliding-window limit and budget
 * reservation in PostgreSQL 15 (started by this script, fsync on), settlement, and the usage
 * report to the shop's actor (embedded shop log; the actor records `ai.call_completed`).
 *
 * Both runs call the AI simulator (in a process of its own, as a provider is remote) through the same SDK client
 * (`ProviderClients`, the gateway's own), open loop at the same rate over BENCH_AI_SHOPS (1,000)
 * shops on the enterprise plan's limits (600 calls a minute each): first directly, then through
 * `AiGateway.generate`. Overhead = the gateway's latency
 * percentile minus the direct one's. Target on 2 cores: p50 < 2 ms, p99 < 10 ms (LiteLLM
 * publishes a median of 2–12 ms and p99 13–43 ms at about 1,000 requests/s on 4-CPU instances).
 * A measurement, not a test.
 */
import { spawn } from "node:child_process"
import { cpus, loadavg } from "node:os"
import { createInterface } from "node:readline"
import { Context, Duration, Effect, Layer, Redacted } from "effect"
import * as AiGatewayLive from "../adapters/ai/AiGatewayLive.ts"
import * as ProviderClients from "../adapters/ai/ProviderClients.ts"
import * as EmbeddedShopLog from "../adapters/embedded/EmbeddedShopLog.ts"
import { layerPostgres } from "../adapters/postgres/Database.ts"
import * as PgAiLedger from "../adapters/postgres/PgAiLedger.ts"
import { DEFAULT_PLAN_LIMITS, MODELS, PROVIDERS } from "../domain/ai/policy.ts"
import { AiGateway } from "../src/ai/AiGateway.ts"
import { makeAiUsageHandlers } from "../src/ai/AiUsageHandlers.ts"
import * as ShopActorRuntime from "../src/actors/ShopActorRuntime.ts"
import { makeDispatcher, ShopHandlers } from "../src/actors/ShopHandlers.ts"
import { coreLayer } from "../src/CoreLayer.ts"
import { AI_BASE_PATHS } from "../src/simulator/ai/index.ts"
import { actorBackends } from "../test/support/actorRuntime.ts"
import { testKeyRing } from "../test/support/keys.ts"
import { startPgServer } from "../test/support/pgServer.ts"
import { machineBusySeconds } from "./bench/proc.ts"

const RATE = Number(process.env["BENCH_AI_RATE"] ?? 1_000)
const SECONDS = Number(process.env["BENCH_AI_SECONDS"] ?? 10)
const SHOPS = Number(process.env["BENCH_AI_SHOPS"] ?? 1_000)
/** How long usage rows may wait for their shop's report (unset: the gateway's default). */
const REPORT_MS = process.env["BENCH_AI_REPORT_MS"] === undefined ? undefined : Number(process.env["BENCH_AI_REPORT_MS"])

const quantile = (sorted: ReadonlyArray<number>, q: number) => (sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!)
const ms = (x: number) => (Number.isNaN(x) ? "–" : `${x.toFixed(2)} ms`)

const pg = await startPgServer({ durable: true })
// the simulator in a process of its own: a provider's work is not the gateway's
const simProcess = spawn(process.execPath, [new URL("./bench/ai-simulator.ts", import.meta.url).pathname], { stdio: ["pipe", "pipe", "inherit"] })
const simUrl = await new Promise<string>((resolve) => createInterface({ input: simProcess.stdout! }).once("line", (l) => resolve((JSON.parse(l) as { url: string }).url)))
try {
  const endpoints = Object.fromEntries(PROVIDERS.map((p) => [p, { baseURL: `${simUrl}${AI_BASE_PATHS[p]}`, apiKey: Redacted.make(`sim-${p}-key`) }])) as Parameters<typeof ProviderClients.layer>[0]
  const limits = DEFAULT_PLAN_LIMITS.enterprise
  const core = coreLayer(layerPostgres(Redacted.make(pg.url), { maxConnections: 20 }), testKeyRing())
  const log = EmbeddedShopLog.layer({ partitions: 8 }).pipe(Layer.provideMerge(core))
  const handlers = Layer.effect(ShopHandlers, Effect.map(makeAiUsageHandlers, (h) => makeDispatcher(h)))
  const actors = ShopActorRuntime.layer().pipe(Layer.provide([actorBackends, handlers]), Layer.provideMerge(log))
  const clients = ProviderClients.layer(endpoints)
  const gateway = AiGatewayLive.layer.pipe(
    Layer.provide([
      PgAiLedger.layer,
      Layer.succeed(AiGatewayLive.AiPlanLimits, { free: limits, pro: limits, enterprise: limits }),
      ...(REPORT_MS === undefined ? [] : [Layer.succeed(AiGatewayLive.AiReportInterval, Duration.millis(REPORT_MS))])
    ]),
    Layer.provideMerge(clients),
    Layer.provideMerge(actors)
  )
  await Effect.runPromise(Effect.scoped(Effect.gen(function*() {
    const context = yield* Layer.build(gateway)
    const run = Effect.runPromiseWith(context)
    const g = Context.get(context, AiGateway)
    const direct = Context.get(context, ProviderClients.ProviderClients)
    const shops = Array.from({ length: SHOPS }, (_, i) => `ai-bench-${i}.myshopify.com`)
    const prompt = "Write a one-line product description for a wool hat."

    /** Open loop: `total` calls at RATE/s, each timed from its scheduled start. */
    const load = (label: string, call: (i: number) => Effect.Effect<unknown, unknown>) =>
      Effect.gen(function*() {
        const total = RATE * SECONDS
        const latencies: Array<number> = []
        let failed = 0
        const start = performance.now()
        const cpuStart = process.cpuUsage()
        const machineStart = machineBusySeconds() ?? 0
        const inflight: Array<Promise<void>> = []
        for (let i = 0; i < total; i++) {
          const due = start + (i * 1000) / RATE
          const wait = due - performance.now()
          if (wait > 1) yield* Effect.sleep(`${Math.floor(wait)} millis`)
          inflight.push(run(Effect.result(call(i))).then((r) => {
            if (r._tag === "Failure") failed++
            else latencies.push(performance.now() - due)
          }))
        }
        yield* Effect.promise(() => Promise.all(inflight))
        const elapsed = (performance.now() - start) / 1000
        const cpu = process.cpuUsage(cpuStart)
        latencies.sort((a, b) => a - b)
        // this process's CPU (its event loop, GC and I/O threads) per call: what a call costs
        const cpuPerCall = (cpu.user + cpu.system) / 1000 / total
        // the whole machine's (the simulator's and PostgreSQL's too): near 100 %, latency is queueing
        const machineBusy = ((machineBusySeconds() ?? 0) - machineStart) / (elapsed * cpus().length)
        console.log(`${label.padEnd(44)} ${String(latencies.length).padStart(6)} ok ${String(failed).padStart(4)} failed  ${(latencies.length / elapsed).toFixed(0).padStart(5)}/s   p50 ${ms(quantile(latencies, 0.5))}  p95 ${ms(quantile(latencies, 0.95))}  p99 ${ms(quantile(latencies, 0.99))}  CPU ${cpuPerCall.toFixed(3)} ms/call, machine ${(machineBusy * 100).toFixed(0)} % busy`)
        return latencies
      })

    // warm-up: every shop's first call (plan lookup, month row) and the SDK's first requests
    yield* Effect.forEach(shops, (shop) => Effect.result(g.generate({ shop, purpose: "warm-up", prompt, maxOutputTokens: 64 })), { concurrency: 16, discard: true })
    yield* Effect.forEach(shops, () => Effect.result(direct.call(MODELS.anthropic, { system: undefined, prompt, maxOutputTokens: 64 })), { concurrency: 16, discard: true })

    console.log(`AI gateway overhead: ${RATE} requests/s for ${SECONDS} s over ${SHOPS} shops (node ${process.version}, ${cpus().length} cores, load ${loadavg()[0]!.toFixed(2)})`)
    const base = yield* load("direct: SDK → simulator", () => direct.call(MODELS.anthropic, { system: undefined, prompt, maxOutputTokens: 64 }))
    const via = yield* load("gateway: limits + budget + usage → simulator", (i) => g.generate({ shop: shops[i % SHOPS]!, purpose: "bench", prompt, maxOutputTokens: 64 }))
    console.log("")
    console.log("| added by the gateway | p50 | p95 | p99 |")
    console.log("|---|---|---|---|")
    console.log(`| this run | ${ms(quantile(via, 0.5) - quantile(base, 0.5))} | ${ms(quantile(via, 0.95) - quantile(base, 0.95))} | ${ms(quantile(via, 0.99) - quantile(base, 0.99))} |`)
    console.log("| target (2 cores) | < 2 ms | | < 10 ms |")
  })))
} finally {
  simProcess.stdin!.end()
  await pg.stop()
}
