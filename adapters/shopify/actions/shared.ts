/**
 * What the Shopify actions share: one GraphQL call with Shopify's errors in the actions' terms
 * (throttling and outages are transient — retried by the runner; everything else, and every
 * `userErrors` entry, is permanent with Shopify's own words), and reading a payload's fields.
 */
import { Effect } from "effect"
import { ActionPermanent, type ActionError, ActionTransient } from "../../../src/automation/ActionSteps.ts"
import { ShopifyAdmin, type ShopifyError } from "../ShopifyAdmin.ts"

const asActionError = (e: ShopifyError): ActionError => {
  switch (e._tag) {
    case "ShopifyThrottled":
      return new ActionTransient({ message: `Shopify is throttling ${e.operation} (${e.code})`, retryAfterMs: e.retryAfterMs })
    case "ShopifyUnavailable":
      return new ActionTransient({ message: `Shopify did not answer ${e.operation}: ${e.message}`, retryAfterMs: null })
    case "ShopifyPermanentError":
      return new ActionPermanent({ code: e.code.toLowerCase(), message: `Shopify refused ${e.operation}: ${e.message}` })
  }
}

/** Runs one document; Shopify's failures as action errors. */
export const graphql = (shop: string, document: string, variables: Readonly<Record<string, unknown>>) =>
  Effect.gen(function*() {
    const admin = yield* ShopifyAdmin
    return yield* Effect.mapError(admin.graphql(shop, document, variables), asActionError)
  })

interface UserError {
  readonly field?: ReadonlyArray<string> | null
  readonly message: string
}

/** A mutation's payload at `root`, or its `userErrors` as one permanent failure in Shopify's words. */
export const mutationPayload = <A>(data: Readonly<Record<string, unknown>>, root: string) => {
  const payload = data[root] as (A & { readonly userErrors?: ReadonlyArray<UserError> }) | null | undefined
  if (payload === null || payload === undefined) return Effect.fail(new ActionPermanent({ code: "unexpected_response", message: `Shopify answered ${root} without a payload` }))
  const errors = payload.userErrors ?? []
  if (errors.length > 0) {
    const text = errors.map((u) => (u.field && u.field.length > 0 ? `${u.field.join(".")}: ${u.message}` : u.message)).join("; ")
    return Effect.fail(new ActionPermanent({ code: "user_error", message: `Shopify refused ${root}: ${text}` }))
  }
  return Effect.succeed(payload as A)
}

/** A string field of a trigger resource's payload, or a permanent failure naming it. */
export const payloadString = (payload: unknown, field: string) => {
  const value = typeof payload === "object" && payload !== null ? (payload as Record<string, unknown>)[field] : undefined
  return typeof value === "string" && value.length > 0
    ? Effect.succeed(value)
    : Effect.fail(new ActionPermanent({ code: "invalid_trigger", message: `the trigger's resource has no ${field}` }))
}

/** Case-insensitive membership, as Shopify compares tags. */
export const hasTag = (tags: ReadonlyArray<string>, tag: string): boolean => tags.some((t) => t.toLowerCase() === tag.toLowerCase())

/** "the tag x" / "the tags x, y". */
export const tagList = (tags: ReadonlyArray<string>): string => `the tag${tags.length === 1 ? "" : "s"} ${tags.join(", ")}`

/** An HTML body as plain text: tags dropped, runs of white space made one space. */
export const plainText = (html: string): string => html.replace(/<[^>]*>/g, " ").replace(/\s+/g, " ").trim()
