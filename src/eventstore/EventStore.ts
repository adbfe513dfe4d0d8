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

export interface Snapshot<S = unknown> {
  readonly streamId: string
  readonly shop: string
  /** The schema version of the state; a snapshot of another version is ignored. */
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
  /** The current version of a stream (0 when it does not exist) and its shop. */
  readonly streamInfo: (
    streamId: string
  ) => Effect.Effect<{ readonly version: number; readonly shop: string } | null, PersistenceError>
  readonly head: Effect.Effect<LogHead, PersistenceError>
  readonly saveSnapshot: (snapshot: Snapshot) => Effect.Effect<void, PersistenceError>
  /** The stored snapshot when it matches `schemaVersion`, otherwise null (ignored, not misread). */
  readonly loadSnapshot: (
    streamId: string,
    schemaVersion: number
  ) => Effect.Effect<Snapshot | null, PersistenceError>
}>()("sumeru/eventstore/EventStore") {}
