/** `DeadLetters` (src/actors/DeadLetters.ts) on PostgreSQL: the `dead_letters` table. */
import { Effect, Layer, Option } from "effect"
import { SqlClient } from "effect/sql"
import { type DeadLetter, DeadLetters } from "../../src/actors/DeadLetters.ts"
import type { ShopMessage } from "../../src/shoplog/ShopLog.ts"

interface DeadLetterRow {
  readonly id: bigint | number
  readonly shop: string
  readonly message_id: string
  readonly message: ShopMessage
  readonly error: string
  readonly attempts: number
  readonly permanent: boolean
  readonly dead_at: Date
  readonly redriven_at: Date | null
  readonly redrive_id: string | null
}

const fromRow = (r: DeadLetterRow): DeadLetter => ({
  id: Number(r.id),
  shop: r.shop,
  messageId: r.message_id,
  message: r.message,
  error: r.error,
  attempts: r.attempts,
  permanent: r.permanent,
  deadAt: r.dead_at,
  redrivenAt: r.redriven_at,
  redriveId: r.redrive_id
})

export const make = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  return DeadLetters.of({
    list: ({ shop, includeRedriven }) =>
      Effect.map(
        sql<DeadLetterRow>`
          SELECT * FROM dead_letters
           WHERE (${shop}::text IS NULL OR shop = ${shop}::text) AND (${includeRedriven} OR redriven_at IS NULL)
           ORDER BY id`,
        (rows) => rows.map(fromRow)
      ),
    get: (id) =>
      Effect.map(sql<DeadLetterRow>`SELECT * FROM dead_letters WHERE id = ${id}`, (rows) => Option.map(Option.fromNullishOr(rows[0]), fromRow)),
    countRedriven: (shop, messageId) =>
      Effect.map(
        sql<{ n: number }>`SELECT count(*)::int AS n FROM dead_letters WHERE shop = ${shop} AND message_id = ${messageId} AND redriven_at IS NOT NULL`,
        (rows) => rows[0]!.n
      ),
    markRedriven: (id, redriveId) =>
      Effect.asVoid(sql`UPDATE dead_letters SET redriven_at = now(), redrive_id = ${redriveId} WHERE id = ${id}`)
  })
})

export const layer: Layer.Layer<DeadLetters, never, SqlClient.SqlClient> = Layer.effect(DeadLetters, make)
