/**
 * Benchmark: bulk-query a large generated catalog and stream the JSONL result over HTTP,
 * reporting time and memory. The result is written to and served from disk, so memory
 * stays flat whatever the catalog size.
 *
 *   node src/simulator/shopify/bench/bulkQuery.ts [products=1000000]
 */
import { startShopifySimulator } from "../index.ts"

const products = Number(process.argv[2] ?? 1_000_000)
const sim = await startShopifySimulator({
  appSecret: "bench",
  shops: [{ domain: "bench.myshopify.com", accessToken: "bench", products }],
  log: () => undefined
})
let peakHeap = 0
const sampler = setInterval(() => {
  peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed)
}, 20)
try {
  const startHeap = process.memoryUsage().heapUsed
  const t0 = performance.now()
  const response = await sim.fetch("https://bench.myshopify.com/admin/api/2026-07/graphql.json", {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-Shopify-Access-Token": "bench" },
    body: JSON.stringify({
      query: `mutation { bulkOperationRunQuery(query: "{ products(query: \\"status:active\\") { edges { node { id title tags } } } }", groupObjects: false) { bulkOperation { id } userErrors { message } } }`
    })
  })
  const id = ((await response.json()) as any).data.bulkOperationRunQuery.bulkOperation.id as string
  const op = await sim.shop().bulk.whenFinished(id)
  const t1 = performance.now()
  const url = sim.shop().bulk.resultUrl(op)
  let bytes = 0
  let lines = 0
  if (url !== null) {
    const download = await fetch(url)
    for await (const chunk of download.body as unknown as AsyncIterable<Uint8Array>) {
      bytes += chunk.length
      for (const b of chunk) if (b === 10) lines++
    }
  }
  const t2 = performance.now()
  const mb = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MB`
  console.log(
    JSON.stringify({
      products,
      status: op.status,
      objectCount: op.objectCount,
      fileSize: mb(op.fileSize ?? 0),
      linesDownloaded: lines,
      bytesDownloaded: bytes,
      runMs: Math.round(t1 - t0),
      downloadMs: Math.round(t2 - t1),
      heapAtStart: mb(startHeap),
      peakHeap: mb(peakHeap)
    })
  )
} finally {
  clearInterval(sampler)
  await sim.close()
}
