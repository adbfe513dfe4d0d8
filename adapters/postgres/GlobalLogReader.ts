/**
 * Gap-safe reading of the global log (invariant 5).
 *
 * Positions come from a sequence, so a transaction can hold position 7 while another that
 * drew position 8 commits first. A reader that checkpointed 8 would never see 7. This
 * reader only moves past a missing position once it has *proved* that position will never
 * appear:
 *
 * 1. When it first sees the gap (statement 1), it records the transactions of *this
 *    database* that hold a transaction id right then (`pg_stat_activity.backend_xid`, plus
 *    prepared transactions). `append_events` takes its transaction id before drawing
 *    positions, so the transaction that drew the missing position either is one of them or
 *    had already finished when they were read.
 * 2. In a later statement (a later snapshot), if none of the recorded transactions is still
 *    in progress *according to that snapshot*, the drawer has finished before the snapshot
 *    was taken: had it committed, its rows would be visible. Still missing means rolled back.
 *
 * Transactions in other databases of the cluster never hold our positions, so a long
 * transaction elsewhere (another application, an operator's session) cannot stall the
 * readers. Transaction ids are not assigned in completion order, so neither the snapshot's
 * `xmin` nor its `xmax` bounds the drawer's id; the proof therefore never relies on them
 * and never concludes within the statement that first saw the gap. No timeouts, no guesses.
 */
import { Effect, Option } from "effect"
import type { SqlClient } from "effect/sql/SqlClient"
import type { SqlError } from "effect/sql/SqlError"
import type { GapObservation, LogBacklog, OpenTransaction } from "../../src/eventstore/EventStore.ts"

// A gap and the backlog are part of the event store's contract (`src/eventstore/EventStore.ts`).
export type { GapObservation, LogBacklog, OpenTransaction }

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
  readonly snapshot: string
  /** Only read when the window has a gap (reading `pg_stat_activity` is not free). */
  readonly candidates: ReadonlyArray<string | number> | null
}

/**
 * Computes how far past `after` the log may be read, scanning at most `limit` positions.
 * Pass the previous call's `gap` back in so a gap can be proved permanent. A gap first seen
 * in this call is checked once more with a second statement, so a reader that calls once
 * (a replay, `head`) is not stopped by a long-settled rollback. Gaps proved here are
 * recorded in `log_gaps`, so no reader has to prove them again.
 */
export const findHorizon = (
  sql: SqlClient,
  after: number,
  limit: number,
  previousGap: GapObservation | null
): Effect.Effect<Horizon, SqlError> =>
  Effect.gen(function*() {
    const first = yield* horizonOnce(sql, after, limit, previousGap)
    const gap = first.gap
    if (gap === null || gap === previousGap || gap.candidates === null) return first
    return yield* horizonOnce(sql, first.safeUpTo, limit, gap)
  })

const horizonOnce = (
  sql: SqlClient,
  after: number,
  limit: number,
  previousGap: GapObservation | null
): Effect.Effect<Horizon, SqlError> =>
  Effect.gen(function*() {
    // `window` is sorted and duplicate-free (a proved gap never gets an event), so it has a
    // gap exactly when its last position is not `after + cardinality`.
    const rows = yield* sql<HorizonRow>`
      SELECT w.positions,
             pg_current_snapshot()::text AS snapshot,
             CASE WHEN cardinality(w.positions) > 0
                   AND w.positions[cardinality(w.positions)] - ${after}::bigint <> cardinality(w.positions)
               THEN array(
                 SELECT backend_xid::text FROM pg_stat_activity
                  WHERE datname = current_database()
                    AND backend_xid IS NOT NULL AND pid <> pg_backend_pid()
                 UNION ALL
                 SELECT transaction::text FROM pg_prepared_xacts WHERE database = current_database())
             END AS candidates
        FROM (SELECT array(
                SELECT p FROM (
                  (SELECT position AS p FROM events WHERE position > ${after} ORDER BY position LIMIT ${limit})
                  UNION ALL
                  (SELECT position AS p FROM log_gaps WHERE position > ${after} ORDER BY position LIMIT ${limit})
                ) u ORDER BY p LIMIT ${limit}) AS positions) w`
    // Inside a transaction PostgreSQL answers `pg_stat_activity` from a copy taken at its
    // first use in that transaction, possibly before this snapshot: too old for the proof.
    const inTransaction = Option.isSome(yield* Effect.serviceOption(sql.transactionService))
    const { horizon, proved } = walk(after, rows[0]!, previousGap, !inTransaction)
    for (const range of proved) {
      yield* sql`INSERT INTO log_gaps (position) SELECT generate_series(${range.from}::bigint, ${range.to}::bigint)
                 ON CONFLICT DO NOTHING`
    }
    return horizon
  })

/** A snapshot as `pg_current_snapshot()::text` prints it: `xmin:xmax:xip,xip,…`. */
export interface Snapshot {
  readonly xmax: bigint
  readonly inProgress: ReadonlySet<bigint>
}

export const parseSnapshot = (text: string): Snapshot => {
  const [, xmax, xip] = text.split(":")
  return {
    xmax: BigInt(xmax!),
    inProgress: new Set(xip === undefined || xip === "" ? [] : xip.split(",").map((x) => BigInt(x)))
  }
}

const TWO_32 = 1n << 32n
const TWO_31 = 1n << 31n

/**
 * Whether a 32-bit transaction id is still running according to the snapshot. Its epoch is
 * the one that puts it nearest the snapshot's `xmax` (it was running moments ago, far less
 * than 2^31 transactions back). Ids at or above `xmax` are in progress by definition.
 */
export const inProgressIn = (snapshot: Snapshot, xid: number): boolean => {
  const low = snapshot.xmax % TWO_32
  let delta = (BigInt(xid) - low) % TWO_32
  if (delta < 0n) delta += TWO_32
  if (delta >= TWO_31) delta -= TWO_32
  const full = snapshot.xmax + delta
  return full >= snapshot.xmax || snapshot.inProgress.has(full)
}

interface Walked {
  readonly horizon: Horizon
  readonly proved: ReadonlyArray<{ readonly from: number; readonly to: number }>
}

const walk = (after: number, row: HorizonRow, previousGap: GapObservation | null, fresh: boolean): Walked => {
  const snapshot = parseSnapshot(row.snapshot)
  const candidates = fresh ? (row.candidates ?? []).map(Number) : null
  const proved: Array<{ from: number; to: number }> = []
  let expected = after + 1
  let safe = after
  for (const raw of row.positions) {
    const p = Number(raw)
    if (p === expected) {
      safe = p
      expected++
      continue
    }
    // Positions expected .. p-1 are not visible. Only a gap observed by an earlier statement
    // can be proved here (see the header): its drawer is finished once none of the
    // candidates recorded then is in progress in this statement's snapshot.
    const known = previousGap !== null && previousGap.from === expected && previousGap.candidates !== null
      ? previousGap as GapObservation & { readonly candidates: ReadonlyArray<number> }
      : null
    if (known === null || known.candidates.some((xid) => inProgressIn(snapshot, xid))) {
      const gap = known ?? { from: expected, to: p - 1, candidates }
      return { horizon: { safeUpTo: safe, gap, blocked: true }, proved }
    }
    // Positions past the known gap's end may have been drawn after it was observed, by
    // transactions not among its candidates: they form a new gap, observed now.
    const to = Math.min(known.to, p - 1)
    proved.push({ from: expected, to })
    previousGap = null
    if (to < p - 1) {
      safe = to
      return { horizon: { safeUpTo: to, gap: { from: to + 1, to: p - 1, candidates }, blocked: true }, proved }
    }
    safe = p
    expected = p + 1
  }
  return { horizon: { safeUpTo: safe, gap: null, blocked: false }, proved }
}

/**
 * Describes the log past `safePosition` (the head a gap-safe reader may reach, see
 * `EventStore.head`): how many committed events wait behind the first gap there, and which
 * open transactions may hold it. A reader blocked there is invisible in `safe - checkpoint`;
 * operators see it here as lag, and see what holds it. One statement when nothing waits.
 */
export const logBacklog = (sql: SqlClient, safePosition: number): Effect.Effect<LogBacklog, SqlError> =>
  Effect.gen(function*() {
    const rows = yield* sql<{ blocked: bigint | number; next: bigint | number | null; max: bigint | number | null }>`
      SELECT (SELECT count(*) FROM events WHERE position > ${safePosition}) AS blocked,
             (SELECT min(position) FROM events WHERE position > ${safePosition}) AS next,
             (SELECT max(position) FROM events) AS max`
    const blockedEvents = Number(rows[0]?.blocked ?? 0)
    const committedHead = Math.max(safePosition, Number(rows[0]?.max ?? 0))
    if (blockedEvents === 0) return { committedHead, blockedEvents, gap: null, openTransactions: [] }
    const next = Number(rows[0]!.next)
    const open = yield* sql<{ pid: number; app: string | null; addr: string | null; state: string | null; age: number }>`
      SELECT pid, nullif(application_name, '') AS app, host(client_addr) AS addr, state,
             extract(epoch FROM now() - xact_start)::float8 AS age
        FROM pg_stat_activity
       WHERE datname = current_database() AND backend_xid IS NOT NULL AND pid <> pg_backend_pid()
       ORDER BY xact_start
       LIMIT 5`
    return {
      committedHead,
      blockedEvents,
      gap: next > safePosition + 1 ? { from: safePosition + 1, to: next - 1 } : null,
      openTransactions: open.map((t) => ({
        pid: t.pid,
        applicationName: t.app,
        clientAddress: t.addr,
        state: t.state,
        ageSeconds: Math.max(0, Number(t.age))
      }))
    }
  })
