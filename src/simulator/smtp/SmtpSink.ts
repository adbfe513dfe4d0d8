/**
 * A real SMTP server on a free loopback port that keeps what it is sent: the email channel's
 * tests and the `npm start` demo point the SMTP adapter at it instead of a mail provider.
 * It speaks plain SMTP (no TLS), accepts any credentials (or only the ones it was given),
 * parses each message with mailparser and keeps it in `messages`.
 *
 * Faults are per-test and apply to the next matching SMTP transactions:
 * - `rejectRecipient(address)`: `RCPT TO` for that address is refused `550` (a hard bounce);
 * - `deferNext(n)`: the next `n` messages are answered `451` after `DATA` (or at `RCPT TO`);
 * - `dropNext(n)`: the connection is dropped at the next `n` `MAIL FROM`s, or after a
 *   message's `DATA` without answering it (the message arrived, the sender cannot know);
 * - `stallNext(n)`: the next `n` `MAIL FROM`s are never answered (a server that hangs).
 *
 * ```ts
 * const sink = await startSmtpSink()
 * sink.rejectRecipient("gone@example.com")
 * // … send through SmtpEmail.layerFromOptions({ host: sink.host, port: sink.port, from }) …
 * const [message] = await sink.waitFor(1)
 * expect(message.headers["list-unsubscribe"]).toContain("<https://")
 * await sink.close()
 * ```
 */
import type { AddressObject, EmailAddress } from "mailparser"
import type { AddressInfo, Socket } from "node:net"
import { SMTPServer, type SMTPServerSession } from "smtp-server"
import { RequestLog } from "../kit/RequestLog.ts"
import { type Clock, systemClock } from "../kit/SimulatedClock.ts"

/** One message as the sink received it. */
export interface SinkMessage {
  /** 1, 2, 3… in arrival order. */
  readonly seq: number
  /** The SMTP envelope: `MAIL FROM` and the accepted `RCPT TO`s. */
  readonly envelope: { readonly mailFrom: string; readonly rcptTo: ReadonlyArray<string> }
  /** The address of the `From` header. */
  readonly from: string | undefined
  /** The addresses of the `To` header. */
  readonly to: ReadonlyArray<string>
  readonly subject: string | undefined
  /** The plain-text part. */
  readonly text: string | undefined
  /** The HTML part. */
  readonly html: string | undefined
  /** The `Message-ID` header, angle brackets included. */
  readonly messageId: string | undefined
  /**
   * Header values as sent (unfolded, not decoded), by lower-case name: `list-unsubscribe`,
   * `list-unsubscribe-post`, `message-id`, `content-type`…; a repeated header's values are
   * joined with a newline.
   */
  readonly headers: Readonly<Record<string, string>>
  /** The whole message source. */
  readonly raw: string
  /** The user the client authenticated as, if it did. */
  readonly authUser: string | undefined
  /** When `DATA` ended, on the sink's clock. */
  readonly receivedAt: number
}

/** What the sink did with one SMTP transaction (a message, or a fault applied to it). */
export interface SinkTransaction {
  readonly seq: number
  readonly at: number
  readonly outcome: "accepted" | "recipient_rejected" | "deferred" | "dropped" | "stalled"
  /** The recipient concerned (`recipient_rejected`, and a `deferred` at `RCPT TO`). */
  readonly address?: string | undefined
  /** The reply sent (`550 …`, `451 …`); absent when accepted or dropped. */
  readonly reply?: string | undefined
}

export interface SmtpSinkOptions {
  /** Interface to listen on (default `127.0.0.1`). */
  readonly hostname?: string
  /** Port (default 0: a free one chosen by the OS). */
  readonly port?: number
  /** Require these credentials (`535` otherwise). Without them, authentication is optional and any login passes. */
  readonly credentials?: { readonly user: string; readonly pass: string }
  /** Timestamps of messages and transactions (default: the wall clock). */
  readonly clock?: Clock
}

export interface SmtpSink {
  readonly host: string
  readonly port: number
  /** `smtp://host:port`, for `SMTP_URL` (add `user:pass@` when the sink requires credentials). */
  readonly url: string
  /** Messages received, oldest first. */
  readonly messages: ReadonlyArray<SinkMessage>
  /** Every transaction and fault, oldest first. */
  readonly transactions: RequestLog<SinkTransaction>
  /**
   * Resolves with the messages once at least `count` have arrived (woken by each arrival,
   * no polling); rejects after `timeoutMs` (default 10 s).
   */
  waitFor(count: number, timeoutMs?: number): Promise<ReadonlyArray<SinkMessage>>
  /** Refuses `RCPT TO` for `address` (case-insensitive) the next `count` times (default 1; `Infinity` until cleared). */
  rejectRecipient(address: string, options?: { readonly code?: number; readonly message?: string; readonly count?: number }): void
  /**
   * Answers the next `count` messages (default 1) with a temporary failure: `451` after
   * `DATA` by default, or at their first `RCPT TO` (`at: "rcpt"`, e.g. with code `452`).
   */
  deferNext(count?: number, options?: { readonly code?: number; readonly message?: string; readonly at?: "rcpt" | "data" }): void
  /**
   * Drops the connection of the next `count` messages (default 1): at `MAIL FROM` (nothing
   * arrives), or after `DATA` without an answer (`at: "data"`: the message is kept).
   */
  dropNext(count?: number, options?: { readonly at?: "mail" | "data" }): void
  /** Never answers the next `count` `MAIL FROM`s (default 1): the client has to give up. */
  stallNext(count?: number): void
  /** Forgets pending faults. */
  clearFaults(): void
  /** Forgets pending faults, messages and transactions. */
  reset(): void
  /** Stops listening and closes every connection at once. */
  close(): Promise<void>
}

interface RecipientRule {
  readonly address: string
  readonly code: number
  readonly message: string
  remaining: number
}

interface CountedFault<A> {
  readonly options: A
  remaining: number
}

/** An error whose `responseCode` smtp-server answers with (`<code> <message>`). */
const smtpError = (code: number, message: string): Error & { responseCode: number } =>
  Object.assign(new Error(message), { responseCode: code })

/** `Name: value` of a raw header line, unfolded. */
const headerValue = (line: string): string => line.slice(line.indexOf(":") + 1).replace(/\r?\n(?=[ \t])/g, "").trim()

/** The addresses of an address header, group members included. */
const addressesOf = (field: AddressObject | Array<AddressObject> | undefined): Array<string> => {
  const flatten = (a: EmailAddress): Array<string> => a.group?.flatMap(flatten) ?? (a.address === undefined ? [] : [a.address])
  return (field === undefined ? [] : Array.isArray(field) ? field : [field]).flatMap((header) => header.value.flatMap(flatten))
}

/** Starts the sink; resolves once it listens. */
export const startSmtpSink = async (options: SmtpSinkOptions = {}): Promise<SmtpSink> => {
  const hostname = options.hostname ?? "127.0.0.1"
  const clock = options.clock ?? systemClock
  const credentials = options.credentials
  const messages = new RequestLog<SinkMessage>()
  const transactions = new RequestLog<SinkTransaction>()
  let recipientRules: Array<RecipientRule> = []
  let deferrals: Array<CountedFault<{ readonly code: number; readonly message: string; readonly at: "rcpt" | "data" }>> = []
  let drops: Array<CountedFault<{ readonly at: "mail" | "data" }>> = []
  let stalls: Array<CountedFault<undefined>> = []
  let seq = 0
  let transactionSeq = 0
  const sockets = new Set<Socket>()

  const record = (t: Omit<SinkTransaction, "seq" | "at">): void => {
    transactions.record({ seq: ++transactionSeq, at: clock(), ...t })
  }

  /** Takes one use of the first fault matching `predicate`, if any. */
  const take = <F extends { remaining: number }>(faults: Array<F>, predicate: (fault: F) => boolean): F | undefined => {
    const fault = faults.find((f) => f.remaining > 0 && predicate(f))
    if (fault !== undefined) fault.remaining--
    return fault
  }

  /** Destroys the client socket of `session` (matched on its address and port: unique per client). */
  const dropConnection = (session: SMTPServerSession): void => {
    for (const socket of sockets) {
      if (socket.remotePort === session.remotePort && socket.remoteAddress === session.remoteAddress) socket.destroy()
    }
  }

  const server = new SMTPServer({
    name: "sumeru-smtp-sink",
    banner: "Sumeru SMTP sink",
    logger: false,
    disabledCommands: ["STARTTLS"],
    allowInsecureAuth: true,
    authOptional: credentials === undefined,
    disableReverseLookup: true,
    onAuth(auth, _session, callback) {
      if (credentials !== undefined && (auth.username !== credentials.user || auth.password !== credentials.pass)) {
        return callback(smtpError(535, "5.7.8 Authentication credentials invalid"))
      }
      callback(null, { user: auth.username })
    },
    onMailFrom(_address, session, callback) {
      if (take(drops, (d) => d.options.at === "mail") !== undefined) {
        record({ outcome: "dropped" })
        return dropConnection(session)
      }
      // the reply never comes; the connection ends when the client gives up (or on close())
      if (take(stalls, () => true) !== undefined) return record({ outcome: "stalled" })
      callback()
    },
    onRcptTo(address, session, callback) {
      const rule = take(recipientRules, (r) => r.address === address.address.toLowerCase())
      if (rule !== undefined) {
        record({ outcome: "recipient_rejected", address: address.address, reply: `${rule.code} ${rule.message}` })
        return callback(smtpError(rule.code, rule.message))
      }
      // a deferral at RCPT applies once per message: to its first recipient
      if (session.envelope.rcptTo.length === 0) {
        const deferral = take(deferrals, (d) => d.options.at === "rcpt")
        if (deferral !== undefined) {
          const { code, message } = deferral.options
          record({ outcome: "deferred", address: address.address, reply: `${code} ${message}` })
          return callback(smtpError(code, message))
        }
      }
      callback()
    },
    onData(stream, session, callback) {
      const chunks: Array<Buffer> = []
      stream.on("data", (chunk: Buffer) => chunks.push(chunk))
      stream.once("error", (error) => callback(error))
      stream.once("end", () => {
        const deferral = take(deferrals, (d) => d.options.at === "data")
        if (deferral !== undefined) {
          const { code, message } = deferral.options
          record({ outcome: "deferred", reply: `${code} ${message}` })
          return callback(smtpError(code, message))
        }
        const raw = Buffer.concat(chunks)
        const drop = take(drops, (d) => d.options.at === "data")
        // mailparser (6 MB of heap with its charsets and HTML parser) is loaded by the first message
        import("mailparser").then(({ simpleParser }) => simpleParser(raw)).then(
          (parsed) => {
            const headers: Record<string, string> = {}
            for (const { key, line } of parsed.headerLines) {
              const value = headerValue(line)
              headers[key] = headers[key] === undefined ? value : `${headers[key]}\n${value}`
            }
            const mailFrom = session.envelope.mailFrom
            messages.record({
              seq: ++seq,
              envelope: {
                mailFrom: mailFrom === false ? "" : mailFrom.address,
                rcptTo: session.envelope.rcptTo.map((r) => r.address)
              },
              from: addressesOf(parsed.from)[0],
              to: addressesOf(parsed.to),
              subject: parsed.subject,
              text: parsed.text,
              html: parsed.html === false ? undefined : parsed.html,
              messageId: parsed.messageId,
              headers,
              raw: raw.toString("utf8"),
              authUser: typeof session.user === "string" ? session.user : undefined,
              receivedAt: clock()
            })
            if (drop !== undefined) {
              record({ outcome: "dropped" })
              return dropConnection(session)
            }
            record({ outcome: "accepted" })
            callback(null, `Ok: queued as ${seq}`)
          },
          (error: unknown) => callback(smtpError(451, `4.6.0 Message could not be parsed: ${String(error)}`))
        )
      })
    }
  })
  server.on("error", () => undefined) // a client's reset socket must not crash the test process
  server.server.on("connection", (socket: Socket) => {
    sockets.add(socket)
    socket.once("close", () => sockets.delete(socket))
  })

  await new Promise<void>((resolve, reject) => {
    server.server.once("error", reject)
    server.listen(options.port ?? 0, hostname, () => {
      server.server.off("error", reject)
      resolve()
    })
  })
  const port = (server.server.address() as AddressInfo).port
  const clearFaults = (): void => {
    recipientRules = []
    deferrals = []
    drops = []
    stalls = []
  }
  const urlHost = hostname.includes(":") ? `[${hostname}]` : hostname

  return {
    host: hostname,
    port,
    url: `smtp://${urlHost}:${port}`,
    get messages() {
      return messages.entries
    },
    transactions,
    waitFor: (count, timeoutMs = 10_000) => messages.waitFor(() => true, count, timeoutMs),
    rejectRecipient(address, o = {}) {
      recipientRules.push({
        address: address.toLowerCase(),
        code: o.code ?? 550,
        message: o.message ?? `5.1.1 <${address}>: Recipient address rejected: User unknown in local recipient table`,
        remaining: o.count ?? 1
      })
    },
    deferNext(count = 1, o = {}) {
      deferrals.push({
        options: { code: o.code ?? 451, message: o.message ?? "4.3.0 Temporary local problem, please try again later", at: o.at ?? "data" },
        remaining: count
      })
    },
    dropNext(count = 1, o = {}) {
      drops.push({ options: { at: o.at ?? "mail" }, remaining: count })
    },
    stallNext(count = 1) {
      stalls.push({ options: undefined, remaining: count })
    },
    clearFaults,
    reset() {
      clearFaults()
      messages.clear()
      transactions.clear()
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        for (const socket of sockets) socket.destroy()
      })
  }
}
