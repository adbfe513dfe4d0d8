/**
 * `npm run bench:store`: throughput of the event store and the projection rebuild on PGlite
 * and on a real PostgreSQL 15 started (and removed) by this script. Prints a table; it is a
 * measurement, not a test, and never fails on a missed target.
 *
 * Each phase (appends + reads, then seed + projection rebuild) of each backend runs in a
 * child process of its own, so "peak RSS" is the high-water mark of that phase alone and a
 * crashing phase cannot leak the servers and temp dirs this parent owns.
 *
 * Sizes: BENCH_SCALE (default 1; 0.1 for a quick run) multiplies every event count. Other
 * knobs (defaults in scripts/bench/config.ts): BENCH_BACKENDS=pglite,pglite-disk,pg,pg-nofsync,
 * BENCH_SINGLE_SEQ, BENCH_SINGLE_CONC, BENCH_WRITERS, BENCH_STREAMS, BENCH_BATCH_EVENTS,
 * BENCH_BATCH_SIZES, BENCH_BATCH_WRITERS, BENCH_REBUILD_EVENTS, BENCH_REBUILD_STREAMS,
 * BENCH_REBUILD_SEED_BATCH, BENCH_PROJECTION_BATCH, BENCH_REBUILD_SEPARATELY (all|pg|none),
 * BENCH_PG_POOL, BENCH_DIAGNOSTICS, BENCH_SCENARIO_MAX_SECONDS (time cap per append scenario),
 * BENCH_CHILD_TIMEOUT.
 *
 * The "diag:" rows explain the others: the round-trip and commit floors, and appends on the
 * grown log, each noting whether it caused sequential scans of `events`.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { cpus, loadavg, tmpdir, totalmem } from "node:os"
import { join } from "node:path"
import { createInterface } from "node:readline"
import { startPgServer } from "../test/support/pgServer.ts"
import type { ChildJob } from "./bench/child.ts"
import { backendLabels, type BackendId, type BenchConfig, readConfig, targets } from "./bench/config.ts"
import { formatTable, ROW_PREFIX, type Row } from "./bench/report.ts"

const childJob = process.env.BENCH_CHILD

if (childJob !== undefined) {
  const { runChild } = await import("./bench/child.ts")
  await runChild(JSON.parse(childJob) as ChildJob)
} else {
  await runParent()
}

async function runParent(): Promise<void> {
  const cfg = readConfig()
  printConfig(cfg)
  const rows: Array<Row> = []
  const cleanups = new Map<string, () => Promise<void> | void>()
  let current: ChildProcess | null = null
  let cleaning: Promise<void> | null = null
  const cleanup = (): Promise<void> =>
    cleaning ??= (async () => {
      if (current !== null && current.exitCode === null) current.kill("SIGKILL")
      for (const [name, fn] of [...cleanups.entries()].reverse()) {
        try {
          await fn()
        } catch (e) {
          process.stderr.write(`cleanup of ${name} failed: ${String(e)}\n`)
        }
        cleanups.delete(name)
      }
    })()
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.once(signal, () => {
      process.stderr.write(`\n${signal}: stopping servers and removing temp dirs...\n`)
      void cleanup().finally(() => process.exit(130))
    })
  }

  const runChild = (job: ChildJob): Promise<void> =>
    new Promise((resolve) => {
      const label = backendLabels[job.backend]
      const child = spawn(process.execPath, [import.meta.filename], {
        env: { ...process.env, BENCH_CHILD: JSON.stringify(job) },
        stdio: ["ignore", "pipe", "inherit"]
      })
      current = child
      let failed = false
      createInterface({ input: child.stdout! }).on("line", (line) => {
        if (!line.startsWith(ROW_PREFIX)) return void process.stdout.write(line + "\n")
        const row = JSON.parse(line.slice(ROW_PREFIX.length)) as Row
        if (row.failed !== undefined) failed = true
        rows.push(row)
      })
      const timer = setTimeout(() => {
        process.stderr.write(`  [${label}] ${job.phase}: timed out after ${cfg.childTimeoutSeconds} s, killing\n`)
        child.kill("SIGKILL")
      }, cfg.childTimeoutSeconds * 1000)
      child.on("exit", (code, signal) => {
        clearTimeout(timer)
        current = null
        if ((code !== 0 || signal !== null) && !failed) {
          rows.push(failedRow(label, `${job.phase} phase`, `child exited with ${signal ?? `code ${code}`}`))
        }
        resolve()
      })
    })

  const started = performance.now()
  try {
    for (const backend of cfg.backends) await runBackend(backend, cfg, runChild, cleanups, rows)
  } finally {
    await cleanup()
  }
  const total = (performance.now() - started) / 1000
  process.stdout.write(`\n${formatTable(rows)}\n\n`)
  process.stdout.write(
    [
      "Columns: events/s = events / seconds (wall clock). node CPU / PG CPU = cores busy on average during the",
      "scenario (this machine has " + cpus().length + "); PG CPU sums the postmaster and its backends; PGlite runs inside",
      "the node process. Peak RSS is the node process's high-water mark within its phase (each phase of each",
      "backend runs in its own process; the PostgreSQL server's memory is not included).",
      "other CPU = cores used meanwhile by every other process on the machine (from /proc/stat): when it is",
      "high, the row measured a shared machine and its events/s is a lower bound.",
      "CPU µs/event = (node CPU + PG CPU) × seconds / events: what one event costs in CPU, which load from other",
      `processes barely changes; ${cpus().length} dedicated cores cannot exceed ${cpus().length},000,000 / (CPU µs/event) events/s.`,
      `Total run time ${total.toFixed(0)} s; load average at the end: ${loadavg().map((l) => l.toFixed(2)).join(" ")}.`
    ].join("\n") + "\n"
  )
  if (rows.some((r) => r.failed !== undefined)) process.exitCode = 1
}

function failedRow(backend: string, scenario: string, failed: string): Row {
  return { backend, scenario, events: 0, seconds: 0, target: "none", clientCores: 0, serverCores: null, peakRssMb: 0, failed }
}

async function runBackend(
  backend: BackendId,
  cfg: BenchConfig,
  runChild: (job: ChildJob) => Promise<void>,
  cleanups: Map<string, () => Promise<void> | void>,
  rows: Array<Row>
): Promise<void> {
  const label = backendLabels[backend]
  process.stderr.write(`\n== ${label}\n`)
  if (backend === "pglite" || backend === "pglite-disk") {
    for (const phase of ["appends", "rebuild"] as const) {
      let dataDir: string | undefined
      if (backend === "pglite-disk") {
        const dir = mkdtempSync(join(tmpdir(), "sumeru-bench-pglite-"))
        cleanups.set(dir, () => rmSync(dir, { recursive: true, force: true }))
        dataDir = join(dir, "pglite")
      }
      await runChild({ backend, phase, dataDir })
      if (dataDir !== undefined) {
        const dir = join(dataDir, "..")
        rmSync(dir, { recursive: true, force: true })
        cleanups.delete(dir)
      }
    }
    return
  }
  let server: Awaited<ReturnType<typeof startPgServer>>
  try {
    server = await startPgServer({ durable: backend === "pg" })
  } catch (e) {
    rows.push(failedRow(label, "start PostgreSQL", String(e instanceof Error ? e.message : e)))
    return
  }
  const key = `postgres:${server.port}`
  cleanups.set(key, () => server.stop())
  process.stderr.write(`  PostgreSQL ${server.version} on port ${server.port} (${backend === "pg" ? "fsync on, synchronous_commit on" : "fsync off, synchronous_commit off, full_page_writes off"})\n`)
  for (const phase of ["appends", "rebuild"] as const) {
    const url = server.createDatabase(`bench_${phase}`)
    await runChild({ backend, phase, url })
  }
  await server.stop()
  cleanups.delete(key)
}

function printConfig(cfg: BenchConfig): void {
  const lines = [
    "Sumeru event store benchmark",
    `  machine: ${cpus().length} × ${cpus()[0]?.model ?? "?"}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM, node ${process.version}`,
    `  backends: ${cfg.backends.map((b) => `${b} (${backendLabels[b]})`).join(", ")}`,
    `  BENCH_SCALE=${cfg.scale}`,
    `  1. single, sequential:   ${cfg.singleSeq} appends × 1 event, 1 writer, ${cfg.streams} streams, exact expected version`,
    `  2. single, concurrent:   ${cfg.singleConc} appends × 1 event, ${cfg.writers} writers each owning ${cfg.streams}/${cfg.writers} streams`,
    `  3. batched:              ${cfg.batchEvents} events per run, ${cfg.batchSizes.join(" and ")} per call, 1 and ${cfg.batchWriters} writers`,
    `  4. readAll:              the whole log written by 1-3 (gap-safe reader)`,
    `  5. projection rebuild:   seed ${cfg.rebuildEvents} events (×${cfg.rebuildSeedBatch} per call, ${cfg.rebuildStreams} streams), catch up streams + audit_log, requestRebuild, run until switched (projection batch ${cfg.projectionBatch})`,
    `  each append scenario stops after ${cfg.scenarioCapSeconds} s (BENCH_SCENARIO_MAX_SECONDS; events/s stays valid)`,
    `  separate rebuild per projection: ${cfg.rebuildSeparately} (BENCH_REBUILD_SEPARATELY=all|pg|none)`,
    `  PG pool: ${cfg.pgPool} connections (PGlite: 1); diagnostics: ${cfg.diagnostics ? "on" : "off"} (BENCH_DIAGNOSTICS)`,
    `  load average at start: ${loadavg().map((l) => l.toFixed(2)).join(" ")} (other processes share these ${cpus().length} cores)`,
    `  targets: single ≥ ${targets.single}/s, batched ≥ ${targets.batched}/s, rebuild ≥ ${targets.rebuild}/s`,
    ""
  ]
  process.stdout.write(lines.join("\n") + "\n")
}
