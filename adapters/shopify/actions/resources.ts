/**
 * The Shopify resources several actions change — URL redirects and sales-channel publications —
 * read and written through the Admin API, with Shopify's refusals as permanent failures.
 */
import { Effect } from "effect"
import { ActionPermanent } from "../../../src/automation/ActionSteps.ts"
import {
  PAGE_BY_HANDLE,
  PRODUCT_BY_HANDLE,
  PUBLICATIONS,
  PUBLISHABLE_PUBLISH,
  PUBLISHABLE_UNPUBLISH,
  URL_REDIRECT,
  URL_REDIRECT_CREATE,
  URL_REDIRECT_DELETE,
  URL_REDIRECTS_BY_PATH
} from "./documents.ts"
import { graphql, mutationPayload } from "./shared.ts"

export interface Redirect {
  readonly id: string
  readonly path: string
  readonly target: string
}

/** The path of a storefront URL or path (`https://shop.example/pages/a?x` → `/pages/a`). */
export const pathOf = (url: string): string => {
  try {
    return new URL(url, "https://storefront.invalid").pathname
  } catch {
    return url
  }
}

/** Shopify compares redirect paths case-insensitively. */
const samePath = (a: string, b: string) => a.toLowerCase() === b.toLowerCase()

/** The redirect of `path`, or null (looked up before one is created, so a retry never creates two). */
export const redirectOfPath = (shop: string, path: string) =>
  Effect.map(graphql(shop, URL_REDIRECTS_BY_PATH, { query: `path:${JSON.stringify(path)}` }), (data) => {
    const nodes = (data.urlRedirects as { readonly nodes: ReadonlyArray<Redirect> } | null)?.nodes ?? []
    return nodes.find((r) => samePath(r.path, path)) ?? null
  })

export const redirectById = (shop: string, id: string) =>
  Effect.map(graphql(shop, URL_REDIRECT, { id }), (data) => (data.urlRedirect as Redirect | null) ?? null)

export const createRedirect = (shop: string, path: string, target: string) =>
  Effect.gen(function*() {
    const data = yield* graphql(shop, URL_REDIRECT_CREATE, { urlRedirect: { path, target } })
    const payload = yield* mutationPayload<{ readonly urlRedirect: Redirect | null }>(data, "urlRedirectCreate")
    if (payload.urlRedirect === null) return yield* Effect.fail(new ActionPermanent({ code: "unexpected_response", message: "Shopify created no redirect" }))
    return payload.urlRedirect
  })

export const deleteRedirect = (shop: string, id: string) =>
  Effect.asVoid(Effect.flatMap(graphql(shop, URL_REDIRECT_DELETE, { id }), (d) => mutationPayload(d, "urlRedirectDelete")))

/** The id of the shop's publication (sales channel) named `name`, e.g. "Google & YouTube". */
export const publicationNamed = (shop: string, name: string) =>
  Effect.gen(function*() {
    const data = yield* graphql(shop, PUBLICATIONS, {})
    const nodes = (data.publications as { readonly nodes: ReadonlyArray<{ readonly id: string; readonly name: string }> } | null)?.nodes ?? []
    const found = nodes.find((p) => p.name === name)
    if (found === undefined) {
      return yield* Effect.fail(new ActionPermanent({ code: "no_channel", message: `the shop has no ${name} sales channel` }))
    }
    return found.id
  })

export const publish = (shop: string, id: string, publicationId: string) =>
  Effect.asVoid(Effect.flatMap(graphql(shop, PUBLISHABLE_PUBLISH, { id, input: [{ publicationId }] }), (d) => mutationPayload(d, "publishablePublish")))

export const unpublish = (shop: string, id: string, publicationId: string) =>
  Effect.asVoid(Effect.flatMap(graphql(shop, PUBLISHABLE_UNPUBLISH, { id, input: [{ publicationId }] }), (d) => mutationPayload(d, "publishableUnpublish")))

/** The Shopify id of the resource a trigger names: an id as is, a storefront URL by its handle. */
export const resolveResource = (shop: string, resourceType: string, resourceId: string) =>
  Effect.gen(function*() {
    if (resourceId.startsWith("gid://shopify/")) return resourceId
    const m = /^\/(products|pages)\/([^/]+)\/?$/.exec(pathOf(resourceId))
    if (m === null) return yield* Effect.fail(new ActionPermanent({ code: "unsupported_resource", message: `${resourceId} is not a product or a page of the shop` }))
    const handle = decodeURIComponent(m[2]!)
    const data = yield* graphql(shop, m[1] === "products" ? PRODUCT_BY_HANDLE : PAGE_BY_HANDLE, { query: `handle:${JSON.stringify(handle)}` })
    const nodes = (data[m[1]!] as { readonly nodes: ReadonlyArray<{ readonly id: string; readonly handle: string }> } | null)?.nodes ?? []
    const found = nodes.find((n) => n.handle === handle)
    if (found === undefined) return yield* Effect.fail(new ActionPermanent({ code: "not_found", message: `no ${resourceType} has the handle ${handle}` }))
    return found.id
  })
