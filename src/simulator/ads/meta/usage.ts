/**
 * Meta's Business Use Case (BUC) rate limits, per ad account and use case (`ads_management`
 * for reading and changing objects, `ads_insights` for reports): a sliding window of the
 * account's calls, each scored (a read 1, a write 3, as Meta's "Rate Limiting" page puts it)
 * together with the CPU and wall time it took. Usage is reported as percentages of the
 * window's capacity in `X-Business-Use-Case-Usage`; once any of them is at or past 100 % the
 * account's calls of that use case fail (codes 80004 / 80000) until the window has drained
 * (and at least `blockMs` has passed), which the header announces as
 * `estimated_time_to_regain_access` in minutes. Everything reads the injected clock.
 */
import type { Clock } from "../../kit/SimulatedClock.ts"

export const BUC_TYPES = ["ads_management", "ads_insights"] as const
export type BucType = typeof BUC_TYPES[number]

/** Shape of one use case's limit. */
export interface WindowLimits {
  /** Length of the sliding window (Meta: one hour). */
  readonly windowMs: number
  /** Score the window holds before the use case is throttled. */
  readonly capacity: number
  /** Minimum time a throttled account stays blocked (Meta: 60 s or 300 s by tier); 0 = until drained. */
  readonly blockMs: number
  /** CPU time a call uses, as a share of its score (`total_cputime`). */
  readonly cpuPerPoint: number
  /** Wall time a call uses, as a share of its score (`total_time`). */
  readonly timePerPoint: number
}

/** One use case's entry in `X-Business-Use-Case-Usage`. */
export interface BucUsage {
  readonly type: BucType
  readonly call_count: number
  readonly total_cputime: number
  readonly total_time: number
  readonly estimated_time_to_regain_access: number
  readonly ads_api_access_tier: string
}

interface Call {
  readonly at: number
  readonly points: number
  readonly cpu: number
  readonly time: number
}

/** A use case's sliding window for one account. */
export class UsageWindow {
  readonly type: BucType
  limits: WindowLimits
  readonly #clock: Clock
  readonly #calls: Array<Call> = []
  /** No call of this use case is admitted before this time. */
  blockedUntil = 0
  /** Set by a test: the usage reported (and enforced) while blocked, e.g. 100. */
  #forcedPercent: number | undefined
  /** Whether any call ever used this window (the header lists used use cases only). */
  used = false

  constructor(type: BucType, limits: WindowLimits, clock: Clock) {
    this.type = type
    this.limits = limits
    this.#clock = clock
  }

  #prune(now: number): void {
    const horizon = now - this.limits.windowMs
    let drop = 0
    while (drop < this.#calls.length && (this.#calls[drop] as Call).at <= horizon) drop++
    if (drop > 0) this.#calls.splice(0, drop)
  }

  #totals(now: number): { readonly points: number; readonly cpu: number; readonly time: number } {
    this.#prune(now)
    let points = 0
    let cpu = 0
    let time = 0
    for (const c of this.#calls) {
      points += c.points
      cpu += c.cpu
      time += c.time
    }
    return { points, cpu, time }
  }

  #full(t: { readonly points: number; readonly cpu: number; readonly time: number }): boolean {
    const cap = this.limits.capacity
    return t.points >= cap || t.cpu >= cap || t.time >= cap
  }

  /** When the window, with no further calls, is below capacity again. */
  #drainedAt(now: number): number {
    const totals = { ...this.#totals(now) }
    let at = now
    for (const c of this.#calls) {
      if (!this.#full(totals)) break
      totals.points -= c.points
      totals.cpu -= c.cpu
      totals.time -= c.time
      at = c.at + this.limits.windowMs
    }
    return at
  }

  /** The score in the window at `now` (for app-wide figures). */
  points(now: number = this.#clock()): number {
    return this.#totals(now).points
  }

  /** Percentages and the time to regain access, as the header reports them at `now`. */
  usage(now: number = this.#clock(), tier = "development_access"): BucUsage {
    const t = this.#totals(now)
    const pct = (v: number) => Math.floor((v * 100) / this.limits.capacity + 1e-9)
    const blocked = this.blockedUntil > now
    if (!blocked) this.#forcedPercent = undefined
    const forced = blocked ? (this.#forcedPercent ?? 100) : 0
    return {
      type: this.type,
      call_count: Math.max(pct(t.points), forced),
      total_cputime: pct(t.cpu),
      total_time: pct(t.time),
      estimated_time_to_regain_access: blocked ? Math.ceil((this.blockedUntil - now) / 60_000) : 0,
      ads_api_access_tier: tier
    }
  }

  /**
   * Admits a call of `points` at `now` (and counts it), or refuses it: the use case is
   * blocked, or at/past 100 % — then it stays blocked until the window has drained and
   * `blockMs` has passed. Refused calls are not counted.
   */
  admit(points: number, now: number = this.#clock()): boolean {
    this.used = true
    if (this.blockedUntil > now) return false
    if (this.#full(this.#totals(now))) {
      this.blockedUntil = Math.max(this.#drainedAt(now), now + this.limits.blockMs)
      return false
    }
    this.#calls.push({ at: now, points, cpu: points * this.limits.cpuPerPoint, time: points * this.limits.timePerPoint })
    return true
  }

  /** Test control: the use case reads `percent` % and refuses calls for `ms` from now. */
  exhaust(ms: number, percent = 100, now: number = this.#clock()): void {
    this.used = true
    this.blockedUntil = Math.max(this.blockedUntil, now + ms)
    this.#forcedPercent = percent
  }

  /** Test control: forgets every call and any block. */
  reset(): void {
    this.#calls.length = 0
    this.blockedUntil = 0
    this.#forcedPercent = undefined
  }
}
