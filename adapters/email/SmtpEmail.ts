/**
 * `EmailSender` over SMTP with nodemailer's pooled transport: a few long-lived connections
 * (so a burst of sends does not pay a handshake each), bounded timeouts, and every failure
 * mapped to the contract's typed errors from the server's own reply code.
 *
 * Each message goes out as `multipart/alternative` (plain text, then HTML) with our
 * `Message-ID` (the caller's idempotency key) and, when asked, `List-Unsubscribe` plus
 * `List-Unsubscribe-Post: List-Unsubscribe=One-Click` for an HTTPS target (RFC 8058).
 *
 * Retries are the caller's: a connection that fails or drops once a message is under way is
 * reported as `EmailTransient`, and the caller retries on its own schedule with the same
 * `Message-ID`. (The pool itself re-queues a message only when the server had closed the
 * idle connection before anything of the message was sent, which cannot duplicate it.)
 *
 * Configuration (`layer`): `SMTP_URL` (`smtp://user:pass@host:587`, or `smtps://…` for TLS
 * from the first byte; redacted, and never logged) and `SMTP_FROM` (the default sender,
 * e.g. `Acme <orders@acme.example>`).
 */
import { Config, Duration, Effect, Layer, Metric, Redacted, Schema, type Scope } from "effect"
import type { NodemailerError, SendMailOptions } from "nodemailer"
import {
  type EmailError,
  type EmailMessage,
  EmailRejected,
  EmailSender,
  type EmailSent,
  EmailTransient
} from "../../src/channels/Email.ts"

/** Where and how to reach the SMTP server. */
export interface SmtpEmailOptions {
  readonly host: string
  readonly port: number
  /** TLS from the first byte (port 465, `smtps://`). Otherwise STARTTLS when the server offers it. */
  readonly secure?: boolean | undefined
  readonly auth?: {
    readonly user: string
    readonly pass: string | Redacted.Redacted<string>
  } | undefined
  /** The sender of messages that name none, e.g. `Acme <orders@acme.example>`. */
  readonly from: string
  /** Pooled connections (default 5). */
  readonly maxConnections?: number | undefined
  /** Connecting, and waiting for the greeting, each (default 10 s). */
  readonly connectTimeoutMs?: number | undefined
  /** Inactivity on an open connection (default 60 s). */
  readonly socketTimeoutMs?: number | undefined
  /** One whole send, queueing in the pool included (default 120 s); then `EmailTransient` `ETIMEDOUT`. */
  readonly sendTimeoutMs?: number | undefined
}

/** `SMTP_URL` cannot be used. The message never repeats the URL (it holds the password). */
export class SmtpConfigInvalid extends Schema.TaggedError<SmtpConfigInvalid>()("SmtpConfigInvalid", {
  message: Schema.String
}) {}

/** Messages handed to the SMTP server, by outcome: `sent`, `transient`, `bounced`, `rejected`. */
export const emailsSent = Metric.counter("sumeru_emails_sent_total", {
  description: "Emails handed to the SMTP server, by outcome"
})

// ------------------------------------------------------------------------ error mapping

/**
 * Failures without an SMTP reply that retrying cannot fix: the message or the configuration
 * is wrong. Anything else without a reply (connection refused, reset or timed out, DNS,
 * TLS, proxy, an unknown code) is transient.
 */
const PERMANENT_WITHOUT_REPLY: ReadonlySet<string> = new Set([
  "EENVELOPE",
  "EMESSAGE",
  "ECONFIG",
  "EAUTH",
  "ENOAUTH",
  "EOAUTH2",
  "EREQUIRETLS",
  "EMAXRECIPIENTS",
  "EFILEACCESS",
  "EURLACCESS",
  "EOTP"
])

/** RFC 5321: 5yz is a permanent refusal, except 503 (bad sequence: the session, not the message). */
const isPermanentReply = (code: number): boolean => code >= 500 && code < 600 && code !== 503

/** The commands whose refusal is about the recipient or the content: a hard bounce. */
const BOUNCE_COMMANDS: ReadonlySet<string> = new Set(["RCPT TO", "DATA"])

/**
 * Maps what nodemailer rejected `sendMail` with to the contract's errors: by the SMTP reply
 * code when the server answered (4xx and 503 transient, other 5xx rejected, a bounce at
 * `RCPT TO` / `DATA`), else by nodemailer's error code.
 */
export const toEmailError = (message: EmailMessage, messageId: string, error: unknown): EmailError => {
  const e: Partial<NodemailerError> = typeof error === "object" && error !== null ? error : {}
  const code = typeof e.code === "string" ? e.code : "EUNKNOWN"
  const smtpCode = typeof e.responseCode === "number" ? e.responseCode : null
  const response = typeof e.response === "string" ? e.response : null
  const command = typeof e.command === "string" ? e.command : null
  const text = error instanceof Error ? error.message : String(error)
  const permanent = smtpCode !== null ? isPermanentReply(smtpCode) : PERMANENT_WITHOUT_REPLY.has(code)
  if (!permanent) return new EmailTransient({ messageId, code, smtpCode, response, message: text })
  return new EmailRejected({
    messageId,
    recipient: message.to,
    bounce: smtpCode !== null && command !== null && BOUNCE_COMMANDS.has(command),
    smtpCode,
    response,
    command,
    message: text
  })
}

// ------------------------------------------------------------------------------ sending

/** `<id>` as the header carries it (nodemailer adds missing brackets the same way). */
const bracketed = (messageId: string): string => {
  const id = messageId.trim()
  return `${id.startsWith("<") ? "" : "<"}${id}${id.endsWith(">") ? "" : ">"}`
}

/** The nodemailer message for `message`: text + HTML alternatives, our Message-ID, List-* headers. */
const toMail = (message: EmailMessage, defaultFrom: string, messageId: string): SendMailOptions => {
  const unsubscribe = [message.listUnsubscribe?.url, message.listUnsubscribe?.mailto]
    .filter((target): target is string => target !== undefined && target !== "")
  const oneClick = message.listUnsubscribe?.url !== undefined && message.listUnsubscribe.url !== ""
  return {
    from: message.from ?? defaultFrom,
    to: message.to,
    subject: message.subject,
    text: message.text,
    html: message.html,
    messageId,
    headers: {
      ...message.headers,
      ...(oneClick ? { "List-Unsubscribe-Post": "List-Unsubscribe=One-Click" } : {})
    },
    // one header: `List-Unsubscribe: <https://…>, <mailto:…>`
    ...(unsubscribe.length > 0 ? { list: { unsubscribe: [unsubscribe] } } : {})
  }
}

/**
 * The sender over a pooled SMTP transport, closed with the scope. An interrupted send (or one
 * past `sendTimeoutMs`) is aborted: taken off the pool's queue, its connection closed.
 */
export const make = (options: SmtpEmailOptions): Effect.Effect<EmailSender["Service"], never, Scope.Scope> =>
  Effect.gen(function*() {
    const connectTimeout = options.connectTimeoutMs ?? 10_000
    const sendTimeout = Duration.millis(options.sendTimeoutMs ?? 120_000)
    const open = (createTransport: typeof import("nodemailer").createTransport) =>
      createTransport({
        pool: true,
        maxConnections: options.maxConnections ?? 5,
        host: options.host,
        port: options.port,
        secure: options.secure ?? false,
        ...(options.auth !== undefined
          ? {
            auth: {
              user: options.auth.user,
              pass: Redacted.isRedacted(options.auth.pass) ? Redacted.value(options.auth.pass) : options.auth.pass
            }
          }
          : {}),
        connectionTimeout: connectTimeout,
        greetingTimeout: connectTimeout,
        socketTimeout: options.socketTimeoutMs ?? 60_000,
        // our content is strings; never let a message make the transport read a file or a URL
        disableFileAccess: true,
        disableUrlAccess: true,
        logger: false
      })
    // nodemailer is loaded, and the pool made, by the first send: 5 MB of heap a server that
    // sends no email does not carry
    let transporter: ReturnType<typeof open> | undefined
    const pool = Effect.promise(() => import("nodemailer")).pipe(Effect.map(({ createTransport }) => (transporter ??= open(createTransport))))
    // by now no fiber waits for a delivery: close the busy and the still-connecting connections too
    yield* Effect.addFinalizer(() => Effect.sync(() => transporter?.close({ force: true })))

    const send = Effect.fn("EmailSender.send")(
      function*(message: EmailMessage): Effect.fn.Return<EmailSent, EmailError> {
        const messageId = bracketed(message.messageId)
        yield* Effect.annotateCurrentSpan("email.message_id", messageId)
        const mail = toMail(message, options.from, messageId)
        const transport = yield* pool
        const info = yield* Effect.tryPromise({
          try: (signal) => transport.sendMail({ ...mail, signal }),
          catch: (error) => toEmailError(message, messageId, error)
        }).pipe(
          Effect.timeoutOrElse({
            duration: sendTimeout,
            orElse: () =>
              Effect.fail(
                new EmailTransient({
                  messageId,
                  code: "ETIMEDOUT",
                  smtpCode: null,
                  response: null,
                  message: `no answer from the SMTP server within ${Duration.format(sendTimeout)}`
                })
              )
          })
        )
        return { messageId: info.messageId, accepted: info.accepted }
      },
      Effect.tapError((error) =>
        Metric.update(
          Metric.withAttributes(emailsSent, {
            outcome: error._tag === "EmailTransient" ? "transient" : error.bounce ? "bounced" : "rejected"
          }),
          1
        )
      ),
      Effect.tap(() => Metric.update(Metric.withAttributes(emailsSent, { outcome: "sent" }), 1))
    )

    return EmailSender.of({ send })
  })

/** The sender for explicit options (tests, the demo's SMTP sink). */
export const layerFromOptions = (options: SmtpEmailOptions): Layer.Layer<EmailSender> =>
  Layer.effect(EmailSender, make(options))

/** Reads `smtp://user:pass@host:port` (or `smtps://`) into connection options. */
export const parseSmtpUrl = (
  url: Redacted.Redacted<string>
): Effect.Effect<Pick<SmtpEmailOptions, "host" | "port" | "secure" | "auth">, SmtpConfigInvalid> =>
  Effect.gen(function*() {
    const parsed = URL.parse(Redacted.value(url))
    if (parsed === null) return yield* new SmtpConfigInvalid({ message: "SMTP_URL is not a URL" })
    if (parsed.protocol !== "smtp:" && parsed.protocol !== "smtps:") {
      return yield* new SmtpConfigInvalid({ message: `SMTP_URL must start with smtp:// or smtps://, not ${parsed.protocol}//` })
    }
    const host = parsed.hostname.replace(/^\[(.*)\]$/, "$1")
    if (host === "") return yield* new SmtpConfigInvalid({ message: "SMTP_URL names no host" })
    const secure = parsed.protocol === "smtps:"
    const port = parsed.port === "" ? (secure ? 465 : 587) : Number(parsed.port)
    const credentials = yield* Effect.try({
      try: () => ({ user: decodeURIComponent(parsed.username), pass: decodeURIComponent(parsed.password) }),
      catch: () => new SmtpConfigInvalid({ message: "SMTP_URL has a malformed %-escape in its credentials" })
    })
    return {
      host,
      port,
      secure,
      ...(credentials.user !== "" ? { auth: { user: credentials.user, pass: Redacted.make(credentials.pass) } } : {})
    }
  })

/**
 * The sender configured from `SMTP_URL` (redacted) and `SMTP_FROM`. Logs where it sends to,
 * never the credentials.
 */
export const layer: Layer.Layer<EmailSender, Config.ConfigError | SmtpConfigInvalid> = Layer.unwrap(
  Effect.gen(function*() {
    const url = yield* Config.Redacted("SMTP_URL")
    const from = yield* Config.String("SMTP_FROM")
    const connection = yield* parseSmtpUrl(url)
    yield* Effect.logInfo("email: sending through SMTP").pipe(
      Effect.annotateLogs({
        host: connection.host,
        port: connection.port,
        tls: connection.secure === true ? "implicit" : "starttls-if-offered",
        authenticated: connection.auth !== undefined
      })
    )
    return layerFromOptions({ ...connection, from })
  })
)

/**
 * The sender when `SMTP_URL` is set; otherwise one that refuses every message, saying email is not
 * configured (an action that sends email then fails in plain language instead of the process
 * refusing to start).
 */
export const layerIfConfigured: Layer.Layer<EmailSender, Config.ConfigError | SmtpConfigInvalid> = Layer.unwrap(
  Effect.map(Config.option(Config.Redacted("SMTP_URL")), (url) =>
    url._tag === "Some"
      ? layer
      : Layer.succeed(EmailSender, EmailSender.of({
        send: (message) =>
          Effect.fail(new EmailRejected({
            messageId: message.messageId, recipient: message.to, bounce: false, smtpCode: null, response: null, command: null,
            message: "email is not configured on this deploy (set SMTP_URL and SMTP_FROM)"
          }))
      })))
)
