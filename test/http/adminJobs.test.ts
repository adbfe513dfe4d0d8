/**
 * The admin jobs API over real HTTP (Hono on `@hono/node-server`, 127.0.0.1, port 0) against
 * PostgreSQL 15: the seed's JSON shapes exactly, pagination, the status filter, session-token
 * authentication (401), tenancy (another shop's job is a 404) and typed 400s.
 *
 * Jobs are produced as the shop actor produces them (decider → append to `job-<id>`) and read
 * through the `jobs` and `job_timeline` projections, which the suite waits for without sleeping.
 */
import { assert, describe, layer } from "@effect/vitest"
import { Context, Effect, Layer } from "effect"
import type { SqlClient } from "effect/sql"
import { Hono } from "hono"
import { mountAdminJobRoutes } from "../../adapters/http/AdminJobRoutes.ts"
import { serveHttp } from "../../adapters/http/HttpServer.ts"
import { signSessionToken } from "../../adapters/http/SessionToken.ts"
import { jobsProjection } from "../../projections/jobs.ts"
import { jobTimelineProjection } from "../../projections/jobTimeline.ts"
import { coreLayer } from "../../src/CoreLayer.ts"
import type { EventStore } from "../../src/eventstore/EventStore.ts"
import type { LogWakeups } from "../../src/eventstore/LogWakeups.ts"
import { runProjections } from "../../src/projections/ProjectionRunner.ts"
import { postgresLayer } from "../support/databases.ts"
import { awaitCaughtUp } from "../support/projections.ts"
import { handleJobCommands, jobParams, requestJob } from "../support/jobCommands.ts"
import { testKeyRing } from "../support/keys.ts"

const API_KEY = "test-api-key"
const APP_SECRET = "test-app-secret"
const SHOP_A = "alpha.myshopify.com"
const SHOP_B = "beta.myshopify.com"

/** The seed's example job. */
const SEED = "550e8400-e29b-41d4-a716-446655440000"
const id = (n: number) => `${String(n).repeat(8)}-7c9e-4679-8425-40de944be07f`
const DRY = id(1)
const FAIL1 = id(2)
const FAIL2 = id(3)
const RUNNING = id(4)
const PENDING = id(5)
const EMPTY = id(6)
const OTHER_SHOP = id(7)

const ERROR_LINES = [
  "{\"id\":\"gid://shopify/Product/123\",\"error\":\"Network timeout\"}",
  "{\"id\":\"gid://shopify/Product/456\",\"error\":\"value is invalid\"}",
  "{\"id\":\"gid://shopify/Product/789\",\"error\":\"value is invalid\"}"
]

const t = (hhmmss: string) => `2025-12-27T${hhmmss}Z`




const seedJobs = Effect.gen(function*() {
  // the seed's example: a live job, 1,523 matched, 1,520 updated, 3 failed
  yield* handleJobCommands(SHOP_A, [
    requestJob(SEED, SHOP_A, jobParams(), t("10:30:00")),
    { type: "StartJob", jobId: SEED, at: t("10:30:05") },
    { type: "RecordBulkQueryStarted", jobId: SEED, bulkOperationId: "gid://shopify/BulkOperation/100", at: t("10:30:06") },
    {
      type: "RecordQueryCompleted",
      jobId: SEED,
      bulkOperationId: "gid://shopify/BulkOperation/100",
      matchedCount: 1523,
      truncated: false,
      snapshotRef: "snapshots/550e8400.jsonl",
      at: t("10:31:00")
    },
    { type: "RecordChunkUploaded", jobId: SEED, chunkIndex: 0, stagedUploadPath: "tmp/bulk/550e", lines: 1523, bytes: 409_600, at: t("10:32:00") },
    { type: "RecordBulkMutationStarted", jobId: SEED, chunkIndex: 0, bulkOperationId: "gid://shopify/BulkOperation/200", at: t("10:32:01") },
    {
      type: "RecordMutationCompleted",
      jobId: SEED,
      chunkIndex: 0,
      bulkOperationId: "gid://shopify/BulkOperation/200",
      updatedCount: 1520,
      failedCount: 3,
      errorLines: ERROR_LINES,
      at: t("10:35:00")
    },
    { type: "CompleteJob", jobId: SEED, at: t("10:35:00") }
  ])
  yield* handleJobCommands(SHOP_A, [
    requestJob(DRY, SHOP_A, jobParams({ dryRun: true, queryString: "tag:sale" }), t("10:40:00")),
    { type: "StartJob", jobId: DRY, at: t("10:40:01") },
    { type: "RecordBulkQueryStarted", jobId: DRY, bulkOperationId: "gid://shopify/BulkOperation/300", at: t("10:40:02") },
    {
      type: "RecordQueryCompleted",
      jobId: DRY,
      bulkOperationId: "gid://shopify/BulkOperation/300",
      matchedCount: 812,
      truncated: false,
      snapshotRef: null,
      at: t("10:41:00")
    }
  ])
  yield* handleJobCommands(SHOP_A, [
    requestJob(FAIL1, SHOP_A, jobParams({ queryString: "status:active AND (" }), t("10:50:00")),
    { type: "StartJob", jobId: FAIL1, at: t("10:50:01") },
    { type: "FailJob", jobId: FAIL1, code: "INVALID_QUERY", message: "Invalid search query syntax", at: t("10:50:02") }
  ])
  yield* handleJobCommands(SHOP_A, [
    requestJob(FAIL2, SHOP_A, jobParams({ key: "badge_two" }), t("11:00:00")),
    { type: "FailJob", jobId: FAIL2, code: "ACCESS_DENIED", message: "The app lacks the write_products scope", at: t("11:00:30") }
  ])
  yield* handleJobCommands(SHOP_A, [
    requestJob(RUNNING, SHOP_A, jobParams({ key: "badge_three" }), t("11:10:00")),
    { type: "StartJob", jobId: RUNNING, at: t("11:10:01") },
    { type: "RecordBulkQueryStarted", jobId: RUNNING, bulkOperationId: "gid://shopify/BulkOperation/400", at: t("11:10:02") }
  ])
  yield* handleJobCommands(SHOP_A, [requestJob(PENDING, SHOP_A, jobParams({ key: "badge_four" }), t("11:20:00"))])
  yield* handleJobCommands(SHOP_A, [
    requestJob(EMPTY, SHOP_A, jobParams({ queryString: "tag:nothing" }), t("11:30:00")),
    { type: "StartJob", jobId: EMPTY, at: t("11:30:01") },
    { type: "RecordBulkQueryStarted", jobId: EMPTY, bulkOperationId: "gid://shopify/BulkOperation/500", at: t("11:30:02") },
    {
      type: "RecordQueryCompleted",
      jobId: EMPTY,
      bulkOperationId: "gid://shopify/BulkOperation/500",
      matchedCount: 0,
      truncated: false,
      snapshotRef: "snapshots/empty.jsonl",
      at: t("11:30:10")
    }
  ])
  // newest of all: if tenancy leaked, it would head shop A's list
  yield* handleJobCommands(SHOP_B, [requestJob(OTHER_SHOP, SHOP_B, jobParams({ namespace: "beta_ns" }), t("11:40:00"))])
})


/** The API under test: seeded jobs, projections caught up, a real HTTP server. */
class Api extends Context.Service<Api, { readonly baseUrl: string }>()("test/http/adminJobs/Api") {}

const ApiLayer = Layer.effect(
  Api,
  Effect.gen(function*() {
    yield* seedJobs
    yield* Effect.forkScoped(runProjections([jobsProjection, jobTimelineProjection], { batchSize: 4 }))
    yield* awaitCaughtUp("jobs")
    yield* awaitCaughtUp("job_timeline")
    const context = yield* Effect.context<SqlClient.SqlClient | EventStore | LogWakeups>()
    const app = new Hono()
    mountAdminJobRoutes(app, (effect) => Effect.runPromiseWith(context)(effect), { apiKey: API_KEY, appSecret: APP_SECRET })
    const server = yield* Effect.acquireRelease(
      Effect.callback<{ readonly server: ReturnType<typeof serveHttp>; readonly port: number }>((resume) => {
        const s = serveHttp({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, (info) => resume(Effect.succeed({ server: s, port: info.port })))
      }),
      ({ server }) => Effect.callback<void>((resume) => { server.close(() => resume(Effect.void)) })
    )
    return Api.of({ baseUrl: `http://127.0.0.1:${server.port}` })
  })
)

const token = (shop: string, extra: Partial<Parameters<typeof signSessionToken>[0]> = {}) =>
  signSessionToken({ shop, apiKey: API_KEY, appSecret: APP_SECRET, ...extra })

const get = (path: string, headers: Record<string, string> = {}) =>
  Effect.gen(function*() {
    const { baseUrl } = yield* Api
    return yield* Effect.promise(async () => {
      const res = await fetch(`${baseUrl}${path}`, { headers })
      return { status: res.status, headers: res.headers, body: (await res.json()) as any }
    })
  })

const getAs = (shop: string, path: string) => get(path, { Authorization: `Bearer ${token(shop)}` })

describe("admin jobs API over HTTP on PostgreSQL 15", () => {
  layer(ApiLayer.pipe(Layer.provideMerge(coreLayer(postgresLayer(), testKeyRing()))), { excludeTestServices: true, timeout: 120_000 })((it) => {
    it.effect("GET /app/jobs/:id returns the seed's job detail shape exactly, with its timeline", () =>
      Effect.gen(function*() {
        const res = yield* getAs(SHOP_A, `/app/jobs/${SEED}`)
        assert.strictEqual(res.status, 200)
        assert.match(res.headers.get("content-type") ?? "", /^application\/json/)
        assert.deepStrictEqual(res.body, {
          job: {
            id: SEED,
            status: "COMPLETED",
            query_string: "status:active tag:winter",
            namespace: "custom",
            key: "seasonal_badge",
            type: "single_line_text_field",
            value: "Winter Collection",
            dry_run: false,
            max_items: 5000,
            matched_count: 1523,
            updated_count: 1520,
            failed_count: 3,
            error_preview: ERROR_LINES.join("\n"),
            undo_of: null,
            undone_by: null,
            created_at: "2025-12-27T10:30:00Z",
            updated_at: "2025-12-27T10:35:00Z"
          },
          events: [
            {
              event_type: "JOB_CREATED",
              message:
                "Bulk job 550e8400… requested via Shopify Flow: set custom.seasonal_badge (single_line_text_field) on up to 5,000 products matching \"status:active tag:winter\"",
              created_at: "2025-12-27T10:30:00Z"
            },
            { event_type: "JOB_STARTED", message: "Bulk job 550e8400… started processing", created_at: "2025-12-27T10:30:05Z" },
            {
              event_type: "QUERY_STARTED",
              message: "Bulk job 550e8400… started bulk query gid://shopify/BulkOperation/100",
              created_at: "2025-12-27T10:30:06Z"
            },
            {
              event_type: "QUERY_COMPLETED",
              message: "Bulk job 550e8400… query completed: 1,523 products matched",
              created_at: "2025-12-27T10:31:00Z"
            },
            {
              event_type: "UPLOAD_COMPLETED",
              message: "Bulk job 550e8400… uploaded chunk 1 (1,523 lines, 400 KB)",
              created_at: "2025-12-27T10:32:00Z"
            },
            {
              event_type: "MUTATION_STARTED",
              message: "Bulk job 550e8400… started bulk mutation for chunk 1 (gid://shopify/BulkOperation/200)",
              created_at: "2025-12-27T10:32:01Z"
            },
            {
              event_type: "MUTATION_COMPLETED",
              message: "Bulk job 550e8400… chunk 1 mutation completed: 1,520 updated, 3 failed",
              created_at: "2025-12-27T10:35:00Z"
            },
            {
              event_type: "JOB_COMPLETED",
              message: "Bulk job 550e8400… completed: 1,520 updated, 3 failed",
              created_at: "2025-12-27T10:35:00Z"
            }
          ]
        })
      }))

    it.effect("a permanently failed job shows its error as error_preview; a running one has no counts yet", () =>
      Effect.gen(function*() {
        const failed = yield* getAs(SHOP_A, `/app/jobs/${FAIL1}`)
        assert.strictEqual(failed.status, 200)
        assert.strictEqual(failed.body.job.status, "FAILED")
        assert.strictEqual(failed.body.job.error_preview, "Invalid search query syntax")
        assert.deepStrictEqual(failed.body.events.map((e: { event_type: string }) => e.event_type), ["JOB_CREATED", "JOB_STARTED", "JOB_FAILED"])
        const running = yield* getAs(SHOP_A, `/app/jobs/${RUNNING}`)
        assert.deepStrictEqual(
          [running.body.job.status, running.body.job.matched_count, running.body.job.updated_count, running.body.job.error_preview],
          ["RUNNING", null, null, null]
        )
      }))

    it.effect("GET /app/jobs lists the shop's jobs newest first in the seed's item shape", () =>
      Effect.gen(function*() {
        const res = yield* getAs(SHOP_A, "/app/jobs?page=1&limit=50")
        assert.strictEqual(res.status, 200)
        assert.deepStrictEqual(Object.keys(res.body).sort(), ["jobs", "page", "pages", "total"])
        assert.deepStrictEqual([res.body.total, res.body.page, res.body.pages], [7, 1, 1])
        assert.deepStrictEqual(
          res.body.jobs.map((j: { id: string }) => j.id),
          [EMPTY, PENDING, RUNNING, FAIL2, FAIL1, DRY, SEED]
        )
        assert.deepStrictEqual(res.body.jobs[6], {
          id: SEED,
          status: "COMPLETED",
          query: "status:active tag:winter",
          metafield: "custom.seasonal_badge",
          type: "single_line_text_field",
          matched_count: 1523,
          updated_count: 1520,
          failed_count: 3,
          dry_run: false,
          created_at: "2025-12-27T10:30:00Z"
        })
        // a dry run counts what it would touch, and writes nothing
        assert.deepStrictEqual(res.body.jobs[5], {
          id: DRY,
          status: "COMPLETED",
          query: "tag:sale",
          metafield: "custom.seasonal_badge",
          type: "single_line_text_field",
          matched_count: 812,
          updated_count: null,
          failed_count: null,
          dry_run: true,
          created_at: "2025-12-27T10:40:00Z"
        })
        // a live job that matched nothing completed with zero writes
        assert.deepStrictEqual(
          [res.body.jobs[0].status, res.body.jobs[0].matched_count, res.body.jobs[0].updated_count, res.body.jobs[0].failed_count],
          ["COMPLETED", 0, 0, 0]
        )
        // the defaults are page 1 and 50 per page; Shopify's own URL parameters are ignored
        const defaults = yield* getAs(SHOP_A, "/app/jobs?shop=alpha.myshopify.com&host=YWRtaW4&embedded=1")
        assert.strictEqual(defaults.status, 200)
        assert.deepStrictEqual(defaults.body, res.body)
      }))

    it.effect("pagination: limit, page, pages and an empty page past the end", () =>
      Effect.gen(function*() {
        const pages = []
        for (const page of [1, 2, 3, 4]) {
          const res = yield* getAs(SHOP_A, `/app/jobs?page=${page}&limit=3`)
          assert.strictEqual(res.status, 200)
          assert.deepStrictEqual([res.body.total, res.body.page, res.body.pages], [7, page, 3])
          pages.push(res.body.jobs.map((j: { id: string }) => j.id))
        }
        assert.deepStrictEqual(pages, [[EMPTY, PENDING, RUNNING], [FAIL2, FAIL1, DRY], [SEED], []])
        const max = yield* getAs(SHOP_A, "/app/jobs?limit=100")
        assert.strictEqual(max.status, 200)
        assert.strictEqual(max.body.jobs.length, 7)
      }))

    it.effect("status filter", () =>
      Effect.gen(function*() {
        const failed = yield* getAs(SHOP_A, "/app/jobs?status=FAILED")
        assert.strictEqual(failed.status, 200)
        assert.deepStrictEqual(failed.body.jobs.map((j: { id: string }) => j.id), [FAIL2, FAIL1])
        assert.deepStrictEqual([failed.body.total, failed.body.pages], [2, 1])
        const completed = yield* getAs(SHOP_A, "/app/jobs?status=COMPLETED&limit=2&page=2")
        assert.deepStrictEqual(completed.body.jobs.map((j: { id: string }) => j.id), [SEED])
        assert.deepStrictEqual([completed.body.total, completed.body.pages], [3, 2])
        const pending = yield* getAs(SHOP_A, "/app/jobs?status=PENDING")
        assert.deepStrictEqual(pending.body.jobs.map((j: { id: string }) => j.id), [PENDING])
      }))

    it.effect("tenancy: another shop's job is a 404 without data, and never listed", () =>
      Effect.gen(function*() {
        const foreign = yield* getAs(SHOP_B, `/app/jobs/${SEED}`)
        assert.strictEqual(foreign.status, 404)
        assert.deepStrictEqual(foreign.body, { error: { code: "NOT_FOUND", message: `job ${SEED} not found` } })
        // indistinguishable from a job that does not exist
        const missing = yield* getAs(SHOP_B, "/app/jobs/00000000-0000-7000-8000-000000000000")
        assert.strictEqual(missing.status, 404)
        assert.strictEqual(missing.body.error.code, "NOT_FOUND")
        const own = yield* getAs(SHOP_B, `/app/jobs/${OTHER_SHOP}`)
        assert.strictEqual(own.status, 200)
        assert.strictEqual(own.body.job.id, OTHER_SHOP)
        const listB = yield* getAs(SHOP_B, "/app/jobs")
        assert.deepStrictEqual(listB.body.jobs.map((j: { id: string }) => j.id), [OTHER_SHOP])
        assert.strictEqual(listB.body.total, 1)
        const reverse = yield* getAs(SHOP_A, `/app/jobs/${OTHER_SHOP}`)
        assert.strictEqual(reverse.status, 404)
      }))

    it.effect("401 without a token, with a malformed, forged, expired or wrong-audience token", () =>
      Effect.gen(function*() {
        const cases: ReadonlyArray<readonly [string, Record<string, string>, string]> = [
          ["no header", {}, "MISSING_TOKEN"],
          ["basic auth", { Authorization: "Basic dXNlcjpwYXNz" }, "MISSING_TOKEN"],
          ["garbage", { Authorization: "Bearer not-a-jwt" }, "MALFORMED"],
          ["wrong secret", { Authorization: `Bearer ${signSessionToken({ shop: SHOP_A, apiKey: API_KEY, appSecret: "another-secret" })}` }, "BAD_SIGNATURE"],
          ["expired", { Authorization: `Bearer ${token(SHOP_A, { issuedAtMs: Date.now() - 10 * 60_000 })}` }, "EXPIRED"],
          ["not yet valid", { Authorization: `Bearer ${token(SHOP_A, { issuedAtMs: Date.now() + 10 * 60_000 })}` }, "NOT_YET_VALID"],
          ["wrong aud", { Authorization: `Bearer ${token(SHOP_A, { apiKey: "another-app" })}` }, "WRONG_AUDIENCE"],
          ["alg none", { Authorization: `Bearer ${token(SHOP_A, { header: { alg: "none" } })}` }, "UNSUPPORTED_ALGORITHM"],
          [
            "dest not a shop",
            { Authorization: `Bearer ${token(SHOP_A, { claims: { dest: "https://evil.example.com", iss: "https://evil.example.com/admin" } })}` },
            "BAD_ISSUER"
          ],
          [
            "iss of another shop",
            { Authorization: `Bearer ${token(SHOP_A, { claims: { iss: `https://${SHOP_B}/admin` } })}` },
            "BAD_ISSUER"
          ]
        ]
        for (const path of ["/app/jobs", `/app/jobs/${SEED}`]) {
          for (const [name, headers, reason] of cases) {
            const res = yield* get(path, headers)
            assert.strictEqual(res.status, 401, `${name} on ${path}`)
            assert.strictEqual(res.body.error.code, "UNAUTHORIZED", name)
            assert.strictEqual(res.body.error.reason, reason, name)
            assert.isUndefined(res.body.jobs, name)
            assert.isUndefined(res.body.job, name)
            assert.strictEqual(res.headers.get("x-shopify-retry-invalid-session-request"), "1", name)
          }
        }
        // a token within the leeway still works
        const skewed = yield* get("/app/jobs", { Authorization: `Bearer ${token(SHOP_A, { issuedAtMs: Date.now() - 61_000 })}` })
        assert.strictEqual(skewed.status, 200)
      }))

    it.effect("400 with a typed error for bad page, limit and status", () =>
      Effect.gen(function*() {
        const cases: ReadonlyArray<readonly [string, string]> = [
          ["page=0", "page"],
          ["page=-1", "page"],
          ["page=abc", "page"],
          ["page=1.5", "page"],
          ["page=1&page=2", "page"],
          ["limit=0", "limit"],
          ["limit=101", "limit"],
          ["limit=1e2", "limit"],
          ["status=DONE", "status"],
          ["status=completed", "status"]
        ]
        for (const [query, parameter] of cases) {
          const res = yield* getAs(SHOP_A, `/app/jobs?${query}`)
          assert.strictEqual(res.status, 400, query)
          assert.strictEqual(res.body.error.code, "INVALID_QUERY_PARAMETER", query)
          assert.strictEqual(res.body.error.parameter, parameter, query)
          assert.isString(res.body.error.message)
        }
        const status = yield* getAs(SHOP_A, "/app/jobs?status=DONE")
        assert.strictEqual(status.body.error.message, "status must be one of PENDING, RUNNING, COMPLETED, FAILED")
      }))
  })
})
