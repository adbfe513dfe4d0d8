/**
 * Flowmend bulk-metafield jobs end to end, through HTTP: the Flow action endpoint, the shop
 * actor running the job process, the Shopify simulator's bulk operations, PostgreSQL 15.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
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

let stack: Awaited<ReturnType<typeof startJobStack>>

beforeAll(async () => {
  stack = await startJobStack({ products: catalog })
}, 120_000)

afterAll(async () => {
  await stack?.close()
})

const badge = (n: number) => stack.sim.shop(SHOP).metafield(n, "custom", "seasonal_badge")?.value ?? null

describe("Flowmend jobs through HTTP", () => {
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
