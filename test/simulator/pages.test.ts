import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { manualClock, validateAdminDocument, type RunningShopifySimulator } from "../../src/simulator/shopify/index.ts"
import { clientFor, rawGraphQL, startSim } from "./support.ts"

const PAGE = `query Page($id: ID!) {
  page(id: $id) {
    id title handle isPublished publishedAt updatedAt
    seoTitle: metafield(namespace: "global", key: "title_tag") { value }
    seoDescription: metafield(namespace: "global", key: "description_tag") { value }
  }
}`
const UPDATE = `mutation PageUpdate($id: ID!, $page: PageUpdateInput!) {
  pageUpdate(id: $id, page: $page) {
    page { id title handle isPublished publishedAt updatedAt }
    userErrors { field message code }
  }
}`

interface Payload {
  readonly page: { id: string; title: string; handle: string; isPublished: boolean; publishedAt: string | null; updatedAt: string } | null
  readonly userErrors: ReadonlyArray<{ readonly field: ReadonlyArray<string> | null; readonly message: string; readonly code: string | null }>
}

const seoMetafields = (title: string, description: string) => [
  { namespace: "global", key: "title_tag", type: "single_line_text_field", value: title },
  { namespace: "global", key: "description_tag", type: "multi_line_text_field", value: description }
]

describe("online store pages", () => {
  let sim: RunningShopifySimulator
  const clock = manualClock(Date.UTC(2026, 6, 15, 12, 0, 0))
  const update = async (id: string, page: Record<string, unknown>): Promise<Payload> => {
    const r = await clientFor(sim).request(UPDATE, { variables: { id, page } })
    expect(r.errors).toBeUndefined()
    return (r.data as { pageUpdate: Payload }).pageUpdate
  }
  const read = async (id: string) => {
    const r = await clientFor(sim).request(PAGE, { variables: { id } })
    expect(r.errors).toBeUndefined()
    return (r.data as any).page
  }

  beforeAll(async () => {
    sim = await startSim({ clock })
  })
  afterAll(() => sim.close())

  it("seeds three deterministic pages: two published, one not", async () => {
    expect(await read("gid://shopify/Page/1")).toEqual({
      id: "gid://shopify/Page/1",
      title: "About us",
      handle: "about-us",
      isPublished: true,
      publishedAt: "2024-06-01T00:00:00Z",
      updatedAt: "2024-06-01T00:00:00Z",
      seoTitle: { value: "About us | Our story" },
      seoDescription: { value: "Who we are and how we make our products." }
    })
    expect(await read("gid://shopify/Page/2")).toMatchObject({ title: "Contact", handle: "contact", isPublished: true, seoTitle: null, seoDescription: null })
    expect(await read("gid://shopify/Page/3")).toMatchObject({ title: "Shipping policy", handle: "shipping-policy", isPublished: false, publishedAt: null })
    expect(await read("gid://shopify/Page/4")).toBeNull()
    expect(sim.shop().page(3)).toMatchObject({ isPublished: false, seo: { title: null, description: null } })
  })

  it("lists pages with pagination and the pages search syntax", async () => {
    const client = clientFor(sim)
    const first = await client.request(`{ pages(first: 2) { nodes { id } pageInfo { hasNextPage endCursor } } }`)
    const page1 = (first.data as any).pages
    expect(page1.nodes.map((n: { id: string }) => n.id)).toEqual(["gid://shopify/Page/1", "gid://shopify/Page/2"])
    expect(page1.pageInfo.hasNextPage).toBe(true)
    const next = await client.request(`query($after: String) { pages(first: 2, after: $after) { nodes { id } pageInfo { hasNextPage } } }`, {
      variables: { after: page1.pageInfo.endCursor }
    })
    expect((next.data as any).pages).toEqual({ nodes: [{ id: "gid://shopify/Page/3" }], pageInfo: { hasNextPage: false } })
    const search = await client.request(`{
      unpublished: pages(first: 10, query: "published_status:unpublished") { nodes { handle } }
      byHandle: pages(first: 10, query: "handle:contact") { nodes { handle } }
      byTitle: pages(first: 10, sortKey: TITLE, reverse: true) { nodes { handle } }
    }`)
    expect(search.data).toEqual({
      unpublished: { nodes: [{ handle: "shipping-policy" }] },
      byHandle: { nodes: [{ handle: "contact" }] },
      byTitle: { nodes: [{ handle: "shipping-policy" }, { handle: "contact" }, { handle: "about-us" }] }
    })
    const { body } = await rawGraphQL(sim, `{ pages(first: 250) { nodes { id } } }`)
    expect(body.data.pages.nodes).toHaveLength(3)
    expect((await rawGraphQL(sim, `{ pages { nodes { id } } }`)).body.errors[0].message).toBe("you must provide one of first or last")
  })

  it("sets a page's SEO through pageUpdate metafields; an identical retry changes nothing", async () => {
    const id = "gid://shopify/Page/2"
    const result = await update(id, { metafields: seoMetafields("Contact us | Acme", "Write to us.") })
    expect(result.userErrors).toEqual([])
    expect(result.page).toMatchObject({ id, updatedAt: "2026-07-15T12:00:00Z" })
    expect(await read(id)).toMatchObject({ seoTitle: { value: "Contact us | Acme" }, seoDescription: { value: "Write to us." } })
    expect(sim.shop().pageSeo(2)).toEqual({ title: "Contact us | Acme", description: "Write to us." })
    clock.advance(60_000)
    expect((await update(id, { metafields: seoMetafields("Contact us | Acme", "Write to us.") })).page?.updatedAt).toBe("2026-07-15T12:00:00Z")
  })

  it("sets a page's SEO through metafieldsSet on the page id too", async () => {
    const r = await clientFor(sim).request(
      `mutation($m: [MetafieldsSetInput!]!) { metafieldsSet(metafields: $m) { metafields { key value ownerType owner { ... on Page { id } } } userErrors { field message code } } }`,
      { variables: { m: [{ ownerId: "gid://shopify/Page/3", namespace: "global", key: "title_tag", type: "single_line_text_field", value: "Shipping | Acme" }] } }
    )
    expect((r.data as any).metafieldsSet).toEqual({
      metafields: [{ key: "title_tag", value: "Shipping | Acme", ownerType: "PAGE", owner: { id: "gid://shopify/Page/3" } }],
      userErrors: []
    })
    expect(sim.shop().page(3).seo).toEqual({ title: "Shipping | Acme", description: null })
    // Page metafields are nodes too, with ids of their own that never collide with product metafields.
    const id = sim.shop().pages.metafield(3, "global", "title_tag")!.gid
    const node = await clientFor(sim).request(`query($id: ID!) { node(id: $id) { ... on Metafield { value owner { ... on Page { handle } } } } }`, { variables: { id } })
    expect((node.data as any).node).toEqual({ value: "Shipping | Acme", owner: { handle: "shipping-policy" } })
    const missing = await clientFor(sim).request(
      `mutation($m: [MetafieldsSetInput!]!) { metafieldsSet(metafields: $m) { userErrors { field message code } } }`,
      { variables: { m: [{ ownerId: "gid://shopify/Page/99", namespace: "global", key: "title_tag", type: "single_line_text_field", value: "x" }] } }
    )
    expect((missing.data as any).metafieldsSet.userErrors).toEqual([{ field: ["metafields", "0", "ownerId"], message: "Owner does not exist.", code: "INVALID" }])
  })

  it("publishes and unpublishes with isPublished (publishing twice keeps the first publishedAt)", async () => {
    clock.set(Date.UTC(2026, 6, 16, 9, 0, 0))
    const id = "gid://shopify/Page/3"
    const published = await update(id, { isPublished: true })
    expect(published.page).toMatchObject({ isPublished: true, publishedAt: "2026-07-16T09:00:00Z", updatedAt: "2026-07-16T09:00:00Z" })
    clock.advance(60_000)
    const again = await update(id, { isPublished: true })
    expect(again.page).toMatchObject({ isPublished: true, publishedAt: "2026-07-16T09:00:00Z", updatedAt: "2026-07-16T09:00:00Z" })
    expect(sim.shop().page(3).isPublished).toBe(true)
    const unpublished = await update(id, { isPublished: false })
    expect(unpublished.page).toMatchObject({ isPublished: false, publishedAt: null, updatedAt: "2026-07-16T09:01:00Z" })
    expect(sim.shop().page(id).isPublished).toBe(false)
  })

  it("schedules with a future publishDate, and refuses isPublished: true with one", async () => {
    const id = "gid://shopify/Page/3"
    const future = "2026-08-01T00:00:00Z"
    expect(await update(id, { isPublished: true, publishDate: future })).toEqual({
      page: null,
      userErrors: [{ field: ["page", "publishDate"], message: "Can’t set isPublished to true and also set a future publish date.", code: "INVALID_PUBLISH_DATE" }]
    })
    const scheduled = await update(id, { publishDate: future })
    expect(scheduled.page).toMatchObject({ isPublished: false, publishedAt: future })
    clock.set(Date.UTC(2026, 7, 1, 0, 0, 1))
    expect(sim.shop().page(3).isPublished).toBe(true)
  })

  it("updates title and handle; redirectNewHandle keeps the old URL working", async () => {
    const result = await update("gid://shopify/Page/2", { title: "Contact us", handle: "Contact Us", redirectNewHandle: true })
    expect(result.page).toMatchObject({ title: "Contact us", handle: "contact-us" })
    expect(sim.shop().redirect("/pages/contact")).toMatchObject({ path: "/pages/contact", target: "/pages/contact-us" })
  })

  it("answers userErrors (nothing is written): unknown page, blank title, taken handle, bad metafield", async () => {
    const before = sim.shop().pageList()
    expect(await update("gid://shopify/Page/99", { title: "x" })).toEqual({
      page: null,
      userErrors: [{ field: ["id"], message: "Page does not exist", code: "NOT_FOUND" }]
    })
    expect((await update("gid://shopify/Page/1", { title: "  " })).userErrors).toEqual([
      { field: ["page", "title"], message: "Title can't be blank", code: "BLANK" }
    ])
    expect((await update("gid://shopify/Page/1", { handle: "contact-us", metafields: seoMetafields("New", "New") })).userErrors).toEqual([
      { field: ["page", "handle"], message: "Handle has already been taken", code: "TAKEN" }
    ])
    const badMetafield = await update("gid://shopify/Page/1", {
      title: "Would change",
      metafields: [{ namespace: "global", key: "title_tag", type: "single_line_text_field", value: "two\nlines" }]
    })
    expect(badMetafield.userErrors).toEqual([
      { field: ["page", "metafields", "0", "value"], message: "Value must be a single line text string.", code: "INVALID_VALUE" }
    ])
    expect(sim.shop().pageList()).toEqual(before)
  })

  it("validates the documents against the real 2026-07 schema (Page has no seo field)", async () => {
    expect(validateAdminDocument(PAGE)).toEqual([])
    expect(validateAdminDocument(UPDATE)).toEqual([])
    expect(validateAdminDocument(`{ page(id: "gid://shopify/Page/1") { seo { title } } }`)).toEqual(["Field 'seo' doesn't exist on type 'Page'"])
    expect(validateAdminDocument(`mutation { pageUpdate(id: "gid://shopify/Page/1", page: { seo: { title: "x" } }) { userErrors { message } } }`)).toEqual([
      "InputObject 'PageUpdateInput' doesn't accept argument 'seo'"
    ])
    const before = sim.shop().page(1)
    const { status, body } = await rawGraphQL(sim, `mutation { pageUpdate(page: { title: "x" }) { userErrors { message } } }`)
    expect(status).toBe(200)
    expect(body.errors.map((e: { message: string }) => e.message)).toEqual(["Field 'pageUpdate' is missing required arguments: id"])
    expect(sim.shop().page(1)).toEqual(before)
  })
})
