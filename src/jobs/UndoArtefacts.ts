/**
 * The artefacts that keep an undo from overwriting a later change (invariant 8), kept through
 * the `JobArtefacts` snapshot port beside a job's snapshot of previous values:
 *
 * - the **after-state** of each chunk of a job: for every product of the chunk, what the
 *   job's write left — Shopify's `compareDigest` of the metafield it wrote, or that the line
 *   failed, or (no result line) unknown. Recorded when the chunk's results are read; an undo
 *   compares with it. A chunk without after-state (it ran before the digests were kept) is
 *   all unknown.
 * - the **undo plan** of an undo job: the products of the original snapshot it acts on (by
 *   the original ordinal), each a guarded restore (`compareDigest`) or a delete. Written once
 *   by the undo's snapshot step, so its chunks are rebuilt identically after a crash.
 *
 * Both are snapshot artefacts (`SnapshotEntry`) keyed by a UUID: the undo plan by the undo
 * job's own id (an undo job has no snapshot of its own), the after-state by a UUID derived
 * from (job, chunk) ({@link afterStateKey}), one artefact per chunk so that re-reading a
 * chunk's results replaces exactly that chunk's after-state. The entry's `prevType` holds the
 * kind and `prevValue` the digest (this module is the only one that reads or writes them).
 */
import { createHash } from "node:crypto"
import { Effect, Stream } from "effect"
import type { SqlError } from "effect/sql/SqlError"
import type { WrittenOutcome } from "../../domain/jobs/index.ts"
import type { JobArtefacts, SnapshotEntry } from "./JobArtefacts.ts"

type Artefacts = JobArtefacts["Service"]

/** Every ordinal (a job has at most 100,000 products; the column is an int). */
const ALL = 2_147_483_647
const BATCH = 1000

/**
 * The key of chunk `chunkIndex`'s after-state of job `jobId`: a name-based UUID (version 8,
 * RFC 9562) from SHA-256, so any worker derives the same one and no job id collides with it.
 */
export const afterStateKey = (jobId: string, chunkIndex: number): string => {
  const h = createHash("sha256").update(`sumeru/jobs/after-state/v1\u0000${jobId}\u0000${chunkIndex}`).digest("hex")
  const variant = ((Number.parseInt(h.charAt(16), 16) & 0x3) | 0x8).toString(16)
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-8${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`
}

/** What the job's write left on one product of a chunk. */
export interface AfterStateEntry {
  readonly ordinal: number
  readonly productId: string
  readonly outcome: WrittenOutcome
}

const encodeAfter = (e: AfterStateEntry): SnapshotEntry => ({
  ordinal: e.ordinal,
  productId: e.productId,
  prevValue: e.outcome.kind === "written" ? e.outcome.digest : null,
  prevType: e.outcome.kind
})

const decodeAfter = (row: SnapshotEntry): AfterStateEntry => ({
  ordinal: row.ordinal,
  productId: row.productId,
  outcome: row.prevType === "written" && row.prevValue !== null
    ? { kind: "written", digest: row.prevValue }
    : row.prevType === "failed"
    ? { kind: "failed" }
    : { kind: "unknown" }
})

const replace = (artefacts: Artefacts, shop: string, key: string, entries: ReadonlyArray<SnapshotEntry>) =>
  Effect.gen(function*() {
    yield* artefacts.clearSnapshot(key)
    for (let i = 0; i < entries.length; i += BATCH) yield* artefacts.writeSnapshot(shop, key, entries.slice(i, i + BATCH))
  })

/**
 * Records what chunk `chunkIndex` of `jobId` left on some of its products, in any order,
 * replacing what an earlier read of the chunk recorded for them. Every read of a chunk's
 * results writes every product of the chunk once, so each read replaces the whole record,
 * part by part as the result file streams in: a read that stops half way leaves the earlier
 * record whole, and two overlapping reads of one chunk write the same entries.
 */
export const writeAfterState = (
  artefacts: Artefacts,
  shop: string,
  jobId: string,
  chunkIndex: number,
  entries: ReadonlyArray<AfterStateEntry>
): Effect.Effect<void, SqlError> => artefacts.writeSnapshot(shop, afterStateKey(jobId, chunkIndex), entries.map(encodeAfter))

/** The after-state of chunk `chunkIndex` of `jobId`, in ordinal order (none: not recorded). */
export const readAfterState = (artefacts: Artefacts, jobId: string, chunkIndex: number): Stream.Stream<AfterStateEntry, SqlError> =>
  Stream.map(artefacts.snapshot(afterStateKey(jobId, chunkIndex), 0, ALL), decodeAfter)

/** One product an undo job acts on: a restore (guarded by `compareDigest` unless null) or a delete. */
export interface UndoPlanEntry {
  /** The product's ordinal in the original job's snapshot. */
  readonly ordinal: number
  readonly productId: string
  readonly action: { readonly kind: "restore"; readonly compareDigest: string | null } | { readonly kind: "delete" }
}

const encodePlan = (e: UndoPlanEntry): SnapshotEntry => ({
  ordinal: e.ordinal,
  productId: e.productId,
  prevValue: e.action.kind === "restore" ? e.action.compareDigest : null,
  prevType: e.action.kind
})

const decodePlan = (row: SnapshotEntry): UndoPlanEntry => ({
  ordinal: row.ordinal,
  productId: row.productId,
  action: row.prevType === "delete" ? { kind: "delete" } : { kind: "restore", compareDigest: row.prevValue }
})

/** Writes (replacing any earlier one) the plan of undo job `undoJobId`. */
export const writeUndoPlan = (
  artefacts: Artefacts,
  shop: string,
  undoJobId: string,
  entries: ReadonlyArray<UndoPlanEntry>
): Effect.Effect<void, SqlError> => replace(artefacts, shop, undoJobId, entries.map(encodePlan))

/** The plan of undo job `undoJobId` for original ordinals `from…to`, in ordinal order. */
export const readUndoPlan = (artefacts: Artefacts, undoJobId: string, from: number, to: number): Stream.Stream<UndoPlanEntry, SqlError> =>
  Stream.map(artefacts.snapshot(undoJobId, from, to), decodePlan)
