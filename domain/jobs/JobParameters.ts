/**
 * The normalised parameters of a bulk metafield job and the limits that
 * validation enforces (seed 002, "Input Validation", plus Shopify's own rules
 * where they are stricter).
 */
import { Schema } from "effect"
import { MetafieldType } from "./MetafieldTypes.ts"

/** `query_string`: non-empty after trimming, at most 500 characters (seed). */
export const QUERY_STRING_MAX_LENGTH = 500
/**
 * `namespace`: 3…50 characters of `[a-z0-9_]`. The seed caps it at 50; the
 * minimum of 3 is Shopify's (MetafieldsSetInput: "Must be 3-255 characters"),
 * enforced here so a job that Shopify would reject line by line fails fast
 * with a 400 instead.
 */
export const NAMESPACE_MIN_LENGTH = 3
export const NAMESPACE_MAX_LENGTH = 50
/** `key`: 2…50 characters of `[a-z0-9_]` (seed max 50, Shopify min 2). */
export const KEY_MIN_LENGTH = 2
export const KEY_MAX_LENGTH = 50
/** The seed's namespace/key charset. Stricter than Shopify (no `-`, no capitals). */
export const IDENTIFIER_PATTERN = /^[a-z0-9_]+$/
/** `value`: at most 1 KB, measured as UTF-8 bytes (seed: "value: 1KB"). */
export const VALUE_MAX_BYTES = 1024
/** `dry_run` when absent: true (seed: `dryRun Boolean @default(true)`). */
export const DRY_RUN_DEFAULT = true
/** `max_items` when absent: 10,000 (seed: `maxItems Int @default(10000)`). */
export const MAX_ITEMS_DEFAULT = 10_000
/** Smallest accepted `max_items`. */
export const MAX_ITEMS_MIN = 1
/**
 * Largest accepted `max_items`: 100,000. The seed sets no ceiling; this one
 * keeps a job to a single ≤ 95 MB mutation chunk in practice (a metafieldsSet
 * line is a few hundred bytes) and its runtime well inside Shopify's 24 h
 * bulk-mutation limit. Larger catalogues are split into several jobs by query.
 */
export const MAX_ITEMS_MAX = 100_000

/**
 * What a job does, once validated and normalised: set `namespace.key` of
 * type `type` to `value` on (at most `maxItems` of) the products matching
 * `queryString`, or only count them when `dryRun`.
 *
 * The event schema is structural on purpose: validation rules may tighten
 * later, and events already stored must keep decoding.
 */
export const JobParameters = Schema.Struct({
  queryString: Schema.String,
  namespace: Schema.String,
  key: Schema.String,
  type: MetafieldType,
  value: Schema.String,
  dryRun: Schema.Boolean,
  maxItems: Schema.Int
})
export type JobParameters = typeof JobParameters.Type
