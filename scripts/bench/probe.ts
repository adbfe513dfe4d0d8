/**
 * Investigation probe (not part of `bench:store`): sequential single appends on a fresh
 * PostgreSQL, printing latency per window and sampling pg_stat_activity wait events.
 * Usage: node scripts/bench/probe.ts [durable=1] [appends=3000] [streams=1000]
 */
import { Effect, Redacted, References } from "effect"
import { SqlClient } from "effect/sql"
import { layerPostgres } from "../../adapters/postgres/Database.ts"
import { coreLayer } from "../../src/CoreLayer.ts"
import { EventStore } from "../../src/eventstore/EventStore.ts"
import { startPgServer } from "../../test/support/pgServer.ts"
import { runWriters, StreamSet } from "./workload.ts"
import { execFileSync, spawnSync } from "node:child_process"
import { testKeyRing } from "../../test/support/keys.ts"

const durable = (process.argv[2] ?? "1") !== "0"
const appends = Number(process.argv[3] ?? 3000)
const streamCount = Number(process.argv[4] ?? 1000)
const writers = Number(process.argv[5] ?? 1)
const seed = Number(process.argv[6] ?? 0)
const server = await startPgServer({ durable })
try {
  const url = server.createDatabase("probe")
  const program = Effect.gen(function*() {
    const store = yield* EventStore
    const sql = yield* SqlClient.SqlClient
    const streams = new StreamSet("p", streamCount)
    if (seed > 0) {
      const t0 = performance.now()
      yield* runWriters(store, new StreamSet("seed", 2000), 4, Math.ceil(seed / 100), 100)
      process.stdout.write(`seeded ${seed} in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`)
    }
    const seqScans = () => sql<{ s: number; r: number; i: number }>`select seq_scan::int as s, seq_tup_read::float8 as r, coalesce(idx_scan,0)::int as i from pg_stat_user_tables where relname = 'events'`.pipe(Effect.map((r) => r[0]!))
    const window = Math.max(writers, Math.round(appends / 12))
    const quiet = process.env.PROBE_QUIET === "1"
    for (let done = 0; done < appends; done += window) {
      if (quiet) {
        const t0 = performance.now()
        yield* runWriters(store, streams, writers, window, 1)
        const ms = performance.now() - t0
        process.stdout.write(`${done + window}: ${(ms / window * writers).toFixed(2)} ms/append/writer, ${(window / ms * 1000).toFixed(0)}/s\n`)
        continue
      }
      yield* sql`select pg_stat_clear_snapshot()`
      const s0 = yield* seqScans()
      const t0 = performance.now()
      yield* runWriters(store, streams, writers, window, 1)
      const ms = performance.now() - t0
      yield* sql`select pg_stat_force_next_flush()`
      yield* Effect.sleep("1100 millis")
      yield* sql`select pg_stat_clear_snapshot()`
      const s1 = yield* seqScans()
      process.stdout.write(`  events: seq scans +${s1.s - s0.s} (rows read +${s1.r - s0.r}), index scans +${s1.i - s0.i}\n`)
      const waits = execFileSync("psql", [url, "-tAc",
        "select coalesce(wait_event_type,'-')||':'||coalesce(wait_event,'-')||' '||state from pg_stat_activity where datname='probe'"
      ]).toString().trim().replaceAll("\n", ", ")
      process.stdout.write(`${done + window}: ${(ms / window * writers).toFixed(2)} ms/append/writer, ${(window / ms * 1000).toFixed(0)}/s  [${waits}]\n`)
    }
    const stat = yield* sql`select * from pg_stat_database where datname = 'probe'`
    process.stdout.write(JSON.stringify(stat[0], (_, v) => typeof v === "bigint" ? Number(v) : v) + "\n")
    const tables = yield* sql`select relname, seq_scan, seq_tup_read, idx_scan, idx_tup_fetch, n_tup_ins, n_tup_upd, n_tup_hot_upd from pg_stat_user_tables order by seq_tup_read desc nulls last`
    for (const t of tables) process.stdout.write(JSON.stringify(t, (_, v) => typeof v === "bigint" ? Number(v) : v) + "\n")
    const v = streams.versions[1]!
    const explain = [
      "LOAD 'auto_explain'", "SET auto_explain.log_min_duration = 0", "SET auto_explain.log_nested_statements = on",
      "SET auto_explain.log_analyze = on", "SET auto_explain.log_level = notice", "SET client_min_messages = notice",
      `SELECT * FROM append_events('p-1', '${streams.shop(1)}', 'exact', ${v}, '[{"event_id":"0190a5f6-1111-7000-8000-000000000001","type":"x","schema_version":1,"data":{},"correlation_id":"c","causation_id":null,"actor":{"kind":"system","id":"x"},"occurred_at":"2026-01-01T00:00:00Z"}]'::jsonb)`
    ]
    const out = spawnSync("psql", [url, ...explain.flatMap((c) => ["-c", c])])
    process.stdout.write(out.stdout.toString() + out.stderr.toString())

  }).pipe(
    Effect.provide(coreLayer(layerPostgres(Redacted.make(url), { maxConnections: writers + 4 }), testKeyRing())),
    Effect.provideService(References.MinimumLogLevel, "Warn")
  )
  await Effect.runPromise(program)
} finally {
  await server.stop()
}
