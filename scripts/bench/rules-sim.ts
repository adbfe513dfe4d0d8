/**
 * The live rules bench's Shopify simulator (`scripts/bench/rules-live.ts`): its shops, and, with
 * BENCH_SIM=process, the simulator in a process of its own — forked with this file as its entry,
 * it listens, sends its URL over IPC and stops when the bench disconnects — so the bench
 * measures the decision plane's own ceiling rather than a process shared with Shopify's stand-in.
 */
import { fork } from "node:child_process"
import { fileURLToPath } from "node:url"
import { startShopifySimulator } from "../../src/simulator/shopify/index.ts"

/** The bench's shops: `bench-<i>.myshopify.com` with token `shpat_<i>` and `products` products each. */
export const benchShops = (count: number) => Array.from({ length: count }, (_, i) => `bench-${i}.myshopify.com`)

const start = (count: number, products: number) =>
  startShopifySimulator({
    appSecret: "bench",
    shops: benchShops(count).map((domain, i) => ({ domain, accessToken: `shpat_${i}`, products, seed: i + 1 })),
    bulkPace: "immediate"
  } as Parameters<typeof startShopifySimulator>[0])

export interface BenchSimulator {
  readonly url: string
  /** In this process: calls the app without HTTP; in its own process: undefined (real HTTP). */
  readonly fetch: typeof globalThis.fetch | undefined
  /** The simulator's own process (null: it runs in this one). */
  readonly pid: number | null
  readonly close: () => Promise<void>
}

export const startBenchSimulator = async (count: number, products: number, own: boolean): Promise<BenchSimulator> => {
  if (!own) {
    const sim = await start(count, products)
    return { url: sim.url, fetch: sim.fetch as unknown as typeof globalThis.fetch, pid: null, close: () => sim.close() }
  }
  const child = fork(fileURLToPath(import.meta.url), [String(count), String(products)], { stdio: ["ignore", "inherit", "inherit", "ipc"] })
  const url = await new Promise<string>((resolve, reject) => {
    child.once("message", (m) => resolve((m as { url: string }).url))
    child.once("exit", (code) => reject(new Error(`the simulator process exited (${code})`)))
  })
  return {
    url,
    fetch: undefined,
    pid: child.pid ?? null,
    close: () => new Promise<void>((resolve) => {
      child.once("exit", () => resolve())
      child.disconnect()
    })
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url) && process.send !== undefined) {
  const sim = await start(Number(process.argv[2]), Number(process.argv[3]))
  process.send({ url: sim.url })
  process.once("disconnect", () => void sim.close().finally(() => process.exit(0)))
}
