/**
 * The job decider's state as a snapshot-able fold of a `job-<id>` stream (`EventStore.loadFold`).
 *
 * `JOB_STATE_FOLD_VERSION` versions the snapshots. Bump it whenever `JobState`'s shape
 * changes or `evolve` (domain/jobs/JobDecider.ts) changes what it makes of an event. Snapshots
 * taken under an older version are then ignored, and each job is folded again from its first
 * event. The schema below must describe `JobState` exactly. If a field is added to the
 * interface and not here, the `Fold<JobState>` annotation stops type-checking. The schema is
 * structural on purpose: it holds already-decided facts, and it checks only that a snapshot
 * has the state's shape.
 */
import { Schema } from "effect"
import {
  decodeJobEvent,
  evolve,
  initialState,
  type JobState,
  JobFailureCode,
  JobParameters,
  JobSource,
  JobStatus,
  RetryReason,
  UndoOf
} from "../../domain/jobs/index.ts"
import type { Fold } from "../eventstore/EventStore.ts"

/** 2: `changedSinceCount` (job, query, chunk results) and `undoForced` (undo guard). */
export const JOB_STATE_FOLD_VERSION = 2

const ChunkState = Schema.Struct({
  chunkIndex: Schema.Number,
  stagedUploadPath: Schema.String,
  lines: Schema.Number,
  bytes: Schema.Number,
  bulkOperationId: Schema.NullOr(Schema.String),
  result: Schema.NullOr(Schema.Struct({ updatedCount: Schema.Number, failedCount: Schema.Number, changedSinceCount: Schema.Number }))
})

const JobStateSchema = Schema.Union([
  Schema.Struct({ exists: Schema.Literal(false) }),
  Schema.Struct({
    exists: Schema.Literal(true),
    jobId: Schema.String,
    shop: Schema.String,
    input: JobParameters,
    inputHash: Schema.String,
    actionRunId: Schema.NullOr(Schema.String),
    source: JobSource,
    requestedBy: Schema.NullOr(Schema.String),
    undoOf: Schema.NullOr(UndoOf),
    status: JobStatus,
    requestedAt: Schema.String,
    startedAt: Schema.NullOr(Schema.String),
    finishedAt: Schema.NullOr(Schema.String),
    updatedAt: Schema.String,
    attempt: Schema.Number,
    lastRetry: Schema.NullOr(Schema.Struct({
      attempt: Schema.Number,
      reason: RetryReason,
      message: Schema.String,
      delayMs: Schema.Number,
      scheduledAt: Schema.String
    })),
    bulkQueryOperationIds: Schema.Array(Schema.String),
    query: Schema.NullOr(Schema.Struct({
      bulkOperationId: Schema.NullOr(Schema.String),
      matchedCount: Schema.Number,
      truncated: Schema.Boolean,
      snapshotRef: Schema.NullOr(Schema.String),
      changedSinceCount: Schema.Number
    })),
    chunks: Schema.Array(ChunkState),
    updatedCount: Schema.Number,
    failedCount: Schema.Number,
    changedSinceCount: Schema.Number,
    errorPreview: Schema.String,
    failure: Schema.NullOr(Schema.Struct({ code: JobFailureCode, message: Schema.String })),
    undoneBy: Schema.NullOr(Schema.String),
    undoForced: Schema.Boolean
  })
])

/**
 * What the job actor folds a job stream into. An event that does not decode (for example a
 * redacted one, whose data is null) leaves the state as it is, as the actor has always done.
 */
export const jobStateFold: Fold<JobState> = {
  name: "job",
  version: JOB_STATE_FOLD_VERSION,
  initial: initialState,
  evolve: (state, event) => {
    const decoded = decodeJobEvent(event.data)
    return decoded._tag === "Success" ? evolve(state, decoded.success) : state
  },
  schema: JobStateSchema
}
