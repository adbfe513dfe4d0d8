/**
 * Cohorts and predicted lifetime value (issue 13 §4, §6), computed when read from the commerce
 * read model (`shopify_orders`: the shop's orders with a customer, cancelled ones left out):
 * - `GET /app/cohorts?months=N` (`insights:read`): monthly cohorts by first order (UTC), the last
 *   N months (default 12, at most 60), customer and revenue retention per month offset.
 * - `GET /app/ltv` (`insights:read`): BG/NBD (purchase frequency) and Gamma-Gamma (order value)
 *   fitted by maximum likelihood to the shop's customers (`domain/intelligence/ltv.ts`, weekly
 *   units), then every customer's expected purchases and value over the next 12 months: the
 *   fitted parameters, the total, the distribution (fixed value buckets), per cohort, and the 20
 *   most valuable customers. A shop with too few repeat customers gets `model: null` and why.
 * Orders are read as the tenant (row-level security).
 */
import { Effect, Result } from "effect"
import { SqlClient } from "effect/sql"
import type { Hono } from "hono"
import { type CustomerOrder, cohortRetention } from "../../domain/intelligence/cohorts.ts"
import { customerLtv, fitBgNbd, fitGammaGamma, probabilityAlive, summarize } from "../../domain/intelligence/ltv.ts"
import type { RunEffect } from "./RunEffect.ts"
import { asTenant } from "../postgres/Tenancy.ts"
import { type AdminGuard, adminErrorResponse, mountAdminRoute, requireShop, runAdminEffect } from "./AdminAuth.ts"
import { intParam } from "./AdminJobRoutes.ts"
import { AdminRoutes } from "./AdminRouteCatalog.ts"

const WEEK_MS = 7 * 86_400_000
/** The prediction horizon: 52 weeks. */
const HORIZON_WEEKS = 52
/** Below this many customers with a repeat purchase, the fits say nothing worth showing. */
export const MIN_REPEAT_CUSTOMERS = 20
/** The distribution's buckets (upper bounds, in the shop's currency). */
const BUCKETS = [10, 25, 50, 100, 250, 500, 1000] as const

const round = (n: number, digits = 2) => Math.round(n * 10 ** digits) / 10 ** digits

/** The shop's orders that belong to a customer, and the currencies they were in. */
const customerOrders = (shop: string) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const rows = yield* sql<{ customer_id: string; created_at: Date; total_price: number; currency: string | null }>`
      SELECT customer_id, created_at, COALESCE(total_price, 0)::float8 AS total_price, currency FROM shopify_orders
       WHERE shop = ${shop} AND customer_id IS NOT NULL AND cancelled_at IS NULL AND created_at IS NOT NULL`
    const orders: Array<CustomerOrder> = rows.map((r) => ({ customerId: r.customer_id, at: new Date(r.created_at).getTime(), revenue: Number(r.total_price) }))
    const currencies = [...new Set(rows.flatMap((r) => (r.currency === null ? [] : [r.currency])))]
    return { orders, currency: currencies.length === 1 ? currencies[0]! : currencies.length === 0 ? null : "mixed" }
  })

export const cohortsOf = (shop: string, months: number, now: number) =>
  asTenant(shop, Effect.gen(function*() {
    const { orders, currency } = yield* customerOrders(shop)
    const all = cohortRetention(orders, { asOf: now })
    const first = new Date(now)
    first.setUTCMonth(first.getUTCMonth() - (months - 1), 1)
    const from = first.toISOString().slice(0, 7)
    return { as_of: new Date(now).toISOString(), currency, cohorts: all.filter((c) => c.cohort >= from) }
  }))

/**
 * The BG/NBD fit's stabiliser (an L2 penalty on the log-parameters, as `lifetimes`' penalizer).
 * Shops whose customers have not been seen to drop out put the maximum at a → 0, a boundary the
 * unpenalised search walks towards without ever settling: the same orders fitted a minute apart
 * then converge or not (12 of 20 on the demo shop), and the screen flaps between a prediction and
 * none. 0.001 settles every fit and leaves r and α within 1 % (measured on the demo shop).
 */
export const BG_NBD_PENALTY = 0.001

export const lifetimeValueOf = (shop: string, now: number) =>
  asTenant(shop, Effect.gen(function*() {
    const { orders, currency } = yield* customerOrders(shop)
    const summaries = summarize(orders, { asOf: now, unitMs: WEEK_MS })
    const repeat = summaries.filter((s) => s.x > 0 && s.monetary > 0).length
    const base = { as_of: new Date(now).toISOString(), currency, horizon_months: 12, customers: summaries.length, repeat_customers: repeat }
    if (repeat < MIN_REPEAT_CUSTOMERS) {
      return { ...base, model: null, reason: `${repeat} customer(s) with a repeat purchase; the models need at least ${MIN_REPEAT_CUSTOMERS}` }
    }
    const bg = fitBgNbd(summaries, { penalty: BG_NBD_PENALTY })
    const gg = fitGammaGamma(summaries)
    if (!bg.converged || !gg.converged) {
      return { ...base, model: null, reason: !bg.converged ? "the purchase-frequency model (BG/NBD) did not converge" : "the order-value model (Gamma-Gamma) did not converge (q ≤ 1: order values too spread out)" }
    }
    const firstOrder = new Map<string, number>()
    for (const o of orders) firstOrder.set(o.customerId, Math.min(firstOrder.get(o.customerId) ?? Infinity, o.at))
    const values = summaries.flatMap((s) => {
      const ltv = customerLtv(bg.params, gg.params, s, { horizon: HORIZON_WEEKS, unitMs: WEEK_MS })
      return ltv === null ? [] : [{ customerId: s.customerId, ltv, alive: probabilityAlive(bg.params, s) }]
    })
    const distribution = [...BUCKETS, Infinity].map((upper, i) => ({
      from: i === 0 ? 0 : BUCKETS[i - 1]!,
      to: Number.isFinite(upper) ? upper : null,
      customers: values.filter((v) => v.ltv.value >= (i === 0 ? 0 : BUCKETS[i - 1]!) && v.ltv.value < upper).length
    }))
    const byCohort = new Map<string, { customers: number; expectedPurchases: number; expectedValue: number }>()
    for (const v of values) {
      const cohort = new Date(firstOrder.get(v.customerId)!).toISOString().slice(0, 7)
      const c = byCohort.get(cohort) ?? { customers: 0, expectedPurchases: 0, expectedValue: 0 }
      byCohort.set(cohort, { customers: c.customers + 1, expectedPurchases: c.expectedPurchases + v.ltv.expectedPurchases, expectedValue: c.expectedValue + v.ltv.value })
    }
    return {
      ...base,
      model: {
        bg_nbd: { ...bg.params, unit: "week", log_likelihood: round(bg.logLikelihood), customers: bg.customers },
        gamma_gamma: { ...gg.params, log_likelihood: round(gg.logLikelihood), customers: gg.customers }
      },
      expected_purchases: round(values.reduce((s, v) => s + v.ltv.expectedPurchases, 0)),
      expected_value: round(values.reduce((s, v) => s + v.ltv.value, 0)),
      distribution,
      cohorts: [...byCohort.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([cohort, c]) => ({
        cohort, customers: c.customers, expected_purchases: round(c.expectedPurchases), expected_value: round(c.expectedValue)
      })),
      top_customers: [...values].sort((a, b) => b.ltv.value - a.ltv.value || a.customerId.localeCompare(b.customerId)).slice(0, 20).map((v) => ({
        customer_id: v.customerId,
        expected_purchases: round(v.ltv.expectedPurchases, 3),
        expected_order_value: round(v.ltv.expectedAverageValue),
        expected_value: round(v.ltv.value),
        probability_alive: v.alive === null ? null : round(v.alive, 3)
      }))
    }
  }))

type Services = SqlClient.SqlClient

export const mountAdminCustomerValueRoutes = (app: Hono, run: RunEffect<Services>, guard: AdminGuard, now: () => number = Date.now) => {
  mountAdminRoute(app, guard, AdminRoutes.getCohorts, (c) => {
    const months = intParam(c.req.queries()["months"], "months", 12, 60)
    if (Result.isFailure(months)) return adminErrorResponse(c, months.failure)
    return runAdminEffect(run, c, cohortsOf(requireShop(c), months.success, now()), (body) => c.json(body))
  })
  mountAdminRoute(app, guard, AdminRoutes.getLifetimeValue, (c) =>
    runAdminEffect(run, c, lifetimeValueOf(requireShop(c), now()), (body) => c.json(body)))
}
