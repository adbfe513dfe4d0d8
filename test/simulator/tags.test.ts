import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { manualClock, validateAdminDocument, type RunningShopifySimulator } from "../../src/simulator/shopify/index.ts"
import { SHOP, TOKEN, clientFor, rawGraphQL, startSim } from "./support.ts"

const ADD = `mutation Add($id: ID!, $tags: [String!]!) {
  tagsAdd(id: $id, tags: $tags) { node { id } userErrors { field message } }
}`
const REMOVE = `mutation Remove($id: ID!, $tags: [String!]!) {
  tagsRemove(id: $id, tags: $tags) { node { id } userErrors { field message } }
}`
const PRODUCT = `query Product($id: ID!) { product(id: $id) { id title tags updatedAt } }`

interface Payload {
  readonly node: { readonly id: string } | null
  readonly userErrors: ReadonlyArray<{ readonly field: ReadonlyArray<string> | null; readonly message: string }>
}

describe("tagsAdd / tagsRemove", () => {
  let sim: RunningShopifySimulator
  const clock = manualClock(Date.UTC(2026, 6, 15, 12, 0, 0))
  const gidOf = (n: number) => sim.shop().productGid(n)
  const mutate = async (document: string, root: "tagsAdd" | "tagsRemove", id: string, tags: string | ReadonlyArray<string>): Promise<Payload> => {
    const r = await clientFor(sim).request(document, { variables: { id, tags } })
    expect(r.errors).toBeUndefined()
    return (r.data as Record<string, Payload>)[root] as Payload
  }
  const add = (id: string, tags: string | ReadonlyArray<string>) => mutate(ADD, "tagsAdd", id, tags)
  const remove = (id: string, tags: string | ReadonlyArray<string>) => mutate(REMOVE, "tagsRemove", id, tags)
  const product = async (n: number) => {
    const r = await clientFor(sim).request(PRODUCT, { variables: { id: gidOf(n) } })
    expect(r.errors).toBeUndefined()
    return (r.data as any).product as { id: string; title: string; tags: Array<string>; updatedAt: string }
  }

  beforeAll(async () => {
    sim = await startSim({
      clock,
      shops: [
        {
          domain: SHOP,
          accessToken: TOKEN,
          products: [
            { title: "Red shirt", tags: ["summer", "Sale"] },
            { title: "Blue hat", tags: ["winter"] },
            { title: "Plain mug" },
            { title: "Untouched", tags: ["keep"] }
          ]
        }
      ]
    })
  })
  afterAll(() => sim.close())

  it("resolves product(id:) { id title tags updatedAt } from the catalog", async () => {
    expect(await product(1)).toEqual({
      id: "gid://shopify/Product/1",
      title: "Red shirt",
      tags: ["Sale", "summer"],
      updatedAt: "2025-01-01T00:00:00Z"
    })
  })

  it("adds tags: trimmed, split on commas, deduplicated case-insensitively, kept sorted; updatedAt moves", async () => {
    const result = await add(gidOf(1), ["  winter ", "SALE", "winter", "Eco", "eco, new", "   ", "Summer"])
    expect(result).toEqual({ node: { id: gidOf(1) }, userErrors: [] })
    expect(await product(1)).toMatchObject({ tags: ["Eco", "Sale", "new", "summer", "winter"], updatedAt: "2026-07-15T12:00:00Z" })
    expect(sim.shop().product(1).tags).toEqual(["Eco", "Sale", "new", "summer", "winter"])
    // A single comma-separated string is accepted too (coerced to a one-element list).
    expect((await add(gidOf(3), "one, two ,three")).userErrors).toEqual([])
    expect((await product(3)).tags).toEqual(["one", "three", "two"])
  })

  it("adding only tags already present is not an error and changes nothing (not even updatedAt)", async () => {
    clock.advance(60_000)
    const result = await add(gidOf(1), ["eco", "SUMMER", " new "])
    expect(result).toEqual({ node: { id: gidOf(1) }, userErrors: [] })
    expect(await product(1)).toMatchObject({ tags: ["Eco", "Sale", "new", "summer", "winter"], updatedAt: "2026-07-15T12:00:00Z" })
  })

  it("removes only the tags present (case-insensitively); absent ones are not an error", async () => {
    clock.advance(60_000)
    const result = await remove(gidOf(1), ["sale", " WINTER ", "absent"])
    expect(result).toEqual({ node: { id: gidOf(1) }, userErrors: [] })
    expect(await product(1)).toMatchObject({ tags: ["Eco", "new", "summer"], updatedAt: "2026-07-15T12:02:00Z" })
    clock.advance(60_000)
    expect(await remove(gidOf(1), ["absent", "nope"])).toEqual({ node: { id: gidOf(1) }, userErrors: [] })
    expect(await product(1)).toMatchObject({ tags: ["Eco", "new", "summer"], updatedAt: "2026-07-15T12:02:00Z" })
  })

  it("answers an unknown product id with a userError and node null, changing nothing", async () => {
    const before = [1, 2, 3, 4].map((n) => sim.shop().product(n))
    const missing = "gid://shopify/Product/999"
    expect(await add(missing, ["x"])).toEqual({ node: null, userErrors: [{ field: ["id"], message: "Product does not exist" }] })
    expect(await remove(missing, ["keep"])).toEqual({ node: null, userErrors: [{ field: ["id"], message: "Product does not exist" }] })
    expect(await add("gid://shopify/Order/1", ["x"])).toEqual({ node: null, userErrors: [{ field: ["id"], message: "Order does not exist" }] })
    expect([1, 2, 3, 4].map((n) => sim.shop().product(n))).toEqual(before)
  })

  it("refuses a tag over 255 characters (nothing is added), accepts one of exactly 255", async () => {
    const before = sim.shop().product(2)
    const result = await add(gidOf(2), ["fine", "x".repeat(256)])
    expect(result.node).toBeNull()
    expect(result.userErrors).toEqual([{ field: ["tags"], message: "Tags is too long (maximum is 255 characters)" }])
    expect(sim.shop().product(2)).toEqual(before)
    expect((await add(gidOf(2), ["y".repeat(255)])).userErrors).toEqual([])
    expect((await product(2)).tags).toEqual(["winter", "y".repeat(255)])
  })

  it("refuses to take a product over 250 tags", async () => {
    await remove(gidOf(3), ["one", "two", "three"])
    const many = Array.from({ length: 250 }, (_, i) => `t${String(i).padStart(3, "0")}`)
    expect((await add(gidOf(3), many)).userErrors).toEqual([])
    expect(sim.shop().product(3).tags).toHaveLength(250)
    const over = await add(gidOf(3), ["one-more"])
    expect(over).toEqual({ node: null, userErrors: [{ field: ["tags"], message: "Tags cannot be more than 250" }] })
    expect(sim.shop().product(3).tags).toHaveLength(250)
    // Re-adding present tags at the limit is still fine.
    expect((await add(gidOf(3), ["t000", "T249"])).userErrors).toEqual([])
  })

  it("makes the new tags and updatedAt visible to products(query:) search", async () => {
    await add(gidOf(4), ["fresh-tag"])
    const r = await clientFor(sim).request(`{ a: products(first: 10, query: "tag:fresh-tag") { nodes { id tags } } b: products(first: 10, query: "tag:keep updated_at:>2026-01-01") { nodes { id } } }`)
    expect(r.errors).toBeUndefined()
    expect((r.data as any).a.nodes).toEqual([{ id: gidOf(4), tags: ["fresh-tag", "keep"] }])
    expect((r.data as any).b.nodes).toEqual([{ id: gidOf(4) }])
  })

  it("charges a mutation's cost (10) and returns the node through the Node interface", async () => {
    const { status, body } = await rawGraphQL(
      sim,
      `mutation($id: ID!) { tagsAdd(id: $id, tags: ["cost"]) { node { __typename id ... on Product { tags } } userErrors { field message } } }`,
      { variables: { id: gidOf(4) } }
    )
    expect(status).toBe(200)
    expect(body.data.tagsAdd).toEqual({ node: { __typename: "Product", id: gidOf(4), tags: ["cost", "fresh-tag", "keep"] }, userErrors: [] })
    expect(body.extensions.cost.requestedQueryCost).toBe(10)
  })

  it("validates the documents against the real 2026-07 schema", async () => {
    expect(validateAdminDocument(ADD)).toEqual([])
    expect(validateAdminDocument(REMOVE)).toEqual([])
    expect(validateAdminDocument(PRODUCT)).toEqual([])
    expect(validateAdminDocument(`mutation($id: ID!) { tagsAdd(id: $id) { node { id } userErrors { field message } } }`)).toEqual([
      "Field 'tagsAdd' is missing required arguments: tags"
    ])
    const before = sim.shop().product(2)
    const { status, body } = await rawGraphQL(sim, `mutation($id: ID!) { tagsAdd(id: $id, tags: ["z"]) { node { id } userErrors { field message code } } }`, {
      variables: { id: gidOf(2) }
    })
    expect(status).toBe(200)
    expect(body.data).toBeUndefined()
    expect(body.errors).toHaveLength(1)
    expect(body.errors[0]).toMatchObject({
      message: "Field 'code' doesn't exist on type 'UserError'",
      extensions: { code: "undefinedField", typeName: "UserError", fieldName: "code" }
    })
    expect(sim.shop().product(2)).toEqual(before)
    const client = await clientFor(sim).request(`mutation($id: ID!) { tagsRemove(id: $id, tags: ["z"]) { product { id } userErrors { message } } }`, {
      variables: { id: gidOf(2) }
    })
    expect(client.data).toBeUndefined()
    expect(client.errors?.graphQLErrors?.map((e) => e.message)).toEqual(["Field 'product' doesn't exist on type 'TagsRemovePayload'"])
  })
})
