/**
 * The idempotency reservations of job requests (port): per shop, a key (`run:<action_run_id>`
 * or `input:<hash>`, see `JobIngress`) names the job it was reserved for and whether that
 * job's `job.request` message is durably published yet. The PostgreSQL implementation
 * (`job_requests`) lives in `adapters/postgres/PgJobRequests.ts`.
 */
import { Context } from "effect"
import type { Duration, Effect } from "effect"
import type { SqlError } from "effect/sql/SqlError"

/**
 * What a request's keys resolved to:
 * - `created`: both keys are now reserved for the new job id (not yet published);
 * - `replayed`: the same request again (its run key, or its input key whose job was never
 *   published): the job already reserved, published or not;
 * - `duplicate`: another request with identical inputs, published within the window.
 */
export interface Reservation {
  readonly kind: "created" | "replayed" | "duplicate"
  readonly jobId: string
  readonly published: boolean
}

export interface RequestKeys {
  /** `run:<action_run_id>` for a Flow run, else null. */
  readonly runKey: string | null
  /** `input:<sha256 of the canonical inputs>`. */
  readonly inputKey: string
}

export class JobRequests extends Context.Service<JobRequests, {
  /**
   * Resolves the request's keys in one transaction, one shop's reservations serialized (other
   * shops untouched): the job reserved under `runKey` (replayed); else a job reserved under
   * `inputKey` within `window` (duplicate when published, else replayed); else both keys are
   * reserved for `jobId` (created; an expired input key is taken over).
   */
  readonly reserve: (shop: string, keys: RequestKeys, jobId: string, window: Duration.Duration) => Effect.Effect<Reservation, SqlError>
  /** Records that the job's request is durably in the shop's log: a repeat no longer re-publishes. */
  readonly markPublished: (shop: string, jobId: string) => Effect.Effect<void, SqlError>
}>()("sumeru/jobs/JobRequests") {}
