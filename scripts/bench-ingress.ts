/**
 * `npm run bench:ingress`: signed Shopify webhooks per second that the ingress answers 200
 * after a durable publish, with latency percentiles and memory, against the real server
 * process. Prints a table; it is a measurement, not a test (exit code 1 only when a mode
 * failed: the server crashed or did not start, or a 2xx-answered delivery is missing).
 *
 * Modes (BENCH_MODES, default all five):
 * - nats-ingress: `sumeru start --role ingress` with NATS_URL (a nats-server with JetStream,
 *   file storage, started here) and DATABASE_URL (PostgreSQL 15, started here): a webhook is
 *   published to the JetStream stream; nothing consumes it.
 * - nats-all: the same with `--role all`: the shop actors and projections consume meanwhile.
 * - pg-ingress / pg-all: the embedded shop log in PostgreSQL 15 (`shop_log`), NATS_URL unset.
 * - pglite-all: the true default, `npm start` with no database configured (PGlite in a temp
 *   SUMERU_DATA_DIR), for reference, at most BENCH_PGLITE_RATE.
 * Every mode gets a fresh database / stream / data dir. The server always has
 * SHOPIFY_API_KEY and SHOPIFY_API_SECRET (so it runs no demo simulator); it logs at info
 * (a dozen lines per mode, kept to explain a crash; BENCH_SERVER_LOG_LEVEL).
 *
 * Per mode: a warm-up (BENCH_WARMUP s, closed loop, not reported), then the runs of
 * BENCH_RUNS (default max, paced, ac-rate for role ingress; max, paced for role all):
 * - max: autocannon, BENCH_CONNECTIONS connections, closed loop for BENCH_DURATION s: the
 *   sustained throughput (and the latency at saturation, which is queueing);
 * - paced: open loop, evenly paced at BENCH_RATE/s (scripts/bench/ingress-paced.ts; latency
 *   from each request's due time): the latency at the target rate;
 * - ac-rate: autocannon with `overallRate: BENCH_RATE`, which sends in per-second bursts.
 * When the max run sustained less than the rate (2xx over run + drain time), paced and
 * ac-rate run at 80 % of what it sustained instead (BENCH_ADAPT_RATE=0: never): pacing above
 * capacity only measures a growing queue. With actors running (role all), each run is
 * followed by a wait (≤ BENCH_DRAIN_SECONDS) until the log is consumed, so the next run
 * starts from an empty backlog; its length is reported. Runs start BENCH_SETTLE s (5) apart,
 * so one run's aftermath (autovacuum, checkpoints, a major GC) is not billed to the next.
 *
 * Every delivery is a new event (own event id, ~1.7 KB orders/create or products/update body,
 * signed, over BENCH_SHOPS shops; scripts/bench/ingress-deliveries.ts). After a mode's server
 * stopped, every delivery answered 2xx is looked up, by id, in the log (shop_log rows / the
 * stream's messages) or the actors' processed_messages / dead_letters.
 *
 * Other knobs: BENCH_POOL (deliveries generated ahead), BENCH_PG_DURABLE (fsync +
 * synchronous_commit on, default on), BENCH_TARGET_RATE / BENCH_TARGET_P99_MS (the goal:
 * 3,000/s, p99 < 50 ms), BENCH_PACED_CONNECTIONS, BENCH_CPU_PROF=dir (the server runs with
 * --cpu-prof; where its time went is printed), BENCH_SERVER_NODE_FLAGS (e.g. --trace-gc),
 * BENCH_SERVER_LOG=file (everything the servers write).
 */
import { randomBytes } from "node:crypto"
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs"
import { cpus, loadavg, tmpdir, totalmem } from "node:os"
import { join, resolve } from "node:path"
import { monitorEventLoopDelay } from "node:perf_hooks"
import { startNatsServer, type NatsServer } from "../test/support/natsServer.ts"
import { freePort, startPgServer, type PgServer } from "../test/support/pgServer.ts"
import { type AutocannonRun, runAutocannon } from "./bench/ingress-autocannon.ts"
import { type Delivery, makeDeliverySource } from "./bench/ingress-deliveries.ts"
import { drainNatsIds, keyOf, type LogContents, natsPending, pgCount, postmasterPid, readPgliteTables, readPgTables } from "./bench/ingress-log.ts"
import { runPaced } from "./bench/ingress-paced.ts"
import { summarizeCpuProfile } from "./bench/ingress-profile.ts"
import { type IngressRow, formatIngressTable } from "./bench/ingress-report.ts"
import { memoryOf, startServer } from "./bench/ingress-server.ts"
import { percentile } from "./bench/pipeline-report.ts"
import { cpuSecondsOf, findPidByCmdline, machineBusySeconds } from "./bench/proc.ts"
import { bool, num } from "./bench/env.ts"
import { makeCleanups } from "./bench/cleanups.ts"

// ------------------------------------------------------------------ configuration

type Mode = "nats-ingress" | "nats-all" | "pg-ingress" | "pg-all" | "pglite-all"
type RunKind = "max" | "paced" | "ac-rate"
const allModes: ReadonlyArray<Mode> = ["nats-ingress", "nats-all", "pg-ingress", "pg-all", "pglite-all"]
const allRuns: ReadonlyArray<RunKind> = ["max", "paced", "ac-rate"]

const names = <A extends string>(name: string, known: ReadonlyArray<A>, fallback: ReadonlyArray<A>): ReadonlyArray<A> => {
  const raw = process.env[name]
  if (raw === undefined || raw.trim() === "") return fallback
  const values = raw.split(",").map((s) => s.trim()).filter((s) => s !== "")
  for (const v of values) if (!known.includes(v as A)) throw new Error(`${name}: unknown ${JSON.stringify(v)} (known: ${known.join(", ")})`)
  return values as Array<A>
}

const cfg = {
  modes: names("BENCH_MODES", allModes, allModes),
  /** undefined: max, paced, ac-rate for role ingress; max, paced for role all (whose backlog must drain after each). */
  runs: process.env.BENCH_RUNS?.trim() ? names("BENCH_RUNS", allRuns, allRuns) : undefined,
  adaptRate: bool("BENCH_ADAPT_RATE", true),
  settleSeconds: num("BENCH_SETTLE", 5),
  duration: Math.max(1, num("BENCH_DURATION", 10)),
  warmup: num("BENCH_WARMUP", 3),
  connections: Math.max(1, Math.round(num("BENCH_CONNECTIONS", 100))),
  rate: Math.max(1, num("BENCH_RATE", 3000)),
  pgliteRate: Math.max(1, num("BENCH_PGLITE_RATE", 300)),
  pacedConnections: Math.max(1, Math.round(num("BENCH_PACED_CONNECTIONS", 200))),
  shops: Math.max(1, Math.round(num("BENCH_SHOPS", 1000))),
  pool: Math.round(num("BENCH_POOL", 120_000)),
  pgDurable: bool("BENCH_PG_DURABLE", true),
  drainSeconds: num("BENCH_DRAIN_SECONDS", 60),
  targetRate: num("BENCH_TARGET_RATE", 3000),
  targetP99: num("BENCH_TARGET_P99_MS", 50),
  cpuProfDir: process.env.BENCH_CPU_PROF?.trim() || undefined,
  /** Extra Node flags for the server process (e.g. --max-semi-space-size=64, --trace-gc). */
  serverNodeFlags: (process.env.BENCH_SERVER_NODE_FLAGS ?? "").split(/\s+/).filter((f) => f !== ""),
  /** A file that receives everything the servers write (their logs). */
  serverLog: process.env.BENCH_SERVER_LOG?.trim() || undefined,
  serverLogLevel: process.env.BENCH_SERVER_LOG_LEVEL?.trim() || "info"
}

const modeLabel: Record<Mode, string> = {
  "nats-ingress": "JetStream, ingress",
  "nats-all": "JetStream, all",
  "pg-ingress": "embedded PG15, ingress",
  "pg-all": "embedded PG15, all",
  "pglite-all": "PGlite (default), all"
}
const roleOf = (m: Mode) => (m.endsWith("-all") ? "all" : "ingress")

const SECRET = "bench-ingress-app-secret"
const out = (s: string) => process.stdout.write(s + "\n")

// ------------------------------------------------------------------ main

const rows: Array<IngressRow> = []
const notes: Array<string> = []
const { steps: cleanups, run: cleanup } = makeCleanups()
let failed = false

const started = performance.now()
out("bench:ingress — signed webhooks → durable publish → 200, against `sumeru start` (a child process)")
out(`  modes         ${cfg.modes.join(", ")} (BENCH_MODES)`)
out(`  runs          ${cfg.runs?.join(", ") ?? "max, paced, ac-rate (role ingress); max, paced (role all)"} (BENCH_RUNS), ${cfg.duration} s each (BENCH_DURATION), ` +
  `${cfg.settleSeconds} s apart (BENCH_SETTLE), after a ${cfg.warmup} s warm-up (BENCH_WARMUP)`)
out(`  load          max: ${cfg.connections} connections closed loop (BENCH_CONNECTIONS); paced: ${cfg.rate}/s open loop over ≤ ${cfg.pacedConnections} connections` +
  ` (BENCH_RATE, BENCH_PACED_CONNECTIONS); PGlite at ${cfg.pgliteRate}/s (BENCH_PGLITE_RATE);\n` +
  `                ${cfg.adaptRate ? "when max sustained less than that (run + drain), paced and ac-rate run at 80 % of what it sustained" : "paced and ac-rate always at that rate"} (BENCH_ADAPT_RATE)`)
out(`  deliveries    new events over ${cfg.shops} shops (BENCH_SHOPS), ${cfg.pool.toLocaleString("en-US")} generated ahead (BENCH_POOL)`)
out(`  PostgreSQL    ${cfg.pgDurable ? "durable: fsync + synchronous_commit on" : "NON-durable: fsync off"} (BENCH_PG_DURABLE); actors' backlog drained ≤ ${cfg.drainSeconds} s after each run (BENCH_DRAIN_SECONDS)`)
out(`  server        node ${cfg.serverNodeFlags.length > 0 ? cfg.serverNodeFlags.join(" ") + " " : ""}src/cli.ts start --role all|ingress --log-level ${cfg.serverLogLevel}` +
  ` (BENCH_SERVER_NODE_FLAGS, BENCH_SERVER_LOG_LEVEL); its output: ${cfg.serverLog ?? "kept in memory, errors reported"} (BENCH_SERVER_LOG=file)`)
out(`  goal          ≥ ${cfg.targetRate}/s sustained, p99 < ${cfg.targetP99} ms at ${cfg.rate}/s (BENCH_TARGET_RATE, BENCH_TARGET_P99_MS); CPU profiles: ${cfg.cpuProfDir ?? "off"} (BENCH_CPU_PROF=dir)`)
out(`  machine       ${cpus().length} cores (${cpus()[0]?.model ?? "?"}), ${(totalmem() / 2 ** 30).toFixed(1)} GiB, Node ${process.version}, load average ${loadavg().map((l) => l.toFixed(2)).join(" ")}`)

try {
  const t = performance.now()
  const source = makeDeliverySource({ secret: SECRET, shops: cfg.shops, poolSize: cfg.pool, tag: Date.now() % 0xffffffff })
  out(`  generated     ${cfg.pool.toLocaleString("en-US")} signed deliveries in ${((performance.now() - t) / 1000).toFixed(1)} s, average body ${Math.round(source.averageBodyBytes())} bytes\n`)

  const needPg = cfg.modes.some((m) => m.startsWith("pg-") || m.startsWith("nats-"))
  const pg: PgServer | null = needPg ? await startPgServer({ durable: cfg.pgDurable }) : null
  if (pg !== null) {
    cleanups.push(["PostgreSQL", () => pg.stop()])
    out(`PostgreSQL ${pg.version} on port ${pg.port} (${cfg.pgDurable ? "durable" : "fsync off"})`)
  }
  const pgPid = pg === null ? null : postmasterPid(pg.url)
  if (cfg.cpuProfDir !== undefined) mkdirSync(cfg.cpuProfDir, { recursive: true })

  for (const mode of cfg.modes) {
    out(`\n${modeLabel[mode]}:`)
    try {
      await runMode(mode, pg, pgPid, source)
    } catch (e) {
      failed = true
      const message = e instanceof Error ? e.message : String(e)
      out(`  FAILED: ${message}`)
      rows.push(failedRow(modeLabel[mode], message.split("\n")[0]!))
    }
  }
} catch (e) {
  failed = true
  process.stderr.write(`bench:ingress failed: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`)
} finally {
  await cleanup()
}

out(`\n${formatIngressTable(rows)}\n`)
for (const n of notes) out(n)
out([
  "",
  "2xx/s: deliveries answered 2xx per second of the run (each one published durably first). Latency: request written →",
  "response read (max, ac-rate: autocannon), or due time → response read (paced: open loop, queueing for a connection",
  "included). goal: max ≥ target rate; paced / ac-rate: p99 < target and ≥ 99 % of the offered rate answered 2xx",
  "(\"-\": run below the target rate, \"80 % of max\": the max run sustained less than the target, see BENCH_ADAPT_RATE).",
  "Durable: PostgreSQL commits with fsync (embedded log); a JetStream PubAck means stored by nats-server, which",
  "fsyncs its file store periodically (nats-server 2.9 sync_interval), not per message.",
  "CPU columns: cores busy on average during the run (this machine has " + cpus().length + "): the server process, PostgreSQL (postmaster",
  "and backends), nats-server, the load generator (this process) and everything else on the machine (other CPU:",
  "processes not ours; rows are comparable only when it is near 0). RSS: the server's peak VmRSS sampled during the run.",
  "drain: with role all, seconds after the run until the actors had consumed the whole log (\"> N\" = not within the limit).",
  `Total run time ${((performance.now() - started) / 1000).toFixed(0)} s.`
].join("\n"))
if (failed) process.exitCode = 1

// ------------------------------------------------------------------ one mode

async function runMode(mode: Mode, pg: PgServer | null, pgPid: number | null, source: ReturnType<typeof makeDeliverySource>) {
  source.reset()
  const label = modeLabel[mode]
  const role = roleOf(mode)
  const modeCleanups: Array<() => Promise<void> | void> = []
  const runCleanups = async () => {
    for (const fn of modeCleanups.reverse()) await fn()
    modeCleanups.length = 0
  }
  cleanups.push([label, runCleanups])
  try {
    // ---- backing services and the server's environment
    const env: Record<string, string | undefined> = Object.fromEntries(
      Object.entries(process.env).filter(([k]) => !/^(DATABASE_URL|NATS_URL|PORT|SUMERU_|SHOPIFY_|DEMO_|LOG_|BENCH_)/.test(k))
    )
    const dataDir = mkdtempSync(join(tmpdir(), "sumeru-bench-ingress-"))
    modeCleanups.push(() => rmSync(dataDir, { recursive: true, force: true }))
    Object.assign(env, { SHOPIFY_API_KEY: "bench-ingress-api-key", SHOPIFY_API_SECRET: SECRET, SUMERU_DATA_DIR: dataDir, LOG_FORMAT: "json" })
    let dbUrl: string | null = null
    let nats: NatsServer | null = null
    let natsPid: number | null = null
    if (mode !== "pglite-all") {
      dbUrl = pg!.createDatabase(`bench_ingress_${mode.replace("-", "_")}_${Date.now().toString(36)}`)
      Object.assign(env, {
        DATABASE_URL: dbUrl,
        SUMERU_ENCRYPTION_KEYS: JSON.stringify({ bench: randomBytes(32).toString("base64") }),
        SUMERU_ENCRYPTION_KEY_ID: "bench"
      })
    }
    if (mode.startsWith("nats-")) {
      nats = await startNatsServer()
      const n = nats
      modeCleanups.push(() => n.stop())
      natsPid = findPidByCmdline("nats-server", String(nats.port))
      env.NATS_URL = nats.url
    }
    const logPending = async (): Promise<number | null> =>
      nats !== null ? natsPending(nats.url) : dbUrl !== null ? pgCount(dbUrl, "shop_log") : null

    // ---- the server
    const port = await freePort()
    const profName = `ingress-${mode}-${Date.now()}.cpuprofile`
    const execArgv = [
      ...cfg.serverNodeFlags,
      ...(cfg.cpuProfDir === undefined ? [] : ["--cpu-prof", `--cpu-prof-dir=${resolve(cfg.cpuProfDir)}`, `--cpu-prof-name=${profName}`])
    ]
    const t0 = performance.now()
    const server = await startServer({ role, port, env, execArgv, logFile: cfg.serverLog, logLevel: cfg.serverLogLevel })
    modeCleanups.push(() => server.stop(5000))
    out(`  server pid ${server.pid} ready on port ${port} in ${((performance.now() - t0) / 1000).toFixed(1)} s, RSS ${Math.round(memoryOf(server.pid)?.rss ?? 0)} MB` +
      `${nats !== null ? `; nats-server on port ${nats.port}` : ""}${dbUrl !== null ? `; database ${new URL(dbUrl).pathname.slice(1)}` : `; PGlite in ${dataDir}`}`)

    const modePgPid = mode === "pglite-all" ? null : pgPid
    const acked: Array<Delivery> = []
    const onAcked = (d: Delivery) => void acked.push(d)
    const checkAlive = () => {
      const exit = server.exited()
      if (exit !== null) {
        const natsAlive = natsPid === null ? "" : `; nats-server ${cpuSecondsOf(natsPid, false) === null ? "gone" : "still running"}`
        throw new Error(`the server exited (${JSON.stringify(exit)}${natsAlive}); its last output:\n${server.output().slice(-15).join("\n")}`)
      }
    }

    // A failure (the server crashed) still gets every delivery it answered 2xx checked below.
    let runFailure: unknown = null
    try {
      // ---- warm-up (JIT, connection pools, cold shop actors)
      if (cfg.warmup > 0) {
        const w = await runAutocannon({ url: server.url, connections: cfg.connections, durationSeconds: cfg.warmup, next: source.next, onAcked })
        out(`  warm-up ${cfg.warmup} s: ${w.ok2xx.toLocaleString("en-US")} × 2xx, ${w.non2xx} non-2xx, ${w.errors} errors`)
        checkAlive()
        if (role === "all") await drain(logPending)
      }

      // ---- the measured runs
      const targetRate = mode === "pglite-all" ? cfg.pgliteRate : cfg.rate
      // What the closed-loop run sustained end to end (2xx per second of run + drain), if it ran first.
      let sustained: number | null = null
      const runs = cfg.runs ?? (role === "all" ? ["max", "paced"] as const : allRuns)
      for (const [i, kind] of runs.entries()) {
        // Pacing above what the max run sustained only measures a growing queue: pace at 80 % of it then.
        const rate = cfg.adaptRate && sustained !== null && sustained < targetRate ? Math.max(1, Math.floor(0.8 * sustained)) : targetRate
        // let the previous run's aftermath (PostgreSQL autovacuum and checkpoint, the server's GC) pass
        if (i > 0 && cfg.settleSeconds > 0) await new Promise((r) => setTimeout(r, cfg.settleSeconds * 1000))
        const before = readCpu(server.pid, modePgPid, natsPid)
        let peakRss = 0
        const sampler = setInterval(() => {
          const m = memoryOf(server.pid)
          if (m !== null) peakRss = Math.max(peakRss, m.rss)
        }, 200)
        const onDemandBefore = source.generatedOnDemand()
        // the load generator's own stalls (GC, timers) delay requests too: measured, reported when large
        const loopDelay = monitorEventLoopDelay({ resolution: 5 })
        loopDelay.enable()
        let result: AutocannonRun | Awaited<ReturnType<typeof runPaced>>
        let offered: number | null
        let connections: number
        if (kind === "paced") {
          offered = rate
          connections = cfg.pacedConnections
          result = await runPaced({
            host: "127.0.0.1", port, path: "/webhooks/shopify", rate, durationSeconds: cfg.duration,
            connections: cfg.pacedConnections, next: source.next, onAcked
          })
        } else {
          offered = kind === "ac-rate" ? rate : null
          connections = cfg.connections
          result = await runAutocannon({ url: server.url, connections, durationSeconds: cfg.duration, overallRate: offered ?? undefined, next: source.next, onAcked })
        }
        clearInterval(sampler)
        loopDelay.disable()
        const stallMs = loopDelay.max / 1e6
        const after = readCpu(server.pid, modePgPid, natsPid)
        const m = memoryOf(server.pid)
        if (m !== null) peakRss = Math.max(peakRss, m.rss)
        const seconds = kind === "paced" ? Math.max(cfg.duration, result.elapsedSeconds) : cfg.duration
        const wall = after.at - before.at
        // a process that exited meanwhile (a PostgreSQL backend) takes its CPU time along: no reading
        const cores = (a: number | null, b: number | null) => (a === null || b === null || b < a ? null : (b - a) / wall)
        const ours = [cores(before.server, after.server), cores(before.pg, after.pg), cores(before.nats, after.nats), cores(before.self, after.self)]
        const machine = cores(before.machine, after.machine)
        const lat = result.latencies
        const achieved = result.ok2xx / seconds
        const p99 = percentile(lat, 99)
        const errors = result.errors + ("timeouts" in result ? result.timeouts : 0)
        // a run below the target rate is informational: it cannot meet the goal, whatever its latency
        const ok = kind === "max"
          ? achieved >= cfg.targetRate
          : rate < cfg.targetRate ? null : p99 < cfg.targetP99 && result.ok2xx >= 0.99 * (offered ?? 0) * cfg.duration
        let drainSeconds: number | null = null
        if (role === "all") drainSeconds = await drain(logPending)
        if (kind === "max") sustained = result.ok2xx / (seconds + Math.min(drainSeconds ?? 0, cfg.drainSeconds))
        const onDemand = source.generatedOnDemand() - onDemandBefore
        const statusNote = Object.entries(result.statusCounts).filter(([c]) => !c.startsWith("2")).map(([c, n]) => `${n} × ${c}`).join(", ")
        rows.push({
          mode: label,
          run: kind === "max"
            ? `max, ${connections} conns`
            : `${kind === "paced" ? "paced" : "autocannon rate"} ${rate.toLocaleString("en-US")}/s${rate !== targetRate ? " (80 % of max)" : ""}`,
          offered,
          sent: result.sent,
          ok2xx: result.ok2xx,
          achieved,
          non2xx: result.non2xx,
          errors,
          p50: percentile(lat, 50),
          p95: percentile(lat, 95),
          p99,
          max: lat.length > 0 ? lat[lat.length - 1]! : NaN,
          serverCores: ours[0]!,
          pgCores: ours[1]!,
          natsCores: ours[2]!,
          loadCores: ours[3]!,
          // unknown when our own readings are gone (the server exited: its CPU time went with it)
        otherCores: machine === null || ours[0] === null ? null : Math.max(0, machine - ours.reduce<number>((s, c) => s + (c ?? 0), 0)),
          peakRssMb: peakRss,
          drainSeconds,
          drainLimit: cfg.drainSeconds,
          ok,
          note: [
            statusNote !== "" ? `non-2xx: ${statusNote}` : "",
            "maxQueued" in result && result.maxQueued > 0 ? `up to ${result.maxQueued} requests waited for a connection` : "",
            "unanswered" in result && result.unanswered > 0 ? `${result.unanswered} unanswered` : "",
            "samples" in result && result.samples.length > 0 ? `first non-2xx: ${result.samples[0]}` : "",
            stallMs > 20 ? `load generator event loop stalled up to ${Math.round(stallMs)} ms (p99 ${Math.round(loopDelay.percentile(99) / 1e6)} ms)` : "",
            onDemand > 0 ? `${onDemand.toLocaleString("en-US")} deliveries signed during the run (pool exhausted; BENCH_POOL)` : ""
          ].filter((s) => s !== "").join("; ") || undefined
        })
        out(`  ${rows[rows.length - 1]!.run}: ${result.ok2xx.toLocaleString("en-US")} × 2xx (${Math.round(achieved).toLocaleString("en-US")}/s), ` +
          `${result.non2xx} non-2xx, ${errors} errors; p50 ${percentile(lat, 50).toFixed(1)} ms, p99 ${p99.toFixed(1)} ms` +
          (drainSeconds !== null ? `; log consumed ${drainSeconds > cfg.drainSeconds ? `> ${cfg.drainSeconds}` : drainSeconds.toFixed(1)} s later` : ""))
        checkAlive()
      }
    } catch (e) {
      runFailure = e
    }

    // ---- stop the server, then check every 2xx delivery against the log
    const hwm = memoryOf(server.pid)?.hwm ?? null
    const stopping = performance.now()
    await server.stop(30_000)
    const stopSeconds = (performance.now() - stopping) / 1000
    const exit = server.exited()
    const errorLines = server.errorLines()
    let contents: LogContents
    if (mode === "pglite-all") {
      contents = await readPgliteTables(join(dataDir, "pglite"))
    } else if (nats !== null) {
      const tables = readPgTables(dbUrl!, false)
      contents = { ...tables, inLog: await drainNatsIds(nats.url) }
    } else {
      contents = readPgTables(dbUrl!, true)
    }
    let inLog = 0
    let processed = 0
    let dead = 0
    const missing: Array<string> = []
    const ackedKeys = new Set<string>()
    for (const d of acked) {
      const key = keyOf(d.shop, d.messageId)
      ackedKeys.add(key)
      if (contents.inLog.has(key)) inLog++
      else if (contents.processed.has(key)) processed++
      else if (contents.deadLettered.has(key)) dead++
      else missing.push(d.messageId)
    }
    let extra = 0
    for (const set of [contents.inLog, contents.processed]) for (const k of set) if (!ackedKeys.has(k)) extra++
    const verdict = missing.length === 0 ? "every one found" : `${missing.length} MISSING (e.g. ${missing.slice(0, 3).join(", ")})`
    const line = `${label}: ${acked.length.toLocaleString("en-US")} deliveries answered 2xx (warm-up included) — ${verdict}: ` +
      `${inLog.toLocaleString("en-US")} in the log, ${processed.toLocaleString("en-US")} handled by actors, ${dead} dead-lettered; ` +
      `${extra.toLocaleString("en-US")} more accepted than answered (answers cut off when a run ended). ` +
      `Server peak RSS (VmHWM) ${hwm === null ? "?" : `${Math.round(hwm)} MB`}; ` +
      (runFailure === null ? `stopped by SIGTERM in ${stopSeconds.toFixed(1)} s, exit ${exit?.signal ?? exit?.code ?? "?"}` : "it had exited on its own (see FAILED)") +
      (errorLines.length > 0 ? `; ${errorLines.length} error lines in its log, first: ${errorLines[0]!.slice(0, 300)}` : "; no errors logged") + "."
    notes.push(line)
    out(`  ${line}`)
    // exit code 1 also when the server needed SIGKILL (no graceful stop within 30 s)
    if (missing.length > 0 || exit === null || exit.code !== 0 || ackedKeys.size !== acked.length) failed = true
    if (ackedKeys.size !== acked.length) notes.push(`${label}: ${acked.length - ackedKeys.size} deliveries were answered 2xx twice (a generator bug).`)

    if (cfg.cpuProfDir !== undefined) {
      const file = readdirSync(cfg.cpuProfDir).find((f) => f === profName)
      if (file !== undefined) {
        const summary = summarizeCpuProfile(join(cfg.cpuProfDir, file), 15)
        notes.push(`${label}: server CPU profile ${join(cfg.cpuProfDir, file)}\n${summary}`)
        out(`  CPU profile: ${join(cfg.cpuProfDir, file)} (summary at the end)`)
      }
    }
    if (runFailure !== null) throw runFailure
  } finally {
    await runCleanups()
    const at = cleanups.findIndex(([n]) => n === label)
    if (at >= 0) cleanups.splice(at, 1)
  }
}

/** Waits until the log is empty (actors consumed it); seconds waited, or limit + 1 on time-out. */
async function drain(pending: () => Promise<number | null>): Promise<number | null> {
  const t = performance.now()
  for (;;) {
    const n = await pending()
    if (n === null) return null // PGlite: the database is inside the server
    if (n === 0) return (performance.now() - t) / 1000
    if ((performance.now() - t) / 1000 > cfg.drainSeconds) return cfg.drainSeconds + 1
    await new Promise((r) => setTimeout(r, 250))
  }
}

function readCpu(serverPid: number, pgPid: number | null, natsPid: number | null) {
  const u = process.cpuUsage()
  return {
    at: performance.now() / 1000,
    server: cpuSecondsOf(serverPid, false),
    pg: cpuSecondsOf(pgPid, true),
    nats: cpuSecondsOf(natsPid, false),
    self: (u.user + u.system) / 1e6,
    machine: machineBusySeconds()
  }
}

function failedRow(mode: string, failure: string): IngressRow {
  return {
    mode, run: "-", offered: null, sent: 0, ok2xx: 0, achieved: 0, non2xx: 0, errors: 0, p50: NaN, p95: NaN, p99: NaN, max: NaN,
    serverCores: null, pgCores: null, natsCores: null, loadCores: null, otherCores: null, peakRssMb: 0, drainSeconds: null,
    drainLimit: 0, ok: false, failed: failure
  }
}
