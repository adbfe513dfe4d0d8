/**
 * Admin job actions beside the read-only job API (`AdminJobRoutes.ts`), same auth and 404 rules:
 * - `GET /app/jobs/:id/errors.jsonl`: every failed result line of the job's bulk mutations,
 *   streamed page by page (a job can have up to 100,000 of them);
 * - `POST /app/jobs/:id/undo`: asks the shop's actor for the compensating job that restores
 *   every product's previous value (or deletes the metafield where none existed).
 */
import { Effect } from "effect"
import { uuidV7Unsafe } from "effect/crypto/SecureRandom"
import { SqlClient } from "effect/sql"
import type { Hono } from "hono"
import { asTenant } from "../postgres/Tenancy.ts"
import type { PublishAck, ShopMessage } from "../../src/shoplog/ShopLog.ts"
import { type AdminAuthConfig, adminAuth, getJob, requireShop, runAdminEffect, type RunSqlEffect } from "./AdminJobRoutes.ts"

export interface AdminJobActionsOptions extends AdminAuthConfig {
  /** Publishes to a shop's log; resolves once durable. */
  readonly publish: (message: ShopMessage) => Promise<PublishAck>
}

const PAGE = 2000

export const mountAdminJobActions = (app: Hono, run: RunSqlEffect, options: AdminJobActionsOptions) => {
  const auth = adminAuth(options)

  app.get("/app/jobs/:id/errors.jsonl", auth, async (c) => {
    const shop = requireShop(c)
    const jobId = c.req.param("id")
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

  app.post("/app/jobs/:id/undo", auth, async (c) => {
    const shop = requireShop(c)
    const session = c.get("session")
    const jobId = c.req.param("id")
    // 1. the job must be this shop's (404 otherwise) and undoable (409 otherwise)
    let refusal: Response | undefined
    const found = await runAdminEffect(run, c, getJob(shop, jobId), (job) => {
      if (job.undone_by !== null) {
        refusal = c.json({ error: { code: "already_undone", message: `job ${job.job_id} was already undone` }, undo_job_id: job.undone_by }, 409)
      } else if (job.status !== "COMPLETED" || job.dry_run || job.undo_of !== null) {
        refusal = c.json({ error: { code: "not_undoable", message: "only a completed live job that is not itself an undo can be undone" }, status: job.status }, 409)
      }
      return c.body(null, 204)
    })
    if (found.status !== 204) return found
    if (refusal !== undefined) return refusal
    // 2. durable in the shop's log before we answer; one undo per job (the message id)
    const undoJobId = uuidV7Unsafe()
    try {
      const ack = await options.publish({
        shop,
        messageId: `job.undo:${jobId}`,
        type: "job.undo",
        payload: { jobId, undoJobId, requestedBy: session.userId ?? null },
        correlationId: jobId
      })
      if (ack.duplicate) return c.json({ error: { code: "undo_in_progress", message: `undo of job ${jobId} was already requested` } }, 409)
    } catch {
      return c.json({ error: { code: "unavailable", message: "the shop log is unavailable; retry later" } }, 503, { "Retry-After": "5" })
    }
    return c.json({ undo_job_id: undoJobId, status: "PENDING", message: "Undo enqueued" }, 202)
  })
}
