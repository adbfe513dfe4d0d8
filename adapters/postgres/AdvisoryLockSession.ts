/**
 * A session of PostgreSQL advisory locks: ownership that dies with its holder.
 *
 * Session-level advisory locks belong to one backend: they are released when its connection
 * closes, whoever closes it (a crash of this process, `pg_terminate_backend`, a server
 * restart). That makes them a good ownership token (a dead owner cannot keep anything) and a
 * dangerous one to hold without watching: once the connection is gone this process still
 * *believes* it owns, while another process may already hold the same locks.
 *
 * So a session here is one reserved connection plus a watch on it:
 * - every lock of the session is taken and released on that connection;
 * - a heartbeat (`SELECT 1` every `heartbeatInterval`, each bounded by `heartbeatTimeout`)
 *   and every lock query report a failure by completing `lost`; once lost, a session never
 *   comes back, and every lock it held must be considered gone. The owner stops the work the
 *   locks guarded and opens a new session (`make` again) to re-acquire them;
 * - `holds(key)` is a SQL condition that is true while this session's backend still holds the
 *   lock: put it inside a write's transaction (a fence), so a process whose session died
 *   cannot commit work guarded by a lock it no longer holds, even before it noticed.
 *
 * Lock keys are (space, key) pairs mapped onto PostgreSQL's two-int4 advisory keys as
 * `(hashtext(space), key)` for a 32-bit integer key and `(hashtext(space), hashtext(key))` for
 * a text key, so sessions of different subsystems never collide and `pg_locks` shows them with
 * `objsubid = 2`.
 *
 * In the embedded mode (PGlite: one process, one connection) nothing can compete for a lock
 * and no connection can be spared: the session grants every lock, never fails, never ends.
 */
import { Cause, Deferred, Duration, Effect, Exit, Fiber, Option, Schedule, Scope } from "effect"
import { SqlClient } from "effect/sql"
import type { Connection } from "effect/sql/SqlConnection"
import type { SqlError } from "effect/sql/SqlError"
import type { Fragment } from "effect/sql/Statement"
import {
  type LockKey,
  LockNotHeld,
  type LockSession,
  LockSessionLost,
  type SessionOptions
} from "../../src/locks/LockSessions.ts"
import { DatabaseMode } from "./Database.ts"

// The session's contract (keys, errors, options, operations) is `src/locks/LockSessions.ts`.
export { type LockKey, LockNotHeld, LockSessionLost, type SessionOptions }

/** A lock session on PostgreSQL advisory locks (see the module comment). */
export type AdvisoryLockSession = LockSession

const keyParams = (key: LockKey): { readonly expr: string; readonly value: number | string } =>
  typeof key.key === "number" ? { expr: "$2::int4", value: key.key } : { expr: "hashtext($2::text)", value: key.key }

/** The innermost message of an error chain (`SqlError` → reason → the server's own words). */
const describe = (error: unknown): string => {
  let message = String(error)
  let current: unknown = error
  for (let depth = 0; depth < 5 && typeof current === "object" && current !== null; depth++) {
    if ("message" in current && typeof current.message === "string" && current.message !== "") message = current.message
    current = "reason" in current && typeof current.reason === "object" ? current.reason : "cause" in current ? current.cause : undefined
  }
  return message
}

/**
 * Opens a lock session for the current scope: a reserved connection (PostgreSQL) with its
 * heartbeat. Closing the scope releases every lock of the session and returns the connection;
 * after a loss it also terminates the old backend if it somehow lives on (a half-open
 * connection still holding the locks), so that the locks are free for whoever takes them next.
 */
export const make = (options?: SessionOptions): Effect.Effect<
  AdvisoryLockSession,
  SqlError,
  SqlClient.SqlClient | DatabaseMode | Scope.Scope
> =>
  Effect.gen(function*() {
    // A session that fails to open gives back what it took at once (callers retry `make`).
    const scope = yield* Scope.fork(yield* Effect.scope)
    return yield* open(options).pipe(
      Scope.provide(scope),
      Effect.onError((cause) => Scope.close(scope, Exit.failCause(cause)))
    )
  })

const open = (options: SessionOptions | undefined) =>
  Effect.gen(function*() {
    const mode = yield* DatabaseMode
    const sql = yield* SqlClient.SqlClient
    const lost = yield* Deferred.make<LockSessionLost>()
    if (mode.kind === "embedded") {
      return {
        backendPid: null,
        tryLock: () => Effect.succeed(true),
        unlock: () => Effect.void,
        holds: () => sql.literal("TRUE"),
        ensureHeld: () => Effect.void,
        lost,
        isLost: Effect.succeed(false),
        verify: Effect.succeed(true),
        invalidate: () => Effect.void
      } satisfies AdvisoryLockSession
    }

    const interval = Duration.fromInputUnsafe(options?.heartbeatInterval ?? Duration.seconds(1))
    const timeout = Duration.fromInputUnsafe(options?.heartbeatTimeout ?? Duration.seconds(5))
    const conn: Connection = yield* sql.reserve
    const name = options?.owner === undefined ? undefined : `sumeru-locks:${options.owner}`.slice(0, 63)
    if (name !== undefined) {
      yield* conn.execute("SELECT set_config('application_name', $1, false)", [name], undefined)
      yield* conn.execute(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
          WHERE datname = current_database() AND application_name = $1 AND pid <> pg_backend_pid()`,
        [name],
        undefined
      )
    }
    const identity = (yield* conn.execute(
      "SELECT pg_backend_pid() AS pid, (SELECT backend_start FROM pg_stat_activity WHERE pid = pg_backend_pid()) AS started",
      [],
      undefined
    ))[0] as { pid: number; started: Date | null }
    const backendPid = identity.pid

    const invalidate = (reason: string) =>
      Deferred.succeed(lost, new LockSessionLost({ reason, backendPid })).pipe(Effect.asVoid)

    /** A query on the lock connection; any failure loses the session. */
    const onSession = <A>(query: string, params: ReadonlyArray<unknown>): Effect.Effect<A, LockSessionLost> =>
      Effect.gen(function*() {
        const done = yield* Deferred.poll(lost)
        if (Option.isSome(done)) return yield* Effect.flatMap(done.value, Effect.fail)
        const rows = yield* conn.execute(query, params, undefined).pipe(
          Effect.catch((e) =>
            Effect.andThen(
              invalidate(`lock connection failed: ${describe(e)}`),
              Effect.flatMap(Deferred.await(lost), Effect.fail)
            )
          )
        )
        return rows[0] as A
      })

    // Release everything on the way out. On a dead connection this fails at once; on a hung
    // one it is bounded, and releasing the reservation then retires the connection.
    yield* Effect.addFinalizer(() =>
      Effect.gen(function*() {
        if (yield* Deferred.isDone(lost)) {
          // The lost backend may live on (a half-open connection): end it so its locks free up.
          if (identity.started !== null) {
            yield* sql`SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                        WHERE pid = ${backendPid} AND backend_start = ${identity.started}`.pipe(
              Effect.timeout(timeout),
              Effect.ignore
            )
          }
          return
        }
        yield* conn.execute("SELECT pg_advisory_unlock_all()", [], undefined).pipe(Effect.timeout(timeout), Effect.ignore)
        // back to the pool under its ordinary name (a later session of this owner ends its namesakes)
        if (name !== undefined) yield* conn.execute("RESET application_name", [], undefined).pipe(Effect.timeout(timeout), Effect.ignore)
      })
    )

    // The heartbeat: a ping that neither fails nor answers within `timeout` loses the session.
    // The ping runs in a fiber of its own so a hung socket cannot delay the verdict.
    const ping: Effect.Effect<boolean> = Effect.gen(function*() {
      if (yield* Deferred.isDone(lost)) return false
      const fiber = yield* Effect.forkChild(conn.execute("SELECT 1", [], undefined))
      const exit = yield* Fiber.await(fiber).pipe(Effect.timeoutOption(timeout))
      if (Option.isNone(exit)) {
        yield* invalidate(`lock connection did not answer a heartbeat within ${Duration.format(timeout)}`)
        return false
      }
      if (Exit.isFailure(exit.value)) {
        yield* invalidate(`lock connection failed: ${describe(Cause.squash(exit.value.cause))}`)
        return false
      }
      return true
    })
    yield* ping.pipe(
      Effect.repeat({ schedule: Schedule.spaced(interval), while: () => !Deferred.isDoneUnsafe(lost) }),
      Effect.forkScoped
    )

    const holds = (key: LockKey): Fragment => {
      const k = typeof key.key === "number" ? sql`${key.key}::int4` : sql`hashtext(${key.key}::text)`
      return sql`EXISTS (SELECT 1 FROM pg_locks l
                          WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2 AND l.pid = ${backendPid}::int4
                            AND l.classid::bigint = (hashtext(${key.space}::text)::bigint & 4294967295)
                            AND l.objid::bigint = ((${k})::bigint & 4294967295))`
    }

    return {
      backendPid,
      tryLock: (key) => {
        const p = keyParams(key)
        return Effect.map(
          onSession<{ ok: boolean }>(`SELECT pg_try_advisory_lock(hashtext($1::text), ${p.expr}) AS ok`, [key.space, p.value]),
          (row) => row.ok
        )
      },
      unlock: (key) => {
        const p = keyParams(key)
        return Effect.asVoid(onSession(`SELECT pg_advisory_unlock(hashtext($1::text), ${p.expr}) AS ok`, [key.space, p.value]))
      },
      holds,
      ensureHeld: (key) =>
        Effect.gen(function*() {
          const rows = yield* sql<{ held: boolean }>`SELECT ${holds(key)} AS held`
          if (rows[0]?.held === true) return
          yield* invalidate(`lock ${key.space}/${key.key} is no longer held by backend ${backendPid}`)
          return yield* new LockNotHeld({ space: key.space, key: key.key, backendPid })
        }),
      lost,
      isLost: Deferred.isDone(lost),
      verify: ping,
      invalidate
    } satisfies AdvisoryLockSession
  })
