/**
 * What the AI gateway reports to the shop's actor, and what the actor records on `ai-<shop>`
 * (issue 14 §2):
 * - `ai.call_completed`: one per call, whatever its outcome — the usage log's row: purpose,
 *   capability, the provider and model that answered (or none), tokens by kind, the reserved
 *   (estimated) and settled cost, latency, and every attempt in order. No prompt and no output:
 *   the usage log holds no personal data to seal.
 * - `ai.budget_threshold_reached`: the month's spend reached 80 % of the budget, or the budget is
 *   spent (100 %: the settled cost reached the cap, or a call was refused for it) — each once a
 *   month, decided by the shared ledger, not by any one process.
 */
import { Schema } from "effect"
import { CAPABILITIES, PROVIDERS } from "./policy.ts"

export const AiAttempt = Schema.Struct({
  provider: Schema.Literals(PROVIDERS),
  model: Schema.String,
  outcome: Schema.Literals(["ok", "rate_limited", "overloaded", "server", "timeout", "context_length", "refused", "invalid"]),
  /** The provider's HTTP status; null when no response came (a timeout). */
  status: Schema.NullOr(Schema.Int),
  latencyMs: Schema.Finite,
  /** The provider's error message, shortened (none on success). */
  message: Schema.optional(Schema.String)
})
export type AiAttempt = typeof AiAttempt.Type

export const AI_CALL_OUTCOMES = ["ok", "failed", "rate_limited", "budget_exceeded"] as const
export type AiCallOutcome = typeof AI_CALL_OUTCOMES[number]

export const AiCallCompleted = Schema.Struct({
  callId: Schema.String,
  purpose: Schema.String,
  capability: Schema.Literals(CAPABILITIES),
  outcome: Schema.Literals(AI_CALL_OUTCOMES),
  /** The provider and model that answered; null unless `ok`. */
  provider: Schema.NullOr(Schema.Literals(PROVIDERS)),
  model: Schema.NullOr(Schema.String),
  inputTokens: Schema.Int,
  cachedInputTokens: Schema.Int,
  cacheWriteTokens: Schema.Int,
  outputTokens: Schema.Int,
  /** The worst case reserved before the call (0 when it was refused), micro-dollars. */
  estimatedMicros: Schema.Int,
  /** What the call cost, micro-dollars. */
  settledMicros: Schema.Int,
  latencyMs: Schema.Finite,
  attempts: Schema.Array(AiAttempt),
  /** The budget month (the shop's time zone) the call counts in. */
  month: Schema.String,
  /** When a refused call may be tried again, seconds. */
  retryAfterSec: Schema.optional(Schema.Int),
  startedAt: Schema.String
})
export type AiCallCompleted = typeof AiCallCompleted.Type

/** The gateway's report of calls finished meanwhile, one message per shop (their rows in order). */
export const AiCallReports = Schema.Struct({
  rows: Schema.Array(AiCallCompleted)
})
export type AiCallReports = typeof AiCallReports.Type

export const AiBudgetThresholdReached = Schema.Struct({
  month: Schema.String,
  threshold: Schema.Literals([80, 100]),
  capMicros: Schema.Int,
  spentMicros: Schema.Int,
  /** `settled`: the month's cost reached the threshold; `refused`: a call was refused for the budget. */
  reason: Schema.Literals(["settled", "refused"])
})
export type AiBudgetThresholdReached = typeof AiBudgetThresholdReached.Type

export const aiStreamId = (shop: string) => `ai-${shop}`

/** One dollar-and-cents reading of micro-dollars for people: `$1.234567` → `$1.23`. */
export const formatMicros = (micros: number): string => `$${(micros / 1_000_000).toFixed(2)}`
