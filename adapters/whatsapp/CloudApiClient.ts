/**
 * `WhatsAppSender` over the WhatsApp Cloud API: `POST {baseUrl}/{version}/{phone-number-id}/messages`
 * with a bearer token, `messaging_product: "whatsapp"`, `recipient_type: "individual"` and a
 * `template` or `text` message.
 *
 * Every send goes, in order:
 * 1. through the idempotency memo — a key this process already sent answers that result (a
 *    concurrent send with the same key waits for the first); failures are not remembered;
 * 2. into the recipient's lane (`pacing.ts`): sends to one recipient leave one at a time, in
 *    call order, at least `pairIntervalMs` after the previous one was answered;
 * 3. through the number's token bucket (`messagesPerSecond`, `burst`);
 * 4. to Meta. Throttling answers (130429, 131056, …) are retried with capped exponential
 *    backoff and jitter, honouring `Retry-After`, at most `throttleRetries` times, then fail as
 *    `WhatsAppThrottled`; 5xx, timeouts and network failures likewise (`unavailableRetries`,
 *    then `WhatsAppUnavailable`); 131047 is `WhatsAppWindowClosed`, 190 `WhatsAppAuthExpired`,
 *    anything else `WhatsAppRejected` — none of these three is retried.
 *
 * The idempotency key travels as `biz_opaque_callback_data`, so status webhooks name the send
 * that caused them. Nothing logged here carries the token, the recipient or the text.
 */
import { Config, Deferred, Effect, Exit, Layer, Option, Random, Redacted } from "effect"
import {
  type SendTemplateRequest,
  type SendTextRequest,
  whatsAppMessageRef,
  WhatsAppAuthExpired,
  WhatsAppRejected,
  type WhatsAppSendError,
  WhatsAppSender,
  type WhatsAppSent,
  type WhatsAppTemplate,
  type WhatsAppTemplateError,
  WhatsAppThrottled,
  WhatsAppUnavailable,
  WhatsAppWindowClosed
} from "../../src/channels/WhatsApp.ts"
import { classifyGraphAnswer, type GraphOutcome, retryAfterMs } from "./graphResponses.ts"
import { backoffDelay, makeBuckets, makeRecipientPacer } from "./pacing.ts"

export const DEFAULT_GRAPH_URL = "https://graph.facebook.com"
export const DEFAULT_API_VERSION = "v26.0"
/** Meta's default throughput of a business phone number. */
export const DEFAULT_MESSAGES_PER_SECOND = 80
/** Meta's pair rate: about one message every 6 seconds to the same customer. */
export const DEFAULT_PAIR_INTERVAL_MS = 6_000

export interface CloudApiClientOptions {
  /** The access token (a system user's, covering every number of the business), or one per number. */
  readonly accessToken: Redacted.Redacted<string> | ((phoneNumberId: string) => Redacted.Redacted<string> | undefined)
  /** Default `https://graph.facebook.com` (tests: the simulator's URL). */
  readonly baseUrl?: string
  /** Graph API version, default `v26.0`. */
  readonly apiVersion?: string
  /** Per business number, default 80. */
  readonly messagesPerSecond?: number
  /** Tokens the number's bucket holds, default half a second's worth (see `pacing.ts`). */
  readonly burst?: number
  /** Least time between the answer to one message and the next message to the same recipient, default 6 s. */
  readonly pairIntervalMs?: number
  /** Retries after a throttling answer, default 4; then `WhatsAppThrottled`. */
  readonly throttleRetries?: number
  /** First backoff after 130429, default 1 s (doubled, jittered, capped at `throttleMaxMs`); after 131056 at least `pairIntervalMs`. */
  readonly throttleBaseMs?: number
  readonly throttleMaxMs?: number
  /** Retries after a 5xx, timeout or network failure, default 3; then `WhatsAppUnavailable`. */
  readonly unavailableRetries?: number
  readonly unavailableBaseMs?: number
  /** One request's time limit, default 15 s. */
  readonly requestTimeoutMs?: number
  /** Results remembered by idempotency key (oldest forgotten first), default 10,000. */
  readonly idempotencyMemo?: number
  /** Default: the global `fetch`. */
  readonly fetch?: typeof globalThis.fetch
}

/** The largest `biz_opaque_callback_data` Meta takes. */
const CALLBACK_DATA_LIMIT = 512

type Payload = Readonly<Record<string, unknown>>

/** The `template` object of the request: `parameters` shorthand becomes a body component. */
export const templatePayload = (template: WhatsAppTemplate): Payload => {
  const components = template.components ??
    (template.parameters !== undefined && template.parameters.length > 0
      ? [{ type: "body", parameters: template.parameters.map((text) => ({ type: "text", text })) }]
      : undefined)
  return {
    name: template.name,
    language: { policy: "deterministic", code: template.language },
    ...(components === undefined ? {} : { components })
  }
}

/** The request body of a send. */
export const messageBody = (to: string, idempotencyKey: string, message: { readonly type: "template"; readonly template: Payload } | { readonly type: "text"; readonly text: Payload }): Payload => ({
  messaging_product: "whatsapp",
  recipient_type: "individual",
  to,
  ...message,
  ...(idempotencyKey.length > 0 && idempotencyKey.length <= CALLBACK_DATA_LIMIT ? { biz_opaque_callback_data: idempotencyKey } : {})
})

interface Answer {
  readonly status: number
  readonly text: string
  readonly retryAfter: string | null
}

/** Builds the sender (its buckets, lanes and memo live as long as the returned service). */
export const make = (options: CloudApiClientOptions): WhatsAppSender["Service"] => {
  const baseUrl = (options.baseUrl ?? DEFAULT_GRAPH_URL).replace(/\/+$/, "")
  const version = options.apiVersion ?? DEFAULT_API_VERSION
  const rate = options.messagesPerSecond ?? DEFAULT_MESSAGES_PER_SECOND
  const burst = options.burst ?? Math.max(1, Math.floor(rate / 2))
  const pairIntervalMs = options.pairIntervalMs ?? DEFAULT_PAIR_INTERVAL_MS
  const throttleRetries = options.throttleRetries ?? 4
  const throttleBaseMs = options.throttleBaseMs ?? 1_000
  const throttleMaxMs = options.throttleMaxMs ?? 30_000
  const unavailableRetries = options.unavailableRetries ?? 3
  const unavailableBaseMs = options.unavailableBaseMs ?? 500
  const timeoutMs = options.requestTimeoutMs ?? 15_000
  const memoLimit = options.idempotencyMemo ?? 10_000
  const fetchImpl = options.fetch ?? globalThis.fetch
  const tokenFor = typeof options.accessToken === "function" ? options.accessToken : (() => options.accessToken) as (id: string) => Redacted.Redacted<string>

  const bucketOf = makeBuckets(rate, burst)
  const pacer = makeRecipientPacer(pairIntervalMs)
  const memo = new Map<string, Deferred.Deferred<WhatsAppSent, WhatsAppSendError>>()

  /** One POST; a network failure or timeout is an `Unavailable` outcome, never a defect. */
  const post = (phoneNumberId: string, token: Redacted.Redacted<string>, body: Payload): Effect.Effect<GraphOutcome> =>
    Effect.tryPromise({
      try: async (signal): Promise<Answer> => {
        const response = await fetchImpl(`${baseUrl}/${version}/${encodeURIComponent(phoneNumberId)}/messages`, {
          method: "POST",
          headers: { Authorization: `Bearer ${Redacted.value(token)}`, "Content-Type": "application/json" },
          body: JSON.stringify(body),
          signal: AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)])
        })
        return { status: response.status, text: await response.text(), retryAfter: response.headers.get("retry-after") }
      },
      catch: (error) => error
    }).pipe(
      Effect.map((answer) => classifyGraphAnswer(answer.status, answer.text, retryAfterMs(answer.retryAfter, Date.now()))),
      Effect.catch((error) =>
        Effect.succeed<GraphOutcome>({
          _tag: "Unavailable",
          status: null,
          message: error instanceof Error && error.name === "TimeoutError" ? `no answer within ${timeoutMs} ms` : `network failure: ${error instanceof Error ? error.message : String(error)}`,
          retry: true
        })
      )
    )

  /** Sends one message: paced, retried as the module says, typed. */
  const deliver = (phoneNumberId: string, to: string, body: Payload): Effect.Effect<WhatsAppSent, WhatsAppSendError> =>
    Effect.gen(function*() {
      const token = tokenFor(phoneNumberId)
      if (token === undefined) {
        return yield* new WhatsAppAuthExpired({ phoneNumberId, code: 190, message: "no access token is configured for this phone number" })
      }
      const bucket = bucketOf(phoneNumberId)
      return yield* pacer.exclusive(`${phoneNumberId}:${to.replace(/\D/g, "")}`, (pace) =>
        Effect.gen(function*() {
          let throttled = 0
          let unavailable = 0
          for (;;) {
            const outcome = yield* pace(Effect.andThen(bucket.acquire, post(phoneNumberId, token, body)))
            switch (outcome._tag) {
              case "Sent":
                return { messageId: outcome.messageId, messageRef: whatsAppMessageRef(outcome.messageId), waId: outcome.waId } satisfies WhatsAppSent
              case "Throttled": {
                const base = outcome.code === 131056 ? Math.max(throttleBaseMs, pairIntervalMs) : throttleBaseMs
                const delay = Math.max(outcome.retryAfterMs ?? 0, backoffDelay(throttled + 1, base, Math.max(base, throttleMaxMs), yield* Random.next))
                if (throttled >= throttleRetries) {
                  return yield* new WhatsAppThrottled({ phoneNumberId, code: outcome.code, retryAfterMs: delay, message: outcome.message })
                }
                throttled++
                yield* Effect.logDebug("WhatsApp throttled; backing off").pipe(Effect.annotateLogs({ phoneNumberId, code: outcome.code, delayMs: delay }))
                yield* Effect.sleep(delay)
                continue
              }
              case "Unavailable": {
                if (!outcome.retry || unavailable >= unavailableRetries) {
                  return yield* new WhatsAppUnavailable({ phoneNumberId, status: outcome.status, message: outcome.message })
                }
                unavailable++
                yield* Effect.sleep(backoffDelay(unavailable, unavailableBaseMs, Math.max(unavailableBaseMs, throttleMaxMs), yield* Random.next))
                continue
              }
              case "WindowClosed":
                return yield* new WhatsAppWindowClosed({ phoneNumberId, code: outcome.code, message: outcome.message })
              case "AuthExpired":
                return yield* new WhatsAppAuthExpired({ phoneNumberId, code: outcome.code, message: outcome.message })
              case "Rejected":
                return yield* new WhatsAppRejected({ phoneNumberId, code: outcome.code, subcode: outcome.subcode, message: outcome.message, details: outcome.details })
            }
          }
        })
      )
    })

  /** The first send of a key runs; later ones (in this process) get its result. */
  const once = (phoneNumberId: string, idempotencyKey: string, send: Effect.Effect<WhatsAppSent, WhatsAppSendError>): Effect.Effect<WhatsAppSent, WhatsAppSendError> =>
    Effect.suspend(() => {
      const key = `${phoneNumberId}\u0000${idempotencyKey}`
      const existing = memo.get(key)
      if (existing !== undefined) return Deferred.await(existing)
      const result = Deferred.makeUnsafe<WhatsAppSent, WhatsAppSendError>()
      memo.set(key, result)
      return send.pipe(
        Effect.onExit((exit) =>
          Effect.sync(() => {
            if (Exit.isFailure(exit)) memo.delete(key)
            Deferred.doneUnsafe(result, exit)
            // Map iteration is insertion order: forget the oldest beyond the bound
            for (const oldest of memo.keys()) {
              if (memo.size <= memoLimit) break
              memo.delete(oldest)
            }
          })
        )
      )
    })

  const sendTemplate = Effect.fn("WhatsAppSender.sendTemplate")(function*(request: SendTemplateRequest): Effect.fn.Return<WhatsAppSent, WhatsAppTemplateError> {
    yield* Effect.annotateCurrentSpan({ "whatsapp.phone_number_id": request.phoneNumberId, "whatsapp.template": request.template.name })
    const body = messageBody(request.to, request.idempotencyKey, { type: "template", template: templatePayload(request.template) })
    return yield* once(request.phoneNumberId, request.idempotencyKey, deliver(request.phoneNumberId, request.to, body)).pipe(
      // a template is never refused for the window; Meta answering 131047 anyway is a refusal like any other
      Effect.catchTag("WhatsAppWindowClosed", (e) =>
        Effect.fail(new WhatsAppRejected({ phoneNumberId: e.phoneNumberId, code: e.code, subcode: null, message: e.message, details: null })))
    )
  })

  const sendText = Effect.fn("WhatsAppSender.sendText")(function*(request: SendTextRequest) {
    yield* Effect.annotateCurrentSpan({ "whatsapp.phone_number_id": request.phoneNumberId })
    const body = messageBody(request.to, request.idempotencyKey, { type: "text", text: { body: request.body, preview_url: request.previewUrl ?? false } })
    return yield* once(request.phoneNumberId, request.idempotencyKey, deliver(request.phoneNumberId, request.to, body))
  })

  return WhatsAppSender.of({ sendTemplate, sendText })
}

/** The sender with the options given. */
export const layer = (options: CloudApiClientOptions): Layer.Layer<WhatsAppSender> => Layer.sync(WhatsAppSender, () => make(options))

/**
 * The sender from configuration: `WHATSAPP_ACCESS_TOKEN` (required), `WHATSAPP_GRAPH_URL`,
 * `WHATSAPP_API_VERSION`, `WHATSAPP_MESSAGES_PER_SECOND`, `WHATSAPP_BURST`,
 * `WHATSAPP_PAIR_INTERVAL_MS`, `WHATSAPP_THROTTLE_RETRIES`.
 */
export const layerConfig: Layer.Layer<WhatsAppSender, Config.ConfigError> = Layer.effect(
  WhatsAppSender,
  Effect.gen(function*() {
    const accessToken = yield* Config.Redacted("WHATSAPP_ACCESS_TOKEN")
    const baseUrl = yield* Config.String("WHATSAPP_GRAPH_URL").pipe(Config.withDefault(DEFAULT_GRAPH_URL))
    const apiVersion = yield* Config.String("WHATSAPP_API_VERSION").pipe(Config.withDefault(DEFAULT_API_VERSION))
    const messagesPerSecond = yield* Config.Int("WHATSAPP_MESSAGES_PER_SECOND").pipe(Config.withDefault(DEFAULT_MESSAGES_PER_SECOND))
    const burst = yield* Config.option(Config.Int("WHATSAPP_BURST"))
    const pairIntervalMs = yield* Config.Int("WHATSAPP_PAIR_INTERVAL_MS").pipe(Config.withDefault(DEFAULT_PAIR_INTERVAL_MS))
    const throttleRetries = yield* Config.Int("WHATSAPP_THROTTLE_RETRIES").pipe(Config.withDefault(4))
    return make({
      accessToken,
      baseUrl,
      apiVersion,
      messagesPerSecond,
      pairIntervalMs,
      throttleRetries,
      ...(Option.isSome(burst) ? { burst: burst.value } : {})
    })
  })
)

/**
 * The sender when `WHATSAPP_ACCESS_TOKEN` is set; otherwise one that refuses every message saying
 * WhatsApp is not configured (an action that would send one then fails in plain language).
 */
export const layerIfConfigured: Layer.Layer<WhatsAppSender, Config.ConfigError> = Layer.unwrap(
  Effect.map(Config.option(Config.Redacted("WHATSAPP_ACCESS_TOKEN")), (token) =>
    token._tag === "Some"
      ? layerConfig
      : Layer.succeed(WhatsAppSender, WhatsAppSender.of({
        sendTemplate: (r) => Effect.fail(new WhatsAppRejected({ phoneNumberId: r.phoneNumberId, code: 0, subcode: null, message: "WhatsApp is not configured on this deploy (set WHATSAPP_ACCESS_TOKEN)", details: null })),
        sendText: (r) => Effect.fail(new WhatsAppRejected({ phoneNumberId: r.phoneNumberId, code: 0, subcode: null, message: "WhatsApp is not configured on this deploy (set WHATSAPP_ACCESS_TOKEN)", details: null }))
      })))
)
