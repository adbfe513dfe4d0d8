/**
 * Bulk metafield benchmark (prints, does not assert):
 *
 *   npm run bench:bulk            # 1,000,000 products
 *   node scripts/bench-bulk.ts 200000
 *
 * Part 1, the adapter's pipeline:
 * 1. build the metafieldsSet JSONL for N product ids, chunk it into ≤ 95 MiB files, upload
 *    each chunk to the Shopify simulator through the adapter's full staged-upload path
 *    (stagedUploadsCreate + streamed multipart POST, file last) and submit the bulk mutation;
 * 2. stream-download and parse realistic result files (one per chunk, `__lineNumber`
 *    shuffled, ~0.3% userErrors) through `downloadJsonl` + `parseMutationResults`.
 *
 * Part 2, the job's own steps (`jobPart`, in a process of its own): what a worker runs for a
 * Flowmend job, its artefacts on a PostgreSQL server; at the product's cap on a job (100,000
 * products), then at N when N is more.
 *
 * It runs bundled, as Sumeru runs in production (`npm start` and the README's roles run
 * `dist/server/cli.js`): it bundles itself into `dist/bench/` (`scripts/bundle.ts`) and runs
 * that. `BENCH_BULK_FROM=source` runs it from source, which adds the source of every module
 * and Node's TypeScript stripping to every figure (~75 MB at start).
 *
 * The simulator and the file servers run in a child process, so a part's peak RSS is its own,
 * and they share the machine's cores like production would.
 */
import { fork, type ChildProcess } from "node:child_process"
import { randomUUID } from "node:crypto"
import { once } from "node:events"
import { createReadStream, createWriteStream } from "node:fs"
import { mkdtemp, rm, stat } from "node:fs/promises"
import { createServer } from "node:http"
import type { AddressInfo } from "node:net"
import { loadavg, tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { Effect, Layer, Redacted, Stream } from "effect"
import { MAX_ITEMS_MAX } from "../domain/jobs/index.ts"
import { startImage } from "../src/cli/processImage.ts"
import { bundle } from "./bundle.ts"
import { peakRssMb } from "./bench/proc.ts"
import { runningJob } from "../test/support/fixtures.ts"
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

/** This script: its children run it too (`--child`, `--job`). */
const ENTRY = fileURLToPath(import.meta.url)
/** How this run's code is loaded: from the bundle `dist/bench/bench-bulk.js`, or from source. */
const LOADED = ENTRY.endsWith(".js") ? "bundled" : "from source"

const SHOP = "bench.myshopify.com"
const TOKEN = "shpat_bench"
const VALUE = { namespace: "custom", key: "seasonal_badge", type: "single_line_text_field" as const, value: "Winter Collection" }
const ERROR_RATE = 0.003

type ToChild =
  | { readonly type: "results"; readonly lineCounts: ReadonlyArray<number>; readonly digests?: boolean }
  | { readonly type: "snapshot"; readonly products: number }
  | { readonly type: "stop" }
type ToParent =
  | { readonly type: "ready"; readonly url: string }
  | { readonly type: "results"; readonly urls: ReadonlyArray<string>; readonly bytes: number }
  | { readonly type: "snapshot"; readonly url: string; readonly bytes: number }

// ------------------------------------------------------------------------------ child

/** Deterministic PRNG (mulberry32). */
const prng = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}

/** Writes `count` lines made by `line(i)` to `path` in batches (backpressured); returns the file's size. */
const writeLines = async (path: string, count: number, line: (i: number) => string): Promise<number> => {
  const out = createWriteStream(path)
  let batch: Array<string> = []
  for (let i = 0; i < count; i++) {
    batch.push(line(i))
    if (batch.length === 10_000 || i === count - 1) {
      if (!out.write(`${batch.join("\n")}\n`)) await new Promise<void>((resolve) => out.once("drain", () => resolve()))
      batch = []
    }
  }
  await new Promise<void>((resolve, reject) => out.end((error?: Error | null) => (error ? reject(error) : resolve())))
  return (await stat(path)).size
}

/**
 * A bulk mutation result file for `lines` input lines: shuffled order, ~0.3% userErrors; with
 * `digests`, each written metafield's `compareDigest` (the job's own mutation asks for it).
 */
const writeResults = (path: string, lines: number, seed: number, digests = false): Promise<number> => {
  const random = prng(seed)
  const order = new Int32Array(lines)
  for (let i = 0; i < lines; i++) order[i] = i
  for (let i = lines - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1))
    const t = order[i] as number
    order[i] = order[j] as number
    order[j] = t
  }
  return writeLines(path, lines, (i) => {
    const n = order[i] as number
    const id = 40_000_000_000 + seed * 10_000_000 + n
    return random() < ERROR_RATE
      ? `{"data":{"metafieldsSet":{"metafields":[],"userErrors":[{"field":["metafields","0","value"],"message":"Value must be a single line text string.","code":"INVALID_VALUE","elementIndex":null}]}},"__lineNumber":${n}}`
      : digests
      ? `{"data":{"metafieldsSet":{"metafields":[{"id":"gid://shopify/Metafield/${id}","compareDigest":"${id.toString(16).padStart(64, "0")}"}],"userErrors":[]}},"__lineNumber":${n}}`
      : `{"data":{"metafieldsSet":{"metafields":[{"id":"gid://shopify/Metafield/${id}"}],"userErrors":[]}},"__lineNumber":${n}}`
  })
}

/** The job's bulk query result: every product with its target metafield (one in ten has a value already). */
const writeSnapshot = (path: string, products: number): Promise<number> =>
  writeLines(path, products, (i) =>
    i % 10 === 0
      ? `{"id":"gid://shopify/Product/${i + 1}","metafield":{"value":"Autumn","type":"single_line_text_field"}}`
      : `{"id":"gid://shopify/Product/${i + 1}","metafield":null}`)

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
        bytes += await writeResults(path, lines, i + 1, m.digests === true)
        files.set(`/results/${i}.jsonl`, path)
        urls.push(`${base}/results/${i}.jsonl`)
      }
      send({ type: "results", urls, bytes })
    } else if (m.type === "snapshot") {
      const path = join(dir, "snapshot.jsonl")
      const bytes = await writeSnapshot(path, m.products)
      files.set("/snapshot.jsonl", path)
      send({ type: "snapshot", url: `${base}/snapshot.jsonl`, bytes })
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

/** The simulator and file servers in a process of their own (see `child`), once they are listening. */
const startSimulator = async (products: number) => {
  const process_ = fork(ENTRY, ["--child", String(products)], {
    stdio: ["ignore", "inherit", "inherit", "ipc"],
    // The simulator's upload receiver leaks one 'error' listener per backpressured disk write
    // (src/simulator/shopify/stagedUploads.ts writeChunk), which prints MaxListenersExceededWarning.
    execArgv: [...process.execArgv, "--no-warnings"]
  })
  const ready = (await nextMessage(process_, "ready")) as Extract<ToParent, { type: "ready" }>
  return { process: process_, url: ready.url, stop: () => process_.send({ type: "stop" } satisfies ToChild) }
}

/** The Shopify adapter against the simulator at `url`, with the bench shop's token. */
const shopifyAdmin = (url: string) => ShopifyAdminLive.layer({ adminUrlOverride: url }).pipe(Layer.provide(ShopCredentials.fromRecord({ [SHOP]: TOKEN })))

/**
 * This process's resident set, sampled every 20 ms: the peak since the start or the last
 * `restart`, and what made it up then (V8's heap: committed and used; memory outside it that
 * JS objects hold: external, mostly buffers).
 */
const rssSampler = () => {
  let peak = 0
  let atPeak = ""
  const sample = () => {
    const rss = process.memoryUsage.rss()
    if (rss <= peak) return
    peak = rss
    const m = process.memoryUsage()
    atPeak = `V8 heap ${mb(m.heapTotal)} (used ${mb(m.heapUsed)}), external ${mb(m.external)} (ArrayBuffers ${mb(m.arrayBuffers)})`
  }
  sample()
  const timer = setInterval(sample, 20)
  timer.unref()
  return {
    peak: () => {
      sample()
      return peak
    },
    /** What made up the peak: V8's heap and external memory then. */
    atPeak: () => atPeak,
    restart: () => {
      peak = 0
      sample()
    },
    stop: () => clearInterval(timer)
  }
}

const parent = async (products: number): Promise<void> => {
  const simulator = await startSimulator(products)
  const simProcess = simulator.process
  const rss = rssSampler()
  const layer = shopifyAdmin(simulator.url)

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
    const peakAfterUpload = rss.peak()

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
    const peakAfterParse = rss.peak()
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
    console.log(
      `  RSS                 start ${mb(rssStart)} (Node + Effect, ${LOADED}), peak: build+upload ${mb(peakAfterUpload)}, download+parse ${mb(peakAfterParse)}, generic parse ${mb(rss.peak())} (sampled every 20 ms; high-water mark ${mb(peakRssMb() * 1024 * 1024)})`
    )
  })

  try {
    await Effect.runPromise(program.pipe(Effect.provide(layer)))
  } finally {
    rss.stop()
    simulator.stop()
  }
}

// ------------------------------------------------------------------- the job's own steps

/**
 * The steps a Flowmend job runs (`adapters/shopify/ShopifyJobSteps.ts`), on a PostgreSQL
 * server's artefacts as a worker runs them: the snapshot of `products` stored from the bulk
 * query's JSONL, every chunk planned from it, uploaded and submitted, and every chunk's result
 * file read (owners named, after-state recorded for undo). Run in a process of its own, so its
 * peak is the job's alone. The product caps a job at 100,000 products (`max_items`); the steps
 * do not check it, so a larger run measures how their memory grows.
 */
const jobPart = async (products: number): Promise<void> => {
  // loaded here, not above: part 1's process does not carry them
  const { layerPostgres } = await import("../adapters/postgres/Database.ts")
  const PgJobArtefacts = await import("../adapters/postgres/PgJobArtefacts.ts")
  const ShopifyJobSteps = await import("../adapters/shopify/ShopifyJobSteps.ts")
  const { JobSteps } = await import("../src/jobs/JobSteps.ts")
  const { startPgServer } = await import("../test/support/pgServer.ts")
  const simulator = await startSimulator(products)
  const simProcess = simulator.process
  const pg = await startPgServer().catch((error: unknown) => {
    simulator.stop()
    throw error
  })
  const rss = rssSampler()
  let jobPeak = rss.peak()
  const layer = ShopifyJobSteps.layer.pipe(
    Layer.provide([shopifyAdmin(simulator.url), PgJobArtefacts.layer]),
    Layer.provide(layerPostgres(Redacted.make(pg.createDatabase("bulk_job")), { maxConnections: 4 }))
  )
  const job = runningJob({
    jobId: randomUUID(),
    shop: SHOP,
    input: { queryString: "status:active", namespace: VALUE.namespace, key: VALUE.key, type: VALUE.type, value: VALUE.value, dryRun: false, maxItems: products }
  })
  const program = Effect.gen(function*() {
    const steps = yield* JobSteps
    const rssStart = process.memoryUsage.rss()
    const phases: Array<string> = []
    const phase = <A, E>(name: string, effect: Effect.Effect<A, E>) =>
      Effect.gen(function*() {
        rss.restart()
        const started = performance.now()
        const result = yield* effect
        const peak = rss.peak()
        jobPeak = Math.max(jobPeak, peak)
        phases.push(`${name.padEnd(22)}${secs(performance.now() - started)}, peak ${mb(peak)}: ${rss.atPeak()}`)
        return result
      })
    simProcess.send({ type: "snapshot", products } satisfies ToChild)
    const snapshot = (yield* Effect.promise(() => nextMessage(simProcess, "snapshot"))) as Extract<ToParent, { type: "snapshot" }>
    const stored = yield* phase("store snapshot", steps.storeSnapshot(SHOP, job, snapshot.url))
    const lineCounts: Array<number> = []
    const first = yield* phase("upload+submit chunk 0", Effect.gen(function*() {
      const up = yield* steps.uploadChunk(SHOP, job, 0)
      yield* steps.submitChunk(SHOP, job, 0, up.stagedUploadPath)
      lineCounts.push(up.lines)
      return up
    }))
    for (let k = 1; k < first.totalChunks; k++) {
      yield* phase(`upload+submit chunk ${k}`, Effect.gen(function*() {
        const up = yield* steps.uploadChunk(SHOP, job, k)
        yield* steps.submitChunk(SHOP, job, k, up.stagedUploadPath)
        lineCounts.push(up.lines)
      }))
    }
    simProcess.send({ type: "results", lineCounts, digests: true } satisfies ToChild)
    const results = (yield* Effect.promise(() => nextMessage(simProcess, "results"))) as Extract<ToParent, { type: "results" }>
    let updated = 0
    let failed = 0
    for (const [k, url] of results.urls.entries()) {
      const r = yield* phase(`read chunk ${k} results`, steps.readChunkResult(SHOP, job, k, url))
      updated += r.updated
      failed += r.failed
    }
    console.log(`bench:bulk, the job's steps — ${products.toLocaleString("en")} products, artefacts on PostgreSQL ${pg.version}, ${LOADED}`)
    console.log(`  snapshot            ${stored.matched.toLocaleString("en")} products (${mb(snapshot.bytes)} of JSONL); ${first.totalChunks} chunks of ${lineCounts.map((n) => n.toLocaleString("en")).join(", ")} lines`)
    console.log(`  results             ${updated.toLocaleString("en")} updated, ${failed.toLocaleString("en")} failed (${mb(results.bytes)})`)
    for (const p of phases) console.log(`  ${p}`)
    console.log(`  RSS                 start ${mb(rssStart)}, peak ${mb(jobPeak)} (sampled every 20 ms; high-water mark ${mb(peakRssMb() * 1024 * 1024)})`)
  })
  try {
    await Effect.runPromise(program.pipe(Effect.provide(layer)))
  } finally {
    rss.stop()
    simulator.stop()
    await pg.stop()
  }
}

const count = (arg: string | undefined) => (arg === undefined ? 1_000_000 : Number(arg.replace(/_/g, "")))

const root = fileURLToPath(new URL("..", import.meta.url))
const BUNDLE_DIR = join(root, "dist", "bench")

if (LOADED === "from source" && process.env["BENCH_BULK_FROM"] !== "source" && (await bundle({ "bench-bulk": ENTRY }, BUNDLE_DIR))) {
  // this script, bundled, as `sumeru start` runs (V8's young generation, glibc's malloc:
  // src/cli/processImage.ts), its children too: as the worker that runs a job runs
  const image = startImage({ execArgv: process.execArgv, env: process.env })
  const bundled = fork(join(BUNDLE_DIR, "bench-bulk.js"), process.argv.slice(2), {
    stdio: "inherit",
    execArgv: [...(image?.flags ?? []), ...process.execArgv],
    env: image?.env ?? process.env
  })
  const [code] = (await once(bundled, "exit")) as [number | null]
  process.exitCode = code ?? 1
} else if (process.argv[2] === "--child") await child(count(process.argv[3]))
else if (process.argv[2] === "--job") await jobPart(count(process.argv[3]))
else {
  const products = count(process.argv[2])
  await parent(products)
  // the job's steps, each run in a process of its own (its peak is its own): at the product's
  // cap on a job, then at the size asked for when that is more
  for (const size of products > MAX_ITEMS_MAX ? [MAX_ITEMS_MAX, products] : [products]) {
    const job = fork(ENTRY, ["--job", String(size)], { stdio: "inherit" })
    const [code] = (await once(job, "exit")) as [number | null]
    if (code !== 0) throw new Error(`the job's steps exited with ${code}`)
  }
}
