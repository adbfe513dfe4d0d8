/**
 * Invariant 5: a reader of the global log never passes over a transaction that commits late.
 * Needs two real concurrent transactions, so it runs on PostgreSQL 15 (PGlite is one session).
 */
import { PgClient } from "@effect/sql-pg"
import { assert, describe, it as plainIt, layer } from "@effect/vitest"
import { Context, Deferred, Effect, Fiber, Layer, Redacted, Stream } from "effect"
import { SqlClient } from "effect/sql"
import { inject } from "vitest"
import { findHorizon, type GapObservation, inProgressIn, parseSnapshot } from "../../adapters/postgres/GlobalLogReader.ts"
import * as PgEventStore from "../../adapters/postgres/PgEventStore.ts"
import { EventStore } from "../../src/eventstore/EventStore.ts"
import { postgresLayer } from "../support/databases.ts"
import { ev, meta } from "../support/fixtures.ts"
import { testSealing } from "../support/keys.ts"

const StoreLayer = PgEventStore.layer.pipe(Layer.provideMerge(testSealing()), Layer.provideMerge(postgresLayer({ maxConnections: 4 })))

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

/** A transaction holding an id in another database of the same server, open until `release`. */
const foreignTransaction = (release: Deferred.Deferred<void>, started: Deferred.Deferred<void>) =>
  Effect.scoped(Effect.gen(function*() {
    const context = yield* Layer.build(PgClient.layer({ url: Redacted.make(inject("pgUrl")), maxConnections: 1 }))
    const foreign = Context.get(context, SqlClient.SqlClient)
    yield* foreign.withTransaction(Effect.gen(function*() {
      // as text: selecting an xid8 value made the @effect/sql-pg query never complete (seen here)
      yield* foreign`SELECT pg_current_xact_id()::text`
      yield* Deferred.succeed(started, undefined)
      yield* Deferred.await(release)
    }))
  }))

describe("transaction ids in a snapshot", () => {
  plainIt("an id at or above xmax is in progress, one listed in xip is, a finished one is not", () => {
    const snapshot = parseSnapshot("100:105:100,102")
    assert.isTrue(inProgressIn(snapshot, 100))
    assert.isTrue(inProgressIn(snapshot, 102))
    assert.isFalse(inProgressIn(snapshot, 101))
    assert.isTrue(inProgressIn(snapshot, 105))
    assert.isTrue(inProgressIn(snapshot, 106))
  })

  plainIt("32-bit ids are placed in the epoch nearest the snapshot (across a wraparound)", () => {
    const epoch = 7n << 32n
    const snapshot = parseSnapshot(`${epoch + 2n}:${epoch + 5n}:${epoch - 3n}`)
    assert.isTrue(inProgressIn(snapshot, 2 ** 32 - 3)) // previous epoch, listed
    assert.isFalse(inProgressIn(snapshot, 2 ** 32 - 4)) // previous epoch, finished
    assert.isTrue(inProgressIn(snapshot, 6)) // this epoch, above xmax
    assert.isFalse(inProgressIn(snapshot, 3))
  })
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

    it.effect("a gap drawn by a transaction whose id is newer than the committed one's is not passed while it is open", () =>
      Effect.gen(function*() {
        // Ids are not assigned in completion order: Y takes its id first, D takes a newer one
        // and draws the lower position, Y draws the next and commits. The snapshot's xmin
        // then equals its xmax although D is still running.
        const store = yield* EventStore
        const sql = yield* SqlClient.SqlClient
        const start = (yield* store.head).safePosition
        const yHasId = yield* Deferred.make<void>()
        const yMayAppend = yield* Deferred.make<void>()
        const release = yield* Deferred.make<void>()
        const appended = yield* Deferred.make<number>()
        const y = yield* Effect.forkChild(sql.withTransaction(Effect.gen(function*() {
          yield* sql`SELECT pg_current_xact_id()::text`
          yield* Deferred.succeed(yHasId, undefined)
          yield* Deferred.await(yMayAppend)
          return yield* store.append("order-y", "shop-a", "any", [ev("order.y")], meta())
        })))
        yield* Deferred.await(yHasId)
        const d = yield* Effect.forkChild(holdOpenAppend("order-d", "order.d", release, appended))
        const lower = yield* Deferred.await(appended)
        yield* Deferred.succeed(yMayAppend, undefined)
        const higher = (yield* Fiber.join(y)).firstPosition!
        assert.isTrue(higher > lower)
        const h1 = yield* findHorizon(sql, start, 100, null)
        assert.strictEqual(h1.safeUpTo, lower - 1)
        assert.isTrue(h1.blocked)
        const h2 = yield* findHorizon(sql, start, 100, h1.gap)
        assert.strictEqual(h2.safeUpTo, lower - 1)
        yield* Deferred.succeed(release, undefined)
        yield* Fiber.join(d)
        const events = yield* Stream.runCollect(store.readAll({ after: start }))
        assert.deepStrictEqual(events.map((e) => e.type), ["order.d", "order.y"])
      }))

    it.effect("a transaction left open in another database does not stall the proof of a rollback", () =>
      Effect.gen(function*() {
        const store = yield* EventStore

        const foreignRelease = yield* Deferred.make<void>()
        const foreignStarted = yield* Deferred.make<void>()
        const foreign = yield* Effect.forkChild(foreignTransaction(foreignRelease, foreignStarted))
        yield* Deferred.await(foreignStarted)
        const start = (yield* store.head).safePosition
        const release = yield* Deferred.make<void>()
        const appended = yield* Deferred.make<number>()
        const t1 = yield* Effect.forkChild(Effect.result(holdOpenAppend("fx-1", "fx.lost", release, appended, true)))
        yield* Deferred.await(appended)
        const kept = yield* store.append("fx-2", "shop-a", "any", [ev("fx.kept")], meta())
        yield* Deferred.succeed(release, undefined)
        yield* Fiber.join(t1)
        // the foreign transaction is still open (older than everything above) while we read
        const events = yield* Stream.runCollect(store.readAll({ after: start }))
        assert.deepStrictEqual(events.map((e) => e.type), ["fx.kept"])
        assert.strictEqual((yield* store.head).safePosition, kept.firstPosition!)
        yield* Deferred.succeed(foreignRelease, undefined)
        yield* Fiber.join(foreign)
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
