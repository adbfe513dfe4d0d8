/**
 * The seed's idempotency key for bulk jobs: "SHA-256 hash of (shopId +
 * inputs)". The domain only builds the canonical string; an adapter hashes it
 * (SHA-256, hex) so this module stays pure.
 *
 * The canonical form is a JSON array with a version tag first and the fields
 * in a fixed order, so field boundaries are unambiguous (`"a|b" + "c"` cannot
 * collide with `"a" + "b|c"`) and string escaping is deterministic. Fields:
 * shop (trimmed, lower-cased), queryString (trimmed), namespace, key, type,
 * value (verbatim), dryRun, maxItems.
 *
 * `dryRun` is part of the key on purpose: a dry run followed by the same job
 * for real is the normal workflow and must not be answered with 409.
 * `actionRunId` and `shopDomain` are not: a Flow re-send carries the same
 * `action_run_id` and is deduplicated on that separately, and the shop is
 * already the first field.
 */
import type { JobParameters } from "./JobParameters.ts"

/** Bump when the canonical form changes; old and new keys then never collide. */
export const JOB_INPUT_CANONICAL_VERSION = "sumeru/jobs/input/v1"
/** Version tag of the canonical form of an undo job (see {@link canonicalUndoInput}). */
export const UNDO_INPUT_CANONICAL_VERSION = "sumeru/jobs/undo/v1"

const normaliseShop = (shop: string): string => shop.trim().toLowerCase()

/**
 * Canonical string of (shop + normalised job parameters) to be hashed with
 * SHA-256 into the job's `inputHash`. Equal inputs for the same shop give the
 * same string on every machine; any difference in a parameter gives a
 * different one.
 */
export const canonicalJobInput = (shop: string, input: JobParameters): string =>
  JSON.stringify([
    JOB_INPUT_CANONICAL_VERSION,
    normaliseShop(shop),
    input.queryString.trim(),
    input.namespace,
    input.key,
    input.type,
    input.value,
    input.dryRun,
    input.maxItems
  ])

/**
 * Canonical string for the compensating (undo) job of `originalJobId`: one
 * undo per original job, whatever its parameters.
 */
export const canonicalUndoInput = (shop: string, originalJobId: string): string =>
  JSON.stringify([UNDO_INPUT_CANONICAL_VERSION, normaliseShop(shop), originalJobId])
