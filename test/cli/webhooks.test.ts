/**
 * `sumeru webhooks list|deliveries|redrive` (issue 12 §1) on PostgreSQL 15 with the embedded shop
 * log, the `webhook_deliveries` projection and the shop's actor (its outbound handlers) running
 * in this process, as a projector and a worker would:
 * - `list` shows the shop's live subscriptions, never their secrets;
 * - `deliveries` reads the read model as the shop, newest first, filtered by status; another
 *   shop's deliveries are not there;
 * - `redrive` of a dead delivery goes to the shop's actor, which records `webhook.redriven` (by
 *   `cli:<user>`) and the delivery is pending again; of a delivered one, an unknown one or
 *   another shop's: exit 1 with the reason, nothing sent;
 * - before any projector ran, `deliveries` says the read model is not built yet.
 */
import { Effect, Layer, ManagedRuntime, Redacted, Stream } from "effect"
import { SqlClient } from "effect/sql"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import * as EmbeddedShopLog from "../../adapters/embedded/EmbeddedShopLog.ts"
import * as Database from "../../adapters/postgres/Database.ts"
import { deliveryStreamId, type DeliveryEvent } from "../../domain/outbound/Webhooks.ts"
import { webhookDeliveriesProjection } from "../../projections/webhookDeliveries.ts"
import { makeDispatcher, ShopHandlers } from "../../src/actors/ShopHandlers.ts"
import { coreLayer } from "../../src/CoreLayer.ts"
import { EventStore } from "../../src/eventstore/EventStore.ts"
import { OutboundHttp } from "../../src/outbound/OutboundHttp.ts"
import { makeOutboundWebhooks } from "../../src/outbound/OutboundWebhooks.ts"
import { submitSubscriptionChange } from "../../src/outbound/SubscriptionCommands.ts"
import { ProjectionRunner } from "../../src/projections/ProjectionRunner.ts"
import { actorRuntimeLayer } from "../support/actorRuntime.ts"
import { freshPostgresUrl } from "../support/databases.ts"
import { testKeyRing } from "../support/keys.ts"
import { pollUntil } from "../support/poll.ts"
import { awaitCaughtUp } from "../support/projections.ts"
import { cliEnv, expectUserError, runCli, withPostgres } from "./support.ts"

const SHOP = "cli-webhooks.myshopify.com"
const OTHER = "cli-webhooks-other.myshopify.com"
const url = freshPostgresUrl()
const env = cliEnv({ url })

/** The worker's shop actors with the outbound handlers, and the deliveries projection, on one database and shop log. */
const startWorker = () => {
  const core = coreLayer(Database.layerPostgres(Redacted.make(url), { maxConnections: 6 }), testKeyRing())
  // no delivery here reaches a receiver (their subscription does not exist): a POST is a bug
  const http = Layer.succeed(OutboundHttp, OutboundHttp.of({ post: () => Effect.die("no receiver in this suite"), checkUrl: () => undefined }))
  const handlers = Layer.effect(ShopHandlers, Effect.map(makeOutboundWebhooks, (o) => makeDispatcher(o.handlers))).pipe(Layer.provide(http))
  return ManagedRuntime.make(Layer.mergeAll(
    actorRuntimeLayer().pipe(Layer.provide(handlers)),
    ProjectionRunner.layer([webhookDeliveriesProjection])
  ).pipe(Layer.provideMerge(EmbeddedShopLog.layerConfig), Layer.provideMerge(core)))
}
let runtime: ReturnType<typeof startWorker>

const system = { correlationId: "cli-webhooks-test", actor: { kind: "system", id: "test" } } as const

const requested = (shop: string, deliveryId: string, at: string) => ({
  type: "webhook.delivery_requested",
  occurredAt: new Date(at),
  data: {
    type: "webhook.delivery_requested",
    deliveryId,
    subscriptionId: "sub-gone",
    event: "autoaction.applied",
    payload: {
      event: "autoaction.applied", eventId: `exec-${deliveryId}.autoaction.applied`, shop, ruleId: "r-1", ruleName: "Tag drafts",
      actionKey: "tag_product", resourceType: "product", resourceId: "gid://shopify/Product/1", after: { tags: ["x"] }, occurredAt: at
    }
  } satisfies DeliveryEvent
})

const later = (type: string, at: string, data: DeliveryEvent) => ({ type, occurredAt: new Date(at), data })

/** A delivery's whole history, appended directly to `webhook-delivery-<shop>-<id>`. */
const appendDelivery = (shop: string, deliveryId: string, at: string, outcome: "pending" | "delivered" | "dead") =>
  Effect.flatMap(EventStore, (store) => {
    const base = { deliveryId, subscriptionId: "sub-gone" }
    const after = outcome === "delivered"
      ? [later("webhook.delivered", at, { type: "webhook.delivered", ...base, attempt: 1, status: 204 })]
      : outcome === "dead"
      ? [
        later("webhook.attempt_failed", at, { type: "webhook.attempt_failed", ...base, attempt: 4, status: 500, error: "HTTP 500: receiver down", nextAttemptAt: null }),
        later("webhook.dead_lettered", at, { type: "webhook.dead_lettered", ...base, attempts: 4, lastError: "HTTP 500: receiver down" })
      ]
      : []
    return store.append(deliveryStreamId(shop, deliveryId), shop, "no_stream", [requested(shop, deliveryId, at), ...after], system)
  })

const streamTypes = (shop: string, deliveryId: string) =>
  Effect.flatMap(EventStore, (store) =>
    Effect.map(Stream.runCollect(store.readStream(deliveryStreamId(shop, deliveryId))), (events) => events.map((e) => ({ type: e.type, data: e.data as Record<string, unknown> }))))

/** The shop log's messages of `shop` not taken yet. */
const queued = (shop: string) =>
  withPostgres(url, Effect.flatMap(SqlClient.SqlClient, (sql) => sql<{ message: { type: string } }>`SELECT message FROM shop_log WHERE shop = ${shop}`))

beforeAll(async () => {
  runtime = startWorker()
  await runtime.runPromise(Effect.gen(function*() {
    yield* appendDelivery(SHOP, "d-dead", "2026-12-01T10:00:00.000Z", "dead")
    yield* appendDelivery(SHOP, "d-delivered", "2026-12-01T10:01:00.000Z", "delivered")
    yield* appendDelivery(SHOP, "d-pending", "2026-12-01T10:02:00.000Z", "pending")
    yield* appendDelivery(OTHER, "d-other-dead", "2026-12-01T10:03:00.000Z", "dead")
    yield* awaitCaughtUp("webhook_deliveries")
  }))
})
afterAll(async () => {
  await runtime?.dispose()
})

describe("webhooks deliveries", () => {
  it("lists the shop's deliveries from the read model, newest first, filtered by status; never another shop's", async () => {
    const all = await runCli(["webhooks", "deliveries", SHOP], env)
    expect(all.code, all.stderr).toBe(0)
    expect(all.stdout.trimEnd().split("\n")).toEqual([
      expect.stringMatching(/^ID\s+STATUS\s+ATTEMPTS\s+EVENT\s+CREATED\s+NEXT ATTEMPT\s+LAST ERROR$/),
      expect.stringMatching(/^d-pending\s+pending\s+0\s+autoaction\.applied\s+2026-12-01T10:02:00Z\s+-$/),
      expect.stringMatching(/^d-delivered\s+delivered\s+1\s+autoaction\.applied\s+2026-12-01T10:01:00Z\s+-$/),
      expect.stringMatching(/^d-dead\s+dead\s+1\s+autoaction\.applied\s+2026-12-01T10:00:00Z\s+-\s+HTTP 500: receiver down$/)
    ])
    expect(all.stdout).not.toContain("d-other-dead")

    const dead = await runCli(["webhooks", "deliveries", SHOP, "--status", "dead", "--json"], env)
    expect(JSON.parse(dead.stdout)).toEqual({
      deliveries: [{
        id: "d-dead", subscription_id: "sub-gone", event: "autoaction.applied", event_id: "exec-d-dead.autoaction.applied", status: "dead",
        attempts: 1, last_status: 500, last_error: "HTTP 500: receiver down", next_attempt_at: null,
        created_at: "2026-12-01T10:00:00Z", updated_at: "2026-12-01T10:00:00Z"
      }],
      total: 1
    })
    const limited = await runCli(["webhooks", "deliveries", SHOP, "--limit", "1"], env)
    expect(limited.stdout.trimEnd().split("\n").slice(1)).toEqual([
      expect.stringMatching(/^d-pending\s+pending/),
      "(1 of 3 webhook deliveries, newest first; --limit shows more)"
    ])
    expect((await runCli(["webhooks", "deliveries", "nobody.myshopify.com", "--status", "dead"], env)).stdout.trim()).toBe("no dead webhook deliveries")
    const bad = await runCli(["webhooks", "deliveries", SHOP, "--status", "failed"], env)
    expect(bad.code).toBe(1)
    expect(bad.stderr).toMatch(/Expected: "pending" \| "delivered" \| "dead"/)
  })
})

describe("webhooks redrive", () => {
  it("of a delivered, unknown or another shop's delivery: exit 1 with the reason, nothing sent", async () => {
    const delivered = await runCli(["webhooks", "redrive", SHOP, "d-delivered", "--json"], env)
    expect(delivered.code).toBe(1)
    expect(JSON.parse(delivered.stdout)).toEqual({
      id: "d-delivered", status: "refused", code: "not_dead",
      message: "delivery d-delivered is not dead (it is delivered): only a dead-lettered delivery can be redriven"
    })
    expectUserError(await runCli(["webhooks", "redrive", SHOP, "d-pending"], env), /delivery d-pending is not dead \(it is pending\)/)
    expectUserError(await runCli(["webhooks", "redrive", SHOP, "d-nope"], env), /cli-webhooks\.myshopify\.com has no webhook delivery d-nope/)
    expectUserError(await runCli(["webhooks", "redrive", SHOP, "d-other-dead"], env), /has no webhook delivery d-other-dead/)
    expect(await queued(SHOP)).toEqual([])
    const history = await runtime.runPromise(streamTypes(SHOP, "d-delivered"))
    expect(history.map((e) => e.type)).toEqual(["webhook.delivery_requested", "webhook.delivered"])
  })

  it("of a dead one goes to the shop's actor: webhook.redriven by cli:<user>, then pending again", async () => {
    const r = await runCli(["webhooks", "redrive", SHOP, "d-dead"], env)
    expect([r.code, r.stdout.trim()], r.stderr).toEqual([
      0,
      `redrive of delivery d-dead sent to ${SHOP}'s actor: a new round of attempts starts when it is handled`
    ])
    const redriven = await runtime.runPromise(pollUntil(
      Effect.map(streamTypes(SHOP, "d-dead"), (events) => events.find((e) => e.type === "webhook.redriven")),
      "webhook.redriven on d-dead"
    ))
    expect(redriven.data).toMatchObject({ deliveryId: "d-dead", by: expect.stringMatching(/^cli:.+/) })
    await runtime.runPromise(awaitCaughtUp("webhook_deliveries"))
    const pending = JSON.parse((await runCli(["webhooks", "deliveries", SHOP, "--status", "pending", "--json"], env)).stdout)
    expect(pending.deliveries.map((d: { id: string }) => d.id).sort()).toEqual(["d-dead", "d-pending"])
    // no longer dead: a second redrive is refused
    expectUserError(await runCli(["webhooks", "redrive", SHOP, "d-dead"], env), /delivery d-dead is not dead \(it is pending\)/)
  })
})

describe("webhooks list", () => {
  it("shows the shop's live subscriptions and never their secrets", async () => {
    const { deleted, kept } = await runtime.runPromise(Effect.gen(function*() {
      const kept = yield* submitSubscriptionChange(SHOP, { type: "create", url: "https://hooks.example.com/orders", events: ["autoaction.applied", "autoaction.undone"] }, "test")
      const gone = yield* submitSubscriptionChange(SHOP, { type: "create", url: "https://hooks.example.com/gone", events: ["autoaction.failed"] }, "test")
      const deleted = yield* submitSubscriptionChange(SHOP, { type: "delete", subscriptionId: gone._tag === "Done" ? gone.subscription.subscriptionId : "?" }, "test")
      return { kept, deleted }
    }))
    expect([kept._tag, deleted._tag]).toEqual(["Done", "Done"])
    if (kept._tag !== "Done") return
    const id = kept.subscription.subscriptionId

    const human = await runCli(["webhooks", "list", SHOP], env)
    expect(human.code, human.stderr).toBe(0)
    expect(human.stdout.trimEnd().split("\n")).toEqual([
      expect.stringMatching(/^ID\s+STATUS\s+CREATED\s+EVENTS\s+URL$/),
      expect.stringMatching(new RegExp(`^${id}\\s+active\\s+\\S+\\s+autoaction\\.applied,autoaction\\.undone\\s+https://hooks\\.example\\.com/orders$`))
    ])
    const json = await runCli(["webhooks", "list", SHOP, "--json"], env)
    expect(JSON.parse(json.stdout)).toEqual({
      subscriptions: [{
        id, url: "https://hooks.example.com/orders", events: ["autoaction.applied", "autoaction.undone"], status: "active", failing_since: null,
        created_at: kept.subscription.createdAt
      }]
    })
    for (const out of [human.stdout, json.stdout]) {
      expect(out).not.toContain(kept.secret!)
      expect(out).not.toContain(kept.subscription.secret.data)
      expect(out).not.toContain("whsec_")
    }
    expect((await runCli(["webhooks", "list", OTHER], env)).stdout.trim()).toBe("no webhook subscriptions")
  })
})

describe("before any projector ran", () => {
  it("deliveries says the read model is not built yet", async () => {
    const env = cliEnv({ url: freshPostgresUrl() })
    expectUserError(await runCli(["webhooks", "deliveries", SHOP], env), /^error: the webhook_deliveries read model is not built yet: a projector builds it \(`sumeru start`\)/)
    expectUserError(await runCli(["webhooks", "redrive", SHOP, "d-dead"], env), /read model is not built yet/)
  })
})
