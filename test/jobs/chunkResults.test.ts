/**
 * Reading a chunk's results (`ShopifyJobSteps.readChunkResult`) records the after-state its
 * undo compares with while the result file streams in: every product of the chunk once, by
 * its snapshot ordinal, whatever the order of the file's lines — written with Shopify's
 * `compareDigest`, failed, or unknown (no result line, or none of its digest) — and reading
 * the results again replaces it. A snapshot of 12,000 products: its pages (5,000 rows each,
 * `job_snapshot_page`, migration 0020) and the after-state's pages (1,000) are crossed. The
 * result file comes over real HTTP; PostgreSQL 15 and PGlite.
 */
import { Effect, Layer, Stream } from "effect"
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
import { readAfterState } from "../../src/jobs/UndoArtefacts.ts"
import { backends } from "../support/databases.ts"

const SHOP = "results.myshopify.com"
const PRODUCTS = 12_000
/** Input lines without a result line (the file stops short of them). */
const MISSING = new Set([7, 5_003, 11_999])
/** Lines answered with userErrors. */
const FAILED = new Set([11, 4_999, 10_000])
/** Lines answered without a compareDigest. */
const NO_DIGEST = new Set([13, 6_001])

const productId = (ordinal: number) => `gid://shopify/Product/${900_000 + ordinal}`
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

const jobOf = (jobId: string): Job => ({
  exists: true,
  jobId,
  shop: SHOP,
  input: {
    queryString: "status:active",
    namespace: "custom",
    key: "badge",
    type: "single_line_text_field",
    value: "Winter",
    dryRun: false,
    maxItems: 100_000
  },
  inputHash: "test",
  actionRunId: null,
  source: "api",
  requestedBy: null,
  undoOf: null,
  status: "RUNNING",
  requestedAt: "2026-12-07T00:00:00Z",
  startedAt: "2026-12-07T00:00:00Z",
  finishedAt: null,
  updatedAt: "2026-12-07T00:00:00Z",
  attempt: 1,
  lastRetry: null,
  bulkQueryOperationIds: [],
  query: null,
  chunks: [],
  updatedCount: 0,
  failedCount: 0,
  changedSinceCount: 0,
  errorPreview: "",
  failure: null,
  undoneBy: null,
  undoForced: false
})

describe.each(backends)("a chunk's results on $name", ({ layer: database }) => {
  let server: Server
  let url: string

  beforeAll(async () => {
    const body = resultFile()
    // written in 8 kB pieces: the file arrives in many blocks, so after-state pages are written mid-stream
    server = createServer((_req, res) => {
      res.writeHead(200, { "Content-Type": "application/jsonl" })
      for (let at = 0; at < body.length; at += 8_192) res.write(body.slice(at, at + 8_192))
      res.end()
    })
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/results.jsonl`
  })

  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())))

  it("records every product's after-state once by ordinal, in any order of the file, and again replaces it", async () => {
    const admin = ShopifyAdminLive.layer({ adminUrlOverride: "http://127.0.0.1:9" }).pipe(Layer.provide(ShopCredentials.fromRecord({ [SHOP]: "shpat_test" })))
    const layer = Layer.mergeAll(ShopifyJobSteps.layer.pipe(Layer.provide([admin, PgJobArtefacts.layer])), PgJobArtefacts.layer).pipe(
      Layer.provide(database())
    )
    const job = jobOf(randomUUID())
    await Effect.runPromise(Effect.gen(function*() {
      const artefacts = yield* JobArtefacts
      const steps = yield* JobSteps
      for (let from = 0; from < PRODUCTS; from += 1_000) {
        const rows: Array<SnapshotEntry> = Array.from({ length: 1_000 }, (_, i) => ({ ordinal: from + i, productId: productId(from + i), prevValue: null, prevType: null }))
        yield* artefacts.appendSnapshot(SHOP, job.jobId, rows)
      }

      for (const attempt of [1, 2]) {
        const result = yield* steps.readChunkResult(SHOP, job, 0, url)
        expect(result.updated, `attempt ${attempt}`).toBe(PRODUCTS - MISSING.size - FAILED.size)
        expect(result.failed).toBe(FAILED.size + MISSING.size)
        // the failed lines name their products
        for (const n of FAILED) expect(result.errorLines.some((l) => l.includes(productId(n)))).toBe(true)

        const after = Array.from(yield* Stream.runCollect(readAfterState(artefacts, job.jobId, 0)))
        expect(after.map((e) => e.ordinal)).toEqual(Array.from({ length: PRODUCTS }, (_, n) => n))
        for (const e of after) {
          const n = e.ordinal
          expect(e.productId).toBe(productId(n))
          const expected = MISSING.has(n) || NO_DIGEST.has(n)
            ? { kind: "unknown" }
            : FAILED.has(n)
            ? { kind: "failed" }
            : { kind: "written", digest: digestOf(n) }
          if (JSON.stringify(e.outcome) !== JSON.stringify(expected)) expect({ ordinal: n, outcome: e.outcome }).toEqual({ ordinal: n, outcome: expected })
        }
      }
    }).pipe(Effect.provide(layer)))
  }, 60_000)
})
