import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { validateAdminDocument, type RunningShopifySimulator } from "../../src/simulator/shopify/index.ts"
import { clientFor, rawGraphQL, startSim } from "./support.ts"

const CREATE = `mutation Create($urlRedirect: UrlRedirectInput!) {
  urlRedirectCreate(urlRedirect: $urlRedirect) {
    urlRedirect { id path target }
    userErrors { field message code }
  }
}`
const DELETE = `mutation Delete($id: ID!) {
  urlRedirectDelete(id: $id) { deletedUrlRedirectId userErrors { field message code } }
}`
const BY_PATH = `query ByPath($q: String!) { urlRedirects(first: 1, query: $q) { nodes { id path target } } }`

interface UserError {
  readonly field: ReadonlyArray<string> | null
  readonly message: string
  readonly code: string | null
}

describe("URL redirects", () => {
  let sim: RunningShopifySimulator
  const create = async (urlRedirect: Record<string, unknown>) => {
    const r = await clientFor(sim).request(CREATE, { variables: { urlRedirect } })
    expect(r.errors).toBeUndefined()
    return (r.data as any).urlRedirectCreate as { urlRedirect: { id: string; path: string; target: string } | null; userErrors: Array<UserError> }
  }
  const byPath = async (path: string) => {
    const r = await clientFor(sim).request(BY_PATH, { variables: { q: `path:${path}` } })
    expect(r.errors).toBeUndefined()
    return (r.data as any).urlRedirects.nodes as Array<{ id: string; path: string; target: string }>
  }

  beforeAll(async () => {
    sim = await startSim()
  })
  afterAll(() => sim.close())

  it("creates a redirect and serves it through urlRedirect(id:), urlRedirects and node", async () => {
    const created = await create({ path: "/old-shirt", target: "/products/red-shirt" })
    expect(created).toEqual({ urlRedirect: { id: "gid://shopify/UrlRedirect/1", path: "/old-shirt", target: "/products/red-shirt" }, userErrors: [] })
    const r = await clientFor(sim).request(`{
      one: urlRedirect(id: "gid://shopify/UrlRedirect/1") { id path target }
      all: urlRedirects(first: 10) { nodes { id } }
      node(id: "gid://shopify/UrlRedirect/1") { __typename ... on UrlRedirect { path } }
      missing: urlRedirect(id: "gid://shopify/UrlRedirect/99") { id }
    }`)
    expect(r.data).toEqual({
      one: { id: "gid://shopify/UrlRedirect/1", path: "/old-shirt", target: "/products/red-shirt" },
      all: { nodes: [{ id: "gid://shopify/UrlRedirect/1" }] },
      node: { __typename: "UrlRedirect", path: "/old-shirt" },
      missing: null
    })
    expect(sim.shop().redirects()).toEqual([{ id: "gid://shopify/UrlRedirect/1", path: "/old-shirt", target: "/products/red-shirt" }])
  })

  it("stores a full URL path without its domain, and adds the leading slash", async () => {
    expect((await create({ path: "https://acme.example/summer?ref=ad", target: "/collections/summer" })).urlRedirect).toMatchObject({ path: "/summer?ref=ad" })
    expect((await create({ path: "winter", target: "https://other.example/winter" })).urlRedirect).toMatchObject({
      path: "/winter",
      target: "https://other.example/winter"
    })
  })

  it("finds a redirect by exact path with urlRedirects(query: \"path:…\") (case-insensitive; no prefix matches)", async () => {
    expect(await byPath("/old-shirt")).toEqual([{ id: "gid://shopify/UrlRedirect/1", path: "/old-shirt", target: "/products/red-shirt" }])
    expect(await byPath("/OLD-SHIRT")).toHaveLength(1)
    expect(await byPath("/old")).toEqual([])
    expect(await byPath("/nothing-here")).toEqual([])
  })

  it("refuses a path already taken by another redirect (case-insensitively): a retry must look the path up first", async () => {
    const before = sim.shop().redirects()
    expect(await create({ path: "/old-shirt", target: "/products/blue-shirt" })).toEqual({
      urlRedirect: null,
      userErrors: [{ field: ["urlRedirect", "path"], message: "Path has already been taken", code: "CREATE_FAILED" }]
    })
    expect((await create({ path: "/Old-Shirt", target: "/products/red-shirt" })).userErrors.map((e) => e.message)).toEqual(["Path has already been taken"])
    expect(sim.shop().redirects()).toEqual(before)
  })

  it("answers blank path, blank target and path == target with userErrors", async () => {
    const before = sim.shop().redirects()
    expect((await create({ path: " ", target: "/x" })).userErrors).toEqual([{ field: ["urlRedirect", "path"], message: "Path can't be blank", code: "CREATE_FAILED" }])
    expect((await create({ path: "/y" })).userErrors).toEqual([{ field: ["urlRedirect", "target"], message: "Target can't be blank", code: "CREATE_FAILED" }])
    expect((await create({})).userErrors.map((e) => e.message)).toEqual(["Path can't be blank", "Target can't be blank"])
    expect((await create({ path: "/loop", target: "/Loop" })).userErrors).toEqual([
      { field: ["urlRedirect", "target"], message: "Target cannot be the same as path", code: "CREATE_FAILED" }
    ])
    expect(sim.shop().redirects()).toEqual(before)
  })

  it("deletes a redirect, which frees its path; deleting an unknown id is a DOES_NOT_EXIST userError", async () => {
    const [existing] = await byPath("/winter")
    const deleted = await clientFor(sim).request(DELETE, { variables: { id: existing!.id } })
    expect((deleted.data as any).urlRedirectDelete).toEqual({ deletedUrlRedirectId: existing!.id, userErrors: [] })
    expect(sim.shop().redirect("/winter")).toBeUndefined()
    const again = await clientFor(sim).request(DELETE, { variables: { id: existing!.id } })
    expect((again.data as any).urlRedirectDelete).toEqual({
      deletedUrlRedirectId: null,
      userErrors: [{ field: ["id"], message: "Redirect does not exist", code: "DOES_NOT_EXIST" }]
    })
    const recreated = await create({ path: "/winter", target: "/collections/winter" })
    expect(recreated.userErrors).toEqual([])
    // Ids are never reused.
    expect(recreated.urlRedirect?.id).not.toBe(existing!.id)
  })

  it("updates a redirect's target with urlRedirectUpdate", async () => {
    const [existing] = await byPath("/old-shirt")
    const r = await clientFor(sim).request(
      `mutation($id: ID!) { urlRedirectUpdate(id: $id, urlRedirect: { target: "/products/green-shirt" }) { urlRedirect { path target } userErrors { message code } } }`,
      { variables: { id: existing!.id } }
    )
    expect((r.data as any).urlRedirectUpdate).toEqual({ urlRedirect: { path: "/old-shirt", target: "/products/green-shirt" }, userErrors: [] })
    const taken = await clientFor(sim).request(
      `mutation($id: ID!) { urlRedirectUpdate(id: $id, urlRedirect: { path: "/winter" }) { urlRedirect { id } userErrors { message code } } }`,
      { variables: { id: existing!.id } }
    )
    expect((taken.data as any).urlRedirectUpdate).toEqual({ urlRedirect: null, userErrors: [{ message: "Path has already been taken", code: "UPDATE_FAILED" }] })
  })

  it("validates the documents against the real 2026-07 schema", async () => {
    expect(validateAdminDocument(CREATE)).toEqual([])
    expect(validateAdminDocument(DELETE)).toEqual([])
    expect(validateAdminDocument(BY_PATH)).toEqual([])
    expect(validateAdminDocument(`mutation { urlRedirectDelete(id: "gid://shopify/UrlRedirect/1") { deletedId userErrors { message } } }`)).toEqual([
      "Field 'deletedId' doesn't exist on type 'UrlRedirectDeletePayload'"
    ])
    const before = sim.shop().redirects()
    // `input:` is not the argument's name in 2026-07.
    const { status, body } = await rawGraphQL(sim, `mutation { urlRedirectCreate(input: { path: "/a", target: "/b" }) { userErrors { message } } }`)
    expect(status).toBe(200)
    expect(body.errors.map((e: { message: string }) => e.message)).toEqual([
      "Field 'urlRedirectCreate' doesn't accept argument 'input'",
      "Field 'urlRedirectCreate' is missing required arguments: urlRedirect"
    ])
    expect(sim.shop().redirects()).toEqual(before)
  })
})
