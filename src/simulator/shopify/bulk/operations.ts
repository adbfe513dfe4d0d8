/**
 * Bulk operations of one shop: submission (with Shopify's validation and the 2026-01+
 * concurrency rule of 5 query + 5 mutation operations), the CREATED → RUNNING →
 * COMPLETED/FAILED/CANCELED lifecycle at a configurable pace, signed result URLs and the
 * `bulk_operations/finish` webhook.
 */
import { createHmac } from "node:crypto"
import { rm } from "node:fs/promises"
import { join } from "node:path"
import { setImmediate as yieldToLoop } from "node:timers/promises"
import { isoSeconds } from "../clock.ts"
import { executeDocument } from "../execute.ts"
import type { BulkFailureFault } from "../faults.ts"
import { gid, gidNumber } from "../ids.ts"
import type { ExecContext } from "../resolvers.ts"
import type { ShopBulkOperations, SimulatedShop } from "../simulatedShop.ts"
import { BulkMutationJob, planBulkMutation } from "./bulkMutation.ts"
import { BulkQueryJob, planBulkQuery } from "./bulkQuery.ts"
import { JsonlWriter } from "./jsonlWriter.ts"
import type { BulkJob, BulkOperationErrorCode, BulkOperationRecord, BulkOperationStatus, BulkOperationType } from "./types.ts"

interface Run {
  job: BulkJob | undefined
  readonly createJob: () => BulkJob
  failure: BulkFailureFault | undefined
  cancelRequested: boolean
  lock: Promise<unknown>
  readonly finished: Promise<BulkOperationRecord>
  readonly resolveFinished: (op: BulkOperationRecord) => void
  timer: ReturnType<typeof setTimeout> | undefined
}

const ACTIVE: ReadonlySet<BulkOperationStatus> = new Set(["CREATED", "RUNNING", "CANCELING"])
const TERMINAL: ReadonlySet<BulkOperationStatus> = new Set(["COMPLETED", "FAILED", "CANCELED"])
const URL_TTL_MS = 7 * 86_400_000
const CHUNK = 2000

/** Per-shop bulk operation registry and runner. */
export class BulkOperations implements ShopBulkOperations {
  readonly #shop: SimulatedShop
  readonly #ops = new Map<number, BulkOperationRecord>()
  readonly #runs = new Map<number, Run>()
  #closed = false
  /** Max concurrently active operations per type (Shopify 2026-01+: 5). */
  maxConcurrent = 5

  constructor(shop: SimulatedShop) {
    this.#shop = shop
  }

  /** Every operation, oldest first. */
  list(): ReadonlyArray<BulkOperationRecord> {
    return [...this.#ops.values()]
  }

  get(id: number): BulkOperationRecord | undefined {
    return this.#ops.get(id)
  }

  /** The most recent operation of `type` (what `currentBulkOperation` returns). */
  current(type: BulkOperationType): BulkOperationRecord | undefined {
    let latest: BulkOperationRecord | undefined
    for (const op of this.#ops.values()) if (op.type === type && (latest === undefined || op.id > latest.id)) latest = op
    return latest
  }

  /** Status as served: COMPLETED turns EXPIRED 7 days after completion. */
  effectiveStatus(op: BulkOperationRecord): BulkOperationStatus {
    if (op.status === "COMPLETED" && op.completedAt !== null && this.#shop.runtime.clock() > op.completedAt + URL_TTL_MS) return "EXPIRED"
    return op.status
  }

  #signedUrl(op: BulkOperationRecord, kind: "result" | "partial"): string {
    const rt = this.#shop.runtime
    const path = `/bulk-results/${this.#shop.number}/${op.id}${kind === "partial" ? ".partial" : ""}.jsonl`
    const signature = createHmac("sha256", rt.signingKey).update(path).digest("hex")
    const date = isoSeconds(op.completedAt ?? op.createdAt).replace(/[-:]/g, "")
    return `${rt.baseUrl}${path}?X-Goog-Algorithm=GOOG4-RSA-SHA256&X-Goog-Date=${date}&X-Goog-Expires=604800&X-Goog-Signature=${signature}`
  }

  /** Checks a result URL's signature. */
  verifySignature(path: string, signature: string | undefined): boolean {
    return signature === createHmac("sha256", this.#shop.runtime.signingKey).update(path).digest("hex")
  }

  /** Signed result URL, or null (not finished, or no results). */
  resultUrl(op: BulkOperationRecord): string | null {
    return op.status === "COMPLETED" && op.resultPath !== null ? this.#signedUrl(op, "result") : null
  }

  /** Signed partial-data URL of a failed operation, or null. */
  partialDataUrl(op: BulkOperationRecord): string | null {
    return op.status === "FAILED" && op.partialPath !== null ? this.#signedUrl(op, "partial") : null
  }

  /** Whether a finished operation's files may still be downloaded. */
  isExpired(op: BulkOperationRecord): boolean {
    return op.completedAt !== null && this.#shop.runtime.clock() > op.completedAt + URL_TTL_MS
  }

  #activeCount(type: BulkOperationType): number {
    let n = 0
    for (const op of this.#ops.values()) if (op.type === type && ACTIVE.has(op.status)) n++
    return n
  }

  #limitError(type: BulkOperationType): { field: null; message: string; code: string } | undefined {
    if (this.#activeCount(type) < this.maxConcurrent) return undefined
    if (this.maxConcurrent === 1) {
      const running = [...this.#ops.values()].find((o) => o.type === type && ACTIVE.has(o.status))
      return {
        field: null,
        message: `A bulk ${type === "QUERY" ? "query" : "mutation"} operation for this app and shop is already in progress: ${gid("BulkOperation", running?.id ?? 0)}.`,
        code: "OPERATION_IN_PROGRESS"
      }
    }
    return { field: null, message: "Bulk operations limit reached. Please try again later.", code: "LIMIT_REACHED" }
  }

  /** `bulkOperationRunQuery` */
  submitQuery(query: string, groupObjects: boolean, apiVersion: string): unknown {
    const planned = planBulkQuery(this.#shop.runtime.schema, query)
    if (!planned.ok) return { bulkOperation: null, userErrors: [{ field: ["query"], message: planned.message, code: "INVALID" }] }
    const limit = this.#limitError("QUERY")
    if (limit !== undefined) return { bulkOperation: null, userErrors: [limit] }
    const op = this.#create("QUERY", query, null, null, groupObjects, apiVersion, (path) => {
      const ctx: ExecContext = { shop: this.#shop, mode: "bulk", apiVersion, searchWarnings: [] }
      return new BulkQueryJob(planned.plan, ctx, new JsonlWriter(path))
    })
    return { bulkOperation: op, userErrors: [] }
  }

  /** `bulkOperationRunMutation` */
  submitMutation(mutation: string, stagedUploadPath: string, clientIdentifier: string | null, apiVersion: string): unknown {
    const fail = (code: string, message: string, field: ReadonlyArray<string> | null) => ({
      bulkOperation: null,
      userErrors: [{ field, message, code }]
    })
    const planned = planBulkMutation(this.#shop.runtime.schema, mutation)
    if (!planned.ok) return fail("INVALID_MUTATION", planned.message, ["mutation"])
    const staged = this.#shop.staged
    if (!stagedUploadPath.startsWith(staged.prefix)) {
      return fail(
        "NO_SUCH_FILE",
        `The staged upload path "${stagedUploadPath}" is not valid for shop ${this.#shop.number}, bucket bulk/.`,
        ["stagedUploadPath"]
      )
    }
    const file = staged.file(stagedUploadPath)
    if (file === undefined) {
      return fail("NO_SUCH_FILE", "The JSONL file could not be found. Try uploading the file again.", ["stagedUploadPath"])
    }
    const limit = this.#limitError("MUTATION")
    if (limit !== undefined) return { bulkOperation: null, userErrors: [limit] }
    const shop = this.#shop
    const op = this.#create("MUTATION", mutation, stagedUploadPath, clientIdentifier, false, apiVersion, (path) => {
      return new BulkMutationJob({
        stagedFile: file.path,
        writer: new JsonlWriter(path),
        shuffleSeed: shop.runtime.bulkMutationOrder === "shuffled" ? op.id : undefined,
        execute: (variables) =>
          executeDocument(
            { shop, mode: "bulk", apiVersion, searchWarnings: [] },
            planned.plan.document,
            planned.plan.operation,
            variables
          )
      })
    })
    return { bulkOperation: op, userErrors: [] }
  }

  /** `bulkOperationCancel` */
  cancel(id: string): unknown {
    const n = gidNumber(id, "BulkOperation")
    const op = n === undefined ? undefined : this.#ops.get(n)
    if (op === undefined) return { bulkOperation: null, userErrors: [{ field: ["id"], message: "Bulk operation does not exist" }] }
    if (!ACTIVE.has(op.status)) {
      return {
        bulkOperation: op,
        userErrors: [{ field: null, message: `A bulk operation cannot be canceled when it is ${op.status.toLowerCase()}` }]
      }
    }
    const run = this.#runs.get(op.id)
    op.status = "CANCELING"
    // Immediate and paced runners pick this up at their next step; manual waits for the test.
    if (run !== undefined) run.cancelRequested = true
    return { bulkOperation: op, userErrors: [] }
  }

  #create(
    type: BulkOperationType,
    query: string,
    stagedUploadPath: string | null,
    clientIdentifier: string | null,
    groupObjects: boolean,
    apiVersion: string,
    makeJob: (path: string) => BulkJob
  ): BulkOperationRecord {
    const rt = this.#shop.runtime
    const id = rt.nextBulkOperationId()
    const op: BulkOperationRecord = {
      __typename: "BulkOperation",
      id,
      type,
      status: "CREATED",
      errorCode: null,
      createdAt: rt.clock(),
      completedAt: null,
      objectCount: 0,
      rootObjectCount: 0,
      fileSize: null,
      bytesWritten: 0,
      query,
      stagedUploadPath,
      clientIdentifier,
      groupObjects,
      apiVersion,
      resultPath: null,
      partialPath: null
    }
    this.#ops.set(id, op)
    let resolveFinished: (op: BulkOperationRecord) => void = () => undefined
    const finished = new Promise<BulkOperationRecord>((resolve) => {
      resolveFinished = resolve
    })
    const path = join(rt.tmpDir, `bulk-${this.#shop.number}-${id}.jsonl`)
    const run: Run = {
      job: undefined,
      createJob: () => makeJob(path),
      failure: this.#shop.faults.takeBulkFailure(type),
      cancelRequested: false,
      lock: Promise.resolve(),
      finished,
      resolveFinished,
      timer: undefined
    }
    this.#runs.set(id, run)
    const pace = rt.bulkPace
    if (pace === "immediate") this.#schedule(op, run, 0)
    else if (pace !== "manual") this.#schedule(op, run, pace.startDelayMs ?? 0)
    return op
  }

  #schedule(op: BulkOperationRecord, run: Run, delayMs: number): void {
    if (this.#closed || run.timer !== undefined) return
    const pace = this.#shop.runtime.bulkPace
    const paced = typeof pace === "object"
    const perTick = paced ? Math.max(1, Math.round((pace.objectsPerSecond * 50) / 1000)) : CHUNK
    const report = (error: unknown) => {
      if (!this.#closed) this.#shop.runtime.log(`bulk operation ${op.id}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`)
    }
    const loop = async (): Promise<void> => {
      run.timer = undefined
      while (!this.#closed && !TERMINAL.has(op.status)) {
        await this.#advance(op, perTick)
        if (TERMINAL.has(op.status) || this.#closed) return
        if (paced) {
          run.timer = setTimeout(() => void loop().catch(report), 50)
          return
        }
        await yieldToLoop()
      }
    }
    run.timer = setTimeout(() => void loop().catch(report), delayMs)
  }

  /** Serialises steps of one operation. */
  #advance(op: BulkOperationRecord, budget: number): Promise<void> {
    const run = this.#runs.get(op.id)
    if (run === undefined) return Promise.resolve()
    const next = run.lock.then(() => this.#advanceNow(op, run, budget))
    run.lock = next.catch(() => undefined)
    return next
  }

  async #advanceNow(op: BulkOperationRecord, run: Run, budget: number): Promise<void> {
    if (TERMINAL.has(op.status)) return
    if (op.status === "CREATED") op.status = "RUNNING"
    run.job ??= run.createJob()
    const job = run.job
    if (run.cancelRequested) {
      await job.abort()
      return this.#finalize(op, run, "CANCELED", null)
    }
    if (budget <= 0) return
    const failure = run.failure
    const failAt = failure === undefined ? Number.POSITIVE_INFINITY : (failure.afterObjects ?? 0)
    let done = false
    try {
      if (job.objectCount < failAt) done = await job.step(Math.min(budget, failAt - job.objectCount))
    } catch (error) {
      this.#shop.runtime.log(`bulk operation ${op.id} crashed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`)
      run.failure = { errorCode: "INTERNAL_SERVER_ERROR", afterObjects: job.objectCount }
    }
    op.objectCount = job.objectCount
    op.rootObjectCount = job.rootObjectCount
    op.bytesWritten = job.bytesWritten
    try {
      // A failure applies once its object threshold is reached (or the input ran out first).
      const activeFailure = run.failure
      if (activeFailure !== undefined && (done || job.objectCount >= (activeFailure.afterObjects ?? 0))) {
        const bytes = await job.finish()
        if (job.objectCount > 0 && bytes > 0) op.partialPath = this.#resultFile(op)
        else await rm(this.#resultFile(op), { force: true })
        return this.#finalize(op, run, "FAILED", activeFailure.errorCode ?? "INTERNAL_SERVER_ERROR")
      }
      if (!done) return
      const bytes = await job.finish()
      if (job.objectCount > 0) {
        op.resultPath = this.#resultFile(op)
        op.fileSize = bytes
      } else {
        await rm(this.#resultFile(op), { force: true })
      }
      this.#finalize(op, run, "COMPLETED", null)
    } catch (error) {
      this.#shop.runtime.log(`bulk operation ${op.id} could not write its output: ${error instanceof Error ? error.message : String(error)}`)
      op.resultPath = null
      op.partialPath = null
      this.#finalize(op, run, "FAILED", "INTERNAL_SERVER_ERROR")
    }
  }

  #resultFile(op: BulkOperationRecord): string {
    return join(this.#shop.runtime.tmpDir, `bulk-${this.#shop.number}-${op.id}.jsonl`)
  }

  #finalize(op: BulkOperationRecord, run: Run, status: "COMPLETED" | "FAILED" | "CANCELED", errorCode: BulkOperationErrorCode | null): void {
    op.status = status
    op.errorCode = errorCode
    op.completedAt = this.#shop.runtime.clock()
    if (run.timer !== undefined) clearTimeout(run.timer)
    run.timer = undefined
    this.#shop.sendWebhook("bulk_operations/finish", op.apiVersion, {
      admin_graphql_api_id: gid("BulkOperation", op.id),
      completed_at: isoSeconds(op.completedAt),
      created_at: isoSeconds(op.createdAt),
      error_code: errorCode === null ? null : errorCode.toLowerCase(),
      status: status.toLowerCase(),
      type: op.type.toLowerCase()
    })
    run.resolveFinished(op)
  }

  /** Marks running mutations that read `key` as failed (the staged file changed under them). */
  stagedFileReplaced(key: string): void {
    for (const op of this.#ops.values()) {
      const run = this.#runs.get(op.id)
      if (op.type === "MUTATION" && op.stagedUploadPath === key && ACTIVE.has(op.status) && run !== undefined) {
        run.failure = { errorCode: "INTERNAL_SERVER_ERROR", afterObjects: 0 }
      }
    }
  }

  // --------------------------------------------------------------- test controls

  #run(id: number | string): { op: BulkOperationRecord; run: Run } {
    const n = typeof id === "number" ? id : gidNumber(id, "BulkOperation")
    const op = n === undefined ? undefined : this.#ops.get(n)
    const run = op === undefined ? undefined : this.#runs.get(op.id)
    if (op === undefined || run === undefined) throw new Error(`no bulk operation ${String(id)}`)
    return { op, run }
  }

  /** Resolves when the operation reaches COMPLETED, FAILED or CANCELED. */
  whenFinished(id: number | string): Promise<BulkOperationRecord> {
    return this.#run(id).run.finished
  }

  /** Manual pace: moves a CREATED operation to RUNNING without processing anything. */
  async start(id: number | string): Promise<BulkOperationRecord> {
    const { op } = this.#run(id)
    await this.#advance(op, 0)
    return op
  }

  /** Manual pace: processes about `objects` more objects (starting the operation if needed). */
  async step(id: number | string, objects: number): Promise<BulkOperationRecord> {
    const { op } = this.#run(id)
    await this.#advance(op, objects)
    return op
  }

  /** Runs an operation to its end (any pace) and resolves with the final record. */
  async complete(id: number | string): Promise<BulkOperationRecord> {
    const { op, run } = this.#run(id)
    while (!TERMINAL.has(op.status) && !this.#closed) await this.#advance(op, CHUNK)
    return run.finished
  }

  /** Runs every unfinished operation to its end. */
  async completeAll(): Promise<void> {
    for (const op of [...this.#ops.values()]) if (!TERMINAL.has(op.status)) await this.complete(op.id)
  }

  /** Resolves when no operation is active (for immediate/paced modes). */
  async idle(): Promise<void> {
    await Promise.all([...this.#ops.values()].filter((o) => ACTIVE.has(o.status)).map((o) => this.whenFinished(o.id)))
  }

  /** Stops all timers; active operations stay as they are. */
  close(): void {
    this.#closed = true
    for (const run of this.#runs.values()) {
      if (run.timer !== undefined) clearTimeout(run.timer)
      run.timer = undefined
    }
  }
}
