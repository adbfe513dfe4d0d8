/**
 * `JobSteps` over the Shopify Admin API (`adapters/shopify`). The snapshot of the products a
 * job targets — with each one's value before the job — is stored in `job_snapshots` while
 * the bulk query's JSONL streams in; mutation chunks are rebuilt from it deterministically
 * (so a chunk can be re-uploaded after a crash), and an undo job restores from the original
 * job's snapshot: `metafieldsSet` where a value existed, `metafieldsDelete` where none did.
 */
import { Effect, Layer, Option, Semaphore, Stream } from "effect"
import { DatabaseMode } from "../../adapters/postgres/Database.ts"
import { SqlClient } from "effect/sql"
import { readFile, rm } from "node:fs/promises"
import type { Job } from "../../domain/jobs/index.ts"
import {
  METAFIELDS_DELETE_MUTATION,
  METAFIELDS_SET_MUTATION,
  metafieldsDeleteLine,
  metafieldsSetLine,
  parseMutationResults,
  parseProductSnapshot,
  type ProductSnapshot,
  productMetafieldSnapshotQuery,
  ShopifyAdmin
} from "../../adapters/shopify/index.ts"
import { JobSteps, type OperationStatus, StepPermanent, StepTransient } from "./JobSteps.ts"

/** Largest file a chunk may be (Shopify's cap is 100 MB; the seed keeps 5 MB of margin). */
export const CHUNK_BYTES = 95 * 1024 * 1024

interface SnapshotRow {
  readonly ordinal: number
  readonly product_id: string
  readonly prev_value: string | null
  readonly prev_type: string | null
}

interface ChunkSpec {
  readonly kind: "set" | "delete"
  readonly from: number
  readonly to: number
  readonly lines: number
  readonly bytes: number
}

const toStepError = (error: { readonly _tag: string; readonly message?: string; readonly code?: string; readonly retryAfterMs?: number }) => {
  const message = error.message ?? error._tag
  switch (error._tag) {
    case "ShopifyThrottled":
      return new StepTransient({ reason: "RATE_LIMITED", message, retryAfterMs: error.retryAfterMs ?? null })
    case "ShopifyUnavailable":
      return new StepTransient({ reason: "SHOPIFY_UNAVAILABLE", message, retryAfterMs: null })
    case "BulkOperationFailed":
      return new StepPermanent({ code: "BULK_OP_FAILED", message })
    case "ShopifyPermanentError":
      return new StepPermanent({
        code: error.code === "UNAUTHORIZED" || error.code === "NOT_INSTALLED" || error.code === "ACCESS_DENIED"
          ? "ACCESS_DENIED"
          : error.code === "INVALID" ? "INVALID_QUERY" : "INTERNAL_ERROR",
        message
      })
    case "SqlError":
      return new StepTransient({ reason: "NETWORK_ERROR", message: `database error: ${String((error as { cause?: { message?: string } }).cause?.message ?? message)}`, retryAfterMs: null })
    default:
      return new StepPermanent({ code: "INTERNAL_ERROR", message })
  }
}

const clientIdentifier = (jobId: string, chunkIndex: number) => `job_${jobId}_chunk_${chunkIndex}`

export const layer = Layer.effect(
  JobSteps,
  Effect.gen(function*() {
    const admin = yield* ShopifyAdmin
    const sql = yield* SqlClient.SqlClient
    const mode = yield* DatabaseMode
    /** In-process claims by chunk, with how many callers hold or wait for each. */
    const submitting = new Map<string, { readonly semaphore: Semaphore.Semaphore; users: number }>()

    /**
     * At most one look-up + submit of a chunk runs at a time, so the look-up always sees the
     * other's mutation: in this process (the watchdog re-drives a step that went quiet, while
     * its first submit may still be running) and across processes (a worker that lost the
     * partition while its submit ran, beside the new owner's) — a transaction-scoped advisory
     * lock held across the Shopify calls. The embedded database is one process with one
     * connection: the in-process claim is all it needs, and no transaction is held open.
     */
    const claimSubmit = <A, E, R>(key: string, effect: Effect.Effect<A, E, R>) =>
      Effect.gen(function*() {
        let claim = submitting.get(key)
        if (claim === undefined) {
          claim = { semaphore: Semaphore.makeUnsafe(1), users: 0 } // no yield between look-up and set
          submitting.set(key, claim)
        }
        const held = claim
        held.users++
        const locked = mode.kind === "postgres"
          ? sql.withTransaction(Effect.andThen(sql`SELECT pg_advisory_xact_lock(hashtext('sumeru.job_submit'), hashtext(${key}))`, effect))
          : effect
        return yield* held.semaphore.withPermits(1)(locked).pipe(
          Effect.ensuring(Effect.sync(() => {
            if (--held.users === 0) submitting.delete(key)
          }))
        )
      })

    /** The job whose snapshot drives this job's lines: itself, or the job an undo reverts. */
    const snapshotJob = (job: Job) => job.undoOf?.jobId ?? job.jobId

    const lineOf = (job: Job, row: SnapshotRow): { kind: "set" | "delete"; text: string } => {
      const target = { namespace: job.input.namespace, key: job.input.key }
      if (job.undoOf === null) {
        return { kind: "set", text: metafieldsSetLine(row.product_id, { ...target, type: job.input.type, value: job.input.value }) }
      }
      return row.prev_value === null || row.prev_type === null
        ? { kind: "delete", text: metafieldsDeleteLine(row.product_id, target) }
        : { kind: "set", text: metafieldsSetLine(row.product_id, { ...target, type: row.prev_type, value: row.prev_value }) }
    }

    const rows = (jobId: string, from: number, to: number) =>
      Stream.paginate(from, (next: number) =>
        Effect.map(
          sql<SnapshotRow>`SELECT ordinal, product_id, prev_value, prev_type FROM job_snapshots
                            WHERE job_id = ${jobId} AND ordinal >= ${next} AND ordinal <= ${to} ORDER BY ordinal LIMIT 5000`,
          (page) => [page, page.length < 5000 ? Option.none<number>() : Option.some(page[page.length - 1]!.ordinal + 1)] as const
        ))

    /**
     * The job's chunks, in order: consecutive snapshot rows of one kind (set/delete), cut
     * before a chunk would exceed `CHUNK_BYTES`. Deterministic, so any worker derives the same.
     */
    const plan = (job: Job) =>
      Effect.gen(function*() {
        const chunks: Array<ChunkSpec> = []
        let current: { kind: "set" | "delete"; from: number; to: number; lines: number; bytes: number } | undefined
        const order = job.undoOf === null ? ["set"] as const : ["set", "delete"] as const
        for (const kind of order) {
          yield* Stream.runForEach(rows(snapshotJob(job), 0, 2_147_483_647), (row) =>
            Effect.sync(() => {
              const line = lineOf(job, row)
              if (line.kind !== kind) return
              const size = Buffer.byteLength(line.text) + 1
              if (current === undefined || current.kind !== kind || current.bytes + size > CHUNK_BYTES) {
                if (current !== undefined) chunks.push(current)
                current = { kind, from: row.ordinal, to: row.ordinal, lines: 0, bytes: 0 }
              }
              current.to = row.ordinal
              current.lines++
              current.bytes += size
            }))
          if (current !== undefined) {
            chunks.push(current)
            current = undefined
          }
        }
        return chunks
      })

    const chunkBody = (job: Job, spec: ChunkSpec) => {
      const encoder = new TextEncoder()
      return rows(snapshotJob(job), spec.from, spec.to).pipe(
        Stream.map((row) => lineOf(job, row)),
        Stream.filter((line) => line.kind === spec.kind),
        Stream.map((line) => encoder.encode(`${line.text}\n`))
      )
    }

    const submitQuery = (shop: string, job: Job) =>
      admin.startBulkQuery(shop, productMetafieldSnapshotQuery(job.input.queryString, { namespace: job.input.namespace, key: job.input.key })).pipe(
        Effect.mapError(toStepError)
      )

    const operationStatus = (shop: string, id: string) =>
      admin.bulkOperation(shop, id).pipe(
        Effect.map((op): OperationStatus => ({
          status: op.status,
          errorCode: op.errorCode,
          url: op.url,
          partialDataUrl: op.partialDataUrl,
          objectCount: op.objectCount
        })),
        Effect.mapError(toStepError)
      )

    const storeSnapshot = (shop: string, job: Job, url: string | null) =>
      Effect.gen(function*() {
        yield* sql`DELETE FROM job_snapshots WHERE job_id = ${job.jobId}`
        if (job.undoOf !== null) {
          // an undo job targets exactly the products of the job it reverts
          const [row] = yield* sql<{ n: number }>`SELECT count(*)::int AS n FROM job_snapshots WHERE job_id = ${job.undoOf.jobId}`
          return { matched: row!.n, truncated: false, snapshotRef: job.undoOf.jobId, chunks: 0 }
        }
        let seen = 0
        let truncated = false
        if (url !== null) {
          const batch: Array<SnapshotRow> = []
          const flush = Effect.suspend(() => {
            if (batch.length === 0) return Effect.void
            const rowsToWrite = batch.splice(0, batch.length)
            // JSON, not arrays: the driver cannot type an array whose values are all null
            return sql`
              INSERT INTO job_snapshots (job_id, shop, ordinal, product_id, prev_value, prev_type)
              SELECT ${job.jobId}::uuid, ${shop}, x.ordinal, x.product_id, x.prev_value, x.prev_type
                FROM jsonb_to_recordset(${JSON.stringify(rowsToWrite)}::jsonb)
                  AS x(ordinal integer, product_id text, prev_value text, prev_type text)`.pipe(Effect.asVoid)
          })
          yield* admin.downloadJsonl(url).pipe(
            Stream.map(parseProductSnapshot),
            Stream.filter((s): s is ProductSnapshot => s !== undefined),
            // stop reading after max_items (+1 to know whether more matched)
            Stream.take(job.input.maxItems + 1),
            Stream.runForEach((s) =>
              Effect.gen(function*() {
                if (seen >= job.input.maxItems) {
                  truncated = true
                  return
                }
                batch.push({ ordinal: seen, product_id: s.id, prev_value: s.previous?.value ?? null, prev_type: s.previous?.type ?? null })
                seen++
                if (batch.length >= 1000) yield* flush
              }))
          )
          yield* flush
        }
        return { matched: seen, truncated, snapshotRef: job.jobId, chunks: 0 }
      }).pipe(Effect.mapError(toStepError))

    const uploadChunk = (shop: string, job: Job, chunkIndex: number) =>
      Effect.gen(function*() {
        const chunks = yield* plan(job)
        const spec = chunks[chunkIndex]
        if (spec === undefined) return yield* new StepPermanent({ code: "INTERNAL_ERROR", message: `chunk ${chunkIndex} does not exist` })
        const stagedUploadPath = yield* admin.stagedUpload(shop, chunkBody(job, spec), spec.bytes)
        return { stagedUploadPath, lines: spec.lines, bytes: spec.bytes, totalChunks: chunks.length }
      }).pipe(Effect.mapError((e) => e instanceof StepPermanent ? e : toStepError(e)))

    const submitChunk = (shop: string, job: Job, chunkIndex: number, stagedUploadPath: string) =>
      claimSubmit(clientIdentifier(job.jobId, chunkIndex), Effect.gen(function*() {
        const id = clientIdentifier(job.jobId, chunkIndex)
        // Never twice: this chunk's mutation may already exist, running or finished (the worker
        // died after submitting, before recording it).
        const existing = yield* admin.findBulkMutation(shop, id)
        if (existing !== null) return existing.id
        const chunks = yield* plan(job)
        const spec = chunks[chunkIndex]
        const document = spec?.kind === "delete" ? METAFIELDS_DELETE_MUTATION : METAFIELDS_SET_MUTATION
        return yield* admin.startBulkMutation(shop, document, stagedUploadPath, id)
      })).pipe(Effect.mapError(toStepError))

    const readChunkResult = (shop: string, job: Job, chunkIndex: number, url: string | null) =>
      Effect.gen(function*() {
        const chunks = yield* plan(job)
        const spec = chunks[chunkIndex]
        if (url === null) return { updated: 0, failed: spec?.lines ?? 0, errorLines: ["no result file: the bulk mutation produced no output"] }
        // which product each input line was about, so error lines name it
        const owners = spec === undefined ? [] : yield* Stream.runCollect(rows(snapshotJob(job), spec.from, spec.to).pipe(
          Stream.filter((row) => lineOf(job, row).kind === spec.kind),
          Stream.map((row) => row.product_id)
        ))
        const results = yield* parseMutationResults(admin.downloadJsonl(url), {
          expectedLines: spec?.lines ?? 0,
          ownerOf: (n) => owners[n]
        })
        if (results.errorLinesPath !== undefined) {
          const text = yield* Effect.promise(() => readFile(results.errorLinesPath!, "utf8"))
          const lines = text.split("\n").filter((l) => l.length > 0)
          yield* sql`DELETE FROM job_error_lines WHERE job_id = ${job.jobId} AND chunk_index = ${chunkIndex}`
          for (let i = 0; i < lines.length; i += 1000) {
            const part = lines.slice(i, i + 1000)
            yield* sql`
              INSERT INTO job_error_lines (job_id, shop, chunk_index, line_number, line)
              SELECT ${job.jobId}::uuid, ${shop}, ${chunkIndex}, n, l
                FROM unnest(${part.map((_, k) => i + k)}::int[], ${part}::text[]) AS x(n, l)`
          }
          yield* Effect.promise(() => rm(results.errorLinesPath!, { force: true }))
        }
        const missing = results.missingLines ?? 0
        return {
          updated: results.updated,
          failed: results.failed + missing,
          errorLines: results.errorPreview.split("\n").filter((l) => l.length > 0)
        }
      }).pipe(Effect.mapError(toStepError))

    return JobSteps.of({ submitQuery, operationStatus, storeSnapshot, uploadChunk, submitChunk, readChunkResult })
  })
)
