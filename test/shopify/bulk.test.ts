/**
 * Bulk operations through `ShopifyAdmin` against the simulator (manual bulk pace: the test
 * steps every operation explicitly), including the whole Flowmend job flow: snapshot query,
 * chunked metafieldsSet upload + mutation with partial user errors, result parsing, undo.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import { Effect, Stream } from "effect"
import {
  BulkOperationFailed,
  ShopifyAdmin,
  type ShopifyPermanentError,
  type ShopifyThrottled
} from "../../adapters/shopify/ShopifyAdmin.ts"
import {
  METAFIELDS_DELETE_MUTATION,
  METAFIELDS_SET_MUTATION,
  chunkJsonl,
  metafieldsDeleteLines,
  metafieldsRestoreLines,
  metafieldsSetLines,
  parseMutationResultFile,
  parseMutationResults,
  parseProductSnapshot,
  productMetafieldSnapshotQuery,
  snapshotProductIds,
  type JsonlChunk,
  type JsonlLine,
  type MetafieldTarget,
  type MutationResults
} from "../../adapters/shopify/MetafieldJsonl.ts"
import { nodeHttpDownload, nodeHttpUpload, type DownloadTransport, type UploadTransport } from "../../adapters/shopify/transport.ts"
import { SHOP, failureOf, startHarness, type Harness } from "./support.ts"
import { readFile, rm } from "node:fs/promises"

const TARGET: MetafieldTarget = { namespace: "sumeru", key: "badge" }
const VALUE = { ...TARGET, type: "single_line_text_field", value: "Winter Collection" }
const admin = <A, E, R>(f: (a: ShopifyAdmin["Service"]) => Effect.Effect<A, E, R>) => ShopifyAdmin.use(f)

/** Uploads one chunk and submits the bulk mutation; resolves to the operation id. */
const submitChunk = (mutation: string, chunk: JsonlChunk, clientIdentifier: string) =>
  admin((a) => Effect.flatMap(a.stagedUpload(SHOP, chunk.body, chunk.byteLength), (path) => a.startBulkMutation(SHOP, mutation, path, clientIdentifier)))

/** Chunks `lines`, uploads and submits every chunk (inside the pipeline, while the files exist). */
const submitAll = <E, R>(lines: Stream.Stream<JsonlLine, E, R>, mutation: string, job: string, maxBytes?: number) =>
  chunkJsonl(lines, maxBytes === undefined ? {} : { maxBytes }).pipe(
    Stream.mapEffect((chunk) => Effect.map(submitChunk(mutation, chunk, `${job}:chunk-${chunk.index}`), (id) => ({ id, chunk }))),
    Stream.runCollect
  )

describe("bulk operations", () => {
  let h: Harness
  beforeEach(async () => {
    h = await startHarness()
  })
  afterEach(() => h.close())

  it("runs the snapshot query: running → completed → streamed JSONL with ids and previous values", async () => {
    const shop = h.sim.shop()
    shop.setMetafield(2, { ...TARGET, type: "single_line_text_field", value: "Summer" })
    shop.setMetafield(5, { ...TARGET, type: "json", value: `{"a":1}` })
    const query = productMetafieldSnapshotQuery("", TARGET)
    const id = await h.run(admin((a) => a.startBulkQuery(SHOP, query)))
    expect(shop.bulkOperations()[0]).toMatchObject({ type: "QUERY", query, groupObjects: false })

    const running = await h.run(admin((a) => a.runningBulkOperations(SHOP, "QUERY")))
    expect(running.map((o) => [o.id, o.status, o.clientIdentifier])).toEqual([[id, "CREATED", null]])

    await shop.bulk.complete(id)
    const op = await h.run(admin((a) => a.awaitBulkOperation(SHOP, id)))
    expect(op).toMatchObject({ id, status: "COMPLETED", type: "QUERY", objectCount: 30, rootObjectCount: 30, errorCode: null })
    expect(op.fileSize).toBeGreaterThan(0)
    expect(await h.run(admin((a) => a.runningBulkOperations(SHOP, "QUERY")))).toEqual([])

    const objects = await h.run(admin((a) => Stream.runCollect(a.downloadJsonl(op.url as string))))
    const snapshots = objects.map(parseProductSnapshot)
    expect(snapshots).toHaveLength(30)
    expect(snapshots[0]).toEqual({ id: shop.productGid(1), previous: null })
    expect(snapshots[1]).toEqual({ id: shop.productGid(2), previous: { type: "single_line_text_field", value: "Summer" } })
    expect(snapshots[4]).toEqual({ id: shop.productGid(5), previous: { type: "json", value: `{"a":1}` } })
  })

  it("maps bulkOperationRunQuery userErrors: INVALID → permanent with Shopify's message, LIMIT_REACHED → throttled", async () => {
    const invalid = failureOf(await h.exit(admin((a) => a.startBulkQuery(SHOP, "{ shop { name } }")))) as ShopifyPermanentError
    expect(invalid).toMatchObject({ _tag: "ShopifyPermanentError", code: "INVALID", message: "Bulk queries must contain at least one connection.", field: ["query"] })

    const query = productMetafieldSnapshotQuery("", TARGET)
    await h.run(admin((a) => Effect.repeat(a.startBulkQuery(SHOP, query), { times: 4 })))
    const limited = failureOf(await h.exit(admin((a) => a.startBulkQuery(SHOP, query)))) as ShopifyThrottled
    expect(limited).toMatchObject({ _tag: "ShopifyThrottled", code: "LIMIT_REACHED", retryAfterMs: 30_000 })
    expect(limited.message).toBe("Bulk operations limit reached. Please try again later.")
  })

  it("fails with BulkOperationFailed (errorCode, partialDataUrl) when the operation fails", async () => {
    const shop = h.sim.shop()
    shop.faults.failNextBulkOperation({ errorCode: "TIMEOUT", afterObjects: 5 })
    const id = await h.run(admin((a) => a.startBulkQuery(SHOP, productMetafieldSnapshotQuery("", TARGET))))
    await shop.bulk.complete(id)
    const error = failureOf(await h.exit(admin((a) => a.awaitBulkOperation(SHOP, id))))
    expect(error).toBeInstanceOf(BulkOperationFailed)
    expect(error).toMatchObject({ id, status: "FAILED", errorCode: "TIMEOUT", objectCount: 5 })
    const partialUrl = (error as BulkOperationFailed).partialDataUrl
    expect(partialUrl).not.toBeNull()
    const partial = await h.run(admin((a) => Stream.runCollect(a.downloadJsonl(partialUrl as string))))
    expect(partial.map(parseProductSnapshot).map((s) => s?.id)).toEqual([1, 2, 3, 4, 5].map((n) => shop.productGid(n)))
  })

  it("cancels an operation (CANCELING → CANCELED, then BulkOperationFailed)", async () => {
    const shop = h.sim.shop()
    const id = await h.run(admin((a) => a.startBulkQuery(SHOP, productMetafieldSnapshotQuery("", TARGET))))
    const canceling = await h.run(admin((a) => a.cancelBulkOperation(SHOP, id)))
    expect(canceling.status).toBe("CANCELING")
    await shop.bulk.complete(id)
    const error = failureOf(await h.exit(admin((a) => a.awaitBulkOperation(SHOP, id))))
    expect(error).toMatchObject({ _tag: "BulkOperationFailed", status: "CANCELED", errorCode: null, partialDataUrl: null })
    // Canceling a finished operation reports it as it is.
    expect((await h.run(admin((a) => a.cancelBulkOperation(SHOP, id)))).status).toBe("CANCELED")
  })

  it("runs the whole job: snapshot, chunked metafieldsSet with partial user errors, counts and preview, then undo", async () => {
    const shop = h.sim.shop()
    shop.setMetafield(3, { ...TARGET, type: "single_line_text_field", value: "Old three" })
    shop.setMetafield(10, { ...TARGET, type: "single_line_text_field", value: "Old ten" })
    const failing = [4, 18, 29].map((n) => shop.productGid(n))
    shop.faults.failMutationsFor(failing, { code: "INTERNAL_ERROR", message: "boom" })

    // 1. Snapshot (ids + previous values).
    const queryId = await h.run(admin((a) => a.startBulkQuery(SHOP, productMetafieldSnapshotQuery("", TARGET))))
    await shop.bulk.complete(queryId)
    const snapshotUrl = (await h.run(admin((a) => a.awaitBulkOperation(SHOP, queryId)))).url as string
    const snapshot = admin((a) => Effect.succeed(a.downloadJsonl(snapshotUrl)))

    // 2. metafieldsSet JSONL in chunks of at most 16 lines' worth of bytes → two files.
    const lineBytes = Buffer.byteLength(`{"input":{"ownerId":"${shop.productGid(10)}","namespace":"sumeru","key":"badge","type":"single_line_text_field","value":"Winter Collection"}}\n`)
    const submitted = await h.run(
      Effect.flatMap(snapshot, (objects) => submitAll(metafieldsSetLines(snapshotProductIds(objects), VALUE), METAFIELDS_SET_MUTATION, "job-7", 16 * lineBytes))
    )
    expect(submitted.map(({ chunk }) => [chunk.index, chunk.firstLine, chunk.lineCount])).toEqual([[0, 0, 16], [1, 16, 14]])
    expect(shop.stagedFiles().map((f) => f.size)).toEqual(submitted.map(({ chunk }) => chunk.byteLength))

    // A restarted job finds its mutations by client identifier.
    const running = await h.run(admin((a) => a.runningBulkOperations(SHOP, "MUTATION")))
    expect(running.map((o) => [o.id, o.clientIdentifier]).sort()).toEqual(submitted.map(({ id }, i) => [id, `job-7:chunk-${i}`]).sort())
    expect(shop.bulkOperations().filter((o) => o.type === "MUTATION").map((o) => o.clientIdentifier)).toEqual(["job-7:chunk-0", "job-7:chunk-1"])

    // 3. Complete, download, parse (results arrive shuffled; correlate by __lineNumber).
    const results: Array<MutationResults> = []
    for (const { id, chunk } of submitted) {
      await shop.bulk.complete(id)
      const op = await h.run(admin((a) => a.awaitBulkOperation(SHOP, id)))
      const raw = (await shop.bulkResultLines(id)) as Array<{ __lineNumber: number }>
      expect(raw.map((l) => l.__lineNumber)).not.toEqual([...raw.map((l) => l.__lineNumber)].sort((a, b) => a - b))
      const parsed = await h.run(admin((a) => parseMutationResults(a.downloadJsonl(op.url as string), { ownerOf: chunk.ownerOf, expectedLines: chunk.lineCount })))
      const fromLines = await h.run(admin((a) => parseMutationResultFile(a.downloadBytes(op.url as string), { ownerOf: chunk.ownerOf, expectedLines: chunk.lineCount })))
      expect({ ...fromLines, errorLinesPath: "" }).toEqual({ ...parsed, errorLinesPath: "" })
      if (fromLines.errorLinesPath !== undefined) await rm(fromLines.errorLinesPath)
      results.push(parsed)
    }
    const total = (k: "updated" | "failed" | "userErrorLines" | "topLevelErrorLines" | "parseErrorLines") => results.reduce((n, r) => n + r[k], 0)
    expect([total("updated"), total("failed"), total("userErrorLines"), total("topLevelErrorLines"), total("parseErrorLines")]).toEqual([27, 3, 3, 0, 0])
    expect(results.map((r) => r.missingLines)).toEqual([0, 0])
    const preview = results.flatMap((r) => r.errorPreview.trimEnd().split("\n").filter((l) => l !== "").map((l) => JSON.parse(l)))
    expect(preview).toEqual([
      { line: 3, ownerId: failing[0], kind: "userErrors", errors: [{ message: "boom", code: "INTERNAL_ERROR", field: ["metafields", "0", "ownerId"] }] },
      { line: 1, ownerId: failing[1], kind: "userErrors", errors: [{ message: "boom", code: "INTERNAL_ERROR", field: ["metafields", "0", "ownerId"] }] },
      { line: 12, ownerId: failing[2], kind: "userErrors", errors: [{ message: "boom", code: "INTERNAL_ERROR", field: ["metafields", "0", "ownerId"] }] }
    ])
    for (const r of results) {
      expect(r.errorLinesPath).toBeDefined()
      const all = (await readFile(r.errorLinesPath as string, "utf8")).trimEnd().split("\n")
      expect(all).toHaveLength(r.errorLineCount)
      await rm(r.errorLinesPath as string)
    }
    expect(shop.metafield(1, TARGET.namespace, TARGET.key)?.value).toBe("Winter Collection")
    expect(shop.metafield(3, TARGET.namespace, TARGET.key)?.value).toBe("Winter Collection")
    expect(shop.metafield(4, TARGET.namespace, TARGET.key)).toBeUndefined()

    // 4. Undo: restore previous values, delete where none existed.
    shop.faults.clearMutationErrors()
    const undo = await h.run(
      Effect.flatMap(snapshot, (objects) =>
        Effect.all([
          submitAll(metafieldsRestoreLines(objects, TARGET), METAFIELDS_SET_MUTATION, "job-7-undo-restore"),
          submitAll(metafieldsDeleteLines(objects, TARGET), METAFIELDS_DELETE_MUTATION, "job-7-undo-delete")
        ])
      )
    )
    expect(undo.map((u) => u.map(({ chunk }) => chunk.lineCount))).toEqual([[2], [28]])
    for (const { id, chunk } of undo.flat()) {
      await shop.bulk.complete(id)
      const op = await h.run(admin((a) => a.awaitBulkOperation(SHOP, id)))
      const r = await h.run(admin((a) => parseMutationResults(a.downloadJsonl(op.url as string), { expectedLines: chunk.lineCount })))
      expect([r.updated, r.failed, r.missingLines]).toEqual([chunk.lineCount, 0, 0])
    }
    expect(shop.metafield(3, TARGET.namespace, TARGET.key)?.value).toBe("Old three")
    expect(shop.metafield(10, TARGET.namespace, TARGET.key)?.value).toBe("Old ten")
    for (const n of [1, 4, 30]) expect(shop.metafield(n, TARGET.namespace, TARGET.key)).toBeUndefined()
  })

  it("shows why the seed's JSONL had to change: `id` + `metafields` lines fail as top-level variable errors", async () => {
    const shop = h.sim.shop()
    const seedLines = [1, 2, 3].map((n) => ({
      text: JSON.stringify({ input: { id: shop.productGid(n), metafields: [{ namespace: "custom", key: "seasonal_badge", type: "single_line_text_field", value: "Winter" }] } }),
      owner: shop.productGid(n)
    }))
    const { id, chunk } = (await h.run(submitAll(Stream.fromIterable(seedLines), METAFIELDS_SET_MUTATION, "seed-shape")))[0] as { id: string; chunk: JsonlChunk }
    await shop.bulk.complete(id)
    const op = await h.run(admin((a) => a.awaitBulkOperation(SHOP, id)))
    const r = await h.run(admin((a) => parseMutationResults(a.downloadJsonl(op.url as string), { ownerOf: chunk.ownerOf, expectedLines: 3 })))
    expect([r.updated, r.topLevelErrorLines]).toEqual([0, 3])
    expect(r.errorPreview).toContain("INVALID_VARIABLE")
    if (r.errorLinesPath !== undefined) await rm(r.errorLinesPath)
  })

  it("never submits a chunk twice: a mutation whose answer was lost is found by client identifier", async () => {
    const shop = h.sim.shop()
    let lost = 0
    const losing: typeof fetch = async (input, init) => {
      const response = await fetch(input, init)
      if (lost === 0 && String(init?.body ?? "").includes("bulkOperationRunMutation(")) {
        lost++
        await response.text() // Shopify ran it; the answer never reached us
        return new Response("<html>502 Bad Gateway</html>", { status: 502, headers: { "Content-Type": "text/html" } })
      }
      return response
    }
    const submitted = await h.run(submitAll(metafieldsSetLines(Stream.make(shop.productGid(1), shop.productGid(2)), VALUE), METAFIELDS_SET_MUTATION, "lost"), { fetch: losing })
    expect(lost).toBe(1)
    const mutations = shop.bulkOperations().filter((o) => o.type === "MUTATION")
    expect(mutations).toHaveLength(1)
    expect(submitted.map(({ id }) => id)).toEqual([`gid://shopify/BulkOperation/${mutations[0]?.id}`])
    expect(shop.requests.filter((r) => r.rootFields.includes("bulkOperationRunMutation"))).toHaveLength(1)

    // A 502 *before* Shopify ran it: nothing found, submitted again, still exactly once.
    shop.faults.httpErrorNext(502, 1, { match: { rootField: "bulkOperationRunMutation" } })
    const again = await h.run(submitAll(metafieldsSetLines(Stream.make(shop.productGid(3)), VALUE), METAFIELDS_SET_MUTATION, "refused"))
    expect(shop.bulkOperations().filter((o) => o.clientIdentifier === "refused:chunk-0").map((o) => `gid://shopify/BulkOperation/${o.id}`)).toEqual(again.map(({ id }) => id))
    expect(await h.run(admin((a) => a.findBulkMutation(SHOP, "refused:chunk-0")))).toMatchObject({ id: again[0]?.id, clientIdentifier: "refused:chunk-0", status: "CREATED" })
    expect(await h.run(admin((a) => a.findBulkMutation(SHOP, "nope")))).toBeNull()
  })

  it("rejects an unknown staged path with Shopify's NO_SUCH_FILE", async () => {
    const error = failureOf(
      await h.exit(admin((a) => a.startBulkMutation(SHOP, METAFIELDS_SET_MUTATION, `tmp/${h.sim.shop().number}/bulk/00000000-0000-4000-8000-000000000000/x`, "job-x")))
    ) as ShopifyPermanentError
    expect(error).toMatchObject({ code: "NO_SUCH_FILE", field: ["stagedUploadPath"] })
  })

  it("lists foreign (untagged) mutations with a null clientIdentifier", async () => {
    const shop = h.sim.shop()
    const submitted = await h.run(submitAll(metafieldsSetLines(Stream.make(shop.productGid(1)), VALUE), METAFIELDS_SET_MUTATION, "mine"))
    expect(submitted.map(({ chunk }) => chunk.lineCount)).toEqual([1])
    const path = shop.stagedFiles()[0]?.key as string
    await h.run(admin((a) => a.graphql(SHOP, `mutation($m: String!, $p: String!) { bulkOperationRunMutation(mutation: $m, stagedUploadPath: $p) { userErrors { message } } }`, { m: METAFIELDS_SET_MUTATION, p: path })))
    const running = await h.run(admin((a) => a.runningBulkOperations(SHOP, "MUTATION")))
    expect(running.map((o) => o.clientIdentifier)).toEqual([null, "mine:chunk-0"])
  })

  it("retries a staged upload that got a 503, replaying the body from disk", async () => {
    let failed = 0
    const flaky: UploadTransport = async (request) => {
      if (failed === 0) {
        failed++
        for await (const _ of request.body) {
          // the bucket read it all, then failed
        }
        return { status: 503, text: "<?xml version='1.0'?><Error><Code>ServiceUnavailable</Code><Message>Try again</Message></Error>" }
      }
      return nodeHttpUpload(request)
    }
    const shop = h.sim.shop()
    const lines = metafieldsSetLines(Stream.fromIterable([1, 2, 3].map((n) => shop.productGid(n))), VALUE)
    const submitted = await h.run(submitAll(lines, METAFIELDS_SET_MUTATION, "retry"), { upload: flaky, backoffBaseMs: 400 })
    expect(failed).toBe(1)
    expect(shop.stagedFiles().map((f) => f.size)).toEqual([submitted[0]?.chunk.byteLength])
    expect(h.time.sleeps).toHaveLength(1)
    expect(h.time.sleeps[0]).toBeGreaterThanOrEqual(200)
  })

  it("retries a result download answered 503, and reports a download cut mid-stream as transient", async () => {
    const shop = h.sim.shop()
    const id = await h.run(admin((a) => a.startBulkQuery(SHOP, productMetafieldSnapshotQuery("", TARGET))))
    await shop.bulk.complete(id)
    const url = (await h.run(admin((a) => a.awaitBulkOperation(SHOP, id)))).url as string
    let calls = 0
    const flaky: DownloadTransport = async (request) => {
      if (calls++ === 0) return { status: 503, body: (async function*() {})(), text: async () => "<Error><Code>ServiceUnavailable</Code><Message>busy</Message></Error>", close: () => undefined }
      return nodeHttpDownload(request)
    }
    const objects = await h.run(admin((a) => Stream.runCollect(a.downloadJsonl(url))), { download: flaky, backoffBaseMs: 100 })
    expect([calls, objects.length, h.time.sleeps.length]).toEqual([2, 30, 1])

    const cut: DownloadTransport = async (request) => {
      const real = await nodeHttpDownload(request)
      async function* firstChunkThenReset() {
        for await (const chunk of real.body) {
          yield chunk.subarray(0, 100)
          break
        }
        real.close()
        throw Object.assign(new Error("aborted"), { code: "ECONNRESET" })
      }
      return { ...real, body: firstChunkThenReset() }
    }
    const error = failureOf(await h.exit(admin((a) => Stream.runDrain(a.downloadJsonl(url))), { download: cut }))
    expect(error).toMatchObject({ _tag: "ShopifyUnavailable", operation: "downloadJsonl" })
    expect((error as { message: string }).message).toContain("Download interrupted: aborted")
  })

  it("fails permanently when the upload body does not match its declared length", async () => {
    const error = failureOf(
      await h.exit(admin((a) => a.stagedUpload(SHOP, Stream.make(new TextEncoder().encode(`{"input":{}}\n`)), 100)))
    ) as ShopifyPermanentError
    expect(error).toMatchObject({ _tag: "ShopifyPermanentError", code: "UPLOAD_LENGTH_MISMATCH" })
    expect(h.sim.shop().stagedFiles()).toEqual([])
  })

  it("reports an expired result URL as permanent (and the operation as EXPIRED)", async () => {
    const shop = h.sim.shop()
    const id = await h.run(admin((a) => a.startBulkQuery(SHOP, productMetafieldSnapshotQuery("", TARGET))))
    await shop.bulk.complete(id)
    const url = (await h.run(admin((a) => a.awaitBulkOperation(SHOP, id)))).url as string
    h.time.manual.advance(8 * 86_400_000)
    const error = failureOf(await h.exit(admin((a) => Stream.runDrain(a.downloadJsonl(url))))) as ShopifyPermanentError
    expect(error).toMatchObject({ _tag: "ShopifyPermanentError", code: "ExpiredToken", status: 400, operation: "downloadJsonl" })
    expect(failureOf(await h.exit(admin((a) => a.awaitBulkOperation(SHOP, id))))).toMatchObject({ _tag: "BulkOperationFailed", status: "EXPIRED" })
  })
})
