/**
 * Running the actions (issue 11 §3–4) over the admin API, on PostgreSQL 15 with the embedded
 * shop log, the shop actors and the Shopify simulator: a rule's execution snapshots the product,
 * runs `tag_product` against Shopify and records what it did; undo removes exactly the tags it
 * added, and refuses (`changed_since`) when someone changed them since, unless forced. Transient
 * Shopify failures are retried inside the execution; a permanent one fails it in plain language
 * and the shop's other work goes on; a trigger delivered twice changes the shop once.
 */
import { createAdminApiClient } from "@shopify/admin-api-client"
import { Effect, Stream } from "effect"
import { SqlClient } from "effect/sql"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { executionRunStreamId } from "../../domain/automation/ExecutionRuns.ts"
import { encodeShopMessage } from "../../domain/messages/ShopMessages.ts"
import { automationStreamId } from "../../src/automation/AutomationFold.ts"
import { newTrigger } from "../../src/automation/TriggerHandlers.ts"
import { EventStore } from "../../src/eventstore/EventStore.ts"
import { ShopLog } from "../../src/shoplog/ShopLog.ts"
import { type AdminApi, type AdminServer, sessionFor, startWithRule } from "../support/adminApi.ts"
import { exampleRuleJson } from "../support/automation.ts"

const SHOP = "executions.myshopify.com"
const ops = () => sessionFor(SHOP, "ops-1")

let api: AdminApi
let server: AdminServer
let ruleId: string

beforeAll(async () => {
  ({ api, server, ruleId } = await startWithRule(SHOP, {
    ...exampleRuleJson, name: "Tag drafts", condition: null, quiet_hours: null, cooldown_seconds: 0, params: { tags: ["needs-review", "sumeru"] }
  }))
})

afterAll(async () => {
  await api?.close()
})

const shop = () => api.sim.shop(SHOP)
const gid = (n: number) => `gid://shopify/Product/${n}`

/** Emits `product.drafted` about product `n` (as an operator would); resolves to the execution id. */
const draft = async (n: number): Promise<string> => {
  const res = await api.call(server, "POST", "/app/triggers/product.drafted/emit", ops(), {
    resources: [{
      resourceType: "product", resourceId: gid(n),
      payload: { title: `P${n}`, vendor: "Acme", productType: null, tags: [], status: "draft", previousStatus: "active", updatedAt: "2026-12-01T10:00:00Z" }
    }]
  })
  expect(res.status, res.text).toBe(202)
  return `${res.json.trigger_id}_${ruleId}_0`
}

const execution = async (id: string) => (await api.call(server, "GET", `/app/executions/${encodeURIComponent(id)}`, ops())).json.execution

/** The product's tags on Shopify (the simulator). */
const tagsOf = (n: number) => [...shop().product(n).tags]

/** Calls of a root field that Shopify executed for product `n`. */
const executed = (rootField: string, n: number) =>
  shop().requests.filter((r) => r.outcome === "ok" && r.rootFields.includes(rootField) && (r.variables as { id?: string } | undefined)?.id === gid(n)).length

/** Someone else changes the product on Shopify (not through Sumeru). */
const behindTheBack = async (mutation: "tagsAdd" | "tagsRemove", n: number, tags: ReadonlyArray<string>) => {
  const client = createAdminApiClient(api.sim.adminClientOptions(SHOP) as Parameters<typeof createAdminApiClient>[0])
  const res = await client.request(`mutation($id: ID!, $tags: [String!]!) { ${mutation}(id: $id, tags: $tags) { userErrors { message } } }`, {
    variables: { id: gid(n), tags }
  })
  expect(res.errors).toBeUndefined()
}

const runEvents = (id: string) =>
  api.run(Effect.flatMap(EventStore, (store) => Stream.runCollect(store.readStream(executionRunStreamId(SHOP, id))))).then((c) => [...c].map((e) => e.type))

describe("running the actions", () => {
  it("a rule's execution snapshots the product, adds the tags on Shopify, and records before, after and what it did", async () => {
    const id = await draft(1)
    await api.awaitExecution(SHOP, id, "autoaction.applied")
    expect(tagsOf(1)).toEqual(expect.arrayContaining(["needs-review", "sumeru"]))
    expect(await runEvents(id)).toEqual(["autoaction.snapshot_taken", "autoaction.applied"])
    const e = await execution(id)
    expect(e).toMatchObject({ status: "applied", detail: "added the tags needs-review, sumeru", after: { added: ["needs-review", "sumeru"] } })
    expect(e.before.tags).not.toContain("needs-review")
    const audit = await api.call(server, "GET", "/app/audit?q=tag%20drafts", ops())
    expect(audit.json.entries.map((l: { summary: string }) => l.summary)).toContain(
      "Rule 'Tag drafts' (v1) ran tag_product on P1 (product.drafted): added the tags needs-review, sumeru"
    )
  })

  it("undo removes exactly the tags it added — never one the product already had — and is recorded with who asked", async () => {
    await behindTheBack("tagsAdd", 2, ["sumeru"]) // the product already has one of the rule's tags
    const id = await draft(2)
    await api.awaitExecution(SHOP, id, "autoaction.applied")
    expect((await execution(id)).after).toEqual({ added: ["needs-review"] })
    const undone = await api.call(server, "POST", `/app/executions/${encodeURIComponent(id)}/undo`, ops())
    expect([undone.status, undone.json]).toEqual([200, { id, status: "undone", summary: "removed the tag needs-review" }])
    expect(tagsOf(2)).toContain("sumeru")
    expect(tagsOf(2)).not.toContain("needs-review")
    await api.awaitProjections()
    expect(await execution(id)).toMatchObject({ status: "undone", detail: "removed the tag needs-review" })
    const again = await api.call(server, "POST", `/app/executions/${encodeURIComponent(id)}/undo`, ops())
    expect([again.status, again.json.error.code]).toEqual([409, "already_undone"])
    const audit = await api.call(server, "GET", "/app/audit?q=undone%20by", ops())
    expect(audit.json.entries.map((l: { summary: string }) => l.summary)).toContain("Undone by ops-1: P2 — removed the tag needs-review")
    const why = await api.call(server, "GET", `/app/executions/${encodeURIComponent(id)}/why`, ops())
    expect(why.json.chain.map((l: { type: string }) => l.type).slice(-4)).toEqual([
      "autoaction.snapshot_taken", "autoaction.applied", "autoaction.undo_requested", "autoaction.undone"
    ])
  })

  it("undo never overwrites a later change: changed_since (409) until forced", async () => {
    const id = await draft(3)
    await api.awaitExecution(SHOP, id, "autoaction.applied")
    await behindTheBack("tagsRemove", 3, ["sumeru"]) // a person took one of our tags off
    const refused = await api.call(server, "POST", `/app/executions/${encodeURIComponent(id)}/undo`, ops())
    expect([refused.status, refused.json.error.code]).toEqual([409, "changed_since"])
    expect(refused.json.error.message).toContain("the tag sumeru was removed since by someone else")
    expect(tagsOf(3)).toContain("needs-review") // nothing was touched
    await api.awaitProjections()
    expect(await execution(id)).toMatchObject({ status: "undo_failed", reason: "changed_since" })
    const forced = await api.call(server, "POST", `/app/executions/${encodeURIComponent(id)}/undo`, ops(), { force: true })
    expect([forced.status, forced.json.status]).toEqual([200, "undone"])
    expect(tagsOf(3)).not.toContain("needs-review")
    const viewer = await api.call(server, "POST", `/app/executions/${encodeURIComponent(id)}/undo`, sessionFor(SHOP, "viewer-1"))
    expect(viewer.status).toBe(403)
    const bad = await api.call(server, "POST", `/app/executions/${encodeURIComponent(id)}/undo`, ops(), { force: "yes" })
    expect(bad.status).toBe(400)
  })

  it("undo cancels an execution still deferred by quiet hours: it never runs, and its recheck timer is gone", async () => {
    const hhmm = (ms: number) => new Date(ms).toISOString().slice(11, 16)
    const quiet = await api.call(server, "POST", "/app/rules", ops(), {
      ...exampleRuleJson, name: "Quiet tags", condition: null, cooldown_seconds: 0, quiet_hours: { start: hhmm(Date.now() - 3_600_000), end: hhmm(Date.now() + 3_600_000) }
    })
    expect(quiet.status, quiet.text).toBe(201)
    const res = await api.call(server, "POST", "/app/triggers/product.drafted/emit", ops(), {
      resources: [{ resourceType: "product", resourceId: gid(8), payload: { title: "P8", vendor: "Acme", productType: null, tags: [], status: "draft", previousStatus: "active", updatedAt: "2026-12-01T10:00:00Z" } }]
    })
    const id = `${res.json.trigger_id}_${quiet.json.rule.id}_0`
    await api.awaitExecution(SHOP, id, "autoaction.deferred")
    const cancelled = await api.call(server, "POST", `/app/executions/${encodeURIComponent(id)}/undo`, ops())
    expect([cancelled.status, cancelled.json.status], cancelled.text).toEqual([200, "cancelled"])
    await api.awaitProjections()
    expect(await execution(id)).toMatchObject({ status: "cancelled", detail: "by ops-1" })
    const timers = await api.run(Effect.flatMap(SqlClient.SqlClient, (sql) => sql<{ id: string }>`SELECT id FROM scheduled_messages WHERE id = ${`automation.recheck:${id}`}`))
    expect(timers).toEqual([])
    const again = await api.call(server, "POST", `/app/executions/${encodeURIComponent(id)}/undo`, ops())
    expect([again.status, again.json.error.code]).toEqual([409, "not_applied"])
    expect((await api.call(server, "DELETE", `/app/rules/${quiet.json.rule.id}`, ops())).status).toBe(204)
  })

  it("only an applied execution can be undone; an unknown one is a 404", async () => {
    expect((await api.call(server, "POST", "/app/executions/no-such-execution/undo", ops())).status).toBe(404)
  })

  it("transient Shopify failures are retried inside the execution; the change is made once", async () => {
    // five 503s exhaust the adapter's own retries once: the execution's retry goes through
    shop().faults.httpErrorNext(503, 5, { match: { rootField: "tagsAdd" } })
    const id = await draft(4)
    await api.awaitExecution(SHOP, id, "autoaction.applied")
    expect(executed("tagsAdd", 4)).toBe(1)
    expect(tagsOf(4)).toEqual(expect.arrayContaining(["needs-review", "sumeru"]))
  })

  it("a permanent failure ends the execution as failed, in plain language; the shop's other work goes on", async () => {
    const gone = await draft(999) // no such product on Shopify
    const fine = await draft(5)
    await api.awaitExecution(SHOP, gone, "autoaction.failed")
    await api.awaitExecution(SHOP, fine, "autoaction.applied")
    expect(await execution(gone)).toMatchObject({ status: "failed", reason: "not_found", detail: `product ${gid(999)} no longer exists` })
    const audit = await api.call(server, "GET", "/app/audit?q=could%20not%20run", ops())
    expect(audit.json.entries.map((l: { summary: string }) => l.summary)).toContain(
      `Rule 'Tag drafts' (v1) could not run tag_product on P999: product ${gid(999)} no longer exists`
    )
  })

  it("Shopify failing for good (after every retry) fails the execution as unavailable", async () => {
    shop().faults.httpErrorNext(503, 50, { match: { rootField: "tagsAdd" } })
    const id = await draft(6)
    await api.awaitExecution(SHOP, id, "autoaction.failed")
    shop().faults.clear()
    expect(await execution(id)).toMatchObject({ status: "failed", reason: "unavailable" })
    expect(executed("tagsAdd", 6)).toBe(0)
    expect(tagsOf(6)).not.toContain("needs-review")
  })

  it("a trigger delivered twice (two messages, same trigger) runs its action once", async () => {
    const emitted = newTrigger({
      event: "product.drafted",
      resources: [{
        resourceType: "product", resourceId: gid(7),
        payload: { title: "P7", vendor: "Acme", productType: null, tags: [], status: "draft", previousStatus: "active", updatedAt: "2026-12-01T10:00:00Z" }
      }]
    }, { kind: "detector", id: "test" })
    const publish = (messageId: string) =>
      api.run(Effect.flatMap(ShopLog, (log) => log.publish({ shop: SHOP, messageId, ...encodeShopMessage({ type: "automation.trigger", payload: emitted }) })))
    await publish("first-delivery")
    await publish("second-delivery")
    const id = `${emitted.triggerId}_${ruleId}_0`
    await api.awaitExecution(SHOP, id, "autoaction.applied")
    // the second delivery was dispatched too (the same execution requested again)…
    await api.awaitEvents([automationStreamId(SHOP)], (events) =>
      events.filter((e) => e.type === "autoaction.requested" && (e.data as { executionId?: string }).executionId === id).length === 2)
    // …and its step found the execution past its snapshot: nothing ran twice
    expect(executed("tagsAdd", 7)).toBe(1)
    expect((await runEvents(id)).filter((t) => t === "autoaction.applied")).toHaveLength(1)
  })
})
