/**
 * `AiLedger` (`src/ai/AiGateway.ts`) on PostgreSQL: `ai_admit` / `ai_settle`
 * (`migrations/0017_ai_gateway.ts`), so each decision is made under the shop's month row lock
 * wherever the caller runs; admissions that arrive together, and settlements, go in batches.
 */
import { Deferred, Effect, Layer, Queue } from "effect"
import { SqlClient } from "effect/sql"
import type { SqlError } from "effect/sql/SqlError"
import { type Admission, AiLedger, type PendingAlert, type Settlement } from "../../src/ai/AiGateway.ts"

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
  readonly call_id: string
  readonly shop: string
  readonly month: string
  readonly cap_micros: string | number
  readonly settled_micros: string | number
  readonly alert_80: boolean
  readonly alert_100: boolean
}

type AdmitCall = Parameters<AiLedger["Service"]["admit"]>[0]

const admissionOf = (r: AdmitRow): Admission => {
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

/** How many admissions one round trip decides at most (a batch holds its shops' rows until it commits). */
const ADMIT_BATCH = 64

export const make = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient

  // Write-combining: the admissions that arrive while a batch is in flight go together in the
  // next one — one round trip and one commit for all of them. An idle gateway sends each alone.
  const pending = yield* Queue.unbounded<{ readonly call: AdmitCall; readonly done: Deferred.Deferred<Admission, SqlError> }>()
  const admitBatch = (batch: ReadonlyArray<{ readonly call: AdmitCall; readonly done: Deferred.Deferred<Admission, SqlError> }>) =>
    Effect.gen(function*() {
      // one lock order for every batch (by shop and month), so two processes cannot deadlock
      const key = (c: AdmitCall) => `${c.shop}\u0000${c.month}`
      const calls = batch.map((b) => b.call).sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0))
      const json = JSON.stringify(calls.map((c) => ({
        callId: c.callId, shop: c.shop, month: c.month, capMicros: c.capMicros, worstMicros: c.worstMicros,
        limit: c.limit, windowMs: c.windowMs, now: c.now.toISOString(), staleMs: c.staleMs
      })))
      const rows = yield* Effect.exit(sql<AdmitRow & { readonly call_id: string }>`SELECT * FROM ai_admit(${json}::jsonb)`)
      if (rows._tag === "Failure") {
        // every waiting caller hears it (a failure or a defect): the loop goes on to the next batch
        yield* Effect.forEach(batch, (b) => Deferred.failCause(b.done, rows.cause), { discard: true })
        return
      }
      const byCall = new Map(rows.value.map((r) => [r.call_id, r]))
      yield* Effect.forEach(batch, (b) => {
        const row = byCall.get(b.call.callId)
        return row === undefined
          ? Deferred.die(b.done, new Error(`ai_admit gave no answer for call ${b.call.callId}`))
          : Deferred.succeed(b.done, admissionOf(row))
      }, { discard: true })
    })
  yield* Effect.forkScoped(Effect.forever(Effect.flatMap(Queue.takeBetween(pending, 1, ADMIT_BATCH), admitBatch)))

  return AiLedger.of({
    admit: (call) =>
      Effect.gen(function*() {
        const done = yield* Deferred.make<Admission, SqlError>()
        yield* Queue.offer(pending, { call, done })
        return yield* Deferred.await(done)
      }),
    unsentAlerts: (olderThanMs) =>
      Effect.map(
        sql<{ shop: string; month: string; threshold: number; cap_micros: string | number; spent_micros: string | number; reason: string }>`
          SELECT shop, month, threshold, cap_micros, spent_micros, reason FROM ai_alerts
           WHERE sent_at IS NULL AND raised_at < now() - make_interval(secs => ${olderThanMs / 1000}) ORDER BY raised_at LIMIT 100`,
        (rows): ReadonlyArray<PendingAlert> =>
          rows.map((r) => ({
            shop: r.shop, month: r.month, threshold: r.threshold === 100 ? 100 : 80,
            capMicros: Number(r.cap_micros), spentMicros: Number(r.spent_micros), reason: r.reason === "refused" ? "refused" : "settled"
          }))
      ),
    alertSent: (a) => Effect.asVoid(sql`UPDATE ai_alerts SET sent_at = now() WHERE shop = ${a.shop} AND month = ${a.month} AND threshold = ${a.threshold} AND sent_at IS NULL`),
    sweep: (before) => Effect.map(sql<{ ai_sweep: string | number }>`SELECT ai_sweep(${before.toISOString()}::timestamptz)`, (rows) => Number(rows[0]?.ai_sweep ?? 0)),
    settle: (calls) => {
      if (calls.length === 0) return Effect.succeed([])
      // one lock order for every batch (by shop and month), so two processes settling at once cannot deadlock
      const key = (c: (typeof calls)[number]) => `${c.shop}\u0000${c.month}`
      const sorted = [...calls].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0))
      return Effect.map(
        sql<SettleRow>`SELECT * FROM ai_settle(${sorted.map((c) => c.callId)}::text[], ${sorted.map((c) => c.actualMicros)}::bigint[])`,
        (rows): ReadonlyArray<Settlement> =>
          rows.map((r) => ({
            callId: r.call_id,
            shop: r.shop,
            month: r.month,
            capMicros: Number(r.cap_micros),
            settledMicros: Number(r.settled_micros),
            reached: [...(r.alert_80 ? [80 as const] : []), ...(r.alert_100 ? [100 as const] : [])]
          }))
      )
    }
  })
})

export const layer = Layer.effect(AiLedger, make)
