import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { manualClock, validateAdminDocument, type RunningShopifySimulator } from "../../src/simulator/shopify/index.ts"
import { SHOP, TOKEN, clientFor, rawGraphQL, startSim } from "./support.ts"

const UPDATE = `mutation Update($product: ProductUpdateInput!) {
  productUpdate(product: $product) {
    product { id title status tags updatedAt seo { title description } }
    userErrors { field message }
  }
}`
const PRODUCT = `query Product($id: ID!) {
  product(id: $id) {
    id title status tags updatedAt
    seo { title description }
    titleTag: metafield(namespace: "global", key: "title_tag") { type value }
  }
}`

interface Payload {
  readonly product: { id: string; title: string; status: string; tags: Array<string>; updatedAt: string; seo: { title: string | null; description: string | null } } | null
  readonly userErrors: ReadonlyArray<{ readonly field: ReadonlyArray<string> | null; readonly message: string }>
}

describe("productUpdate and Product.seo", () => {
  let sim: RunningShopifySimulator
  const clock = manualClock(Date.UTC(2026, 6, 15, 12, 0, 0))
  const gidOf = (n: number) => sim.shop().productGid(n)
  const update = async (product: Record<string, unknown>): Promise<Payload> => {
    const r = await clientFor(sim).request(UPDATE, { variables: { product } })
    expect(r.errors).toBeUndefined()
    return (r.data as { productUpdate: Payload }).productUpdate
  }
  const read = async (n: number) => {
    const r = await clientFor(sim).request(PRODUCT, { variables: { id: gidOf(n) } })
    expect(r.errors).toBeUndefined()
    return (r.data as any).product
  }

  beforeAll(async () => {
    sim = await startSim({
      clock,
      shops: [
        {
          domain: SHOP,
          accessToken: TOKEN,
          products: [
            { title: "Red shirt", tags: ["summer"] },
            { title: "Blue hat", tags: ["winter"], handle: "blue-hat" },
            { title: "Plain mug", status: "DRAFT" },
            { title: "Untouched" }
          ]
        }
      ]
    })
  })
  afterAll(() => sim.close())

  it("serves null SEO for a product that has none", async () => {
    expect(await read(1)).toMatchObject({ seo: { title: null, description: null }, titleTag: null })
    expect(sim.shop().productSeo(1)).toEqual({ title: null, description: null })
  })

  it("sets the SEO title and description, stored as the global.title_tag / description_tag metafields; updatedAt moves", async () => {
    const result = await update({ id: gidOf(1), seo: { title: "Red shirt | Acme", description: "A red cotton shirt." } })
    expect(result.userErrors).toEqual([])
    expect(result.product).toMatchObject({ id: gidOf(1), seo: { title: "Red shirt | Acme", description: "A red cotton shirt." }, updatedAt: "2026-07-15T12:00:00Z" })
    expect(await read(1)).toMatchObject({
      seo: { title: "Red shirt | Acme", description: "A red cotton shirt." },
      titleTag: { type: "single_line_text_field", value: "Red shirt | Acme" }
    })
    expect(sim.shop().productSeo(1)).toEqual({ title: "Red shirt | Acme", description: "A red cotton shirt." })
    expect(sim.shop().metafield(1, "global", "description_tag")?.value).toBe("A red cotton shirt.")
  })

  it("an identical retry succeeds and changes nothing, not even updatedAt", async () => {
    clock.advance(60_000)
    const result = await update({ id: gidOf(1), seo: { title: "Red shirt | Acme", description: "A red cotton shirt." } })
    expect(result.userErrors).toEqual([])
    expect(result.product?.updatedAt).toBe("2026-07-15T12:00:00Z")
    expect(sim.shop().product(1).updatedAt).toBe(Date.UTC(2026, 6, 15, 12, 0, 0))
  })

  it("updates only the SEO fields given; an empty value clears one", async () => {
    clock.advance(60_000)
    const result = await update({ id: gidOf(1), seo: { description: "" } })
    expect(result.product).toMatchObject({ seo: { title: "Red shirt | Acme", description: null }, updatedAt: "2026-07-15T12:02:00Z" })
    expect(sim.shop().metafield(1, "global", "description_tag")).toBeUndefined()
  })

  it("updates title, status and tags (tags replace all, normalized like tagsAdd), visible to search", async () => {
    clock.advance(60_000)
    const result = await update({ id: gidOf(2), title: "  Blue beanie ", status: "DRAFT", tags: ["Knit, warm", "knit", " cosy "] })
    expect(result.userErrors).toEqual([])
    expect(result.product).toMatchObject({ title: "Blue beanie", status: "DRAFT", tags: ["Knit", "cosy", "warm"], updatedAt: "2026-07-15T12:03:00Z" })
    expect(sim.shop().product(2)).toMatchObject({ title: "Blue beanie", status: "DRAFT", tags: ["Knit", "cosy", "warm"] })
    const r = await clientFor(sim).request(`{ products(first: 10, query: "status:draft tag:cosy") { nodes { id } } }`)
    expect((r.data as any).products.nodes).toEqual([{ id: gidOf(2) }])
    // UNLISTED is a 2026-07 status.
    expect((await update({ id: gidOf(2), status: "UNLISTED" })).product?.status).toBe("UNLISTED")
  })

  it("answers an unknown product with 'Product does not exist' on id, changing nothing", async () => {
    const before = [1, 2, 3, 4].map((n) => sim.shop().product(n))
    expect(await update({ id: "gid://shopify/Product/999", title: "x" })).toEqual({
      product: null,
      userErrors: [{ field: ["id"], message: "Product does not exist" }]
    })
    expect(await update({ id: "gid://shopify/Order/1", title: "x" })).toEqual({
      product: null,
      userErrors: [{ field: ["id"], message: "Product does not exist" }]
    })
    expect(await update({ title: "no id" })).toEqual({ product: null, userErrors: [{ field: ["id"], message: "Product does not exist" }] })
    expect([1, 2, 3, 4].map((n) => sim.shop().product(n))).toEqual(before)
  })

  it("is atomic: a blank title refuses the whole update (the SEO is not written either)", async () => {
    const before = sim.shop().product(4)
    const result = await update({ id: gidOf(4), title: "   ", seo: { title: "Should not be stored" } })
    expect(result).toEqual({ product: null, userErrors: [{ field: ["title"], message: "Title can't be blank" }] })
    expect(sim.shop().product(4)).toEqual(before)
    expect(sim.shop().productSeo(4)).toEqual({ title: null, description: null })
    const tooMany = await update({ id: gidOf(4), tags: Array.from({ length: 251 }, (_, i) => `t${i}`) })
    expect(tooMany.userErrors).toEqual([{ field: ["tags"], message: "Tags cannot be more than 250" }])
  })

  it("accepts the deprecated input: argument and identifier: { handle }", async () => {
    clock.advance(60_000)
    const viaInput = await clientFor(sim).request(
      `mutation($input: ProductInput!) { productUpdate(input: $input) { product { id seo { title } } userErrors { field message } } }`,
      { variables: { input: { id: gidOf(3), seo: { title: "Mug SEO" } } } }
    )
    expect((viaInput.data as any).productUpdate).toEqual({ product: { id: gidOf(3), seo: { title: "Mug SEO" } }, userErrors: [] })
    const viaHandle = await clientFor(sim).request(
      `mutation { productUpdate(identifier: { handle: "blue-hat" }, product: { title: "Blue hat again" }) { product { id title } userErrors { message } } }`
    )
    expect((viaHandle.data as any).productUpdate).toEqual({ product: { id: gidOf(2), title: "Blue hat again" }, userErrors: [] })
  })

  it("refuses input fields it does not simulate instead of ignoring them", async () => {
    const before = sim.shop().product(4)
    const { body } = await rawGraphQL(sim, `mutation($id: ID!) { productUpdate(product: { id: $id, handle: "new-handle" }) { product { id } userErrors { message } } }`, {
      variables: { id: gidOf(4) }
    })
    expect(body.errors[0]).toMatchObject({
      message: "The Shopify simulator does not implement ProductUpdateInput.handle.",
      extensions: { code: "SIMULATOR_NOT_IMPLEMENTED" }
    })
    expect(sim.shop().product(4)).toEqual(before)
  })

  it("validates the documents against the real 2026-07 schema", async () => {
    expect(validateAdminDocument(UPDATE)).toEqual([])
    expect(validateAdminDocument(PRODUCT)).toEqual([])
    expect(validateAdminDocument(`mutation { productUpdate(product: { id: "gid://shopify/Product/1", seo: { keywords: "x" } }) { userErrors { message } } }`)).toEqual([
      "InputObject 'SEOInput' doesn't accept argument 'keywords'"
    ])
    const before = sim.shop().product(4)
    const { status, body } = await rawGraphQL(
      sim,
      `mutation($id: ID!) { productUpdate(product: { id: $id, title: "Nope" }) { product { id } userErrors { field message code } } }`,
      { variables: { id: gidOf(4) } }
    )
    expect(status).toBe(200)
    expect(body.data).toBeUndefined()
    expect(body.errors.map((e: { message: string }) => e.message)).toEqual(["Field 'code' doesn't exist on type 'UserError'"])
    expect(sim.shop().product(4)).toEqual(before)
  })
})
