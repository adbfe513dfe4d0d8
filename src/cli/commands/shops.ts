/**
 * `sumeru shops plan <shop> <free|pro|enterprise> [--wait N] [--json]`: sets a shop's plan as an
 * operator (issue 11 §2) — through the shop's actor, the single writer of its lifecycle
 * (`submitPlan`: `shop.set_plan` → `shop.plan_changed`, source `operator`, with who set it),
 * waiting, bounded, for the plan to read as asked. The plan gates the actions that need it.
 * No worker in time: the change stays queued (exit 0, `{"status":"pending"}`).
 */
import { Effect, Option } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import { submitPlan } from "../../app/PlanHandlers.ts"
import { PLANS } from "../../../domain/automation/Actions.ts"
import * as ShopLogLayer from "../../shoplog/ShopLogLayer.ts"
import { withCore } from "../database.ts"
import { fail } from "../errors.ts"
import { operatorLabel, outcomeWait, queuedNotice } from "../operator.ts"
import { printJson, printLine } from "../output.ts"

const plan = Command.make(
  "plan",
  {
    shop: Argument.String("shop").pipe(Argument.withDescription("The shop (example.myshopify.com)")),
    plan: Argument.Literals("plan", PLANS).pipe(Argument.withDescription("free, pro or enterprise")),
    wait: Flag.Int("wait").pipe(
      Flag.filterMap((n) => (n >= 0 ? Option.some(n) : Option.none<number>()), () => "a non-negative number of seconds"),
      Flag.withDescription("Seconds to wait for the shop's actor to record it, then leave it queued (none on the embedded database)"),
      Flag.withDefault(10)
    ),
    json: Flag.Boolean("json").pipe(Flag.withDescription("Print JSON ({ shop, plan, status, previous })"), Flag.withDefault(false))
  },
  ({ json, plan: chosen, shop: given, wait }) =>
    withCore(Effect.gen(function*() {
      const shop = given.toLowerCase()
      const outcome = yield* submitPlan(shop, chosen, operatorLabel(), yield* outcomeWait(wait)).pipe(
        Effect.catchTag("ShopLogUnavailable", (e) => fail(`cannot publish to the shop's log: ${e.message}`))
      )
      if (outcome._tag === "Pending") {
        return yield* json ? printJson({ shop, plan: chosen, status: "pending" }) : printLine(yield* queuedNotice(`set ${shop}'s plan to ${chosen}`))
      }
      return yield* json
        ? printJson({ shop, plan: chosen, status: "set", previous: outcome.previous })
        : printLine(outcome.previous === chosen ? `${shop} is on the ${chosen} plan (no change)` : `${shop}: plan ${outcome.previous} → ${chosen}`)
    }).pipe(Effect.provide(ShopLogLayer.layerFromConfig)))
).pipe(Command.withDescription("Set a shop's plan (free, pro, enterprise): it gates the actions that need one"))

export const shopsCommand = Command.make("shops").pipe(
  Command.withDescription("A shop's settings as an operator sets them"),
  Command.withSubcommands([plan])
)
