/**
 * `npm run bench:footprint` (issue 16 §4): the memory of `npm start` — the bundled server
 * (scripts/build-server.ts; `BENCH_FOOTPRINT_FROM=source` runs `src/cli.ts`) on its embedded
 * defaults (PGlite in the process, the demo shop with its simulators and 90 days of history) —
 * once it is idle: after its first start on an empty data directory, and after a restart on the
 * same directory (what a user sees the second time). Idle: ready, then no more than
 * BENCH_IDLE_CPU (5 %) of a core over a 5 s window (the demo's history applied), then left
 * alone BENCH_FOOTPRINT_QUIET_SECONDS (30) more: it is read then, with its CPU over that time.
 *
 * Printed per start: resident set now and at its peak (from /proc), and, from the server's own
 * `/metrics`, the V8 heap used and reserved and the memory outside it (`external`: PGlite's
 * WebAssembly memory, buffers). The rest of the resident set is native: code, the WebAssembly
 * modules' compiled code, malloc. Target: idle < 250 MB. A measurement, not a test.
 */
import { execFileSync, spawn } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { cpus, loadavg, tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { freePort } from "../test/support/pgServer.ts"
import { cpuSecondsOf, peakRssOfPid, rssOfPid } from "./bench/proc.ts"

const SETTLE_SECONDS = Number(process.env["BENCH_FOOTPRINT_SETTLE_SECONDS"] ?? 180)
const IDLE_CPU = Number(process.env["BENCH_IDLE_CPU"] ?? 0.05)
const WINDOW_SECONDS = 5
/** How long an idle server is left before it is read: V8 gives back the start's heap once the allocations stop. */
const QUIET_SECONDS = Number(process.env["BENCH_FOOTPRINT_QUIET_SECONDS"] ?? 30)
/** `bundle` (default): the server as `npm start` runs it, `dist/server/cli.js`; `source`: `src/cli.ts`. */
const FROM = process.env["BENCH_FOOTPRINT_FROM"] === "source" ? "source" : "bundle"
const ENTRY = fileURLToPath(new URL(FROM === "source" ? "../src/cli.ts" : "../dist/server/cli.js", import.meta.url))
/** Restarts measured on the same data directory: one reading of an idle process varies by ~10 MB. */
const RESTARTS = Math.max(1, Number(process.env["BENCH_FOOTPRINT_RESTARTS"] ?? 1))

const gauge = (text: string, name: string): number | null => {
  const m = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, "m").exec(text)
  return m === null ? null : Number(m[1]) / 1e6
}

const until = async (what: string, deadline: number, check: () => Promise<boolean>) => {
  for (;;) {
    if (await check()) return
    if (performance.now() > deadline) throw new Error(`${what}: not within ${SETTLE_SECONDS} s`)
    await new Promise((r) => setTimeout(r, 250))
  }
}

interface Reading {
  readonly label: string
  readonly readySeconds: number
  readonly idleSeconds: number
  /** Cores busy while idle (timers, polls). */
  readonly idleCpu: number
  readonly rssMb: number | null
  readonly peakMb: number | null
  readonly heapUsedMb: number | null
  readonly heapTotalMb: number | null
  readonly externalMb: number | null
}

/** Starts the server on `dataDir`, waits until it is idle, reads its memory, stops it. */
const measure = async (label: string, dataDir: string): Promise<Reading> => {
  const port = await freePort()
  const env: Record<string, string | undefined> = { ...process.env, SUMERU_DATA_DIR: dataDir, PORT: String(port) }
  // the embedded defaults, as `npm start` on a fresh machine
  for (const name of ["DATABASE_URL", "NATS_URL", "SHOPIFY_API_KEY", "SHOPIFY_API_SECRET"]) delete env[name]
  const started = performance.now()
  const child = spawn(process.execPath, [ENTRY, "start"], { env, stdio: ["ignore", "ignore", "pipe"] })
  let stderr = ""
  child.stderr!.on("data", (c: Buffer) => (stderr = (stderr + c.toString()).slice(-4_000)))
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()))
  try {
    const deadline = started + SETTLE_SECONDS * 1000
    const base = `http://127.0.0.1:${port}`
    await until("ready", deadline, async () => {
      if (child.exitCode !== null) throw new Error(`the server exited (${child.exitCode}): ${stderr}`)
      return fetch(`${base}/readyz`).then((r) => r.ok, () => false)
    })
    const ready = performance.now()
    // idle: a whole window with the server's CPU under IDLE_CPU of a core
    let windowStart = performance.now()
    let cpuStart = cpuSecondsOf(child.pid!, false) ?? 0
    await until("idle", deadline, async () => {
      const elapsed = (performance.now() - windowStart) / 1000
      if (elapsed < WINDOW_SECONDS) return false
      const cpu = cpuSecondsOf(child.pid!, false) ?? 0
      const busy = (cpu - cpuStart) / elapsed
      windowStart = performance.now()
      cpuStart = cpu
      return busy < IDLE_CPU
    })
    const idle = performance.now()
    const quietCpu = cpuSecondsOf(child.pid!, false) ?? 0
    await new Promise((r) => setTimeout(r, QUIET_SECONDS * 1000))
    const idleCpu = ((cpuSecondsOf(child.pid!, false) ?? 0) - quietCpu) / QUIET_SECONDS
    const metrics = await fetch(`${base}/metrics`).then((r) => r.text())
    return {
      label,
      readySeconds: (ready - started) / 1000,
      idleSeconds: (idle - started) / 1000,
      idleCpu,
      rssMb: rssOfPid(child.pid!) ?? gauge(metrics, "process_resident_memory_bytes"),
      peakMb: peakRssOfPid(child.pid!),
      heapUsedMb: gauge(metrics, "nodejs_heap_size_used_bytes"),
      heapTotalMb: gauge(metrics, "nodejs_heap_size_total_bytes"),
      externalMb: gauge(metrics, "nodejs_external_memory_bytes")
    }
  } finally {
    child.kill("SIGTERM")
    await exited
  }
}

const mb = (x: number | null) => (x === null ? "–" : `${x.toFixed(0)} MB`)

if (FROM === "bundle") execFileSync(process.execPath, [fileURLToPath(new URL("build-server.ts", import.meta.url)), "--if-stale"], { stdio: "inherit" })
const dataDir = mkdtempSync(join(tmpdir(), "sumeru-footprint-"))
try {
  console.log(`npm start's footprint: the server (${FROM === "bundle" ? "bundled, as npm start runs it" : "from source"}) on its embedded defaults (PGlite, demo shop), idle (node ${process.version}, ${cpus().length} cores, load ${loadavg()[0]!.toFixed(2)})`)
  const first = await measure("first start (empty data directory)", dataDir)
  const again: Array<Reading> = []
  for (let i = 1; i <= RESTARTS; i++) again.push(await measure(RESTARTS === 1 ? "restart (same data directory)" : `restart ${i} (same data directory)`, dataDir))
  console.log("")
  console.log(`| start | ready after | idle after | CPU when idle | RSS ${QUIET_SECONDS} s later | RSS peak | V8 heap used / reserved | external (PGlite's memory, buffers) | native rest | target |`)
  console.log("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
  for (const r of [first, ...again]) {
    const rest = r.rssMb === null || r.heapTotalMb === null || r.externalMb === null ? null : r.rssMb - r.heapTotalMb - r.externalMb
    const verdict = r.rssMb === null ? "" : r.rssMb < 250 ? "ok < 250 MB" : "MISS < 250 MB"
    console.log(`| ${r.label} | ${r.readySeconds.toFixed(1)} s | ${r.idleSeconds.toFixed(1)} s | ${(r.idleCpu * 100).toFixed(1)} % | ${mb(r.rssMb)} | ${mb(r.peakMb)} | ${mb(r.heapUsedMb)} / ${mb(r.heapTotalMb)} | ${mb(r.externalMb)} | ${mb(rest)} | ${verdict} |`)
  }
  console.log("")
  console.log("native rest = RSS − V8 heap reserved − external: code, compiled WebAssembly, malloc. `external` counts the WebAssembly memory's whole size, touched or not, so the rest can come out low or negative.")
} finally {
  rmSync(dataDir, { recursive: true, force: true })
}
