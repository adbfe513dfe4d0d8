/** `bench:ingress` result rows and the printed table (same layout as bench:pipeline's). */
import { fmtMs } from "./pipeline-report.ts"
import { renderTable } from "./table.ts"

export interface IngressRow {
  readonly mode: string
  readonly run: string
  /** Offered rate (req/s); null for the closed-loop run. */
  readonly offered: number | null
  readonly sent: number
  readonly ok2xx: number
  /** 2xx answers per second of the run. */
  readonly achieved: number
  readonly non2xx: number
  /** Connection errors and time-outs. */
  readonly errors: number
  /** Latency of the 2xx answers (ms). */
  readonly p50: number
  readonly p95: number
  readonly p99: number
  readonly max: number
  /** Cores busy on average during the run. */
  readonly serverCores: number | null
  readonly pgCores: number | null
  readonly natsCores: number | null
  readonly loadCores: number | null
  readonly otherCores: number | null
  /** The server's peak VmRSS during the run (MB). */
  readonly peakRssMb: number
  /** Role all: seconds until the actors had consumed the log after the run. */
  readonly drainSeconds: number | null
  readonly drainLimit: number
  /** Met the goal; null: informational (a rate below the target). */
  readonly ok: boolean | null
  readonly note?: string | undefined
  readonly failed?: string | undefined
}

const int = (n: number) => Math.round(n).toLocaleString("en-US")
const cores = (n: number | null) => (n === null ? "-" : n.toFixed(2))

export const formatIngressTable = (rows: ReadonlyArray<IngressRow>): string => {
  const header = [
    "mode", "run", "offered/s", "2xx", "2xx/s", "non-2xx", "errors", "p50 ms", "p95 ms", "p99 ms", "max ms", "goal",
    "server CPU", "PG CPU", "NATS CPU", "loadgen CPU", "other CPU", "server RSS", "drain s"
  ]
  const body = rows.map((r) => {
    if (r.failed !== undefined) return [r.mode, r.run, "-", "-", "-", "-", "-", "-", "-", "-", "-", "FAILED", "-", "-", "-", "-", "-", "-", "-"]
    return [
      r.mode,
      r.run,
      r.offered === null ? "max" : int(r.offered),
      int(r.ok2xx),
      int(r.achieved),
      int(r.non2xx),
      int(r.errors),
      fmtMs(r.p50),
      fmtMs(r.p95),
      fmtMs(r.p99),
      fmtMs(r.max),
      r.ok === null ? "-" : r.ok ? "ok" : "MISS",
      cores(r.serverCores),
      cores(r.pgCores),
      cores(r.natsCores),
      cores(r.loadCores),
      cores(r.otherCores),
      `${int(r.peakRssMb)} MB`,
      r.drainSeconds === null ? "-" : r.drainSeconds > r.drainLimit ? `> ${r.drainLimit}` : r.drainSeconds.toFixed(1)
    ]
  })
  return renderTable(
    header,
    rows.map((r, i) => ({ group: r.mode, label: r.run, cells: body[i]!, note: r.note, failed: r.failed })),
    new Set([0, 1, 11])
  )
}
