/** Result rows and the printed table. */
import { targets, type TargetKind } from "./config.ts"
import { renderTable } from "./table.ts"

export interface Row {
  readonly backend: string
  readonly scenario: string
  readonly events: number
  readonly seconds: number
  /** What the events/s is compared with (none: informational row). */
  readonly target: TargetKind
  /** CPU of the benchmark process, in cores (1.0 = one core busy for the whole run). */
  readonly clientCores: number
  /** CPU of the PostgreSQL server processes, in cores; null for PGlite (in-process). */
  readonly serverCores: number | null
  /** CPU used by everything else on the machine meanwhile (other processes: noise), in cores. */
  readonly otherCores?: number | null | undefined
  /** Peak RSS of the benchmark process so far (MB); each phase runs in its own process. */
  readonly peakRssMb: number
  readonly note?: string | undefined
  readonly failed?: string | undefined
}

/** Marks a line of a child's stdout as a result row. */
export const ROW_PREFIX = "@@bench-row "

const fmtInt = (n: number) => Math.round(n).toLocaleString("en-US")

const verdict = (row: Row): string => {
  if (row.failed !== undefined) return "FAILED"
  if (row.target === "none") return ""
  const goal = targets[row.target]
  const eps = row.events / row.seconds
  return `${eps >= goal ? "ok" : "MISS"} ≥${fmtInt(goal)}`
}

export const formatTable = (rows: ReadonlyArray<Row>): string => {
  const header = ["backend", "scenario", "events", "seconds", "events/s", "target", "node CPU", "PG CPU", "other CPU", "CPU µs/event", "peak RSS"]
  const body = rows.map((r) => [
    r.backend,
    r.scenario,
    r.failed !== undefined ? "-" : fmtInt(r.events),
    r.failed !== undefined ? "-" : r.seconds.toFixed(2),
    r.failed !== undefined ? "-" : fmtInt(r.events / r.seconds),
    verdict(r),
    r.failed !== undefined ? "-" : `${r.clientCores.toFixed(2)}`,
    r.failed !== undefined || r.serverCores === null ? "-" : `${r.serverCores.toFixed(2)}`,
    r.failed !== undefined || r.otherCores === null || r.otherCores === undefined ? "-" : `${r.otherCores.toFixed(2)}`,
    r.failed !== undefined || r.events === 0
      ? "-"
      : ((r.clientCores + (r.serverCores ?? 0)) * r.seconds / r.events * 1e6).toFixed(0),
    r.failed !== undefined ? "-" : `${fmtInt(r.peakRssMb)} MB`
  ])
  return renderTable(
    header,
    rows.map((r, i) => ({ group: r.backend, label: r.scenario, cells: body[i]!, note: r.note, failed: r.failed })),
    new Set([0, 1, 5])
  )
}
