/**
 * The undo guard of bulk jobs, without a database: what an undo does with each product
 * (`undoStep`), and how the job decider records force, the products changed since and their
 * counts — given events / when command / then events.
 */
import { Result } from "effect"
import { describe, expect, it } from "vitest"
import {
  CHANGED_SINCE_REASON,
  decodeJobEvent,
  describeJobEvent,
  InvalidJobCommand,
  type Job,
  type JobCommand,
  type JobEvent,
  type JobState,
  type JobUndoRequested,
  needsCurrent,
  REMOVED_SINCE_REASON,
  replay,
  undoJobRequest,
  UndoNotAllowed,
  undoStep,
  type WrittenOutcome
} from "../../../domain/jobs/index.ts"
import {
  at,
  completed,
  completedLiveJob,
  given,
  JOB,
  liveInput,
  MUTATION_OP,
  mutationStarted,
  queryCompleted,
  requested,
  SNAPSHOT,
  started,
  UNDO_JOB,
  uploaded
} from "./fixtures.ts"

const written = { value: "Winter", type: "single_line_text_field" }
const previous = { value: "Before", type: "single_line_text_field" }
const digest = (c: string) => c.repeat(64)
const writtenOutcome: WrittenOutcome = { kind: "written", digest: digest("a") }
const unknown: WrittenOutcome = { kind: "unknown" }

describe("undoStep: what the undo does with one product", () => {
  it("restores a previous value guarded by the digest the job wrote, without reading it first", () => {
    expect(needsCurrent(previous, writtenOutcome, false)).toBe(false)
    expect(undoStep({ previous, outcome: writtenOutcome, written, force: false })).toEqual({ kind: "restore", compareDigest: digest("a") })
  })

  it("deletes a metafield the job created only when its current digest is still the one the job wrote", () => {
    expect(needsCurrent(null, writtenOutcome, false)).toBe(true)
    const current = { ...written, compareDigest: digest("a") }
    expect(undoStep({ previous: null, outcome: writtenOutcome, written, current, force: false })).toEqual({ kind: "delete" })
    const edited = { value: "Merchant", type: "single_line_text_field", compareDigest: digest("b") }
    expect(undoStep({ previous: null, outcome: writtenOutcome, written, current: edited, force: false }))
      .toEqual({ kind: "changed_since", reason: CHANGED_SINCE_REASON })
    // same value, saved again by someone: a later change all the same (Shopify's digest moved)
    const resaved = { ...written, compareDigest: digest("c") }
    expect(undoStep({ previous: null, outcome: writtenOutcome, written, current: resaved, force: false }).kind).toBe("changed_since")
    expect(undoStep({ previous: null, outcome: writtenOutcome, written, current: null, force: false }))
      .toEqual({ kind: "changed_since", reason: REMOVED_SINCE_REASON })
  })

  it("leaves alone a product whose write failed: the job never changed it", () => {
    expect(needsCurrent(previous, { kind: "failed" }, false)).toBe(false)
    expect(undoStep({ previous, outcome: { kind: "failed" }, written, force: false })).toEqual({ kind: "skip" })
    expect(undoStep({ previous: null, outcome: { kind: "failed" }, written, force: false })).toEqual({ kind: "skip" })
  })

  it("without a recorded digest, compares the current value with the one the job wrote", () => {
    expect(needsCurrent(previous, unknown, false)).toBe(true)
    const same = { ...written, compareDigest: digest("d") }
    expect(undoStep({ previous, outcome: unknown, written, current: same, force: false })).toEqual({ kind: "restore", compareDigest: digest("d") })
    expect(undoStep({ previous: null, outcome: unknown, written, current: same, force: false })).toEqual({ kind: "delete" })
    const edited = { value: "Merchant", type: "single_line_text_field", compareDigest: digest("e") }
    expect(undoStep({ previous, outcome: unknown, written, current: edited, force: false }).kind).toBe("changed_since")
    const retyped = { value: "Winter", type: "multi_line_text_field", compareDigest: digest("e") }
    expect(undoStep({ previous, outcome: unknown, written, current: retyped, force: false }).kind).toBe("changed_since")
    expect(undoStep({ previous, outcome: unknown, written, current: null, force: false }).kind).toBe("changed_since")
  })

  it("when forced, restores or deletes every product unconditionally and reads nothing", () => {
    for (const outcome of [writtenOutcome, unknown, { kind: "failed" } as const]) {
      expect(needsCurrent(null, outcome, true)).toBe(false)
      expect(undoStep({ previous, outcome, written, force: true })).toEqual({ kind: "restore", compareDigest: null })
      expect(undoStep({ previous: null, outcome, written, force: true })).toEqual({ kind: "delete" })
    }
  })
})

// --- the decider --------------------------------------------------------------------------

const asJob = (state: JobState): Job => {
  if (!state.exists) throw new Error("expected a job")
  return state
}

const requestUndo = (undoJobId = UNDO_JOB, force?: boolean): JobCommand => ({
  type: "RequestUndo",
  jobId: JOB,
  undoJobId,
  requestedBy: "merchant@example.com",
  ...(force === undefined ? {} : { force }),
  at: at(9)
})

const undoRequested = (undoJobId = UNDO_JOB, force = false): JobUndoRequested => ({
  type: "job.undo_requested",
  jobId: JOB,
  undoJobId,
  requestedBy: "merchant@example.com",
  snapshotRef: SNAPSHOT,
  ...(force ? { force: true } : {}),
  occurredAt: at(9)
})

describe("RequestUndo with force", () => {
  it("records a forced undo, and the compensating job carries force", () => {
    given(...completedLiveJob()).when(requestUndo(UNDO_JOB, true)).then(undoRequested(UNDO_JOB, true))
    const original = asJob(replay([...completedLiveJob(), undoRequested(UNDO_JOB, true)]))
    expect(original.undoForced).toBe(true)
    expect(undoJobRequest(original, undoRequested(UNDO_JOB, true), "c".repeat(64)).undoOf).toEqual({
      jobId: JOB,
      snapshotRef: SNAPSHOT,
      force: true
    })
  })

  it("lets a forced undo follow an unforced one, and nothing follow a forced one", () => {
    given(...completedLiveJob(), undoRequested()).when(requestUndo("second", true)).then(undoRequested("second", true))
    given(...completedLiveJob(), undoRequested()).when(requestUndo("second")).thenRejects(UndoNotAllowed, { reason: "ALREADY_UNDONE" })
    given(...completedLiveJob(), undoRequested(), undoRequested("second", true))
      .when(requestUndo("third", true))
      .thenRejects(UndoNotAllowed, { reason: "ALREADY_UNDONE" })
    given(...completedLiveJob(), undoRequested(UNDO_JOB, true)).when(requestUndo("second", true)).thenRejects(UndoNotAllowed)
    // a redelivery of the forced follow-up is a no-op
    given(...completedLiveJob(), undoRequested(), undoRequested("second", true)).when(requestUndo("second", true)).thenNothing()
  })
})

describe("an undo job's products changed since", () => {
  const undoOf = { jobId: "original", snapshotRef: SNAPSHOT }
  const undoJob = [requested(liveInput, { source: "undo", undoOf }), started()] as const
  const line = (n: number) => JSON.stringify({ line: null, ownerId: `gid://shopify/Product/${n}`, kind: "changed_since", reason: CHANGED_SINCE_REASON })
  const queryResult = (matchedCount: number, changedSinceCount: number): JobCommand => ({
    type: "RecordQueryCompleted",
    jobId: JOB,
    bulkOperationId: null,
    matchedCount,
    truncated: false,
    snapshotRef: UNDO_JOB,
    changedSinceCount,
    errorLines: [line(3), line(5)],
    at: at(3)
  })
  const mutationResult = (updatedCount: number, changedSinceCount: number): JobCommand => ({
    type: "RecordMutationCompleted",
    jobId: JOB,
    chunkIndex: 0,
    bulkOperationId: MUTATION_OP,
    updatedCount,
    failedCount: 0,
    changedSinceCount,
    errorLines: [line(7)],
    at: at(6)
  })
  const queried = queryCompleted(8, { bulkOperationId: null, snapshotRef: UNDO_JOB, changedSinceCount: 2, errorPreview: `${line(3)}\n${line(5)}` })

  it("are counted and previewed when the undo's snapshot step finds them", () => {
    given(...undoJob).when(queryResult(8, 2)).then(queried)
    const job = asJob(replay([...undoJob, queried]))
    expect([job.changedSinceCount, job.errorPreview]).toEqual([2, `${line(3)}\n${line(5)}`])
    expect(describeJobEvent(queried).message).toMatch(/8 products matched, 2 left as they are \(changed since the job; kept the newer value\)$/)
  })

  it("are added up with the ones Shopify refused (STALE_OBJECT) into the completed undo's count", () => {
    const mutated: JobEvent = {
      type: "job.mutation_completed",
      jobId: JOB,
      chunkIndex: 0,
      bulkOperationId: MUTATION_OP,
      updatedCount: 7,
      failedCount: 0,
      changedSinceCount: 1,
      errorPreview: line(7),
      occurredAt: at(6)
    }
    const upTo = [...undoJob, queried, uploaded(0, 8), mutationStarted(0)] as const
    given(...upTo).when(mutationResult(7, 1)).then(mutated)
    given(...upTo, mutated).when(mutationResult(7, 1)).thenNothing()
    given(...upTo).when(mutationResult(8, 1)).thenRejects(InvalidJobCommand)
    const done = given(...upTo, mutated).when({ type: "CompleteJob", jobId: JOB, at: at(7) }).thenEventsMatch({
      type: "job.completed",
      matchedCount: 8,
      updatedCount: 7,
      failedCount: 0,
      changedSinceCount: 3
    })
    const job = asJob(replay([...upTo, mutated, ...done]))
    expect(job.changedSinceCount).toBe(3)
    expect(job.errorPreview.split("\n")).toHaveLength(3)
    expect(describeJobEvent(done[0]!).message).toMatch(/7 updated, 0 failed, 3 not restored \(changed since the job; kept the newer value\)$/)
  })

  it("complete the undo at once when every product changed since", () => {
    given(...undoJob).when(queryResult(0, 2)).thenEventsMatch(
      { type: "job.query_completed", matchedCount: 0, changedSinceCount: 2 },
      { type: "job.completed", matchedCount: 0, updatedCount: 0, failedCount: 0, changedSinceCount: 2 }
    )
  })

  it("are refused from a job that is not an undo (it sends no compareDigest)", () => {
    given(requested(), started(), { type: "job.bulk_query_started", jobId: JOB, bulkOperationId: "gid://shopify/BulkOperation/100", occurredAt: at(2) })
      .when({ ...queryResult(8, 2), bulkOperationId: "gid://shopify/BulkOperation/100" } as JobCommand)
      .thenRejects(InvalidJobCommand)
  })

  it("are absent from the events when there are none, so a plain undo's events are as before", () => {
    const events = given(...undoJob).when({ ...queryResult(8, 0), errorLines: [] } as JobCommand).thenEventsMatch({ type: "job.query_completed" })
    expect(events[0]).not.toHaveProperty("changedSinceCount")
    expect(events[0]).not.toHaveProperty("errorPreview")
    given(...completedLiveJob()).when(requestUndo()).then(undoRequested())
  })
})

describe("events stored before the undo guard", () => {
  it("still decode, and fold to no changes since and an unforced undo", () => {
    const stored: ReadonlyArray<unknown> = [
      ...completedLiveJob(),
      { type: "job.undo_requested", jobId: JOB, undoJobId: UNDO_JOB, requestedBy: null, snapshotRef: SNAPSHOT, occurredAt: at(9) }
    ].map((e) => JSON.parse(JSON.stringify(e)))
    const decoded = stored.map((e) => decodeJobEvent(e))
    for (const d of decoded) expect(Result.isSuccess(d)).toBe(true)
    const job = asJob(replay(decoded.map((d) => Result.getOrThrow(d))))
    expect([job.changedSinceCount, job.undoForced, job.undoneBy, job.chunks[0]?.result]).toEqual([
      0,
      false,
      UNDO_JOB,
      { updatedCount: 97, failedCount: 3, changedSinceCount: 0 }
    ])
    const undoJob = decodeJobEvent({
      type: "job.requested",
      jobId: UNDO_JOB,
      shop: "example.myshopify.com",
      input: liveInput,
      inputHash: "c".repeat(64),
      actionRunId: null,
      source: "undo",
      requestedBy: null,
      undoOf: { jobId: JOB, snapshotRef: SNAPSHOT },
      occurredAt: at(9)
    })
    expect(Result.isSuccess(undoJob) && undoJob.success.type === "job.requested" && undoJob.success.undoOf?.force).toBe(undefined)
    expect(completed(100, 97, 3)).not.toHaveProperty("changedSinceCount")
  })
})
