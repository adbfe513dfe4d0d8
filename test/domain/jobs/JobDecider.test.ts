import { Result } from "effect"
import { describe, expect, it } from "vitest"
import {
  ChunkAlreadySubmitted,
  ConflictingJobRecord,
  decide,
  evolve,
  initialState,
  InvalidJobCommand,
  JobAlreadyExists,
  JobAlreadyFinished,
  JobAlreadyStarted,
  JobNotFound,
  JobNotRunning,
  JobStepOutOfOrder,
  MAX_ATTEMPTS,
  MAX_CHUNK_BYTES,
  replay,
  retryDelayMs,
  undoJobRequest,
  UndoNotAllowed,
  type Job,
  type JobCommand,
  type JobEvent,
  type JobRetryScheduled,
  type JobState,
  type JobUndoRequested
} from "../../../domain/jobs/index.ts"
import {
  at,
  completed,
  completedLiveJob,
  dryInput,
  failed,
  given,
  HASH,
  JOB,
  liveInput,
  MUTATION_OP,
  MUTATION_OP_2,
  mutationCompleted,
  mutationStarted,
  PATH_0,
  PATH_1,
  QUERY_OP,
  QUERY_OP_2,
  queryCompleted,
  queryStarted,
  requested,
  SHOP,
  SNAPSHOT,
  started,
  UNDO_JOB,
  uploaded
} from "./fixtures.ts"

const requestJob = (overrides: Partial<Extract<JobCommand, { type: "RequestJob" }>> = {}): JobCommand => ({
  type: "RequestJob",
  jobId: JOB,
  shop: SHOP,
  input: liveInput,
  inputHash: HASH,
  actionRunId: "run-1",
  source: "flow",
  requestedBy: null,
  undoOf: null,
  at: at(0),
  ...overrides
})
const startJob: JobCommand = { type: "StartJob", jobId: JOB, at: at(1) }
const recordQueryStarted = (bulkOperationId = QUERY_OP): JobCommand => ({
  type: "RecordBulkQueryStarted",
  jobId: JOB,
  bulkOperationId,
  at: at(2)
})
const recordQueryCompleted = (
  matchedCount: number,
  overrides: Partial<Extract<JobCommand, { type: "RecordQueryCompleted" }>> = {}
): JobCommand => ({
  type: "RecordQueryCompleted",
  jobId: JOB,
  bulkOperationId: QUERY_OP,
  matchedCount,
  truncated: false,
  snapshotRef: SNAPSHOT,
  at: at(3),
  ...overrides
})
const recordUpload = (
  chunkIndex: number,
  lines: number,
  overrides: Partial<Extract<JobCommand, { type: "RecordChunkUploaded" }>> = {}
): JobCommand => ({
  type: "RecordChunkUploaded",
  jobId: JOB,
  chunkIndex,
  stagedUploadPath: chunkIndex === 0 ? PATH_0 : PATH_1,
  lines,
  bytes: lines * 200,
  at: at(4),
  ...overrides
})
const recordMutationStarted = (chunkIndex: number, bulkOperationId = chunkIndex === 0 ? MUTATION_OP : MUTATION_OP_2): JobCommand => ({
  type: "RecordBulkMutationStarted",
  jobId: JOB,
  chunkIndex,
  bulkOperationId,
  at: at(5)
})
const recordMutationCompleted = (
  chunkIndex: number,
  updatedCount: number,
  failedCount: number,
  errorLines: ReadonlyArray<string> = [],
  bulkOperationId = chunkIndex === 0 ? MUTATION_OP : MUTATION_OP_2
): JobCommand => ({
  type: "RecordMutationCompleted",
  jobId: JOB,
  chunkIndex,
  bulkOperationId,
  updatedCount,
  failedCount,
  errorLines,
  at: at(6)
})
const completeJob: JobCommand = { type: "CompleteJob", jobId: JOB, at: at(7) }
const failJob: JobCommand = {
  type: "FailJob",
  jobId: JOB,
  code: "INVALID_QUERY",
  message: "Invalid search query syntax",
  at: at(7)
}
const scheduleRetry = (failedAttempt: number, delayMs: number | null = null): JobCommand => ({
  type: "ScheduleRetry",
  jobId: JOB,
  failedAttempt,
  reason: "RATE_LIMITED",
  message: "Throttled",
  delayMs,
  at: at(8)
})
const requestUndo = (undoJobId = UNDO_JOB): JobCommand => ({
  type: "RequestUndo",
  jobId: JOB,
  undoJobId,
  requestedBy: "merchant@example.com",
  at: at(9)
})

const retryScheduled = (attempt: number): JobRetryScheduled => ({
  type: "job.retry_scheduled",
  jobId: JOB,
  attempt,
  maxAttempts: MAX_ATTEMPTS,
  reason: "RATE_LIMITED",
  message: "Throttled",
  delayMs: retryDelayMs(attempt),
  occurredAt: at(8)
})

const asJob = (state: JobState): Job => {
  if (!state.exists) throw new Error("expected a job")
  return state
}

const running = [requested(), started()] as const
const queried100 = [...running, queryStarted(), queryCompleted(100)] as const

describe("RequestJob", () => {
  it("creates a PENDING job from the command, stamped with the command's time", () => {
    given().when(requestJob()).then(requested())
    expect(asJob(replay([requested()])).status).toBe("PENDING")
  })

  it("is a no-op when the same request is re-delivered", () => {
    given(requested()).when(requestJob({ at: at(30) })).thenNothing()
  })

  it("rejects a different request for an existing job id", () => {
    given(requested()).when(requestJob({ inputHash: "b".repeat(64) })).thenRejects(JobAlreadyExists, { jobId: JOB })
    given(requested()).when(requestJob({ actionRunId: "run-2" })).thenRejects(JobAlreadyExists)
  })

  it("records an undo job with undoOf and rejects an undo job that is a dry run", () => {
    const undoOf = { jobId: "original", snapshotRef: SNAPSHOT }
    given().when(requestJob({ source: "undo", undoOf })).thenEventsMatch({ type: "job.requested", undoOf, source: "undo" })
    given().when(requestJob({ input: dryInput, undoOf })).thenRejects(InvalidJobCommand)
  })
})

describe("commands before the job exists or for another job", () => {
  it("rejects every non-request command on an empty stream with JobNotFound", () => {
    for (const command of [startJob, completeJob, failJob, recordQueryStarted(), requestUndo()]) {
      given().when(command).thenRejects(JobNotFound, { jobId: JOB, command: command.type })
    }
  })

  it("rejects a command addressed to another job", () => {
    given(...running).when({ ...startJob, jobId: "someone-else" }).thenRejects(InvalidJobCommand)
  })
})

describe("StartJob", () => {
  it("moves PENDING to RUNNING at attempt 1", () => {
    given(requested()).when(startJob).then(started())
    const job = asJob(replay(running))
    expect(job.status).toBe("RUNNING")
    expect(job.attempt).toBe(1)
    expect(job.startedAt).toBe(at(1))
  })

  it("rejects starting twice", () => {
    given(...running).when(startJob).thenRejects(JobAlreadyStarted, { jobId: JOB })
  })

  it("rejects starting a finished job", () => {
    given(...completedLiveJob()).when(startJob).thenRejects(JobAlreadyFinished, { status: "COMPLETED" })
    given(requested(), failed()).when(startJob).thenRejects(JobAlreadyFinished, { status: "FAILED" })
  })
})

describe("RecordBulkQueryStarted", () => {
  it("records the bulk query operation id", () => {
    given(...running).when(recordQueryStarted()).then(queryStarted())
  })

  it("is a no-op for an id already recorded", () => {
    given(...running, queryStarted()).when(recordQueryStarted()).thenNothing()
  })

  it("lets a replacement query supersede an open one, and ignores the stale id afterwards", () => {
    given(...running, queryStarted()).when(recordQueryStarted(QUERY_OP_2)).then(queryStarted(QUERY_OP_2))
    given(...running, queryStarted(), queryStarted(QUERY_OP_2)).when(recordQueryStarted(QUERY_OP)).thenNothing()
    expect(asJob(replay([...running, queryStarted(), queryStarted(QUERY_OP_2)])).bulkQueryOperationIds).toEqual([
      QUERY_OP,
      QUERY_OP_2
    ])
  })

  it("rejects a new query once the query completed", () => {
    given(...queried100).when(recordQueryStarted(QUERY_OP_2)).thenRejects(JobStepOutOfOrder)
  })

  it("rejects a query on a PENDING or finished job", () => {
    given(requested()).when(recordQueryStarted()).thenRejects(JobNotRunning, { status: "PENDING" })
    given(requested(), failed()).when(recordQueryStarted()).thenRejects(JobAlreadyFinished, { status: "FAILED" })
  })
})

describe("RecordQueryCompleted", () => {
  it("records the matched count of a live job and waits for mutations", () => {
    given(...running, queryStarted()).when(recordQueryCompleted(100)).then(queryCompleted(100))
  })

  it("completes a dry run right after the query, with no mutation", () => {
    given(requested(dryInput), started(), queryStarted())
      .when(recordQueryCompleted(1523))
      .then(queryCompleted(1523), { ...completed(1523, 0, 0, true), occurredAt: at(3) })
    const job = asJob(replay([requested(dryInput), started(), queryStarted(), queryCompleted(1523), completed(1523, 0, 0, true)]))
    expect(job.status).toBe("COMPLETED")
  })

  it("completes a live job that matched nothing", () => {
    given(...running, queryStarted())
      .when(recordQueryCompleted(0))
      .then(queryCompleted(0), { ...completed(0, 0, 0), occurredAt: at(3) })
  })

  it("accepts a result truncated at exactly max_items", () => {
    given(...running, queryStarted())
      .when(recordQueryCompleted(5000, { truncated: true }))
      .then(queryCompleted(5000, { truncated: true }))
  })

  it("is a no-op when the same result is re-delivered, even after the job finished", () => {
    given(...queried100).when(recordQueryCompleted(100)).thenNothing()
    given(requested(dryInput), started(), queryStarted(), queryCompleted(7), completed(7, 0, 0, true))
      .when(recordQueryCompleted(7))
      .thenNothing()
  })

  it("rejects a different result once one was recorded", () => {
    given(...queried100).when(recordQueryCompleted(99)).thenRejects(ConflictingJobRecord)
  })

  it("rejects a result before any bulk query started", () => {
    given(...running).when(recordQueryCompleted(100)).thenRejects(JobStepOutOfOrder)
  })

  it("rejects a result from a superseded query or without a query id", () => {
    given(...running, queryStarted(), queryStarted(QUERY_OP_2)).when(recordQueryCompleted(100)).thenRejects(InvalidJobCommand)
    given(...running, queryStarted()).when(recordQueryCompleted(100, { bulkOperationId: null })).thenRejects(InvalidJobCommand)
  })

  it("rejects impossible counts", () => {
    given(...running, queryStarted()).when(recordQueryCompleted(5001)).thenRejects(InvalidJobCommand)
    given(...running, queryStarted()).when(recordQueryCompleted(4999, { truncated: true })).thenRejects(InvalidJobCommand)
  })

  it("lets an undo job record its product set without a bulk query", () => {
    const undoRequested = requested(liveInput, { source: "undo", undoOf: { jobId: "original", snapshotRef: SNAPSHOT } })
    given(undoRequested, started())
      .when(recordQueryCompleted(100, { bulkOperationId: null, snapshotRef: null }))
      .then(queryCompleted(100, { bulkOperationId: null, snapshotRef: null }))
  })

  it("rejects a result on a PENDING job", () => {
    given(requested()).when(recordQueryCompleted(100)).thenRejects(JobNotRunning)
  })
})

describe("RecordChunkUploaded", () => {
  it("records chunk 0 after the query", () => {
    given(...queried100).when(recordUpload(0, 60)).then(uploaded(0, 60))
  })

  it("is a no-op for the same upload", () => {
    given(...queried100, uploaded(0, 60)).when(recordUpload(0, 60)).thenNothing()
  })

  it("replaces the upload of a chunk that was not submitted yet", () => {
    given(...queried100, uploaded(0, 60))
      .when(recordUpload(0, 60, { stagedUploadPath: PATH_1 }))
      .then(uploaded(0, 60, PATH_1))
    expect(asJob(replay([...queried100, uploaded(0, 60), uploaded(0, 60, PATH_1)])).chunks).toHaveLength(1)
  })

  it("never replaces the upload of a submitted chunk", () => {
    given(...queried100, uploaded(0, 60), mutationStarted(0))
      .when(recordUpload(0, 60, { stagedUploadPath: PATH_1 }))
      .thenRejects(ChunkAlreadySubmitted, { chunkIndex: 0, bulkOperationId: MUTATION_OP })
  })

  it("rejects uploads before the query completed and out of chunk order", () => {
    given(...running, queryStarted()).when(recordUpload(0, 60)).thenRejects(JobStepOutOfOrder)
    given(...queried100).when(recordUpload(1, 40)).thenRejects(JobStepOutOfOrder)
  })

  it("rejects an upload on a dry run", () => {
    const error = given(requested(dryInput), started(), queryStarted()).when(recordUpload(0, 10)).thenRejects(JobStepOutOfOrder)
    expect(error.message).toContain("dry run")
  })

  it("rejects a chunk over Shopify's 100 MB limit and chunks holding more lines than matched", () => {
    given(...queried100).when(recordUpload(0, 60, { bytes: MAX_CHUNK_BYTES + 1 })).thenRejects(InvalidJobCommand)
    given(...queried100).when(recordUpload(0, 60, { bytes: MAX_CHUNK_BYTES })).then({ ...uploaded(0, 60), bytes: MAX_CHUNK_BYTES })
    given(...queried100, uploaded(0, 60)).when(recordUpload(1, 41)).thenRejects(InvalidJobCommand)
    given(...queried100, uploaded(0, 60)).when(recordUpload(1, 40)).then(uploaded(1, 40))
  })

  it("rejects a negative chunk index", () => {
    given(...queried100).when(recordUpload(-1, 10)).thenRejects(InvalidJobCommand)
  })

  it("rejects an upload on a PENDING job", () => {
    given(requested()).when(recordUpload(0, 10)).thenRejects(JobNotRunning)
  })
})

describe("RecordBulkMutationStarted", () => {
  const uploadedTwo = [...queried100, uploaded(0, 60), uploaded(1, 40)] as const

  it("records the bulk mutation of an uploaded chunk", () => {
    given(...uploadedTwo).when(recordMutationStarted(0)).then(mutationStarted(0))
  })

  it("is a no-op when the same operation id is recorded again", () => {
    given(...uploadedTwo, mutationStarted(0)).when(recordMutationStarted(0)).thenNothing()
  })

  it("never records a second bulk mutation for the same chunk", () => {
    given(...uploadedTwo, mutationStarted(0))
      .when(recordMutationStarted(0, "gid://shopify/BulkOperation/999"))
      .thenRejects(ChunkAlreadySubmitted, { chunkIndex: 0, bulkOperationId: MUTATION_OP })
  })

  it("rejects a mutation for a chunk that was not uploaded", () => {
    given(...queried100, uploaded(0, 60)).when(recordMutationStarted(1)).thenRejects(JobStepOutOfOrder)
  })

  it("rejects a mutation on a PENDING job", () => {
    given(requested()).when(recordMutationStarted(0)).thenRejects(JobNotRunning)
  })

  it("keeps which chunks were already submitted, for a restarted worker", () => {
    const job = asJob(replay([...uploadedTwo, mutationStarted(0)]))
    expect(job.chunks.map((c) => [c.chunkIndex, c.stagedUploadPath, c.bulkOperationId])).toEqual([
      [0, PATH_0, MUTATION_OP],
      [1, PATH_1, null]
    ])
  })
})

describe("RecordMutationCompleted", () => {
  const submitted = [...queried100, uploaded(0, 60), mutationStarted(0)] as const

  it("records the chunk's counts and its error preview", () => {
    given(...submitted)
      .when(recordMutationCompleted(0, 58, 2, ["{\"e\":1}", "{\"e\":2}"]))
      .then(mutationCompleted(0, 58, 2, "{\"e\":1}\n{\"e\":2}"))
  })

  it("keeps only the first 50 error lines", () => {
    const lines = Array.from({ length: 60 }, (_, i) => `{"line":${i}}`)
    const [event] = given(...submitted).when(recordMutationCompleted(0, 0, 60, lines)).thenEventsMatch({
      type: "job.mutation_completed"
    })
    const preview = (event as Extract<JobEvent, { type: "job.mutation_completed" }>).errorPreview.split("\n")
    expect(preview).toHaveLength(50)
    expect(preview[0]).toBe("{\"line\":0}")
    expect(preview[49]).toBe("{\"line\":49}")
  })

  it("is a no-op when the same result is re-delivered, even after completion", () => {
    given(...submitted, mutationCompleted(0, 58, 2)).when(recordMutationCompleted(0, 58, 2)).thenNothing()
    given(...completedLiveJob()).when(recordMutationCompleted(0, 97, 3)).thenNothing()
  })

  it("rejects different counts for a completed chunk", () => {
    given(...submitted, mutationCompleted(0, 58, 2)).when(recordMutationCompleted(0, 60, 0)).thenRejects(ConflictingJobRecord)
  })

  it("rejects a result from another operation than the chunk's", () => {
    given(...submitted).when(recordMutationCompleted(0, 60, 0, [], MUTATION_OP_2)).thenRejects(InvalidJobCommand)
  })

  it("rejects a result for a chunk whose mutation never started", () => {
    given(...queried100, uploaded(0, 60)).when(recordMutationCompleted(0, 60, 0)).thenRejects(JobStepOutOfOrder)
  })

  it("rejects more outcomes than the chunk has lines", () => {
    given(...submitted).when(recordMutationCompleted(0, 60, 1)).thenRejects(InvalidJobCommand)
  })

  it("rejects a result on a PENDING job", () => {
    given(requested()).when(recordMutationCompleted(0, 1, 0)).thenRejects(JobNotRunning)
  })

  it("adds counts and error previews across chunks", () => {
    const job = asJob(
      replay([
        ...queried100,
        uploaded(0, 60),
        uploaded(1, 40),
        mutationStarted(0),
        mutationStarted(1),
        mutationCompleted(0, 58, 2, "a\nb"),
        mutationCompleted(1, 39, 1, "c")
      ])
    )
    expect([job.updatedCount, job.failedCount, job.errorPreview]).toEqual([97, 3, "a\nb\nc"])
  })
})

describe("CompleteJob", () => {
  const twoChunksDone = [
    ...queried100,
    uploaded(0, 60),
    uploaded(1, 40),
    mutationStarted(0),
    mutationStarted(1),
    mutationCompleted(0, 58, 2),
    mutationCompleted(1, 39, 1)
  ] as const

  it("completes a live job whose chunks are all done, with its totals", () => {
    given(...twoChunksDone).when(completeJob).then(completed(100, 97, 3))
    const job = asJob(replay([...twoChunksDone, completed(100, 97, 3)]))
    expect([job.status, job.finishedAt, job.updatedCount, job.failedCount]).toEqual(["COMPLETED", at(7), 97, 3])
  })

  it("rejects completion while a chunk is still running", () => {
    given(...queried100, uploaded(0, 60), uploaded(1, 40), mutationStarted(0), mutationStarted(1), mutationCompleted(0, 60, 0))
      .when(completeJob)
      .thenRejects(JobStepOutOfOrder)
  })

  it("rejects completion before every matched product was uploaded", () => {
    given(...queried100, uploaded(0, 60), mutationStarted(0), mutationCompleted(0, 60, 0))
      .when(completeJob)
      .thenRejects(JobStepOutOfOrder)
  })

  it("rejects completion before the query completed", () => {
    given(...running, queryStarted()).when(completeJob).thenRejects(JobStepOutOfOrder)
  })

  it("rejects completing a PENDING, FAILED or COMPLETED job", () => {
    given(requested()).when(completeJob).thenRejects(JobNotRunning, { status: "PENDING" })
    given(...running, failed()).when(completeJob).thenRejects(JobAlreadyFinished, { status: "FAILED" })
    given(...completedLiveJob()).when(completeJob).thenRejects(JobAlreadyFinished, { status: "COMPLETED" })
  })
})

describe("FailJob", () => {
  it("fails a PENDING or RUNNING job with its code and message", () => {
    given(requested()).when(failJob).then(failed())
    given(...queried100).when(failJob).then(failed())
    const job = asJob(replay([...running, failed()]))
    expect([job.status, job.failure, job.finishedAt]).toEqual([
      "FAILED",
      { code: "INVALID_QUERY", message: "Invalid search query syntax" },
      at(7)
    ])
  })

  it("rejects failing a finished job", () => {
    given(...running, failed()).when(failJob).thenRejects(JobAlreadyFinished, { status: "FAILED" })
    given(...completedLiveJob()).when(failJob).thenRejects(JobAlreadyFinished, { status: "COMPLETED" })
  })
})

describe("ScheduleRetry", () => {
  it("schedules attempt 2 after 60 s and attempt 3 after 120 s (the seed's exponential backoff)", () => {
    given(...running).when(scheduleRetry(1)).then(retryScheduled(2))
    given(...running, retryScheduled(2)).when(scheduleRetry(2)).then(retryScheduled(3))
    expect([retryDelayMs(2), retryDelayMs(3)]).toEqual([60_000, 120_000])
    expect(asJob(replay([...running, retryScheduled(2)])).attempt).toBe(2)
  })

  it("uses the delay Shopify asked for (Retry-After) when given", () => {
    given(...running).when(scheduleRetry(1, 5_000)).then({ ...retryScheduled(2), delayMs: 5_000 })
  })

  it("fails the job when the attempts are used up", () => {
    given(...running, retryScheduled(2), retryScheduled(3)).when(scheduleRetry(3)).then({
      type: "job.failed",
      jobId: JOB,
      code: "RETRIES_EXHAUSTED",
      message: "Gave up after 3 attempts; last error RATE_LIMITED: Throttled",
      occurredAt: at(8)
    })
  })

  it("is a no-op for an attempt that was already retried", () => {
    given(...running, retryScheduled(2)).when(scheduleRetry(1)).thenNothing()
  })

  it("rejects a failure report for an attempt that has not started", () => {
    given(...running).when(scheduleRetry(2)).thenRejects(InvalidJobCommand)
  })

  it("rejects retries of PENDING and finished jobs", () => {
    given(requested()).when(scheduleRetry(1)).thenRejects(JobNotRunning)
    given(...completedLiveJob()).when(scheduleRetry(1)).thenRejects(JobAlreadyFinished)
  })

  it("keeps the progress made before the retry", () => {
    const job = asJob(replay([...queried100, uploaded(0, 100), mutationStarted(0), retryScheduled(2)]))
    expect(job.status).toBe("RUNNING")
    expect(job.chunks[0]?.bulkOperationId).toBe(MUTATION_OP)
    expect(job.lastRetry).toEqual({ attempt: 2, reason: "RATE_LIMITED", message: "Throttled", delayMs: 60_000, scheduledAt: at(8) })
  })
})

describe("RequestUndo", () => {
  const undoRequested: JobUndoRequested = {
    type: "job.undo_requested",
    jobId: JOB,
    undoJobId: UNDO_JOB,
    requestedBy: "merchant@example.com",
    snapshotRef: SNAPSHOT,
    occurredAt: at(9)
  }

  it("records the undo of a completed live job; the job stays COMPLETED", () => {
    given(...completedLiveJob()).when(requestUndo()).then(undoRequested)
    const job = asJob(replay([...completedLiveJob(), undoRequested]))
    expect([job.status, job.undoneBy]).toEqual(["COMPLETED", UNDO_JOB])
  })

  it("is a no-op for the same undo job and rejects a second one", () => {
    given(...completedLiveJob(), undoRequested).when(requestUndo()).thenNothing()
    given(...completedLiveJob(), undoRequested).when(requestUndo("another")).thenRejects(UndoNotAllowed, {
      reason: "ALREADY_UNDONE"
    })
  })

  it("rejects undoing a dry run", () => {
    given(requested(dryInput), started(), queryStarted(), queryCompleted(10), completed(10, 0, 0, true))
      .when(requestUndo())
      .thenRejects(UndoNotAllowed, { reason: "DRY_RUN" })
  })

  it("rejects undoing a job that is not COMPLETED", () => {
    given(requested()).when(requestUndo()).thenRejects(UndoNotAllowed, { reason: "NOT_COMPLETED" })
    given(...queried100).when(requestUndo()).thenRejects(UndoNotAllowed, { reason: "NOT_COMPLETED" })
    given(...running, failed()).when(requestUndo()).thenRejects(UndoNotAllowed, { reason: "NOT_COMPLETED" })
  })

  it("rejects undoing an undo job", () => {
    const [, ...rest] = completedLiveJob()
    given(requested(liveInput, { source: "undo", undoOf: { jobId: "original", snapshotRef: SNAPSHOT } }), ...rest)
      .when(requestUndo())
      .thenRejects(UndoNotAllowed, { reason: "UNDO_OF_UNDO" })
  })

  it("rejects undoing a job that updated nothing or kept no snapshot", () => {
    given(...queried100, uploaded(0, 100), mutationStarted(0), mutationCompleted(0, 0, 100), completed(100, 0, 100))
      .when(requestUndo())
      .thenRejects(UndoNotAllowed, { reason: "NOTHING_TO_UNDO" })
    given(
      ...running,
      queryStarted(),
      queryCompleted(100, { snapshotRef: null }),
      uploaded(0, 100),
      mutationStarted(0),
      mutationCompleted(0, 100, 0),
      completed(100, 100, 0)
    )
      .when(requestUndo())
      .thenRejects(UndoNotAllowed, { reason: "NO_SNAPSHOT" })
  })

  it("builds the compensating job's request from the undo event", () => {
    const original = asJob(replay([...completedLiveJob(), undoRequested]))
    const command = undoJobRequest(original, undoRequested, "c".repeat(64))
    given().when(command).then({
      type: "job.requested",
      jobId: UNDO_JOB,
      shop: SHOP,
      input: liveInput,
      inputHash: "c".repeat(64),
      actionRunId: null,
      source: "undo",
      requestedBy: "merchant@example.com",
      undoOf: { jobId: JOB, snapshotRef: SNAPSHOT },
      occurredAt: at(9)
    })
  })
})

describe("the whole lifecycle through decide and evolve", () => {
  const run = (commands: ReadonlyArray<JobCommand>): { events: ReadonlyArray<JobEvent>; state: JobState } => {
    let state = initialState()
    const events: Array<JobEvent> = []
    for (const command of commands) {
      const decision = decide(command, state)
      if (Result.isFailure(decision)) throw new Error(`${command.type} rejected: ${decision.failure._tag}`)
      for (const event of decision.success) {
        events.push(event)
        state = evolve(state, event)
      }
    }
    return { events, state }
  }

  it("runs a two-chunk live job PENDING → RUNNING → COMPLETED, ignoring re-delivered commands", () => {
    const { events, state } = run([
      requestJob(),
      startJob,
      recordQueryStarted(),
      recordQueryStarted(),
      recordQueryCompleted(100),
      recordUpload(0, 60),
      recordMutationStarted(0),
      recordMutationStarted(0),
      recordUpload(1, 40),
      recordMutationStarted(1),
      recordMutationCompleted(0, 60, 0),
      recordMutationCompleted(1, 37, 3, ["x", "y", "z"]),
      recordMutationCompleted(1, 37, 3, ["x", "y", "z"]),
      completeJob
    ])
    expect(events.map((e) => e.type)).toEqual([
      "job.requested",
      "job.started",
      "job.bulk_query_started",
      "job.query_completed",
      "job.mutation_uploaded",
      "job.bulk_mutation_started",
      "job.mutation_uploaded",
      "job.bulk_mutation_started",
      "job.mutation_completed",
      "job.mutation_completed",
      "job.completed"
    ])
    const job = asJob(state)
    expect([job.status, job.updatedCount, job.failedCount, job.errorPreview]).toEqual(["COMPLETED", 97, 3, "x\ny\nz"])
    expect(events.at(-1)).toEqual(completed(100, 97, 3))
  })

  it("runs a dry run PENDING → RUNNING → COMPLETED without any mutation", () => {
    const { events, state } = run([
      requestJob({ input: dryInput }),
      startJob,
      recordQueryStarted(),
      recordQueryCompleted(1523)
    ])
    expect(events.map((e) => e.type)).toEqual([
      "job.requested",
      "job.started",
      "job.bulk_query_started",
      "job.query_completed",
      "job.completed"
    ])
    expect(asJob(state).status).toBe("COMPLETED")
  })

  it("ignores events on a stream that has no job.requested", () => {
    expect(evolve(initialState(), started())).toEqual({ exists: false })
  })
})
