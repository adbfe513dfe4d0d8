import { Result } from "effect"
import { expect } from "vitest"
import {
  decide,
  decodeJobEvent,
  replay,
  type JobBulkMutationStarted,
  type JobBulkQueryStarted,
  type JobCommand,
  type JobCompleted,
  type JobDecisionError,
  type JobEvent,
  type JobFailed,
  type JobMutationCompleted,
  type JobMutationUploaded,
  type JobParameters,
  type JobQueryCompleted,
  type JobRequested,
  type JobStarted
} from "../../../domain/jobs/index.ts"

export const JOB = "550e8400-e29b-41d4-a716-446655440000"
export const UNDO_JOB = "7c9e6679-7425-40de-944b-e07fc1f90ae7"
export const SHOP = "example.myshopify.com"
export const HASH = "a".repeat(64)
export const QUERY_OP = "gid://shopify/BulkOperation/100"
export const QUERY_OP_2 = "gid://shopify/BulkOperation/101"
export const MUTATION_OP = "gid://shopify/BulkOperation/200"
export const MUTATION_OP_2 = "gid://shopify/BulkOperation/201"
export const SNAPSHOT = "snapshots/example/550e8400.jsonl"
export const PATH_0 = "tmp/21759409/bulk/aaaa/bulk_op_vars"
export const PATH_1 = "tmp/21759409/bulk/bbbb/bulk_op_vars"

/** Distinct, increasing command times: the decider must copy them, never read a clock. */
export const at = (minute: number): string => `2025-12-27T10:${String(minute).padStart(2, "0")}:00Z`

export const liveInput: JobParameters = {
  queryString: "status:active tag:winter",
  namespace: "custom",
  key: "seasonal_badge",
  type: "single_line_text_field",
  value: "Winter Collection",
  dryRun: false,
  maxItems: 5000
}
export const dryInput: JobParameters = { ...liveInput, dryRun: true }

// --- events -----------------------------------------------------------------

export const requested = (input: JobParameters = liveInput, overrides: Partial<JobRequested> = {}): JobRequested => ({
  type: "job.requested",
  jobId: JOB,
  shop: SHOP,
  input,
  inputHash: HASH,
  actionRunId: "run-1",
  source: "flow",
  requestedBy: null,
  undoOf: null,
  occurredAt: at(0),
  ...overrides
})
export const started = (): JobStarted => ({ type: "job.started", jobId: JOB, occurredAt: at(1) })
export const queryStarted = (bulkOperationId = QUERY_OP): JobBulkQueryStarted => ({
  type: "job.bulk_query_started",
  jobId: JOB,
  bulkOperationId,
  occurredAt: at(2)
})
export const queryCompleted = (
  matchedCount: number,
  overrides: Partial<JobQueryCompleted> = {}
): JobQueryCompleted => ({
  type: "job.query_completed",
  jobId: JOB,
  bulkOperationId: QUERY_OP,
  matchedCount,
  truncated: false,
  snapshotRef: SNAPSHOT,
  occurredAt: at(3),
  ...overrides
})
export const uploaded = (chunkIndex: number, lines: number, stagedUploadPath = chunkIndex === 0 ? PATH_0 : PATH_1): JobMutationUploaded => ({
  type: "job.mutation_uploaded",
  jobId: JOB,
  chunkIndex,
  stagedUploadPath,
  lines,
  bytes: lines * 200,
  occurredAt: at(4)
})
export const mutationStarted = (chunkIndex: number, bulkOperationId = chunkIndex === 0 ? MUTATION_OP : MUTATION_OP_2): JobBulkMutationStarted => ({
  type: "job.bulk_mutation_started",
  jobId: JOB,
  chunkIndex,
  bulkOperationId,
  occurredAt: at(5)
})
export const mutationCompleted = (
  chunkIndex: number,
  updatedCount: number,
  failedCount: number,
  errorPreview = ""
): JobMutationCompleted => ({
  type: "job.mutation_completed",
  jobId: JOB,
  chunkIndex,
  bulkOperationId: chunkIndex === 0 ? MUTATION_OP : MUTATION_OP_2,
  updatedCount,
  failedCount,
  errorPreview,
  occurredAt: at(6)
})
export const completed = (matchedCount: number, updatedCount: number, failedCount: number, dryRun = false): JobCompleted => ({
  type: "job.completed",
  jobId: JOB,
  dryRun,
  matchedCount,
  updatedCount,
  failedCount,
  occurredAt: at(7)
})
export const failed = (): JobFailed => ({
  type: "job.failed",
  jobId: JOB,
  code: "INVALID_QUERY",
  message: "Invalid search query syntax",
  occurredAt: at(7)
})

/** A live job of 100 products, one chunk, done: 97 updated, 3 failed. */
export const completedLiveJob = (): ReadonlyArray<JobEvent> => [
  requested(),
  started(),
  queryStarted(),
  queryCompleted(100),
  uploaded(0, 100),
  mutationStarted(0),
  mutationCompleted(0, 97, 3, "{\"line\":1}"),
  completed(100, 97, 3)
]

// --- given / when / then ------------------------------------------------------

type ErrorClass = abstract new(...args: never) => JobDecisionError

/**
 * `given(events).when(command)` decides on the replayed state; `then…`
 * asserts. Every emitted event must also decode with the event schema.
 */
export const given = (...events: ReadonlyArray<JobEvent>) => ({
  when: (command: JobCommand) => {
    const decision = decide(command, replay(events))
    const events_ = (): ReadonlyArray<JobEvent> => {
      if (Result.isFailure(decision)) {
        throw new Error(`expected events, got ${decision.failure._tag}: ${JSON.stringify(decision.failure)}`)
      }
      for (const event of decision.success) {
        expect(Result.isSuccess(decodeJobEvent(event)), `${event.type} must decode`).toBe(true)
      }
      return decision.success
    }
    return {
      then: (...expected: ReadonlyArray<JobEvent>) => {
        expect(events_()).toEqual(expected)
      },
      thenNothing: () => {
        expect(events_()).toEqual([])
      },
      thenEventsMatch: (...expected: ReadonlyArray<Record<string, unknown>>) => {
        const actual = events_()
        expect(actual).toHaveLength(expected.length)
        expected.forEach((e, i) => expect(actual[i]).toMatchObject(e))
        return actual
      },
      thenRejects: <E extends ErrorClass>(cls: E, fields: Partial<InstanceType<E>> = {}) => {
        if (Result.isSuccess(decision)) {
          throw new Error(`expected ${cls.name}, got events ${JSON.stringify(decision.success)}`)
        }
        expect(decision.failure).toBeInstanceOf(cls)
        expect(decision.failure).toMatchObject(fields)
        return decision.failure as InstanceType<E>
      }
    }
  }
})
