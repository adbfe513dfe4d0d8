/**
 * Meta's Graph API errors as the Cloud API answers them: `{error: {message, type, code,
 * error_subcode?, error_data: {messaging_product, details}, fbtrace_id}}`, with the HTTP status
 * Meta documents for each code. The message starts with `(#<code>) <title>` as Meta's do.
 */
import type { DeterministicIds } from "../kit/DeterministicIds.ts"

export interface GraphErrorSpec {
  readonly status: number
  readonly title: string
  /** Default `error_data.details`. */
  readonly details?: string
}

/** The codes the simulator answers (and tests may inject). */
export const GRAPH_ERRORS: Readonly<Record<number, GraphErrorSpec>> = {
  1: { status: 400, title: "API Unknown", details: "Invalid request or possible server error." },
  2: { status: 503, title: "API Service", details: "Temporary due to downtime or due to being overloaded." },
  4: { status: 400, title: "API Too Many Calls", details: "The app has reached its API call rate limit." },
  100: { status: 400, title: "Invalid parameter" },
  190: { status: 401, title: "Access token has expired" },
  80007: { status: 400, title: "Rate limit issues", details: "The WhatsApp Business Account has reached its rate limit." },
  130429: { status: 400, title: "Rate limit hit", details: "Cloud API message throughput has been reached." },
  131000: { status: 500, title: "Something went wrong", details: "Message failed to send due to an unknown error." },
  131008: { status: 400, title: "Required parameter is missing" },
  131009: { status: 400, title: "Parameter value is not valid" },
  131016: { status: 500, title: "Service unavailable", details: "A service is temporarily unavailable." },
  131021: { status: 400, title: "Recipient cannot be sender", details: "Sender and recipient phone number is the same." },
  131026: { status: 400, title: "Message Undeliverable", details: "Unable to deliver message." },
  131047: {
    status: 400,
    title: "Re-engagement message",
    details: "Message failed to send because more than 24 hours have passed since the customer last replied to this number."
  },
  131049: { status: 400, title: "This message was not delivered to maintain healthy ecosystem engagement." },
  131050: { status: 400, title: "Unable to deliver the message. This recipient has chosen to stop receiving marketing messages on WhatsApp from your business." },
  131051: { status: 400, title: "Unsupported message type" },
  131056: {
    status: 400,
    title: "(Business Account, Consumer Account) pair rate limit hit",
    details: "Message failed to send because there were too many messages sent from this phone number to the same phone number in a short period of time."
  },
  132000: { status: 400, title: "Number of parameters does not match the expected number of params" },
  132001: { status: 404, title: "Template name does not exist in the translation" },
  132012: { status: 400, title: "Parameter format does not match format in the created template" },
  132015: { status: 400, title: "Template is Paused", details: "Template is paused due to low quality so it cannot be sent in a template message." },
  132016: { status: 400, title: "Template is Disabled", details: "Template has been paused too many times due to low quality and is now permanently disabled." }
}

/** A Graph error answer: the code's documented status unless `status` is given. */
export interface GraphErrorAnswer {
  readonly status: number
  readonly body: {
    readonly error: {
      readonly message: string
      readonly type: string
      readonly code: number
      readonly error_subcode?: number
      readonly error_data?: { readonly messaging_product: "whatsapp"; readonly details: string }
      readonly fbtrace_id: string
    }
  }
}

export interface GraphErrorOptions {
  readonly details?: string
  readonly message?: string
  readonly subcode?: number
  readonly status?: number
}

/** The answer for `code` (an unknown code answers 400 with a generic title). */
export const graphError = (code: number, ids: DeterministicIds, options: GraphErrorOptions = {}): GraphErrorAnswer => {
  const spec = GRAPH_ERRORS[code] ?? { status: 400, title: "Error" }
  const details = options.details ?? spec.details
  return {
    status: options.status ?? spec.status,
    body: {
      error: {
        message: options.message ?? `(#${code}) ${spec.title}`,
        type: "OAuthException",
        code,
        ...(options.subcode === undefined ? {} : { error_subcode: options.subcode }),
        ...(details === undefined || code === 190 ? {} : { error_data: { messaging_product: "whatsapp", details } }),
        fbtrace_id: `A${ids.string(22)}`
      }
    }
  }
}

/** An error as a webhook carries it (`statuses[].errors[]`). */
export const webhookError = (code: number, details?: string) => {
  const spec = GRAPH_ERRORS[code] ?? { status: 400, title: "Error" }
  return {
    code,
    title: spec.title,
    message: spec.title,
    error_data: { details: details ?? spec.details ?? spec.title },
    href: "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/"
  }
}
