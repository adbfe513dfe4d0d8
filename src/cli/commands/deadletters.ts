/**
 * `sumeru deadletters list [--shop S] [--all]` and `sumeru deadletters redrive <id>`: the
 * messages shop actors gave up on, and putting one back. A re-drive publishes the original
 * message to the shop's log under a new message id (`…:redrive:<n>`; the old id is known to
 * the actor's dedupe and maybe to JetStream's window) and marks the dead letter re-driven.
 */
import { Effect, Option } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import { SqlClient } from "effect/sql"
import { ShopLog, type ShopMessage } from "../../shoplog/ShopLog.ts"
import * as ShopLogLayer from "../../shoplog/ShopLogLayer.ts"
import { withCore } from "../database.ts"
import { fail } from "../errors.ts"
import { printLine } from "../output.ts"

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

const list = Command.make(
  "list",
  {
    shop: Flag.String("shop").pipe(Flag.withDescription("Only this shop"), Flag.optional),
    all: Flag.Boolean("all").pipe(Flag.withDescription("Include dead letters already re-driven"), Flag.withDefault(false))
  },
  ({ shop, all }) =>
    withCore(Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const s = Option.getOrNull(shop)
      const rows = yield* sql<DeadLetterRow>`
        SELECT * FROM dead_letters
         WHERE (${s}::text IS NULL OR shop = ${s}::text) AND (${all} OR redriven_at IS NULL)
         ORDER BY id`
      if (rows.length === 0) return yield* printLine("no dead letters")
      yield* printLine(["id".padEnd(6), "shop".padEnd(32), "type".padEnd(24), "attempts", "kind     ", "dead at".padEnd(24), "error"].join("  "))
      for (const r of rows) {
        yield* printLine([
          String(r.id).padEnd(6),
          r.shop.padEnd(32),
          r.message.type.padEnd(24),
          String(r.attempts).padEnd(8),
          (r.permanent ? "permanent" : "transient").padEnd(9),
          r.dead_at.toISOString().padEnd(24),
          r.redriven_at === null ? r.error : `${r.error} (re-driven as ${r.redrive_id})`
        ].join("  "))
      }
    }))
).pipe(Command.withDescription("Messages shop actors gave up on"))

const redrive = Command.make(
  "redrive",
  { id: Argument.Int("id").pipe(Argument.withDescription("The dead letter's id (see list)")) },
  ({ id }) =>
    withCore(Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const log = yield* ShopLog
      const rows = yield* sql<DeadLetterRow>`SELECT * FROM dead_letters WHERE id = ${id}`
      const row = rows[0]
      if (row === undefined) return yield* fail(`dead letter ${id} not found`)
      if (row.redriven_at !== null) return yield* fail(`dead letter ${id} was already re-driven as ${row.redrive_id}`)
      const count = yield* sql<{ n: number }>`SELECT count(*)::int AS n FROM dead_letters WHERE shop = ${row.shop} AND message_id = ${row.message_id} AND redriven_at IS NOT NULL`
      const messageId = `${row.message.messageId}:redrive:${count[0]!.n + 1}`
      const { publishedAt: _published, ...original } = row.message
      const ack = yield* log.publish({ ...original, messageId })
      yield* sql`UPDATE dead_letters SET redriven_at = now(), redrive_id = ${messageId} WHERE id = ${id}`
      yield* printLine(`re-drove dead letter ${id} to ${row.shop} as ${messageId} (partition ${ack.partition}, sequence ${ack.sequence})`)
    }).pipe(Effect.provide(ShopLogLayer.layerFromConfig)))
).pipe(Command.withDescription("Publish a dead letter's message to its shop again"))

export const deadLettersCommand = Command.make("deadletters").pipe(
  Command.withDescription("Dead-lettered shop messages: list and re-drive"),
  Command.withSubcommands([list, redrive])
)
