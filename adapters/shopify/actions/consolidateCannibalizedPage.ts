/**
 * `consolidate_cannibalized_page` (trigger `seo.cannibalism_detected`): two of the shop's pages
 * compete for one query; the weaker one is redirected to the stronger and unpublished, so the
 * stronger gets the traffic; undo republishes the weaker page and removes the redirect.
 *
 * The rule's `minClicksRatio` guards it: when the trigger says how many clicks each page had and
 * the stronger one has fewer than that many times the weaker one's, nothing is changed (and the
 * execution says so). The weaker page is a page (`isPublished`) or a product (the Online Store
 * publication), named by the trigger's `weakerResourceId`; without it only the redirect is made.
 *
 * Every change is looked up before it is made (a re-run after a crash repeats nothing); undo
 * refuses with `changed_since` when the redirect was removed or changed, or the page was
 * republished, by someone else since (unless forced).
 */
import { Effect } from "effect"
import { actionMeta } from "../../../domain/automation/Actions.ts"
import { type ActionError, ActionPermanent, type ActionImplementation, ChangedSince } from "../../../src/automation/ActionSteps.ts"
import type { ShopifyAdmin } from "../ShopifyAdmin.ts"
import { PAGE_SEO, PAGE_UPDATE, PRODUCT_PUBLICATION } from "./documents.ts"
import { createRedirect, deleteRedirect, pathOf, publicationNamed, publish, type Redirect, redirectById, redirectOfPath, unpublish } from "./resources.ts"
import { graphql, mutationPayload, payloadString } from "./shared.ts"

export const meta = actionMeta("consolidate_cannibalized_page")!

const ONLINE_STORE = "Online Store"

/** The weaker page as a resource that can be unpublished. */
type Weaker =
  | { readonly kind: "page"; readonly id: string; readonly published: boolean }
  | { readonly kind: "product"; readonly id: string; readonly publicationId: string; readonly published: boolean }

export interface ConsolidateBefore {
  readonly weakerPath: string
  readonly strongerPath: string
  readonly redirect: Redirect | null
  readonly weaker: Weaker | null
  /** Why nothing will be changed, when the clicks do not justify it. */
  readonly belowRatio: string | null
}

export interface ConsolidateAfter {
  readonly created: Redirect | null
  readonly unpublished: boolean
}

const number = (payload: unknown, field: string): number | undefined => {
  const v = typeof payload === "object" && payload !== null ? (payload as Record<string, unknown>)[field] : undefined
  return typeof v === "number" ? v : undefined
}

const readWeaker = (shop: string, id: string, publicationId: () => Effect.Effect<string, ActionError, ShopifyAdmin>) =>
  Effect.gen(function*() {
    if (id.startsWith("gid://shopify/Page/")) {
      const page = (yield* graphql(shop, PAGE_SEO, { id })).page as { readonly isPublished: boolean } | null
      if (page === null) return yield* Effect.fail(new ActionPermanent({ code: "not_found", message: `page ${id} no longer exists` }))
      return { kind: "page", id, published: page.isPublished } satisfies Weaker
    }
    if (id.startsWith("gid://shopify/Product/")) {
      const pub = yield* publicationId()
      const p = (yield* graphql(shop, PRODUCT_PUBLICATION, { id, publicationId: pub })).product as { readonly publishedOnPublication: boolean } | null
      if (p === null) return yield* Effect.fail(new ActionPermanent({ code: "not_found", message: `product ${id} no longer exists` }))
      return { kind: "product", id, publicationId: pub, published: p.publishedOnPublication } satisfies Weaker
    }
    return yield* Effect.fail(new ActionPermanent({ code: "unsupported_resource", message: `cannot unpublish ${id} (a page or a product is expected)` }))
  })

/** The weaker page as it is now (its publication as recorded). */
const reread = (shop: string, w: Weaker) => readWeaker(shop, w.id, () => Effect.succeed(w.kind === "product" ? w.publicationId : ""))

const setPublished = (shop: string, weaker: Weaker, published: boolean) =>
  weaker.kind === "page"
    ? Effect.asVoid(Effect.flatMap(graphql(shop, PAGE_UPDATE, { id: weaker.id, page: { isPublished: published } }), (d) => mutationPayload(d, "pageUpdate")))
    : (published ? publish : unpublish)(shop, weaker.id, weaker.publicationId)

export const consolidateCannibalizedPage: ActionImplementation<ShopifyAdmin> = {
  snapshot: (shop, run) =>
    Effect.gen(function*() {
      const weakerPath = pathOf(yield* payloadString(run.resourcePayload, "weakerUrl"))
      const strongerPath = pathOf(yield* payloadString(run.resourcePayload, "strongerUrl"))
      const ratio = typeof run.params.minClicksRatio === "number" ? run.params.minClicksRatio : 2
      const strongerClicks = number(run.resourcePayload, "strongerClicks")
      const weakerClicks = number(run.resourcePayload, "weakerClicks")
      const belowRatio = strongerClicks !== undefined && weakerClicks !== undefined && strongerClicks < ratio * weakerClicks
        ? `the stronger page had ${strongerClicks} clicks, less than ${ratio}× the weaker page's ${weakerClicks}`
        : null
      const weakerId = typeof (run.resourcePayload as { weakerResourceId?: unknown } | undefined)?.weakerResourceId === "string"
        ? (run.resourcePayload as { weakerResourceId: string }).weakerResourceId
        : null
      const weaker = weakerId === null ? null : yield* readWeaker(shop, weakerId, () => publicationNamed(shop, ONLINE_STORE))
      return { weakerPath, strongerPath, redirect: yield* redirectOfPath(shop, weakerPath), weaker, belowRatio } satisfies ConsolidateBefore
    }),
  handler: (shop, _run, before) =>
    Effect.gen(function*() {
      const was = before as ConsolidateBefore
      if (was.belowRatio !== null) return { after: { created: null, unpublished: false } satisfies ConsolidateAfter, summary: `left both pages alone: ${was.belowRatio}` }
      if (was.redirect !== null && was.redirect.target !== was.strongerPath) {
        return yield* Effect.fail(new ActionPermanent({ code: "redirect_exists", message: `${was.weakerPath} already redirects to ${was.redirect.target}; both pages were left alone` }))
      }
      let created: Redirect | null = null
      if (was.redirect === null) {
        const now = yield* redirectOfPath(shop, was.weakerPath)
        created = now !== null && now.target === was.strongerPath ? now : yield* createRedirect(shop, was.weakerPath, was.strongerPath)
      }
      let unpublished = false
      if (was.weaker !== null && was.weaker.published) {
        const now = yield* reread(shop, was.weaker)
        if (now.published) yield* setPublished(shop, was.weaker, false)
        unpublished = true
      }
      return {
        after: { created, unpublished } satisfies ConsolidateAfter,
        summary: `redirected ${was.weakerPath} to ${was.strongerPath}${unpublished ? " and unpublished the weaker page" : ""}`
      }
    }),
  undoHandler: (shop, _run, before, after, force) =>
    Effect.gen(function*() {
      const was = before as ConsolidateBefore
      const did = after as ConsolidateAfter
      const redirect = did.created === null ? null : yield* redirectById(shop, did.created.id)
      const weaker = did.unpublished && was.weaker !== null
        ? yield* reread(shop, was.weaker)
        : null
      const changes = [
        ...(did.created !== null && (redirect === null || redirect.target !== did.created.target) ? [`the redirect of ${was.weakerPath} was removed or changed`] : []),
        ...(weaker !== null && weaker.published ? ["the weaker page was republished"] : [])
      ]
      if (changes.length > 0 && !force) return yield* Effect.fail(new ChangedSince({ message: `${changes.join(" and ")} since, by someone else` }))
      const done: Array<string> = []
      if (weaker !== null && !weaker.published && was.weaker !== null) {
        yield* setPublished(shop, was.weaker, true)
        done.push("republished the weaker page")
      }
      if (redirect !== null) {
        yield* deleteRedirect(shop, redirect.id)
        done.push(`removed the redirect of ${was.weakerPath}`)
      }
      return { summary: done.length === 0 ? "nothing to restore" : done.join(" and ") }
    })
}
