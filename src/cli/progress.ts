/**
 * A progress line (effect/cli has no progress bar): events done / total, events per second
 * and ETA. On a terminal that can animate it redraws one line in place; otherwise (pipes,
 * logs, CI) it prints a plain line now and then, so logs stay readable.
 */
import { Effect } from "effect"
import { TerminalCapabilities } from "effect/cli"
import { writeStdout } from "./output.ts"

export const formatCount = (n: number): string => Math.round(n).toLocaleString("en-US")

export const formatDuration = (seconds: number): string => {
  if (!Number.isFinite(seconds)) return "?"
  if (seconds < 10) return `${Math.max(0, seconds).toFixed(1)}s`
  const s = Math.round(seconds)
  if (s < 60) return `${s}s`
  const m = Math.floor(s / 60)
  if (m < 60) return `${m}m${String(s % 60).padStart(2, "0")}s`
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, "0")}m`
}

export interface ProgressSample {
  readonly done: number
  readonly total: number
  /** Events per second over the recent window; null until it can be measured. */
  readonly rate: number | null
}

const BAR_WIDTH = 24

/** `[#########·······]  38%  4,560/12,000 events  1,830 ev/s  ETA 4s` */
export const renderProgress = (label: string, p: ProgressSample): string => {
  const total = Math.max(p.total, p.done)
  const fraction = total === 0 ? 1 : p.done / total
  const filled = Math.min(BAR_WIDTH, Math.floor(fraction * BAR_WIDTH))
  const bar = `[${"#".repeat(filled)}${"·".repeat(BAR_WIDTH - filled)}]`
  const pct = `${Math.floor(fraction * 100)}%`.padStart(4)
  const rate = p.rate === null ? "… ev/s" : `${formatCount(p.rate)} ev/s`
  const eta = p.rate === null || p.rate <= 0
    ? (total - p.done <= 0 ? "ETA 0s" : "ETA ?")
    : `ETA ${formatDuration((total - p.done) / p.rate)}`
  return `${label} ${bar} ${pct}  ${formatCount(p.done)}/${formatCount(total)} events  ${rate}  ${eta}`
}

/** Events per second over a sliding window of samples. */
export const makeRateMeter = (windowMs = 5_000) => {
  const samples: Array<{ readonly at: number; readonly done: number }> = []
  return (at: number, done: number): number | null => {
    samples.push({ at, done })
    while (samples.length > 2 && at - samples[0]!.at > windowMs) samples.shift()
    const first = samples[0]!
    const elapsed = (at - first.at) / 1000
    return elapsed < 0.2 ? null : (done - first.done) / elapsed
  }
}

export interface ProgressLine {
  /** Shows the latest state (rate-limited: redraws at most every 100 ms, plain lines every 2 s). */
  readonly update: (line: string) => Effect.Effect<void>
  /** Prints the final line and moves past the progress line. */
  readonly finish: (line: string) => Effect.Effect<void>
}

const write = (text: string) => writeStdout(text).pipe(Effect.catchTag("BrokenPipe", () => Effect.void))

/** A redrawn line must not wrap, or `\r` would only clear its last row. */
const fitTerminal = (line: string): string => {
  const columns = process.stdout.columns
  return columns !== undefined && columns > 1 && line.length >= columns ? `${line.slice(0, columns - 2)}…` : line
}

export const makeProgressLine: Effect.Effect<ProgressLine> = Effect.gen(function*() {
  const { canAnimate } = yield* TerminalCapabilities.TerminalCapabilities
  let lastAt = 0
  let drawn = false
  let lastLine = ""
  const interval = canAnimate ? 100 : 2_000
  return {
    update: (line) =>
      Effect.suspend(() => {
        const now = Date.now() // pacing only: Clock would not make this more testable
        if (line === lastLine || (drawn && now - lastAt < interval)) return Effect.void
        lastAt = now
        lastLine = line
        drawn = true
        return write(canAnimate ? `\r\x1b[2K${fitTerminal(line)}` : `${line}\n`)
      }),
    finish: (line) =>
      Effect.suspend(() => write(canAnimate ? `\r\x1b[2K${line}\n` : `${line}\n`))
  }
})
