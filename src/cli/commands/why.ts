/**
 * `sumeru why <shop> <execution-id> [--json]`: why an execution happened (issue 11 §7) — its
 * causation chain from `whyExecution`, oldest first: what came in (a Shopify delivery, an
 * operator, a detector), the data event, the trigger, the rule at the version that ran (with
 * its condition) and every step of the execution and its run, each with its time and actor.
 */
import { Effect, Option } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import { type WhyLink, whyExecution } from "../../automation/Why.ts"
import { withCore } from "../database.ts"
import { fail } from "../errors.ts"
import { printJson, printLine, renderTable } from "../output.ts"

export const whyCommand = Command.make(
  "why",
  {
    shop: Argument.String("shop").pipe(Argument.withDescription("The shop (example.myshopify.com)")),
    executionId: Argument.String("execution-id").pipe(Argument.withDescription("The execution's id (GET /app/executions)")),
    json: Flag.Boolean("json").pipe(Flag.withDescription("Print JSON ({ execution_id, chain }) instead of lines"), Flag.withDefault(false))
  },
  ({ executionId, json, shop: given }) =>
    withCore(Effect.gen(function*() {
      const shop = given.toLowerCase()
      const found = yield* whyExecution(shop, executionId)
      if (Option.isNone(found)) return yield* fail(`${shop} has no execution ${executionId}`)
      const chain = found.value
      if (json) return yield* printJson({ execution_id: executionId, chain })
      yield* printLine(renderTable<WhyLink>([
        { header: "AT", value: (l) => l.at },
        { header: "KIND", value: (l) => l.kind },
        { header: "ACTOR", value: (l) => l.actor },
        { header: "SUMMARY", value: (l) => l.summary }
      ], chain))
    }))
).pipe(Command.withDescription("Why an execution happened: its chain from what came in to what the action did, oldest first"))
