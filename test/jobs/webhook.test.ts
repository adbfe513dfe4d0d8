/**
 * `bulk_operations/finish`: Shopify's signed webhook (lowercase status) tells the shop's actor
 * that a bulk operation ended, so a job proceeds without waiting for its next poll. Polling is
 * set to a minute here: the job can only finish in time through the webhooks.
 */
import { afterAll, beforeAll, expect, it } from "vitest"
import { SHOP, startJobStack } from "../support/jobHarness.ts"

let stack: Awaited<ReturnType<typeof startJobStack>>

beforeAll(async () => {
  stack = await startJobStack({
    products: Array.from({ length: 12 }, (_, i) => ({ title: `W${i}`, status: "ACTIVE", tags: ["hook"] })),
    pollMs: 60_000
  })
}, 120_000)

afterAll(async () => {
  await stack?.close()
})

it("a live job finishes through bulk_operations/finish webhooks, without waiting for polls", async () => {
  const started = Date.now()
  const res = await stack.post({ query_string: "tag:hook", namespace: "custom", key: "hooked", type: "number_integer", value: "7", dry_run: false })
  expect(res.status).toBe(202)
  const { job_id } = await res.json() as { job_id: string }
  const done = await stack.awaitJobEvent(job_id, ["job.completed", "job.failed"])
  expect(done.type).toBe("job.completed")
  expect(done.data).toMatchObject({ matchedCount: 12, updatedCount: 12 })
  expect(Date.now() - started).toBeLessThan(30_000) // one poll round would take 60 s
  const delivered = stack.sim.webhookDeliveries().filter((d: { topic?: string }) => d.topic === "bulk_operations/finish")
  expect(delivered.length).toBeGreaterThanOrEqual(2)
  const shop = stack.sim.shop(SHOP)
  expect(shop.metafield(shop.productGid(1), "custom", "hooked")?.value).toBe("7")
}, 60_000)
