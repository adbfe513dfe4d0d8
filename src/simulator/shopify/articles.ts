/**
 * Blogs and their articles (`blogs`, `blog(id:)`, `article(id:)`, `articles(query:)`,
 * `articleCreate`, `articleUpdate`, `articleDelete`), as 2026-07 serves them:
 * - `articleCreate(article: ArticleCreateInput!, blog: ArticleBlogInput)`: the article needs a
 *   `title` and an `author { name }`, and a blog — `article.blogId`, or `blog { title }` to create
 *   one (both, or neither, is a userError); `isPublished: false` keeps it a draft;
 * - `articleUpdate(id:, article: ArticleUpdateInput!)`: partial; `isPublished` publishes or
 *   unpublishes; `updatedAt` moves only when something changes;
 * - `articleDelete(id:)`: `deletedArticleId`, or a NOT_FOUND userError.
 * Article ids and blog ids are numbered from 1 per shop.
 */
import { gid, gidNumber } from "./ids.ts"
import { toHandle } from "./pages.ts"

export interface ArticleInit {
  readonly title: string
  readonly handle?: string
  readonly body?: string
  readonly summary?: string | null
  readonly author?: string
  readonly tags?: ReadonlyArray<string>
  /** Default true. */
  readonly isPublished?: boolean
}

export interface BlogInit {
  readonly title: string
  readonly handle?: string
  readonly articles?: ReadonlyArray<ArticleInit>
}

/** Every shop's blog unless `ShopOptions.blogs` says otherwise: "News", with two posts (the demo's decaying one among them). */
export const DEFAULT_BLOGS: ReadonlyArray<BlogInit> = [{
  title: "News",
  articles: [
    {
      title: "Choosing a wool throw",
      body: "<p>A wool throw keeps you warm on the sofa. Look at the weight, the weave and the care label.</p><p>Merino is soft; lambswool is sturdy.</p>",
      summary: "How to pick a throw that lasts.",
      author: "Ada",
      tags: ["guides"]
    },
    { title: "Our winter collection", body: "<p>Hats, scarves and throws for the cold months.</p>", author: "Ada", tags: ["news"] }
  ]
}]

export interface BlogRecord {
  readonly __typename: "Blog"
  readonly num: number
  readonly gid: string
  readonly title: string
  readonly handle: string
  readonly createdAt: number
}

export interface ArticleRecord {
  readonly __typename: "Article"
  readonly num: number
  readonly gid: string
  readonly blogNum: number
  readonly title: string
  readonly handle: string
  readonly body: string
  readonly summary: string | null
  readonly author: string
  readonly tags: ReadonlyArray<string>
  readonly createdAt: number
  readonly updatedAt: number
  /** Null: a draft. */
  readonly publishedAt: number | null
}

export class Blogs {
  readonly #blogs = new Map<number, BlogRecord>()
  readonly #articles = new Map<number, ArticleRecord>()
  #nextBlog = 1
  #nextArticle = 1

  constructor(inits: ReadonlyArray<BlogInit>, options: { readonly createdAtBase: number }) {
    for (const blog of inits) {
      const b = this.createBlog(blog.title, options.createdAtBase, blog.handle)
      blog.articles?.forEach((a, i) => {
        const at = options.createdAtBase + (i + 1) * 86_400_000
        this.createArticle(b.num, { ...a, isPublished: a.isPublished ?? true }, at)
      })
    }
  }

  createBlog(title: string, now: number, handle?: string): BlogRecord {
    const num = this.#nextBlog++
    const blog: BlogRecord = { __typename: "Blog", num, gid: gid("Blog", num), title, handle: handle ?? toHandle(title), createdAt: now }
    this.#blogs.set(num, blog)
    return blog
  }

  createArticle(blogNum: number, init: ArticleInit, now: number): ArticleRecord {
    const num = this.#nextArticle++
    const base = init.handle ?? toHandle(init.title)
    let handle = base
    for (let i = 1; this.articleByHandle(blogNum, handle) !== undefined; i++) handle = `${base}-${i}`
    const article: ArticleRecord = {
      __typename: "Article",
      num,
      gid: gid("Article", num),
      blogNum,
      title: init.title,
      handle,
      body: init.body ?? "",
      summary: init.summary ?? null,
      author: init.author ?? "Staff",
      tags: [...(init.tags ?? [])],
      createdAt: now,
      updatedAt: now,
      publishedAt: init.isPublished === false ? null : now
    }
    this.#articles.set(num, article)
    return article
  }

  blogNumOf(blogGid: unknown): number | undefined {
    const n = gidNumber(blogGid, "Blog")
    return n !== undefined && this.#blogs.has(n) ? n : undefined
  }

  articleNumOf(articleGid: unknown): number | undefined {
    const n = gidNumber(articleGid, "Article")
    return n !== undefined && this.#articles.has(n) ? n : undefined
  }

  blog(n: number): BlogRecord | undefined {
    return this.#blogs.get(n)
  }

  article(n: number): ArticleRecord | undefined {
    return this.#articles.get(n)
  }

  blogs(): ReadonlyArray<BlogRecord> {
    return [...this.#blogs.values()]
  }

  articles(blogNum?: number): ReadonlyArray<ArticleRecord> {
    return [...this.#articles.values()].filter((a) => blogNum === undefined || a.blogNum === blogNum)
  }

  articleByHandle(blogNum: number, handle: string): ArticleRecord | undefined {
    for (const a of this.#articles.values()) if (a.blogNum === blogNum && a.handle === handle) return a
    return undefined
  }

  updateArticle(n: number, changes: Partial<Pick<ArticleRecord, "title" | "handle" | "body" | "summary" | "tags" | "publishedAt">>, now: number): ArticleRecord {
    const a = this.#articles.get(n)
    if (a === undefined) throw new Error(`no article ${n}`)
    const updated: ArticleRecord = { ...a, ...changes, updatedAt: Math.max(now, a.createdAt) }
    this.#articles.set(n, updated)
    return updated
  }

  deleteArticle(n: number): boolean {
    return this.#articles.delete(n)
  }
}

interface UserError {
  readonly field: ReadonlyArray<string> | null
  readonly message: string
  readonly code: string | null
}

/** `ArticleCreateInput` / `ArticleUpdateInput` after GraphQL coercion (the fields the simulator serves). */
export interface ArticleInput {
  readonly blogId?: string | null
  readonly title?: string | null
  readonly handle?: string | null
  readonly body?: string | null
  readonly summary?: string | null
  readonly author?: { readonly name?: string | null } | null
  readonly tags?: ReadonlyArray<string> | null
  readonly isPublished?: boolean | null
}

const MAX_TITLE = 255

export const articleCreate = (
  blogs: Blogs,
  now: number,
  input: ArticleInput,
  blog: { readonly title?: string | null } | null | undefined
): { readonly article: ArticleRecord | null; readonly userErrors: ReadonlyArray<UserError> } => {
  const errors: Array<UserError> = []
  const title = input.title?.trim() ?? ""
  if (title === "") errors.push({ field: ["article", "title"], message: "Title can't be blank", code: "BLANK" })
  else if (title.length > MAX_TITLE) errors.push({ field: ["article", "title"], message: `Title is too long (maximum is ${MAX_TITLE} characters)`, code: "TOO_LONG" })
  const author = input.author?.name?.trim() ?? ""
  if (author === "") errors.push({ field: ["article", "author"], message: "Author can't be blank", code: "AUTHOR_FIELD_REQUIRED" })
  const hasBlogId = input.blogId !== undefined && input.blogId !== null
  const hasBlog = blog !== undefined && blog !== null
  let blogNum: number | undefined
  if (hasBlogId === hasBlog) {
    errors.push({ field: ["article"], message: "Must specify either a blog or a blog ID", code: hasBlogId ? "AMBIGUOUS_BLOG" : "BLOG_REFERENCE_REQUIRED" })
  } else if (hasBlogId) {
    blogNum = blogs.blogNumOf(input.blogId)
    if (blogNum === undefined) errors.push({ field: ["article", "blogId"], message: "Blog does not exist", code: "NOT_FOUND" })
  }
  if (errors.length > 0) return { article: null, userErrors: errors }
  const num = blogNum ?? blogs.createBlog(blog!.title ?? "Blog", now).num
  const article = blogs.createArticle(num, {
    title,
    ...(input.handle ? { handle: toHandle(input.handle) } : {}),
    body: input.body ?? "",
    summary: input.summary ?? null,
    author,
    tags: input.tags ?? [],
    isPublished: input.isPublished !== false
  }, now)
  return { article, userErrors: [] }
}

export const articleUpdate = (blogs: Blogs, now: number, id: string, input: ArticleInput): { readonly article: ArticleRecord | null; readonly userErrors: ReadonlyArray<UserError> } => {
  const n = blogs.articleNumOf(id)
  const a = n === undefined ? undefined : blogs.article(n)
  if (n === undefined || a === undefined) return { article: null, userErrors: [{ field: ["id"], message: "Article does not exist", code: "NOT_FOUND" }] }
  const changes: { -readonly [K in "title" | "handle" | "body" | "summary" | "tags" | "publishedAt"]?: ArticleRecord[K] } = {}
  if (input.title !== undefined && input.title !== null) {
    const title = input.title.trim()
    if (title === "") return { article: null, userErrors: [{ field: ["article", "title"], message: "Title can't be blank", code: "BLANK" }] }
    if (title !== a.title) changes.title = title
  }
  if (input.handle !== undefined && input.handle !== null && toHandle(input.handle) !== a.handle) changes.handle = toHandle(input.handle)
  if (input.body !== undefined && input.body !== null && input.body !== a.body) changes.body = input.body
  if (input.summary !== undefined && input.summary !== a.summary) changes.summary = input.summary ?? null
  if (input.tags !== undefined && input.tags !== null) changes.tags = [...input.tags]
  if (input.isPublished === true && a.publishedAt === null) changes.publishedAt = now
  if (input.isPublished === false && a.publishedAt !== null) changes.publishedAt = null
  if (Object.keys(changes).length === 0) return { article: a, userErrors: [] }
  return { article: blogs.updateArticle(n, changes, now), userErrors: [] }
}

export const articleDelete = (blogs: Blogs, id: string): { readonly deletedArticleId: string | null; readonly userErrors: ReadonlyArray<UserError> } => {
  const n = blogs.articleNumOf(id)
  if (n === undefined) return { deletedArticleId: null, userErrors: [{ field: ["id"], message: "Article does not exist", code: "NOT_FOUND" }] }
  blogs.deleteArticle(n)
  return { deletedArticleId: id, userErrors: [] }
}
