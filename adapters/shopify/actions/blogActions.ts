/**
 * The blog actions the AI gateway writes for (issue 14 §4; the seed's `refresh_blog_post` meta):
 *
 * `refresh_blog_post` (`seo.content_decay_detected`, `minDropPct` 30, from 10 to 90): the trigger
 * names the post by its storefront URL (`/blogs/<blog>/<handle>`).
 * - snapshot: the article and its body.
 * - handler: a post that lost less than `minDropPct` percent of its clicks is left as it is;
 *   otherwise one gateway call drafts the refreshed body from the current one and the decay
 *   figures, saved on the article (`articleUpdate`). The shop's AI limits defer the execution.
 * - undoHandler: `changed_since` when the body is no longer what the action wrote (unless
 *   forced); else the previous body is put back.
 *
 * `create_content_brief` (`seo.keyword_gap_detected`, `blogHandle` "news"): a brief for the query
 * the shop shows for without a page, as an unpublished draft article in that blog.
 * - snapshot: the blog, and the draft if this execution made one already.
 * - handler: the draft's handle is derived from the execution, so a run again after a crash finds
 *   its draft instead of paying for a second brief.
 * - undoHandler: deletes the draft while it is unpublished; a published one is `changed_since`
 *   (someone made it a post), deleted only when forced.
 */
import { Effect } from "effect"
import { actionMeta } from "../../../domain/automation/Actions.ts"
import type { AiGateway } from "../../../src/ai/AiGateway.ts"
import { ActionPermanent, type ActionImplementation, ChangedSince } from "../../../src/automation/ActionSteps.ts"
import type { ShopifyAdmin } from "../ShopifyAdmin.ts"
import { askGateway } from "./ai.ts"
import { ARTICLE, ARTICLE_CREATE, ARTICLE_DELETE, ARTICLE_UPDATE, ARTICLES_BY_HANDLE, BLOGS } from "./documents.ts"
import { pathOf } from "./resources.ts"
import { graphql, mutationPayload, plainText } from "./shared.ts"

export const refreshMeta = actionMeta("refresh_blog_post")!
export const briefMeta = actionMeta("create_content_brief")!

interface ArticleNode {
  readonly id: string
  readonly handle: string
  readonly title: string
  readonly body: string
  readonly isPublished: boolean
  readonly blog: { readonly id: string; readonly handle: string } | null
}

/** Plain paragraphs as HTML (an answer that is HTML already is kept). */
export const asHtml = (text: string): string =>
  /<\/?(p|h[1-6]|ul|ol|li)\b/i.test(text)
    ? text.trim()
    : text.split(/\n\s*\n|\n/).map((p) => p.trim()).filter((p) => p !== "").map((p) => `<p>${p.replace(/&/g, "&amp;").replace(/</g, "&lt;")}</p>`).join("")

const articleById = (shop: string, id: string) =>
  Effect.map(graphql(shop, ARTICLE, { id }), (data) => (data.article as ArticleNode | null) ?? null)

/** The article a storefront URL (`/blogs/<blog>/<handle>`) or an id names. */
const resolveArticle = (shop: string, resourceId: string) =>
  Effect.gen(function*() {
    if (resourceId.startsWith("gid://shopify/Article/")) {
      const a = yield* articleById(shop, resourceId)
      if (a === null) return yield* Effect.fail(new ActionPermanent({ code: "not_found", message: `${resourceId} no longer exists` }))
      return a
    }
    const m = /^\/blogs\/([^/]+)\/([^/]+)\/?$/.exec(pathOf(resourceId))
    if (m === null) return yield* Effect.fail(new ActionPermanent({ code: "unsupported_resource", message: `${resourceId} is not a blog post of the shop` }))
    const [blog, handle] = [decodeURIComponent(m[1]!), decodeURIComponent(m[2]!)]
    const data = yield* graphql(shop, ARTICLES_BY_HANDLE, { query: `handle:${JSON.stringify(handle)}` })
    const found = ((data.articles as { readonly nodes: ReadonlyArray<ArticleNode> } | null)?.nodes ?? []).find((a) => a.handle === handle && a.blog?.handle === blog)
    if (found === undefined) return yield* Effect.fail(new ActionPermanent({ code: "not_found", message: `no post ${handle} in the blog ${blog}` }))
    return found
  })

const setBody = (shop: string, id: string, body: string) =>
  Effect.flatMap(graphql(shop, ARTICLE_UPDATE, { id, article: { body } }), (d) => mutationPayload(d, "articleUpdate"))

export interface RefreshBefore {
  readonly id: string
  readonly title: string
  readonly body: string
}

export const REFRESH_SYSTEM = "You refresh blog posts of an online shop whose search traffic is falling. Keep every fact of the post, " +
  "update what is dated, make it clearer and more useful for the reader. Answer with the new body only, as HTML paragraphs (<p>…</p>)."

const number = (payload: unknown, field: string) => {
  const v = typeof payload === "object" && payload !== null ? (payload as Record<string, unknown>)[field] : undefined
  return typeof v === "number" && Number.isFinite(v) ? v : null
}

/** The comment a refreshed body ends with: which execution wrote it (a run again after a crash finds it). */
export const refreshMarker = (executionId: string) => `<!-- sumeru:refresh:${executionId} -->`

export const refreshBlogPost: ActionImplementation<ShopifyAdmin | AiGateway> = {
  snapshot: (shop, run) => Effect.map(resolveArticle(shop, run.resourceId), (a) => ({ id: a.id, title: a.title, body: a.body }) satisfies RefreshBefore),
  handler: (shop, run, before) =>
    Effect.gen(function*() {
      const was = before as RefreshBefore
      const now = yield* articleById(shop, was.id)
      if (now === null) return yield* Effect.fail(new ActionPermanent({ code: "not_found", message: `${was.title} no longer exists` }))
      if (now.body.includes(refreshMarker(run.executionId))) return { after: { body: now.body, refreshed: true }, summary: `${was.title} was already refreshed` }
      // the step may run long after its snapshot (a limit deferred it): never overwrite an edit made since
      if (now.body !== was.body) return yield* Effect.fail(new ActionPermanent({ code: "changed_since", message: `${was.title} was edited after the snapshot; nothing was written` }))
      const dropPct = number(run.resourcePayload, "dropPct")
      const minDropPct = typeof run.params["minDropPct"] === "number" ? run.params["minDropPct"] : 30
      if (dropPct !== null && dropPct < minDropPct) {
        return { after: { body: was.body, refreshed: false }, summary: `left ${was.title} as it is: it lost ${dropPct} % of its clicks, less than ${minDropPct} %` }
      }
      const answer = yield* askGateway({
        shop,
        purpose: "refresh_blog_post",
        capability: "text",
        system: REFRESH_SYSTEM,
        prompt: `Refresh this blog post. Its clicks fell ${dropPct ?? "?"} % over 14 days (from ${number(run.resourcePayload, "priorClicks") ?? "?"} to ${number(run.resourcePayload, "nowClicks") ?? "?"}).\n` +
          `Title: ${was.title}\nCurrent body: ${plainText(was.body).slice(0, 8_000)}`,
        maxOutputTokens: 2_000
      })
      const body = `${asHtml(answer.text)}${refreshMarker(run.executionId)}`
      if (plainText(asHtml(answer.text)) === "") return yield* Effect.fail(new ActionPermanent({ code: "unusable_answer", message: `the model's answer was empty (${answer.provider} ${answer.model})` }))
      yield* setBody(shop, was.id, body)
      return { after: { body, refreshed: true }, summary: `refreshed ${was.title} (${plainText(was.body).length} → ${plainText(body).length} characters; ${answer.provider} ${answer.model})` }
    }),
  undoHandler: (shop, _run, before, after, force) =>
    Effect.gen(function*() {
      const was = before as RefreshBefore
      const now = yield* articleById(shop, was.id)
      if (now === null) return yield* Effect.fail(new ActionPermanent({ code: "not_found", message: `${was.title} no longer exists` }))
      if (now.body !== (after as { body: string }).body && !force) return yield* Effect.fail(new ChangedSince({ message: `${was.title} was edited since` }))
      if (now.body !== was.body) yield* setBody(shop, was.id, was.body)
      return { summary: `restored ${was.title}'s previous body` }
    })
}

export interface BriefBefore {
  readonly blogId: string
  readonly blogHandle: string
  /** The draft this execution made already (a run again after a crash), else null. */
  readonly draftId: string | null
}

export const BRIEF_SYSTEM = "You write content briefs for an online shop's writers: the searcher's intent, the questions to answer, " +
  "an outline (H2/H3), the facts to check, and the internal links to add. Answer in short paragraphs and lists, no preamble."

/** The draft's handle: from the execution, so a re-run finds the draft it made. */
export const briefHandle = (executionId: string) => `sumeru-brief-${executionId.replace(/[^a-z0-9]+/gi, "-").toLowerCase().slice(-40)}`

const draftOf = (shop: string, executionId: string) =>
  Effect.map(graphql(shop, ARTICLES_BY_HANDLE, { query: `handle:${JSON.stringify(briefHandle(executionId))}` }), (data) =>
    ((data.articles as { readonly nodes: ReadonlyArray<ArticleNode> } | null)?.nodes ?? []).find((a) => a.handle === briefHandle(executionId)) ?? null)

export const createContentBrief: ActionImplementation<ShopifyAdmin | AiGateway> = {
  snapshot: (shop, run) =>
    Effect.gen(function*() {
      const handle = typeof run.params["blogHandle"] === "string" ? run.params["blogHandle"] : "news"
      const data = yield* graphql(shop, BLOGS, {})
      const blog = ((data.blogs as { readonly nodes: ReadonlyArray<{ readonly id: string; readonly handle: string }> } | null)?.nodes ?? []).find((b) => b.handle === handle)
      if (blog === undefined) return yield* Effect.fail(new ActionPermanent({ code: "not_found", message: `the shop has no blog ${handle}` }))
      const draft = yield* draftOf(shop, run.executionId)
      return { blogId: blog.id, blogHandle: blog.handle, draftId: draft?.id ?? null } satisfies BriefBefore
    }),
  handler: (shop, run, before) =>
    Effect.gen(function*() {
      const was = before as BriefBefore
      const query = run.resourceId
      const existing = yield* draftOf(shop, run.executionId)
      if (existing !== null) return { after: { articleId: existing.id, handle: existing.handle }, summary: `the brief for "${query}" was already drafted` }
      const answer = yield* askGateway({
        shop,
        purpose: "create_content_brief",
        capability: "text",
        system: BRIEF_SYSTEM,
        prompt: `Write a content brief for a new article targeting the search query "${query}" ` +
          `(${number(run.resourcePayload, "impressions") ?? "?"} impressions in 28 days; the shop's best page ranks ${number(run.resourcePayload, "position") ?? "nowhere in the top 20"}).`,
        maxOutputTokens: 1_200
      })
      const data = yield* graphql(shop, ARTICLE_CREATE, {
        article: {
          blogId: was.blogId, title: `Brief: ${query}`.slice(0, 255), handle: briefHandle(run.executionId), body: asHtml(answer.text),
          author: { name: "Sumeru" }, tags: ["sumeru-brief"], isPublished: false
        }
      })
      const created = yield* mutationPayload<{ readonly article: { readonly id: string; readonly handle: string } | null }>(data, "articleCreate")
      if (created.article === null) return yield* Effect.fail(new ActionPermanent({ code: "unexpected_response", message: "Shopify created no article" }))
      return {
        after: { articleId: created.article.id, handle: created.article.handle },
        summary: `drafted a brief for "${query}" in the blog ${was.blogHandle}, unpublished (${answer.provider} ${answer.model})`
      }
    }),
  undoHandler: (shop, _run, _before, after, force) =>
    Effect.gen(function*() {
      const { articleId } = after as { readonly articleId: string }
      const now = yield* articleById(shop, articleId)
      if (now === null) return { summary: "the draft was already deleted" }
      if (now.isPublished && !force) return yield* Effect.fail(new ChangedSince({ message: `the draft was published since (${now.title})` }))
      yield* Effect.flatMap(graphql(shop, ARTICLE_DELETE, { id: articleId }), (d) => mutationPayload(d, "articleDelete"))
      return { summary: `deleted the draft ${now.title}` }
    })
}
