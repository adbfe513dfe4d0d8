/**
 * A token bucket for one ad account (issue 12 §2): `capacity` tokens, refilled continuously at
 * `refillPerSecond`; a request takes one (or `cost`) before it is sent. It caps how fast Sumeru
 * calls a platform for an account whatever the platform says, and `holdUntil` lets a client feed
 * the platform's own throttling signal into it (Google's `RESOURCE_TEMPORARILY_EXHAUSTED` retry
 * delay, Meta's `estimated_time_to_regain_access`, TikTok's `40100`): nothing leaves until then.
 *
 * Time comes from Effect's `Clock` (`Effect.sleep`, `Clock.currentTimeMillis`), so tests drive it
 * with `TestClock` or a virtual clock. Takers are served first come, first served: one waits at a
 * time, and a later taker never overtakes an earlier one.
 */
import { Clock, Effect, Semaphore } from "effect"

export interface TokenBucketOptions {
  /** Most tokens the bucket holds (the largest burst). */
  readonly capacity: number
  /** Tokens added per second. */
  readonly refillPerSecond: number
}

export interface TokenBucketState {
  readonly tokens: number
  /** Clock millis the tokens were counted at (undefined before the first take). */
  readonly countedAt: number | undefined
  /** No refill and no take before this time (Clock millis). */
  readonly heldUntil: number
}

/** A bucket as it starts: full, not yet counted (its clock starts at the first take). */
export const fullBucket = (options: TokenBucketOptions): TokenBucketState => ({ tokens: options.capacity, countedAt: undefined, heldUntil: 0 })

/** The bucket at `now`: refilled since it was last counted, never during a hold, capped at capacity. */
export const refill = (state: TokenBucketState, options: TokenBucketOptions, now: number): TokenBucketState => {
  if (state.countedAt === undefined) return { ...state, countedAt: now }
  const from = Math.max(state.countedAt, state.heldUntil)
  const tokens = now > from ? Math.min(options.capacity, state.tokens + ((now - from) / 1000) * options.refillPerSecond) : state.tokens
  return { ...state, tokens, countedAt: Math.max(now, state.countedAt) }
}

/**
 * How long to wait before `cost` tokens can be taken at `now` (0: take them now). A cost above
 * the capacity is capped to it (the bucket can never hold more).
 */
export const waitToTake = (state: TokenBucketState, options: TokenBucketOptions, cost: number, now: number): number => {
  if (now < state.heldUntil) return state.heldUntil - now
  const needed = Math.min(cost, options.capacity)
  const available = refill(state, options, now).tokens
  if (available >= needed) return 0
  if (options.refillPerSecond <= 0) return 1000
  return Math.max(1, Math.ceil(((needed - available) / options.refillPerSecond) * 1000))
}

export interface TokenBucket {
  /** Waits until `cost` tokens (default 1) are there, then takes them. */
  readonly take: (cost?: number) => Effect.Effect<void>
  /** Empties the bucket and stops it refilling until `at` (Clock millis): the platform said wait. */
  readonly holdUntil: (at: number) => Effect.Effect<void>
  /** The bucket as it is now (refilled to the current time). */
  readonly state: Effect.Effect<TokenBucketState>
}

/** One bucket, full at first. */
export const makeTokenBucket = (options: TokenBucketOptions): TokenBucket => {
  let state = fullBucket(options)
  const lock = Semaphore.makeUnsafe(1)

  const take = (cost = 1): Effect.Effect<void> =>
    lock.withPermit(
      Effect.gen(function*() {
        for (;;) {
          const now = yield* Clock.currentTimeMillis
          const wait = waitToTake(state, options, cost, now)
          if (wait === 0) {
            const current = refill(state, options, now)
            state = { ...current, tokens: current.tokens - Math.min(cost, options.capacity) }
            return
          }
          yield* Effect.sleep(wait)
        }
      })
    )

  const holdUntil = (at: number): Effect.Effect<void> =>
    Effect.flatMap(Clock.currentTimeMillis, (now) =>
      Effect.sync(() => {
        const current = refill(state, options, now)
        state = { ...current, tokens: 0, heldUntil: Math.max(current.heldUntil, at) }
      })
    )

  const current = Effect.flatMap(Clock.currentTimeMillis, (now) => Effect.sync(() => refill(state, options, now)))

  return { take, holdUntil, state: current }
}

/** Buckets by key (one per ad account), created full on first use. */
export interface TokenBuckets {
  readonly forKey: (key: string) => TokenBucket
}

/** Buckets by key with the same options; each is created full on first use and lives as long as the map. */
export const makeTokenBuckets = (options: TokenBucketOptions): TokenBuckets => {
  const buckets = new Map<string, TokenBucket>()
  return {
    forKey: (key) => {
      let bucket = buckets.get(key)
      if (bucket === undefined) {
        bucket = makeTokenBucket(options)
        buckets.set(key, bucket)
      }
      return bucket
    }
  }
}
