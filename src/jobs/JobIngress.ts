/**
 * Accepting a bulk-metafield job (seed 002's "Job Creator"): idempotency, then a durable
 * `job.request` message in the shop's log. The job itself (its events) is created by the
 * shop's actor; the ingress only reserves the idempotency keys and publishes.
 *
 * Idempotency keys per shop, reserved in one transaction *before* publishing:
 * - `run:<action_run_id>`: Shopify Flow re-sends the same run; a repeat is the same job.
 * - `input:<sha256 of the canonical inputs>`: the seed's duplicate check; another request
 *   with identical inputs within the window is a 409 naming the existing job.
 * A reservation whose publish failed is completed by the next identical request (same job id).
 * The reservations are stored behind `JobRequests` (`adapters/postgres/PgJobRequests.ts`).
 */
import { Config, Context, Duration, Effect, Layer } from "effect"
import { uuidV7Unsafe } from "effect/crypto/SecureRandom"
import type { SqlError } from "effect/sql/SqlError"
import { createHash } from "node:crypto"
import { canonicalJobInput, type JobInput, type JobParameters } from "../../domain/jobs/index.ts"
import { ShopLog, type ShopLogUnavailable } from "../shoplog/ShopLog.ts"
import { JobRequests } from "./JobRequests.ts"
import { encodeShopMessage, type JobRequest } from "../../domain/messages/ShopMessages.ts"

export type RequestOutcome =
  | { readonly _tag: "Created"; readonly jobId: string }
  | { readonly _tag: "Replayed"; readonly jobId: string }
  | { readonly _tag: "Duplicate"; readonly jobId: string }


export const inputHashOf = (shop: string, params: JobParameters): string =>
  createHash("sha256").update(canonicalJobInput(shop, params)).digest("hex")

const paramsOf = (input: JobInput): JobParameters => ({
  queryString: input.queryString,
  namespace: input.namespace,
  key: input.key,
  type: input.type,
  value: input.value,
  dryRun: input.dryRun,
  maxItems: input.maxItems
})

/** The ingress (requires `JobRequests` and `ShopLog`). */
export class JobIngress extends Context.Service<JobIngress, {
  readonly request: (
    shop: string,
    input: JobInput,
    source: JobRequest["source"],
    /** Who asked (a person in the admin); Flow and the API name nobody. */
    requestedBy?: string | null
  ) => Effect.Effect<RequestOutcome, SqlError | ShopLogUnavailable>
}>()("sumeru/jobs/JobIngress") {
  static readonly layer = Layer.effect(
    JobIngress,
    Effect.gen(function*() {
      const requests = yield* JobRequests
      const log = yield* ShopLog
      const window = yield* Config.Duration("JOB_DEDUPE_WINDOW").pipe(Config.withDefault(Duration.hours(24)))

      const request = Effect.fn("JobIngress.request")(function*(shop: string, input: JobInput, source: JobRequest["source"], requestedBy: string | null = null) {
        const params = paramsOf(input)
        const inputHash = inputHashOf(shop, params)
        const fresh = uuidV7Unsafe()
        const runKey = input.actionRunId === null ? null : `run:${input.actionRunId}`
        const inputKey = `input:${inputHash}`

        const reserved = yield* requests.reserve(shop, { runKey, inputKey }, fresh, window)

        if (reserved.kind === "duplicate") return { _tag: "Duplicate", jobId: reserved.jobId } as const
        if (!reserved.published) {
          // Durable before we answer: the message id makes a re-publish of the same job a no-op.
          const payload: JobRequest = {
            jobId: reserved.jobId,
            input: params,
            inputHash,
            actionRunId: input.actionRunId,
            source,
            requestedBy,
            at: new Date().toISOString()
          }
          yield* log.publish({
            shop,
            messageId: `job.request:${reserved.jobId}`,
            ...encodeShopMessage({ type: "job.request", payload }),
            correlationId: input.actionRunId ?? reserved.jobId
          })
          yield* requests.markPublished(shop, reserved.jobId)
        }
        return reserved.kind === "created"
          ? { _tag: "Created", jobId: reserved.jobId } as const
          : { _tag: "Replayed", jobId: reserved.jobId } as const
      })

      return JobIngress.of({ request })
    })
  )
}
