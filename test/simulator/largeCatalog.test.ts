import { afterAll, beforeAll, describe, expect, it } from "vitest"
import type { RunningShopifySimulator } from "../../src/simulator/shopify/index.ts"
import { RUN_QUERY, SHOP, TOKEN, clientFor, startSim } from "./support.ts"

describe("large generated catalogs", () => {
  let sim: RunningShopifySimulator
  beforeAll(async () => {
    sim = await startSim({
      bulkPace: "manual",
      shops: [
        { domain: SHOP, accessToken: TOKEN, products: 1_000_000 },
        { domain: "mid.myshopify.com", accessToken: "mid", products: 100_000 }
      ]
    })
  })
  afterAll(() => sim.close())

  it("generates a million products lazily: point reads and pages are instant", async () => {
    const t0 = performance.now()
    const r = (await clientFor(sim).request(`{
      product(id: "gid://shopify/Product/999999") { id title }
      products(last: 2) { nodes { id } }
      productsCount { count precision }
    }`)).data as any
    expect(r.product.id).toBe("gid://shopify/Product/999999")
    expect(r.products.nodes.map((n: any) => n.id)).toEqual(["gid://shopify/Product/999999", "gid://shopify/Product/1000000"])
    expect(r.productsCount).toEqual({ count: 10000, precision: "AT_LEAST" })
    expect(performance.now() - t0).toBeLessThan(2000)
  })

  it("streams a bulk query result to disk as it is produced and serves it as a stream", async () => {
    const client = clientFor(sim, "mid.myshopify.com")
    const q = `{ products { edges { node { id title } } } }`
    const run = (await client.request(RUN_QUERY, { variables: { q } })).data as any
    const id = run.bulkOperationRunQuery.bulkOperation.id
    const bulk = sim.shop("mid.myshopify.com").bulk
    const partway = await bulk.step(id, 20_000)
    expect(partway.status).toBe("RUNNING")
    expect(partway.objectCount).toBe(20_000)
    const written = partway.bytesWritten
    expect(written).toBeGreaterThan(20_000 * 40)
    const done = await bulk.complete(id)
    expect(done).toMatchObject({ status: "COMPLETED", objectCount: 100_000 })
    expect(done.fileSize).toBeGreaterThan(written * 4)

    const download = await fetch(bulk.resultUrl(done)!)
    expect(download.headers.get("content-length")).toBe(String(done.fileSize))
    let chunks = 0
    let lines = 0
    let tail = ""
    let first = ""
    const decoder = new TextDecoder()
    for await (const chunk of download.body as unknown as AsyncIterable<Uint8Array>) {
      chunks++
      const text = tail + decoder.decode(chunk, { stream: true })
      const parts = text.split("\n")
      tail = parts.pop() ?? ""
      if (first === "" && parts.length > 0) first = parts[0]!
      lines += parts.length
    }
    expect(tail).toBe("")
    expect(lines).toBe(100_000)
    expect(chunks).toBeGreaterThan(10)
    expect(JSON.parse(first).id).toBe("gid://shopify/Product/1")
  })
})
