/**
 * `AiLedger` (`src/ai/AiGateway.ts`) on PostgreSQL: one call of `ai_admit` / `ai_settle`
 * (`migrations/0017_ai_gateway.ts`) each, so the decision is made under the shop's month row lock
 * wherever the caller runs.
 */
import { Effect, Layer } from "effect"
import { SqlClient } from "effect/sql"
import { type Admission, AiLedger, type Settlement } from "../../src/ai/AiGateway.ts"

interface AdmitRow {
  readonly outcome: "admitted" | "rate_limited" | "budget_exceeded" | "budget_busy"
  readonly retry_after_ms: string | number
  readonly cap_micros: string | number
  readonly reserved_micros: string | number
  readonly settled_micros: string | number
  readonly alert_80: boolean
  readonly alert_100: boolean
}

interface SettleRow {
  readonly cap_micros: string | number
  readonly settled_micros: string | number
  readonly alert_80: boolean
  readonly alert_100: boolean
}

export const make = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  return AiLedger.of({
    admit: (c) =>
      Effect.map(
        sql<AdmitRow>`SELECT * FROM ai_admit(${c.callId}, ${c.shop}, ${c.month}, ${c.capMicros}, ${c.worstMicros}, ${c.limit}, ${c.windowMs}, ${c.now.toISOString()}::timestamptz, ${c.staleMs})`,
        (rows): Admission => {
          const r = rows[0]!
          switch (r.outcome) {
            case "admitted":
              return { _tag: "Admitted", capMicros: Number(r.cap_micros), reservedMicros: Number(r.reserved_micros), settledMicros: Number(r.settled_micros) }
            case "rate_limited":
              return { _tag: "RateLimited", retryAfterMs: Number(r.retry_after_ms) }
            case "budget_busy":
              return { _tag: "BudgetBusy", capMicros: Number(r.cap_micros), reservedMicros: Number(r.reserved_micros), settledMicros: Number(r.settled_micros) }
            case "budget_exceeded":
              return {
                _tag: "BudgetExceeded",
                capMicros: Number(r.cap_micros),
                reservedMicros: Number(r.reserved_micros),
                settledMicros: Number(r.settled_micros),
                reached: [...(r.alert_80 ? [80 as const] : []), ...(r.alert_100 ? [100 as const] : [])]
              }
          }
        }
      ),
    settle: (callId, actualMicros) =>
      Effect.map(sql<SettleRow>`SELECT * FROM ai_settle(${callId}, ${actualMicros})`, (rows): Settlement | undefined => {
        const r = rows[0]
        if (r === undefined) return undefined
        return {
          capMicros: Number(r.cap_micros),
          settledMicros: Number(r.settled_micros),
          reached: [...(r.alert_80 ? [80 as const] : []), ...(r.alert_100 ? [100 as const] : [])]
        }
      })
  })
})

export const layer = Layer.effect(AiLedger, make)
