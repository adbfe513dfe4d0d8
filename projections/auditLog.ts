/**
 * `audit_log`: one plain-language line per event ("Bulk job 550e… completed: 1,520 updated,
 * 3 failed"), who caused it and when. Kept per shop; this is what merchants and auditors read.
 * The data plane's observations (orders, touchpoints, …) are not audit lines (see
 * `domain/audit/dataPlane.ts`).
 */
import { Effect } from "effect"
import { describeDataPlaneEvent, isAuditable } from "../domain/audit/dataPlane.ts"
import { describeEvent } from "../domain/audit/describeEvent.ts"
import type { Projection } from "../src/projections/Projection.ts"

export const auditLogProjection: Projection = {
  name: "audit_log",
  // v2: data-plane observations left out; lifecycle and privacy events described
  version: 2,
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
  apply: (events, { sql, table }) => {
    const audited = events.filter((e) => isAuditable(e.type))
    if (audited.length === 0) return Effect.void
    const rows = audited.map((e) => ({
      position: e.position,
      shop: e.shop,
      stream_id: e.streamId,
      event_type: e.type,
      actor_kind: e.actor.kind,
      actor_id: e.actor.id,
      correlation_id: e.correlationId,
      summary: describeDataPlaneEvent(e) ?? describeEvent(e),
      occurred_at: e.occurredAt.toISOString()
    }))
    return sql`
      INSERT INTO ${sql.unsafe(table("audit_log"))}
        (position, shop, stream_id, event_type, actor_kind, actor_id, correlation_id, summary, occurred_at)
      SELECT * FROM jsonb_to_recordset(${JSON.stringify(rows)}::jsonb)
        AS x(position bigint, shop text, stream_id text, event_type text, actor_kind text, actor_id text,
             correlation_id text, summary text, occurred_at timestamptz)
      ON CONFLICT (position) DO NOTHING`.pipe(Effect.asVoid)
  }
}
