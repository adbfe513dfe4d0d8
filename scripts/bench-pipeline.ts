/**
 * `npm run bench:pipeline`: publish → shop actor → events committed, under open-loop load.
 * Prints a table; it is a measurement, not a test (exit code 1 only when a run failed).
 *
 * For each backend — the embedded shop log on a real PostgreSQL 15 (started and removed by
 * this script), NATS JetStream (a nats-server started by this script, PostgreSQL 15 for the
 * store) and the embedded log on PGlite (in process, at lower rates) — it offers R msg/s
 * spread over K shops on a fixed schedule and reports the achieved throughput, p50/p95/p99
 * publish-to-commit latency (from the scheduled publish time to the moment `apply_messages`
 * returned "applied": see scripts/bench/pipeline-child.ts), CPU per process, round trips per
 * message and peak RSS.
 *
 * Scenarios: a warm-up (one message to every shop: cold actors, reported, not counted), then
 * the target — 1,000 msg/s over 10,000 shops, p95 < 50 ms — then a ramp (2k, 3k, 5k msg/s)
 * while steps hold p95 < 250 ms; the highest such step is the sustained maximum. If the
 * target itself is not sustained, the run steps down (½, ¼ of it) instead.
 *
 * Each backend runs in a child process of its own (its peak RSS is its own, and a crash
 * cannot leak the servers and temp dirs the parent owns; they are removed on exit, Ctrl-C
 * or failure). Knobs (all in scripts/bench/pipeline-config.ts; the configuration is printed
 * first): BENCH_SCALE (durations), BENCH_BACKENDS=pg,nats,pglite, BENCH_SHOPS, BENCH_RATES,
 * BENCH_PGLITE_SHOPS, BENCH_PGLITE_RATES, BENCH_PGLITE_ON_DISK, BENCH_TARGET_SECONDS, BENCH_STEP_SECONDS,
 * BENCH_DRAIN_SECONDS, BENCH_MAX_INFLIGHT, BENCH_TARGET_P95_MS, BENCH_MAX_P95_MS,
 * BENCH_STOP_ON_MISS, BENCH_STEP_DOWN, BENCH_WARMUP, BENCH_PARTITIONS, BENCH_PG_POOL,
 * BENCH_PG_DURABLE, BENCH_PG_URL (use your server, e.g. one with pg_stat_statements),
 * BENCH_CHECK_ORDER, BENCH_CPU_PROF=dir (children run with --cpu-prof), BENCH_LOG_LEVEL,
 * and BENCH_CHILD_TIMEOUT.
 * Per-stage timings of one backend: scripts/bench/pipeline-probe.ts.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process"
import { mkdirSync } from "node:fs"
import { cpus, loadavg, totalmem } from "node:os"
import { resolve } from "node:path"
import { createInterface } from "node:readline"
import { startNatsServer } from "../test/support/natsServer.ts"
import { startPgServer } from "../test/support/pgServer.ts"
import type { PipelineJob } from "./bench/pipeline-child.ts"
import { backendLabels, describeConfig, type PipelineConfig, readConfig } from "./bench/pipeline-config.ts"
import {
  type BackendSummary,
  formatTable,
  type PipelineRow,
  decodeRow,
  ROW_PREFIX,
  SUMMARY_PREFIX
} from "./bench/pipeline-report.ts"
import { findPidByCmdline, peakRssOfPid } from "./bench/proc.ts"
import { makeCleanups } from "./bench/cleanups.ts"
import { startImage } from "../src/cli/processImage.ts"

const childJob = process.env.BENCH_PIPELINE_CHILD

if (childJob !== undefined) {
  const { runChild } = await import("./bench/pipeline-child.ts")
  await runChild(JSON.parse(childJob) as PipelineJob)
  process.exit(0)
} else {
  await runParent()
}

async function runParent(): Promise<void> {
  const cfg = readConfig()
  process.stdout.write(describeConfig(cfg) + "\n")
  process.stdout.write(
    `  machine             ${cpus().length} cores (${cpus()[0]?.model ?? "?"}), ${(totalmem() / 2 ** 30).toFixed(1)} GiB, Node ${process.version}, ` +
      `load average ${loadavg().map((l) => l.toFixed(2)).join(" ")}\n\n`
  )
  const rows: Array<PipelineRow> = []
  const summaries: Array<BackendSummary> = []
  let current: ChildProcess | null = null
  let interrupted = false
  const { steps: cleanups, run: cleanup } = makeCleanups({
    first: () => {
      if (current !== null && current.exitCode === null) current.kill("SIGKILL")
    },
    onSignal: () => {
      interrupted = true
    }
  })

  const started = performance.now()
  let natsPeakRss: number | null = null
  try {
    const needPg = cfg.backends.some((b) => b !== "pglite")
    const pg = !needPg ? null : cfg.pgUrl !== undefined ? externalPg(cfg.pgUrl) : await startPgServer({ durable: cfg.pgDurable })
    if (pg !== null) {
      cleanups.push(["PostgreSQL", () => pg.stop()])
      process.stdout.write(
        cfg.pgUrl !== undefined
          ? `PostgreSQL ${pg.version} at ${cfg.pgUrl.replace(/:[^:@/]*@/, ":***@")} (BENCH_PG_URL; its settings as they are)\n`
          : `PostgreSQL ${pg.version} on port ${pg.port} (${cfg.pgDurable ? "durable" : "fsync off"})\n`
      )
    }
    const nats = cfg.backends.includes("nats") ? await startNatsServer() : null
    let natsPid: number | null = null
    if (nats !== null) {
      cleanups.push(["nats-server", () => nats.stop()])
      natsPid = findPidByCmdline("nats-server", String(nats.port))
      const version = (() => {
        try {
          return execFileSync("nats-server", ["--version"]).toString().trim()
        } catch {
          return "nats-server"
        }
      })()
      process.stdout.write(`${version} (JetStream, file storage) on port ${nats.port}\n`)
    }
    if (cfg.cpuProfDir !== undefined) mkdirSync(cfg.cpuProfDir, { recursive: true })

    for (const backend of cfg.backends) {
      if (interrupted) break
      const job: PipelineJob = {
        backend,
        pgUrl: pg !== null && backend !== "pglite" ? pg.createDatabase(`bench_pipeline_${backend}`) : undefined,
        natsUrl: backend === "nats" ? nats!.url : undefined,
        natsPid: backend === "nats" ? natsPid : null
      }
      process.stdout.write(`\n${backendLabels[backend]}:\n`)
      await runChild(cfg, job, rows, summaries, (c) => (current = c))
      if (backend === "nats") natsPeakRss = peakRssOfPid(natsPid)
    }
  } catch (e) {
    if (!interrupted) {
      process.stderr.write(`bench:pipeline failed: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`)
      process.exitCode = 1
    }
  } finally {
    await cleanup()
  }
  const total = (performance.now() - started) / 1000
  process.stdout.write(`\n${formatTable(rows)}\n\n`)
  for (const backend of cfg.backends) {
    const label = backendLabels[backend]
    const lines = summaries.filter((s) => s.backend === label)
    if (lines.length > 0) process.stdout.write(`${label}:\n${lines.map((s) => `  ${s.line}`).join("\n")}\n`)
  }
  process.stdout.write(
    [
      "",
      "Latency: from a message's scheduled publish time (open loop) to the moment its apply_messages statement",
      "returned \"applied\" (after COMMIT); lost = not committed within the drain limit. pub p99: publish call →",
      "durable ack. achieved/s: commits during the send window per second of it (burst: messages / time to the",
      "last commit). node / PG / NATS CPU: cores busy on average over the send window (this machine has " + cpus().length + ");",
      "PG CPU sums the postmaster and its backends; PGlite runs inside node. CPU ms/msg: node + PG + NATS CPU",
      "per message committed in the window (1000 × " + cpus().length + " cores ÷ CPU ms/msg ≈ the msg/s ceiling if nothing else ran).",
      "other CPU: everything else on the machine meanwhile (other processes competing for the cores; rows are",
      "comparable only when it is near 0). PG wr/msg, NATS wr/msg: socket writes of the node process per committed",
      "message (one statement = one write; nats.js coalesces a tick's commands into one): round trips per message.",
      "peak RSS: the node process's high-water mark during the step (publisher, runtime and, for PGlite, the database)." +
        (natsPeakRss !== null ? ` nats-server peak RSS ${Math.round(natsPeakRss)} MB.` : ""),
      `Total run time ${total.toFixed(0)} s.`
    ].join("\n") + "\n"
  )
  if (rows.some((r) => r.failed !== undefined)) process.exitCode = 1
}

function runChild(
  cfg: PipelineConfig,
  job: PipelineJob,
  rows: Array<PipelineRow>,
  summaries: Array<BackendSummary>,
  setCurrent: (c: ChildProcess | null) => void
): Promise<void> {
  return new Promise((done) => {
    const label = backendLabels[job.backend]
    // the worker as `sumeru start` runs it: V8's young generation and glibc's malloc (src/cli/processImage.ts)
    const image = startImage({ execArgv: [], env: process.env })
    const execArgv = [
      ...(image?.flags ?? []),
      ...(cfg.cpuProfDir === undefined
        ? []
        : ["--cpu-prof", `--cpu-prof-dir=${resolve(cfg.cpuProfDir)}`, `--cpu-prof-name=pipeline-${job.backend}-${Date.now()}.cpuprofile`])
    ]
    const child = spawn(process.execPath, [...execArgv, import.meta.filename], {
      env: { ...(image?.env ?? process.env), BENCH_PIPELINE_CHILD: JSON.stringify(job) },
      stdio: ["ignore", "pipe", "inherit"]
    })
    setCurrent(child)
    let reported = false
    createInterface({ input: child.stdout! }).on("line", (line) => {
      if (line.startsWith(ROW_PREFIX)) {
        rows.push(decodeRow(line.slice(ROW_PREFIX.length)))
        reported = true
      } else if (line.startsWith(SUMMARY_PREFIX)) {
        summaries.push(JSON.parse(line.slice(SUMMARY_PREFIX.length)) as BackendSummary)
      } else {
        process.stdout.write(line + "\n")
      }
    })
    const timer = setTimeout(() => {
      process.stderr.write(`  [${label}] timed out after ${cfg.childTimeoutSeconds} s, killing\n`)
      child.kill("SIGKILL")
    }, cfg.childTimeoutSeconds * 1000)
    child.on("exit", (code, signal) => {
      clearTimeout(timer)
      setCurrent(null)
      if (code !== 0 || signal !== null) {
        rows.push(failedRow(label, reported ? "after its last row" : "run", `child exited with ${signal ?? `code ${code}`}`))
      }
      done()
    })
  })
}

/** An existing server (BENCH_PG_URL): databases are (re)created on it and dropped afterwards. */
function externalPg(url: string): { version: string; port: number; createDatabase: (name: string) => string; stop: () => Promise<void> } {
  const created: Array<string> = []
  const psql = (sql: string) => execFileSync("psql", [url, "-qtAc", sql], { stdio: ["ignore", "pipe", "pipe"] }).toString().trim()
  return {
    version: psql("show server_version"),
    port: Number(new URL(url).port || 5432),
    createDatabase: (name) => {
      psql(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)
      psql(`CREATE DATABASE "${name}"`)
      created.push(name)
      const u = new URL(url)
      u.pathname = `/${name}`
      return u.toString()
    },
    stop: async () => {
      for (const name of created) {
        try {
          psql(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)
        } catch {
          // best effort
        }
      }
    }
  }
}

function failedRow(backend: string, scenario: string, failed: string): PipelineRow {
  return {
    backend, scenario, kind: "none", offered: null, sent: 0, committed: 0, achieved: 0, p50: NaN, p95: NaN, p99: NaN, max: NaN,
    publishP99: NaN, nodeCores: 0, pgCores: null, natsCores: null, cpuMsPerMsg: null, otherCores: null, pgWritesPerMsg: null, natsWritesPerMsg: null, peakRssMb: 0, failed
  }
}
