/**
 * Group commit (migration 0018): appends made together commit in one transaction, and each
 * still gets its own answer — a conflict, another shop's stream or a re-append fails or skips
 * that append alone. Run against PostgreSQL 15 and PGlite alike.
 */
import { assert, describe, layer } from "@effect/vitest"
import { Deferred, Effect, Fiber, Layer, Stream } from "effect"
import { uuidV7Unsafe } from "effect/crypto/SecureRandom"
import { SqlClient } from "effect/sql"
import * as PgEventStore from "../../adapters/postgres/PgEventStore.ts"
import { EventStore } from "../../src/eventstore/EventStore.ts"
import { backends } from "../support/databases.ts"
import { ev, meta } from "../support/fixtures.ts"
import { testSealing } from "../support/keys.ts"
import { pollUntil } from "../support/poll.ts"

/** How many transactions wrote the events of streams starting with `prefix`. */
const transactionsOf = (prefix: string) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const rows = yield* sql<{ n: number }>`
      SELECT count(DISTINCT xmin::text)::int AS n FROM events WHERE stream_id LIKE ${prefix + "%"}`
    return rows[0]!.n
  })

for (const backend of backends) {
  const StoreLayer = PgEventStore.layer.pipe(Layer.provideMerge(testSealing()), Layer.provideMerge(backend.layer()))

  describe(`group commit on ${backend.name}`, () => {
    layer(StoreLayer, { excludeTestServices: true, timeout: 60_000 })((it) => {
      it.effect("appends made together commit in one transaction, each with its own versions and positions", () =>
        Effect.gen(function*() {
          const store = yield* EventStore
          const results = yield* Effect.forEach(Array.from({ length: 20 }, (_, i) => i), (i) =>
            store.append(`grp-a-${i}`, "a.myshopify.com", "no_stream", [ev("x.one", { i }), ev("x.two", { i })], {
              ...meta(`corr-${i}`),
              causationId: i % 2 === 0 ? `cause-${i}` : null
            }), {
            concurrency: "unbounded"
          })
          assert.strictEqual(yield* transactionsOf("grp-a-"), 1)
          const positions = new Set<number>()
          for (const [i, r] of results.entries()) {
            assert.deepStrictEqual([r.nextVersion, r.appended], [2, 2])
            assert.strictEqual(r.lastPosition! - r.firstPosition!, 1)
            const events = yield* Stream.runCollect(store.readStream(`grp-a-${i}`))
            // the positions answered are the events' own, and each append's metadata is its own
            const cause = i % 2 === 0 ? `cause-${i}` : null
            assert.deepStrictEqual(events.map((e) => [e.position, e.streamVersion, e.data, e.correlationId, e.causationId]), [
              [r.firstPosition, 1, { i }, `corr-${i}`, cause],
              [r.lastPosition, 2, { i }, `corr-${i}`, cause]
            ])
            positions.add(r.firstPosition!).add(r.lastPosition!)
          }
          assert.strictEqual(positions.size, 40)
        }))

      it.effect("in one group, a wrong version, another shop's stream and a re-append are answered alone", () =>
        Effect.gen(function*() {
          const store = yield* EventStore
          yield* store.append("grp-b-behind", "b.myshopify.com", "no_stream", [ev("x.init"), ev("x.init")], meta())
          yield* store.append("grp-b-theirs", "other.myshopify.com", "no_stream", [ev("x.init")], meta())
          const stored = uuidV7Unsafe()
          yield* store.append("grp-b-again", "b.myshopify.com", "no_stream", [ev("x.once", {}, { eventId: stored })], meta())
          const [ok, wrong, theirs, again, fresh] = yield* Effect.all([
            Effect.result(store.append("grp-b-ok", "b.myshopify.com", "no_stream", [ev("x.fine")], meta())),
            Effect.result(store.append("grp-b-behind", "b.myshopify.com", 1, [ev("x.late")], meta())),
            Effect.result(store.append("grp-b-theirs", "b.myshopify.com", "any", [ev("x.intrude")], meta())),
            // a stale expectation does not matter when every event is already stored
            Effect.result(store.append("grp-b-again", "b.myshopify.com", 7, [ev("x.once", {}, { eventId: stored })], meta())),
            Effect.result(store.append("grp-b-new", "b.myshopify.com", 0, [ev("x.fine")], meta()))
          ], { concurrency: "unbounded" })
          assert.strictEqual(ok!._tag === "Success" && ok.success.nextVersion, 1)
          assert.strictEqual(wrong!._tag === "Failure" && wrong.failure._tag === "ConcurrencyConflict" && wrong.failure.actual, 2)
          assert.strictEqual(theirs!._tag === "Failure" && theirs.failure._tag === "StreamOwnershipViolation" && theirs.failure.owner, "other.myshopify.com")
          assert.deepStrictEqual(again!._tag === "Success" && [again.success.appended, again.success.nextVersion], [0, 1])
          assert.strictEqual(fresh!._tag === "Success" && fresh.success.nextVersion, 1)
          // the refused appends wrote nothing, the others are stored once
          assert.strictEqual((yield* store.streamInfo("grp-b-behind"))!.version, 2)
          assert.strictEqual((yield* store.streamInfo("grp-b-theirs"))!.version, 1)
          assert.strictEqual((yield* Stream.runCollect(store.readStream("grp-b-again"))).length, 1)
          assert.strictEqual(yield* transactionsOf("grp-b-ok"), 1)
        }))

      it.effect("one stream twice in a group: the appends apply in the order they were made", () =>
        Effect.gen(function*() {
          const store = yield* EventStore
          const [first, second] = yield* Effect.all([
            store.append("grp-c", "c.myshopify.com", "any", [ev("x.first"), ev("x.first")], meta()),
            store.append("grp-c", "c.myshopify.com", "any", [ev("x.second")], meta())
          ], { concurrency: "unbounded" })
          assert.deepStrictEqual([first.nextVersion, second.nextVersion], [2, 3])
          const events = yield* Stream.runCollect(store.readStream("grp-c"))
          assert.deepStrictEqual(events.map((e) => e.type), ["x.first", "x.first", "x.second"])
          assert.isTrue(second.firstPosition! > first.lastPosition!)
        }))

      it.effect("a group that fails whole (one event id in two appends) is answered append by append", () =>
        Effect.gen(function*() {
          const store = yield* EventStore
          const shared = uuidV7Unsafe()
          const results = yield* Effect.all([
            store.append("grp-d-1", "d.myshopify.com", "no_stream", [ev("x.shared", {}, { eventId: shared })], meta()),
            store.append("grp-d-2", "d.myshopify.com", "no_stream", [ev("x.shared", {}, { eventId: shared })], meta()),
            store.append("grp-d-3", "d.myshopify.com", "no_stream", [ev("x.bystander")], meta())
          ].map(Effect.result), { concurrency: "unbounded" })
          // the bystander is not failed by its group
          assert.strictEqual(results[2]!._tag, "Success")
          const sql = yield* SqlClient.SqlClient
          const copies = yield* sql<{ n: number }>`SELECT count(*)::int AS n FROM events WHERE event_id = ${shared}`
          assert.strictEqual(copies[0]!.n, 1)
          // one append stored it; the other found it stored (nothing appended, nothing failed)
          const appended = results.slice(0, 2).map((r) => (r._tag === "Success" ? r.success.appended : -1)).sort()
          assert.deepStrictEqual(appended, [0, 1])
        }))

      if (backend.name !== "PGlite") {
        // PGlite is one session: no other transaction can hold a stream meanwhile
        it.effect("appends racing another writer that holds their streams are refused with the versions it committed", () =>
          Effect.gen(function*() {
            const store = yield* EventStore
            const sql = yield* SqlClient.SqlClient
            yield* store.append("grp-f-moved", "f.myshopify.com", "no_stream", [ev("x.init")], meta())
            const held = yield* Deferred.make<void>()
            const release = yield* Deferred.make<void>()
            // another writer holds both streams: it moves one to version 5 and creates the other
            const other = yield* sql.withTransaction(Effect.gen(function*() {
              yield* sql`UPDATE event_streams SET version = 5 WHERE stream_id = 'grp-f-moved'`
              yield* sql`INSERT INTO event_streams (stream_id, shop, version) VALUES ('grp-f-created', 'f.myshopify.com', 3)`
              yield* Deferred.succeed(held, undefined)
              yield* Deferred.await(release)
            })).pipe(Effect.forkChild)
            yield* Deferred.await(held)
            const appends = yield* Effect.all([
              store.append("grp-f-moved", "f.myshopify.com", 1, [ev("x.late")], meta()),
              store.append("grp-f-created", "f.myshopify.com", "no_stream", [ev("x.late")], meta())
            ].map(Effect.result), { concurrency: "unbounded" }).pipe(Effect.forkChild)
            // the group waits for the other writer's locks
            yield* pollUntil(sql<{ n: number }>`
              SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`.pipe(
              Effect.map((rows) => (rows[0]!.n >= 1 ? true : undefined))
            ), "the group to wait for the other writer")
            yield* Deferred.succeed(release, undefined)
            yield* Fiber.join(other)
            const [moved, created] = yield* Fiber.join(appends)
            // refused with the versions the other writer committed, not the group's older snapshot
            assert.strictEqual(moved!._tag === "Failure" && moved.failure._tag === "ConcurrencyConflict" && moved.failure.actual, 5)
            assert.strictEqual(created!._tag === "Failure" && created.failure._tag === "ConcurrencyConflict" && created.failure.actual, 3)
            assert.strictEqual((yield* Stream.runCollect(store.readStream("grp-f-moved"))).length, 1)
          }))
      }

      it.effect("an append inside a caller's transaction is part of it: rolled back with it", () =>
        Effect.gen(function*() {
          const store = yield* EventStore
          const sql = yield* SqlClient.SqlClient
          const outcome = yield* sql.withTransaction(Effect.gen(function*() {
            yield* store.append("grp-e", "e.myshopify.com", "no_stream", [ev("x.tx")], meta())
            return yield* Effect.fail("abandon" as const)
          })).pipe(Effect.flip)
          assert.strictEqual(outcome, "abandon")
          assert.isNull(yield* store.streamInfo("grp-e"))
        }))
    })
  })
}
