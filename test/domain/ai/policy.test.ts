import { describe, expect, it } from "vitest"
import {
  budgetMonth,
  classifyFailure,
  costMicros,
  fallsBack,
  inputTokensBound,
  MODELS,
  nextMonthStart,
  reservationMicros,
  routeFor,
  thresholdMicros,
  worstCaseMicros
} from "../../../domain/ai/policy.ts"

describe("the AI gateway's policy", () => {
  it("prices cached input apart: Claude's cache reads at a tenth, cache writes at 1.25×, output at five times input", () => {
    const claude = MODELS.anthropic.price
    // 10,000 uncached × $3 + 100,000 cached × $0.30 + 2,000 written × $3.75 + 1,000 out × $15 (per million) = 30,000 + 30,000 + 7,500 + 15,000 µ$
    expect(costMicros({ inputTokens: 10_000, cachedInputTokens: 100_000, cacheWriteTokens: 2_000, outputTokens: 1_000 }, claude)).toBe(82_500)
    // the same tokens uncached cost what they should: the discount is real, not double-counted
    expect(costMicros({ inputTokens: 112_000, cachedInputTokens: 0, cacheWriteTokens: 0, outputTokens: 1_000 }, claude)).toBe(351_000)
    // GPT-4.1 mini: cached input at a quarter; fractions of a micro-dollar round up once per call
    expect(costMicros({ inputTokens: 3, cachedInputTokens: 5, cacheWriteTokens: 0, outputTokens: 1 }, MODELS.openai.price)).toBe(Math.ceil(3 * 0.4 + 5 * 0.1 + 1.6))
    expect(costMicros({ inputTokens: -5, cachedInputTokens: Number.NaN, cacheWriteTokens: 0, outputTokens: 0 }, MODELS.openai.price)).toBe(0)
  })

  it("bounds a prompt's tokens by its UTF-8 bytes and reserves the dearest model of the route", () => {
    expect(inputTokensBound(["abc", "é"])).toBe(3 + 2 + 64)
    const bound = inputTokensBound(["x".repeat(4000)])
    const route = routeFor("text", bound, 500)
    expect(route.map((m) => m.provider)).toEqual(["anthropic", "openai", "google"])
    // every attempt of the route may be billed: the sum of their worst cases is reserved
    expect(reservationMicros(route, bound, 500)).toBe(route.reduce((s, m) => s + worstCaseMicros(bound, 500, m), 0))
    expect(worstCaseMicros(bound, 500, MODELS.anthropic)).toBe(Math.ceil(bound * 3.75 + 500 * 15))
    // any usage the provider can report for that prompt costs no more than the reservation
    const actual = costMicros({ inputTokens: 1000, cachedInputTokens: 0, cacheWriteTokens: 0, outputTokens: 500 }, MODELS.anthropic.price)
    expect(actual).toBeLessThanOrEqual(reservationMicros(route, bound, 500))
  })

  it("routes each capability to its provider first, and leaves out models the prompt does not fit", () => {
    expect(routeFor("multimodal", 100, 100)[0]!.provider).toBe("google")
    expect(routeFor("classification", 100, 100)[0]!.provider).toBe("cohere")
    expect(routeFor("budget", 100, 100)[0]!.provider).toBe("mistral")
    // 300,000 tokens fit Gemini and GPT-4.1 mini, not Claude's 200,000
    expect(routeFor("text", 300_000, 1_000).map((m) => m.provider)).toEqual(["openai", "google"])
    expect(routeFor("classification", 2_000_000, 1_000)).toEqual([])
  })

  it("falls back on 429, overload, 5xx, timeouts and context length; not on a refusal or a bad request", () => {
    const cases: Array<[number | null, string, boolean, string, boolean]> = [
      [429, "Rate limit reached", false, "rate_limited", true],
      [529, "Overloaded", false, "overloaded", true],
      [503, "The engine is currently overloaded", false, "overloaded", true],
      [500, "Internal server error", false, "server", true],
      [null, "timed out", true, "timeout", true],
      [null, "Cannot connect to API", false, "timeout", true],
      [400, "This model's maximum context length is 128000 tokens.", false, "context_length", true],
      [400, "prompt is too long: 208310 tokens > 200000 maximum", false, "context_length", true],
      [400, "The input token count (1200000) exceeds the maximum number of tokens allowed (1048576).", false, "context_length", true],
      [400, "Prompt contains 140000 tokens and 0 draft tokens, too large for model with 131072 maximum context length", false, "context_length", true],
      [400, "too many tokens: size limit exceeded by 11142 tokens.", false, "context_length", true],
      [200, "refused by anthropic's content policy (content-filter)", false, "refused", false],
      [401, "invalid x-api-key", false, "invalid", false]
    ]
    for (const [status, message, timedOut, kind, next] of cases) {
      expect(classifyFailure(status, message, timedOut), message).toBe(kind)
      expect(fallsBack(classifyFailure(status, message, timedOut)), message).toBe(next)
    }
  })

  it("keeps the budget month in the shop's time zone and resets it at the local midnight of the 1st", () => {
    const newYearsEveUtcNoon = Date.parse("2026-12-31T12:00:00Z")
    expect(budgetMonth(newYearsEveUtcNoon, "UTC")).toBe("2026-12")
    // Auckland is already in January (UTC+13 in summer)
    expect(budgetMonth(newYearsEveUtcNoon, "Pacific/Auckland")).toBe("2027-01")
    expect(budgetMonth(newYearsEveUtcNoon, "America/Los_Angeles")).toBe("2026-12")
    expect(new Date(nextMonthStart(Date.parse("2026-12-06T18:00:00Z"), "UTC")).toISOString()).toBe("2027-01-01T00:00:00.000Z")
    expect(new Date(nextMonthStart(Date.parse("2026-12-06T18:00:00Z"), "Pacific/Auckland")).toISOString()).toBe("2026-12-31T11:00:00.000Z")
    expect(new Date(nextMonthStart(Date.parse("2026-12-06T18:00:00Z"), "America/Los_Angeles")).toISOString()).toBe("2027-01-01T08:00:00.000Z")
    // across a DST change: Los Angeles in March (PST) resets at 08:00 UTC on April 1st (PDT: 07:00)
    expect(new Date(nextMonthStart(Date.parse("2026-03-20T12:00:00Z"), "America/Los_Angeles")).toISOString()).toBe("2026-04-01T07:00:00.000Z")
    expect(thresholdMicros(2_000_001, 80)).toBe(1_600_001)
  })
})
