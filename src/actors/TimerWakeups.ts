/**
 * When the runtime's timer loop (`ShopActorRuntime.ts`) looks for due timers next, and whether
 * a timer a commit has just stored must wake it sooner. Most stored timers are an action
 * step's watchdog, minutes away: waking the loop for each cost two queries per step the
 * decision plane started, for nothing the next scan would not find anyway.
 *
 * The rule: a scan looks again by `maxSleepMs` after it began at the latest, sooner when the
 * next due timer it read is sooner. A new timer wakes the loop only when it is due before
 * that. While a scan runs (its next due time not read yet), anything due before the scan's
 * latest end wakes it, since the scan may have read past the new timer.
 */
export interface TimerWakeups {
  /** A scan begins at `now`; returns the latest time it looks again. */
  readonly scanStarted: (now: number) => number
  /** The scan read the next due timer (ms from now, null when none): how long it sleeps. */
  readonly sleepFor: (now: number, nextDueInMs: number | null) => number
  /** A timer due at `at` (epoch ms) was stored: does the loop have to wake for it? */
  readonly wakesFor: (at: number) => boolean
}

/** The shortest sleep: a timer due in a moment is fired with the ones due just after it. */
const MIN_SLEEP_MS = 10

export const makeTimerWakeups = (maxSleepMs: number): TimerWakeups => {
  /** When the loop looks again at the latest (epoch ms); before its first scan, every timer wakes it. */
  let scanBy = Number.POSITIVE_INFINITY
  return {
    scanStarted: (now) => {
      scanBy = now + maxSleepMs
      return scanBy
    },
    // scanBy holds the scan's latest end until the scan has read the next due time
    sleepFor: (now, nextDueInMs) => {
      scanBy = Math.min(scanBy, now + Math.max(MIN_SLEEP_MS, nextDueInMs ?? maxSleepMs))
      return Math.max(0, scanBy - now)
    },
    wakesFor: (at) => at < scanBy
  }
}
