/**
 * The five providers through their official SDKs (the AI SDK: `ai` with `@ai-sdk/anthropic`,
 * `@ai-sdk/openai`, `@ai-sdk/google`, `@ai-sdk/mistral`, `@ai-sdk/cohere`), each at a configured
 * base URL — the real API, or the simulator (`src/simulator/ai`). One attempt per call: the SDK's
 * own retries are off (`maxRetries: 0`), because the gateway decides what happens after a
 * failure (the next provider), and a retry inside the SDK would spend outside the ledger.
 *
 * Usage is normalised to `TokenUsage`: the SDK reports `inputTokens` *including* cache reads and
 * writes, with the split in `inputTokenDetails`; the gateway prices each kind once.
 *
 * The SDK and each provider's package are loaded by the first call that needs them, not when
 * the server starts: together they are ~13 MB of heap (`ai` alone 8 MB) that a server without
 * AI traffic, or with one provider, would carry for nothing.
 */
import type { LanguageModel, LanguageModelUsage } from "ai"
import { Config, Context, Effect, Layer, Redacted } from "effect"
import { type ModelSpec, type Provider, PROVIDERS, type TokenUsage } from "../../domain/ai/policy.ts"

export interface ProviderCall {
  readonly system: string | undefined
  readonly prompt: string
  readonly maxOutputTokens: number
}

export interface ProviderAnswer {
  readonly text: string
  readonly usage: TokenUsage
}

/** A failed attempt: the HTTP status (null: no answer), the provider's message, and what it billed if it answered. */
export interface ProviderFailure {
  readonly status: number | null
  readonly message: string
  readonly timedOut: boolean
  readonly usage?: TokenUsage
}

export class ProviderClients extends Context.Service<ProviderClients, {
  readonly call: (model: ModelSpec, call: ProviderCall) => Effect.Effect<ProviderAnswer, ProviderFailure>
}>()("sumeru/ai/ProviderClients") {}

export interface ProviderEndpoint {
  readonly baseURL: string
  readonly apiKey: Redacted.Redacted<string>
}

const count = (n: number | undefined) => (n !== undefined && Number.isFinite(n) && n > 0 ? n : 0)

/** The SDK's usage as the gateway prices it: uncached input, cache reads, cache writes, output. */
export const normaliseUsage = (u: LanguageModelUsage): TokenUsage => {
  const cacheRead = count(u.inputTokenDetails?.cacheReadTokens)
  const cacheWrite = count(u.inputTokenDetails?.cacheWriteTokens)
  const noCache = u.inputTokenDetails?.noCacheTokens
  return {
    inputTokens: noCache !== undefined ? count(noCache) : Math.max(0, count(u.inputTokens) - cacheRead - cacheWrite),
    cachedInputTokens: cacheRead,
    cacheWriteTokens: cacheWrite,
    outputTokens: count(u.outputTokens)
  }
}

const languageModel = async (provider: Provider, endpoint: ProviderEndpoint, model: string): Promise<LanguageModel> => {
  const settings = { baseURL: endpoint.baseURL, apiKey: Redacted.value(endpoint.apiKey) }
  switch (provider) {
    case "anthropic":
      return (await import("@ai-sdk/anthropic")).createAnthropic(settings)(model)
    case "openai":
      // the Responses API, the SDK's default for OpenAI
      return (await import("@ai-sdk/openai")).createOpenAI(settings)(model)
    case "google":
      return (await import("@ai-sdk/google")).createGoogle(settings)(model)
    case "mistral":
      return (await import("@ai-sdk/mistral")).createMistral(settings)(model)
    case "cohere":
      return (await import("@ai-sdk/cohere")).createCohere(settings)(model)
  }
}

/** The SDK once a call has loaded it (a failure can only come from a call that did). */
let sdk: typeof import("ai") | undefined
const loadSdk = async () => (sdk ??= await import("ai"))

const failureOf = (error: unknown): ProviderFailure => {
  if (sdk?.APICallError.isInstance(error)) {
    // no status: the request never got an answer (refused, reset): not billed, unlike a timeout
    return { status: error.statusCode ?? null, message: error.message, timedOut: false }
  }
  const name = (error as { name?: unknown } | null)?.name
  if (name === "AbortError" || name === "TimeoutError") return { status: null, message: "timed out", timedOut: true }
  return { status: null, message: error instanceof Error ? error.message : String(error), timedOut: false }
}

export const make = (endpoints: { readonly [P in Provider]: ProviderEndpoint }) => {
  const models = new Map<string, Promise<LanguageModel>>()
  const modelOf = (spec: ModelSpec) => {
    const key = `${spec.provider}\u0000${spec.model}`
    let m = models.get(key)
    if (m === undefined) models.set(key, (m = languageModel(spec.provider, endpoints[spec.provider], spec.model)))
    return m
  }
  return ProviderClients.of({
    call: (spec, call) =>
      Effect.tryPromise({
        try: async (signal) => {
          const [{ generateText }, model] = await Promise.all([loadSdk(), modelOf(spec)])
          return generateText({
            model,
            ...(call.system === undefined || call.system === "" ? {} : { instructions: call.system }),
            prompt: call.prompt,
            maxOutputTokens: call.maxOutputTokens,
            maxRetries: 0,
            abortSignal: signal
          })
        },
        catch: failureOf
      }).pipe(
        Effect.flatMap((result) => {
          const usage = normaliseUsage(result.usage)
          // an answer withheld by the provider's content policy is a refusal, billed as used
          if (result.finishReason === "content-filter") {
            return Effect.fail<ProviderFailure>({ status: 200, message: `refused by ${spec.provider}'s content policy (content-filter)`, timedOut: false, usage })
          }
          if (result.finishReason === "error") return Effect.fail<ProviderFailure>({ status: 500, message: `${spec.provider} ended the answer with an error`, timedOut: false, usage })
          return Effect.succeed<ProviderAnswer>({ text: result.text, usage })
        })
      )
  })
}

export const layer = (endpoints: { readonly [P in Provider]: ProviderEndpoint }) => Layer.succeed(ProviderClients, make(endpoints))

/** The providers' real API hosts (the defaults of `AI_<PROVIDER>_BASE_URL`). */
export const DEFAULT_BASE_URLS: { readonly [P in Provider]: string } = {
  anthropic: "https://api.anthropic.com/v1",
  openai: "https://api.openai.com/v1",
  google: "https://generativelanguage.googleapis.com/v1beta",
  mistral: "https://api.mistral.ai/v1",
  cohere: "https://api.cohere.com/v2"
}

/** From `AI_<PROVIDER>_API_KEY` and `AI_<PROVIDER>_BASE_URL` (default: the provider's API). */
export const layerFromConfig = Layer.effect(
  ProviderClients,
  Effect.gen(function*() {
    const entries = yield* Effect.forEach(PROVIDERS, (p) =>
      Effect.gen(function*() {
        const name = p.toUpperCase()
        const apiKey = yield* Config.Redacted(`AI_${name}_API_KEY`).pipe(Config.withDefault(Redacted.make("")))
        const baseURL = yield* Config.String(`AI_${name}_BASE_URL`).pipe(Config.withDefault(DEFAULT_BASE_URLS[p]))
        return [p, { baseURL, apiKey }] as const
      }))
    return make(Object.fromEntries(entries) as { readonly [P in Provider]: ProviderEndpoint })
  })
)
