/**
 * What an undo job does with one product of the job it reverts, so that undo never
 * overwrites a later change by someone else (ARCHITECTURE.md, invariant 8).
 *
 * The original job records, per product, what its write left: Shopify's `compareDigest` of
 * the metafield it wrote (read back from the bulk mutation's result), or that the line
 * failed. The undo then compares the product with that after-state:
 * - a previous value to put back: `metafieldsSet` carrying `compareDigest` = the digest the
 *   job wrote, so Shopify itself refuses (`STALE_OBJECT`) a product changed since;
 * - no previous value (the job created the metafield): `metafieldsDelete` takes no digest, so
 *   the metafield's current digest is read first and only an unchanged one is deleted;
 * - no recorded digest (a job that ran before the digests were kept, or a result line that
 *   never came back): the current metafield is read and compared by value and type with what
 *   the job wrote; an unchanged one is restored under its current digest.
 * A changed product is left as it is and reported as changed since. `force` restores every
 * product of the snapshot unconditionally, as undo did before the guard.
 *
 * Pure: the reads and writes happen in the job steps.
 */

/** What the original job's write left on one product. */
export type WrittenOutcome =
  /** Written; `digest` is Shopify's `compareDigest` of the metafield right after the write. */
  | { readonly kind: "written"; readonly digest: string }
  /** The job's line failed: the job did not change this product. */
  | { readonly kind: "failed" }
  /** Not recorded (a job from before the guard, or a line without a result). */
  | { readonly kind: "unknown" }

/** The metafield's value before the job, from the snapshot (null: it did not exist). */
export interface PreviousMetafield {
  readonly value: string
  readonly type: string
}

/** The metafield as it is now; null when it (or its product) no longer exists. */
export interface CurrentMetafield {
  readonly value: string
  readonly type: string
  readonly compareDigest: string
}

/** What the job wrote on every product it updated (its input's type and value). */
export interface WrittenValue {
  readonly value: string
  readonly type: string
}

/** One product's undo. */
export type UndoStep =
  /**
   * `metafieldsSet` of the previous value; `compareDigest` guards it (Shopify answers
   * `STALE_OBJECT` if the metafield changed meanwhile); null only when forced.
   */
  | { readonly kind: "restore"; readonly compareDigest: string | null }
  /** `metafieldsDelete`: the job created the metafield and it is unchanged (or forced). */
  | { readonly kind: "delete" }
  /** Nothing to undo: the job never changed this product. */
  | { readonly kind: "skip" }
  /** Left as it is: it changed since the job wrote it. */
  | { readonly kind: "changed_since"; readonly reason: string }

/** The outcome code of a product left as it is (error lines, API, counts). */
export const CHANGED_SINCE = "changed_since"

/** Plain reason for a product whose metafield was changed after the job wrote it. */
export const CHANGED_SINCE_REASON =
  "Changed by someone else after the job wrote it: kept the newer value, not restored (undo with force to overwrite it)."

/** Plain reason for a product whose metafield (or the product itself) was removed after the job wrote it. */
export const REMOVED_SINCE_REASON =
  "Removed by someone else after the job wrote it: left as it is, not restored (undo with force to restore it)."

/**
 * Whether deciding the product's undo needs its current metafield: a delete cannot be
 * guarded by Shopify, and an unrecorded outcome can only be compared by value. Never when
 * forced.
 */
export const needsCurrent = (previous: PreviousMetafield | null, outcome: WrittenOutcome, force: boolean): boolean =>
  !force && (outcome.kind === "unknown" || (outcome.kind === "written" && previous === null))

const sameValue = (a: WrittenValue, b: CurrentMetafield): boolean => a.value === b.value && a.type === b.type

/**
 * The undo of one product. `current` is the metafield read just before (required, possibly
 * null, when {@link needsCurrent}; ignored otherwise).
 */
export const undoStep = (input: {
  readonly previous: PreviousMetafield | null
  readonly outcome: WrittenOutcome
  readonly written: WrittenValue
  readonly current?: CurrentMetafield | null | undefined
  readonly force: boolean
}): UndoStep => {
  const { previous, outcome, written, force } = input
  if (force) return previous === null ? { kind: "delete" } : { kind: "restore", compareDigest: null }
  switch (outcome.kind) {
    case "failed":
      return { kind: "skip" }
    case "written": {
      if (previous !== null) return { kind: "restore", compareDigest: outcome.digest }
      const current = input.current ?? null
      if (current === null) return { kind: "changed_since", reason: REMOVED_SINCE_REASON }
      return current.compareDigest === outcome.digest ? { kind: "delete" } : { kind: "changed_since", reason: CHANGED_SINCE_REASON }
    }
    case "unknown": {
      const current = input.current ?? null
      if (current === null) return { kind: "changed_since", reason: REMOVED_SINCE_REASON }
      if (!sameValue(written, current)) return { kind: "changed_since", reason: CHANGED_SINCE_REASON }
      return previous === null ? { kind: "delete" } : { kind: "restore", compareDigest: current.compareDigest }
    }
  }
}
