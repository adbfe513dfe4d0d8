/**
 * The arithmetic the intelligence plane's detectors share: a mean, a sample standard deviation,
 * a Z-score that refuses to divide by nothing, and calendar days as `YYYY-MM-DD` strings.
 *
 * Days are counted with integer civil-calendar arithmetic (days since 1970-01-01, proleptic
 * Gregorian), never through `Date`: no local time zone, no DST hour, no `new Date("2026-03-29")`
 * parsed as UTC in one place and local time in another. Every function is total: a malformed
 * day or a non-finite number gives `null` (or nothing), never `NaN`, `Infinity` or a throw.
 */

/** True when every value is a finite number (a NaN or an infinity poisons any statistic). */
const allFinite = (xs: ReadonlyArray<number>): boolean => xs.every((x) => Number.isFinite(x))

/**
 * The arithmetic mean, or `null` for no values or any non-finite value — a detector must never
 * compare against `NaN`, so the absence of a baseline is said in the type.
 */
export const mean = (xs: ReadonlyArray<number>): number | null => {
  if (xs.length === 0 || !allFinite(xs)) return null
  let sum = 0
  for (const x of xs) sum += x
  const m = sum / xs.length
  return Number.isFinite(m) ? m : null
}

/**
 * The sample standard deviation (divisor n − 1, the unbiased variance of a baseline that is a
 * sample of the metric's behaviour), or `null` below two values or with a non-finite one.
 * Identical values give exactly 0 (not the 1e-17 that float rounding of the mean would leave),
 * so a flat baseline is recognisably flat. Two passes (mean, then squared deviations) keep it
 * accurate for large values with small spread, where Σx² − n·mean² cancels catastrophically.
 */
export const sampleStd = (xs: ReadonlyArray<number>): number | null => {
  if (xs.length < 2 || !allFinite(xs)) return null
  if (xs.every((x) => x === xs[0])) return 0
  const m = mean(xs)
  if (m === null) return null
  let ss = 0
  for (const x of xs) ss += (x - m) * (x - m)
  const s = Math.sqrt(ss / (xs.length - 1))
  return Number.isFinite(s) ? s : null
}

/**
 * How many baseline standard deviations `value` lies from the baseline's mean, or `null` when it
 * cannot be said: fewer than two baseline points (no spread to measure), a non-finite input, or a
 * baseline without spread (std 0, or within float noise of 0 relative to its mean). A flat
 * baseline gives `null` rather than ±Infinity on purpose: "100 every day, today 101" is not an
 * infinitely unusual day, and an infinity would pass every `|z| ≥ k` test, fail the triggers'
 * `Schema.Finite` payloads and poison any average it entered.
 */
export const zScore = (value: number, baseline: ReadonlyArray<number>): number | null => {
  if (!Number.isFinite(value)) return null
  const m = mean(baseline)
  const s = sampleStd(baseline)
  if (m === null || s === null) return null
  if (s === 0 || s <= Math.abs(m) * 1e-12) return null
  const z = (value - m) / s
  return Number.isFinite(z) ? z : null
}

// --- days ----------------------------------------------------------------------------------

/** An inclusive range of days, `YYYY-MM-DD` both (the triggers' `window` field). */
export interface DateWindow {
  readonly from: string
  readonly to: string
}

const DAY = /^(\d{4})-(\d{2})-(\d{2})$/

/** Days since 1970-01-01 of a civil date (Hinnant's `days_from_civil`; exact for any year). */
const daysFromCivil = (year: number, month: number, day: number): number => {
  const y = month <= 2 ? year - 1 : year
  const era = Math.floor(y / 400)
  const yoe = y - era * 400
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy
  return era * 146097 + doe - 719468
}

/** The civil date of a day number (Hinnant's `civil_from_days`). */
const civilFromDays = (n: number): readonly [number, number, number] => {
  const z = n + 719468
  const era = Math.floor(z / 146097)
  const doe = z - era * 146097
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365)
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100))
  const mp = Math.floor((5 * doy + 2) / 153)
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1
  const month = mp < 10 ? mp + 3 : mp - 9
  return [month <= 2 ? yoe + era * 400 + 1 : yoe + era * 400, month, day]
}

/** The first and last day numbers a `YYYY-MM-DD` string can spell (years 0000–9999). */
const MIN_DAY = daysFromCivil(0, 1, 1)
const MAX_DAY = daysFromCivil(9999, 12, 31)

/**
 * Days since 1970-01-01 of a `YYYY-MM-DD` string, or `null` unless it is a real calendar day
 * (`2026-02-29` and `2026-13-01` are not). The one parser every detector filters rows through.
 */
export const dayNumber = (day: string): number | null => {
  const m = DAY.exec(day)
  if (m === null) return null
  const y = Number(m[1])
  const mo = Number(m[2])
  const d = Number(m[3])
  if (mo < 1 || mo > 12 || d < 1 || d > 31) return null
  const n = daysFromCivil(y, mo, d)
  const [y2, mo2, d2] = civilFromDays(n)
  return y2 === y && mo2 === mo && d2 === d ? n : null
}

/** True for a real calendar day written `YYYY-MM-DD`. */
export const isIsoDay = (day: string): boolean => dayNumber(day) !== null

/** The `YYYY-MM-DD` string of a day number, or `null` for a non-integer or a year outside 0000–9999. */
export const fromDayNumber = (n: number): string | null => {
  if (!Number.isSafeInteger(n) || n < MIN_DAY || n > MAX_DAY) return null
  const [y, m, d] = civilFromDays(n)
  return `${String(y).padStart(4, "0")}-${String(m).padStart(2, "0")}-${String(d).padStart(2, "0")}`
}

/**
 * The day `days` after `day` (before, when negative), or `null` for a malformed day, a
 * non-integer count or a result outside years 0000–9999. Month and year ends and leap days are
 * exact; there is no time of day to shift.
 */
export const addDays = (day: string, days: number): string | null => {
  const n = dayNumber(day)
  return n === null || !Number.isSafeInteger(days) ? null : fromDayNumber(n + days)
}

/** `to − from` in days (negative when `to` is earlier), or `null` when either is malformed. */
export const daysBetween = (from: string, to: string): number | null => {
  const a = dayNumber(from)
  const b = dayNumber(to)
  return a === null || b === null ? null : b - a
}

/**
 * Every day from `from` to `to`, both included, in order; empty when either is malformed or
 * `from` is after `to`.
 */
export const dateRange = (from: string, to: string): ReadonlyArray<string> => {
  const a = dayNumber(from)
  const b = dayNumber(to)
  if (a === null || b === null || a > b) return []
  const out: Array<string> = []
  for (let n = a; n <= b; n++) out.push(fromDayNumber(n)!)
  return out
}

/**
 * The `days`-day window ending on `to` (inclusive: `to − days + 1 … to`), or `null` for a
 * malformed day or a count below one. `windowEnding("2026-03-14", 14)` is March 1st to 14th.
 */
export const windowEnding = (to: string, days: number): DateWindow | null => {
  if (!Number.isSafeInteger(days) || days < 1) return null
  const from = addDays(to, -(days - 1))
  return from === null ? null : { from, to }
}

/**
 * A window as inclusive day numbers, or `null` when malformed or empty (`from` after `to`) —
 * detectors treat such a window as one that contains no rows.
 */
export const windowDays = (window: DateWindow): readonly [number, number] | null => {
  const a = dayNumber(window.from)
  const b = dayNumber(window.to)
  return a === null || b === null || a > b ? null : [a, b]
}
