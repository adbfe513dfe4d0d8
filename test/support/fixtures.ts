import type { AppendMetadata, NewEvent } from "../../domain/events/Envelope.ts"
import { type Job, type JobParameters, replay } from "../../domain/jobs/index.ts"

export const meta = (correlationId = "corr-1"): AppendMetadata => ({
  correlationId,
  causationId: null,
  actor: { kind: "system", id: "test" }
})

export const ev = (type: string, data: unknown = {}, extra?: Partial<NewEvent>): NewEvent => ({ type, data, ...extra })

/** A job a worker is running (PENDING → RUNNING), folded from its events as the decider does. */
export const runningJob = (request: { readonly jobId: string; readonly shop: string; readonly input: JobParameters }): Job => {
  const at = "2026-12-07T00:00:00Z"
  const state = replay([
    { type: "job.requested", ...request, inputHash: "test", actionRunId: null, source: "api", requestedBy: null, undoOf: null, occurredAt: at },
    { type: "job.started", jobId: request.jobId, occurredAt: at }
  ])
  if (!state.exists) throw new Error("the job.requested event made no job")
  return state
}
