/**
 * `sumeru deadletters list [--shop S] [--all]` and `sumeru deadletters redrive <id>`: the
 * messages shop actors gave up on, and putting one back. A re-drive publishes the original
 * message to the shop's log under a new message id (`…:redrive:<n>`; the old id is known to
 * the actor's dedupe and maybe to JetStream's window) and marks the dead letter re-driven.
 */
import { Effect, Option } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import * as PgDeadLetters from "../../../adapters/postgres/PgDeadLetters.ts"
import { DeadLetters } from "../../actors/DeadLetters.ts"
import { ShopLog } from "../../shoplog/ShopLog.ts"
import * as ShopLogLayer from "../../shoplog/ShopLogLayer.ts"
import { withCore } from "../database.ts"
import { fail } from "../errors.ts"
import { printLine } from "../output.ts"

const list = Command.make(
  "list",
  {
    shop: Flag.String("shop").pipe(Flag.withDescription("Only this shop"), Flag.optional),
    all: Flag.Boolean("all").pipe(Flag.withDescription("Include dead letters already re-driven"), Flag.withDefault(false))
  },
  ({ shop, all }) =>
    withCore(Effect.gen(function*() {
      const deadLetters = yield* DeadLetters
      const rows = yield* deadLetters.list({ shop: Option.getOrNull(shop), includeRedriven: all })
      if (rows.length === 0) return yield* printLine("no dead letters")
      yield* printLine(["id".padEnd(6), "shop".padEnd(32), "type".padEnd(24), "attempts", "kind     ", "dead at".padEnd(24), "error"].join("  "))
      for (const r of rows) {
        yield* printLine([
          String(r.id).padEnd(6),
          r.shop.padEnd(32),
          r.message.type.padEnd(24),
          String(r.attempts).padEnd(8),
          (r.permanent ? "permanent" : "transient").padEnd(9),
          r.deadAt.toISOString().padEnd(24),
          r.redrivenAt === null ? r.error : `${r.error} (re-driven as ${r.redriveId})`
        ].join("  "))
      }
    }).pipe(Effect.provide(PgDeadLetters.layer)))
).pipe(Command.withDescription("Messages shop actors gave up on"))

const redrive = Command.make(
  "redrive",
  { id: Argument.Int("id").pipe(Argument.withDescription("The dead letter's id (see list)")) },
  ({ id }) =>
    withCore(Effect.gen(function*() {
      const deadLetters = yield* DeadLetters
      const log = yield* ShopLog
      const found = yield* deadLetters.get(id)
      if (Option.isNone(found)) return yield* fail(`dead letter ${id} not found`)
      const row = found.value
      if (row.redrivenAt !== null) return yield* fail(`dead letter ${id} was already re-driven as ${row.redriveId}`)
      const count = yield* deadLetters.countRedriven(row.shop, row.messageId)
      const messageId = `${row.message.messageId}:redrive:${count + 1}`
      const { publishedAt: _published, ...original } = row.message
      const ack = yield* log.publish({ ...original, messageId })
      yield* deadLetters.markRedriven(id, messageId)
      yield* printLine(`re-drove dead letter ${id} to ${row.shop} as ${messageId} (partition ${ack.partition}, sequence ${ack.sequence})`)
    }).pipe(Effect.provide([ShopLogLayer.layerFromConfig, PgDeadLetters.layer])))
).pipe(Command.withDescription("Publish a dead letter's message to its shop again"))

export const deadLettersCommand = Command.make("deadletters").pipe(
  Command.withDescription("Dead-lettered shop messages: list and re-drive"),
  Command.withSubcommands([list, redrive])
)
