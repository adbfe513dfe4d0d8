/**
 * Deterministic text helpers for the jobs domain.
 *
 * Nothing here depends on the machine locale, the clock or the platform: the
 * same input gives the same output on every node of the cluster, which is what
 * audit messages and idempotency keys need.
 */

/**
 * Number of bytes `s` takes when encoded as UTF-8, computed without
 * `TextEncoder`/`Buffer`. A lone surrogate counts as 3 bytes, as the WHATWG
 * encoder replaces it with U+FFFD.
 */
export const utf8ByteLength = (s: string): number => {
  let bytes = 0
  for (let i = 0; i < s.length; i++) {
    const unit = s.charCodeAt(i)
    if (unit < 0x80) bytes += 1
    else if (unit < 0x800) bytes += 2
    else if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < s.length) {
      const next = s.charCodeAt(i + 1)
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 4
        i++
      } else {
        bytes += 3
      }
    } else bytes += 3
  }
  return bytes
}

/**
 * Formats an integer with `,` as the thousands separator (`1520` → `"1,520"`,
 * `-1234567` → `"-1,234,567"`). Non-integers are rounded towards zero first;
 * this is for counts, never for money.
 */
export const formatCount = (n: number): string => {
  if (!Number.isFinite(n)) return String(n)
  const negative = n < 0
  const digits = String(Math.trunc(Math.abs(n)))
  let out = ""
  for (let i = 0; i < digits.length; i++) {
    if (i > 0 && (digits.length - i) % 3 === 0) out += ","
    out += digits[i]
  }
  return negative && out !== "0" ? `-${out}` : out
}

/** `n` followed by the singular or plural noun: `1 product`, `1,520 products`. */
export const plural = (n: number, singular: string, pluralForm = `${singular}s`): string =>
  `${formatCount(n)} ${n === 1 ? singular : pluralForm}`

const oneDecimal = (x: number): string => {
  const tenths = Math.round(x * 10)
  const whole = Math.trunc(tenths / 10)
  const frac = tenths % 10
  return frac === 0 ? formatCount(whole) : `${formatCount(whole)}.${frac}`
}

/** Binary byte sizes with one decimal: `512 B`, `1.5 KB`, `95 MB`, `1.2 GB`. */
export const formatBytes = (bytes: number): string => {
  if (bytes < 1024) return `${formatCount(bytes)} B`
  if (bytes < 1024 * 1024) return `${oneDecimal(bytes / 1024)} KB`
  if (bytes < 1024 * 1024 * 1024) return `${oneDecimal(bytes / (1024 * 1024))} MB`
  return `${oneDecimal(bytes / (1024 * 1024 * 1024))} GB`
}

/** Durations for humans: `750 ms`, `45 s`, `2 min`, `2 min 30 s`, `1 h 5 min`. */
export const formatDuration = (ms: number): string => {
  if (ms < 1000) return `${formatCount(ms)} ms`
  const totalSeconds = Math.round(ms / 1000)
  if (totalSeconds < 60) return `${totalSeconds} s`
  const totalMinutes = Math.floor(totalSeconds / 60)
  const seconds = totalSeconds % 60
  if (totalMinutes < 60) return seconds === 0 ? `${totalMinutes} min` : `${totalMinutes} min ${seconds} s`
  const hours = Math.floor(totalMinutes / 60)
  const minutes = totalMinutes % 60
  return minutes === 0 ? `${formatCount(hours)} h` : `${formatCount(hours)} h ${minutes} min`
}

/** The first 8 characters of an id followed by `…` (UUIDs read as `550e8400…`). */
export const shortId = (id: string): string => (id.length > 8 ? `${id.slice(0, 8)}…` : id)

/** Cuts `s` to at most `max` UTF-16 units, ending with `…` when it was cut. */
export const truncate = (s: string, max: number): string => (s.length > max ? `${s.slice(0, Math.max(0, max - 1))}…` : s)
