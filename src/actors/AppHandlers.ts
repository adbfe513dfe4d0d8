/**
 * The application's shop handlers: message type → handler. Areas contribute their handlers
 * (Flowmend jobs, webhooks, …). A message nobody handles is a permanent failure: it is
 * dead-lettered with a clear reason, never silently dropped.
 */
import { Effect, Layer } from "effect"
import { type JobTimings, makeJobHandlers } from "../jobs/JobProcess.ts"
import { timingsFromConfig } from "../jobs/JobsLayer.ts"
import { installHandlers } from "../app/InstallHandlers.ts"
import { makeIngestHandlers } from "../ingest/IngestHandlers.ts"
import { makeWebhookHandlers } from "../webhooks/WebhookHandlers.ts"
import { type HandlerContext, PermanentFailure, ShopHandlers } from "./ShopHandlers.ts"

export type Handler = ShopHandlers["Service"]["handle"]

export const makeDispatcher = (handlers: ReadonlyMap<string, Handler>): ShopHandlers["Service"] => ({
  handle: (ctx: HandlerContext) => {
    const handler = handlers.get(ctx.message.type)
    return handler === undefined
      ? Effect.fail(new PermanentFailure({ reason: `no handler for message type ${ctx.message.type}` }))
      : handler(ctx)
  }
})

/** Every area's handlers (requires EventStore, ShopLog, JobSteps, the secrets and SQL). */
export const makeAppHandlers = (timings: JobTimings) =>
  Effect.gen(function*() {
    const jobs = yield* makeJobHandlers(timings)
    const webhooks = yield* makeWebhookHandlers
    const ingest = yield* makeIngestHandlers
    return makeDispatcher(new Map([...jobs, ...webhooks, ...installHandlers, ...ingest]))
  })

/** With the job timings given (tests). */
export const layerWithTimings = (timings: JobTimings) => Layer.effect(ShopHandlers, makeAppHandlers(timings))

/** With the job timings from configuration. */
export const layer = Layer.effect(ShopHandlers, Effect.flatMap(timingsFromConfig, makeAppHandlers))
