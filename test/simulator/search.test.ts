import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { parseSearch, type ProductInit, type RunningShopifySimulator } from "../../src/simulator/shopify/index.ts"
import { clientFor, startSim, SHOP, TOKEN } from "./support.ts"

const PRODUCTS: ReadonlyArray<ProductInit> = [
  { title: "Red shirt", status: "ACTIVE", tags: ["winter", "sale"], vendor: "Acme", productType: "Shirts" }, // 1
  { title: "Red Shirtdress", status: "DRAFT", tags: ["summer"], vendor: "Acme", productType: "Dresses" }, // 2
  { title: "Blue shirt", status: "ACTIVE", tags: ["winter"], vendor: "Globex", productType: "Shirts" }, // 3
  { title: "Shirt red", status: "ARCHIVED", tags: [], vendor: "Globex", productType: "Shirts" }, // 4
  { title: "Green hat", status: "ACTIVE", tags: ["Winter", "new"], vendor: "Initech Co", productType: "Hats" }, // 5
  { title: "Red hat", status: "DRAFT", tags: ["sale"], vendor: "Acme", productType: "Hats" } // 6
]

describe("products(query:) search syntax", () => {
  let sim: RunningShopifySimulator
  const ids = async (query: string): Promise<Array<number>> => {
    const result = await clientFor(sim).request(
      `query($q: String) { products(first: 50, query: $q) { nodes { id } } }`,
      { variables: { q: query } }
    )
    expect(result.errors).toBeUndefined()
    return (result.data as { products: { nodes: Array<{ id: string }> } }).products.nodes.map((n) => Number(n.id.split("/").pop()))
  }
  beforeAll(async () => {
    sim = await startSim({ shops: [{ domain: SHOP, accessToken: TOKEN, products: PRODUCTS }] })
  })
  afterAll(() => sim.close())

  it("filters by status, tag, vendor and product_type, case-insensitively", async () => {
    expect(await ids("status:active")).toEqual([1, 3, 5])
    expect(await ids("status:DRAFT")).toEqual([2, 6])
    expect(await ids("tag:winter")).toEqual([1, 3, 5])
    expect(await ids("vendor:acme")).toEqual([1, 2, 6])
    expect(await ids(`vendor:"Initech Co"`)).toEqual([5])
    expect(await ids("product_type:Hats")).toEqual([5, 6])
  })

  it("matches title words, quoted phrases and prefixes", async () => {
    expect(await ids("title:red")).toEqual([1, 2, 4, 6])
    expect(await ids(`title:"Red shirt"`)).toEqual([1])
    expect(await ids(`title:shirt*`)).toEqual([1, 2, 3, 4])
    expect(await ids(`title:"shirt red"`)).toEqual([4])
    expect(await ids(`title:red shirt*`)).toEqual([1, 2, 4])
    expect(await ids(`shirt`)).toEqual([1, 3, 4])
  })

  it("combines terms with implicit AND, OR, NOT, -term and parentheses", async () => {
    expect(await ids("status:active tag:winter vendor:acme")).toEqual([1])
    expect(await ids("status:active AND tag:sale")).toEqual([1])
    expect(await ids("tag:sale OR vendor:globex")).toEqual([1, 3, 4, 6])
    expect(await ids("title:red -status:draft")).toEqual([1, 4])
    expect(await ids("title:red NOT status:draft")).toEqual([1, 4])
    expect(await ids("(status:draft OR status:archived) title:red")).toEqual([2, 4, 6])
    expect(await ids("status:active OR status:draft tag:sale")).toEqual([1, 3, 5, 6])
    expect(await ids("NOT (tag:winter OR tag:sale)")).toEqual([2, 4])
  })

  it("ignores unknown fields and reports them in extensions.search", async () => {
    const result = await clientFor(sim).request(`{ products(first: 10, query: "bogus:1 status:draft") { nodes { id } } }`)
    expect((result.data as any).products.nodes).toHaveLength(2)
    expect((result.extensions as any).search).toEqual([
      { path: ["products"], query: "bogus:1 status:draft", warnings: [{ field: "bogus", message: "Invalid search field for this query." }] }
    ])
  })

  it("parses into the expected tree", () => {
    expect(parseSearch(`-tag:x (a OR title:"b c")`)).toEqual({
      kind: "and",
      children: [
        { kind: "not", child: { kind: "term", field: "tag", comparator: ":", value: "x", quoted: false, prefix: false } },
        {
          kind: "or",
          children: [
            { kind: "term", field: undefined, comparator: ":", value: "a", quoted: false, prefix: false },
            { kind: "term", field: "title", comparator: ":", value: "b c", quoted: true, prefix: false }
          ]
        }
      ]
    })
  })

  it("paginates with cursors forwards and backwards, and requires first or last", async () => {
    const client = clientFor(sim)
    const page1 = (await client.request(`{ products(first: 2, query: "title:red") { edges { cursor node { id } } pageInfo { hasNextPage hasPreviousPage endCursor } } }`)).data as any
    expect(page1.products.edges.map((e: any) => e.node.id)).toEqual(["gid://shopify/Product/1", "gid://shopify/Product/2"])
    expect(page1.products.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: false })
    const page2 = (await client.request(`query($a: String) { products(first: 2, after: $a, query: "title:red") { nodes { id } pageInfo { hasNextPage } } }`, {
      variables: { a: page1.products.pageInfo.endCursor }
    })).data as any
    expect(page2.products.nodes.map((n: any) => n.id)).toEqual(["gid://shopify/Product/4", "gid://shopify/Product/6"])
    expect(page2.products.pageInfo.hasNextPage).toBe(false)
    const last = (await client.request(`{ products(last: 2, reverse: true) { nodes { id } } }`)).data as any
    expect(last.products.nodes.map((n: any) => n.id)).toEqual(["gid://shopify/Product/2", "gid://shopify/Product/1"])
    const missing = await client.request(`{ products { nodes { id } } }`)
    expect(missing.errors?.graphQLErrors?.[0]?.message).toBe("you must provide one of first or last")
  })

  it("generates a deterministic catalog from the seed", async () => {
    const a = await startSim({ shops: [{ domain: SHOP, accessToken: TOKEN, products: 20, seed: 42 }] })
    const b = await startSim({ shops: [{ domain: SHOP, accessToken: TOKEN, products: 20, seed: 42 }] })
    try {
      const q = `{ products(first: 20) { nodes { id title status tags vendor productType metafields(first: 5) { nodes { namespace key value } } } } }`
      const [ra, rb] = await Promise.all([clientFor(a).request(q), clientFor(b).request(q)])
      expect(ra.data).toEqual(rb.data)
      const statuses = new Set((ra.data as any).products.nodes.map((n: any) => n.status))
      expect(statuses.has("ACTIVE")).toBe(true)
    } finally {
      await Promise.all([a.close(), b.close()])
    }
  })
})
