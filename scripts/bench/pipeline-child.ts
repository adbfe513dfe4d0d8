/**
 * One backend's run of `bench:pipeline`, in a process of its own (so peak RSS and CPU belong
 * to this backend alone): builds the real pipeline — database, shop log, shop actor runtime
 * with the test handlers — then offers load on a fixed schedule and measures when each
 * message's events are committed.
 *
 * Load (open loop): message i of a step is due at t0 + i/R. Due messages are published at
 * once, whatever has completed, as long as fewer than `maxInFlight` publishes are unanswered;
 * beyond that a due message waits for a slot, and the wait counts in its latency (latency is
 * measured from the *scheduled* time, so a slow system cannot hide behind a slow publisher).
 * Shops are drawn uniformly at random (seeded) from K shops.
 *
 * Commit time: the runtime's `ActorStore` is wrapped; when `commit` returns "applied" for a
 * message, its `apply_messages` statement has completed. The driver resolves a statement on
 * ReadyForQuery, which the server sends after the implicit transaction committed, so this is
 * the first moment anyone can know the events are committed (an upper bound by the loopback
 * hop and event-loop delay, ~0.1–1 ms). `events.recorded_at` is not used as the commit time:
 * it is `clock_timestamp()` at the INSERT, *inside* a batch transaction that commits later
 * (up to a whole batch's execution time later), so it would under-state latency — the run
 * reports the recorded_at-based p95 too, for comparison.
 */
import { mkdtempSync, rmSync } from "node:fs"
import { Socket } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Context, Duration, Effect, Layer, type LogLevel, Redacted, References } from "effect"
import { SqlClient } from "effect/sql"
import * as EmbeddedShopLog from "../../adapters/embedded/EmbeddedShopLog.ts"
import * as JetStreamShopLog from "../../adapters/nats/JetStreamShopLog.ts"
import * as PgActorStore from "../../adapters/postgres/PgActorStore.ts"
import * as PgPartitionLeases from "../../adapters/postgres/PgPartitionLeases.ts"
import { ActorStore } from "../../src/actors/ActorStore.ts"
import { type DatabaseMode, layerEmbedded, layerPostgres } from "../../adapters/postgres/Database.ts"
import * as ShopActorRuntime from "../../src/actors/ShopActorRuntime.ts"
import { coreLayer } from "../../src/CoreLayer.ts"
import * as IdleMemory from "../../src/server/IdleMemory.ts"
import { ShopLog } from "../../src/shoplog/ShopLog.ts"
import { shopName } from "../../test/support/pipeline.ts"
import { testHandlersLayer } from "../../test/support/testHandlers.ts"
import { backendLabels, type PipelineBackend, readConfig } from "./pipeline-config.ts"
import {
  type BackendSummary,
  encodeRow,
  fmtDur,
  percentile,
  type PipelineRow,
  ROW_PREFIX,
  SUMMARY_PREFIX
} from "./pipeline-report.ts"
import { cpuSecondsOf, machineBusySeconds, parentPid } from "./proc.ts"
import { testKeyRing } from "../../test/support/keys.ts"

export interface PipelineJob {
  readonly backend: PipelineBackend
  readonly pgUrl?: string | undefined
  readonly natsUrl?: string | undefined
  readonly natsPid?: number | null | undefined
}

interface Step {
  readonly name: string
  readonly kind: PipelineRow["kind"]
  /** Run only when the first (target) step missed: lower rates, to find what is sustained. */
  readonly fallback: boolean
  /** null: burst (warm-up) */
  readonly rate: number | null
  readonly first: number
  readonly count: number
}

const emit = (row: PipelineRow) => process.stdout.write(ROW_PREFIX + encodeRow(row) + "\n")
const say = (text: string) => process.stdout.write(text + "\n")
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, Math.max(0, ms)))

/** mulberry32: a small seeded PRNG, so every run offers the same shop sequence. */
const prng = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0
  let t = seed
  t = Math.imul(t ^ (t >>> 15), t | 1)
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}

const fmtInt = (n: number) => Math.round(n).toLocaleString("en-US")

/**
 * Socket writes of this process, by peer port: every statement the driver sends is one
 * `socket.write`, and nats.js coalesces what it sends within a tick into one.
 */
const writesByPort = new Map<number, number>()
const countWrites = () => {
  const proto = Socket.prototype as unknown as { write: (this: Socket, ...args: Array<unknown>) => boolean }
  const original = proto.write
  proto.write = function(this: Socket, ...args: Array<unknown>) {
    // client sockets only: PGlite's socket server answers in this process too
    if ((this as unknown as { server?: unknown }).server == null) {
      const port = this.remotePort ?? 0
      writesByPort.set(port, (writesByPort.get(port) ?? 0) + 1)
    }
    return original.apply(this, args)
  }
}
const writesTo = (port: number | null): number => {
  let n = 0
  for (const [p, w] of writesByPort) if (port === null ? true : p === port) n += w
  return n
}

export const runChild = async (job: PipelineJob): Promise<void> => {
  countWrites()
  const cfg = readConfig()
  const label = backendLabels[job.backend]
  const pglite = job.backend === "pglite"
  const shops = pglite ? cfg.pgliteShops : cfg.shops
  const rates = pglite ? cfg.pgliteRates : cfg.rates

  // --- the plan: every message gets an index; arrays hold its timestamps ------------------
  const steps: Array<Step> = []
  let planned = 0
  if (cfg.warmup) {
    steps.push({ name: `warm-up: 1 msg to each of ${fmtInt(shops)} shops (cold actors)`, kind: "none", fallback: false, rate: null, first: 0, count: shops })
    planned = shops
  }
  const plan = (rate: number, seconds: number, kind: Step["kind"], fallback: boolean) => {
    const count = Math.max(1, Math.round(rate * seconds))
    steps.push({ name: `${fmtInt(rate)} msg/s × ${seconds.toFixed(0)} s, ${fmtInt(shops)} shops`, kind, fallback, rate, first: planned, count })
    planned += count
  }
  rates.forEach((rate, k) => plan(rate, k === 0 ? cfg.targetSeconds : cfg.stepSeconds, k === 0 ? "target" : "ramp", false))
  // If the target rate is not sustained, step down instead (½, ¼, ⅛ of it).
  for (let d = 1; d <= cfg.stepDown; d++) plan(Math.max(1, Math.round(rates[0]! / 2 ** d)), cfg.stepSeconds, "ramp", true)
  const sched = new Float64Array(planned) // scheduled publish time (performance.now ms)
  const pubStart = new Float64Array(planned)
  const pubDone = new Float64Array(planned) // 0: not acked
  const ackSeq = new Float64Array(planned)
  const commitAt = new Float64Array(planned) // 0: not committed
  const shopOf = new Int32Array(planned)
  const stepOf = new Uint8Array(planned)
  const stepCommitted = new Array<number>(steps.length).fill(0)
  steps.forEach((s, k) => stepOf.fill(k, s.first, s.first + s.count))
  const random = prng(0x5eed)
  for (const s of steps) {
    for (let j = 0; j < s.count; j++) {
      shopOf[s.first + j] = s.rate === null ? j : Math.floor(random() * shops)
    }
  }
  let duplicateCommits = 0
  let duplicatePublishes = 0
  let publishErrors = 0
  let lastPublishError: unknown = undefined

  // --- the pipeline ---------------------------------------------------------------------------
  const pgliteDir = pglite && cfg.pgliteOnDisk ? mkdtempSync(join(tmpdir(), "sumeru-bench-pglite-")) : undefined
  if (pgliteDir !== undefined) process.once("exit", () => rmSync(pgliteDir, { recursive: true, force: true }))
  const db = pglite
    ? layerEmbedded(pgliteDir)
    : layerPostgres(Redacted.make(job.pgUrl!), { maxConnections: cfg.pgPool })
  const core = coreLayer(db, testKeyRing())
  const shopLog: Layer.Layer<ShopLog, unknown, SqlClient.SqlClient | DatabaseMode> = job.backend === "nats"
    ? JetStreamShopLog.layer({ servers: job.natsUrl!, partitions: cfg.partitions, name: "bench-pipeline" })
    : EmbeddedShopLog.layer({ partitions: cfg.partitions })
  const log = shopLog.pipe(Layer.provideMerge(core))
  /** The real ActorStore, observed: a message is committed when `commit` says "applied". */
  const observedStore = Layer.effect(
    ActorStore,
    Effect.gen(function*() {
      const real = yield* ActorStore
      return ActorStore.of({
        ...real,
        commit: (item) =>
          Effect.tap(real.commit(item), (status) =>
            Effect.sync(() => {
              const now = performance.now()
              const n = (item.message.payload as { n?: unknown } | null)?.n
              if (typeof n !== "number" || n < 0 || n >= planned) return
              if (status !== "already_applied" && commitAt[n] === 0) {
                commitAt[n] = now
                stepCommitted[stepOf[n]!]!++
              } else {
                duplicateCommits++
              }
            }))
      })
    })
  ).pipe(Layer.provide(PgActorStore.layer))
  const runtime = Layer.effect(ShopActorRuntime.ShopActorRuntime, ShopActorRuntime.make({ workerId: `bench-${job.backend}` })).pipe(
    Layer.provide([observedStore, PgPartitionLeases.layerForDatabase]),
    Layer.provide(testHandlersLayer),
    Layer.provideMerge(log),
    // as in the server: the memory of a busy spell goes back to the OS once the process is idle
    Layer.merge(IdleMemory.layer)
  )

  const program = Effect.gen(function*() {
    const context = yield* Layer.build(runtime)
    const run = Effect.runPromiseWith(context)
    const sql = Context.get(context, SqlClient.SqlClient)
    const rt = Context.get(context, ShopActorRuntime.ShopActorRuntime)
    const publishLog = Context.get(context, ShopLog)

    // PostgreSQL server processes (for the PG CPU column): the postmaster is our backend's parent.
    let postmaster: number | null = null
    if (!pglite) {
      const [row] = yield* sql<{ pid: number }>`SELECT pg_backend_pid() AS pid`
      postmaster = parentPid(row!.pid)
    }
    const natsPort = job.natsUrl === undefined ? null : Number(new URL(job.natsUrl).port)
    const writes = () => {
      const all = writesTo(null)
      const nats = natsPort === null ? 0 : writesTo(natsPort)
      return { pg: all - nats, nats }
    }

    yield* Effect.promise(async () => {
      // every partition owned (and its consumer started) before any load
      const deadline = performance.now() + 30_000
      while (rt.ownedPartitions().length < cfg.partitions && performance.now() < deadline) await sleep(20)
      await sleep(200)

      // --- memory sampling: peak RSS per step -------------------------------------------
      let stepPeakRss = 0
      const sampler = setInterval(() => {
        stepPeakRss = Math.max(stepPeakRss, process.memoryUsage.rss())
      }, 50)

      // --- publisher ----------------------------------------------------------------------
      let inFlight = 0
      let slotWaiter: (() => void) | null = null
      const publishOne = (i: number) => {
        inFlight++
        pubStart[i] = performance.now()
        run(publishLog.publish({ shop: shopName(shopOf[i]!), messageId: `m-${i}`, type: "test.append", payload: { n: i } })).then(
          (ack) => {
            pubDone[i] = performance.now()
            ackSeq[i] = ack.sequence
            if (ack.duplicate) duplicatePublishes++
          },
          (error: unknown) => {
            publishErrors++
            lastPublishError = error
          }
        ).finally(() => {
          inFlight--
          const w = slotWaiter
          slotWaiter = null
          w?.()
        })
      }
      const waitForSlot = () => new Promise<void>((resolve) => (slotWaiter = resolve))

      const offer = async (step: Step, t0: number) => {
        const interval = step.rate === null ? 0 : 1000 / step.rate
        for (let j = 0; j < step.count; j++) sched[step.first + j] = t0 + j * interval
        let next = 0
        while (next < step.count) {
          const now = performance.now()
          while (next < step.count && sched[step.first + next]! <= now && inFlight < cfg.maxInFlight) {
            publishOne(step.first + next)
            next++
          }
          if (next >= step.count) break
          if (inFlight >= cfg.maxInFlight) await waitForSlot()
          else await sleep(sched[step.first + next]! - performance.now())
        }
      }

      const summaries: Array<string> = []
      // Baseline of this machine right now: one statement's round trip, sequentially.
      {
        const rtts: Array<number> = []
        const cpuBefore = process.cpuUsage()
        for (let j = 0; j < 300; j++) {
          const a = performance.now()
          await run(sql`SELECT 1`)
          rtts.push(performance.now() - a)
        }
        const cpu = process.cpuUsage(cpuBefore)
        rtts.sort((a, b) => a - b)
        summaries.push(
          `baseline: \`SELECT 1\` round trip p50 ${fmtDur(percentile(rtts, 50))}, p99 ${fmtDur(percentile(rtts, 99))}, ` +
            `node CPU ${((cpu.user + cpu.system) / 1000 / rtts.length).toFixed(2)} ms per statement (300 sequential, idle pipeline)`
        )
      }
      let sustained: number | null = null
      let targetRow: PipelineRow | null = null
      // Which steps run: the ramp up while steps are sustained; after a missed target, the
      // step-down fallbacks until one is sustained.
      let mode: "up" | "down" | "done" = "up"
      const ran = steps.map(() => false)
      for (const [k, step] of steps.entries()) {
        if (mode === "done") break
        if (step.fallback !== (mode === "down")) continue
        // Start on an empty pipeline: a previous step's backlog would be charged to this one.
        const backlogDeadline = performance.now() + cfg.drainSeconds * 2000
        const outstanding = () => {
          let n = 0
          for (let j = 0; j < k; j++) if (ran[j]) n += steps[j]!.count - stepCommitted[j]!
          return n
        }
        while (k > 0 && outstanding() > publishErrors && performance.now() < backlogDeadline) await sleep(20)
        if (k > 0 && outstanding() > publishErrors) {
          say(`  [${label}] ${fmtInt(outstanding())} messages of earlier steps still not committed: no further steps`)
          break
        }
        ran[k] = true
        stepPeakRss = process.memoryUsage.rss()
        const cpu0 = process.cpuUsage()
        const pg0 = cpuSecondsOf(postmaster, true)
        const nats0 = cpuSecondsOf(job.natsPid ?? null, false)
        const machine0 = machineBusySeconds()
        const w0 = writes()
        const t0 = performance.now() + 2
        const wall0 = Date.now() + 2
        say(`  [${label}] ${step.name}…`)
        await offer(step, t0)
        const sendEnd = step.rate === null ? performance.now() : t0 + step.count * (1000 / step.rate)
        await sleep(sendEnd - performance.now())
        // drain: every message of the step committed, or the limit
        const drainUntilDone = async () => {
          const drainDeadline = performance.now() + cfg.drainSeconds * 1000
          while (stepCommitted[k]! < step.count && performance.now() < drainDeadline) {
            if (stepCommitted[k]! + publishErrors >= step.count && inFlight === 0) break
            await sleep(10)
          }
          while (inFlight > 0 && performance.now() < drainDeadline + 5000) await sleep(10)
        }
        // A burst is measured until it is committed; a step over its send window (steady state
        // under the offered load), its backlog drained afterwards.
        if (step.rate === null) await drainUntilDone()
        const cpu1 = process.cpuUsage(cpu0)
        const pg1 = cpuSecondsOf(postmaster, true)
        const nats1 = cpuSecondsOf(job.natsPid ?? null, false)
        const machine1 = machineBusySeconds()
        const sendSeconds = (performance.now() - t0) / 1000
        const committedInWindow = stepCommitted[k]!
        if (step.rate !== null) await drainUntilDone()
        const w1 = writes()

        const lat = new Float64Array(step.count)
        const pub: Array<number> = []
        let lastCommit = t0
        for (let j = 0; j < step.count; j++) {
          const i = step.first + j
          lat[j] = commitAt[i]! > 0 ? commitAt[i]! - sched[i]! : Infinity
          if (commitAt[i]! > lastCommit) lastCommit = commitAt[i]!
          if (pubDone[i]! > 0) pub.push(pubDone[i]! - pubStart[i]!)
        }
        lat.sort()
        pub.sort((a, b) => a - b)
        const committed = stepCommitted[k]!
        const lost = step.count - committed
        // achieved: commits during the send window per second of it; a burst: all / time to the last commit
        const achieved = step.rate === null
          ? committed / ((lastCommit - t0) / 1000)
          : committedInWindow / sendSeconds
        const p95 = percentile(lat, 95)
        const nodeCores = (cpu1.user + cpu1.system) / 1e6 / sendSeconds
        const ok = step.kind === "none"
          ? undefined
          : step.kind === "target"
          ? p95 < cfg.targetP95Ms && lost === 0
          : p95 < cfg.maxP95Ms && achieved >= 0.95 * step.rate! && lost === 0
        const notes: Array<string> = []
        if (lost > 0) notes.push(`${fmtInt(lost)} not committed within ${cfg.drainSeconds} s of the last publish (counted as lost in the percentiles)`)
        if (publishErrors > 0) notes.push(`${publishErrors} publish errors so far (last: ${String(lastPublishError)})`)
        if (step.kind !== "none" && committed > 0) {
          const drainMs = lastCommit - sendEnd
          if (drainMs > 1000) notes.push(`backlog took ${(drainMs / 1000).toFixed(1)} s to commit after the last publish`)
        }
        if (!pglite && committed > 0) {
          // For comparison: recorded_at (clock_timestamp() at the INSERT, before the batch commits).
          const first = step.first
          const rows = await run(sql<{ n: number; at: number }>`
            SELECT (data->>'n')::int AS n, (extract(epoch FROM recorded_at) * 1000)::float8 AS at
              FROM events WHERE type = 'test.appended' AND (data->>'n')::int >= ${first} AND (data->>'n')::int < ${first + step.count}`)
          const rec = rows.map((r) => r.at - (wall0 + (sched[r.n]! - t0))).sort((a, b) => a - b)
          if (process.env.BENCH_DEBUG_RECORDED !== undefined) {
            let later = 0
            const samples: Array<string> = []
            for (const r of rows) {
              const observed = commitAt[r.n]! - sched[r.n]!
              const recorded = r.at - (wall0 + (sched[r.n]! - t0))
              if (recorded > observed + 2) {
                later++
                if (samples.length < 5) samples.push(`n=${r.n} observed ${observed.toFixed(1)} recorded ${recorded.toFixed(1)}`)
              }
            }
            say(`  debug: ${later}/${rows.length} recorded_at later than the observed commit: ${samples.join("; ")}`)
          }
          if (rec.length > 0) notes.push(`recorded_at-based p50/p95/p99 ${fmtDur(percentile(rec, 50))} / ${fmtDur(percentile(rec, 95))} / ${fmtDur(percentile(rec, 99))} (INSERT time, before commit)`)
        }
        const pgCores = pg0 === null || pg1 === null ? null : (pg1 - pg0) / sendSeconds
        const natsCores = nats0 === null || nats1 === null ? null : (nats1 - nats0) / sendSeconds
        const row: PipelineRow = {
          backend: label,
          scenario: step.name,
          kind: step.kind,
          offered: step.rate,
          sent: step.count,
          committed,
          achieved,
          p50: percentile(lat, 50),
          p95,
          p99: percentile(lat, 99),
          max: lat[lat.length - 1]!,
          publishP99: pub.length > 0 ? percentile(pub, 99) : NaN,
          nodeCores,
          pgCores,
          natsCores,
          cpuMsPerMsg: committedInWindow === 0 ? null : ((nodeCores + (pgCores ?? 0) + (natsCores ?? 0)) * sendSeconds * 1000) / committedInWindow,
          otherCores: machine0 === null || machine1 === null
            ? null
            : Math.max(0, (machine1 - machine0) / sendSeconds - nodeCores - (pgCores ?? 0) - (natsCores ?? 0)),
          pgWritesPerMsg: committed === 0 ? null : (w1.pg - w0.pg) / committed,
          natsWritesPerMsg: natsPort === null || committed === 0 ? null : (w1.nats - w0.nats) / committed,
          peakRssMb: stepPeakRss / 1024 / 1024,
          ok,
          note: notes.length > 0 ? notes.join("; ") : undefined
        }
        emit(row)
        say(`  [${label}] ${step.name}: achieved ${fmtInt(achieved)}/s, p50 ${fmtDur(row.p50)}, p95 ${fmtDur(p95)}, p99 ${fmtDur(row.p99)}`)
        if (step.kind === "target") targetRow = row
        if (step.kind !== "none") {
          const held = p95 < cfg.maxP95Ms && achieved >= 0.95 * step.rate! && lost === 0
          if (held) sustained = Math.max(sustained ?? 0, step.rate!)
          if (mode === "down" && held) mode = "done"
          else if (mode === "up" && !held && cfg.stopOnMiss) {
            if (step.kind === "target" && cfg.stepDown > 0) {
              say(`  [${label}] the target rate is not sustained: stepping down (BENCH_STEP_DOWN=0 skips this)`)
              mode = "down"
            } else {
              say(`  [${label}] p95 over ${cfg.maxP95Ms} ms or backlog: stopping the ramp (BENCH_STOP_ON_MISS=0 runs every step)`)
              mode = "done"
            }
          }
        }
      }
      clearInterval(sampler)

      if (targetRow !== null) {
        summaries.push(
          `target ${fmtInt(targetRow.offered!)} msg/s over ${fmtInt(shops)} shops: p95 ${fmtDur(targetRow.p95)} ` +
            `(goal < ${cfg.targetP95Ms} ms: ${targetRow.ok ? "met" : "MISSED"})`
        )
      }
      summaries.push(
        sustained === null
          ? `sustained maximum: below the lowest rate tried (no step met p95 < ${cfg.maxP95Ms} ms)`
          : `sustained maximum: ${fmtInt(sustained)} msg/s (highest step with p95 < ${cfg.maxP95Ms} ms, ≥ 95 % achieved, nothing lost)` +
            (sustained === rates[rates.length - 1] ? " — the highest rate tried; raise BENCH_RATES" : "")
      )

      // --- correctness: per shop in log order, every committed message exactly once ------
      if (cfg.checkOrder) {
        // committed before the query (a backlog may still be committing meanwhile)
        let committedTotal = 0
        for (let i = 0; i < planned; i++) if (commitAt[i]! > 0) committedTotal++
        const rows = await run(sql<{ ns: Array<number> }>`
          SELECT array_agg((data->>'n')::int ORDER BY stream_version) AS ns
            FROM events WHERE type = 'test.appended' GROUP BY stream_id`)
        const seen = new Uint8Array(planned)
        let events = 0
        let twice = 0
        let disorder = 0
        for (const r of rows) {
          let prev = -Infinity
          for (const raw of r.ns) {
            const n = Number(raw)
            events++
            if (seen[n]) twice++
            seen[n] = 1
            if (ackSeq[n]! <= prev) disorder++
            prev = ackSeq[n]!
          }
        }
        const problems = [
          twice > 0 ? `${twice} messages applied twice` : "",
          disorder > 0 ? `${disorder} events out of publish order within their shop` : "",
          events < committedTotal ? `${committedTotal - events} committed messages missing from events` : "",
          duplicateCommits > 0 ? `${duplicateCommits} commits reported already_applied` : "",
          duplicatePublishes > 0 ? `${duplicatePublishes} publishes reported duplicate` : ""
        ].filter((s) => s !== "")
        summaries.push(
          problems.length === 0
            ? `order check: ok (${fmtInt(events)} events in ${fmtInt(rows.length)} shop streams, each in publish order, none doubled)`
            : `order check: PROBLEMS: ${problems.join("; ")}`
        )
      }
      // --- footprint after passivation (§4: a worker with 10,000 shops touched, < 300 MB) --
      // Every shop has been touched; once idle past the runtime's timeout (30 s) its actor
      // passivates and its memory should go.
      if (cfg.passivation) {
        const touched = rt.residentActors()
        const waitStart = performance.now()
        while (rt.residentActors() > 0 && performance.now() - waitStart < 90_000) await new Promise((r) => setTimeout(r, 250))
        const resident = rt.residentActors()
        const passivatedSeconds = (performance.now() - waitStart) / 1000
        // the server's idle release (src/server/IdleMemory.ts) runs here too: it gives the
        // pooled pages back after its idle checks (40 s from the last message, which was 30 s
        // ago at least); read once it has had its chance
        await new Promise((r) => setTimeout(r, IdleMemory.IDLE_CHECKS * Duration.toMillis(IdleMemory.CHECK_EVERY) + 5_000))
        const m = process.memoryUsage()
        summaries.push(
          `after passivation: ${fmtInt(touched)} resident actors → ${fmtInt(resident)} in ${passivatedSeconds.toFixed(0)} s; ` +
            `RSS ${(m.rss / 1048576).toFixed(0)} MB (V8 heap used ${(m.heapUsed / 1048576).toFixed(0)} MB of ${(m.heapTotal / 1048576).toFixed(0)} MB reserved, external ${(m.external / 1048576).toFixed(0)} MB` +
            `); the process also holds the load generator's per-message arrays (${fmtInt(planned)} messages)` +
            (pglite
              ? "; PGlite runs in memory here, the database's files and memory in this process: not a worker's footprint (a worker uses PostgreSQL)"
              : "; goal < 300 MB with 10,000 shops")
        )
      }
      for (const s of summaries) process.stdout.write(SUMMARY_PREFIX + JSON.stringify({ backend: label, line: s } satisfies BackendSummary) + "\n")
      // Everything is reported: shutting the runtime down gracefully is nice, not needed.
      setTimeout(() => process.exit(0), 20_000).unref()
    })
  })

  // The runtime's own logs (JetStream pull-request expiries are logged as warnings, per
  // partition, many per second under load) would drown the table: BENCH_LOG_LEVEL=Warn shows them.
  const level = (process.env.BENCH_LOG_LEVEL ?? "Error") as LogLevel.LogLevel
  await Effect.runPromise(Effect.scoped(program).pipe(Effect.provideService(References.MinimumLogLevel, level)))
}
