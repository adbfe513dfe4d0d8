/**
 * What the shop actors persist (port): for each message, "already applied? may it run yet?"
 * with its durable attempt count (`begin`), then its decision committed atomically with the
 * message recorded as handled (`commit`), or the message given up on (`deadLetter`); and the
 * durable timers the decisions schedule (`dueTimers`, `deleteTimer`, `nextTimerDueIn`).
 *
 * "Already applied" means exactly one thing: the message's id is recorded as handled (in the
 * same transaction that applied or dead-lettered it). A message's log sequence never makes it
 * a duplicate; a message applied below the shop's highest applied sequence is applied anyway
 * and reported `applied_late` (an order violation).
 *
 * The PostgreSQL implementation, batched across concurrently running actors, lives in
 * `adapters/postgres/PgActorStore.ts`.
 */
import { Context, Schema } from "effect"
import type { Effect } from "effect"
import type { SqlError } from "effect/sql/SqlError"
import type { AppendMetadata } from "../../domain/events/Envelope.ts"
import type { ConcurrencyConflict, InvalidAppend, PersistenceError, StreamOwnershipViolation } from "../eventstore/EventStore.ts"
import type { ShopMessage } from "../shoplog/ShopLog.ts"
import type { Append, ScheduledMessage } from "./ShopHandlers.ts"

export interface BeginResult {
  readonly applied: boolean
  readonly attempts: number
  /**
   * The message's predecessor (`Delivery.predecessor`) is not handled yet: the message must
   * wait. Nothing was counted or written.
   */
  readonly waiting: boolean
}

export interface CommitItem {
  readonly message: ShopMessage
  readonly sequence: number
  readonly partition: number
  /**
   * The fence token of the lease session holding the partition (`PartitionOwner.fence`;
   * on PostgreSQL the backend of the lock session): the commit is refused
   * (`PartitionNotOwned`) unless it still holds the partition's lock. Null where there are no
   * locks (the embedded database).
   */
  readonly ownerPid: number | null
  readonly appends: ReadonlyArray<Append>
  readonly schedule: ReadonlyArray<ScheduledMessage>
  readonly cancelTimers: ReadonlyArray<string>
  readonly metadata: AppendMetadata
  /**
   * The message's row in a shop log kept in this same database (`Delivery.ackedByCommit`):
   * deleted by the commit, so applying and acking are one transaction.
   */
  readonly logSequence?: number | undefined
}

/** The commit's partition lock is no longer held by the committing worker's lock session. */
export class PartitionNotOwned extends Schema.TaggedError<PartitionNotOwned>()("PartitionNotOwned", {
  partitions: Schema.String
}) {}

export type CommitError = ConcurrencyConflict | StreamOwnershipViolation | PartitionNotOwned | PersistenceError

/** `applied_late`: applied, but a later message of the shop had been applied before it. */
export type CommitStatus = "applied" | "applied_late" | "already_applied"

export interface DeadLetterItem {
  readonly message: ShopMessage
  readonly sequence: number
  readonly error: string
  readonly attempts: number
  readonly permanent: boolean
  readonly metadata: AppendMetadata
}

/** A stored timer whose time has come: its id and the message to publish. */
export interface DueTimer {
  readonly id: string
  readonly message: ShopMessage
}

export class ActorStore extends Context.Service<ActorStore, {
  /** `predecessor`: the message waits (`waiting`) until the shop's cursor has reached it. */
  readonly begin: (m: ShopMessage, sequence: number, predecessor: number | undefined) => Effect.Effect<BeginResult, SqlError>
  readonly commit: (item: CommitItem) => Effect.Effect<CommitStatus, CommitError>
  /**
   * Gives up on a message, in one transaction: the `dead_letters` row, the
   * `message.dead_lettered` event, and the message id recorded as handled (a redelivery after
   * a crash before the ack is then a duplicate, not a second dead letter). Returns false when
   * the id was already handled (nothing written).
   */
  readonly deadLetter: (item: DeadLetterItem) => Effect.Effect<boolean, SqlError | CommitError | InvalidAppend>
  /** Keeps the last error of a message that will be retried (shown by `deadletters` tooling). */
  readonly recordError: (m: ShopMessage, error: string) => Effect.Effect<void, SqlError>
  /** Timers of these partitions due now, the earliest first, at most `limit`. */
  readonly dueTimers: (partitions: ReadonlyArray<number>, limit: number) => Effect.Effect<ReadonlyArray<DueTimer>, SqlError>
  /** Forgets a timer (after its message was published). */
  readonly deleteTimer: (id: string) => Effect.Effect<void, SqlError>
  /**
   * Milliseconds until the earliest timer of these partitions is due (negative when it is
   * overdue); null when they have none.
   */
  readonly nextTimerDueIn: (partitions: ReadonlyArray<number>) => Effect.Effect<number | null, SqlError>
}>()("sumeru/actors/ActorStore") {}
