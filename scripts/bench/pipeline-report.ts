/** `bench:pipeline` result rows and the printed table. */
import { renderTable } from "./table.ts"

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
  return renderTable(
    header,
    rows.map((r, i) => ({ group: r.backend, label: r.scenario, cells: body[i]!, note: r.note, failed: r.failed })),
    new Set([0, 1, 10])
  )
}
