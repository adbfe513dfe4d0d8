/**
 * The shop's actor records what the AI gateway reports (`domain/ai/events.ts`) on `ai-<shop>`:
 * each call's usage row (`ai.call_completed`, the `ai_usage` read model; reports come in batches,
 * one message per shop for the calls finished meanwhile) and each budget alert
 * (`ai.budget_threshold_reached`, in the audit log, and delivered to the shop's outbound webhook
 * subscribers of that event). Message ids are derived from the calls (or
 * the month's threshold), so a report published twice is recorded once.
 */
import { Effect, Option } from "effect"
import { aiStreamId } from "../../domain/ai/events.ts"
import type { Decision, HandlerRegistry } from "../actors/ShopHandlers.ts"
import { OutboundNotifier } from "../outbound/OutboundWebhooks.ts"

export const makeAiUsageHandlers = Effect.gen(function*() {
  // the alerts go to the shop's outbound webhook subscribers too (when this process delivers them)
  const notifier = yield* Effect.serviceOption(OutboundNotifier)
  return {
  "ai.call_reports": (ctx) =>
    Effect.succeed<Decision>({
      appends: [{
        streamId: aiStreamId(ctx.shop),
        expected: "any",
        events: ctx.message.payload.rows.map((row) => ({ type: "ai.call_completed", data: row, occurredAt: new Date(row.startedAt) }))
      }]
    }),
  "ai.budget_alert": (ctx) =>
    Effect.gen(function*() {
      const now = new Date()
      const notified = Option.isSome(notifier) ? yield* notifier.value.notifyBudget(ctx.shop, ctx.message.payload, now) : undefined
      const decision: Decision = {
        appends: [
          { streamId: aiStreamId(ctx.shop), expected: "any", events: [{ type: "ai.budget_threshold_reached", data: ctx.message.payload, occurredAt: now }] },
          ...(notified?.appends ?? [])
        ],
        schedule: notified?.schedule ?? [],
        afterCommit: notified?.afterCommit
      }
      return decision
    })
  } satisfies Partial<HandlerRegistry>
})

/** The message id of a batch of reports: its calls' ids (a batch published twice is recorded once). */
export const callReportsMessageId = (rows: ReadonlyArray<{ readonly callId: string }>) =>
  `ai.call_reports:${rows[0]?.callId ?? "none"}:${rows.length}:${rows.at(-1)?.callId ?? "none"}`
/** The message id of a month's threshold alert: once per shop, month and threshold. */
export const budgetAlertMessageId = (shop: string, month: string, threshold: number) => `ai.budget_alert:${shop}:${month}:${threshold}`
