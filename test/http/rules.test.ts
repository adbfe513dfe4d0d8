/**
 * Automation rules over the admin API (issue 11 §2), on PostgreSQL 15 with the embedded shop
 * log and the shop actors running: the example rule is created (201, version 1) by the
 * shop's actor and readable at once; a change is a new version; the same settings are no new
 * version; invalid input is one 400 listing every problem with its field (the CEL error at its
 * position); a deleted rule is gone (404) while its history stays on the stream.
 */
import { Deferred, Duration, Effect, Stream } from "effect"
import { SqlClient } from "effect/sql"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { automationStreamId } from "../../src/automation/AutomationFold.ts"
import { rulesStreamId } from "../../src/automation/RulesFold.ts"
import { EventStore } from "../../src/eventstore/EventStore.ts"
import { LogWakeups } from "../../src/eventstore/LogWakeups.ts"
import { type AdminApi, type AdminServer, sessionFor, startAdminApi } from "../support/adminApi.ts"
import { exampleRuleJson } from "../support/automation.ts"

const SHOP = "rules.myshopify.com"
const ops = () => sessionFor(SHOP, "ops-1")

const exampleRule = exampleRuleJson

let api: AdminApi
let server: AdminServer

beforeAll(async () => {
  // parked executions expire after 2 s here (72 hours in production)
  api = await startAdminApi({ knownShops: [SHOP], automationActors: true, approvalTtl: Duration.seconds(2) })
  server = await api.serveAdmin({ defaultRole: "viewer" })
  await api.setMember(SHOP, "ops-1", "operator")
})

afterAll(async () => {
  await api?.close()
})

describe("rules over the admin API", () => {
  let id: string

  it("creates the issue's example rule: 201 with the rule at version 1, listed and readable at once", async () => {
    const res = await api.call(server, "POST", "/app/rules", ops(), exampleRule)
    expect(res.status, res.text).toBe(201)
    expect(res.json.rule).toMatchObject({ ...exampleRule, version: 1 })
    id = res.json.rule.id
    const one = await api.call(server, "GET", `/app/rules/${id}`, sessionFor(SHOP, "viewer-1"))
    expect([one.status, one.json.rule]).toEqual([200, res.json.rule])
    const list = await api.call(server, "GET", "/app/rules", sessionFor(SHOP, "viewer-1"))
    expect(list.json.rules.map((r: { id: string }) => r.id)).toContain(id)
  })

  it("lists rules a page at a time, oldest first; a bad page is a 400 naming it", async () => {
    const second = await api.call(server, "POST", "/app/rules", ops(), { ...exampleRule, name: "Second rule" })
    expect(second.status, second.text).toBe(201)
    const all = (await api.call(server, "GET", "/app/rules", ops())).json
    expect(all.rules.length).toBe(all.total)
    const ids = all.rules.map((r: { id: string }) => r.id)
    expect(ids).toEqual([...ids].sort())
    const pages = []
    for (let page = 1; page <= all.total; page++) {
      const one = (await api.call(server, "GET", `/app/rules?limit=1&page=${page}`, ops())).json
      expect([one.total, one.page, one.pages, one.rules.length]).toEqual([all.total, page, all.total, 1])
      pages.push(one.rules[0].id)
    }
    expect(pages).toEqual(ids)
    const bad = await api.call(server, "GET", "/app/rules?limit=0", ops())
    expect([bad.status, bad.json.error.code]).toEqual([400, "INVALID_QUERY_PARAMETER"])
    expect((await api.call(server, "DELETE", `/app/rules/${second.json.rule.id}`, ops())).status).toBe(204)
  })

  it("a change is a new version; the same settings again are not; a viewer may not change rules", async () => {
    const changed = await api.call(server, "PATCH", `/app/rules/${id}`, ops(), { cooldown_seconds: 600, enabled: false })
    expect(changed.status, changed.text).toBe(200)
    expect(changed.json.rule).toMatchObject({ version: 3, cooldown_seconds: 600, enabled: false, name: exampleRule.name })
    const again = await api.call(server, "PATCH", `/app/rules/${id}`, ops(), { cooldown_seconds: 600 })
    expect([again.status, again.json.rule.version]).toEqual([200, 3])
    const viewer = await api.call(server, "PATCH", `/app/rules/${id}`, sessionFor(SHOP, "viewer-1"), { cooldown_seconds: 1 })
    expect([viewer.status, viewer.json.error.missing]).toEqual([403, ["automation:manage"]])
  })

  it("invalid input is one 400 listing every problem with its field; nothing is created", async () => {
    const before = (await api.call(server, "GET", "/app/rules", ops())).json.rules.length
    const res = await api.call(server, "POST", "/app/rules", ops(), {
      ...exampleRule,
      trigger_event: "seo.content_decay_detected",
      params: { tags: [] },
      condition: "resource.payload.dropPct >",
      quiet_hours: { start: "22:00", end: "8am" },
      cooldown_seconds: -5
    })
    expect(res.status).toBe(400)
    const byField = Object.fromEntries(res.json.error.errors.map((e: { field: string; message: string }) => [e.field, e.message]))
    expect(Object.keys(byField).sort()).toEqual(["action_key", "condition", "cooldown_seconds", "params.tags", "quiet_hours"])
    expect(byField["action_key"]).toMatch(/tag_product does not run on seo.content_decay_detected/)
    expect(byField["condition"]).toMatch(/at position 2\d/)
    const proRule = { ...exampleRule, trigger_event: "mc.product_disapproved", action_key: "hide_disapproved_product", params: {}, condition: "resource.payload.issues.size() > 0" }
    const pro = await api.call(server, "POST", "/app/rules", ops(), proRule)
    expect(pro.json.error.errors).toEqual([{ field: "action_key", message: "hide_disapproved_product needs the pro plan (the shop is on free)" }])
    expect((await api.call(server, "GET", "/app/rules", ops())).json.rules.length).toBe(before)

    // on the pro plan (as an app_subscriptions/update webhook records it), the same rule is accepted
    await api.run(Effect.flatMap(EventStore, (store) =>
      store.append(`shop-${SHOP}`, SHOP, "any", [{
        type: "shop.plan_changed",
        data: { plan: "pro", previousPlan: "free", source: "app_subscription", subscription: { name: "Sumeru Pro", status: "ACTIVE" } }
      }], { correlationId: "plan-test", actor: { kind: "system", id: "test" } })))
    const onPro = await api.call(server, "POST", "/app/rules", ops(), proRule)
    expect(onPro.status, onPro.text).toBe(201)
    expect((await api.call(server, "DELETE", `/app/rules/${onPro.json.rule.id}`, ops())).status).toBe(204)
  })

  it("deleting a rule: 204, then 404; its history stays on the shop's rules stream", async () => {
    const gone = await api.call(server, "DELETE", `/app/rules/${id}`, ops())
    expect(gone.status, gone.text).toBe(204)
    expect((await api.call(server, "GET", `/app/rules/${id}`, ops())).status).toBe(404)
    expect((await api.call(server, "PATCH", `/app/rules/${id}`, ops(), { enabled: true })).status).toBe(404)
    const types = await api.run(Effect.flatMap(EventStore, (store) => Stream.runCollect(store.readStream(rulesStreamId(SHOP)))))
    const mine = [...types].filter((e) => (e.data as { ruleId?: string }).ruleId === id)
    expect(mine.map((e) => [e.type, (e.data as { version: number }).version])).toEqual([
      ["rule.created", 1],
      ["rule.updated", 2],
      ["rule.disabled", 3],
      ["rule.deleted", 4]
    ])
    expect(mine.every((e) => (e.data as { requestedBy?: string }).requestedBy === "ops-1")).toBe(true)
  })

  it("a trigger is dispatched to the enabled rules: executed, skipped by condition or cooldown, deferred by quiet hours — each with its reason", async () => {
    const hhmm = (ms: number) => new Date(ms).toISOString().slice(11, 16)
    const created = await api.call(server, "POST", "/app/rules", ops(), { ...exampleRule, name: "Tag Acme drafts", quiet_hours: null })
    expect(created.status, created.text).toBe(201)
    const ruleId = created.json.rule.id
    // quiet hours around now (UTC: the shop default until time zones are read from Shopify)
    const quiet = await api.call(server, "POST", "/app/rules", ops(), {
      ...exampleRule, name: "Quiet Acme drafts", condition: null, quiet_hours: { start: hhmm(Date.now() - 3_600_000), end: hhmm(Date.now() + 3_600_000) }
    })
    const quietId = quiet.json.rule.id
    const product = (n: number, vendor: string) => ({
      resourceType: "product", resourceId: `gid://shopify/Product/${n}`,
      payload: { title: `P${n}`, vendor, productType: null, tags: [], status: "draft", previousStatus: "active", updatedAt: "2026-12-01T10:00:00Z" }
    })
    const first = await api.call(server, "POST", "/app/triggers/product.drafted/emit", ops(), { resources: [product(1, "Acme"), product(2, "Other")] })
    const again = await api.call(server, "POST", "/app/triggers/product.drafted/emit", ops(), { resources: [product(1, "Acme")] })
    expect([first.status, again.status]).toEqual([202, 202])
    const outcomes = await awaitOutcomes(again.json.trigger_id)
    const of = (triggerId: string, rule: string) =>
      outcomes.filter((e) => e.triggerId === triggerId && e.ruleId === rule).map((e) => [e.type, e.resourceId, e.reason ?? null])
    expect(of(first.json.trigger_id, ruleId)).toEqual([
      ["autoaction.requested", "gid://shopify/Product/1", null],
      ["autoaction.skipped", "gid://shopify/Product/2", "condition_false"]
    ])
    expect(of(again.json.trigger_id, ruleId)).toEqual([["autoaction.skipped", "gid://shopify/Product/1", "cooldown"]])
    expect(of(first.json.trigger_id, quietId)).toEqual([
      ["autoaction.deferred", "gid://shopify/Product/1", "quiet_hours"],
      ["autoaction.deferred", "gid://shopify/Product/2", "quiet_hours"]
    ])
    expect(of(again.json.trigger_id, quietId)).toEqual([["autoaction.deferred", "gid://shopify/Product/1", "quiet_hours"]])
    expect(outcomes.every((e) => e.ruleVersion === 1)).toBe(true)
    // each deferral (three) has its durable timer, to check the rule again when the window ends
    const timers = await api.run(Effect.flatMap(SqlClient.SqlClient, (sql) =>
      sql<{ id: string }>`SELECT id FROM scheduled_messages WHERE shop = ${SHOP} AND id LIKE 'automation.recheck:%' ORDER BY id`))
    expect(timers.length).toBe(3)

    // the executions read model: each outcome with its reason, filterable by rule and status
    await api.awaitExecution(SHOP, `${again.json.trigger_id}_${ruleId}_0`)
    const skipped = await api.call(server, "GET", `/app/executions?rule_id=${ruleId}&status=skipped`, sessionFor(SHOP, "viewer-1"))
    expect(skipped.status).toBe(200)
    expect(skipped.json.executions.map((e: { resource_id: string; reason: string }) => [e.resource_id, e.reason]).sort()).toEqual([
      ["gid://shopify/Product/1", "cooldown"],
      ["gid://shopify/Product/2", "condition_false"]
    ])
    expect(skipped.json).toMatchObject({ total: 2, page: 1, pages: 1 })
    const all = await api.call(server, "GET", "/app/executions?limit=2", ops())
    expect([all.json.executions.length, all.json.total, all.json.pages]).toEqual([2, 6, 3])
    const requested = `${first.json.trigger_id}_${ruleId}_0`
    await api.awaitExecution(SHOP, requested, "autoaction.applied") // the run: snapshot, then the action (`executions.test.ts`)
    const one = await api.call(server, "GET", `/app/executions/${encodeURIComponent(requested)}`, ops())
    expect(one.json.execution).toMatchObject({ id: requested, status: "applied", rule_version: 1, trigger_event: "product.drafted", action_key: "tag_product", params: { tags: ["needs-review"] } })
    const deferred = await api.call(server, "GET", `/app/executions?rule_id=${quietId}&status=deferred`, ops())
    expect(deferred.json.executions.every((e: { reason: string; until: string }) => e.reason === "quiet_hours" && Date.parse(e.until) > Date.now())).toBe(true)
    expect((await api.call(server, "GET", "/app/executions?status=finished", ops())).status).toBe(400)

    // ★ backtest over the same window: the same decisions as the live run
    const window = { from: new Date(Date.now() - 3_600_000).toISOString(), to: new Date(Date.now() + 60_000).toISOString() }
    const replay = await api.call(server, "POST", `/app/rules/${ruleId}/backtest`, sessionFor(SHOP, "viewer-1"), window)
    expect(replay.status, replay.text).toBe(200)
    const live = outcomes.filter((e) => e.ruleId === ruleId)
    expect(replay.json.fires.map((f: { trigger_id: string; resource_id: string }) => [f.trigger_id, f.resource_id])).toEqual(
      live.filter((e) => e.type === "autoaction.requested").map((e) => [e.triggerId, e.resourceId])
    )
    const liveSkips: Record<string, number> = {}
    for (const e of live.filter((e) => e.type === "autoaction.skipped")) liveSkips[e.reason!] = (liveSkips[e.reason!] ?? 0) + 1
    expect(replay.json.skipped).toEqual(liveSkips)
    expect(replay.json.events_scanned).toBe(2)
    const bad = await api.call(server, "POST", `/app/rules/${ruleId}/backtest`, ops(), { from: "yesterday", to: window.from })
    expect(bad.status).toBe(400)
    expect(bad.json.error.errors).toEqual([{ field: "from", message: "must be an ISO 8601 instant such as 2026-11-01T00:00:00Z" }])
    expect((await api.call(server, "GET", "/app/executions/no-such-execution", ops())).status).toBe(404)

    // ★ why did this happen: from the operator's emit to the rule's version to the step
    const why = await api.call(server, "GET", `/app/executions/${requested}/why`, sessionFor(SHOP, "viewer-1"))
    expect(why.status, why.text).toBe(200)
    expect(why.json.chain.map((l: { kind: string; type: string }) => [l.kind, l.type])).toEqual([
      ["origin", "operator.emit"],
      ["trigger", "trigger.received"],
      ["rule", "rule.created"],
      ["execution", "autoaction.requested"],
      ["execution", "autoaction.snapshot_taken"],
      ["execution", "autoaction.applied"]
    ])
    const [origin, trig, ruleLink, step] = why.json.chain
    expect(origin).toMatchObject({ type: "operator.emit", actor: "operator:ops-1", summary: "ops-1 emitted the trigger by hand" })
    expect(trig).toMatchObject({ id: first.json.trigger_id, type: "trigger.received" })
    expect(ruleLink.id).toBe(`${ruleId}@v1`)
    expect(ruleLink.summary).toContain("condition: resource.payload.vendor == 'Acme'")
    expect(step).toMatchObject({ type: "autoaction.requested", summary: "Rule 'Tag Acme drafts' (v1) runs tag_product on P1 (product.drafted)" })
    expect((await api.call(server, "GET", "/app/executions/no-such-execution/why", ops())).status).toBe(404)
  })

  it("approvals: a rule that asks for one parks its executions; approve runs it, reject never does, and the clock expires the rest", async () => {
    const rule = await api.call(server, "POST", "/app/rules", ops(), { ...exampleRule, name: "Ask first", condition: null, quiet_hours: null, cooldown_seconds: 0, requires_approval: true })
    const ruleId = rule.json.rule.id
    const product = (n: number) => ({
      resourceType: "product", resourceId: `gid://shopify/Product/${n}`,
      payload: { title: `P${n}`, vendor: "Acme", productType: null, tags: [], status: "draft", previousStatus: "active", updatedAt: "2026-12-01T10:00:00Z" }
    })
    const emitted = await api.call(server, "POST", "/app/triggers/product.drafted/emit", ops(), { resources: [product(11), product(12), product(13)] })
    const ids = [0, 1, 2].map((i) => `${emitted.json.trigger_id}_${ruleId}_${i}`)
    await api.awaitExecution(SHOP, ids[2]!)
    const waiting = await api.call(server, "GET", `/app/approvals?rule_id=${ruleId}`, sessionFor(SHOP, "viewer-1"))
    expect(waiting.json.approvals.map((a: { id: string }) => a.id).sort()).toEqual([...ids].sort())
    expect(waiting.json.approvals[0]).toMatchObject({ status: "awaiting_approval", params: { tags: ["needs-review"] } })

    const approved = await api.call(server, "POST", `/app/approvals/${ids[0]}/approve`, ops())
    expect([approved.status, approved.json.status]).toEqual([200, "approved"])
    const rejected = await api.call(server, "POST", `/app/approvals/${ids[1]}/reject`, ops(), { reason: "not during the sale" })
    expect([rejected.status, rejected.json.status]).toEqual([200, "rejected"])
    const twice = await api.call(server, "POST", `/app/approvals/${ids[0]}/reject`, ops())
    expect([twice.status, twice.json.error.code]).toEqual([409, "not_awaiting"])
    expect((await api.call(server, "POST", "/app/approvals/no-such-execution/approve", ops())).status).toBe(404)
    expect((await api.call(server, "POST", `/app/approvals/${ids[2]}/approve`, sessionFor(SHOP, "viewer-1"))).status).toBe(403)

    // the third is left alone: its durable timer expires it
    await api.awaitExecution(SHOP, ids[2]!, "autoaction.approval_expired")
    await api.awaitExecution(SHOP, ids[0]!, "autoaction.applied")
    const [a, r, e] = await Promise.all(ids.map((id) => api.call(server, "GET", `/app/executions/${id}`, ops())))
    expect(a!.json.execution.status).toBe("applied") // approved, so it ran
    expect(r!.json.execution).toMatchObject({ status: "rejected", reason: "not during the sale", detail: "by ops-1", params: { tags: ["needs-review"] } })
    expect(e!.json.execution.status).toBe("expired")
    expect((await api.call(server, "GET", `/app/approvals?rule_id=${ruleId}`, ops())).json.approvals).toEqual([])

    // every step in the audit log, in plain language
    const audit = await api.call(server, "GET", "/app/audit?q=ask%20first", sessionFor(SHOP, "viewer-1"))
    expect(audit.status).toBe(200)
    const lines: ReadonlyArray<string> = audit.json.entries.map((e: { summary: string }) => e.summary)
    expect(lines).toContain("Rejected by ops-1: Rule 'Ask first' (v1) on P12 — not during the sale")
    expect(lines).toContain("Approved by ops-1: Rule 'Ask first' (v1) runs tag_product on P11")
    expect(lines).toContain("Nobody approved Rule 'Ask first' (v1) on P13 in time: expired")
    expect(lines).toContain("Rule 'Ask first' (v1) waits for approval to run tag_product on P11")
    expect(lines.some((l) => l.startsWith("Rule 'Ask first' created by ops-1 (v1)"))).toBe(true)
    expect((await api.call(server, "GET", "/app/audit?from=yesterday", ops())).status).toBe(400)
  })
})
interface Outcome {
  readonly type: string
  readonly triggerId: string
  readonly ruleId: string
  readonly ruleVersion: number
  readonly resourceId: string
  readonly reason?: string
}

/** Waits (woken by commits) until the outcomes of trigger `last` are recorded; all outcomes so far. */
const awaitOutcomes = (last: string) =>
  api.run(Effect.gen(function*() {
    const wakeups = yield* LogWakeups
    const store = yield* EventStore
    for (;;) {
      const next = yield* wakeups.next
      const events = [...(yield* Stream.runCollect(store.readStream(automationStreamId(SHOP))))].map((e) => e.data as Outcome)
      if (events.some((e) => e.triggerId === last)) return events
      yield* Deferred.await(next).pipe(Effect.timeoutOption("250 millis"))
    }
  }).pipe(Effect.timeout("30 seconds")))
