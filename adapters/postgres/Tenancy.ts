/**
 * Runs SQL as one shop (invariant 6): inside a transaction, switch to the `sumeru_tenant`
 * role and set `sumeru.shop`. Row-level security then hides every other shop's rows and
 * refuses writes to them, even for hand-written SQL. Both settings end with the transaction.
 */
import { Effect } from "effect"
import { SqlClient } from "effect/sql"
import type { SqlError } from "effect/sql/SqlError"

export const asTenant = <A, E, R>(
  shop: string,
  effect: Effect.Effect<A, E, R>
): Effect.Effect<A, E | SqlError, R | SqlClient.SqlClient> =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    return yield* sql.withTransaction(Effect.gen(function*() {
      yield* sql`SET LOCAL ROLE sumeru_tenant`
      yield* sql`SELECT set_config('sumeru.shop', ${shop}, true)`
      return yield* effect
    }))
  })
