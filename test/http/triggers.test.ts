/**
 * The trigger catalog over the admin API (issue 11 §1), on PostgreSQL 15 with the embedded
 * shop log: the catalog lists the seed's 19 trigger events with their payload schemas; an
 * operator's emit is validated against the catalog (every problem with its field, in one 400;
 * an unknown event is 404) and lands in the shop's log as an `automation.trigger` message that
 * names the operator as its emitter; the shop actor records it as `trigger.received`.
 */
import { Deferred, Effect, Stream } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { TRIGGER_EVENT_NAMES } from "../../domain/automation/Triggers.ts"
import { triggerStreamId } from "../../src/automation/TriggerHandlers.ts"
import { EventStore } from "../../src/eventstore/EventStore.ts"
import { LogWakeups } from "../../src/eventstore/LogWakeups.ts"
import { type AdminApi, type AdminServer, sessionFor, startAdminApi } from "../support/adminApi.ts"

const SHOP = "triggers.myshopify.com"

/** The seed's catalog (`001_…` §03), in its order. */
const SEED_TRIGGERS = [
  "seo.audit_completed", "seo.broken_links_found", "seo.score_dropped", "seo.opportunity_found", "seo.cannibalism_detected",
  "seo.snippet_lost", "seo.snippet_gained", "seo.content_decay_detected", "seo.keyword_gap_detected", "ads.daily_insights_complete",
  "ads.spend_anomaly", "ads.keyword_underperforming", "ads.keyword_overperforming", "sales.cart_abandoned_threshold",
  "sales.attribution_computed", "mc.product_disapproved", "mc.product_approved", "product.published", "product.drafted"
]

const decay = (n: number) => ({
  resources: Array.from({ length: n }, (_, i) => ({
    resourceType: "page",
    resourceId: `/blogs/news/post-${i}`,
    payload: { dropPct: 40 + i / 10, priorClicks: 1000, nowClicks: 600 }
  })),
  baselineDays: 14
})

let api: AdminApi
let server: AdminServer

beforeAll(async () => {
  api = await startAdminApi({ knownShops: [SHOP], automationActors: true })
  server = await api.serveAdmin({ defaultRole: "viewer" })
  await api.setMember(SHOP, "ops-1", "operator")
})

afterAll(async () => {
  await api?.close()
})

/** The triggers the shop's actor recorded (`trigger.received`), oldest first. */
const recorded = () =>
  api.run(Effect.flatMap(EventStore, (store) => Stream.runCollect(store.readStream(triggerStreamId(SHOP)))).pipe(Effect.map((events) => [...events])))

/** Waits (woken by every commit, never by sleeping) until trigger `id` is recorded. */
const awaitRecorded = (id: string) =>
  api.run(Effect.gen(function*() {
    const wakeups = yield* LogWakeups
    for (;;) {
      const next = yield* wakeups.next
      const found = (yield* Effect.promise(recorded)).find((e) => (e.data as { triggerId: string }).triggerId === id)
      if (found !== undefined) return found
      yield* Deferred.await(next).pipe(Effect.timeoutOption("250 millis"))
    }
  }).pipe(Effect.timeout("30 seconds")))

describe("the trigger catalog and emits over the admin API", () => {
  it("lists the seed's 19 trigger events, names exactly as in the seed, each with its payload's JSON Schema", async () => {
    expect(TRIGGER_EVENT_NAMES).toEqual(SEED_TRIGGERS)
    const res = await api.call(server, "GET", "/app/triggers", sessionFor(SHOP, "viewer-1"))
    expect(res.status).toBe(200)
    expect(res.json.triggers.map((t: { event: string }) => t.event)).toEqual(SEED_TRIGGERS)
    for (const t of res.json.triggers) {
      expect(t.description.length, t.event).toBeGreaterThan(10)
      expect(JSON.stringify(t.payload_schema), t.event).toContain("resources")
    }
  })

  it("an operator's emit is 202, and the shop's actor records it naming the operator", async () => {
    const res = await api.call(server, "POST", "/app/triggers/seo.content_decay_detected/emit", sessionFor(SHOP, "ops-1"), decay(3))
    expect(res.status).toBe(202)
    expect(res.json).toMatchObject({ event: "seo.content_decay_detected", resources: 3 })
    const event = await awaitRecorded(res.json.trigger_id)
    expect(event.type).toBe("trigger.received")
    expect(event.data).toMatchObject({
      triggerId: res.json.trigger_id,
      trigger: { event: "seo.content_decay_detected", baselineDays: 14 },
      emittedBy: { kind: "operator", id: "ops-1" }
    })
    expect((event.data as { trigger: { resources: ReadonlyArray<unknown> } }).trigger.resources).toHaveLength(3)
  })

  it("a bad payload is one 400 listing every problem with its field; nothing is published", async () => {
    const before = (await recorded()).length
    const res = await api.call(server, "POST", "/app/triggers/seo.content_decay_detected/emit", sessionFor(SHOP, "ops-1"), {
      resources: [
        { resourceType: "campaign", resourceId: "", payload: { dropPct: "a lot", priorClicks: 10, nowClicks: 5 } }
      ]
    })
    expect(res.status).toBe(400)
    expect(res.json.error.code).toBe("INVALID_REQUEST_BODY")
    const fields = res.json.error.errors.map((e: { field: string }) => e.field)
    expect(fields).toEqual(expect.arrayContaining(["resources[0].resourceType", "resources[0].resourceId", "resources[0].payload.dropPct"]))
    const tooMany = await api.call(server, "POST", "/app/triggers/seo.content_decay_detected/emit", sessionFor(SHOP, "ops-1"), decay(51))
    expect(tooMany.status).toBe(400)
    expect(tooMany.json.error.errors).toEqual([{ field: "resources", message: "at most 50 resources per emit" }])
    const none = await api.call(server, "POST", "/app/triggers/seo.content_decay_detected/emit", sessionFor(SHOP, "ops-1"), decay(0))
    expect(none.json.error.errors).toEqual([{ field: "resources", message: "a trigger is about at least one resource" }])
    expect((await api.call(server, "POST", "/app/triggers/seo.content_decay_detected/emit", sessionFor(SHOP, "ops-1"), [1])).status).toBe(400)
    expect((await recorded()).length).toBe(before)
  })

  it("lists the action registry's metas: triggers, resource types, plan and params with their ranges", async () => {
    const res = await api.call(server, "GET", "/app/actions", sessionFor(SHOP, "viewer-1"))
    expect(res.status).toBe(200)
    expect(res.json.actions.map((a: { key: string }) => a.key)).toEqual([
      "update_seo_meta", "add_faq_structured_data", "refresh_blog_post", "create_content_brief", "create_url_redirect", "consolidate_cannibalized_page", "hide_disapproved_product", "tag_product",
      "pause_ad_keyword", "adjust_keyword_bid", "cap_campaign_budget", "send_cart_recovery_message", "notify_merchant", "bulk_set_metafield"
    ])
    const tag = res.json.actions.find((a: { key: string }) => a.key === "tag_product")
    expect(tag).toMatchObject({ trigger_events: ["product.published", "product.drafted", "mc.product_approved"], resource_types: ["product"], required_plan: "free" })
    const bulk = res.json.actions.find((a: { key: string }) => a.key === "bulk_set_metafield")
    expect(bulk.trigger_events).toHaveLength(19)
    expect(bulk.param_schema.find((p: { key: string }) => p.key === "maxItems")).toMatchObject({ type: "number", default: 10000, min: 1, max: 100000 })
  })

  it("an unknown trigger event is 404; a viewer may read the catalog but not emit", async () => {
    const unknown = await api.call(server, "POST", "/app/triggers/seo.vibes_changed/emit", sessionFor(SHOP, "ops-1"), decay(1))
    expect([unknown.status, unknown.json.error.code]).toEqual([404, "NOT_FOUND"])
    const viewer = await api.call(server, "POST", "/app/triggers/seo.content_decay_detected/emit", sessionFor(SHOP, "viewer-1"), decay(1))
    expect([viewer.status, viewer.json.error.missing]).toEqual([403, ["automation:emit"]])
  })
})
