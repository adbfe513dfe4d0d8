/**
 * Reading a chunk's results (`ShopifyJobSteps.readChunkResult`) records the after-state its
 * undo compares with while the result file streams in: every product of the chunk once, by
 * its snapshot ordinal, whatever the order of the file's lines — written with Shopify's
 * `compareDigest`, failed, or unknown (no result line, or none of its digest). Reading the
 * results again replaces it; a read cut off half way leaves the earlier record whole. A
 * snapshot of 12,000 products with ordinals that are not the lines' numbers: its pages (5,000
 * rows each, `job_snapshot_page`, migration 0020) and the after-state's pages (1,000) are
 * crossed. The result file comes over real HTTP; PostgreSQL 15 and PGlite.
 */
import { Deferred, Effect, Fiber, Layer, Stream } from "effect"
import { randomUUID } from "node:crypto"
import { createServer, type Server } from "node:http"
import type { AddressInfo } from "node:net"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import * as PgJobArtefacts from "../../adapters/postgres/PgJobArtefacts.ts"
import { ShopCredentials } from "../../adapters/shopify/ShopifyAdmin.ts"
import * as ShopifyAdminLive from "../../adapters/shopify/ShopifyAdminLive.ts"
import * as ShopifyJobSteps from "../../adapters/shopify/ShopifyJobSteps.ts"
import type { Job } from "../../domain/jobs/index.ts"
import { JobArtefacts, type SnapshotEntry } from "../../src/jobs/JobArtefacts.ts"
import { JobSteps } from "../../src/jobs/JobSteps.ts"
import { afterStateKey, readAfterState } from "../../src/jobs/UndoArtefacts.ts"
import { backends } from "../support/databases.ts"
import { runningJob } from "../support/fixtures.ts"
import { pollUntil } from "../support/poll.ts"

const SHOP = "results.myshopify.com"
const PRODUCTS = 12_000
/** Input lines without a result line (the file stops short of them). */
const MISSING = new Set([7, 5_003, 11_999])
/** Lines answered with userErrors. */
const FAILED = new Set([11, 4_999, 10_000])
/** Lines answered without a compareDigest. */
const NO_DIGEST = new Set([13, 6_001])

/** The snapshot ordinal of the chunk's line `n` (not `n`: a chunk maps its lines to ordinals). */
const ordinalOf = (n: number) => 10 + 3 * n
const productId = (n: number) => `gid://shopify/Product/${900_000 + n}`
const digestOf = (line: number) => `digest-${line.toString(16).padStart(8, "0")}`

/** The result file: every answered line, in a shuffled (deterministic) order. */
const resultFile = (): string => {
  const lines: Array<string> = []
  for (let n = 0; n < PRODUCTS; n++) {
    if (MISSING.has(n)) continue
    lines.push(
      FAILED.has(n)
        ? `{"data":{"metafieldsSet":{"metafields":[],"userErrors":[{"field":["metafields","0","value"],"message":"Value is invalid.","code":"INVALID_VALUE"}]}},"__lineNumber":${n}}`
        : NO_DIGEST.has(n)
        ? `{"data":{"metafieldsSet":{"metafields":[{"id":"gid://shopify/Metafield/${n}"}],"userErrors":[]}},"__lineNumber":${n}}`
        : `{"data":{"metafieldsSet":{"metafields":[{"id":"gid://shopify/Metafield/${n}","compareDigest":"${digestOf(n)}"}],"userErrors":[]}},"__lineNumber":${n}}`
    )
  }
  for (let i = lines.length - 1, seed = 7; i > 0; i--) {
    seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648
    const j = seed % (i + 1)
    ;[lines[i], lines[j]] = [lines[j]!, lines[i]!]
  }
  return `${lines.join("\n")}\n`
}

const jobOf = (jobId: string): Job =>
  runningJob({
    jobId,
    shop: SHOP,
    input: { queryString: "status:active", namespace: "custom", key: "badge", type: "single_line_text_field", value: "Winter", dryRun: false, maxItems: 100_000 }
  })

/** How the server sends the next result file: whole, or its first half and then a pause or a cut. */
type Sending = { readonly kind: "whole" } | { readonly kind: "pause"; readonly resume: Promise<void> } | { readonly kind: "cut" }

describe.each(backends)("a chunk's results on $name", ({ layer: database }) => {
  let server: Server
  let url: string
  let sending: Sending = { kind: "whole" }

  beforeAll(async () => {
    const body = resultFile()
    const half = Math.floor(body.length / 2)
    // written in 8 kB pieces: the file arrives in many blocks, so after-state pages are written mid-stream
    const write = (res: import("node:http").ServerResponse, from: number, to: number) => {
      for (let at = from; at < to; at += 8_192) res.write(body.slice(at, Math.min(at + 8_192, to)))
    }
    server = createServer((_req, res) => {
      const how = sending
      res.writeHead(200, { "Content-Type": "application/jsonl" })
      if (how.kind === "whole") {
        write(res, 0, body.length)
        return void res.end()
      }
      write(res, 0, half)
      if (how.kind === "cut") return void res.socket?.destroy()
      void how.resume.then(() => {
        write(res, half, body.length)
        res.end()
      })
    })
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/results.jsonl`
  })

  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())))

  const admin = ShopifyAdminLive.layer({ adminUrlOverride: "http://127.0.0.1:9" }).pipe(Layer.provide(ShopCredentials.fromRecord({ [SHOP]: "shpat_test" })))
  const stack = () =>
    Layer.mergeAll(ShopifyJobSteps.layer.pipe(Layer.provide([admin, PgJobArtefacts.layer])), PgJobArtefacts.layer).pipe(Layer.provide(database()))

  /** A job whose snapshot holds the chunk's products, at ordinals 10, 13, 16, … */
  const storeSnapshot = (job: Job) =>
    Effect.gen(function*() {
      const artefacts = yield* JobArtefacts
      for (let from = 0; from < PRODUCTS; from += 1_000) {
        const rows: Array<SnapshotEntry> = Array.from({ length: 1_000 }, (_, i) => ({ ordinal: ordinalOf(from + i), productId: productId(from + i), prevValue: null, prevType: null }))
        yield* artefacts.writeSnapshot(SHOP, job.jobId, rows)
      }
    })

  /** The chunk's after-state is complete and right: every product once, by ordinal. */
  const expectAfterState = (job: Job) =>
    Effect.gen(function*() {
      const artefacts = yield* JobArtefacts
      const after = Array.from(yield* Stream.runCollect(readAfterState(artefacts, job.jobId, 0)))
      expect(after.map((e) => e.ordinal)).toEqual(Array.from({ length: PRODUCTS }, (_, n) => ordinalOf(n)))
      after.forEach((e, n) => {
        expect(e.productId).toBe(productId(n))
        const expected = MISSING.has(n) || NO_DIGEST.has(n)
          ? { kind: "unknown" }
          : FAILED.has(n)
          ? { kind: "failed" }
          : { kind: "written", digest: digestOf(n) }
        if (JSON.stringify(e.outcome) !== JSON.stringify(expected)) expect({ line: n, outcome: e.outcome }).toEqual({ line: n, outcome: expected })
      })
    })

  it("records every product's after-state once by ordinal, in any order of the file; reading again replaces it, a read cut off leaves it whole", async () => {
    const job = jobOf(randomUUID())
    await Effect.runPromise(Effect.gen(function*() {
      const steps = yield* JobSteps
      yield* storeSnapshot(job)
      for (const attempt of [1, 2]) {
        sending = { kind: "whole" }
        const result = yield* steps.readChunkResult(SHOP, job, 0, url)
        expect(result.updated, `attempt ${attempt}`).toBe(PRODUCTS - MISSING.size - FAILED.size)
        expect(result.failed).toBe(FAILED.size + MISSING.size)
        // the failed lines name their products
        for (const n of FAILED) expect(result.errorLines.some((l) => l.includes(productId(n)))).toBe(true)
        yield* expectAfterState(job)
      }
      sending = { kind: "cut" }
      const cut = yield* Effect.flip(steps.readChunkResult(SHOP, job, 0, url))
      expect(cut._tag).toBe("StepTransient")
      yield* expectAfterState(job)
    }).pipe(Effect.provide(stack())))
  }, 60_000)

  it("writes the after-state while the result file is still arriving", async () => {
    const job = jobOf(randomUUID())
    await Effect.runPromise(Effect.gen(function*() {
      const artefacts = yield* JobArtefacts
      const steps = yield* JobSteps
      yield* storeSnapshot(job)
      const resume = yield* Deferred.make<void>()
      sending = { kind: "pause", resume: Effect.runPromise(Deferred.await(resume)) }
      const reading = yield* Effect.forkChild(steps.readChunkResult(SHOP, job, 0, url))
      // half the file is in, the rest held back by the server: entries are already stored
      const stored = yield* pollUntil(
        Effect.map(artefacts.snapshotSize(afterStateKey(job.jobId, 0)), (n) => (n > 0 ? n : undefined)),
        "after-state entries while the file is still arriving"
      )
      expect(stored).toBeLessThan(PRODUCTS)
      yield* Deferred.succeed(resume, undefined)
      yield* Fiber.join(reading)
      yield* expectAfterState(job)
    }).pipe(Effect.provide(stack())))
  }, 60_000)
})
