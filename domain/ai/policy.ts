/**
 * The AI gateway's decisions, pure (issue 14): which providers a call may use and in what order,
 * what a call may cost at worst and what it did cost, which failures move on to the next
 * provider, the shop's limits by plan, and the budget month in the shop's time zone.
 *
 * Money is integer **micro-dollars** (1 USD = 1,000,000): budgets, reservations and settled costs
 * add up exactly. Prices are USD per million tokens, so a token count times a price is already
 * micro-dollars; a call's cost is rounded up to the next micro-dollar.
 */
import type { Plan } from "../automation/Actions.ts"
import { offsetAt, wallClock } from "../automation/QuietHours.ts"

export const PROVIDERS = ["anthropic", "openai", "google", "mistral", "cohere"] as const
export type Provider = typeof PROVIDERS[number]

/**
 * What a call needs, which decides where it goes first: `text` (the default) → Claude,
 * `multimodal` → Gemini, `classification` → Cohere, `budget` → Mistral.
 */
export const CAPABILITIES = ["text", "multimodal", "classification", "budget"] as const
export type Capability = typeof CAPABILITIES[number]

export interface ModelPrice {
  /** USD per million uncached input tokens. */
  readonly input: number
  /** USD per million input tokens read from the provider's cache. */
  readonly cachedInput: number
  /** USD per million input tokens written to the cache (Anthropic's cache creation). */
  readonly cacheWrite: number
  /** USD per million output tokens. */
  readonly output: number
}

export interface ModelSpec {
  readonly provider: Provider
  readonly model: string
  readonly price: ModelPrice
  /** The context window in tokens: a prompt that cannot fit is not sent to this model. */
  readonly contextTokens: number
}

/**
 * The model each provider is called with, and its list price (USD per million tokens, the
 * providers' published prices for these models; cached input at their cache-read price).
 */
export const MODELS: { readonly [P in Provider]: ModelSpec } = {
  anthropic: { provider: "anthropic", model: "claude-sonnet-4-5", price: { input: 3, cachedInput: 0.3, cacheWrite: 3.75, output: 15 }, contextTokens: 200_000 },
  openai: { provider: "openai", model: "gpt-4.1-mini", price: { input: 0.4, cachedInput: 0.1, cacheWrite: 0.4, output: 1.6 }, contextTokens: 1_047_576 },
  google: { provider: "google", model: "gemini-2.5-flash", price: { input: 0.3, cachedInput: 0.075, cacheWrite: 0.3, output: 2.5 }, contextTokens: 1_048_576 },
  mistral: { provider: "mistral", model: "mistral-small-latest", price: { input: 0.1, cachedInput: 0.1, cacheWrite: 0.1, output: 0.3 }, contextTokens: 128_000 },
  cohere: { provider: "cohere", model: "command-r-08-2024", price: { input: 0.15, cachedInput: 0.15, cacheWrite: 0.15, output: 0.6 }, contextTokens: 128_000 }
}

/** The order providers are tried in, per capability: the first, then the fallbacks. */
export const ROUTES: { readonly [C in Capability]: ReadonlyArray<Provider> } = {
  text: ["anthropic", "openai", "google"],
  multimodal: ["google", "anthropic", "openai"],
  classification: ["cohere", "mistral", "openai"],
  budget: ["mistral", "google", "openai"]
}

// --- cost ------------------------------------------------------------------------------------

/**
 * What a call used, normalised across providers: `inputTokens` are the uncached input tokens
 * only (a provider that counts cached tokens inside its input total has them subtracted by its
 * adapter), so each kind is priced once.
 */
export interface TokenUsage {
  readonly inputTokens: number
  readonly cachedInputTokens: number
  readonly cacheWriteTokens: number
  readonly outputTokens: number
}

const tokens = (n: number) => (Number.isFinite(n) && n > 0 ? Math.ceil(n) : 0)

/** The cost of `usage` at `price`, in micro-dollars, rounded up. */
export const costMicros = (usage: TokenUsage, price: ModelPrice): number =>
  Math.ceil(
    tokens(usage.inputTokens) * price.input +
      tokens(usage.cachedInputTokens) * price.cachedInput +
      tokens(usage.cacheWriteTokens) * price.cacheWrite +
      tokens(usage.outputTokens) * price.output
  )

/** Tokens the provider adds around a prompt (roles, separators): a margin on the upper bound. */
const PROMPT_OVERHEAD_TOKENS = 64

/**
 * An upper bound on a prompt's input tokens: its UTF-8 length in bytes. Every tokenizer these
 * providers use emits at most one token per byte, so the bound holds for any text.
 */
export const inputTokensBound = (texts: ReadonlyArray<string>): number =>
  texts.reduce((n, t) => n + new TextEncoder().encode(t).length, 0) + PROMPT_OVERHEAD_TOKENS

/**
 * The most a call can cost on `model`: every input token at the dearest input price, and the
 * full `maxOutputTokens`. Reserved before the call is sent.
 */
export const worstCaseMicros = (inputBound: number, maxOutputTokens: number, model: ModelSpec): number =>
  Math.ceil(inputBound * Math.max(model.price.input, model.price.cacheWrite, model.price.cachedInput) + tokens(maxOutputTokens) * model.price.output)

/**
 * The providers a call may be sent to, in order: the capability's route, without models whose
 * context cannot hold the prompt and its output.
 */
export const routeFor = (capability: Capability, inputBound: number, maxOutputTokens: number): ReadonlyArray<ModelSpec> =>
  ROUTES[capability].map((p) => MODELS[p]).filter((m) => inputBound + maxOutputTokens <= m.contextTokens)

/**
 * What to reserve for a call: the sum of the worst cases of every model its route may try — each
 * attempt may be billed (an answer refused or ended in error, a timed-out one counted at its
 * worst case), so only the sum bounds what the call can cost.
 */
export const reservationMicros = (route: ReadonlyArray<ModelSpec>, inputBound: number, maxOutputTokens: number): number =>
  route.reduce((sum, m) => sum + worstCaseMicros(inputBound, maxOutputTokens, m), 0)

// --- failures --------------------------------------------------------------------------------

/**
 * How an attempt failed: `rate_limited` (429), `overloaded` (Anthropic's 529, a 503),
 * `server` (other 5xx), `timeout`, `context_length` (the prompt does not fit this model),
 * `refused` (a content-policy refusal), `invalid` (any other 4xx: our request is wrong).
 */
export type FailureKind = "rate_limited" | "overloaded" | "server" | "timeout" | "context_length" | "refused" | "invalid"

/** Whether the next provider is tried after this failure (the others are the caller's to see). */
export const fallsBack = (kind: FailureKind): boolean => kind !== "refused" && kind !== "invalid"

const CONTEXT_LENGTH = /context[ _-]?length|context window|too many tokens|prompt is too long|maximum context|input is too long|token limit|maximum number of tokens/i
const REFUSAL = /content[ _-]?policy|safety|refus|blocked|content_filter/i

/** Classifies a failed attempt from its HTTP status (null: no response, e.g. a timeout) and error text. */
export const classifyFailure = (status: number | null, message: string, timedOut: boolean): FailureKind => {
  if (timedOut || status === null) return "timeout"
  if (status === 429) return "rate_limited"
  if (status === 529 || status === 503) return "overloaded"
  if (status >= 500) return "server"
  if (CONTEXT_LENGTH.test(message)) return "context_length"
  if (REFUSAL.test(message)) return "refused"
  return "invalid"
}

// --- limits and the budget month -------------------------------------------------------------

export interface PlanLimits {
  /** Calls per sliding window. */
  readonly requestsPerWindow: number
  readonly windowSeconds: number
  /** The monthly budget, micro-dollars. */
  readonly monthlyBudgetMicros: number
}

export const DEFAULT_PLAN_LIMITS: { readonly [P in Plan]: PlanLimits } = {
  free: { requestsPerWindow: 20, windowSeconds: 60, monthlyBudgetMicros: 2_000_000 },
  pro: { requestsPerWindow: 120, windowSeconds: 60, monthlyBudgetMicros: 25_000_000 },
  enterprise: { requestsPerWindow: 600, windowSeconds: 60, monthlyBudgetMicros: 250_000_000 }
}

/** The budget month of `instant` in the shop's time zone: `2026-12`. */
export const budgetMonth = (instant: number, timeZone: string): string => new Date(wallClock(instant, timeZone)).toISOString().slice(0, 7)

/** The instant the month after `instant`'s begins, in the shop's time zone (when the budget resets). */
export const nextMonthStart = (instant: number, timeZone: string): number => {
  const local = new Date(wallClock(instant, timeZone))
  const midnight = Date.UTC(local.getUTCFullYear(), local.getUTCMonth() + 1, 1)
  // the local midnight as an instant: the offset at a guess, then at the answer (DST edges)
  const guess = midnight - offsetAt(midnight, timeZone)
  return midnight - offsetAt(guess, timeZone)
}

/** The alert thresholds, percent of the monthly budget. */
export const BUDGET_THRESHOLDS = [80, 100] as const
export type BudgetThreshold = typeof BUDGET_THRESHOLDS[number]

/** The cap's share, rounded up: the spend at which `threshold` is reached. */
export const thresholdMicros = (capMicros: number, threshold: BudgetThreshold): number => Math.ceil((capMicros * threshold) / 100)
