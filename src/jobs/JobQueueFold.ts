/**
 * The job queue decider's state (`domain/jobs/JobQueue.ts`) as a snapshot-able fold of a
 * `jobqueue-<shop>` stream: a shop's queue stream grows with every job it ever ran, so its
 * actor loads the latest snapshot plus the tail. Bump `JOB_QUEUE_FOLD_VERSION` when `JobQueue`'s
 * shape or `evolveQueue` changes: older snapshots are then ignored.
 */
import { Schema } from "effect"
import { decodeJobQueueEvent, emptyQueue, evolveQueue, type JobQueue } from "../../domain/jobs/JobQueue.ts"
import type { Fold } from "../eventstore/EventStore.ts"

export const JOB_QUEUE_FOLD_VERSION = 1

const JobQueueSchema = Schema.Struct({
  running: Schema.NullOr(Schema.String),
  waiting: Schema.Array(Schema.String)
})

/** An event that does not decode changes nothing (as the actor has always done). */
export const jobQueueFold: Fold<JobQueue> = {
  name: "jobqueue",
  version: JOB_QUEUE_FOLD_VERSION,
  initial: () => emptyQueue,
  evolve: (queue, event) => {
    const decoded = decodeJobQueueEvent(event.data)
    return decoded === undefined ? queue : evolveQueue(queue, decoded)
  },
  schema: JobQueueSchema
}
