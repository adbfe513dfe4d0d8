/**
 * Attribution for merchants and analysts (issue 13 §6), from the `attribution` read models
 * (`projections/attribution.ts`):
 * - `GET /app/attribution?from&to` (`insights:read`): the seven models side by side per channel
 *   over the days `from`…`to` (UTC dates, both included; the last 30 days by default) —
 *   `{ from, to, conversions, revenue, currency, models: { <model>: { <channel>: { conversions, revenue } } }, daily }`,
 *   `daily` the five per-journey models' credits per channel day by day (`[{ day, model, channel, conversions, revenue }]`).
 *   The five per-journey models are summed from the daily roll-up; Markov and Shapley are
 *   computed from the period's journeys (the orders' and the visits that did not convert).
 * - `GET /app/attribution/orders/:id` (`insights:read`): one order's journey and its shares under
 *   each model (Markov's and Shapley's from the 30 days before the order, split over the
 *   channels of its own journey).
 * Read as the tenant (row-level security): another shop's order is a 404.
 */
import { Effect, Result } from "effect"
import { SqlClient } from "effect/sql"
import type { Hono } from "hono"
import {
  type ChannelCredit,
  DEFAULT_LOOKBACK_MS,
  type Journey,
  markov,
  MODELS,
  type ModelName,
  shapley,
  sharesFromWeights,
  type Touch
} from "../../domain/intelligence/attribution.ts"
import type { RunEffect } from "./RunEffect.ts"
import { asTenant } from "../postgres/Tenancy.ts"
import { type AdminGuard, adminErrorResponse, InvalidQueryParameter, mountAdminRoute, requireShop, ResourceNotFound, runAdminEffect } from "./AdminAuth.ts"
import { isoTimestamp, single } from "./AdminJobRoutes.ts"
import { AdminRoutes } from "./AdminRouteCatalog.ts"

const DAY_MS = 86_400_000
/** The longest period one request computes Markov and Shapley over. */
export const MAX_ATTRIBUTION_DAYS = 366
const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/

export interface AttributionPeriod {
  /** UTC dates, both included. */
  readonly from: string
  readonly to: string
}

const dateOf = (ms: number) => new Date(ms).toISOString().slice(0, 10)

/** `from`/`to` as UTC dates; every problem in one message. */
export const parseAttributionPeriod = (
  q: Readonly<Record<string, ReadonlyArray<string>>>,
  now: number
): Result.Result<AttributionPeriod, InvalidQueryParameter> => {
  const problems: Array<string> = []
  const read = (name: "from" | "to"): string | undefined => {
    const one = single(q[name], name)
    if (Result.isFailure(one)) {
      problems.push(one.failure.message)
      return undefined
    }
    const raw = one.success
    if (raw === undefined) return undefined
    if (!ISO_DATE.test(raw) || Number.isNaN(Date.parse(`${raw}T00:00:00Z`)) || dateOf(Date.parse(`${raw}T00:00:00Z`)) !== raw) {
      problems.push(`${name} must be a date such as 2026-11-01`)
      return undefined
    }
    return raw
  }
  const givenTo = read("to")
  const givenFrom = read("from")
  const to = givenTo ?? dateOf(now)
  const from = givenFrom ?? dateOf(Date.parse(`${to}T00:00:00Z`) - 29 * DAY_MS)
  if (problems.length === 0) {
    const days = (Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / DAY_MS + 1
    if (days < 1) problems.push("from must not be after to")
    else if (days > MAX_ATTRIBUTION_DAYS) problems.push(`the period is at most ${MAX_ATTRIBUTION_DAYS} days`)
  }
  return problems.length > 0
    ? Result.fail(new InvalidQueryParameter({ parameter: "from,to", message: problems.join("; ") }))
    : Result.succeed({ from, to })
}

interface OrderRow {
  readonly order_id: string
  readonly converted_at: Date
  readonly revenue: number
  readonly currency: string
  readonly touches: ReadonlyArray<Touch>
  readonly credits: Readonly<Record<string, Readonly<Record<string, number>>>>
}

const round = (n: number) => Math.round(n * 1e6) / 1e6
const roundCredits = (credits: Readonly<Record<string, ChannelCredit>>) =>
  Object.fromEntries(
    Object.entries(credits)
      .filter(([, c]) => c.conversions !== 0 || c.revenue !== 0)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([channel, c]) => [channel, { conversions: round(c.conversions), revenue: round(c.revenue) }])
  )

/**
 * The journeys of `[from, until)`: each order's (converting), and the touches no order used,
 * grouped by the person they belong to (the customer, else the visitor) — the non-converting
 * journeys Markov needs.
 */
const journeysOf = (shop: string, from: Date, until: Date) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const orders = yield* sql<OrderRow>`
      SELECT order_id, converted_at, revenue, currency, touches, credits FROM attribution_orders
       WHERE shop = ${shop} AND converted_at >= ${from} AND converted_at < ${until}
       ORDER BY converted_at, order_id`
    const loose = yield* sql<{ person: string; channel: string; at: Date }>`
      SELECT COALESCE(t.customer_id, v.customer_id, t.visitor, t.event_id) AS person, t.channel, t.at
        FROM attribution_touches t
        LEFT JOIN attribution_visitors v ON v.shop = t.shop AND v.visitor = t.visitor
       WHERE t.shop = ${shop} AND t.order_id IS NULL AND t.at >= ${from} AND t.at < ${until}
       ORDER BY 1, t.at`
    const journeys: Array<Journey> = orders.map((o) => ({
      id: o.order_id,
      touches: o.touches,
      conversion: { at: new Date(o.converted_at).getTime(), revenue: Number(o.revenue) }
    }))
    let current: { person: string; touches: Array<Touch> } | undefined
    for (const r of loose) {
      if (current === undefined || current.person !== r.person) {
        if (current !== undefined) journeys.push({ id: `visit:${current.person}`, touches: current.touches, conversion: null })
        current = { person: r.person, touches: [] }
      }
      current.touches.push({ channel: r.channel, at: new Date(r.at).getTime() })
    }
    if (current !== undefined) journeys.push({ id: `visit:${current.person}`, touches: current.touches, conversion: null })
    return { orders, journeys }
  })

/** The seven models side by side over the period. */
export const attributionOfPeriod = (shop: string, period: AttributionPeriod) =>
  asTenant(shop, Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const from = new Date(`${period.from}T00:00:00Z`)
    const until = new Date(Date.parse(`${period.to}T00:00:00Z`) + DAY_MS)
    // the five per-journey models per channel day by day (the "over time" chart); the period's
    // totals per model and channel are their sums
    const byDay = yield* sql<{ day: string; model: string; channel: string; conversions: number; revenue: number }>`
      SELECT to_char(day, 'YYYY-MM-DD') AS day, model, channel, sum(conversions)::float8 AS conversions, sum(revenue)::float8 AS revenue
        FROM attribution_daily
       WHERE shop = ${shop} AND day >= ${period.from}::date AND day <= ${period.to}::date
       GROUP BY day, model, channel ORDER BY day, model, channel`
    const { orders, journeys } = yield* journeysOf(shop, from, until)
    const models: Record<string, Record<string, ChannelCredit>> = Object.fromEntries(MODELS.map((m) => [m, {}]))
    for (const r of byDay) {
      const sum = models[r.model]![r.channel] ?? { conversions: 0, revenue: 0 }
      models[r.model]![r.channel] = { conversions: sum.conversions + Number(r.conversions), revenue: sum.revenue + Number(r.revenue) }
    }
    models["markov"] = { ...markov(journeys).credits }
    models["shapley"] = { ...shapley(journeys).credits }
    const currencies = [...new Set(orders.map((o) => o.currency))]
    return {
      from: period.from,
      to: period.to,
      conversions: orders.length,
      revenue: round(orders.reduce((s, o) => s + Number(o.revenue), 0)),
      currency: currencies.length === 1 ? currencies[0]! : currencies.length === 0 ? null : "mixed",
      models: Object.fromEntries(MODELS.map((m) => [m, roundCredits(models[m]!)])) as Record<ModelName, Record<string, ChannelCredit>>,
      daily: byDay.map((r) => ({ day: r.day, model: r.model, channel: r.channel, conversions: round(Number(r.conversions)), revenue: round(Number(r.revenue)) }))
    }
  }))

/** One order's journey and its shares under every model. */
export const attributionOfOrder = (shop: string, orderId: string) =>
  asTenant(shop, Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const rows = yield* sql<OrderRow>`
      SELECT order_id, converted_at, revenue, currency, touches, credits FROM attribution_orders WHERE shop = ${shop} AND order_id = ${orderId}`
    const o = rows[0]
    if (o === undefined) return yield* new ResourceNotFound({ resource: "order", id: orderId })
    const at = new Date(o.converted_at)
    const journey: Journey = { id: o.order_id, touches: o.touches, conversion: { at: at.getTime(), revenue: Number(o.revenue) } }
    const { journeys } = yield* journeysOf(shop, new Date(at.getTime() - DEFAULT_LOOKBACK_MS), new Date(at.getTime() + 1))
    const weights = (credits: Readonly<Record<string, ChannelCredit>>) => Object.fromEntries(Object.entries(credits).map(([c, v]) => [c, v.conversions]))
    const shares: Record<string, Readonly<Record<string, number>>> = {
      ...o.credits,
      markov: sharesFromWeights(journey, weights(markov(journeys).credits)),
      shapley: sharesFromWeights(journey, weights(shapley(journeys).credits))
    }
    return {
      order_id: o.order_id,
      converted_at: isoTimestamp(at),
      revenue: Number(o.revenue),
      currency: o.currency,
      touches: o.touches.map((t) => ({ channel: t.channel, at: isoTimestamp(new Date(t.at)) })),
      models: Object.fromEntries(MODELS.map((m) => [m, Object.fromEntries(Object.entries(shares[m] ?? {}).map(([c, s]) => [c, round(s)]))]))
    }
  }))

type Services = SqlClient.SqlClient

export const mountAdminAttributionRoutes = (app: Hono, run: RunEffect<Services>, guard: AdminGuard, now: () => number = Date.now) => {
  mountAdminRoute(app, guard, AdminRoutes.getAttribution, (c) => {
    const period = parseAttributionPeriod(c.req.queries(), now())
    if (Result.isFailure(period)) return adminErrorResponse(c, period.failure)
    return runAdminEffect(run, c, attributionOfPeriod(requireShop(c), period.success), (body) => c.json(body))
  })
  mountAdminRoute(app, guard, AdminRoutes.getOrderAttribution, (c) =>
    runAdminEffect(run, c, attributionOfOrder(requireShop(c), c.req.param("id") ?? ""), (body) => c.json(body)))
}
