/**
 * The bulk-metafield job as a process of the shop actor (seed 002's worker, event-sourced).
 * Every step is: a message → the job decider → events (job stream + the shop's job queue) →
 * after the commit, the step's side effect (`JobSteps`) → its result published back to the
 * shop as a `job.progress` message. Nothing here waits on Shopify inside a transaction, and
 * the shop's mailbox is never blocked by a running bulk operation.
 *
 * - One job runs per shop at a time (seed: concurrency 1); others wait in request order in
 *   the shop's `jobqueue-<shop>` stream.
 * - Bulk operations are followed by durable poll timers (accelerated by the
 *   `bulk_operations/finish` webhook); a watchdog timer re-drives a step whose side effect was
 *   lost in a crash. Steps are idempotent (see `JobSteps`).
 * - Results of an older attempt (after a retry) are ignored.
 *
 * Observability (seed 002, "Monitoring & Observability"): every step's side effect logs one
 * line with the seed's fields — `shop_id`, `job_id`, `event_type`, `duration_ms` (the step,
 * measured around its side effect), the step's counts (`matched_count`, `updated_count`,
 * `failed_count`, `line_count`, `byte_count`) — plus `step`, `attempt`, `chunk_index`,
 * `bulk_operation_id` where they apply. The job's lifecycle (JOB_CREATED, JOB_STARTED,
 * RETRY_SCHEDULED, JOB_COMPLETED, JOB_FAILED) is logged, and the job metrics (`src/server/Metrics.ts`) are
 * updated, after the commit of the message that decided it: a redelivered message is a
 * duplicate, has no after-commit, and so never counts a job twice.
 */
import { Duration, Effect, Metric, Result } from "effect"
import { uuidV7Unsafe } from "effect/crypto/SecureRandom"
import {
  decide,
  describeJobEvent,
  evolve,
  JOB_EVENT_SCHEMA_VERSIONS,
  type Job,
  type JobCommand,
  type JobEvent,
  type JobState,
  undoJobRequest
} from "../../domain/jobs/index.ts"
import { canonicalUndoInput } from "../../domain/jobs/inputHash.ts"
import { createHash } from "node:crypto"
import type { NewEvent } from "../../domain/events/Envelope.ts"
import { EventStore, type PersistenceError } from "../eventstore/EventStore.ts"
import { ShopLog } from "../shoplog/ShopLog.ts"
import { enqueue, finish as finishQueued, type JobQueue, type JobQueueEvent, evolveQueue, startNext as startNextQueued } from "../../domain/jobs/JobQueue.ts"
import { encodeShopMessage, type JobProgress, type JobTarget } from "../../domain/messages/ShopMessages.ts"
import type { Append, Decision, HandlerContext, HandlerRegistry, ScheduledMessage, TypedHandlerContext } from "../actors/ShopHandlers.ts"
import { JobSteps, type StepError } from "./JobSteps.ts"
import { jobQueueFold } from "./JobQueueFold.ts"
import { jobStateFold } from "./JobStateFold.ts"
import { jobDuration, jobQueueDepth, jobSizeBucket, jobsFinished } from "../server/Metrics.ts"

export interface JobTimings {
  /** Delay between polls of a running bulk query / mutation (seed: 5 s / 10 s). */
  readonly pollQueryMs: number
  readonly pollMutationMs: number
  /** A step with no news for this long is run again (its effect may have died with a worker). */
  readonly watchdogMs: number
  /** Overrides the seed's retry backoff (60 s, 120 s) — for tests and demos. */
  readonly retryDelayMs: number | null
}

export const defaultTimings: JobTimings = { pollQueryMs: 5_000, pollMutationMs: 10_000, watchdogMs: 120_000, retryDelayMs: null }

type Target = JobTarget

/** What the job's helpers need of a handler's context (not the message). */
type JobContext = Omit<HandlerContext, "message">

interface LoadedQueue {
  readonly queue: JobQueue
  readonly version: number
}

interface Loaded {
  readonly state: JobState
  readonly version: number
}

const jobStream = (jobId: string) => `job-${jobId}`
const queueStream = (shop: string) => `jobqueue-${shop}`
const now = () => new Date().toISOString()

const toNewEvents = (events: ReadonlyArray<JobEvent>): ReadonlyArray<NewEvent> =>
  events.map((e) => ({ type: e.type, data: e, schemaVersion: JOB_EVENT_SCHEMA_VERSIONS[e.type], occurredAt: new Date(e.occurredAt) }))

/** The side effects a job runs, as named in its step log lines (`step`). */
type StepName = "submit_query" | "poll" | "store_snapshot" | "upload_chunk" | "submit_chunk" | "read_chunk_result"

type LogLevel = "Debug" | "Info" | "Warn"

/**
 * A step's log line from what it reports: level, the seed's `event_type` (the timeline name of
 * the event its result leads to), a message, and the step's own fields.
 */
const stepLine = (p: JobProgress): { readonly level: LogLevel; readonly eventType: string; readonly message: string; readonly fields: Record<string, unknown> } => {
  switch (p.kind) {
    case "query_submitted":
      return { level: "Info", eventType: "QUERY_STARTED", message: `bulk query ${p.bulkOperationId} submitted`, fields: { bulk_operation_id: p.bulkOperationId } }
    case "status": {
      const s = p.status
      const running = s.status === "CREATED" || s.status === "RUNNING" || s.status === "CANCELING"
      return {
        // a running job polls every few seconds: only the poll that sees the end is news
        level: running ? "Debug" : "Info",
        eventType: "BULK_OPERATION_POLLED",
        message: `bulk ${p.target.kind === "query" ? "query" : "mutation"} ${p.bulkOperationId} is ${s.status}`,
        fields: {
          bulk_operation_id: p.bulkOperationId,
          bulk_operation_status: s.status,
          object_count: s.objectCount,
          ...(s.errorCode === null ? {} : { error_code: s.errorCode }),
          ...(p.target.kind === "chunk" ? { chunk_index: p.target.chunkIndex } : {})
        }
      }
    }
    case "snapshot_stored":
      return {
        level: "Info",
        eventType: "QUERY_COMPLETED",
        message: `snapshot stored: ${p.matched} products matched${p.truncated ? " (truncated at max_items)" : ""}${
          p.changedSince ? `, ${p.changedSince} changed since the job (left as they are)` : ""
        }`,
        fields: {
          matched_count: p.matched,
          truncated: p.truncated,
          ...(p.bulkOperationId === null ? {} : { bulk_operation_id: p.bulkOperationId }),
          ...(p.changedSince ? { changed_since_count: p.changedSince } : {})
        }
      }
    case "chunk_uploaded":
      return {
        level: "Info",
        eventType: "UPLOAD_COMPLETED",
        message: `chunk ${p.chunkIndex} uploaded: ${p.lines} lines, ${p.bytes} bytes`,
        fields: { chunk_index: p.chunkIndex, line_count: p.lines, byte_count: p.bytes }
      }
    case "chunk_submitted":
      return {
        level: "Info",
        eventType: "MUTATION_STARTED",
        message: `bulk mutation ${p.bulkOperationId} of chunk ${p.chunkIndex} submitted`,
        fields: { chunk_index: p.chunkIndex, bulk_operation_id: p.bulkOperationId }
      }
    case "chunk_read":
      return {
        level: "Info",
        eventType: "MUTATION_COMPLETED",
        message: `chunk ${p.chunkIndex} results read: ${p.updated} updated, ${p.failed} failed${
          p.changedSince ? `, ${p.changedSince} changed since (not restored)` : ""
        }`,
        fields: {
          chunk_index: p.chunkIndex,
          bulk_operation_id: p.bulkOperationId,
          updated_count: p.updated,
          failed_count: p.failed,
          ...(p.changedSince ? { changed_since_count: p.changedSince } : {})
        }
      }
    case "step_failed": {
      const e = p.error
      return {
        level: "Warn",
        eventType: "STEP_FAILED",
        message: `step failed (${e._tag === "StepTransient" ? "transient" : "permanent"}): ${e.message}`,
        fields: e._tag === "StepTransient"
          ? { error: e._tag, reason: e.reason, ...(e.retryAfterMs === null ? {} : { retry_after_ms: e.retryAfterMs }) }
          : { error: e._tag, code: e.code }
      }
    }
  }
}

const logAt = (level: LogLevel, message: string) =>
  level === "Debug" ? Effect.logDebug(message) : level === "Warn" ? Effect.logWarning(message) : Effect.logInfo(message)

const millisBetween = (from: string, to: string) => Math.max(0, Date.parse(to) - Date.parse(from))

/**
 * What a committed job event tells operators: its log line (lifecycle events only; the steps
 * log their own) and, for a terminal event, the job metrics. Runs after the commit.
 */
const observeCommitted = (shop: string, event: JobEvent, after: JobState): Effect.Effect<void> | undefined => {
  if (!after.exists) return undefined
  const { eventType, message } = describeJobEvent(event)
  const base = { shop_id: shop, job_id: event.jobId, event_type: eventType }
  switch (event.type) {
    case "job.requested":
      return Effect.logInfo(message).pipe(Effect.annotateLogs({ ...base, source: event.source, dry_run: event.input.dryRun, max_items: event.input.maxItems }))
    case "job.started":
      return Effect.logInfo(message).pipe(Effect.annotateLogs({ ...base, queued_ms: millisBetween(after.requestedAt, event.occurredAt) }))
    case "job.retry_scheduled":
      return Effect.logWarning(message).pipe(Effect.annotateLogs({
        ...base, attempt: event.attempt, max_attempts: event.maxAttempts, reason: event.reason, delay_ms: event.delayMs
      }))
    case "job.completed":
    case "job.failed": {
      const outcome = event.type === "job.completed" ? "completed" : event.code === "CANCELLED" ? "cancelled" : "failed"
      const durationMs = millisBetween(after.requestedAt, event.occurredAt)
      const matched = after.query?.matchedCount ?? 0
      const fields = {
        ...base,
        outcome,
        duration_ms: durationMs,
        matched_count: matched,
        updated_count: after.updatedCount,
        failed_count: after.failedCount,
        ...(after.changedSinceCount > 0 ? { changed_since_count: after.changedSinceCount } : {}),
        dry_run: after.input.dryRun,
        attempt: after.attempt,
        ...(event.type === "job.failed" ? { code: event.code } : {})
      }
      return Effect.all([
        Metric.update(Metric.withAttributes(jobsFinished, { outcome }), 1),
        Metric.update(Metric.withAttributes(jobDuration, { outcome, size: jobSizeBucket(matched) }), durationMs / 1000),
        (outcome === "completed" ? Effect.logInfo(message) : Effect.logWarning(message)).pipe(Effect.annotateLogs(fields))
      ], { discard: true })
    }
    default:
      return undefined
  }
}

/** Waiting + running jobs of the shop, as the `sumeru_job_queue_depth{shop}` gauge. */
const setQueueDepth = (shop: string, q: JobQueue) =>
  Metric.update(Metric.withAttributes(jobQueueDepth, { shop }), q.waiting.length + (q.running === null ? 0 : 1))

export const makeJobHandlers = (timings: JobTimings) =>
  Effect.gen(function*() {
    const store = yield* EventStore
    const log = yield* ShopLog
    const steps = yield* JobSteps

    const loadJob = (ctx: JobContext, jobId: string) =>
      Effect.gen(function*() {
        const cached = ctx.memory.get<Loaded>(`job:${jobId}`)
        if (cached !== undefined) return cached
        const { state, version } = yield* store.loadFold(jobStream(jobId), jobStateFold)
        const loaded = { state, version }
        ctx.memory.set(`job:${jobId}`, loaded)
        return loaded
      })

    const loadQueue = (ctx: JobContext) =>
      Effect.gen(function*() {
        const cached = ctx.memory.get<LoadedQueue>("jobqueue")
        if (cached !== undefined) return cached
        const { state: queue, version } = yield* store.loadFold(queueStream(ctx.shop), jobQueueFold)
        const loaded: LoadedQueue = { queue, version }
        ctx.memory.set("jobqueue", loaded)
        yield* setQueueDepth(ctx.shop, queue) // the committed queue (e.g. after this process took the shop over)
        return loaded
      })

    /** Accumulates one message's decision across the job and queue streams. */
    const builder = (ctx: JobContext) => {
      const jobs = new Map<string, { loaded: Loaded; events: Array<JobEvent> }>()
      let queue: LoadedQueue | undefined
      const queueEvents: Array<JobQueueEvent> = []
      const schedule: Array<ScheduledMessage> = []
      const cancel: Array<string> = []
      const effects: Array<Effect.Effect<void>> = []
      const job = (jobId: string) =>
        Effect.gen(function*() {
          const existing = jobs.get(jobId)
          if (existing !== undefined) {
            return existing.events.reduce((s, e) => evolve(s, e), existing.loaded.state)
          }
          const loaded = yield* loadJob(ctx, jobId)
          jobs.set(jobId, { loaded, events: [] })
          return loaded.state
        })
      /** Runs a command through the decider; domain refusals of internal messages are stale news. */
      const apply = (jobId: string, command: JobCommand) =>
        Effect.gen(function*() {
          const state = yield* job(jobId)
          const result = decide(command, state)
          if (Result.isFailure(result)) {
            yield* Effect.logDebug(`job ${jobId}: ${command.type} ignored (${result.failure._tag})`)
            return { state, events: [] as ReadonlyArray<JobEvent> }
          }
          jobs.get(jobId)!.events.push(...result.success)
          return { state: result.success.reduce((s, e) => evolve(s, e), state), events: result.success }
        })
      const q = () =>
        Effect.gen(function*() {
          if (queue === undefined) queue = yield* loadQueue(ctx)
          return queueEvents.reduce(evolveQueue, queue.queue)
        })
      const finish = (): Decision => {
        const appends: Array<Append> = []
        /** Logs and metrics of what this message decided: run only once it is committed. */
        const observed: Array<Effect.Effect<void>> = []
        for (const [jobId, { loaded, events }] of jobs) {
          if (events.length === 0) continue
          appends.push({ streamId: jobStream(jobId), expected: loaded.version === 0 ? "no_stream" : loaded.version, events: toNewEvents(events) })
          let state = loaded.state
          for (const e of events) {
            state = evolve(state, e)
            const observe = observeCommitted(ctx.shop, e, state)
            if (observe !== undefined) observed.push(observe)
          }
          ctx.memory.set(`job:${jobId}`, { state, version: loaded.version + events.length })
        }
        if (queueEvents.length > 0 && queue !== undefined) {
          appends.push({
            streamId: queueStream(ctx.shop),
            expected: queue.version === 0 ? "no_stream" : queue.version,
            events: queueEvents.map((e) => ({ type: e.type, data: e }))
          })
          const folded = queueEvents.reduce(evolveQueue, queue.queue)
          ctx.memory.set("jobqueue", { queue: folded, version: queue.version + queueEvents.length } satisfies LoadedQueue)
          observed.push(setQueueDepth(ctx.shop, folded))
        }
        const after = [...observed, ...effects]
        return {
          appends,
          schedule,
          cancelTimers: cancel,
          afterCommit: after.length === 0 ? undefined : Effect.forEach(after, (e) => e, { discard: true, concurrency: "unbounded" })
        }
      }
      return { job, apply, q, queueEvents, schedule, cancel, effects, finish }
    }

    type Builder = ReturnType<typeof builder>

    const publishProgress = (shop: string, progress: JobProgress) =>
      log.publish({
        shop,
        messageId: `job.progress:${uuidV7Unsafe()}`,
        ...encodeShopMessage({ type: "job.progress", payload: progress }),
        correlationId: progress.jobId
      }).pipe(
        Effect.asVoid,
        Effect.retry({ times: 5 }),
        Effect.catchCause((cause) => Effect.logError(`job ${progress.jobId}: could not report progress (the watchdog will re-drive)`, cause))
      ) as Effect.Effect<void>

    /**
     * At most one side effect per job runs at a time: the webhook and the poll timer may both
     * announce the same finished operation, and its follow-up step must not run twice at once.
     * The marker lives in actor memory (lost with the actor: the watchdog then re-drives).
     */
    const inFlight = (ctx: JobContext, jobId: string) => ctx.memory.get<string>(`step:${jobId}`)
    const settle = (ctx: JobContext, jobId: string, key: string) => {
      if (inFlight(ctx, jobId) === key) ctx.memory.set(`step:${jobId}`, undefined)
    }

    /**
     * Runs a step's side effect after the commit and reports its outcome as a message; logs one
     * line for it (the seed's fields, `duration_ms` measured around the side effect). Every log
     * line inside the step (the adapters') carries `shop_id`, `job_id`, `step` and `attempt`.
     */
    const runStep = <A>(
      b: Builder,
      ctx: JobContext,
      job: Job,
      key: string,
      step: StepName,
      effect: Effect.Effect<A, StepError>,
      report: (a: A) => JobProgress
    ) => {
      const current = inFlight(ctx, job.jobId)
      if (current === key || (key.startsWith("poll:") && current !== undefined)) return
      ctx.memory.set(`step:${job.jobId}`, key)
      b.effects.push(
        Effect.gen(function*() {
          const [elapsed, result] = yield* Effect.timed(Effect.result(effect))
          const progress: JobProgress = Result.isSuccess(result)
            ? report(result.success)
            : { kind: "step_failed", jobId: job.jobId, attempt: job.attempt, error: result.failure }
          const line = stepLine(progress)
          yield* logAt(line.level, line.message).pipe(
            Effect.annotateLogs({ event_type: line.eventType, duration_ms: Math.round(Duration.toMillis(elapsed)), ...line.fields })
          )
          yield* publishProgress(ctx.shop, progress)
        }).pipe(Effect.annotateLogs({ shop_id: ctx.shop, job_id: job.jobId, step, attempt: job.attempt }))
      )
      b.schedule.push({
        id: `job.watchdog:${job.jobId}`,
        at: new Date(Date.now() + timings.watchdogMs),
        ...encodeShopMessage({ type: "job.watchdog", payload: { jobId: job.jobId, attempt: job.attempt, updatedAt: job.updatedAt } })
      })
    }

    const schedulePoll = (b: Builder, job: Job, bulkOperationId: string, target: Target) => {
      b.schedule.push({
        id: `job.poll:${job.jobId}`,
        at: new Date(Date.now() + (target.kind === "query" ? timings.pollQueryMs : timings.pollMutationMs)),
        ...encodeShopMessage({ type: "job.poll", payload: { jobId: job.jobId, attempt: job.attempt, bulkOperationId, target } })
      })
    }

    const pollNow = (b: Builder, ctx: JobContext, job: Job, bulkOperationId: string, target: Target) =>
      runStep(b, ctx, job, `poll:${bulkOperationId}`, "poll", steps.operationStatus(ctx.shop, bulkOperationId), (status) => ({
        kind: "status",
        jobId: job.jobId,
        attempt: job.attempt,
        bulkOperationId,
        target,
        status
      }))

    /** Starts whatever the job needs next, from its state alone (used after start, retry, watchdog). */
    const drive = (b: Builder, ctx: JobContext, job: Job): Effect.Effect<void, PersistenceError> =>
      Effect.gen(function*() {
        if (job.status !== "RUNNING") return
        if (job.query === null) {
          if (job.undoOf !== null) {
            runStep(b, ctx, job, "snapshot", "store_snapshot", steps.storeSnapshot(ctx.shop, job, null), (r) => ({
              kind: "snapshot_stored", jobId: job.jobId, attempt: job.attempt, matched: r.matched, truncated: r.truncated, snapshotRef: r.snapshotRef, bulkOperationId: null,
              changedSince: r.changedSince, errorLines: r.errorLines
            }))
            return
          }
          runStep(b, ctx, job, "query", "submit_query", steps.submitQuery(ctx.shop, job), (id) => ({ kind: "query_submitted", jobId: job.jobId, attempt: job.attempt, bulkOperationId: id }))
          return
        }
        const pending = job.chunks.find((c) => c.result === null)
        if (pending !== undefined) {
          if (pending.bulkOperationId === null) {
            runStep(b, ctx, job, `submit:${pending.chunkIndex}`, "submit_chunk", steps.submitChunk(ctx.shop, job, pending.chunkIndex, pending.stagedUploadPath), (id) => ({
              kind: "chunk_submitted", jobId: job.jobId, attempt: job.attempt, chunkIndex: pending.chunkIndex, bulkOperationId: id
            }))
          } else {
            pollNow(b, ctx, job, pending.bulkOperationId, { kind: "chunk", chunkIndex: pending.chunkIndex })
          }
          return
        }
        const uploadedLines = job.chunks.reduce((n, c) => n + c.lines, 0)
        if (uploadedLines < job.query.matchedCount) {
          const chunkIndex = job.chunks.length
          runStep(b, ctx, job, `upload:${chunkIndex}`, "upload_chunk", steps.uploadChunk(ctx.shop, job, chunkIndex), (r) => ({
            kind: "chunk_uploaded", jobId: job.jobId, attempt: job.attempt, chunkIndex, stagedUploadPath: r.stagedUploadPath, lines: r.lines, bytes: r.bytes
          }))
          return
        }
        const done = yield* b.apply(job.jobId, { type: "CompleteJob", jobId: job.jobId, at: now() })
        yield* afterTransition(b, ctx, job.jobId, done.state)
      })

    /** After any transition: a finished job leaves the queue and the next one starts. */
    const afterTransition = (b: Builder, ctx: JobContext, jobId: string, state: JobState): Effect.Effect<void, PersistenceError> =>
      Effect.gen(function*() {
        if (!state.exists) return
        if (state.status === "COMPLETED" || state.status === "FAILED") {
          b.queueEvents.push(...finishQueued(yield* b.q(), jobId))
          b.cancel.push(`job.watchdog:${jobId}`, `job.poll:${jobId}`, `job.retry:${jobId}`)
          yield* startNext(b, ctx)
        } else if (state.status === "RUNNING") {
          yield* drive(b, ctx, state)
        }
      })

    const startNext = (b: Builder, ctx: JobContext): Effect.Effect<void, PersistenceError> =>
      Effect.gen(function*() {
        const [start] = startNextQueued(yield* b.q())
        if (start === undefined) return
        const next = start.jobId
        const started = yield* b.apply(next, { type: "StartJob", jobId: next, at: now() })
        b.queueEvents.push(start)
        yield* afterTransition(b, ctx, next, started.state)
      })

    const onRequest = (ctx: TypedHandlerContext<"job.request">) =>
      Effect.gen(function*() {
        const p = ctx.message.payload
        const b = builder(ctx)
        const existing = yield* b.job(p.jobId)
        if (existing.exists) return b.finish() // a repeat of a request already turned into a job
        const r = yield* b.apply(p.jobId, {
          type: "RequestJob", jobId: p.jobId, shop: ctx.shop, input: p.input, inputHash: p.inputHash, actionRunId: p.actionRunId,
          source: p.source, requestedBy: p.requestedBy, undoOf: p.undoOf ?? null, at: p.at
        })
        if (r.events.length > 0) b.queueEvents.push(...enqueue(yield* b.q(), p.jobId))
        yield* startNext(b, ctx)
        return b.finish()
      })

    const onUndo = (ctx: TypedHandlerContext<"job.undo">) =>
      Effect.gen(function*() {
        const p = ctx.message.payload
        const b = builder(ctx)
        const r = yield* b.apply(p.jobId, {
          type: "RequestUndo", jobId: p.jobId, undoJobId: p.undoJobId, requestedBy: p.requestedBy, ...(p.force === true ? { force: true } : {}), at: now()
        })
        const undoEvent = r.events.find((e) => e.type === "job.undo_requested")
        if (undoEvent !== undefined && undoEvent.type === "job.undo_requested" && r.state.exists) {
          const hash = createHash("sha256").update(canonicalUndoInput(ctx.shop, p.jobId)).digest("hex")
          const request = undoJobRequest(r.state, undoEvent, hash)
          const created = yield* b.apply(request.jobId, request)
          if (created.events.length > 0) b.queueEvents.push(...enqueue(yield* b.q(), request.jobId))
          yield* startNext(b, ctx)
        }
        return b.finish()
      })

    const onProgress = (ctx: TypedHandlerContext<"job.progress">) =>
      Effect.gen(function*() {
        const p = ctx.message.payload
        const b = builder(ctx)
        const state = yield* b.job(p.jobId)
        if (!state.exists || state.status !== "RUNNING" || state.attempt !== p.attempt) return b.finish() // stale news
        // the step this message reports on is over
        if (p.kind === "step_failed") ctx.memory.set(`step:${p.jobId}`, undefined)
        else settle(ctx, p.jobId, progressKey(p))
        const at = now()
        let next: JobState = state
        switch (p.kind) {
          case "query_submitted": {
            next = (yield* b.apply(p.jobId, { type: "RecordBulkQueryStarted", jobId: p.jobId, bulkOperationId: p.bulkOperationId, at })).state
            // poll once now: a small operation may be over already, its bulk_operations/finish
            // webhook handled (and passed over) before this report was — waiting a full poll
            // interval for it would be waiting for nothing
            if (next.exists) pollNow(b, ctx, next, p.bulkOperationId, { kind: "query" })
            return b.finish()
          }
          case "status": {
            const s = p.status.status
            if (s === "CREATED" || s === "RUNNING" || s === "CANCELING") {
              schedulePoll(b, state, p.bulkOperationId, p.target)
              return b.finish()
            }
            if (s === "COMPLETED") {
              if (p.target.kind === "query") {
                runStep(b, ctx, state, "snapshot", "store_snapshot", steps.storeSnapshot(ctx.shop, state, p.status.url), (r) => ({
                  kind: "snapshot_stored", jobId: state.jobId, attempt: state.attempt, matched: r.matched, truncated: r.truncated, snapshotRef: r.snapshotRef, bulkOperationId: p.bulkOperationId,
                  changedSince: r.changedSince, errorLines: r.errorLines
                }))
              } else {
                const chunkIndex = p.target.chunkIndex
                runStep(b, ctx, state, `read:${chunkIndex}`, "read_chunk_result", steps.readChunkResult(ctx.shop, state, chunkIndex, p.status.url), (r) => ({
                  kind: "chunk_read", jobId: state.jobId, attempt: state.attempt, chunkIndex, bulkOperationId: p.bulkOperationId, updated: r.updated, failed: r.failed,
                  changedSince: r.changedSince, errorLines: r.errorLines
                }))
              }
              return b.finish()
            }
            next = (yield* b.apply(p.jobId, {
              type: "FailJob", jobId: p.jobId, code: "BULK_OP_FAILED",
              message: `Shopify bulk ${p.target.kind === "query" ? "query" : "mutation"} ${p.bulkOperationId} ended ${s.toLowerCase()}${p.status.errorCode ? ` (${p.status.errorCode})` : ""}`,
              at
            })).state
            break
          }
          case "snapshot_stored":
            next = (yield* b.apply(p.jobId, {
              type: "RecordQueryCompleted", jobId: p.jobId, bulkOperationId: p.bulkOperationId, matchedCount: p.matched, truncated: p.truncated, snapshotRef: p.snapshotRef,
              ...(p.changedSince ? { changedSinceCount: p.changedSince } : {}), ...(p.errorLines?.length ? { errorLines: p.errorLines } : {}), at
            })).state
            break
          case "chunk_uploaded":
            next = (yield* b.apply(p.jobId, {
              type: "RecordChunkUploaded", jobId: p.jobId, chunkIndex: p.chunkIndex, stagedUploadPath: p.stagedUploadPath, lines: p.lines, bytes: p.bytes, at
            })).state
            break
          case "chunk_submitted": {
            next = (yield* b.apply(p.jobId, { type: "RecordBulkMutationStarted", jobId: p.jobId, chunkIndex: p.chunkIndex, bulkOperationId: p.bulkOperationId, at })).state
            // poll once now, as after a query's submission (its finish webhook may have come first)
            if (next.exists) pollNow(b, ctx, next, p.bulkOperationId, { kind: "chunk", chunkIndex: p.chunkIndex })
            return b.finish()
          }
          case "chunk_read":
            next = (yield* b.apply(p.jobId, {
              type: "RecordMutationCompleted", jobId: p.jobId, chunkIndex: p.chunkIndex, bulkOperationId: p.bulkOperationId,
              updatedCount: p.updated, failedCount: p.failed, ...(p.changedSince ? { changedSinceCount: p.changedSince } : {}), errorLines: p.errorLines, at
            })).state
            break
          case "step_failed": {
            const e = p.error
            if (e._tag === "StepPermanent") {
              next = (yield* b.apply(p.jobId, { type: "FailJob", jobId: p.jobId, code: e.code, message: e.message, at })).state
            } else {
              next = (yield* b.apply(p.jobId, {
                type: "ScheduleRetry", jobId: p.jobId, failedAttempt: p.attempt, reason: e.reason, message: e.message,
                delayMs: timings.retryDelayMs ?? (e.retryAfterMs === null ? null : Math.round(e.retryAfterMs)), at
              })).state
              if (next.exists && next.status === "RUNNING" && next.lastRetry !== null) {
                b.schedule.push({
                  id: `job.retry:${p.jobId}`,
                  at: new Date(Date.now() + next.lastRetry.delayMs),
                  ...encodeShopMessage({ type: "job.retry", payload: { jobId: p.jobId, attempt: next.attempt } })
                })
                return b.finish()
              }
            }
            break
          }
        }
        yield* afterTransition(b, ctx, p.jobId, next)
        return b.finish()
      })

    const progressKey = (p: Exclude<JobProgress, { kind: "step_failed" }>): string => {
      switch (p.kind) {
        case "query_submitted": return "query"
        case "status": return `poll:${p.bulkOperationId}`
        case "snapshot_stored": return "snapshot"
        case "chunk_uploaded": return `upload:${p.chunkIndex}`
        case "chunk_submitted": return `submit:${p.chunkIndex}`
        case "chunk_read": return `read:${p.chunkIndex}`
      }
    }

    /**
     * A timer of the job's current attempt (a stale one — the job moved on — does nothing):
     * `act` with the running job's state.
     */
    const onTimer = (
      ctx: JobContext,
      timer: { readonly jobId: string; readonly attempt: number },
      act: (b: Builder, state: Job) => Effect.Effect<void, PersistenceError>
    ) =>
      Effect.gen(function*() {
        const b = builder(ctx)
        const state = yield* b.job(timer.jobId)
        if (!state.exists || state.status !== "RUNNING" || state.attempt !== timer.attempt) return b.finish()
        yield* act(b, state)
        return b.finish()
      })

    /** Poll a bulk operation. */
    const onPoll = (ctx: TypedHandlerContext<"job.poll">) =>
      onTimer(ctx, ctx.message.payload, (b, state) =>
        Effect.sync(() => pollNow(b, ctx, state, ctx.message.payload.bulkOperationId, ctx.message.payload.target)))

    /** Retry after backoff. */
    const onRetry = (ctx: TypedHandlerContext<"job.retry">) =>
      onTimer(ctx, ctx.message.payload, (b, state) =>
        Effect.suspend(() => {
          ctx.memory.set(`step:${state.jobId}`, undefined)
          return drive(b, ctx, state)
        }))

    /** Re-drive a step that went quiet (unless the job moved since the watchdog was set). */
    const onWatchdog = (ctx: TypedHandlerContext<"job.watchdog">) =>
      onTimer(ctx, ctx.message.payload, (b, state) =>
        state.updatedAt !== ctx.message.payload.updatedAt ? Effect.void : Effect.gen(function*() {
          yield* Effect.logWarning(`job ${state.jobId}: no progress for ${timings.watchdogMs} ms; re-driving its current step`)
          ctx.memory.set(`step:${state.jobId}`, undefined) // its side effect may have died with a worker
          yield* drive(b, ctx, state)
        }))

    /** `bulk_operations/finish` (or any nudge): poll the running job's operation now. */
    const onBulkFinished = (ctx: TypedHandlerContext<"shopify.bulk_operations_finish">) =>
      Effect.gen(function*() {
        const p = ctx.message.payload
        const b = builder(ctx)
        const q = yield* b.q()
        if (q.running === null || p.admin_graphql_api_id === undefined) return b.finish()
        const state = yield* b.job(q.running)
        if (!state.exists || state.status !== "RUNNING") return b.finish()
        const id = p.admin_graphql_api_id
        if (state.query === null && state.bulkQueryOperationIds.at(-1) === id) pollNow(b, ctx, state, id, { kind: "query" })
        const chunk = state.chunks.find((c) => c.bulkOperationId === id && c.result === null)
        if (chunk !== undefined) pollNow(b, ctx, state, id, { kind: "chunk", chunkIndex: chunk.chunkIndex })
        return b.finish()
      })

    return {
      "job.request": onRequest,
      "job.undo": onUndo,
      "job.progress": onProgress,
      "job.poll": onPoll,
      "job.retry": onRetry,
      "job.watchdog": onWatchdog,
      "shopify.bulk_operations_finish": onBulkFinished
    } satisfies Partial<HandlerRegistry>
  })
