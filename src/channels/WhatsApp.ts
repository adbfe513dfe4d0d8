/**
 * The WhatsApp channel's contract (issue 12 §3): send an approved template, or a free-form text
 * inside the customer service window, from one of the business's phone numbers. The backend is
 * the Cloud API client (`adapters/whatsapp/CloudApiClient.ts`), which paces itself so that the
 * platform's own limits are not what stops it: a token bucket per business number (80 messages/s
 * by default) and at most one message per interval to the same recipient (the pair rate limit).
 *
 * Failures are typed by what the caller can do about them:
 * - {@link WhatsAppWindowClosed} (131047): free-form text more than 24 h after the customer's
 *   last message — send a template instead (`domain/channels/whatsappWindow.ts` tells beforehand);
 * - {@link WhatsAppThrottled} (130429 throughput, 131056 pair rate): still refused after the
 *   client's own bounded backoff — retry after `retryAfterMs`;
 * - {@link WhatsAppAuthExpired} (190): the access token expired or was revoked — reconnect;
 * - {@link WhatsAppRejected}: anything else Meta refused (bad template, parameters, recipient…),
 *   with Meta's code — retrying the same request cannot help;
 * - {@link WhatsAppUnavailable}: 5xx, timeouts or network failures after bounded retries.
 *
 * **Idempotency.** The Cloud API has no idempotency key and no way to look a sent message up by
 * one. The client therefore (1) answers a repeated `idempotencyKey` with the first send's result
 * for as long as its process remembers it, and (2) sends the key as `biz_opaque_callback_data`,
 * which Meta echoes in every status webhook of the message (`callback_data` of
 * `whatsapp.status_updated`): an actor that re-drives a send after a crash can first look for a
 * status carrying its key. A send retried after a 5xx or a timeout may still be delivered twice
 * (Meta may have accepted the first attempt): at-least-once, as the platform allows.
 */
import { createHash } from "node:crypto"
import { Context, type Effect, Schema } from "effect"

// --- requests ------------------------------------------------------------------------------------

/** One template parameter, in the Cloud API's shape. */
export type WhatsAppTemplateParameter =
  | { readonly type: "text"; readonly text: string; readonly parameter_name?: string }
  | { readonly type: "currency"; readonly currency: { readonly fallback_value: string; readonly code: string; readonly amount_1000: number }; readonly parameter_name?: string }
  | { readonly type: "date_time"; readonly date_time: { readonly fallback_value: string }; readonly parameter_name?: string }
  | { readonly type: "image" | "video" | "document"; readonly image?: { readonly link: string }; readonly video?: { readonly link: string }; readonly document?: { readonly link: string; readonly filename?: string } }
  | { readonly type: "payload"; readonly payload: string }

/** One template component with its parameters (`header`, `body`, or a `button` by index). */
export interface WhatsAppTemplateComponent {
  readonly type: "header" | "body" | "button"
  /** Buttons only: `quick_reply`, `url`, `copy_code`, … */
  readonly sub_type?: string | undefined
  /** Buttons only: the button's position in the template (0-based). */
  readonly index?: number | undefined
  readonly parameters: ReadonlyArray<WhatsAppTemplateParameter>
}

export interface WhatsAppTemplate {
  /** The approved template's name. */
  readonly name: string
  /** The translation to use, as approved: `en_US`, `de`, `pt_BR`. */
  readonly language: string
  /** The components with their parameters, in the API's shape. */
  readonly components?: ReadonlyArray<WhatsAppTemplateComponent> | undefined
  /** Shorthand for a body with only text parameters (`{{1}}`, `{{2}}`…), used when `components` is absent. */
  readonly parameters?: ReadonlyArray<string> | undefined
}

interface SendCommon {
  /** The business phone number's Graph id (not the number itself). */
  readonly phoneNumberId: string
  /** The recipient's phone number with country code (`+4915112345678` or digits). */
  readonly to: string
  /**
   * Names this send: the same key answers the first send's result instead of sending again (in
   * this process), and comes back in the message's status webhooks. At most 512 characters.
   */
  readonly idempotencyKey: string
}

export interface SendTemplateRequest extends SendCommon {
  readonly template: WhatsAppTemplate
}

export interface SendTextRequest extends SendCommon {
  /** At most 4,096 characters. */
  readonly body: string
  /** Whether WhatsApp renders a preview of the first URL in `body`. */
  readonly previewUrl?: boolean | undefined
}

/** What Meta answered for an accepted message. */
export interface WhatsAppSent {
  /** Meta's `wamid.…`. Personal data: it embeds the recipient's number (seal it). */
  readonly messageId: string
  /** {@link whatsAppMessageRef} of `messageId`: what events keep in clear to correlate statuses. */
  readonly messageRef: string
  /** The recipient's WhatsApp id (their number, normalised), as Meta resolved `to`. Personal. */
  readonly waId: string | null
}

// --- errors --------------------------------------------------------------------------------------

/** 131047: free-form message outside the 24-hour customer service window; only a template may go. */
export class WhatsAppWindowClosed extends Schema.TaggedError<WhatsAppWindowClosed>()("WhatsAppWindowClosed", {
  phoneNumberId: Schema.String,
  code: Schema.Number,
  message: Schema.String
}) {}

/** 130429 (throughput) or 131056 (pair rate) still answered after the client's bounded backoff. */
export class WhatsAppThrottled extends Schema.TaggedError<WhatsAppThrottled>()("WhatsAppThrottled", {
  phoneNumberId: Schema.String,
  code: Schema.Number,
  /** How long to wait before sending again. */
  retryAfterMs: Schema.Number,
  message: Schema.String
}) {}

/** 190: the access token expired or was revoked (or none is configured for the number). */
export class WhatsAppAuthExpired extends Schema.TaggedError<WhatsAppAuthExpired>()("WhatsAppAuthExpired", {
  phoneNumberId: Schema.String,
  code: Schema.Number,
  message: Schema.String
}) {}

/** Meta refused the request for another reason; the same request will be refused again. */
export class WhatsAppRejected extends Schema.TaggedError<WhatsAppRejected>()("WhatsAppRejected", {
  phoneNumberId: Schema.String,
  code: Schema.Number,
  subcode: Schema.NullOr(Schema.Number),
  message: Schema.String,
  /** Meta's `error_data.details`. */
  details: Schema.NullOr(Schema.String)
}) {}

/** 5xx, timeout or network failure after bounded retries: transient. */
export class WhatsAppUnavailable extends Schema.TaggedError<WhatsAppUnavailable>()("WhatsAppUnavailable", {
  phoneNumberId: Schema.String,
  /** The last HTTP status, when there was an answer. */
  status: Schema.NullOr(Schema.Number),
  message: Schema.String
}) {}

export type WhatsAppSendError = WhatsAppWindowClosed | WhatsAppThrottled | WhatsAppAuthExpired | WhatsAppRejected | WhatsAppUnavailable
/** A template may open a conversation: it is never refused for the window. */
export type WhatsAppTemplateError = Exclude<WhatsAppSendError, WhatsAppWindowClosed>

// --- the service ---------------------------------------------------------------------------------

/** Sends WhatsApp messages through the business's phone numbers, within the platform's limits. */
export class WhatsAppSender extends Context.Service<WhatsAppSender, {
  /** Sends an approved template (the only kind that may reach a customer outside the window). */
  readonly sendTemplate: (request: SendTemplateRequest) => Effect.Effect<WhatsAppSent, WhatsAppTemplateError>
  /** Sends free-form text; refused with {@link WhatsAppWindowClosed} outside the customer service window. */
  readonly sendText: (request: SendTextRequest) => Effect.Effect<WhatsAppSent, WhatsAppSendError>
}>()("sumeru/channels/WhatsAppSender") {}

/**
 * The clear reference of a WhatsApp message id: hex SHA-256 of the `wamid.…`, 32 characters.
 * The id itself embeds the customer's phone number; the digest does not reveal it (the id also
 * holds a random part), yet the same message always gets the same reference — on the send's
 * answer and on every status and reply that names it.
 */
export const whatsAppMessageRef = (messageId: string): string => createHash("sha256").update(messageId).digest("hex").slice(0, 32)
