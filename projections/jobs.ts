/**
 * `jobs`: one row per bulk-metafield job (seed 002's `Job` model), what the admin job list and
 * job detail read.
 *
 * The fold is the domain's own: each job's state is folded with `evolve` from `domain/jobs`,
 * so no business rule is repeated here. The folded state is kept beside the columns
 * (`state jsonb`), so a batch loads the current state of the jobs it touches (one SELECT),
 * folds its events in position order and writes the rows back (one upsert). The columns are a
 * pure function of the state ({@link jobRow}).
 *
 * Times are the business times carried by the events (`occurredAt`), as the domain state
 * records them. The row's shop is the event envelope's shop (the owner of the job's stream
 * `job-<jobId>`). Events that do not decode, sit in another stream than their job's, or name
 * another shop than the job's row are skipped and logged, never merged (nor do they stall the
 * projection).
 *
 * Changing the `Job` state's shape or {@link jobRow} means bumping `version`: the runner
 * rebuilds the table from the log beside the live one.
 */
import { Effect, Predicate, Result } from "effect"
import type { RecordedEvent } from "../domain/events/Envelope.ts"
import { decodeJobEvent, evolve, initialState, JOB_EVENT_TYPES } from "../domain/jobs/index.ts"
import type { Job, JobEvent, JobState } from "../domain/jobs/index.ts"
import type { Projection } from "../src/projections/Projection.ts"

/** The stream of a job's events. */
export const jobStreamId = (jobId: string): string => `job-${jobId}`

/**
 * The job event in a stored event: the envelope's `type` is authoritative, so it is put on
 * the payload before decoding (as the stream folds do). Fails with the reason when the data
 * does not decode, or when the event is not in its job's own stream (`job-<jobId>`): a stream
 * never changes owner, so this keeps every event of a job within one shop.
 */
export const decodeRecordedJobEvent = (event: RecordedEvent): Result.Result<JobEvent, string> => {
  const payload = Predicate.isObject(event.data) ? { ...event.data, type: event.type } : event.data
  const decoded = decodeJobEvent(payload)
  if (Result.isFailure(decoded)) {
    return Result.fail(`position ${event.position} (${event.type} on ${event.streamId}) does not decode: ${decoded.failure.message}`)
  }
  if (event.streamId !== jobStreamId(decoded.success.jobId)) {
    return Result.fail(
      `position ${event.position} (${event.type} on ${event.streamId}) is about job ${decoded.success.jobId}, whose stream is ${
        jobStreamId(decoded.success.jobId)
      }`
    )
  }
  return Result.succeed(decoded.success)
}

/** A row of the `jobs` table as written. */
export interface JobRow {
  readonly job_id: string
  readonly shop: string
  readonly status: string
  readonly query_string: string
  readonly namespace: string
  readonly key: string
  readonly type: string
  readonly value: string
  readonly dry_run: boolean
  readonly max_items: number
  /** Null until the bulk query completed. */
  readonly matched_count: number | null
  /** Null while nothing was written: a dry run, or a live job before any mutation result. */
  readonly updated_count: number | null
  readonly failed_count: number | null
  /** First 50 error lines (≤ 10 KB) of the bulk mutations; null when there were none. */
  readonly error_preview: string | null
  /** More products matched than `max_items` allowed. */
  readonly truncated: boolean
  /** The job this one undoes (a compensating job), if any. */
  readonly undo_of: string | null
  /** The compensating job that undoes this one, once requested. */
  readonly undone_by: string | null
  readonly attempt: number
  readonly failure_code: string | null
  readonly failure_message: string | null
  readonly created_at: string
  readonly updated_at: string
  readonly state: Job
}

/**
 * The columns of a job's row, from its folded state. Counts follow the seed's nullable
 * fields: `matched_count` once the query completed; `updated_count`/`failed_count` once a
 * live job has written something (a mutation result, or completion); never for a dry run.
 */
export const jobRow = (shop: string, job: Job): JobRow => {
  const wrote = !job.input.dryRun && (job.status === "COMPLETED" || job.chunks.some((c) => c.result !== null))
  return {
    job_id: job.jobId,
    shop,
    status: job.status,
    query_string: job.input.queryString,
    namespace: job.input.namespace,
    key: job.input.key,
    type: job.input.type,
    value: job.input.value,
    dry_run: job.input.dryRun,
    max_items: job.input.maxItems,
    matched_count: job.query?.matchedCount ?? null,
    updated_count: wrote ? job.updatedCount : null,
    failed_count: wrote ? job.failedCount : null,
    error_preview: job.errorPreview === "" ? null : job.errorPreview,
    truncated: job.query?.truncated ?? false,
    undo_of: job.undoOf?.jobId ?? null,
    undone_by: job.undoneBy,
    attempt: job.attempt,
    failure_code: job.failure?.code ?? null,
    failure_message: job.failure?.message ?? null,
    created_at: job.requestedAt,
    updated_at: job.updatedAt,
    state: job
  }
}

interface Current {
  readonly shop: string
  state: JobState
  changed: boolean
}

export const jobsProjection: Projection = {
  name: "jobs",
  // 2: the folded `Job` state gained `changedSinceCount` and `undoForced` (undo guard)
  version: 2,
  eventTypes: [...JOB_EVENT_TYPES],
  tables: [{
    name: "jobs",
    columns: [
      "job_id text NOT NULL",
      "shop text NOT NULL",
      "status text NOT NULL",
      "query_string text NOT NULL",
      "namespace text NOT NULL",
      "key text NOT NULL",
      "type text NOT NULL",
      "value text NOT NULL",
      "dry_run boolean NOT NULL",
      "max_items integer NOT NULL",
      "matched_count integer",
      "updated_count integer",
      "failed_count integer",
      "error_preview text",
      "truncated boolean NOT NULL",
      "undo_of text",
      "undone_by text",
      "attempt integer NOT NULL",
      "failure_code text",
      "failure_message text",
      "created_at timestamptz NOT NULL",
      "updated_at timestamptz NOT NULL",
      "state jsonb NOT NULL"
    ],
    primaryKey: ["job_id"],
    // Backward scans serve the admin list's `ORDER BY created_at DESC, job_id DESC`,
    // with or without a status filter.
    indexes: [["shop", "created_at", "job_id"], ["shop", "status", "created_at", "job_id"]],
    shopColumn: "shop"
  }],
  apply: (events, { sql, table }) =>
    Effect.gen(function*() {
      const decoded: Array<{ readonly event: RecordedEvent; readonly job: JobEvent }> = []
      for (const event of events) {
        const r = decodeRecordedJobEvent(event)
        if (Result.isSuccess(r)) decoded.push({ event, job: r.success })
        else yield* Effect.logWarning(`jobs projection: skipped ${r.failure}`)
      }
      if (decoded.length === 0) return
      const t = sql.unsafe(table("jobs"))
      const ids = [...new Set(decoded.map((d) => d.job.jobId))]
      const existing = yield* sql<{ job_id: string; shop: string; state: Job }>`
        SELECT job_id, shop, state FROM ${t}
         WHERE job_id IN (SELECT jsonb_array_elements_text(${JSON.stringify(ids)}::jsonb))`
      const current = new Map<string, Current>(
        existing.map((r) => [r.job_id, { shop: r.shop, state: r.state, changed: false }])
      )
      for (const { event, job } of decoded) {
        const entry = current.get(job.jobId)
        if (entry !== undefined && entry.shop !== event.shop) {
          yield* Effect.logWarning(
            `jobs projection: skipped position ${event.position}: job ${job.jobId} belongs to ${entry.shop}, event to ${event.shop}`
          )
          continue
        }
        const before = entry?.state ?? initialState()
        const after = evolve(before, job)
        if (!after.exists) {
          yield* Effect.logWarning(`jobs projection: skipped position ${event.position}: job ${job.jobId} was never requested`)
          continue
        }
        if (entry === undefined) current.set(job.jobId, { shop: event.shop, state: after, changed: true })
        else {
          entry.state = after
          entry.changed = true
        }
      }
      const rows: Array<JobRow> = []
      for (const entry of current.values()) {
        if (entry.changed && entry.state.exists) rows.push(jobRow(entry.shop, entry.state))
      }
      if (rows.length === 0) return
      yield* sql`
        INSERT INTO ${t} (job_id, shop, status, query_string, namespace, key, type, value, dry_run, max_items,
                          matched_count, updated_count, failed_count, error_preview, truncated, undo_of, undone_by,
                          attempt, failure_code, failure_message, created_at, updated_at, state)
        SELECT job_id, shop, status, query_string, namespace, key, type, value, dry_run, max_items,
               matched_count, updated_count, failed_count, error_preview, truncated, undo_of, undone_by,
               attempt, failure_code, failure_message, created_at, updated_at, state
          FROM jsonb_to_recordset(${JSON.stringify(rows)}::jsonb)
            AS x(job_id text, shop text, status text, query_string text, namespace text, key text, type text,
                 value text, dry_run boolean, max_items integer, matched_count integer, updated_count integer,
                 failed_count integer, error_preview text, truncated boolean, undo_of text, undone_by text,
                 attempt integer, failure_code text, failure_message text, created_at timestamptz,
                 updated_at timestamptz, state jsonb)
        ON CONFLICT (job_id) DO UPDATE SET
          status = excluded.status, query_string = excluded.query_string, namespace = excluded.namespace,
          key = excluded.key, type = excluded.type, value = excluded.value, dry_run = excluded.dry_run,
          max_items = excluded.max_items, matched_count = excluded.matched_count,
          updated_count = excluded.updated_count, failed_count = excluded.failed_count,
          error_preview = excluded.error_preview, truncated = excluded.truncated, undo_of = excluded.undo_of,
          undone_by = excluded.undone_by, attempt = excluded.attempt, failure_code = excluded.failure_code,
          failure_message = excluded.failure_message, created_at = excluded.created_at,
          updated_at = excluded.updated_at, state = excluded.state
        WHERE ${t}.shop = excluded.shop`
    })
}
