/**
 * Events of the bulk-metafield job aggregate (one stream per job).
 *
 * Readonly data with a string `type` (`job.<past_tense>`), described by
 * Effect Schema and joined in the tagged union {@link JobEvent}. Event
 * metadata (event id, shop, correlation/causation, actor, occurred-at as
 * stored) lives in the store's envelope; the payload repeats `jobId` and the
 * business time `occurredAt` (taken from the command: the decider never reads
 * the clock) so a payload can be read on its own.
 *
 * Payload schemas are structural (types and ranges, not business rules) so
 * that stored events keep decoding when validation rules change. A breaking
 * payload change bumps the event's entry in {@link JOB_EVENT_SCHEMA_VERSIONS}.
 */
import { Schema } from "effect"
import { JobParameters } from "./JobParameters.ts"
import { utf8ByteLength } from "./text.ts"

// ---------------------------------------------------------------------------
// Shared field schemas
// ---------------------------------------------------------------------------

/** ISO-8601 UTC instant, e.g. `2025-12-27T10:30:05Z` or `…05.123Z`. */
export const Timestamp = Schema.String.check(
  Schema.isPattern(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?Z$/)
)
/** Integer ≥ 0. */
export const NonNegativeInt = Schema.Int.check(Schema.isGreaterThanOrEqualTo(0))
/** Integer ≥ 1. */
export const PositiveInt = Schema.Int.check(Schema.isGreaterThanOrEqualTo(1))
/** Non-empty identifier (job ids are UUIDs, bulk operation ids Shopify GIDs). */
export const Id = Schema.String.check(Schema.isNonEmpty())

/** Who asked for the job: Shopify Flow, the admin UI/API, the operator CLI, or an undo. */
export const JobSource = Schema.Literals(["flow", "admin", "api", "cli", "undo", "automation"])
export type JobSource = typeof JobSource.Type

/**
 * Why a job failed. The seed's Shopify error table (`INVALID_QUERY`,
 * `BULK_OP_FAILED`, `TIMEOUT`) plus the app's own reasons. There is no
 * CANCELLED status in the seed's machine: a cancelled job is FAILED with
 * code `CANCELLED`.
 */
export const JobFailureCode = Schema.Literals([
  "INVALID_QUERY",
  "BULK_OP_FAILED",
  "TIMEOUT",
  "RETRIES_EXHAUSTED",
  "STAGED_UPLOAD_FAILED",
  "ACCESS_DENIED",
  "SHOP_UNINSTALLED",
  "CANCELLED",
  "INTERNAL_ERROR"
])
export type JobFailureCode = typeof JobFailureCode.Type

/** Transient problems that earn a retry (seed: network timeout, 429, …). */
export const RetryReason = Schema.Literals([
  "RATE_LIMITED",
  "NETWORK_ERROR",
  "TIMEOUT",
  "SHOPIFY_UNAVAILABLE",
  "OPERATION_IN_PROGRESS"
])
export type RetryReason = typeof RetryReason.Type

/**
 * Marks a compensating job: it restores the values `jobId` overwrote, from
 * the snapshot of prior values that job's bulk query captured. Unless
 * `force`, a product changed since `jobId` wrote it keeps the newer value and
 * is reported as changed since (invariant 8); `force` restores every product
 * unconditionally. Absent means not forced (events written before the option
 * existed decode as such).
 */
export const UndoOf = Schema.Struct({
  jobId: Id,
  snapshotRef: Id,
  force: Schema.optionalKey(Schema.Boolean)
})
export type UndoOf = typeof UndoOf.Type

// ---------------------------------------------------------------------------
// Error preview bounds (seed: "first 50 error lines", "Max 10KB")
// ---------------------------------------------------------------------------

export const ERROR_PREVIEW_MAX_LINES = 50
export const ERROR_PREVIEW_MAX_BYTES = 10 * 1024

const previewLines = (preview: string): ReadonlyArray<string> => (preview === "" ? [] : preview.split("\n"))

const cutToBytes = (line: string, budget: number): string => {
  let out = ""
  let bytes = 0
  for (const ch of line) {
    const size = utf8ByteLength(ch)
    if (bytes + size > budget) break
    out += ch
    bytes += size
  }
  return out
}

/**
 * Joins error lines into a preview of at most 50 lines and 10 KB (UTF-8,
 * newlines included). Whole lines are kept in order until a bound is hit;
 * only a first line that alone exceeds 10 KB is cut.
 */
export const capErrorPreview = (lines: ReadonlyArray<string>): string => {
  const kept: Array<string> = []
  let bytes = 0
  for (const line of lines) {
    if (kept.length === ERROR_PREVIEW_MAX_LINES) break
    const separator = kept.length === 0 ? 0 : 1
    const size = utf8ByteLength(line)
    if (bytes + separator + size <= ERROR_PREVIEW_MAX_BYTES) {
      kept.push(line)
      bytes += separator + size
      continue
    }
    if (kept.length === 0) kept.push(cutToBytes(line, ERROR_PREVIEW_MAX_BYTES))
    break
  }
  return kept.join("\n")
}

/** A job's preview after another chunk's errors: the earliest lines win. */
export const appendErrorPreview = (preview: string, more: string): string =>
  capErrorPreview([...previewLines(preview), ...previewLines(more)])

/** A string within the error preview bounds. */
export const ErrorPreview = Schema.String.check(
  Schema.makeFilter(
    (s: string) => previewLines(s).length <= ERROR_PREVIEW_MAX_LINES && utf8ByteLength(s) <= ERROR_PREVIEW_MAX_BYTES,
    { expected: `at most ${ERROR_PREVIEW_MAX_LINES} lines and ${ERROR_PREVIEW_MAX_BYTES} bytes` }
  )
)

// ---------------------------------------------------------------------------
// Events
// ---------------------------------------------------------------------------

/**
 * A job was accepted (status PENDING). `inputHash` is the SHA-256 of
 * `canonicalJobInput` (or `canonicalUndoInput` for an undo job).
 */
export const JobRequested = Schema.Struct({
  type: Schema.Literal("job.requested"),
  jobId: Id,
  shop: Id,
  input: JobParameters,
  inputHash: Id,
  actionRunId: Schema.NullOr(Schema.String),
  source: JobSource,
  requestedBy: Schema.NullOr(Schema.String),
  undoOf: Schema.NullOr(UndoOf),
  occurredAt: Timestamp
})
export type JobRequested = typeof JobRequested.Type

/** A worker picked the job up (PENDING → RUNNING); attempt 1 begins. */
export const JobStarted = Schema.Struct({
  type: Schema.Literal("job.started"),
  jobId: Id,
  occurredAt: Timestamp
})
export type JobStarted = typeof JobStarted.Type

/** `bulkOperationRunQuery` returned this operation id. */
export const JobBulkQueryStarted = Schema.Struct({
  type: Schema.Literal("job.bulk_query_started"),
  jobId: Id,
  bulkOperationId: Id,
  occurredAt: Timestamp
})
export type JobBulkQueryStarted = typeof JobBulkQueryStarted.Type

/**
 * The product set is known. `matchedCount` is the number of products the job
 * will write (≤ maxItems); `truncated` says more matched and `max_items` cut
 * the list. `snapshotRef` points at the stored prior values (what undo
 * restores); `bulkOperationId` is null only for undo jobs, whose product set
 * is the original job's snapshot.
 *
 * An undo job that compared the products with what the original job wrote
 * counts in `changedSinceCount` the ones changed since (left out of
 * `matchedCount`: they are not restored) and previews them in `errorPreview`.
 * Both are absent when zero (and on events from before the comparison).
 */
export const JobQueryCompleted = Schema.Struct({
  type: Schema.Literal("job.query_completed"),
  jobId: Id,
  bulkOperationId: Schema.NullOr(Id),
  matchedCount: NonNegativeInt,
  truncated: Schema.Boolean,
  snapshotRef: Schema.NullOr(Id),
  changedSinceCount: Schema.optionalKey(NonNegativeInt),
  errorPreview: Schema.optionalKey(ErrorPreview),
  occurredAt: Timestamp
})
export type JobQueryCompleted = typeof JobQueryCompleted.Type

/** Mutation chunk `chunkIndex` (0-based) was uploaded to Shopify's staged storage. */
export const JobMutationUploaded = Schema.Struct({
  type: Schema.Literal("job.mutation_uploaded"),
  jobId: Id,
  chunkIndex: NonNegativeInt,
  stagedUploadPath: Id,
  lines: PositiveInt,
  bytes: PositiveInt,
  occurredAt: Timestamp
})
export type JobMutationUploaded = typeof JobMutationUploaded.Type

/** `bulkOperationRunMutation` accepted chunk `chunkIndex`: it must never be submitted again. */
export const JobBulkMutationStarted = Schema.Struct({
  type: Schema.Literal("job.bulk_mutation_started"),
  jobId: Id,
  chunkIndex: NonNegativeInt,
  bulkOperationId: Id,
  occurredAt: Timestamp
})
export type JobBulkMutationStarted = typeof JobBulkMutationStarted.Type

/**
 * The bulk mutation of one chunk finished; per-line outcomes counted. For an
 * undo job, `changedSinceCount` lines were refused by Shopify because the
 * product changed since the original job wrote it (`STALE_OBJECT`): not
 * restored, not failed either. Absent when zero.
 */
export const JobMutationCompleted = Schema.Struct({
  type: Schema.Literal("job.mutation_completed"),
  jobId: Id,
  chunkIndex: NonNegativeInt,
  bulkOperationId: Id,
  updatedCount: NonNegativeInt,
  failedCount: NonNegativeInt,
  changedSinceCount: Schema.optionalKey(NonNegativeInt),
  errorPreview: ErrorPreview,
  occurredAt: Timestamp
})
export type JobMutationCompleted = typeof JobMutationCompleted.Type

/**
 * RUNNING → COMPLETED, with the job's totals (partial failures still complete, per the seed).
 * `changedSinceCount` (undo jobs, absent when zero): products not restored because they
 * changed since the original job wrote them.
 */
export const JobCompleted = Schema.Struct({
  type: Schema.Literal("job.completed"),
  jobId: Id,
  dryRun: Schema.Boolean,
  matchedCount: NonNegativeInt,
  updatedCount: NonNegativeInt,
  failedCount: NonNegativeInt,
  changedSinceCount: Schema.optionalKey(NonNegativeInt),
  occurredAt: Timestamp
})
export type JobCompleted = typeof JobCompleted.Type

/** PENDING/RUNNING → FAILED, permanently. */
export const JobFailed = Schema.Struct({
  type: Schema.Literal("job.failed"),
  jobId: Id,
  code: JobFailureCode,
  message: Schema.String,
  occurredAt: Timestamp
})
export type JobFailed = typeof JobFailed.Type

/** A transient failure: attempt `attempt` will run after `delayMs`. */
export const JobRetryScheduled = Schema.Struct({
  type: Schema.Literal("job.retry_scheduled"),
  jobId: Id,
  attempt: PositiveInt,
  maxAttempts: PositiveInt,
  reason: RetryReason,
  message: Schema.String,
  delayMs: NonNegativeInt,
  occurredAt: Timestamp
})
export type JobRetryScheduled = typeof JobRetryScheduled.Type

/**
 * Undo of this (completed, live) job was requested. The compensating job
 * `undoJobId` starts with a `job.requested` whose `undoOf` names this job
 * and `snapshotRef`. History is never rewritten: this job stays COMPLETED.
 * `force` (absent when not forced): restore even the products changed since.
 */
export const JobUndoRequested = Schema.Struct({
  type: Schema.Literal("job.undo_requested"),
  jobId: Id,
  undoJobId: Id,
  requestedBy: Schema.NullOr(Schema.String),
  snapshotRef: Id,
  force: Schema.optionalKey(Schema.Boolean),
  occurredAt: Timestamp
})
export type JobUndoRequested = typeof JobUndoRequested.Type

/** Every job event, discriminated by `type`. */
export const JobEvent = Schema.Union([
  JobRequested,
  JobStarted,
  JobBulkQueryStarted,
  JobQueryCompleted,
  JobMutationUploaded,
  JobBulkMutationStarted,
  JobMutationCompleted,
  JobCompleted,
  JobFailed,
  JobRetryScheduled,
  JobUndoRequested
]).pipe(Schema.toTaggedUnion("type"))
export type JobEvent = typeof JobEvent.Type
export type JobEventType = JobEvent["type"]

/** Every job event type, in lifecycle order. */
export const JOB_EVENT_TYPES = JobEvent.discriminants

/** Payload schema version per event type; stored in each event's metadata. */
export const JOB_EVENT_SCHEMA_VERSIONS: { readonly [K in JobEventType]: number } = {
  "job.requested": 1,
  "job.started": 1,
  "job.bulk_query_started": 1,
  "job.query_completed": 1,
  "job.mutation_uploaded": 1,
  "job.bulk_mutation_started": 1,
  "job.mutation_completed": 1,
  "job.completed": 1,
  "job.failed": 1,
  "job.retry_scheduled": 1,
  "job.undo_requested": 1
}

/** Decodes a stored payload into a {@link JobEvent} (typed failure, never a throw). */
export const decodeJobEvent = Schema.decodeUnknownResult(JobEvent)
