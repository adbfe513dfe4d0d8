/**
 * Wake-ups of log readers across processes. Appends NOTIFY after their commit, coalesced
 * (`PgLogWakeups`); readers in another process wake on it, also after their LISTEN connection
 * was lost (a PostgreSQL restart ends every session), and an append made inside a caller's
 * transaction wakes them at that transaction's commit, not before.
 *
 * Two core layers on one database stand for two processes: each has its own in-process signal,
 * so a reader of one wakes on the other's appends only through NOTIFY.
 */
import { assert, describe, layer } from "@effect/vitest"
import { Context, Deferred, Duration, Effect, Layer, Redacted } from "effect"
import { SqlClient } from "effect/sql"
import { layerPostgres } from "../../adapters/postgres/Database.ts"
import { coreLayer } from "../../src/CoreLayer.ts"
import { EventStore } from "../../src/eventstore/EventStore.ts"
import { LogWakeups } from "../../src/eventstore/LogWakeups.ts"
import { freshPostgresUrl } from "../support/databases.ts"
import { ev, meta } from "../support/fixtures.ts"
import { testKeyRing } from "../support/keys.ts"
import { pollUntil } from "../support/poll.ts"

/** Backends of this database LISTENing for appends. */
const listeners = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  return (yield* sql<{ pid: number }>`
    SELECT pid FROM pg_stat_activity
     WHERE datname = current_database() AND query ILIKE 'LISTEN%sumeru_events%' AND pid <> pg_backend_pid()`).map((r) => r.pid)
})

const url = Redacted.make(freshPostgresUrl())
const processLayer = () => coreLayer(layerPostgres(url, { maxConnections: 4 }), testKeyRing())

/**
 * The writing process: its store and its SQL client, built beside the reader's with a memo map
 * of its own (shared module-level layers would otherwise share the reader's signal).
 */
const writer = Effect.map(Effect.flatMap(Effect.zip(Layer.makeMemoMap, Effect.scope), ([memo, scope]) => Layer.buildWithMemoMap(processLayer(), memo, scope)), (context) => ({
  store: Context.get(context, EventStore),
  sql: Context.get(context, SqlClient.SqlClient)
}))

describe("log wake-ups across processes", () => {
  layer(processLayer(), { excludeTestServices: true, timeout: 60_000 })((it) => {
    it.effect("another process's append wakes readers, and does again after the LISTEN connection was killed", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const wakeups = yield* LogWakeups
        const { store } = yield* writer
        const waiter = yield* wakeups.next
        yield* store.append("wake-0", "wake.myshopify.com", "any", [ev("test.woken")], meta())
        assert.strictEqual((yield* Deferred.await(waiter).pipe(Effect.timeoutOption(Duration.seconds(10))))._tag, "Some")

        const before = yield* pollUntil(Effect.map(listeners, (pids) => (pids.length === 2 ? pids : undefined)), "both listeners")
        yield* sql`SELECT pg_terminate_backend(pid) FROM unnest(${before}::int[]) AS pid`
        yield* pollUntil(
          Effect.map(listeners, (pids) => (pids.length === 2 && pids.every((p) => !before.includes(p)) ? pids : undefined)),
          "new listeners",
          Duration.seconds(20)
        )
        // Taken before the append (see Signal.next): only a NOTIFY through the new listener
        // completes it; a reader without it would sleep until its safety poll.
        const next = yield* wakeups.next
        yield* store.append("wake-1", "wake.myshopify.com", "any", [ev("test.woken")], meta())
        assert.strictEqual((yield* Deferred.await(next).pipe(Effect.timeoutOption(Duration.seconds(10))))._tag, "Some")
      }))

    it.effect("an append inside a transaction wakes the other process at the commit", () =>
      Effect.gen(function*() {
        const wakeups = yield* LogWakeups
        const { store, sql } = yield* writer
        const waiter = yield* wakeups.next
        yield* sql.withTransaction(Effect.gen(function*() {
          yield* store.append("wake-tx", "wake.myshopify.com", "any", [ev("test.woken")], meta())
          // Held open: a wake-up sent already (outside the transaction) would reach the reader
          // well within this bound, before the event is visible to it. An absence is asserted,
          // so a bound is the only way to look for it.
          const early = yield* Deferred.await(waiter).pipe(Effect.timeoutOption(Duration.millis(500)))
          assert.strictEqual(early._tag, "None")
        }))
        assert.strictEqual((yield* Deferred.await(waiter).pipe(Effect.timeoutOption(Duration.seconds(10))))._tag, "Some")
        // woken at the commit: the event is there for the reader
        assert.isNotNull(yield* (yield* EventStore).streamInfo("wake-tx"))
      }))
  })
})
