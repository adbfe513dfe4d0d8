/**
 * The SMTP email adapter against a real SMTP server over TCP on 127.0.0.1 (the SMTP sink,
 * `smtp-server` + `mailparser`): what arrives (text + HTML, our Message-ID, List-Unsubscribe
 * with RFC 8058 one-click), and how the server's answers and network failures become the
 * contract's typed errors. Every wait is on an arrival or a reply, never a sleep.
 */
import { ConfigProvider, Effect, Layer, Logger, Redacted } from "effect"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import * as SmtpEmail from "../../adapters/email/SmtpEmail.ts"
import { cartRecoveryEmail } from "../../domain/channels/emailTemplates.ts"
import { type EmailMessage, EmailRejected, EmailSender, EmailTransient, emailMessageId } from "../../src/channels/Email.ts"
import { type SmtpSink, startSmtpSink } from "../../src/simulator/smtp/SmtpSink.ts"

const FROM = "Acme <orders@acme.test>"

const rendered = cartRecoveryEmail({
  shopName: "Acme",
  customerFirstName: "Ada",
  checkoutUrl: "https://acme.test/checkouts/c1/recover?key=k1",
  items: [{ title: "Blue T-shirt", quantity: 2, price: "19.99" }],
  currency: "USD",
  unsubscribeUrl: "https://sumeru.test/u/tok1"
})

const message = (overrides: Partial<EmailMessage> = {}): EmailMessage => ({
  to: "ada@example.com",
  subject: rendered.subject,
  text: rendered.text,
  html: rendered.html,
  messageId: emailMessageId("exec-42"),
  listUnsubscribe: { url: "https://sumeru.test/u/tok1", mailto: "unsubscribe+tok1@sumeru.test" },
  ...overrides
})

const layerFor = (sink: SmtpSink) =>
  SmtpEmail.layerFromOptions({ host: sink.host, port: sink.port, from: FROM, auth: { user: "acme", pass: Redacted.make("secret") } })

/** Sends each message in turn through one transport (one pool), answering each outcome. */
const sendAll = (layer: Layer.Layer<EmailSender, unknown>, ...messages: ReadonlyArray<EmailMessage>) =>
  Effect.runPromise(
    EmailSender.use((sender) => Effect.forEach(messages, (m) => Effect.result(sender.send(m)))).pipe(Effect.provide(layer))
  )

const sendOne = async (layer: Layer.Layer<EmailSender, unknown>, m: EmailMessage) => (await sendAll(layer, m))[0]!

const failureOf = async (layer: Layer.Layer<EmailSender, unknown>, m: EmailMessage) => {
  const result = await sendOne(layer, m)
  if (result._tag !== "Failure") throw new Error(`expected a failure, got ${JSON.stringify(result)}`)
  return result.failure
}

describe("SMTP email adapter against a real SMTP server", () => {
  let sink: SmtpSink
  beforeEach(async () => {
    sink = await startSmtpSink()
  })
  afterEach(() => sink.close())

  it("delivers text and HTML alternatives with our Message-ID and a one-click List-Unsubscribe", async () => {
    const result = await sendOne(layerFor(sink), message({ headers: { "X-Sumeru-Execution": "exec-42" } }))
    expect(result).toMatchObject({ _tag: "Success", success: { messageId: "<exec-42@sumeru>", accepted: ["ada@example.com"] } })

    const [received] = await sink.waitFor(1)
    expect(received!.messageId).toBe("<exec-42@sumeru>")
    expect(received!.headers["message-id"]).toBe("<exec-42@sumeru>")
    expect(received!.headers["content-type"]).toMatch(/^multipart\/alternative;/)
    expect(received!.text?.trim()).toBe(rendered.text.trim())
    expect(received!.html).toBe(rendered.html)
    expect(received!.subject).toBe("Ada, your cart at Acme is waiting")
    expect(received!.headers["list-unsubscribe"]).toBe("<https://sumeru.test/u/tok1>, <mailto:unsubscribe+tok1@sumeru.test>")
    expect(received!.headers["list-unsubscribe-post"]).toBe("List-Unsubscribe=One-Click")
    expect(received!.headers["x-sumeru-execution"]).toBe("exec-42")
    expect(received!.from).toBe("orders@acme.test")
    expect(received!.to).toEqual(["ada@example.com"])
    expect(received!.envelope).toEqual({ mailFrom: "orders@acme.test", rcptTo: ["ada@example.com"] })
    expect(received!.authUser).toBe("acme")
  })

  it("offers one-click unsubscribe only with a URL; a message may name its own sender", async () => {
    await sendOne(layerFor(sink), message({ from: "Acme Support <help@acme.test>", listUnsubscribe: { mailto: "unsubscribe@acme.test" } }))
    const [received] = await sink.waitFor(1)
    expect(received!.headers["list-unsubscribe"]).toBe("<mailto:unsubscribe@acme.test>")
    expect(received!.headers["list-unsubscribe-post"]).toBeUndefined()
    expect(received!.from).toBe("help@acme.test")
  })

  it("a recipient refused with 550 at RCPT TO is a hard bounce (EmailRejected, bounce, the code); only that attempt", async () => {
    sink.rejectRecipient("gone@example.com")
    const gone = message({ to: "gone@example.com", messageId: emailMessageId("exec-43") })
    const [first, second] = await sendAll(layerFor(sink), gone, gone)

    expect(first!._tag).toBe("Failure")
    const error = (first as { readonly failure: unknown }).failure
    expect(error).toBeInstanceOf(EmailRejected)
    expect(error).toMatchObject({
      _tag: "EmailRejected",
      bounce: true,
      smtpCode: 550,
      command: "RCPT TO",
      recipient: "gone@example.com",
      messageId: "<exec-43@sumeru>"
    })
    expect((error as EmailRejected).response).toMatch(/^550 .*User unknown/)
    // the fault was for the next RCPT only: the same pool delivers the next attempt
    expect(second).toMatchObject({ _tag: "Success", success: { accepted: ["gone@example.com"] } })
    expect(sink.transactions.entries.map((t) => t.outcome)).toEqual(["recipient_rejected", "accepted"])
    expect(sink.messages).toHaveLength(1)
  })

  it("451 after DATA is transient (EmailTransient with the code); the retry is delivered once, same Message-ID", async () => {
    sink.deferNext(1)
    const [first, retry] = await sendAll(layerFor(sink), message(), message())

    expect(first).toMatchObject({ _tag: "Failure", failure: { _tag: "EmailTransient", smtpCode: 451, code: "EMESSAGE" } })
    expect((first as { readonly failure: unknown }).failure).toBeInstanceOf(EmailTransient)
    expect(retry).toMatchObject({ _tag: "Success", success: { messageId: "<exec-42@sumeru>" } })
    const received = await sink.waitFor(1)
    expect(received.map((m) => m.messageId)).toEqual(["<exec-42@sumeru>"])
    expect(sink.transactions.entries.map((t) => t.outcome)).toEqual(["deferred", "accepted"])
  })

  it("452 at RCPT TO is transient too, not a bounce", async () => {
    sink.deferNext(1, { code: 452, message: "4.2.2 Mailbox full, try again later", at: "rcpt" })
    const error = await failureOf(layerFor(sink), message())
    expect(error).toMatchObject({ _tag: "EmailTransient", smtpCode: 452, code: "EENVELOPE" })
    expect(sink.messages).toHaveLength(0)
  })

  it("connection refused (the server is gone) is transient, with no SMTP code", async () => {
    await sink.close()
    const error = await failureOf(layerFor(sink), message())
    expect(error).toBeInstanceOf(EmailTransient)
    expect(error).toMatchObject({ _tag: "EmailTransient", smtpCode: null, response: null })
    expect(["ESOCKET", "ECONNECTION"]).toContain((error as EmailTransient).code)
    expect(error.message).toMatch(/ECONNREFUSED/)
  })

  it("a server that stops answering: the send gives up after sendTimeoutMs (EmailTransient ETIMEDOUT) and frees its connection", async () => {
    sink.stallNext(1)
    // one pooled connection: the next send gets through only if the stalled one was closed
    const layer = SmtpEmail.layerFromOptions({ host: sink.host, port: sink.port, from: FROM, maxConnections: 1, sendTimeoutMs: 300 })
    const [stalled, next] = await sendAll(layer, message(), message())
    expect(stalled).toMatchObject({ _tag: "Failure", failure: { _tag: "EmailTransient", code: "ETIMEDOUT", smtpCode: null } })
    expect(next!._tag).toBe("Success")
    expect(sink.transactions.entries.map((t) => t.outcome)).toEqual(["stalled", "accepted"])
  })

  it("a connection dropped at MAIL FROM is transient and nothing arrives", async () => {
    sink.dropNext(1)
    const [dropped, retry] = await sendAll(layerFor(sink), message(), message())
    expect(dropped).toMatchObject({ _tag: "Failure", failure: { _tag: "EmailTransient", code: "ECONNECTION", smtpCode: null } })
    expect(retry!._tag).toBe("Success")
    expect(sink.transactions.entries.map((t) => t.outcome)).toEqual(["dropped", "accepted"])
    expect(sink.messages).toHaveLength(1)
  })

  it("a connection dropped after DATA is transient although the message arrived: the retry's copy has the same Message-ID", async () => {
    sink.dropNext(1, { at: "data" })
    const [dropped, retry] = await sendAll(layerFor(sink), message(), message())
    expect(dropped).toMatchObject({ _tag: "Failure", failure: { _tag: "EmailTransient", smtpCode: null } })
    expect(retry!._tag).toBe("Success")
    const received = await sink.waitFor(2)
    expect(received.map((m) => m.messageId)).toEqual(["<exec-42@sumeru>", "<exec-42@sumeru>"])
  })
})

describe("SMTP email adapter configured from SMTP_URL and SMTP_FROM", () => {
  let sink: SmtpSink
  beforeEach(async () => {
    sink = await startSmtpSink({ credentials: { user: "mailer", pass: "p@ss word" } })
  })
  afterEach(() => sink.close())

  const configured = (env: Record<string, string>, lines: Array<string>) =>
    SmtpEmail.layer.pipe(
      Layer.provide(ConfigProvider.layer(ConfigProvider.fromEnv({ env }))),
      Layer.provide(Logger.layer([Logger.make((o) => void lines.push(Logger.formatLogFmt.log(o)))]))
    )

  it("authenticates with the URL's credentials, sends from SMTP_FROM, and never logs the password", async () => {
    const lines: Array<string> = []
    const url = `smtp://mailer:${encodeURIComponent("p@ss word")}@${sink.host}:${sink.port}`
    const result = await sendOne(configured({ SMTP_URL: url, SMTP_FROM: FROM }, lines), message())
    expect(result._tag).toBe("Success")
    const [received] = await sink.waitFor(1)
    expect(received!.authUser).toBe("mailer")
    expect(received!.from).toBe("orders@acme.test")
    expect(lines.join("\n")).toContain(`port=${sink.port}`)
    expect(lines.join("\n")).not.toMatch(/p@ss|p%40ss/)
  })

  it("wrong credentials are refused for good, but are not the recipient's bounce", async () => {
    const url = `smtp://mailer:wrong@${sink.host}:${sink.port}`
    const error = await failureOf(configured({ SMTP_URL: url, SMTP_FROM: FROM }, []), message())
    expect(error).toMatchObject({ _tag: "EmailRejected", bounce: false, smtpCode: 535 })
    expect(sink.messages).toHaveLength(0)
  })

  it("an SMTP_URL that is not smtp:// or smtps:// fails the layer without repeating the URL", async () => {
    const exit = await Effect.runPromiseExit(
      Layer.build(configured({ SMTP_URL: "https://mailer:hunter2@mail.example.com", SMTP_FROM: FROM }, [])).pipe(Effect.scoped)
    )
    expect(exit._tag).toBe("Failure")
    expect(JSON.stringify(exit)).toContain("SmtpConfigInvalid")
    expect(JSON.stringify(exit)).not.toContain("hunter2")
  })

  it("reads smtps:// as TLS from the first byte on port 465 by default", async () => {
    const options = await Effect.runPromise(SmtpEmail.parseSmtpUrl(Redacted.make("smtps://u:p%2Fq@mail.example.com")))
    expect(options).toMatchObject({ host: "mail.example.com", port: 465, secure: true, auth: { user: "u" } })
    expect(Redacted.value(options.auth!.pass as Redacted.Redacted<string>)).toBe("p/q")
  })
})

describe("SMTP failures as typed errors", () => {
  const m = message()
  const classify = (error: Record<string, unknown>) => SmtpEmail.toEmailError(m, "<id@sumeru>", Object.assign(new Error("failed"), error))

  it("5xx at RCPT TO or DATA bounces; 5xx elsewhere is rejected without bouncing; 4xx and 503 are transient", () => {
    expect(classify({ code: "EMESSAGE", responseCode: 552, response: "552 5.3.4 Message too big", command: "DATA" }))
      .toMatchObject({ _tag: "EmailRejected", bounce: true, smtpCode: 552 })
    expect(classify({ code: "EENVELOPE", responseCode: 553, response: "553 sender refused", command: "MAIL FROM" }))
      .toMatchObject({ _tag: "EmailRejected", bounce: false, smtpCode: 553, command: "MAIL FROM" })
    expect(classify({ code: "EENVELOPE", responseCode: 421, response: "421 closing", command: "RCPT TO" }))
      .toMatchObject({ _tag: "EmailTransient", smtpCode: 421 })
    expect(classify({ code: "EPROTOCOL", responseCode: 503, response: "503 bad sequence", command: "DATA" }))
      .toMatchObject({ _tag: "EmailTransient", smtpCode: 503 })
  })

  it("without a reply: network failures are transient, a malformed message is rejected", () => {
    expect(classify({ code: "ETIMEDOUT" })).toMatchObject({ _tag: "EmailTransient", code: "ETIMEDOUT", smtpCode: null })
    expect(classify({ code: "EDNS" })).toMatchObject({ _tag: "EmailTransient" })
    expect(classify({ code: "EENVELOPE" })).toMatchObject({ _tag: "EmailRejected", bounce: false, smtpCode: null })
  })
})
