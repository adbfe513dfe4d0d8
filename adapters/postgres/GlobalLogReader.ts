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
 * Pass the previous call's `gap` back in so a gap can be proved permanent. Gaps proved here
 * are recorded in `log_gaps`, so no reader has to prove them again.
 */
export const findHorizon = (
  sql: SqlClient,
  after: number,
  limit: number,
  previousGap: GapObservation | null
): Effect.Effect<Horizon, SqlError> =>
  Effect.gen(function*() {
    const rows = yield* sql<HorizonRow>`
      SELECT array(
               SELECT p FROM (
                 (SELECT position AS p FROM events WHERE position > ${after} ORDER BY position LIMIT ${limit})
                 UNION ALL
                 (SELECT position AS p FROM log_gaps WHERE position > ${after} ORDER BY position LIMIT ${limit})
               ) u ORDER BY p LIMIT ${limit}) AS positions,
             pg_snapshot_xmin(pg_current_snapshot())::text AS xmin,
             pg_snapshot_xmax(pg_current_snapshot())::text AS xmax`
    const { horizon, proved } = walk(after, rows[0]!, previousGap)
    for (const range of proved) {
      yield* sql`INSERT INTO log_gaps (position) SELECT generate_series(${range.from}::bigint, ${range.to}::bigint)
                 ON CONFLICT DO NOTHING`
    }
    return horizon
  })

interface Walked {
  readonly horizon: Horizon
  readonly proved: ReadonlyArray<{ readonly from: number; readonly to: number }>
}

const walk = (after: number, row: HorizonRow, previousGap: GapObservation | null): Walked => {
  const xmin = BigInt(row.xmin)
  const xmax = BigInt(row.xmax)
  const proved: Array<{ from: number; to: number }> = []
  let expected = after + 1
  let safe = after
  let known = previousGap
  for (const raw of row.positions) {
    const p = Number(raw)
    if (p === expected) {
      safe = p
      expected++
      continue
    }
    // Positions expected .. p-1 are not visible. Their transactions drew them before p was
    // drawn, so they had ids below this snapshot's xmax: once every transaction below the
    // xmax recorded at first sight has finished, they can never appear.
    const observation = known !== null && known.from === expected ? known : { from: expected, to: p - 1, xmax }
    if (xmin >= observation.xmax) {
      const to = Math.min(observation.to, p - 1)
      proved.push({ from: expected, to })
      known = null
      if (to === p - 1) {
        safe = p
        expected = p + 1
        continue
      }
      safe = to
      return { horizon: { safeUpTo: safe, gap: { from: to + 1, to: p - 1, xmax }, blocked: true }, proved }
    }
    return { horizon: { safeUpTo: safe, gap: observation, blocked: true }, proved }
  }
  return { horizon: { safeUpTo: safe, gap: null, blocked: false }, proved }
}
