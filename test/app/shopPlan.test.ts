/**
 * An operator sets a shop's plan (issue 11 §2, `sumeru shops plan`): through the shop's actor,
 * the single writer of its lifecycle, as `shop.plan_changed` with source `operator` and who set
 * it; the same plan again is no change; rules then see the new plan.
 */
import { Effect, Stream } from "effect"
import { afterAll, beforeAll, expect, it } from "vitest"
import { submitPlan } from "../../src/app/PlanHandlers.ts"
import { EventStore } from "../../src/eventstore/EventStore.ts"
import { type AdminApi, type AdminServer, sessionFor, startAdminApi } from "../support/adminApi.ts"

const SHOP = "plans.myshopify.com"
let api: AdminApi
let server: AdminServer

beforeAll(async () => {
  api = await startAdminApi({ knownShops: [SHOP], automationActors: true })
  server = await api.serveAdmin()
})

afterAll(async () => {
  await api?.close()
})

const planEvents = () =>
  api.run(Effect.flatMap(EventStore, (store) => Stream.runCollect(store.readStream(`shop-${SHOP}`)))).then((c) =>
    [...c].filter((e) => e.type === "shop.plan_changed").map((e) => e.data))

it("sets the plan through the shop's actor, once; rules that need it are then accepted", async () => {
  const proRule = {
    name: "Hide disapproved", trigger_event: "mc.product_disapproved", action_key: "hide_disapproved_product", params: {}, enabled: true
  }
  const refused = await api.call(server, "POST", "/app/rules", sessionFor(SHOP, "owner-1"), proRule)
  expect(refused.status).toBe(400)
  expect(await api.run(submitPlan(SHOP, "pro", "cli:ops"))).toEqual({ _tag: "Set", previous: "free" })
  expect(await api.run(submitPlan(SHOP, "pro", "cli:ops"))).toEqual({ _tag: "Set", previous: "pro" })
  expect(await planEvents()).toEqual([{ plan: "pro", previousPlan: "free", source: "operator", subscription: null, setBy: "cli:ops" }])
  const accepted = await api.call(server, "POST", "/app/rules", sessionFor(SHOP, "owner-1"), proRule)
  expect(accepted.status, accepted.text).toBe(201)
})
