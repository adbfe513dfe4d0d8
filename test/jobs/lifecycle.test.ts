/**
 * Flowmend bulk-metafield jobs end to end, through HTTP: the Flow action endpoint, the shop
 * actor running the job process, the Shopify simulator's bulk operations, PostgreSQL 15.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest"
import { SHOP, startJobStack } from "../support/jobHarness.ts"

// 40 products: 0–29 ACTIVE, 30–39 DRAFT; even ones tagged winter; product 2 already has a value.
const catalog = Array.from({ length: 40 }, (_, i) => ({
  title: `Product ${i}`,
  status: i < 30 ? "ACTIVE" : "DRAFT",
  tags: i % 2 === 0 ? ["winter"] : ["summer"],
  ...(i === 2 ? { metafields: [{ namespace: "custom", key: "seasonal_badge", type: "single_line_text_field", value: "Old badge" }] } : {})
}))

const body = (overrides: Record<string, unknown> = {}) => ({
  query_string: "status:active tag:winter",
  namespace: "custom",
  key: "seasonal_badge",
  type: "single_line_text_field",
  value: "Winter Collection",
  dry_run: true,
  max_items: 5000,
  ...overrides
})


for (const log of ["embedded", "jetstream"] as const) describe(`Flowmend jobs through HTTP (${log} shop log)`, () => {
  let stack: Awaited<ReturnType<typeof startJobStack>>

  beforeAll(async () => {
    stack = await startJobStack({ products: catalog, log })
  }, 120_000)

  beforeEach(() => {
    stack.sim.shop(SHOP).faults.clear()
  })

  afterAll(async () => {
    await stack?.close()
  })

  const badge = (n: number) => stack.sim.shop(SHOP).metafield(n, "custom", "seasonal_badge")?.value ?? null

  it("a dry run counts the matching products and never mutates", async () => {
    const res = await stack.post(body({ dry_run: true }))
    expect(res.status).toBe(202)
    const accepted = await res.json() as { job_id: string; status: string; message: string }
    expect(accepted.status).toBe("PENDING")
    const done = await stack.awaitJobEvent(accepted.job_id, ["job.completed", "job.failed"])
    expect(done.type).toBe("job.completed")
    expect(done.data).toMatchObject({ dryRun: true, matchedCount: 15, updatedCount: 0, failedCount: 0 })
    const types = (await stack.jobEvents(accepted.job_id)).map((e) => e.type)
    expect(types).toEqual(["job.requested", "job.started", "job.bulk_query_started", "job.query_completed", "job.completed"])
    expect(badge(4)).toBeNull()
    expect(stack.sim.shop(SHOP).bulkOperations().filter((op) => op.type === "MUTATION")).toHaveLength(0)
  })

  it("a live job sets the metafield on every matching product, and only on those", async () => {
    const res = await stack.post(body({ dry_run: false }))
    expect(res.status).toBe(202)
    const { job_id } = await res.json() as { job_id: string }
    const done = await stack.awaitJobEvent(job_id, ["job.completed", "job.failed"])
    expect(done.type).toBe("job.completed")
    expect(done.data).toMatchObject({ dryRun: false, matchedCount: 15, updatedCount: 15, failedCount: 0 })
    for (let i = 0; i < 40; i++) {
      const expected = i < 30 && i % 2 === 0 ? "Winter Collection" : null
      expect(badge(i + 1) ?? null, `product ${i}`).toBe(expected)
    }
    const types = (await stack.jobEvents(job_id)).map((e) => e.type)
    expect(types).toEqual([
      "job.requested", "job.started", "job.bulk_query_started", "job.query_completed",
      "job.mutation_uploaded", "job.bulk_mutation_started", "job.mutation_completed", "job.completed"
    ])
  })

  it("partial failures complete the job with failed_count, an error preview and the full error file", async () => {
    const shop = stack.sim.shop(SHOP)
    const failing = [1, 5, 9].map((n) => shop.productGid(n))
    shop.faults.failMutationsFor(failing, { code: "INVALID_VALUE", message: "Value is invalid for this product" })
    const res = await stack.post(body({ dry_run: false, value: "Partial", query_string: "status:active" }))
    const { job_id } = await res.json() as { job_id: string }
    const done = await stack.awaitJobEvent(job_id, ["job.completed", "job.failed"])
    expect(done.type).toBe("job.completed")
    expect(done.data).toMatchObject({ matchedCount: 30, updatedCount: 27, failedCount: 3 })
    const mutation = (await stack.jobEvents(job_id)).find((e) => e.type === "job.mutation_completed")!
    const preview = String(mutation.data["errorPreview"])
    expect(preview.split("\n").filter(Boolean)).toHaveLength(3)
    expect(preview).toContain("Value is invalid for this product")
    const lines = await stack.errorLines(job_id)
    expect(lines).toHaveLength(3)
    for (const gid of failing) expect(lines.some((l) => l.line.includes(gid)), gid).toBe(true)
    // the full error file, through the admin API
    const file = await stack.admin(`/app/jobs/${job_id}/errors.jsonl`)
    expect(file.status).toBe(200)
    expect(file.headers.get("content-type")).toContain("application/jsonl")
    const served = (await file.text()).trim().split("\n")
    expect(served).toHaveLength(3)
    for (const line of served) expect(JSON.parse(line)).toMatchObject({ kind: "userErrors" })
    expect((await stack.admin(`/app/jobs/${job_id}/errors.jsonl`, { shop: "other.myshopify.com" })).status).toBe(404)
    shop.faults.clear()
  })

  it("THROTTLED answers and a burst of 5xx are waited out; the job still completes", async () => {
    const shop = stack.sim.shop(SHOP)
    shop.faults.throttleNext(2)
    shop.faults.httpErrorNext(503, 2)
    const res = await stack.post(body({ dry_run: false, value: "Throttled" }))
    const { job_id } = await res.json() as { job_id: string }
    const done = await stack.awaitJobEvent(job_id, ["job.completed", "job.failed"])
    expect(done.type).toBe("job.completed")
    expect(done.data).toMatchObject({ updatedCount: 15 })
  })

  it("a transient failure the adapter gives up on is retried by the job, which then succeeds", async () => {
    const shop = stack.sim.shop(SHOP)
    shop.faults.httpErrorNext(500, 6, { match: { rootField: "bulkOperationRunQuery" } })
    const res = await stack.post(body({ dry_run: true, value: "Retried" }))
    const { job_id } = await res.json() as { job_id: string }
    const done = await stack.awaitJobEvent(job_id, ["job.completed", "job.failed"])
    expect(done.type).toBe("job.completed")
    const types = (await stack.jobEvents(job_id)).map((e) => e.type)
    expect(types).toContain("job.retry_scheduled")
    shop.faults.clear()
  })

  it("a bulk operation that ends FAILED fails the job with a human message", async () => {
    const shop = stack.sim.shop(SHOP)
    shop.faults.failNextBulkOperation({ errorCode: "INTERNAL_SERVER_ERROR", type: "QUERY" })
    const res = await stack.post(body({ dry_run: true, value: "Doomed" }))
    const { job_id } = await res.json() as { job_id: string }
    const done = await stack.awaitJobEvent(job_id, ["job.completed", "job.failed"])
    expect(done.type).toBe("job.failed")
    expect(done.data).toMatchObject({ code: "BULK_OP_FAILED" })
    expect(String(done.data["message"])).toMatch(/failed.*INTERNAL_SERVER_ERROR/)
  })

  it("undo restores every product's previous value, or deletes it where none existed, as a compensating job", async () => {
    const shop = stack.sim.shop(SHOP)
    shop.setMetafield(shop.productGid(3), { namespace: "custom", key: "undo_me", type: "single_line_text_field", value: "Before" })
    const res = await stack.post(body({ dry_run: false, key: "undo_me", value: "After", query_string: "status:active tag:winter" }))
    const { job_id } = await res.json() as { job_id: string }
    expect((await stack.awaitJobEvent(job_id, ["job.completed", "job.failed"])).type).toBe("job.completed")
    const value = (n: number) => shop.metafield(shop.productGid(n), "custom", "undo_me")?.value ?? null
    expect(value(3)).toBe("After")
    expect(value(5)).toBe("After")
    // the admin API reads the projected job list: wait until it shows the job completed
    for (;;) {
      const r = await stack.admin(`/app/jobs/${job_id}`)
      if (r.status === 200 && (await r.json() as { job: { status: string } }).job.status === "COMPLETED") break
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    expect((await stack.admin(`/app/jobs/${job_id}/undo`, { method: "POST", shop: "other.myshopify.com" })).status).toBe(404)
    const undo = await stack.admin(`/app/jobs/${job_id}/undo`, { method: "POST" })
    expect(undo.status).toBe(202)
    const { undo_job_id: undoJobId } = await undo.json() as { undo_job_id: string }
    // the 202 comes once the undo job is recorded: read right away, it is there (not a 404)
    const right = await stack.admin(`/app/jobs/${undoJobId}`)
    expect(right.status).toBe(200)
    expect((await right.json() as { job: { undo_of: string | null } }).job.undo_of).toBe(job_id)
    const undone = await stack.awaitJobEvent(undoJobId, ["job.completed", "job.failed"])
    expect(undone.type).toBe("job.completed")
    expect(undone.data).toMatchObject({ matchedCount: 15, updatedCount: 15, failedCount: 0 })
    expect(value(3)).toBe("Before")
    for (const n of [1, 5, 7, 29]) expect(value(n), `product ${n}`).toBeNull()
    const original = (await stack.jobEvents(job_id)).map((e) => e.type)
    expect(original.at(-1)).toBe("job.undo_requested")
    expect(original).toContain("job.completed")
    // the job list and detail show both jobs; a second undo is refused
    const again = await stack.admin(`/app/jobs/${job_id}/undo`, { method: "POST" })
    expect(again.status).toBe(409)
    let detail = await stack.admin(`/app/jobs/${undoJobId}`)
    // two projections (jobs, job_timeline) follow the log independently: wait for both
    const settled = async (r: Response) => {
      const d = await r.clone().json() as { job?: { status: string }; events?: Array<{ event_type: string }> }
      return d.job?.status === "COMPLETED" && (d.events ?? []).some((e) => e.event_type === "JOB_COMPLETED")
    }
    while (!(await settled(detail))) {
      await new Promise((resolve) => setTimeout(resolve, 20))
      detail = await stack.admin(`/app/jobs/${undoJobId}`)
    }
    expect(detail.status).toBe(200)
    const shown = await detail.json() as { job: { status: string; updated_count: number }; events: Array<{ event_type: string }> }
    expect(shown.job).toMatchObject({ status: "COMPLETED", updated_count: 15 })
    expect(shown.events.map((e) => e.event_type)).toContain("JOB_COMPLETED")
  })

  it("the same request again is a 409 naming the existing job; a Flow re-send of the same run is the same job", async () => {
    const first = await stack.post(body({ dry_run: true, value: "Dup" }))
    const { job_id } = await first.json() as { job_id: string }
    const again = await stack.post(body({ dry_run: true, value: "Dup" }))
    expect(again.status).toBe(409)
    expect((await again.json() as { job_id: string }).job_id).toBe(job_id)
    const flow = { shop_id: "1", shopify_domain: SHOP, action_run_id: "run-42", action_definition_id: "x", handle: "set-metafield", properties: { ...body({ value: "Flow", dry_run: "true", max_items: "100" }) } }
    const f1 = await stack.post(flow)
    expect(f1.status).toBe(200)
    const f2 = await stack.post(flow)
    expect(f2.status).toBe(200)
    expect((await f2.json() as { job_id: string }).job_id).toBe((await f1.json() as { job_id: string }).job_id)
  })

  it("a bad signature is 401 and every invalid field is listed in one 400", async () => {
    const bad = await stack.post(body(), { secret: "wrong" })
    expect(bad.status).toBe(401)
    const invalid = await stack.post(body({ namespace: "Bad-NS", key: "", type: "color_swatch", value: "x".repeat(2000), max_items: 0 }))
    expect(invalid.status).toBe(400)
    const problem = await invalid.json() as { error: { details: Array<{ field: string }> } }
    const fields = new Set(problem.error.details.map((d) => d.field))
    for (const f of ["namespace", "key", "type", "value", "max_items"]) expect(fields.has(f), f).toBe(true)
  })
})
