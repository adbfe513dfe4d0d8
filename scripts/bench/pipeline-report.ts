/**
 * `bench:pipeline` result rows, the printed table, and the /proc readings behind the CPU
 * and memory columns.
 */
import { readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"

export interface PipelineRow {
  readonly backend: string
  readonly scenario: string
  /** "target": p95 goal of the target scenario; "ramp": sustained limit; "none": informational. */
  readonly kind: "target" | "ramp" | "none"
  readonly offered: number | null
  readonly sent: number
  readonly committed: number
  readonly achieved: number
  /** Publish-to-commit latency percentiles (ms); Infinity = not committed within the drain limit. */
  readonly p50: number
  readonly p95: number
  readonly p99: number
  readonly max: number
  /** Publish call → publish ack (ms), p99. */
  readonly publishP99: number
  readonly nodeCores: number
  readonly pgCores: number | null
  readonly natsCores: number | null
  /** CPU of node + PostgreSQL + nats-server per message committed in the send window (ms). */
  readonly cpuMsPerMsg: number | null
  /** Cores used by everything else on the machine meanwhile (other processes: contention). */
  readonly otherCores: number | null
  /** Socket writes of the node process per committed message, to PostgreSQL and to NATS. */
  readonly pgWritesPerMsg: number | null
  readonly natsWritesPerMsg: number | null
  readonly peakRssMb: number
  /** Met the row's goal (undefined for informational rows). */
  readonly ok?: boolean | undefined
  readonly note?: string | undefined
  readonly failed?: string | undefined
}

export const ROW_PREFIX = "@@pipeline-row "

/** JSON has no Infinity/NaN (a lost message's latency is Infinity): carried as strings. */
export const encodeRow = (row: PipelineRow): string =>
  JSON.stringify(row, (_, v: unknown) => (typeof v === "number" && !Number.isFinite(v) ? String(v) : v))
export const decodeRow = (text: string): PipelineRow =>
  JSON.parse(text, (_, v: unknown) => (v === "Infinity" || v === "-Infinity" || v === "NaN" ? Number(v) : v)) as PipelineRow
export const SUMMARY_PREFIX = "@@pipeline-summary "

export interface BackendSummary {
  readonly backend: string
  readonly line: string
}

// --- percentiles ---------------------------------------------------------------------------

/** Nearest-rank percentile of an ascending array (Infinity entries sort last). */
export const percentile = (sorted: Float64Array | ReadonlyArray<number>, p: number): number => {
  if (sorted.length === 0) return NaN
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
  return sorted[rank]!
}

// --- /proc ---------------------------------------------------------------------------------

const CLOCK_TICKS = 100 // getconf CLK_TCK on Linux

const statFields = (pid: number): Array<string> | null => {
  try {
    const stat = readFileSync(join("/proc", String(pid), "stat"), "utf8")
    // pid (comm) state ppid …: comm may hold spaces, split after the last ')'
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")
  } catch {
    return null
  }
}

export const parentPid = (pid: number): number | null => {
  const f = statFields(pid)
  return f === null ? null : Number(f[1])
}

/** CPU seconds of `pid` (and, with `children`, of every process whose parent it is). */
export const cpuSecondsOf = (pid: number | null, children: boolean): number | null => {
  if (pid === null) return null
  if (!children) {
    const f = statFields(pid)
    return f === null ? null : (Number(f[11]) + Number(f[12])) / CLOCK_TICKS
  }
  let ticks = 0
  let found = false
  let entries: Array<string>
  try {
    entries = readdirSync("/proc")
  } catch {
    return null
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue
    const p = Number(entry)
    const f = statFields(p)
    if (f === null) continue
    if (p !== pid && Number(f[1]) !== pid) continue
    found = true
    ticks += Number(f[11]) + Number(f[12]) // utime + stime
  }
  return found ? ticks / CLOCK_TICKS : null
}

/** CPU seconds the whole machine spent busy so far (all cores, /proc/stat). */
export const machineBusySeconds = (): number | null => {
  try {
    const line = readFileSync("/proc/stat", "utf8").split("\n")[0]!
    const f = line.trim().split(/\s+/).slice(1).map(Number)
    // user nice system idle iowait irq softirq steal
    return ((f[0] ?? 0) + (f[1] ?? 0) + (f[2] ?? 0) + (f[5] ?? 0) + (f[6] ?? 0) + (f[7] ?? 0)) / CLOCK_TICKS
  } catch {
    return null
  }
}

/** Peak resident set of `pid` (VmHWM), MB. */
export const peakRssOfPid = (pid: number | null): number | null => {
  if (pid === null) return null
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(join("/proc", String(pid), "status"), "utf8"))
    return m === null ? null : Number(m[1]) / 1024
  } catch {
    return null
  }
}

/** The pid of the process listening with this command name and argument (e.g. nats-server, port). */
export const findPidByCmdline = (name: string, arg: string): number | null => {
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const argv = readFileSync(join("/proc", entry, "cmdline"), "utf8").split("\0")
      if (argv[0]?.endsWith(name) && argv.includes(arg)) return Number(entry)
    } catch {
      // exited meanwhile
    }
  }
  return null
}

// --- table ---------------------------------------------------------------------------------

const fmtInt = (n: number) => Math.round(n).toLocaleString("en-US")

export const fmtMs = (ms: number): string => {
  if (!Number.isFinite(ms)) return Number.isNaN(ms) ? "-" : "lost"
  if (ms >= 10_000) return `${(ms / 1000).toFixed(1)} s`
  if (ms >= 100) return `${Math.round(ms)}`
  return ms.toFixed(1)
}

/** For prose: "12.3 ms", "15.1 s", "lost". */
export const fmtDur = (ms: number): string => {
  const t = fmtMs(ms)
  return t === "lost" || t === "-" || t.endsWith(" s") ? t : `${t} ms`
}

const verdict = (r: PipelineRow): string => {
  if (r.failed !== undefined) return "FAILED"
  if (r.ok === undefined) return ""
  return r.ok ? "ok" : "MISS"
}

export const formatTable = (rows: ReadonlyArray<PipelineRow>): string => {
  const header = [
    "backend", "scenario", "offered/s", "sent", "achieved/s", "p50 ms", "p95 ms", "p99 ms", "max ms",
    "pub p99", "goal", "node CPU", "PG CPU", "NATS CPU", "CPU ms/msg", "other CPU", "PG wr/msg", "NATS wr/msg", "peak RSS"
  ]
  const dash = (r: PipelineRow, s: string) => (r.failed !== undefined ? "-" : s)
  const body = rows.map((r) => [
    r.backend,
    r.scenario,
    r.offered === null ? "burst" : fmtInt(r.offered),
    dash(r, fmtInt(r.sent)),
    dash(r, fmtInt(r.achieved)),
    dash(r, fmtMs(r.p50)),
    dash(r, fmtMs(r.p95)),
    dash(r, fmtMs(r.p99)),
    dash(r, fmtMs(r.max)),
    dash(r, fmtMs(r.publishP99)),
    verdict(r),
    dash(r, r.nodeCores.toFixed(2)),
    dash(r, r.pgCores === null ? "-" : r.pgCores.toFixed(2)),
    dash(r, r.natsCores === null ? "-" : r.natsCores.toFixed(2)),
    dash(r, r.cpuMsPerMsg === null ? "-" : r.cpuMsPerMsg.toFixed(2)),
    dash(r, r.otherCores === null ? "-" : r.otherCores.toFixed(2)),
    dash(r, r.pgWritesPerMsg === null ? "-" : r.pgWritesPerMsg.toFixed(2)),
    dash(r, r.natsWritesPerMsg === null ? "-" : r.natsWritesPerMsg.toFixed(2)),
    dash(r, `${fmtInt(r.peakRssMb)} MB`)
  ])
  const left = new Set([0, 1, 10])
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)))
  const line = (cells: ReadonlyArray<string>) =>
    "| " + cells.map((c, i) => (left.has(i) ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(" | ") + " |"
  const sep = "|" + widths.map((w, i) => (left.has(i) ? "-".repeat(w + 2) : "-".repeat(w + 1) + ":")).join("|") + "|"
  const out = [line(header), sep]
  let previous: string | undefined
  for (const [i, b] of body.entries()) {
    if (previous !== undefined && previous !== rows[i]!.backend) out.push(sep)
    previous = rows[i]!.backend
    out.push(line(b))
  }
  const notes = rows.filter((r) => r.note !== undefined || r.failed !== undefined).map((r) =>
    `  - ${r.backend} / ${r.scenario}: ${r.failed !== undefined ? `FAILED: ${r.failed}` : r.note}`
  )
  return [...out, ...(notes.length > 0 ? ["", "Notes:", ...notes] : [])].join("\n")
}
