/**
 * Crash safety: the worker dies while a job's bulk mutation runs at Shopify. A new worker
 * on the same database finishes the job exactly once, and the chunk's mutation is never
 * submitted a second time.
 */
import { afterAll, beforeAll, expect, it } from "vitest"
import { SHOP, startJobStack } from "../support/jobHarness.ts"

let stack: Awaited<ReturnType<typeof startJobStack>>

beforeAll(async () => {
  stack = await startJobStack({
    products: Array.from({ length: 25 }, (_, i) => ({ title: `P${i}`, status: "ACTIVE", tags: i % 5 === 0 ? ["sale"] : [] })),
    bulkPace: "manual"
  })
}, 120_000)

afterAll(async () => {
  await stack?.close()
})

it("a worker killed while its bulk mutation runs: the job completes once, the chunk is never resubmitted", async () => {
  const shop = stack.sim.shop(SHOP)
  const res = await stack.post({ query_string: "tag:sale", namespace: "custom", key: "crash", type: "boolean", value: "true", dry_run: false })
  expect(res.status).toBe(202)
  const { job_id } = await res.json() as { job_id: string }

  const query = await stack.awaitJobEvent(job_id, ["job.bulk_query_started"])
  await shop.bulk.complete(String(query.data["bulkOperationId"]))
  const mutation = await stack.awaitJobEvent(job_id, ["job.bulk_mutation_started"])

  // the worker dies; meanwhile Shopify finishes the mutation
  await stack.restart()
  await shop.bulk.complete(String(mutation.data["bulkOperationId"]))

  const done = await stack.awaitJobEvent(job_id, ["job.completed", "job.failed"])
  expect(done.type).toBe("job.completed")
  expect(done.data).toMatchObject({ matchedCount: 5, updatedCount: 5, failedCount: 0 })
  const events = (await stack.jobEvents(job_id)).map((e) => e.type)
  expect(events.filter((t) => t === "job.completed")).toHaveLength(1)
  expect(events.filter((t) => t === "job.bulk_mutation_started")).toHaveLength(1)
  expect(shop.bulkOperations().filter((op) => op.type === "MUTATION")).toHaveLength(1)
  for (const n of [1, 6, 11, 16, 21]) expect(shop.metafield(shop.productGid(n), "custom", "crash")?.value).toBe("true")
}, 60_000)
