/**
 * Investigation probe (not part of `bench:store`): what a batched append costs inside
 * PostgreSQL. Variants of `append_events` are applied to a throw-away database and measured
 * in alternation (A/B/C rounds, so load from other processes hits them alike).
 * Usage: node scripts/bench/probe-append.ts [durable=0] [perCall=100] [writers=4] [seed=50000]
 */
import { Effect, Redacted, References } from "effect"
import { SqlClient } from "effect/sql"
import { layerPostgres } from "../../adapters/postgres/Database.ts"
import { coreLayer } from "../../src/CoreLayer.ts"
import { EventStore } from "../../src/eventstore/EventStore.ts"
import { startPgServer } from "../../test/support/pgServer.ts"
import { processCpuSeconds, serverCpuSeconds, postmasterPidOf } from "./proc.ts"
import { runWriters, StreamSet } from "./workload.ts"
import { testKeyRing } from "../../test/support/keys.ts"

const durable = (process.argv[2] ?? "0") !== "0"
const perCall = Number(process.argv[3] ?? 100)
const writers = Number(process.argv[4] ?? 4)
const seed = Number(process.argv[5] ?? 50_000)
const rounds = Number(process.env.PROBE_ROUNDS ?? 3)
const eventsPerRound = Number(process.env.PROBE_EVENTS ?? 10_000)
const FN = "append_events(text, text, text, integer, jsonb)"
const FIX = "SET enable_seqscan = off SET enable_hashjoin = off SET enable_mergejoin = off"

const server = await startPgServer({ durable })
try {
  const url = server.createDatabase("probe")
  const program = Effect.gen(function*() {
    const store = yield* EventStore
    const sql = yield* SqlClient.SqlClient
    const pm = postmasterPidOf((yield* sql<{ data_directory: string }>`SHOW data_directory`)[0]!.data_directory)
    yield* sql.unsafe(`ALTER FUNCTION ${FN} ${FIX}`)
    yield* runWriters(store, new StreamSet("seed", 2000), 4, Math.ceil(seed / 100), 100)
    yield* sql`ANALYZE events`
    const original = (yield* sql<{ def: string }>`SELECT pg_get_functiondef(${FN}::regprocedure) AS def`)[0]!.def
    const noDedup = original.replace(
      /SELECT coalesce\(jsonb_agg\(t\.e ORDER BY t\.ord\), '\[\]'::jsonb\) INTO v_new[\s\S]*?::uuid\);/,
      "v_new := p_events;"
    )
    const noNotify = original.replace(/PERFORM pg_notify\('sumeru_events', ''\);/, "")
    if (noDedup === original || noNotify === original) throw new Error("could not patch append_events")
    const variants: Array<[string, Effect.Effect<unknown, unknown>]> = [
      ["fix (as shipped + dedup fix)", sql.unsafe(original)],
      ["fix, no dedup check", sql.unsafe(noDedup)],
      ["fix, no NOTIFY", sql.unsafe(noNotify)],
      ["fix, without (shop,position),(type,position) indexes", Effect.gen(function*() {
        yield* sql.unsafe(original)
        yield* sql`DROP INDEX IF EXISTS events_shop_position_idx`
        yield* sql`DROP INDEX IF EXISTS events_type_position_idx`
      })]
    ]
    const totals = new Map<string, { events: number; ms: number; client: number; server: number }>()
    for (let r = 0; r < rounds; r++) {
      for (const [name, setup] of variants) {
        yield* setup
        if (name.startsWith("fix (as")) {
          yield* sql`CREATE INDEX IF NOT EXISTS events_shop_position_idx ON events (shop, position)`
          yield* sql`CREATE INDEX IF NOT EXISTS events_type_position_idx ON events (type, position)`
        }
        const c0 = processCpuSeconds()
        const s0 = serverCpuSeconds(pm) ?? 0
        const t0 = performance.now()
        const n = yield* runWriters(store, new StreamSet(`v${r}${name.length}`, 1000), writers, Math.ceil(eventsPerRound / perCall), perCall)
        const ms = performance.now() - t0
        const t = totals.get(name) ?? { events: 0, ms: 0, client: 0, server: 0 }
        totals.set(name, {
          events: t.events + n,
          ms: t.ms + ms,
          client: t.client + processCpuSeconds() - c0,
          server: t.server + (serverCpuSeconds(pm) ?? 0) - s0
        })
        // put the indexes back for the next variant
        yield* sql`CREATE INDEX IF NOT EXISTS events_shop_position_idx ON events (shop, position)`
        yield* sql`CREATE INDEX IF NOT EXISTS events_type_position_idx ON events (type, position)`
      }
    }
    process.stdout.write(`${durable ? "durable" : "non-durable"}, ×${perCall}, ${writers} writers, log ≥ ${seed}\n`)
    for (const [name, t] of totals) {
      process.stdout.write(
        `  ${name.padEnd(56)} ${Math.round(t.events / t.ms * 1000).toString().padStart(6)} events/s  ` +
          `client ${(t.client * 1e6 / t.events).toFixed(0)} µs/event, server ${(t.server * 1e6 / t.events).toFixed(0)} µs/event\n`
      )
    }
  }).pipe(
    Effect.provide(coreLayer(layerPostgres(Redacted.make(url), { maxConnections: writers + 4 }), testKeyRing())),
    Effect.provideService(References.MinimumLogLevel, "Warn")
  )
  await Effect.runPromise(program)
} finally {
  await server.stop()
}
