/**
 * Where projections keep their state (contract): generations, their tables and views,
 * checkpointed batches, the atomic blue/green switch, status and checksums. The runner
 * decides when; the store does how. Backend: `adapters/postgres/PgProjectionStore.ts`
 * (PostgreSQL 15+ and PGlite share it). The events come from the log (`EventStore.readRange`).
 */
import { Context, Effect, Option } from "effect"
import type { SqlError } from "effect/sql/SqlError"
import type { Fragment } from "effect/sql/Statement"
import type { RecordedEvent } from "../../domain/events/Envelope.ts"
import { EventStore, type GapObservation, type PersistenceError } from "../eventstore/EventStore.ts"
import type { LockNotHeld } from "../locks/LockSessions.ts"
import { type Projection, SHOP_REDACTED } from "./Projection.ts"
import { spanOfTraceparent } from "../observability/TraceContext.ts"

export interface Generation {
  readonly name: string
  readonly generation: number
  readonly version: number
  readonly status: "building" | "live" | "retired"
  readonly position: number
  readonly eventsApplied: number
  readonly targetPosition: number | null
  readonly startedAt: Date
  readonly updatedAt: Date
}

export interface BatchResult {
  readonly position: number
  readonly applied: number
  /** No more events are visible past `position` right now. */
  readonly caughtUp: boolean
  readonly gap: GapObservation | null
  /**
   * The stored checkpoint was not where the caller thought (another runner moved it, or the
   * generation was retired): nothing was applied; re-read the generations before going on.
   */
  readonly stale: boolean
}

/**
 * Ownership of a projection, checked inside the transactions that write it: `holds` is a SQL
 * condition, true while this process still holds the projection's lock (see
 * `LockSession.holds`); `ensureHeld` fails with `LockNotHeld` when it does not.
 */
export interface WriteFence {
  readonly holds: Fragment
  readonly ensureHeld: Effect.Effect<void, LockNotHeld | SqlError>
}

export class ProjectionStore extends Context.Service<ProjectionStore, {
  /** Every generation of `name` (of every projection without it), by name and generation. */
  readonly generations: (name?: string) => Effect.Effect<ReadonlyArray<Generation>, SqlError>
  /**
   * Makes the database agree with the code's definition: a first generation goes live at once
   * (there is nothing older to serve); a version change starts a building generation beside
   * the live one. Returns the live and building generations.
   */
  readonly reconcile: (projection: Projection) => Effect.Effect<{
    readonly live: Generation | undefined
    readonly building: Generation | undefined
  }, SqlError>
  /**
   * Asks for a rebuild of `projection` from position 0 beside the live generation (operators
   * do this after fixing a projection's code). Idempotent while a rebuild is in progress.
   */
  readonly requestRebuild: (projection: Projection) => Effect.Effect<Generation, SqlError>
  /**
   * Applies `events` (read from the log after the generation's checkpoint, up to `upTo`) and
   * moves the checkpoint to `upTo` in the same transaction, so the read model and its
   * checkpoint never disagree. The checkpoint update is guarded by the old position, so two
   * runners racing on one generation cannot both apply a batch; with a `fence` it is also
   * guarded by the ownership lock, so a process that lost its lock cannot commit a batch, not
   * even one it had already read. False, applying nothing, when the checkpoint was not where
   * the caller thought; fails with `LockNotHeld` when the fence's lock is gone.
   */
  readonly commitBatch: (
    projection: Projection,
    generation: Generation,
    upTo: number,
    events: ReadonlyArray<RecordedEvent>,
    fence?: WriteFence
  ) => Effect.Effect<boolean, SqlError | LockNotHeld>
  /**
   * The blue/green switch, in one transaction: the building generation becomes live, the
   * views point at it, the old live generation is retired and its tables dropped. Readers
   * see either the old or the new version, never a mix. Returns `switched: false`, changing
   * nothing, when `building` is no longer building (another runner switched it); with a
   * `fence`, fails with `LockNotHeld` when this process no longer owns the projection.
   */
  readonly switchLive: (
    projection: Projection,
    building: Generation,
    fence?: WriteFence
  ) => Effect.Effect<{ readonly switched: boolean; readonly old: Generation | undefined }, SqlError | LockNotHeld>
  /**
   * A deterministic checksum of a generation's rows: SHA-256 over every table's rows as JSON,
   * in primary-key order. Equal checksums prove a rebuild produced the same read model.
   */
  readonly checksum: (
    projection: Projection,
    generation: number
  ) => Effect.Effect<{ readonly sha256: string; readonly rows: number }, SqlError>
  /** Events a generation still has to read in (after, upTo], counting only the types it reads. */
  readonly countEvents: (projection: Projection, after: number, upTo: number) => Effect.Effect<number, SqlError>
  /** The store's clock, which also stamps `Generation.updatedAt` (status compares the two). */
  readonly now: Effect.Effect<Date, SqlError>
}>()("sumeru/projections/ProjectionStore") {}

/**
 * Reads the next batch after the generation's checkpoint and applies it, moving the
 * checkpoint in the same transaction. The checkpoint update is guarded by the old position,
 * so two runners racing on one generation cannot both apply a batch; with a `fence` it is
 * also guarded by the ownership lock (one condition in the same statement, once per batch),
 * so a process that lost its lock cannot commit a batch, not even one it had already read.
 */
export const applyBatch = (
  projection: Projection,
  generation: Generation,
  gap: GapObservation | null,
  batchSize: number,
  fence?: WriteFence
): Effect.Effect<BatchResult, SqlError | PersistenceError | LockNotHeld, EventStore | ProjectionStore> =>
  Effect.gen(function*() {
    const log = yield* EventStore
    const store = yield* ProjectionStore
    const types = projection.eventTypes === "all" ? null : [...projection.eventTypes, SHOP_REDACTED]
    const range = yield* log.readRange(generation.position, { limit: batchSize, types, gap })
    if (range.safeUpTo <= generation.position) {
      return { position: generation.position, applied: 0, caughtUp: true, gap: range.gap, stale: false }
    }
    // The batch continues the trace of its first traced event and links the others: one
    // webhook is one trace down to the read model.
    // (the events of one commit share a trace: each is parsed and linked once)
    const traced = [...new Set(range.events.flatMap((e) => (e.traceparent === undefined ? [] : [e.traceparent])))]
      .flatMap((t) => Option.toArray(spanOfTraceparent(t)))
    const moved = yield* store.commitBatch(projection, generation, range.upTo, range.events, fence).pipe(
      Effect.withSpan(`Projection.apply ${projection.name}`, {
        kind: "consumer",
        parent: traced[0],
        links: traced.slice(1).map((span) => ({ span, attributes: {} })),
        attributes: { "projection.name": projection.name, "projection.generation": generation.generation, "projection.events": range.events.length }
      })
    )
    return {
      position: moved ? range.upTo : generation.position,
      applied: moved ? range.events.length : 0,
      caughtUp: !moved || (range.upTo === range.safeUpTo && !range.blocked && range.events.length < batchSize),
      gap: range.gap,
      stale: !moved
    }
  })
