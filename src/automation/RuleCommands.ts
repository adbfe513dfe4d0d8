/**
 * Rule management as the admin API uses it: read a shop's rules (its `rules-<shop>` stream,
 * folded — read-your-writes by construction), and submit a change to the shop's actor (the
 * single writer) and wait, bounded, for its outcome: the rule at its new version, or the
 * actor's refusal (`rule.command_rejected` with the command's id). A change still queued when
 * the bound runs out is `pending` (it will be applied; the caller answers 202).
 */
import { Duration, Effect, Option, Stream } from "effect"
import { uuidV7Unsafe } from "effect/crypto/SecureRandom"
import type { ExistingRule, RuleCommand, ShopRules } from "../../domain/automation/Rules.ts"
import { encodeShopMessage } from "../../domain/messages/ShopMessages.ts"
import { EventStore } from "../eventstore/EventStore.ts"
import { awaitCommitted } from "../eventstore/LogWakeups.ts"
import { ShopLog } from "../shoplog/ShopLog.ts"
import { RULE_COMMAND_REJECTED, type RuleCommandRejected } from "./RuleHandlers.ts"
import { automationFold, automationStreamId } from "./AutomationFold.ts"
import { rulesFold, rulesStreamId } from "./RulesFold.ts"

/** The shop's rules (deleted ones included: callers decide) and the stream's version. */
export const readRules = (shop: string) =>
  Effect.map(
    Effect.flatMap(EventStore, (store) => store.loadFold(rulesStreamId(shop), rulesFold)),
    ({ state, version }): { readonly rules: ShopRules; readonly version: number } => ({ rules: state, version })
  )

export type RuleOutcome =
  | { readonly _tag: "Applied"; readonly rule: ExistingRule }
  | { readonly _tag: "Rejected"; readonly code: RuleCommandRejected["code"]; readonly reason: string }
  | { readonly _tag: "Pending" }

const isRejection = (commandId: string) => (data: unknown): data is RuleCommandRejected =>
  typeof data === "object" && data !== null && (data as { commandId?: unknown }).commandId === commandId

/**
 * Publishes `command` to the shop's actor and waits (at most `wait`) until the rule shows the
 * change (`applied`: the predicate on the rule) or the actor refused it.
 */
export const submitRuleCommand = (
  shop: string,
  command: RuleCommand,
  requestedBy: string,
  applied: (rule: ExistingRule | undefined) => boolean,
  wait: Duration.Input = Duration.seconds(10)
) =>
  Effect.gen(function*() {
    const store = yield* EventStore
    const log = yield* ShopLog
    const commandId = uuidV7Unsafe()
    const { version: before } = yield* readRules(shop)
    yield* log.publish({
      shop,
      messageId: `rule:${commandId}`,
      ...encodeShopMessage({ type: "automation.rule_command", payload: { commandId, command, requestedBy } }),
      correlationId: commandId
    })
    const outcome = Effect.gen(function*() {
      const { rules, version } = yield* readRules(shop)
      const rule = rules[command.ruleId]
      if (applied(rule) && version > before) return Option.some<RuleOutcome>({ _tag: "Applied", rule: rule! })
      if (version === before) return Option.none<RuleOutcome>()
      const rejected = yield* store.readStream(rulesStreamId(shop), { from: before + 1 }).pipe(
        Stream.filter((e) => e.type === RULE_COMMAND_REJECTED && isRejection(commandId)(e.data)),
        Stream.runHead
      )
      return Option.map(rejected, (e): RuleOutcome => {
        const r = e.data as RuleCommandRejected
        return { _tag: "Rejected", code: r.code, reason: r.reason }
      })
    })
    return yield* awaitCommitted(outcome, wait).pipe(Effect.map(Option.getOrElse((): RuleOutcome => ({ _tag: "Pending" }))))
  })

export type ApprovalOutcome =
  | { readonly _tag: "Answered"; readonly status: "approved" | "rejected" | "expired" }
  | { readonly _tag: "NotAwaiting" }
  | { readonly _tag: "Pending" }

/**
 * A person's answer to a parked execution, through the shop's actor (the single writer): waits,
 * bounded, until the execution's approval has ended — by this answer, or by whatever came first
 * (another person, the expiry).
 */
export const submitApproval = (
  shop: string,
  executionId: string,
  answer: { readonly decision: "approve" | "reject"; readonly by: string; readonly reason: string | null },
  wait: Duration.Input = Duration.seconds(10)
) =>
  Effect.gen(function*() {
    const store = yield* EventStore
    const log = yield* ShopLog
    const { state, version: before } = yield* store.loadFold(automationStreamId(shop), automationFold)
    if (state.awaiting[executionId] === undefined) return { _tag: "NotAwaiting" } as ApprovalOutcome
    yield* log.publish({
      shop,
      messageId: `approval:${executionId}:${answer.decision}`,
      ...encodeShopMessage({ type: "automation.approval", payload: { executionId, ...answer } }),
      correlationId: executionId
    })
    const ended = { "autoaction.approved": "approved", "autoaction.rejected": "rejected", "autoaction.approval_expired": "expired" } as const
    const outcome = store.readStream(automationStreamId(shop), { from: before + 1 }).pipe(
      Stream.filter((e) => e.type in ended && (e.data as { executionId?: string }).executionId === executionId),
      Stream.runHead,
      Effect.map(Option.map((e): ApprovalOutcome => ({ _tag: "Answered", status: ended[e.type as keyof typeof ended] })))
    )
    return yield* awaitCommitted(outcome, wait).pipe(Effect.map(Option.getOrElse((): ApprovalOutcome => ({ _tag: "Pending" }))))
  })
