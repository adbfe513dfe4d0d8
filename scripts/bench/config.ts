/**
 * Benchmark configuration, read from the environment (the parent and every child read the
 * same variables, so a child needs no extra arguments besides its job).
 */
import { bool, num } from "./env.ts"

export type BackendId = "pglite" | "pglite-disk" | "pg" | "pg-nofsync"

export const backendLabels: Record<BackendId, string> = {
  "pglite": "PGlite (in-memory)",
  "pglite-disk": "PGlite (temp dir)",
  "pg": "PG15 durable (fsync on)",
  "pg-nofsync": "PG15 NON-durable (fsync off)"
}

export interface BenchConfig {
  readonly scale: number
  readonly backends: ReadonlyArray<BackendId>
  /** Appends in the sequential single-event scenario. */
  readonly singleSeq: number
  /** Appends in the concurrent single-event scenario (split over `writers`). */
  readonly singleConc: number
  readonly writers: number
  readonly streams: number
  /** Events per batched scenario (each batch size, each writer count). */
  readonly batchEvents: number
  readonly batchSizes: ReadonlyArray<number>
  /** Writers of the concurrent batched scenarios (1 = only the sequential ones). */
  readonly batchWriters: number
  readonly rebuildEvents: number
  readonly rebuildStreams: number
  readonly rebuildSeedBatch: number
  readonly projectionBatch: number
  /** Also rebuild each projection on its own (beside the combined rebuild): on PG only by default. */
  readonly rebuildSeparately: "all" | "pg" | "none"
  readonly pgPool: number
  /** Diagnostic rows (round trip, plain INSERT commit, append without NOTIFY). */
  readonly diagnostics: boolean
  readonly childTimeoutSeconds: number
  /** Time cap of each append scenario (diagnostic rows: half of it): writers stop starting appends after it. */
  readonly scenarioCapSeconds: number
}


const separately = (): "all" | "pg" | "none" => {
  const raw = (process.env.BENCH_REBUILD_SEPARATELY ?? "pg").trim().toLowerCase()
  if (raw === "pg") return "pg"
  return bool("BENCH_REBUILD_SEPARATELY", true) ? "all" : "none"
}

const allBackends: ReadonlyArray<BackendId> = ["pglite", "pglite-disk", "pg", "pg-nofsync"]

export const readConfig = (): BenchConfig => {
  const scale = num("BENCH_SCALE", 1)
  const scaled = (name: string, base: number, min: number) => Math.max(min, Math.round(num(name, base) * scale))
  const backends = (process.env.BENCH_BACKENDS ?? "pglite,pg,pg-nofsync").split(",").map((s) => s.trim()).filter((s) =>
    s !== ""
  )
  for (const b of backends) {
    if (!allBackends.includes(b as BackendId)) {
      throw new Error(`BENCH_BACKENDS: unknown backend ${b} (known: ${allBackends.join(", ")})`)
    }
  }
  const writers = Math.max(1, Math.round(num("BENCH_WRITERS", 16)))
  return {
    scale,
    backends: backends as Array<BackendId>,
    singleSeq: scaled("BENCH_SINGLE_SEQ", 3_000, 50),
    singleConc: scaled("BENCH_SINGLE_CONC", 10_000, writers * 10),
    writers,
    streams: Math.max(writers, Math.round(num("BENCH_STREAMS", 1_000))),
    batchEvents: scaled("BENCH_BATCH_EVENTS", 30_000, 1_000),
    batchSizes: (process.env.BENCH_BATCH_SIZES ?? "20,100").split(",").map((s) => Math.max(1, Math.round(Number(s))))
      .filter((n) => Number.isFinite(n)),
    batchWriters: Math.max(1, Math.round(num("BENCH_BATCH_WRITERS", 4))),
    rebuildEvents: scaled("BENCH_REBUILD_EVENTS", 200_000, 1_000),
    rebuildStreams: Math.max(1, Math.round(num("BENCH_REBUILD_STREAMS", 2_000) * Math.min(1, scale))),
    rebuildSeedBatch: Math.max(1, Math.round(num("BENCH_REBUILD_SEED_BATCH", 100))),
    projectionBatch: Math.max(1, Math.round(num("BENCH_PROJECTION_BATCH", 5_000))),
    rebuildSeparately: separately(),
    pgPool: Math.max(1, Math.round(num("BENCH_PG_POOL", Math.max(20, writers + 4)))),
    diagnostics: bool("BENCH_DIAGNOSTICS", true),
    childTimeoutSeconds: num("BENCH_CHILD_TIMEOUT", 900),
    scenarioCapSeconds: num("BENCH_SCENARIO_MAX_SECONDS", 10)
  }
}

/** The targets of the brief, by scenario kind. */
export const targets = { single: 8_000, batched: 40_000, rebuild: 35_000 } as const
export type TargetKind = keyof typeof targets | "none"
