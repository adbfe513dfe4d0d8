/**
 * A shop's detector settings (issue 13 §3: "each detector's thresholds are per-shop settings with
 * defaults"). A shop keeps only its *overrides*; every other field falls back to the default —
 * the deployment's (`CART_ABANDON_*`, `SITE_AUDIT_MAX_PAGES`), else the detectors' own.
 *
 * Changes are patches decided by the shop's actor (`detectors.settings_changed` on the
 * `detector-settings-<shop>` stream): a number sets a field, `null` returns it to its default.
 * A patch is checked whole — every unknown field, out-of-range value and contradiction (a band
 * whose bottom is above its top) listed — and applied all or nothing.
 *
 * The detectors read the effective settings when they run; the findings a run records carry the
 * thresholds it used, so a rebuilt read model shows what was found then, not what would be found
 * under today's settings.
 */
import { Schema } from "effect"
import { type AdsSettings, DEFAULT_ADS_SETTINGS } from "./adsDetectors.ts"
import { type CartAbandonmentSettings, DEFAULT_CART_ABANDONMENT } from "./cartAbandonment.ts"
import { DEFAULT_SEO_SETTINGS, type SeoSettings } from "./seoDetectors.ts"

export interface SiteAuditDetectorSettings {
  /** The crawl's page budget per audit. */
  readonly maxPages: number
  /** `seo.score_dropped`: the points a page's score must fall by since the previous audit. */
  readonly scoreDropPoints: number
}

export const DEFAULT_SITE_AUDIT_SETTINGS: SiteAuditDetectorSettings = { maxPages: 200, scoreDropPoints: 10 }

export interface DetectorSettings {
  readonly seo: SeoSettings
  readonly ads: AdsSettings
  readonly siteAudit: SiteAuditDetectorSettings
  readonly cartAbandonment: CartAbandonmentSettings
}

export type DetectorGroup = keyof DetectorSettings

export const DEFAULT_DETECTOR_SETTINGS: DetectorSettings = {
  seo: DEFAULT_SEO_SETTINGS,
  ads: DEFAULT_ADS_SETTINGS,
  siteAudit: DEFAULT_SITE_AUDIT_SETTINGS,
  cartAbandonment: DEFAULT_CART_ABANDONMENT
}

interface FieldSpec {
  readonly min: number
  readonly max: number
  readonly integer: boolean
  /** `min` itself is not allowed (a Z-score of 0 would flag everything). */
  readonly exclusiveMin?: true
}

const int = (min: number, max: number): FieldSpec => ({ min, max, integer: true })
const real = (min: number, max: number, exclusiveMin?: true): FieldSpec => ({ min, max, integer: false, ...(exclusiveMin ? { exclusiveMin } : {}) })

/** Each field's allowed range: what a merchant can set without breaking its detector. */
export const DETECTOR_FIELDS: { readonly [G in DetectorGroup]: { readonly [F in keyof DetectorSettings[G]]: FieldSpec } } = {
  seo: {
    minPriorClicks: int(1, 1_000_000),
    decayDropPct: real(1, 100),
    opportunityMinImpressions: int(0, 100_000_000),
    opportunityMinPosition: real(1, 100),
    opportunityMaxPosition: real(1, 100),
    // two pages can each take at most half of a query's impressions
    cannibalShare: real(1, 50),
    cannibalMinImpressions: int(0, 100_000_000),
    gapMinImpressions: int(0, 100_000_000),
    gapMaxPosition: real(1, 100)
  },
  ads: {
    spendZ: real(0, 10, true),
    spendBaselineDays: int(2, 365),
    spendMinBaselineDays: int(2, 365),
    minClicks: int(0, 1_000_000),
    minSpend: real(0, 1_000_000_000),
    keywordZ: real(0, 10, true),
    minAccountKeywords: int(2, 10_000)
  },
  siteAudit: {
    maxPages: int(1, 10_000),
    scoreDropPoints: int(1, 100)
  },
  cartAbandonment: {
    windowMinutes: int(1, 7 * 24 * 60),
    minValue: real(0, 1_000_000_000)
  }
}

export const DETECTOR_GROUPS = Object.keys(DETECTOR_FIELDS) as ReadonlyArray<DetectorGroup>

/** What a shop overrides, group by group (absent = the default). */
export type DetectorOverrides = { readonly [G in DetectorGroup]?: { readonly [F in keyof DetectorSettings[G]]?: number } }

/** A change: per field, a number to set or `null` to return it to its default. */
export type DetectorSettingsPatch = { readonly [G in DetectorGroup]?: { readonly [F in keyof DetectorSettings[G]]?: number | null } }

export interface SettingsProblem {
  /** `seo.decayDropPct`: the group and field, or the group alone. */
  readonly field: string
  readonly message: string
}

const isRecord = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)

const describe = (spec: FieldSpec) =>
  `${spec.integer ? "a whole number" : "a number"} ${spec.exclusiveMin ? "above" : "from"} ${spec.min} ${spec.exclusiveMin ? "and at most" : "to"} ${spec.max}`

/**
 * Checks a patch as a request body gives it: every problem found, or the patch. Cross-field
 * checks are made on the settings the patch would produce (`current` overridden by it), so
 * raising a band's bottom above a top set earlier is refused too.
 */
export const parseSettingsPatch = (
  body: unknown,
  current: DetectorSettings
): { readonly _tag: "Valid"; readonly patch: DetectorSettingsPatch } | { readonly _tag: "Invalid"; readonly problems: ReadonlyArray<SettingsProblem> } => {
  const problems: Array<SettingsProblem> = []
  if (!isRecord(body)) return { _tag: "Invalid", problems: [{ field: "", message: `must be an object with any of ${DETECTOR_GROUPS.join(", ")}` }] }
  const patch: Record<string, Record<string, number | null>> = {}
  for (const [group, fields] of Object.entries(body)) {
    // own fields only: `toString` or `__proto__` are not settings
    const specs = Object.hasOwn(DETECTOR_FIELDS, group) ? (DETECTOR_FIELDS as Record<string, Record<string, FieldSpec>>)[group] : undefined
    if (specs === undefined) {
      problems.push({ field: group, message: `is not a detector group (${DETECTOR_GROUPS.join(", ")})` })
      continue
    }
    if (!isRecord(fields)) {
      problems.push({ field: group, message: `must be an object with any of ${Object.keys(specs).join(", ")}` })
      continue
    }
    for (const [field, value] of Object.entries(fields)) {
      const spec = Object.hasOwn(specs, field) ? specs[field] : undefined
      const where = `${group}.${field}`
      if (spec === undefined) problems.push({ field: where, message: `is not a setting of ${group} (${Object.keys(specs).join(", ")})` })
      else if (value === null) (patch[group] ??= {})[field] = null
      else if (
        typeof value !== "number" || !Number.isFinite(value) || (spec.integer && !Number.isInteger(value)) ||
        value > spec.max || (spec.exclusiveMin ? value <= spec.min : value < spec.min)
      ) problems.push({ field: where, message: `must be ${describe(spec)}, or null for the default` })
      else (patch[group] ??= {})[field] = value
    }
  }
  if (problems.length === 0) {
    const next = applyPatch(current, patch as DetectorSettingsPatch, DEFAULT_DETECTOR_SETTINGS)
    problems.push(...contradictions(next))
  }
  return problems.length > 0 ? { _tag: "Invalid", problems } : { _tag: "Valid", patch: patch as DetectorSettingsPatch }
}

/** Settings that each pass their range but not together. */
export const contradictions = (s: DetectorSettings): ReadonlyArray<SettingsProblem> => [
  ...(s.seo.opportunityMinPosition > s.seo.opportunityMaxPosition
    ? [{ field: "seo.opportunityMinPosition", message: `must not be above seo.opportunityMaxPosition (${s.seo.opportunityMinPosition} > ${s.seo.opportunityMaxPosition})` }]
    : []),
  ...(s.ads.spendMinBaselineDays > s.ads.spendBaselineDays
    ? [{ field: "ads.spendMinBaselineDays", message: `must not be above ads.spendBaselineDays (${s.ads.spendMinBaselineDays} > ${s.ads.spendBaselineDays})` }]
    : [])
]

/**
 * `settings` with `patch` applied: a number replaces the field, `null` puts back its value
 * from `defaults`.
 */
export const applyPatch = (settings: DetectorSettings, patch: DetectorSettingsPatch, defaults: DetectorSettings): DetectorSettings => {
  const out: Record<string, Record<string, number>> = {}
  for (const group of DETECTOR_GROUPS) {
    const changes = (patch[group] ?? {}) as Record<string, number | null | undefined>
    const merged: Record<string, number> = { ...(settings[group] as unknown as Record<string, number>) }
    for (const [field, value] of Object.entries(changes)) {
      if (value === undefined) continue
      merged[field] = value === null ? (defaults[group] as unknown as Record<string, number>)[field]! : value
    }
    out[group] = merged
  }
  return out as unknown as DetectorSettings
}

/** The overrides after a patch: set fields kept, `null` ones dropped, empty groups removed. */
export const patchOverrides = (overrides: DetectorOverrides, patch: DetectorSettingsPatch): DetectorOverrides => {
  const out: Record<string, Record<string, number>> = {}
  for (const group of DETECTOR_GROUPS) {
    const merged: Record<string, number> = { ...((overrides[group] ?? {}) as Record<string, number>) }
    for (const [field, value] of Object.entries((patch[group] ?? {}) as Record<string, number | null | undefined>)) {
      if (value === null) delete merged[field]
      else if (value !== undefined) merged[field] = value
    }
    if (Object.keys(merged).length > 0) out[group] = merged
  }
  return out as DetectorOverrides
}

/** What a shop's detectors use: its overrides over the defaults. */
export const effectiveSettings = (overrides: DetectorOverrides, defaults: DetectorSettings): DetectorSettings =>
  applyPatch(defaults, overrides as DetectorSettingsPatch, defaults)

/** The fields a patch really changes (old and new override, null = the default), for the event and the audit log. */
export const settingsChanges = (
  overrides: DetectorOverrides,
  next: DetectorOverrides
): ReadonlyArray<{ readonly field: string; readonly from: number | null; readonly to: number | null }> =>
  DETECTOR_GROUPS.flatMap((group) =>
    Object.keys(DETECTOR_FIELDS[group]).flatMap((field) => {
      const from = (overrides[group] as Record<string, number> | undefined)?.[field] ?? null
      const to = (next[group] as Record<string, number> | undefined)?.[field] ?? null
      return from === to ? [] : [{ field: `${group}.${field}`, from, to }]
    })
  )

// --- the event ---------------------------------------------------------------------------------

const overridesSchema = Schema.Struct(
  Object.fromEntries(DETECTOR_GROUPS.map((g) => [g, Schema.optional(Schema.Record(Schema.String, Schema.Finite))]))
)

/** `detectors.settings_changed`: the shop's overrides after the change, what changed, and who changed it. */
export const DetectorSettingsChanged = Schema.Struct({
  overrides: overridesSchema,
  changes: Schema.Array(Schema.Struct({ field: Schema.String, from: Schema.NullOr(Schema.Finite), to: Schema.NullOr(Schema.Finite) })),
  by: Schema.String
})
export type DetectorSettingsChanged = typeof DetectorSettingsChanged.Type

export const DETECTOR_SETTINGS_CHANGED = "detectors.settings_changed"

export const detectorSettingsStreamId = (shop: string) => `detector-settings-${shop}`
