/**
 * Per-shop detector settings end to end (issue 13 §3): `GET|PATCH /app/settings/detectors`
 * through the shop's actor; a bad patch is refused whole with every problem listed and changes
 * nothing; the change is in the audit log; and the detectors use each shop's own thresholds — the
 * same Search Console data decays for a shop that lowered its threshold and not for one on the
 * defaults, and a checkout below a shop's own minimum value sets no abandonment timer.
 */
import { Effect, Redacted, Stream } from "effect"
import { SqlClient } from "effect/sql"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import * as SearchConsoleClient from "../../adapters/searchconsole/SearchConsoleClient.ts"
import { DEFAULT_DETECTOR_SETTINGS, detectorSettingsStreamId } from "../../domain/intelligence/detectorSettings.ts"
import { addDays } from "../../domain/intelligence/stats.ts"
import { encodeShopMessage } from "../../domain/messages/ShopMessages.ts"
import { EventStore } from "../../src/eventstore/EventStore.ts"
import { lastFinalDay } from "../../src/intelligence/SearchPull.ts"
import { ShopLog } from "../../src/shoplog/ShopLog.ts"
import { type RunningSearchConsoleSimulator, type SearchFactRow, startSearchConsoleSimulator } from "../../src/simulator/searchconsole/index.ts"
import { type AdminApi, type AdminServer, sessionFor, startAdminApi } from "../support/adminApi.ts"

const TUNED = "tuned.myshopify.com"
const PLAIN = "plain.myshopify.com"
const SITE = "https://tuned.example/"
const TOKEN = "sc-settings-token"
const AS_OF = lastFinalDay(new Date())
const MILD = "https://tuned.example/blogs/news/mild-drop"

/** One page, 10 clicks a day, none in the last 3: 110 against 140 over the 14-day windows, a 21.4 % drop. */
const rows = (): ReadonlyArray<SearchFactRow> =>
  Array.from({ length: 29 }, (_, k) => 28 - k).map((i) => ({ date: addDays(AS_OF, -i)!, page: MILD, query: "mild drop", clicks: i <= 2 ? 0 : 10, impressions: 200, position: 4 }))

let api: AdminApi
let server: AdminServer
let sim: RunningSearchConsoleSimulator
const owner = (shop: string) => sessionFor(shop, "owner-1")
const settingsEvents = (shop: string) =>
  api.run(Effect.map(Effect.flatMap(EventStore, (s) => Stream.runCollect(s.readStream(detectorSettingsStreamId(shop)))), (events) => [...events]))

beforeAll(async () => {
  sim = await startSearchConsoleSimulator({ sites: [{ siteUrl: SITE, rows: rows() }], accessToken: TOKEN })
  api = await startAdminApi({
    knownShops: [TUNED, PLAIN],
    automationActors: true,
    searchConsole: SearchConsoleClient.layer({ accessToken: Redacted.make(TOKEN), apiUrl: sim.url })
  })
  server = await api.serveAdmin()
  for (const shop of [TUNED, PLAIN]) {
    await api.setMember(shop, "owner-1", "owner")
    await api.setMember(shop, "analyst-1", "analyst")
  }
})

afterAll(async () => {
  await api?.close()
  await sim?.stop()
})

describe("per-shop detector settings", () => {
  it("shows the defaults, refuses a bad patch whole, applies a good one through the actor and audits it", async () => {
    const initial = await api.call(server, "GET", "/app/settings/detectors", owner(TUNED))
    expect(initial.status, initial.text).toBe(200)
    expect(initial.json).toMatchObject({ settings: DEFAULT_DETECTOR_SETTINGS, overrides: {}, defaults: DEFAULT_DETECTOR_SETTINGS })
    expect(initial.json.limits.seo.decayDropPct).toEqual({ min: 1, max: 100, integer: false })

    // one valid field among bad ones: nothing is applied, every problem is named
    const bad = await api.call(server, "PATCH", "/app/settings/detectors", owner(TUNED), {
      seo: { decayDropPct: 20, opportunityMinPosition: 30 },
      ads: { spendZ: -1 },
      cartAbandonment: { window: 5 }
    })
    expect(bad.status, bad.text).toBe(400)
    expect(bad.json.error.code).toBe("INVALID_REQUEST_BODY")
    expect(bad.json.error.errors.map((e: { field: string }) => e.field)).toEqual(["ads.spendZ", "cartAbandonment.window"])
    const contradictory = await api.call(server, "PATCH", "/app/settings/detectors", owner(TUNED), { seo: { opportunityMinPosition: 30 } })
    expect(contradictory.status).toBe(400)
    expect(contradictory.json.error.errors).toEqual([{ field: "seo.opportunityMinPosition", message: "must not be above seo.opportunityMaxPosition (30 > 20)" }])
    expect(await settingsEvents(TUNED)).toEqual([])

    // an analyst may look, not change
    expect((await api.call(server, "GET", "/app/settings/detectors", sessionFor(TUNED, "analyst-1"))).status).toBe(200)
    expect((await api.call(server, "PATCH", "/app/settings/detectors", sessionFor(TUNED, "analyst-1"), { seo: { decayDropPct: 20 } })).status).toBe(403)

    const good = await api.call(server, "PATCH", "/app/settings/detectors", owner(TUNED), {
      seo: { decayDropPct: 20, minPriorClicks: 100 },
      cartAbandonment: { windowMinutes: 15, minValue: 100 }
    })
    expect(good.status, good.text).toBe(200)
    expect(good.json.overrides).toEqual({ seo: { decayDropPct: 20, minPriorClicks: 100 }, cartAbandonment: { windowMinutes: 15, minValue: 100 } })
    expect(good.json.settings.seo).toEqual({ ...DEFAULT_DETECTOR_SETTINGS.seo, decayDropPct: 20, minPriorClicks: 100 })
    // null puts a field back; the same patch again changes nothing and records nothing
    const reset = await api.call(server, "PATCH", "/app/settings/detectors", owner(TUNED), { seo: { minPriorClicks: null } })
    expect(reset.json.overrides.seo).toEqual({ decayDropPct: 20 })
    expect((await api.call(server, "PATCH", "/app/settings/detectors", owner(TUNED), { seo: { minPriorClicks: null } })).status).toBe(200)
    expect((await settingsEvents(TUNED)).map((e) => e.type)).toEqual(["detectors.settings_changed", "detectors.settings_changed"])
    // the other shop is untouched
    expect((await api.call(server, "GET", "/app/settings/detectors", owner(PLAIN))).json.overrides).toEqual({})

    await api.awaitProjections()
    const audit = await api.call(server, "GET", "/app/audit?q=detector%20settings", owner(TUNED))
    expect(audit.json.entries.map((l: { summary: string }) => l.summary)).toEqual([
      "Detector settings changed by owner-1: seo.minPriorClicks 100 → the default",
      "Detector settings changed by owner-1: seo.minPriorClicks the default → 100, seo.decayDropPct the default → 20, cartAbandonment.windowMinutes the default → 15, cartAbandonment.minValue the default → 100"
    ])
  })

  it("the same Search Console data: the page decays for the shop that lowered its threshold, not for the one on the defaults", async () => {
    for (const shop of [TUNED, PLAIN]) {
      await api.run(ShopLog.use((l) => l.publish({ shop, messageId: `pull-${shop}`, correlationId: `pull-${shop}`, ...encodeShopMessage({ type: "seo.search_pull", payload: { siteUrl: SITE } }) })))
    }
    await api.awaitEvents([`seo-runs-${TUNED}`, `seo-runs-${PLAIN}`], (events) => events.filter((e) => e.type === "seo.findings_recorded").length === 2)
    await api.awaitEvents([`triggers-${TUNED}`], (events) => events.some((e) => e.type === "trigger.received"))
    const decay = (await api.receivedTriggers(TUNED)).filter((t) => t.event === "seo.content_decay_detected")
    expect(decay).toMatchObject([{ resources: [{ resourceId: MILD, payload: { dropPct: 21.4, priorClicks: 140, nowClicks: 110 } }] }])
    expect((await api.receivedTriggers(PLAIN)).filter((t) => t.event === "seo.content_decay_detected")).toEqual([])

    // the pages read model keeps what each shop's pull judged
    await api.awaitProjections()
    const decayed = async (shop: string) => (await api.call(server, "GET", "/app/seo/pages", owner(shop))).json.pages.map((p: { decayed: boolean }) => p.decayed)
    expect(await decayed(TUNED)).toEqual([true])
    expect(await decayed(PLAIN)).toEqual([false])
  })

  it("cart abandonment follows the shop's own window and minimum value", async () => {
    const now = Date.now()
    const checkout = (shop: string, token: string, total: string) =>
      api.run(ShopLog.use((l) => l.publish({
        shop, messageId: `ck-${shop}-${token}`, correlationId: token,
        ...encodeShopMessage({
          type: "shopify.webhook",
          payload: { topic: "checkouts/update", payload: { id: token.length, token, cart_token: `cart-${token}`, total_price: total, currency: "EUR", completed_at: null, updated_at: new Date(now).toISOString(), line_items: [] } }
        })
      })))
    await checkout(TUNED, "tuned-small", "80.00")
    await checkout(TUNED, "tuned-big", "150.00")
    await checkout(PLAIN, "plain-small", "80.00")
    await api.awaitEvents([`checkout-${TUNED}-tuned-small`, `checkout-${TUNED}-tuned-big`, `checkout-${PLAIN}-plain-small`], (events) => events.length === 3)
    const timers = await api.run(Effect.flatMap(SqlClient.SqlClient, (sql) =>
      sql<{ shop: string; id: string; due_at: Date }>`SELECT shop, id, due_at FROM scheduled_messages WHERE id LIKE 'cart.abandon:%' ORDER BY shop, id`))
    expect(timers.map((t) => [t.shop, t.id, new Date(t.due_at).getTime() - now])).toEqual([
      [PLAIN, "cart.abandon:plain-small", 60 * 60_000],
      [TUNED, "cart.abandon:tuned-big", 15 * 60_000]
    ])
  })
})
