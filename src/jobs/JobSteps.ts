/**
 * The side effects of a bulk-metafield job, one per step. Each runs outside the actor's
 * transaction (a Shopify bulk operation takes minutes) and returns data; the job process
 * turns results into messages and then into events. Every step is safe to run again after a
 * crash: re-submitting a query is harmless, chunks are rebuilt deterministically from the
 * stored snapshot, and a chunk's mutation is looked up by its client identifier before it is
 * ever submitted a second time.
 */
import { Context, Schema } from "effect"
import type { Effect } from "effect"
import { type Job, JobFailureCode, RetryReason } from "../../domain/jobs/index.ts"

export interface OperationStatus {
  readonly status: "CREATED" | "RUNNING" | "COMPLETED" | "FAILED" | "CANCELING" | "CANCELED" | "EXPIRED"
  readonly errorCode: string | null
  readonly url: string | null
  readonly partialDataUrl: string | null
  readonly objectCount: number
}

export interface ChunkPlan {
  readonly chunkIndex: number
  readonly lines: number
  readonly bytes: number
  /** Chunks of the whole job; known once the snapshot is stored. */
  readonly totalChunks: number
}

/** Worth retrying (network, 5xx, throttling, a busy bulk slot). */
export class StepTransient extends Schema.TaggedError<StepTransient>()("StepTransient", {
  reason: RetryReason,
  message: Schema.String,
  retryAfterMs: Schema.NullOr(Schema.Number)
}) {}

/** Retrying cannot help: the job fails with this code and a human message. */
export class StepPermanent extends Schema.TaggedError<StepPermanent>()("StepPermanent", {
  code: JobFailureCode,
  message: Schema.String
}) {}

export type StepError = StepTransient | StepPermanent

export class JobSteps extends Context.Service<JobSteps, {
  /** Starts the bulk query selecting the job's products (with their current value). */
  readonly submitQuery: (shop: string, job: Job) => Effect.Effect<string, StepError>
  readonly operationStatus: (shop: string, bulkOperationId: string) => Effect.Effect<OperationStatus, StepError>
  /**
   * Reads the finished query's JSONL (streamed), keeps the first `maxItems` products and their
   * previous values as the job's snapshot, and plans the mutation chunks. For an undo job:
   * compares each product of the original job's snapshot with what that job wrote (unless
   * forced) and keeps, as the undo's own plan, the products to restore (`matched`); the ones
   * changed since are counted (`changedSince`), stored as error lines, and previewed
   * (`errorLines`, earliest first).
   */
  readonly storeSnapshot: (shop: string, job: Job, url: string | null) => Effect.Effect<
    {
      readonly matched: number
      readonly truncated: boolean
      readonly snapshotRef: string
      readonly chunks: number
      readonly changedSince: number
      readonly errorLines: ReadonlyArray<string>
    },
    StepError
  >
  /** Builds chunk `chunkIndex` from the snapshot and uploads it; returns the staged path. */
  readonly uploadChunk: (shop: string, job: Job, chunkIndex: number) => Effect.Effect<
    { readonly stagedUploadPath: string; readonly lines: number; readonly bytes: number; readonly totalChunks: number },
    StepError
  >
  /** Submits the chunk's bulk mutation, unless Shopify already runs one with its client id. */
  readonly submitChunk: (shop: string, job: Job, chunkIndex: number, stagedUploadPath: string) => Effect.Effect<string, StepError>
  /**
   * Parses a finished mutation's results; stores every error line for errors.jsonl. A job's
   * chunk also records what its writes left on each product (Shopify's `compareDigest`), for
   * its undo; an undo's chunk counts the lines refused because the product changed since
   * (`changedSince`, not in `failed`).
   */
  readonly readChunkResult: (shop: string, job: Job, chunkIndex: number, url: string | null) => Effect.Effect<
    { readonly updated: number; readonly failed: number; readonly changedSince: number; readonly errorLines: ReadonlyArray<string> },
    StepError
  >
}>()("sumeru/jobs/JobSteps") {}
