/**
 * Quiet hours in the shop's time zone (`domain/automation/QuietHours.ts`), across both DST
 * changes of two zones on either side of the Atlantic, as properties (fast-check) and at the
 * awkward instants by hand: a window ending in the hour a spring-forward skips ends when the
 * clock jumps; on a fall-back night the window ends at the first time the clock reads its end.
 */
import fc from "fast-check"
import { Result } from "effect"
import { describe, expect, it } from "vitest"
import { isQuiet, type QuietHours, quietUntil, validateQuietHours } from "../../domain/automation/QuietHours.ts"

const ZONES = ["Europe/Berlin", "America/New_York"] as const
/** 2026's DST changes of both zones (UTC instants). */
const CHANGES = [
  Date.parse("2026-03-08T07:00:00Z"), // New York springs forward (02:00 EST → 03:00 EDT)
  Date.parse("2026-03-29T01:00:00Z"), // Berlin springs forward (02:00 CET → 03:00 CEST)
  Date.parse("2026-10-25T01:00:00Z"), // Berlin falls back (03:00 CEST → 02:00 CET)
  Date.parse("2026-11-01T06:00:00Z") // New York falls back (02:00 EDT → 01:00 EST)
]
const HOUR = 3_600_000

const hhmm = fc.tuple(fc.integer({ min: 0, max: 23 }), fc.constantFrom(0, 15, 30, 45))
  .map(([h, m]) => `${String(h).padStart(2, "0")}:${String(m).padStart(2, "0")}`)
const window = fc.tuple(hhmm, hhmm).filter(([s, e]) => s !== e).map(([start, end]): QuietHours => ({ start, end }))
/** Instants within two days of a DST change, to the second. */
const nearChange = fc.tuple(fc.constantFrom(...CHANGES), fc.integer({ min: -48 * 3600, max: 48 * 3600 })).map(([c, s]) => c + s * 1000)

const wallMinutes = (instant: number, timeZone: string) => {
  const f = new Intl.DateTimeFormat("en-GB", { timeZone, hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).format(new Date(instant))
  const [h, m] = f.split(":").map(Number)
  return h! * 60 + m!
}
const minutes = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3))

describe("quiet hours", () => {
  for (const zone of ZONES) {
    it(`${zone}: a quiet instant waits until the window's end, after which it is not quiet; a loud one does not wait`, () => {
      fc.assert(fc.property(window, nearChange, (w, t) => {
        const until = quietUntil(t, w, zone)
        if (!isQuiet(t, w, zone)) return until === undefined
        if (until === undefined || until <= t) return false
        // at most a day of wall clock (plus the hour a fall-back repeats), or two when a spring-forward skipped the loud part
        if (until - t > 49 * HOUR) return false
        if (isQuiet(until, w, zone)) return false
        // quiet all the way there
        for (let k = 1; k < 8; k++) if (!isQuiet(t + Math.floor(((until - t) * k) / 8), w, zone)) return false
        // the clock reads the end then, or jumped over it (a spring-forward)
        const reads = wallMinutes(until, zone)
        const jumped = wallMinutes(until - 1000, zone) !== (reads + 1439) % 1440 && reads !== minutes(w.end)
        return reads === minutes(w.end) || jumped
      }), { numRuns: 2000 })
    })
  }

  it("Berlin, spring forward: a window ending at 02:30 (a time that night skips) ends when the clock jumps to 03:00", () => {
    const w = { start: "01:00", end: "02:30" }
    const at = Date.parse("2026-03-29T00:30:00Z") // 01:30 CET
    expect(isQuiet(at, w, "Europe/Berlin")).toBe(true)
    expect(new Date(quietUntil(at, w, "Europe/Berlin")!).toISOString()).toBe("2026-03-29T01:00:00.000Z")
  })

  it("New York, fall back: a window ending at 01:30 ends the first time the clock reads 01:30 (EDT)", () => {
    const w = { start: "22:00", end: "01:30" }
    const at = Date.parse("2026-11-01T03:00:00Z") // 23:00 EDT on Oct 31
    expect(new Date(quietUntil(at, w, "America/New_York")!).toISOString()).toBe("2026-11-01T05:30:00.000Z") // 01:30 EDT
  })

  it("New York, fall back: a window the clock leaves by going back (01:59 EDT → 01:00 EST) ends at that instant", () => {
    const w = { start: "01:30", end: "02:00" }
    const at = Date.parse("2026-11-01T05:59:59Z") // 01:59:59 EDT
    expect(new Date(quietUntil(at, w, "America/New_York")!).toISOString()).toBe("2026-11-01T06:00:00.000Z")
  })

  it("a window within a day, and one across midnight, on an ordinary day", () => {
    const day = { start: "12:00", end: "14:00" }
    expect(isQuiet(Date.parse("2026-07-01T11:00:00Z"), day, "Europe/Berlin")).toBe(true) // 13:00 CEST
    expect(isQuiet(Date.parse("2026-07-01T12:00:00Z"), day, "Europe/Berlin")).toBe(false) // 14:00: the end is not quiet
    const night = { start: "22:00", end: "08:00" }
    expect(new Date(quietUntil(Date.parse("2026-07-01T21:00:00Z"), night, "Europe/Berlin")!).toISOString()).toBe("2026-07-02T06:00:00.000Z")
    expect(quietUntil(Date.parse("2026-07-01T10:00:00Z"), night, "Europe/Berlin")).toBeUndefined()
  })

  it("refuses malformed windows and unknown zones, every problem at once", () => {
    const refused = validateQuietHours({ start: "25:00", end: "8am" }, "Mars/Olympus")
    expect(Result.isFailure(refused) && refused.failure).toEqual([
      "start must be HH:MM (24-hour), got \"25:00\"",
      "end must be HH:MM (24-hour), got \"8am\"",
      "\"Mars/Olympus\" is not an IANA time zone"
    ])
    const empty = validateQuietHours({ start: "08:00", end: "08:00" }, "Europe/Berlin")
    expect(Result.isFailure(empty) && empty.failure).toEqual(["start and end are the same time: the window would be empty"])
    expect(Result.isSuccess(validateQuietHours({ start: "22:00", end: "08:00" }, "America/New_York"))).toBe(true)
  })
})
