/**
 * The admin API for bulk jobs (seed 002, "Admin UI Routes"):
 * - `GET /app/jobs?page=1&limit=50[&status=COMPLETED]`: the shop's jobs, newest first;
 * - `GET /app/jobs/:id`: one job and its event timeline.
 * The JSON is exactly the seed's (snake_case, ISO-8601 UTC times).
 *
 * Authentication and permissions: `AdminAuth.ts` (session token or operator API key, the
 * per-shop rate limit, `jobs:read`); the principal's shop is the only shop a request can see.
 * Tenancy (invariant 6) is enforced by the database too: every read-model read runs inside
 * `asTenant(shop, …)`, where row-level security hides other shops' rows from the `jobs` and
 * `job_timeline` views (the queries also name the shop, which lets them use the `(shop, …)`
 * indexes; the database's policy is the guarantee). Another shop's job is therefore a 404,
 * exactly like a job that does not exist (never a 403, which would confirm that it exists).
 *
 * **Reading your writes.** The read models are projections: they follow the log a moment
 * behind it, and a job is only in the log once the shop's actor has turned the ingress's
 * `job.request` message into `job.requested`. So that a client can read a job right after the
 * Flow endpoint's 202 (or the undo's), `GET /app/jobs/:id` does not stop at the read model:
 * a job it does not have yet is folded from its own stream (`job-<id>`, the same `evolve` and
 * the same timeline text as the projections, only if the stream is the shop's); and a job the
 * ingress accepted for the shop (`job_requests`) whose stream is still empty is waited for,
 * woken by the log's commits, for up to {@link AWAIT_ACCEPTED_JOB_MS}. Only a job that is none
 * of these is a 404; one accepted but still not recorded after the wait (the shop's actor is
 * behind) is a 503 `NOT_YET_RECORDED` with `Retry-After`. The job list stays the read model's.
 *
 * Errors are typed (`AdminApiError`) and mapped to status codes and JSON in one place
 * (`adminErrorResponse` in `AdminAuth.ts`): `{ "error": { "code", "message", … } }`.
 *
 * Extension point: further `/app/jobs/:id/…` routes are declared in `AdminRouteCatalog.ts` and
 * mounted with `mountAdminRoute(app, guard, AdminRoutes.x, (c) => { const shop = requireShop(c); … })`,
 * {@link getJob} for the shop-scoped lookup (404 when not visible) and `runAdminEffect` to run an
 * Effect and map its typed errors.
 */
import { Deferred, Duration, Effect, Option, Result, Schema, Stream } from "effect"
import { SqlClient } from "effect/sql"
import type { SqlError } from "effect/sql/SqlError"
import type { Hono } from "hono"
import type { RecordedEvent } from "../../domain/events/Envelope.ts"
import { describeJobEvent, evolve, initialState, JobStatus, type JobState } from "../../domain/jobs/index.ts"
import { decodeRecordedJobEvent, type JobRow, jobRow, jobStreamId } from "../../projections/jobs.ts"
import { EventStore, type PersistenceError } from "../../src/eventstore/EventStore.ts"
import { LogWakeups } from "../../src/eventstore/LogWakeups.ts"
import { asTenant } from "../postgres/Tenancy.ts"
import {
  type AdminAuthConfig,
  adminErrorResponse,
  type AdminGuard,
  InvalidQueryParameter,
  mountAdminRoute,
  NotYetRecorded,
  requireShop,
  ResourceNotFound,
  runAdminEffect,
  toAdminGuard
} from "./AdminAuth.ts"
import { AdminRoutes } from "./AdminRouteCatalog.ts"
import type { RunEffect } from "./RunEffect.ts"

// The admin API's shared pieces used to live here; other modules still import them from here.
export {
  type AdminApiError,
  type AdminAuthConfig,
  type AdminEnv,
  adminErrorBody,
  adminErrorResponse,
  adminErrorStatus,
  InvalidQueryParameter,
  requireShop,
  ResourceNotFound,
  runAdminEffect,
  type RunSqlEffect,
  Unauthorized
} from "./AdminAuth.ts"

// ---------------------------------------------------------------------------
// Query parameters
// ---------------------------------------------------------------------------

export const DEFAULT_PAGE_SIZE = 50
export const MAX_PAGE_SIZE = 100

export interface JobListQuery {
  readonly page: number
  readonly limit: number
  readonly status: JobStatus | null
}

const POSITIVE_INT = /^[0-9]{1,9}$/
const decodeStatus = Schema.decodeUnknownResult(JobStatus)

/** One value of a query parameter given at most once (empty means absent). */
export const single = (
  values: ReadonlyArray<string> | undefined,
  parameter: string
): Result.Result<string | undefined, InvalidQueryParameter> => {
  if (values === undefined || values.length === 0) return Result.succeed(undefined)
  if (values.length > 1) {
    return Result.fail(new InvalidQueryParameter({ parameter, message: `${parameter} must be given at most once` }))
  }
  // An empty value (`?status=`, as HTML forms send) means the parameter is absent.
  return Result.succeed(values[0] === "" ? undefined : values[0])
}

/** An integer query parameter from 1 to `max` (default `fallback`). */
export const intParam = (
  values: ReadonlyArray<string> | undefined,
  parameter: string,
  fallback: number,
  max: number
): Result.Result<number, InvalidQueryParameter> =>
  Result.flatMap(single(values, parameter), (raw) => {
    if (raw === undefined) return Result.succeed(fallback)
    const n = POSITIVE_INT.test(raw) ? Number(raw) : Number.NaN
    return n >= 1 && n <= max
      ? Result.succeed(n)
      : Result.fail(new InvalidQueryParameter({ parameter, message: `${parameter} must be an integer from 1 to ${max}` }))
  })

/**
 * `page` (≥ 1, default 1), `limit` (1…100, default 50) and `status` (one of the seed's
 * statuses, default all). Other parameters are ignored: Shopify adds its own (`shop`, `host`,
 * `embedded`, …) to admin URLs.
 */
export const parseJobListQuery = (
  queries: Readonly<Record<string, ReadonlyArray<string>>>
): Result.Result<JobListQuery, InvalidQueryParameter> =>
  Result.gen(function*() {
    const page = yield* intParam(queries["page"], "page", 1, 999_999_999)
    const limit = yield* intParam(queries["limit"], "limit", DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
    const rawStatus = yield* single(queries["status"], "status")
    if (rawStatus === undefined) return { page, limit, status: null }
    const status = decodeStatus(rawStatus)
    if (Result.isFailure(status)) {
      return yield* Result.fail(
        new InvalidQueryParameter({ parameter: "status", message: `status must be one of ${JobStatus.literals.join(", ")}` })
      )
    }
    return { page, limit, status: status.success }
  })

// ---------------------------------------------------------------------------
// Reads (always as the tenant)
// ---------------------------------------------------------------------------

/** ISO-8601 UTC, whole seconds as in the seed (`2025-12-27T10:30:00Z`), milliseconds when present. */
export const isoTimestamp = (d: Date): string => d.toISOString().replace(/\.000Z$/, "Z")

/** An item of the seed's job list. */
export interface JobListItem {
  readonly id: string
  readonly status: string
  readonly query: string
  readonly metafield: string
  readonly type: string
  readonly matched_count: number | null
  readonly updated_count: number | null
  readonly failed_count: number | null
  readonly dry_run: boolean
  readonly created_at: string
}

export interface JobListResponse {
  readonly jobs: ReadonlyArray<JobListItem>
  readonly total: number
  readonly page: number
  readonly pages: number
}

/** The seed's job detail `job` object. */
export interface JobDetail {
  readonly id: string
  readonly status: string
  readonly query_string: string
  readonly namespace: string
  readonly key: string
  readonly type: string
  readonly value: string
  readonly dry_run: boolean
  readonly max_items: number
  readonly matched_count: number | null
  readonly updated_count: number | null
  readonly failed_count: number | null
  readonly error_preview: string | null
  /** The job this one undoes, and the job that undid this one (beyond the seed: the admin links them). */
  readonly undo_of: string | null
  readonly undone_by: string | null
  readonly created_at: string
  readonly updated_at: string
}

export interface JobTimelineEntry {
  readonly event_type: string
  readonly message: string
  readonly created_at: string
}

export interface JobDetailResponse {
  readonly job: JobDetail
  readonly events: ReadonlyArray<JobTimelineEntry>
}

/**
 * A `jobs` read-model row as the admin API reads it: the projection's row (every column but
 * the folded state), with the driver's types for the status and the timestamps.
 */
export type JobRecord = Omit<JobRow, "status" | "created_at" | "updated_at" | "state"> & {
  readonly status: JobStatus
  readonly created_at: Date
  readonly updated_at: Date
}

/** Job ids are UUIDs; anything far longer cannot be one (and is not worth a query). */
const MAX_ID_LENGTH = 200

/** The job row, inside a tenant transaction; `ResourceNotFound` when not visible. */
const selectJob = Effect.fn("AdminJobs.selectJob")(
  function*(shop: string, jobId: string): Effect.fn.Return<JobRecord, ResourceNotFound | SqlError, SqlClient.SqlClient> {
    if (jobId.length === 0 || jobId.length > MAX_ID_LENGTH) return yield* new ResourceNotFound({ resource: "job", id: jobId })
    const sql = yield* SqlClient.SqlClient
    const rows = yield* sql<JobRecord>`
      SELECT job_id, shop, status, query_string, namespace, key, type, value, dry_run, max_items, matched_count,
             updated_count, failed_count, error_preview, truncated, undo_of, undone_by, attempt, failure_code,
             failure_message, created_at, updated_at
        FROM jobs WHERE job_id = ${jobId} AND shop = ${shop}`
    const row = rows[0]
    if (row === undefined) return yield* new ResourceNotFound({ resource: "job", id: jobId })
    return row
  }
)

/**
 * The job `jobId` as `shop` sees it (row-level security, inside `asTenant`), or
 * `ResourceNotFound`, whether it does not exist or belongs to another shop.
 */
export const getJob = (shop: string, jobId: string): Effect.Effect<JobRecord, ResourceNotFound | SqlError, SqlClient.SqlClient> =>
  asTenant(shop, selectJob(shop, jobId))

/** `GET /app/jobs`: one page of the shop's jobs, newest first, and the totals. */
export const listJobs = Effect.fn("AdminJobs.listJobs")(
  function*(shop: string, query: JobListQuery): Effect.fn.Return<JobListResponse, SqlError, SqlClient.SqlClient> {
    const sql = yield* SqlClient.SqlClient
    const offset = (query.page - 1) * query.limit
    const { rows, total } = yield* asTenant(
      shop,
      Effect.gen(function*() {
        const counted = yield* sql<{ n: number }>`
          SELECT count(*)::int AS n FROM jobs
           WHERE shop = ${shop} AND (${query.status}::text IS NULL OR status = ${query.status}::text)`
        const rows = yield* sql<
          Pick<
            JobRecord,
            "job_id" | "status" | "query_string" | "namespace" | "key" | "type" | "matched_count" | "updated_count" | "failed_count" | "dry_run" | "created_at"
          >
        >`
          SELECT job_id, status, query_string, namespace, key, type, matched_count, updated_count, failed_count,
                 dry_run, created_at
            FROM jobs
           WHERE shop = ${shop} AND (${query.status}::text IS NULL OR status = ${query.status}::text)
           ORDER BY created_at DESC, job_id DESC
           LIMIT ${query.limit} OFFSET ${offset}`
        return { rows, total: counted[0]?.n ?? 0 }
      })
    )
    return {
      jobs: rows.map((r) => ({
        id: r.job_id,
        status: r.status,
        query: r.query_string,
        metafield: `${r.namespace}.${r.key}`,
        type: r.type,
        matched_count: r.matched_count,
        updated_count: r.updated_count,
        failed_count: r.failed_count,
        dry_run: r.dry_run,
        created_at: isoTimestamp(r.created_at)
      })),
      total,
      page: query.page,
      pages: Math.max(1, Math.ceil(total / query.limit))
    }
  }
)

/** The seed's job detail of a job record (from the read model, or folded from the log). */
const jobDetailOf = (job: JobRecord): JobDetail => ({
  id: job.job_id,
  status: job.status,
  query_string: job.query_string,
  namespace: job.namespace,
  key: job.key,
  type: job.type,
  value: job.value,
  dry_run: job.dry_run,
  max_items: job.max_items,
  matched_count: job.matched_count,
  updated_count: job.updated_count,
  failed_count: job.failed_count,
  // seed: "Permanent Errors … store error message in error_preview"
  error_preview: job.error_preview ?? (job.status === "FAILED" ? job.failure_message : null),
  undo_of: job.undo_of,
  undone_by: job.undone_by,
  created_at: isoTimestamp(job.created_at),
  updated_at: isoTimestamp(job.updated_at)
})

/** The job and its timeline from the read models (`jobs`, `job_timeline`), as the tenant. */
const readModelJobDetail = Effect.fn("AdminJobs.readModelJobDetail")(
  function*(shop: string, jobId: string): Effect.fn.Return<JobDetailResponse, ResourceNotFound | SqlError, SqlClient.SqlClient> {
    const sql = yield* SqlClient.SqlClient
    const { job, events } = yield* asTenant(
      shop,
      Effect.gen(function*() {
        const job = yield* selectJob(shop, jobId)
        const events = yield* sql<{ event_type: string; message: string; created_at: Date }>`
          SELECT event_type, message, created_at FROM job_timeline
           WHERE job_id = ${jobId} AND shop = ${shop} ORDER BY position`
        return { job, events }
      })
    )
    return {
      job: jobDetailOf(job),
      events: events.map((e) => ({ event_type: e.event_type, message: e.message, created_at: isoTimestamp(e.created_at) }))
    }
  }
)

/**
 * The job detail folded from the job's events, exactly as the `jobs` and `job_timeline`
 * projections fold them (events that do not decode are passed over, as they are there);
 * none when the events do not make a job.
 */
export const foldJobDetail = (shop: string, events: Iterable<RecordedEvent>): Option.Option<JobDetailResponse> => {
  let state: JobState = initialState()
  const timeline: Array<JobTimelineEntry> = []
  for (const event of events) {
    const decoded = decodeRecordedJobEvent(event)
    if (event.shop !== shop || Result.isFailure(decoded)) continue
    const next = evolve(state, decoded.success)
    if (!next.exists) continue
    state = next
    const { eventType, message } = describeJobEvent(decoded.success)
    timeline.push({ event_type: eventType, message, created_at: isoTimestamp(new Date(decoded.success.occurredAt)) })
  }
  if (!state.exists) return Option.none()
  const { state: _folded, ...row } = jobRow(shop, state)
  return Option.some({
    job: jobDetailOf({ ...row, status: state.status, created_at: new Date(row.created_at), updated_at: new Date(row.updated_at) }),
    events: timeline
  })
}

/** The job folded from its own stream in the event store, if the stream exists and is the shop's. */
const loggedJobDetail = Effect.fn("AdminJobs.loggedJobDetail")(
  function*(shop: string, jobId: string): Effect.fn.Return<Option.Option<JobDetailResponse>, PersistenceError, EventStore> {
    const store = yield* EventStore
    const streamId = jobStreamId(jobId)
    const info = yield* store.streamInfo(streamId)
    // another shop's stream is as invisible here as its row is in the read model
    if (info === null || info.shop !== shop) return Option.none()
    return foldJobDetail(shop, yield* Stream.runCollect(store.readStream(streamId)))
  }
)

/** Job ids are UUIDs: anything else was never a job, and is not worth a look in the log. */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/** Whether the ingress accepted job `jobId` (a UUID) for `shop`: its request is durably in the shop's log. */
const wasAccepted = (shop: string, jobId: string): Effect.Effect<boolean, SqlError, SqlClient.SqlClient> =>
  asTenant(
    shop,
    Effect.flatMap(SqlClient.SqlClient, (sql) =>
      sql<{ job_id: string }>`
        SELECT job_id FROM job_requests WHERE shop = ${shop} AND job_id = ${jobId}::uuid AND published LIMIT 1`)
  ).pipe(Effect.map((rows) => rows.length > 0))

/** Waits, woken by the log's commits, until the job's stream makes a job; none after `timeout`. */
const awaitLoggedJobDetail = (shop: string, jobId: string, timeout: Duration.Duration) =>
  Effect.gen(function*() {
    const wakeups = yield* LogWakeups
    for (;;) {
      // taken before the read: a commit in between still wakes the wait
      const next = yield* wakeups.next
      const found = yield* loggedJobDetail(shop, jobId)
      if (Option.isSome(found)) return found.value
      // a commit signal can be missed across processes (LISTEN reconnecting): look again anyway
      yield* Deferred.await(next).pipe(Effect.timeoutOption("250 millis"))
    }
  }).pipe(Effect.timeoutOption(timeout))

/**
 * Waits, as {@link awaitLoggedJobDetail}, until the shop's actor has recorded job `jobId`; true
 * once it has, false after `timeout`. `POST /app/jobs/:id/undo` answers after it, so a client
 * that reads the undo job right away finds it (an undo is a log message, not an accepted request).
 */
export const awaitJobRecorded = (shop: string, jobId: string, timeout: Duration.Duration) =>
  Effect.map(awaitLoggedJobDetail(shop, jobId, timeout), Option.isSome)

/** How long `GET /app/jobs/:id` waits for a job the ingress accepted but the shop's actor has not recorded yet. */
export const AWAIT_ACCEPTED_JOB_MS = 5_000

/**
 * `GET /app/jobs/:id`: the job and its timeline in log order, from the read models, else from
 * the job's stream, else — for a job the ingress accepted — once its actor has recorded it
 * (see the module comment). A job with no failed lines but a permanent failure shows the
 * failure message as its `error_preview`.
 */
export const getJobDetail = (
  shop: string,
  jobId: string,
  awaitAccepted: Duration.Duration = Duration.millis(AWAIT_ACCEPTED_JOB_MS)
): Effect.Effect<
  JobDetailResponse,
  ResourceNotFound | NotYetRecorded | SqlError | PersistenceError,
  SqlClient.SqlClient | EventStore | LogWakeups
> =>
  readModelJobDetail(shop, jobId).pipe(
    Effect.catchTag("ResourceNotFound", (notFound) =>
      Effect.gen(function*() {
        if (!UUID.test(jobId)) return yield* notFound
        const logged = yield* loggedJobDetail(shop, jobId)
        if (Option.isSome(logged)) return logged.value
        if (!(yield* wasAccepted(shop, jobId))) return yield* notFound
        const recorded = yield* awaitLoggedJobDetail(shop, jobId, awaitAccepted)
        if (Option.isSome(recorded)) return recorded.value
        return yield* new NotYetRecorded({ resource: "job", id: jobId })
      }))
  )

// ---------------------------------------------------------------------------
// Routes
// ---------------------------------------------------------------------------

export interface AdminJobRoutesOptions {
  /** How long a just-accepted job is waited for (default {@link AWAIT_ACCEPTED_JOB_MS}). */
  readonly awaitAcceptedJobMs?: number
}

/**
 * Mounts `GET /app/jobs` and `GET /app/jobs/:id` on `app`. Pass the process's one
 * {@link AdminGuard} (a config builds a guard of its own, with its own rate-limit buckets).
 * `run` provides the database, the event store and its commit signals (the job detail reads
 * the log when the read model is behind).
 */
export const mountAdminJobRoutes = (
  app: Hono,
  run: RunEffect<SqlClient.SqlClient | EventStore | LogWakeups>,
  guard: AdminGuard | AdminAuthConfig,
  options: AdminJobRoutesOptions = {}
): void => {
  const admin = toAdminGuard(run, guard)
  const awaitAccepted = Duration.millis(options.awaitAcceptedJobMs ?? AWAIT_ACCEPTED_JOB_MS)

  mountAdminRoute(app, admin, AdminRoutes.listJobs, (c) => {
    const shop = requireShop(c)
    const query = parseJobListQuery(c.req.queries())
    if (Result.isFailure(query)) return adminErrorResponse(c, query.failure)
    return runAdminEffect(run, c, listJobs(shop, query.success), (body) => c.json(body))
  })

  mountAdminRoute(app, admin, AdminRoutes.getJob, (c) => {
    const shop = requireShop(c)
    return runAdminEffect(run, c, getJobDetail(shop, c.req.param("id") ?? "", awaitAccepted), (body) => c.json(body))
  })
}
