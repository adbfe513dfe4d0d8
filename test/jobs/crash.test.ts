/**
 * Crash safety: the worker dies while a job's bulk mutation runs at Shopify. A new worker
 * on the same database finishes the job exactly once, and the chunk's mutation is never
 * submitted a second time.
 *
 * Invariant 9 for the same submits: the watchdog re-drives a step that went quiet, while that
 * step's first submit may still be running (a slow answer from Shopify). Both look-ups would
 * find nothing and both would submit. A submit is claimed (in process, and by a
 * transaction-scoped advisory lock across processes): the second waits for the first, then
 * finds its mutation.
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

const calls = (field: string) => stack.sim.http.log.filter((e) => e.body?.includes(field) === true).length

it("a mutation submit slower than the watchdog is re-driven meanwhile, and Shopify still gets one mutation", async () => {
  const shop = stack.sim.shop(SHOP)
  // The first submit's answer comes after twice the harness's watchdog (3 s): the watchdog
  // re-drives the step while the submit is still in flight.
  stack.sim.http.faults.delayNext(7_000, { match: { where: (r) => r.body?.includes("bulkOperationRunMutation") === true } })
  const lookupsBefore = calls("operation_type:mutation")
  // the crash test above ran on the same shop: count this job's mutations only
  const mutationsBefore = shop.bulkOperations().filter((op) => op.type === "MUTATION").length
  const submitsBefore = calls("bulkOperationRunMutation")
  const res = await stack.post({ query_string: "tag:sale", namespace: "custom", key: "claim", type: "boolean", value: "true", dry_run: false })
  expect(res.status).toBe(202)
  const { job_id } = await res.json() as { job_id: string }
  const query = await stack.awaitJobEvent(job_id, ["job.bulk_query_started"])
  await shop.bulk.complete(String(query.data["bulkOperationId"]))
  const mutation = await stack.awaitJobEvent(job_id, ["job.bulk_mutation_started"])
  await shop.bulk.complete(String(mutation.data["bulkOperationId"]))
  const done = await stack.awaitJobEvent(job_id, ["job.completed", "job.failed"])
  expect(done.type).toBe("job.completed")
  // the step was driven twice (two look-ups before submitting)…
  expect(calls("operation_type:mutation") - lookupsBefore).toBeGreaterThanOrEqual(2)
  // …and submitted once
  expect(shop.bulkOperations().filter((op) => op.type === "MUTATION").length - mutationsBefore).toBe(1)
  expect(calls("bulkOperationRunMutation") - submitsBefore).toBe(1)
}, 60_000)
