/**
 * `update_seo_meta` (triggers `seo.score_dropped`, `seo.opportunity_found`): sets a product's or
 * a page's SEO title and meta description — from the rule's templates (mode `template`), or
 * written by the AI gateway for the trigger's query (mode `generate`: one call, purpose
 * `update_seo_meta`; the shop's AI limits defer the execution) — undo restores them.
 *
 * The trigger may name the resource by its Shopify id or by its storefront URL
 * (`/products/<handle>`, `/pages/<handle>`: looked up by handle).
 *
 * Templates name fields in double braces: the resource's own (`{{title}}`, `{{vendor}}`,
 * `{{productType}}`, `{{handle}}`) and the trigger's (`{{query}}`, `{{url}}`, … — any string or
 * number of the resource's payload). An unknown field is left empty. Filled values are cut to
 * Shopify's limits (70 characters for a title, 320 for a description) at a word boundary.
 * A product keeps its SEO in `seo { title description }`; a page has no such field, so its SEO
 * lives in the `global.title_tag` / `global.description_tag` metafields, as Shopify stores it.
 *
 * - snapshot: the resource's SEO title and description (null when unset) and its fields.
 * - handler: writes only what differs from the target (a re-run after a crash writes nothing).
 * - undoHandler: `changed_since` when the SEO fields are no longer what the action set (unless
 *   forced); else writes back the snapshot (a page's tag that did not exist is removed).
 */
import { Effect } from "effect"
import { actionMeta } from "../../../domain/automation/Actions.ts"
import type { AiGateway } from "../../../src/ai/AiGateway.ts"
import { type ActionError, ActionPermanent, type ActionImplementation, ChangedSince } from "../../../src/automation/ActionSteps.ts"
import type { ShopifyAdmin } from "../ShopifyAdmin.ts"
import { METAFIELDS_DELETE, PAGE_SEO, PAGE_UPDATE, PRODUCT_SEO, PRODUCT_SEO_UPDATE, SEO_METAFIELDS_SET } from "./documents.ts"
import { askGateway } from "./ai.ts"
import { resolveResource } from "./resources.ts"
import { graphql, mutationPayload } from "./shared.ts"

export const meta = actionMeta("update_seo_meta")!

export interface Seo {
  readonly title: string | null
  readonly description: string | null
}

export interface SeoBefore {
  /** The resource's Shopify id (absent in snapshots taken before storefront URLs were resolved: the run's resource id). */
  readonly id?: string
  readonly kind: "product" | "page"
  readonly seo: Seo
  /** The resource's fields the templates may use. */
  readonly fields: Readonly<Record<string, string>>
  /** The execution whose generated SEO the resource holds (mode generate), if any. */
  readonly marker?: string | null
}

export const TITLE_LIMIT = 70
export const DESCRIPTION_LIMIT = 320

/** `text` cut to `limit` characters, at the last space when there is one in the second half. */
export const cut = (text: string, limit: number): string => {
  const t = text.replace(/\s+/g, " ").trim()
  if (t.length <= limit) return t
  const space = t.lastIndexOf(" ", limit)
  return (space > limit / 2 ? t.slice(0, space) : t.slice(0, limit)).trim()
}

/** Fills `{{field}}` from `fields`; an unknown field is empty. */
export const fill = (template: string, fields: Readonly<Record<string, string>>): string =>
  template.replace(/\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g, (_, name: string) => fields[name] ?? "")

const payloadFields = (payload: unknown): Record<string, string> =>
  typeof payload !== "object" || payload === null
    ? {}
    : Object.fromEntries(Object.entries(payload).flatMap(([k, v]) => (typeof v === "string" || typeof v === "number" ? [[k, String(v)]] : [])))

const read = (shop: string, resourceType: string, id: string): Effect.Effect<SeoBefore & { readonly id: string }, ActionError, ShopifyAdmin> =>
  Effect.gen(function*() {
    if (resourceType === "product") {
      const data = yield* graphql(shop, PRODUCT_SEO, { id })
      const p = data.product as { title: string; vendor: string | null; productType: string | null; handle: string; seo: Seo; marker: { value: string } | null } | null
      if (p === null) return yield* Effect.fail(new ActionPermanent({ code: "not_found", message: `product ${id} no longer exists` }))
      return {
        id, kind: "product", seo: { title: p.seo.title, description: p.seo.description }, marker: p.marker?.value ?? null,
        fields: { title: p.title, vendor: p.vendor ?? "", productType: p.productType ?? "", handle: p.handle }
      } satisfies SeoBefore
    }
    if (resourceType === "page") {
      const data = yield* graphql(shop, PAGE_SEO, { id })
      const p = data.page as { title: string; handle: string; titleTag: { value: string } | null; descriptionTag: { value: string } | null; marker: { value: string } | null } | null
      if (p === null) return yield* Effect.fail(new ActionPermanent({ code: "not_found", message: `page ${id} no longer exists` }))
      return {
        id, kind: "page", seo: { title: p.titleTag?.value ?? null, description: p.descriptionTag?.value ?? null }, marker: p.marker?.value ?? null,
        fields: { title: p.title, handle: p.handle }
      } satisfies SeoBefore
    }
    return yield* Effect.fail(new ActionPermanent({ code: "unsupported_resource", message: `update_seo_meta does not change a ${resourceType}` }))
  })

const TAGS = { title: "title_tag", description: "description_tag" } as const

/** Writes `seo` (null: unset) on the product or page. */
const write = (shop: string, kind: SeoBefore["kind"], id: string, seo: Seo) =>
  Effect.gen(function*() {
    if (kind === "product") {
      const data = yield* graphql(shop, PRODUCT_SEO_UPDATE, { product: { id, seo: { title: seo.title ?? "", description: seo.description ?? "" } } })
      yield* mutationPayload(data, "productUpdate")
      return
    }
    const set = (["title", "description"] as const).flatMap((f) => {
      const value = seo[f]
      return value === null ? [] : [{ namespace: "global", key: TAGS[f], type: "single_line_text_field", value }]
    })
    if (set.length > 0) yield* mutationPayload(yield* graphql(shop, PAGE_UPDATE, { id, page: { metafields: set } }), "pageUpdate")
    const unset = (["title", "description"] as const).flatMap((f) => (seo[f] === null ? [{ ownerId: id, namespace: "global", key: TAGS[f] }] : []))
    if (unset.length > 0) yield* mutationPayload(yield* graphql(shop, METAFIELDS_DELETE, { metafields: unset }), "metafieldsDelete")
  })

const same = (a: Seo, b: Seo) => (a.title ?? "") === (b.title ?? "") && (a.description ?? "") === (b.description ?? "")

export const SEO_SYSTEM = "You write SEO titles and meta descriptions for an online shop. Answer with exactly two lines: " +
  `'Title: <at most ${TITLE_LIMIT} characters>' and 'Description: <at most ${DESCRIPTION_LIMIT} characters>'. Use only facts given; no other text.`

/** The `Title:` and `Description:` lines of the model's answer (null when missing). */
export const parseSeo = (text: string): Seo => ({
  title: /^\s*Title\s*:\s*(.+)$/im.exec(text)?.[1]?.trim() ?? null,
  description: /^\s*Description\s*:\s*(.+)$/im.exec(text)?.[1]?.trim() ?? null
})

/** The resource's Shopify id as the snapshot recorded it. */
const idOf = (was: SeoBefore, run: { readonly resourceId: string }) => was.id ?? run.resourceId

export const updateSeoMeta: ActionImplementation<ShopifyAdmin | AiGateway> = {
  snapshot: (shop, run) => Effect.flatMap(resolveResource(shop, run.resourceType, run.resourceId), (id) => read(shop, run.resourceType, id)),
  handler: (shop, run, before) =>
    Effect.gen(function*() {
      const was = before as SeoBefore
      const id = idOf(was, run)
      const fields = { ...payloadFields(run.resourcePayload), ...was.fields }
      const now = yield* read(shop, was.kind, id)
      if (run.params["mode"] === "generate") {
        // a run again after a crash finds its own write by its marker, answered already
        if (now.marker === run.executionId) return { after: now.seo, summary: `the SEO title and description were already written (${now.seo.title ?? ""})` }
        // the step may run long after its snapshot (a limit deferred it): never overwrite an edit made since
        if (!same(now.seo, was.seo)) {
          return yield* Effect.fail(new ActionPermanent({ code: "changed_since", message: `its SEO title or description changed after the snapshot; nothing was written` }))
        }
        const query = fields["query"] ?? fields["title"] ?? ""
        const answer = yield* askGateway({
          shop,
          purpose: "update_seo_meta",
          capability: "text",
          system: SEO_SYSTEM,
          prompt: `Write the SEO title and meta description of this ${was.kind} for people searching "${query}".\n` +
            Object.entries(fields).filter(([k]) => k !== "query").map(([k, v]) => `${k}: ${v}`).join("\n") +
            `\nCurrent title: ${was.seo.title ?? "(none)"}\nCurrent description: ${was.seo.description ?? "(none)"}`,
          maxOutputTokens: 200
        })
        const written = parseSeo(answer.text)
        if (written.title === null && written.description === null) {
          return yield* Effect.fail(new ActionPermanent({ code: "unusable_answer", message: `the model's answer held no title or description (${answer.provider} ${answer.model})` }))
        }
        const target: Seo = {
          title: written.title === null ? was.seo.title : cut(written.title, TITLE_LIMIT),
          description: written.description === null ? was.seo.description : cut(written.description, DESCRIPTION_LIMIT)
        }
        // the title, the description and the marker in one atomic write
        const metafields = [
          ...(target.title === null ? [] : [{ ownerId: id, namespace: "global", key: "title_tag", type: "single_line_text_field", value: target.title }]),
          ...(target.description === null ? [] : [{ ownerId: id, namespace: "global", key: "description_tag", type: "multi_line_text_field", value: target.description }]),
          { ownerId: id, namespace: "sumeru", key: "seo_execution", type: "single_line_text_field", value: run.executionId }
        ]
        yield* mutationPayload(yield* graphql(shop, SEO_METAFIELDS_SET, { metafields }), "metafieldsSet")
        return { after: target, summary: `set the SEO title to "${target.title ?? ""}" and the meta description to "${target.description ?? ""}" (written by ${answer.provider} ${answer.model})` }
      }
      const template = (key: string) => (typeof run.params[key] === "string" ? run.params[key] as string : null)
      const titleTemplate = template("titleTemplate")
      const descriptionTemplate = template("descriptionTemplate")
      const target: Seo = {
        title: titleTemplate === null ? was.seo.title : cut(fill(titleTemplate, fields), TITLE_LIMIT),
        description: descriptionTemplate === null ? was.seo.description : cut(fill(descriptionTemplate, fields), DESCRIPTION_LIMIT)
      }
      if (!same(now.seo, target)) yield* write(shop, was.kind, id, target)
      return { after: target, summary: `set the SEO title to "${target.title ?? ""}" and the meta description to "${target.description ?? ""}" (from the rule's templates)` }
    }),
  undoHandler: (shop, run, before, after, force) =>
    Effect.gen(function*() {
      const was = before as SeoBefore
      const id = idOf(was, run)
      const now = yield* read(shop, was.kind, id)
      if (!same(now.seo, after as Seo) && !force) {
        return yield* Effect.fail(new ChangedSince({ message: `its SEO title or description was edited since (now "${now.seo.title ?? ""}")` }))
      }
      yield* write(shop, was.kind, id, was.seo)
      return { summary: `restored the SEO title "${was.seo.title ?? ""}" and the meta description` }
    })
}
