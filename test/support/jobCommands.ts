/**
 * Jobs as the shop actor produces them, for tests that need real job events without the
 * actor: each command is decided against the job's stream and its events appended (expected
 * version checked, one append per command).
 */
import { Effect, Result, Stream } from "effect"
import { decide, decodeJobEvent, type JobCommand, type JobEvent, type JobParameters, type JobState, replay, type RequestJob } from "../../domain/jobs/index.ts"
import { EventStore } from "../../src/eventstore/EventStore.ts"
import { liveInput } from "../domain/jobs/fixtures.ts"
import { ev, meta } from "./fixtures.ts"

/** The seed's example live job, with some parameters changed. */
export const jobParams = (overrides: Partial<JobParameters> = {}): JobParameters => ({ ...liveInput, ...overrides })

/** A `RequestJob` whose input hash is derived from the job id (distinct jobs never collide). */
export const requestJob = (jobId: string, shop: string, input: JobParameters, at: string, overrides: Partial<RequestJob> = {}): RequestJob => ({
  type: "RequestJob",
  jobId,
  shop,
  input,
  inputHash: jobId.replaceAll("-", "").padEnd(64, "0"),
  actionRunId: null,
  source: "flow",
  requestedBy: null,
  undoOf: null,
  at,
  ...overrides
})

/** A stored job event, decoded (its envelope type put on the payload); throws when it does not decode. */
export const decodeStored = (data: unknown, type: string): JobEvent => {
  const r = decodeJobEvent({ ...(data as object), type })
  if (Result.isFailure(r)) throw new Error(`stored job event does not decode: ${r.failure.message}`)
  return r.success
}

/** Decides `command` against the job's stream and appends its events; the new state and the events. */
export const handleJobCommand = (shop: string, command: JobCommand) =>
  Effect.gen(function*() {
    const store = yield* EventStore
    const streamId = `job-${command.jobId}`
    const stored = Array.from(yield* Stream.runCollect(store.readStream(streamId)))
    const state = replay(stored.map((e) => decodeStored(e.data, e.type)))
    const decision = decide(command, state)
    if (Result.isFailure(decision)) return yield* Effect.die(decision.failure)
    const events = decision.success
    if (events.length > 0) {
      yield* store.append(
        streamId,
        shop,
        stored.length === 0 ? "no_stream" : stored.length,
        events.map((e) => ev(e.type, e, { occurredAt: new Date(e.occurredAt) })),
        meta(`corr-${command.jobId}`)
      )
    }
    return { state: replay(events, state), events }
  })

/** Each command in turn; the state and events after the last. */
export const handleJobCommands = (shop: string, commands: ReadonlyArray<JobCommand>) =>
  Effect.gen(function*() {
    let last: { state: JobState; events: ReadonlyArray<JobEvent> } = { state: { exists: false }, events: [] }
    for (const command of commands) last = yield* handleJobCommand(shop, command)
    return last
  })
