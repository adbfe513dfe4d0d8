/**
 * `streams`: one row per event stream: shop, version, first and last event times.
 * Analysts and operators use it to find a shop's streams and spot idle or busy ones.
 */
import { Effect } from "effect"
import type { Projection } from "../src/projections/Projection.ts"

interface Row {
  stream_id: string
  shop: string
  version: number
  first_event_at: string
  last_event_at: string
  last_event_type: string
}

export const streamsProjection: Projection = {
  name: "streams",
  version: 1,
  eventTypes: "all",
  tables: [{
    name: "streams",
    columns: [
      "stream_id text NOT NULL",
      "shop text NOT NULL",
      "version integer NOT NULL",
      "first_event_at timestamptz NOT NULL",
      "last_event_at timestamptz NOT NULL",
      "last_event_type text NOT NULL"
    ],
    primaryKey: ["stream_id"],
    indexes: [["shop", "last_event_at"]],
    shopColumn: "shop"
  }],
  apply: (events, { sql, table }) => {
    const rows = new Map<string, Row>()
    for (const e of events) {
      const at = e.occurredAt.toISOString()
      const row = rows.get(e.streamId)
      if (row === undefined) {
        rows.set(e.streamId, {
          stream_id: e.streamId,
          shop: e.shop,
          version: e.streamVersion,
          first_event_at: at,
          last_event_at: at,
          last_event_type: e.type
        })
      } else {
        row.version = e.streamVersion
        row.last_event_at = at
        row.last_event_type = e.type
      }
    }
    if (rows.size === 0) return Effect.void
    const t = sql.unsafe(table("streams"))
    return sql`
      INSERT INTO ${t} (stream_id, shop, version, first_event_at, last_event_at, last_event_type)
      SELECT stream_id, shop, version, first_event_at, last_event_at, last_event_type
        FROM jsonb_to_recordset(${JSON.stringify([...rows.values()])}::jsonb)
          AS x(stream_id text, shop text, version integer, first_event_at timestamptz, last_event_at timestamptz, last_event_type text)
      ON CONFLICT (stream_id) DO UPDATE
        SET version = excluded.version, last_event_at = excluded.last_event_at, last_event_type = excluded.last_event_type
        WHERE ${t}.version < excluded.version`.pipe(Effect.asVoid)
  }
}
