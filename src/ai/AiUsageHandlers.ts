/**
 * The shop's actor records what the AI gateway reports (`domain/ai/events.ts`) on `ai-<shop>`:
 * each call's usage row (`ai.call_completed`, the `ai_usage` read model) and each budget alert
 * (`ai.budget_threshold_reached`, in the audit log). The report's message id is the call's (or
 * the month's threshold's), so a report published twice is recorded once.
 */
import { Effect } from "effect"
import { aiStreamId } from "../../domain/ai/events.ts"
import type { Decision, HandlerRegistry } from "../actors/ShopHandlers.ts"

export const makeAiUsageHandlers = Effect.succeed({
  "ai.call_report": (ctx) =>
    Effect.succeed<Decision>({
      appends: [{
        streamId: aiStreamId(ctx.shop),
        expected: "any",
        events: [{ type: "ai.call_completed", data: ctx.message.payload, occurredAt: new Date(ctx.message.payload.startedAt) }]
      }]
    }),
  "ai.budget_alert": (ctx) =>
    Effect.succeed<Decision>({
      appends: [{ streamId: aiStreamId(ctx.shop), expected: "any", events: [{ type: "ai.budget_threshold_reached", data: ctx.message.payload }] }]
    })
} satisfies Partial<HandlerRegistry>)

/** The message id of a call's report: its call id (a report published twice is recorded once). */
export const callReportMessageId = (callId: string) => `ai.call_report:${callId}`
/** The message id of a month's threshold alert: once per shop, month and threshold. */
export const budgetAlertMessageId = (shop: string, month: string, threshold: number) => `ai.budget_alert:${shop}:${month}:${threshold}`
