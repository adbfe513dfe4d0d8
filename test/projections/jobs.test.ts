/**
 * The `jobs` and `job_timeline` read models on PostgreSQL 15 and PGlite. Job lifecycles are
 * produced the way the shop actor produces them: each command is decided by the domain's
 * decider against the job's stream, and its events are appended to `job-<jobId>` with the
 * expected version. The projections then fold the global log in small batches (so jobs span
 * batches and their state is reloaded from the table), and a rebuild in one big batch must
 * give byte-identical tables.
 */
import { assert, describe, layer } from "@effect/vitest"
import { Effect, Fiber, Stream } from "effect"
import { SqlClient } from "effect/sql"
import { describeJobEvent, type Job, type JobCommand, type JobParameters, type JobState, undoJobRequest } from "../../domain/jobs/index.ts"
import { jobRow, jobsProjection } from "../../projections/jobs.ts"
import { jobTimelineProjection } from "../../projections/jobTimeline.ts"
import { asTenant } from "../../adapters/postgres/Tenancy.ts"
import { coreLayer } from "../../src/CoreLayer.ts"
import { EventStore } from "../../src/eventstore/EventStore.ts"
import { runProjections } from "../../src/projections/ProjectionRunner.ts"
import { checksum, generations, requestRebuild } from "../../adapters/postgres/PgProjectionStore.ts"
import { backends } from "../support/databases.ts"
import { ev, meta } from "../support/fixtures.ts"
import { awaitCaughtUp } from "../support/projections.ts"
import { decodeStored, handleJobCommand, handleJobCommands, jobParams, requestJob } from "../support/jobCommands.ts"
import { testKeyRing } from "../support/keys.ts"

// ---------------------------------------------------------------------------
// Driving jobs through the decider, as the shop actor does
// ---------------------------------------------------------------------------

const SHOP_A = "alpha.myshopify.com"
const SHOP_B = "beta.myshopify.com"

const id = (n: number) => `${String(n).repeat(8)}-e29b-41d4-a716-446655440000`
const DRY = id(1)
const LIVE = id(2)
const FAILED = id(3)
const EXHAUSTED = id(4)
const UNDO = id(5)
const OTHER = id(6)

const at = (hour: number, minute: number) =>
  `2025-12-27T${String(hour).padStart(2, "0")}:${String(minute).padStart(2, "0")}:00Z`




/** Requests as Flow sends them: each with its own action run id. */
const request = (jobId: string, shop: string, input: JobParameters, when: string) =>
  requestJob(jobId, shop, input, when, { actionRunId: `run-${jobId}` })

const asJob = (state: JobState): Job => {
  if (!state.exists) throw new Error("job does not exist")
  return state
}

const ERROR_LINES = [
  "{\"id\":\"gid://shopify/Product/123\",\"error\":\"Network timeout\"}",
  "{\"id\":\"gid://shopify/Product/456\",\"error\":\"value is invalid\"}",
  "{\"id\":\"gid://shopify/Product/789\",\"error\":\"value is invalid\"}"
]

/**
 * The scenarios: a dry run; a live job with a retry, two chunks and partial failures, then
 * undone; a permanent failure; retries exhausted; the undo job; another shop's pending job.
 * Returns the final state of every job.
 */
const seedJobs = Effect.gen(function*() {
  const states = new Map<string, Job>()
  const dry = yield* handleJobCommands(SHOP_A, [
    request(DRY, SHOP_A, jobParams({ dryRun: true, maxItems: 2000 }), at(10, 0)),
    { type: "StartJob", jobId: DRY, at: at(10, 1) },
    { type: "RecordBulkQueryStarted", jobId: DRY, bulkOperationId: "gid://shopify/BulkOperation/1", at: at(10, 2) },
    {
      type: "RecordQueryCompleted",
      jobId: DRY,
      bulkOperationId: "gid://shopify/BulkOperation/1",
      matchedCount: 1523,
      truncated: false,
      snapshotRef: null,
      at: at(10, 5)
    }
  ])
  states.set(DRY, asJob(dry.state))

  const live = yield* handleJobCommands(SHOP_A, [
    request(LIVE, SHOP_A, jobParams({ queryString: "status:active", maxItems: 150 }), at(11, 0)),
    { type: "StartJob", jobId: LIVE, at: at(11, 1) },
    {
      type: "ScheduleRetry",
      jobId: LIVE,
      failedAttempt: 1,
      reason: "RATE_LIMITED",
      message: "Throttled by Shopify",
      delayMs: null,
      at: at(11, 2)
    },
    { type: "RecordBulkQueryStarted", jobId: LIVE, bulkOperationId: "gid://shopify/BulkOperation/10", at: at(11, 4) },
    {
      type: "RecordQueryCompleted",
      jobId: LIVE,
      bulkOperationId: "gid://shopify/BulkOperation/10",
      matchedCount: 150,
      truncated: true,
      snapshotRef: "snapshots/live.jsonl",
      at: at(11, 10)
    },
    { type: "RecordChunkUploaded", jobId: LIVE, chunkIndex: 0, stagedUploadPath: "tmp/bulk/a", lines: 100, bytes: 20_000, at: at(11, 11) },
    { type: "RecordBulkMutationStarted", jobId: LIVE, chunkIndex: 0, bulkOperationId: "gid://shopify/BulkOperation/11", at: at(11, 12) },
    {
      type: "RecordMutationCompleted",
      jobId: LIVE,
      chunkIndex: 0,
      bulkOperationId: "gid://shopify/BulkOperation/11",
      updatedCount: 99,
      failedCount: 1,
      errorLines: [ERROR_LINES[0]!],
      at: at(11, 20)
    },
    { type: "RecordChunkUploaded", jobId: LIVE, chunkIndex: 1, stagedUploadPath: "tmp/bulk/b", lines: 50, bytes: 10_000, at: at(11, 21) },
    { type: "RecordBulkMutationStarted", jobId: LIVE, chunkIndex: 1, bulkOperationId: "gid://shopify/BulkOperation/12", at: at(11, 22) },
    {
      type: "RecordMutationCompleted",
      jobId: LIVE,
      chunkIndex: 1,
      bulkOperationId: "gid://shopify/BulkOperation/12",
      updatedCount: 48,
      failedCount: 2,
      errorLines: [ERROR_LINES[1]!, ERROR_LINES[2]!],
      at: at(11, 30)
    },
    { type: "CompleteJob", jobId: LIVE, at: at(11, 31) },
    { type: "RequestUndo", jobId: LIVE, undoJobId: UNDO, requestedBy: "merchant@example.com", at: at(15, 0) }
  ])
  states.set(LIVE, asJob(live.state))
  const undoRequested = live.events.find((e) => e.type === "job.undo_requested")
  if (undoRequested?.type !== "job.undo_requested") throw new Error("undo was not requested")
  const undo = yield* handleJobCommand(SHOP_A, undoJobRequest(asJob(live.state), undoRequested, "f".repeat(64)))
  states.set(UNDO, asJob(undo.state))

  const failed = yield* handleJobCommands(SHOP_A, [
    request(FAILED, SHOP_A, jobParams({ queryString: "status:active AND (" }), at(12, 0)),
    { type: "StartJob", jobId: FAILED, at: at(12, 1) },
    { type: "RecordBulkQueryStarted", jobId: FAILED, bulkOperationId: "gid://shopify/BulkOperation/20", at: at(12, 2) },
    { type: "FailJob", jobId: FAILED, code: "INVALID_QUERY", message: "Invalid search query syntax", at: at(12, 3) }
  ])
  states.set(FAILED, asJob(failed.state))

  const retry = (failedAttempt: number, minute: number): JobCommand => ({
    type: "ScheduleRetry",
    jobId: EXHAUSTED,
    failedAttempt,
    reason: "SHOPIFY_UNAVAILABLE",
    message: "503 from Shopify",
    delayMs: null,
    at: at(13, minute)
  })
  const exhausted = yield* handleJobCommands(SHOP_A, [
    request(EXHAUSTED, SHOP_A, jobParams({ key: "winter_badge", type: "boolean", value: "true" }), at(13, 0)),
    { type: "StartJob", jobId: EXHAUSTED, at: at(13, 1) },
    retry(1, 2),
    retry(2, 4),
    retry(3, 8)
  ])
  states.set(EXHAUSTED, asJob(exhausted.state))

  const other = yield* handleJobCommand(SHOP_B, request(OTHER, SHOP_B, jobParams({ namespace: "beta_ns" }), at(14, 0)))
  states.set(OTHER, asJob(other.state))
  return states
})


/** Runs both job projections until they are caught up with the log. */
const projectJobs = (batchSize: number) =>
  Effect.gen(function*() {
    const runner = yield* Effect.forkChild(runProjections([jobsProjection, jobTimelineProjection], { batchSize }))
    yield* awaitCaughtUp("jobs")
    yield* awaitCaughtUp("job_timeline")
    yield* Fiber.interrupt(runner)
  })

// ---------------------------------------------------------------------------
// Suites
// ---------------------------------------------------------------------------

interface JobsRow {
  job_id: string
  shop: string
  status: string
  query_string: string
  namespace: string
  key: string
  type: string
  value: string
  dry_run: boolean
  max_items: number
  matched_count: number | null
  updated_count: number | null
  failed_count: number | null
  error_preview: string | null
  truncated: boolean
  undo_of: string | null
  undone_by: string | null
  attempt: number
  failure_code: string | null
  failure_message: string | null
  created_at: Date
  updated_at: Date
  state: Job
}

const plain = (r: JobsRow) => ({ ...r, created_at: r.created_at.toISOString(), updated_at: r.updated_at.toISOString() })
const iso = (s: string) => new Date(s).toISOString()

for (const backend of backends) {
  describe(`job projections on ${backend.name}`, () => {
    layer(coreLayer(backend.layer(), testKeyRing()), { excludeTestServices: true, timeout: 120_000 })((it) => {
      it.effect("fold dry runs, partial failures, failures, retries and undo into jobs rows", () =>
        Effect.gen(function*() {
          const sql = yield* SqlClient.SqlClient
          const store = yield* EventStore
          const states = yield* seedJobs
          // Noise the projections must step over without stalling: an undecodable job event,
          // and another shop's stream carrying an event about shop A's job.
          yield* store.append(`job-${id(7)}`, SHOP_A, "any", [ev("job.requested", { jobId: id(7) })], meta())
          yield* store.append("job-forged", SHOP_B, "any", [
            ev("job.completed", {
              type: "job.completed",
              jobId: FAILED,
              dryRun: false,
              matchedCount: 9,
              updatedCount: 9,
              failedCount: 0,
              occurredAt: at(16, 0)
            })
          ], meta())
          // small batches: every job spans several, so its state is reloaded from the table
          yield* projectJobs(3)

          const rows = yield* sql<JobsRow>`SELECT * FROM jobs ORDER BY created_at`
          assert.deepStrictEqual(rows.map((r) => r.job_id), [DRY, LIVE, FAILED, EXHAUSTED, OTHER, UNDO])
          const byId = new Map(rows.map((r) => [r.job_id, r]))

          // dry run: matched known, nothing written (null counts, as the seed's nullable fields)
          const { state: _dryState, ...dry } = plain(byId.get(DRY)!)
          assert.deepStrictEqual(dry, {
            job_id: DRY,
            shop: SHOP_A,
            status: "COMPLETED",
            query_string: "status:active tag:winter",
            namespace: "custom",
            key: "seasonal_badge",
            type: "single_line_text_field",
            value: "Winter Collection",
            dry_run: true,
            max_items: 2000,
            matched_count: 1523,
            updated_count: null,
            failed_count: null,
            error_preview: null,
            truncated: false,
            undo_of: null,
            undone_by: null,
            attempt: 1,
            failure_code: null,
            failure_message: null,
            created_at: iso(at(10, 0)),
            updated_at: iso(at(10, 5))
          })

          // live: two chunks summed, error lines of both chunks in order, one retry, undone
          const live = byId.get(LIVE)!
          assert.strictEqual(live.status, "COMPLETED")
          assert.strictEqual(live.matched_count, 150)
          assert.strictEqual(live.truncated, true)
          assert.strictEqual(live.updated_count, 147)
          assert.strictEqual(live.failed_count, 3)
          assert.strictEqual(live.error_preview, ERROR_LINES.join("\n"))
          assert.strictEqual(live.attempt, 2)
          assert.strictEqual(live.undone_by, UNDO)
          assert.strictEqual(live.updated_at.toISOString(), iso(at(15, 0)))

          // permanent failure before any mutation
          const failed = byId.get(FAILED)!
          assert.deepStrictEqual(
            [failed.status, failed.failure_code, failed.failure_message, failed.matched_count, failed.updated_count],
            ["FAILED", "INVALID_QUERY", "Invalid search query syntax", null, null]
          )

          // retries exhausted: attempt 3, then the decider failed it
          const exhausted = byId.get(EXHAUSTED)!
          assert.deepStrictEqual(
            [exhausted.status, exhausted.attempt, exhausted.failure_code, exhausted.key, exhausted.type],
            ["FAILED", 3, "RETRIES_EXHAUSTED", "winter_badge", "boolean"]
          )

          // the compensating job: pending, live, pointing at the job it undoes
          const undo = byId.get(UNDO)!
          assert.deepStrictEqual([undo.status, undo.undo_of, undo.dry_run, undo.shop], ["PENDING", LIVE, false, SHOP_A])
          assert.strictEqual(byId.get(OTHER)!.shop, SHOP_B)

          // every row is exactly the domain's fold of its stream, however the batches fell
          for (const [jobId, state] of states) {
            const expected = jobRow(jobId === OTHER ? SHOP_B : SHOP_A, state)
            const { state: storedState, ...rest } = plain(byId.get(jobId)!)
            const { state: expectedState, ...expectedRest } = expected
            assert.deepStrictEqual(storedState, expectedState)
            assert.deepStrictEqual(rest, { ...expectedRest, created_at: iso(expected.created_at), updated_at: iso(expected.updated_at) })
          }
        }))

      it.effect("job_timeline: one row per job event, in log order, in the seed's names", () =>
        Effect.gen(function*() {
          const sql = yield* SqlClient.SqlClient
          const timeline = yield* sql<{ event_type: string; message: string; created_at: Date; shop: string }>`
            SELECT event_type, message, created_at, shop FROM job_timeline WHERE job_id = ${LIVE} ORDER BY position`
          assert.deepStrictEqual(timeline.map((e) => e.event_type), [
            "JOB_CREATED",
            "JOB_STARTED",
            "RETRY_SCHEDULED",
            "QUERY_STARTED",
            "QUERY_COMPLETED",
            "UPLOAD_COMPLETED",
            "MUTATION_STARTED",
            "MUTATION_COMPLETED",
            "UPLOAD_COMPLETED",
            "MUTATION_STARTED",
            "MUTATION_COMPLETED",
            "JOB_COMPLETED",
            "UNDO_REQUESTED"
          ])
          assert.isTrue(timeline.every((e) => e.shop === SHOP_A))
          assert.strictEqual(timeline[11]!.message, "Bulk job 22222222… completed: 147 updated, 3 failed")
          assert.strictEqual(timeline[11]!.created_at.toISOString(), iso(at(11, 31)))
          assert.strictEqual(
            timeline[4]!.message,
            "Bulk job 22222222… query completed: 150 products matched (more matched; capped by max_items)"
          )
          // the messages are the domain's own descriptions of the stored events
          const store = yield* EventStore
          const stored = Array.from(yield* Stream.runCollect(store.readStream(`job-${LIVE}`)))
          assert.deepStrictEqual(
            timeline.map((e) => e.message),
            stored.map((e) => describeJobEvent(decodeStored(e.data, e.type)).message)
          )
          // dry run: the decider's own completion follows the query in the same append
          const dry = yield* sql<{ event_type: string }>`SELECT event_type FROM job_timeline WHERE job_id = ${DRY} ORDER BY position`
          assert.deepStrictEqual(dry.map((e) => e.event_type), ["JOB_CREATED", "JOB_STARTED", "QUERY_STARTED", "QUERY_COMPLETED", "JOB_COMPLETED"])
          // skipped: the undecodable event and the forged cross-stream one
          const skipped = yield* sql<{ n: number }>`
            SELECT count(*)::int AS n FROM job_timeline WHERE job_id = ${id(7)} OR shop = ${SHOP_B} AND job_id <> ${OTHER}`
          assert.strictEqual(skipped[0]!.n, 0)
          const total = yield* sql<{ n: number }>`SELECT count(*)::int AS n FROM job_timeline`
          const jobEvents = yield* sql<{ n: number }>`
            SELECT count(*)::int AS n FROM events WHERE type LIKE 'job.%' AND stream_id NOT IN (${`job-${id(7)}`}, 'job-forged')`
          assert.strictEqual(total[0]!.n, jobEvents[0]!.n)
        }))

      it.effect("the read models are tenant-scoped: shop B's session sees only shop B's jobs and events", () =>
        Effect.gen(function*() {
          const sql = yield* SqlClient.SqlClient
          const jobs = yield* asTenant(SHOP_B, sql<{ job_id: string }>`SELECT job_id FROM jobs`)
          assert.deepStrictEqual(jobs.map((r) => r.job_id), [OTHER])
          const events = yield* asTenant(SHOP_B, sql<{ job_id: string }>`SELECT DISTINCT job_id FROM job_timeline`)
          assert.deepStrictEqual(events.map((r) => r.job_id), [OTHER])
          const probe = yield* asTenant(SHOP_B, sql`SELECT * FROM job_timeline WHERE job_id = ${LIVE}`)
          assert.strictEqual(probe.length, 0)
        }))

      it.effect("a rebuild from the log (one big batch) gives the same tables, byte for byte", () =>
        Effect.gen(function*() {
          const sql = yield* SqlClient.SqlClient
          const before = new Map<string, { generation: number; sha256: string; rows: number }>()
          for (const projection of [jobsProjection, jobTimelineProjection]) {
            const live = (yield* generations(sql, projection.name)).find((g) => g.status === "live")!
            const sum = yield* checksum(sql, projection, live.generation)
            assert.isTrue(sum.rows > 0)
            before.set(projection.name, { generation: live.generation, ...sum })
            yield* requestRebuild(sql, projection)
          }
          yield* projectJobs(10_000)
          for (const projection of [jobsProjection, jobTimelineProjection]) {
            const live = (yield* generations(sql, projection.name)).find((g) => g.status === "live")!
            const old = before.get(projection.name)!
            assert.isAbove(live.generation, old.generation)
            const sum = yield* checksum(sql, projection, live.generation)
            assert.deepStrictEqual({ sha256: sum.sha256, rows: sum.rows }, { sha256: old.sha256, rows: old.rows })
          }
          const rows = yield* sql<{ n: number }>`SELECT count(*)::int AS n FROM jobs`
          assert.strictEqual(rows[0]!.n, 6)
        }))
    })
  })
}

