/**
 * A job's snapshot step (`ShopifyJobSteps.storeSnapshot`) stores the bulk query's JSONL as the
 * job's snapshot while it streams in: every product once, in the file's order, with its value
 * before the job, and no more than `max_items` of them (the step says when more matched). The
 * file comes over real HTTP in 8 kB pieces, so the products arrive in many arrays and the
 * snapshot's statements (1,000 rows each) are cut across them; PostgreSQL 15 and PGlite.
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
import { JobArtefacts } from "../../src/jobs/JobArtefacts.ts"
import { JobSteps } from "../../src/jobs/JobSteps.ts"
import { backends } from "../support/databases.ts"
import { runningJob } from "../support/fixtures.ts"

const SHOP = "snapshot.myshopify.com"
const PRODUCTS = 3_000
const productId = (n: number) => `gid://shopify/Product/${500_000 + n}`
/** Every seventh product already has the metafield. */
const previousOf = (n: number) => (n % 7 === 0 ? { value: `before-${n}`, type: "single_line_text_field" } : null)

/** The bulk query's file: a product line each, some followed by a child line (which is not a product). */
const queryFile = (): string => {
  const lines: Array<string> = []
  for (let n = 0; n < PRODUCTS; n++) {
    lines.push(JSON.stringify({ id: productId(n), metafield: previousOf(n) }))
    if (n % 10 === 0) lines.push(JSON.stringify({ id: `gid://shopify/ProductVariant/${n}`, __parentId: productId(n) }))
  }
  return `${lines.join("\n")}\n`
}

const jobOf = (maxItems: number): Job =>
  runningJob({
    jobId: randomUUID(),
    shop: SHOP,
    input: { queryString: "status:active", namespace: "custom", key: "badge", type: "single_line_text_field", value: "Winter", dryRun: false, maxItems }
  })

describe.each(backends)("a job's snapshot on $name", ({ layer: database }) => {
  let server: Server
  let url: string

  beforeAll(async () => {
    const body = queryFile()
    server = createServer((_req, res) => {
      res.writeHead(200, { "Content-Type": "application/jsonl" })
      for (let at = 0; at < body.length; at += 8_192) res.write(body.slice(at, at + 8_192))
      res.end()
    })
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/query.jsonl`
  })

  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())))

  const admin = ShopifyAdminLive.layer({ adminUrlOverride: "http://127.0.0.1:9" }).pipe(Layer.provide(ShopCredentials.fromRecord({ [SHOP]: "shpat_test" })))
  const stack = () =>
    Layer.mergeAll(ShopifyJobSteps.layer.pipe(Layer.provide([admin, PgJobArtefacts.layer])), PgJobArtefacts.layer).pipe(Layer.provide(database()))

  /** The snapshot holds products 0…count-1, each once, at its place in the file, with its value before the job. */
  const expectSnapshot = (job: Job, count: number) =>
    Effect.gen(function*() {
      const artefacts = yield* JobArtefacts
      const rows = Array.from(yield* Stream.runCollect(artefacts.snapshot(job.jobId, 0, 2_147_483_647)))
      expect(rows.map((r) => r.ordinal)).toEqual(Array.from({ length: count }, (_, n) => n))
      rows.forEach((r, n) => {
        const previous = previousOf(n)
        const expected = { ordinal: n, productId: productId(n), prevValue: previous?.value ?? null, prevType: previous?.type ?? null }
        if (JSON.stringify(r) !== JSON.stringify(expected)) expect(r).toEqual(expected)
      })
    })

  it("stores at most max_items products, in the file's order, and says more matched", async () => {
    const job = jobOf(2_345)
    await Effect.runPromise(Effect.gen(function*() {
      const steps = yield* JobSteps
      const stored = yield* steps.storeSnapshot(SHOP, job, url)
      expect({ matched: stored.matched, truncated: stored.truncated }).toEqual({ matched: 2_345, truncated: true })
      yield* expectSnapshot(job, 2_345)
    }).pipe(Effect.provide(stack())))
  }, 60_000)

  it("stores every product when they fit, and storing again (a retried step) replaces the snapshot", async () => {
    const job = jobOf(PRODUCTS)
    await Effect.runPromise(Effect.gen(function*() {
      const steps = yield* JobSteps
      for (const attempt of [1, 2]) {
        const stored = yield* steps.storeSnapshot(SHOP, job, url)
        expect({ attempt, matched: stored.matched, truncated: stored.truncated }).toEqual({ attempt, matched: PRODUCTS, truncated: false })
        yield* expectSnapshot(job, PRODUCTS)
      }
    }).pipe(Effect.provide(stack())))
  }, 60_000)
})
