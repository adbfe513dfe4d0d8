/**
 * The bulk-metafield job decider (the Emmett way): `initialState()`,
 * `decide(command, state)`, `evolve(state, event)`. Pure and total; the shop
 * actor is the only thing that turns it into I/O.
 *
 * Status machine (seed): PENDING → RUNNING → COMPLETED | FAILED.
 *
 * Live job:   requested → started → bulk_query_started → query_completed
 *             → (mutation_uploaded → bulk_mutation_started → mutation_completed)
 *               per chunk → completed
 * Dry run:    … → query_completed, and the decider itself emits `completed`
 *             (no mutation). Same when the query matched nothing.
 * Any time before the end: failed; retry_scheduled while RUNNING (at most
 * {@link MAX_ATTEMPTS} attempts, then the decider emits `failed`).
 * Undo:       on a COMPLETED live job, `undo_requested`; the compensating job
 *             is a new job whose `job.requested` carries `undoOf`. Unless
 *             forced, the undo job leaves products changed since the original
 *             job wrote them as they are and counts them (`changedSinceCount`,
 *             from its snapshot step and from Shopify's `STALE_OBJECT`
 *             answers); a forced undo may follow an unforced one.
 *
 * Idempotency: recording a fact that is already recorded with the same values
 * (same bulk operation id, same chunk upload, same counts, same undo job)
 * emits nothing, whatever the status, so re-delivered messages are harmless;
 * the same fact with different values is a typed conflict. A ScheduleRetry
 * for an attempt that was already retried emits nothing. Lifecycle commands
 * (StartJob, CompleteJob, FailJob) on a job that is past them are typed
 * errors, and so is a RequestJob that differs from the existing job's.
 *
 * Chunk bookkeeping: each chunk records its staged upload and the bulk
 * mutation submitted for it, so a restarted worker knows which chunks were
 * already submitted; the decider refuses a second submission for a chunk.
 */
import { Result } from "effect"
import type {
  CompleteJob,
  FailJob,
  JobCommand,
  RecordBulkMutationStarted,
  RecordBulkQueryStarted,
  RecordChunkUploaded,
  RecordMutationCompleted,
  RecordQueryCompleted,
  RequestJob,
  RequestUndo,
  ScheduleRetry,
  StartJob
} from "./JobCommands.ts"
import {
  ChunkAlreadySubmitted,
  ConflictingJobRecord,
  InvalidJobCommand,
  JobAlreadyExists,
  JobAlreadyFinished,
  JobAlreadyStarted,
  JobNotFound,
  JobNotRunning,
  JobStepOutOfOrder,
  UndoNotAllowed
} from "./JobErrors.ts"
import type { JobDecisionError, UndoRejection } from "./JobErrors.ts"
import { appendErrorPreview, capErrorPreview } from "./JobEvents.ts"
import type { JobEvent, JobFailureCode, JobSource, JobUndoRequested, RetryReason, UndoOf } from "./JobEvents.ts"
import type { JobParameters } from "./JobParameters.ts"
import type { JobStatus } from "./JobStatus.ts"
import { formatCount } from "./text.ts"

// ---------------------------------------------------------------------------
// Policy constants
// ---------------------------------------------------------------------------

/** Attempts per job, the first included (seed: BullMQ `attempts: 3`). */
export const MAX_ATTEMPTS = 3
/** First retry delay (seed: `backoff: { type: "exponential", delay: 60000 }`). */
export const RETRY_BASE_DELAY_MS = 60_000
/** Shopify's limit for a bulk-mutation JSONL file (SHOPIFY.md §2: 100 MB). */
export const MAX_CHUNK_BYTES = 100 * 1024 * 1024
/** The chunk size the seed's builder aims for (95 MB, 5 MB below Shopify's limit). */
export const TARGET_CHUNK_BYTES = 95 * 1024 * 1024

/**
 * The seed's exponential backoff: attempt 2 waits 60 s, attempt 3 waits
 * 120 s, attempt n waits 60 s · 2^(n−2).
 */
export const retryDelayMs = (attempt: number): number => RETRY_BASE_DELAY_MS * 2 ** Math.max(0, attempt - 2)

// ---------------------------------------------------------------------------
// State
// ---------------------------------------------------------------------------

/** One mutation chunk: its staged upload, the bulk mutation submitted for it, and its outcome. */
export interface ChunkState {
  readonly chunkIndex: number
  readonly stagedUploadPath: string
  readonly lines: number
  readonly bytes: number
  /** Set once the chunk was submitted; never replaced afterwards. */
  readonly bulkOperationId: string | null
  readonly result: { readonly updatedCount: number; readonly failedCount: number; readonly changedSinceCount: number } | null
}

/** What the bulk query (or, for an undo job, the snapshot) produced. */
export interface QueryResult {
  readonly bulkOperationId: string | null
  readonly matchedCount: number
  readonly truncated: boolean
  readonly snapshotRef: string | null
  /** Undo jobs: products found changed since the original job wrote them (not in `matchedCount`). */
  readonly changedSinceCount: number
}

export interface RetryInfo {
  readonly attempt: number
  readonly reason: RetryReason
  readonly message: string
  readonly delayMs: number
  readonly scheduledAt: string
}

/** The aggregate before `job.requested`. */
export interface NoJob {
  readonly exists: false
}

/** A requested job and everything recorded about it. */
export interface Job {
  readonly exists: true
  readonly jobId: string
  readonly shop: string
  readonly input: JobParameters
  readonly inputHash: string
  readonly actionRunId: string | null
  readonly source: JobSource
  readonly requestedBy: string | null
  readonly undoOf: UndoOf | null
  readonly status: JobStatus
  readonly requestedAt: string
  readonly startedAt: string | null
  readonly finishedAt: string | null
  /** Time of the latest event. */
  readonly updatedAt: string
  /** Current attempt: 0 before the start, 1 from `job.started`, then one more per retry. */
  readonly attempt: number
  readonly lastRetry: RetryInfo | null
  /** Every bulk query submitted, oldest first; the last one is current. */
  readonly bulkQueryOperationIds: ReadonlyArray<string>
  readonly query: QueryResult | null
  /** Chunks by index (0, 1, 2, … without gaps). */
  readonly chunks: ReadonlyArray<ChunkState>
  readonly updatedCount: number
  readonly failedCount: number
  /** Undo jobs: products not restored because they changed since the original job wrote them. */
  readonly changedSinceCount: number
  /** First 50 error lines across chunks, ≤ 10 KB. */
  readonly errorPreview: string
  readonly failure: { readonly code: JobFailureCode; readonly message: string } | null
  /** The compensating job, once undo was requested (the latest one, after a forced follow-up). */
  readonly undoneBy: string | null
  /** Whether that undo was forced (then no further undo is possible). */
  readonly undoForced: boolean
}

export type JobState = NoJob | Job

/** The state of a job stream with no events. */
export const initialState = (): JobState => ({ exists: false })

// ---------------------------------------------------------------------------
// evolve
// ---------------------------------------------------------------------------

const setChunk = (chunks: ReadonlyArray<ChunkState>, chunk: ChunkState): ReadonlyArray<ChunkState> =>
  chunk.chunkIndex < chunks.length
    ? chunks.map((c) => (c.chunkIndex === chunk.chunkIndex ? chunk : c))
    : [...chunks, chunk]

const updateChunk = (
  chunks: ReadonlyArray<ChunkState>,
  chunkIndex: number,
  f: (c: ChunkState) => ChunkState
): ReadonlyArray<ChunkState> => chunks.map((c) => (c.chunkIndex === chunkIndex ? f(c) : c))

/**
 * Applies one event. Events are facts already decided, so no validation
 * happens here; an event that cannot apply (anything before `job.requested`)
 * leaves the state unchanged.
 */
export const evolve = (state: JobState, event: JobEvent): JobState => {
  if (event.type === "job.requested") {
    return {
      exists: true,
      jobId: event.jobId,
      shop: event.shop,
      input: event.input,
      inputHash: event.inputHash,
      actionRunId: event.actionRunId,
      source: event.source,
      requestedBy: event.requestedBy,
      undoOf: event.undoOf,
      status: "PENDING",
      requestedAt: event.occurredAt,
      startedAt: null,
      finishedAt: null,
      updatedAt: event.occurredAt,
      attempt: 0,
      lastRetry: null,
      bulkQueryOperationIds: [],
      query: null,
      chunks: [],
      updatedCount: 0,
      failedCount: 0,
      changedSinceCount: 0,
      errorPreview: "",
      failure: null,
      undoneBy: null,
      undoForced: false
    }
  }
  if (!state.exists) return state
  const job: Job = { ...state, updatedAt: event.occurredAt }
  switch (event.type) {
    case "job.started":
      return { ...job, status: "RUNNING", startedAt: event.occurredAt, attempt: 1 }
    case "job.bulk_query_started":
      return { ...job, bulkQueryOperationIds: [...job.bulkQueryOperationIds, event.bulkOperationId] }
    case "job.query_completed": {
      const changedSinceCount = event.changedSinceCount ?? 0
      return {
        ...job,
        query: {
          bulkOperationId: event.bulkOperationId,
          matchedCount: event.matchedCount,
          truncated: event.truncated,
          snapshotRef: event.snapshotRef,
          changedSinceCount
        },
        changedSinceCount: job.changedSinceCount + changedSinceCount,
        errorPreview: event.errorPreview === undefined ? job.errorPreview : appendErrorPreview(job.errorPreview, event.errorPreview)
      }
    }
    case "job.mutation_uploaded":
      return {
        ...job,
        chunks: setChunk(job.chunks, {
          chunkIndex: event.chunkIndex,
          stagedUploadPath: event.stagedUploadPath,
          lines: event.lines,
          bytes: event.bytes,
          bulkOperationId: null,
          result: null
        })
      }
    case "job.bulk_mutation_started":
      return {
        ...job,
        chunks: updateChunk(job.chunks, event.chunkIndex, (c) => ({ ...c, bulkOperationId: event.bulkOperationId }))
      }
    case "job.mutation_completed": {
      const changedSinceCount = event.changedSinceCount ?? 0
      return {
        ...job,
        chunks: updateChunk(job.chunks, event.chunkIndex, (c) => ({
          ...c,
          result: { updatedCount: event.updatedCount, failedCount: event.failedCount, changedSinceCount }
        })),
        updatedCount: job.updatedCount + event.updatedCount,
        failedCount: job.failedCount + event.failedCount,
        changedSinceCount: job.changedSinceCount + changedSinceCount,
        errorPreview: appendErrorPreview(job.errorPreview, event.errorPreview)
      }
    }
    case "job.completed":
      return {
        ...job,
        status: "COMPLETED",
        finishedAt: event.occurredAt,
        updatedCount: event.updatedCount,
        failedCount: event.failedCount,
        changedSinceCount: event.changedSinceCount ?? 0
      }
    case "job.failed":
      return {
        ...job,
        status: "FAILED",
        finishedAt: event.occurredAt,
        failure: { code: event.code, message: event.message }
      }
    case "job.retry_scheduled":
      return {
        ...job,
        attempt: event.attempt,
        lastRetry: {
          attempt: event.attempt,
          reason: event.reason,
          message: event.message,
          delayMs: event.delayMs,
          scheduledAt: event.occurredAt
        }
      }
    case "job.undo_requested":
      return { ...job, undoneBy: event.undoJobId, undoForced: event.force === true }
  }
}

/** Folds events from the initial state: the state of a stream. */
export const replay = (events: Iterable<JobEvent>, from: JobState = initialState()): JobState => {
  let state = from
  for (const event of events) state = evolve(state, event)
  return state
}

// ---------------------------------------------------------------------------
// decide
// ---------------------------------------------------------------------------

export type Decision = Result.Result<ReadonlyArray<JobEvent>, JobDecisionError>

const emit = (...events: ReadonlyArray<JobEvent>): Decision => Result.succeed(events)
const nothing: Decision = Result.succeed([])
const reject = (error: JobDecisionError): Decision => Result.fail(error)

const isIndex = (n: number): boolean => Number.isSafeInteger(n) && n >= 0

/** RUNNING is required; PENDING and the terminal statuses are typed rejections. */
const requireRunning = (job: Job, command: JobCommand): JobDecisionError | undefined => {
  switch (job.status) {
    case "RUNNING":
      return undefined
    case "PENDING":
      return new JobNotRunning({ jobId: job.jobId, command: command.type, status: job.status })
    case "COMPLETED":
    case "FAILED":
      return new JobAlreadyFinished({ jobId: job.jobId, command: command.type, status: job.status })
  }
}

const outOfOrder = (job: Job, command: JobCommand, message: string) =>
  new JobStepOutOfOrder({ jobId: job.jobId, command: command.type, message })

const invalid = (job: Job, command: JobCommand, message: string) =>
  new InvalidJobCommand({ jobId: job.jobId, command: command.type, message })

const conflict = (job: Job, command: JobCommand, message: string) =>
  new ConflictingJobRecord({ jobId: job.jobId, command: command.type, message })

const sameRequest = (job: Job, c: RequestJob): boolean =>
  job.shop === c.shop &&
  job.inputHash === c.inputHash &&
  job.actionRunId === c.actionRunId &&
  (job.undoOf?.jobId ?? null) === (c.undoOf?.jobId ?? null)

const requestJob = (state: JobState, c: RequestJob): Decision => {
  if (state.exists) {
    return sameRequest(state, c) ? nothing : reject(new JobAlreadyExists({ jobId: c.jobId, inputHash: state.inputHash }))
  }
  if (c.undoOf !== null && c.input.dryRun) {
    return reject(new InvalidJobCommand({ jobId: c.jobId, command: c.type, message: "an undo job cannot be a dry run" }))
  }
  return emit({
    type: "job.requested",
    jobId: c.jobId,
    shop: c.shop,
    input: c.input,
    inputHash: c.inputHash,
    actionRunId: c.actionRunId,
    source: c.source,
    requestedBy: c.requestedBy,
    undoOf: c.undoOf,
    occurredAt: c.at
  })
}

const startJob = (job: Job, c: StartJob): Decision => {
  switch (job.status) {
    case "PENDING":
      return emit({ type: "job.started", jobId: job.jobId, occurredAt: c.at })
    case "RUNNING":
      return reject(new JobAlreadyStarted({ jobId: job.jobId }))
    case "COMPLETED":
    case "FAILED":
      return reject(new JobAlreadyFinished({ jobId: job.jobId, command: c.type, status: job.status }))
  }
}

const recordBulkQueryStarted = (job: Job, c: RecordBulkQueryStarted): Decision => {
  if (job.bulkQueryOperationIds.includes(c.bulkOperationId)) return nothing
  const notRunning = requireRunning(job, c)
  if (notRunning !== undefined) return reject(notRunning)
  if (job.query !== null) return reject(outOfOrder(job, c, "the bulk query already completed"))
  // A different id while the query is open replaces it: queries are
  // read-only, so re-running one (failed or expired on Shopify's side) is safe.
  return emit({ type: "job.bulk_query_started", jobId: job.jobId, bulkOperationId: c.bulkOperationId, occurredAt: c.at })
}

const sameQueryResult = (q: QueryResult, c: RecordQueryCompleted): boolean =>
  q.bulkOperationId === c.bulkOperationId &&
  q.matchedCount === c.matchedCount &&
  q.truncated === c.truncated &&
  q.snapshotRef === c.snapshotRef &&
  q.changedSinceCount === (c.changedSinceCount ?? 0)

/** `changedSinceCount` on an event: only when there is something to say (older events have none). */
const changedSince = (n: number): { readonly changedSinceCount?: number } => (n > 0 ? { changedSinceCount: n } : {})

const recordQueryCompleted = (job: Job, c: RecordQueryCompleted): Decision => {
  if (job.query !== null && sameQueryResult(job.query, c)) return nothing
  const notRunning = requireRunning(job, c)
  if (notRunning !== undefined) return reject(notRunning)
  if (job.query !== null) {
    return reject(conflict(job, c, "the bulk query result was already recorded with different values"))
  }
  const currentQuery = job.bulkQueryOperationIds.at(-1)
  if (c.bulkOperationId === null) {
    if (job.undoOf === null) {
      return reject(invalid(job, c, "a query result needs the bulk query operation it came from"))
    }
  } else if (currentQuery === undefined) {
    return reject(outOfOrder(job, c, "no bulk query was started"))
  } else if (c.bulkOperationId !== currentQuery) {
    return reject(invalid(job, c, `${c.bulkOperationId} is not the current bulk query (${currentQuery})`))
  }
  if (!isIndex(c.matchedCount) || c.matchedCount > job.input.maxItems) {
    return reject(invalid(job, c, `matchedCount ${c.matchedCount} is outside 0…max_items (${job.input.maxItems})`))
  }
  if (c.truncated && c.matchedCount !== job.input.maxItems) {
    return reject(invalid(job, c, "a truncated result must hold exactly max_items products"))
  }
  const changed = c.changedSinceCount ?? 0
  if (!isIndex(changed)) return reject(invalid(job, c, `changedSinceCount ${changed} is not a count`))
  if (changed > 0 && job.undoOf === null) {
    return reject(invalid(job, c, "only an undo job finds products changed since"))
  }
  const preview = capErrorPreview(c.errorLines ?? [])
  const completed: JobEvent = {
    type: "job.query_completed",
    jobId: job.jobId,
    bulkOperationId: c.bulkOperationId,
    matchedCount: c.matchedCount,
    truncated: c.truncated,
    snapshotRef: c.snapshotRef,
    ...changedSince(changed),
    ...(preview === "" ? {} : { errorPreview: preview }),
    occurredAt: c.at
  }
  if (job.input.dryRun || c.matchedCount === 0) {
    return emit(completed, {
      type: "job.completed",
      jobId: job.jobId,
      dryRun: job.input.dryRun,
      matchedCount: c.matchedCount,
      updatedCount: 0,
      failedCount: 0,
      ...changedSince(job.changedSinceCount + changed),
      occurredAt: c.at
    })
  }
  return emit(completed)
}

const recordChunkUploaded = (job: Job, c: RecordChunkUploaded): Decision => {
  const existing = job.chunks[c.chunkIndex]
  if (
    existing !== undefined && existing.stagedUploadPath === c.stagedUploadPath && existing.lines === c.lines &&
    existing.bytes === c.bytes
  ) {
    return nothing
  }
  const notRunning = requireRunning(job, c)
  if (notRunning !== undefined) return reject(notRunning)
  if (job.input.dryRun) return reject(outOfOrder(job, c, "a dry run never uploads mutations"))
  if (job.query === null) return reject(outOfOrder(job, c, "the bulk query has not completed"))
  if (!isIndex(c.chunkIndex)) return reject(invalid(job, c, `chunk index ${c.chunkIndex} is not an index`))
  if (c.chunkIndex > job.chunks.length) {
    return reject(outOfOrder(job, c, `chunk ${c.chunkIndex} uploaded before chunk ${job.chunks.length}`))
  }
  if (existing !== undefined && existing.bulkOperationId !== null) {
    return reject(
      new ChunkAlreadySubmitted({
        jobId: job.jobId,
        command: c.type,
        chunkIndex: c.chunkIndex,
        bulkOperationId: existing.bulkOperationId
      })
    )
  }
  if (!isIndex(c.lines) || c.lines < 1 || !isIndex(c.bytes) || c.bytes < 1) {
    return reject(invalid(job, c, "a chunk has at least one line and one byte"))
  }
  if (c.bytes > MAX_CHUNK_BYTES) {
    return reject(invalid(job, c, `chunk of ${formatCount(c.bytes)} bytes exceeds Shopify's 100 MB limit`))
  }
  const otherLines = job.chunks.reduce((sum, chunk) => (chunk.chunkIndex === c.chunkIndex ? sum : sum + chunk.lines), 0)
  if (otherLines + c.lines > job.query.matchedCount) {
    return reject(
      invalid(job, c, `chunks would hold ${otherLines + c.lines} lines for ${job.query.matchedCount} matched products`)
    )
  }
  // Re-uploading a chunk that was not submitted yet (say its staged URL
  // expired) replaces the upload.
  return emit({
    type: "job.mutation_uploaded",
    jobId: job.jobId,
    chunkIndex: c.chunkIndex,
    stagedUploadPath: c.stagedUploadPath,
    lines: c.lines,
    bytes: c.bytes,
    occurredAt: c.at
  })
}

const recordBulkMutationStarted = (job: Job, c: RecordBulkMutationStarted): Decision => {
  const chunk = job.chunks[c.chunkIndex]
  if (chunk !== undefined && chunk.bulkOperationId === c.bulkOperationId) return nothing
  const notRunning = requireRunning(job, c)
  if (notRunning !== undefined) return reject(notRunning)
  if (chunk === undefined) return reject(outOfOrder(job, c, `chunk ${c.chunkIndex} was not uploaded`))
  if (chunk.bulkOperationId !== null) {
    return reject(
      new ChunkAlreadySubmitted({
        jobId: job.jobId,
        command: c.type,
        chunkIndex: c.chunkIndex,
        bulkOperationId: chunk.bulkOperationId
      })
    )
  }
  return emit({
    type: "job.bulk_mutation_started",
    jobId: job.jobId,
    chunkIndex: c.chunkIndex,
    bulkOperationId: c.bulkOperationId,
    occurredAt: c.at
  })
}

const recordMutationCompleted = (job: Job, c: RecordMutationCompleted): Decision => {
  const chunk = job.chunks[c.chunkIndex]
  const changed = c.changedSinceCount ?? 0
  if (
    chunk?.result != null && chunk.bulkOperationId === c.bulkOperationId &&
    chunk.result.updatedCount === c.updatedCount && chunk.result.failedCount === c.failedCount &&
    chunk.result.changedSinceCount === changed
  ) {
    return nothing
  }
  const notRunning = requireRunning(job, c)
  if (notRunning !== undefined) return reject(notRunning)
  if (chunk === undefined || chunk.bulkOperationId === null) {
    return reject(outOfOrder(job, c, `no bulk mutation was started for chunk ${c.chunkIndex}`))
  }
  if (chunk.bulkOperationId !== c.bulkOperationId) {
    return reject(
      invalid(job, c, `${c.bulkOperationId} is not the bulk mutation of chunk ${c.chunkIndex} (${chunk.bulkOperationId})`)
    )
  }
  if (chunk.result !== null) {
    return reject(conflict(job, c, `chunk ${c.chunkIndex} already completed with different counts`))
  }
  if (
    !isIndex(c.updatedCount) || !isIndex(c.failedCount) || !isIndex(changed) ||
    c.updatedCount + c.failedCount + changed > chunk.lines
  ) {
    return reject(
      invalid(
        job,
        c,
        `${c.updatedCount} updated + ${c.failedCount} failed + ${changed} changed since exceeds the chunk's ${chunk.lines} lines`
      )
    )
  }
  if (changed > 0 && job.undoOf === null) {
    return reject(invalid(job, c, "only an undo job finds products changed since"))
  }
  return emit({
    type: "job.mutation_completed",
    jobId: job.jobId,
    chunkIndex: c.chunkIndex,
    bulkOperationId: c.bulkOperationId,
    updatedCount: c.updatedCount,
    failedCount: c.failedCount,
    ...changedSince(changed),
    errorPreview: capErrorPreview(c.errorLines),
    occurredAt: c.at
  })
}

const completeJob = (job: Job, c: CompleteJob): Decision => {
  const notRunning = requireRunning(job, c)
  if (notRunning !== undefined) return reject(notRunning)
  if (job.query === null) return reject(outOfOrder(job, c, "the bulk query has not completed"))
  const open = job.chunks.filter((chunk) => chunk.result === null).map((chunk) => chunk.chunkIndex)
  if (open.length > 0) return reject(outOfOrder(job, c, `chunks ${open.join(", ")} have not completed`))
  const uploaded = job.chunks.reduce((sum, chunk) => sum + chunk.lines, 0)
  if (uploaded !== job.query.matchedCount) {
    return reject(outOfOrder(job, c, `${uploaded} of ${job.query.matchedCount} products were uploaded`))
  }
  return emit({
    type: "job.completed",
    jobId: job.jobId,
    dryRun: job.input.dryRun,
    matchedCount: job.query.matchedCount,
    updatedCount: job.updatedCount,
    failedCount: job.failedCount,
    ...changedSince(job.changedSinceCount),
    occurredAt: c.at
  })
}

const failJob = (job: Job, c: FailJob): Decision => {
  if (job.status === "COMPLETED" || job.status === "FAILED") {
    return reject(new JobAlreadyFinished({ jobId: job.jobId, command: c.type, status: job.status }))
  }
  return emit({ type: "job.failed", jobId: job.jobId, code: c.code, message: c.message, occurredAt: c.at })
}

const scheduleRetry = (job: Job, c: ScheduleRetry): Decision => {
  const notRunning = requireRunning(job, c)
  if (notRunning !== undefined) return reject(notRunning)
  if (c.failedAttempt < job.attempt) return nothing
  if (c.failedAttempt > job.attempt) {
    return reject(invalid(job, c, `attempt ${c.failedAttempt} has not started (current attempt ${job.attempt})`))
  }
  const attempt = job.attempt + 1
  if (attempt > MAX_ATTEMPTS) {
    return emit({
      type: "job.failed",
      jobId: job.jobId,
      code: "RETRIES_EXHAUSTED",
      message: `Gave up after ${MAX_ATTEMPTS} attempts; last error ${c.reason}: ${c.message}`,
      occurredAt: c.at
    })
  }
  return emit({
    type: "job.retry_scheduled",
    jobId: job.jobId,
    attempt,
    maxAttempts: MAX_ATTEMPTS,
    reason: c.reason,
    message: c.message,
    delayMs: c.delayMs ?? retryDelayMs(attempt),
    occurredAt: c.at
  })
}

const undoRejected = (job: Job, reason: UndoRejection, message: string): Decision =>
  reject(new UndoNotAllowed({ jobId: job.jobId, reason, message }))

const requestUndo = (job: Job, c: RequestUndo): Decision => {
  if (job.undoneBy === c.undoJobId) return nothing
  if (job.status !== "COMPLETED") return undoRejected(job, "NOT_COMPLETED", `the job is ${job.status}, not COMPLETED`)
  if (job.input.dryRun) return undoRejected(job, "DRY_RUN", "a dry run changed nothing")
  if (job.undoOf !== null) return undoRejected(job, "UNDO_OF_UNDO", "an undo job cannot itself be undone")
  const force = c.force === true
  // A forced undo may follow an unforced one: it restores what that one left as changed since.
  if (job.undoneBy !== null && (job.undoForced || !force)) {
    return undoRejected(
      job,
      "ALREADY_UNDONE",
      `already undone by job ${job.undoneBy}${job.undoForced ? "" : " (undo with force to restore the products changed since)"}`
    )
  }
  if (job.updatedCount === 0) return undoRejected(job, "NOTHING_TO_UNDO", "no product was updated")
  if (job.query?.snapshotRef == null) {
    return undoRejected(job, "NO_SNAPSHOT", "no snapshot of the previous values was captured")
  }
  return emit({
    type: "job.undo_requested",
    jobId: job.jobId,
    undoJobId: c.undoJobId,
    requestedBy: c.requestedBy,
    snapshotRef: job.query.snapshotRef,
    ...(force ? { force } : {}),
    occurredAt: c.at
  })
}

/**
 * Decides what `command` means for the job in `state`: the events to append
 * (possibly none, for a re-delivered command) or a typed rejection. Never
 * throws, never reads the clock (event times come from `command.at`).
 */
export const decide = (command: JobCommand, state: JobState): Decision => {
  if (command.type === "RequestJob") return requestJob(state, command)
  if (!state.exists) return reject(new JobNotFound({ jobId: command.jobId, command: command.type }))
  if (command.jobId !== state.jobId) {
    return reject(invalid(state, command, `command for job ${command.jobId} reached job ${state.jobId}`))
  }
  switch (command.type) {
    case "StartJob":
      return startJob(state, command)
    case "RecordBulkQueryStarted":
      return recordBulkQueryStarted(state, command)
    case "RecordQueryCompleted":
      return recordQueryCompleted(state, command)
    case "RecordChunkUploaded":
      return recordChunkUploaded(state, command)
    case "RecordBulkMutationStarted":
      return recordBulkMutationStarted(state, command)
    case "RecordMutationCompleted":
      return recordMutationCompleted(state, command)
    case "CompleteJob":
      return completeJob(state, command)
    case "FailJob":
      return failJob(state, command)
    case "ScheduleRetry":
      return scheduleRetry(state, command)
    case "RequestUndo":
      return requestUndo(state, command)
  }
}

/** The decider as one value, for the actor runtime. */
export const JobDecider = { initialState, decide, evolve } as const

// ---------------------------------------------------------------------------
// Undo helper
// ---------------------------------------------------------------------------

/**
 * The RequestJob that starts the compensating job announced by `event` (a
 * `job.undo_requested` of `original`): same shop and metafield, live (never a
 * dry run), source `undo`, `undoOf` naming the original job and its snapshot
 * (and `force` when the undo was forced).
 * `inputHash` is the SHA-256 of `canonicalUndoInput(shop, original.jobId)`,
 * computed by an adapter (the domain does not hash).
 */
export const undoJobRequest = (original: Job, event: JobUndoRequested, inputHash: string): RequestJob => ({
  type: "RequestJob",
  jobId: event.undoJobId,
  shop: original.shop,
  input: { ...original.input, dryRun: false },
  inputHash,
  actionRunId: null,
  source: "undo",
  requestedBy: event.requestedBy,
  undoOf: { jobId: original.jobId, snapshotRef: event.snapshotRef, ...(event.force === true ? { force: true } : {}) },
  at: event.occurredAt
})
