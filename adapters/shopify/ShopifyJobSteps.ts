/**
 * `JobSteps` (src/jobs/JobSteps.ts) over the Shopify Admin API. The snapshot of the products a
 * job targets — with each one's value before the job — is stored (`JobArtefacts`) while the
 * bulk query's JSONL streams in; mutation chunks are rebuilt from it deterministically (so a
 * chunk can be re-uploaded after a crash), and an undo job restores from the original job's
 * snapshot: `metafieldsSet` where a value existed, `metafieldsDelete` where none did.
 */
import { Effect, Layer, Semaphore, Stream } from "effect"
import { readFile, rm } from "node:fs/promises"
import type { Job } from "../../domain/jobs/index.ts"
import { JobArtefacts, type SnapshotEntry } from "../../src/jobs/JobArtefacts.ts"
import { JobSteps, type OperationStatus, StepPermanent, StepTransient } from "../../src/jobs/JobSteps.ts"
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
} from "./index.ts"

/** Largest file a chunk may be (Shopify's cap is 100 MB; the seed keeps 5 MB of margin). */
export const CHUNK_BYTES = 95 * 1024 * 1024

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

export const make = Effect.gen(function*() {
  const admin = yield* ShopifyAdmin
  const artefacts = yield* JobArtefacts
  /** In-process claims by chunk, with how many callers hold or wait for each. */
  const submitting = new Map<string, { readonly semaphore: Semaphore.Semaphore; users: number }>()

  /**
   * At most one look-up + submit of a chunk runs at a time, so the look-up always sees the
   * other's mutation: in this process (the watchdog re-drives a step that went quiet, while
   * its first submit may still be running) and across processes (a worker that lost the
   * partition while its submit ran, beside the new owner's) — the artefacts' submit lock, on
   * PostgreSQL a transaction-scoped advisory lock (`pg_advisory_xact_lock('sumeru.job_submit')`)
   * held across the Shopify calls. The embedded database is one process with one
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
      return yield* held.semaphore.withPermits(1)(artefacts.withSubmitLock(key, effect)).pipe(
        Effect.ensuring(Effect.sync(() => {
          if (--held.users === 0) submitting.delete(key)
        }))
      )
    })

  /** The job whose snapshot drives this job's lines: itself, or the job an undo reverts. */
  const snapshotJob = (job: Job) => job.undoOf?.jobId ?? job.jobId

  const lineOf = (job: Job, row: SnapshotEntry): { kind: "set" | "delete"; text: string } => {
    const target = { namespace: job.input.namespace, key: job.input.key }
    if (job.undoOf === null) {
      return { kind: "set", text: metafieldsSetLine(row.productId, { ...target, type: job.input.type, value: job.input.value }) }
    }
    return row.prevValue === null || row.prevType === null
      ? { kind: "delete", text: metafieldsDeleteLine(row.productId, target) }
      : { kind: "set", text: metafieldsSetLine(row.productId, { ...target, type: row.prevType, value: row.prevValue }) }
  }

  const rows = artefacts.snapshot

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
      yield* artefacts.clearSnapshot(job.jobId)
      if (job.undoOf !== null) {
        // an undo job targets exactly the products of the job it reverts
        const matched = yield* artefacts.snapshotSize(job.undoOf.jobId)
        return { matched, truncated: false, snapshotRef: job.undoOf.jobId, chunks: 0 }
      }
      let seen = 0
      let truncated = false
      if (url !== null) {
        const batch: Array<SnapshotEntry> = []
        const flush = Effect.suspend(() => {
          if (batch.length === 0) return Effect.void
          return artefacts.appendSnapshot(shop, job.jobId, batch.splice(0, batch.length))
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
              batch.push({ ordinal: seen, productId: s.id, prevValue: s.previous?.value ?? null, prevType: s.previous?.type ?? null })
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
        Stream.map((row) => row.productId)
      ))
      const results = yield* parseMutationResults(admin.downloadJsonl(url), {
        expectedLines: spec?.lines ?? 0,
        ownerOf: (n) => owners[n]
      })
      if (results.errorLinesPath !== undefined) {
        const text = yield* Effect.promise(() => readFile(results.errorLinesPath!, "utf8"))
        const lines = text.split("\n").filter((l) => l.length > 0)
        yield* artefacts.replaceErrorLines(shop, job.jobId, chunkIndex, lines)
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

/** The steps (requires `ShopifyAdmin` and `JobArtefacts`). */
export const layer: Layer.Layer<JobSteps, never, ShopifyAdmin | JobArtefacts> = Layer.effect(JobSteps, make)
