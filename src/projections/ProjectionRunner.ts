/**
 * Runs projections: one fiber per projection catches up in large batches, then follows the
 * log live, woken by `LogWakeups` (never sleeping while events wait). A building generation
 * (a rebuild) runs beside the live one and takes over atomically once it has caught up.
 *
 * On PostgreSQL each projection is owned by one process at a time through a session advisory
 * lock, all of them on one lock session (`LockSessions`): a crashed owner's locks die
 * with its connection and another projector takes over. The session is watched: when it is
 * lost (a PostgreSQL restart, a terminated backend, a connection that stops answering) every
 * projection fiber of this process is interrupted at once, so none keeps writing without its
 * lock; the runner opens a new session (with backoff), re-acquires each lock (waiting while
 * another process owns it) and every projection resumes from its checkpoint. Batches are
 * fenced too: their checkpoint update only commits while the lock is held, so a writer that
 * has not yet noticed the loss cannot commit. A projection's own failure (a bug in `apply`)
 * restarts only that projection.
 *
 * The embedded database has a single process, so it needs no lock and never loses one.
 */
import { Clock, Context, Deferred, Duration, Effect, Fiber, Layer, Metric, Ref, Schedule } from "effect"
import type { SqlError } from "effect/sql/SqlError"
import {
  EventStore,
  type GapObservation,
  type LogBacklog,
  type OpenTransaction,
  type PersistenceError
} from "../eventstore/EventStore.ts"
import { LogWakeups, makeSignal, type Signal } from "../eventstore/LogWakeups.ts"
import { type LockKey, type LockSession, LockSessions, type SessionOptions } from "../locks/LockSessions.ts"
import type { Projection } from "./Projection.ts"
import { applyBatch, type Generation, ProjectionStore, type WriteFence } from "./ProjectionStore.ts"

export interface ProjectionStatus {
  readonly name: string
  readonly generation: number
  readonly version: number
  readonly status: "building" | "live" | "retired"
  readonly position: number
  readonly eventsApplied: number
  /**
   * Committed events this generation has not applied: those up to the safe head, plus those
   * committed past it that wait behind an open transaction's gap (`blockedEvents`).
   */
  readonly lag: number
  /** The log's safe head: how far a gap-safe reader may read now. */
  readonly head: number
  /** The highest committed position (past `head` while a gap blocks the readers). */
  readonly committedHead: number
  /** Committed events past the safe head, counted in `lag`: no reader may pass the gap before them. */
  readonly blockedEvents: number
  /** What holds the readers back while `blockedEvents > 0`. */
  readonly blockedBy: LogBlock | null
  readonly updatedAt: Date
  /**
   * The consumer is stuck: behind the safe head with no progress for 30 s, or events wait
   * behind a transaction open for more than 30 s.
   */
  readonly stalled: boolean
  readonly eventsPerSecond: number
  readonly etaSeconds: number | null
}

/** The gap after the safe head and the open transactions that may hold it (oldest first). */
export interface LogBlock {
  readonly gap: { readonly from: number; readonly to: number } | null
  readonly oldestOpenTransactionSeconds: number | null
  readonly openTransactions: ReadonlyArray<OpenTransaction>
}

/** The log's backlog as status reports it: null when no committed event waits behind a gap. */
export const logBlock = (backlog: LogBacklog): LogBlock | null =>
  backlog.blockedEvents === 0 ? null : {
    gap: backlog.gap,
    oldestOpenTransactionSeconds: backlog.openTransactions[0]?.ageSeconds ?? null,
    openTransactions: backlog.openTransactions
  }

const STALL_AFTER_MS = 30_000

/** Notified after every committed batch and switch; tests and `--wait` use it instead of sleeping. */
export const ProjectionProgress = Context.Reference<Signal>("sumeru/projections/ProjectionProgress", {
  defaultValue: () => makeSignal()
})

/**
 * Status of every non-retired generation. Lag counts committed events not applied yet,
 * including those committed behind an open transaction (which readers must not pass, by
 * design): an operator sees them as lag, with the transaction that holds them.
 */
export const projectionStatus: Effect.Effect<
  ReadonlyArray<ProjectionStatus>,
  SqlError | PersistenceError,
  EventStore | ProjectionStore
> = Effect.gen(function*() {
  const store = yield* EventStore
  const projections = yield* ProjectionStore
  const head = yield* store.head
  const backlog = yield* store.backlog(head.safePosition)
  // the database's clock, which also stamped updated_at
  const now = (yield* projections.now).getTime()
  const gens = (yield* projections.generations()).filter((g) => g.status !== "retired")
  const blockedBy = logBlock(backlog)
  const oldest = blockedBy?.oldestOpenTransactionSeconds ?? null
  return gens.map((g) => {
    const safeLag = Math.max(0, head.safePosition - g.position)
    const blocked = Math.max(0, backlog.blockedEvents - Math.max(0, g.position - head.safePosition))
    const lag = safeLag + blocked
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
      committedHead: backlog.committedHead,
      blockedEvents: blocked,
      blockedBy: blocked > 0 ? blockedBy : null,
      updatedAt: g.updatedAt,
      stalled: (safeLag > 0 && now - g.updatedAt.getTime() > STALL_AFTER_MS) ||
        (blocked > 0 && oldest !== null && oldest * 1000 > STALL_AFTER_MS),
      eventsPerSecond,
      etaSeconds: lag === 0 ? 0 : positionsPerSecond > 0 ? lag / positionsPerSecond : null
    }
  })
})

/** Where a runner's lock session stands: readiness checks and metrics report it. */
export interface RunnerHealth {
  /**
   * `starting`: no session opened yet; `running`: the session is up (projections run or wait
   * for their locks); `re-establishing`: the session was lost, every projection of this
   * process is stopped, a new session is being opened.
   */
  readonly state: "starting" | "running" | "re-establishing"
  readonly since: Date
  /** The backend holding this process's projection locks (PostgreSQL, while running). */
  readonly lockBackendPid: number | null
  /** Projections whose lock this process holds now. */
  readonly owned: ReadonlyArray<string>
  readonly sessionsLost: number
  /** Why the last session was lost. */
  readonly lastLoss: string | null
}

const lockSessionUp = Metric.gauge("sumeru_projection_lock_session_up", {
  description: "1 while this projector's lock session is up; 0 while it is lost and being re-established"
})

const lockSessionsLost = Metric.counter("sumeru_projection_lock_sessions_lost_total", {
  description: "Projection lock sessions lost (database restarts, terminated backends, dead connections)"
})

export interface RunnerOptions {
  readonly batchSize?: number
  /** Only run these projections (the CLI's `rebuild --wait` runs one). */
  readonly only?: ReadonlyArray<string>
  /** Stop a projection's fiber once its rebuild has switched live (CLI use). */
  readonly untilSwitched?: boolean
  /** Where to report the lock session's state (the `ProjectionRunner` service reads it). */
  readonly health?: Ref.Ref<RunnerHealth>
  /** The lock session's heartbeat (defaults: every 1 s, lost after 5 s without an answer). */
  readonly heartbeat?: SessionOptions
  /** How often to try a lock another process holds (default 2 s). */
  readonly lockPollInterval?: Duration.Input
}

/** The lock space of projection ownership; `projections rebuild --wait` looks holders up by it. */
export const PROJECTION_LOCK_SPACE = "sumeru.projection"

const lockKey = (projection: Projection): LockKey => ({ space: PROJECTION_LOCK_SPACE, key: projection.name })

export const initialHealth = (): RunnerHealth => ({
  state: "starting",
  since: new Date(),
  lockBackendPid: null,
  owned: [],
  sessionsLost: 0,
  lastLoss: null
})

/**
 * Runs `projections` until interrupted (or, with `untilSwitched`, until their rebuilds
 * switch), surviving lost lock sessions: see the module comment.
 */
export const runProjections = (projections: ReadonlyArray<Projection>, options?: RunnerOptions) =>
  Effect.gen(function*() {
    const selected = projections.filter((p) => options?.only === undefined || options.only.includes(p.name))
    const locks = yield* LockSessions
    const health = options?.health ?? (yield* Ref.make(initialHealth()))
    const setHealth = (f: (h: RunnerHealth) => RunnerHealth) => Ref.update(health, f)

    // One session's life: open it, run every projection on it, until they are done or the
    // session is lost. Lost: every projection fiber is interrupted at once (none writes
    // without its lock), and the round fails with the reason.
    const round = Effect.scoped(Effect.gen(function*() {
      const session = yield* locks.open(options?.heartbeat)
      const previous = yield* Ref.get(health)
      const now = yield* Clock.currentTimeMillis
      if (previous.state === "re-establishing") {
        const seconds = (now - previous.since.getTime()) / 1000
        yield* Effect.logInfo(
          `projection lock session re-established (backend ${session.backendPid}) after ${seconds.toFixed(1)} s; ` +
            "re-acquiring projections, each resumes from its checkpoint"
        )
      }
      yield* setHealth((h) => ({ ...h, state: "running", since: new Date(now), lockBackendPid: session.backendPid, owned: [] }))
      yield* Metric.update(lockSessionUp, 1)
      const fibers = yield* Effect.forEach(selected, (p) => Effect.forkScoped(runOne(p, session)))
      const outcome = yield* Effect.raceFirst(
        Effect.as(Fiber.joinAll(fibers), null),
        Deferred.await(session.lost)
      )
      if (outcome === null) return
      yield* Fiber.interruptAll(fibers)
      return yield* outcome
    }))

    // One fiber per projection: own it, then follow the log. Every write is fenced by the lock.
    const runOne = (projection: Projection, session: LockSession) => {
      const key = lockKey(projection)
      const fence: WriteFence | undefined = session.backendPid === null
        ? undefined
        : { holds: session.holds(key), ensureHeld: session.ensureHeld(key) }
      const owned = (own: boolean) =>
        setHealth((h) => {
          const others = h.owned.filter((n) => n !== projection.name)
          return { ...h, owned: own ? [...others, projection.name] : others }
        })
      return Effect.gen(function*() {
        let waiting = false
        while (!(yield* session.tryLock(key))) {
          if (!waiting) yield* Effect.logInfo(`projection ${projection.name}: owned by another process; waiting for its lock`)
          waiting = true
          yield* Effect.sleep(options?.lockPollInterval ?? Duration.seconds(2))
        }
        yield* owned(true)
        yield* Effect.logInfo(`projection ${projection.name} v${projection.version}: owned by this process`)
        yield* follow(projection, fence).pipe(Effect.ensuring(owned(false)))
      }).pipe(
        // A bug in one projection (a defect) must not stop the others, nor release their locks:
        // it is retried like any failure, and shows in the logs and in `projections status`.
        // A failure caused by the lost session is not this projection's: it is not logged here
        // (the runner logs the loss once) and the fiber waits to be interrupted.
        Effect.sandbox,
        Effect.tapError((cause) =>
          Effect.gen(function*() {
            if (!(yield* session.verify)) return
            yield* Effect.logError(`projection ${projection.name} failed; restarting`, cause)
          })
        ),
        Effect.retry({ schedule: restartSchedule, while: () => Effect.map(session.isLost, (lost) => !lost) }),
        Effect.catch(() => Effect.never)
      )
    }

    const follow = (projection: Projection, fence: WriteFence | undefined) =>
      Effect.gen(function*() {
        const store = yield* ProjectionStore
        const wakeups = yield* LogWakeups
        const progress = yield* ProjectionProgress
        const batchSize = options?.batchSize ?? 5_000
        let liveGap = null as GapObservation | null
        let buildGap = null as GapObservation | null
        let reconciled = false
        for (;;) {
          const waiter = yield* wakeups.next
          const state = yield* store.reconcile(projection)
          // the first reconcile may create the views (an empty log goes live at once): say so
          if (!reconciled) {
            reconciled = true
            yield* progress.notify
          }
          let live: Generation | undefined = state.live
          let building: Generation | undefined = state.building
          let idle = false
          // a checkpoint moved by someone else (a writer that lost its lock, just before we took
          // it): read the generations again instead of retrying from a stale position
          let stale = false
          while (!idle && !stale) {
            idle = true
            // A live generation of an older version has no code any more: it keeps serving
            // readers, frozen, until the rebuild of the current version replaces it.
            if (live !== undefined && live.version === projection.version) {
              const r = yield* applyBatch(projection, live, liveGap, batchSize, fence)
              liveGap = r.gap
              if (r.stale) stale = true
              if (r.position !== live.position) yield* progress.notify
              live = { ...live, position: r.position }
              if (!r.caughtUp) idle = false
            }
            if (building !== undefined && !stale) {
              const r = yield* applyBatch(projection, building, buildGap, batchSize, fence)
              buildGap = r.gap
              if (r.stale) stale = true
              if (r.position !== building.position) yield* progress.notify
              building = { ...building, position: r.position }
              if (r.stale) {
                // re-read below
              } else if (r.caughtUp && r.gap === null) {
                const switched = yield* store.switchLive(projection, building, fence)
                if (!switched.switched) {
                  stale = true
                } else {
                  const old = switched.old
                  yield* Effect.logInfo(
                    `projection ${projection.name}: generation ${building.generation} (v${building.version}) is live` +
                      (old ? `, generation ${old.generation} dropped` : "")
                  )
                  yield* progress.notify
                  live = building
                  liveGap = buildGap
                  building = undefined
                  if (options?.untilSwitched) return
                }
              } else if (!r.caughtUp || r.gap !== null) idle = false
            }
            if (!idle && (liveGap !== null || buildGap !== null)) break
          }
          if (stale) continue
          if (options?.untilSwitched && building === undefined && state.building === undefined) return
          // Wait for new events. A pending gap is re-checked soon (its transaction may have
          // rolled back, which sends no notification); otherwise a slow safety poll.
          const timeout = liveGap !== null || buildGap !== null ? Duration.millis(20) : Duration.seconds(5)
          yield* Deferred.await(waiter).pipe(Effect.timeoutOption(timeout))
        }
      })

    // Sessions, one after another: a lost one is logged once, then new ones are tried with
    // backoff until one opens (a session that fails to open is part of the same outage).
    let attempt = 0
    for (;;) {
      const result = yield* Effect.result(round)
      if (result._tag === "Success") return
      const reason = result.failure._tag === "LockSessionLost" ? result.failure.reason : `cannot open a lock session: ${result.failure.message}`
      const h = yield* Ref.get(health)
      if (h.state !== "re-establishing") {
        attempt = 0
        const now = yield* Clock.currentTimeMillis
        yield* setHealth((x) => ({
          ...x,
          state: "re-establishing",
          since: new Date(now),
          lockBackendPid: null,
          owned: [],
          sessionsLost: x.state === "running" ? x.sessionsLost + 1 : x.sessionsLost,
          lastLoss: reason
        }))
        yield* Metric.update(lockSessionUp, 0)
        if (h.state === "running") {
          yield* Metric.update(lockSessionsLost, 1)
          yield* Effect.logWarning(
            `projection lock session lost (${reason}): stopped ${selected.length} projection(s); re-establishing`
          )
        } else {
          yield* Effect.logWarning(`projection lock session not available (${reason}); retrying`)
        }
      }
      yield* Effect.sleep(reconnectDelay(attempt++))
    }
  })

/** Restart a failed projection fiber with exponential backoff, capped at 10 s. */
const restartSchedule = Schedule.min([Schedule.exponential(Duration.millis(200)), Schedule.spaced(Duration.seconds(10))])

/** Between attempts to open a new lock session: 200 ms doubling, capped at 5 s. */
const reconnectDelay = (attempt: number): Duration.Duration => Duration.millis(Math.min(5_000, 200 * 2 ** Math.min(attempt, 5)))

/** A background layer running every projection while the process lives. */
export class ProjectionRunner extends Context.Service<ProjectionRunner, {
  readonly projections: ReadonlyArray<Projection>
  /**
   * The lock session's state. A readiness check reports the projector not ready while it is
   * `re-establishing` (its projections are stopped until a new session owns them again).
   */
  readonly health: Effect.Effect<RunnerHealth>
}>()("sumeru/projections/ProjectionRunner") {
  static readonly layer = (projections: ReadonlyArray<Projection>) =>
    Layer.effect(
      ProjectionRunner,
      Effect.gen(function*() {
        const health = yield* Ref.make(initialHealth())
        yield* Effect.forkScoped(runProjections(projections, { health }))
        return ProjectionRunner.of({ projections, health: Ref.get(health) })
      })
    )
}
