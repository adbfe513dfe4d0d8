/**
 * Which partitions this worker consumes. On PostgreSQL each partition is a session advisory
 * lock held on one dedicated connection: exactly one live worker owns it, and a worker that
 * dies (even by SIGKILL) loses its locks with its connection. Workers heartbeat in `workers`
 * and aim for a fair share, ⌈P / live workers⌉: a new worker makes others release partitions
 * (after draining them); a dead worker's partitions are taken by the survivors.
 * The embedded database has one process: it owns every partition.
 */
import { Duration, Effect, Schedule } from "effect"
import { SqlClient } from "effect/sql"
import type { Connection } from "effect/sql/SqlConnection"
import { DatabaseMode } from "../../adapters/postgres/Database.ts"

export interface OwnershipOptions {
  readonly workerId: string
  readonly partitions: number
  /** How often to heartbeat and rebalance. */
  readonly interval?: Duration.Duration
  /** A worker not seen for this long is dead. */
  readonly staleAfter?: Duration.Duration
}

export interface PartitionHooks {
  /** Start consuming `p`; runs until interrupted. */
  readonly acquire: (partition: number) => Effect.Effect<void>
  /** Stop consuming `p` and wait until its in-flight messages are done. */
  readonly release: (partition: number) => Effect.Effect<void>
  /**
   * Stop consuming `p` at once, in-flight messages included: its lock is gone, so another
   * worker may already own it. Nothing is lost (unacked messages stay in the log) and
   * nothing is applied twice (the actor's commit is fenced by the message id).
   */
  readonly abandon: (partition: number) => Effect.Effect<void>
}

const LOCK_SPACE = "hashtext('sumeru.partition')"

/** Runs the ownership loop until interrupted; on interruption releases everything it owns. */
export const runOwnership = (options: OwnershipOptions, hooks: PartitionHooks) =>
  Effect.gen(function*() {
    const mode = yield* DatabaseMode
    const all = Array.from({ length: options.partitions }, (_, p) => p)
    if (mode.kind === "embedded") {
      yield* Effect.forEach(all, hooks.acquire, { discard: true })
      return yield* Effect.never.pipe(Effect.ensuring(Effect.forEach(all, hooks.release, { concurrency: "unbounded", discard: true })))
    }
    const sql = yield* SqlClient.SqlClient
    const interval = options.interval ?? Duration.seconds(1)
    // A tick that hangs (network cut) must not keep a partition whose lock may be gone.
    const tickTimeout = Duration.max(Duration.times(interval, 5), Duration.seconds(5))
    const staleSeconds = Duration.toSeconds(options.staleAfter ?? Duration.seconds(5))
    const owned = new Set<number>()
    const conn: Connection = yield* Effect.acquireRelease(
      sql.reserve,
      (c) => c.execute("SELECT pg_advisory_unlock_all()", [], undefined).pipe(Effect.ignore)
    )
    const run = (query: string, params: ReadonlyArray<unknown>) => conn.execute(query, params, undefined)

    const releaseOne = (p: number) =>
      Effect.gen(function*() {
        yield* hooks.release(p)
        owned.delete(p)
        yield* run(`SELECT pg_advisory_unlock(${LOCK_SPACE}, $1)`, [p])
      })

    const tick = Effect.gen(function*() {
      // The heartbeat runs on the lock connection: if that session is gone, so are our locks.
      yield* run(
        `INSERT INTO workers (worker_id) VALUES ($1) ON CONFLICT (worker_id) DO UPDATE SET last_seen = now()`,
        [options.workerId]
      )
      const live = (yield* run(
        `SELECT count(*)::int AS n FROM workers WHERE last_seen > now() - make_interval(secs => $1)`,
        [staleSeconds]
      ))[0] as { n: number }
      const target = Math.ceil(options.partitions / Math.max(1, live.n))
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
          const got = (yield* run(`SELECT pg_try_advisory_lock(${LOCK_SPACE}, $1) AS ok`, [p]))[0] as { ok: boolean }
          if (got.ok) {
            owned.add(p)
            gained.push(p)
            yield* hooks.acquire(p)
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
          yield* run(`SELECT pg_advisory_unlock(${LOCK_SPACE}, $1)`, [p]).pipe(Effect.ignore)
        }
        yield* run(`DELETE FROM workers WHERE worker_id = $1`, [options.workerId]).pipe(Effect.ignore)
      })
    )
    // A failing tick (lost lock session, or none within the bound) abandons every partition
    // at once: the locks may already be another worker's. The message-id fence in the
    // actor's transaction protects data; stopping at once keeps two owners from racing.
    return yield* tick.pipe(
      Effect.timeoutOrElse({
        duration: tickTimeout,
        orElse: () => Effect.fail(new Error(`the lock session did not answer within ${Duration.format(tickTimeout)}`))
      }),
      Effect.repeat(Schedule.spaced(interval)),
      Effect.tapCause((cause) =>
        Effect.gen(function*() {
          yield* Effect.logError("partition ownership lost: abandoning every partition", cause)
          const lost = [...owned]
          owned.clear()
          yield* Effect.forEach(lost, hooks.abandon, { concurrency: "unbounded", discard: true })
        })
      ),
      Effect.flatMap(() => Effect.never)
    )
  })
