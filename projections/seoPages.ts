/**
 * `seo_pages`: each page of each Search Console property with its clicks over the last 14 days
 * against the 14 before, as the latest daily pull measured them (`seo.pages_measured`,
 * `src/intelligence/SearchPull.ts`). A newer measurement of a property replaces its rows (a page
 * no longer among the most clicked leaves the list); an older one arriving late changes nothing.
 */
import { Effect } from "effect"
import type { RecordedEvent } from "../domain/events/Envelope.ts"
import { SearchReport } from "../domain/messages/ShopMessages.ts"
import type { ApplyContext, Projection } from "../src/projections/Projection.ts"
import { decodeData } from "./eventData.ts"

const measured = (e: RecordedEvent, ctx: ApplyContext) =>
  Effect.gen(function*() {
    const d = yield* decodeData(SearchReport, e)
    const t = ctx.sql.unsafe(ctx.table("seo_pages"))
    const newer = yield* ctx.sql<{ n: number }>`
      SELECT count(*)::int AS n FROM ${t} WHERE shop = ${e.shop} AND site_url = ${d.siteUrl} AND as_of > ${d.asOf}::date`
    if ((newer[0]?.n ?? 0) > 0) return
    yield* ctx.sql`DELETE FROM ${t} WHERE shop = ${e.shop} AND site_url = ${d.siteUrl}`
    for (const p of d.pages) {
      yield* ctx.sql`
        INSERT INTO ${t} (shop, site_url, url, as_of, now_clicks, prior_clicks, drop_pct, impressions, position, decayed)
        VALUES (${e.shop}, ${d.siteUrl}, ${p.url}, ${d.asOf}::date, ${p.nowClicks}, ${p.priorClicks}, ${p.dropPct}, ${p.impressions}, ${p.position}, ${p.decayed})`
    }
  })

export const seoPagesProjection: Projection = {
  name: "seo_pages",
  version: 1,
  eventTypes: ["seo.pages_measured"],
  tables: [{
    name: "seo_pages",
    columns: [
      "shop text NOT NULL",
      "site_url text NOT NULL",
      "url text NOT NULL",
      "as_of date NOT NULL",
      "now_clicks double precision NOT NULL",
      "prior_clicks double precision NOT NULL",
      "drop_pct double precision",
      "impressions double precision NOT NULL",
      "position double precision",
      "decayed boolean NOT NULL"
    ],
    primaryKey: ["shop", "site_url", "url"],
    indexes: [["shop", "decayed"]],
    shopColumn: "shop"
  }],
  apply: (events, ctx) => Effect.forEach(events, (e) => measured(e, ctx), { discard: true })
}
