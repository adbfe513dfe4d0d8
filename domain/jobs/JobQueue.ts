/**
 * A shop's Flowmend job queue, as a decider over its `jobqueue-<shop>` stream: one job runs at
 * a time (the seed's "one bulk mutation per shop at a time"); the others wait in request order.
 * The job stream decides a job's own life (`JobDecider.ts`); this one only who runs next.
 */
import { Result, Schema } from "effect"

export const JobQueueEvent = Schema.Union([
  Schema.Struct({ type: Schema.Literal("jobqueue.enqueued"), jobId: Schema.String }),
  Schema.Struct({ type: Schema.Literal("jobqueue.started"), jobId: Schema.String }),
  Schema.Struct({ type: Schema.Literal("jobqueue.finished"), jobId: Schema.String })
])
/** Stored as its own data (`{ type, jobId }`). */
export type JobQueueEvent = typeof JobQueueEvent.Type

const decodeEvent = Schema.decodeUnknownResult(JobQueueEvent)

/** A stored queue event, decoded; `undefined` for data that does not fit. */
export const decodeJobQueueEvent = (data: unknown): JobQueueEvent | undefined => {
  const decoded = decodeEvent(data)
  return Result.isSuccess(decoded) ? decoded.success : undefined
}

export interface JobQueue {
  /** The job holding the shop's bulk slot, if any. */
  readonly running: string | null
  /** Jobs waiting, oldest request first. */
  readonly waiting: ReadonlyArray<string>
}

export const emptyQueue: JobQueue = { running: null, waiting: [] }

export const evolveQueue = (q: JobQueue, e: JobQueueEvent): JobQueue => {
  switch (e.type) {
    case "jobqueue.enqueued":
      return { ...q, waiting: [...q.waiting, e.jobId] }
    case "jobqueue.started":
      return { running: e.jobId, waiting: q.waiting.filter((j) => j !== e.jobId) }
    case "jobqueue.finished":
      return { running: q.running === e.jobId ? null : q.running, waiting: q.waiting.filter((j) => j !== e.jobId) }
  }
}

export const isQueued = (q: JobQueue, jobId: string): boolean => q.running === jobId || q.waiting.includes(jobId)

/** A new job joins the queue (a job already in it is not queued twice). */
export const enqueue = (q: JobQueue, jobId: string): ReadonlyArray<JobQueueEvent> =>
  isQueued(q, jobId) ? [] : [{ type: "jobqueue.enqueued", jobId }]

/** A finished job leaves the queue, whether it ran or still waited (a job cancelled early). */
export const finish = (q: JobQueue, jobId: string): ReadonlyArray<JobQueueEvent> =>
  isQueued(q, jobId) ? [{ type: "jobqueue.finished", jobId }] : []

/** The oldest waiting job starts when nothing runs; nothing happens otherwise. */
export const startNext = (q: JobQueue): ReadonlyArray<JobQueueEvent> =>
  q.running !== null || q.waiting.length === 0 ? [] : [{ type: "jobqueue.started", jobId: q.waiting[0]! }]
