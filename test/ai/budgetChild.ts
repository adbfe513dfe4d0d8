/**
 * The second process of the two-process budget test (`budget.test.ts`): the live gateway against
 * the same PostgreSQL (`DATABASE_URL`) and the same AI simulator (`AI_SIM_URL`), its own pool
 * and shop log. Prints `ready`, waits for `go` on stdin, then makes `CALLS` calls at once for
 * `SHOP` and prints one JSON line per outcome.
 */
import { createInterface } from "node:readline"
import { Effect, Layer, Redacted, Result } from "effect"
import * as EmbeddedShopLog from "../../adapters/embedded/EmbeddedShopLog.ts"
import { layerPostgres } from "../../adapters/postgres/Database.ts"
import { PROVIDERS } from "../../domain/ai/policy.ts"
import { AiGateway } from "../../src/ai/AiGateway.ts"
import { coreLayer } from "../../src/CoreLayer.ts"
import { testKeyRing } from "../support/keys.ts"
import * as AiGatewayLive from "../../adapters/ai/AiGatewayLive.ts"
import * as ProviderClients from "../../adapters/ai/ProviderClients.ts"
import * as PgAiLedger from "../../adapters/postgres/PgAiLedger.ts"

const env = (name: string) => {
  const v = process.env[name]
  if (v === undefined) throw new Error(`${name} is not set`)
  return v
}
const simUrl = env("AI_SIM_URL")
const paths = { anthropic: "/anthropic/v1", openai: "/openai/v1", google: "/google/v1beta", mistral: "/mistral/v1", cohere: "/cohere/v2" } as const
const endpoints = Object.fromEntries(PROVIDERS.map((p) => [p, { baseURL: `${simUrl}${paths[p]}`, apiKey: Redacted.make(`sim-${p}-key`) }])) as Parameters<typeof ProviderClients.layer>[0]
const limits = JSON.parse(env("AI_LIMITS_JSON"))

const core = coreLayer(layerPostgres(Redacted.make(env("DATABASE_URL")), { maxConnections: 8 }), testKeyRing())
const gateway = AiGatewayLive.layer.pipe(
  Layer.provide([PgAiLedger.layer, ProviderClients.layer(endpoints), Layer.succeed(AiGatewayLive.AiPlanLimits, { free: limits, pro: limits, enterprise: limits })]),
  Layer.provideMerge(EmbeddedShopLog.layer({ partitions: 4 })),
  Layer.provideMerge(core)
)

await Effect.runPromise(Effect.scoped(Effect.gen(function*() {
  const g = yield* AiGateway
  console.log("ready")
  yield* Effect.promise(() => new Promise<void>((resolve) => createInterface({ input: process.stdin }).on("line", (l) => l === "go" && resolve())))
  const calls = Number(env("CALLS"))
  const outcomes = yield* Effect.forEach(Array.from({ length: calls }, (_, i) => i), (i) =>
    Effect.result(g.generate({ shop: env("SHOP"), purpose: `child-${i}`, prompt: "verbose: spend", maxOutputTokens: 40 })), { concurrency: "unbounded" })
  for (const o of outcomes) {
    console.log(JSON.stringify(Result.isSuccess(o) ? { ok: true, costMicros: o.success.costMicros } : { ok: false, error: o.failure }))
  }
}).pipe(Effect.provide(gateway))))
process.exit(0)
