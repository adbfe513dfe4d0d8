/**
 * `JobSteps` (src/jobs/JobSteps.ts) over the Shopify Admin API. The snapshot of the products a
 * job targets — with each one's value before the job — is stored (`JobArtefacts`) while the
 * bulk query's JSONL streams in; mutation chunks are rebuilt from it deterministically (so a
 * chunk can be re-uploaded after a crash), and an undo job restores from the original job's
 * snapshot: `metafieldsSet` where a value existed, `metafieldsDelete` where none did.
 *
 * Undo never overwrites a later change (invariant 8, `domain/jobs/UndoGuard.ts`): reading a
 * job's chunk results records, per product, the `compareDigest` of what it wrote (its
 * after-state, `src/jobs/UndoArtefacts.ts`). An undo's snapshot step compares each product
 * with it — restores carry that digest as `compareDigest` (Shopify refuses a changed one with
 * `STALE_OBJECT`), deletes are preceded by a read of the current digest — and stores the
 * result as the undo's plan; products changed since are left out, counted and written to the
 * undo's error lines. A forced undo plans every product, unguarded.
 */
import { Array as Arr, Effect, Layer, Semaphore, Stream } from "effect"
import type { SqlError } from "effect/sql/SqlError"
import { readFile, rm } from "node:fs/promises"
import {
  CHANGED_SINCE,
  CHANGED_SINCE_REASON,
  type Job,
  needsCurrent,
  type PreviousMetafield,
  undoStep,
  type WrittenOutcome
} from "../../domain/jobs/index.ts"
import { JobArtefacts, type SnapshotEntry } from "../../src/jobs/JobArtefacts.ts"
import { JobSteps, type OperationStatus, StepPermanent, StepTransient } from "../../src/jobs/JobSteps.ts"
import {
  type AfterStateEntry,
  readAfterState,
  readUndoPlan,
  type UndoPlanEntry,
  writeAfterState,
  writeUndoPlan
} from "../../src/jobs/UndoArtefacts.ts"
import {
  CURRENT_METAFIELDS_PAGE,
  type CurrentMetafieldState,
  METAFIELDS_DELETE_MUTATION,
  METAFIELDS_SET_MUTATION,
  metafieldsDeleteLine,
  metafieldsSetLine,
  type MutationErrorLine,
  type MutationLineResult,
  OwnerIndex,
  parseCurrentMetafields,
  parseMutationResultFile,
  parseProductSnapshot,
  PRODUCT_METAFIELD_CURRENT_QUERY,
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

/** Every ordinal of a snapshot. */
const ALL = 2_147_483_647

/**
 * The error lines of an undo's snapshot step (products found changed since) sit before every
 * chunk's in the job's error file: chunk index -1.
 */
export const SNAPSHOT_ERRORS_CHUNK = -1

/** Snapshot rows written per statement while the bulk query's JSONL is read. */
const SNAPSHOT_PAGE = 1000

/** After-state entries written per statement while a chunk's results are read. */
const AFTER_STATE_PAGE = 1000

/** How many error lines a step reports for the job's preview (the decider keeps 50). */
const PREVIEW_LINES = 50

/** One line of a job's mutation: the product, its place in the snapshot, and the JSONL. */
interface PlannedLine {
  readonly ordinal: number
  readonly productId: string
  readonly kind: "set" | "delete"
  readonly text: string
}

const previousOf = (row: SnapshotEntry): PreviousMetafield | null =>
  row.prevValue === null || row.prevType === null ? null : { value: row.prevValue, type: row.prevType }

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

  const target = (job: Job) => ({ namespace: job.input.namespace, key: job.input.key })

  /** A snapshot row's line the way every job did before undo plans: the job's value, or the previous one back. */
  const lineOf = (job: Job, row: SnapshotEntry): PlannedLine => {
    const base = { ordinal: row.ordinal, productId: row.productId }
    if (job.undoOf === null) {
      return { ...base, kind: "set", text: metafieldsSetLine(row.productId, { ...target(job), type: job.input.type, value: job.input.value }) }
    }
    const previous = previousOf(row)
    return previous === null
      ? { ...base, kind: "delete", text: metafieldsDeleteLine(row.productId, target(job)) }
      : { ...base, kind: "set", text: metafieldsSetLine(row.productId, { ...target(job), ...previous }) }
  }

  /** An undo job whose snapshot step ran before undo plans existed: it restores the original snapshot as it is. */
  const isUnplannedUndo = (job: Job) => job.undoOf !== null && job.query?.snapshotRef === job.undoOf.jobId

  /** A planned undo's line: the original row's previous value back (guarded), or a delete. */
  const undoLineOf = (job: Job, entry: UndoPlanEntry, original: SnapshotEntry | undefined): PlannedLine => {
    const base = { ordinal: entry.ordinal, productId: entry.productId }
    const previous = original === undefined ? null : previousOf(original)
    if (entry.action.kind === "delete" || previous === null) {
      return { ...base, kind: "delete", text: metafieldsDeleteLine(entry.productId, target(job)) }
    }
    const digest = entry.action.compareDigest
    return { ...base, kind: "set", text: metafieldsSetLine(entry.productId, { ...target(job), ...previous }, digest === null ? undefined : digest) }
  }

  /**
   * The job's lines for snapshot ordinals `from…to`, in ordinal order: a job's from its own
   * snapshot; an undo's from its plan joined with the original snapshot (by ordinal).
   */
  const jobLines = (job: Job, from: number, to: number): Stream.Stream<PlannedLine, SqlError> => {
    const undoOf = job.undoOf
    if (undoOf === null || isUnplannedUndo(job)) return Stream.map(artefacts.snapshot(undoOf?.jobId ?? job.jobId, from, to), (row) => lineOf(job, row))
    return Stream.unwrap(Effect.map(
      Stream.runCollect(artefacts.snapshot(undoOf.jobId, from, to)),
      (rows) => {
        const byOrdinal = new Map(Array.from(rows, (row) => [row.ordinal, row] as const))
        return Stream.map(readUndoPlan(artefacts, job.jobId, from, to), (entry) => undoLineOf(job, entry, byOrdinal.get(entry.ordinal)))
      }
    ))
  }

  /**
   * The job's chunks, in order: consecutive lines of one kind (set/delete), cut before a
   * chunk would exceed `CHUNK_BYTES`. Deterministic, so any worker derives the same.
   */
  const plan = (job: Job) =>
    Effect.gen(function*() {
      const chunks: Array<ChunkSpec> = []
      let current: { kind: "set" | "delete"; from: number; to: number; lines: number; bytes: number } | undefined
      const add = (kind: "set" | "delete", ordinal: number, size: number) => {
        if (current === undefined || current.kind !== kind || current.bytes + size > CHUNK_BYTES) {
          if (current !== undefined) chunks.push(current)
          current = { kind, from: ordinal, to: ordinal, lines: 0, bytes: 0 }
        }
        current.to = ordinal
        current.lines++
        current.bytes += size
      }
      if (job.undoOf === null) {
        // A job's lines differ only in their owner: their sizes, without building them (the
        // upload checks the body it streams against the planned size)
        const fixed = Buffer.byteLength(lineOf(job, { ordinal: 0, productId: "", prevValue: null, prevType: null }).text) - 2 + 1
        yield* Stream.runForEachArray(artefacts.snapshot(job.jobId, 0, ALL), (rows) =>
          Effect.sync(() => {
            for (const row of rows) add("set", row.ordinal, fixed + Buffer.byteLength(JSON.stringify(row.productId)))
          }))
        if (current !== undefined) chunks.push(current)
        return chunks
      }
      for (const kind of ["set", "delete"] as const) {
        yield* Stream.runForEachArray(jobLines(job, 0, ALL), (lines) =>
          Effect.sync(() => {
            for (const line of lines) if (line.kind === kind) add(kind, line.ordinal, Buffer.byteLength(line.text) + 1)
          }))
        if (current !== undefined) {
          chunks.push(current)
          current = undefined
        }
      }
      return chunks
    })

  /** The lines of one chunk, in order. */
  const chunkLines = (job: Job, spec: ChunkSpec) => Stream.filter(jobLines(job, spec.from, spec.to), (line) => line.kind === spec.kind)

  /**
   * The chunk's JSONL as it is uploaded: a buffer per page of lines read from the snapshot, not
   * one per line (a million-line chunk made a million small buffers, each an allocation the
   * garbage collector tracks outside the heap).
   */
  const chunkBody = (job: Job, spec: ChunkSpec) =>
    Stream.mapArray(chunkLines(job, spec), (lines) => {
      // written straight into the buffer: a page's lines joined were a string of ~1 MB, which
      // V8 allocates in its large-object space, freed only by a full collection
      let size = 0
      for (const line of lines) size += Buffer.byteLength(line.text) + 1
      const body = Buffer.allocUnsafe(size)
      let at = 0
      for (const line of lines) {
        at += body.write(line.text, at, "utf8")
        body[at++] = 0x0a
      }
      return [body] as const
    })

  /** The current target metafield of `ids` (products), read page by page. */
  const readCurrent = (shop: string, job: Job, ids: ReadonlyArray<string>) =>
    Effect.gen(function*() {
      const current = new Map<string, CurrentMetafieldState | null>()
      for (let i = 0; i < ids.length; i += CURRENT_METAFIELDS_PAGE) {
        const page = ids.slice(i, i + CURRENT_METAFIELDS_PAGE)
        const data = yield* admin.graphql(shop, PRODUCT_METAFIELD_CURRENT_QUERY, { ids: page, ...target(job) })
        for (const [id, state] of parseCurrentMetafields(data, page)) current.set(id, state)
      }
      return current
    })

  /**
   * An undo's snapshot step: what each product of the original snapshot gets (see
   * `domain/jobs/UndoGuard.ts`), stored as the undo's plan. Products changed since are left
   * out and become the undo's first error lines.
   */
  const planUndo = (shop: string, job: Job, undoOf: NonNullable<Job["undoOf"]>) =>
    Effect.gen(function*() {
      const force = undoOf.force === true
      const outcomes = new Map<number, WrittenOutcome>()
      if (!force) {
        // the original job's chunks (its plan, rebuilt) and what each one's writes left
        const original: Job = { ...job, jobId: undoOf.jobId, undoOf: null }
        const chunks = yield* plan(original)
        for (let k = 0; k < chunks.length; k++) {
          yield* Stream.runForEachArray(readAfterState(artefacts, undoOf.jobId, k), (entries) =>
            Effect.sync(() => {
              for (const e of entries) outcomes.set(e.ordinal, e.outcome)
            }))
        }
      }
      const rows = Array.from(yield* Stream.runCollect(artefacts.snapshot(undoOf.jobId, 0, ALL)))
      const outcomeOf = (row: SnapshotEntry): WrittenOutcome => outcomes.get(row.ordinal) ?? { kind: "unknown" }
      const current = yield* readCurrent(shop, job, rows.filter((row) => needsCurrent(previousOf(row), outcomeOf(row), force)).map((row) => row.productId))
      const written = { value: job.input.value, type: job.input.type }
      const entries: Array<UndoPlanEntry> = []
      const changed: Array<string> = []
      for (const row of rows) {
        const step = undoStep({ previous: previousOf(row), outcome: outcomeOf(row), written, current: current.get(row.productId), force })
        switch (step.kind) {
          case "restore":
            entries.push({ ordinal: row.ordinal, productId: row.productId, action: { kind: "restore", compareDigest: step.compareDigest } })
            break
          case "delete":
            entries.push({ ordinal: row.ordinal, productId: row.productId, action: { kind: "delete" } })
            break
          case "skip":
            break
          case "changed_since": {
            const line: MutationErrorLine = { line: null, ownerId: row.productId, kind: CHANGED_SINCE, reason: step.reason, errors: [] }
            changed.push(JSON.stringify(line))
            break
          }
        }
      }
      yield* writeUndoPlan(artefacts, shop, job.jobId, entries)
      yield* artefacts.replaceErrorLines(shop, job.jobId, SNAPSHOT_ERRORS_CHUNK, changed)
      return { matched: entries.length, changedSince: changed.length, errorLines: changed.slice(0, PREVIEW_LINES) }
    })

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
        // an undo job targets the products of the job it reverts that nobody changed since
        const planned = yield* planUndo(shop, job, job.undoOf)
        return { ...planned, truncated: false, snapshotRef: job.jobId, chunks: 0 }
      }
      let seen = 0
      let truncated = false
      if (url !== null) {
        const batch: Array<SnapshotEntry> = []
        /** Writes the batch, in statements of SNAPSHOT_PAGE rows; with `all` false only whole ones. */
        const flush = (all: boolean) =>
          Effect.suspend(() => {
            const ready = batch.splice(0, all ? batch.length : batch.length - (batch.length % SNAPSHOT_PAGE))
            return Effect.forEach(Arr.chunksOf(ready, SNAPSHOT_PAGE), (page) => artefacts.writeSnapshot(shop, job.jobId, page), { discard: true })
          })
        // an array of products at a time (a downloaded block's), not an effect per product: a
        // million products were a million effects' worth of garbage
        yield* admin.downloadJsonl(url).pipe(
          Stream.map(parseProductSnapshot),
          Stream.filter((s): s is ProductSnapshot => s !== undefined),
          // stop reading after max_items (+1 to know whether more matched)
          Stream.take(job.input.maxItems + 1),
          Stream.runForEachArray((products) => {
            for (const s of products) {
              if (seen >= job.input.maxItems) {
                truncated = true
                break
              }
              batch.push({ ordinal: seen, productId: s.id, prevValue: s.previous?.value ?? null, prevType: s.previous?.type ?? null })
              seen++
            }
            return flush(false)
          })
        )
        yield* flush(true)
      }
      return { matched: seen, truncated, snapshotRef: job.jobId, chunks: 0, changedSince: 0, errorLines: [] }
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
      // a job's chunks all set; only an undo's plan can hold deletes (a plan is a pass over the snapshot)
      const kind = job.undoOf === null ? "set" : (yield* plan(job))[chunkIndex]?.kind
      const document = kind === "delete" ? METAFIELDS_DELETE_MUTATION : METAFIELDS_SET_MUTATION
      return yield* admin.startBulkMutation(shop, document, stagedUploadPath, id)
    })).pipe(Effect.mapError(toStepError))

  const readChunkResult = (shop: string, job: Job, chunkIndex: number, url: string | null) =>
    Effect.gen(function*() {
      const chunks = yield* plan(job)
      const spec = chunks[chunkIndex]
      if (url === null) {
        return { updated: 0, failed: spec?.lines ?? 0, changedSince: 0, errorLines: ["no result file: the bulk mutation produced no output"] }
      }
      // which product and snapshot ordinal each input line was about (error lines name the
      // product, the after-state keys by ordinal): 13 bytes a line with `recorded` below, not
      // a line object
      const owners = new OwnerIndex()
      const ordinals = new Int32Array(spec?.lines ?? 0)
      let lineCount = 0
      if (spec !== undefined) {
        yield* Stream.runForEachArray(chunkLines(job, spec), (lines) =>
          Effect.sync(() => {
            for (const line of lines) {
              if (lineCount === ordinals.length) return
              owners.add(line.productId)
              ordinals[lineCount++] = line.ordinal
            }
          }))
      }
      const ownerOf = owners.seal()
      // A job (not an undo) records what its writes left, for its undo to compare with. The
      // after-state goes to the artefacts while the results stream in, a page at a time, so
      // it does not accumulate in memory: the file's lines come in any order, and the lines
      // without one are recorded as unknown at the end (every line once: see writeAfterState).
      const recording = job.undoOf === null
      const recorded = new Uint8Array(lineCount)
      let pending: Array<AfterStateEntry> = []
      const flushAfterState = Effect.suspend(() => {
        if (pending.length === 0) return Effect.void
        const part = pending
        pending = []
        return writeAfterState(artefacts, shop, job.jobId, chunkIndex, part)
      })
      // each downloaded block's results are in `pending` once it has been fed: written before the next one is
      const bytes = recording
        ? Stream.mapEffect(admin.downloadBytes(url), (block) => pending.length >= AFTER_STATE_PAGE ? Effect.as(flushAfterState, block) : Effect.succeed(block))
        : admin.downloadBytes(url)
      const results = yield* parseMutationResultFile(bytes, {
        expectedLines: spec?.lines ?? 0,
        ownerOf,
        ...(recording ? {} : { changedSinceReason: CHANGED_SINCE_REASON }),
        ...(recording
          ? {
            onResult: (n: number, r: MutationLineResult) => {
              if (n >= lineCount || recorded[n] === 1) return
              recorded[n] = 1
              const digest = r.ok ? r.compareDigest : null
              pending.push({
                ordinal: ordinals[n]!,
                productId: ownerOf(n) ?? "",
                outcome: !r.ok ? { kind: "failed" } : digest === null ? { kind: "unknown" } : { kind: "written", digest }
              })
            }
          }
          : {})
      })
      if (recording) {
        for (let n = 0; n < lineCount; n++) {
          if (recorded[n] === 1) continue
          pending.push({ ordinal: ordinals[n]!, productId: ownerOf(n) ?? "", outcome: { kind: "unknown" } })
          if (pending.length >= AFTER_STATE_PAGE) yield* flushAfterState
        }
        yield* flushAfterState
      }
      if (results.errorLinesPath !== undefined) {
        const text = yield* Effect.promise(() => readFile(results.errorLinesPath!, "utf8"))
        const lines = text.split("\n").filter((l) => l.length > 0)
        yield* artefacts.replaceErrorLines(shop, job.jobId, chunkIndex, lines)
        yield* Effect.promise(() => rm(results.errorLinesPath!, { force: true }))
      }
      const missing = results.missingLines ?? 0
      // only an undo sends compareDigest: a job's STALE_OBJECT (none expected) is a failure
      const changedSince = job.undoOf === null ? 0 : results.changedSince
      return {
        updated: results.updated,
        failed: results.failed + missing + (results.changedSince - changedSince),
        changedSince,
        errorLines: results.errorPreview.split("\n").filter((l) => l.length > 0)
      }
    }).pipe(Effect.mapError(toStepError))

  return JobSteps.of({ submitQuery, operationStatus, storeSnapshot, uploadChunk, submitChunk, readChunkResult })
})

/** The steps (requires `ShopifyAdmin` and `JobArtefacts`). */
export const layer: Layer.Layer<JobSteps, never, ShopifyAdmin | JobArtefacts> = Layer.effect(JobSteps, make)
