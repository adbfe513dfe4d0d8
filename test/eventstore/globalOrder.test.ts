/**
 * Invariant 5: a reader of the global log never passes over a transaction that commits late.
 * Needs two real concurrent transactions, so it runs on PostgreSQL 15 (PGlite is one session).
 */
import { assert, describe, layer } from "@effect/vitest"
import { Deferred, Effect, Fiber, Layer, Stream } from "effect"
import { SqlClient } from "effect/sql"
import { findHorizon, type GapObservation } from "../../adapters/postgres/GlobalLogReader.ts"
import * as PgEventStore from "../../adapters/postgres/PgEventStore.ts"
import { EventStore } from "../../src/eventstore/EventStore.ts"
import { postgresLayer } from "../support/databases.ts"
import { ev, meta } from "../support/fixtures.ts"

const StoreLayer = PgEventStore.layer.pipe(Layer.provideMerge(postgresLayer({ maxConnections: 4 })))

/** A checkpointing reader like a projection's: reads after its checkpoint, keeps gap state. */
const makeReader = Effect.gen(function*() {
  const store = yield* EventStore
  let checkpoint = 0
  const delivered: Array<number> = []
  const poll = Effect.gen(function*() {
    const batch = yield* Stream.runCollect(store.readAll({ after: checkpoint }))
    for (const e of batch) {
      delivered.push(e.position)
      checkpoint = e.position
    }
    return batch.map((e) => e.type)
  })
  return { poll, delivered }
})

/** Opens a transaction, appends, then waits for `release` before committing (or failing). */
const holdOpenAppend = (streamId: string, type: string, release: Deferred.Deferred<void>, appended: Deferred.Deferred<number>, rollback = false) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const store = yield* EventStore
    return yield* sql.withTransaction(Effect.gen(function*() {
      const r = yield* store.append(streamId, "shop-a", "any", [ev(type)], meta())
      yield* Deferred.succeed(appended, r.firstPosition!)
      yield* Deferred.await(release)
      if (rollback) return yield* Effect.fail("rollback" as const)
    }))
  })

describe("global order", () => {
  layer(StoreLayer, { excludeTestServices: true, timeout: 60_000 })((it) => {
    it.effect("a late-committing transaction with the lower position is delivered, in order, exactly once", () =>
      Effect.gen(function*() {
        const store = yield* EventStore
        const reader = yield* makeReader
        const release = yield* Deferred.make<void>()
        const appended = yield* Deferred.make<number>()
        // T1 takes the lower position and stays open
        const t1 = yield* Effect.forkChild(holdOpenAppend("late-1", "late.lower", release, appended))
        const lower = yield* Deferred.await(appended)
        // T2 takes a higher position and commits first
        const r2 = yield* store.append("late-2", "shop-a", "any", [ev("late.higher")], meta())
        assert.isTrue(r2.firstPosition! > lower)
        // the reader must not deliver the higher event past the open gap
        assert.deepStrictEqual(yield* reader.poll, [])
        assert.deepStrictEqual(yield* reader.poll, [])
        yield* Deferred.succeed(release, undefined)
        yield* Fiber.join(t1)
        assert.deepStrictEqual(yield* reader.poll, ["late.lower", "late.higher"])
        assert.deepStrictEqual(yield* reader.poll, [])
        assert.deepStrictEqual(reader.delivered, [lower, r2.firstPosition!])
      }))

    it.effect("a rolled-back transaction's position is proved permanently absent and passed", () =>
      Effect.gen(function*() {
        const store = yield* EventStore
        const sql = yield* SqlClient.SqlClient
        const start = (yield* store.head).safePosition
        const release = yield* Deferred.make<void>()
        const appended = yield* Deferred.make<number>()
        const t1 = yield* Effect.forkChild(Effect.result(holdOpenAppend("rb-1", "rb.lost", release, appended, true)))
        const lost = yield* Deferred.await(appended)
        const r2 = yield* store.append("rb-2", "shop-a", "any", [ev("rb.kept")], meta())
        let gap: GapObservation | null = null
        const h1 = yield* findHorizon(sql, start, 100, gap)
        assert.strictEqual(h1.safeUpTo, lost - 1)
        assert.isTrue(h1.blocked)
        gap = h1.gap
        yield* Deferred.succeed(release, undefined)
        yield* Fiber.join(t1)
        const h2 = yield* findHorizon(sql, start, 100, gap)
        assert.strictEqual(h2.safeUpTo, r2.firstPosition!)
        assert.isFalse(h2.blocked)
        const events = yield* Stream.runCollect(store.readAll({ after: start }))
        assert.deepStrictEqual(events.map((e) => e.type), ["rb.kept"])
      }))

    it.effect("head reports the safe position behind an open transaction and its age", () =>
      Effect.gen(function*() {
        const store = yield* EventStore
        const release = yield* Deferred.make<void>()
        const appended = yield* Deferred.make<number>()
        const t1 = yield* Effect.forkChild(holdOpenAppend("head-1", "head.open", release, appended))
        const open = yield* Deferred.await(appended)
        const r2 = yield* store.append("head-2", "shop-a", "any", [ev("head.done")], meta())
        const head = yield* store.head
        assert.strictEqual(head.safePosition, open - 1)
        assert.strictEqual(head.maxPosition, r2.firstPosition!)
        assert.isNotNull(head.oldestOpenTransactionSeconds)
        yield* Deferred.succeed(release, undefined)
        yield* Fiber.join(t1)
        assert.strictEqual((yield* store.head).safePosition, r2.firstPosition!)
      }))
  })
})
