import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { validateAdminDocument, loadAdminSchema, type RunningShopifySimulator } from "../../src/simulator/shopify/index.ts"
import { clientFor, rawGraphQL, startSim } from "./support.ts"

describe("schema validation against the real 2026-07 Admin schema", () => {
  let sim: RunningShopifySimulator
  beforeAll(async () => {
    sim = await startSim()
  })
  afterAll(() => sim.close())

  it("loads the real schema, which has 2026-07 fields such as bulkOperations and metafieldsDelete", () => {
    const schema = loadAdminSchema()
    expect(schema.getQueryType()?.name).toBe("QueryRoot")
    expect(schema.getQueryType()?.getFields()["bulkOperations"]).toBeDefined()
    expect(schema.getMutationType()?.getFields()["metafieldsDelete"]).toBeDefined()
    expect(loadAdminSchema()).toBe(schema)
  })

  it("answers an unknown root field with Shopify's undefinedField error over HTTP 200", async () => {
    const { status, body } = await rawGraphQL(sim, "{\n  shop { name }\n  x\n}")
    expect(status).toBe(200)
    expect(body).toEqual({
      errors: [
        {
          message: "Field 'x' doesn't exist on type 'QueryRoot'",
          locations: [{ line: 3, column: 3 }],
          path: ["query", "x"],
          extensions: { code: "undefinedField", typeName: "QueryRoot", fieldName: "x" }
        }
      ]
    })
  })

  it("surfaces validation errors through @shopify/admin-api-client as graphQLErrors", async () => {
    const client = clientFor(sim)
    const result = await client.request(`query Named { products(first: 1, bogus: 1) { nodes { id nosuch } } }`)
    expect(result.data).toBeUndefined()
    expect(result.errors?.networkStatusCode).toBe(200)
    const errors = result.errors?.graphQLErrors ?? []
    expect(errors.map((e) => e.message)).toEqual([
      "Field 'products' doesn't accept argument 'bogus'",
      "Field 'nosuch' doesn't exist on type 'Product'"
    ])
    expect(errors[0]?.extensions?.code).toBe("argumentNotAccepted")
    expect((errors[1] as { path?: unknown }).path).toEqual(["query Named", "products", "nodes", "nosuch"])
  })

  it("reports missing required arguments, missing selections and parse errors", () => {
    expect(validateAdminDocument("{ product { id } }")).toEqual(["Field 'product' is missing required arguments: id"])
    expect(validateAdminDocument("{ shop }")).toEqual([
      "Field must have selections (field 'shop' returns Shop but has no selections. Did you mean 'shop { ... }'?)"
    ])
    expect(validateAdminDocument("{ shop { name }")).toEqual(["Unexpected end of document"])
    expect(validateAdminDocument("query { shop { name } }}")).toEqual([`Parse error on "}" (RCURLY) at [1, 24]`])
    expect(validateAdminDocument("query Q($id: ID!) { product(id: $id) { title } }")).toEqual([])
  })

  it("reports undeclared variables and bad variable values like graphql-ruby", async () => {
    expect(validateAdminDocument("query { product(id: $id) { title } }")).toEqual([
      "Variable $id is used by anonymous query but not declared"
    ])
    const { body } = await rawGraphQL(
      sim,
      "mutation M($m: [MetafieldsSetInput!]!) { metafieldsSet(metafields: $m) { userErrors { message } } }",
      { variables: { m: [{ ownerId: "gid://shopify/Product/1", key: "k1", value: "v", bogus: 1 }] } }
    )
    expect(body.data).toBeUndefined()
    expect(body.errors[0].message).toBe(
      "Variable $m of type [MetafieldsSetInput!]! was provided invalid value for 0.bogus (Field is not defined on MetafieldsSetInput)"
    )
    expect(body.errors[0].extensions).toMatchObject({ code: "INVALID_VARIABLE", problems: [{ path: [0, "bogus"] }] })
  })

  it("rejects bad tokens with Shopify's 401 body, and unknown API versions with 404", async () => {
    const bad = await rawGraphQL(sim, "{ shop { name } }", { token: "nope" })
    expect(bad.status).toBe(401)
    expect(bad.body).toEqual({ errors: "[API] Invalid API key or access token (unrecognized login or wrong password)" })
    const old = await rawGraphQL(sim, "{ shop { name } }", { version: "2019-13" })
    expect(old.status).toBe(404)
  })

  it("serves the shop chosen by the Host header, each with its own token", async () => {
    await sim.close()
    sim = await startSim({
      shops: [
        { domain: "one.myshopify.com", accessToken: "t1", products: 3 },
        { domain: "two.myshopify.com", accessToken: "t2", products: 7 }
      ]
    })
    const two = await rawGraphQL(sim, "{ shop { myshopifyDomain } productsCount { count } }", { token: "t2", host: "two.myshopify.com" })
    expect(two.body.data).toEqual({ shop: { myshopifyDomain: "two.myshopify.com" }, productsCount: { count: 7 } })
    const wrong = await rawGraphQL(sim, "{ shop { name } }", { token: "t1", host: "two.myshopify.com" })
    expect(wrong.status).toBe(401)
    const viaClient = await clientFor(sim, "one.myshopify.com").request("{ productsCount { count } }")
    expect(viaClient.data).toEqual({ productsCount: { count: 3 } })
  })
})

describe("in-process use", () => {
  it("serves requests through app.request without listening", async () => {
    const { createShopifySimulator } = await import("../../src/simulator/shopify/index.ts")
    const sim = createShopifySimulator({ appSecret: "s", shops: [{ domain: "mem.myshopify.com", accessToken: "tok", products: 3 }] })
    try {
      const response = await sim.app.request("/admin/api/2026-07/graphql.json", {
        method: "POST",
        headers: { "Content-Type": "application/json", "X-Shopify-Access-Token": "tok", Host: "mem.myshopify.com" },
        body: JSON.stringify({ query: "{ productsCount { count } }" })
      })
      expect(response.status).toBe(200)
      expect(((await response.json()) as any).data).toEqual({ productsCount: { count: 3 } })
    } finally {
      await sim.close()
    }
  })
})
