/**
 * The decision plane's actions on channels other than Shopify (issue 12 §5), over the admin API
 * with the shop actors and a real SMTP server in this process: `notify_merchant` e-mails the
 * staff a digest of what the trigger found (one message per recipient, text and HTML); a hard
 * bounce fails the execution with the address and the server's answer; undo answers
 * `already_sent`.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { Redacted } from "effect"
import * as SmtpEmail from "../../adapters/email/SmtpEmail.ts"
import * as CloudApiClient from "../../adapters/whatsapp/CloudApiClient.ts"
import { type RunningWhatsAppSimulator, startWhatsAppSimulator } from "../../src/simulator/whatsapp/index.ts"
import { type SmtpSink, startSmtpSink } from "../../src/simulator/smtp/SmtpSink.ts"
import { type AdminApi, type AdminServer, sessionFor, startAdminApi } from "../support/adminApi.ts"

const SHOP = "channels.myshopify.com"
const ops = () => sessionFor(SHOP, "ops-1")

describe.each(["embedded", "jetstream"] as const)("channel actions (%s shop log)", (log) => {
let sink: SmtpSink
let wa: RunningWhatsAppSimulator
let api: AdminApi
let server: AdminServer
let ruleId: string

beforeAll(async () => {
  sink = await startSmtpSink()
  wa = await startWhatsAppSimulator({
    accessTokens: ["wa-token"],
    phoneNumbers: [{ id: "100000000000042", displayPhoneNumber: "15550000042" }],
    templates: [{ name: "merchant_digest", language: "en_US", category: "UTILITY", bodyParameters: 2 }]
  })
  api = await startAdminApi({
    knownShops: [SHOP],
    log,
    automationActors: true,
    email: SmtpEmail.layerFromOptions({ host: sink.host, port: sink.port, from: "Sumeru <sumeru@example.com>" }),
    whatsapp: CloudApiClient.layer({ accessToken: Redacted.make("wa-token"), baseUrl: wa.url }),
    whatsappNumbers: { [SHOP]: "100000000000042" }
  })
  server = await api.serveAdmin({ defaultRole: "viewer" })
  await api.setMember(SHOP, "ops-1", "operator")
  const rule = await api.call(server, "POST", "/app/rules", ops(), {
    name: "Tell the team about audits", trigger_event: "seo.audit_completed", action_key: "notify_merchant",
    params: { recipients: ["ada@shop.example", "bob@shop.example"], subject: "SEO audit <{{resource}}>" }, enabled: true
  })
  expect(rule.status, rule.text).toBe(201)
  ruleId = rule.json.rule.id
})

afterAll(async () => {
  await api?.close()
  await sink?.close()
  await wa?.stop()
})

const audit = async (title: string) => {
  const res = await api.call(server, "POST", "/app/triggers/seo.audit_completed/emit", ops(), {
    resources: [{ resourceType: "page", resourceId: "gid://shopify/Page/1", payload: { title, url: "/pages/about-us", score: 61, issues: ["missing alt text"] } }],
    auditId: "audit-7", score: 61, pagesCrawled: 40
  })
  expect(res.status, res.text).toBe(202)
  return `${res.json.trigger_id}_${ruleId}_0`
}

describe("notify_merchant", () => {
  it("e-mails each recipient the digest; undo answers already_sent", async () => {
    const before = sink.messages.length
    const id = await audit("About <us>")
    await api.awaitExecution(SHOP, id, "autoaction.applied")
    const messages = (await sink.waitFor(before + 2)).slice(before)
    expect(messages.map((m) => m.to).flat().sort()).toEqual(["ada@shop.example", "bob@shop.example"])
    expect(messages[0]!.subject).toBe(`${SHOP}: SEO audit <gid://shopify/Page/1>`)
    expect(messages[0]!.text).toContain("score")
    expect(messages[0]!.text).toContain("/pages/about-us")
    expect(messages[0]!.html).toContain("SEO audit &lt;gid://shopify/Page/1&gt;")
    expect(new Set(messages.map((m) => m.messageId)).size).toBe(2)
    const execution = (await api.call(server, "GET", `/app/executions/${encodeURIComponent(id)}`, ops())).json.execution
    expect(execution).toMatchObject({ status: "applied", detail: `e-mailed ada@shop.example, bob@shop.example: ${SHOP}: SEO audit <gid://shopify/Page/1>` })
    const undo = await api.call(server, "POST", `/app/executions/${encodeURIComponent(id)}/undo`, ops())
    expect([undo.status, undo.json.error.code]).toEqual([409, "already_sent"])
  })

  it("with the whatsapp channel, the digest goes to the staff's phones as the approved template", async () => {
    const rule = await api.call(server, "POST", "/app/rules", ops(), {
      name: "Audits on WhatsApp", trigger_event: "seo.audit_completed", action_key: "notify_merchant",
      params: { recipients: ["+4915100000042"], channel: "whatsapp", subject: "SEO audit" }, enabled: true
    })
    expect(rule.status, rule.text).toBe(201)
    const res = await api.call(server, "POST", "/app/triggers/seo.audit_completed/emit", ops(), {
      resources: [{ resourceType: "page", resourceId: "gid://shopify/Page/2", payload: { url: "/pages/contact", score: 40, issues: [] } }], auditId: "audit-8", score: 40, pagesCrawled: 12
    })
    const id = `${res.json.trigger_id}_${rule.json.rule.id}_0`
    await api.awaitExecution(SHOP, id, "autoaction.applied")
    const sent = wa.sent().filter((m) => m.to === "+4915100000042")
    expect(sent).toHaveLength(1)
    expect(sent[0]!.template?.name).toBe("merchant_digest")
    expect(JSON.stringify(sent[0]!.template?.components)).toContain("/pages/contact")
  })

  it("a hard bounce fails the execution, naming the address and the server's answer", async () => {
    sink.rejectRecipient("bob@shop.example")
    const id = await audit("Contact")
    await api.awaitExecution(SHOP, id, "autoaction.failed")
    const execution = (await api.call(server, "GET", `/app/executions/${encodeURIComponent(id)}`, ops())).json.execution
    expect(execution.status).toBe("failed")
    expect(execution.reason).toBe("bounced")
    expect(execution.detail).toContain("bob@shop.example")
  })
})
})
