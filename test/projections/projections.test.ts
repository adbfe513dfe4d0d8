/**
 * The projection engine on PostgreSQL 15 and PGlite: catch-up and live following, exactly-once
 * checkpoints, zero-downtime rebuild with an atomic switch, resumable rebuilds, version
 * changes, lag, checksums.
 */
import { assert, describe, layer } from "@effect/vitest"
import { Deferred, Effect, Fiber, Stream } from "effect"
import { SqlClient } from "effect/sql"
import { streamsProjection } from "../../projections/streams.ts"
import { auditLogProjection } from "../../projections/auditLog.ts"
import { EventStore } from "../../src/eventstore/EventStore.ts"
import { PiiVault } from "../../src/secrets/Secrets.ts"
import { coreLayer } from "../../src/CoreLayer.ts"
import type { Projection } from "../../src/projections/Projection.ts"
import { projectionStatus, runProjections } from "../../src/projections/ProjectionRunner.ts"
import { applyBatch } from "../../src/projections/ProjectionStore.ts"
import { checksum, generations, reconcile, requestRebuild } from "../../adapters/postgres/PgProjectionStore.ts"
import { asTenant } from "../../adapters/postgres/Tenancy.ts"
import { backends } from "../support/databases.ts"
import { ev, meta } from "../support/fixtures.ts"
import { appendMany, awaitCaughtUp } from "../support/projections.ts"
import { testKeyRing } from "../support/keys.ts"



for (const backend of backends) {
  describe(`projections on ${backend.name}`, () => {
    layer(coreLayer(backend.layer(), testKeyRing()), { excludeTestServices: true, timeout: 120_000 })((it) => {
      it.effect("catch up, then follow the log live, woken by new events", () =>
        Effect.gen(function*() {
          const sql = yield* SqlClient.SqlClient
          yield* appendMany(50, "cu", 7)
          const runner = yield* Effect.forkChild(runProjections([streamsProjection, auditLogProjection], { batchSize: 16 }))
          yield* awaitCaughtUp("streams")
          yield* awaitCaughtUp("audit_log")
          const audit = yield* sql<{ n: number }>`SELECT count(*)::int AS n FROM audit_log`
          assert.strictEqual(audit[0]!.n, 50)
          const streams = yield* sql<{ stream_id: string; version: number; shop: string }>`
            SELECT stream_id, version, shop FROM streams WHERE stream_id = 'cu-0-shop-0'`
          // i ≡ 0 mod 7 and ≡ 0 mod 3: 0, 21, 42
          assert.deepStrictEqual(streams, [{ stream_id: "cu-0-shop-0", version: 3, shop: "shop-0" }])
          // live: new events arrive while the runner waits
          yield* appendMany(10, "live", 7)
          const live = yield* awaitCaughtUp("audit_log")
          assert.strictEqual(live.lag, 0)
          const after = yield* sql<{ n: number }>`SELECT count(*)::int AS n FROM audit_log`
          assert.strictEqual(after[0]!.n, 60)
          const line = yield* sql<{ summary: string }>`SELECT summary FROM audit_log WHERE event_type = 'live.happened' ORDER BY position LIMIT 1`
          assert.match(line[0]!.summary, /live\.happened recorded on live-0-shop-0 \(version 1\) by Sumeru/)
          yield* Fiber.interrupt(runner)
        }))

      it.effect("a projection with a bug (a defect) is restarted on its own; the others keep running and keep their locks", () =>
        Effect.gen(function*() {
          const sql = yield* SqlClient.SqlClient
          let attempts = 0
          // the two projections start concurrently: streams may catch up before buggy's first batch
          const attempted = yield* Deferred.make<void>()
          const buggy: Projection = {
            name: "buggy",
            version: 1,
            eventTypes: "all",
            tables: [{ name: "buggy_rows", columns: ["id text NOT NULL"], primaryKey: ["id"] }],
            apply: () =>
              Effect.suspend(() => {
                attempts++
                return Effect.andThen(Deferred.succeed(attempted, undefined), Effect.die(new TypeError("a bug in the fold")))
              })
          }
          yield* appendMany(20, "bug", 7)
          const runner = yield* Effect.forkChild(runProjections([buggy, streamsProjection], { batchSize: 8 }))
          yield* awaitCaughtUp("streams")
          // it keeps failing and being restarted, while streams follows new events
          yield* appendMany(5, "after-bug", 7)
          yield* awaitCaughtUp("streams")
          const after = yield* sql<{ n: number }>`SELECT count(*)::int AS n FROM streams WHERE stream_id LIKE 'after-bug-%'`
          assert.isAbove(after[0]!.n, 0)
          yield* Deferred.await(attempted).pipe(Effect.timeout("30 seconds"))
          assert.isAbove(attempts, 0)
          assert.isUndefined(runner.pollUnsafe())
          yield* Fiber.interrupt(runner)
        }))

      it.effect("a rebuild runs beside the live version, switches atomically and proves identical", () =>
        Effect.gen(function*() {
          const sql = yield* SqlClient.SqlClient
          const runner0 = yield* Effect.forkChild(runProjections([streamsProjection], { batchSize: 64 }))
          yield* awaitCaughtUp("streams")
          yield* Fiber.interrupt(runner0)
          const [before] = (yield* generations(sql, "streams")).filter((g) => g.status === "live")
          const liveSum = yield* checksum(sql, streamsProjection, before!.generation)
          assert.isTrue(liveSum.rows > 0)
          // request a rebuild: a new generation with empty tables; readers still see the old one
          const building = yield* requestRebuild(sql, streamsProjection)
          assert.strictEqual(building.status, "building")
          assert.strictEqual(building.generation, before!.generation + 1)
          const visible = yield* sql<{ n: number }>`SELECT count(*)::int AS n FROM streams`
          assert.strictEqual(visible[0]!.n, liveSum.rows)
          // interrupted rebuild: two batches, then "crash"
          let gen = building
          for (let i = 0; i < 2; i++) {
            const r = yield* applyBatch(streamsProjection, gen, null, 5)
            gen = { ...gen, position: r.position }
          }
          const partial = (yield* generations(sql, "streams")).find((g) => g.generation === building.generation)!
          assert.strictEqual(partial.position, gen.position)
          assert.isTrue(partial.position > 0)
          // resume: the runner continues from the checkpoint and switches when caught up
          const runner = yield* Effect.forkChild(runProjections([streamsProjection], { batchSize: 7 }))
          yield* awaitCaughtUp("streams")
          yield* Fiber.interrupt(runner)
          const gens = yield* generations(sql, "streams")
          const live = gens.find((g) => g.status === "live")!
          assert.strictEqual(live.generation, building.generation)
          assert.strictEqual(gens.find((g) => g.generation === before!.generation)!.status, "retired")
          // exactly once: every event applied once across the interruption
          const total = yield* sql<{ n: number }>`SELECT count(*)::int AS n FROM events`
          assert.strictEqual(live.eventsApplied, total[0]!.n)
          const rebuiltSum = yield* checksum(sql, streamsProjection, live.generation)
          assert.strictEqual(rebuiltSum.sha256, liveSum.sha256)
          // the old generation's tables are gone
          const old = yield* sql<{ n: number }>`
            SELECT count(*)::int AS n FROM pg_tables WHERE tablename = ${`streams__g${before!.generation}`}`
          assert.strictEqual(old[0]!.n, 0)
        }))

      it.effect("a new projection version is built beside the old one, which keeps serving until the switch", () =>
        Effect.gen(function*() {
          const sql = yield* SqlClient.SqlClient
          const v1: Projection = {
            ...streamsProjection,
            name: "streams_v",
            tables: streamsProjection.tables.map((t) => ({ ...t, name: "streams_v" })),
            apply: (events, ctx) => streamsProjection.apply(events, { ...ctx, table: (n) => ctx.table(n === "streams" ? "streams_v" : n) })
          }
          const r1 = yield* Effect.forkChild(runProjections([v1]))
          yield* awaitCaughtUp("streams_v")
          yield* Fiber.interrupt(r1)
          const countBefore = (yield* sql<{ n: number }>`SELECT count(*)::int AS n FROM streams_v`)[0]!.n
          // v2 adds a column
          const v2: Projection = {
            name: "streams_v",
            version: 2,
            eventTypes: "all",
            tables: [{ name: "streams_v", columns: ["stream_id text NOT NULL", "shop text NOT NULL", "events integer NOT NULL"], primaryKey: ["stream_id"], shopColumn: "shop" }],
            apply: (events, { sql, table }) =>
              Effect.forEach(events, (e) =>
                sql`INSERT INTO ${sql.unsafe(table("streams_v"))} (stream_id, shop, events) VALUES (${e.streamId}, ${e.shop}, 1)
                    ON CONFLICT (stream_id) DO UPDATE SET events = ${sql.unsafe(table("streams_v"))}.events + 1`, { discard: true })
          }
          const state = yield* reconcile(sql, v2)
          assert.strictEqual(state.live!.version, 1)
          assert.strictEqual(state.building!.version, 2)
          // readers still read v1 (no `events` column yet)
          const stillV1 = yield* Effect.result(sql`SELECT events FROM streams_v`)
          assert.strictEqual(stillV1._tag, "Failure")
          const r2 = yield* Effect.forkChild(runProjections([v2], { batchSize: 9 }))
          yield* awaitCaughtUp("streams_v")
          yield* Fiber.interrupt(r2)
          const rows = yield* sql<{ n: number; total: number }>`SELECT count(*)::int AS n, sum(events)::int AS total FROM streams_v`
          assert.strictEqual(rows[0]!.n, countBefore)
          const total = yield* sql<{ n: number }>`SELECT count(*)::int AS n FROM events`
          assert.strictEqual(rows[0]!.total, total[0]!.n)
        }))

      it.effect("read models are tenant-scoped by row-level security: shop A's session sees none of shop B's rows", () =>
        Effect.gen(function*() {
          const sql = yield* SqlClient.SqlClient
          const runner = yield* Effect.forkChild(runProjections([streamsProjection, auditLogProjection]))
          yield* awaitCaughtUp("audit_log")
          yield* awaitCaughtUp("streams")
          yield* Fiber.interrupt(runner)
          const all = yield* sql<{ shop: string }>`SELECT DISTINCT shop FROM audit_log ORDER BY shop`
          assert.isAbove(all.length, 1)
          const own = yield* asTenant("shop-1", sql<{ shop: string }>`SELECT DISTINCT shop FROM audit_log ORDER BY shop`)
          assert.deepStrictEqual(own, [{ shop: "shop-1" }])
          const other = yield* asTenant("shop-1", sql`SELECT * FROM streams WHERE shop = 'shop-2'`)
          assert.strictEqual(other.length, 0)
          const physical = (yield* generations(sql, "audit_log")).find((g) => g.status === "live")!
          const direct = yield* asTenant("shop-1", sql.unsafe(`SELECT * FROM "audit_log__g${physical.generation}" WHERE shop = 'shop-2'`))
          assert.strictEqual(direct.length, 0)
          const write = yield* Effect.flip(asTenant("shop-1", sql.unsafe(
            `INSERT INTO "audit_log__g${physical.generation}" (position, shop, stream_id, event_type, actor_kind, actor_id, correlation_id, summary, occurred_at)
             VALUES (999999, 'shop-2', 's', 't', 'system', 'x', 'c', 'forged', now())`)))
          assert.strictEqual(write._tag, "SqlError")
        }))

      it.effect("lag is visible while a projection is not running", () =>
        Effect.gen(function*() {
          const store = yield* EventStore
          const lagBefore = (yield* projectionStatus).find((s) => s.name === "streams" && s.status === "live")!.lag
          yield* appendMany(5, "lag", 7)
          const status = yield* projectionStatus
          const streams = status.find((s) => s.name === "streams" && s.status === "live")!
          assert.strictEqual(streams.lag, lagBefore + 5)
          assert.isFalse(streams.stalled)
          assert.strictEqual(streams.head, (yield* store.head).safePosition)
          // read models are tenant-scoped by row-level security too
          const count = yield* Stream.runCount(store.readAll({ after: streams.position }))
          assert.strictEqual(count, lagBefore + 5)
        }))
    })
  })

  // its own database: the other tests count every event of theirs
  describe(`projections and redacted events on ${backend.name}`, () => {
    layer(coreLayer(backend.layer(), testKeyRing()), { excludeTestServices: true, timeout: 120_000 })((it) => {
      it.effect("events whose shop's key was shredded are passed over: a strict fold never sees their missing data", () =>
        Effect.gen(function*() {
          const store = yield* EventStore
          const vault = yield* PiiVault
          const seen: Array<string> = []
          // a fold that trusts its events: null data would be a defect
          const strict: Projection = {
            name: "strict_jobs",
            version: 1,
            eventTypes: ["job.requested"],
            tables: [{ name: "strict_jobs_rows", columns: ["id text NOT NULL"], primaryKey: ["id"] }],
            apply: (events) =>
              Effect.forEach(events, (e) =>
                e.data === null ? Effect.die(new TypeError(`no data in ${e.eventId}`)) : Effect.sync(() => seen.push((e.data as { jobId: string }).jobId)), { discard: true })
          }
          yield* store.append("job-gone-1", "gone.myshopify.com", "any", [ev("job.requested", { jobId: "gone-1" })], meta())
          yield* store.append("job-kept-1", "kept.myshopify.com", "any", [ev("job.requested", { jobId: "kept-1" })], meta())
          yield* vault.shredShop("gone.myshopify.com")
          const runner = yield* Effect.forkChild(runProjections([strict], { batchSize: 8 }))
          yield* awaitCaughtUp("strict_jobs")
          assert.deepStrictEqual(seen, ["kept-1"])
          assert.isUndefined(runner.pollUnsafe())
          yield* Fiber.interrupt(runner)
        }))
    })
  })
}
