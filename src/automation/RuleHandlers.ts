/**
 * The shop actor's side of rule management: an `automation.rule_command` (validated by the
 * admin API) is decided on the shop's rules (`domain/automation/Rules.ts`) and appended to
 * `rules-<shop>` at the version it was decided on. A refusal (the rule is gone, it changed in
 * between, its trigger is unknown to this deploy) is recorded as `rule.command_rejected` with
 * the command's id, so the requester waiting for the outcome hears it; a no-op appends nothing.
 */
import { Effect, Result } from "effect"
import { decideRule, initialRule, type RuleEvent, ruleCommandOf } from "../../domain/automation/Rules.ts"
import { loadFolded } from "../actors/ActorFolds.ts"
import type { Decision, HandlerRegistry } from "../actors/ShopHandlers.ts"
import { EventStore } from "../eventstore/EventStore.ts"
import { rulesFold, rulesStreamId } from "./RulesFold.ts"

export const RULE_COMMAND_REJECTED = "rule.command_rejected"

/** Data of `rule.command_rejected`. */
export interface RuleCommandRejected {
  readonly commandId: string
  readonly ruleId: string
  readonly code: "not_found" | "exists" | "changed" | "unknown_trigger"
  readonly reason: string
}

export const makeRuleHandlers = Effect.gen(function*() {
  const store = yield* EventStore
  return {
    "automation.rule_command": (ctx) =>
      Effect.gen(function*() {
        const { commandId, command: wire, requestedBy } = ctx.message.payload
        const streamId = rulesStreamId(ctx.shop)
        const { state: rules, version } = yield* loadFolded(streamId, rulesFold).pipe(Effect.provideService(EventStore, store))
        const expected = version === 0 ? "no_stream" as const : version
        const append = (events: ReadonlyArray<{ readonly type: string; readonly data: unknown }>): Decision =>
          events.length === 0 ? { appends: [] } : { appends: [{ streamId, expected, events }] }
        const reject = (code: RuleCommandRejected["code"], reason: string) =>
          append([{ type: RULE_COMMAND_REJECTED, data: { commandId, ruleId: wire.ruleId, code, reason } satisfies RuleCommandRejected }])
        const command = ruleCommandOf(wire)
        if (command === undefined) return reject("unknown_trigger", "the rule's trigger is not in this deploy's catalog")
        const decided = decideRule(command, rules[command.ruleId] ?? initialRule)
        if (Result.isFailure(decided)) {
          const f = decided.failure
          switch (f._tag) {
            case "RuleNotFound":
              return reject("not_found", `rule ${f.ruleId} not found`)
            case "RuleExists":
              return reject("exists", `rule ${f.ruleId} already exists`)
            case "RuleChanged":
              return reject("changed", `rule ${f.ruleId} changed since version ${f.expected} (it is at version ${f.actual}); read it again`)
          }
        }
        // who asked travels with each change (the audit's "changed by")
        return append(decided.success.map((e: RuleEvent) => ({ type: e.type, data: { ...e, requestedBy } })))
      })
  } satisfies Partial<HandlerRegistry>
})
