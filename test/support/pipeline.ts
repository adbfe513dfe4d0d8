/**
 * Helpers shared by the actor-runtime suites: publish interleaved traffic, wait (without
 * sleeping) until the expected number of events is committed, and check per-shop order.
 */
import { Deferred, Effect } from "effect"
import { SqlClient } from "effect/sql"
import { LogWakeups } from "../../src/eventstore/LogWakeups.ts"
import { ShopLog } from "../../src/shoplog/ShopLog.ts"

export const shopName = (i: number) => `shop-${String(i).padStart(5, "0")}.myshopify.com`

/** `publishers` concurrent publishers; each owns a slice of shops and interleaves them. */
export const publishInterleaved = (shops: number, perShop: number, publishers: number, prefix = "m") =>
  Effect.gen(function*() {
    const log = yield* ShopLog
    yield* Effect.forEach(Array.from({ length: publishers }, (_, k) => k), (k) =>
      Effect.gen(function*() {
        for (let n = 0; n < perShop; n++) {
          for (let s = k; s < shops; s += publishers) {
            yield* log.publish({ shop: shopName(s), messageId: `${prefix}-${s}-${n}`, type: "test.append", payload: { n } })
          }
        }
      }), { concurrency: "unbounded", discard: true })
  })

/**
 * Resolves once the shop log is drained (every published message acked, hence committed or
 * dead-lettered). Woken by commits; cheap to check while the log shrinks.
 */
export const awaitDrained = Effect.gen(function*() {
  const log = yield* ShopLog
  const wakeups = yield* LogWakeups
  for (;;) {
    const next = yield* wakeups.next
    const pending = yield* log.pending
    if ([...pending.values()].every((n) => n === 0)) return
    yield* Deferred.await(next).pipe(Effect.timeoutOption("200 millis"))
  }
})

/** Resolves once at least `expected` events of `type` are committed. Woken by commits. */
export const awaitEventCount = (type: string, expected: number) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const wakeups = yield* LogWakeups
    for (;;) {
      const next = yield* wakeups.next
      const [row] = yield* sql<{ n: number }>`SELECT count(*)::int AS n FROM events WHERE type = ${type}`
      if (row!.n >= expected) return row!.n
      yield* Deferred.await(next)
    }
  })

/** Every shop's testlog stream holds 0..perShop-1 in order, exactly once. */
export const checkOrder = (shops: number, perShop: number) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const rows = yield* sql<{ stream_id: string; ns: Array<number> }>`
      SELECT stream_id, array_agg((data->>'n')::int ORDER BY stream_version) AS ns
        FROM events WHERE type = 'test.appended' AND stream_id LIKE 'testlog-%' GROUP BY stream_id`
    const problems: Array<string> = []
    if (rows.length !== shops) problems.push(`expected ${shops} streams, found ${rows.length}`)
    for (const r of rows) {
      const ns = r.ns.map(Number)
      if (ns.length !== perShop || ns.some((n, i) => n !== i)) {
        problems.push(`${r.stream_id}: ${ns.slice(0, 12).join(",")}${ns.length > 12 ? "…" : ""} (${ns.length})`)
      }
    }
    return problems
  })
