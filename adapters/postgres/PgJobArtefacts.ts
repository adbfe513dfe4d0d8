/**
 * `JobArtefacts` (src/jobs/JobArtefacts.ts) on PostgreSQL: the snapshot in `job_snapshots`,
 * the chunks' error lines in `job_error_lines`, and a chunk's submit lock as a
 * transaction-scoped advisory lock (`pg_advisory_xact_lock('sumeru.job_submit', key)`) held
 * across the Shopify calls it guards.
 */
import { Effect, Layer, Option, Stream } from "effect"
import { SqlClient } from "effect/sql"
import type { SqlError } from "effect/sql/SqlError"
import { JobArtefacts, type SnapshotEntry } from "../../src/jobs/JobArtefacts.ts"
import { DatabaseMode } from "./Database.ts"

interface SnapshotRow {
  readonly ordinal: number
  readonly product_id: string
  readonly prev_value: string | null
  readonly prev_type: string | null
}

const entryOf = (row: SnapshotRow): SnapshotEntry => ({
  ordinal: row.ordinal,
  productId: row.product_id,
  prevValue: row.prev_value,
  prevType: row.prev_type
})

export const make = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const mode = yield* DatabaseMode

  const clearSnapshot = (jobId: string) => sql`DELETE FROM job_snapshots WHERE job_id = ${jobId}`.pipe(Effect.asVoid)

  const snapshotSize = (jobId: string) =>
    Effect.map(
      sql<{ n: number }>`SELECT count(*)::int AS n FROM job_snapshots WHERE job_id = ${jobId}`,
      ([row]) => row!.n
    )

  const writeSnapshot = (shop: string, jobId: string, entries: ReadonlyArray<SnapshotEntry>) => {
    if (entries.length === 0) return Effect.void
    const rows: Array<SnapshotRow> = entries.map((e) => ({ ordinal: e.ordinal, product_id: e.productId, prev_value: e.prevValue, prev_type: e.prevType }))
    // JSON, not arrays: the driver cannot type an array whose values are all null
    return sql`
      INSERT INTO job_snapshots (job_id, shop, ordinal, product_id, prev_value, prev_type)
      SELECT ${jobId}::uuid, ${shop}, x.ordinal, x.product_id, x.prev_value, x.prev_type
        FROM jsonb_to_recordset(${JSON.stringify(rows)}::jsonb)
          AS x(ordinal integer, product_id text, prev_value text, prev_type text)
      ON CONFLICT (job_id, ordinal) DO UPDATE
        SET product_id = excluded.product_id, prev_value = excluded.prev_value, prev_type = excluded.prev_type`.pipe(Effect.asVoid)
  }

  const snapshot = (jobId: string, from: number, to: number) =>
    Stream.paginate(from, (next: number) =>
      Effect.map(
        // an ordered walk of the primary key, even before the table has statistics (migration 0020)
        sql<SnapshotRow>`SELECT * FROM job_snapshot_page(${jobId}::uuid, ${next}, ${to}, 5000)`,
        (page) => [page.map(entryOf), page.length < 5000 ? Option.none<number>() : Option.some(page[page.length - 1]!.ordinal + 1)] as const
      ))

  const replaceErrorLines = (shop: string, jobId: string, chunkIndex: number, lines: ReadonlyArray<string>) =>
    Effect.gen(function*() {
      yield* sql`DELETE FROM job_error_lines WHERE job_id = ${jobId} AND chunk_index = ${chunkIndex}`
      for (let i = 0; i < lines.length; i += 1000) {
        const part = lines.slice(i, i + 1000)
        yield* sql`
          INSERT INTO job_error_lines (job_id, shop, chunk_index, line_number, line)
          SELECT ${jobId}::uuid, ${shop}, ${chunkIndex}, n, l
            FROM unnest(${part.map((_, k) => i + k)}::int[], ${part}::text[]) AS x(n, l)`
      }
    })

  /**
   * A transaction-scoped advisory lock held across `effect` (the Shopify calls of a chunk's
   * submit), so a worker that lost the partition while its submit ran and the new owner never
   * look up and submit the same chunk side by side. The embedded database is one process with
   * one connection: the caller's in-process claim is all it needs, and no transaction is held open.
   */
  const withSubmitLock = <A, E, R>(key: string, effect: Effect.Effect<A, E, R>): Effect.Effect<A, E | SqlError, R> =>
    mode.kind === "postgres"
      ? sql.withTransaction(Effect.andThen(sql`SELECT pg_advisory_xact_lock(hashtext('sumeru.job_submit'), hashtext(${key}))`, effect))
      : effect

  return JobArtefacts.of({ clearSnapshot, snapshotSize, writeSnapshot, snapshot, replaceErrorLines, withSubmitLock })
})

export const layer: Layer.Layer<JobArtefacts, never, SqlClient.SqlClient | DatabaseMode> = Layer.effect(JobArtefacts, make)
