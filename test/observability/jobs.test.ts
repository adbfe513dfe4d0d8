/**
 * The job part of production observability (seed 002, "Monitoring & Observability"), through
 * a real job stack (PostgreSQL, the shop actor running the job process, the Shopify simulator
 * with bulk operations the test finishes by hand): `/metrics` shows the job outcomes, the
 * job duration histogram, the queue depth per shop and Shopify's error answers by status;
 * every job step logs one line with the seed's fields.
 *
 * Metrics are per process and this file shares one, so every assertion is on a difference
 * between two scrapes.
 */
import { Hono } from "hono"
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest"
import { mountHealthRoutes } from "../../adapters/http/HealthRoutes.ts"
import { SHOP, startJobStack } from "../support/jobHarness.ts"

// 20 active products; the even ones are tagged winter (10 match `tag:winter`).
const catalog = Array.from({ length: 20 }, (_, i) => ({ title: `Product ${i}`, status: "ACTIVE", tags: i % 2 === 0 ? ["winter"] : ["summer"] }))

const body = (overrides: Record<string, unknown>) => ({
  query_string: "tag:winter",
  namespace: "custom",
  key: "observed",
  type: "single_line_text_field",
  value: "v",
  dry_run: true,
  max_items: 5000,
  ...overrides
})

/** The sum of the samples of `name` whose labels include `labels` (0 when there is none). */
const sample = (text: string, name: string, labels: Record<string, string> = {}): number => {
  let total = 0
  for (const line of text.split("\n")) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)$/.exec(line)
    if (m === null || m[1] !== name) continue
    const found = Object.fromEntries([...(m[2] ?? "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1], l[2]]))
    if (Object.entries(labels).every(([k, v]) => found[k] === v)) total += Number(m[3])
  }
  return total
}

/** Polls until `check` holds (after-commit effects run just after the commit a test waits for). */
const eventually = async (check: () => Promise<boolean>, what: string, timeoutMs = 10_000) => {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

describe("job observability", () => {
  let stack: Awaited<ReturnType<typeof startJobStack>>
  const ops = new Hono()

  beforeAll(async () => {
    stack = await startJobStack({ products: catalog, bulkPace: "manual" })
    // the process's health and metrics routes, over the stack's runtime
    mountHealthRoutes(ops, (effect) => stack.runtime.runPromise(effect))
  }, 120_000)

  afterEach(() => {
    stack.sim.shop(SHOP).faults.clear()
    vi.restoreAllMocks()
  })

  afterAll(async () => {
    await stack?.close()
  })

  const scrape = async () => {
    const res = await ops.request("/metrics")
    expect(res.status).toBe(200)
    expect(res.headers.get("content-type")).toContain("text/plain")
    return res.text()
  }
  const depth = async () => sample(await scrape(), "sumeru_job_queue_depth", { shop: SHOP })

  const accept = async (overrides: Record<string, unknown>) => {
    const res = await stack.post(body(overrides))
    expect(res.status).toBe(202)
    return (await res.json() as { job_id: string }).job_id
  }
  /** Finishes the job's current bulk operation at the simulator, once the job has recorded it. */
  const finishBulk = async (jobId: string, started: "job.bulk_query_started" | "job.bulk_mutation_started") => {
    const event = await stack.awaitJobEvent(jobId, [started])
    await stack.sim.shop(SHOP).bulk.complete(String(event.data["bulkOperationId"]))
  }

  it("/healthz answers while jobs run", async () => {
    const res = await ops.request("/healthz")
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ status: "ok" })
  })

  it("/metrics shows the process's memory: resident set, V8 heap used and reserved, external (the embedded database's WebAssembly memory in embedded mode)", async () => {
    const text = await scrape()
    const now = process.memoryUsage()
    const rss = sample(text, "process_resident_memory_bytes")
    // read at the scrape, in this very process: the same order of magnitude as a reading now
    expect(rss).toBeGreaterThan(now.rss / 2)
    expect(rss).toBeLessThan(now.rss * 2)
    const used = sample(text, "nodejs_heap_size_used_bytes")
    expect(used).toBeGreaterThan(0)
    expect(used).toBeLessThanOrEqual(sample(text, "nodejs_heap_size_total_bytes"))
    expect(sample(text, "nodejs_external_memory_bytes")).toBeGreaterThan(0)
  })

  it("queue depth rises with queued jobs and falls to 0; each outcome is counted once, with its duration", async () => {
    const before = await scrape()
    const live = await accept({ dry_run: false, value: "queued-live" })
    const dry = await accept({ dry_run: true, value: "queued-dry" })
    // `live` runs (its bulk query waits for the test), `dry` waits behind it
    await stack.awaitJobEvent(live, ["job.bulk_query_started"])
    await stack.awaitJobEvent(dry, ["job.requested"])
    await eventually(async () => (await depth()) === 2, "queue depth 2")

    await finishBulk(live, "job.bulk_query_started")
    await finishBulk(live, "job.bulk_mutation_started")
    expect((await stack.awaitJobEvent(live, ["job.completed", "job.failed"])).type).toBe("job.completed")
    await eventually(async () => (await depth()) === 1, "queue depth 1 (the dry run left)")
    await finishBulk(dry, "job.bulk_query_started")
    expect((await stack.awaitJobEvent(dry, ["job.completed", "job.failed"])).type).toBe("job.completed")
    await eventually(async () => (await depth()) === 0, "queue depth 0")

    const after = await scrape()
    const delta = (name: string, labels: Record<string, string>) => sample(after, name, labels) - sample(before, name, labels)
    // many messages touched each job (polls, progress, webhooks): each one still counts once
    expect(delta("sumeru_jobs_finished_total", { outcome: "completed" })).toBe(2)
    expect(delta("sumeru_jobs_finished_total", { outcome: "failed" })).toBe(0)
    // 10 products matched: the "1-100" size bucket
    expect(delta("sumeru_job_duration_seconds_count", { outcome: "completed", size: "1-100" })).toBe(2)
    expect(delta("sumeru_job_duration_seconds_sum", { outcome: "completed", size: "1-100" })).toBeGreaterThan(0)
    expect(after).toMatch(/# TYPE sumeru_job_duration_seconds histogram/)
    expect(after).toContain(`sumeru_job_queue_depth{shop="${SHOP}"} 0`)
  }, 60_000)

  it("Shopify's error answers are counted by status (throttling included); a rejected token fails the job", async () => {
    const shop = stack.sim.shop(SHOP)
    const before = await scrape()
    shop.faults.throttleNext(1).httpErrorNext(503, 2)
    const waited = await accept({ dry_run: true, value: "errors-waited-out" })
    await finishBulk(waited, "job.bulk_query_started")
    expect((await stack.awaitJobEvent(waited, ["job.completed", "job.failed"])).type).toBe("job.completed")

    shop.faults.httpErrorNext(401, 1, { match: { rootField: "bulkOperationRunQuery" } })
    const denied = await accept({ dry_run: true, value: "errors-denied" })
    const failed = await stack.awaitJobEvent(denied, ["job.completed", "job.failed"])
    expect(failed.type).toBe("job.failed")
    expect(failed.data).toMatchObject({ code: "ACCESS_DENIED" })
    await eventually(async () => (await depth()) === 0, "queue depth 0")

    const after = await scrape()
    const delta = (name: string, labels: Record<string, string>) => sample(after, name, labels) - sample(before, name, labels)
    expect(delta("sumeru_shopify_api_errors_total", { status: "THROTTLED", operation: "graphql" })).toBe(1)
    expect(delta("sumeru_shopify_api_errors_total", { status: "503", operation: "graphql" })).toBe(2)
    expect(delta("sumeru_shopify_api_errors_total", { status: "401", operation: "graphql" })).toBe(1)
    expect(delta("sumeru_shopify_api_errors_total", {})).toBe(4)
    expect(delta("sumeru_jobs_finished_total", { outcome: "completed" })).toBe(1)
    expect(delta("sumeru_jobs_finished_total", { outcome: "failed" })).toBe(1)
    expect(delta("sumeru_job_duration_seconds_count", { outcome: "failed", size: "0" })).toBe(1)
  }, 60_000)

  it("every job step logs one line with shop_id, job_id, event_type, duration_ms and its counts", async () => {
    // Effect's default logger hands a line's annotations to console.log as one object
    const lines: Array<{ readonly message: string; readonly fields: Record<string, unknown> }> = []
    vi.spyOn(console, "log").mockImplementation((...args: Array<unknown>) => {
      const fields = args.at(-1)
      if (typeof fields === "object" && fields !== null && "event_type" in fields) {
        lines.push({ message: args.slice(1, -1).map(String).join(" "), fields: fields as Record<string, unknown> })
      }
    })
    const jobId = await accept({ dry_run: false, value: "logged" })
    await finishBulk(jobId, "job.bulk_query_started")
    await finishBulk(jobId, "job.bulk_mutation_started")
    expect((await stack.awaitJobEvent(jobId, ["job.completed", "job.failed"])).type).toBe("job.completed")
    await eventually(async () => lines.some((l) => l.fields["job_id"] === jobId && l.fields["event_type"] === "JOB_COMPLETED"), "the JOB_COMPLETED line")

    const ofJob = lines.filter((l) => l.fields["job_id"] === jobId)
    const line = (eventType: string) => {
      const found = ofJob.filter((l) => l.fields["event_type"] === eventType)
      expect(found, eventType).toHaveLength(1)
      return found[0]!.fields
    }
    const base = { shop_id: SHOP, job_id: jobId }
    const isDuration = expect.any(Number)
    // one line per step, the step's side effect timed
    expect(line("QUERY_STARTED")).toMatchObject({ ...base, step: "submit_query", attempt: 1, duration_ms: isDuration, bulk_operation_id: expect.any(String) })
    expect(line("QUERY_COMPLETED")).toMatchObject({ ...base, step: "store_snapshot", duration_ms: isDuration, matched_count: 10, truncated: false })
    expect(line("UPLOAD_COMPLETED")).toMatchObject({ ...base, step: "upload_chunk", duration_ms: isDuration, chunk_index: 0, line_count: 10, byte_count: expect.any(Number) })
    expect(line("MUTATION_STARTED")).toMatchObject({ ...base, step: "submit_chunk", duration_ms: isDuration, chunk_index: 0 })
    expect(line("MUTATION_COMPLETED")).toMatchObject({ ...base, step: "read_chunk_result", duration_ms: isDuration, chunk_index: 0, updated_count: 10, failed_count: 0 })
    expect(line("UPLOAD_COMPLETED")["byte_count"]).toBeGreaterThan(0)
    // the lifecycle, logged once its event is committed
    expect(line("JOB_CREATED")).toMatchObject({ ...base, dry_run: false })
    expect(line("JOB_STARTED")).toMatchObject({ ...base, queued_ms: expect.any(Number) })
    expect(line("JOB_COMPLETED")).toMatchObject({
      ...base, outcome: "completed", duration_ms: isDuration, matched_count: 10, updated_count: 10, failed_count: 0
    })
    expect(ofJob.find((l) => l.fields["event_type"] === "JOB_COMPLETED")!.message).toMatch(/completed/)
  }, 60_000)
})
