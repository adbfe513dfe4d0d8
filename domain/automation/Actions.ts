/**
 * What each automation action is, as the seed's `meta` (`000_…` §03): its key, the triggers it
 * subscribes to, the kind of resource it changes, the plan it needs and its parameters
 * (`paramSchema`: key, type, default, min, max). The rule validator, the dispatcher and the
 * admin read these; the action's `snapshot`, `handler` and `undoHandler` live with its adapter.
 */
import { Result } from "effect"
import { type ResourceType, TRIGGER_EVENT_NAMES, type TriggerEventName } from "./Triggers.ts"

export const PLANS = ["free", "pro", "enterprise"] as const
export type Plan = typeof PLANS[number]

/** Whether a shop on `plan` may use something that needs `required`. */
export const planAllows = (plan: Plan, required: Plan): boolean => PLANS.indexOf(plan) >= PLANS.indexOf(required)

/** One parameter of an action, as the seed declares it. */
export type ParamSpec =
  | { readonly key: string; readonly type: "number"; readonly default?: number; readonly min?: number; readonly max?: number; readonly description: string }
  | {
    readonly key: string
    readonly type: "string"
    readonly default?: string
    readonly maxLength?: number
    /** The only values allowed, when the parameter is a choice. */
    readonly oneOf?: ReadonlyArray<string>
    /** May be left out (no default): the action decides what its absence means. */
    readonly optional?: true
    readonly description: string
  }
  | { readonly key: string; readonly type: "boolean"; readonly default?: boolean; readonly description: string }
  | {
    readonly key: string
    readonly type: "string_list"
    readonly default?: ReadonlyArray<string>
    readonly minItems?: number
    readonly maxItems?: number
    readonly description: string
  }

export interface ActionMeta {
  readonly key: string
  readonly description: string
  /** The triggers a rule with this action may use; `"any"` for every trigger. */
  readonly triggerEvents: ReadonlyArray<TriggerEventName> | "any"
  readonly resourceType: ReadonlyArray<ResourceType>
  readonly requiredPlan: Plan
  readonly paramSchema: ReadonlyArray<ParamSpec>
  /** Problems of the params taken together (each one valid alone), e.g. a choice that needs another param. */
  readonly refineParams?: (params: Readonly<Record<string, unknown>>) => ReadonlyArray<FieldProblem>
}

/** The Shopify actions of the decision plane (issue 11 §4). */
export const ACTION_METAS: ReadonlyArray<ActionMeta> = [
  {
    key: "update_seo_meta",
    description: "Set a product's or page's SEO title and description from templates ({{title}}, {{vendor}}, …), or have the AI gateway write them (mode generate); undo restores them",
    triggerEvents: ["seo.score_dropped", "seo.opportunity_found"],
    resourceType: ["product", "page"],
    requiredPlan: "pro",
    paramSchema: [
      { key: "mode", type: "string", default: "template", oneOf: ["template", "generate"], description: "template: fill the templates; generate: the AI gateway writes the title and description for the trigger's query" },
      { key: "titleTemplate", type: "string", maxLength: 70, optional: true, description: "SEO title template (at most 70 characters once filled; mode template)" },
      { key: "descriptionTemplate", type: "string", maxLength: 320, optional: true, description: "Meta description template (at most 320 characters once filled; mode template)" }
    ],
    refineParams: (p) =>
      p["mode"] === "template" && p["titleTemplate"] === undefined && p["descriptionTemplate"] === undefined
        ? [{ field: "params.titleTemplate", message: "mode template needs a titleTemplate or a descriptionTemplate" }]
        : []
  },
  {
    key: "add_faq_structured_data",
    description: "Have the AI gateway write FAQ structured data (schema.org FAQPage JSON-LD) for a page or product that lost a featured snippet, into a metafield; undo restores the previous value or deletes it",
    triggerEvents: ["seo.snippet_lost"],
    resourceType: ["product", "page"],
    requiredPlan: "pro",
    paramSchema: [
      { key: "questions", type: "number", default: 4, min: 2, max: 8, description: "How many questions and answers to write" }
    ]
  },
  {
    key: "refresh_blog_post",
    description: "Have the AI gateway refresh a decaying blog post's body from its current text and the decay data, saved on the article; undo restores the previous body unless it was edited since",
    triggerEvents: ["seo.content_decay_detected"],
    resourceType: ["article"],
    requiredPlan: "pro",
    paramSchema: [
      { key: "minDropPct", type: "number", default: 30, min: 10, max: 90, description: "Only posts that lost at least this share of their clicks, in percent" }
    ]
  },
  {
    key: "create_content_brief",
    description: "Have the AI gateway write a content brief for a query the shop has no page about, as an unpublished draft article; undo deletes the draft while it is unpublished",
    triggerEvents: ["seo.keyword_gap_detected"],
    resourceType: ["keyword"],
    requiredPlan: "pro",
    paramSchema: [
      { key: "blogHandle", type: "string", default: "news", maxLength: 255, description: "The blog the draft goes in (its handle)" }
    ]
  },
  {
    key: "create_url_redirect",
    description: "Redirect a broken path to a target; undo deletes the redirect",
    triggerEvents: ["seo.broken_links_found"],
    resourceType: ["url"],
    requiredPlan: "free",
    paramSchema: [{ key: "target", type: "string", default: "/", maxLength: 2000, description: "Where the broken path should lead" }]
  },
  {
    key: "consolidate_cannibalized_page",
    description: "Redirect the weaker of two competing pages to the stronger and unpublish it; undo republishes it and removes the redirect",
    triggerEvents: ["seo.cannibalism_detected"],
    resourceType: ["keyword"],
    requiredPlan: "pro",
    paramSchema: [{ key: "minClicksRatio", type: "number", default: 2, min: 1, max: 100, description: "Only when the stronger page has this many times the weaker page's clicks" }]
  },
  {
    key: "hide_disapproved_product",
    description: "Tag the product and unpublish it from the Google & YouTube channel; undo republishes it and removes the tag",
    triggerEvents: ["mc.product_disapproved"],
    resourceType: ["product"],
    requiredPlan: "pro",
    paramSchema: [{ key: "tag", type: "string", default: "mc-disapproved", maxLength: 255, description: "The tag that marks a hidden product" }]
  },
  {
    key: "tag_product",
    description: "Add tags to the product; undo removes exactly the tags it added",
    triggerEvents: ["product.published", "product.drafted", "mc.product_approved"],
    resourceType: ["product"],
    requiredPlan: "free",
    paramSchema: [{ key: "tags", type: "string_list", minItems: 1, maxItems: 20, description: "Tags to add (each at most 255 characters)" }]
  },
  {
    key: "pause_ad_keyword",
    description: "Pause an underperforming keyword on its ad platform; undo enables it again",
    triggerEvents: ["ads.keyword_underperforming"],
    resourceType: ["keyword"],
    requiredPlan: "pro",
    paramSchema: []
  },
  {
    key: "adjust_keyword_bid",
    description: "Raise (or lower) an overperforming keyword's bid by a percentage, up to a cap; undo restores the previous bid",
    triggerEvents: ["ads.keyword_overperforming"],
    resourceType: ["keyword"],
    requiredPlan: "pro",
    paramSchema: [
      { key: "percent", type: "number", default: 10, min: -90, max: 200, description: "Change of the bid, in percent" },
      { key: "cap", type: "number", default: 0, min: 0, max: 1_000_000, description: "The highest bid, in the account's currency (0: no cap)" }
    ]
  },
  {
    key: "cap_campaign_budget",
    description: "Cap a campaign's daily budget when its spend is anomalous; undo restores the previous budget",
    triggerEvents: ["ads.spend_anomaly"],
    resourceType: ["campaign"],
    requiredPlan: "pro",
    paramSchema: [{ key: "cap", type: "number", min: 0.01, max: 10_000_000, description: "The daily budget cap, in the account's currency" }]
  },
  {
    key: "send_cart_recovery_message",
    description: "Remind a customer of their abandoned checkout: a WhatsApp template if they consented to marketing messages, else an e-mail if they accepted e-mail marketing, else nothing (with the reason); undo answers already_sent",
    triggerEvents: ["sales.cart_abandoned_threshold"],
    resourceType: ["checkout"],
    requiredPlan: "pro",
    paramSchema: [
      { key: "whatsappTemplate", type: "string", default: "cart_recovery", maxLength: 512, description: "The approved WhatsApp template ({{1}}: first name, {{2}}: checkout link)" },
      { key: "language", type: "string", default: "en_US", maxLength: 16, description: "The template's language" }
    ]
  },
  {
    key: "notify_merchant",
    description: "E-mail (or WhatsApp) a digest of what the trigger found to the shop's staff; undo answers already_sent",
    triggerEvents: "any",
    resourceType: ["product", "page", "article", "collection", "url", "keyword", "campaign", "ad_account", "order", "checkout", "shop"],
    requiredPlan: "free",
    paramSchema: [
      { key: "recipients", type: "string_list", minItems: 1, maxItems: 10, description: "Staff e-mail addresses, or phone numbers with the WhatsApp channel" },
      { key: "subject", type: "string", default: "{{event}}: {{resource}}", maxLength: 200, description: "Subject template ({{event}}, {{resource}})" },
      { key: "channel", type: "string", default: "email", maxLength: 16, description: "email, or whatsapp (an approved template: its {{1}} is the subject, {{2}} the digest)" },
      { key: "whatsappTemplate", type: "string", default: "merchant_digest", maxLength: 512, description: "The approved WhatsApp template (channel whatsapp)" }
    ]
  },
  {
    key: "bulk_set_metafield",
    description: "Start a Flowmend bulk metafield job for a product query; undo is the job's undo",
    triggerEvents: "any",
    resourceType: ["product", "page", "article", "collection", "url", "keyword", "campaign", "ad_account", "order", "checkout", "shop"],
    requiredPlan: "pro",
    paramSchema: [
      { key: "queryString", type: "string", maxLength: 500, description: "Products to change (Shopify search syntax)" },
      { key: "namespace", type: "string", maxLength: 50, description: "Metafield namespace" },
      { key: "key", type: "string", maxLength: 50, description: "Metafield key" },
      { key: "type", type: "string", default: "single_line_text_field", maxLength: 50, description: "Metafield type" },
      { key: "value", type: "string", maxLength: 1024, description: "Value to set" },
      { key: "dryRun", type: "boolean", default: false, description: "Only count the matching products" },
      { key: "maxItems", type: "number", default: 10_000, min: 1, max: 100_000, description: "At most this many products" }
    ]
  }
]

export const actionMeta = (key: string): ActionMeta | undefined => ACTION_METAS.find((a) => a.key === key)

/** Whether `action` may be triggered by `event`. */
export const subscribes = (action: ActionMeta, event: TriggerEventName): boolean =>
  action.triggerEvents === "any" || action.triggerEvents.includes(event)

/** The triggers an action subscribes to, spelled out. */
export const triggersOf = (action: ActionMeta): ReadonlyArray<TriggerEventName> =>
  action.triggerEvents === "any" ? TRIGGER_EVENT_NAMES : action.triggerEvents

export interface FieldProblem {
  readonly field: string
  readonly message: string
}

const isRecord = (u: unknown): u is Readonly<Record<string, unknown>> => typeof u === "object" && u !== null && !Array.isArray(u)

/**
 * A rule's params against its action's `paramSchema`: every problem (unknown key, wrong type,
 * out of range, missing without default), or the params with defaults filled in.
 */
export const validateParams = (action: ActionMeta, params: unknown): Result.Result<Readonly<Record<string, unknown>>, ReadonlyArray<FieldProblem>> => {
  if (params !== undefined && !isRecord(params)) return Result.fail([{ field: "params", message: "must be an object" }])
  const given = params ?? {}
  const problems: Array<FieldProblem> = []
  const out: Record<string, unknown> = {}
  const known = new Set(action.paramSchema.map((p) => p.key))
  for (const key of Object.keys(given)) {
    if (!known.has(key)) problems.push({ field: `params.${key}`, message: `${action.key} has no parameter ${key} (it has ${[...known].join(", ")})` })
  }
  for (const spec of action.paramSchema) {
    const field = `params.${spec.key}`
    const value = given[spec.key] ?? spec.default
    if (value === undefined) {
      if (!("optional" in spec && spec.optional === true)) problems.push({ field, message: "is required" })
      continue
    }
    switch (spec.type) {
      case "number":
        if (typeof value !== "number" || !Number.isFinite(value)) problems.push({ field, message: "must be a number" })
        else if (spec.min !== undefined && value < spec.min) problems.push({ field, message: `must be at least ${spec.min}` })
        else if (spec.max !== undefined && value > spec.max) problems.push({ field, message: `must be at most ${spec.max}` })
        else out[spec.key] = value
        break
      case "string":
        if (typeof value !== "string" || value.length === 0) problems.push({ field, message: "must be a non-empty string" })
        else if (spec.maxLength !== undefined && value.length > spec.maxLength) problems.push({ field, message: `must be at most ${spec.maxLength} characters` })
        else if (spec.oneOf !== undefined && !spec.oneOf.includes(value)) problems.push({ field, message: `must be one of ${spec.oneOf.join(", ")}` })
        else out[spec.key] = value
        break
      case "boolean":
        if (typeof value !== "boolean") problems.push({ field, message: "must be true or false" })
        else out[spec.key] = value
        break
      case "string_list":
        if (!Array.isArray(value) || value.some((v) => typeof v !== "string" || v.length === 0 || v.length > 255)) {
          problems.push({ field, message: "must be a list of non-empty strings of at most 255 characters" })
        } else if (spec.minItems !== undefined && value.length < spec.minItems) {
          problems.push({ field, message: `must have at least ${spec.minItems} item${spec.minItems === 1 ? "" : "s"}` })
        } else if (spec.maxItems !== undefined && value.length > spec.maxItems) {
          problems.push({ field, message: `must have at most ${spec.maxItems} items` })
        } else {
          out[spec.key] = [...new Set(value as ReadonlyArray<string>)]
        }
        break
    }
  }
  if (problems.length === 0 && action.refineParams !== undefined) problems.push(...action.refineParams(out))
  return problems.length === 0 ? Result.succeed(out) : Result.fail(problems)
}
