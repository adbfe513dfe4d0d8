/**
 * One benchmark phase on one backend, in its own process (so peak RSS is per phase and a
 * crash cannot leave the parent's servers behind). The parent passes the job in
 * `BENCH_CHILD` and reads result rows from stdout.
 */
import { Cause, Deferred, Effect, Exit, Fiber, Layer, Redacted, References, Stream } from "effect"
import { SqlClient } from "effect/sql"
import type { PgClient } from "@effect/sql-pg"
import { layerEmbedded, layerPostgres, type DatabaseMode } from "../../adapters/postgres/Database.ts"
import { auditLogProjection } from "../../projections/auditLog.ts"
import { streamsProjection } from "../../projections/streams.ts"
import { coreLayer } from "../../src/CoreLayer.ts"
import { EventStore } from "../../src/eventstore/EventStore.ts"
import { makeSignal } from "../../src/eventstore/LogWakeups.ts"
import type { Projection } from "../../src/projections/Projection.ts"
import { ProjectionProgress, runProjections } from "../../src/projections/ProjectionRunner.ts"
import { generations, requestRebuild } from "../../adapters/postgres/PgProjectionStore.ts"
import { backendLabels, type BackendId, type BenchConfig, readConfig } from "./config.ts"
import { postmasterPidOf } from "./proc.ts"
import { capNote, emitRow, log, type MeasureContext, measure, runWriters, StreamSet } from "./workload.ts"
import { testKeyRing } from "../../test/support/keys.ts"

export interface ChildJob {
  readonly backend: BackendId
  readonly phase: "appends" | "rebuild"
  readonly url?: string | undefined
  readonly dataDir?: string | undefined
}

const repeat = <E, R>(n: number, concurrency: number, effect: Effect.Effect<unknown, E, R>) =>
  Effect.forEach(
    Array.from({ length: concurrency }, (_, w) => Math.floor(n / concurrency) + (w < n % concurrency ? 1 : 0)),
    (count) =>
      Effect.gen(function*() {
        for (let i = 0; i < count; i++) yield* effect
      }),
    { concurrency: "unbounded", discard: true }
  ).pipe(Effect.as(n))

/** Opens the pool's connections before anything is timed. */
const warmUp = (cfg: BenchConfig, isPostgres: boolean) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const store = yield* EventStore
    if (isPostgres) {
      const n = Math.min(cfg.pgPool - 2, cfg.writers)
      yield* Effect.forEach(Array.from({ length: n }), () => sql`SELECT pg_sleep(0.05)`, {
        concurrency: "unbounded",
        discard: true
      })
    }
    yield* runWriters(store, new StreamSet("warmup", 10), 1, 100, 1)
  })

const appendsPhase = (cfg: BenchConfig, ctx: MeasureContext, isPostgres: boolean) =>
  Effect.gen(function*() {
    const store = yield* EventStore
    yield* warmUp(cfg, isPostgres)
    const W = cfg.writers
    const S = cfg.streams

    const cap = cfg.scenarioCapSeconds
    const latency = (calls: number, what: string) => (events: number, seconds: number) =>
      `mean ${(seconds * 1000 / Math.max(1, Math.min(calls, events))).toFixed(2)} ms per ${what}`
    const notes = (...fs: Array<(events: number, seconds: number) => string | undefined>) => (e: number, s: number) => {
      const parts = fs.map((f) => f(e, s)).filter((x) => x !== undefined)
      return parts.length > 0 ? parts.join("; ") : undefined
    }
    yield* measure(
      ctx,
      `1. single append, 1 writer, ${S} streams`,
      "single",
      runWriters(store, new StreamSet("seq", S), 1, cfg.singleSeq, 1, cap),
      notes(latency(cfg.singleSeq, "append"), capNote(cfg.singleSeq))
    )
    yield* measure(
      ctx,
      `2. single append, ${W} writers, ${S} streams`,
      "single",
      runWriters(store, new StreamSet("conc", S), W, cfg.singleConc, 1, cap),
      notes(
        capNote(cfg.singleConc),
        () => isPostgres ? undefined : "PGlite is one connection: the writers queue for it"
      )
    )
    for (const size of cfg.batchSizes) {
      const calls = Math.ceil(cfg.batchEvents / size)
      yield* measure(
        ctx,
        `3. batched ×${size}, 1 writer`,
        "batched",
        runWriters(store, new StreamSet(`b${size}`, S), 1, calls, size, cap),
        notes((e, s) => latency(calls, "call")(e / size, s), capNote(calls * size))
      )
      if (cfg.batchWriters > 1) {
        yield* measure(
          ctx,
          `3. batched ×${size}, ${cfg.batchWriters} writers`,
          "batched",
          runWriters(store, new StreamSet(`b${size}w`, S), cfg.batchWriters, calls, size, cap),
          capNote(calls * size)
        )
      }
    }
    yield* measure(ctx, "4. readAll, whole log (batch 1,000)", "none", Stream.runCount(store.readAll()))
    yield* measure(ctx, "4. readAll, whole log (batch 5,000)", "none", Stream.runCount(store.readAll({ batchSize: 5_000 })))

    if (!cfg.diagnostics) return
    yield* diagnostics(cfg, ctx, isPostgres)
  })

/**
 * Rows that explain the numbers above: the round-trip and commit floors, and appends on the
 * now large log, each noting whether it caused sequential scans of `events` (the duplicate
 * probe must use the index whatever the plan cache holds: migrations 0007 and 0018).
 */
const diagnostics = (cfg: BenchConfig, ctx: MeasureContext, isPostgres: boolean) =>
  Effect.gen(function*() {
    const store = yield* EventStore
    const sql = yield* SqlClient.SqlClient
    const W = cfg.writers
    const S = cfg.streams
    const n1 = Math.max(50, Math.round(cfg.singleSeq / 2))
    const nW = Math.max(W * 10, Math.round(cfg.singleConc / 2))
    const logSize = (yield* store.head).maxPosition
    const onLog = `log ${Math.round(logSize / 1000)}k`
    yield* measure(ctx, "diag: SELECT 1, 1 client (round trip)", "none", repeat(n1, 1, sql`SELECT 1`))
    if (isPostgres) yield* measure(ctx, `diag: SELECT 1, ${W} clients`, "none", repeat(nW, W, sql`SELECT 1`))
    yield* sql`CREATE TABLE IF NOT EXISTS bench_plain (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, data jsonb NOT NULL)`
    const doc = JSON.stringify({ orderId: "gid://shopify/Order/1", totalPrice: "12.00", tags: ["bench"] })
    const insert = sql`INSERT INTO bench_plain (data) VALUES (${doc}::jsonb)`
    yield* measure(ctx, "diag: plain 1-row INSERT+commit, 1 client", "none", repeat(n1, 1, insert))
    if (isPostgres) yield* measure(ctx, `diag: plain 1-row INSERT+commit, ${W} clients`, "none", repeat(nW, W, insert))

    const scans = sql<{ seq: number; rows: number }>`
      SELECT coalesce(seq_scan, 0)::int AS seq, coalesce(seq_tup_read, 0)::float8 AS rows
        FROM pg_stat_user_tables WHERE relname = 'events'`.pipe(Effect.map((r) => r[0] ?? { seq: 0, rows: 0 }))
    // Backends publish table statistics at most once a second (later when idle): make every
    // pooled connection flush now (the sleeps spread the statements over the connections).
    const refreshStats = isPostgres
      ? Effect.forEach(
        Array.from({ length: Math.max(1, cfg.pgPool - 1) }),
        () => sql`SELECT pg_stat_force_next_flush(), pg_sleep(0.1)`,
        { concurrency: "unbounded", discard: true }
      ).pipe(Effect.andThen(sql`SELECT pg_stat_clear_snapshot()`), Effect.asVoid)
      : sql`SELECT pg_stat_force_next_flush()`.pipe(
        Effect.andThen(sql`SELECT 1`),
        Effect.andThen(sql`SELECT pg_stat_clear_snapshot()`),
        Effect.asVoid
      )
    /** An append row noting how many sequential scans of `events` it caused (the dedup check's plan). */
    const appendRow = (scenario: string, prefix: string, writers: number, calls: number, perCall: number) =>
      Effect.gen(function*() {
        yield* refreshStats
        const before = yield* scans
        return yield* measure(
          ctx,
          scenario,
          "none",
          runWriters(store, new StreamSet(prefix, S), writers, calls, perCall, cfg.scenarioCapSeconds / 2),
          capNote(calls * perCall),
          Effect.gen(function*() {
            yield* refreshStats
            const after = yield* scans
            const seq = after.seq - before.seq
            return seq === 0
              ? "events: no sequential scan"
              : `events: ${seq} sequential scans, ${
                Math.round((after.rows - before.rows) / calls).toLocaleString("en-US")
              } rows read per append call`
          })
        )
      })

    yield* appendRow(`diag: single append, 1 writer, ${onLog}`, "d1", 1, n1, 1)
    if (isPostgres) yield* appendRow(`diag: single append, ${W} writers, ${onLog}`, "d3", W, nW, 1)
    yield* appendRow(`diag: batched ×100, 1 writer, ${onLog}`, "d4", 1, Math.ceil(cfg.batchEvents / 100), 100)
    if (cfg.batchWriters > 1) {
      yield* appendRow(`diag: batched ×100, ${cfg.batchWriters} writers, ${onLog}`, "d5", cfg.batchWriters, Math.ceil(cfg.batchEvents / 100), 100)
    }
  })

/** Waits (woken by the runner's progress signal, never sleeping) until every projection's live generation reached `head`. */
const awaitLiveAt = (names: ReadonlyArray<string>, head: number) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const progress = yield* ProjectionProgress
    for (;;) {
      const next = yield* progress.next
      const gens = yield* generations(sql)
      const done = names.every((name) =>
        gens.some((g) => g.name === name && g.status === "live" && g.position >= head) &&
        !gens.some((g) => g.name === name && g.status === "building")
      )
      if (done) return
      yield* Deferred.await(next)
    }
  })

const rebuildPhase = (cfg: BenchConfig, ctx: MeasureContext, isPostgres: boolean) =>
  Effect.gen(function*() {
    const store = yield* EventStore
    const sql = yield* SqlClient.SqlClient
    const projections: ReadonlyArray<Projection> = [streamsProjection, auditLogProjection]
    const names = projections.map((p) => p.name)
    const calls = Math.ceil(cfg.rebuildEvents / cfg.rebuildSeedBatch)
    const seedStreams = new StreamSet("seed", cfg.rebuildStreams)
    const seeded = yield* measure(
      ctx,
      `5. seed: batched ×${cfg.rebuildSeedBatch}, ${cfg.batchWriters} writers, ${cfg.rebuildStreams} streams`,
      "batched",
      runWriters(store, seedStreams, cfg.batchWriters, calls, cfg.rebuildSeedBatch)
    )
    const head = (yield* store.head).safePosition
    const total = seeded.events
    yield* measure(
      ctx,
      "5. projections catch-up from 0 (live gens, 2 projections at once)",
      "none",
      Effect.gen(function*() {
        const runner = yield* Effect.forkChild(runProjections(projections, { batchSize: cfg.projectionBatch }))
        yield* awaitLiveAt(names, head)
        yield* Fiber.interrupt(runner)
        return total
      }),
      () => "events = log events; each of the 2 projections applied all of them"
    )

    const rebuild = (selected: ReadonlyArray<Projection>, scenario: string) =>
      measure(
        ctx,
        scenario,
        "rebuild",
        Effect.gen(function*() {
          const before = new Map<string, number>()
          for (const p of selected) before.set(p.name, (yield* requestRebuild(sql, p)).generation)
          yield* runProjections(selected, { untilSwitched: true, batchSize: cfg.projectionBatch })
          const gens = yield* generations(sql)
          const applied = selected.map((p) => {
            const g = gens.find((x) => x.name === p.name && x.generation === before.get(p.name))
            if (g === undefined || g.status !== "live") throw new Error(`rebuild of ${p.name} did not switch live`)
            return g.eventsApplied
          })
          if (applied.some((a) => a !== total)) {
            log(ctx, `warning: events applied ${applied.join("/")} differ from log size ${total}`)
          }
          return Math.min(...applied)
        }),
        selected.length > 1
          ? (events) => `events = per projection; both rebuilt at once (${2 * events} applications in total)`
          : undefined
      )
    yield* rebuild(projections, "5. rebuild streams + audit_log (both at once, until switched)")
    if (cfg.rebuildSeparately === "all" || (cfg.rebuildSeparately === "pg" && isPostgres)) {
      for (const p of projections) yield* rebuild([p], `5. rebuild ${p.name} alone`)
    }
  })

export const runChild = async (job: ChildJob): Promise<void> => {
  const cfg = readConfig()
  const label = backendLabels[job.backend]
  const isPostgres = job.backend === "pg" || job.backend === "pg-nofsync"
  const database: Layer.Layer<PgClient.PgClient | SqlClient.SqlClient | DatabaseMode, unknown> = isPostgres
    ? layerPostgres(Redacted.make(job.url!), { maxConnections: cfg.pgPool })
    : layerEmbedded(job.dataDir)
  const program = Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const postmasterPid = isPostgres
      ? postmasterPidOf((yield* sql<{ data_directory: string }>`SHOW data_directory`)[0]!.data_directory)
      : null
    const ctx: MeasureContext = { backend: label, postmasterPid }
    if (job.phase === "appends") yield* appendsPhase(cfg, ctx, isPostgres)
    else yield* rebuildPhase(cfg, ctx, isPostgres)
  }).pipe(
    Effect.provideService(ProjectionProgress, makeSignal()),
    Effect.provide(coreLayer(database, testKeyRing())),
    Effect.provideService(References.MinimumLogLevel, "Warn")
  )
  const exit = await Effect.runPromiseExit(program)
  if (Exit.isFailure(exit)) {
    process.stderr.write(`[${label}] ${job.phase} failed:\n${Cause.pretty(exit.cause)}\n`)
    emitRow({
      backend: label,
      scenario: `${job.phase} phase`,
      events: 0,
      seconds: 0,
      target: "none",
      clientCores: 0,
      serverCores: null,
      peakRssMb: 0,
      failed: Cause.pretty(exit.cause).split("\n")[0]
    })
    process.exitCode = 1
  }
}
