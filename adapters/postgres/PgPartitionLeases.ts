/**
 * `PartitionLeases` (src/actors/PartitionLeases.ts) on PostgreSQL. A lease session is an
 * `AdvisoryLockSession` — one reserved connection holding session advisory locks, watched by a
 * heartbeat — and each partition is one lock in the space `sumeru.partition`: a worker that
 * dies (even by SIGKILL) loses its locks with its connection. The session's backend is the
 * commit fence: `apply_messages` refuses a commit unless that backend still holds the
 * partition's lock (migration 0013). Live workers heartbeat in `workers`.
 *
 * `layerForDatabase` picks by database mode: the embedded database has one process, which owns
 * every partition with no locks (`EmbeddedPartitionLeases`).
 */
import { Deferred, Duration, Effect, Layer } from "effect"
import { SqlClient } from "effect/sql"
import { type LeaseSession, PartitionLeases } from "../../src/actors/PartitionLeases.ts"
import * as EmbeddedPartitionLeases from "../embedded/EmbeddedPartitionLeases.ts"
import * as AdvisoryLockSession from "./AdvisoryLockSession.ts"
import { DatabaseMode } from "./Database.ts"

/** The advisory-lock space of partitions (`pg_locks.classid = hashtext('sumeru.partition')`). */
export const PARTITION_LOCK_SPACE = "sumeru.partition"

const lockOf = (partition: number): AdvisoryLockSession.LockKey => ({ space: PARTITION_LOCK_SPACE, key: partition })

export const make = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const mode = yield* DatabaseMode
  return PartitionLeases.of({
    _tag: "Shared",
    // The lock session's heartbeat runs at the ownership loop's interval; the session names
    // its connection after the worker, so a worker's next session ends a stale one of its own.
    open: (options) =>
      AdvisoryLockSession.make({ heartbeatInterval: options.heartbeatInterval, owner: options.workerId }).pipe(
        Effect.map((session): LeaseSession => ({
          fence: session.backendPid,
          tryLock: (p) => session.tryLock(lockOf(p)),
          unlock: (p) => session.unlock(lockOf(p)),
          lost: Effect.flatMap(Deferred.await(session.lost), Effect.fail),
          invalidate: session.invalidate
        })),
        Effect.provideService(SqlClient.SqlClient, sql),
        Effect.provideService(DatabaseMode, mode)
      ),
    heartbeat: (workerId) =>
      Effect.asVoid(sql`INSERT INTO workers (worker_id) VALUES (${workerId}) ON CONFLICT (worker_id) DO UPDATE SET last_seen = now()`),
    countLive: (staleAfter) =>
      Effect.map(
        sql<{ n: number }>`
          SELECT count(*)::int AS n FROM workers WHERE last_seen > now() - make_interval(secs => ${Duration.toSeconds(staleAfter)})`,
        (rows) => rows[0]!.n
      ),
    leave: (workerId) => Effect.asVoid(sql`DELETE FROM workers WHERE worker_id = ${workerId}`)
  })
})

/** Advisory locks and the `workers` table, on any database mode (see `layerForDatabase`). */
export const layer: Layer.Layer<PartitionLeases, never, SqlClient.SqlClient | DatabaseMode> = Layer.effect(PartitionLeases, make)

/** PostgreSQL: `layer`; the embedded database: a single process that owns every partition. */
export const layerForDatabase: Layer.Layer<PartitionLeases, never, SqlClient.SqlClient | DatabaseMode> = Layer.unwrap(
  Effect.gen(function*() {
    const mode = yield* DatabaseMode
    const chosen: Layer.Layer<PartitionLeases, never, SqlClient.SqlClient | DatabaseMode> = mode.kind === "embedded"
      ? EmbeddedPartitionLeases.layer
      : layer
    return chosen
  })
)
