/**
 * Partition leases (port): what the ownership loop (`PartitionOwnership.ts`) needs from the
 * database to share the shop log's partitions among workers. Two kinds:
 * - `Shared`: workers compete. A worker opens a *lease session* — ownership that dies with its
 *   holder (on PostgreSQL, session advisory locks on one watched connection:
 *   `adapters/postgres/PgPartitionLeases.ts`) — takes partitions on it one by one, and
 *   heartbeats in a registry of workers, from which each computes its fair share;
 * - `SingleProcess`: this process is the only one that can reach the database (the embedded
 *   database): it owns every partition, with no locks, no registry and no commit fence
 *   (`adapters/embedded/EmbeddedPartitionLeases.ts`).
 * The composition root chooses (`PgPartitionLeases.layerForDatabase` picks by database mode).
 */
import { Context } from "effect"
import type { Duration, Effect, Scope } from "effect"
import type { SqlError } from "effect/sql/SqlError"

/**
 * Why a lease session was lost (on PostgreSQL `LockSessionLost`: the lock connection failed,
 * stopped answering, or was given up). Once lost, every partition it held may already be
 * another worker's.
 */
export interface LeaseSessionLost {
  readonly _tag: string
  readonly reason: string
}

/**
 * One lease session: the partitions it holds are this worker's until it is lost. A session
 * never comes back: its owner abandons what it guarded and opens a new one.
 */
export interface LeaseSession {
  /**
   * The token the actors' commits carry (`CommitItem.ownerPid`): the database refuses a
   * commit unless the session it names still holds the commit's partition. On PostgreSQL the
   * lock session's backend (`pg_locks.pid`).
   */
  readonly fence: number | null
  /** Takes `partition` if no other session holds it; true when this session holds it now. */
  readonly tryLock: (partition: number) => Effect.Effect<boolean, LeaseSessionLost>
  /** Gives `partition` back. */
  readonly unlock: (partition: number) => Effect.Effect<void, LeaseSessionLost>
  /** Fails, with the reason, once the session is lost (its own heartbeat found it dead, or `invalidate`). */
  readonly lost: Effect.Effect<never, LeaseSessionLost>
  /** Declares the session lost (its owner found it unusable, e.g. a commit found a lock gone). Idempotent. */
  readonly invalidate: (reason: string) => Effect.Effect<void>
}

export interface LeaseSessionOptions {
  /** The worker opening the session (it names the session's connection). */
  readonly workerId: string
  /** How often the session proves itself alive. */
  readonly heartbeatInterval: Duration.Duration
}

/** Workers compete for partitions through lease sessions and a registry of live workers. */
export interface SharedLeases {
  readonly _tag: "Shared"
  /** Opens a lease session for the current scope; closing the scope gives back everything it holds. */
  readonly open: (options: LeaseSessionOptions) => Effect.Effect<LeaseSession, SqlError, Scope.Scope>
  /** Records that `workerId` is alive now (joining the registry the first time). */
  readonly heartbeat: (workerId: string) => Effect.Effect<void, SqlError>
  /** How many workers heartbeat within `staleAfter` (this one included, once it has). */
  readonly countLive: (staleAfter: Duration.Duration) => Effect.Effect<number, SqlError>
  /** Removes `workerId` from the registry (an orderly exit: the others re-balance at once). */
  readonly leave: (workerId: string) => Effect.Effect<void, SqlError>
}

/** This process is the only worker: it owns every partition, with no locks. */
export interface SingleProcess {
  readonly _tag: "SingleProcess"
}

export class PartitionLeases extends Context.Service<PartitionLeases, SharedLeases | SingleProcess>()(
  "sumeru/actors/PartitionLeases"
) {}
