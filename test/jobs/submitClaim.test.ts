/**
 * Invariant 9 for Flowmend's bulk mutations: the watchdog re-drives a step that went quiet,
 * while that step's first submit may still be running (a slow answer from Shopify). Both
 * look-ups would find nothing and both would submit. A submit is claimed (in process, and by
 * a transaction-scoped advisory lock across processes): the second waits for the first, then
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

const calls = (field: string) => stack.sim.http.log.filter((e) => e.body?.includes(field) === true).length

it("a mutation submit slower than the watchdog is re-driven meanwhile, and Shopify still gets one mutation", async () => {
  const shop = stack.sim.shop(SHOP)
  // The first submit's answer comes after twice the harness's watchdog (3 s): the watchdog
  // re-drives the step while the submit is still in flight.
  stack.sim.http.faults.delayNext(7_000, { match: { where: (r) => r.body?.includes("bulkOperationRunMutation") === true } })
  const lookupsBefore = calls("operation_type:mutation")
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
  expect(shop.bulkOperations().filter((op) => op.type === "MUTATION")).toHaveLength(1)
  expect(calls("bulkOperationRunMutation")).toBe(1)
}, 60_000)
