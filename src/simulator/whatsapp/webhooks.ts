/**
 * Webhook delivery as Meta does it for the Cloud API: a POST of the JSON payload to the app's
 * callback URL, signed with `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body with
 * the app secret>`, retried when the endpoint does not answer 2xx (Meta keeps trying for days;
 * the simulator a few times, quickly). Deliveries of one message (its statuses) leave one after
 * the other, so a receiver sees `sent` before `delivered` before `read` — as it usually, though
 * not certainly, does from Meta. Every delivery is recorded for assertions.
 */
import { createHmac } from "node:crypto"

/** `sha256=<hex>`: the `X-Hub-Signature-256` of `rawBody` with `appSecret`. */
export const hubSignature = (appSecret: string, rawBody: string | Uint8Array): string =>
  `sha256=${createHmac("sha256", appSecret).update(rawBody).digest("hex")}`

export type WhatsAppDeliveryStatus = "pending" | "delivered" | "failed" | "no-endpoint"

/** One webhook (one payload) and its attempts. */
export interface WhatsAppWebhookDelivery {
  readonly seq: number
  /** What it reports: an inbound message, or a status of a sent one. */
  readonly kind: "message" | "status"
  /** The `wamid` it is about. */
  readonly messageId: string
  /** For statuses: `sent`, `delivered`, `read`, `failed`. */
  readonly status: string | undefined
  readonly url: string | undefined
  readonly body: string
  readonly headers: Readonly<Record<string, string>>
  state: WhatsAppDeliveryStatus
  attempts: number
  lastStatusCode: number | undefined
  lastError: string | undefined
  /** Settles when the delivery is done (delivered, failed after its retries, or not sent). */
  readonly done: Promise<WhatsAppWebhookDelivery>
}

export interface WhatsAppWebhooksOptions {
  readonly url: () => string | undefined
  readonly appSecret: () => string
  /** Delay before each retry (ms); its length is the number of retries. Default [100, 1000, 5000]. */
  readonly retryDelaysMs?: ReadonlyArray<number>
  /** Per-attempt timeout, default 10 s. */
  readonly timeoutMs?: number
}

/** Sends the simulator's webhooks and keeps a log of them. */
export class WhatsAppWebhooks {
  readonly #options: WhatsAppWebhooksOptions
  readonly #deliveries: Array<WhatsAppWebhookDelivery> = []
  readonly #tails = new Map<string, Promise<unknown>>()
  readonly #inFlight = new Set<Promise<unknown>>()
  readonly #timers = new Map<ReturnType<typeof setTimeout>, () => void>()
  readonly #controllers = new Set<AbortController>()
  #closed = false

  constructor(options: WhatsAppWebhooksOptions) {
    this.#options = options
  }

  /** Every delivery so far, oldest first. */
  deliveries(): ReadonlyArray<WhatsAppWebhookDelivery> {
    return this.#deliveries
  }

  /** Queues `payload`, after any earlier delivery about the same message. */
  send(kind: "message" | "status", messageId: string, status: string | undefined, payload: unknown): WhatsAppWebhookDelivery {
    const body = JSON.stringify(payload)
    const url = this.#options.url()
    let finish: (d: WhatsAppWebhookDelivery) => void = () => undefined
    const done = new Promise<WhatsAppWebhookDelivery>((resolve) => {
      finish = resolve
    })
    const delivery: WhatsAppWebhookDelivery = {
      seq: this.#deliveries.length + 1,
      kind,
      messageId,
      status,
      url,
      body,
      headers: { "Content-Type": "application/json", "X-Hub-Signature-256": hubSignature(this.#options.appSecret(), body) },
      state: url === undefined ? "no-endpoint" : "pending",
      attempts: 0,
      lastStatusCode: undefined,
      lastError: undefined,
      done
    }
    this.#deliveries.push(delivery)
    if (delivery.state === "no-endpoint") {
      finish(delivery)
      return delivery
    }
    const previous = this.#tails.get(messageId) ?? Promise.resolve()
    const run = previous.then(() => this.#deliver(delivery, 0)).then(() => finish(delivery))
    this.#tails.set(messageId, run)
    this.#inFlight.add(run)
    void run.finally(() => {
      this.#inFlight.delete(run)
      if (this.#tails.get(messageId) === run) this.#tails.delete(messageId)
    })
    return delivery
  }

  /** Resolves when no delivery is pending (retries included). */
  async idle(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight])
  }

  /** Stops retries and aborts requests in flight. */
  async close(): Promise<void> {
    this.#closed = true
    for (const [timer, resolve] of this.#timers) {
      clearTimeout(timer)
      resolve()
    }
    this.#timers.clear()
    for (const c of this.#controllers) c.abort()
    await Promise.allSettled([...this.#inFlight])
  }

  async #deliver(delivery: WhatsAppWebhookDelivery, attempt: number): Promise<void> {
    if (this.#closed || delivery.url === undefined) {
      delivery.state = "failed"
      return
    }
    delivery.attempts++
    const controller = new AbortController()
    this.#controllers.add(controller)
    const timer = setTimeout(() => controller.abort(new Error("webhook delivery timed out")), this.#options.timeoutMs ?? 10_000)
    try {
      const response = await fetch(delivery.url, { method: "POST", headers: delivery.headers, body: delivery.body, signal: controller.signal })
      delivery.lastStatusCode = response.status
      await response.body?.cancel().catch(() => undefined)
      if (response.ok) {
        delivery.state = "delivered"
        return
      }
      delivery.lastError = `HTTP ${response.status}`
    } catch (error) {
      delivery.lastError = error instanceof Error ? error.message : String(error)
    } finally {
      clearTimeout(timer)
      this.#controllers.delete(controller)
    }
    const delay = (this.#options.retryDelaysMs ?? [100, 1000, 5000])[attempt]
    if (delay === undefined || this.#closed) {
      delivery.state = "failed"
      return
    }
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        this.#timers.delete(t)
        resolve()
      }, delay)
      this.#timers.set(t, resolve)
    })
    await this.#deliver(delivery, attempt + 1)
  }
}
