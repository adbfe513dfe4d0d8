/**
 * A job's snapshot read page by page with an ordered index scan, whatever the statistics say.
 *
 * `JobArtefacts.snapshot` reads a job's products (and its after-state and undo plan, stored
 * the same way) 5,000 at a time: `ordinal >= next … ORDER BY ordinal LIMIT 5000`. Right after
 * a snapshot is stored the table has no statistics for it, and PostgreSQL estimated a dozen
 * matching rows: it chose a bitmap scan of every row from `next` to the end, then a sort, for
 * each page. Reading a job's snapshot cost quadratic time, once per step that plans the job's
 * chunks: 18.5 s for 1,000,000 products in `npm run bench:bulk` (the job's steps, ten times a
 * job's cap of 100,000), 2 s for 300,000; 25 ms a page at 900,000 where the ordered scan
 * reads just its 5,000 rows in 1.7 ms.
 *
 * `job_snapshot_page` runs the same query with bitmap scans, sequential scans and sorts off,
 * so it walks the primary key (job_id, ordinal) in order and stops at the page's end.
 * Row-level security applies as before (the function runs as its caller).
 */
import { Effect } from "effect"
import { SqlClient } from "effect/sql"

export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* sql.unsafe(`
    CREATE FUNCTION job_snapshot_page(p_job uuid, p_from integer, p_to integer, p_limit integer)
      RETURNS TABLE (ordinal integer, product_id text, prev_value text, prev_type text)
      LANGUAGE sql STABLE
      SET enable_bitmapscan = off SET enable_seqscan = off SET enable_sort = off
    AS $fn$
      SELECT s.ordinal, s.product_id, s.prev_value, s.prev_type FROM job_snapshots s
       WHERE s.job_id = p_job AND s.ordinal >= p_from AND s.ordinal <= p_to
       ORDER BY s.ordinal LIMIT p_limit
    $fn$`)
})
