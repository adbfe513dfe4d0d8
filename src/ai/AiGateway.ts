/**
 * The one way Sumeru calls a language model (issue 14 §1): `AiGateway.generate`. Its live
 * implementation (`adapters/ai/AiGatewayLive.ts`) is the only module allowed to import a provider
 * SDK (`npm run lint:ai-gate`); routes, workers and actions depend on this tag.
 *
 * Every call is admitted by the shared ledger ({@link AiLedger}: the shop's sliding-window rate
 * limit and monthly budget, exact across processes), sent along its capability's route with
 * fallback, settled at its real cost, and reported to the shop's actor as `ai.call_completed`.
 */
import { Context, type Effect, Schema } from "effect"
import type { AiAttempt } from "../../domain/ai/events.ts"
import type { Capability, Provider, TokenUsage } from "../../domain/ai/policy.ts"

export interface GenerateRequest {
  readonly shop: string
  /** What the call is for, e.g. the action key (`refresh_blog_post`): the usage log groups by it. */
  readonly purpose: string
  /** Decides the route (default `text`). */
  readonly capability?: Capability
  readonly system?: string
  readonly prompt: string
  /** The most the answer may be; part of the call's worst-case cost. */
  readonly maxOutputTokens: number
}

export interface GenerateResult {
  readonly callId: string
  readonly text: string
  readonly provider: Provider
  readonly model: string
  readonly usage: TokenUsage
  readonly costMicros: number
  readonly attempts: ReadonlyArray<AiAttempt>
}

/**
 * The shop's limit stopped the call before it was sent: `RATE_LIMIT` (its sliding window is full)
 * or `BUDGET_EXCEEDED` (its month's budget cannot cover the call's worst case). `retryAfterSec`:
 * when the window frees a slot, or when the next budget month starts in the shop's time zone.
 */
export class AiLimitError extends Schema.TaggedError<AiLimitError>()("AiLimitError", {
  code: Schema.Literals(["RATE_LIMIT", "BUDGET_EXCEEDED"]),
  retryAfterSec: Schema.Int,
  message: Schema.String,
  /**
   * BUDGET_EXCEEDED: the month's cap, what was spent, what was spent or reserved by calls still
   * running when the call was refused, and the call's worst case (micro-dollars).
   */
  budget: Schema.optional(Schema.Struct({ capMicros: Schema.Int, spentMicros: Schema.Int, committedMicros: Schema.Int, worstMicros: Schema.Int }))
}) {}

/**
 * No answer: every provider of the route failed (`retryable`), one refused in a way another would
 * too (a content policy, a bad request: not retryable), the prompt fits no model (not retryable),
 * or the gateway could not reach its ledger or read the shop's plan (retryable).
 */
export class AiCallFailed extends Schema.TaggedError<AiCallFailed>()("AiCallFailed", {
  message: Schema.String,
  retryable: Schema.Boolean,
  attempts: Schema.Array(Schema.Unknown)
}) {}

export class AiGateway extends Context.Service<AiGateway, {
  readonly generate: (request: GenerateRequest) => Effect.Effect<GenerateResult, AiLimitError | AiCallFailed>
}>()("sumeru/ai/AiGateway") {}

// --- the shared ledger -----------------------------------------------------------------------

export type Admission =
  | { readonly _tag: "Admitted"; readonly capMicros: number; readonly reservedMicros: number; readonly settledMicros: number }
  | { readonly _tag: "RateLimited"; readonly retryAfterMs: number }
  /** Only calls still running hold the room this call needs: wait for them to settle and ask again. */
  | { readonly _tag: "BudgetBusy"; readonly capMicros: number; readonly reservedMicros: number; readonly settledMicros: number }
  /** What is spent leaves no room for this call's worst case; `reached`: the alerts this refusal is the month's first to raise. */
  | { readonly _tag: "BudgetExceeded"; readonly capMicros: number; readonly reservedMicros: number; readonly settledMicros: number; readonly reached: ReadonlyArray<80 | 100> }

export interface PendingAlert {
  readonly shop: string
  readonly month: string
  readonly threshold: 80 | 100
  readonly capMicros: number
  readonly spentMicros: number
  readonly reason: "settled" | "refused"
}

export interface Settlement {
  readonly callId: string
  readonly shop: string
  readonly month: string
  readonly capMicros: number
  readonly settledMicros: number
  /** The thresholds this settlement is the first of the month to reach. */
  readonly reached: ReadonlyArray<80 | 100>
}

/**
 * The limits' state every process shares (SQL: `adapters/postgres/PgAiLedger.ts`). `admit`
 * decides a call under the shop's month lock: the rate window, then the budget — refused only
 * when what is *spent* leaves no room for the call's worst case, told to wait when calls still
 * running hold the room — reserving the worst case; `settle` swaps reservations for the real
 * costs (once per call), many calls at a time.
 */
export class AiLedger extends Context.Service<AiLedger, {
  readonly admit: (call: {
    readonly callId: string
    readonly shop: string
    readonly month: string
    readonly capMicros: number
    readonly worstMicros: number
    readonly limit: number
    readonly windowMs: number
    readonly now: Date
    /** A reservation older than this whose call never settled counts as spent. */
    readonly staleMs: number
  }) => Effect.Effect<Admission, import("effect/sql/SqlError").SqlError>
  /** Alerts raised at least `olderThanMs` ago and not sent yet (a gateway died before sending them). */
  readonly unsentAlerts: (olderThanMs: number) => Effect.Effect<ReadonlyArray<PendingAlert>, import("effect/sql/SqlError").SqlError>
  /** Marks an alert sent (its message is in the shop's log). */
  readonly alertSent: (alert: { readonly shop: string; readonly month: string; readonly threshold: 80 | 100 }) => Effect.Effect<void, import("effect/sql/SqlError").SqlError>
  /** Forgets settled calls started before `before` (older than any rate window); how many. */
  readonly sweep: (before: Date) => Effect.Effect<number, import("effect/sql/SqlError").SqlError>
  /** Settles calls in one round trip (each once; a call settled before is left out of the answer). */
  readonly settle: (calls: ReadonlyArray<{ readonly callId: string; readonly shop: string; readonly month: string; readonly actualMicros: number }>) => Effect.Effect<ReadonlyArray<Settlement>, import("effect/sql/SqlError").SqlError>
}>()("sumeru/ai/AiLedger") {}
