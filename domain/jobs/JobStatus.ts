/**
 * The lifecycle status of a bulk job, exactly the seed's `JobStatus` enum:
 * PENDING (enqueued, not started) → RUNNING (worker processing) →
 * COMPLETED (finished, partial per-item failures included) | FAILED
 * (permanent failure, after retries).
 */
import { Schema } from "effect"

export const JobStatus = Schema.Literals(["PENDING", "RUNNING", "COMPLETED", "FAILED"])
export type JobStatus = typeof JobStatus.Type

/** COMPLETED and FAILED are final: nothing moves a job out of them. */
export const isTerminalStatus = (status: JobStatus): status is "COMPLETED" | "FAILED" =>
  status === "COMPLETED" || status === "FAILED"
