/**
 * `add_faq_structured_data` (trigger `seo.snippet_lost`; issue 14 §4): the AI gateway writes the
 * questions and answers a page (or product) should carry for the query whose featured snippet it
 * lost, as schema.org `FAQPage` JSON-LD in the resource's `sumeru.faq_jsonld` metafield (a theme
 * prints it in a `<script type="application/ld+json">`).
 *
 * The trigger names the page by its storefront URL: `/products/<handle>` and `/pages/<handle>`
 * are looked up by handle (a Shopify id is taken as is).
 *
 * - snapshot: the resource, its title and text (what the model is given), and the metafield as it
 *   was (null when unset).
 * - handler: one gateway call (`capability: text`, purpose `add_faq_structured_data`); the answer
 *   is read as `Q:` / `A:` lines and the JSON-LD built from them (the model never writes JSON we
 *   publish). It is written with a marker metafield naming the execution, so a handler run again
 *   after a crash finds its own write and does not pay for a second answer. The shop's AI rate
 *   limit or budget defers the execution (`RATE_LIMIT` / `BUDGET_EXCEEDED`, until the limit
 *   frees); a refusal fails it.
 * - undoHandler: `changed_since` when the metafield no longer holds what the action wrote (unless
 *   forced); else the previous value is put back, or the metafields are deleted when there was none.
 */
import { Effect } from "effect"
import { actionMeta } from "../../../domain/automation/Actions.ts"
import type { AiGateway } from "../../../src/ai/AiGateway.ts"
import { ActionPermanent, type ActionImplementation, ChangedSince } from "../../../src/automation/ActionSteps.ts"
import type { ShopifyAdmin } from "../ShopifyAdmin.ts"
import { askGateway } from "./ai.ts"
import { FAQ_METAFIELDS_DELETE, FAQ_METAFIELDS_SET, FAQ_RESOURCE } from "./documents.ts"
import { resolveResource } from "./resources.ts"
import { graphql, mutationPayload, plainText } from "./shared.ts"

export const meta = actionMeta("add_faq_structured_data")!

export const FAQ_NAMESPACE = "sumeru"
export const FAQ_KEY = "faq_jsonld"
export const FAQ_MARKER_KEY = "faq_execution"

export interface FaqBefore {
  readonly id: string
  readonly kind: "product" | "page"
  readonly title: string
  /** The resource's own text, tags removed and cut (what the model reads). */
  readonly text: string
  /** The metafield's value before the action; null when it had none. */
  readonly value: string | null
  readonly marker: string | null
}

export interface FaqAfter {
  readonly value: string
  readonly questions: number
}


const read = (shop: string, id: string) =>
  Effect.gen(function*() {
    const data = yield* graphql(shop, FAQ_RESOURCE, { id })
    const n = data.node as
      | { id: string; title: string; description?: string; body?: string; faq: { value: string } | null; marker: { value: string } | null }
      | null
    if (n === null || n.id === undefined) return yield* Effect.fail(new ActionPermanent({ code: "not_found", message: `${id} no longer exists` }))
    return {
      id: n.id,
      kind: id.includes("/Page/") ? "page" : "product",
      title: n.title,
      text: plainText(n.description ?? n.body ?? "").slice(0, 2_000),
      value: n.faq?.value ?? null,
      marker: n.marker?.value ?? null
    } satisfies FaqBefore
  })

export const FAQ_SYSTEM = "You write FAQ sections for an online shop's pages. Answer with exactly the requested number of pairs, each as two lines: " +
  "'Q: <question>' then 'A: <answer in at most two sentences>'. Use only facts from the page; no other text."

/** `Q:` / `A:` pairs of the model's answer, in order (a question without an answer is dropped). */
export const parseFaq = (text: string): ReadonlyArray<{ readonly question: string; readonly answer: string }> => {
  const out: Array<{ question: string; answer: string }> = []
  let question: string | null = null
  for (const line of text.split(/\r?\n/)) {
    const q = /^\s*Q\s*[:.)-]\s*(.+)$/i.exec(line)
    const a = /^\s*A\s*[:.)-]\s*(.+)$/i.exec(line)
    if (q !== null) question = q[1]!.trim()
    else if (a !== null && question !== null) {
      out.push({ question, answer: a[1]!.trim() })
      question = null
    }
  }
  return out
}

/** The schema.org FAQPage of the pairs, as the metafield's JSON. */
export const faqJsonLd = (pairs: ReadonlyArray<{ readonly question: string; readonly answer: string }>): string =>
  JSON.stringify({
    "@context": "https://schema.org",
    "@type": "FAQPage",
    mainEntity: pairs.map((p) => ({ "@type": "Question", name: p.question, acceptedAnswer: { "@type": "Answer", text: p.answer } }))
  })

const set = (shop: string, ownerId: string, value: string, marker: string) =>
  Effect.flatMap(
    graphql(shop, FAQ_METAFIELDS_SET, {
      metafields: [
        { ownerId, namespace: FAQ_NAMESPACE, key: FAQ_KEY, type: "json", value },
        { ownerId, namespace: FAQ_NAMESPACE, key: FAQ_MARKER_KEY, type: "single_line_text_field", value: marker }
      ]
    }),
    (d) => mutationPayload(d, "metafieldsSet")
  )

const remove = (shop: string, ownerId: string) =>
  Effect.flatMap(
    graphql(shop, FAQ_METAFIELDS_DELETE, { metafields: [FAQ_KEY, FAQ_MARKER_KEY].map((key) => ({ ownerId, namespace: FAQ_NAMESPACE, key })) }),
    (d) => mutationPayload(d, "metafieldsDelete")
  )

export const addFaqStructuredData: ActionImplementation<ShopifyAdmin | AiGateway> = {
  snapshot: (shop, run) => Effect.flatMap(resolveResource(shop, run.resourceType, run.resourceId), (id) => read(shop, id)),
  handler: (shop, run, before) =>
    Effect.gen(function*() {
      const was = before as FaqBefore
      const now = yield* read(shop, was.id)
      // a run again after a crash: what this execution wrote is there, answered already
      if (now.marker === run.executionId && now.value !== null) {
        return { after: { value: now.value, questions: parseQuestions(now.value) } satisfies FaqAfter, summary: `FAQ structured data was already written for ${was.title}` }
      }
      // the step may run long after its snapshot (a limit deferred it): never overwrite a change made since
      if (now.value !== was.value) {
        return yield* Effect.fail(new ActionPermanent({ code: "changed_since", message: `${was.title}'s FAQ structured data changed after the snapshot; nothing was written` }))
      }
      const n = typeof run.params["questions"] === "number" ? run.params["questions"] : 4
      const query = typeof (run.resourcePayload as { query?: unknown } | undefined)?.query === "string" ? (run.resourcePayload as { query: string }).query : was.title
      const answer = yield* askGateway({
        shop,
        purpose: "add_faq_structured_data",
        capability: "text",
        system: FAQ_SYSTEM,
        prompt: `Write ${n} questions and answers for this page, for people searching "${query}".\nTitle: ${was.title}\nPage text: ${was.text}`,
        maxOutputTokens: 150 * n
      })
      const pairs = parseFaq(answer.text).slice(0, n)
      if (pairs.length === 0) return yield* Effect.fail(new ActionPermanent({ code: "unusable_answer", message: `the model's answer held no question and answer (${answer.provider} ${answer.model})` }))
      const value = faqJsonLd(pairs)
      yield* set(shop, was.id, value, run.executionId)
      return {
        after: { value, questions: pairs.length } satisfies FaqAfter,
        summary: `wrote ${pairs.length} questions and answers for "${query}" into ${was.title}'s FAQ structured data (${answer.provider} ${answer.model}, $${(answer.costMicros / 1_000_000).toFixed(4)})`
      }
    }),
  undoHandler: (shop, _run, before, after, force) =>
    Effect.gen(function*() {
      const was = before as FaqBefore
      const now = yield* read(shop, was.id)
      if (now.value !== (after as FaqAfter).value && !force) {
        return yield* Effect.fail(new ChangedSince({ message: `its FAQ structured data was edited since` }))
      }
      if (was.value === null) {
        yield* remove(shop, was.id)
        return { summary: `removed the FAQ structured data from ${was.title}` }
      }
      yield* set(shop, was.id, was.value, was.marker ?? "restored")
      return { summary: `restored ${was.title}'s previous FAQ structured data` }
    })
}

const parseQuestions = (value: string): number => {
  try {
    const v = JSON.parse(value) as { mainEntity?: ReadonlyArray<unknown> }
    return v.mainEntity?.length ?? 0
  } catch {
    return 0
  }
}
