/**
 * What the shop's rules did (issue 11 §5), from the `executions` read model:
 * - `GET /app/executions?rule_id&status&page&limit` (`automation:read`): newest first, each
 *   execution with its status and, for a skip or a deferral, the reason —
 *   `{ "executions": [...], "total", "page", "pages" }`;
 * - `GET /app/executions/:id` (`automation:read`): one execution;
 * - `GET /app/approvals` (`automation:read`): the executions waiting for a person;
 * - `POST /app/approvals/:id/approve|reject` (`automation:manage`): the answer goes to the shop's
 *   actor (the single writer); the request waits for the approval's end — by this answer, or by
 *   whatever came first (409 `not_awaiting` then; 404 for an execution that never waited here).
 * Read as the tenant (row-level security): another shop's execution is a 404.
 */
import { Effect, Option, Result } from "effect"
import { SqlClient } from "effect/sql"
import type { Context, Hono } from "hono"
import { submitApproval } from "../../src/automation/RuleCommands.ts"
import { submitUndo } from "../../src/automation/UndoCommands.ts"
import { whyExecution } from "../../src/automation/Why.ts"
import type { EventStore } from "../../src/eventstore/EventStore.ts"
import type { LogWakeups } from "../../src/eventstore/LogWakeups.ts"
import type { ShopLog } from "../../src/shoplog/ShopLog.ts"
import type { RunEffect } from "./RunEffect.ts"
import { EXECUTION_STATUSES } from "../../projections/executions.ts"
import { asTenant } from "../postgres/Tenancy.ts"
import {
  type AdminGuard,
  adminErrorResponse,
  Conflict,
  InvalidQueryParameter,
  InvalidRequestBody,
  mountAdminRoute,
  principalLabel,
  readOptionalJson,
  requirePrincipal,
  requireShop,
  ResourceNotFound,
  runAdminEffect,
  Unavailable
} from "./AdminAuth.ts"
import { DEFAULT_PAGE_SIZE, intParam, isoTimestamp, MAX_PAGE_SIZE, single } from "./AdminJobRoutes.ts"
import { AdminRoutes } from "./AdminRouteCatalog.ts"


interface ExecutionRow {
  readonly execution_id: string
  readonly status: string
  readonly rule_id: string
  readonly rule_version: number
  readonly trigger_id: string
  readonly trigger_event: string
  readonly action_key: string
  readonly resource_type: string
  readonly resource_id: string
  readonly reason: string | null
  readonly detail: string | null
  readonly until: Date | null
  readonly params: unknown
  readonly before: unknown
  readonly after: unknown
  readonly created_at: Date
  readonly updated_at: Date
}

const executionJson = (r: ExecutionRow) => ({
  id: r.execution_id,
  status: r.status,
  rule_id: r.rule_id,
  rule_version: r.rule_version,
  trigger_id: r.trigger_id,
  trigger_event: r.trigger_event,
  action_key: r.action_key,
  resource_type: r.resource_type,
  resource_id: r.resource_id,
  reason: r.reason,
  detail: r.detail,
  until: r.until === null ? null : isoTimestamp(r.until),
  params: r.params,
  before: r.before,
  after: r.after,
  created_at: isoTimestamp(r.created_at),
  updated_at: isoTimestamp(r.updated_at)
})

interface ExecutionQuery {
  readonly page: number
  readonly limit: number
  readonly ruleId: string | null
  readonly status: string | null
}

const parseQuery = (q: Readonly<Record<string, ReadonlyArray<string>>>): Result.Result<ExecutionQuery, InvalidQueryParameter> =>
  Result.gen(function*() {
    const page = yield* intParam(q["page"], "page", 1, 999_999_999)
    const limit = yield* intParam(q["limit"], "limit", DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
    const ruleId = (yield* single(q["rule_id"], "rule_id")) ?? null
    if (ruleId !== null && ruleId.length > 200) return yield* Result.fail(new InvalidQueryParameter({ parameter: "rule_id", message: "rule_id is too long" }))
    const status = (yield* single(q["status"], "status")) ?? null
    if (status !== null && !(EXECUTION_STATUSES as ReadonlyArray<string>).includes(status)) {
      return yield* Result.fail(new InvalidQueryParameter({ parameter: "status", message: `status must be one of ${EXECUTION_STATUSES.join(", ")}` }))
    }
    return { page, limit, ruleId, status }
  })

const listExecutions = (shop: string, q: ExecutionQuery) =>
  asTenant(shop, Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const where = sql`shop = ${shop} AND (${q.ruleId}::text IS NULL OR rule_id = ${q.ruleId}::text)
                      AND (${q.status}::text IS NULL OR status = ${q.status}::text)`
    const total = (yield* sql<{ n: number }>`SELECT count(*)::int AS n FROM executions WHERE ${where}`)[0]?.n ?? 0
    const rows = yield* sql<ExecutionRow>`
      SELECT * FROM executions WHERE ${where}
       ORDER BY created_at DESC, execution_id DESC LIMIT ${q.limit} OFFSET ${(q.page - 1) * q.limit}`
    return { executions: rows.map(executionJson), total, page: q.page, pages: Math.max(1, Math.ceil(total / q.limit)) }
  }))

/** A JSON object body, or `{}` when there is none. */


const getExecution = (shop: string, id: string) =>
  asTenant(shop, Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const rows = id.length > 500 ? [] : yield* sql<ExecutionRow>`SELECT * FROM executions WHERE shop = ${shop} AND execution_id = ${id}`
    if (rows[0] === undefined) return yield* new ResourceNotFound({ resource: "execution", id: id.slice(0, 200) })
    return { execution: executionJson(rows[0]) }
  }))

type Services = SqlClient.SqlClient | EventStore | ShopLog | LogWakeups

interface AuditQuery {
  readonly page: number
  readonly limit: number
  readonly from: Date | null
  readonly to: Date | null
  readonly q: string | null
}

const instantParam = (values: ReadonlyArray<string> | undefined, parameter: string): Result.Result<Date | null, InvalidQueryParameter> =>
  Result.flatMap(single(values, parameter), (raw) => {
    if (raw === undefined) return Result.succeed(null)
    const t = Date.parse(raw)
    return Number.isNaN(t)
      ? Result.fail(new InvalidQueryParameter({ parameter, message: `${parameter} must be an ISO 8601 instant such as 2026-11-01T00:00:00Z` }))
      : Result.succeed(new Date(t))
  })

const parseAuditQuery = (q: Readonly<Record<string, ReadonlyArray<string>>>): Result.Result<AuditQuery, InvalidQueryParameter> =>
  Result.gen(function*() {
    const page = yield* intParam(q["page"], "page", 1, 999_999_999)
    const limit = yield* intParam(q["limit"], "limit", DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
    const from = yield* instantParam(q["from"], "from")
    const to = yield* instantParam(q["to"], "to")
    const text = (yield* single(q["q"], "q")) ?? null
    if (text !== null && text.length > 200) return yield* Result.fail(new InvalidQueryParameter({ parameter: "q", message: "q is at most 200 characters" }))
    return { page, limit, from, to, q: text }
  })

/** The audit log, newest first; `q` matches the line's text (case-insensitive, literally). */
const listAudit = (shop: string, q: AuditQuery) =>
  asTenant(shop, Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const pattern = q.q === null ? null : `%${q.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`
    const where = sql`shop = ${shop}
      AND (${q.from}::timestamptz IS NULL OR occurred_at >= ${q.from}::timestamptz)
      AND (${q.to}::timestamptz IS NULL OR occurred_at <= ${q.to}::timestamptz)
      AND (${pattern}::text IS NULL OR summary ILIKE ${pattern}::text)`
    const total = (yield* sql<{ n: number }>`SELECT count(*)::int AS n FROM audit_log WHERE ${where}`)[0]?.n ?? 0
    const rows = yield* sql<{ position: string; event_type: string; actor_kind: string; actor_id: string; summary: string; occurred_at: Date }>`
      SELECT position::text, event_type, actor_kind, actor_id, summary, occurred_at FROM audit_log WHERE ${where}
       ORDER BY position DESC LIMIT ${q.limit} OFFSET ${(q.page - 1) * q.limit}`
    return {
      entries: rows.map((r) => ({ position: Number(r.position), at: isoTimestamp(r.occurred_at), event_type: r.event_type, actor: `${r.actor_kind}:${r.actor_id}`, summary: r.summary })),
      total,
      page: q.page,
      pages: Math.max(1, Math.ceil(total / q.limit))
    }
  }))

export const mountAdminExecutionRoutes = (app: Hono, run: RunEffect<Services>, guard: AdminGuard) => {
  mountAdminRoute(app, guard, AdminRoutes.listAudit, (c) => {
    const query = parseAuditQuery(c.req.queries())
    if (Result.isFailure(query)) return adminErrorResponse(c, query.failure)
    return runAdminEffect(run, c, listAudit(requireShop(c), query.success), (body) => c.json(body))
  })

  mountAdminRoute(app, guard, AdminRoutes.listApprovals, (c) => {
    const query = parseQuery(c.req.queries())
    if (Result.isFailure(query)) return adminErrorResponse(c, query.failure)
    return runAdminEffect(run, c, listExecutions(requireShop(c), { ...query.success, status: "awaiting_approval" }), ({ executions, ...page }) =>
      c.json({ approvals: executions, ...page }))
  })

  const answer = (decision: "approve" | "reject") => (c: Context) => {
    const principal = requirePrincipal(c)
    const id = c.req.param("id") ?? ""
    return runAdminEffect(
      run,
      c,
      Effect.gen(function*() {
        const body = decision === "reject" ? yield* readOptionalJson(c) : {}
        const reason = typeof body["reason"] === "string" ? body["reason"].slice(0, 1000) : null
        const outcome = yield* submitApproval(principal.shop, id, { decision, by: principalLabel(principal), reason }).pipe(
          Effect.catchTag("ShopLogUnavailable", () => Effect.fail(new Unavailable({ what: "the shop log" })))
        )
        switch (outcome._tag) {
          case "NotAwaiting": {
            yield* getExecution(principal.shop, id) // 404 when it is not this shop's
            return yield* new Conflict({ code: "not_awaiting", message: `execution ${id} is not waiting for approval` })
          }
          case "Pending":
            return { status: "pending" }
          case "Answered":
            return { status: outcome.status }
        }
      }),
      (out) => c.json({ id, ...out }, out.status === "pending" ? 202 : 200)
    )
  }
  mountAdminRoute(app, guard, AdminRoutes.approveExecution, answer("approve"))
  mountAdminRoute(app, guard, AdminRoutes.rejectExecution, answer("reject"))

  mountAdminRoute(app, guard, AdminRoutes.undoExecution, (c) => {
    const principal = requirePrincipal(c)
    const id = c.req.param("id") ?? ""
    return runAdminEffect(
      run,
      c,
      Effect.gen(function*() {
        yield* getExecution(principal.shop, id) // 404 when it is not this shop's
        const body = yield* readOptionalJson(c)
        const force = body["force"] ?? false
        if (typeof force !== "boolean") return yield* new InvalidRequestBody({ message: "force must be true or false" })
        const outcome = yield* submitUndo(principal.shop, id, { by: principalLabel(principal), force }).pipe(
          Effect.catchTag("ShopLogUnavailable", () => Effect.fail(new Unavailable({ what: "the shop log" })))
        )
        switch (outcome._tag) {
          case "Refused":
            return yield* new Conflict({ code: outcome.refusal.code, message: `execution ${id}: ${outcome.refusal.message}` })
          case "UndoFailed":
            return yield* new Conflict({
              code: outcome.code,
              message: outcome.code === "changed_since" ? `${outcome.message} (send { "force": true } to overwrite)` : outcome.message
            })
          case "Pending":
            return { status: "pending" }
          case "Undone":
            return { status: "undone", summary: outcome.summary }
          case "Cancelled":
            return { status: "cancelled", summary: "cancelled before it ran (it was waiting for quiet hours to end)" }
        }
      }),
      (out) => c.json({ id, ...out }, out.status === "pending" ? 202 : 200)
    )
  })

  mountAdminRoute(app, guard, AdminRoutes.listExecutions, (c) => {
    const query = parseQuery(c.req.queries())
    if (Result.isFailure(query)) return adminErrorResponse(c, query.failure)
    return runAdminEffect(run, c, listExecutions(requireShop(c), query.success), (body) => c.json(body))
  })
  mountAdminRoute(app, guard, AdminRoutes.whyExecution, (c) => {
    const id = c.req.param("id") ?? ""
    return runAdminEffect(
      run,
      c,
      Effect.flatMap(whyExecution(requireShop(c), id), Option.match({
        onNone: () => Effect.fail(new ResourceNotFound({ resource: "execution", id: id.slice(0, 200) })),
        onSome: (chain) => Effect.succeed({ chain })
      })),
      (body) => c.json(body)
    )
  })
  mountAdminRoute(app, guard, AdminRoutes.getExecution, (c) =>
    runAdminEffect(run, c, getExecution(requireShop(c), c.req.param("id") ?? ""), (body) => c.json(body)))
}
