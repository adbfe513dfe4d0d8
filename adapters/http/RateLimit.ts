/**
 * Per-key rate limiting for HTTP routes (admin API: 100 requests/min per shop; the pixel:
 * per-shop bursts). A token bucket per key: `capacity` requests at once, refilled evenly over
 * `perMs`, so a client that respects `Retry-After` is never starved and a burst cannot exceed
 * the capacity. In-process: each ingress instance limits on its own (documented trade-off;
 * a shared limiter would cost a database or NATS round trip per request).
 */
export interface RateLimitDecision {
  readonly allowed: boolean
  /** Tokens left after this request. */
  readonly remaining: number
  /** When refused: whole seconds until one token is back (the `Retry-After` value). */
  readonly retryAfterSeconds: number
}

export interface RateLimiterOptions {
  readonly capacity: number
  readonly perMs: number
  /** Milliseconds since the epoch (tests move time). */
  readonly now?: () => number
  /** Buckets kept before the idle ones are swept (memory bound). */
  readonly maxKeys?: number
}

interface Bucket {
  tokens: number
  at: number
}

export class RateLimiter {
  readonly #buckets = new Map<string, Bucket>()
  readonly #capacity: number
  readonly #ratePerMs: number
  readonly #now: () => number
  readonly #maxKeys: number

  constructor(options: RateLimiterOptions) {
    this.#capacity = options.capacity
    this.#ratePerMs = options.capacity / options.perMs
    this.#now = options.now ?? Date.now
    this.#maxKeys = options.maxKeys ?? 100_000
  }

  get capacity(): number {
    return this.#capacity
  }

  take(key: string): RateLimitDecision {
    const now = this.#now()
    let bucket = this.#buckets.get(key)
    if (bucket === undefined) {
      if (this.#buckets.size >= this.#maxKeys) this.#sweep(now)
      bucket = { tokens: this.#capacity, at: now }
      this.#buckets.set(key, bucket)
    } else {
      bucket.tokens = Math.min(this.#capacity, bucket.tokens + (now - bucket.at) * this.#ratePerMs)
      bucket.at = now
    }
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1
      return { allowed: true, remaining: Math.floor(bucket.tokens), retryAfterSeconds: 0 }
    }
    return { allowed: false, remaining: 0, retryAfterSeconds: Math.max(1, Math.ceil((1 - bucket.tokens) / this.#ratePerMs / 1000)) }
  }

  /** Drops buckets that have refilled completely (they are equivalent to no bucket). */
  #sweep(now: number): void {
    for (const [key, bucket] of this.#buckets) {
      if (bucket.tokens + (now - bucket.at) * this.#ratePerMs >= this.#capacity) this.#buckets.delete(key)
    }
  }
}
