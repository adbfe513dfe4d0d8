/**
 * Everything the Flowmend jobs need, assembled: the job process registered as shop-actor
 * handlers, its Shopify-backed steps, and the ingress service for the Flow endpoint.
 */
import { Config, Effect, Layer } from "effect"
import { makeDispatcher, ShopHandlers } from "../actors/ShopHandlers.ts"
import { defaultTimings, type JobTimings, makeJobHandlers } from "./JobProcess.ts"

/** Shop handlers for job messages (requires EventStore, ShopLog, JobSteps). */
export const handlersLayer = (timings: JobTimings) =>
  Layer.effect(ShopHandlers, Effect.map(makeJobHandlers(timings), (handlers) => makeDispatcher(handlers)))

/** Timings from configuration (seed defaults: poll 5 s / 10 s, watchdog 2 min, retry 60 s then 120 s). */
export const timingsFromConfig = Effect.gen(function*() {
  const pollQueryMs = yield* Config.Int("JOB_POLL_QUERY_MS").pipe(Config.withDefault(defaultTimings.pollQueryMs))
  const pollMutationMs = yield* Config.Int("JOB_POLL_MUTATION_MS").pipe(Config.withDefault(defaultTimings.pollMutationMs))
  const watchdogMs = yield* Config.Int("JOB_WATCHDOG_MS").pipe(Config.withDefault(defaultTimings.watchdogMs))
  const retryDelayMs = yield* Config.option(Config.Int("JOB_RETRY_DELAY_MS"))
  return { pollQueryMs, pollMutationMs, watchdogMs, retryDelayMs: retryDelayMs._tag === "Some" ? retryDelayMs.value : null } satisfies JobTimings
})
