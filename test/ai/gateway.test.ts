/**
 * The AI gateway end to end (issue 14 §1, §2, §5) on PostgreSQL 15: the live gateway calls the
 * five providers through their official SDKs, pointed at the AI simulator; the ledger is the
 * shared PostgreSQL one; usage reports and budget alerts go through the shop's actor to
 * `ai-<shop>`.
 */
import { createServer } from "node:http"
import type { AddressInfo } from "node:net"
import { Effect, Result, Stream } from "effect"
import { Webhook } from "standardwebhooks"
import { SqlClient } from "effect/sql"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import type { AiCallCompleted } from "../../domain/ai/events.ts"
import { costMicros, inputTokensBound, MODELS, worstCaseMicros } from "../../domain/ai/policy.ts"
import { AiGateway, type GenerateRequest } from "../../src/ai/AiGateway.ts"
import { EventStore } from "../../src/eventstore/EventStore.ts"
import { type RunningAiSimulator, simulatedTokens, startAiSimulator } from "../../src/simulator/ai/index.ts"
import { cliEnv, runCli } from "../cli/support.ts"
import { type AdminApi, sessionFor, startAdminApi } from "../support/adminApi.ts"
import { type GatewayOptions, gatewayLayer } from "./support.ts"

const SHOP = "ai.myshopify.com"
let api: AdminApi
let sim: RunningAiSimulator

/** A subscriber's endpoint: the budget alerts delivered to it. */
const deliveries: Array<{ readonly headers: Record<string, string>; readonly body: string }> = []
const receiver = createServer((req, res) => {
  let body = ""
  req.on("data", (c) => (body += c))
  req.on("end", () => {
    deliveries.push({ headers: Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)])), body })
    res.writeHead(204).end()
  })
})

beforeAll(async () => {
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve))
  // a "verbose" prompt gets an answer longer than any limit: it is cut at the call's max tokens
  sim = await startAiSimulator({ seed: "gateway", respond: (r) => (r.prompt.startsWith("verbose") ? "word ".repeat(2_000) : `Simulated ${r.model} answer to: ${r.prompt.slice(0, 120)}`) })
  api = await startAdminApi({
    knownShops: [SHOP, "ai-limits.myshopify.com", "ai-budget.myshopify.com"],
    automationActors: true,
    outboundAllowed: `127.0.0.1:${(receiver.address() as AddressInfo).port}`
  })
})

afterAll(async () => {
  await api?.close()
  await sim?.stop()
  receiver.close()
})

const generate = (request: Partial<GenerateRequest> & { readonly shop?: string }, options: GatewayOptions = {}) =>
  api.run(
    Effect.result(AiGateway.use((g) => g.generate({ shop: SHOP, purpose: "test", prompt: "Write one line about wool hats.", maxOutputTokens: 200, ...request }))).pipe(
      Effect.provide(gatewayLayer(sim, options))
    )
  )

const usageRows = async (shop: string, n: number): Promise<ReadonlyArray<AiCallCompleted>> => {
  await api.awaitEvents([`ai-${shop}`], (events) => events.filter((e) => e.type === "ai.call_completed").length >= n)
  return api.run(Effect.map(Effect.flatMap(EventStore, (s) => Stream.runCollect(s.readStream(`ai-${shop}`))), (events) =>
    [...events].filter((e) => e.type === "ai.call_completed").map((e) => e.data as AiCallCompleted)))
}

describe("the AI gateway", () => {
  it("routes each capability to its provider through the official SDKs: Claude, Gemini, Cohere, Mistral — each answer priced from its usage", async () => {
    const cases = [["text", "anthropic"], ["multimodal", "google"], ["classification", "cohere"], ["budget", "mistral"]] as const
    for (const [capability, provider] of cases) {
      const out = await generate({ capability, system: "You write product copy.", prompt: `A ${capability} request.` })
      expect(Result.isSuccess(out), JSON.stringify(out)).toBe(true)
      const r = Result.getOrThrow(out)
      expect([r.provider, r.model]).toEqual([provider, MODELS[provider].model])
      expect(r.text).toBe(`Simulated ${MODELS[provider].model} answer to: A ${capability} request.`)
      const input = simulatedTokens("You write product copy.") + simulatedTokens(`A ${capability} request.`)
      expect(r.usage).toEqual({ inputTokens: input, cachedInputTokens: 0, cacheWriteTokens: 0, outputTokens: simulatedTokens(r.text) })
      expect(r.costMicros).toBe(costMicros(r.usage, MODELS[provider].price))
    }
    // the requests as each vendor's API takes them
    const byProvider = Object.fromEntries(sim.seen.map((s) => [s.provider, s]))
    expect(byProvider["anthropic"]).toMatchObject({ system: "You write product copy.", prompt: "A text request.", maxTokens: 200, status: 200 })
    expect(byProvider["google"]).toMatchObject({ system: "You write product copy.", maxTokens: 200 })
    const rows = await usageRows(SHOP, 4)
    expect(rows.map((r) => [r.outcome, r.provider, r.attempts.length])).toEqual([["ok", "anthropic", 1], ["ok", "google", 1], ["ok", "cohere", 1], ["ok", "mistral", 1]])
    const r0 = rows[0]!
    expect(r0.estimatedMicros).toBeGreaterThanOrEqual(r0.settledMicros)
  })

  it("falls back on a 429, an overload, a 5xx, a timeout and a context-length error, each attempt recorded; OpenAI's Responses API answers", async () => {
    const failures = [["rate_limited", 429], ["overloaded", 529], ["server", 500], ["context_length", 400]] as const
    for (const [kind, status] of failures) {
      sim.fail("anthropic", kind)
      const r = Result.getOrThrow(await generate({ purpose: `fallback-${kind}` }))
      expect(r.provider, kind).toBe("openai")
      expect(r.attempts.map((a) => [a.provider, a.outcome, a.status])).toEqual([["anthropic", kind, status], ["openai", "ok", 200]])
    }
    // a provider that does not answer in time: the attempt times out and the next one answers
    sim.hang("anthropic")
    const slow = Result.getOrThrow(await generate({ purpose: "fallback-timeout" }, { attemptTimeout: "300 millis" }))
    expect(slow.attempts.map((a) => [a.provider, a.outcome, a.status])).toEqual([["anthropic", "timeout", null], ["openai", "ok", 200]])
    // two down: the third of the route answers
    sim.fail("anthropic", "server")
    sim.fail("openai", "rate_limited")
    const third = Result.getOrThrow(await generate({ purpose: "fallback-twice" }))
    expect(third.attempts.map((a) => [a.provider, a.outcome])).toEqual([["anthropic", "server"], ["openai", "rate_limited"], ["google", "ok"]])
    const rows = await usageRows(SHOP, 4 + 6)
    // the attempt that timed out may have been billed: it counts at its worst case, next to the answer's cost
    const timedOut = rows.find((r) => r.purpose === "fallback-timeout")!
    const bound = inputTokensBound(["", "Write one line about wool hats."])
    expect(slow.costMicros).toBe(worstCaseMicros(bound, 200, MODELS.anthropic) + costMicros(slow.usage, MODELS.openai.price))
    expect(timedOut.settledMicros).toBe(slow.costMicros)
    const row = rows.find((r) => r.purpose === "fallback-twice")!
    expect(row).toMatchObject({ outcome: "ok", provider: "google", model: "gemini-2.5-flash" })
    expect(row.attempts.map((a) => a.outcome)).toEqual(["server", "rate_limited", "ok"])
  })

  it("does not fall back after a refusal or a bad request; when every provider fails, the call fails with its attempts and costs nothing", async () => {
    sim.fail("anthropic", "refusal")
    const refused = await generate({ purpose: "refused" })
    expect(Result.isFailure(refused)).toBe(true)
    const err = Result.isFailure(refused) ? refused.failure : undefined
    expect(err?._tag).toBe("AiCallFailed")
    expect((err as { attempts: ReadonlyArray<{ outcome: string }> }).attempts.map((a) => a.outcome)).toEqual(["refused"])
    sim.fail("anthropic", "invalid")
    const invalid = await generate({ purpose: "invalid" })
    expect(Result.isFailure(invalid) && (invalid.failure as { attempts: ReadonlyArray<{ outcome: string }> }).attempts.map((a) => a.outcome)).toEqual(["invalid"])
    sim.fail("anthropic", "overloaded")
    sim.fail("openai", "overloaded")
    sim.fail("google", "overloaded")
    const down = await generate({ purpose: "all-down" })
    expect(Result.isFailure(down) && (down.failure as { attempts: ReadonlyArray<{ outcome: string; status: number }> }).attempts.map((a) => [a.outcome, a.status])).toEqual([
      ["overloaded", 529], ["overloaded", 503], ["overloaded", 503]
    ])
    const rows = await usageRows(SHOP, 13)
    const byPurpose = Object.fromEntries(rows.map((r) => [r.purpose, r]))
    expect(byPurpose["all-down"]).toMatchObject({ outcome: "failed", provider: null, settledMicros: 0 })
    // the refused answer was generated: its input tokens are billed, as the provider bills them
    const refusedRow = byPurpose["refused"]!
    expect(refusedRow.outcome).toBe("failed")
    expect(refusedRow.settledMicros).toBe(costMicros({ inputTokens: simulatedTokens("Write one line about wool hats."), cachedInputTokens: 0, cacheWriteTokens: 0, outputTokens: 0 }, MODELS.anthropic.price))
  })

  it("prices cached input tokens apart: the second call with the same long system prompt reads it from Gemini's cache and costs less", async () => {
    const system = "You are the shop's copywriter. ".repeat(200) // 6,200 bytes: 1,550 tokens, over the 1,024 that are cached
    const first = Result.getOrThrow(await generate({ capability: "multimodal", system, prompt: "Describe the red scarf.", purpose: "cache-1" }))
    const second = Result.getOrThrow(await generate({ capability: "multimodal", system, prompt: "Describe the red scarf.", purpose: "cache-2" }))
    const systemTokens = simulatedTokens(system)
    const promptTokens = simulatedTokens("Describe the red scarf.")
    expect(first.usage).toMatchObject({ inputTokens: systemTokens + promptTokens, cachedInputTokens: 0 })
    expect(second.usage).toMatchObject({ inputTokens: promptTokens, cachedInputTokens: systemTokens })
    const price = MODELS.google.price
    expect(second.costMicros).toBe(Math.ceil(promptTokens * price.input + systemTokens * price.cachedInput + second.usage.outputTokens * price.output))
    expect(second.costMicros).toBeLessThan(first.costMicros)
    // the ledger settled exactly what the usage log says
    const rows = await usageRows(SHOP, 15)
    const settled = await api.run(Effect.flatMap(SqlClient.SqlClient, (sql) => sql<{ settled: string; reserved: string }>`SELECT settled_micros AS settled, reserved_micros AS reserved FROM ai_budgets WHERE shop = ${SHOP}`))
    expect(Number(settled[0]!.settled)).toBe(rows.reduce((s, r) => s + r.settledMicros, 0))
    expect(Number(settled[0]!.reserved)).toBe(0)
  })
})

describe("the usage log", () => {
  it("GET /app/ai/usage and sumeru ai usage: totals, per model and purpose, every call with its attempts, and the budget month", async () => {
    const rows = await usageRows(SHOP, 15)
    await api.awaitProjections()
    const server = await api.serveAdmin()
    await api.setMember(SHOP, "analyst-1", "analyst")
    await api.setMember(SHOP, "viewer-1", "viewer")
    const res = await api.call(server, "GET", "/app/ai/usage?limit=5", sessionFor(SHOP, "analyst-1"))
    expect(res.status, res.text).toBe(200)
    const settled = rows.reduce((s, r) => s + r.settledMicros, 0)
    expect(res.json.totals).toMatchObject({ calls: rows.length, ok: rows.filter((r) => r.outcome === "ok").length, failed: 3, settled_micros: settled })
    expect(res.json.by_model.map((g: { key: string }) => g.key).sort()).toEqual([
      "anthropic claude-sonnet-4-5", "cohere command-r-08-2024", "google gemini-2.5-flash", "mistral mistral-small-latest", "openai gpt-4.1-mini"
    ])
    expect(res.json.by_purpose.find((g: { key: string }) => g.key === "fallback-twice")).toMatchObject({ calls: 1, ok: 1 })
    expect(res.json.calls).toHaveLength(5)
    expect([res.json.total, res.json.pages]).toEqual([rows.length, Math.ceil(rows.length / 5)])
    const newest = rows.reduce((a, b) => (a.startedAt > b.startedAt ? a : b))
    expect(res.json.calls[0]).toMatchObject({ call_id: newest.callId, purpose: newest.purpose, settled_micros: newest.settledMicros })
    expect(res.json.budget[0]).toMatchObject({ month: new Date().toISOString().slice(0, 7), settled_micros: settled, reserved_micros: 0, cap_micros: 2_000_000 })
    expect((await api.call(server, "GET", "/app/ai/usage", sessionFor(SHOP, "viewer-1"))).status).toBe(403)
    expect((await api.call(server, "GET", "/app/ai/usage?from=2026-13-01", sessionFor(SHOP, "analyst-1"))).status).toBe(400)

    const table = await runCli(["ai", "usage", "--shop", SHOP], cliEnv({ url: api.databaseUrl }))
    expect(table.code, table.stderr).toBe(0)
    expect(table.stdout).toContain(`AI usage of ${SHOP}`)
    expect(table.stdout).toMatch(/anthropic claude-sonnet-4-5\s+\d+/)
    const csv = await runCli(["ai", "usage", "--shop", SHOP, "--format", "csv"], cliEnv({ url: api.databaseUrl }))
    const lines = csv.stdout.trim().split("\n")
    expect(lines[0]).toBe("call_id,started_at,month,purpose,capability,outcome,provider,model,input_tokens,cached_input_tokens,cache_write_tokens,output_tokens,estimated_micros,settled_micros,latency_ms,attempts")
    expect(lines).toHaveLength(rows.length + 1)
    const budget = await runCli(["ai", "budget", "--shop", SHOP], cliEnv({ url: api.databaseUrl }))
    expect(budget.stdout).toContain(new Date().toISOString().slice(0, 7))
  })

  it("usage reports: a shop's rows go to its actor in one message by the shop's own deadline, at once when they fill a message, and the rest when the gateway stops", async () => {
    const busy = "ai-report-busy.myshopify.com"
    const quiet = "ai-report-quiet.myshopify.com"
    const timed = "ai-report-timed.myshopify.com"
    const limits = { requestsPerWindow: 1_000, windowSeconds: 60, monthlyBudgetMicros: 100_000_000 }
    const reportsOf = async (shop: string, n: number) => {
      await api.awaitEvents([`ai-${shop}`], (events) => events.filter((e) => e.type === "ai.call_completed").length >= n)
      const events = await api.run(Effect.map(Effect.flatMap(EventStore, (s) => Stream.runCollect(s.readStream(`ai-${shop}`))), (all) => [...all]))
      // the messages that carried the rows, with how many rows each
      const perMessage = new Map<string | null, number>()
      for (const e of events) if (e.type === "ai.call_completed") perMessage.set(e.causationId, (perMessage.get(e.causationId) ?? 0) + 1)
      return [...perMessage.values()]
    }
    const call = (shop: string) => AiGateway.use((g) => g.generate({ shop, purpose: "report", prompt: "One line.", maxOutputTokens: 20 }))
    // one gateway for the whole scenario; its deadline is far away: nothing leaves by the clock
    await api.run(Effect.scoped(Effect.gen(function*() {
      yield* Effect.forEach(Array.from({ length: 2 }), () => call(quiet), { discard: true })
      yield* Effect.forEach(Array.from({ length: 100 }), () => call(busy), { concurrency: 10, discard: true })
      // a full message (100 rows) leaves at once, long before its deadline
      expect(yield* Effect.promise(() => reportsOf(busy, 100))).toEqual([100])
      // the quiet shop's rows are still waiting for their deadline: none of them is recorded yet
      const quietNow = yield* Effect.map(Effect.flatMap(EventStore, (s) => Stream.runCollect(s.readStream(`ai-${quiet}`))), (all) => [...all].length)
      expect(quietNow).toBe(0)
    })).pipe(Effect.provide(gatewayLayer(sim, { limits, reportInterval: "1 hour" }))))
    // the gateway stopped: what it held went to the actor, the quiet shop's two rows in one message
    expect(await reportsOf(quiet, 2)).toEqual([2])
    // by the deadline: three calls in a row, reported together while the gateway still runs
    await api.run(Effect.scoped(Effect.gen(function*() {
      for (let i = 0; i < 3; i++) yield* call(timed)
      expect(yield* Effect.promise(() => reportsOf(timed, 3))).toEqual([3])
    })).pipe(Effect.provide(gatewayLayer(sim, { limits, reportInterval: "3 seconds" }))))
  })
})

describe("the alerts' outbox", () => {
  it("an alert a gateway raised but died before sending is sent by the next gateway, once", async () => {
    const shop = "ai-outbox.myshopify.com"
    await api.run(Effect.flatMap(SqlClient.SqlClient, (sql) => sql`
      INSERT INTO ai_alerts (shop, month, threshold, cap_micros, spent_micros, reason, raised_at)
      VALUES (${shop}, '2026-11', 80, 2000000, 1700000, 'settled', now() - interval '1 minute')`))
    // any gateway sends what it finds unsent (here: when its scope ends, after one call)
    await generate({ shop, purpose: "wakes-the-outbox" }, { limits: { requestsPerWindow: 100, windowSeconds: 60, monthlyBudgetMicros: 100_000_000 } })
    await api.awaitEvents([`ai-${shop}`], (events) => events.some((e) => e.type === "ai.budget_threshold_reached"))
    const alerts = await api.run(Effect.map(Effect.flatMap(EventStore, (st) => Stream.runCollect(st.readStream(`ai-${shop}`))), (events) =>
      [...events].filter((e) => e.type === "ai.budget_threshold_reached").map((e) => e.data)))
    expect(alerts).toEqual([{ month: "2026-11", threshold: 80, capMicros: 2_000_000, spentMicros: 1_700_000, reason: "settled" }])
    const sent = await api.run(Effect.flatMap(SqlClient.SqlClient, (sql) => sql<{ sent: boolean }>`SELECT sent_at IS NOT NULL AS sent FROM ai_alerts WHERE shop = ${shop}`))
    expect(sent).toEqual([{ sent: true }])
  })
})

describe("the shop's limits", () => {
  const LIMITS = "ai-limits.myshopify.com"
  const BUDGET = "ai-budget.myshopify.com"

  it("a sliding window: the fourth call in a minute is RATE_LIMIT with the seconds until a slot frees; on a moved clock the window slides", async () => {
    const clock = { now: () => at }
    let at = Date.parse("2026-12-06T10:00:00Z")
    const options: GatewayOptions = { clock, limits: { requestsPerWindow: 3, windowSeconds: 60, monthlyBudgetMicros: 100_000_000 } }
    for (let i = 0; i < 3; i++) {
      at += 1_000
      expect(Result.isSuccess(await generate({ shop: LIMITS, purpose: `call-${i}` }, options))).toBe(true)
    }
    at += 1_000
    const limited = await generate({ shop: LIMITS, purpose: "over" }, options)
    expect(Result.isFailure(limited) && limited.failure).toMatchObject({ _tag: "AiLimitError", code: "RATE_LIMIT", retryAfterSec: 57 })
    // 30 s later the first call is still in the window
    at += 30_000
    expect(Result.isFailure(await generate({ shop: LIMITS }, options))).toBe(true)
    // once it has left, one slot frees
    at += 27_000
    expect(Result.isSuccess(await generate({ shop: LIMITS, purpose: "after" }, options))).toBe(true)
    expect(Result.isFailure(await generate({ shop: LIMITS }, options))).toBe(true)
    const rows = await usageRows(LIMITS, 7)
    expect(rows.map((r) => r.outcome)).toEqual(["ok", "ok", "ok", "rate_limited", "rate_limited", "ok", "rate_limited"])
    expect(rows[3]!.retryAfterSec).toBe(57)
  })

  it("a monthly budget: refused before it is exceeded, BUDGET_EXCEEDED until the next month in the shop's zone; 80 % and 100 % alerted once a month", async () => {
    // the shop's webhook subscriber of the budget alerts
    const server = await api.serveAdmin()
    await api.setMember(BUDGET, "owner-1", "owner")
    const sub = await api.call(server, "POST", "/app/webhook-subscriptions", sessionFor(BUDGET, "owner-1"), {
      url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/budget`, events: ["ai.budget_threshold_reached"]
    })
    expect(sub.status, sub.text).toBe(201)
    let at = Date.parse("2026-12-06T10:00:00Z")
    const clock = { now: () => at }
    // each call reserves the worst cases of its route — Claude ⌈(14 + 64) × $3.75 + 40 × $15⌉ = 893,
    // GPT 96 and Gemini 124: 1,113 µ$ — and, its answer cut at 40 tokens, costs 4 × $3 + 40 × $15
    // = 612 µ$: 80 % of 12,000 is spent by the 16th call; after the 18th (11,016) no worst case
    // fits, and the 19th is refused
    const options: GatewayOptions = { clock, limits: { requestsPerWindow: 1000, windowSeconds: 60, monthlyBudgetMicros: 12_000 } }
    const spend = { shop: BUDGET, prompt: "verbose: spend", maxOutputTokens: 40 }
    const outcomes: Array<string> = []
    for (let i = 0; i < 22; i++) {
      at += 1_000
      const out = await generate({ ...spend, purpose: `spend-${i}` }, options)
      outcomes.push(Result.isSuccess(out) ? "ok" : (out.failure as { code?: string }).code ?? out.failure._tag)
      if (Result.isSuccess(out)) expect(out.success.costMicros).toBe(612)
      if (Result.isFailure(out) && "budget" in out.failure && out.failure.budget !== undefined) {
        const b = out.failure.budget
        expect(b).toEqual({ capMicros: 12_000, spentMicros: 11_016, committedMicros: 11_016, worstMicros: 1_113 })
        expect(out.failure.retryAfterSec).toBe(Math.ceil((Date.parse("2027-01-01T00:00:00Z") - at) / 1000))
      }
    }
    expect(outcomes).toEqual([...Array(18).fill("ok"), ...Array(4).fill("BUDGET_EXCEEDED")])
    const ledger = await api.run(Effect.flatMap(SqlClient.SqlClient, (sql) => sql<{ month: string; cap: string; settled: string }>`SELECT month, cap_micros AS cap, settled_micros AS settled FROM ai_budgets WHERE shop = ${BUDGET}`))
    expect(Number(ledger[0]!.settled)).toBeLessThanOrEqual(12_000)

    const alerts = async (n: number) => {
      await api.awaitEvents([`ai-${BUDGET}`], (events) => events.filter((e) => e.type === "ai.budget_threshold_reached").length >= n)
      return api.run(Effect.map(Effect.flatMap(EventStore, (s) => Stream.runCollect(s.readStream(`ai-${BUDGET}`))), (events) =>
        [...events].filter((e) => e.type === "ai.budget_threshold_reached").map((e) => e.data as { month: string; threshold: number; reason: string })))
    }
    const december = await alerts(2)
    expect(december.map((a) => [a.month, a.threshold, a.reason])).toEqual([["2026-12", 80, "settled"], ["2026-12", 100, "refused"]])
    // delivered to the subscriber, signed (Standard Webhooks), once each
    await api.awaitEvents([`ai-${BUDGET}`], () => deliveries.length >= 2)
    const verifier = new Webhook(sub.json.secret)
    const bodies = deliveries.map((d) => verifier.verify(d.body, d.headers) as { event: string; month: string; threshold: number; capMicros: number; spentMicros: number })
    expect(bodies.map((b) => [b.event, b.month, b.threshold, b.capMicros]).sort()).toEqual([
      ["ai.budget_threshold_reached", "2026-12", 100, 12_000],
      ["ai.budget_threshold_reached", "2026-12", 80, 12_000]
    ])

    // January: a new month, a new budget — the same spend alerts again, once
    at = Date.parse("2027-01-01T00:00:05Z")
    for (let i = 0; i < 22; i++) {
      at += 1_000
      await generate({ ...spend, purpose: `january-${i}` }, options)
    }
    const both = await alerts(4)
    expect(both.map((a) => `${a.month} ${a.threshold}`).sort()).toEqual(["2026-12 100", "2026-12 80", "2027-01 100", "2027-01 80"])
    const months = await api.run(Effect.flatMap(SqlClient.SqlClient, (sql) => sql<{ n: number }>`SELECT count(*)::int AS n FROM ai_budgets WHERE shop = ${BUDGET}`))
    expect(months[0]!.n).toBe(2)
    // the alerts' outbox: all four raised, all sent
    const outbox = await api.run(Effect.flatMap(SqlClient.SqlClient, (sql) => sql<{ threshold: number; sent: boolean }>`SELECT threshold, sent_at IS NOT NULL AS sent FROM ai_alerts WHERE shop = ${BUDGET} ORDER BY month, threshold`))
    expect(outbox.map((o) => [o.threshold, o.sent])).toEqual([[80, true], [100, true], [80, true], [100, true]])
    // the alerts are in the audit log in plain language; the calls themselves are not
    await api.awaitProjections()
    const audit = await api.run(Effect.flatMap(SqlClient.SqlClient, (sql) => sql<{ summary: string }>`SELECT summary FROM audit_log WHERE shop = ${BUDGET} ORDER BY position`))
    expect(audit.map((a) => a.summary).filter((l) => l.startsWith("AI budget"))).toEqual([
      "AI budget for 2026-12: 80 % reached ($0.01 of $0.01)",
      "AI budget for 2026-12 is spent ($0.01 of $0.01): AI calls are refused until the month ends",
      "AI budget for 2027-01: 80 % reached ($0.01 of $0.01)",
      "AI budget for 2027-01 is spent ($0.01 of $0.01): AI calls are refused until the month ends"
    ])
  })
})
