/**
 * `audit_log`: one plain-language line per event ("Bulk job 550e… completed: 1,520 updated,
 * 3 failed"), who caused it and when. Kept per shop; this is what merchants and auditors read.
 * The data plane's observations (orders, touchpoints, …) are not audit lines (see
 * `domain/audit/dataPlane.ts`).
 */
import { Effect } from "effect"
import { describeAutomationEvent } from "../domain/audit/automation.ts"
import { describeDataPlaneEvent, isAuditable } from "../domain/audit/dataPlane.ts"
import { describeEvent } from "../domain/audit/describeEvent.ts"
import type { RecordedEvent } from "../domain/events/Envelope.ts"
import { PRIVACY_EVENTS } from "../domain/privacy/PrivacyEvents.ts"
import type { Projection } from "../src/projections/Projection.ts"
import { decodeData } from "./eventData.ts"

const isPrivacyEvent = (type: string): type is keyof typeof PRIVACY_EVENTS => Object.hasOwn(PRIVACY_EVENTS, type)

/**
 * The event as its line is written from: the privacy events, whose lines quote their data,
 * decoded with their schemas first (one that does not decode stops the projection at it).
 */
const described = (e: RecordedEvent): Effect.Effect<RecordedEvent> =>
  isPrivacyEvent(e.type) ? Effect.map(decodeData(PRIVACY_EVENTS[e.type], e), (data) => ({ ...e, data })) : Effect.succeed(e)

export const auditLogProjection: Projection = {
  name: "audit_log",
  // v2: data-plane observations left out; lifecycle and privacy events described
  // v3: the decision plane's triggers, rules and every execution step described
  version: 3,
  eventTypes: "all",
  tables: [{
    name: "audit_log",
    columns: [
      "position bigint NOT NULL",
      "shop text NOT NULL",
      "stream_id text NOT NULL",
      "event_type text NOT NULL",
      "actor_kind text NOT NULL",
      "actor_id text NOT NULL",
      "correlation_id text NOT NULL",
      "summary text NOT NULL",
      "occurred_at timestamptz NOT NULL"
    ],
    primaryKey: ["position"],
    indexes: [["shop", "position"], ["stream_id", "position"]],
    shopColumn: "shop"
  }],
  apply: (events, { sql, table }) =>
    Effect.gen(function*() {
      const audited = yield* Effect.forEach(events.filter((e) => isAuditable(e.type)), described)
      if (audited.length === 0) return
      const rows = audited.map((e) => ({
        position: e.position,
        shop: e.shop,
        stream_id: e.streamId,
        event_type: e.type,
        actor_kind: e.actor.kind,
        actor_id: e.actor.id,
        correlation_id: e.correlationId,
        summary: describeDataPlaneEvent(e) ?? describeAutomationEvent(e) ?? describeEvent(e),
        occurred_at: e.occurredAt.toISOString()
      }))
      yield* sql`
        INSERT INTO ${sql.unsafe(table("audit_log"))}
          (position, shop, stream_id, event_type, actor_kind, actor_id, correlation_id, summary, occurred_at)
        SELECT * FROM jsonb_to_recordset(${JSON.stringify(rows)}::jsonb)
          AS x(position bigint, shop text, stream_id text, event_type text, actor_kind text, actor_id text,
               correlation_id text, summary text, occurred_at timestamptz)
        ON CONFLICT (position) DO NOTHING`
    })
}
