/**
 * Undo never overwrites a later change by someone else (invariant 8), end to end: the job
 * records Shopify's `compareDigest` of what it wrote; its undo restores with that digest as
 * `compareDigest` (Shopify answers STALE_OBJECT for a product changed since) and reads the
 * current digest before it deletes a metafield the job created. Products changed since keep
 * the newer value and are reported `changed_since`; `force` restores them all. PostgreSQL 15,
 * the shop actor, the Shopify simulator, the admin API over HTTP.
 */
import { Effect } from "effect"
import { SqlClient } from "effect/sql"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { afterStateKey } from "../../src/jobs/UndoArtefacts.ts"
import { SHOP, startJobStack, TOKEN } from "../support/jobHarness.ts"

// 40 products: 0–29 ACTIVE, 30–39 DRAFT; even ones tagged winter. "status:active tag:winter"
// matches product numbers 1, 3, 5, …, 29 (15 products).
const catalog = Array.from({ length: 40 }, (_, i) => ({
  title: `Product ${i}`,
  status: i < 30 ? "ACTIVE" : "DRAFT",
  tags: i % 2 === 0 ? ["winter"] : ["summer"]
}))
const MATCHED = Array.from({ length: 15 }, (_, i) => 2 * i + 1)

const body = (key: string, value: string) => ({
  query_string: "status:active tag:winter",
  namespace: "custom",
  key,
  type: "single_line_text_field",
  value,
  dry_run: false,
  max_items: 5000
})

type Stored = { readonly type: string; readonly data: Record<string, unknown> }

describe("bulk job undo never overwrites a later change", () => {
  let stack: Awaited<ReturnType<typeof startJobStack>>

  beforeAll(async () => {
    stack = await startJobStack({ products: catalog })
  }, 120_000)

  afterAll(async () => {
    await stack?.close()
  })

  const shop = () => stack.sim.shop(SHOP)
  const value = (key: string, n: number) => shop().metafield(shop().productGid(n), "custom", key)?.value ?? null
  const set = (key: string, n: number, v: string) =>
    shop().setMetafield(shop().productGid(n), { namespace: "custom", key, type: "single_line_text_field", value: v })

  /** Someone else's change, through Shopify's own Admin API (the simulator's `metafieldsSet` / `metafieldsDelete`). */
  const shopifyGraphql = async (query: string, variables: Record<string, unknown>) => {
    const res = await stack.sim.fetch(`https://${SHOP}/admin/api/2026-07/graphql.json`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-shopify-access-token": TOKEN },
      body: JSON.stringify({ query, variables })
    })
    const answer = await res.json() as { data?: Record<string, { userErrors: Array<unknown> }>; errors?: unknown }
    expect(answer.errors).toBeUndefined()
    for (const payload of Object.values(answer.data ?? {})) expect(payload.userErrors).toEqual([])
  }
  const merchantSets = (key: string, n: number, v: string) =>
    shopifyGraphql(
      "mutation($m: [MetafieldsSetInput!]!) { metafieldsSet(metafields: $m) { metafields { id } userErrors { message code } } }",
      { m: [{ ownerId: shop().productGid(n), namespace: "custom", key, type: "single_line_text_field", value: v }] }
    )
  const merchantDeletes = (key: string, n: number) =>
    shopifyGraphql(
      "mutation($m: [MetafieldIdentifierInput!]!) { metafieldsDelete(metafields: $m) { deletedMetafields { key } userErrors { message } } }",
      { m: [{ ownerId: shop().productGid(n), namespace: "custom", key }] }
    )

  /** Runs a live job to completion and waits until the admin API lists it COMPLETED (undo checks the read model). */
  const runJob = async (key: string, v: string) => {
    const res = await stack.post(body(key, v))
    expect(res.status).toBe(202)
    const { job_id } = await res.json() as { job_id: string }
    const done = await stack.awaitJobEvent(job_id, ["job.completed", "job.failed"])
    expect(done.data).toMatchObject({ updatedCount: 15, failedCount: 0 })
    for (;;) {
      const r = await stack.admin(`/app/jobs/${job_id}`)
      if (r.status === 200 && (await r.json() as { job: { status: string } }).job.status === "COMPLETED") break
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    return job_id
  }

  const undo = (jobId: string, payload?: unknown) =>
    stack.admin(`/app/jobs/${jobId}/undo`, {
      method: "POST",
      ...(payload === undefined ? {} : { body: JSON.stringify(payload), headers: { "content-type": "application/json" } })
    })

  /** Requests the undo and waits for the undo job's end. */
  const undone = async (jobId: string, payload?: unknown): Promise<{ readonly undoJobId: string; readonly completed: Stored }> => {
    const res = await undo(jobId, payload)
    expect(res.status).toBe(202)
    const { undo_job_id: undoJobId } = await res.json() as { undo_job_id: string }
    const completed = await stack.awaitJobEvent(undoJobId, ["job.completed", "job.failed"])
    expect(completed.type).toBe("job.completed")
    return { undoJobId, completed }
  }

  it("products changed since keep the newer value and are reported changed_since; the others are restored; force then restores them", async () => {
    const key = "guarded_badge"
    set(key, 3, "Three before")
    set(key, 7, "Seven before")
    set(key, 11, "Eleven before")
    const jobId = await runJob(key, "Winter")
    for (const n of MATCHED) expect(value(key, n), `product ${n}`).toBe("Winter")

    // behind the job's back: two edits and two deletions, on products that had a value before
    // (undo would restore it: Shopify refuses with STALE_OBJECT) and on products whose metafield
    // the job created (undo would delete it: the undo reads the digest first)
    await merchantSets(key, 3, "Merchant's three")
    await merchantDeletes(key, 7)
    await merchantSets(key, 5, "Merchant's five")
    await merchantDeletes(key, 9)

    const { undoJobId, completed } = await undone(jobId)
    expect(completed.data).toMatchObject({ matchedCount: 13, updatedCount: 11, failedCount: 0, changedSinceCount: 4 })
    // the newer values stay
    expect(value(key, 3)).toBe("Merchant's three")
    expect(value(key, 5)).toBe("Merchant's five")
    expect(value(key, 7)).toBeNull()
    expect(value(key, 9)).toBeNull()
    // the rest is restored: previous values back, created metafields deleted
    expect(value(key, 11)).toBe("Eleven before")
    for (const n of MATCHED.filter((n) => ![3, 5, 7, 9, 11].includes(n))) expect(value(key, n), `product ${n}`).toBeNull()

    // counted where each was found: two by the undo's read, two by Shopify's STALE_OBJECT
    const events = await stack.jobEvents(undoJobId)
    expect(events.find((e) => e.type === "job.query_completed")?.data).toMatchObject({ matchedCount: 13, changedSinceCount: 2 })
    const mutations = events.filter((e) => e.type === "job.mutation_completed").map((e) => e.data["changedSinceCount"] ?? 0)
    expect(mutations.reduce((a: number, b) => a + Number(b), 0)).toBe(2)

    // per product in the error file, with a plain reason
    const lines = (await stack.errorLines(undoJobId)).map((l) => JSON.parse(l.line) as { ownerId: string; kind: string; reason: string })
    expect(lines.map((l) => l.ownerId).sort()).toEqual([3, 5, 7, 9].map((n) => shop().productGid(n)).sort())
    for (const l of lines) {
      expect(l.kind).toBe("changed_since")
      expect(l.reason).toMatch(/by someone else after the job wrote it/)
    }
    const file = await (await stack.admin(`/app/jobs/${undoJobId}/errors.jsonl`)).text()
    expect(file.trim().split("\n")).toHaveLength(4)

    // and in the undo job's detail: its error preview and its timeline
    let detail: { job: { status: string; error_preview: string | null }; events: Array<{ event_type: string; message: string }> }
    for (;;) {
      const r = await stack.admin(`/app/jobs/${undoJobId}`)
      detail = await r.json() as typeof detail
      if (detail.job?.status === "COMPLETED" && detail.events.some((e) => e.event_type === "JOB_COMPLETED")) break
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    expect(detail.job.error_preview?.split("\n").filter((l) => l.includes("changed_since"))).toHaveLength(4)
    expect(detail.events.find((e) => e.event_type === "JOB_COMPLETED")?.message).toMatch(/11 updated, 0 failed, 4 not restored \(changed since the job; kept the newer value\)/)

    // the same undo again is refused; a forced one restores what was left
    expect((await undo(jobId)).status).toBe(409)
    const forced = await undone(jobId, { force: true })
    expect(forced.completed.data).toMatchObject({ matchedCount: 15, updatedCount: 15, failedCount: 0 })
    expect(forced.completed.data["changedSinceCount"]).toBeUndefined()
    expect(value(key, 3)).toBe("Three before")
    expect(value(key, 7)).toBe("Seven before")
    expect(value(key, 11)).toBe("Eleven before")
    for (const n of MATCHED.filter((n) => ![3, 7, 11].includes(n))) expect(value(key, n), `product ${n}`).toBeNull()
    expect((await undo(jobId, { force: true })).status).toBe(409)
    const original = (await stack.jobEvents(jobId)).filter((e) => e.type === "job.undo_requested").map((e) => e.data)
    expect(original).toMatchObject([{ undoJobId }, { undoJobId: forced.undoJobId, force: true }])
  })

  it("a forced undo restores every product unconditionally, as undo did before", async () => {
    const key = "forced_badge"
    set(key, 13, "Thirteen before")
    const jobId = await runJob(key, "Winter")
    await merchantSets(key, 1, "Merchant's one")
    await merchantSets(key, 13, "Merchant's thirteen")
    const { undoJobId, completed } = await undone(jobId, { force: true })
    expect(completed.data).toMatchObject({ matchedCount: 15, updatedCount: 15, failedCount: 0 })
    expect(completed.data["changedSinceCount"]).toBeUndefined()
    expect(value(key, 13)).toBe("Thirteen before")
    for (const n of MATCHED.filter((n) => n !== 13)) expect(value(key, n), `product ${n}`).toBeNull()
    expect(await stack.errorLines(undoJobId)).toHaveLength(0)
  })

  it("a job whose writes were not recorded (it ran before the guard) is still guarded, by value", async () => {
    const key = "legacy_badge"
    set(key, 15, "Fifteen before")
    const jobId = await runJob(key, "Winter")
    // what a job of the previous release left: a snapshot, no after-state
    await stack.runtime.runPromise(Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const deleted = yield* sql`DELETE FROM job_snapshots WHERE job_id = ${afterStateKey(jobId, 0)}::uuid RETURNING ordinal`
      expect(deleted).toHaveLength(15)
    }))
    await merchantSets(key, 1, "Merchant's one")
    await merchantSets(key, 15, "Merchant's fifteen")
    const { completed } = await undone(jobId)
    expect(completed.data).toMatchObject({ matchedCount: 13, updatedCount: 13, failedCount: 0, changedSinceCount: 2 })
    expect(value(key, 1)).toBe("Merchant's one")
    expect(value(key, 15)).toBe("Merchant's fifteen")
    for (const n of MATCHED.filter((n) => n !== 1 && n !== 15)) expect(value(key, n), `product ${n}`).toBeNull()
  })

  it("force must be a boolean", async () => {
    const jobId = await runJob("typed_badge", "Winter")
    const res = await undo(jobId, { force: "yes" })
    expect(res.status).toBe(400)
    expect((await undo(jobId, [true])).status).toBe(400)
  })
})
