/**
 * Configuration of `npm run bench:pipeline`, read from the environment. The parent and every
 * child read the same variables, so a child needs nothing but its job description.
 */
import { bool, num } from "./env.ts"

export type PipelineBackend = "pg" | "pglite" | "nats"

export const backendLabels: Record<PipelineBackend, string> = {
  pg: "embedded log / PG15",
  pglite: "embedded log / PGlite",
  nats: "JetStream + PG15"
}

export interface PipelineConfig {
  /** Multiplies every duration (0.25 for a quick run). */
  readonly scale: number
  readonly backends: ReadonlyArray<PipelineBackend>
  /** Shops the load is spread over (PG15 and JetStream backends). */
  readonly shops: number
  /** Offered rates of the ramp, msg/s; the first one is the target scenario. */
  readonly rates: ReadonlyArray<number>
  readonly pgliteShops: number
  readonly pgliteRates: ReadonlyArray<number>
  /** PGlite's data in a directory on disk, as `npm start` keeps it, rather than in memory. */
  readonly pgliteOnDisk: boolean
  /** Seconds of the first (target) step, and of every later step (before scaling). */
  readonly targetSeconds: number
  readonly stepSeconds: number
  /** Publishes in flight at most; a due publish waits for a slot (its wait counts as latency). */
  readonly maxInFlight: number
  /** How long a step's backlog may take to commit after its last publish. */
  readonly drainSeconds: number
  /** The target scenario's p95 goal, and the ramp's limit for "sustained". */
  readonly targetP95Ms: number
  readonly maxP95Ms: number
  /** Stop the ramp after the first step over `maxP95Ms` (higher rates can only be worse). */
  readonly stopOnMiss: boolean
  /** When the target step is not sustained, try this many lower rates (½, ¼, … of it). */
  readonly stepDown: number
  /** Prime every shop's actor with one message before measuring (not counted). */
  readonly warmup: boolean
  readonly partitions: number
  readonly pgPool: number
  /** An existing PostgreSQL server to use instead of starting one (databases are created on it). */
  readonly pgUrl: string | undefined
  /** PostgreSQL with fsync and synchronous_commit on (as in production). */
  readonly pgDurable: boolean
  /** Per shop, events must appear in publish-ack order, each message exactly once. */
  readonly checkOrder: boolean
  /** After the run, wait for every actor to passivate and report the footprint. */
  readonly passivation: boolean
  /** A directory: children run with `--cpu-prof` and write their profiles there. */
  readonly cpuProfDir: string | undefined
  readonly childTimeoutSeconds: number
}


const list = (name: string, fallback: ReadonlyArray<number>): ReadonlyArray<number> => {
  const raw = process.env[name]
  if (raw === undefined || raw.trim() === "") return fallback
  const values = raw.split(",").map((s) => Number(s.trim()))
  if (values.length === 0 || values.some((n) => !Number.isFinite(n) || n <= 0)) {
    throw new Error(`${name} must be a comma-separated list of positive numbers, got ${JSON.stringify(raw)}`)
  }
  return values
}

const allBackends: ReadonlyArray<PipelineBackend> = ["pg", "pglite", "nats"]

export const readConfig = (): PipelineConfig => {
  const scale = num("BENCH_SCALE", 1)
  if (scale <= 0) throw new Error("BENCH_SCALE must be positive")
  const backends = (process.env.BENCH_BACKENDS ?? "pg,nats,pglite").split(",").map((s) => s.trim()).filter((s) => s !== "")
  for (const b of backends) {
    if (!allBackends.includes(b as PipelineBackend)) {
      throw new Error(`BENCH_BACKENDS: unknown backend ${JSON.stringify(b)} (known: ${allBackends.join(", ")})`)
    }
  }
  const cfg = {
    scale,
    backends: backends as ReadonlyArray<PipelineBackend>,
    shops: Math.max(1, Math.round(num("BENCH_SHOPS", 10_000))),
    rates: list("BENCH_RATES", [1000, 2000, 3000, 5000]),
    pgliteShops: Math.max(1, Math.round(num("BENCH_PGLITE_SHOPS", 1000))),
    pgliteRates: list("BENCH_PGLITE_RATES", [250, 500, 1000, 1500, 2000]),
    pgliteOnDisk: bool("BENCH_PGLITE_ON_DISK", false),
    targetSeconds: num("BENCH_TARGET_SECONDS", 20) * scale,
    stepSeconds: num("BENCH_STEP_SECONDS", 12) * scale,
    maxInFlight: Math.max(1, Math.round(num("BENCH_MAX_INFLIGHT", 4000))),
    drainSeconds: Math.max(1, num("BENCH_DRAIN_SECONDS", 10)),
    targetP95Ms: num("BENCH_TARGET_P95_MS", 50),
    maxP95Ms: num("BENCH_MAX_P95_MS", 250),
    stopOnMiss: bool("BENCH_STOP_ON_MISS", true),
    stepDown: Math.round(num("BENCH_STEP_DOWN", 2)),
    warmup: bool("BENCH_WARMUP", true),
    partitions: Math.max(1, Math.round(num("BENCH_PARTITIONS", 64))),
    pgPool: Math.max(2, Math.round(num("BENCH_PG_POOL", 10))),
    pgUrl: process.env.BENCH_PG_URL !== undefined && process.env.BENCH_PG_URL.trim() !== "" ? process.env.BENCH_PG_URL.trim() : undefined,
    pgDurable: bool("BENCH_PG_DURABLE", true),
    checkOrder: bool("BENCH_CHECK_ORDER", true),
    passivation: bool("BENCH_PASSIVATION", true),
    cpuProfDir: process.env.BENCH_CPU_PROF !== undefined && process.env.BENCH_CPU_PROF.trim() !== ""
      ? process.env.BENCH_CPU_PROF.trim()
      : undefined,
    childTimeoutSeconds: 0
  }
  return { ...cfg, childTimeoutSeconds: num("BENCH_CHILD_TIMEOUT", 0) || defaultChildTimeout(cfg) }
}

/** Planned seconds of one backend's run, for the child's kill timer. */
export const plannedSeconds = (cfg: Omit<PipelineConfig, "childTimeoutSeconds">, backend: PipelineBackend): number => {
  const rates = backend === "pglite" ? cfg.pgliteRates : cfg.rates
  const steps = Math.max(rates.length, 1 + cfg.stepDown)
  return cfg.targetSeconds + Math.max(0, steps - 1) * cfg.stepSeconds + steps * cfg.drainSeconds * 3 + (cfg.passivation ? 150 : 0)
}

const defaultChildTimeout = (cfg: Omit<PipelineConfig, "childTimeoutSeconds">): number =>
  Math.ceil(Math.max(...cfg.backends.map((b) => plannedSeconds(cfg, b))) + 180)

export const describeConfig = (cfg: PipelineConfig): string => {
  const rates = (r: ReadonlyArray<number>) => r.map((n) => n.toLocaleString("en-US")).join(", ")
  return [
    "bench:pipeline — publish → shop actor → events committed (open-loop load)",
    `  backends            ${cfg.backends.map((b) => backendLabels[b]).join("; ")}   (BENCH_BACKENDS=${cfg.backends.join(",")})`,
    `  shops               ${cfg.shops.toLocaleString("en-US")} (BENCH_SHOPS); PGlite ${cfg.pgliteShops.toLocaleString("en-US")} (BENCH_PGLITE_SHOPS)`,
    `  offered rates       ${rates(cfg.rates)} msg/s (BENCH_RATES); PGlite ${rates(cfg.pgliteRates)} msg/s (BENCH_PGLITE_RATES)`,
    `  PGlite's data       ${cfg.pgliteOnDisk ? "in a directory on disk, as npm start keeps it" : "in memory"} (BENCH_PGLITE_ON_DISK)`,
    `  durations           first step ${cfg.targetSeconds.toFixed(1)} s (BENCH_TARGET_SECONDS), later steps ${cfg.stepSeconds.toFixed(1)} s (BENCH_STEP_SECONDS), scale ${cfg.scale} (BENCH_SCALE)`,
    `  drain limit         ${cfg.drainSeconds} s after a step's last publish; a later step waits ≤ ${2 * cfg.drainSeconds} s more for the backlog (BENCH_DRAIN_SECONDS)`,
    `  publishes in flight ≤ ${cfg.maxInFlight} (BENCH_MAX_INFLIGHT)`,
    `  goals               p95 < ${cfg.targetP95Ms} ms at the first step (BENCH_TARGET_P95_MS); sustained = p95 < ${cfg.maxP95Ms} ms and ≥ 95 % of offered (BENCH_MAX_P95_MS)`,
    `  ramp                ${cfg.stopOnMiss ? "stops after the first step over the limit" : "runs every step"} (BENCH_STOP_ON_MISS); ` +
      `a missed target steps down ${cfg.stepDown}× (½, ¼ …) instead (BENCH_STEP_DOWN)`,
    `  warm-up             ${cfg.warmup ? "one message per shop first (cold actors), not counted in the steps" : "none"} (BENCH_WARMUP)`,
    `  partitions          ${cfg.partitions} (BENCH_PARTITIONS); PG pool ${cfg.pgPool} connections (BENCH_PG_POOL)`,
    cfg.pgUrl !== undefined
      ? `  PostgreSQL          the server at BENCH_PG_URL (not started by this script; BENCH_PG_DURABLE does not apply)`
      : `  PostgreSQL 15       started here, ${cfg.pgDurable ? "durable: fsync + synchronous_commit on" : "NON-durable: fsync/synchronous_commit off"} (BENCH_PG_DURABLE; BENCH_PG_URL=… uses a server of yours)`,
    `  order check         ${cfg.checkOrder ? "on" : "off"} (BENCH_CHECK_ORDER); footprint after passivation ${cfg.passivation ? "on" : "off"} (BENCH_PASSIVATION); CPU profiles ${cfg.cpuProfDir ?? "off"} (BENCH_CPU_PROF=dir)`,
    `  child timeout       ${cfg.childTimeoutSeconds} s per backend (BENCH_CHILD_TIMEOUT); runtime logs at ${process.env.BENCH_LOG_LEVEL ?? "Error"} and above (BENCH_LOG_LEVEL)`,
  ].join("\n")
}
