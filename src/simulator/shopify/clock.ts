/**
 * Time source for the simulator. Everything that depends on "now" (cost-bucket refill,
 * timestamps, URL expiry) reads it through a `Clock`, so tests can freeze and advance
 * time instead of sleeping.
 */
export type Clock = () => number

/** The wall clock (milliseconds since the epoch). */
export const systemClock: Clock = () => Date.now()

/** A clock that only moves when told to. */
export interface ManualClock {
  /** The function to hand to the simulator as `clock`. */
  readonly now: Clock
  /** Moves time forward by `ms` milliseconds. */
  advance(ms: number): void
  /** Jumps to an absolute time (ms since the epoch); may go backwards. */
  set(ms: number): void
}

/** Creates a manual clock starting at `start` (default 2026-07-15T12:00:00Z). */
export const manualClock = (start: number = Date.UTC(2026, 6, 15, 12, 0, 0)): ManualClock => {
  let current = start
  return {
    now: () => current,
    advance: (ms) => {
      current += ms
    },
    set: (ms) => {
      current = ms
    }
  }
}

/** Shopify-style ISO timestamp without milliseconds: `2026-07-15T12:00:00Z`. */
export const isoSeconds = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z")

/** Nanosecond-precision ISO timestamp as in `X-Shopify-Triggered-At`. */
export const isoNanos = (ms: number): string => new Date(ms).toISOString().replace(/\.(\d{3})Z$/, ".$1000000Z")
