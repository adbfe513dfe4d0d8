import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { manualClock, type RunningShopifySimulator } from "../../src/simulator/shopify/index.ts"
import { SHOP, TOKEN, clientFor, rawGraphQL, startSim } from "./support.ts"

describe("cost-based throttling (leaky bucket on an injected clock)", () => {
  const clock = manualClock()
  let sim: RunningShopifySimulator
  beforeAll(async () => {
    sim = await startSim({ clock, shops: [{ domain: SHOP, accessToken: TOKEN, products: 50 }, { domain: "plus.myshopify.com", accessToken: "plus", plan: "plus" }] })
  })
  afterAll(() => sim.close())

  it("charges the requested cost, refunds requested − actual, and reports extensions.cost", async () => {
    const result = await clientFor(sim).request(`{ products(first: 10, query: "status:archived") { nodes { id } } }`)
    const returned = (result.data as any).products.nodes.length
    expect(returned).toBeLessThan(10)
    expect(result.extensions).toEqual({
      cost: {
        requestedQueryCost: 12,
        actualQueryCost: 2 + returned,
        throttleStatus: { maximumAvailable: 2000, currentlyAvailable: 2000 - (2 + returned), restoreRate: 100 }
      }
    })
    clock.advance(60_000)
    expect(sim.shop().throttleStatus().currentlyAvailable).toBe(2000)
  })

  it("prices nested connections, objects and mutations like Shopify", async () => {
    const q = await rawGraphQL(sim, `{ shop { name } products(first: 5) { edges { node { id metafield(key: "a", namespace: "b") { value } metafields(first: 2) { nodes { id } } } } } }`)
    // shop 1 + products (2 + 5 + 5 × (metafield 1 + metafields (2 + 2)))
    expect(q.body.extensions.cost.requestedQueryCost).toBe(1 + 2 + 5 + 5 * (1 + 4))
    const staged = await rawGraphQL(
      sim,
      `mutation { stagedUploadsCreate(input: [{resource: BULK_MUTATION_VARIABLES, filename: "f", mimeType: "text/jsonl", httpMethod: POST}]) { stagedTargets { url parameters { name value } } userErrors { message } } }`
    )
    expect(staged.body.extensions.cost).toMatchObject({ requestedQueryCost: 11, actualQueryCost: 11 })
    const run = await rawGraphQL(sim, `mutation { bulkOperationRunQuery(query: "{ products { edges { node { id } } } }", groupObjects: false) { bulkOperation { id } userErrors { message } } }`)
    expect(run.body.extensions.cost.requestedQueryCost).toBe(10)
    await sim.shop().bulk.idle()
  })

  it("answers THROTTLED (HTTP 200, no data) when the bucket cannot pay, and recovers at the restore rate", async () => {
    clock.advance(60_000)
    sim.shop().setAvailablePoints(5)
    const throttled = await rawGraphQL(sim, `{ products(first: 10) { nodes { id } } }`)
    expect(throttled.status).toBe(200)
    expect(throttled.body).toEqual({
      errors: [{ message: "Throttled", extensions: { code: "THROTTLED", documentation: "https://shopify.dev/api/usage/rate-limits" } }],
      extensions: { cost: { requestedQueryCost: 12, actualQueryCost: null, throttleStatus: { maximumAvailable: 2000, currentlyAvailable: 5, restoreRate: 100 } } }
    })
    clock.advance(60) // +6 points: 11 < 12
    expect((await rawGraphQL(sim, `{ products(first: 10) { nodes { id } } }`)).body.errors?.[0]?.extensions?.code).toBe("THROTTLED")
    clock.advance(10) // +1 point: 12
    const ok = await rawGraphQL(sim, `{ products(first: 10) { nodes { id } } }`)
    expect(ok.body.data.products.nodes).toHaveLength(10)
    expect(ok.body.extensions.cost.throttleStatus.currentlyAvailable).toBe(0)
  })

  it("THROTTLED is not retried by admin-api-client and keeps extensions.cost", async () => {
    sim.shop().setAvailablePoints(0)
    const result = await clientFor(sim).request(`{ shop { name } }`)
    expect(result.data).toBeUndefined()
    expect(result.errors?.graphQLErrors?.[0]?.extensions?.code).toBe("THROTTLED")
    expect((result.extensions as any).cost.actualQueryCost).toBeNull()
    expect(sim.shop().requests.filter((r) => r.outcome === "throttled").length).toBeGreaterThanOrEqual(1)
  })

  it("answers MAX_COST_EXCEEDED above 1000 points, without top-level extensions, and charges nothing", async () => {
    clock.advance(60_000)
    const before = sim.shop().throttleStatus().currentlyAvailable
    const response = await rawGraphQL(sim, `{ products(first: 250) { nodes { id metafields(first: 3) { nodes { value } } } } }`)
    const cost = 2 + 250 + 250 * (2 + 3)
    expect(response.status).toBe(200)
    expect(Object.keys(response.body)).toEqual(["errors"])
    expect(response.body.errors[0].message).toMatch(new RegExp(`^Query cost is ${cost}, which exceeds the single query max cost limit \\(1000\\)\\.`))
    expect(response.body.errors[0].extensions).toEqual({ code: "MAX_COST_EXCEEDED", cost, maxCost: 1000, documentation: "https://shopify.dev/api/usage/rate-limits" })
    expect(sim.shop().throttleStatus().currentlyAvailable).toBe(before)
  })

  it("expires results 7 days after completion (status EXPIRED, download refused), on the injected clock", async () => {
    const run = await rawGraphQL(sim, `mutation { bulkOperationRunQuery(query: "{ products { edges { node { id } } } }", groupObjects: false) { bulkOperation { id } } }`)
    const id = run.body.data.bulkOperationRunQuery.bulkOperation.id
    const op = await sim.shop().bulk.whenFinished(id)
    const url = sim.shop().bulk.resultUrl(op)!
    expect((await fetch(url)).status).toBe(200)
    const advance = await fetch(`${sim.url}/__sim/clock/advance`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ ms: 8 * 86_400_000 }) })
    expect(advance.status).toBe(200)
    const polled = await rawGraphQL(sim, `query($id: ID!) { bulkOperation(id: $id) { status } }`, { variables: { id } })
    expect(polled.body.data.bulkOperation.status).toBe("EXPIRED")
    expect((await fetch(url)).status).toBe(400)
  })

  it("gives each shop its own bucket sized by plan", async () => {
    sim.shop().setAvailablePoints(0)
    const plus = await rawGraphQL(sim, `{ shop { name } }`, { token: "plus", host: "plus.myshopify.com" })
    expect(plus.body.extensions.cost.throttleStatus).toEqual({ maximumAvailable: 20000, currentlyAvailable: 19999, restoreRate: 1000 })
  })
})
