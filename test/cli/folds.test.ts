/**
 * The fold registry behind `sumeru streams show` (pure): categories, the job decider's fold,
 * the generic fold, and events that do not decode.
 */
import { describe, expect, it } from "vitest"
import { categoryOf, foldFor, foldStream, genericFold, jobFold } from "../../domain/catalog/folds.ts"
import type { RecordedEvent } from "../../domain/events/Envelope.ts"
import { replay } from "../../domain/jobs/index.ts"
import { completedLiveJob, JOB, SHOP } from "../domain/jobs/fixtures.ts"

const recorded = (streamId: string, version: number, type: string, data: unknown, at = new Date(Date.UTC(2025, 0, 1, version))): RecordedEvent => ({
  position: version,
  eventId: `00000000-0000-4000-8000-${String(version).padStart(12, "0")}`,
  shop: SHOP,
  streamId,
  streamVersion: version,
  type,
  schemaVersion: 1,
  data,
  correlationId: "c",
  causationId: null,
  actor: { kind: "system", id: "test" },
  occurredAt: at,
  recordedAt: at
})

describe("stream folds", () => {
  it("the category is the prefix before the first dash", () => {
    expect(categoryOf(`job-${JOB}`)).toBe("job")
    expect(categoryOf("order-a-b")).toBe("order")
    expect(categoryOf("nodash")).toBe("nodash")
    expect(foldFor(`job-${JOB}`)).toBe(jobFold)
    expect(foldFor("order-1")).toBe(genericFold)
  })

  it("a job stream folds with the decider's evolve over decoded events (the envelope type wins)", () => {
    const events = completedLiveJob()
    const stream = `job-${JOB}`
    // payloads stored without their `type`: the envelope's is used
    const recordedEvents = events.map((e, i) => {
      const { type, ...payload } = e
      return recorded(stream, i + 1, type, payload)
    })
    const result = foldStream(stream, recordedEvents)
    expect(result.state).toEqual(replay(events))
    expect(result).toMatchObject({ version: events.length, eventCount: events.length, skippedCount: 0 })
  })

  it("an event that does not decode is skipped and reported, not guessed at", () => {
    const [requested, started] = completedLiveJob()
    const stream = `job-${JOB}`
    const result = foldStream(stream, [
      recorded(stream, 1, requested!.type, requested),
      recorded(stream, 2, "job.started", { jobId: JOB, occurredAt: "not a time" }),
      recorded(stream, 3, started!.type, started)
    ])
    expect(result.state).toEqual(replay([requested!, started!]))
    expect(result.skippedCount).toBe(1)
    expect(result.skipped).toEqual([expect.objectContaining({ streamVersion: 2, type: "job.started" })])
    expect(result.version).toBe(3)
  })

  it("other streams get counts, first/last event and a shallow merge of object data", () => {
    const result = foldStream("order-1", [
      recorded("order-1", 1, "order.created", { total: 10, currency: "EUR", lines: [1] }),
      recorded("order-1", 2, "order.noted", "a string payload is not merged"),
      recorded("order-1", 3, "order.paid", { total: 12, paid: true })
    ])
    expect(result.state).toEqual({
      version: 3,
      eventCount: 3,
      firstEventType: "order.created",
      firstEventAt: "2025-01-01T01:00:00.000Z",
      lastEventType: "order.paid",
      lastEventAt: "2025-01-01T03:00:00.000Z",
      data: { total: 12, currency: "EUR", lines: [1], paid: true }
    })
  })
})
