/**
 * `npm run bench`: every benchmark, one after another, at one scale, and `BENCHMARKS.md` written
 * from what they printed — a section per area with its targets, its peer where one runs beside
 * it (Emmett 0.42's event store for appends, `bench:compare`), the machine (cores, load before
 * and after) and the date. A measurement, never a test: it asserts nothing, and a benchmark that
 * fails is reported in its section (exit code 1 at the end, so CI notices a benchmark that no
 * longer runs).
 *
 * `BENCH_SCALE` (default 1) scales each benchmark's size or duration through its own knobs
 * (below); CI runs it at 0.02 to keep it working. `BENCH_ONLY=appends,pipeline` runs some areas
 * and, when the file exists, replaces only their sections (the header says when they were run
 * again); `BENCH_OUT` names the file (default `BENCHMARKS.md`). Each benchmark runs in a child process
 * of its own with a time limit (`BENCH_AREA_TIMEOUT` seconds, default 900 × scale, at least 180).
 */
import { spawn } from "node:child_process"
import { existsSync, readFileSync, writeFileSync } from "node:fs"
import { cpus, loadavg, totalmem } from "node:os"
import { resolve } from "node:path"

const scale = Number(process.env["BENCH_SCALE"] ?? "1")
if (!(scale > 0)) throw new Error(`BENCH_SCALE must be a positive number, got ${process.env["BENCH_SCALE"]}`)
const only = (process.env["BENCH_ONLY"] ?? "").split(",").map((s) => s.trim()).filter((s) => s.length > 0)
const out = resolve(process.env["BENCH_OUT"] ?? "BENCHMARKS.md")
const areaTimeoutSeconds = Number(process.env["BENCH_AREA_TIMEOUT"] ?? Math.max(180, 900 * scale))

/** `n` scaled, at least `min`, as a string for an environment variable. */
const scaled = (n: number, min: number): string => String(Math.max(min, Math.round(n * scale)))

interface Area {
  readonly id: string
  readonly title: string
  readonly script: string
  readonly args?: ReadonlyArray<string>
  readonly nodeFlags?: ReadonlyArray<string>
  readonly env: Readonly<Record<string, string>>
  /** The issue's targets for the area, and the peer it is measured against. */
  readonly targets: ReadonlyArray<string>
  /** Its time limit at least this (s): waits that do not shrink with the scale. */
  readonly minTimeoutSeconds?: number
}

const areas: ReadonlyArray<Area> = [
  {
    id: "appends",
    title: "Appends and the projector beside Emmett (same PostgreSQL 15 server, same run)",
    script: "scripts/bench-compare.ts",
    env: { BENCH_SCALE: String(scale) },
    targets: [
      "Sumeru ÷ Emmett 0.42 ≥ 2 on every append row (issue 16 §1)",
      "the projector row: both stores' logs projected into the same read model (no target; issue 16 measured Sumeru's rebuild 7–8× Emmett's)"
    ]
  },
  {
    id: "store",
    title: "Event store: appends, projection catch-up and rebuild (PostgreSQL 15 and PGlite)",
    script: "scripts/bench-store.ts",
    env: { BENCH_SCALE: String(scale) },
    targets: ["the rebuild rows: ≥ 35,000 events/s (issue 10); Emmett's projector runs beside Sumeru's in the appends area"]
  },
  {
    id: "pipeline",
    title: "Pipeline: publish → shop actor → events committed",
    script: "scripts/bench-pipeline.ts",
    env: {
      BENCH_SCALE: String(scale),
      BENCH_SHOPS: scaled(10_000, 100),
      BENCH_PGLITE_SHOPS: scaled(1_000, 50)
    },
    // per backend, the footprint after passivation waits 30 s for the actors and 45 s for the idle release
    minTimeoutSeconds: 480,
    targets: [
      "embedded log on PostgreSQL: p95 < 50 ms at 1,000 msg/s over 10,000 shops (§2)",
      "PGlite (`npm start`'s default): ≥ 1,000 msg/s sustained, p95 < 100 ms (§2)",
      "JetStream + PostgreSQL: ≥ 5,000 msg/s sustained with p95 < 250 ms; p95 < 50 ms at 1,000 msg/s (§3)"
    ]
  },
  {
    id: "ingress",
    title: "Ingress: signed webhooks → durable publish → 200",
    script: "scripts/bench-ingress.ts",
    env: {
      BENCH_DURATION: scaled(10, 1),
      BENCH_WARMUP: scaled(3, 1),
      BENCH_SETTLE: scaled(5, 1),
      BENCH_DRAIN_SECONDS: scaled(60, 10),
      BENCH_POOL: scaled(120_000, 5_000)
    },
    targets: ["p99 < 50 ms at a steady 3,000 webhooks/s (§5)"]
  },
  {
    id: "bulk",
    title: "Flowmend bulk job: 1,000,000 products (the adapter's pipeline; the job's own steps at a job's cap of 100,000 and at 1,000,000)",
    script: "scripts/bench-bulk.ts",
    args: [scaled(1_000_000, 2_000)],
    env: {},
    targets: ["peak RSS < 200 MB for 1,000,000 products (§4); the job's own steps are what a worker runs (a job is capped at 100,000 products)"]
  },
  {
    id: "rules",
    title: "Decision plane: backtest throughput and live rules",
    script: "scripts/bench-rules.ts",
    // the Shopify simulator in a process of its own: Shopify is not in the worker's process
    env: { BENCH_TRIGGERS: scaled(1_000_000, 2_000), BENCH_LIVE_SECONDS: scaled(20, 1), BENCH_SHOPS: scaled(1_000, 20), BENCH_RATES: "100,200,500", BENCH_SIM: "process" },
    targets: ["backtest ≥ 200,000 triggers/s; live p95 < 100 ms at 500 triggers/s (issue 11, kept by §6)"]
  },
  {
    id: "intelligence",
    title: "Intelligence plane: attribution and SEO detectors over a shop's history",
    script: "scripts/bench-intelligence.ts",
    nodeFlags: ["--expose-gc"],
    env: {
      BENCH_TOUCHES: scaled(1_000_000, 2_000),
      BENCH_CUSTOMERS: scaled(10_000, 100),
      BENCH_ORDERS: scaled(100_000, 500),
      BENCH_PAGES: scaled(10_000, 50),
      BENCH_LIVE_SECONDS: scaled(15, 1)
    },
    targets: ["seven models over the whole history < 10 s, peak RSS < 500 MB; live attribution p95 < 1 s (issue 13, kept by §6)"]
  },
  {
    id: "outbound",
    title: "Action plane: outbound webhook deliveries",
    script: "scripts/bench-outbound.ts",
    env: { BENCH_SECONDS: scaled(20, 1), BENCH_SHOPS: scaled(200, 10) },
    targets: ["deliveries keep up with the triggers; added latency p95 (issue 12, kept by §6)"]
  },
  {
    id: "footprint",
    title: "Footprint: `npm start` idle (PGlite and the demo shop in the process)",
    script: "scripts/bench-footprint.ts",
    env: { BENCH_FOOTPRINT_QUIET_SECONDS: scaled(30, 1) },
    targets: ["`npm start` idle < 250 MB RSS, the demo catalog and PGlite included (§4)"]
  },
  {
    id: "ai",
    title: "AI gateway overhead at 1,000 requests/s",
    script: "scripts/bench-ai.ts",
    env: { BENCH_AI_SECONDS: scaled(10, 1), BENCH_AI_SHOPS: scaled(1_000, 20) },
    targets: ["overhead p50 < 2 ms, p99 < 10 ms (issue 14; LiteLLM publishes a median of 2–12 ms, p99 13–43 ms)"]
  }
]

interface Outcome {
  readonly area: Area
  readonly code: number | null
  readonly seconds: number
  readonly stdout: string
  readonly stderrTail: string
}

/** Runs one benchmark in a child process (the same pinned Node), its output captured. */
const run = (area: Area): Promise<Outcome> =>
  new Promise((done) => {
    const started = performance.now()
    const timeoutSeconds = Math.max(areaTimeoutSeconds, area.minTimeoutSeconds ?? 0)
    const child = spawn(process.execPath, [...process.execArgv, ...(area.nodeFlags ?? []), area.script, ...(area.args ?? [])], {
      env: { ...process.env, ...area.env },
      stdio: ["ignore", "pipe", "pipe"],
      detached: true
    })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString()
      process.stdout.write(chunk)
    })
    child.stderr.on("data", (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-20_000)
      process.stderr.write(chunk)
    })
    const timer = setTimeout(() => {
      stderr += `\n(stopped after ${timeoutSeconds} s: BENCH_AREA_TIMEOUT)`
      // the whole group: benchmarks start servers of their own
      try {
        process.kill(-child.pid!, "SIGTERM")
      } catch {
        // already gone
      }
    }, timeoutSeconds * 1000)
    child.on("close", (code) => {
      clearTimeout(timer)
      done({ area, code, seconds: (performance.now() - started) / 1000, stdout, stderrTail: stderr.split("\n").slice(-15).join("\n") })
    })
  })

/** A benchmark's output for the file: markdown tables as they are, anything else as text. */
const asMarkdown = (text: string): string => {
  const blocks: Array<string> = []
  let plain: Array<string> = []
  let table: Array<string> = []
  const flushPlain = () => {
    const body = plain.join("\n").trim()
    if (body.length > 0) blocks.push("```text\n" + body + "\n```")
    plain = []
  }
  const flushTable = () => {
    if (table.length > 0) blocks.push(table.join("\n"))
    table = []
  }
  for (const line of text.split("\n")) {
    if (line.startsWith("|")) {
      flushPlain()
      table.push(line)
    } else {
      flushTable()
      plain.push(line)
    }
  }
  flushPlain()
  flushTable()
  return blocks.join("\n\n")
}

const machine = () =>
  `${cpus().length} cores (${cpus()[0]?.model.trim() ?? "?"}), ${(totalmem() / 2 ** 30).toFixed(1)} GiB, Node ${process.version}, load average ${loadavg().map((l) => l.toFixed(2)).join(" ")}`

const selected = areas.filter((a) => only.length === 0 || only.includes(a.id))
const unknown = only.filter((id) => !areas.some((a) => a.id === id))
if (unknown.length > 0) throw new Error(`BENCH_ONLY: unknown areas ${unknown.join(", ")} (known: ${areas.map((a) => a.id).join(", ")})`)

const startedAt = new Date()
const machineBefore = machine()
const outcomes: Array<Outcome> = []
for (const area of selected) {
  process.stderr.write(`\n=== ${area.id}: ${area.title}\n`)
  outcomes.push(await run(area))
}

const sections = outcomes.map((o) => {
  const env = Object.entries(o.area.env).map(([k, v]) => `${k}=${v}`).join(" ")
  const command = `${env.length > 0 ? env + " " : ""}node ${(o.area.nodeFlags ?? []).map((f) => f + " ").join("")}${o.area.script}${o.area.args ? " " + o.area.args.join(" ") : ""}`
  return [
    // lets a later BENCH_ONLY run replace this section alone
    `<!-- area:${o.area.id} -->`,
    `## ${o.area.title}`,
    "",
    ...o.area.targets.map((t) => `- Target: ${t}`),
    `- Command: \`${command}\` (${o.seconds.toFixed(0)} s${o.code === 0 ? "" : `, **failed: exit code ${o.code ?? "signal"}**`})`,
    "",
    asMarkdown(o.stdout),
    ...(o.code === 0 ? [] : ["", "Last lines of its error output:", "", "```text\n" + o.stderrTail.trim() + "\n```"])
  ].join("\n")
})

const stamp = (d: Date) => `${d.toISOString().slice(0, 16).replace("T", " ")} UTC`

if (only.length > 0 && existsSync(out)) {
  const [head = "", ...parts] = readFileSync(out, "utf8").split(/(?=<!-- area:)/)
  const kept = new Map(parts.map((part) => [/<!-- area:([\w-]+) -->/.exec(part)?.[1] ?? "", part.trimEnd()]))
  outcomes.forEach((o, i) => kept.set(o.area.id, sections[i]!))
  // an earlier re-run of these areas (or of some of them) is superseded by this one
  const rerun = new Set(outcomes.map((o) => o.area.id))
  const again = `at BENCH_SCALE ${scale}: ${[...rerun].join(", ")}; machine then:`
  const supersededBy = (line: string) => {
    const areasOf = /^- Run again on .*?: ([\w, -]+); machine then:/.exec(line)?.[1]
    return areasOf !== undefined && areasOf.split(", ").every((id) => rerun.has(id))
  }
  const headLines = head.trimEnd().split("\n").filter((line) => !supersededBy(line))
  writeFileSync(out, [
    ...headLines,
    `- Run again on ${stamp(startedAt)} ${again} ${machineBefore}.`,
    "",
    ...areas.flatMap((a) => (kept.has(a.id) ? [kept.get(a.id)!, ""] : []))
  ].join("\n"))
} else {
  writeFileSync(out, [
    "# Benchmarks",
    "",
    `Written by \`npm run bench\` on ${stamp(startedAt)} at BENCH_SCALE ${scale}` +
    `${scale < 1 ? " (below 1: sizes and durations are cut, so the numbers show that the benchmarks run, not what Sumeru does)" : ""}.`,
    "",
    `- Machine: ${machineBefore}; after the run: load average ${loadavg().map((l) => l.toFixed(2)).join(" ")}.`,
    "- Absolute numbers on shared machines vary two- to threefold from day to day; compare ratios measured in one run" +
    " (the appends beside Emmett are).",
    `- Areas: ${outcomes.map((o) => `${o.area.id} ${o.seconds.toFixed(0)} s`).join(", ")}.`,
    "",
    ...sections.flatMap((s) => [s, ""])
  ].join("\n"))
}
process.stderr.write(`\nwrote ${out}\n`)
const failed = outcomes.filter((o) => o.code !== 0)
if (failed.length > 0) {
  process.stderr.write(`failed: ${failed.map((o) => o.area.id).join(", ")}\n`)
  process.exit(1)
}
