/**
 * Runs projections: one fiber per projection catches up in large batches, then follows the
 * log live, woken by `LogWakeups` (never sleeping while events wait). A building generation
 * (a rebuild) runs beside the live one and takes over atomically once it has caught up.
 *
 * On PostgreSQL each projection is owned by one process at a time through a session advisory
 * lock on a reserved connection; a crashed owner's lock dies with its connection and another
 * projector takes over. The embedded database has a single process, so it needs no lock.
 */
import { Context, Deferred, Duration, Effect, Layer, Schedule } from "effect"
import { SqlClient } from "effect/sql"
import type { Connection } from "effect/sql/SqlConnection"
import type { SqlError } from "effect/sql/SqlError"
import { DatabaseMode } from "../../adapters/postgres/Database.ts"
import { EventUpcasters } from "../../adapters/postgres/PgEventStore.ts"
import { EventStore, type PersistenceError } from "../eventstore/EventStore.ts"
import { LogWakeups, makeSignal, type Signal } from "../eventstore/LogWakeups.ts"
import type { Projection } from "./Projection.ts"
import { applyBatch, type Generation, generations, reconcile, switchLive } from "./ProjectionStore.ts"

export interface ProjectionStatus {
  readonly name: string
  readonly generation: number
  readonly version: number
  readonly status: "building" | "live" | "retired"
  readonly position: number
  readonly eventsApplied: number
  /** Safe head of the log minus this generation's checkpoint. */
  readonly lag: number
  readonly head: number
  readonly updatedAt: Date
  /** Behind the head and no progress for `stallAfter`: the consumer is stuck. */
  readonly stalled: boolean
  readonly eventsPerSecond: number
  readonly etaSeconds: number | null
}

const STALL_AFTER_MS = 30_000

/** Notified after every committed batch and switch; tests and `--wait` use it instead of sleeping. */
export const ProjectionProgress = Context.Reference<Signal>("sumeru/projections/ProjectionProgress", {
  defaultValue: () => makeSignal()
})

/** Status of every non-retired generation, with lag against the log's safe head. */
export const projectionStatus: Effect.Effect<
  ReadonlyArray<ProjectionStatus>,
  SqlError | PersistenceError,
  SqlClient.SqlClient | EventStore
> = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const store = yield* EventStore
  const head = yield* store.head
  // the database's clock, which also stamped updated_at
  const now = (yield* sql<{ now: Date }>`SELECT now() AS now`)[0]!.now.getTime()
  const gens = (yield* generations(sql)).filter((g) => g.status !== "retired")
  return gens.map((g) => {
    const lag = Math.max(0, head.safePosition - g.position)
    const elapsed = Math.max(0.001, (g.updatedAt.getTime() - g.startedAt.getTime()) / 1000)
    const eventsPerSecond = g.eventsApplied / elapsed
    const positionsPerSecond = g.position / elapsed
    return {
      name: g.name,
      generation: g.generation,
      version: g.version,
      status: g.status,
      position: g.position,
      eventsApplied: g.eventsApplied,
      lag,
      head: head.safePosition,
      updatedAt: g.updatedAt,
      stalled: lag > 0 && now - g.updatedAt.getTime() > STALL_AFTER_MS,
      eventsPerSecond,
      etaSeconds: lag === 0 ? 0 : positionsPerSecond > 0 ? lag / positionsPerSecond : null
    }
  })
})

export interface RunnerOptions {
  readonly batchSize?: number
  /** Only run these projections (the CLI's `rebuild --wait` runs one). */
  readonly only?: ReadonlyArray<string>
  /** Stop a projection's fiber once its rebuild has switched live (CLI use). */
  readonly untilSwitched?: boolean
}

/** Runs `projections` until interrupted (or, with `untilSwitched`, until their rebuilds switch). */
export const runProjections = (projections: ReadonlyArray<Projection>, options?: RunnerOptions) =>
  Effect.scoped(Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const mode = yield* DatabaseMode
    const wakeups = yield* LogWakeups
    const upcasters = yield* EventUpcasters
    const progress = yield* ProjectionProgress
    const batchSize = options?.batchSize ?? 5_000
    const selected = projections.filter((p) => options?.only === undefined || options.only.includes(p.name))
    // Pooled connections outlive this runner, so the session locks are released explicitly.
    const lockConnection: Connection | null = mode.kind === "postgres"
      ? yield* Effect.acquireRelease(
        sql.reserve,
        (conn) => conn.execute("SELECT pg_advisory_unlock_all()", [], undefined).pipe(Effect.ignore)
      )
      : null

    const tryOwn = (projection: Projection): Effect.Effect<boolean, SqlError> =>
      lockConnection === null
        ? Effect.succeed(true)
        : Effect.map(
          lockConnection.execute(
            "SELECT pg_try_advisory_lock(hashtext('sumeru.projection'), hashtext($1)) AS ok",
            [projection.name],
            undefined
          ),
          (rows) => (rows[0] as { ok: boolean }).ok
        )

    const runOne = (projection: Projection) =>
      Effect.gen(function*() {
        while (!(yield* tryOwn(projection))) {
          yield* Effect.sleep(Duration.seconds(2))
        }
        yield* Effect.logInfo(`projection ${projection.name} v${projection.version}: owned by this process`)
        let liveGap = null as Parameters<typeof applyBatch>[3]
        let buildGap = null as Parameters<typeof applyBatch>[3]
        let reconciled = false
        for (;;) {
          const waiter = yield* wakeups.next
          const state = yield* reconcile(sql, projection)
          // the first reconcile may create the views (an empty log goes live at once): say so
          if (!reconciled) {
            reconciled = true
            yield* progress.notify
          }
          let live: Generation | undefined = state.live
          let building: Generation | undefined = state.building
          let idle = false
          while (!idle) {
            idle = true
            // A live generation of an older version has no code any more: it keeps serving
            // readers, frozen, until the rebuild of the current version replaces it.
            if (live !== undefined && live.version === projection.version) {
              const r = yield* applyBatch(sql, projection, live, liveGap, batchSize, upcasters)
              liveGap = r.gap
              if (r.position !== live.position) yield* progress.notify
              live = { ...live, position: r.position }
              if (!r.caughtUp) idle = false
            }
            if (building !== undefined) {
              const r = yield* applyBatch(sql, projection, building, buildGap, batchSize, upcasters)
              buildGap = r.gap
              if (r.position !== building.position) yield* progress.notify
              building = { ...building, position: r.position }
              if (r.caughtUp && r.gap === null) {
                const old = yield* switchLive(sql, projection, building)
                yield* Effect.logInfo(
                  `projection ${projection.name}: generation ${building.generation} (v${building.version}) is live` +
                    (old ? `, generation ${old.generation} dropped` : "")
                )
                yield* progress.notify
                live = building
                liveGap = buildGap
                building = undefined
                if (options?.untilSwitched) return
              } else if (!r.caughtUp || r.gap !== null) idle = false
            }
            if (!idle && (liveGap !== null || buildGap !== null)) break
          }
          if (options?.untilSwitched && building === undefined && state.building === undefined) return
          // Wait for new events. A pending gap is re-checked soon (its transaction may have
          // rolled back, which sends no notification); otherwise a slow safety poll.
          const timeout = liveGap !== null || buildGap !== null ? Duration.millis(20) : Duration.seconds(5)
          yield* Deferred.await(waiter).pipe(Effect.timeoutOption(timeout))
        }
      }).pipe(
        // A bug in one projection (a defect) must not stop the others, nor release their locks:
        // it is retried like any failure, and shows in the logs and in `projections status`.
        Effect.sandbox,
        Effect.tapError((cause) => Effect.logError(`projection ${projection.name} failed; restarting`, cause)),
        Effect.retry({ schedule: restartSchedule })
      )

    yield* Effect.forEach(selected, runOne, { concurrency: "unbounded", discard: true })
  }))

/** Restart a failed projection fiber with exponential backoff, capped at 10 s. */
const restartSchedule = Schedule.min([Schedule.exponential(Duration.millis(200)), Schedule.spaced(Duration.seconds(10))])

/** A background layer running every projection while the process lives. */
export class ProjectionRunner extends Context.Service<ProjectionRunner, {
  readonly projections: ReadonlyArray<Projection>
}>()("sumeru/projections/ProjectionRunner") {
  static readonly layer = (projections: ReadonlyArray<Projection>) =>
    Layer.effect(
      ProjectionRunner,
      Effect.gen(function*() {
        yield* Effect.forkScoped(runProjections(projections))
        return ProjectionRunner.of({ projections })
      })
    )
}
