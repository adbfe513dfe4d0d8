/**
 * The budget is exact across processes (issue 14 §2, §5): 64 callers at once — 32 in this
 * process, 32 in a second process with its own connection pool — against one shop's small
 * monthly cap, on one PostgreSQL. Every call reserves the worst cases of its route (1,113 µ$)
 * and costs 612 µ$: 31 calls fit a 20,000 µ$ cap (after 31, 18,972 spent, one more worst case
 * would pass the cap), so exactly 31 answer and 33 are refused — none past the cap, and none
 * refused while the budget had room (a caller finding the room held by calls still running
 * waits for them).
 */
import { spawn } from "node:child_process"
import { createInterface } from "node:readline"
import { Effect, Result, Stream } from "effect"
import { SqlClient } from "effect/sql"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import type { AiCallCompleted } from "../../domain/ai/events.ts"
import { AiGateway } from "../../src/ai/AiGateway.ts"
import { EventStore } from "../../src/eventstore/EventStore.ts"
import { type RunningAiSimulator, startAiSimulator } from "../../src/simulator/ai/index.ts"
import { testKeyEnv } from "../support/keys.ts"
import { type AdminApi, startAdminApi } from "../support/adminApi.ts"
import { gatewayLayer } from "./support.ts"

const SHOP = "ai-two-processes.myshopify.com"
const CAP = 20_000
const LIMITS = { requestsPerWindow: 10_000, windowSeconds: 60, monthlyBudgetMicros: CAP }
const PER_PROCESS = 32

let api: AdminApi
let sim: RunningAiSimulator

beforeAll(async () => {
  sim = await startAiSimulator({ respond: (r) => (r.prompt.startsWith("verbose") ? "word ".repeat(2_000) : "ok") })
  api = await startAdminApi({ knownShops: [SHOP], automationActors: true })
})

afterAll(async () => {
  await api?.close()
  await sim?.stop()
})

type Outcome = { readonly ok: true; readonly costMicros: number } | { readonly ok: false; readonly error: { readonly code?: string; readonly budget?: { readonly capMicros: number; readonly spentMicros: number; readonly worstMicros: number } } }

describe("the AI budget across two processes", () => {
  it("64 callers at once never spend past the cap, and are refused only when what is spent leaves no room", async () => {
    const child = spawn(process.execPath, [new URL("./budgetChild.ts", import.meta.url).pathname], {
      env: { ...process.env, ...testKeyEnv, DATABASE_URL: api.databaseUrl, AI_SIM_URL: sim.url, SHOP, CALLS: String(PER_PROCESS), AI_LIMITS_JSON: JSON.stringify(LIMITS), LOG_LEVEL: "Warn" },
      stdio: ["pipe", "pipe", "inherit"]
    })
    const lines: Array<string> = []
    const ready = new Promise<void>((resolve) => createInterface({ input: child.stdout! }).on("line", (l) => (l === "ready" ? resolve() : lines.push(l))))
    const exited = new Promise<number | null>((resolve) => child.on("exit", resolve))
    await ready
    child.stdin!.write("go\n")
    const here = await api.run(Effect.forEach(Array.from({ length: PER_PROCESS }, (_, i) => i), (i) =>
      Effect.result(AiGateway.use((g) => g.generate({ shop: SHOP, purpose: `parent-${i}`, prompt: "verbose: spend", maxOutputTokens: 40 }))), { concurrency: "unbounded" })
      .pipe(Effect.provide(gatewayLayer(sim, { limits: LIMITS }))))
    expect(await exited).toBe(0)
    const outcomes: Array<Outcome> = [
      ...here.map((o): Outcome => (Result.isSuccess(o) ? { ok: true, costMicros: o.success.costMicros } : { ok: false, error: o.failure as never })),
      ...lines.map((l) => JSON.parse(l) as Outcome)
    ]
    expect(outcomes).toHaveLength(64)
    const answered = outcomes.filter((o) => o.ok)
    const refused = outcomes.flatMap((o) => (o.ok ? [] : [o.error]))
    expect(answered.every((o) => o.ok && o.costMicros === 612)).toBe(true)
    expect([answered.length, refused.length]).toEqual([31, 33])
    for (const e of refused) {
      expect(e.code).toBe("BUDGET_EXCEEDED")
      // refused only when the spent budget left no room for this call's worst case
      expect(e.budget!.spentMicros + e.budget!.worstMicros).toBeGreaterThan(CAP)
    }
    // both processes answered some
    expect(lines.some((l) => (JSON.parse(l) as Outcome).ok)).toBe(true)
    expect(here.some(Result.isSuccess)).toBe(true)

    const ledger = await api.run(Effect.flatMap(SqlClient.SqlClient, (sql) => sql<{ settled: string; reserved: string }>`SELECT settled_micros AS settled, reserved_micros AS reserved FROM ai_budgets WHERE shop = ${SHOP}`))
    expect([Number(ledger[0]!.settled), Number(ledger[0]!.reserved)]).toEqual([31 * 612, 0])
    expect(Number(ledger[0]!.settled)).toBeLessThanOrEqual(CAP)

    // the usage log has every call, once; the alerts went out once each
    await api.awaitEvents([`ai-${SHOP}`], (events) => events.filter((e) => e.type === "ai.call_completed").length >= 64 && events.filter((e) => e.type === "ai.budget_threshold_reached").length >= 2)
    const events = await api.run(Effect.map(Effect.flatMap(EventStore, (s) => Stream.runCollect(s.readStream(`ai-${SHOP}`))), (es) => [...es]))
    const rows = events.filter((e) => e.type === "ai.call_completed").map((e) => e.data as AiCallCompleted)
    expect(rows.filter((r) => r.outcome === "ok").reduce((s, r) => s + r.settledMicros, 0)).toBe(31 * 612)
    expect(rows.map((r) => r.outcome).sort()).toEqual([...Array(33).fill("budget_exceeded"), ...Array(31).fill("ok")])
    expect(events.filter((e) => e.type === "ai.budget_threshold_reached").map((e) => (e.data as { threshold: number }).threshold).sort()).toEqual([100, 80])
  })
})
