/**
 * The WhatsApp Cloud API, just enough for the WhatsApp channel's tests and the demo: one
 * WhatsApp Business Account with its phone numbers, approved (or not) message templates, and
 * `POST /{version}/{phone-number-id}/messages` validated as Meta validates it —
 *
 * 1. the bearer token: unknown or expired → 190 (HTTP 401);
 * 2. the phone number id: unknown → 100 / subcode 33 ("Unsupported post request");
 * 3. the body: JSON with `messaging_product: "whatsapp"` (100), `to` (131008 / 131009),
 *    `recipient_type` `individual`;
 * 4. injected protocol faults (`failNext`, `throttleNext`), then the number's throughput: a
 *    token bucket of `messagesPerSecond` tokens refilled at that rate on the simulator's clock →
 *    130429 when empty;
 * 5. `template`: exists in that language (132001), approved (132001; paused 132015, disabled
 *    132016), parameter count per component (132000), text parameters not empty (131008);
 *    `text`: a body of 1–4,096 characters (100), inside the 24-hour customer service window, i.e.
 *    the recipient wrote to this number less than 24 h ago on the simulator's clock → else
 *    131047 (at once, or as a `failed` status webhook with `windowErrors: "async"`, as Meta
 *    often does); other types 131051;
 * 6. the pair rate: a message to the same recipient from the same number sooner than
 *    `pairIntervalMs` after the previous accepted one → 131056;
 *
 * and answers `{messaging_product, contacts: [{input, wa_id}], messages: [{id: "wamid.…"}]}`.
 * Errors are Graph errors (`graphErrors.ts`). Accepted messages then get status webhooks
 * (`sent` → `delivered` → `read`, or `failed` when a delivery failure was queued), and a test can
 * make a customer write (`receiveMessage`), which opens the window and sends the inbound webhook.
 * Webhooks are signed `X-Hub-Signature-256` with the app secret (`webhooks.ts`).
 *
 * Kit conventions: HTTP faults (`faults`), the HTTP log (`log`), a protocol log of every send
 * attempt (`sends`), ids from `DeterministicIds` (forked per phone number), time from the clock.
 * With a fixed clock the throughput bucket does not refill unless the test advances time.
 */
import { Hono } from "hono"
import type { Context } from "hono"
import { DeterministicIds } from "../kit/DeterministicIds.ts"
import { FaultQueue, HttpFaults } from "../kit/Faults.ts"
import { RequestLog } from "../kit/RequestLog.ts"
import { makeClock, type SimulatedClock } from "../kit/SimulatedClock.ts"
import { startSimulatorServer, type SimulatorServer } from "../kit/SimulatorServer.ts"
import { graphError, type GraphErrorAnswer, webhookError } from "./graphErrors.ts"
import { WhatsAppWebhooks, type WhatsAppWebhookDelivery } from "./webhooks.ts"

export type TemplateStatus = "APPROVED" | "PENDING" | "REJECTED" | "PAUSED" | "DISABLED"
export type TemplateCategory = "MARKETING" | "UTILITY" | "AUTHENTICATION"

/** A message template in one language, with how many `{{n}}` parameters each component takes. */
export interface SimTemplate {
  readonly name: string
  readonly language: string
  readonly category?: TemplateCategory
  readonly status?: TemplateStatus
  readonly bodyParameters?: number
  readonly headerParameters?: number
  /** Parameters of each button, by index (0 for a button without any). */
  readonly buttonParameters?: ReadonlyArray<number>
}

export interface SimPhoneNumber {
  /** The Graph id (`phone_number_id`). */
  readonly id: string
  /** Digits, as `metadata.display_phone_number` shows it. */
  readonly displayPhoneNumber: string
  /** Overrides the simulator's `messagesPerSecond` for this number. */
  readonly messagesPerSecond?: number
}

export interface WhatsAppSimulatorOptions {
  readonly seed?: string
  readonly clock?: SimulatedClock
  /** Signs the webhooks. Default `whatsapp-app-secret`. */
  readonly appSecret?: string
  /** Where webhooks go (settable later with `setWebhookUrl`); none: recorded as `no-endpoint`. */
  readonly webhookUrl?: string
  /** The WhatsApp Business Account id (`entry[].id`). */
  readonly businessAccountId?: string
  /** Default: one number, id `100000000000001`, display `15550000001`. */
  readonly phoneNumbers?: ReadonlyArray<SimPhoneNumber>
  /** Valid bearer tokens. Default `["EAAG-sim-token"]`. */
  readonly accessTokens?: ReadonlyArray<string>
  /** Default: `order_update` (en_US, utility, 2 body parameters) and `spring_sale` (en_US, marketing, 1). */
  readonly templates?: ReadonlyArray<SimTemplate>
  /** Throughput per number, default 80 (Meta's default). */
  readonly messagesPerSecond?: number
  /** Least time between two accepted messages to the same recipient from one number, default 6,000 ms; 0 turns it off. */
  readonly pairIntervalMs?: number
  /** `auto` (default): every accepted message gets `sent`, `delivered`, `read` webhooks; `manual`: only `updateStatus`. */
  readonly statuses?: "auto" | "manual"
  /** How 131047 is reported: `sync` (default, the send's answer) or `async` (accepted, then a `failed` status). */
  readonly windowErrors?: "sync" | "async"
  /** Webhook retry delays (ms), default [100, 1000, 5000]. */
  readonly webhookRetryDelaysMs?: ReadonlyArray<number>
}

/** What a send request is about, for matching protocol faults. */
export interface SendInfo {
  readonly phoneNumberId: string
  readonly to: string | undefined
  readonly type: string | undefined
  readonly template: string | undefined
}

/** A Graph error to answer instead of handling the send. */
export interface GraphFault {
  readonly code: number
  readonly details?: string
  /** Overrides the code's documented HTTP status (e.g. 429 for 130429). */
  readonly status?: number
  readonly subcode?: number
}

/** One send request and how it was answered (the protocol log). */
export interface SendAttempt extends SendInfo {
  readonly seq: number
  readonly at: number
  /** The Graph error code answered, or undefined when accepted. */
  readonly code: number | undefined
  /** Whether the answer came from an injected fault. */
  readonly injected: boolean
  readonly messageId: string | undefined
}

export type SimMessageStatus = "accepted" | "sent" | "delivered" | "read" | "failed"

/** An accepted message. */
export interface SimMessage {
  readonly id: string
  readonly phoneNumberId: string
  readonly to: string
  readonly waId: string
  readonly type: string
  readonly text: string | undefined
  readonly template: { readonly name: string; readonly language: string; readonly components: ReadonlyArray<unknown> } | undefined
  readonly callbackData: string | undefined
  readonly acceptedAt: number
  readonly category: string
  status: SimMessageStatus
}

export interface InboundOptions {
  /** The customer's number (digits, `+` allowed). */
  readonly from: string
  readonly text?: string
  readonly profileName?: string
  /** Default: the first phone number. */
  readonly phoneNumberId?: string
  /** Default `text`. */
  readonly type?: string
  /** The business message replied to. */
  readonly contextMessageId?: string
}

export interface RunningWhatsAppSimulator extends SimulatorServer {
  readonly clock: SimulatedClock
  readonly ids: DeterministicIds
  readonly appSecret: string
  readonly businessAccountId: string
  readonly phoneNumbers: ReadonlyArray<SimPhoneNumber>
  /** Every send request, answered or refused, oldest first. */
  readonly sends: RequestLog<SendAttempt>
  /** Protocol faults: the next matching sends answer these Graph errors. */
  readonly graphFaults: FaultQueue<GraphFault, SendInfo>
  /** Accepted messages, oldest first. */
  sent(): ReadonlyArray<SimMessage>
  /** How many sends were answered 130429 or 131056 (or `code` only), injected ones included. */
  throttleAnswers(code?: number): number
  /** The next `count` matching sends answer 130429 (or `code`). */
  throttleNext(options?: { readonly count?: number; readonly code?: number; readonly match?: (info: SendInfo) => boolean }): void
  /** The next `count` matching sends answer Graph error `code`. */
  failNext(code: number, options?: { readonly count?: number; readonly match?: (info: SendInfo) => boolean; readonly details?: string; readonly status?: number }): void
  /** The next `count` matching accepted messages fail to deliver: a `failed` status with `code` (default 131026). */
  failDeliveryNext(options?: { readonly count?: number; readonly code?: number; readonly match?: (message: SimMessage) => boolean }): void
  /** Makes a token answer 190 (expired) from now on. */
  expireToken(token: string): void
  addToken(token: string): void
  addTemplate(template: SimTemplate): void
  setTemplateStatus(name: string, language: string, status: TemplateStatus): void
  setWebhookUrl(url: string | undefined): void
  /** A customer writes: opens the window now and sends the inbound webhook; settles when delivered (or failed). */
  receiveMessage(options: InboundOptions): Promise<WhatsAppWebhookDelivery>
  /** When the customer last wrote to the number (simulator clock), if ever. */
  lastInboundAt(phoneNumberId: string, from: string): number | undefined
  /** Sends a status webhook for an accepted message (`manual` mode, or extra statuses). */
  updateStatus(messageId: string, status: "sent" | "delivered" | "read" | "failed", errorCode?: number): WhatsAppWebhookDelivery
  /** Every webhook sent, oldest first. */
  webhookDeliveries(): ReadonlyArray<WhatsAppWebhookDelivery>
  /** Resolves once no webhook is pending. */
  webhooksIdle(): Promise<void>
}

export const DEFAULT_ACCESS_TOKEN = "EAAG-sim-token"
export const DEFAULT_PHONE_NUMBER: SimPhoneNumber = { id: "100000000000001", displayPhoneNumber: "15550000001" }
export const DEFAULT_TEMPLATES: ReadonlyArray<SimTemplate> = [
  { name: "order_update", language: "en_US", category: "UTILITY", bodyParameters: 2 },
  { name: "spring_sale", language: "en_US", category: "MARKETING", bodyParameters: 1 }
]

const WINDOW_MS = 24 * 60 * 60 * 1000
const TEXT_LIMIT = 4096
/** Free-form types the simulator accepts without looking inside (window and pair rate apply). */
const OTHER_FREE_FORM = new Set(["image", "video", "audio", "document", "sticker", "location", "contacts", "interactive", "reaction"])

type Json = Readonly<Record<string, unknown>>
const isObject = (u: unknown): u is Json => typeof u === "object" && u !== null && !Array.isArray(u)

/** `wa_id` of a number as sent: digits only. */
const waIdOf = (to: string): string => to.replace(/[\s+\-()]/g, "")

/**
 * A `wamid.…`: base64 of a blob embedding the customer's number and a random part, as Meta's
 * ids do (which is why Sumeru treats message ids as personal data).
 */
const wamid = (ids: DeterministicIds, waId: string): string =>
  `wamid.${Buffer.concat([
    Buffer.from([0x15, 0x18, waId.length & 0xff]),
    Buffer.from(waId),
    Buffer.from([0x15, 0x02, 0x00, 0x11, 0x18, 0x12]),
    Buffer.from(ids.hex(9).toUpperCase()),
    Buffer.from([0x00])
  ]).toString("base64")}`

const unixSeconds = (ms: number): string => String(Math.floor(ms / 1000))

/** Counts a request's parameters per component: `body`, `header`, `button:<index>`. */
const parameterCounts = (components: unknown): Map<string, number> | string => {
  const counts = new Map<string, number>()
  if (components === undefined) return counts
  if (!Array.isArray(components)) return "components must be an array"
  for (const component of components) {
    if (!isObject(component) || typeof component["type"] !== "string") return "each component needs a type"
    const type = component["type"].toLowerCase()
    const key = type === "button" ? `button:${String(component["index"] ?? 0)}` : type
    const parameters = component["parameters"] ?? []
    if (!Array.isArray(parameters)) return `${key}: parameters must be an array`
    for (const p of parameters) {
      if (!isObject(p) || typeof p["type"] !== "string") return `${key}: each parameter needs a type`
      if (p["type"] === "text" && (typeof p["text"] !== "string" || p["text"].length === 0)) return `${key}: Parameter of type text is missing text value`
    }
    counts.set(key, (counts.get(key) ?? 0) + parameters.length)
  }
  return counts
}

/** Starts the simulator on 127.0.0.1:0. */
export const startWhatsAppSimulator = async (options: WhatsAppSimulatorOptions = {}): Promise<RunningWhatsAppSimulator> => {
  const clock = options.clock ?? makeClock()
  const ids = new DeterministicIds(options.seed === undefined ? {} : { seed: options.seed })
  const appSecret = options.appSecret ?? "whatsapp-app-secret"
  const businessAccountId = options.businessAccountId ?? "200000000000001"
  const phoneNumbers = [...(options.phoneNumbers ?? [DEFAULT_PHONE_NUMBER])]
  const numbers = new Map(phoneNumbers.map((n) => [n.id, n]))
  const numberIds = new Map(phoneNumbers.map((n) => [n.id, ids.fork(`number:${n.id}`)]))
  // one stream per number, kept: a fork made per message would give every message of a sender the same id
  const inboundIds = new Map(phoneNumbers.map((n) => [n.id, ids.fork(`inbound:${n.id}`)]))
  const tokens = new Set(options.accessTokens ?? [DEFAULT_ACCESS_TOKEN])
  const expired = new Set<string>()
  const templates = new Map<string, SimTemplate>()
  const templateKey = (name: string, language: string) => `${name}\u0000${language}`
  for (const t of options.templates ?? DEFAULT_TEMPLATES) templates.set(templateKey(t.name, t.language), t)
  const defaultRate = options.messagesPerSecond ?? 80
  const pairIntervalMs = options.pairIntervalMs ?? 6_000
  const autoStatuses = (options.statuses ?? "auto") === "auto"
  const asyncWindow = options.windowErrors === "async"
  let webhookUrl = options.webhookUrl

  const buckets = new Map<string, { tokens: number; at: number }>()
  const lastInbound = new Map<string, number>()
  const lastAccepted = new Map<string, number>()
  const messages: Array<SimMessage> = []
  const byId = new Map<string, SimMessage>()
  const sends = new RequestLog<SendAttempt>({ limit: 100_000 })
  const graphFaults = new FaultQueue<GraphFault, SendInfo>()
  const deliveryFaults = new FaultQueue<number, SimMessage>()
  let seq = 0

  const webhooks = new WhatsAppWebhooks({
    url: () => webhookUrl,
    appSecret: () => appSecret,
    ...(options.webhookRetryDelaysMs === undefined ? {} : { retryDelaysMs: options.webhookRetryDelaysMs })
  })

  const pairKey = (phoneNumberId: string, waId: string) => `${phoneNumberId}\u0000${waId}`

  /** Takes a token from the number's bucket, refilled continuously on the simulator's clock. */
  const takeToken = (phoneNumberId: string): boolean => {
    const rate = numbers.get(phoneNumberId)?.messagesPerSecond ?? defaultRate
    const now = clock.now()
    const bucket = buckets.get(phoneNumberId) ?? { tokens: rate, at: now }
    const tokensNow = Math.min(rate, bucket.tokens + (Math.max(0, now - bucket.at) * rate) / 1000)
    const ok = tokensNow >= 1
    buckets.set(phoneNumberId, { tokens: ok ? tokensNow - 1 : tokensNow, at: Math.max(now, bucket.at) })
    return ok
  }

  /** The envelope of a `messages` webhook for a number. */
  const envelope = (number: SimPhoneNumber, value: Json) => ({
    object: "whatsapp_business_account",
    entry: [{
      id: businessAccountId,
      changes: [{
        value: { messaging_product: "whatsapp", metadata: { display_phone_number: number.displayPhoneNumber, phone_number_id: number.id }, ...value },
        field: "messages"
      }]
    }]
  })

  const sendStatus = (message: SimMessage, status: "sent" | "delivered" | "read" | "failed", errorCode?: number): WhatsAppWebhookDelivery => {
    message.status = status
    const number = numbers.get(message.phoneNumberId) as SimPhoneNumber
    const entry = {
      id: message.id,
      status,
      timestamp: unixSeconds(clock.now()),
      recipient_id: message.waId,
      ...(message.callbackData === undefined ? {} : { biz_opaque_callback_data: message.callbackData }),
      ...(status === "failed"
        ? { errors: [webhookError(errorCode ?? 131026)] }
        : { pricing: { billable: message.category !== "service", pricing_model: "PMP", type: "regular", category: message.category } })
    }
    return webhooks.send("status", message.id, status, envelope(number, { statuses: [entry] }))
  }

  const record = (info: SendInfo, code: number | undefined, injected: boolean, messageId?: string): void => {
    sends.record({ ...info, seq: ++seq, at: clock.now(), code, injected, messageId })
  }

  const answerError = (c: Context, info: SendInfo, code: number, extra: { readonly details?: string; readonly subcode?: number; readonly status?: number; readonly message?: string; readonly injected?: boolean } = {}) => {
    record(info, code, extra.injected ?? false)
    const answer: GraphErrorAnswer = graphError(code, ids, extra)
    return c.json(answer.body, answer.status as 400)
  }

  const handleSend = async (c: Context): Promise<Response> => {
    const version = c.req.param("version") ?? ""
    const phoneNumberId = c.req.param("phoneNumberId") ?? ""
    const bare: SendInfo = { phoneNumberId, to: undefined, type: undefined, template: undefined }
    if (!/^v\d+\.\d+$/.test(version)) return answerError(c, bare, 100, { message: `Unknown path components: /${version}/${phoneNumberId}/messages` })
    const auth = c.req.header("authorization") ?? ""
    const token = /^Bearer\s+(\S+)$/i.exec(auth)?.[1]
    if (token === undefined || !tokens.has(token)) {
      return answerError(c, bare, 190, { message: "Invalid OAuth access token - Cannot parse access token" })
    }
    if (expired.has(token)) {
      return answerError(c, bare, 190, {
        subcode: 463,
        message: `Error validating access token: Session has expired on ${new Date(clock.now() - 60_000).toUTCString()}. The current time is ${new Date(clock.now()).toUTCString()}.`
      })
    }
    const number = numbers.get(phoneNumberId)
    if (number === undefined) {
      return answerError(c, bare, 100, {
        subcode: 33,
        message: `Unsupported post request. Object with ID '${phoneNumberId}' does not exist, cannot be loaded due to missing permissions, or does not support this operation. Please read the Graph API documentation at https://developers.facebook.com/docs/graph-api`
      })
    }
    let body: unknown
    try {
      body = JSON.parse(await c.req.text())
    } catch {
      return answerError(c, bare, 100, { details: "The request body is not valid JSON." })
    }
    if (!isObject(body)) return answerError(c, bare, 100, { details: "The request body must be a JSON object." })
    const to = typeof body["to"] === "string" ? body["to"] : undefined
    const type = typeof body["type"] === "string" ? body["type"] : "text"
    const template = isObject(body["template"]) ? body["template"] : undefined
    const info: SendInfo = { phoneNumberId, to, type, template: typeof template?.["name"] === "string" ? template["name"] : undefined }

    const fault = graphFaults.take(info)
    if (fault !== undefined) {
      return answerError(c, info, fault.code, {
        injected: true,
        ...(fault.details === undefined ? {} : { details: fault.details }),
        ...(fault.status === undefined ? {} : { status: fault.status }),
        ...(fault.subcode === undefined ? {} : { subcode: fault.subcode })
      })
    }
    if (!takeToken(phoneNumberId)) return answerError(c, info, 130429)

    if (body["messaging_product"] !== "whatsapp") return answerError(c, info, 100, { details: "The parameter messaging_product is required." })
    if (body["recipient_type"] !== undefined && body["recipient_type"] !== "individual") {
      return answerError(c, info, 100, { details: "Param recipient_type must be one of {INDIVIDUAL, GROUP} - got \"" + String(body["recipient_type"]) + "\"." })
    }
    if (to === undefined || to.trim() === "") return answerError(c, info, 131008, { details: "The parameter to is required." })
    const waId = waIdOf(to)
    if (!/^\d{7,15}$/.test(waId)) return answerError(c, info, 131009, { details: "Recipient phone number is not a valid phone number." })
    if (waId === waIdOf(number.displayPhoneNumber)) return answerError(c, info, 131021)

    let text: string | undefined
    let acceptedTemplate: SimMessage["template"]
    let category = "service"
    let windowClosed = false
    if (type === "template") {
      const name = template?.["name"]
      const language = isObject(template?.["language"]) ? template["language"]["code"] : undefined
      if (typeof name !== "string" || name === "") return answerError(c, info, 131008, { details: "The parameter template['name'] is required." })
      if (typeof language !== "string" || language === "") return answerError(c, info, 131008, { details: "The parameter template['language']['code'] is required." })
      const spec = templates.get(templateKey(name, language))
      if (spec === undefined) return answerError(c, info, 132001, { details: `template name (${name}) does not exist in ${language}` })
      const status = spec.status ?? "APPROVED"
      if (status === "PAUSED") return answerError(c, info, 132015)
      if (status === "DISABLED") return answerError(c, info, 132016)
      if (status !== "APPROVED") return answerError(c, info, 132001, { details: `template name (${name}) is not approved in ${language}` })
      const counts = parameterCounts(template?.["components"])
      if (typeof counts === "string") return answerError(c, info, 131008, { details: counts })
      const expected = new Map<string, number>([["body", spec.bodyParameters ?? 0], ["header", spec.headerParameters ?? 0]])
      ;(spec.buttonParameters ?? []).forEach((n, i) => expected.set(`button:${i}`, n))
      for (const key of new Set([...expected.keys(), ...counts.keys()])) {
        const want = expected.get(key) ?? 0
        const got = counts.get(key) ?? 0
        if (want !== got) {
          return answerError(c, info, 132000, { details: `${key}: number of localizable_params (${got}) does not match the expected number of params (${want})` })
        }
      }
      acceptedTemplate = { name, language, components: Array.isArray(template?.["components"]) ? template["components"] : [] }
      category = (spec.category ?? "UTILITY").toLowerCase()
    } else if (type === "text") {
      const content = isObject(body["text"]) ? body["text"]["body"] : undefined
      if (typeof content !== "string" || content.length === 0) return answerError(c, info, 100, { details: "The parameter text['body'] is required." })
      if (content.length > TEXT_LIMIT) return answerError(c, info, 100, { details: `Param text['body'] must be at most ${TEXT_LIMIT} characters long.` })
      text = content
    } else if (!OTHER_FREE_FORM.has(type)) {
      return answerError(c, info, 131051, { details: `Unsupported message type: ${type}` })
    }
    if (type !== "template") {
      const last = lastInbound.get(pairKey(phoneNumberId, waId))
      windowClosed = last === undefined || clock.now() - last >= WINDOW_MS
      if (windowClosed && !asyncWindow) return answerError(c, info, 131047)
    }
    const now = clock.now()
    const previous = lastAccepted.get(pairKey(phoneNumberId, waId))
    if (pairIntervalMs > 0 && previous !== undefined && now - previous < pairIntervalMs) return answerError(c, info, 131056)

    lastAccepted.set(pairKey(phoneNumberId, waId), now)
    const id = wamid(numberIds.get(phoneNumberId) as DeterministicIds, waId)
    const callback = body["biz_opaque_callback_data"]
    const message: SimMessage = {
      id,
      phoneNumberId,
      to,
      waId,
      type,
      text,
      template: acceptedTemplate,
      callbackData: typeof callback === "string" ? callback : undefined,
      acceptedAt: now,
      category,
      status: "accepted"
    }
    messages.push(message)
    byId.set(id, message)
    record(info, undefined, false, id)
    if (windowClosed) sendStatus(message, "failed", 131047)
    else {
      const failure = deliveryFaults.take(message)
      if (failure !== undefined) sendStatus(message, "failed", failure)
      else if (autoStatuses) {
        sendStatus(message, "sent")
        sendStatus(message, "delivered")
        sendStatus(message, "read")
      }
    }
    return c.json({
      messaging_product: "whatsapp",
      contacts: [{ input: to, wa_id: waId }],
      messages: [{ id, ...(type === "template" ? { message_status: "accepted" } : {}) }]
    })
  }

  const receiveMessage = (inbound: InboundOptions): Promise<WhatsAppWebhookDelivery> => {
    const number = numbers.get(inbound.phoneNumberId ?? phoneNumbers[0]!.id)
    if (number === undefined) return Promise.reject(new Error(`unknown phone number id ${String(inbound.phoneNumberId)}`))
    const from = waIdOf(inbound.from)
    const now = clock.now()
    lastInbound.set(pairKey(number.id, from), now)
    const id = wamid(inboundIds.get(number.id)!, from)
    const type = inbound.type ?? "text"
    const message = {
      from,
      id,
      timestamp: unixSeconds(now),
      type,
      ...(type === "text" ? { text: { body: inbound.text ?? "" } } : {}),
      ...(inbound.contextMessageId === undefined ? {} : { context: { from: number.displayPhoneNumber, id: inbound.contextMessageId } })
    }
    const payload = envelope(number, {
      contacts: [{ profile: { name: inbound.profileName ?? "Customer" }, wa_id: from }],
      messages: [message]
    })
    return webhooks.send("message", id, undefined, payload).done
  }

  const app = new Hono()
  app.post("/:version/:phoneNumberId/messages", handleSend)
  // Out-of-process test controls (the demo): make a customer write, list what was sent.
  app.post("/__sim/inbound", async (c) => {
    const body = (await c.req.json().catch(() => ({}))) as { from?: string; text?: string; phone_number_id?: string; profile_name?: string }
    if (typeof body.from !== "string") return c.json({ error: "from is required" }, 400)
    const delivery = await receiveMessage({
      from: body.from,
      ...(body.text === undefined ? {} : { text: body.text }),
      ...(body.phone_number_id === undefined ? {} : { phoneNumberId: body.phone_number_id }),
      ...(body.profile_name === undefined ? {} : { profileName: body.profile_name })
    })
    return c.json({ message_id: delivery.messageId, delivery: delivery.state })
  })
  app.get("/__sim/messages", (c) => c.json({ messages }))
  app.notFound((c) => {
    const answer = graphError(100, ids, { message: `Unknown path components: ${c.req.path}` })
    return c.json(answer.body, answer.status as 400)
  })

  // Kit faults answer in Graph's shape when the test names no body.
  const httpCodes: Readonly<Record<number, number>> = { 401: 190, 429: 130429, 500: 131000, 503: 2 }
  const faults = new HttpFaults({
    defaultBody: (status) => ({
      contentType: "application/json; charset=utf-8",
      body: JSON.stringify(graphError(httpCodes[status] ?? 1, ids, { status }).body)
    })
  })
  const server = await startSimulatorServer({ fetch: app.fetch, faults, clock: clock.now })

  return {
    ...server,
    stop: async () => {
      await webhooks.close()
      await server.stop()
    },
    clock,
    ids,
    appSecret,
    businessAccountId,
    phoneNumbers,
    sends,
    graphFaults,
    sent: () => messages,
    throttleAnswers: (code) => sends.count((a) => (code === undefined ? a.code === 130429 || a.code === 131056 : a.code === code)),
    throttleNext: (o = {}) => {
      graphFaults.add({ code: o.code ?? 130429 }, { ...(o.count === undefined ? {} : { count: o.count }), ...(o.match === undefined ? {} : { match: o.match }) })
    },
    failNext: (code, o = {}) => {
      graphFaults.add(
        { code, ...(o.details === undefined ? {} : { details: o.details }), ...(o.status === undefined ? {} : { status: o.status }) },
        { ...(o.count === undefined ? {} : { count: o.count }), ...(o.match === undefined ? {} : { match: o.match }) }
      )
    },
    failDeliveryNext: (o = {}) => {
      deliveryFaults.add(o.code ?? 131026, { ...(o.count === undefined ? {} : { count: o.count }), ...(o.match === undefined ? {} : { match: o.match }) })
    },
    expireToken: (token) => {
      expired.add(token)
    },
    addToken: (token) => {
      tokens.add(token)
      expired.delete(token)
    },
    addTemplate: (t) => {
      templates.set(templateKey(t.name, t.language), t)
    },
    setTemplateStatus: (name, language, status) => {
      const t = templates.get(templateKey(name, language))
      if (t === undefined) throw new Error(`no template ${name} in ${language}`)
      templates.set(templateKey(name, language), { ...t, status })
    },
    setWebhookUrl: (url) => {
      webhookUrl = url
    },
    receiveMessage,
    lastInboundAt: (phoneNumberId, from) => lastInbound.get(pairKey(phoneNumberId, waIdOf(from))),
    updateStatus: (messageId, status, errorCode) => {
      const message = byId.get(messageId)
      if (message === undefined) throw new Error(`no accepted message ${messageId}`)
      return sendStatus(message, status, errorCode)
    },
    webhookDeliveries: () => webhooks.deliveries(),
    webhooksIdle: () => webhooks.idle()
  }
}
