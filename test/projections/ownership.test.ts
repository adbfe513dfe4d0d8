/**
 * Projection ownership on PostgreSQL 15: a projector whose lock session dies stops writing at
 * once, another projector can take over, and the first takes its projections back (from their
 * checkpoints) when it owns them again. Batches are fenced by the lock. Lag counts the events
 * committed behind an open transaction and says what holds them.
 * Needs concurrent sessions, so it runs on PostgreSQL only (PGlite is one session and needs no locks).
 */
import { assert, describe, layer } from "@effect/vitest"
import { Deferred, Effect, Fiber, Ref } from "effect"
import { SqlClient } from "effect/sql"
import * as AdvisoryLockSession from "../../adapters/postgres/AdvisoryLockSession.ts"
import { auditLogProjection } from "../../projections/auditLog.ts"
import { streamsProjection } from "../../projections/streams.ts"
import { coreLayer } from "../../src/CoreLayer.ts"
import { EventStore } from "../../src/eventstore/EventStore.ts"
import type { Projection } from "../../src/projections/Projection.ts"
import {
  initialHealth,
  PROJECTION_LOCK_SPACE,
  projectionStatus,
  type RunnerHealth,
  runProjections
} from "../../src/projections/ProjectionRunner.ts"
import { applyBatch } from "../../src/projections/ProjectionStore.ts"
import { generations, reconcile } from "../../adapters/postgres/PgProjectionStore.ts"
import { postgresLayer } from "../support/databases.ts"
import { ev, meta } from "../support/fixtures.ts"
import { testKeyRing } from "../support/keys.ts"
import { pollUntil } from "../support/poll.ts"
import { appendMany, awaitAllCaughtUp, awaitCaughtUp } from "../support/projections.ts"


/** The projection, counting the events this runner applied (inside its batch transactions). */
const counted = (projection: Projection, applied: { n: number }): Projection => ({
  ...projection,
  apply: (events, ctx) => Effect.tap(projection.apply(events, ctx), () => Effect.sync(() => void (applied.n += events.length)))
})

/** The backend holding `name`'s projection lock in this database, found in `pg_locks`. */
const lockHolderPid = (name: string) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const rows = yield* sql<{ pid: number }>`
      SELECT l.pid FROM pg_locks l
       WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2
         AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
         AND l.classid::bigint = (hashtext(${PROJECTION_LOCK_SPACE})::bigint & 4294967295)
         AND l.objid::bigint = (hashtext(${name})::bigint & 4294967295)`
    return rows[0]?.pid ?? null
  })

const healthWhere = (health: Ref.Ref<RunnerHealth>, what: string, ok: (h: RunnerHealth) => boolean) =>
  pollUntil(Effect.map(Ref.get(health), (h) => (ok(h) ? h : undefined)), what)

const names = [streamsProjection.name, auditLogProjection.name]

const ownsAll = (h: RunnerHealth) => h.state === "running" && names.every((n) => h.owned.includes(n))

/** Sum of `events_applied` of the live generations of `name`. */
const appliedBy = (name: string) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const live = (yield* generations(sql, name)).find((g) => g.status === "live")!
    return live.eventsApplied
  })

const eventCount = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  return (yield* sql<{ n: number }>`SELECT count(*)::int AS n FROM events`)[0]!.n
})

describe("projection ownership on PostgreSQL 15", () => {
  layer(coreLayer(postgresLayer({ maxConnections: 12 }), testKeyRing()), { excludeTestServices: true, timeout: 120_000 })((it) => {
    it.effect("a projector whose lock session is terminated stops writing; another takes over; the first takes its projections back when the other stops", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const byFirst = { n: 0 }
        const bySecond = { n: 0 }
        const health1 = yield* Ref.make(initialHealth())
        const health2 = yield* Ref.make(initialHealth())
        yield* appendMany(20, "own")
        const first = yield* Effect.forkChild(runProjections(
          [counted(streamsProjection, byFirst), counted(auditLogProjection, byFirst)],
          { batchSize: 8, health: health1 }
        ))
        yield* awaitAllCaughtUp(names)
        const h1 = yield* healthWhere(health1, "the first projector to own both projections", ownsAll)
        const pid1 = yield* lockHolderPid("streams")
        assert.strictEqual(pid1, h1.lockBackendPid)
        assert.strictEqual(yield* lockHolderPid("audit_log"), h1.lockBackendPid)
        assert.strictEqual(byFirst.n, 40)

        // the second projector waits: the first owns both projections
        const second = yield* Effect.forkChild(runProjections(
          [counted(streamsProjection, bySecond), counted(auditLogProjection, bySecond)],
          { batchSize: 8, health: health2, lockPollInterval: "20 millis" }
        ))
        yield* healthWhere(health2, "the second projector's lock session", (h) => h.state === "running")
        assert.deepStrictEqual((yield* Ref.get(health2)).owned, [])

        // The first's lock session dies. It notices, stops its projections and backs off before
        // opening a new session; the second polls every 20 ms and takes both locks.
        yield* sql`SELECT pg_terminate_backend(${pid1!}::int)`
        yield* healthWhere(health2, "the second projector to own both projections", ownsAll)
        const h1After = yield* healthWhere(health1, "the first projector to re-establish its session", (h) =>
          h.state === "running" && h.sessionsLost === 1)
        assert.notStrictEqual(h1After.lockBackendPid, pid1)
        assert.deepStrictEqual(h1After.owned, [])
        assert.strictEqual(h1After.lastLoss !== null && h1After.lastLoss.length > 0, true)

        // only the owner writes
        const firstBefore = byFirst.n
        yield* appendMany(30, "second")
        yield* awaitAllCaughtUp(names)
        assert.strictEqual(bySecond.n, 60)
        assert.strictEqual(byFirst.n, firstBefore)
        assert.strictEqual(yield* lockHolderPid("streams"), (yield* Ref.get(health2)).lockBackendPid)

        // the second stops: the first owns its projections again and resumes from the checkpoints
        yield* Fiber.interrupt(second)
        yield* healthWhere(health1, "the first projector to own both projections again", ownsAll)
        yield* appendMany(10, "first-again")
        yield* awaitAllCaughtUp(names)
        assert.strictEqual(byFirst.n, firstBefore + 20)
        assert.strictEqual(bySecond.n, 60)
        // every event applied exactly once across the three ownerships
        const total = yield* eventCount
        assert.strictEqual(total, 60)
        assert.strictEqual(yield* appliedBy("streams"), total)
        assert.strictEqual(yield* appliedBy("audit_log"), total)
        const audit = yield* sql<{ n: number }>`SELECT count(*)::int AS n FROM audit_log`
        assert.strictEqual(audit[0]!.n, total)
        assert.isUndefined(first.pollUnsafe())
        yield* Fiber.interrupt(first)
      }))

    it.effect("an advisory lock session: exclusive (space, key) locks, and a `lost` signal its heartbeat completes when the backend dies", () =>
      Effect.scoped(Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const a = yield* AdvisoryLockSession.make({ heartbeatInterval: "50 millis" })
        const b = yield* AdvisoryLockSession.make()
        const partition = { space: "test.partition", key: 7 }
        const named = { space: "test.named", key: "seven" }
        assert.isTrue(yield* a.tryLock(partition))
        assert.isTrue(yield* a.tryLock(named))
        assert.isFalse(yield* b.tryLock(partition))
        assert.isFalse(yield* b.tryLock(named))
        // the keys as pg_locks shows them: (hashtext(space), key) and (hashtext(space), hashtext(key))
        const rows = yield* sql<{ n: number }>`
          SELECT count(*)::int AS n FROM pg_locks
           WHERE locktype = 'advisory' AND granted AND objsubid = 2 AND pid = ${a.backendPid!}::int4
             AND ((classid::bigint = (hashtext('test.partition')::bigint & 4294967295) AND objid = 7)
               OR (classid::bigint = (hashtext('test.named')::bigint & 4294967295) AND objid::bigint = (hashtext('seven')::bigint & 4294967295)))`
        assert.strictEqual(rows[0]!.n, 2)
        const held = yield* sql<{ a: boolean; b: boolean }>`SELECT ${a.holds(partition)} AS a, ${b.holds(partition)} AS b`
        assert.deepStrictEqual(held[0], { a: true, b: false })
        yield* a.unlock(partition)
        assert.isTrue(yield* b.tryLock(partition))
        // the backend dies while nobody uses the session: the heartbeat notices on its own
        yield* sql`SELECT pg_terminate_backend(${a.backendPid!}::int)`
        const lost = yield* Deferred.await(a.lost).pipe(Effect.timeout("30 seconds"))
        assert.strictEqual(lost.backendPid, a.backendPid)
        const after = yield* Effect.flip(a.tryLock(named))
        assert.strictEqual(after._tag, "LockSessionLost")
        // its locks died with it
        assert.isTrue(yield* b.tryLock(named))
        assert.isFalse(yield* b.isLost)
      })))

    it.effect("a batch is fenced by the lock: after the lock session died it does not commit, even one already read", () =>
      Effect.scoped(Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        yield* appendMany(5, "fence")
        const projection: Projection = { ...streamsProjection, name: "fenced_streams", tables: streamsProjection.tables.map((t) => ({ ...t, name: "fenced_streams" })), apply: (events, ctx) => streamsProjection.apply(events, { ...ctx, table: (n) => ctx.table(n === "streams" ? "fenced_streams" : n) }) }
        const { live } = yield* reconcile(sql, projection)
        const key = { space: PROJECTION_LOCK_SPACE, key: projection.name }
        const session = yield* AdvisoryLockSession.make()
        assert.isTrue(yield* session.tryLock(key))
        const fence = { holds: session.holds(key), ensureHeld: session.ensureHeld(key) }
        // owned: the batch commits
        const r1 = yield* applyBatch(projection, live!, null, 2, fence)
        assert.strictEqual(r1.applied, 2)
        // another session holds the lock meanwhile (after the owner's session died)
        yield* sql`SELECT pg_terminate_backend(${session.backendPid!}::int)`
        const other = yield* AdvisoryLockSession.make()
        yield* pollUntil(Effect.map(other.tryLock(key), (ok) => (ok ? true : undefined)), "the lock to be free")
        const refused = yield* Effect.flip(applyBatch(projection, { ...live!, position: r1.position }, null, 2, fence))
        assert.strictEqual(refused._tag, "LockNotHeld")
        // the stale writer's session counts as lost; the checkpoint did not move
        assert.isTrue(yield* session.isLost)
        const lost = yield* Deferred.await(session.lost)
        assert.strictEqual(lost.backendPid, session.backendPid)
        const gen = (yield* generations(sql, projection.name)).find((g) => g.status === "live")!
        assert.strictEqual(gen.position, r1.position)
        assert.strictEqual(gen.eventsApplied, 2)
        // the new owner goes on from the checkpoint
        const otherFence = { holds: other.holds(key), ensureHeld: other.ensureHeld(key) }
        const r2 = yield* applyBatch(projection, gen, null, 100, otherFence)
        assert.strictEqual(gen.eventsApplied + r2.applied, yield* eventCount)
      })))

    it.effect("lag counts events committed behind an open transaction, and status names the transaction holding them", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const store = yield* EventStore
        const runner = yield* Effect.forkChild(runProjections([streamsProjection], { batchSize: 50 }))
        yield* awaitCaughtUp("streams")
        // a transaction takes a position and stays open
        const appended = yield* Deferred.make<{ position: number; pid: number }>()
        const release = yield* Deferred.make<void>()
        const holder = yield* Effect.forkChild(sql.withTransaction(Effect.gen(function*() {
          const r = yield* store.append("held-open", "shop-0", "any", [ev("held.happened")], meta())
          const pid = (yield* sql<{ pid: number }>`SELECT pg_backend_pid() AS pid`)[0]!.pid
          yield* Deferred.succeed(appended, { position: r.firstPosition!, pid })
          yield* Deferred.await(release)
        })))
        const held = yield* Deferred.await(appended)
        // 300 events commit behind it
        for (let i = 0; i < 10; i++) {
          yield* store.append(`behind-${i}`, "shop-1", "any", Array.from({ length: 30 }, (_, j) => ev("behind.happened", { j })), meta())
        }
        // the projection reaches the safe head (just before the open transaction's position)…
        const status = yield* pollUntil(
          Effect.map(projectionStatus, (all) => {
            const s = all.find((x) => x.name === "streams" && x.status === "live")!
            return s.position === s.head ? s : undefined
          }),
          "the projection to reach the safe head"
        )
        assert.strictEqual(status.head, held.position - 1)
        // …and the 300 committed events behind the open transaction are lag, with their cause
        assert.strictEqual(status.lag, 300)
        assert.strictEqual(status.blockedEvents, 300)
        assert.strictEqual(status.committedHead, held.position + 300)
        assert.isNotNull(status.blockedBy)
        assert.deepStrictEqual(status.blockedBy!.gap, { from: held.position, to: held.position })
        assert.isTrue(status.blockedBy!.openTransactions.some((t) => t.pid === held.pid))
        assert.isAtLeast(status.blockedBy!.oldestOpenTransactionSeconds!, 0)
        assert.isFalse(status.stalled)
        // the transaction commits: the projection catches up and the lag is gone
        yield* Deferred.succeed(release, undefined)
        yield* Fiber.join(holder)
        const after = yield* awaitCaughtUp("streams")
        assert.strictEqual(after.lag, 0)
        assert.strictEqual(after.blockedEvents, 0)
        assert.isNull(after.blockedBy)
        assert.strictEqual(after.position, held.position + 300)
        yield* Fiber.interrupt(runner)
      }))
  })
})
