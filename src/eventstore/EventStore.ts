/**
 * The event store contract. Every shop's history is a set of streams of immutable events;
 * the global log orders all of them by position. Backends: `adapters/postgres/PgEventStore.ts`
 * (PostgreSQL 15+ and PGlite share it).
 */
import { Context, Schema } from "effect"
import type { Effect, Stream } from "effect"
import type {
  AppendMetadata,
  AppendResult,
  ExpectedVersion,
  NewEvent,
  RecordedEvent
} from "../../domain/events/Envelope.ts"

/** The stream's version did not match the expectation; nothing was written. */
export class ConcurrencyConflict extends Schema.TaggedError<ConcurrencyConflict>()("ConcurrencyConflict", {
  streamId: Schema.String,
  expected: Schema.String,
  /** The stream's actual version (0 when the stream does not exist). */
  actual: Schema.Number
}) {}

/** The stream already belongs to another shop; streams never change owner. */
export class StreamOwnershipViolation extends Schema.TaggedError<StreamOwnershipViolation>()(
  "StreamOwnershipViolation",
  { streamId: Schema.String, owner: Schema.String, attemptedBy: Schema.String }
) {}

/** The database failed or could not be reached. Usually transient. */
export class PersistenceError extends Schema.TaggedError<PersistenceError>()("PersistenceError", {
  operation: Schema.String,
  cause: Schema.Defect()
}) {}

/** An append was rejected before touching the database (empty, malformed). */
export class InvalidAppend extends Schema.TaggedError<InvalidAppend>()("InvalidAppend", {
  streamId: Schema.String,
  message: Schema.String
}) {}

export interface ReadAllOptions {
  /** Return events with a position strictly greater than this (default 0: from the start). */
  readonly after?: number | undefined
  /** Stop after this many events. */
  readonly limit?: number | undefined
  readonly shop?: string | undefined
  readonly types?: ReadonlyArray<string> | undefined
  readonly since?: Date | undefined
  readonly until?: Date | undefined
  /** Events fetched per round trip (default 1,000). */
  readonly batchSize?: number | undefined
}

export interface ReadStreamOptions {
  /** First stream version to return (default 1). */
  readonly from?: number | undefined
  /** Last stream version to return (inclusive). */
  readonly to?: number | undefined
  /** Only events that occurred at or before this time. */
  readonly until?: Date | undefined
}

/**
 * A named, versioned way of folding a stream into state, which the store can snapshot.
 *
 * `name` identifies the fold's snapshots: a stream keeps the latest snapshot of each fold.
 * `version` is the version of the state's shape and of `evolve`'s meaning. A snapshot taken
 * under another version is ignored (never misread), so bump it whenever either changes.
 * `schema` is how the state is stored in a snapshot: it is encoded to JSON, and decoded (and
 * so validated) when read back. A snapshot that does not decode is ignored.
 */
export interface Fold<S> {
  readonly name: string
  readonly version: number
  readonly initial: () => S
  /** Applies one event. Must be total: an event it cannot use leaves the state as it is. */
  readonly evolve: (state: S, event: RecordedEvent) => S
  readonly schema: Schema.Codec<S, unknown>
}

/** What an append already knows of each event it writes (before it is read back). */
export type AppendedEvent = Pick<RecordedEvent, "type" | "data" | "occurredAt" | "streamVersion">

/**
 * A fold whose `evolve` reads only what an append already knows, so the stream's writer can
 * carry it forward from its own appends without reading them back (`src/actors/ActorFolds.ts`).
 */
export interface AppendFold<S> extends Fold<S> {
  readonly evolve: (state: S, event: AppendedEvent) => S
}

export interface LoadFoldOptions {
  /** Fold up to this stream version (inclusive). A snapshot taken after it is not used. */
  readonly to?: number | undefined
  /**
   * Only events that occurred at or before this time. A time filter can leave out events in
   * the middle of a stream, which no snapshot can represent, so snapshots are neither read
   * nor written.
   */
  readonly until?: Date | undefined
}

/** The outcome of {@link EventStore.loadFold}. */
export interface Folded<S> {
  readonly state: S
  /** Stream version of the last event folded in (the snapshot's, when the tail is empty; 0 for no events). */
  readonly version: number
  /** Stream version of the snapshot the fold started from; null when it started from `initial()`. */
  readonly snapshotVersion: number | null
  /** Events read after the snapshot (all of them without one). */
  readonly tailEvents: number
}

/** One stored snapshot, as `saveSnapshot` takes it and `loadSnapshot` returns it (state opened and decoded). */
export interface Snapshot<S = unknown> {
  readonly streamId: string
  readonly fold: string
  readonly shop: string
  /** The fold's version when the snapshot was taken. */
  readonly schemaVersion: number
  /** The stream version the state was folded up to. */
  readonly streamVersion: number
  readonly state: S
}

export interface LogHead {
  /** Highest position a gap-safe reader may deliver now. */
  readonly safePosition: number
  /** Highest position stored (may be ahead of safePosition while transactions are open). */
  readonly maxPosition: number
  /** Age in seconds of the oldest open transaction in the database, if any. */
  readonly oldestOpenTransactionSeconds: number | null
}

/**
 * A run of missing positions a reader stopped at, and the transactions that might still fill
 * it. Readers pass it back with their next read (`ReadRangeOptions.gap`): the store proves
 * the gap permanent only against what it observed earlier.
 */
export interface GapObservation {
  readonly from: number
  readonly to: number
  /**
   * 32-bit ids of this database's transactions holding an id when the gap was first seen;
   * null when they could not be read reliably (the gap is then observed again next time).
   */
  readonly candidates: ReadonlyArray<number> | null
}

export interface ReadRangeOptions {
  /** At most this many events. */
  readonly limit: number
  /** Only events of these types (all when absent or empty). */
  readonly types?: ReadonlyArray<string> | null | undefined
  /** The gap the reader's previous read stopped at (its `gap`), if any. */
  readonly gap?: GapObservation | null | undefined
}

/** One gap-safe read of the global log (see {@link EventStore.readRange}). */
export interface LogRange {
  /** Events with `after < position <= upTo`, in position order, opened and upcast. */
  readonly events: ReadonlyArray<RecordedEvent>
  /**
   * How far this read covered: the last event's position when `limit` events were read (the
   * page may stop before `safeUpTo`), `safeUpTo` otherwise. A checkpoint may move here.
   */
  readonly upTo: number
  /** Every position ≤ this is either committed and visible, or proved permanently absent. */
  readonly safeUpTo: number
  /** True when positions beyond `safeUpTo` exist but are blocked by an open gap. */
  readonly blocked: boolean
  /** The open gap that stopped the read, if any: pass it to the next read. */
  readonly gap: GapObservation | null
}

/** A transaction of this database holding a transaction id: it may hold a position not committed yet. */
export interface OpenTransaction {
  readonly pid: number
  readonly applicationName: string | null
  readonly clientAddress: string | null
  /** `active`, `idle in transaction`, … as `pg_stat_activity` reports it. */
  readonly state: string | null
  /** Seconds since the transaction started. */
  readonly ageSeconds: number
}

/** What waits behind the safe head: events committed past a gap no reader may pass yet. */
export interface LogBacklog {
  /** Highest committed position (the safe head when nothing blocks). */
  readonly committedHead: number
  /** Committed events past the safe head: no reader may deliver them until the gap closes. */
  readonly blockedEvents: number
  /** The missing positions right after the safe head, when events wait behind them. */
  readonly gap: { readonly from: number; readonly to: number } | null
  /**
   * This database's open transactions holding an id, oldest first (at most 5), when events
   * wait: the gap belongs to one of them (or to a rollback about to be proved).
   */
  readonly openTransactions: ReadonlyArray<OpenTransaction>
}

export class EventStore extends Context.Service<EventStore, {
  /**
   * Appends `events` to `streamId` atomically (all or none, one round trip), checking
   * `expected` against the stream's version under a row lock. Events whose id is already
   * stored are skipped, so retrying a committed append is a no-op.
   */
  readonly append: (
    streamId: string,
    shop: string,
    expected: ExpectedVersion,
    events: ReadonlyArray<NewEvent>,
    metadata: AppendMetadata
  ) => Effect.Effect<
    AppendResult,
    ConcurrencyConflict | StreamOwnershipViolation | InvalidAppend | PersistenceError
  >
  /** The events of one stream in version order, upcast to current schema versions. */
  readonly readStream: (
    streamId: string,
    options?: ReadStreamOptions
  ) => Stream.Stream<RecordedEvent, PersistenceError>
  /**
   * The global log in position order, never passing over a transaction that commits late:
   * it ends at the current safe head. Memory stays constant (batched).
   */
  readonly readAll: (options?: ReadAllOptions) => Stream.Stream<RecordedEvent, PersistenceError>
  /**
   * One page of the global log after `after`, for readers that keep their own checkpoint (the
   * projection runner): never passing over a transaction that commits late, it stops at the
   * safe head, and says whether events wait behind a gap there. Pass the returned `gap` back
   * with the next read so a rolled-back gap is proved and passed.
   */
  readonly readRange: (after: number, options: ReadRangeOptions) => Effect.Effect<LogRange, PersistenceError>
  /** The current version of a stream (0 when it does not exist) and its shop. */
  readonly streamInfo: (
    streamId: string
  ) => Effect.Effect<{ readonly version: number; readonly shop: string } | null, PersistenceError>
  readonly head: Effect.Effect<LogHead, PersistenceError>
  /**
   * Describes the log past `safePosition` (the head a gap-safe reader may reach, see `head`):
   * how many committed events wait behind the first gap there, and which open transactions
   * may hold it. A reader blocked there is invisible in `safe - checkpoint`; operators see it
   * here as lag, and see what holds it.
   */
  readonly backlog: (safePosition: number) => Effect.Effect<LogBacklog, PersistenceError>
  /**
   * A stream folded with `fold`, starting from the latest usable snapshot of that fold and
   * reading only the events after it (the tail). A snapshot is usable when it was taken under
   * `fold.version`, not after `options.to`, and it opens and decodes; otherwise the fold starts
   * from `fold.initial()` and the stream's first event. When the tail holds at least
   * `SNAPSHOT_EVERY` events, a new snapshot is written. That write is best effort: a failed
   * write is logged and never fails the load. Snapshots are not events. They are sealed under
   * the shop's data key, so shredding the key (shop/redact) makes them unreadable too.
   */
  readonly loadFold: <S>(
    streamId: string,
    fold: Fold<S>,
    options?: LoadFoldOptions
  ) => Effect.Effect<Folded<S>, PersistenceError>
  /**
   * `SNAPSHOT_EVERY`: how many events after its snapshot a fold reads before a new one is
   * written (0: none). A stream's writer that carries a fold forward itself follows it too.
   */
  readonly snapshotEvery: number
  /**
   * Stores `snapshot` as the latest of its (stream, fold), sealed under the shop's key. An
   * existing snapshot of the same version is replaced only by one at least as far along.
   */
  readonly saveSnapshot: <S>(snapshot: Snapshot<S>, schema: Schema.Codec<S, unknown>) => Effect.Effect<void, PersistenceError>
  /**
   * The latest snapshot of (stream, fold) taken under `fold.version` and not after stream
   * version `options.to`, opened and decoded. Null when there is none, or it does not open (the key was
   * shredded) or decode: such a snapshot is ignored, never misread.
   */
  readonly loadSnapshot: <S>(
    streamId: string,
    fold: Pick<Fold<S>, "name" | "version" | "schema">,
    options?: { readonly to?: number | undefined }
  ) => Effect.Effect<Snapshot<S> | null, PersistenceError>
}>()("sumeru/eventstore/EventStore") {}
