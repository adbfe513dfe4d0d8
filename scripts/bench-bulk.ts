/**
 * Bulk metafield pipeline benchmark (prints, does not assert):
 *
 *   npm run bench:bulk            # 1,000,000 products
 *   node scripts/bench-bulk.ts 200000
 *
 * 1. build the metafieldsSet JSONL for N product ids, chunk it into ≤ 95 MiB files, upload
 *    each chunk to the Shopify simulator through the adapter's full staged-upload path
 *    (stagedUploadsCreate + streamed multipart POST, file last) and submit the bulk mutation;
 * 2. stream-download and parse realistic result files (one per chunk, `__lineNumber`
 *    shuffled, ~0.3% userErrors) through `downloadJsonl` + `parseMutationResults`.
 *
 * The simulator and the result-file server run in a child process, so this process's peak
 * RSS is the adapter's alone, and the two share the machine's cores like production would.
 */
import { fork, type ChildProcess } from "node:child_process"
import { createReadStream, createWriteStream } from "node:fs"
import { mkdtemp, rm, stat } from "node:fs/promises"
import { createServer } from "node:http"
import type { AddressInfo } from "node:net"
import { loadavg, tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { Effect, Layer, Stream } from "effect"
import { ShopCredentials, ShopifyAdmin } from "../adapters/shopify/ShopifyAdmin.ts"
import * as ShopifyAdminLive from "../adapters/shopify/ShopifyAdminLive.ts"
import {
  METAFIELDS_SET_MUTATION,
  chunkJsonl,
  metafieldsSetLines,
  parseMutationResultFile,
  parseMutationResults,
  type MutationResults
} from "../adapters/shopify/MetafieldJsonl.ts"

const SHOP = "bench.myshopify.com"
const TOKEN = "shpat_bench"
const VALUE = { namespace: "custom", key: "seasonal_badge", type: "single_line_text_field", value: "Winter Collection" }
const ERROR_RATE = 0.003

type ToChild = { readonly type: "results"; readonly lineCounts: ReadonlyArray<number> } | { readonly type: "stop" }
type ToParent = { readonly type: "ready"; readonly url: string } | { readonly type: "results"; readonly urls: ReadonlyArray<string>; readonly bytes: number }

// ------------------------------------------------------------------------------ child

/** Deterministic PRNG (mulberry32). */
const prng = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}

/** A bulk mutation result file for `lines` input lines: shuffled order, ~0.3% userErrors. */
const writeResults = async (path: string, lines: number, seed: number): Promise<number> => {
  const random = prng(seed)
  const order = new Int32Array(lines)
  for (let i = 0; i < lines; i++) order[i] = i
  for (let i = lines - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1))
    const t = order[i] as number
    order[i] = order[j] as number
    order[j] = t
  }
  const out = createWriteStream(path)
  let batch: Array<string> = []
  for (let i = 0; i < lines; i++) {
    const n = order[i] as number
    batch.push(
      random() < ERROR_RATE
        ? `{"data":{"metafieldsSet":{"metafields":[],"userErrors":[{"field":["metafields","0","value"],"message":"Value must be a single line text string.","code":"INVALID_VALUE","elementIndex":null}]}},"__lineNumber":${n}}`
        : `{"data":{"metafieldsSet":{"metafields":[{"id":"gid://shopify/Metafield/${40_000_000_000 + seed * 10_000_000 + n}"}],"userErrors":[]}},"__lineNumber":${n}}`
    )
    if (batch.length === 10_000 || i === lines - 1) {
      if (!out.write(`${batch.join("\n")}\n`)) await new Promise<void>((resolve) => out.once("drain", () => resolve()))
      batch = []
    }
  }
  await new Promise<void>((resolve, reject) => out.end((error?: Error | null) => (error ? reject(error) : resolve())))
  return (await stat(path)).size
}

const child = async (products: number): Promise<void> => {
  const { startShopifySimulator } = await import("../src/simulator/shopify/index.ts")
  const sim = await startShopifySimulator({
    appSecret: "bench",
    shops: [{ domain: SHOP, accessToken: TOKEN, products }],
    bulkPace: "manual", // the mutations are submitted, not executed: results are generated below
    log: () => undefined
  })
  const dir = await mkdtemp(join(tmpdir(), "bench-bulk-results-"))
  const files = new Map<string, string>()
  const server = createServer((req, res) => {
    const file = files.get(req.url ?? "")
    if (file === undefined) return void res.writeHead(404).end()
    void stat(file).then((s) => {
      res.writeHead(200, { "Content-Type": "application/jsonl", "Content-Length": String(s.size) })
      createReadStream(file, { highWaterMark: 1024 * 1024 }).pipe(res)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const send = (m: ToParent) => process.send?.(m)
  process.on("message", async (m: ToChild) => {
    if (m.type === "results") {
      let bytes = 0
      const urls: Array<string> = []
      for (const [i, lines] of m.lineCounts.entries()) {
        const path = join(dir, `results-${i}.jsonl`)
        bytes += await writeResults(path, lines, i + 1)
        files.set(`/results/${i}.jsonl`, path)
        urls.push(`${base}/results/${i}.jsonl`)
      }
      send({ type: "results", urls, bytes })
    } else {
      server.close()
      await sim.close()
      await rm(dir, { recursive: true, force: true })
      process.exit(0)
    }
  })
  send({ type: "ready", url: sim.url })
}

// ----------------------------------------------------------------------------- parent

const nextMessage = (c: ChildProcess, type: ToParent["type"]): Promise<ToParent> =>
  new Promise((resolve, reject) => {
    const onMessage = (m: ToParent) => {
      if (m.type !== type) return
      c.off("message", onMessage)
      resolve(m)
    }
    c.on("message", onMessage)
    c.once("exit", (code) => reject(new Error(`simulator process exited (${code})`)))
  })

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`
const secs = (ms: number) => `${(ms / 1000).toFixed(2)} s`

const parent = async (products: number): Promise<void> => {
  const simProcess = fork(fileURLToPath(import.meta.url), ["--child", String(products)], {
    stdio: ["ignore", "inherit", "inherit", "ipc"],
    // The simulator's upload receiver leaks one 'error' listener per backpressured disk write
    // (src/simulator/shopify/stagedUploads.ts writeChunk), which prints MaxListenersExceededWarning.
    execArgv: [...process.execArgv, "--no-warnings"]
  })
  const ready = (await nextMessage(simProcess, "ready")) as Extract<ToParent, { type: "ready" }>

  let peakRss = process.memoryUsage.rss()
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage.rss())
  }, 20)
  sampler.unref()

  const layer = ShopifyAdminLive.layer({ adminUrlOverride: ready.url }).pipe(Layer.provide(ShopCredentials.fromRecord({ [SHOP]: TOKEN })))

  const program = Effect.gen(function*() {
    const admin = yield* ShopifyAdmin
    const rssStart = process.memoryUsage.rss()
    let uploadMs = 0
    let uploadedBytes = 0

    const cpu = () => {
      const u = process.cpuUsage()
      return (u.user + u.system) / 1000
    }
    // Phase 1: build + chunk + upload + submit.
    const c0 = cpu()
    const t0 = performance.now()
    const ids = Stream.range(1, products).pipe(Stream.map((n) => `gid://shopify/Product/${n}`))
    const chunks = yield* chunkJsonl(metafieldsSetLines(ids, VALUE)).pipe(
      Stream.mapEffect((chunk) =>
        Effect.gen(function*() {
          const started = performance.now()
          const path = yield* admin.stagedUpload(SHOP, chunk.body, chunk.byteLength)
          const id = yield* admin.startBulkMutation(SHOP, METAFIELDS_SET_MUTATION, path, `bench:chunk-${chunk.index}`)
          uploadMs += performance.now() - started
          uploadedBytes += chunk.byteLength
          return { index: chunk.index, lineCount: chunk.lineCount, byteLength: chunk.byteLength, ownerOf: chunk.ownerOf, id }
        })
      ),
      Stream.runCollect
    )
    const t1 = performance.now()
    const c1 = cpu()
    const peakAfterUpload = peakRss

    // Phase 2: result files (generated by the other process, not timed), then download + parse.
    simProcess.send({ type: "results", lineCounts: chunks.map((c) => c.lineCount) } satisfies ToChild)
    const results = (yield* Effect.promise(() => nextMessage(simProcess, "results"))) as Extract<ToParent, { type: "results" }>
    const t2 = performance.now()
    const c2 = cpu()
    const parsed: Array<MutationResults> = []
    for (const [i, url] of results.urls.entries()) {
      const chunk = chunks[i] as (typeof chunks)[number]
      parsed.push(yield* parseMutationResultFile(admin.downloadBytes(url), { ownerOf: chunk.ownerOf, expectedLines: chunk.lineCount }))
    }
    const t3 = performance.now()
    const c3 = cpu()
    const peakAfterParse = peakRss
    for (const r of parsed) if (r.errorLinesPath !== undefined) yield* Effect.promise(() => rm(r.errorLinesPath as string, { force: true }))

    // For comparison (not in the total): the generic path, JSON.parse of every line.
    const t4 = performance.now()
    const c4 = cpu()
    for (const [i, url] of results.urls.entries()) {
      const chunk = chunks[i] as (typeof chunks)[number]
      const r = yield* parseMutationResults(admin.downloadJsonl(url), { ownerOf: chunk.ownerOf, expectedLines: chunk.lineCount })
      if (r.updated !== parsed[i]?.updated || r.failed !== parsed[i]?.failed) throw new Error("the two parsers disagree")
      if (r.errorLinesPath !== undefined) yield* Effect.promise(() => rm(r.errorLinesPath as string, { force: true }))
    }
    const t5 = performance.now()
    const c5 = cpu()

    const sum = (k: "updated" | "failed" | "resultLines" | "missingLines") => parsed.reduce((n, r) => n + (r[k] ?? 0), 0)
    console.log(`bench:bulk — ${products.toLocaleString("en")} products, Node ${process.version}, ${(yield* Effect.sync(() => navigator.hardwareConcurrency))} cores`)
    console.log(`  chunks              ${chunks.map((c) => `#${c.index}: ${c.lineCount.toLocaleString("en")} lines / ${mb(c.byteLength)}`).join(", ")}`)
    console.log(`  build+chunk+upload  ${secs(t1 - t0)} wall, ${secs(c1 - c0)} CPU in this process  (upload + submit ${secs(uploadMs)}, ${mb(uploadedBytes)} at ${(uploadedBytes / 1024 / 1024 / (uploadMs / 1000)).toFixed(0)} MB/s; build + chunk files ${secs(t1 - t0 - uploadMs)})`)
    console.log(`  download+parse      ${secs(t3 - t2)} wall, ${secs(c3 - c2)} CPU  (${mb(results.bytes)} of results, ${sum("resultLines").toLocaleString("en")} lines: ${sum("updated").toLocaleString("en")} updated, ${sum("failed").toLocaleString("en")} failed, ${sum("missingLines")} missing)`)
    console.log(`  total (timed)       ${secs(t1 - t0 + (t3 - t2))} wall, ${secs(c1 - c0 + (c3 - c2))} CPU`)
    console.log(`  (generic downloadJsonl + parseMutationResults, JSON.parse per line: ${secs(t5 - t4)} wall, ${secs(c5 - c4)} CPU; not in the total)`)
    console.log(`  machine load        ${loadavg().map((l) => l.toFixed(1)).join(" ")} (1/5/15 min)`)
    console.log(`  error preview       ${parsed[0]?.errorPreviewLines} lines / ${parsed[0] === undefined ? 0 : Buffer.byteLength(parsed[0].errorPreview)} bytes (chunk 0)`)
    peakRss = Math.max(peakRss, process.memoryUsage.rss())
    console.log(
      `  RSS                 start ${mb(rssStart)} (Node + TS stripping + Effect), peak: build+upload ${mb(peakAfterUpload)}, download+parse ${mb(peakAfterParse)}, generic parse ${mb(peakRss)} (sampled every 20 ms; getrusage maxRSS ${mb(process.resourceUsage().maxRSS * 1024)})`
    )
  })

  try {
    await Effect.runPromise(program.pipe(Effect.provide(layer)))
  } finally {
    clearInterval(sampler)
    simProcess.send({ type: "stop" } satisfies ToChild)
  }
}

const count = (arg: string | undefined) => (arg === undefined ? 1_000_000 : Number(arg.replace(/_/g, "")))

if (process.argv[2] === "--child") await child(count(process.argv[3]))
else await parent(count(process.argv[2]))
