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
 */
import { Config, Context, Duration, Effect, Layer } from "effect"
import { uuidV7Unsafe } from "effect/crypto/SecureRandom"
import { SqlClient } from "effect/sql"
import type { SqlError } from "effect/sql/SqlError"
import { createHash } from "node:crypto"
import { canonicalJobInput, type JobInput, type JobParameters } from "../../domain/jobs/index.ts"
import { ShopLog, type ShopLogUnavailable } from "../shoplog/ShopLog.ts"

export type RequestOutcome =
  | { readonly _tag: "Created"; readonly jobId: string }
  | { readonly _tag: "Replayed"; readonly jobId: string }
  | { readonly _tag: "Duplicate"; readonly jobId: string }

export interface JobRequestPayload {
  readonly jobId: string
  readonly input: JobParameters
  readonly inputHash: string
  readonly actionRunId: string | null
  readonly source: "flow" | "api" | "admin" | "cli" | "undo"
  readonly requestedBy: string | null
  readonly at: string
}

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

export class JobIngress extends Context.Service<JobIngress, {
  readonly request: (
    shop: string,
    input: JobInput,
    source: JobRequestPayload["source"]
  ) => Effect.Effect<RequestOutcome, SqlError | ShopLogUnavailable>
}>()("sumeru/jobs/JobIngress") {
  static readonly layer = Layer.effect(
    JobIngress,
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const log = yield* ShopLog
      const window = yield* Config.Duration("JOB_DEDUPE_WINDOW").pipe(Config.withDefault(Duration.hours(24)))
      const windowSeconds = Duration.toSeconds(window)

      const request = Effect.fn("JobIngress.request")(function*(shop: string, input: JobInput, source: JobRequestPayload["source"]) {
        const params = paramsOf(input)
        const inputHash = inputHashOf(shop, params)
        const fresh = uuidV7Unsafe()
        const runKey = input.actionRunId === null ? null : `run:${input.actionRunId}`
        const inputKey = `input:${inputHash}`

        const reserved = yield* sql.withTransaction(Effect.gen(function*() {
          // One shop's reservations serialize; other shops are untouched.
          yield* sql`SELECT pg_advisory_xact_lock(hashtext('sumeru.job_requests'), hashtext(${shop}))`
          if (runKey !== null) {
            const run = yield* sql<{ job_id: string; published: boolean }>`
              SELECT job_id, published FROM job_requests WHERE shop = ${shop} AND key = ${runKey}`
            if (run.length > 0) return { kind: "replayed" as const, jobId: run[0]!.job_id, published: run[0]!.published }
          }
          const dup = yield* sql<{ job_id: string; published: boolean }>`
            SELECT job_id, published FROM job_requests
             WHERE shop = ${shop} AND key = ${inputKey} AND created_at > now() - make_interval(secs => ${windowSeconds})`
          if (dup.length > 0) {
            return { kind: dup[0]!.published ? "duplicate" as const : "replayed" as const, jobId: dup[0]!.job_id, published: dup[0]!.published }
          }
          yield* sql`
            INSERT INTO job_requests (shop, key, job_id) VALUES (${shop}, ${inputKey}, ${fresh})
            ON CONFLICT (shop, key) DO UPDATE SET job_id = excluded.job_id, published = false, created_at = now()`
          if (runKey !== null) {
            yield* sql`INSERT INTO job_requests (shop, key, job_id) VALUES (${shop}, ${runKey}, ${fresh})`
          }
          return { kind: "created" as const, jobId: fresh, published: false }
        }))

        if (reserved.kind === "duplicate") return { _tag: "Duplicate", jobId: reserved.jobId } as const
        if (!reserved.published) {
          // Durable before we answer: the message id makes a re-publish of the same job a no-op.
          const payload: JobRequestPayload = {
            jobId: reserved.jobId,
            input: params,
            inputHash,
            actionRunId: input.actionRunId,
            source,
            requestedBy: null,
            at: new Date().toISOString()
          }
          yield* log.publish({
            shop,
            messageId: `job.request:${reserved.jobId}`,
            type: "job.request",
            payload,
            correlationId: input.actionRunId ?? reserved.jobId
          })
          yield* sql`UPDATE job_requests SET published = true WHERE shop = ${shop} AND job_id = ${reserved.jobId}`
        }
        return reserved.kind === "created"
          ? { _tag: "Created", jobId: reserved.jobId } as const
          : { _tag: "Replayed", jobId: reserved.jobId } as const
      })

      return JobIngress.of({ request })
    })
  )
}
