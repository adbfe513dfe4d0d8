/**
 * Client-side model of Shopify's per-shop cost bucket (leaky bucket: `maximumAvailable`
 * points, refilled at `restoreRate` points/second; a request needs `requestedQueryCost`
 * points up front). Pure functions decide how long to wait; `makeCostThrottle` applies
 * them with Effect's `Clock`, so tests drive time with `TestClock` or a virtual clock.
 */
import { Clock, Deferred, Effect, Exit, Semaphore } from "effect"

export interface ThrottleStatus {
  readonly maximumAvailable: number
  readonly currentlyAvailable: number
  readonly restoreRate: number
}

/** What we know about a shop's bucket. */
export interface BucketModel {
  /** Last `throttleStatus` Shopify reported, or undefined before the first response. */
  readonly status: ThrottleStatus | undefined
  /** When `status` was observed (Clock millis). */
  readonly observedAt: number
  /** Send order of the request `status` came from: an answer to an older request is stale. */
  readonly statusSeq: number
  /** Send order of the last reservation. */
  readonly lastSeq: number
  /** Points reserved by requests sent but not answered yet (their cost is not in `status` for sure). */
  readonly inFlight: number
}

export const emptyBucket: BucketModel = { status: undefined, observedAt: 0, statusSeq: 0, lastSeq: 0, inFlight: 0 }

/** A reservation: which request (send order) holds how many points. */
export interface Ticket {
  readonly seq: number
  readonly points: number
}

/** Points we may spend at `now`: the refilled level (capped) minus in-flight reservations. */
export const availablePoints = (model: BucketModel, now: number): number | undefined => {
  const s = model.status
  if (s === undefined) return undefined
  const refilled = Math.min(s.maximumAvailable, s.currentlyAvailable + (Math.max(0, now - model.observedAt) / 1000) * s.restoreRate)
  return refilled - model.inFlight
}

/**
 * How long to wait before sending a request estimated at `cost` points:
 * - `0`: send now;
 * - a positive number of milliseconds: the time the bucket needs to refill enough;
 * - `"await-settle"`: only answers can help: nothing is known yet and a probe is in flight,
 *   or the bucket, even full, cannot cover the in-flight reservations plus this request.
 * A cost above the bucket size is capped to it (it can never be more available than that).
 */
export const waitBeforeSending = (model: BucketModel, cost: number, now: number): number | "await-settle" => {
  const s = model.status
  if (s === undefined) return model.inFlight > 0 ? "await-settle" : 0
  const needed = Math.min(cost, s.maximumAvailable)
  const available = availablePoints(model, now) as number
  if (available >= needed) return 0
  if (s.maximumAvailable - model.inFlight < needed) return "await-settle"
  if (s.restoreRate <= 0) return 1000
  return Math.max(1, Math.ceil(((needed - available) / s.restoreRate) * 1000))
}

/** Reserves `points` for a request being sent. */
export const reserve = (model: BucketModel, points: number): readonly [BucketModel, Ticket] => {
  const seq = model.lastSeq + 1
  return [{ ...model, lastSeq: seq, inFlight: model.inFlight + points }, { seq, points }]
}

/**
 * A request finished: its reservation goes, and Shopify's `throttleStatus` (if any) becomes
 * the truth, unless a request sent later already reported one (responses overtake each
 * other; an older snapshot would miss charges we know about).
 */
export const settle = (model: BucketModel, ticket: Ticket, status: ThrottleStatus | undefined, now: number): BucketModel => {
  const fresh = status !== undefined && ticket.seq > model.statusSeq
  return {
    ...model,
    status: fresh ? status : model.status,
    observedAt: fresh ? now : model.observedAt,
    statusSeq: fresh ? ticket.seq : model.statusSeq,
    inFlight: Math.max(0, model.inFlight - ticket.points)
  }
}

/** Per-shop throttle: `acquire` before a request, `settle` after it (always). */
export interface CostThrottle {
  /**
   * Waits until `cost` points should be available, then reserves them; resolves to the
   * amount reserved. `cost` may be a function, read once the shop's turn has come (so a
   * cost learnt from an answer that arrived meanwhile is used).
   */
  readonly acquire: (cost: number | (() => number)) => Effect.Effect<Ticket>
  /** Releases a reservation made by `acquire` and records the answer's `status`. */
  readonly settle: (ticket: Ticket, status: ThrottleStatus | undefined) => Effect.Effect<void>
  readonly model: Effect.Effect<BucketModel>
}

/**
 * Acquisitions are serialised per shop (FIFO on a one-permit semaphore held only while
 * waiting, never during the HTTP call), so waits never overlap and requests leave in order.
 * Every unanswered request's reservation is subtracted from what Shopify last reported. That
 * is conservative when requests overlap (one Shopify already charged may be counted again),
 * never optimistic, so we alone never trigger THROTTLED; the price is some extra waiting when
 * the bucket is nearly empty and many requests are in flight.
 */
export const makeCostThrottle = (): CostThrottle => {
  let model = emptyBucket
  let changed = Deferred.makeUnsafe<void>()
  const lock = Semaphore.makeUnsafe(1)

  const acquire = (costOf: number | (() => number)) =>
    lock.withPermit(
      Effect.gen(function*() {
        for (;;) {
          const cost = typeof costOf === "number" ? costOf : costOf()
          const now = yield* Clock.currentTimeMillis
          const wait = waitBeforeSending(model, cost, now)
          if (wait === 0) {
            const [next, ticket] = reserve(model, model.status === undefined ? cost : Math.min(cost, model.status.maximumAvailable))
            model = next
            return ticket
          }
          if (wait === "await-settle") yield* Deferred.await(changed)
          else yield* Effect.sleep(wait)
        }
      })
    )

  const settleNow = (ticket: Ticket, status: ThrottleStatus | undefined) =>
    Effect.flatMap(Clock.currentTimeMillis, (now) =>
      Effect.sync(() => {
        model = settle(model, ticket, status, now)
        const waiters = changed
        changed = Deferred.makeUnsafe<void>()
        Deferred.doneUnsafe(waiters, Exit.void)
      })
    )

  return { acquire, settle: settleNow, model: Effect.sync(() => model) }
}

/** Capped exponential backoff with "equal jitter": half fixed, half random (`random01` in [0, 1)). */
export const backoffDelay = (attempt: number, baseMs: number, maxMs: number, random01: number): number => {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1))
  return Math.round(ceiling / 2 + (ceiling / 2) * random01)
}
