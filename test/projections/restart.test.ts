/**
 * A PostgreSQL restart under a running projector: the lock session is re-established, each
 * projection re-acquires its lock and resumes from its checkpoint, and the read models end
 * with every event, applied once. Restarts a server of its own (the shared one serves other
 * suites).
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, Layer, Redacted, Ref } from "effect"
import { SqlClient } from "effect/sql"
import { layerPostgres } from "../../adapters/postgres/Database.ts"
import { auditLogProjection } from "../../projections/auditLog.ts"
import { streamsProjection } from "../../projections/streams.ts"
import { coreLayer } from "../../src/CoreLayer.ts"
import { initialHealth, type RunnerHealth, runProjections } from "../../src/projections/ProjectionRunner.ts"
import { generations } from "../../adapters/postgres/PgProjectionStore.ts"
import { testKeyRing } from "../support/keys.ts"
import { startPgServer } from "../support/pgServer.ts"
import { pollUntil } from "../support/poll.ts"
import { appendMany, awaitAllCaughtUp } from "../support/projections.ts"


const names = [streamsProjection.name, auditLogProjection.name]

const projectorSurvivesRestart = Effect.gen(function*() {
  const server = yield* Effect.acquireRelease(Effect.promise(() => startPgServer()), (s) => Effect.promise(() => s.stop()))
  const url = server.createDatabase("restart")
  const context = yield* Layer.build(coreLayer(layerPostgres(Redacted.make(url)), testKeyRing()))
  return yield* Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const health = yield* Ref.make(initialHealth())
    yield* appendMany(40, "before")
    const runner = yield* Effect.forkChild(runProjections([streamsProjection, auditLogProjection], { batchSize: 16, health }))
    yield* awaitAllCaughtUp(names)
    const before = yield* Ref.get(health)
    assert.strictEqual(before.state, "running")
    assert.sameMembers([...before.owned], names)

    yield* Effect.promise(() => server.restart())
    // a new session (a new backend: the old one died with the server), both projections owned again
    const after = yield* pollUntil(
      Effect.map(Ref.get(health), (h: RunnerHealth) =>
        h.state === "running" && h.sessionsLost === 1 && names.every((n) => h.owned.includes(n)) ? h : undefined),
      "the projector to re-establish its lock session and own its projections again",
      "60 seconds"
    )
    assert.notStrictEqual(after.lockBackendPid, before.lockBackendPid)
    assert.match(after.lastLoss ?? "", /./)

    yield* appendMany(25, "after")
    yield* awaitAllCaughtUp(names)
    const events = (yield* sql<{ n: number }>`SELECT count(*)::int AS n FROM events`)[0]!.n
    assert.strictEqual(events, 65)
    const audit = yield* sql<{ n: number }>`SELECT count(*)::int AS n FROM audit_log`
    assert.strictEqual(audit[0]!.n, 65)
    const afterRows = yield* sql<{ n: number }>`SELECT count(*)::int AS n FROM audit_log WHERE event_type = 'after.happened'`
    assert.strictEqual(afterRows[0]!.n, 25)
    const streams = yield* sql<{ total: number }>`SELECT sum(version)::int AS total FROM streams`
    assert.strictEqual(streams[0]!.total, 65)
    // resumed from the checkpoints: every event applied exactly once
    for (const name of names) {
      const live = (yield* generations(sql, name)).find((g) => g.status === "live")!
      assert.strictEqual(live.eventsApplied, 65, name)
      assert.strictEqual(live.generation, 1, name)
    }
    assert.isUndefined(runner.pollUnsafe())
    yield* Fiber.interrupt(runner)
  }).pipe(Effect.provide(context))
})

describe("projections across a PostgreSQL restart", () => {
  it.live(
    "the projector re-establishes its lock session; every projection resumes from its checkpoint and catches up",
    () => Effect.scoped(projectorSurvivesRestart),
    { timeout: 120_000 }
  )
})
