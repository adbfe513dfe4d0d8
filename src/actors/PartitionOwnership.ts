/**
 * Which partitions this worker consumes. Each partition is a lock held on one lease session
 * (`PartitionLeases`; on PostgreSQL a session advisory lock on one lock session,
 * `AdvisoryLockSession`): exactly one live worker owns it, and a worker that dies (even by
 * SIGKILL) loses its locks with its connection. Workers heartbeat in the workers' registry
 * (`workers`) and aim for a fair share, ⌈P / live workers⌉: a new worker makes others release
 * partitions (after draining them); a dead worker's partitions are taken by the survivors.
 *
 * The lock session is watched (a heartbeat on the lock connection). When it is lost — a
 * database restart, a network cut, the backend terminated — every partition is abandoned at
 * once (its locks may already be another worker's), and the loop starts over on a new session.
 * Commits are fenced too: the actor's transaction checks that the session's backend still
 * holds the partition's lock (`PartitionOwner.fence`, see migration 0013), so a worker
 * whose session died cannot commit even before it noticed.
 * The embedded database has one process (`PartitionLeases` is `SingleProcess`): it owns every
 * partition, with no locks.
 */
import { Cause, Duration, Effect, Schedule } from "effect"
import { PartitionLeases } from "./PartitionLeases.ts"

export interface OwnershipOptions {
  readonly workerId: string
  readonly partitions: number
  /** How often to heartbeat and rebalance (also the lock session's heartbeat). */
  readonly interval?: Duration.Duration
  /** A worker not seen for this long is dead. */
  readonly staleAfter?: Duration.Duration
}

/** Who holds a partition's lock, for the commit fence; and how to give the lock session up. */
export interface PartitionOwner {
  /**
   * The lease session's fence token (`LeaseSession.fence`; on PostgreSQL the lock session's
   * backend, `pg_locks.pid`); null in the embedded mode (no locks).
   */
  readonly fence: number | null
  /** Declares the lock session lost (a commit found the lock gone): everything is abandoned. */
  readonly giveUp: (reason: string) => Effect.Effect<void>
}

export interface PartitionHooks {
  /** Start consuming `p`; runs until interrupted. */
  readonly acquire: (partition: number, owner: PartitionOwner) => Effect.Effect<void>
  /** Stop consuming `p` and wait until its in-flight messages are done. */
  readonly release: (partition: number) => Effect.Effect<void>
  /**
   * Stop consuming `p` at once, in-flight messages included: its lock is gone, so another
   * worker may already own it. Nothing is lost (unacked messages stay in the log) and
   * nothing is applied twice (the actor's commit is fenced by the message id and the lock).
   */
  readonly abandon: (partition: number) => Effect.Effect<void>
}

/** Runs the ownership loop until interrupted; on interruption releases everything it owns. */
export const runOwnership = (options: OwnershipOptions, hooks: PartitionHooks) =>
  Effect.gen(function*() {
    const leases = yield* PartitionLeases
    const all = Array.from({ length: options.partitions }, (_, p) => p)
    if (leases._tag === "SingleProcess") {
      const owner: PartitionOwner = { fence: null, giveUp: () => Effect.void }
      yield* Effect.forEach(all, (p) => hooks.acquire(p, owner), { discard: true })
      return yield* Effect.never.pipe(Effect.ensuring(Effect.forEach(all, hooks.release, { concurrency: "unbounded", discard: true })))
    }
    const interval = options.interval ?? Duration.seconds(1)
    const staleAfter = options.staleAfter ?? Duration.seconds(5)
    const owned = new Set<number>()
    const session = yield* leases.open({ heartbeatInterval: interval, workerId: options.workerId })
    const owner: PartitionOwner = { fence: session.fence, giveUp: session.invalidate }

    const releaseOne = (p: number) =>
      Effect.gen(function*() {
        yield* hooks.release(p)
        owned.delete(p)
        yield* session.unlock(p)
      })

    const tick = Effect.gen(function*() {
      yield* leases.heartbeat(options.workerId)
      const live = yield* leases.countLive(staleAfter)
      const target = Math.ceil(options.partitions / Math.max(1, live))
      if (owned.size > target) {
        const surplus = [...owned].sort((a, b) => b - a).slice(0, owned.size - target)
        for (const p of surplus) yield* releaseOne(p)
        yield* Effect.logInfo(`released partitions ${surplus.join(",")} (fair share ${target} of ${options.partitions})`)
      }
      if (owned.size < target) {
        // Start from a worker-specific offset so workers don't all contend for partition 0.
        const offset = Number.parseInt(options.workerId.replace(/[^0-9a-f]/gi, "").slice(-6) || "0", 16) % options.partitions
        const gained: Array<number> = []
        for (let i = 0; i < options.partitions && owned.size < target; i++) {
          const p = (offset + i) % options.partitions
          if (owned.has(p)) continue
          if (yield* session.tryLock(p)) {
            owned.add(p)
            gained.push(p)
            yield* hooks.acquire(p, owner)
          }
        }
        if (gained.length > 0) yield* Effect.logInfo(`acquired partitions ${gained.join(",")} (now ${owned.size}, fair share ${target})`)
      }
    })

    yield* Effect.addFinalizer(() =>
      Effect.gen(function*() {
        // every partition drains at once (each under the runtime's bound), then unlocks
        const releasing = [...owned]
        yield* Effect.forEach(releasing, hooks.release, { concurrency: "unbounded", discard: true })
        for (const p of releasing) {
          owned.delete(p)
          yield* session.unlock(p).pipe(Effect.ignore)
        }
        yield* leases.leave(options.workerId).pipe(Effect.ignore)
      })
    )
    // A lost lock session (or a failing tick) abandons every partition at once: the locks may
    // already be another worker's. The runtime retries on a new session. A slow tick is no
    // reason (it may be draining a partition it releases); the session's own heartbeat is
    // what says whether the locks are still ours.
    const ticks = tick.pipe(Effect.repeat(Schedule.spaced(interval)))
    return yield* Effect.raceFirst(ticks, session.lost).pipe(
      Effect.tapCause((cause) =>
        // interrupted (shutdown): the finalizer drains and releases in order
        Cause.hasInterruptsOnly(cause) ? Effect.void : Effect.gen(function*() {
          yield* Effect.logError("partition ownership lost: abandoning every partition", cause)
          yield* session.invalidate("ownership lost")
          const lost = [...owned]
          owned.clear()
          yield* Effect.forEach(lost, hooks.abandon, { concurrency: "unbounded", discard: true })
        })
      ),
      Effect.flatMap(() => Effect.never)
    )
  })
