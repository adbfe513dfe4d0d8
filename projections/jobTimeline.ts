/**
 * `job_timeline`: one row per job event, the seed's `JobEvent` model (`event_type` such as
 * JOB_STARTED or MUTATION_COMPLETED, a one-line message, a time), which the job detail shows
 * in log order. Type names and messages come from the domain's `describeJobEvent`; the time is
 * the event's business time (`occurredAt`), the same clock the `jobs` row uses. The shop is
 * the event envelope's (the stream owner), so row-level security scopes the rows.
 */
import { Effect, Result } from "effect"
import { describeJobEvent, JOB_EVENT_TYPES } from "../domain/jobs/index.ts"
import type { Projection } from "../src/projections/Projection.ts"
import { decodeRecordedJobEvent } from "./jobs.ts"

interface Row {
  readonly position: number
  readonly job_id: string
  readonly shop: string
  readonly event_type: string
  readonly message: string
  readonly created_at: string
}

export const jobTimelineProjection: Projection = {
  name: "job_timeline",
  version: 1,
  eventTypes: [...JOB_EVENT_TYPES],
  tables: [{
    name: "job_timeline",
    columns: [
      "position bigint NOT NULL",
      "job_id text NOT NULL",
      "shop text NOT NULL",
      "event_type text NOT NULL",
      "message text NOT NULL",
      "created_at timestamptz NOT NULL"
    ],
    primaryKey: ["position"],
    indexes: [["job_id", "position"]],
    shopColumn: "shop"
  }],
  apply: (events, { sql, table }) =>
    Effect.gen(function*() {
      const rows: Array<Row> = []
      for (const event of events) {
        const decoded = decodeRecordedJobEvent(event)
        if (Result.isFailure(decoded)) {
          yield* Effect.logWarning(`job_timeline projection: skipped ${decoded.failure}`)
          continue
        }
        const { eventType, message } = describeJobEvent(decoded.success)
        rows.push({
          position: event.position,
          job_id: decoded.success.jobId,
          shop: event.shop,
          event_type: eventType,
          message,
          created_at: decoded.success.occurredAt
        })
      }
      if (rows.length === 0) return
      yield* sql`
        INSERT INTO ${sql.unsafe(table("job_timeline"))} (position, job_id, shop, event_type, message, created_at)
        SELECT position, job_id, shop, event_type, message, created_at
          FROM jsonb_to_recordset(${JSON.stringify(rows)}::jsonb)
            AS x(position bigint, job_id text, shop text, event_type text, message text, created_at timestamptz)
        ON CONFLICT (position) DO NOTHING`
    })
}
