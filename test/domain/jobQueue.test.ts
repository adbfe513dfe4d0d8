/**
 * A shop's job queue (`domain/jobs/JobQueue.ts`), given events / when decision / then events:
 * one job runs at a time, the others wait in request order; a finished job leaves the queue.
 */
import { describe, expect, it } from "vitest"
import { emptyQueue, enqueue, evolveQueue, finish, type JobQueue, type JobQueueEvent, startNext } from "../../domain/jobs/JobQueue.ts"

const given = (...events: ReadonlyArray<JobQueueEvent>): JobQueue => events.reduce(evolveQueue, emptyQueue)
const enqueued = (jobId: string): JobQueueEvent => ({ type: "jobqueue.enqueued", jobId })
const started = (jobId: string): JobQueueEvent => ({ type: "jobqueue.started", jobId })
const finished = (jobId: string): JobQueueEvent => ({ type: "jobqueue.finished", jobId })

describe("job queue", () => {
  it("given an empty queue, when a job is enqueued and the next started, then it runs", () => {
    const q1 = given()
    expect(enqueue(q1, "a")).toEqual([enqueued("a")])
    const q2 = given(enqueued("a"))
    expect(startNext(q2)).toEqual([started("a")])
    expect(given(enqueued("a"), started("a"))).toEqual({ running: "a", waiting: [] })
  })

  it("given a running job, when another is enqueued, then it waits: nothing starts until the first finishes", () => {
    const q = given(enqueued("a"), started("a"), enqueued("b"), enqueued("c"))
    expect(startNext(q)).toEqual([])
    expect(finish(q, "a")).toEqual([finished("a")])
    const after = given(enqueued("a"), started("a"), enqueued("b"), enqueued("c"), finished("a"))
    expect(startNext(after)).toEqual([started("b")]) // request order
  })

  it("a job already queued is not queued twice; a job not in the queue does not finish in it", () => {
    const q = given(enqueued("a"), started("a"), enqueued("b"))
    expect(enqueue(q, "a")).toEqual([])
    expect(enqueue(q, "b")).toEqual([])
    expect(finish(q, "zzz")).toEqual([])
  })

  it("a waiting job that finishes (cancelled before it ran) leaves the queue without starting", () => {
    const q = given(enqueued("a"), started("a"), enqueued("b"), finished("b"))
    expect(q).toEqual({ running: "a", waiting: [] })
  })
})
