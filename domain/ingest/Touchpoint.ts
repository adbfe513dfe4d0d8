/**
 * A storefront touchpoint, as the pixel (`POST /pixel`) sends it: what happened (page view …
 * purchase), where (URL, referrer), which campaign brought the visitor (UTM parameters, ad
 * click ids) and who (client, session, customer ids). Attribution is computed from these.
 *
 * Pure: the schema and {@link decodeTouchpoint} (every error with its path), plus
 * {@link splitTouchpoint}, which separates what attribution needs in clear from what
 * identifies a person (sealed before it is stored; see `src/ingest/IngestHandlers.ts`).
 */
import { Result, Schema } from "effect"
import { SHOP_DOMAIN } from "../shop/ShopDomain.ts"
import { decodeAll, type FieldError, HttpUrl, Instant, optional, text } from "./Fields.ts"

export const PIXEL_BODY_LIMIT = 4 * 1024

export const TOUCHPOINT_EVENTS = ["page_view", "product_view", "add_to_cart", "checkout_started", "purchase", "custom"] as const

/** Click ids of the main ad platforms; other `[a-z_]` names are accepted too (up to 10 in all). */
export const KNOWN_CLICK_IDS = ["gclid", "gbraid", "wbraid", "dclid", "fbclid", "ttclid", "msclkid", "twclid", "li_fat_id", "epik", "sccid"] as const

const MAX_CLICK_IDS = 10

const utmField = optional(text(300))

export const Utm = Schema.Struct({
  source: utmField,
  medium: utmField,
  campaign: utmField,
  term: utmField,
  content: utmField
})

const CLICK_ID_NAME = /^[a-z][a-z0-9_]{1,19}$/

export const ClickIds = Schema.Record(Schema.String, text(500)).check(
  Schema.makeFilter((ids) => Object.keys(ids).length <= MAX_CLICK_IDS, { message: `must name at most ${MAX_CLICK_IDS} click ids` }),
  // Checked here rather than on the record's key schema, which would silently drop a bad name.
  Schema.makeFilter((ids) =>
    Object.keys(ids)
      .filter((name) => !CLICK_ID_NAME.test(name))
      .map((name) => ({ path: [name], issue: "click id names are 2–20 lowercase letters, digits or _, such as gclid" }))
  )
)

export const Touchpoint = Schema.Struct({
  shop: Schema.String.check(Schema.isPattern(SHOP_DOMAIN, { message: "must be a shop domain such as example.myshopify.com" })),
  event: Schema.Literals(TOUCHPOINT_EVENTS),
  /** For `custom` events: what happened (`newsletter_signup`). */
  name: optional(Schema.String.check(Schema.isPattern(/^[A-Za-z][A-Za-z0-9_.:-]{0,99}$/, { message: "must be 1–100 characters of letters, digits, _ . : -" }))),
  /** Chosen by the pixel (a UUID): the idempotency key of this touchpoint. */
  event_id: Schema.String.check(Schema.isUUID(undefined, { message: "must be a UUID" })),
  occurred_at: Instant,
  url: HttpUrl(),
  /** `document.referrer`; empty when there is none. */
  referrer: optional(Schema.Union([Schema.Literal(""), HttpUrl()]).annotate({ message: "must be an absolute http(s) URL or empty" })),
  utm: optional(Utm),
  click_ids: optional(ClickIds),
  client_id: optional(text(200)),
  session_id: optional(text(200)),
  customer_id: optional(text(200))
})
export type Touchpoint = typeof Touchpoint.Type

const decode = decodeAll(Touchpoint)

/** Decodes a pixel body: the touchpoint, or every failed field with its path. */
export const decodeTouchpoint = (input: unknown): Result.Result<Touchpoint, ReadonlyArray<FieldError>> => decode(input)

/**
 * The attribution-relevant, non-identifying part of a touchpoint: stored in clear (the
 * `touchpoint.recorded` event's data beside its subject, see `RecordedEvents.ts`).
 * Structural: stored touchpoints keep decoding when the pixel's validation rules change.
 */
export const TouchpointFacts = Schema.Struct({
  event_id: Schema.String,
  event: Schema.Literals(TOUCHPOINT_EVENTS),
  name: Schema.NullOr(Schema.String),
  occurred_at: Schema.String,
  /** The page, without query or fragment (those can carry emails, tokens, order ids). */
  page: Schema.Struct({ host: Schema.String, path: Schema.String }),
  referrer_host: Schema.NullOr(Schema.String),
  utm: Schema.NullOr(Schema.Struct({
    source: Schema.NullOr(Schema.String),
    medium: Schema.NullOr(Schema.String),
    campaign: Schema.NullOr(Schema.String),
    term: Schema.NullOr(Schema.String),
    content: Schema.NullOr(Schema.String)
  })),
  /** Which click ids were present (`["gclid"]`): enough to attribute to a platform. */
  click_id_kinds: Schema.Array(Schema.String)
})
export type TouchpointFacts = typeof TouchpointFacts.Type

/** What identifies a visitor or can be linked to one: sealed before storing. */
export interface TouchpointIdentifiers {
  readonly url: string
  readonly referrer?: string
  readonly click_ids?: Readonly<Record<string, string>>
  readonly client_id?: string
  readonly session_id?: string
  readonly customer_id?: string
}

const present = (s: string | null | undefined): s is string => s !== undefined && s !== null && s !== ""

/** Splits a touchpoint into clear facts and the identifiers to seal. */
export const splitTouchpoint = (t: Touchpoint): { readonly facts: TouchpointFacts; readonly identifiers: TouchpointIdentifiers } => {
  const url = new URL(t.url)
  const referrer = present(t.referrer) ? t.referrer : null
  const utm = t.utm === undefined || t.utm === null ? null : {
    source: t.utm.source ?? null,
    medium: t.utm.medium ?? null,
    campaign: t.utm.campaign ?? null,
    term: t.utm.term ?? null,
    content: t.utm.content ?? null
  }
  const clickIds = t.click_ids ?? undefined
  return {
    facts: {
      event_id: t.event_id,
      event: t.event,
      name: t.name ?? null,
      occurred_at: t.occurred_at,
      page: { host: url.host, path: url.pathname },
      referrer_host: referrer === null ? null : new URL(referrer).host,
      utm,
      click_id_kinds: clickIds === undefined ? [] : Object.keys(clickIds).sort()
    },
    identifiers: {
      url: t.url,
      ...(referrer === null ? {} : { referrer }),
      ...(clickIds === undefined || Object.keys(clickIds).length === 0 ? {} : { click_ids: clickIds }),
      ...(present(t.client_id) ? { client_id: t.client_id } : {}),
      ...(present(t.session_id) ? { session_id: t.session_id } : {}),
      ...(present(t.customer_id) ? { customer_id: t.customer_id } : {})
    }
  }
}
