/**
 * The email channel's contract (issue 12 §4): one message to one recipient over SMTP
 * (`adapters/email/SmtpEmail.ts`), answered by the server's own verdict.
 *
 * Idempotency: the caller names the message (`messageId`, e.g. `<execution-id@sumeru>`) and
 * it becomes the `Message-ID` header. Sending the same message again after a transient
 * failure carries the same id, so a duplicate delivered by an ambiguous failure (the server
 * took the message, then the connection dropped before its reply) is recognisable as one.
 *
 * Failures say what the caller should do next:
 * - `EmailTransient`: try again later (connection refused or dropped, timeout, a 4xx reply
 *   such as 421 / 451 / 452);
 * - `EmailRejected`: trying again cannot help (a 5xx reply). When the server refused the
 *   recipient or the content (`RCPT TO` / `DATA`) it is a hard bounce (`bounce: true`): the
 *   address should be suppressed. Otherwise (the sender, the credentials, a malformed
 *   message) the fault is ours, and the address stays usable.
 */
import { Context, type Effect, Schema } from "effect"

/** `List-Unsubscribe` targets (RFC 2369); with a `url`, one-click unsubscribe (RFC 8058) is offered too. */
export interface ListUnsubscribe {
  /** An HTTPS endpoint that unsubscribes on POST `List-Unsubscribe=One-Click`. */
  readonly url?: string | undefined
  /** A mailbox (`unsubscribe@shop.example` or `mailto:…`) that unsubscribes on receipt. */
  readonly mailto?: string | undefined
}

/** One message to one recipient, with a plain-text and an HTML alternative. */
export interface EmailMessage {
  /** The recipient's address: one per message, so a bounce names exactly one address. */
  readonly to: string
  /** The sender; the adapter's configured sender when absent. */
  readonly from?: string | undefined
  readonly subject: string
  readonly text: string
  readonly html: string
  readonly listUnsubscribe?: ListUnsubscribe | undefined
  /**
   * Our idempotency key as the `Message-ID` header: `<local@domain>` (see `emailMessageId`);
   * angle brackets are added when missing.
   */
  readonly messageId: string
  /** Extra headers (e.g. `X-Sumeru-Execution`); the standard fields above take precedence. */
  readonly headers?: Readonly<Record<string, string>> | undefined
}

/** The server accepted the message for the recipients listed. */
export interface EmailSent {
  /** The `Message-ID` the message was sent with, angle brackets included. */
  readonly messageId: string
  readonly accepted: ReadonlyArray<string>
}

/** Try again later: the server could not be reached, went away, or answered 4xx. */
export class EmailTransient extends Schema.TaggedError<EmailTransient>()("EmailTransient", {
  messageId: Schema.String,
  /** What failed: nodemailer's code (`ECONNECTION`, `ESOCKET`, `ETIMEDOUT`, `EENVELOPE`, `EMESSAGE`, …). */
  code: Schema.String,
  /** The SMTP reply code when the server answered (421, 450, 451, 452, 503), null otherwise. */
  smtpCode: Schema.NullOr(Schema.Int),
  /** The server's reply line, when it answered. */
  response: Schema.NullOr(Schema.String),
  message: Schema.String
}) {}

/** The server refused for good (5xx): sending the same message again gets the same answer. */
export class EmailRejected extends Schema.TaggedError<EmailRejected>()("EmailRejected", {
  messageId: Schema.String,
  recipient: Schema.String,
  /** True when the recipient or the content was refused (`RCPT TO` / `DATA`): a hard bounce. */
  bounce: Schema.Boolean,
  /** The SMTP reply code (550, 552, 553, 554, 535, …); null when refused before any reply (a malformed message). */
  smtpCode: Schema.NullOr(Schema.Int),
  /** The server's reply line, e.g. `550 5.1.1 <x@y>: Recipient address rejected`. */
  response: Schema.NullOr(Schema.String),
  /** The SMTP command that was refused (`RCPT TO`, `DATA`, `MAIL FROM`, `AUTH PLAIN`), when known. */
  command: Schema.NullOr(Schema.String),
  message: Schema.String
}) {}

export type EmailError = EmailTransient | EmailRejected

/** Sends email. */
export class EmailSender extends Context.Service<EmailSender, {
  /**
   * Hands `message` to the server and answers once the server has accepted it (its `250`
   * after `DATA`). Never retries by itself: a transient failure is the caller's to retry,
   * with the same `messageId`.
   */
  readonly send: (message: EmailMessage) => Effect.Effect<EmailSent, EmailError>
}>()("sumeru/channels/EmailSender") {}

/**
 * A `Message-ID` for an idempotency key: `<key@domain>`. Characters outside RFC 5322's
 * `atext` (dots included, which may not lead, trail or double) become `-`, so the same key
 * always gives the same valid id.
 */
export const emailMessageId = (key: string, domain = "sumeru"): string =>
  `<${key.replace(/[^A-Za-z0-9!#$%&'*+/=?^_`{|}~-]/g, "-")}@${domain}>`
