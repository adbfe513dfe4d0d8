/**
 * The AI gateway as the tests build it: the live gateway (`adapters/ai/AiGatewayLive.ts`) over the
 * PostgreSQL ledger and the five providers' SDKs pointed at the AI simulator.
 */
import { Duration, Layer, Redacted } from "effect"
import * as AiGatewayLive from "../../adapters/ai/AiGatewayLive.ts"
import * as ProviderClients from "../../adapters/ai/ProviderClients.ts"
import * as PgAiLedger from "../../adapters/postgres/PgAiLedger.ts"
import { PROVIDERS, type PlanLimits } from "../../domain/ai/policy.ts"
import type { RunningAiSimulator } from "../../src/simulator/ai/index.ts"

export const endpointsOf = (sim: RunningAiSimulator) =>
  Object.fromEntries(PROVIDERS.map((p) => [p, { baseURL: sim.baseUrl(p), apiKey: Redacted.make(sim.apiKey(p)) }])) as Parameters<typeof ProviderClients.layer>[0]

export interface GatewayOptions {
  readonly limits?: PlanLimits
  readonly clock?: { now: () => number }
  readonly attemptTimeout?: Duration.Input
  /** How long usage rows may wait for their shop's report (default: the gateway's own). */
  readonly reportInterval?: Duration.Input
}

export const gatewayLayer = (sim: RunningAiSimulator, options: GatewayOptions = {}) =>
  AiGatewayLive.layer.pipe(
    Layer.provide([PgAiLedger.layer, ProviderClients.layer(endpointsOf(sim))]),
    Layer.provide(options.limits === undefined ? Layer.empty : Layer.succeed(AiGatewayLive.AiPlanLimits, { free: options.limits, pro: options.limits, enterprise: options.limits })),
    Layer.provide(options.clock === undefined ? Layer.empty : Layer.succeed(AiGatewayLive.AiClock, options.clock)),
    Layer.provide(options.reportInterval === undefined ? Layer.empty : Layer.succeed(AiGatewayLive.AiReportInterval, Duration.fromInputUnsafe(options.reportInterval))),
    Layer.provide(Layer.succeed(AiGatewayLive.AiAttemptTimeout, Duration.fromInputUnsafe(options.attemptTimeout ?? "10 seconds")))
  )
