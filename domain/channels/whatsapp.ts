/**
 * WhatsApp Cloud API webhooks, and what a shop records of them (pure).
 *
 * **On the wire** (`POST /webhooks/whatsapp`, see `adapters/http/WhatsAppWebhookRoute.ts`): Meta
 * sends `{object: "whatsapp_business_account", entry: [{id, changes: [{field, value}]}]}`; the
 * `messages` field's value holds `messaging_product`, `metadata` (the business number:
 * `display_phone_number`, `phone_number_id`) and either inbound `messages` (with the senders'
 * `contacts`) or `statuses` of messages the business sent (`sent`, `delivered`, `read`, `failed`,
 * each its own webhook, in no guaranteed order). Other fields (template status, account updates)
 * are not read here. {@link decodeWhatsAppWebhook} decodes the envelope and every `messages`
 * value with these schemas and reports every problem with its path.
 *
 * **As shop messages** ({@link WhatsAppInboundMessage}, {@link WhatsAppStatusUpdate}): one per
 * inbound message or status, flattened with the business number it concerns, timestamps as ISO
 * instants, and a `message_ref` — a digest of the message id that may stay in clear (see below).
 *
 * **As events** (`whatsapp.message_received`, `whatsapp.status_updated`): clear facts beside a
 * `subject` and the personal part sealed under it (`identifying`), as touchpoints are recorded.
 * Personal, so sealed ({@link WHATSAPP_PERSONAL_FIELDS}): the customer's `wa_id` (their phone
 * number: `from`, `recipient_id`), their profile name, what they wrote, and **message ids**:
 * a `wamid.…` is base64 of a blob that embeds the customer's phone number, so it identifies them
 * as surely as the number does. The clear `message_ref` (a SHA-256 digest of the id, computed at
 * the edge where hashing is available) correlates a status with the send that caused it, and a
 * reply with the message it answers, without opening anything.
 */
import { Result, Schema } from "effect"
import type { EventDataSchemas } from "../events/EventData.ts"
import { type FieldError, fieldErrors } from "../ingest/Fields.ts"
import { SealedOrShredded } from "../privacy/SealedValue.ts"
import { isShopDomain } from "../shop/ShopDomain.ts"

// --- Meta's webhook payload ----------------------------------------------------------------------

/** Unix seconds, as Meta sends them (a digit string; a number is accepted too). */
const UnixSeconds = Schema.Union([
  Schema.String.check(Schema.isPattern(/^\d{1,12}$/, { message: "must be Unix seconds as a digit string" })),
  Schema.Int.check(Schema.isGreaterThanOrEqualTo(0))
])

const NonEmpty = Schema.String.check(Schema.isMinLength(1, { message: "must not be empty" }))

/** An error Meta reports inside a webhook (a failed status, an unsupported inbound message). */
export const WireError = Schema.Struct({
  code: Schema.Number,
  title: Schema.optionalKey(Schema.String),
  message: Schema.optionalKey(Schema.String),
  error_data: Schema.optionalKey(Schema.Struct({ details: Schema.optionalKey(Schema.String) })),
  href: Schema.optionalKey(Schema.String)
})

export const WireMetadata = Schema.Struct({
  display_phone_number: Schema.String,
  phone_number_id: NonEmpty
})

export const WireContact = Schema.Struct({
  wa_id: Schema.String,
  profile: Schema.optionalKey(Schema.Struct({ name: Schema.optionalKey(Schema.String) }))
})

const WireMedia = Schema.Struct({
  id: Schema.optionalKey(Schema.String),
  mime_type: Schema.optionalKey(Schema.String),
  caption: Schema.optionalKey(Schema.String)
})

const WireReply = Schema.Struct({ id: Schema.optionalKey(Schema.String), title: Schema.optionalKey(Schema.String) })

/** An inbound message: `type` names which of the optional objects carries its content. */
export const WireInboundMessage = Schema.Struct({
  from: NonEmpty,
  id: NonEmpty,
  timestamp: UnixSeconds,
  type: NonEmpty,
  text: Schema.optionalKey(Schema.Struct({ body: Schema.String })),
  button: Schema.optionalKey(Schema.Struct({ text: Schema.optionalKey(Schema.String), payload: Schema.optionalKey(Schema.String) })),
  interactive: Schema.optionalKey(Schema.Struct({
    type: Schema.optionalKey(Schema.String),
    button_reply: Schema.optionalKey(WireReply),
    list_reply: Schema.optionalKey(WireReply)
  })),
  reaction: Schema.optionalKey(Schema.Struct({ message_id: Schema.optionalKey(Schema.String), emoji: Schema.optionalKey(Schema.String) })),
  image: Schema.optionalKey(WireMedia),
  video: Schema.optionalKey(WireMedia),
  document: Schema.optionalKey(WireMedia),
  audio: Schema.optionalKey(WireMedia),
  sticker: Schema.optionalKey(WireMedia),
  /** The business message this one replies to. */
  context: Schema.optionalKey(Schema.Struct({ from: Schema.optionalKey(Schema.String), id: Schema.optionalKey(Schema.String) })),
  errors: Schema.optionalKey(Schema.Array(WireError))
}).check(
  Schema.makeFilter((m) => m.type !== "text" || m.text !== undefined ? true : [{ path: ["text"], issue: "a text message has text.body" }])
)
export type WireInboundMessage = typeof WireInboundMessage.Type

/** The status of a message the business sent. */
export const WireStatus = Schema.Struct({
  id: NonEmpty,
  /** `sent`, `delivered`, `read`, `failed` (also `deleted`, `played`, `warning`): kept as sent. */
  status: NonEmpty,
  timestamp: UnixSeconds,
  recipient_id: NonEmpty,
  /** What the sender put in `biz_opaque_callback_data` (Sumeru: the send's idempotency key). */
  biz_opaque_callback_data: Schema.optionalKey(Schema.String),
  conversation: Schema.optionalKey(Schema.Struct({
    id: Schema.optionalKey(Schema.String),
    expiration_timestamp: Schema.optionalKey(UnixSeconds),
    origin: Schema.optionalKey(Schema.Struct({ type: Schema.optionalKey(Schema.String) }))
  })),
  pricing: Schema.optionalKey(Schema.Struct({
    billable: Schema.optionalKey(Schema.Boolean),
    pricing_model: Schema.optionalKey(Schema.String),
    category: Schema.optionalKey(Schema.String),
    type: Schema.optionalKey(Schema.String)
  })),
  errors: Schema.optionalKey(Schema.Array(WireError))
})
export type WireStatus = typeof WireStatus.Type

/** The value of a `messages` change. */
export const WireMessagesValue = Schema.Struct({
  messaging_product: Schema.Literal("whatsapp"),
  metadata: WireMetadata,
  contacts: Schema.optionalKey(Schema.Array(WireContact)),
  messages: Schema.optionalKey(Schema.Array(WireInboundMessage)),
  statuses: Schema.optionalKey(Schema.Array(WireStatus)),
  errors: Schema.optionalKey(Schema.Array(WireError))
})
export type WireMessagesValue = typeof WireMessagesValue.Type

/** The envelope; each change's `value` is decoded by its `field` (only `messages` is read). */
export const WireWebhook = Schema.Struct({
  object: Schema.Literal("whatsapp_business_account"),
  entry: Schema.Array(Schema.Struct({
    id: Schema.String,
    changes: Schema.Array(Schema.Struct({ field: Schema.String, value: Schema.Unknown }))
  }))
})

// --- as shop messages ----------------------------------------------------------------------------

/** An error as Sumeru keeps it (Meta's `errors[]` entry, flattened). */
export const WhatsAppError = Schema.Struct({
  code: Schema.Number,
  title: Schema.NullOr(Schema.String),
  message: Schema.NullOr(Schema.String),
  details: Schema.NullOr(Schema.String)
})
export type WhatsAppError = typeof WhatsAppError.Type

const businessNumber = {
  /** The business phone number's Graph id (routes the webhook to its shop). */
  phone_number_id: Schema.String,
  display_phone_number: Schema.String,
  /** The WhatsApp Business Account (`entry[].id`). */
  waba_id: Schema.String
}

/** A customer's message to one of the shop's numbers (shop message `whatsapp.message`). */
export const WhatsAppInboundMessage = Schema.Struct({
  ...businessNumber,
  /** Personal: Meta's `wamid.…` (embeds the sender's number). */
  message_id: Schema.String,
  /** Clear: digest of `message_id`. */
  message_ref: Schema.String,
  /** Personal: the sender's `wa_id` (their phone number, digits). */
  from: Schema.String,
  /** Personal: the sender's WhatsApp profile name. */
  profile_name: Schema.NullOr(Schema.String),
  /** `text`, `button`, `interactive`, `image`, `reaction`, … as Meta names it. */
  type: Schema.String,
  /** Personal: what the customer wrote (text body, button text, reply title, caption, emoji). */
  text: Schema.NullOr(Schema.String),
  /** Personal: the id of the business message this one replies to. */
  context_message_id: Schema.NullOr(Schema.String),
  context_message_ref: Schema.NullOr(Schema.String),
  /** When the customer sent it (ISO, UTC). */
  timestamp: Schema.String,
  errors: Schema.Array(WhatsAppError)
})
export type WhatsAppInboundMessage = typeof WhatsAppInboundMessage.Type

/** A status of a message a shop's number sent (shop message `whatsapp.status`). */
export const WhatsAppStatusUpdate = Schema.Struct({
  ...businessNumber,
  /** Personal: Meta's `wamid.…` of the message (embeds the recipient's number). */
  message_id: Schema.String,
  message_ref: Schema.String,
  /** `sent` → `delivered` → `read`, or `failed` (others passed on as sent). */
  status: Schema.String,
  /** Personal: the recipient's `wa_id`. */
  recipient_id: Schema.String,
  timestamp: Schema.String,
  /** `biz_opaque_callback_data` echoed back: the idempotency key of the send (`null` if none). */
  callback_data: Schema.NullOr(Schema.String),
  pricing_category: Schema.NullOr(Schema.String),
  billable: Schema.NullOr(Schema.Boolean),
  errors: Schema.Array(WhatsAppError)
})
export type WhatsAppStatusUpdate = typeof WhatsAppStatusUpdate.Type

/** What one webhook delivery holds, flattened in payload order. */
export interface WhatsAppWebhookBatch {
  readonly messages: ReadonlyArray<WhatsAppInboundMessage>
  readonly statuses: ReadonlyArray<WhatsAppStatusUpdate>
  /** Change fields present but not read (e.g. `message_template_status_update`). */
  readonly ignoredFields: ReadonlyArray<string>
}

const isoOfSeconds = (seconds: string | number): string => new Date(Number(seconds) * 1000).toISOString()

const flatError = (e: typeof WireError.Type): WhatsAppError => ({
  code: e.code,
  title: e.title ?? null,
  message: e.message ?? null,
  details: e.error_data?.details ?? null
})

/** The customer-written part of an inbound message, whatever its type. */
const textOf = (m: WireInboundMessage): string | null =>
  m.text?.body ??
    m.button?.text ??
    m.interactive?.button_reply?.title ??
    m.interactive?.list_reply?.title ??
    m.reaction?.emoji ??
    (m.image ?? m.video ?? m.document)?.caption ??
    null

const decodeEnvelope = Schema.decodeUnknownResult(WireWebhook, { errors: "all" })
const decodeMessagesValue = Schema.decodeUnknownResult(WireMessagesValue, { errors: "all" })

/**
 * Decodes a webhook body: every problem of the envelope and of each `messages` value, with its
 * path (`entry[0].changes[1].value.statuses[0].status`), or the batch. `refOf` digests a message
 * id (hashing is the caller's: this module is pure). No message echoes a rejected value.
 */
export const decodeWhatsAppWebhook = (
  body: unknown,
  refOf: (messageId: string) => string
): Result.Result<WhatsAppWebhookBatch, ReadonlyArray<FieldError>> => {
  const envelope = decodeEnvelope(body)
  if (Result.isFailure(envelope)) return Result.fail(fieldErrors(envelope.failure.issue))
  const problems: Array<FieldError> = []
  const messages: Array<WhatsAppInboundMessage> = []
  const statuses: Array<WhatsAppStatusUpdate> = []
  const ignored = new Set<string>()
  envelope.success.entry.forEach((entry, e) =>
    entry.changes.forEach((change, c) => {
      if (change.field !== "messages") {
        ignored.add(change.field)
        return
      }
      const value = decodeMessagesValue(change.value)
      if (Result.isFailure(value)) {
        problems.push(...fieldErrors(value.failure.issue, `entry[${e}].changes[${c}].value`))
        return
      }
      const v = value.success
      const number = { phone_number_id: v.metadata.phone_number_id, display_phone_number: v.metadata.display_phone_number, waba_id: entry.id }
      const names = new Map((v.contacts ?? []).map((contact) => [contact.wa_id, contact.profile?.name ?? null]))
      for (const m of v.messages ?? []) {
        const context = m.context?.id ?? null
        messages.push({
          ...number,
          message_id: m.id,
          message_ref: refOf(m.id),
          from: m.from,
          profile_name: names.get(m.from) ?? null,
          type: m.type,
          text: textOf(m),
          context_message_id: context,
          context_message_ref: context === null ? null : refOf(context),
          timestamp: isoOfSeconds(m.timestamp),
          errors: (m.errors ?? []).map(flatError)
        })
      }
      for (const s of v.statuses ?? []) {
        statuses.push({
          ...number,
          message_id: s.id,
          message_ref: refOf(s.id),
          status: s.status,
          recipient_id: s.recipient_id,
          timestamp: isoOfSeconds(s.timestamp),
          callback_data: s.biz_opaque_callback_data ?? null,
          pricing_category: s.pricing?.category ?? s.conversation?.origin?.type ?? null,
          billable: s.pricing?.billable ?? null,
          errors: (s.errors ?? []).map(flatError)
        })
      }
    })
  )
  return problems.length > 0 ? Result.fail(problems) : Result.succeed({ messages, statuses, ignoredFields: [...ignored] })
}

/** The dedupe key of an inbound message on the shop log (no personal data: the ref, not the id). */
export const inboundMessageKey = (m: WhatsAppInboundMessage): string => `whatsapp:message:${m.message_ref}`

/** The dedupe key of a status: one per message and status (`failed` may repeat with other errors: same key). */
export const statusUpdateKey = (s: WhatsAppStatusUpdate): string => `whatsapp:status:${s.message_ref}:${s.status}`

// --- as events -----------------------------------------------------------------------------------

const sealed = {
  /** The data key `identifying` is sealed under: `phone:<blind index>` of the customer's number (`domain/privacy/PhoneSubject.ts`); `shop` in events recorded before it, or when the number is not one. */
  subject: Schema.String,
  /** The personal fields, sealed; `null` when the subject had been shredded. */
  identifying: SealedOrShredded
}

/** `whatsapp.message_received`: what stays in clear of an inbound message. */
export const WhatsAppMessageFacts = Schema.Struct({
  phone_number_id: Schema.String,
  message_ref: Schema.String,
  type: Schema.String,
  context_message_ref: Schema.NullOr(Schema.String),
  timestamp: Schema.String,
  errors: Schema.Array(WhatsAppError)
})
export type WhatsAppMessageFacts = typeof WhatsAppMessageFacts.Type

/** `whatsapp.message_received`'s sealed part, once opened. */
export const WhatsAppMessageIdentifying = Schema.Struct({
  message_id: Schema.String,
  from: Schema.String,
  profile_name: Schema.NullOr(Schema.String),
  text: Schema.NullOr(Schema.String),
  context_message_id: Schema.NullOr(Schema.String)
})
export type WhatsAppMessageIdentifying = typeof WhatsAppMessageIdentifying.Type

export const WhatsAppMessageReceived = Schema.Struct({ ...WhatsAppMessageFacts.fields, ...sealed })
export type WhatsAppMessageReceived = typeof WhatsAppMessageReceived.Type

/** `whatsapp.status_updated`: what stays in clear of a status. */
export const WhatsAppStatusFacts = Schema.Struct({
  phone_number_id: Schema.String,
  message_ref: Schema.String,
  status: Schema.String,
  timestamp: Schema.String,
  callback_data: Schema.NullOr(Schema.String),
  pricing_category: Schema.NullOr(Schema.String),
  billable: Schema.NullOr(Schema.Boolean),
  errors: Schema.Array(WhatsAppError)
})
export type WhatsAppStatusFacts = typeof WhatsAppStatusFacts.Type

/** `whatsapp.status_updated`'s sealed part, once opened. */
export const WhatsAppStatusIdentifying = Schema.Struct({
  message_id: Schema.String,
  recipient_id: Schema.String
})
export type WhatsAppStatusIdentifying = typeof WhatsAppStatusIdentifying.Type

export const WhatsAppStatusUpdated = Schema.Struct({ ...WhatsAppStatusFacts.fields, ...sealed })
export type WhatsAppStatusUpdated = typeof WhatsAppStatusUpdated.Type

/** Each WhatsApp event type and the schema of its data. */
export const WHATSAPP_EVENTS = {
  "whatsapp.message_received": WhatsAppMessageReceived,
  "whatsapp.status_updated": WhatsAppStatusUpdated
} as const satisfies EventDataSchemas
export type WhatsAppEventType = keyof typeof WHATSAPP_EVENTS

/** The personal fields of each event, sealed in `identifying` (exactly the identifying schemas' keys). */
export const WHATSAPP_PERSONAL_FIELDS = {
  "whatsapp.message_received": Object.keys(WhatsAppMessageIdentifying.fields) as ReadonlyArray<keyof WhatsAppMessageIdentifying>,
  "whatsapp.status_updated": Object.keys(WhatsAppStatusIdentifying.fields) as ReadonlyArray<keyof WhatsAppStatusIdentifying>
} as const

/** Splits an inbound message into its clear facts and the personal part to seal. */
export const splitInboundMessage = (m: WhatsAppInboundMessage): { readonly facts: WhatsAppMessageFacts; readonly identifying: WhatsAppMessageIdentifying } => ({
  facts: {
    phone_number_id: m.phone_number_id,
    message_ref: m.message_ref,
    type: m.type,
    context_message_ref: m.context_message_ref,
    timestamp: m.timestamp,
    errors: m.errors
  },
  identifying: {
    message_id: m.message_id,
    from: m.from,
    profile_name: m.profile_name,
    text: m.text,
    context_message_id: m.context_message_id
  }
})

/** Splits a status into its clear facts and the personal part to seal. */
export const splitStatusUpdate = (s: WhatsAppStatusUpdate): { readonly facts: WhatsAppStatusFacts; readonly identifying: WhatsAppStatusIdentifying } => ({
  facts: {
    phone_number_id: s.phone_number_id,
    message_ref: s.message_ref,
    status: s.status,
    timestamp: s.timestamp,
    callback_data: s.callback_data,
    pricing_category: s.pricing_category,
    billable: s.billable,
    errors: s.errors
  },
  identifying: { message_id: s.message_id, recipient_id: s.recipient_id }
})

// --- which shop a number belongs to ----------------------------------------------------------

/**
 * Parses `shop.myshopify.com:1234567890,other.myshopify.com:555…` (a shop may have several
 * numbers; a number belongs to one shop) into phone number id → shop, or every problem found.
 * Blank input is an empty map.
 */
export const parsePhoneNumberShops = (text: string): Result.Result<ReadonlyMap<string, string>, ReadonlyArray<string>> => {
  const routes = new Map<string, string>()
  const problems: Array<string> = []
  const pairs = text.split(",").map((p) => p.trim()).filter((p) => p !== "")
  pairs.forEach((pair, i) => {
    const at = pair.lastIndexOf(":")
    const shop = at === -1 ? "" : pair.slice(0, at).trim().toLowerCase()
    const id = at === -1 ? "" : pair.slice(at + 1).trim()
    if (!isShopDomain(shop) || !/^\d{1,30}$/.test(id)) {
      problems.push(`entry ${i + 1} must be <shop>.myshopify.com:<phone number id>`)
      return
    }
    const owner = routes.get(id)
    if (owner !== undefined && owner !== shop) problems.push(`phone number id ${id} is given to two shops`)
    routes.set(id, shop)
  })
  return problems.length > 0 ? Result.fail(problems) : Result.succeed(routes)
}

/** The shop message types the route publishes (to be added to the catalog). */
export const WHATSAPP_MESSAGE_TYPES = { message: "whatsapp.message", status: "whatsapp.status" } as const
