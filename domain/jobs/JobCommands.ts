/**
 * Commands of the bulk-metafield job aggregate: readonly data with a string
 * `type`, joined in the tagged union {@link JobCommand}. Every command carries
 * the `jobId` it targets and `at`, the business time the decider stamps on the
 * events it emits (the decider never reads the clock).
 */
import { Schema } from "effect"
import { Id, JobFailureCode, JobSource, NonNegativeInt, PositiveInt, RetryReason, Timestamp, UndoOf } from "./JobEvents.ts"
import { JobParameters } from "./JobParameters.ts"

/** Create the job (ingress, after validation and the input-hash dedupe check). */
export const RequestJob = Schema.Struct({
  type: Schema.Literal("RequestJob"),
  jobId: Id,
  shop: Id,
  input: JobParameters,
  inputHash: Id,
  actionRunId: Schema.NullOr(Schema.String),
  source: JobSource,
  requestedBy: Schema.NullOr(Schema.String),
  undoOf: Schema.NullOr(UndoOf),
  at: Timestamp
})
export type RequestJob = typeof RequestJob.Type

/** A worker begins the job. */
export const StartJob = Schema.Struct({
  type: Schema.Literal("StartJob"),
  jobId: Id,
  at: Timestamp
})
export type StartJob = typeof StartJob.Type

/** `bulkOperationRunQuery` returned `bulkOperationId`. */
export const RecordBulkQueryStarted = Schema.Struct({
  type: Schema.Literal("RecordBulkQueryStarted"),
  jobId: Id,
  bulkOperationId: Id,
  at: Timestamp
})
export type RecordBulkQueryStarted = typeof RecordBulkQueryStarted.Type

/**
 * The bulk query finished and its JSONL was read: `matchedCount` products
 * selected (≤ maxItems), `truncated` when more matched. `bulkOperationId` is
 * the query it came from (null only for an undo job, which reads its product
 * set from the original job's snapshot). An undo job also reports the
 * products it found changed since the original job wrote them
 * (`changedSinceCount`, not part of `matchedCount`) and their error lines
 * (`errorLines`, earliest first; the decider keeps at most 50 and 10 KB).
 */
export const RecordQueryCompleted = Schema.Struct({
  type: Schema.Literal("RecordQueryCompleted"),
  jobId: Id,
  bulkOperationId: Schema.NullOr(Id),
  matchedCount: NonNegativeInt,
  truncated: Schema.Boolean,
  snapshotRef: Schema.NullOr(Id),
  changedSinceCount: Schema.optionalKey(NonNegativeInt),
  errorLines: Schema.optionalKey(Schema.Array(Schema.String)),
  at: Timestamp
})
export type RecordQueryCompleted = typeof RecordQueryCompleted.Type

/** Mutation chunk `chunkIndex` (0-based, in order) was uploaded via `stagedUploadsCreate`. */
export const RecordChunkUploaded = Schema.Struct({
  type: Schema.Literal("RecordChunkUploaded"),
  jobId: Id,
  chunkIndex: NonNegativeInt,
  stagedUploadPath: Id,
  lines: PositiveInt,
  bytes: PositiveInt,
  at: Timestamp
})
export type RecordChunkUploaded = typeof RecordChunkUploaded.Type

/** `bulkOperationRunMutation` accepted chunk `chunkIndex` as `bulkOperationId`. */
export const RecordBulkMutationStarted = Schema.Struct({
  type: Schema.Literal("RecordBulkMutationStarted"),
  jobId: Id,
  chunkIndex: NonNegativeInt,
  bulkOperationId: Id,
  at: Timestamp
})
export type RecordBulkMutationStarted = typeof RecordBulkMutationStarted.Type

/**
 * The bulk mutation of chunk `chunkIndex` finished. `errorLines` are the
 * result lines with `userErrors`, earliest first; the decider keeps at most
 * 50 of them and 10 KB. `changedSinceCount` (undo jobs): lines Shopify
 * refused because the product changed since the original job wrote it.
 */
export const RecordMutationCompleted = Schema.Struct({
  type: Schema.Literal("RecordMutationCompleted"),
  jobId: Id,
  chunkIndex: NonNegativeInt,
  bulkOperationId: Id,
  updatedCount: NonNegativeInt,
  failedCount: NonNegativeInt,
  changedSinceCount: Schema.optionalKey(NonNegativeInt),
  errorLines: Schema.Array(Schema.String),
  at: Timestamp
})
export type RecordMutationCompleted = typeof RecordMutationCompleted.Type

/** Every chunk was mutated: finish the (live) job. */
export const CompleteJob = Schema.Struct({
  type: Schema.Literal("CompleteJob"),
  jobId: Id,
  at: Timestamp
})
export type CompleteJob = typeof CompleteJob.Type

/** Permanent failure (or a cancellation: code `CANCELLED`). */
export const FailJob = Schema.Struct({
  type: Schema.Literal("FailJob"),
  jobId: Id,
  code: JobFailureCode,
  message: Schema.String,
  at: Timestamp
})
export type FailJob = typeof FailJob.Type

/**
 * Attempt `failedAttempt` hit a transient problem. The decider schedules the
 * next attempt (after `delayMs`, or the seed's exponential backoff when null)
 * or fails the job once the attempts are used up. `failedAttempt` makes a
 * re-delivered command a no-op instead of burning another attempt.
 */
export const ScheduleRetry = Schema.Struct({
  type: Schema.Literal("ScheduleRetry"),
  jobId: Id,
  failedAttempt: PositiveInt,
  reason: RetryReason,
  message: Schema.String,
  delayMs: Schema.NullOr(NonNegativeInt),
  at: Timestamp
})
export type ScheduleRetry = typeof ScheduleRetry.Type

/**
 * Undo this completed live job with the compensating job `undoJobId`. Without
 * `force`, products changed since the job wrote them keep the newer value;
 * with it, every product is restored. A forced undo may follow an unforced
 * one (to restore what it reported as changed since), never the reverse.
 */
export const RequestUndo = Schema.Struct({
  type: Schema.Literal("RequestUndo"),
  jobId: Id,
  undoJobId: Id,
  requestedBy: Schema.NullOr(Schema.String),
  force: Schema.optionalKey(Schema.Boolean),
  at: Timestamp
})
export type RequestUndo = typeof RequestUndo.Type

/** Every job command, discriminated by `type`. */
export const JobCommand = Schema.Union([
  RequestJob,
  StartJob,
  RecordBulkQueryStarted,
  RecordQueryCompleted,
  RecordChunkUploaded,
  RecordBulkMutationStarted,
  RecordMutationCompleted,
  CompleteJob,
  FailJob,
  ScheduleRetry,
  RequestUndo
]).pipe(Schema.toTaggedUnion("type"))
export type JobCommand = typeof JobCommand.Type
export type JobCommandType = JobCommand["type"]

/** Decodes an incoming message into a {@link JobCommand} (typed failure, never a throw). */
export const decodeJobCommand = Schema.decodeUnknownResult(JobCommand)
