/**
 * Reading your writes through the admin API: a job the Flow endpoint accepted (202) is readable
 * at once with `GET /app/jobs/:id`, although the job read model is a projection that follows
 * the log, and the job is only in the log once the shop's actor has handled the request.
 *
 * The suites run without projections, so the read model never has the job: every 200 here is
 * the route reading the job's own stream, or waiting for the actor to record an accepted job.
 * A last suite runs with everything and checks that the job folded from its stream is exactly
 * what the projections show once they have caught up.
 */
import { Effect, Option, Stream } from "effect"
import { SqlClient } from "effect/sql"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { foldJobDetail, type JobDetailResponse } from "../../adapters/http/AdminJobRoutes.ts"
import { EventStore } from "../../src/eventstore/EventStore.ts"
import { handleJobCommand, jobParams, requestJob } from "../support/jobCommands.ts"
import { SHOP, startJobStack } from "../support/jobHarness.ts"

type Stack = Awaited<ReturnType<typeof startJobStack>>

const products = Array.from({ length: 6 }, (_, i) => ({ title: `RYW ${i}`, status: "ACTIVE", tags: ["ryw"] }))

let run = 0
/** A fresh dry-run request (distinct values: identical inputs would be a 409 duplicate). */
const flowBody = () => ({
  query_string: "tag:ryw",
  namespace: "custom",
  key: "read_your_writes",
  type: "single_line_text_field",
  value: `value ${Date.now()}-${run++}`,
  dry_run: true,
  max_items: 100
})

const accept = async (stack: Stack, body = flowBody()) => {
  const res = await stack.post(body)
  expect(res.status).toBe(202)
  return { body, jobId: ((await res.json()) as { job_id: string }).job_id }
}

describe("GET /app/jobs/:id right after the Flow endpoint's 202 (no projections: the read model never has the job)", () => {
  let stack: Stack
  beforeAll(async () => {
    stack = await startJobStack({ products, projections: false })
  }, 120_000)
  afterAll(async () => {
    await stack?.close()
  })

  it("returns the job with what was asked, not a 404", async () => {
    const { body, jobId } = await accept(stack)
    const res = await stack.admin(`/app/jobs/${jobId}`)
    expect(res.status).toBe(200)
    const detail = (await res.json()) as JobDetailResponse
    expect(detail.job).toMatchObject({
      id: jobId,
      query_string: body.query_string,
      namespace: body.namespace,
      key: body.key,
      type: body.type,
      value: body.value,
      dry_run: true,
      max_items: 100
    })
    expect(detail.events[0]).toMatchObject({ event_type: "JOB_CREATED" })
    // the read model really does not have it: the answer came from the log
    const rows = await stack.runtime.runPromise(Effect.flatMap(SqlClient.SqlClient, (sql) => sql`SELECT 1 FROM jobs WHERE job_id = ${jobId}`))
    expect(rows).toEqual([])
  })

  it("follows the job in the log as it runs, until it is done", async () => {
    const { jobId } = await accept(stack)
    await stack.awaitJobEvent(jobId, ["job.completed", "job.failed"])
    const detail = (await (await stack.admin(`/app/jobs/${jobId}`)).json()) as JobDetailResponse
    expect(detail.job).toMatchObject({ id: jobId, status: "COMPLETED", matched_count: 6 })
    expect(detail.events.map((e) => e.event_type)).toEqual(["JOB_CREATED", "JOB_STARTED", "QUERY_STARTED", "QUERY_COMPLETED", "JOB_COMPLETED"])
  })

  it("is still a 404 for another shop, and for a job nobody asked for", async () => {
    const { jobId } = await accept(stack)
    expect((await stack.admin(`/app/jobs/${jobId}`, { shop: "someone-else.myshopify.com" })).status).toBe(404)
    expect((await stack.admin(`/app/jobs/${crypto.randomUUID()}`)).status).toBe(404)
    expect((await stack.admin("/app/jobs/not-a-job-id")).status).toBe(404)
  })
})

describe("a job accepted while the shop's actor has not recorded it yet (no worker)", () => {
  let stack: Stack
  beforeAll(async () => {
    stack = await startJobStack({ products, worker: false, projections: false, awaitAcceptedJobMs: 1_500 })
  }, 120_000)
  afterAll(async () => {
    await stack?.close()
  })

  it("is waited for, and returned as soon as it is recorded", async () => {
    const { jobId } = await accept(stack)
    const answer = stack.admin(`/app/jobs/${jobId}`)
    // the request waits instead of answering 404 …
    const early = await Promise.race([answer.then(() => "answered"), new Promise((resolve) => setTimeout(() => resolve("waiting"), 300))])
    expect(early).toBe("waiting")
    // … until the job is recorded (as the actor would record it), then answers with it
    const value = "Recorded while the reader waited"
    await stack.runtime.runPromise(handleJobCommand(SHOP, requestJob(jobId, SHOP, jobParams({ value }), new Date().toISOString())))
    const res = await answer
    expect(res.status).toBe(200)
    expect(((await res.json()) as JobDetailResponse).job).toMatchObject({ id: jobId, value, status: "PENDING" })
  })

  it("is a 503 NOT_YET_RECORDED with Retry-After when the actor does not record it in time; another shop still gets 404", async () => {
    const { jobId } = await accept(stack)
    const res = await stack.admin(`/app/jobs/${jobId}`)
    expect(res.status).toBe(503)
    expect(res.headers.get("retry-after")).toBe("1")
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("NOT_YET_RECORDED")
    expect((await stack.admin(`/app/jobs/${jobId}`, { shop: "someone-else.myshopify.com" })).status).toBe(404)
  })
})

describe("the job read from its stream is the job the projections show", () => {
  let stack: Stack
  beforeAll(async () => {
    stack = await startJobStack({ products })
  }, 120_000)
  afterAll(async () => {
    await stack?.close()
  })

  it("field for field, timeline included, once they have caught up", async () => {
    const { jobId } = await accept(stack, { ...flowBody(), dry_run: false })
    await stack.awaitJobEvent(jobId, ["job.completed", "job.failed"])
    // the read model's answer, once both projections show the finished job
    let projected: JobDetailResponse
    for (;;) {
      const res = await stack.admin(`/app/jobs/${jobId}`)
      projected = (await res.json()) as JobDetailResponse
      if (projected.job.status === "COMPLETED" && projected.events.some((e) => e.event_type === "JOB_COMPLETED")) break
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    const events = await stack.runtime.runPromise(Stream.runCollect(EventStore.use((store) => Effect.succeed(store.readStream(`job-${jobId}`))).pipe(Stream.unwrap)))
    expect(Option.getOrThrow(foldJobDetail(SHOP, events))).toEqual(projected)
    expect(Option.isNone(foldJobDetail("someone-else.myshopify.com", events))).toBe(true)
  })
})
