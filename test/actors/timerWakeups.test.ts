/**
 * When a stored timer wakes the runtime's timer loop (`src/actors/TimerWakeups.ts`): only when
 * it is due before the loop looks again anyway — so an action step's watchdog minutes away
 * costs no scan, while a timer due now is fired at once.
 */
import { assert, describe, it } from "@effect/vitest"
import { makeTimerWakeups } from "../../src/actors/TimerWakeups.ts"

const T0 = 1_800_000_000_000

describe("TimerWakeups", () => {
  it("before the loop's first scan, every timer wakes it", () => {
    const w = makeTimerWakeups(1000)
    assert.isTrue(w.wakesFor(T0 + 600_000))
  })

  it("while a scan runs, a timer due before the scan's latest end wakes the loop; one due after it does not", () => {
    const w = makeTimerWakeups(1000)
    const latest = w.scanStarted(T0)
    assert.strictEqual(latest, T0 + 1000)
    assert.isTrue(w.wakesFor(T0))
    assert.isTrue(w.wakesFor(T0 + 999))
    assert.isFalse(w.wakesFor(T0 + 1000))
    assert.isFalse(w.wakesFor(T0 + 180_000))
  })

  it("a scan that found a timer due soon sleeps until it, and only timers due sooner wake the loop", () => {
    const w = makeTimerWakeups(1000)
    w.scanStarted(T0)
    assert.strictEqual(w.sleepFor(T0 + 5, 200), 200)
    assert.isTrue(w.wakesFor(T0 + 204))
    assert.isFalse(w.wakesFor(T0 + 205))
  })

  it("a scan that found nothing (or nothing within the longest sleep) looks again by its latest end, counted from when it began", () => {
    const w = makeTimerWakeups(1000)
    w.scanStarted(T0)
    // the scan's queries took 30 ms: it sleeps what is left of the second
    assert.strictEqual(w.sleepFor(T0 + 30, null), 970)
    assert.isTrue(w.wakesFor(T0 + 999))
    assert.isFalse(w.wakesFor(T0 + 1000))
    w.scanStarted(T0 + 1000)
    assert.strictEqual(w.sleepFor(T0 + 1010, 60_000), 990)
  })

  it("a timer due in a moment is slept for briefly, not spun on; a scan that overran its second does not sleep", () => {
    const w = makeTimerWakeups(1000)
    w.scanStarted(T0)
    assert.strictEqual(w.sleepFor(T0, 0), 10)
    w.scanStarted(T0)
    assert.strictEqual(w.sleepFor(T0 + 1500, null), 0)
  })
})
