/**
 * `POST /webhooks/shopify` end to end: real HTTP → the shop log → the shop actor → the
 * event store → the projections, on PostgreSQL 15, with the embedded log and with JetStream.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { Effect, Option, Stream } from "effect"
import { SqlClient } from "effect/sql"
import { gunzipSync } from "node:zlib"
import { readFileSync } from "node:fs"
import { defaultAdminSchemaPath } from "../../src/simulator/shopify/schema.ts"
import { COMPLIANCE_TOPICS, MODELLED_WEBHOOK_TOPICS } from "../../domain/shopify/webhookTopics.ts"
import { PiiVault, ShopTokens } from "../../src/secrets/Secrets.ts"
import { Redacted } from "effect"
import { allProjections } from "../../projections/index.ts"
import { EventStore } from "../../src/eventstore/EventStore.ts"
import { whyExecution } from "../../src/automation/Why.ts"
import { requestRebuild } from "../../adapters/postgres/PgProjectionStore.ts"
import { handleJobCommand, jobParams, requestJob } from "../support/jobCommands.ts"
import { APP_SECRET, type DataPlane, PREVIOUS_SECRET, startDataPlane } from "../support/dataPlaneHarness.ts"

/** Every webhook topic of Admin API 2026-07, read from Shopify's own schema. */
const allTopics = (): ReadonlyArray<string> => {
  const json = JSON.parse(gunzipSync(readFileSync(defaultAdminSchemaPath())).toString()) as {
    data?: { __schema: { types: Array<{ name: string; enumValues?: Array<{ description: string }> }> } }
    __schema?: { types: Array<{ name: string; enumValues?: Array<{ description: string }> }> }
  }
  const schema = json.data?.__schema ?? json.__schema!
  const enumType = schema.types.find((t) => t.name === "WebhookSubscriptionTopic")!
  return enumType.enumValues!.map((v) => /`([a-z_]+[/.][a-z_]+)`/.exec(v.description)![1]!)
}

const BIG_ID = "9007199254740993" // 2^53 + 1: JSON.parse would make it …992

for (const log of ["embedded", "jetstream"] as const) {
  describe(`Shopify webhooks (${log} log)`, () => {
    let dp: DataPlane
    beforeAll(async () => {
      dp = await startDataPlane({ log })
    }, 60_000)
    afterAll(async () => {
      await dp?.close()
    })

    it("accepts every topic of API 2026-07 (and the compliance topics): modelled ones typed, the rest kept raw, none lost", async () => {
      const shop = `every-topic-${log}.myshopify.com`
      const topics = [...allTopics().filter((t) => t !== "bulk_operations/finish"), ...COMPLIANCE_TOPICS]
      expect(topics.length).toBeGreaterThan(200)
      for (const m of MODELLED_WEBHOOK_TOPICS) expect(allTopics()).toContain(m)
      const payloadFor = (topic: string, i: number) =>
        topic.startsWith("inventory_levels/")
          ? { inventory_item_id: 1000 + i, location_id: 1, available: i, updated_at: "2026-11-20T10:00:00Z" }
          : topic.startsWith("carts/") || topic.startsWith("checkouts/")
          ? { id: `tok${i}`, token: `tok${i}`, updated_at: "2026-11-20T10:00:00Z" }
          : topic.startsWith("customers/") || topic === "shop/redact"
          ? { id: 500 + i, customer: { id: 500 + i }, orders_to_redact: [], orders_requested: [], data_request: { id: i } }
          : { id: 1000 + i, updated_at: "2026-11-20T10:00:00Z" }
      const statuses = await Promise.all(topics.map(async (topic, i) => (await dp.webhook(topic, shop, payloadFor(topic, i))).status))
      expect(statuses.every((s) => s === 200)).toBe(true)
      const events = await dp.until(async () => {
        const rows = await dp.events(shop)
        return rows.length >= topics.length ? rows : undefined
      }, `${topics.length} events`, 90_000)
      expect(events.length).toBe(topics.length)
      const raw = events.filter((e) => e.type === "shopify.webhook_received").map((e) => e.data["topic"])
      const modelled = new Set<string>([...MODELLED_WEBHOOK_TOPICS, ...COMPLIANCE_TOPICS])
      // every unmodelled topic is kept raw, exactly once; no modelled topic fell back to raw
      expect([...raw].sort()).toEqual(topics.filter((t) => !modelled.has(t)).sort())
      const typed = events.filter((e) => e.type !== "shopify.webhook_received").map((e) => e.type)
      expect(typed).toEqual(expect.arrayContaining([
        "order.created", "order.updated", "order.paid", "order.cancelled", "order.fulfilled",
        "product.created", "product.updated", "product.deleted", "customer.created", "customer.updated",
        "cart.created", "cart.updated", "checkout.created", "checkout.updated", "inventory_level.updated",
        "shop.uninstalled", "customer.data_exported", "customer.redacted", "shop.redacted"
      ]))
      // raw payloads are sealed (shop/redact can shred them), not stored in clear
      const sample = events.find((e) => e.type === "shopify.webhook_received")!
      expect((sample.data["payload"] as { sealed: number }).sealed).toBe(1)
    }, 120_000)

    it("keeps numeric ids above 2^53 exact, in the stream id, the event and the read model", async () => {
      const shop = `big-ids-${log}.myshopify.com`
      const body = `{"id":${BIG_ID},"admin_graphql_api_id":"gid://shopify/Order/${BIG_ID}","name":"#1001","currency":"EUR","total_price":"10.00","updated_at":"2026-11-20T10:00:00Z","customer":{"id":${BIG_ID}}}`
      expect((await dp.webhook("orders/create", shop, null, { raw: body })).status).toBe(200)
      const [event] = await dp.until(async () => {
        const rows = await dp.events(shop)
        return rows.length > 0 ? rows : undefined
      }, "the order event")
      expect(event!.stream_id).toBe(`order-${shop}-${BIG_ID}`)
      expect(event!.data["order_id"]).toBe(BIG_ID)
      expect(event!.data["customer_id"]).toBe(BIG_ID)
      await dp.projectionsCaughtUp()
      const rows = await dp.query<{ order_id: string; customer_id: string; total_price: string }>(
        "SELECT order_id, customer_id, total_price::text FROM shopify_orders WHERE shop = $1",
        shop
      )
      expect(rows).toEqual([{ order_id: BIG_ID, customer_id: BIG_ID, total_price: "10.00" }])
    })

    it("dedupes on X-Shopify-Event-Id: a re-delivery (new webhook id) and a late replay answer 200 and change nothing", async () => {
      const shop = `dedupe-${log}.myshopify.com`
      const payload = { id: 42, title: "Tee", updated_at: "2026-11-20T10:00:00Z" }
      const first = await dp.webhook("products/update", shop, payload, { eventId: "same-event" })
      const again = await dp.webhook("products/update", shop, payload, { eventId: "same-event" })
      expect([first.status, again.status]).toEqual([200, 200])
      await dp.until(async () => ((await dp.events(shop)).length > 0 ? true : undefined), "the product event")
      // a marker after the duplicates: once it is handled, the duplicates were too
      await dp.webhook("products/update", shop, { id: 43, updated_at: "2026-11-20T10:00:00Z" })
      await dp.until(async () => ((await dp.events(shop)).length >= 2 ? true : undefined), "the marker")
      const replay = await dp.webhook("products/update", shop, payload, { eventId: "same-event" })
      expect(replay.status).toBe(200)
      await dp.webhook("products/update", shop, { id: 44, updated_at: "2026-11-20T10:00:00Z" })
      const events = await dp.until(async () => {
        const rows = await dp.events(shop)
        return rows.length >= 3 ? rows : undefined
      }, "the second marker")
      expect(events.map((e) => e.data["product_id"])).toEqual(["42", "43", "44"])
    })

    it("a product's status transitions become triggers for the shop's rules (product.published, product.drafted), out of order safe", async () => {
      const shop = `triggers-${log}.myshopify.com`
      const product = (status: string, updated_at: string) =>
        ({ id: 632910392, admin_graphql_api_id: "gid://shopify/Product/632910392", title: "Blue Tee", vendor: "Acme", product_type: "Shirts", tags: "summer, tees", status, updated_at })
      await dp.webhook("products/create", shop, product("active", "2026-11-20T10:00:00Z"))
      await dp.webhook("products/update", shop, product("draft", "2026-11-20T12:00:00Z"), { eventId: "drafted" })
      // late: the 11:00 version (still active) arrives after the 12:00 one
      await dp.webhook("products/update", shop, product("active", "2026-11-20T11:00:00Z"))
      // a marker after them: once it is recorded, so are they
      await dp.webhook("products/update", shop, { ...product("draft", "2026-11-20T12:00:00Z"), id: 1 })
      const received = await dp.until(async () => {
        const rows = await dp.events(shop)
        return rows.some((e) => e.data["product_id"] === "1") ? rows.filter((e) => e.type === "trigger.received") : undefined
      }, "the marker")
      const triggers = received.map((e) => e.data["trigger"] as { event: string; resources: Array<{ resourceId: string; payload: Record<string, unknown> }> })
      expect(triggers.map((t) => t.event)).toEqual(["product.published", "product.drafted"])
      expect(triggers[1]!.resources).toEqual([{
        resourceType: "product",
        resourceId: "gid://shopify/Product/632910392",
        payload: { title: "Blue Tee", vendor: "Acme", productType: "Shirts", tags: ["summer", "tees"], status: "draft", previousStatus: "active", updatedAt: "2026-11-20T12:00:00.000Z" }
      }])
      expect(received.every((e) => e.stream_id === `triggers-${shop}`)).toBe(true)
      expect(received[1]!.data["emittedBy"]).toEqual({ kind: "webhook", id: "webhook:products/update:drafted" })
    })

    it("★ why: a rule's execution traces back through the trigger to the product event and the Shopify delivery that caused it", async () => {
      const shop = `why-${log}.myshopify.com`
      // the shop's rule, as its actor records one
      await dp.run(Effect.flatMap(EventStore, (store) =>
        store.append(`rules-${shop}`, shop, "no_stream", [{
          type: "rule.created",
          data: {
            type: "rule.created", ruleId: "r-why", version: 1, enabled: true, name: "Tag drafts", triggerEvent: "product.drafted", actionKey: "tag_product",
            params: { tags: ["needs-review"] }, condition: "resource.payload.vendor == 'Acme'", cooldownSeconds: 0, quietHours: null, requiresApproval: false,
            requestedBy: "ops-1"
          }
        }], { correlationId: "setup", actor: { kind: "operator", id: "ops-1" } })))
      const product = (status: string, updated_at: string) =>
        ({ id: 77, admin_graphql_api_id: "gid://shopify/Product/77", title: "Green Tee", vendor: "Acme", product_type: "Shirts", tags: "", status, updated_at })
      await dp.webhook("products/create", shop, product("active", "2026-11-20T10:00:00Z"))
      await dp.webhook("products/update", shop, product("draft", "2026-11-20T12:00:00Z"), { eventId: "why-drafted" })
      const step = await dp.until(async () => {
        const rows = await dp.events(shop)
        return rows.find((e) => e.type === "autoaction.requested")
      }, "the rule's execution")
      const chain = await dp.run(Effect.map(whyExecution(shop, String(step.data["executionId"])), Option.getOrThrow))
      expect(chain.map((l) => [l.kind, l.type])).toEqual([
        ["origin", "shopify.webhook"],
        ["data_event", "product.updated"],
        ["trigger", "trigger.received"],
        ["rule", "rule.created"],
        ["execution", "autoaction.requested"]
      ])
      expect(chain[0]).toMatchObject({ id: "webhook:products/update:why-drafted", summary: "Shopify delivered products/update" })
      expect(chain[3]!.summary).toContain("condition: resource.payload.vendor == 'Acme'")
      expect(chain[4]!.summary).toBe("Rule 'Tag drafts' (v1) runs tag_product on Green Tee (product.drafted)")
    })

    it("app_subscriptions/update sets the shop's plan: an active Pro subscription is pro, its cancellation free again", async () => {
      const shop = `plans-${log}.myshopify.com`
      const subscription = (status: string) => ({ app_subscription: { admin_graphql_api_id: "gid://shopify/AppSubscription/1", name: "Sumeru Pro", status } })
      await dp.webhook("app_subscriptions/update", shop, subscription("ACTIVE"))
      await dp.webhook("app_subscriptions/update", shop, subscription("ACTIVE")) // the same plan: no new event
      await dp.webhook("app_subscriptions/update", shop, subscription("CANCELLED"))
      const changes = await dp.until(async () => {
        const rows = (await dp.events(shop)).filter((e) => e.type === "shop.plan_changed")
        return rows.length >= 2 ? rows : undefined
      }, "both plan changes")
      expect(changes.map((e) => [e.stream_id, e.data["plan"], e.data["previousPlan"]])).toEqual([
        [`shop-${shop}`, "pro", "free"],
        [`shop-${shop}`, "free", "pro"]
      ])
    })

    it("never lets an older delivery overwrite newer state in the read models", async () => {
      const shop = `order-of-${log}.myshopify.com`
      await dp.webhook("products/update", shop, { id: 7, title: "New title", updated_at: "2026-11-20T12:00:00Z" })
      await dp.webhook("products/update", shop, { id: 7, title: "Old title", updated_at: "2026-11-20T11:00:00Z" })
      await dp.webhook("customers/update", shop, { id: 8, email: "new@example.com", updated_at: "2026-11-20T12:00:00Z" })
      await dp.webhook("customers/update", shop, { id: 8, email: "old@example.com", updated_at: "2026-11-20T11:00:00Z" })
      await dp.webhook("products/delete", shop, { id: 9 }, { headers: { "x-shopify-triggered-at": "2026-11-20T12:00:00.000000000Z" } })
      await dp.webhook("products/update", shop, { id: 9, title: "Resurrected?", updated_at: "2026-11-20T11:59:00Z" })
      await dp.until(async () => ((await dp.events(shop)).length >= 6 ? true : undefined), "six events")
      await dp.projectionsCaughtUp()
      const products = await dp.query<{ product_id: string; title: string | null; deleted: boolean }>(
        "SELECT product_id, title, deleted FROM shopify_products WHERE shop = $1 ORDER BY product_id",
        shop
      )
      expect(products).toEqual([{ product_id: "7", title: "New title", deleted: false }, { product_id: "9", title: null, deleted: true }])
      const customers = await dp.query<{ email: string }>("SELECT email FROM shopify_customers WHERE shop = $1", shop)
      expect(customers).toEqual([{ email: "new@example.com" }])
    })

    it("refuses bad deliveries with typed errors and stores nothing", async () => {
      const shop = `bad-input-${log}.myshopify.com`
      const ok = { id: 1, updated_at: "2026-11-20T10:00:00Z" }
      const cases: Array<[Promise<Response>, number, string]> = [
        [dp.webhook("products/update", shop, ok, { secret: "wrong" }), 401, "unauthorized"],
        [dp.webhook("products/update", shop, ok, { headers: { "x-shopify-hmac-sha256": undefined } }), 401, "unauthorized"],
        [dp.webhook("products/update", shop, ok, { headers: { "x-shopify-topic": undefined } }), 400, "missing_headers"],
        [dp.webhook("products/update", shop, ok, { headers: { "x-shopify-shop-domain": "evil.example.com" } }), 400, "missing_headers"],
        [dp.webhook("products/update", shop, ok, { headers: { "x-shopify-event-id": undefined, "x-shopify-webhook-id": undefined } }), 400, "missing_headers"],
        [dp.webhook("products/update", shop, ok, { headers: { "content-type": "text/plain" } }), 415, "unsupported_media_type"],
        [dp.webhook("products/update", shop, null, { raw: "{\"id\":" }), 400, "malformed_json"],
        [dp.webhook("products/update", shop, null, { raw: JSON.stringify({ pad: "x".repeat(1024 * 1024) }) }), 413, "payload_too_large"]
      ]
      for (const [response, status, code] of cases) {
        const r = await response
        expect(r.status).toBe(status)
        expect(((await r.json()) as { error: { code: string } }).error.code).toBe(code)
      }
      const logged = await dp.query<{ n: string }>("SELECT count(*)::text AS n FROM shop_log WHERE shop = $1", shop)
      expect(logged[0]!.n).toBe("0")
      // the previous secret (rotation) is still accepted
      expect((await dp.webhook("products/update", shop, ok, { secret: PREVIOUS_SECRET })).status).toBe(200)
      await dp.until(async () => ((await dp.events(shop)).length === 1 ? true : undefined), "the one accepted delivery")
    })

    it("app/uninstalled discards the token; a stale uninstall that fired before a re-install keeps the new one", async () => {
      const shop = `uninstall-${log}.myshopify.com`
      const saveToken = (token: string) => dp.run(ShopTokens.use((t) => t.save(shop, Redacted.make(token), "read_products")))
      const getToken = () => dp.run(ShopTokens.use((t) => t.get(shop)))
      await saveToken("shpat_first")
      await dp.webhook("app/uninstalled", shop, { id: 1, domain: shop })
      await dp.until(async () => ((await dp.events(shop)).some((e) => e.type === "shop.uninstalled") ? true : undefined), "shop.uninstalled")
      expect(Option.isNone(await getToken())).toBe(true)
      // re-install, then a retry of an uninstall that Shopify fired an hour earlier arrives
      await saveToken("shpat_second")
      const anHourAgo = new Date(Date.now() - 3_600_000).toISOString()
      await dp.webhook("app/uninstalled", shop, { id: 1, domain: shop }, { headers: { "x-shopify-triggered-at": anHourAgo } })
      const events = await dp.until(async () => {
        const rows = (await dp.events(shop)).filter((e) => e.type === "shop.uninstalled")
        return rows.length === 2 ? rows : undefined
      }, "the stale uninstall")
      expect(events[1]!.data).toMatchObject({ stale: true, token_discarded: false })
      const token = await getToken()
      expect(Option.isSome(token) && Redacted.value(token.value.token)).toBe("shpat_second")
      await dp.projectionsCaughtUp()
      const state = await dp.query<{ status: string }>("SELECT status FROM shops WHERE shop = $1", shop)
      expect(state).toEqual([{ status: "uninstalled" }])
    })

    it("accepts a correctly signed webhook for a shop that is not installed (shop/redact comes 48 h after uninstall)", async () => {
      const shop = `never-installed-${log}.myshopify.com`
      expect((await dp.webhook("shop/redact", shop, { shop_id: 1, shop_domain: shop })).status).toBe(200)
      await dp.until(async () => ((await dp.events(shop)).some((e) => e.type === "shop.redacted") ? true : undefined), "shop.redacted")
    })
  })
}

describe("mandatory compliance webhooks (PostgreSQL 15, embedded log)", () => {
  let dp: DataPlane
  beforeAll(async () => {
    dp = await startDataPlane()
  }, 60_000)
  afterAll(async () => {
    await dp?.close()
  })

  const EMAIL = "ada.lovelace.1815@example.com"
  const shop = "privacy.myshopify.com"
  const other = "bystander.myshopify.com"

  const seedCustomer = async (s: string, customerId: number, email: string) => {
    await dp.webhook("customers/create", s, { id: customerId, email, first_name: "Ada", last_name: "Lovelace", updated_at: "2026-11-20T10:00:00Z" })
    await dp.webhook("orders/create", s, {
      id: customerId * 10, name: "#1", email, total_price: "5.00", currency: "EUR", updated_at: "2026-11-20T10:00:00Z",
      customer: { id: customerId, email }
    })
    // a guest order the redaction request names explicitly
    await dp.webhook("orders/create", s, { id: customerId * 10 + 1, email, total_price: "7.00", updated_at: "2026-11-20T10:00:00Z" })
  }

  it("customers/data_request exports everything held about the customer, recorded by an event", async () => {
    await seedCustomer(shop, 77, EMAIL)
    await dp.webhook("customers/data_request", shop, {
      shop_id: 1, shop_domain: shop, orders_requested: [771], customer: { id: 77, email: EMAIL }, data_request: { id: 9001 }
    })
    const exported = await dp.until(async () => (await dp.events(shop)).find((e) => e.type === "customer.data_exported"), "the export")
    expect(exported.data).toMatchObject({ customer_id: "77", data_request_id: "9001", event_count: 3 })
    expect(JSON.stringify(exported.data)).not.toContain(EMAIL)
    const row = await dp.query<{ sealed: unknown }>("SELECT sealed FROM data_exports WHERE shop = $1", shop)
    expect(JSON.stringify(row)).not.toContain(EMAIL) // sealed at rest
    const document = await dp.run(Effect.flatMap(PiiVault, (v) => v.open(shop, row[0]!.sealed as never)))
    expect(Option.isSome(document)).toBe(true)
    const text = JSON.stringify(Option.getOrThrow(document))
    expect(text).toContain(EMAIL)
    expect((Option.getOrThrow(document) as { events: Array<{ type: string }> }).events.map((e) => e.type))
      .toEqual(["customer.created", "order.created", "order.created"])
  })

  it("customers/redact: the customer's e-mail is nowhere in the database afterwards, another customer's is intact", async () => {
    const bystanderEmail = "grace.hopper.1906@example.com"
    await seedCustomer(other, 78, bystanderEmail)
    await dp.until(async () => ((await dp.events(other)).length >= 3 ? true : undefined), "the bystander's events")
    await dp.projectionsCaughtUp()
    const before = await dp.searchDatabase(EMAIL)
    expect(before.hits.length).toBeGreaterThan(0) // the read model had it in clear

    // an operator-facing dead letter of one of the customer's webhooks holds the raw payload
    await dp.query(
      "INSERT INTO dead_letters (shop, message_id, message, error, attempts, permanent) VALUES ($1, 'dl-1', $2::jsonb, 'test', 1, true)",
      shop,
      JSON.stringify({ shop, messageId: "dl-1", type: "shopify.webhook", payload: { topic: "orders/updated", payload: { id: 771, email: EMAIL, customer: { id: 77, email: EMAIL } } } })
    )
    await dp.query(
      "INSERT INTO dead_letters (shop, message_id, message, error, attempts, permanent) VALUES ($1, 'dl-2', $2::jsonb, 'test', 1, true)",
      shop,
      JSON.stringify({ shop, messageId: "dl-2", type: "shopify.webhook", payload: { topic: "products/update", payload: { id: 5 } } })
    )
    await dp.webhook("customers/redact", shop, { shop_id: 1, shop_domain: shop, customer: { id: 77, email: EMAIL }, orders_to_redact: [771] })
    await dp.until(async () => ((await dp.events(shop)).some((e) => e.type === "customer.redacted") ? true : undefined), "customer.redacted")
    await dp.projectionsCaughtUp()
    const after = await dp.searchDatabase(EMAIL)
    expect(after.tables).toBeGreaterThan(20)
    expect(after.hits).toEqual([])
    // the events are still there, immutable, but their records no longer open
    const events = (await dp.events(shop)).filter((e) => e.type === "customer.created" || e.type === "order.created")
    expect(events.length).toBe(3)
    for (const e of events) {
      const opened = await dp.run(Effect.flatMap(PiiVault, (v) => v.open(shop, e.data["record"] as never)))
      expect(Option.isNone(opened)).toBe(true)
    }
    // the audit log says what happened, in plain language; orders are data, not audit lines
    const audit = await dp.query<{ event_type: string; summary: string }>("SELECT event_type, summary FROM audit_log WHERE shop = $1 ORDER BY position", shop)
    expect(audit.map((a) => a.event_type)).toEqual(["customer.data_exported", "customer.redacted"])
    expect(audit[1]!.summary).toBe("Customer 77's personal data was erased (Shopify customers/redact, 1 order(s) named)")
    const tombstone = await dp.query<{ redacted: boolean; email: string | null }>("SELECT redacted, email FROM shopify_customers WHERE shop = $1", shop)
    expect(tombstone).toEqual([{ redacted: true, email: null }])
    expect(await dp.query("SELECT 1 FROM data_exports WHERE shop = $1", shop)).toEqual([])
    expect(await dp.query("SELECT message_id FROM dead_letters WHERE shop = $1", shop)).toEqual([{ message_id: "dl-2" }])
    // the bystander is untouched
    expect((await dp.searchDatabase(bystanderEmail)).hits).toEqual(["shopify_customers__g1 (1)"])
    // a late retry of the customer's old update cannot bring the data back into the read model
    await dp.webhook("customers/update", shop, { id: 77, email: EMAIL, updated_at: "2026-11-20T11:00:00Z" })
    await dp.until(async () => ((await dp.events(shop)).filter((e) => e.type === "customer.updated").length === 1 ? true : undefined), "the late update")
    await dp.projectionsCaughtUp()
    expect((await dp.query<{ email: string | null }>("SELECT email FROM shopify_customers WHERE shop = $1", shop))).toEqual([{ email: null }])
    // …nor into the events: no new data key for the redacted customer, the late event keeps ids only
    const late = (await dp.events(shop)).find((e) => e.type === "customer.updated")!
    expect(late.data["record"]).toBeNull()
    expect(late.data["customer_id"]).toBe("77")
    expect(await dp.query("SELECT 1 FROM data_keys WHERE shop = $1 AND subject = 'customer:77'", shop)).toEqual([])
    expect((await dp.searchDatabase(EMAIL)).hits).toEqual([])
  })

  it("shop/redact: the shop's read-model rows and side tables are gone and its events no longer open", async () => {
    const s = "closing-down.myshopify.com"
    await seedCustomer(s, 90, "someone@example.com")
    await dp.run(ShopTokens.use((t) => t.save(s, Redacted.make("shpat_closing"), "read_products")))
    // a Flowmend job: the merchant's query and metafield value are the shop's data too
    const jobValue = "Closing Down Sale 4c1e"
    const jobId = "0199a000-0000-7000-8000-00000000c10s".replace("s", "5")
    await dp.run(handleJobCommand(s, requestJob(jobId, s, jobParams({ value: jobValue, queryString: "tag:closing-4c1e" }), "2026-11-20T10:00:00Z")))
    await dp.until(async () => ((await dp.events(s)).length >= 4 ? true : undefined), "seed events")
    await dp.projectionsCaughtUp()
    expect((await dp.query("SELECT 1 FROM shopify_orders WHERE shop = $1", s)).length).toBe(2)
    // in the read model until the redaction; never in clear in the event store
    expect((await dp.searchDatabase(jobValue)).hits.some((h) => h.startsWith("jobs"))).toBe(true)
    expect((await dp.query("SELECT 1 FROM events WHERE shop = $1 AND data::text LIKE $2", s, `%${jobValue}%`))).toEqual([])
    await dp.webhook("shop/redact", s, { shop_id: 1, shop_domain: s })
    await dp.until(async () => ((await dp.events(s)).some((e) => e.type === "shop.redacted") ? true : undefined), "shop.redacted")
    await dp.projectionsCaughtUp()
    for (const table of ["shopify_orders", "shopify_customers", "shopify_products", "jobs", "job_timeline"]) {
      expect(await dp.query(`SELECT 1 FROM ${table} WHERE shop = $1`, s), table).toEqual([])
    }
    expect((await dp.searchDatabase("someone@example.com")).hits).toEqual([])
    expect((await dp.searchDatabase(jobValue)).hits).toEqual([])
    expect((await dp.searchDatabase("closing-4c1e")).hits).toEqual([])
    // the job's events are still in the log, unreadable
    const jobEvents = await dp.run(Stream.runCollect(EventStore.use((store) => Effect.succeed(store.readStream(`job-${jobId}`))).pipe(Stream.unwrap)))
    expect(jobEvents.length).toBeGreaterThan(0)
    expect(jobEvents.every((e) => e.redacted === true && e.data === null)).toBe(true)
    // an operator's rebuild of every projection after the redaction replays past the unreadable events
    for (const projection of allProjections) {
      const building = await dp.run(Effect.flatMap(SqlClient.SqlClient, (sql) => requestRebuild(sql, projection)))
      await dp.until(async () => {
        const live = await dp.query<{ generation: number }>(
          "SELECT generation FROM projection_generations WHERE name = $1 AND status = 'live'",
          projection.name
        )
        return live[0]?.generation === building.generation ? true : undefined
      }, `the rebuilt ${projection.name} projection goes live`)
    }
    for (const table of ["jobs", "job_timeline", "shopify_orders", "shopify_customers"]) {
      expect(await dp.query(`SELECT 1 FROM ${table} WHERE shop = $1`, s), table).toEqual([])
    }
    // the audit trail keeps only the redaction itself
    expect(await dp.query("SELECT event_type FROM audit_log WHERE shop = $1", s)).toEqual([{ event_type: "shop.redacted" }])
    expect(await dp.query("SELECT 1 FROM data_keys WHERE shop = $1", s)).toEqual([])
    expect(Option.isNone(await dp.run(ShopTokens.use((t) => t.get(s))))).toBe(true)
    for (const e of (await dp.events(s)).filter((e) => e.data["record"] !== undefined)) {
      expect(Option.isNone(await dp.run(Effect.flatMap(PiiVault, (v) => v.open(s, e.data["record"] as never))))).toBe(true)
    }
    // the other shops are untouched
    expect((await dp.query("SELECT 1 FROM shopify_customers WHERE shop = $1", other)).length).toBe(1)
    expect(APP_SECRET).toBeTruthy()
  })
})

describe("when the shop log is unreachable", () => {
  it("answers 503 with Retry-After (Shopify retries) within its 5 s budget, and stores nothing", async () => {
    const { startNatsServer } = await import("../support/natsServer.ts")
    const nats = await startNatsServer()
    const dp = await startDataPlane({ log: "jetstream", natsUrl: nats.url, publishTimeoutMs: 1_500 })
    try {
      const shop = "log-down.myshopify.com"
      expect((await dp.webhook("products/update", shop, { id: 1, updated_at: "2026-11-20T10:00:00Z" })).status).toBe(200)
      await dp.until(async () => ((await dp.events(shop)).length === 1 ? true : undefined), "the first delivery")
      await nats.stop()
      const started = Date.now()
      const r = await dp.webhook("products/update", shop, { id: 2, updated_at: "2026-11-20T10:00:00Z" })
      const elapsed = Date.now() - started
      expect(r.status).toBe(503)
      expect(r.headers.get("retry-after")).toBe("5")
      expect(((await r.json()) as { error: { code: string } }).error.code).toBe("unavailable")
      expect(elapsed).toBeLessThan(5_000)
      expect((await dp.events(shop)).length).toBe(1)
    } finally {
      await dp.close()
      await nats.stop().catch(() => undefined)
    }
  }, 60_000)
})
