/**
 * `shops`: each shop's install state — what the ingress asks before accepting storefront
 * touchpoints and admin sessions, and what operators look at. Folded from `shop.installed`,
 * `shop.uninstalled` (ignored when older than the latest install: uninstall webhooks arrive
 * late) and `shop.redacted`.
 */
import { Effect } from "effect"
import { decodeLifecycleEvent } from "../domain/shop/ShopLifecycle.ts"
import type { Projection } from "../src/projections/Projection.ts"

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
      const at = e.occurredAt.toISOString()
      // decoded with the lifecycle's schemas; a redacted event (data null) still moves the status
      const event = decodeLifecycleEvent(e.type, e.data, e.occurredAt)
      switch (e.type) {
        case "shop.installed":
          return sql`
            INSERT INTO ${t} (shop, status, scopes, installed_at, updated_at)
            VALUES (${e.shop}, 'installed', ${event?.type === "shop.installed" ? event.data.scopes : null}, ${at}, ${at})
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
