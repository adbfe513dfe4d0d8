/**
 * Audit retention (issue 11 §5), on PostgreSQL 15 and PGlite: on a moved clock, audit lines
 * older than the horizon leave the read model and newer ones stay; the events stay in the store;
 * a rebuild after the sweep does not bring them back (and proves identical by checksum); the
 * sweep runs once at start and then on its schedule; `AUDIT_RETENTION_DAYS` is validated.
 */
import { assert, describe, it, layer } from "@effect/vitest"
import { Clock, ConfigProvider, Duration, Effect, Exit, Fiber, Layer } from "effect"
import { SqlClient } from "effect/sql"
import { auditHorizon, AuditRetentionDays, auditLogProjection } from "../../projections/auditLog.ts"
import { layerEvery, sweepAuditLog } from "../../src/automation/AuditRetention.ts"
import { coreLayer } from "../../src/CoreLayer.ts"
import { EventStore } from "../../src/eventstore/EventStore.ts"
import { physicalTable } from "../../src/projections/Projection.ts"
import { runProjections } from "../../src/projections/ProjectionRunner.ts"
import { ProjectionStore } from "../../src/projections/ProjectionStore.ts"
import { backends } from "../support/databases.ts"
import { ev, meta } from "../support/fixtures.ts"
import { testKeyRing } from "../support/keys.ts"
import { awaitCaughtUp } from "../support/projections.ts"

const DAY = 86_400_000

/** The real clock, `offset` ms later: sleeps stay real, so the projection runner and its locks run as usual. */
const movedBy = (real: Clock.Clock, offset: number): Clock.Clock => {
  const millis = () => real.currentTimeMillisUnsafe() + offset
  const nanos = () => real.currentTimeNanosUnsafe() + BigInt(offset) * 1_000_000n
  return {
    currentTimeMillisUnsafe: millis,
    currentTimeMillis: Effect.sync(millis),
    currentTimeNanosUnsafe: nanos,
    currentTimeNanos: Effect.sync(nanos),
    monotonicTimeNanosUnsafe: () => real.monotonicTimeNanosUnsafe(),
    monotonicTimeNanos: real.monotonicTimeNanos,
    sleep: (duration) => real.sleep(duration)
  }
}

/** The event types of `shop`'s audit lines, in log order. */
const lines = (shop: string) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    Effect.map(sql<{ event_type: string }>`SELECT event_type FROM audit_log WHERE shop = ${shop} ORDER BY position`, (rows) => rows.map((r) => r.event_type)))

/** Runs the audit projection until it has applied the whole log (and switched a rebuild live). */
const project = Effect.gen(function*() {
  const runner = yield* Effect.forkChild(runProjections([auditLogProjection], { batchSize: 16 }))
  yield* awaitCaughtUp(auditLogProjection.name)
  yield* Fiber.interrupt(runner)
})

const liveGeneration = Effect.gen(function*() {
  const store = yield* ProjectionStore
  return (yield* store.generations(auditLogProjection.name)).find((g) => g.status === "live")!
})

/** Polls (real time) until `check` holds. */
const eventually = <E, R>(check: Effect.Effect<boolean, E, R>, what: string) =>
  Effect.gen(function*() {
    while (!(yield* check)) yield* Effect.sleep(Duration.millis(25))
  }).pipe(Effect.timeoutOrElse({ duration: Duration.seconds(20), orElse: () => Effect.die(new Error(`timed out waiting for ${what}`)) }))

for (const backend of backends) {
  describe(`audit retention on ${backend.name}`, () => {
    layer(coreLayer(backend.layer(), testKeyRing()), { excludeTestServices: true, timeout: 120_000 })((it) => {
      it.effect("on a moved clock, lines older than the horizon leave the read model, newer stay, the events stay, and a rebuild does not resurrect them", () =>
        Effect.gen(function*() {
          const sql = yield* SqlClient.SqlClient
          const events = yield* EventStore
          const projections = yield* ProjectionStore
          const real = yield* Clock.clockWith(Effect.succeed)
          const now = real.currentTimeMillisUnsafe()
          const shop = "retention.myshopify.com"
          const daysAgo = (n: number) => ({ occurredAt: new Date(now - n * DAY) })
          yield* events.append(`retained-${shop}`, shop, "any", [
            ev("retention.ancient", { i: 1 }, daysAgo(400)),
            ev("retention.old", { i: 2 }, daysAgo(300)),
            ev("retention.recent", { i: 3 }, daysAgo(10))
          ], meta())

          // today: a line 400 days old is never written; 300 and 10 days old are within the year
          yield* project
          assert.deepStrictEqual(yield* lines(shop), ["retention.old", "retention.recent"])

          // 100 days later the 300-day-old line is past the horizon (365 days, the default)
          const later = movedBy(real, 100 * DAY)
          const swept = yield* sweepAuditLog(365).pipe(Effect.provideService(Clock.Clock, later))
          assert.strictEqual(swept.deleted, 1)
          assert.deepStrictEqual(swept.horizon, auditHorizon(365, now + 100 * DAY))
          assert.deepStrictEqual(yield* lines(shop), ["retention.recent"])
          // the events stay in the store: only the read model forgot
          const stored = yield* sql<{ type: string }>`SELECT type FROM events WHERE shop = ${shop} ORDER BY position`
          assert.deepStrictEqual(stored.map((e) => e.type), ["retention.ancient", "retention.old", "retention.recent"])
          // a second sweep finds nothing more
          assert.strictEqual((yield* sweepAuditLog(365).pipe(Effect.provideService(Clock.Clock, later))).deleted, 0)

          // a rebuild from position 0, on the same (moved) day, writes exactly the swept lines
          const before = yield* liveGeneration
          const sweptSum = yield* projections.checksum(auditLogProjection, before.generation)
          yield* projections.requestRebuild(auditLogProjection)
          yield* project.pipe(Effect.provideService(Clock.Clock, later))
          const after = yield* liveGeneration
          assert.isAbove(after.generation, before.generation)
          assert.deepStrictEqual(yield* lines(shop), ["retention.recent"])
          const rebuiltSum = yield* projections.checksum(auditLogProjection, after.generation)
          assert.deepStrictEqual(rebuiltSum, sweptSum)
        }))

      it.effect("the sweep runs once at start, with AUDIT_RETENTION_DAYS, then on its schedule", () =>
        Effect.gen(function*() {
          const sql = yield* SqlClient.SqlClient
          const events = yield* EventStore
          const real = yield* Clock.clockWith(Effect.succeed)
          const now = real.currentTimeMillisUnsafe()
          const shop = "retention-schedule.myshopify.com"
          yield* events.append(`scheduled-${shop}`, shop, "any", [
            ev("retention.fifty_days", {}, { occurredAt: new Date(now - 50 * DAY) }),
            ev("retention.two_days", {}, { occurredAt: new Date(now - 2 * DAY) })
          ], meta())
          yield* project
          assert.deepStrictEqual(yield* lines(shop), ["retention.fifty_days", "retention.two_days"])

          // AUDIT_RETENTION_DAYS=30, an hourly sweep: only the run at start can have removed it
          yield* Effect.scoped(Effect.gen(function*() {
            yield* Layer.build(layerEvery(Duration.hours(1)))
            yield* eventually(Effect.map(lines(shop), (l) => l.length === 1), "the sweep at start")
          })).pipe(Effect.provide(ConfigProvider.layer(ConfigProvider.fromUnknown({ AUDIT_RETENTION_DAYS: "30" }))))
          assert.deepStrictEqual(yield* lines(shop), ["retention.two_days"])

          // every 100 ms, the default retention, a year and a bit later: the next ticks sweep
          // a line that aged after the start too
          const live = yield* liveGeneration
          const table = physicalTable("audit_log", live.generation)
          yield* Effect.scoped(Effect.gen(function*() {
            yield* Layer.build(layerEvery(Duration.millis(100)))
            yield* eventually(Effect.map(lines(shop), (l) => l.length === 0), "the sweep at start, a year later")
            yield* sql`
              INSERT INTO ${sql(table)} (position, shop, stream_id, event_type, actor_kind, actor_id, correlation_id, summary, occurred_at)
              VALUES (900000001, ${shop}, ${`scheduled-${shop}`}, 'retention.aged', 'system', 'test', 'corr', 'aged since', ${new Date(now - 10 * DAY).toISOString()}::timestamptz)`
            assert.deepStrictEqual(yield* lines(shop), ["retention.aged"])
            yield* eventually(Effect.map(lines(shop), (l) => l.length === 0), "a later tick")
          })).pipe(Effect.provideService(Clock.Clock, movedBy(real, 370 * DAY)))
        }))

      it.effect("an invalid AUDIT_RETENTION_DAYS stops the sweep's layer (and so the projector) from starting", () =>
        Effect.gen(function*() {
          const started = yield* Effect.exit(Effect.scoped(Layer.build(layerEvery(Duration.hours(1))))).pipe(
            Effect.provide(ConfigProvider.layer(ConfigProvider.fromUnknown({ AUDIT_RETENTION_DAYS: "-1" })))
          )
          assert.isTrue(Exit.isFailure(started))
          assert.include(String(Exit.isFailure(started) ? started.cause : ""), "must be a positive whole number of days")
        }))
    })
  })
}

describe("AUDIT_RETENTION_DAYS", () => {
  const parse = (value: string | undefined) =>
    Effect.exit(AuditRetentionDays.parse(ConfigProvider.fromUnknown(value === undefined ? {} : { AUDIT_RETENTION_DAYS: value })))

  it.effect("is 365 days when unset, the configured number of days otherwise", () =>
    Effect.gen(function*() {
      assert.deepStrictEqual(yield* parse(undefined), Exit.succeed(365))
      assert.deepStrictEqual(yield* parse("30"), Exit.succeed(30))
    }))

  it.effect("rejects 0, negative and non-integer values with a clear error", () =>
    Effect.gen(function*() {
      for (const value of ["0", "-7", "1.5", "365.25"]) {
        const exit = yield* parse(value)
        assert.isTrue(Exit.isFailure(exit), value)
        assert.include(String(Exit.isFailure(exit) ? exit.cause : ""), "AUDIT_RETENTION_DAYS", value)
        assert.include(String(Exit.isFailure(exit) ? exit.cause : ""), "must be a positive whole number of days", value)
      }
      assert.isTrue(Exit.isFailure(yield* parse("a year")))
    }))

  it("the horizon is the start of the UTC day, the retention back: a line stays at least that many days", () => {
    const now = Date.parse("2026-12-06T10:17:03Z")
    assert.strictEqual(auditHorizon(365, now).toISOString(), "2025-12-06T00:00:00.000Z")
    assert.strictEqual(auditHorizon(1, now).toISOString(), "2026-12-05T00:00:00.000Z")
    // the same all day
    assert.deepStrictEqual(auditHorizon(30, Date.parse("2026-12-06T23:59:59Z")), auditHorizon(30, Date.parse("2026-12-06T00:00:00Z")))
  })
})
