/**
 * `npm run bench:compare`: Sumeru's event store and Emmett's (`@event-driven-io/emmett-postgresql`
 * 0.42, a devDependency) appending the same events on the same PostgreSQL 15 server (fsync on),
 * in one run — issue 16's first target is a ratio, and only ratios within one run count on
 * these machines. Prints a table; a measurement, never a test.
 *
 * The three append rows of issue 16: one event per append with the exact expected version by
 * 1 writer and by 16, and 20 events per append by 1 writer. Each writer owns its streams (so
 * every append names the stream's version, "no stream" for the first), the payloads are the
 * same ~350-byte order events for both (`bench/workload.ts`), and each store gets its own
 * fresh database on the server. Sumeru runs its production layer on a pool of
 * `BENCH_PG_POOL` (default 20) connections; Emmett runs as it comes (its own pool).
 *
 * Two floor rows follow: a plain one-row INSERT committed alone on the same server, by 1 and by
 * 16 clients, over Emmett's row above them — the most any store can reach with a commit per
 * append (group commit beats it with many writers).
 *
 * The last row is the projector: each store's log (the rows above plus PROJECTED events more)
 * projected into the same `streams` read model, a row per stream, from the first event to the
 * head — Sumeru's projection runner with `projections/streams.ts`, Emmett's consumer with a
 * raw-SQL projection (below).
 *
 * Then the server's side alone: `pgbench` (PostgreSQL's own C client, one connection, prepared
 * statements) runs Sumeru's append statement and plain INSERTs into its `events` table, each
 * for BENCH_PGBENCH_SECONDS (3; 1 below BENCH_SCALE 1), on Sumeru's database after its rows:
 * what PostgreSQL can do with no Node, no Effect and no driver in the way, beside Emmett's rows
 * (which include its client). The INSERT rows are ceilings for any append into this table: 20
 * rows with nothing else, then 20 rows decoded from the JSON text a client would send, their
 * positions returned (no stream moved, no expectation checked, no duplicate probe). Skipped
 * when pgbench is not installed (`BENCH_PGBENCH=0` skips it too).
 *
 * Sizes: `BENCH_SCALE` (default 1; 0.1 for a quick run) multiplies every append count.
 */
import { STREAM_DOES_NOT_EXIST } from "@event-driven-io/emmett"
import { sql as emmettSql } from "@event-driven-io/dumbo"
import {
  getPostgreSQLEventStore,
  postgreSQLEventStoreConsumer,
  type PostgresReadEvent,
  postgreSQLRawBatchSQLProjection
} from "@event-driven-io/emmett-postgresql"
import { Effect, Redacted } from "effect"
import { SqlClient } from "effect/sql"
import { cpus, loadavg } from "node:os"
import { layerPostgres } from "../adapters/postgres/Database.ts"
import { coreLayer } from "../src/CoreLayer.ts"
import { EventStore } from "../src/eventstore/EventStore.ts"
import { runProjections } from "../src/projections/ProjectionRunner.ts"
import { generations } from "../adapters/postgres/PgProjectionStore.ts"
import { streamsProjection } from "../projections/streams.ts"
import { findBin, startPgServer } from "../test/support/pgServer.ts"
import { execFileSync } from "node:child_process"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { testKeyRing } from "../test/support/keys.ts"
import { EVENT_TYPES, makeEvents, runWriters, StreamSet } from "./bench/workload.ts"

const scale = Number(process.env["BENCH_SCALE"] ?? "1")
const pool = Number(process.env["BENCH_PG_POOL"] ?? "20")
const STREAMS = 1_000
/** Events added before the projector runs (100 per append), so it reads a log of some size. */
const PROJECTED = Math.max(2_000, Math.round(100_000 * scale))
const PROJECTOR_BATCH = 5_000
const pgbenchSeconds = Number(process.env["BENCH_PGBENCH_SECONDS"] ?? (scale >= 1 ? "3" : "1"))

/**
 * The server's side alone: pgbench scripts on Sumeru's database, each run for pgbenchSeconds by
 * one client; events/s for each (null when pgbench is absent or BENCH_PGBENCH=0). The event
 * document is one of the bench's own, read from a table (a JSON literal in a pgbench script
 * would be taken for its `:name` variables); event ids are random UUIDs (v4: Sumeru's own are
 * v7, time-ordered, a little cheaper to index). append_batch gets its events built in the
 * statement (jsonb_build_object) where the adapter sends them as JSON text to decode.
 */
const serverSideRates = (url: string): ReadonlyArray<readonly [string, number | null, "single" | "batched"]> => {
  const rows = [
    ["plain 1-row INSERT + commit", 1, "single", `INSERT INTO bench_floor (data) SELECT doc FROM bench_doc;`],
    ["append_batch, 1 event (a group of one)", 1, "single", appendBatchCall(1)],
    ["20 rows into events, one INSERT", 20, "batched",
      `INSERT INTO events (event_id, shop, stream_id, stream_version, type, schema_version, data, correlation_id, actor, occurred_at)
       SELECT gen_random_uuid(), 'bench.myshopify.com', 'raw-' || pg_current_xact_id(), g, 'order.created', 1, d.doc, 'bench', jsonb_build_object('kind', 'webhook', 'id', 'orders/create'), now()
         FROM bench_doc d, generate_series(1, 20) g;`],
    ["20 rows from JSON text, positions back", 20, "batched",
      `WITH ins AS (
         INSERT INTO events (event_id, shop, stream_id, stream_version, type, schema_version, data, correlation_id, actor, occurred_at)
         SELECT gen_random_uuid(), 'bench.myshopify.com', 'json-' || pg_current_xact_id(), t.n, t.type, t.schema_version, t.data, 'bench',
                jsonb_build_object('kind', 'webhook', 'id', 'orders/create'), t.occurred_at
           FROM bench_events20 b,
                ROWS FROM (jsonb_to_recordset(b.text::jsonb) AS (type text, schema_version integer, data jsonb, occurred_at timestamptz))
                  WITH ORDINALITY AS t(type, schema_version, data, occurred_at, n)
          ORDER BY t.n
         RETURNING position)
       SELECT array_agg(position ORDER BY position) FROM ins;`],
    ["append_batch, 20 events", 20, "batched", appendBatchCall(20)]
  ] as const
  if (process.env["BENCH_PGBENCH"] === "0") return rows.map(([name, , kind]) => [name, null, kind] as const)
  let pgbench: string
  let psql: string
  try {
    pgbench = findBin("pgbench")
    psql = findBin("psql")
  } catch {
    return rows.map(([name, , kind]) => [name, null, kind] as const)
  }
  const dir = mkdtempSync(join(tmpdir(), "bench-compare-pgbench-"))
  try {
    execFileSync(psql, [url, "-qc", `CREATE TABLE bench_doc AS SELECT ${sqlLiteral(JSON.stringify(makeEvents(1)[0]!.data))}::jsonb AS doc`])
    // the text a client sends for 20 events (what append_batch decodes), kept as text so each run parses it
    const twenty = makeEvents(20).map((e) => ({ type: e.type, schema_version: 1, data: e.data, occurred_at: new Date().toISOString() }))
    execFileSync(psql, [url, "-qc", `CREATE TABLE bench_events20 AS SELECT ${sqlLiteral(JSON.stringify(twenty))}::text AS text`])
    return rows.map(([name, perCall, kind, script], i) => {
      const file = join(dir, `${i}.sql`)
      writeFileSync(file, `\\set s random(1, ${STREAMS})\n${script.replace(/\s+/g, " ")}\n`)
      const out = execFileSync(pgbench, ["-n", "-M", "prepared", "-c", "1", "-T", String(pgbenchSeconds), "-f", file, url], { encoding: "utf8" })
      const tps = /tps = ([\d.]+)/.exec(out)?.[1]
      if (tps === undefined) throw new Error(`pgbench printed no rate for ${name}:\n${out}`)
      return [name, Number(tps) * perCall, kind] as const
    })
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/** A SQL string literal. */
const sqlLiteral = (text: string) => `'${text.replaceAll("'", "''")}'`

/** append_batch as PgEventStore calls it for a group of one append of `n` events to a random stream ("any" expected version). */
const appendBatchCall = (n: number) => `
  SELECT o.* FROM (SELECT array_agg(u) AS ids, jsonb_build_array(jsonb_agg(jsonb_build_object('event_id', u, 'type', 'order.created',
                     'schema_version', 1, 'data', d.doc, 'occurred_at', now()))) AS events
                     FROM bench_doc d, (SELECT gen_random_uuid() AS u FROM generate_series(1, ${n})) g) x,
       append_batch(ARRAY['pgbench-' || :s], ARRAY['bench.myshopify.com'], ARRAY['any'], ARRAY[0], ARRAY[${n}],
                    jsonb_build_array(jsonb_build_object('correlation_id', 'bench', 'causation_id', NULL,
                      'actor', jsonb_build_object('kind', 'webhook', 'id', 'orders/create'), 'traceparent', NULL)),
                    x.ids, x.events) o;`

interface Scenario {
  readonly name: string
  readonly writers: number
  readonly calls: number
  readonly perCall: number
}

const scenarios: ReadonlyArray<Scenario> = [
  { name: "single-event append with expected version, 1 writer", writers: 1, calls: Math.max(50, Math.round(3_000 * scale)), perCall: 1 },
  { name: "the same, 16 writers", writers: 16, calls: Math.max(160, Math.round(6_000 * scale)), perCall: 1 },
  { name: "20 events per append, 1 writer", writers: 1, calls: Math.max(20, Math.round(1_000 * scale)), perCall: 20 }
]

/**
 * Sumeru: its production event store on PostgreSQL, driven by the bench's own writers. Then
 * the floor on the same server: a plain one-row INSERT committed alone, by 1 and by 16 clients
 * (what any append with its own commit costs at least).
 */
const sumeruRates = async (url: string): Promise<{
  readonly rates: Array<number>
  readonly floor: readonly [number, number]
  readonly projector: number
}> =>
  Effect.runPromise(
    Effect.gen(function*() {
      const store = yield* EventStore
      const rates: Array<number> = []
      for (const [i, s] of scenarios.entries()) {
        const started = performance.now()
        const events = yield* runWriters(store, new StreamSet(`s${i}`, STREAMS), s.writers, s.calls, s.perCall)
        rates.push(events / ((performance.now() - started) / 1000))
      }
      const sql = yield* SqlClient.SqlClient
      yield* sql`CREATE TABLE bench_floor (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, data jsonb NOT NULL)`
      const doc = JSON.stringify(makeEvents(1)[0]!.data)
      const floorRate = (clients: number, inserts: number) =>
        Effect.gen(function*() {
          const started = performance.now()
          yield* Effect.forEach(Array.from({ length: clients }), () =>
            Effect.repeat(sql`INSERT INTO bench_floor (data) VALUES (${doc}::jsonb)`, { times: Math.ceil(inserts / clients) - 1 }), {
            concurrency: "unbounded",
            discard: true
          })
          return Math.ceil(inserts / clients) * clients / ((performance.now() - started) / 1000)
        })
      const floor = [yield* floorRate(1, scenarios[0]!.calls), yield* floorRate(16, scenarios[1]!.calls)] as const
      // the projector: the `streams` read model (a row per stream: version, first and last
      // event time and type) built from the whole log, from its first event to its head
      yield* runWriters(store, new StreamSet("p", STREAMS), 4, PROJECTED / 100, 100)
      const log = (yield* store.head).maxPosition
      const started = performance.now()
      yield* runProjections([streamsProjection], { untilSwitched: true, batchSize: PROJECTOR_BATCH })
      const projector = log / ((performance.now() - started) / 1000)
      const live = (yield* generations(sql, streamsProjection.name)).find((g) => g.status === "live")
      if (live === undefined || live.position < log) return yield* Effect.die(new Error(`the streams projection stopped at ${live?.position} of ${log}`))
      return { rates, floor, projector }
    }).pipe(Effect.provide(coreLayer(layerPostgres(Redacted.make(url), { maxConnections: pool }), testKeyRing())))
  )

/** Emmett: `appendToStream` with the expected stream version, the same writers and events. */
const emmettRates = async (url: string): Promise<{ readonly rates: Array<number>; readonly projector: number }> => {
  const store = getPostgreSQLEventStore(url)
  try {
    // its schema is made on first use: a warm-up append keeps that out of the first row
    await store.appendToStream("warm-up", makeEvents(1).map((e) => ({ type: e.type, data: e.data as Record<string, unknown> })))
    const rates: Array<number> = []
    for (const [i, s] of scenarios.entries()) {
      const versions = new Array<bigint>(STREAMS).fill(0n)
      const writer = async (w: number) => {
        const owned: Array<number> = []
        for (let k = w; k < STREAMS; k += s.writers) owned.push(k)
        const mine = Math.floor(s.calls / s.writers) + (w < s.calls % s.writers ? 1 : 0)
        let written = 0
        for (let k = 0; k < mine; k++) {
          const stream = owned[k % owned.length]!
          const v = versions[stream]!
          const result = await store.appendToStream(
            `e${i}-${stream}`,
            makeEvents(s.perCall).map((e) => ({ type: e.type, data: e.data as Record<string, unknown> })),
            { expectedStreamVersion: v === 0n ? STREAM_DOES_NOT_EXIST : v }
          )
          versions[stream] = result.nextExpectedStreamVersion
          written += s.perCall
        }
        return written
      }
      const started = performance.now()
      const counts = await Promise.all(Array.from({ length: s.writers }, (_, w) => writer(w)))
      rates.push(counts.reduce((a, b) => a + b, 0) / ((performance.now() - started) / 1000))
    }
    return { rates, projector: await emmettProjector(url, store) }
  } finally {
    await store.close()
  }
}

/**
 * Emmett's projector building the same `streams` read model from its whole log: its consumer
 * pulling batches of PROJECTOR_BATCH and stopping when no message is left, and its raw-SQL
 * batch projection (one upsert per call). Emmett 0.42's projector still hands the projection
 * one event per call and stores its checkpoint after each (`reactor`'s `handle`), so the
 * numbers are per-event statements: that is what a user of its projector gets.
 */
const emmettProjector = async (url: string, store: ReturnType<typeof getPostgreSQLEventStore>): Promise<number> => {
  for (let k = 0; k < PROJECTED / 100; k++) {
    await store.appendToStream(`p-${k % STREAMS}`, makeEvents(100).map((e) => ({ type: e.type, data: e.data as Record<string, unknown> })))
  }
  let handled = 0
  const projection = postgreSQLRawBatchSQLProjection<PostgresReadEvent>({
    name: "bench_streams",
    canHandle: [...EVENT_TYPES],
    init: () =>
      emmettSql(`CREATE TABLE IF NOT EXISTS bench_streams (stream_id text PRIMARY KEY, version bigint NOT NULL,
        first_event_at timestamptz NOT NULL, last_event_at timestamptz NOT NULL, last_event_type text NOT NULL)`),
    evolve: (events) => {
      handled += events.length
      const rows = new Map<string, { stream_id: string; version: string; type: string }>()
      for (const e of events) rows.set(e.metadata.streamName, { stream_id: e.metadata.streamName, version: String(e.metadata.streamPosition), type: e.type })
      return [emmettSql(
        `INSERT INTO bench_streams (stream_id, version, first_event_at, last_event_at, last_event_type)
         SELECT stream_id, version, now(), now(), type FROM jsonb_to_recordset(%L::jsonb) AS x(stream_id text, version bigint, type text)
         ON CONFLICT (stream_id) DO UPDATE SET version = excluded.version, last_event_at = excluded.last_event_at,
           last_event_type = excluded.last_event_type WHERE bench_streams.version < excluded.version`,
        JSON.stringify([...rows.values()])
      )]
    }
  })
  const consumer = postgreSQLEventStoreConsumer({ connectionString: url, stopWhen: { noMessagesLeft: true }, pulling: { batchSize: PROJECTOR_BATCH } })
  consumer.projector({ processorId: "bench-streams", projection })
  const started = performance.now()
  try {
    await consumer.start()
  } finally {
    await consumer.close()
  }
  return handled / ((performance.now() - started) / 1000)
}

const server = await startPgServer({ durable: true })
try {
  process.stderr.write(`PostgreSQL ${server.version} on port ${server.port} (fsync on); ${cpus().length} cores, load ${loadavg().map((l) => l.toFixed(2)).join(" ")}; BENCH_SCALE ${scale}\n`)
  // Emmett first, then Sumeru, each on a database of its own
  const { rates: emmett, projector: emmettProjection } = await emmettRates(server.createDatabase("bench_emmett"))
  const sumeruUrl = server.createDatabase("bench_sumeru")
  const { rates: sumeru, floor, projector } = await sumeruRates(sumeruUrl)
  const rows = [
    ...scenarios.map((s, i) => [s.name, Math.round(emmett[i]!), Math.round(sumeru[i]!), (sumeru[i]! / emmett[i]!).toFixed(2)] as const),
    ["floor: plain 1-row INSERT + commit, 1 client", "-", Math.round(floor[0]), (floor[0] / emmett[0]!).toFixed(2)] as const,
    ["floor: the same, 16 clients", "-", Math.round(floor[1]), (floor[1] / emmett[1]!).toFixed(2)] as const,
    [`projector: the streams read model from the whole log`, Math.round(emmettProjection), Math.round(projector), (projector / emmettProjection).toFixed(2)] as const
  ]
  const header = ["appends (events/s)", "Emmett 0.42", "Sumeru", "Sumeru ÷ Emmett"] as const
  const serverSide = serverSideRates(sumeruUrl)
  const serverRows = serverSide.map(([name, rate, kind]) => {
    const emmettRate = kind === "single" ? emmett[0]! : emmett[2]!
    return [`pgbench, server alone: ${name}`, "-", rate === null ? "-" : Math.round(rate), rate === null ? "-" : (rate / emmettRate).toFixed(2)] as const
  })
  const all = [...rows, ...serverRows]
  const widths = header.map((h, c) => Math.max(h.length, ...all.map((r) => String(r[c]).length)))
  const line = (cells: ReadonlyArray<string | number>) => cells.map((cell, c) => (c === 0 ? String(cell).padEnd(widths[c]!) : String(cell).padStart(widths[c]!))).join("  ")
  console.log([line(header), ...all.map(line)].join("\n"))
  console.log(`(target, issue 16: Sumeru ÷ Emmett ≥ 2 on every append row; the pgbench rows: PostgreSQL alone, ${pgbenchSeconds} s each, ` +
    `÷ Emmett's single or batched row; load after the run ${loadavg().map((l) => l.toFixed(2)).join(" ")})`)
} finally {
  await server.stop()
}
