/**
 * `send_cart_recovery_message` (issue 12 §5) over the admin API with the shop actors, the
 * WhatsApp simulator and a real SMTP server: for an abandoned checkout, the customer who
 * consented on their phone gets the WhatsApp template (their first name and the checkout link),
 * one who accepted e-mail marketing gets the e-mail, one who consented to neither gets nothing
 * (and the execution says why); a checkout completed since is not reminded. The customer's
 * contact details are read from the checkout's sealed record and never written in clear in the
 * execution's events. Undo answers `already_sent`.
 */
import { Effect, Redacted } from "effect"
import { SqlClient } from "effect/sql"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import * as SmtpEmail from "../../adapters/email/SmtpEmail.ts"
import * as CloudApiClient from "../../adapters/whatsapp/CloudApiClient.ts"
import { EventStore } from "../../src/eventstore/EventStore.ts"
import { PiiVault } from "../../src/secrets/Secrets.ts"
import { type SmtpSink, startSmtpSink } from "../../src/simulator/smtp/SmtpSink.ts"
import { type RunningWhatsAppSimulator, startWhatsAppSimulator } from "../../src/simulator/whatsapp/index.ts"
import { type AdminApi, type AdminServer, sessionFor, startAdminApi } from "../support/adminApi.ts"

const SHOP = "recovery.myshopify.com"
const ops = () => sessionFor(SHOP, "ops-1")
const PHONE_NUMBER_ID = "100000000000009"
const WA_TOKEN = "wa-system-user-token"

describe.each(["embedded", "jetstream"] as const)("send_cart_recovery_message (%s shop log)", (log) => {
let wa: RunningWhatsAppSimulator
let sink: SmtpSink
let api: AdminApi
let server: AdminServer
let ruleId: string

/** An abandoned checkout as the data plane records one (its record sealed under the customer's key). */
const checkout = (token: string, customerId: number, raw: Record<string, unknown>, completedAt: string | null = null) =>
  api.run(Effect.gen(function*() {
    const vault = yield* PiiVault
    const store = yield* EventStore
    const subject = `customer:${customerId}`
    const record = yield* vault.seal(SHOP, subject, {
      email: raw["email"] ?? null, currency: "EUR", total_price: "42.00", completed_at: completedAt,
      line_items: [{ title: "Blue Tee", quantity: 2, price: "21.00" }], customer: null, raw
    })
    yield* store.append(`checkout-${SHOP}-${token}`, SHOP, "any", [{
      type: "checkout.updated",
      data: { checkout_token: token, checkout_id: null, cart_token: null, customer_id: String(customerId), updated_at: "2026-12-06T09:00:00Z", subject, source: { topic: "checkouts/update", event_id: null, api_version: null, triggered_at: null }, record }
    }], { correlationId: "setup", actor: { kind: "system", id: "test" } })
  }))

beforeAll(async () => {
  wa = await startWhatsAppSimulator({
    accessTokens: [WA_TOKEN],
    phoneNumbers: [{ id: PHONE_NUMBER_ID, displayPhoneNumber: "15550000009" }],
    templates: [{ name: "cart_recovery", language: "en_US", category: "MARKETING", bodyParameters: 2 }]
  })
  sink = await startSmtpSink()
  api = await startAdminApi({
    knownShops: [SHOP],
    automationActors: true,
    log,
    whatsapp: CloudApiClient.layer({ accessToken: Redacted.make(WA_TOKEN), baseUrl: wa.url }),
    whatsappNumbers: { [SHOP]: PHONE_NUMBER_ID },
    email: SmtpEmail.layerFromOptions({ host: sink.host, port: sink.port, from: "Recovery <shop@example.com>" })
  })
  server = await api.serveAdmin({ defaultRole: "viewer" })
  await api.setMember(SHOP, "ops-1", "operator")
  await api.onProPlan(SHOP)
  const rule = await api.call(server, "POST", "/app/rules", ops(), { name: "Win back carts", trigger_event: "sales.cart_abandoned_threshold", action_key: "send_cart_recovery_message", params: {}, enabled: true })
  expect(rule.status, rule.text).toBe(201)
  ruleId = rule.json.rule.id
})

afterAll(async () => {
  await api?.close()
  await sink?.close()
  await wa?.stop()
})

describe("sends by consent", () => {
  it("WhatsApp to the customer who consented on their phone, e-mail to the one who accepted e-mail, nothing to the rest — personal data never in clear", async () => {
    await checkout("t-wa", 1, { phone: "+4915112345678", customer: { first_name: "Ada", sms_marketing_consent: { state: "subscribed" } }, abandoned_checkout_url: "https://recovery.example/c/t-wa" })
    await checkout("t-mail", 2, { email: "bob@example.com", buyer_accepts_marketing: true, customer: { first_name: "Bob" } })
    await checkout("t-none", 3, { email: "cy@example.com", phone: "+4915100000000", buyer_accepts_marketing: false, customer: { first_name: "Cy" } })
    await checkout("t-done", 4, { email: "dee@example.com", buyer_accepts_marketing: true }, "2026-12-06T10:00:00Z")
    // Eve consented at checkout, then opted out (customers/update): the opt-out counts
    await checkout("t-optout", 5, { phone: "+4915155555555", customer: { first_name: "Eve", sms_marketing_consent: { state: "subscribed" } } })
    await api.run(Effect.gen(function*() {
      const vault = yield* PiiVault
      const store = yield* EventStore
      const record = yield* vault.seal(SHOP, "customer:5", {
        email: null, phone: "+4915155555555", first_name: "Eve", last_name: null, state: null, tags: null, verified_email: null, created_at: null,
        raw: { id: 5, sms_marketing_consent: { state: "unsubscribed" } }
      })
      yield* store.append(`customer-${SHOP}-5`, SHOP, "any", [{
        type: "customer.updated", data: { customer_id: "5", admin_graphql_api_id: null, updated_at: "2026-12-06T09:30:00Z", subject: "customer:5", source: { topic: "customers/update", event_id: null, api_version: null, triggered_at: null }, record }
      }], { correlationId: "setup", actor: { kind: "system", id: "test" } })
    }))
    const resource = (token: string) => ({ resourceType: "checkout", resourceId: token, payload: { value: 42, currency: "EUR", abandonedAt: "2026-12-06T09:00:00Z" } })
    const res = await api.call(server, "POST", "/app/triggers/sales.cart_abandoned_threshold/emit", ops(), {
      resources: ["t-wa", "t-mail", "t-none", "t-done", "t-optout"].map(resource), abandoned: 5, threshold: 3, windowMinutes: 60
    })
    expect(res.status, res.text).toBe(202)
    const ids = [0, 1, 2, 3, 4].map((i) => `${res.json.trigger_id}_${ruleId}_${i}`)
    for (const id of ids) await api.awaitExecution(SHOP, id, "autoaction.applied")
    const details = await Promise.all(ids.map(async (id) => (await api.call(server, "GET", `/app/executions/${encodeURIComponent(id)}`, ops())).json.execution.detail))
    expect(details).toEqual([
      "sent the WhatsApp cart-recovery template",
      "e-mailed the cart-recovery message",
      "sent nothing: the customer gave no marketing consent for their phone or e-mail",
      "sent nothing: the checkout was completed since",
      "sent nothing: the customer gave no marketing consent for their phone or e-mail"
    ])
    expect(wa.sent()).toHaveLength(1)
    const [sent] = wa.sent()
    expect(sent).toMatchObject({ to: "+4915112345678", type: "template", template: { name: "cart_recovery", language: "en_US" } })
    expect(JSON.stringify(sent!.template!.components)).toContain("https://recovery.example/c/t-wa")
    expect(JSON.stringify(sent!.template!.components)).toContain("Ada")
    const [mail] = await sink.waitFor(1)
    expect(mail!.to).toEqual(["bob@example.com"])
    expect(mail!.headers["list-unsubscribe"]).toBeDefined()
    // the executions' events hold no phone number or e-mail address in clear
    const stored = await api.run(Effect.flatMap(SqlClient.SqlClient, (sql) => sql<{ data: string }>`SELECT data::text AS data FROM events WHERE stream_id LIKE ${`autoaction-${SHOP}-%`}`))
    const text = stored.map((r) => r.data).join("")
    expect(text).not.toContain("4915112345678")
    expect(text).not.toContain("bob@example.com")
    const undo = await api.call(server, "POST", `/app/executions/${encodeURIComponent(ids[0]!)}/undo`, ops())
    expect([undo.status, undo.json.error.code]).toEqual([409, "already_sent"])
  })
})
})
