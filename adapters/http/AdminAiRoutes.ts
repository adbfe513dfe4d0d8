/**
 * The AI gateway's usage for merchants (issue 14 §2; `ai:read`; read as the tenant):
 * `GET /app/ai/usage?from&to&page&limit` — the calls of a period (UTC dates, both included; the
 * last 30 days by default): totals, per provider and model, per purpose, one page of the calls
 * newest first with their attempts; and the budget months from the gateway's ledger (cap, spent,
 * held by calls running, alerts sent). Money in micro-dollars (and dollars, rounded, for people).
 */
import { Effect, Result } from "effect"
import type { SqlClient } from "effect/sql"
import type { Hono } from "hono"
import { budgetMonths, usageCalls, usageSummary } from "../postgres/AiUsageReads.ts"
import { type AdminGuard, adminErrorResponse, mountAdminRoute, requireShop, runAdminEffect } from "./AdminAuth.ts"
import { parseAttributionPeriod } from "./AdminAttributionRoutes.ts"
import { DEFAULT_PAGE_SIZE, intParam, MAX_PAGE_SIZE } from "./AdminJobRoutes.ts"
import { AdminRoutes } from "./AdminRouteCatalog.ts"
import type { RunEffect } from "./RunEffect.ts"

const DAY_MS = 86_400_000
const usd = (micros: number) => Math.round(micros / 10_000) / 100

export const mountAdminAiRoutes = (app: Hono, run: RunEffect<SqlClient.SqlClient>, guard: AdminGuard) => {
  mountAdminRoute(app, guard, AdminRoutes.getAiUsage, (c) => {
    const q = c.req.queries()
    const period = parseAttributionPeriod(q, Date.now())
    if (Result.isFailure(period)) return adminErrorResponse(c, period.failure)
    const page = intParam(q["page"], "page", 1, 999_999_999)
    if (Result.isFailure(page)) return adminErrorResponse(c, page.failure)
    const limit = intParam(q["limit"], "limit", DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
    if (Result.isFailure(limit)) return adminErrorResponse(c, limit.failure)
    const shop = requireShop(c)
    const from = new Date(`${period.success.from}T00:00:00Z`)
    const until = new Date(Date.parse(`${period.success.to}T00:00:00Z`) + DAY_MS)
    return runAdminEffect(
      run,
      c,
      Effect.gen(function*() {
        const summary = yield* usageSummary(shop, from, until)
        const calls = yield* usageCalls(shop, from, until, { limit: limit.success, offset: (page.success - 1) * limit.success })
        const months = yield* budgetMonths(shop)
        return {
          from: period.success.from,
          to: period.success.to,
          totals: { ...summary.totals, settled_usd: usd(summary.totals.settled_micros) },
          by_model: summary.byModel,
          by_purpose: summary.byPurpose,
          budget: months.map((m) => ({
            ...m,
            spent_usd: usd(m.settled_micros),
            cap_usd: usd(m.cap_micros),
            spent_pct: m.cap_micros > 0 ? Math.round((m.settled_micros / m.cap_micros) * 1000) / 10 : null
          })),
          calls: calls.calls.map((r) => ({ ...r, started_at: new Date(r.started_at).toISOString() })),
          total: calls.total,
          page: page.success,
          pages: Math.max(1, Math.ceil(calls.total / limit.success))
        }
      }),
      (body) => c.json(body)
    )
  })
}
