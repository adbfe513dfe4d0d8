/**
 * Wake-ups of log readers survive the loss of their LISTEN connection (a PostgreSQL restart
 * ends every session): the listener is re-established, and a commit after that wakes readers
 * again — they do not fall back to their slow safety poll for good.
 */
import { assert, describe, layer } from "@effect/vitest"
import { Deferred, Duration, Effect } from "effect"
import { SqlClient } from "effect/sql"
import { coreLayer } from "../../src/CoreLayer.ts"
import { EventStore } from "../../src/eventstore/EventStore.ts"
import { LogWakeups } from "../../src/eventstore/LogWakeups.ts"
import { postgresLayer } from "../support/databases.ts"
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

describe("log wake-ups", () => {
  layer(coreLayer(postgresLayer({ maxConnections: 4 }), testKeyRing()), { excludeTestServices: true, timeout: 60_000 })((it) => {
    it.effect("the LISTEN connection is killed: it is re-established and the next commit wakes readers", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const wakeups = yield* LogWakeups
        const store = yield* EventStore
        const [before] = yield* pollUntil(Effect.map(listeners, (pids) => (pids.length === 1 ? pids : undefined)), "the listener")
        yield* sql`SELECT pg_terminate_backend(${before!})`
        const [after] = yield* pollUntil(
          Effect.map(listeners, (pids) => (pids.length === 1 && pids[0] !== before ? pids : undefined)),
          "a new listener",
          Duration.seconds(20)
        )
        assert.notStrictEqual(after, before)
        // Taken before the append (see Signal.next): only a NOTIFY through the new listener
        // completes it; a reader without it would sleep until its safety poll.
        const waiter = yield* wakeups.next
        yield* store.append("wake-1", "wake.myshopify.com", "any", [ev("test.woken")], meta())
        const woke = yield* Deferred.await(waiter).pipe(Effect.timeoutOption(Duration.seconds(10)))
        assert.strictEqual(woke._tag, "Some")
      }))
  })
})
