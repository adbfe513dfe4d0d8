/**
 * Lock sessions (contract): ownership that dies with its holder.
 *
 * A session holds locks on (space, key) pairs, exclusive across every process of the
 * database. Its locks are gone when the session is: a crash of this process, a killed
 * connection, a database restart. That makes a lock a good ownership token (a dead owner
 * cannot keep anything) and a dangerous one to hold without watching: once the session is
 * gone this process still *believes* it owns, while another process may already hold the
 * same locks. So a session is watched, and says when it is `lost`; and `holds(key)` is a
 * condition a write puts inside its own transaction (a fence), so a process whose session
 * died cannot commit work guarded by a lock it no longer holds, even before it noticed.
 *
 * Backend: `adapters/postgres/PgLockSessions.ts` (session advisory locks on one watched
 * connection, `adapters/postgres/AdvisoryLockSession.ts`; in the embedded mode every lock is
 * granted and the session never ends).
 */
import { Context, Schema } from "effect"
import type { Deferred, Duration, Effect, Option, Scope } from "effect"
import type { SqlError } from "effect/sql/SqlError"
import type { Fragment } from "effect/sql/Statement"

/** One lock: `space` names the subsystem (`sumeru.projection`), `key` the thing it guards. */
export interface LockKey {
  readonly space: string
  /** A 32-bit integer is used as is; a text goes through `hashtext`. */
  readonly key: number | string
}

/** The session's connection failed (or stopped answering): every lock it held is gone. */
export class LockSessionLost extends Schema.TaggedError<LockSessionLost>()("LockSessionLost", {
  reason: Schema.String,
  /** The backend that held the locks, when known. */
  backendPid: Schema.NullOr(Schema.Number)
}) {}

/** A fenced write found that this session's backend does not hold the lock any more. */
export class LockNotHeld extends Schema.TaggedError<LockNotHeld>()("LockNotHeld", {
  space: Schema.String,
  key: Schema.Union([Schema.Number, Schema.String]),
  backendPid: Schema.NullOr(Schema.Number)
}) {}

export interface SessionOptions {
  /**
   * Who owns the session (a worker id): its connection is named `sumeru-locks:<owner>`, and
   * opening a session ends any earlier backend of the same owner still holding locks (a session
   * declared lost whose connection lived on — a heartbeat that timed out under load — would
   * otherwise keep its locks for the life of a pooled connection, and nobody could take them).
   */
  readonly owner?: string
  /** How often the session proves its connection alive (default 1 s). */
  readonly heartbeatInterval?: Duration.Input
  /** A heartbeat not answered within this is a lost session (default 5 s). */
  readonly heartbeatTimeout?: Duration.Input
}

export interface LockSession {
  /** The backend holding this session's locks (`pg_backend_pid()`); null in the embedded mode. */
  readonly backendPid: number | null
  /**
   * Takes `key` if no other session holds it (`pg_try_advisory_lock`); true when this session
   * holds it now (taking a lock twice nests, like PostgreSQL's). Fails, and completes `lost`,
   * when the connection failed.
   */
  readonly tryLock: (key: LockKey) => Effect.Effect<boolean, LockSessionLost>
  /** Releases one level of `key`. Fails, and completes `lost`, when the connection failed. */
  readonly unlock: (key: LockKey) => Effect.Effect<void, LockSessionLost>
  /**
   * A SQL condition, true while this session's backend holds `key` (read from `pg_locks`, the
   * live lock table, not a snapshot). Embed it in a write that must only commit under the lock,
   * e.g. `UPDATE … WHERE … AND ${session.holds(key)}`. Always true in the embedded mode.
   */
  readonly holds: (key: LockKey) => Fragment
  /**
   * Fails with `LockNotHeld` unless this session's backend holds `key`, and then also marks
   * the session lost (a session that lost one lock has lost them all). Run it inside the
   * transaction it guards, after taking the row locks the work needs.
   */
  readonly ensureHeld: (key: LockKey) => Effect.Effect<void, LockNotHeld | SqlError>
  /** Completed once, with the reason, when the session is lost. Never completed in the embedded mode. */
  readonly lost: Deferred.Deferred<LockSessionLost>
  /** Whether `lost` is completed. */
  readonly isLost: Effect.Effect<boolean>
  /**
   * Proves the connection alive now (one bounded heartbeat): false, with `lost` completed,
   * when it is not. Ask it when other work failed on the database, before blaming that work.
   */
  readonly verify: Effect.Effect<boolean>
  /** Declares the session lost (its owner found it unusable). Idempotent. */
  readonly invalidate: (reason: string) => Effect.Effect<void>
}

/** The session holding a lock, as operators want to see it. */
export interface LockHolder {
  /** Its backend (`pg_locks.pid`). */
  readonly pid: number
  readonly applicationName: string | null
  readonly clientAddress: string | null
}

export class LockSessions extends Context.Service<LockSessions, {
  /**
   * Opens a lock session for the current scope, with its heartbeat. Closing the scope
   * releases every lock of the session; after a loss it also ends the old backend if it
   * somehow lives on, so that the locks are free for whoever takes them next. A session that
   * fails to open gives back what it took at once (callers retry `open`).
   */
  readonly open: (options?: SessionOptions) => Effect.Effect<LockSession, SqlError, Scope.Scope>
  /**
   * The session holding `key` in this database now, if any (typically another process's):
   * for operators, who want to know who does the work. None in the embedded mode.
   */
  readonly holder: (key: LockKey) => Effect.Effect<Option.Option<LockHolder>, SqlError>
}>()("sumeru/locks/LockSessions") {}
