/**
 * `create_url_redirect` (trigger `seo.broken_links_found`): redirects the broken path (the
 * resource's `path`) to the rule's `target`; undo deletes the redirect.
 *
 * - snapshot: the path's redirect before, if any.
 * - handler: the path's redirect is looked up first — one already pointing at the target (made
 *   by this execution before a crash, or by someone) is kept, not created twice; one pointing
 *   elsewhere is never overwritten (the execution fails, saying where it points).
 * - undoHandler: deletes the redirect this execution created; `changed_since` if it is gone or
 *   now points elsewhere (unless forced). A redirect that existed before is left alone.
 */
import { Effect } from "effect"
import { actionMeta } from "../../../domain/automation/Actions.ts"
import { ActionPermanent, type ActionImplementation, ChangedSince } from "../../../src/automation/ActionSteps.ts"
import type { ShopifyAdmin } from "../ShopifyAdmin.ts"
import { createRedirect, deleteRedirect, pathOf, type Redirect, redirectById, redirectOfPath } from "./resources.ts"
import { payloadString } from "./shared.ts"

export const meta = actionMeta("create_url_redirect")!

export interface CreateUrlRedirectBefore {
  readonly path: string
  readonly existing: Redirect | null
}

export interface CreateUrlRedirectAfter {
  /** The redirect this execution created; null when the path already led to the target. */
  readonly created: Redirect | null
}

const target = (params: Readonly<Record<string, unknown>>) => (typeof params.target === "string" ? params.target : "/")

export const createUrlRedirect: ActionImplementation<ShopifyAdmin> = {
  snapshot: (shop, run) =>
    Effect.gen(function*() {
      const path = pathOf(yield* payloadString(run.resourcePayload, "path"))
      return { path, existing: yield* redirectOfPath(shop, path) } satisfies CreateUrlRedirectBefore
    }),
  handler: (shop, run, before) =>
    Effect.gen(function*() {
      const { path, existing } = before as CreateUrlRedirectBefore
      const to = target(run.params)
      if (existing !== null && existing.target !== to) {
        return yield* Effect.fail(new ActionPermanent({ code: "redirect_exists", message: `${path} already redirects to ${existing.target}; it was left alone` }))
      }
      if (existing !== null) return { after: { created: null } satisfies CreateUrlRedirectAfter, summary: `${path} already redirected to ${to}: nothing created` }
      const now = yield* redirectOfPath(shop, path)
      const created = now !== null && now.target === to ? now : yield* createRedirect(shop, path, to)
      return { after: { created } satisfies CreateUrlRedirectAfter, summary: `redirected ${path} to ${to}` }
    }),
  undoHandler: (shop, _run, _before, after, force) =>
    Effect.gen(function*() {
      const { created } = after as CreateUrlRedirectAfter
      if (created === null) return { summary: "nothing to remove (the redirect was there before)" }
      const now = yield* redirectById(shop, created.id)
      if (now === null) {
        if (!force) return yield* Effect.fail(new ChangedSince({ message: `the redirect of ${created.path} was deleted since by someone else` }))
        return { summary: `nothing to remove (the redirect of ${created.path} was already gone)` }
      }
      if (now.target !== created.target && !force) {
        return yield* Effect.fail(new ChangedSince({ message: `the redirect of ${created.path} now leads to ${now.target}, not ${created.target}` }))
      }
      yield* deleteRedirect(shop, created.id)
      return { summary: `removed the redirect of ${created.path}` }
    })
}
