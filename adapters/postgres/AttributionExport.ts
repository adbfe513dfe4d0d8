/**
 * The attributed orders of a shop over a period, for analysts (`sumeru attribution export`):
 * read from the `attribution_orders` read model in keyset-paginated batches (by conversion time,
 * then order id), so the export's memory stays the same for a hundred orders or ten million.
 */
import { Effect, Option, Stream } from "effect"
import { SqlClient } from "effect/sql"
import type { SqlError } from "effect/sql/SqlError"

export interface AttributedOrderRow {
  readonly order_id: string
  readonly converted_at: Date
  readonly revenue: number
  readonly currency: string
  readonly touches: ReadonlyArray<{ readonly channel: string; readonly at: number }>
  /** Model → channel → share (the five per-journey models). */
  readonly credits: Readonly<Record<string, Readonly<Record<string, number>>>>
}

/** `[from, until)`, in batches of `batch` rows. */
export const attributedOrders = (
  shop: string,
  from: Date,
  until: Date,
  batch = 1_000
): Stream.Stream<AttributedOrderRow, SqlError, SqlClient.SqlClient> =>
  Stream.paginate(
    Option.none<{ readonly at: Date; readonly id: string }>(),
    (after) =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const afterAt = Option.match(after, { onNone: () => null, onSome: (a) => a.at })
        const afterId = Option.match(after, { onNone: () => null, onSome: (a) => a.id })
        const rows = yield* sql<AttributedOrderRow>`
          SELECT order_id, converted_at, revenue, currency, touches, credits FROM attribution_orders
           WHERE shop = ${shop} AND converted_at >= ${from} AND converted_at < ${until}
             AND (${afterAt}::timestamptz IS NULL OR (converted_at, order_id) > (${afterAt}::timestamptz, ${afterId}::text))
           ORDER BY converted_at, order_id
           LIMIT ${batch}`
        const last = rows.at(-1)
        return [rows, rows.length < batch || last === undefined ? Option.none() : Option.some(Option.some({ at: new Date(last.converted_at), id: last.order_id }))] as const
      })
  )
