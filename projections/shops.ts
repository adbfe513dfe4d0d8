/**
 * `shops`: each shop's install state — what the ingress asks before accepting storefront
 * touchpoints and admin sessions, and what operators look at. Folded from `shop.installed`,
 * `shop.uninstalled` (ignored when older than the latest install: uninstall webhooks arrive
 * late) and `shop.redacted`.
 */
import { Effect } from "effect"
import type { Projection } from "../src/projections/Projection.ts"

type Data = Readonly<Record<string, unknown>>

export const shopsProjection: Projection = {
  name: "shops",
  version: 1,
  eventTypes: ["shop.installed", "shop.uninstalled", "shop.redacted"],
  tables: [{
    name: "shops",
    columns: [
      "shop text NOT NULL",
      "status text NOT NULL",
      "scopes text",
      "installed_at timestamptz",
      "uninstalled_at timestamptz",
      "redacted_at timestamptz",
      "updated_at timestamptz NOT NULL"
    ],
    primaryKey: ["shop"],
    shopColumn: "shop"
  }],
  apply: (events, { sql, table }) =>
    Effect.forEach(events, (e) => {
      const t = sql.unsafe(table("shops"))
      const d = (typeof e.data === "object" && e.data !== null ? e.data : {}) as Data
      const at = e.occurredAt.toISOString()
      switch (e.type) {
        case "shop.installed":
          return sql`
            INSERT INTO ${t} (shop, status, scopes, installed_at, updated_at)
            VALUES (${e.shop}, 'installed', ${typeof d["scopes"] === "string" ? d["scopes"] : null}, ${at}, ${at})
            ON CONFLICT (shop) DO UPDATE SET status = 'installed', scopes = EXCLUDED.scopes,
              installed_at = EXCLUDED.installed_at, updated_at = EXCLUDED.updated_at`.pipe(Effect.asVoid)
        case "shop.uninstalled":
          return sql`
            INSERT INTO ${t} (shop, status, uninstalled_at, updated_at) VALUES (${e.shop}, 'uninstalled', ${at}, ${at})
            ON CONFLICT (shop) DO UPDATE SET uninstalled_at = EXCLUDED.uninstalled_at,
              status = CASE WHEN ${t}.installed_at IS NOT NULL AND ${t}.installed_at > EXCLUDED.uninstalled_at THEN ${t}.status ELSE 'uninstalled' END,
              updated_at = EXCLUDED.updated_at`.pipe(Effect.asVoid)
        case "shop.redacted":
          return sql`
            INSERT INTO ${t} (shop, status, redacted_at, updated_at) VALUES (${e.shop}, 'redacted', ${at}, ${at})
            ON CONFLICT (shop) DO UPDATE SET status = 'redacted', redacted_at = EXCLUDED.redacted_at, updated_at = EXCLUDED.updated_at`.pipe(Effect.asVoid)
        default:
          return Effect.void
      }
    }, { discard: true })
}
