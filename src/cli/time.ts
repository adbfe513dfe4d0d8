/**
 * Timestamps on the command line: ISO-8601 only (`2025-12-27`, `2025-12-27T10:30:00Z`,
 * `2025-12-27T10:30:00.123+01:00`). Without an offset a time is UTC, never the machine's zone,
 * so the same command means the same thing on every machine. Anything else (including
 * impossible dates such as 2025-02-30) is rejected rather than guessed at.
 */
import { Option } from "effect"
import { Flag } from "effect/cli"

const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?(Z|[+-]\d{2}:?\d{2})?$/i

export const parseTimestamp = (input: string): Date | undefined => {
  const m = ISO.exec(input.trim())
  if (m === null) return undefined
  const [, y, mo, d, h = "0", mi = "0", s = "0", frac = "0", zone] = m
  if (zone !== undefined && m[4] === undefined) return undefined // an offset needs a time
  const year = Number(y), month = Number(mo), day = Number(d)
  const hour = Number(h), minute = Number(mi), second = Number(s)
  const millis = Number(frac.padEnd(3, "0").slice(0, 3))
  const local = new Date(Date.UTC(year, month - 1, day, hour, minute, second, millis))
  // Date.UTC rolls 2025-02-30 over to March: a round trip catches impossible fields.
  if (
    local.getUTCFullYear() !== year || local.getUTCMonth() !== month - 1 || local.getUTCDate() !== day ||
    local.getUTCHours() !== hour || local.getUTCMinutes() !== minute || local.getUTCSeconds() !== second
  ) return undefined
  if (zone === undefined || zone.toUpperCase() === "Z") return local
  const sign = zone.startsWith("-") ? -1 : 1
  const digits = zone.slice(1).replace(":", "")
  const offsetHours = Number(digits.slice(0, 2)), offsetMinutes = Number(digits.slice(2))
  if (offsetHours > 14 || offsetMinutes > 59) return undefined
  return new Date(local.getTime() - sign * (offsetHours * 60 + offsetMinutes) * 60_000)
}

/** A `--name <timestamp>` flag, validated at parse time. */
export const timestampFlag = (name: string): Flag.Flag<Date> =>
  Flag.String(name).pipe(
    Flag.withMetavar("timestamp"),
    Flag.filterMap(
      (s) => Option.fromNullishOr(parseTimestamp(s)),
      () => "an ISO-8601 timestamp such as 2025-12-27 or 2025-12-27T10:30:00Z"
    )
  )
