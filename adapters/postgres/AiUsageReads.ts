/**
 * The AI usage log as people read it (issue 14 §2): the `ai_usage` read model
 * (`projections/aiUsage.ts`) summed and listed for a period, and the shop's budget months from the
 * gateway's ledger (`ai_budgets`). Read as the tenant: a shop sees only its own rows.
 */
import { Effect, Option, Stream } from "effect"
import { SqlClient } from "effect/sql"
import { asTenant } from "./Tenancy.ts"

/** Tokens by kind and cost (micro-dollars): a call's, or a sum of calls'. */
interface TokensAndCost {
  readonly input_tokens: number
  readonly cached_input_tokens: number
  readonly cache_write_tokens: number
  readonly output_tokens: number
  readonly estimated_micros: number
  readonly settled_micros: number
}

export interface UsageTotals extends TokensAndCost {
  readonly calls: number
  readonly ok: number
  readonly failed: number
  readonly rate_limited: number
  readonly budget_exceeded: number
}

export interface UsageGroup extends UsageTotals {
  readonly key: string
}

export interface UsageCall extends TokensAndCost {
  readonly call_id: string
  readonly started_at: Date
  readonly month: string
  readonly purpose: string
  readonly capability: string
  readonly outcome: string
  readonly provider: string | null
  readonly model: string | null
  readonly latency_ms: number
  readonly attempts: ReadonlyArray<unknown>
}

export interface BudgetMonth {
  readonly month: string
  readonly cap_micros: number
  readonly settled_micros: number
  readonly reserved_micros: number
  readonly alerted_80: boolean
  readonly alerted_100: boolean
}

const TOTALS = `
  count(*)::bigint AS calls,
  count(*) FILTER (WHERE outcome = 'ok')::bigint AS ok,
  count(*) FILTER (WHERE outcome = 'failed')::bigint AS failed,
  count(*) FILTER (WHERE outcome = 'rate_limited')::bigint AS rate_limited,
  count(*) FILTER (WHERE outcome = 'budget_exceeded')::bigint AS budget_exceeded,
  coalesce(sum(input_tokens), 0)::bigint AS input_tokens,
  coalesce(sum(cached_input_tokens), 0)::bigint AS cached_input_tokens,
  coalesce(sum(cache_write_tokens), 0)::bigint AS cache_write_tokens,
  coalesce(sum(output_tokens), 0)::bigint AS output_tokens,
  coalesce(sum(estimated_micros), 0)::bigint AS estimated_micros,
  coalesce(sum(settled_micros), 0)::bigint AS settled_micros`

/** Counts and sums come back as bigint (or numeric strings): plain numbers for callers (well below 2^53). */
const numbers = <A extends object>(row: A): A =>
  Object.fromEntries(Object.entries(row).map(([k, v]) => [k, typeof v === "bigint" ? Number(v) : typeof v === "string" && /^-?\d+$/.test(v) ? Number(v) : v])) as A

/** Totals, per provider and model, and per purpose, of the calls started in [from, until). */
export const usageSummary = (shop: string, from: Date, until: Date) =>
  asTenant(shop, Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const where = sql`shop = ${shop} AND started_at >= ${from} AND started_at < ${until}`
    const totals = yield* sql<UsageTotals>`SELECT ${sql.unsafe(TOTALS)} FROM ai_usage WHERE ${where}`
    const byModel = yield* sql<UsageGroup>`
      SELECT provider || ' ' || model AS key, ${sql.unsafe(TOTALS)} FROM ai_usage WHERE ${where} AND provider IS NOT NULL
       GROUP BY provider, model ORDER BY settled_micros DESC, key`
    const byPurpose = yield* sql<UsageGroup>`
      SELECT purpose AS key, ${sql.unsafe(TOTALS)} FROM ai_usage WHERE ${where} GROUP BY purpose ORDER BY settled_micros DESC, key`
    return { totals: numbers(totals[0]!), byModel: byModel.map(numbers), byPurpose: byPurpose.map(numbers) }
  }))

/** One page of the calls started in [from, until), newest first. */
export const usageCalls = (shop: string, from: Date, until: Date, page: { readonly limit: number; readonly offset: number }) =>
  asTenant(shop, Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const where = sql`shop = ${shop} AND started_at >= ${from} AND started_at < ${until}`
    const total = (yield* sql<{ n: string }>`SELECT count(*) AS n FROM ai_usage WHERE ${where}`)[0]?.n ?? "0"
    const calls = yield* sql<UsageCall>`
      SELECT call_id, started_at, month, purpose, capability, outcome, provider, model, input_tokens, cached_input_tokens, cache_write_tokens,
             output_tokens, estimated_micros, settled_micros, latency_ms, attempts
        FROM ai_usage WHERE ${where} ORDER BY started_at DESC, call_id LIMIT ${page.limit} OFFSET ${page.offset}`
    return { total: Number(total), calls: calls.map(numbers) }
  }))

/** Every call of [from, until), oldest first, in batches (constant memory: the CLI's export). */
export const usageRowsStream = (shop: string, from: Date, until: Date, batch = 1_000): Stream.Stream<UsageCall, import("effect/sql/SqlError").SqlError, SqlClient.SqlClient> =>
  Stream.paginate({ after: null as { readonly at: Date; readonly id: string } | null }, (cursor) =>
    asTenant(shop, Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const after = cursor.after
      const rows = yield* sql<UsageCall>`
        SELECT call_id, started_at, month, purpose, capability, outcome, provider, model, input_tokens, cached_input_tokens, cache_write_tokens,
               output_tokens, estimated_micros, settled_micros, latency_ms, attempts
          FROM ai_usage
         WHERE shop = ${shop} AND started_at >= ${from} AND started_at < ${until}
           AND (${after === null} OR (started_at, call_id) > (${after?.at ?? from}, ${after?.id ?? ""}))
         ORDER BY started_at, call_id LIMIT ${batch}`
      const last = rows.at(-1)
      return [rows.map(numbers), rows.length < batch || last === undefined ? Option.none() : Option.some({ after: { at: last.started_at, id: last.call_id } })] as const
    })))

/** The shop's budget months from the gateway's ledger, newest first. */
export const budgetMonths = (shop: string, limit = 12) =>
  asTenant(shop, Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const rows = yield* sql<BudgetMonth>`
      SELECT month, cap_micros, settled_micros, reserved_micros, alerted_80, alerted_100 FROM ai_budgets WHERE shop = ${shop} ORDER BY month DESC LIMIT ${limit}`
    return rows.map(numbers)
  }))
