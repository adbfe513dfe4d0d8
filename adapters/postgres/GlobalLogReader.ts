/**
 * Gap-safe reading of the global log (invariant 5).
 *
 * Positions come from a sequence, so a transaction can hold position 7 while another that
 * drew position 8 commits first. A reader that checkpointed 8 would never see 7. This
 * reader only moves past a missing position once it has *proved* that position will never
 * appear: it remembers the snapshot's `xmax` when it first saw the gap, and once every
 * transaction older than that has finished (`xmin >= xmax`) a still-missing position
 * belongs to a rolled-back transaction. `append_events` takes its transaction id before
 * drawing positions, which is what makes the proof hold. No timeouts, no guesses.
 */
import { Effect } from "effect"
import type { SqlClient } from "effect/sql/SqlClient"
import type { SqlError } from "effect/sql/SqlError"

/** A run of missing positions seen at a snapshot whose `xmax` was recorded. */
export interface GapObservation {
  readonly from: number
  readonly to: number
  readonly xmax: bigint
}

export interface Horizon {
  /** Every position ≤ this is either committed and visible, or proved permanently absent. */
  readonly safeUpTo: number
  /** The open gap that stopped the reader, if any (keep it for the next call). */
  readonly gap: GapObservation | null
  /** True when positions beyond `safeUpTo` exist but are blocked by an open gap. */
  readonly blocked: boolean
}

interface HorizonRow {
  readonly positions: ReadonlyArray<bigint | number | string>
  readonly xmin: string
  readonly xmax: string
}

/**
 * Computes how far past `after` the log may be read, scanning at most `limit` positions.
 * Pass the previous call's `gap` back in so a gap can be proved permanent.
 */
export const findHorizon = (
  sql: SqlClient,
  after: number,
  limit: number,
  previousGap: GapObservation | null
): Effect.Effect<Horizon, SqlError> =>
  Effect.map(
    sql<HorizonRow>`
      SELECT array(SELECT position FROM events WHERE position > ${after} ORDER BY position LIMIT ${limit}) AS positions,
             pg_snapshot_xmin(pg_current_snapshot())::text AS xmin,
             pg_snapshot_xmax(pg_current_snapshot())::text AS xmax`,
    (rows) => walk(after, rows[0]!, previousGap)
  )

const walk = (after: number, row: HorizonRow, previousGap: GapObservation | null): Horizon => {
  const xmin = BigInt(row.xmin)
  const xmax = BigInt(row.xmax)
  let expected = after + 1
  let safe = after
  for (const raw of row.positions) {
    const p = Number(raw)
    if (p === expected) {
      safe = p
      expected++
      continue
    }
    // positions expected .. p-1 are not visible
    if (previousGap !== null && previousGap.from === expected && xmin >= previousGap.xmax) {
      if (previousGap.to >= p - 1) {
        safe = p
        expected = p + 1
        previousGap = null
        continue
      }
      // only the proved part may be skipped; the rest is a new observation
      expected = previousGap.to + 1
      safe = previousGap.to
      return { safeUpTo: safe, gap: { from: expected, to: p - 1, xmax }, blocked: true }
    }
    const gap = previousGap !== null && previousGap.from === expected && previousGap.to === p - 1
      ? previousGap
      : { from: expected, to: p - 1, xmax }
    return { safeUpTo: safe, gap, blocked: true }
  }
  return { safeUpTo: safe, gap: null, blocked: false }
}
