/**
 * `JobRequests` (src/jobs/JobRequests.ts) on PostgreSQL (`job_requests`): a shop's
 * reservations serialize on a transaction-scoped advisory lock of the shop, so two identical
 * requests racing never both create a job.
 */
import { Duration, Effect, Layer } from "effect"
import { SqlClient } from "effect/sql"
import { JobRequests, type RequestKeys } from "../../src/jobs/JobRequests.ts"

interface RequestRow {
  readonly job_id: string
  readonly published: boolean
}

export const make = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient

  const reserve = (shop: string, keys: RequestKeys, jobId: string, window: Duration.Duration) => {
    const windowSeconds = Duration.toSeconds(window)
    const { inputKey, runKey } = keys
    return sql.withTransaction(Effect.gen(function*() {
      // One shop's reservations serialize; other shops are untouched.
      yield* sql`SELECT pg_advisory_xact_lock(hashtext('sumeru.job_requests'), hashtext(${shop}))`
      if (runKey !== null) {
        const run = yield* sql<RequestRow>`
          SELECT job_id, published FROM job_requests WHERE shop = ${shop} AND key = ${runKey}`
        if (run.length > 0) return { kind: "replayed" as const, jobId: run[0]!.job_id, published: run[0]!.published }
      }
      const dup = yield* sql<RequestRow>`
        SELECT job_id, published FROM job_requests
         WHERE shop = ${shop} AND key = ${inputKey} AND created_at > now() - make_interval(secs => ${windowSeconds})`
      if (dup.length > 0) {
        return { kind: dup[0]!.published ? "duplicate" as const : "replayed" as const, jobId: dup[0]!.job_id, published: dup[0]!.published }
      }
      yield* sql`
        INSERT INTO job_requests (shop, key, job_id) VALUES (${shop}, ${inputKey}, ${jobId})
        ON CONFLICT (shop, key) DO UPDATE SET job_id = excluded.job_id, published = false, created_at = now()`
      if (runKey !== null) {
        yield* sql`INSERT INTO job_requests (shop, key, job_id) VALUES (${shop}, ${runKey}, ${jobId})`
      }
      return { kind: "created" as const, jobId, published: false }
    }))
  }

  const markPublished = (shop: string, jobId: string) =>
    sql`UPDATE job_requests SET published = true WHERE shop = ${shop} AND job_id = ${jobId}`.pipe(Effect.asVoid)

  return JobRequests.of({ reserve, markPublished })
})

export const layer: Layer.Layer<JobRequests, never, SqlClient.SqlClient> = Layer.effect(JobRequests, make)
