/**
 * Blogs and articles in the Shopify simulator (2026-07): the seeded blog, `articleCreate`'s
 * validation (title, author, one blog reference) as Shopify's userErrors, drafts, partial
 * `articleUpdate`, `articleDelete`, and `articles(query: "handle:…")`.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { manualClock, validateAdminDocument, type RunningShopifySimulator } from "../../src/simulator/shopify/index.ts"
import { clientFor, startSim } from "./support.ts"

const CREATE = `mutation Create($article: ArticleCreateInput!, $blog: ArticleBlogInput) {
  articleCreate(article: $article, blog: $blog) { article { id handle title isPublished blog { id title } } userErrors { field message code } }
}`
const UPDATE = `mutation Update($id: ID!, $article: ArticleUpdateInput!) {
  articleUpdate(id: $id, article: $article) { article { id body isPublished updatedAt } userErrors { field message code } }
}`
const DELETE = `mutation Delete($id: ID!) { articleDelete(id: $id) { deletedArticleId userErrors { field message code } } }`
const BY_HANDLE = `query ByHandle($query: String!) { articles(first: 5, query: $query) { nodes { id handle author { name } blog { handle } } } }`
const BLOGS = `query { blogs(first: 5) { nodes { id handle title articles(first: 5) { nodes { title isPublished } } } } }`

describe("blogs and articles", () => {
  let sim: RunningShopifySimulator
  const clock = manualClock(Date.UTC(2026, 6, 15, 12, 0, 0))
  const request = async (document: string, variables: Record<string, unknown> = {}) => {
    expect(validateAdminDocument(document)).toEqual([])
    const r = await clientFor(sim).request(document, { variables })
    expect(r.errors).toBeUndefined()
    return r.data as any
  }

  beforeAll(async () => {
    sim = await startSim({ clock })
  })
  afterAll(() => sim.close())

  it("seeds the News blog with two published posts", async () => {
    const data = await request(BLOGS)
    expect(data.blogs.nodes).toEqual([{
      id: "gid://shopify/Blog/1", handle: "news", title: "News",
      articles: { nodes: [{ title: "Choosing a wool throw", isPublished: true }, { title: "Our winter collection", isPublished: true }] }
    }])
  })

  it("articleCreate names every problem, creates a draft in a blog, and finds it by handle", async () => {
    const bad = await request(CREATE, { article: { title: " ", author: { name: "" }, blogId: "gid://shopify/Blog/1" }, blog: { title: "Other" } })
    expect(bad.articleCreate.article).toBeNull()
    expect(bad.articleCreate.userErrors.map((e: { code: string }) => e.code)).toEqual(["BLANK", "AUTHOR_FIELD_REQUIRED", "AMBIGUOUS_BLOG"])
    const missing = await request(CREATE, { article: { title: "X", author: { name: "A" }, blogId: "gid://shopify/Blog/99" } })
    expect(missing.articleCreate.userErrors).toEqual([{ field: ["article", "blogId"], message: "Blog does not exist", code: "NOT_FOUND" }])

    const created = await request(CREATE, { article: { title: "Merino socks, explained", author: { name: "Sumeru" }, blogId: "gid://shopify/Blog/1", isPublished: false, body: "<p>Draft</p>" } })
    expect(created.articleCreate).toEqual({
      article: { id: "gid://shopify/Article/3", handle: "merino-socks-explained", title: "Merino socks, explained", isPublished: false, blog: { id: "gid://shopify/Blog/1", title: "News" } },
      userErrors: []
    })
    const found = await request(BY_HANDLE, { query: "handle:merino-socks-explained" })
    expect(found.articles.nodes).toEqual([{ id: "gid://shopify/Article/3", handle: "merino-socks-explained", author: { name: "Sumeru" }, blog: { handle: "news" } }])
  })

  it("articleUpdate changes only what it is given (updatedAt moves only on a change); articleDelete removes it", async () => {
    clock.advance(60_000)
    const updated = await request(UPDATE, { id: "gid://shopify/Article/3", article: { body: "<p>Final</p>", isPublished: true } })
    expect(updated.articleUpdate.article).toMatchObject({ body: "<p>Final</p>", isPublished: true, updatedAt: "2026-07-15T12:01:00Z" })
    clock.advance(60_000)
    const same = await request(UPDATE, { id: "gid://shopify/Article/3", article: { body: "<p>Final</p>" } })
    expect(same.articleUpdate.article.updatedAt).toBe("2026-07-15T12:01:00Z")
    expect((await request(DELETE, { id: "gid://shopify/Article/3" })).articleDelete).toEqual({ deletedArticleId: "gid://shopify/Article/3", userErrors: [] })
    expect((await request(DELETE, { id: "gid://shopify/Article/3" })).articleDelete.userErrors[0].code).toBe("NOT_FOUND")
  })
})
