/**
 * `npm run bench:rules`: the decision plane's backtest throughput (issue 11 §8: target ≥ 200,000
 * trigger events/s on this 2-core machine). Replays BENCH_TRIGGERS (default 1,000,000) stored
 * `product.drafted` triggers — 1,000 products of 50 vendors over 30 days, one resource each —
 * through `backtest` (the same `dispatch` live dispatch runs), with a rule that has a condition,
 * a cooldown and quiet hours in Europe/Berlin, once with a plain function as the condition and
 * once with the CEL condition `resource.payload.vendor == 'Vendor 7'`
 * (`src/automation/Conditions.ts`). Then the live path (`scripts/bench/rules-live.ts`: 1,000
 * shops × 10 rules, 500 triggers/s → `autoaction.applied` against the Shopify simulator, target
 * p95 < 100 ms); BENCH_LIVE=0 skips it. Prints tables; a measurement, not a test.
 */
import { Result } from "effect"
import { backtest, type StoredTrigger } from "../domain/automation/Backtest.ts"
import type { ActiveRule } from "../domain/automation/Dispatch.ts"
import { compileCondition, evaluateCondition } from "../src/automation/Conditions.ts"
import { runLiveBench } from "./bench/rules-live.ts"

const N = Number(process.env["BENCH_TRIGGERS"] ?? 1_000_000)
const START = Date.parse("2026-11-01T00:00:00Z")
const SPAN = 30 * 86_400_000

/**
 * The stored triggers, built before timing (the replay is measured, not the fixture): one
 * trigger object per product, shared by its stored occurrences.
 */
const byProduct = Array.from({ length: 1000 }, (_, product): StoredTrigger["trigger"] => ({
  event: "product.drafted",
  resources: [{
    resourceType: "product",
    resourceId: `gid://shopify/Product/${product}`,
    payload: { title: `P${product}`, vendor: `Vendor ${product % 50}`, productType: null, tags: [], status: "draft", previousStatus: "active", updatedAt: "2026-11-01T00:00:00Z" }
  }]
}))
const stored: ReadonlyArray<StoredTrigger> = Array.from({ length: N }, (_, i) => ({
  triggerId: `t${i}`,
  at: START + Math.floor((i / N) * SPAN),
  trigger: byProduct[i % 1000]!
}))

const rule: ActiveRule = {
  ruleId: "r1",
  version: 1,
  spec: {
    name: "Tag drafted Vendor 7 products",
    triggerEvent: "product.drafted",
    actionKey: "tag_product",
    params: { tags: ["needs-review"] },
    condition: "resource.payload.vendor == 'Vendor 7'",
    cooldownSeconds: 3600,
    quietHours: { start: "22:00", end: "08:00" },
    requiresApproval: false
  }
}

const compiled = compileCondition(rule.spec.condition!, "product.drafted")
if (Result.isFailure(compiled)) throw new Error(`the bench's condition does not compile: ${JSON.stringify(compiled.failure)}`)

const evaluators = {
  "plain function": (_r: ActiveRule, _t: unknown, resource: { readonly payload: unknown }) =>
    Result.succeed((resource.payload as { vendor: string }).vendor === "Vendor 7"),
  "CEL condition": (_r: ActiveRule, trigger: { readonly event: string }, resource: { readonly resourceType: string; readonly resourceId: string; readonly payload: unknown }) =>
    Result.mapError(
      evaluateCondition(compiled.success, { event: trigger, resource, shop: { domain: "bench.myshopify.com", plan: "free", timeZone: "Europe/Berlin" } }),
      (e) => e.message
    )
}

console.log(`backtest of ${N.toLocaleString("en")} stored triggers (1 resource each), rule with condition + cooldown + quiet hours`)
console.log("| condition | events/s | fires | skipped | seconds |")
console.log("|---|---|---|---|---|")
for (const [name, evaluate] of Object.entries(evaluators)) {
  const t0 = performance.now()
  const result = backtest(rule, stored, { plan: "free", timeZone: "Europe/Berlin", evaluate: evaluate as never })
  const seconds = (performance.now() - t0) / 1000
  const skipped = Object.entries(result.skipped).map(([k, v]) => `${k} ${v}`).join(", ")
  console.log(`| ${name} | ${Math.round(result.eventsScanned / seconds).toLocaleString("en")} | ${result.fires.length} | ${skipped} | ${seconds.toFixed(1)} |`)
}

if (process.env["BENCH_LIVE"] !== "0") {
  await runLiveBench()
  process.exit(0)
}
