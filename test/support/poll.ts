/**
 * Polling a database observation until it holds, bounded, for tests of separate processes or
 * of the shop log, where no in-process signal exists to wait on.
 */
import { Duration, Effect } from "effect"
import { SqlClient } from "effect/sql"

/** Polls `check` until it yields a value; dies naming `what` after `timeout`. */
export const pollUntil = <A, E, R>(
  check: Effect.Effect<A | undefined, E, R>,
  what: string,
  timeout: Duration.Input = Duration.seconds(30),
  interval: Duration.Input = Duration.millis(10)
) =>
  Effect.gen(function*() {
    for (;;) {
      const value = yield* check
      if (value !== undefined) return value
      yield* Effect.sleep(interval)
    }
  }).pipe(Effect.timeoutOrElse({ duration: timeout, orElse: () => Effect.die(new Error(`timed out waiting for ${what}`)) }))

/** The `n` of every event on the test handlers' stream of `shop`, in stream order. */
export const streamNs = (shop: string) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const r = yield* sql<{ ns: Array<number> | null }>`
      SELECT array_agg((data->>'n')::int ORDER BY stream_version) AS ns FROM events WHERE stream_id = ${`testlog-${shop}`}`
    return (r[0]?.ns ?? []).map(Number)
  })
