import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { manualClock, validateAdminDocument, type RunningShopifySimulator } from "../../src/simulator/shopify/index.ts"
import { SHOP, TOKEN, clientFor, rawGraphQL, startSim } from "./support.ts"

const ONLINE_STORE = "gid://shopify/Publication/1"
const GOOGLE = "gid://shopify/Publication/2"

const PUBLISH = `mutation Publish($id: ID!, $input: [PublicationInput!]!) {
  publishablePublish(id: $id, input: $input) {
    publishable { ... on Product { id onlineStore: publishedOnPublication(publicationId: "${ONLINE_STORE}") google: publishedOnPublication(publicationId: "${GOOGLE}") } }
    shop { name }
    userErrors { field message }
  }
}`
const UNPUBLISH = `mutation Unpublish($id: ID!, $input: [PublicationInput!]!) {
  publishableUnpublish(id: $id, input: $input) {
    publishable { ... on Product { id google: publishedOnPublication(publicationId: "${GOOGLE}") } }
    userErrors { field message }
  }
}`

describe("publications", () => {
  let sim: RunningShopifySimulator
  const clock = manualClock(Date.UTC(2026, 6, 15, 12, 0, 0))
  const gidOf = (n: number) => sim.shop().productGid(n)
  const mutate = async (document: string, root: string, id: string, input: ReadonlyArray<Record<string, unknown>>) => {
    const r = await clientFor(sim).request(document, { variables: { id, input } })
    expect(r.errors).toBeUndefined()
    return (r.data as any)[root]
  }

  beforeAll(async () => {
    sim = await startSim({
      clock,
      shops: [
        {
          domain: SHOP,
          accessToken: TOKEN,
          products: [{ title: "Active shirt" }, { title: "Draft hat", status: "DRAFT" }, { title: "Archived mug", status: "ARCHIVED" }]
        }
      ]
    })
  })
  afterAll(() => sim.close())

  it("lists the shop's sales channel publications with deterministic ids", async () => {
    const r = await clientFor(sim).request(`{
      publications(first: 10) { nodes { id name autoPublish supportsFuturePublishing catalog { title } } }
      market: publications(first: 10, catalogType: MARKET) { nodes { id } }
      publication(id: "${GOOGLE}") { name }
    }`)
    expect(r.errors).toBeUndefined()
    expect(r.data).toEqual({
      publications: {
        nodes: [
          { id: ONLINE_STORE, name: "Online Store", autoPublish: true, supportsFuturePublishing: true, catalog: { title: "Online Store" } },
          { id: GOOGLE, name: "Google & YouTube", autoPublish: true, supportsFuturePublishing: false, catalog: { title: "Google & YouTube" } }
        ]
      },
      market: { nodes: [] },
      publication: { name: "Google & YouTube" }
    })
    expect(sim.shop().publicationList().map((p) => p.name)).toEqual(["Online Store", "Google & YouTube"])
  })

  it("starts ACTIVE products published everywhere, others nowhere", async () => {
    const r = await clientFor(sim).request(`query($a: ID!, $b: ID!) {
      a: product(id: $a) { publishedOnPublication(publicationId: "${GOOGLE}") publishedAt resourcePublicationsV2(first: 5) { nodes { isPublished publishDate publication { id } } } }
      b: product(id: $b) { publishedOnPublication(publicationId: "${GOOGLE}") publishedAt resourcePublicationsV2(first: 5) { nodes { isPublished } } }
    }`, { variables: { a: gidOf(1), b: gidOf(2) } })
    expect(r.data).toEqual({
      a: {
        publishedOnPublication: true,
        publishedAt: "2025-01-01T00:00:00Z",
        resourcePublicationsV2: {
          nodes: [
            { isPublished: true, publishDate: "2025-01-01T00:00:00Z", publication: { id: ONLINE_STORE } },
            { isPublished: true, publishDate: "2025-01-01T00:00:00Z", publication: { id: GOOGLE } }
          ]
        }
      },
      b: { publishedOnPublication: false, publishedAt: null, resourcePublicationsV2: { nodes: [] } }
    })
    expect(sim.shop().isPublished(1, "Online Store")).toBe(true)
    expect(sim.shop().isPublished(2, GOOGLE)).toBe(false)
  })

  it("publishes a product on a publication; publishing twice is fine and keeps the first date", async () => {
    const first = await mutate(PUBLISH, "publishablePublish", gidOf(2), [{ publicationId: GOOGLE }])
    expect(first).toEqual({ publishable: { id: gidOf(2), onlineStore: false, google: true }, shop: { name: "acme" }, userErrors: [] })
    clock.advance(60_000)
    const second = await mutate(PUBLISH, "publishablePublish", gidOf(2), [{ publicationId: GOOGLE }, { publicationId: ONLINE_STORE }])
    expect(second).toEqual({ publishable: { id: gidOf(2), onlineStore: true, google: true }, shop: { name: "acme" }, userErrors: [] })
    const r = await clientFor(sim).request(`query($id: ID!) { product(id: $id) { publishedAt resourcePublicationsV2(first: 5) { nodes { publishDate publication { name } } } } }`, {
      variables: { id: gidOf(2) }
    })
    expect((r.data as any).product).toEqual({
      publishedAt: "2026-07-15T12:01:00Z",
      resourcePublicationsV2: {
        nodes: [
          { publishDate: "2026-07-15T12:01:00Z", publication: { name: "Online Store" } },
          { publishDate: "2026-07-15T12:00:00Z", publication: { name: "Google & YouTube" } }
        ]
      }
    })
    // Publication does not touch the product's updatedAt.
    expect(sim.shop().product(2).updatedAt).toBe(sim.shop().product(2).createdAt)
  })

  it("unpublishes; unpublishing where not published is not an error", async () => {
    expect(await mutate(UNPUBLISH, "publishableUnpublish", gidOf(1), [{ publicationId: GOOGLE }])).toEqual({
      publishable: { id: gidOf(1), google: false },
      userErrors: []
    })
    expect(sim.shop().isPublished(1, "Google & YouTube")).toBe(false)
    expect(sim.shop().isPublished(1, "Online Store")).toBe(true)
    expect(await mutate(UNPUBLISH, "publishableUnpublish", gidOf(1), [{ publicationId: GOOGLE }])).toEqual({
      publishable: { id: gidOf(1), google: false },
      userErrors: []
    })
  })

  it("schedules with a future publishDate on the Online Store only", async () => {
    const at = "2026-08-01T00:00:00Z"
    expect((await mutate(PUBLISH, "publishablePublish", gidOf(3), [{ publicationId: ONLINE_STORE, publishDate: at }])).userErrors).toEqual([])
    expect(sim.shop().isPublished(3, "Online Store")).toBe(false)
    const scheduled = await clientFor(sim).request(`query($id: ID!) { product(id: $id) {
      published: resourcePublicationsV2(first: 5) { nodes { isPublished } }
      all: resourcePublicationsV2(first: 5, onlyPublished: false) { nodes { isPublished publishDate } }
    } }`, { variables: { id: gidOf(3) } })
    expect((scheduled.data as any).product).toEqual({ published: { nodes: [] }, all: { nodes: [{ isPublished: false, publishDate: at }] } })
    expect(await mutate(PUBLISH, "publishablePublish", gidOf(3), [{ publicationId: GOOGLE, publishDate: at }])).toEqual({
      publishable: null,
      shop: { name: "acme" },
      userErrors: [{ field: ["input", "0", "publishDate"], message: "Google & YouTube does not support future publishing" }]
    })
  })

  it("answers userErrors for an unknown product or publication, changing nothing", async () => {
    const missingProduct = await mutate(PUBLISH, "publishablePublish", "gid://shopify/Product/999", [{ publicationId: GOOGLE }])
    expect(missingProduct).toEqual({ publishable: null, shop: { name: "acme" }, userErrors: [{ field: ["id"], message: "Product does not exist" }] })
    // Pages are not Publishable in 2026-07 (they are published with pageUpdate).
    const page = await mutate(PUBLISH, "publishablePublish", "gid://shopify/Page/1", [{ publicationId: GOOGLE }])
    expect(page.userErrors).toEqual([{ field: ["id"], message: "Resource does not exist" }])
    const missingPublication = await mutate(PUBLISH, "publishablePublish", gidOf(1), [{ publicationId: GOOGLE }, { publicationId: "gid://shopify/Publication/9" }])
    expect(missingPublication.userErrors).toEqual([{ field: ["input", "1", "publicationId"], message: "Publication does not exist" }])
    // Atomic: the valid Google entry was not applied either.
    expect(sim.shop().isPublished(1, "Google & YouTube")).toBe(false)
  })

  it("validates the documents against the real 2026-07 schema", async () => {
    expect(validateAdminDocument(PUBLISH)).toEqual([])
    expect(validateAdminDocument(UNPUBLISH)).toEqual([])
    expect(validateAdminDocument(`{ publications(first: 5) { nodes { id title } } }`)).toEqual(["Field 'title' doesn't exist on type 'Publication'"])
    const { status, body } = await rawGraphQL(sim, `mutation($id: ID!) { publishablePublish(id: $id, input: { publicationId: "${GOOGLE}" }) { publishable { ... on Page { id } } userErrors { message } } }`, {
      variables: { id: gidOf(1) }
    })
    expect(status).toBe(200)
    expect(body.data).toBeUndefined()
    expect(body.errors.map((e: { message: string }) => e.message)).toEqual([
      "Fragment on Page can't be spread inside Publishable"
    ])
    expect(sim.shop().isPublished(1, "Google & YouTube")).toBe(false)
  })
})
