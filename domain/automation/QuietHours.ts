/**
 * Quiet hours: a daily window of the shop's wall clock (`{ start: "22:00", end: "08:00" }`, in
 * the shop's IANA time zone) when a rule's actions wait. An action that falls in the window is
 * deferred to its end, then re-checked. DST-correct: the window is about the wall clock, so on
 * the night the clocks change it is an hour shorter or longer in real time; an end that falls
 * into the hour a spring-forward skips is reached when the clock jumps past it.
 *
 * Pure (the time zone database is the runtime's `Intl`), so live dispatch and backtests agree.
 */
import { Result } from "effect"

export interface QuietHours {
  /** `HH:MM`, 24-hour wall clock. */
  readonly start: string
  readonly end: string
}

const HHMM = /^([01]\d|2[0-3]):([0-5]\d)$/

const minutesOf = (hhmm: string): number => {
  const m = HHMM.exec(hhmm)!
  return Number(m[1]) * 60 + Number(m[2])
}

/** Every problem with a window and its zone, or the window as given. */
export const validateQuietHours = (window: QuietHours, timeZone: string): Result.Result<QuietHours, ReadonlyArray<string>> => {
  const problems: Array<string> = []
  if (!HHMM.test(window.start)) problems.push(`start must be HH:MM (24-hour), got ${JSON.stringify(window.start)}`)
  if (!HHMM.test(window.end)) problems.push(`end must be HH:MM (24-hour), got ${JSON.stringify(window.end)}`)
  if (problems.length === 0 && window.start === window.end) problems.push("start and end are the same time: the window would be empty")
  if (!isTimeZone(timeZone)) problems.push(`${JSON.stringify(timeZone)} is not an IANA time zone`)
  return problems.length === 0 ? Result.succeed(window) : Result.fail(problems)
}

const formatters = new Map<string, Intl.DateTimeFormat>()
const formatterOf = (timeZone: string): Intl.DateTimeFormat => {
  let f = formatters.get(timeZone)
  if (f === undefined) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone,
      hourCycle: "h23",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      second: "numeric"
    })
    formatters.set(timeZone, f)
  }
  return f
}

const isTimeZone = (timeZone: string): boolean => {
  try {
    formatterOf(timeZone)
    return true
  } catch {
    return false
  }
}

/** The wall clock at `instant` in `timeZone`, as the epoch milliseconds of the same fields in UTC. */
export const wallClock = (instant: number, timeZone: string): number => {
  const parts = formatterOf(timeZone).formatToParts(new Date(instant))
  const get = (type: Intl.DateTimeFormatPartTypes) => Number(parts.find((p) => p.type === type)!.value)
  return Date.UTC(get("year"), get("month") - 1, get("day"), get("hour"), get("minute"), get("second")) + (instant % 1000 + 1000) % 1000
}

/** The zone's offset from UTC at `instant`, in milliseconds. */
export const offsetAt = (instant: number, timeZone: string): number => wallClock(instant, timeZone) - instant

const DAY = 86_400_000

/** Minutes since local midnight at `instant`. */
const localMinutes = (instant: number, timeZone: string): number => Math.floor(((wallClock(instant, timeZone) % DAY) + DAY) % DAY / 60_000)

/** Whether `instant` falls in the window (start inclusive, end exclusive; it may span midnight). */
export const isQuiet = (instant: number, window: QuietHours, timeZone: string): boolean => {
  const m = localMinutes(instant, timeZone)
  const s = minutesOf(window.start)
  const e = minutesOf(window.end)
  return s < e ? m >= s && m < e : m >= s || m < e
}

/**
 * The first instant after `after` at which the wall clock reads `wall` (epoch ms of the wall
 * fields in UTC), or, when that reading is skipped by a spring-forward, the instant the clock
 * jumps past it.
 */
const instantOfWall = (wall: number, after: number, timeZone: string): number | undefined => {
  // the offsets a day either side cover every zone's offset around `wall`
  const offsets = [...new Set([offsetAt(wall - DAY, timeZone), offsetAt(wall, timeZone), offsetAt(wall + DAY, timeZone)])]
  const exact = offsets.map((o) => wall - o).filter((t) => wallClock(t, timeZone) === wall && t > after).sort((a, b) => a - b)
  if (exact.length > 0) return exact[0]
  // skipped (a gap): between the two candidates the offset changes; find when, to the millisecond
  const candidates = offsets.map((o) => wall - o).sort((a, b) => a - b)
  let lo = candidates[0]!
  let hi = candidates[candidates.length - 1]!
  if (lo === hi) return undefined
  const before = offsetAt(lo, timeZone)
  while (hi - lo > 1) {
    const mid = lo + Math.floor((hi - lo) / 2)
    if (offsetAt(mid, timeZone) === before) lo = mid
    else hi = mid
  }
  return hi > after ? hi : undefined
}

/**
 * When the quiet window `instant` falls in ends (its next wall-clock `end`), or `undefined` when
 * `instant` is not quiet.
 */
export const quietUntil = (instant: number, window: QuietHours, timeZone: string): number | undefined => {
  if (!isQuiet(instant, window, timeZone)) return undefined
  const e = minutesOf(window.end) * 60_000
  const localMidnight = Math.floor(wallClock(instant, timeZone) / DAY) * DAY
  for (const day of [0, 1, 2, 3]) {
    const t = instantOfWall(localMidnight + day * DAY + e, instant, timeZone)
    // a spring-forward can skip the whole loud part of a near-day-long window: then the window
    // goes on until the next day's end
    if (t !== undefined && !isQuiet(t, window, timeZone)) return leftEarlier(instant, t, window, timeZone) ?? t
  }
  return undefined
}

/**
 * A fall-back between `from` and `to` can take the wall clock out of the window before it ever
 * reads the end (01:59 EDT → 01:00 EST leaves 01:30–02:00): the instant it does, if so.
 */
const leftEarlier = (from: number, to: number, window: QuietHours, timeZone: string): number | undefined => {
  if (offsetAt(from, timeZone) === offsetAt(to, timeZone)) return undefined
  let lo = from
  let hi = to
  const before = offsetAt(from, timeZone)
  while (hi - lo > 1) {
    const mid = lo + Math.floor((hi - lo) / 2)
    if (offsetAt(mid, timeZone) === before) lo = mid
    else hi = mid
  }
  return isQuiet(hi, window, timeZone) ? undefined : hi
}
