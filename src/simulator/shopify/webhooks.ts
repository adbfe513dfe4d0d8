/**
 * Webhook delivery: signed HTTPS-style POSTs with Shopify's headers, retried on failure
 * (non-2xx, network error or the 5 s timeout), optionally dropped or duplicated by fault
 * injection. Every delivery is recorded for assertions.
 */
import { createHmac } from "node:crypto"
import type { DeterministicIds } from "../kit/DeterministicIds.ts"
import { isoNanos, type Clock } from "./clock.ts"

/** base64(HMAC-SHA256(secret, rawBody)) — the `X-Shopify-Hmac-Sha256` value. */
export const webhookSignature = (secret: string, rawBody: string | Uint8Array): string =>
  createHmac("sha256", secret).update(rawBody).digest("base64")

export type DeliveryStatus = "pending" | "delivered" | "failed" | "dropped" | "no-endpoint"

/** One delivery (one webhook id) and its attempts. */
export interface WebhookDelivery {
  readonly webhookId: string
  readonly eventId: string
  readonly topic: string
  readonly shopDomain: string
  readonly url: string | undefined
  readonly body: string
  readonly headers: Readonly<Record<string, string>>
  readonly triggeredAt: string
  status: DeliveryStatus
  attempts: number
  lastStatusCode: number | undefined
  lastError: string | undefined
}

export interface WebhookDispatcherOptions {
  readonly secret: () => string
  readonly clock: Clock
  /** Source of the webhook and event ids. */
  readonly ids: DeterministicIds
  /** Delay before each retry (ms); its length is the number of retries. Default [100, 1000, 5000]. */
  readonly retryDelaysMs?: ReadonlyArray<number>
  /** Per-attempt timeout (Shopify: 5 s). */
  readonly timeoutMs?: number
}

/** Sends webhooks and keeps a log of deliveries. */
export class WebhookDispatcher {
  readonly #options: WebhookDispatcherOptions
  readonly #deliveries: Array<WebhookDelivery> = []
  readonly #inFlight = new Set<Promise<void>>()
  readonly #timers = new Map<ReturnType<typeof setTimeout>, () => void>()
  readonly #controllers = new Set<AbortController>()
  #closed = false

  constructor(options: WebhookDispatcherOptions) {
    this.#options = options
  }

  /** Every delivery so far, oldest first. */
  deliveries(): ReadonlyArray<WebhookDelivery> {
    return this.#deliveries
  }

  /**
   * Queues a webhook. `drop` records it as dropped without sending; `duplicate` sends it
   * twice (same event id, different webhook ids), as Shopify's at-least-once delivery may.
   */
  send(input: {
    readonly topic: string
    readonly shopDomain: string
    readonly apiVersion: string
    readonly payload: unknown
    readonly url: string | undefined
    readonly drop?: boolean
    readonly duplicate?: boolean
  }): ReadonlyArray<WebhookDelivery> {
    const body = JSON.stringify(input.payload)
    const eventId = this.#options.ids.uuid()
    const triggeredAt = isoNanos(this.#options.clock())
    const copies = input.duplicate ? 2 : 1
    const out: Array<WebhookDelivery> = []
    for (let i = 0; i < copies; i++) {
      const webhookId = this.#options.ids.uuid()
      const delivery: WebhookDelivery = {
        webhookId,
        eventId,
        topic: input.topic,
        shopDomain: input.shopDomain,
        url: input.url,
        body,
        triggeredAt,
        headers: {
          "Content-Type": "application/json",
          "X-Shopify-Topic": input.topic,
          "X-Shopify-Hmac-Sha256": webhookSignature(this.#options.secret(), body),
          "X-Shopify-Shop-Domain": input.shopDomain,
          "X-Shopify-API-Version": input.apiVersion,
          "X-Shopify-Webhook-Id": webhookId,
          "X-Shopify-Event-Id": eventId,
          "X-Shopify-Triggered-At": triggeredAt
        },
        status: input.drop ? "dropped" : input.url === undefined ? "no-endpoint" : "pending",
        attempts: 0,
        lastStatusCode: undefined,
        lastError: undefined
      }
      this.#deliveries.push(delivery)
      out.push(delivery)
      if (delivery.status === "pending") this.#track(this.#deliver(delivery, 0))
    }
    return out
  }

  /** Resolves when no delivery is pending (including scheduled retries). */
  async idle(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight])
  }

  /** Stops retries and aborts in-flight requests. */
  async close(): Promise<void> {
    this.#closed = true
    for (const [t, resolve] of this.#timers) {
      clearTimeout(t)
      resolve()
    }
    this.#timers.clear()
    for (const c of this.#controllers) c.abort()
    await Promise.allSettled([...this.#inFlight])
  }

  #track(p: Promise<void>): void {
    this.#inFlight.add(p)
    void p.finally(() => this.#inFlight.delete(p))
  }

  async #deliver(delivery: WebhookDelivery, attempt: number): Promise<void> {
    if (this.#closed || delivery.url === undefined) return
    delivery.attempts++
    const controller = new AbortController()
    this.#controllers.add(controller)
    const timer = setTimeout(() => controller.abort(new Error("webhook delivery timed out")), this.#options.timeoutMs ?? 5000)
    try {
      const response = await fetch(delivery.url, {
        method: "POST",
        headers: delivery.headers,
        body: delivery.body,
        signal: controller.signal
      })
      delivery.lastStatusCode = response.status
      await response.body?.cancel().catch(() => undefined)
      if (response.ok) {
        delivery.status = "delivered"
        return
      }
      delivery.lastError = `HTTP ${response.status}`
    } catch (error) {
      delivery.lastError = error instanceof Error ? error.message : String(error)
    } finally {
      clearTimeout(timer)
      this.#controllers.delete(controller)
    }
    const delays = this.#options.retryDelaysMs ?? [100, 1000, 5000]
    const delay = delays[attempt]
    if (delay === undefined || this.#closed) {
      delivery.status = "failed"
      return
    }
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        this.#timers.delete(t)
        resolve()
      }, delay)
      this.#timers.set(t, resolve)
    })
    if (this.#closed) {
      delivery.status = "failed"
      return
    }
    await this.#deliver(delivery, attempt + 1)
  }
}
