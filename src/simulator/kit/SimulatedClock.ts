/**
 * The simulator's notion of "now". Everything time-dependent in a simulator (rate-limit
 * windows, token buckets, timestamps in answers, URL expiry, 24-hour messaging windows)
 * reads `clock.now()`, so a test can freeze time, jump it forward and get the same answers
 * on every run instead of sleeping. By default the clock follows real time.
 */

/** A time source: milliseconds since the epoch. */
export type Clock = () => number

/** The wall clock. */
export const systemClock: Clock = () => Date.now()

/** 2026-07-15T12:00:00Z: where a fixed clock starts unless told otherwise. */
export const DEFAULT_FIXED_TIME = Date.UTC(2026, 6, 15, 12, 0, 0)

/**
 * A clock tests can fix or advance. Its functions are bound (they can be passed around
 * detached, e.g. `{ clock: sim.clock.now }`).
 */
export interface SimulatedClock {
  /** Current time (ms since the epoch). */
  readonly now: Clock
  /** Whether time is frozen (true) or flowing with the wall clock (false). */
  readonly isFixed: () => boolean
  /** Freezes time at `at` (default: the current reading). */
  readonly fix: (at?: number) => void
  /** Lets time flow again from the current reading. */
  readonly resume: () => void
  /** Moves time forward by `ms` (a flowing clock keeps flowing from there). */
  readonly advance: (ms: number) => void
  /** Jumps to `at` (may go backwards); keeps the clock fixed or flowing as it was. */
  readonly set: (at: number) => void
  /** `new Date(now())`. */
  readonly date: () => Date
}

/**
 * Creates a clock. Without `fixedAt` it follows real time (plus whatever `advance`/`set`
 * added); with `fixedAt` it stands still until advanced.
 */
export const makeClock = (options: { readonly fixedAt?: number } = {}): SimulatedClock => {
  let frozen: number | undefined = options.fixedAt
  let offset = 0
  const now = (): number => frozen ?? Date.now() + offset
  const set = (at: number): void => {
    if (frozen !== undefined) frozen = at
    else offset = at - Date.now()
  }
  return {
    now,
    isFixed: () => frozen !== undefined,
    fix: (at) => {
      frozen = at ?? now()
    },
    resume: () => {
      if (frozen === undefined) return
      offset = frozen - Date.now()
      frozen = undefined
    },
    advance: (ms) => set(now() + ms),
    set,
    date: () => new Date(now())
  }
}

/** A clock frozen at `at` (default 2026-07-15T12:00:00Z) that only moves when told to. */
export const fixedClock = (at: number = DEFAULT_FIXED_TIME): SimulatedClock => makeClock({ fixedAt: at })

/** A clock following real time that tests may still advance or freeze. */
export const realClock = (): SimulatedClock => makeClock()
