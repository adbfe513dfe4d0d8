/**
 * Time source for the simulator. Everything that depends on "now" (cost-bucket refill,
 * timestamps, URL expiry) reads it through a `Clock`, so tests can freeze and advance
 * time instead of sleeping.
 */
import { DEFAULT_FIXED_TIME, fixedClock, type Clock, type SimulatedClock } from "../kit/SimulatedClock.ts"

// The time source itself is the kit's (`src/simulator/kit/SimulatedClock.ts`).
export { systemClock, type Clock } from "../kit/SimulatedClock.ts"

/** A clock that only moves when told to (the kit's `SimulatedClock` fits this shape too). */
export interface ManualClock {
  /** The function to hand to the simulator as `clock`. */
  readonly now: Clock
  /** Moves time forward by `ms` milliseconds. */
  readonly advance: (ms: number) => void
  /** Jumps to an absolute time (ms since the epoch); may go backwards. */
  readonly set: (ms: number) => void
}

/** Creates a manual clock starting at `start` (default 2026-07-15T12:00:00Z): a fixed kit clock. */
export const manualClock = (start: number = DEFAULT_FIXED_TIME): SimulatedClock => fixedClock(start)

/** Shopify-style ISO timestamp without milliseconds: `2026-07-15T12:00:00Z`. */
export const isoSeconds = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z")

/** Nanosecond-precision ISO timestamp as in `X-Shopify-Triggered-At`. */
export const isoNanos = (ms: number): string => new Date(ms).toISOString().replace(/\.(\d{3})Z$/, ".$1000000Z")
