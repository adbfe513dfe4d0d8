/**
 * The five AI providers' HTTP APIs on one loopback server, each under its own prefix (hand
 * `${url}/<provider>/…` to the SDK as its base URL), as their official SDKs call them:
 * - Anthropic Messages: `POST /anthropic/v1/messages` (`x-api-key`, `anthropic-version`);
 * - OpenAI Responses `POST /openai/v1/responses` and Chat Completions `POST /openai/v1/chat/completions`
 *   (`Authorization: Bearer`);
 * - Gemini `POST /google/v1beta/models/{model}:generateContent` (`x-goog-api-key`);
 * - Mistral chat completions `POST /mistral/v1/chat/completions`;
 * - Cohere Chat v2 `POST /cohere/v2/chat`.
 *
 * What the real APIs do that the gateway depends on:
 * - request validation: a missing or wrong key is 401, a request without a model, a prompt or
 *   (Anthropic) `max_tokens` is 400, an unknown model 404 — each in its vendor's error shape;
 * - token usage in each vendor's own fields (`domain`-level meaning differs: Anthropic's
 *   `input_tokens` excludes cached tokens, the others' include them), tokens counted as one per
 *   four UTF-8 bytes, rounded up;
 * - prompt caching: Anthropic caches a system block marked `cache_control` (written the first
 *   time, `cache_creation_input_tokens`; read after, `cache_read_input_tokens`); OpenAI, Gemini and
 *   Mistral cache a system prompt of at least 1,024 tokens automatically once seen; Cohere does not;
 * - a context window per model: a longer prompt is the vendor's context-length 400;
 * - output capped by the request's max tokens (finish reason `length`);
 * - deterministic answers (`respond`, else a reply derived from the prompt);
 * - failures on demand, each in its vendor's shape ({@link RunningAiSimulator.fail}): 429 with
 *   `retry-after`, overloaded (Anthropic's 529 `overloaded_error`, the others' 503), 500, a
 *   context-length 400, a content-policy refusal (an answer whose finish reason says so), and
 *   timeouts (the request hangs until the client gives up: `faults.hangNext`).
 */
import { type Context, Hono } from "hono"
import { DeterministicIds, FaultQueue, type HttpFaults, startSimulatorServer } from "../kit/index.ts"

export const AI_PROVIDERS = ["anthropic", "openai", "google", "mistral", "cohere"] as const
export type AiProvider = typeof AI_PROVIDERS[number]

/** The path prefix each provider is served under; its SDK's base URL is `${url}${prefix}`. */
export const AI_BASE_PATHS: { readonly [P in AiProvider]: string } = {
  anthropic: "/anthropic/v1",
  openai: "/openai/v1",
  google: "/google/v1beta",
  mistral: "/mistral/v1",
  cohere: "/cohere/v2"
}

/** The models each provider serves, with their context windows (tokens). */
export const SIMULATED_MODELS: { readonly [P in AiProvider]: Readonly<Record<string, number>> } = {
  anthropic: { "claude-sonnet-4-5": 200_000, "claude-haiku-4-5": 200_000 },
  openai: { "gpt-4.1-mini": 1_047_576, "gpt-4.1": 1_047_576 },
  google: { "gemini-2.5-flash": 1_048_576, "gemini-2.5-pro": 1_048_576 },
  mistral: { "mistral-small-latest": 128_000, "mistral-large-latest": 128_000 },
  cohere: { "command-r-08-2024": 128_000, "command-a-03-2025": 256_000 }
}

export type AiFaultKind = "rate_limited" | "overloaded" | "server" | "context_length" | "refusal" | "invalid"

export interface AiRequestSeen {
  readonly provider: AiProvider
  readonly model: string
  readonly system: string
  readonly prompt: string
  readonly maxTokens: number | null
}

export interface AiSimulatorOptions {
  /** The API key each provider expects (default `sim-<provider>-key`). */
  readonly apiKeys?: Partial<Record<AiProvider, string>>
  /** The answer to a request (default: a reply derived from the prompt). */
  readonly respond?: (request: AiRequestSeen) => string
  readonly seed?: string
}

export interface RunningAiSimulator {
  readonly url: string
  readonly faults: HttpFaults
  readonly log: Awaited<ReturnType<typeof startSimulatorServer>>["log"]
  /** `${url}${AI_BASE_PATHS[provider]}`: the SDK's base URL. */
  readonly baseUrl: (provider: AiProvider) => string
  readonly apiKey: (provider: AiProvider) => string
  /** The next `count` requests to `provider` fail as `kind` (a 429 says `retry-after: retryAfterSec`). */
  fail(provider: AiProvider, kind: AiFaultKind, options?: { readonly count?: number; readonly retryAfterSec?: number }): void
  /** The next `count` requests to `provider` hang until the client gives up. */
  hang(provider: AiProvider, count?: number): void
  /** Requests each provider answered (any status), in order. */
  readonly seen: Array<AiRequestSeen & { readonly status: number }>
  stop(): Promise<void>
}

/** Tokens as the simulator counts them: one per four UTF-8 bytes, rounded up. */
export const simulatedTokens = (text: string): number => Math.ceil(new TextEncoder().encode(text).length / 4)

const AUTO_CACHE_MIN_TOKENS = 1024

type Json = Record<string, unknown>

const str = (v: unknown): string => (typeof v === "string" ? v : "")
/** The text of a message's content: a string, or the text parts of an array. */
const textOf = (content: unknown): string =>
  typeof content === "string"
    ? content
    : Array.isArray(content)
    ? content.map((p) => str((p as Json)["text"])).join("")
    : ""

// --- each vendor's error shape ----------------------------------------------------------------

const ERROR_TEXT: Record<AiFaultKind | "auth" | "bad_request" | "not_found", string> = {
  rate_limited: "Rate limit reached: too many requests per minute",
  overloaded: "Overloaded",
  server: "Internal server error",
  context_length: "prompt is too long for this model's maximum context length",
  refusal: "",
  invalid: "Invalid request",
  auth: "Invalid API key",
  bad_request: "Invalid request",
  not_found: "model not found"
}

const errorBody = (provider: AiProvider, status: number, message: string, kind: string): Json => {
  switch (provider) {
    case "anthropic": {
      const type = status === 429 ? "rate_limit_error" : status === 529 ? "overloaded_error" : status === 401 ? "authentication_error" : status === 404 ? "not_found_error" : status >= 500 ? "api_error" : "invalid_request_error"
      return { type: "error", error: { type, message } }
    }
    case "openai":
      return { error: { message, type: status >= 500 ? "server_error" : status === 429 ? "tokens" : "invalid_request_error", param: null, code: kind === "context_length" ? "context_length_exceeded" : status === 429 ? "rate_limit_exceeded" : null } }
    case "google": {
      const s = status === 429 ? "RESOURCE_EXHAUSTED" : status === 503 ? "UNAVAILABLE" : status >= 500 ? "INTERNAL" : status === 401 ? "UNAUTHENTICATED" : status === 404 ? "NOT_FOUND" : "INVALID_ARGUMENT"
      return { error: { code: status, message, status: s } }
    }
    case "mistral":
      return { object: "error", message, type: status === 429 ? "rate_limited" : status >= 500 ? "internal_server_error" : "invalid_request_message_error", param: null, code: status === 429 ? "1300" : status >= 500 ? "3000" : "3051" }
    case "cohere":
      return { message }
  }
}

export const startAiSimulator = async (options: AiSimulatorOptions = {}): Promise<RunningAiSimulator> => {
  const ids = new DeterministicIds(options.seed === undefined ? {} : { seed: options.seed })
  const keys = Object.fromEntries(AI_PROVIDERS.map((p) => [p, options.apiKeys?.[p] ?? `sim-${p}-key`])) as Record<AiProvider, string>
  const faults = new FaultQueue<{ readonly kind: AiFaultKind; readonly retryAfterSec: number }, AiProvider>()
  const cached = new Map<AiProvider, Set<string>>(AI_PROVIDERS.map((p) => [p, new Set()]))
  const seen: Array<AiRequestSeen & { readonly status: number }> = []
  const respond = options.respond ?? ((r: AiRequestSeen) => `Simulated ${r.model} answer to: ${r.prompt.slice(0, 120)}`)

  interface Parsed {
    readonly model: string
    readonly system: string
    /** Anthropic: the system block asks to be cached. */
    readonly cacheControl: boolean
    readonly prompt: string
    readonly maxTokens: number | null
    readonly problems: ReadonlyArray<string>
  }

  type Answer = {
    readonly text: string
    readonly finish: "stop" | "length" | "refusal"
    readonly inputTokens: number
    readonly cachedTokens: number
    readonly cacheWriteTokens: number
    readonly outputTokens: number
  }

  /** Auth, validation, faults, context, caching and the answer, the same for every vendor. */
  const handle = (provider: AiProvider, key: string | undefined, p: Parsed): { readonly error: { readonly status: number; readonly body: Json; readonly headers?: Record<string, string> } } | { readonly answer: Answer } => {
    const fail = (status: number, kind: string, message: string, headers?: Record<string, string>) => {
      seen.push({ provider, model: p.model, system: p.system, prompt: p.prompt, maxTokens: p.maxTokens, status })
      return { error: { status, body: errorBody(provider, status, message, kind), ...(headers === undefined ? {} : { headers }) } }
    }
    if (key !== keys[provider]) return fail(401, "auth", ERROR_TEXT.auth)
    if (p.problems.length > 0) return fail(400, "bad_request", p.problems.join("; "))
    const window = SIMULATED_MODELS[provider][p.model]
    if (window === undefined) return fail(404, "not_found", `model ${p.model} not found`)
    const fault = faults.take(provider)
    if (fault !== undefined) {
      switch (fault.kind) {
        case "rate_limited":
          return fail(429, fault.kind, ERROR_TEXT.rate_limited, { "retry-after": String(fault.retryAfterSec) })
        case "overloaded":
          return fail(provider === "anthropic" ? 529 : 503, fault.kind, ERROR_TEXT.overloaded)
        case "server":
          return fail(500, fault.kind, ERROR_TEXT.server)
        case "context_length":
          return fail(400, fault.kind, ERROR_TEXT.context_length)
        case "invalid":
          return fail(400, fault.kind, ERROR_TEXT.invalid)
        case "refusal":
          break
      }
    }
    const systemTokens = simulatedTokens(p.system)
    const inputTokens = systemTokens + simulatedTokens(p.prompt)
    if (inputTokens > window) return fail(400, "context_length", `prompt is too long: ${inputTokens} tokens > ${window} maximum context length`)
    // caching: what this provider would read from (or write to) its prompt cache
    const cache = cached.get(provider)!
    const cacheable = provider === "anthropic" ? p.cacheControl && p.system.length > 0 : provider !== "cohere" && systemTokens >= AUTO_CACHE_MIN_TOKENS
    const hit = cacheable && cache.has(`${p.model}\u0000${p.system}`)
    if (cacheable) cache.add(`${p.model}\u0000${p.system}`)
    const cachedTokens = hit ? systemTokens : 0
    const cacheWriteTokens = provider === "anthropic" && cacheable && !hit ? systemTokens : 0
    seen.push({ provider, model: p.model, system: p.system, prompt: p.prompt, maxTokens: p.maxTokens, status: 200 })
    if (fault?.kind === "refusal") {
      return { answer: { text: "", finish: "refusal", inputTokens, cachedTokens, cacheWriteTokens, outputTokens: 0 } }
    }
    const full = respond({ provider, model: p.model, system: p.system, prompt: p.prompt, maxTokens: p.maxTokens })
    const limit = p.maxTokens ?? 4096
    const over = simulatedTokens(full) > limit
    const text = over ? new TextDecoder().decode(new TextEncoder().encode(full).slice(0, limit * 4)).replace(/\uFFFD+$/, "") : full
    return { answer: { text, finish: over ? "length" : "stop", inputTokens, cachedTokens, cacheWriteTokens, outputTokens: simulatedTokens(text) } }
  }

  const app = new Hono()
  const body = async (req: Request): Promise<Json> => {
    try {
      const parsed = await req.json()
      return typeof parsed === "object" && parsed !== null ? (parsed as Json) : {}
    } catch {
      return {}
    }
  }
  const needs = (problems: Array<string>, ok: boolean, problem: string) => {
    if (!ok) problems.push(problem)
  }
  const reply = (c: { json: (b: Json, s: number, h?: Record<string, string>) => Response }, out: ReturnType<typeof handle>, ok: (a: Answer) => Json) =>
    "error" in out ? c.json(out.error.body, out.error.status, out.error.headers) : c.json(ok(out.answer), 200)

  app.post("/anthropic/v1/messages", async (c) => {
    const b = await body(c.req.raw)
    const problems: Array<string> = []
    needs(problems, typeof b["model"] === "string", "model: Field required")
    needs(problems, typeof b["max_tokens"] === "number", "max_tokens: Field required")
    needs(problems, Array.isArray(b["messages"]) && (b["messages"] as Array<unknown>).length > 0, "messages: at least one message is required")
    needs(problems, c.req.header("anthropic-version") !== undefined, "anthropic-version: header is required")
    const system = Array.isArray(b["system"]) ? (b["system"] as Array<Json>) : []
    const out = handle("anthropic", c.req.header("x-api-key"), {
      model: str(b["model"]),
      system: typeof b["system"] === "string" ? b["system"] : system.map((s) => str(s["text"])).join(""),
      cacheControl: system.some((s) => s["cache_control"] !== undefined),
      prompt: (Array.isArray(b["messages"]) ? (b["messages"] as Array<Json>) : []).map((m) => textOf(m["content"])).join("\n"),
      maxTokens: typeof b["max_tokens"] === "number" ? b["max_tokens"] : null,
      problems
    })
    return reply(c, out, (a) => ({
      id: `msg_01${ids.string(22)}`, type: "message", role: "assistant", model: str(b["model"]),
      content: a.finish === "refusal" ? [] : [{ type: "text", text: a.text }],
      stop_reason: a.finish === "refusal" ? "refusal" : a.finish === "length" ? "max_tokens" : "end_turn", stop_sequence: null,
      // Anthropic's input_tokens leaves out what came from or went to the cache
      usage: { input_tokens: a.inputTokens - a.cachedTokens - a.cacheWriteTokens, output_tokens: a.outputTokens, cache_creation_input_tokens: a.cacheWriteTokens, cache_read_input_tokens: a.cachedTokens }
    }))
  })

  const bearer = (h: string | undefined) => (h?.startsWith("Bearer ") ? h.slice(7) : undefined)
  const chatMessages = (b: Json) => (Array.isArray(b["messages"]) ? (b["messages"] as Array<Json>) : [])
  const systemOf = (messages: ReadonlyArray<Json>) => messages.filter((m) => m["role"] === "system" || m["role"] === "developer").map((m) => textOf(m["content"])).join("")
  const userOf = (messages: ReadonlyArray<Json>) => messages.filter((m) => m["role"] !== "system" && m["role"] !== "developer").map((m) => textOf(m["content"])).join("\n")

  app.post("/openai/v1/responses", async (c) => {
    const b = await body(c.req.raw)
    const input = Array.isArray(b["input"]) ? (b["input"] as Array<Json>) : typeof b["input"] === "string" ? [{ role: "user", content: b["input"] }] : []
    const problems: Array<string> = []
    needs(problems, typeof b["model"] === "string", "Missing required parameter: 'model'.")
    needs(problems, input.length > 0, "Missing required parameter: 'input'.")
    const out = handle("openai", bearer(c.req.header("authorization")), {
      model: str(b["model"]), system: systemOf(input), cacheControl: false, prompt: userOf(input),
      maxTokens: typeof b["max_output_tokens"] === "number" ? b["max_output_tokens"] : null, problems
    })
    return reply(c, out, (a) => ({
      id: `resp_${ids.hex(24)}`, object: "response", created_at: Math.floor(Date.now() / 1000), status: a.finish === "stop" ? "completed" : "incomplete", model: str(b["model"]),
      output: a.finish === "refusal" ? [] : [{ type: "message", id: `msg_${ids.hex(24)}`, status: "completed", role: "assistant", content: [{ type: "output_text", text: a.text, annotations: [] }] }],
      incomplete_details: a.finish === "stop" ? null : { reason: a.finish === "length" ? "max_output_tokens" : "content_filter" },
      usage: { input_tokens: a.inputTokens, input_tokens_details: { cached_tokens: a.cachedTokens }, output_tokens: a.outputTokens, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: a.inputTokens + a.outputTokens }
    }))
  })

  const chatCompletion = (provider: "openai" | "mistral") => async (c: Context) => {
    const b = await body(c.req.raw)
    const messages = chatMessages(b)
    const problems: Array<string> = []
    needs(problems, typeof b["model"] === "string", "Missing required parameter: 'model'.")
    needs(problems, messages.length > 0, "Missing required parameter: 'messages'.")
    const maxTokens = typeof b["max_tokens"] === "number" ? b["max_tokens"] : typeof b["max_completion_tokens"] === "number" ? b["max_completion_tokens"] : null
    const out = handle(provider, bearer(c.req.header("authorization")), { model: str(b["model"]), system: systemOf(messages), cacheControl: false, prompt: userOf(messages), maxTokens, problems })
    return reply(c, out, (a) => ({
      id: provider === "openai" ? `chatcmpl-${ids.string(24)}` : `cmpl-${ids.hex(16)}`, object: "chat.completion", created: Math.floor(Date.now() / 1000), model: str(b["model"]),
      choices: [{
        index: 0,
        message: { role: "assistant", content: a.finish === "refusal" ? null : a.text, ...(provider === "openai" ? { refusal: a.finish === "refusal" ? "I can't help with that." : null, annotations: [] } : { tool_calls: null }) },
        ...(provider === "openai" ? { logprobs: null } : {}),
        finish_reason: a.finish === "refusal" ? "content_filter" : a.finish
      }],
      usage: { prompt_tokens: a.inputTokens, completion_tokens: a.outputTokens, total_tokens: a.inputTokens + a.outputTokens, prompt_tokens_details: { cached_tokens: a.cachedTokens } }
    }))
  }
  app.post("/openai/v1/chat/completions", chatCompletion("openai"))
  app.post("/mistral/v1/chat/completions", chatCompletion("mistral"))

  app.post("/google/v1beta/models/:action", async (c) => {
    const action = c.req.param("action")
    if (!action.endsWith(":generateContent")) return c.json(errorBody("google", 404, `method ${action} not found`, "not_found"), 404)
    const b = await body(c.req.raw)
    const contents = Array.isArray(b["contents"]) ? (b["contents"] as Array<Json>) : []
    const problems: Array<string> = []
    needs(problems, contents.length > 0, "* GenerateContentRequest.contents: contents is not specified")
    const parts = (x: unknown) => (Array.isArray((x as Json | undefined)?.["parts"]) ? ((x as Json)["parts"] as Array<Json>) : [])
    const config = (b["generationConfig"] ?? {}) as Json
    const out = handle("google", c.req.header("x-goog-api-key"), {
      model: action.slice(0, -":generateContent".length),
      system: parts(b["systemInstruction"]).map((p) => str(p["text"])).join(""),
      cacheControl: false,
      prompt: contents.map((m) => parts(m).map((p) => str(p["text"])).join("")).join("\n"),
      maxTokens: typeof config["maxOutputTokens"] === "number" ? config["maxOutputTokens"] : null,
      problems
    })
    return reply(c, out, (a) => ({
      candidates: [{ content: { parts: a.finish === "refusal" ? [] : [{ text: a.text }], role: "model" }, finishReason: a.finish === "refusal" ? "SAFETY" : a.finish === "length" ? "MAX_TOKENS" : "STOP", index: 0 }],
      usageMetadata: { promptTokenCount: a.inputTokens, candidatesTokenCount: a.outputTokens, totalTokenCount: a.inputTokens + a.outputTokens, ...(a.cachedTokens > 0 ? { cachedContentTokenCount: a.cachedTokens } : {}) },
      modelVersion: action.slice(0, -":generateContent".length), responseId: ids.string(16)
    }))
  })

  app.post("/cohere/v2/chat", async (c) => {
    const b = await body(c.req.raw)
    const messages = chatMessages(b)
    const problems: Array<string> = []
    needs(problems, typeof b["model"] === "string", "model is required")
    needs(problems, messages.length > 0, "messages is required")
    const out = handle("cohere", bearer(c.req.header("authorization")), {
      model: str(b["model"]), system: systemOf(messages), cacheControl: false, prompt: userOf(messages),
      maxTokens: typeof b["max_tokens"] === "number" ? b["max_tokens"] : null, problems
    })
    const id = ids.uuid()
    return reply(c, out, (a) => ({
      id, generation_id: id,
      message: { role: "assistant", content: a.finish === "refusal" ? [] : [{ type: "text", text: a.text }] },
      finish_reason: a.finish === "refusal" ? "ERROR" : a.finish === "length" ? "MAX_TOKENS" : "COMPLETE",
      usage: { billed_units: { input_tokens: a.inputTokens, output_tokens: a.outputTokens }, tokens: { input_tokens: a.inputTokens, output_tokens: a.outputTokens } }
    }))
  })

  const server = await startSimulatorServer({ fetch: app.fetch })
  return {
    url: server.url,
    faults: server.faults,
    log: server.log,
    baseUrl: (provider) => `${server.url}${AI_BASE_PATHS[provider]}`,
    apiKey: (provider) => keys[provider],
    fail: (provider, kind, o = {}) => {
      faults.add({ kind, retryAfterSec: o.retryAfterSec ?? 7 }, { count: o.count ?? 1, match: (p) => p === provider })
    },
    hang: (provider, count = 1) => {
      server.faults.hangNext({ count, match: { path: new RegExp(`^/${provider}/`) } })
    },
    seen,
    stop: () => server.stop()
  }
}
