/**
 * What the detectors found, for merchants (issue 13 §6; `insights:read`; read as the tenant):
 * - `GET /app/seo/pages?decayed=true|false&page&limit`: the shop's pages as the latest Search
 *   Console pull measured them (`seo_pages`, `projections/seoPages.ts`), the decaying ones first
 *   (then by clicks lost), paginated;
 * - `GET /app/ads/anomalies?page&limit`: the ads detectors' findings — spend anomalies and
 *   keywords far below or above the account's others — newest first, as the shop's actor
 *   received them (its `trigger.received` events).
 */
import { Effect, Result } from "effect"
import { SqlClient } from "effect/sql"
import type { Hono } from "hono"
import type { RunEffect } from "./RunEffect.ts"
import { asTenant } from "../postgres/Tenancy.ts"
import { type AdminGuard, adminErrorResponse, InvalidQueryParameter, mountAdminRoute, requireShop, runAdminEffect } from "./AdminAuth.ts"
import { DEFAULT_PAGE_SIZE, intParam, MAX_PAGE_SIZE, single } from "./AdminJobRoutes.ts"
import { AdminRoutes } from "./AdminRouteCatalog.ts"

interface SeoPagesQuery {
  readonly decayed: boolean | null
  readonly page: number
  readonly limit: number
}

const parseQuery = (q: Readonly<Record<string, ReadonlyArray<string>>>): Result.Result<SeoPagesQuery, InvalidQueryParameter> =>
  Result.gen(function*() {
    const page = yield* intParam(q["page"], "page", 1, 999_999_999)
    const limit = yield* intParam(q["limit"], "limit", DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
    const raw = yield* single(q["decayed"], "decayed")
    if (raw !== undefined && raw !== "true" && raw !== "false") {
      return yield* Result.fail(new InvalidQueryParameter({ parameter: "decayed", message: "decayed must be true or false" }))
    }
    return { page, limit, decayed: raw === undefined ? null : raw === "true" }
  })

interface PageRow {
  readonly site_url: string
  readonly url: string
  readonly as_of: Date
  readonly now_clicks: number
  readonly prior_clicks: number
  readonly drop_pct: number | null
  readonly impressions: number
  readonly position: number | null
  readonly decayed: boolean
}

export const listSeoPages = (shop: string, q: SeoPagesQuery) =>
  asTenant(shop, Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const where = sql`shop = ${shop} AND (${q.decayed}::boolean IS NULL OR decayed = ${q.decayed}::boolean)`
    const total = (yield* sql<{ n: number }>`SELECT count(*)::int AS n FROM seo_pages WHERE ${where}`)[0]?.n ?? 0
    const rows = yield* sql<PageRow>`
      SELECT site_url, url, as_of, now_clicks, prior_clicks, drop_pct, impressions, position, decayed FROM seo_pages WHERE ${where}
       ORDER BY decayed DESC, (prior_clicks - now_clicks) DESC, url
       LIMIT ${q.limit} OFFSET ${(q.page - 1) * q.limit}`
    return {
      pages: rows.map((r) => ({
        site_url: r.site_url,
        url: r.url,
        as_of: new Date(r.as_of).toISOString().slice(0, 10),
        now_clicks: Number(r.now_clicks),
        prior_clicks: Number(r.prior_clicks),
        drop_pct: r.drop_pct === null ? null : Number(r.drop_pct),
        impressions: Number(r.impressions),
        position: r.position === null ? null : Number(r.position),
        decayed: r.decayed
      })),
      total,
      page: q.page,
      pages_total: Math.max(1, Math.ceil(total / q.limit))
    }
  }))

const ADS_FINDINGS = ["ads.spend_anomaly", "ads.keyword_underperforming", "ads.keyword_overperforming"]

export const listAdsAnomalies = (shop: string, q: { readonly page: number; readonly limit: number }) =>
  asTenant(shop, Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const where = sql`shop = ${shop} AND stream_id = ${`triggers-${shop}`} AND type = 'trigger.received'
      AND data->'trigger'->>'event' = ANY(${ADS_FINDINGS}::text[])`
    const total = (yield* sql<{ n: number }>`SELECT count(*)::int AS n FROM events WHERE ${where}`)[0]?.n ?? 0
    const rows = yield* sql<{ data: { readonly trigger: { readonly event: string; readonly platform?: string; readonly date?: string; readonly resources: ReadonlyArray<unknown> }; readonly emittedAt: string } }>`
      SELECT data FROM events WHERE ${where} ORDER BY position DESC LIMIT ${q.limit} OFFSET ${(q.page - 1) * q.limit}`
    return {
      anomalies: rows.map((r) => ({
        event: r.data.trigger.event,
        platform: r.data.trigger.platform ?? null,
        date: r.data.trigger.date ?? null,
        found_at: r.data.emittedAt,
        resources: r.data.trigger.resources
      })),
      total,
      page: q.page,
      pages_total: Math.max(1, Math.ceil(total / q.limit))
    }
  }))

export const mountAdminFindingsRoutes = (app: Hono, run: RunEffect<SqlClient.SqlClient>, guard: AdminGuard) => {
  mountAdminRoute(app, guard, AdminRoutes.listAdsAnomalies, (c) => {
    const q = c.req.queries()
    const page = intParam(q["page"], "page", 1, 999_999_999)
    if (Result.isFailure(page)) return adminErrorResponse(c, page.failure)
    const limit = intParam(q["limit"], "limit", DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
    if (Result.isFailure(limit)) return adminErrorResponse(c, limit.failure)
    return runAdminEffect(run, c, listAdsAnomalies(requireShop(c), { page: page.success, limit: limit.success }), (body) => c.json(body))
  })

  mountAdminRoute(app, guard, AdminRoutes.listSeoPages, (c) => {
    const query = parseQuery(c.req.queries())
    if (Result.isFailure(query)) return adminErrorResponse(c, query.failure)
    return runAdminEffect(run, c, listSeoPages(requireShop(c), query.success), (body) => c.json(body))
  })
}
