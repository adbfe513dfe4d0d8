/**
 * Condition episodes: a detector runs every day, but a trigger should fire once when a condition
 * starts (a page decays), not every day it lasts. An episode is keyed by condition and resource
 * (`decay:/blogs/news/winter-care`); the set of active keys is the state carried from one run to
 * the next, stored in the run's event in the serialisable form below.
 *
 * Keep one active set per detector (per condition): `nextEpisodes` ends every active key the run
 * did not find again, so a set shared by two detectors would end the other one's episodes.
 */
import { Schema } from "effect"

/** What one run changed: the keys that began (fire these), ended, and the new active set. */
export interface EpisodeStep {
  /** Found now, not active before: in the order first found, each once. */
  readonly started: ReadonlyArray<string>
  /** Active before, not found now: sorted. */
  readonly ended: ReadonlyArray<string>
  /** Exactly the keys found now. */
  readonly active: ReadonlySet<string>
}

/**
 * The step from the previous run's active keys to this run's findings. A key found on consecutive
 * runs starts once; when a run no longer finds it, it ends; found again later, it starts again (a
 * new episode). Pure and total: duplicates in `found` count once, neither input is changed.
 */
export const nextEpisodes = (active: ReadonlySet<string>, found: ReadonlyArray<string>): EpisodeStep => {
  const now = new Set(found)
  return {
    started: [...now].filter((k) => !active.has(k)),
    ended: [...active].filter((k) => !now.has(k)).sort(),
    active: now
  }
}

/**
 * The key of a condition about a resource: `decay:<page>`, `cannibal:<query>|<weaker url>`. Each
 * part has `\` and `|` escaped, so different parts never spell the same key (a query containing
 * `|` cannot collide with another pair), while a plain page URL stays readable.
 */
export const episodeKey = (condition: string, ...parts: ReadonlyArray<string>): string =>
  `${condition}:${parts.map((p) => p.replaceAll("\\", "\\\\").replaceAll("|", "\\|")).join("|")}`

/**
 * The findings a run should emit — those whose key starts an episode — with the step, so the
 * caller stores `step.active` and fires each finding once per episode. Findings sharing a key
 * are emitted once (the first).
 */
export const startedFindings = <A>(active: ReadonlySet<string>, findings: ReadonlyArray<A>, keyOf: (a: A) => string): { readonly emit: ReadonlyArray<A>; readonly step: EpisodeStep } => {
  const step = nextEpisodes(active, findings.map(keyOf))
  const starting = new Set(step.started)
  const emit = findings.filter((f) => {
    const k = keyOf(f)
    return starting.delete(k)
  })
  return { emit, step }
}

/** The stored form of an active set, for an event field: a sorted list of distinct keys. */
export const ActiveEpisodes = Schema.Array(Schema.String)
export type ActiveEpisodes = typeof ActiveEpisodes.Type

/** An active set as stored: sorted and distinct, so equal sets store as equal JSON. */
export const toStoredEpisodes = (active: ReadonlySet<string>): ActiveEpisodes => [...active].sort()

/** The active set of a stored list (duplicates collapse); an absent list is no active episode. */
export const fromStoredEpisodes = (stored: ActiveEpisodes | undefined): ReadonlySet<string> => new Set(stored ?? [])
