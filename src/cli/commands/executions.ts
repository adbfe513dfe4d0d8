/**
 * `sumeru executions undo <shop> <execution-id> [--force] [--wait N] [--json]`: undo what an
 * execution's action did (issue 11 §4) — through the shop's actor, the single writer
 * (`submitUndo`), waiting, bounded, for the undo's end. Undo never overwrites a change someone
 * made after the action: it reports `changed_since` unless `--force` is given. An execution
 * that cannot be undone now (not applied, already undone, an undo running) is refused before
 * anything is sent. No worker in time: the undo stays queued (exit 0, `{"status":"pending"}`).
 */
import { Effect, Option, Stream } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import { automationStreamId } from "../../automation/AutomationFold.ts"
import { submitUndo, type UndoOutcome } from "../../automation/UndoCommands.ts"
import { EventStore } from "../../eventstore/EventStore.ts"
import * as ShopLogLayer from "../../shoplog/ShopLogLayer.ts"
import { withCore } from "../database.ts"
import { fail } from "../errors.ts"
import { operatorLabel, outcomeWait, queuedNotice } from "../operator.ts"
import { printJson, printLine } from "../output.ts"

/** Whether the shop's automation stream knows the execution (its every step names it). */
const executionExists = (shop: string, executionId: string) =>
  Effect.gen(function*() {
    const store = yield* EventStore
    const first = yield* Stream.runHead(Stream.filter(
      store.readStream(automationStreamId(shop)),
      (e) => typeof e.data === "object" && e.data !== null && (e.data as { executionId?: unknown }).executionId === executionId
    ))
    return Option.isSome(first)
  })

const undo = Command.make(
  "undo",
  {
    shop: Argument.String("shop").pipe(Argument.withDescription("The shop (example.myshopify.com)")),
    executionId: Argument.String("execution-id").pipe(Argument.withDescription("The execution's id (GET /app/executions)")),
    force: Flag.Boolean("force").pipe(
      Flag.withDescription("Undo even if someone changed the resource after the action (their change is overwritten)"),
      Flag.withDefault(false)
    ),
    wait: Flag.Int("wait").pipe(
      Flag.filterMap((n) => (n >= 0 ? Option.some(n) : Option.none<number>()), () => "a non-negative number of seconds"),
      Flag.withDescription("Seconds to wait for the shop's actor to finish the undo, then leave it queued (none on the embedded database: no worker can run meanwhile)"),
      Flag.withDefault(10)
    ),
    json: Flag.Boolean("json").pipe(Flag.withDescription("Print JSON ({ id, status, … })"), Flag.withDefault(false))
  },
  ({ executionId, force, json, shop: given, wait }) =>
    withCore(Effect.gen(function*() {
      const shop = given.toLowerCase()
      if (!(yield* executionExists(shop, executionId))) return yield* fail(`${shop} has no execution ${executionId}`)
      const outcome: UndoOutcome = yield* submitUndo(shop, executionId, { by: operatorLabel(), force }, yield* outcomeWait(wait)).pipe(
        Effect.catchTag("ShopLogUnavailable", (e) => fail(`cannot publish to the shop's log: ${e.message}`))
      )
      const id = executionId
      switch (outcome._tag) {
        case "Undone":
          return yield* json ? printJson({ id, status: "undone", summary: outcome.summary }) : printLine(`undone: ${outcome.summary}`)
        case "Cancelled":
          return yield* json ? printJson({ id, status: "cancelled" }) : printLine("cancelled before it ran (it was waiting for quiet hours to end)")
        case "Pending":
          return yield* json ? printJson({ id, status: "pending" }) : printLine(yield* queuedNotice(`undo execution ${id} of ${shop}`))
        case "Refused":
          if (json) yield* printJson({ id, status: "refused", code: outcome.refusal.code, message: outcome.refusal.message })
          return yield* fail(`execution ${id} cannot be undone (${outcome.refusal.code}): ${outcome.refusal.message}`)
        case "UndoFailed":
          if (json) yield* printJson({ id, status: outcome.code === "changed_since" ? "changed_since" : "undo_failed", code: outcome.code, message: outcome.message })
          return yield* outcome.code === "changed_since"
            ? fail(
              `execution ${id} was not undone: ${outcome.message}. Someone changed the resource after the action; ` +
                `\`--force\` undoes it anyway and overwrites their change`
            )
            : fail(`the undo of execution ${id} failed (${outcome.code}): ${outcome.message}`)
      }
    }).pipe(Effect.provide(ShopLogLayer.layerFromConfig)))
).pipe(Command.withDescription("Undo an execution's action (refused if the resource changed since, unless --force)"))

export const executionsCommand = Command.make("executions").pipe(
  Command.withDescription("What the shop's rules did: undo an execution"),
  Command.withSubcommands([undo])
)
