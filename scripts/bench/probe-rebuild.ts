/**
 * Investigation probe (not part of `bench:store`): where a projection batch spends its time.
 * Seeds a fresh database, then replays the log through one projection the way `applyBatch`
 * does, timing each step. Usage: node scripts/bench/probe-rebuild.ts [pg|pg-nofsync|pglite] [events] [batch] [projection]
 */
import { Effect, Redacted, References } from "effect"
import { SqlClient } from "effect/sql"
import { layerEmbedded, layerPostgres } from "../../adapters/postgres/Database.ts"
import { findHorizon } from "../../adapters/postgres/GlobalLogReader.ts"
import { fetchRange, toRecordedEvent } from "../../adapters/postgres/PgEventStore.ts"
import { auditLogProjection } from "../../projections/auditLog.ts"
import { streamsProjection } from "../../projections/streams.ts"
import { coreLayer } from "../../src/CoreLayer.ts"
import { EventStore } from "../../src/eventstore/EventStore.ts"
import { physicalTable } from "../../src/projections/Projection.ts"
import { reconcile } from "../../adapters/postgres/PgProjectionStore.ts"
import { emptyUpcasters } from "../../domain/events/Upcasting.ts"
import { describeEvent } from "../../domain/audit/describeEvent.ts"
import { startPgServer } from "../../test/support/pgServer.ts"
import { runWriters, StreamSet } from "./workload.ts"
import { testKeyRing } from "../../test/support/keys.ts"

const backend = process.argv[2] ?? "pg-nofsync"
const events = Number(process.argv[3] ?? 100_000)
const batch = Number(process.argv[4] ?? 5_000)
const projection = (process.argv[5] ?? "audit_log") === "streams" ? streamsProjection : auditLogProjection
const server = backend === "pglite" ? null : await startPgServer({ durable: backend === "pg" })
try {
  const db = server === null
    ? layerEmbedded(undefined)
    : layerPostgres(Redacted.make(server.createDatabase("probe")), { maxConnections: 8 })
  const program = Effect.gen(function*() {
    const store = yield* EventStore
    const sql = yield* SqlClient.SqlClient
    let t = performance.now()
    yield* runWriters(store, new StreamSet("seed", 2000), 4, Math.ceil(events / 100), 100)
    process.stdout.write(`seeded ${events} in ${((performance.now() - t) / 1000).toFixed(1)} s\n`)
    const { live } = yield* reconcile(sql, projection)
    const gen = live!.generation
    const table = (name: string) => `"${physicalTable(name, gen)}"`
    const decode = toRecordedEvent(emptyUpcasters)
    const totals = { horizon: 0, fetch: 0, decode: 0, apply: 0, commit: 0 }
    let position = 0
    const t0 = performance.now()
    for (;;) {
      t = performance.now()
      const h = yield* findHorizon(sql, position, batch, null)
      totals.horizon += performance.now() - t
      if (h.safeUpTo <= position) break
      t = performance.now()
      const rows = process.env.PROBE_FETCH === "nodata"
        ? yield* sql<any>`SELECT position, event_id, shop, stream_id, stream_version, type, schema_version, NULL::jsonb AS data, correlation_id, causation_id, actor, occurred_at, recorded_at FROM events WHERE position > ${position} AND position <= ${h.safeUpTo} ORDER BY position LIMIT ${batch}`
        : yield* fetchRange(sql, position, h.safeUpTo, batch)
      totals.fetch += performance.now() - t
      t = performance.now()
      const evs = rows.map(decode)
      totals.decode += performance.now() - t
      const upTo = Number(rows[rows.length - 1]!.position)
      let tApply = 0
      t = performance.now()
      yield* sql.withTransaction(Effect.gen(function*() {
        yield* sql`UPDATE projection_generations SET position = ${upTo}, events_applied = events_applied + ${evs.length}, updated_at = now()
                    WHERE name = ${projection.name} AND generation = ${gen}`
        const a = performance.now()
        if (process.env.PROBE_APPLY === "unnest" && projection.name === "audit_log") {
          const col = <K extends string>(f: (e: (typeof evs)[number]) => K | string | number) => evs.map(f)
          yield* sql`
            INSERT INTO ${sql.unsafe(table("audit_log"))}
              (position, shop, stream_id, event_type, actor_kind, actor_id, correlation_id, summary, occurred_at)
            SELECT * FROM unnest(${col((e) => e.position)}::bigint[], ${col((e) => e.shop)}::text[], ${col((e) => e.streamId)}::text[],
                                 ${col((e) => e.type)}::text[], ${col((e) => e.actor.kind)}::text[], ${col((e) => e.actor.id)}::text[],
                                 ${col((e) => e.correlationId)}::text[], ${col((e) => describeEvent(e))}::text[],
                                 ${col((e) => e.occurredAt.toISOString())}::timestamptz[])
            ON CONFLICT (position) DO NOTHING`
        } else if (process.env.PROBE_APPLY === "noop") {
          yield* Effect.void
        } else {
          yield* projection.apply(evs, { sql, table, open: () => Effect.die(new Error("the probe opens no sealed data")) })
        }
        tApply = performance.now() - a
      }))
      totals.apply += tApply
      totals.commit += performance.now() - t - tApply
      position = upTo
    }
    const wall = performance.now() - t0
    process.stdout.write(
      `${projection.name} replay of ${events} events, batch ${batch}: ${(wall / 1000).toFixed(2)} s = ${Math.round(events / wall * 1000)} events/s\n` +
        Object.entries(totals).map(([k, v]) => `  ${k.padEnd(8)} ${(v / 1000).toFixed(2)} s (${(v / wall * 100).toFixed(0)}%)`).join("\n") +
        "\n"
    )
  }).pipe(Effect.provide(coreLayer(db, testKeyRing())), Effect.provideService(References.MinimumLogLevel, "Warn"))
  await Effect.runPromise(program)
} finally {
  await server?.stop()
}
