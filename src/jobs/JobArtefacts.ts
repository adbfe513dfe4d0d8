/**
 * What a bulk-metafield job keeps beside its events (port): the snapshot of the products it
 * targets — each one's value before the job, in a stable order — from which every chunk is
 * rebuilt deterministically and an undo restores; the error lines of its chunks (for
 * errors.jsonl); and the cross-process lock under which a chunk's mutation is submitted. The
 * PostgreSQL implementation (`job_snapshots`, `job_error_lines`) lives in
 * `adapters/postgres/PgJobArtefacts.ts`.
 */
import { Context } from "effect"
import type { Effect, Stream } from "effect"
import type { SqlError } from "effect/sql/SqlError"

/** One product of a job's snapshot: its place in the job, and its value before the job (if any). */
export interface SnapshotEntry {
  readonly ordinal: number
  readonly productId: string
  readonly prevValue: string | null
  readonly prevType: string | null
}

export class JobArtefacts extends Context.Service<JobArtefacts, {
  /** Drops the job's snapshot (storing it again starts over). */
  readonly clearSnapshot: (jobId: string) => Effect.Effect<void, SqlError>
  /** How many products the job's snapshot holds. */
  readonly snapshotSize: (jobId: string) => Effect.Effect<number, SqlError>
  /**
   * Writes entries to the job's snapshot: ordinals not there yet are added, ordinals already
   * there replaced (so a record rewritten entry by entry, e.g. a chunk's after-state read
   * again, never conflicts with itself).
   */
  readonly writeSnapshot: (shop: string, jobId: string, entries: ReadonlyArray<SnapshotEntry>) => Effect.Effect<void, SqlError>
  /** The job's snapshot entries with `from <= ordinal <= to`, in ordinal order, read page by page. */
  readonly snapshot: (jobId: string, from: number, to: number) => Stream.Stream<SnapshotEntry, SqlError>
  /** Replaces the error lines of one chunk of the job (numbered from 0). */
  readonly replaceErrorLines: (shop: string, jobId: string, chunkIndex: number, lines: ReadonlyArray<string>) => Effect.Effect<void, SqlError>
  /**
   * Runs `effect` holding the cross-process lock on `key` (a chunk's submit): another process
   * asking for the same key waits until `effect` is done. Within one process, callers
   * serialize on their own claim first.
   */
  readonly withSubmitLock: <A, E, R>(key: string, effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E | SqlError, R>
}>()("sumeru/jobs/JobArtefacts") {}
