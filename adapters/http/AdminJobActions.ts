/**
 * Admin job actions beside the read-only job API (`AdminJobRoutes.ts`), same guard and 404 rules:
 * - `GET /app/jobs/:id/errors.jsonl` (`jobs:read`): every failed result line of the job's bulk
 *   mutations, streamed page by page (a job can have up to 100,000 of them);
 * - `POST /app/jobs/:id/undo` (`jobs:undo`): asks the shop's actor for the compensating job that
 *   restores every product's previous value (or deletes the metafield where none existed).
 *   Products changed by someone else since the job wrote them keep the newer value: the undo
 *   job counts them (`changedSinceCount` on its events) and lists them in its error file
 *   (`kind: "changed_since"`, with a plain reason). Body `{ "force": true }` (optional; none
 *   means `{}`) restores every product unconditionally, also after an unforced undo, to put
 *   back what that one left as changed since. The 202 (`undo_job_id`) comes once the actor
 *   has recorded the undo job, so reading it right away finds it (after 5 s without, the
 *   undo is durable in the log all the same).
 */
import { Duration, Effect, Result } from "effect"
import { uuidV7Unsafe } from "effect/crypto/SecureRandom"
import { SqlClient } from "effect/sql"
import type { Context, Hono } from "hono"
import { asTenant } from "../postgres/Tenancy.ts"
import type { PublishAck, ShopMessage } from "../../src/shoplog/ShopLog.ts"
import {
  type AdminAuthConfig,
  type AdminGuard,
  Conflict,
  InvalidRequestBody,
  mountAdminRoute,
  principalLabel,
  requirePrincipal,
  requireShop,
  runAdminEffect,
  readJsonBody,
  toAdminGuard,
  unavailableOf,
  Unavailable
} from "./AdminAuth.ts"
import { AWAIT_ACCEPTED_JOB_MS, awaitJobRecorded, getJob } from "./AdminJobRoutes.ts"
import { duplicateJobAnswer } from "./FlowActionRoute.ts"
import { AdminRoutes } from "./AdminRouteCatalog.ts"
import { encodeShopMessage } from "../../domain/messages/ShopMessages.ts"
import { validateFlowActionInput } from "../../domain/jobs/index.ts"
import { JobIngress } from "../../src/jobs/JobIngress.ts"
import type { RunEffect } from "./RunEffect.ts"
import type { EventStore } from "../../src/eventstore/EventStore.ts"
import type { LogWakeups } from "../../src/eventstore/LogWakeups.ts"

/**
 * The shop log, and the process's one admin guard (`{ guard }`); older callers pass the guard's
 * config (`AdminAuthConfig`) instead, which builds a guard (and rate-limit buckets) of its own.
 */
export type AdminJobActionsOptions =
  & {
    /** Publishes to a shop's log; resolves once durable. */
    readonly publish: (message: ShopMessage) => Promise<PublishAck>
  }
  & ({ readonly guard: AdminGuard } | AdminAuthConfig)

const PAGE = 2000

/** Whether the job's latest undo was forced (the folded job state the `jobs` read model keeps), as the tenant. */
const undoWasForced = (shop: string, jobId: string) =>
  asTenant(shop, Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const rows = yield* sql<{ forced: boolean }>`
      SELECT coalesce((state->>'undoForced')::boolean, false) AS forced FROM jobs WHERE job_id = ${jobId} AND shop = ${shop}`
    return rows[0]?.forced ?? false
  }))

/** The undo's options from its body: none, or a JSON object with an optional boolean `force`. */
const readUndoOptions = (c: Context) =>
  Effect.gen(function*() {
    if ((c.req.header("content-length") ?? "0") === "0" && c.req.header("transfer-encoding") === undefined) return { force: false }
    const body = yield* readJsonBody(c)
    if (typeof body !== "object" || body === null || Array.isArray(body)) {
      return yield* new InvalidRequestBody({ message: "the body must be a JSON object, e.g. { \"force\": true }" })
    }
    const force = (body as Record<string, unknown>)["force"] ?? false
    if (typeof force !== "boolean") {
      return yield* new InvalidRequestBody({ message: "force must be true or false", errors: [{ field: "force", message: "must be true or false" }] })
    }
    return { force }
  })

/** Undoing a job, told before it is asked: the counts of its snapshot and its first products. */
const UNDO_PREVIEW_SAMPLE = 10
const undoPreviewOf = (shop: string, jobId: string) =>
  asTenant(shop, Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const [counts] = yield* sql<{ products: number; restored: number }>`
      SELECT count(*)::int AS products, count(prev_value)::int AS restored FROM job_snapshots WHERE job_id = ${jobId} AND shop = ${shop}`
    const sample = yield* sql<{ product_id: string; prev_value: string | null }>`
      SELECT product_id, prev_value FROM job_snapshots WHERE job_id = ${jobId} AND shop = ${shop} ORDER BY ordinal LIMIT ${UNDO_PREVIEW_SAMPLE}`
    const products = counts?.products ?? 0
    const restored = counts?.restored ?? 0
    return {
      products,
      restored,
      removed: products - restored,
      sample: sample.map((r) => ({ product_id: r.product_id, previous_value: r.prev_value }))
    }
  }))

/** `POST /app/jobs`: the Flow action's job, started by a person in the admin (`jobs:create`). */
export const mountAdminJobRequestRoute = (app: Hono, run: RunEffect<JobIngress>, guard: AdminGuard) =>
  mountAdminRoute(app, guard, AdminRoutes.createJob, (c) =>
    runAdminEffect(
      run,
      c,
      Effect.gen(function*() {
        const body = yield* readJsonBody(c)
        // the shop is the caller's; a `shopify_domain` or `action_run_id` in the body would be Flow's
        const b = typeof body === "object" && body !== null && !Array.isArray(body) ? body as Record<string, unknown> : {}
        const { action_run_id: _run, shopify_domain: _shop, ...fields } = b
        const validated = validateFlowActionInput(fields)
        if (Result.isFailure(validated)) {
          return yield* new InvalidRequestBody({
            message: "the job is not valid",
            errors: validated.failure.map((d) => ({ field: d.field, message: d.message }))
          })
        }
        const ingress = yield* JobIngress
        const principal = requirePrincipal(c)
        return yield* ingress.request(principal.shop, validated.success, "admin", principalLabel(principal) || null).pipe(
          Effect.catchTag("ShopLogUnavailable", () => Effect.fail(new Unavailable({ what: "the shop log" })))
        )
      }),
      (outcome) =>
        outcome._tag === "Duplicate"
          ? duplicateJobAnswer(c, outcome.jobId)
          : c.json({ job_id: outcome.jobId, status: "PENDING" }, 202)
    ))

export const mountAdminJobActions = (app: Hono, run: RunEffect<SqlClient.SqlClient | EventStore | LogWakeups>, options: AdminJobActionsOptions) => {
  const admin = toAdminGuard(run, "guard" in options ? options.guard : options)

  mountAdminRoute(app, admin, AdminRoutes.jobErrors, async (c) => {
    const shop = requireShop(c)
    const jobId = c.req.param("id") ?? ""
    return runAdminEffect(run, c, getJob(shop, jobId), (job) => {
      const encoder = new TextEncoder()
      let after = { chunk: -1, line: -1 }
      const body = new ReadableStream<Uint8Array>({
        pull: async (controller) => {
          const rows = await run(asTenant(shop, Effect.gen(function*() {
            const sql = yield* SqlClient.SqlClient
            return yield* sql<{ chunk_index: number; line_number: number; line: string }>`
              SELECT chunk_index, line_number, line FROM job_error_lines
               WHERE job_id = ${job.job_id} AND (chunk_index, line_number) > (${after.chunk}, ${after.line})
               ORDER BY chunk_index, line_number LIMIT ${PAGE}`
          })))
          if (rows.length > 0) {
            controller.enqueue(encoder.encode(rows.map((r) => `${r.line}\n`).join("")))
            const last = rows[rows.length - 1]!
            after = { chunk: last.chunk_index, line: last.line_number }
          }
          if (rows.length < PAGE) controller.close()
        }
      })
      return new Response(body, {
        status: 200,
        headers: {
          "content-type": "application/jsonl; charset=utf-8",
          "content-disposition": `attachment; filename="job-${job.job_id}-errors.jsonl"`
        }
      })
    })
  })

  mountAdminRoute(app, admin, AdminRoutes.jobUndoPreview, (c) => {
    const shop = requireShop(c)
    return runAdminEffect(
      run,
      c,
      Effect.flatMap(getJob(shop, c.req.param("id") ?? ""), (job) => undoPreviewOf(shop, job.job_id)),
      (preview) => c.json(preview)
    )
  })

  mountAdminRoute(app, admin, AdminRoutes.undoJob, (c) => {
    const principal = requirePrincipal(c)
    const shop = principal.shop
    const jobId = c.req.param("id") ?? ""
    const undoJobId = uuidV7Unsafe()
    return runAdminEffect(
      run,
      c,
      Effect.gen(function*() {
        // 1. the job must be this shop's (404 otherwise) and undoable (409 otherwise)
        const job = yield* getJob(shop, jobId)
        const { force } = yield* readUndoOptions(c)
        // a forced undo may follow an unforced one, nothing may follow a forced one
        if (job.undone_by !== null && (!force || (yield* undoWasForced(shop, job.job_id)))) {
          return yield* new Conflict({
            code: "already_undone",
            message: force
              ? `job ${job.job_id} was already undone with force`
              : `job ${job.job_id} was already undone (send { "force": true } to also restore the products it left as changed since)`,
            fields: { undo_job_id: job.undone_by }
          })
        }
        if (job.status !== "COMPLETED" || job.dry_run || job.undo_of !== null) {
          return yield* new Conflict({
            code: "not_undoable",
            message: "only a completed live job that is not itself an undo can be undone",
            fields: { status: job.status }
          })
        }
        // 2. durable in the shop's log before we answer; one undo per job and one forced undo
        //    (the message ids)
        const ack = yield* Effect.tryPromise({
          try: () =>
            options.publish({
              shop,
              messageId: force ? `job.undo:${jobId}:force` : `job.undo:${jobId}`,
              ...encodeShopMessage({
                type: "job.undo",
                payload: { jobId, undoJobId, requestedBy: principalLabel(principal) || null, ...(force ? { force } : {}) }
              }),
              correlationId: jobId
            }),
          catch: (error) => error
        }).pipe(
          // the log unreachable is a 503; any other rejection is a bug (500), not an outage
          Effect.catch((error) => {
            const unavailable = unavailableOf(error)
            return unavailable === undefined ? Effect.die(error) : Effect.fail(unavailable)
          })
        )
        if (ack.duplicate) {
          return yield* new Conflict({ code: "undo_in_progress", message: `undo of job ${jobId} was already requested` })
        }
        // 3. read your writes: answered once the shop's actor has recorded the undo job, so a
        //    GET of it right after the 202 finds it (past the wait, the undo is durable in the
        //    log all the same, and the GET answers 404 until the actor catches up)
        yield* awaitJobRecorded(shop, undoJobId, Duration.millis(AWAIT_ACCEPTED_JOB_MS))
      }),
      () => c.json({ undo_job_id: undoJobId, status: "PENDING", message: "Undo enqueued" }, 202)
    )
  })
}
