/**
 * The WhatsApp client's own pacing, so that the platform's limits are not what stops it:
 *
 * - **Throughput per business number**: a token bucket refilled at `ratePerSecond` (Meta's
 *   default is 80 messages/s per number) holding at most `burst` tokens. A burst below the
 *   platform's one-second allowance leaves room for requests that reach Meta closer together
 *   than they left here (network jitter): with the default half-second burst the platform's
 *   bucket has 40 messages of slack, so even the first wave arriving late does not trip 130429.
 * - **Pair rate per recipient**: at most one message per `intervalMs` to the same customer from
 *   the same number (what error 131056 enforces). The interval is counted from the previous
 *   send's *answer*, which Meta had received by then, so jitter can only lengthen the real gap.
 *   Sends to one recipient are serialised in call order (messages to a person keep their order).
 *
 * The decisions are pure functions of a reading of Effect's `Clock`; the waiting is
 * `Effect.sleep`, so tests may drive time with `TestClock`.
 */
import { Clock, Effect, Semaphore } from "effect"

export interface Bucket {
  readonly tokens: number
  /** When `tokens` was computed (Clock ms). */
  readonly at: number
}

/** The bucket at `now`: refilled at `ratePerSecond`, at most `capacity`. */
export const refill = (bucket: Bucket, now: number, ratePerSecond: number, capacity: number): Bucket =>
  now <= bucket.at ? bucket : { tokens: Math.min(capacity, bucket.tokens + ((now - bucket.at) * ratePerSecond) / 1000), at: now }

/** Takes one token at `now` (wait 0), or says how long until one is there (the bucket refilled so far). */
export const takeToken = (bucket: Bucket, now: number, ratePerSecond: number, capacity: number): readonly [Bucket, number] => {
  const current = refill(bucket, now, ratePerSecond, capacity)
  if (current.tokens >= 1) return [{ tokens: current.tokens - 1, at: current.at }, 0]
  return [current, Math.max(1, Math.ceil(((1 - current.tokens) * 1000) / ratePerSecond))]
}

/** How long to wait before the next send to a recipient whose last send was answered at `lastAnsweredAt`. */
export const pairWait = (lastAnsweredAt: number | undefined, now: number, intervalMs: number): number =>
  lastAnsweredAt === undefined ? 0 : Math.max(0, lastAnsweredAt + intervalMs - now)

/** Capped exponential backoff with "equal jitter": half fixed, half random (`random01` in [0, 1)). */
export const backoffDelay = (attempt: number, baseMs: number, maxMs: number, random01: number): number => {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1))
  return Math.round(ceiling / 2 + (ceiling / 2) * random01)
}

/** A token bucket; `acquire` waits (FIFO) for a token. */
export interface TokenBucket {
  readonly acquire: Effect.Effect<void>
}

/** A bucket that starts full. */
export const makeTokenBucket = (ratePerSecond: number, capacity: number): TokenBucket => {
  const size = Math.max(1, capacity)
  let bucket: Bucket | undefined
  const lock = Semaphore.makeUnsafe(1)
  const acquire = lock.withPermit(
    Effect.gen(function*() {
      for (;;) {
        const now = yield* Clock.currentTimeMillis
        const [next, wait] = takeToken(bucket ?? { tokens: size, at: now }, now, ratePerSecond, size)
        bucket = next
        if (wait === 0) return
        yield* Effect.sleep(wait)
      }
    })
  )
  return { acquire }
}

/** Token buckets by key (one per business number), created on first use. */
export const makeBuckets = (ratePerSecond: number, capacity: number) => {
  const buckets = new Map<string, TokenBucket>()
  return (key: string): TokenBucket => {
    let bucket = buckets.get(key)
    if (bucket === undefined) {
      bucket = makeTokenBucket(ratePerSecond, capacity)
      buckets.set(key, bucket)
    }
    return bucket
  }
}

interface Lane {
  readonly lock: Semaphore.Semaphore
  lastAnsweredAt: number | undefined
  users: number
}

/** Recipients beyond this many trigger a sweep of the ones idle for longer than the interval. */
const SWEEP_ABOVE = 1_000

/**
 * Per-recipient lanes. `exclusive(key, f)` runs `f` alone for `key` (in call order); `f` gets
 * `pace`, which waits out the interval since the lane's last answer before an attempt and
 * records the attempt's end as the new last answer (whatever its outcome).
 */
export const makeRecipientPacer = (intervalMs: number) => {
  const lanes = new Map<string, Lane>()

  const sweep = (now: number): void => {
    if (lanes.size <= SWEEP_ABOVE) return
    for (const [key, lane] of lanes) {
      if (lane.users === 0 && pairWait(lane.lastAnsweredAt, now, intervalMs) === 0) lanes.delete(key)
    }
  }

  const exclusive = <A, E, R>(
    key: string,
    f: (pace: <B, E2, R2>(attempt: Effect.Effect<B, E2, R2>) => Effect.Effect<B, E2, R2>) => Effect.Effect<A, E, R>
  ): Effect.Effect<A, E, R> =>
    Effect.suspend(() => {
      let lane = lanes.get(key)
      if (lane === undefined) {
        lane = { lock: Semaphore.makeUnsafe(1), lastAnsweredAt: undefined, users: 0 }
        lanes.set(key, lane)
      }
      const own = lane
      own.users++
      const pace = <B, E2, R2>(attempt: Effect.Effect<B, E2, R2>): Effect.Effect<B, E2, R2> =>
        Effect.gen(function*() {
          const wait = pairWait(own.lastAnsweredAt, yield* Clock.currentTimeMillis, intervalMs)
          if (wait > 0) yield* Effect.sleep(wait)
          return yield* attempt
        }).pipe(Effect.ensuring(Effect.flatMap(Clock.currentTimeMillis, (now) => Effect.sync(() => { own.lastAnsweredAt = now }))))
      return own.lock.withPermit(f(pace)).pipe(
        Effect.ensuring(Effect.flatMap(Clock.currentTimeMillis, (now) => Effect.sync(() => {
          own.users--
          sweep(now)
        })))
      )
    })

  return { exclusive, size: () => lanes.size }
}
