/**
 * Attribution read models (issue 13 §2): every order's journey and its credits under the five
 * per-journey models, and the daily roll-up per day × model × channel. Markov and Shapley credit
 * channels from every journey of a period at once (converting and not), so they are computed
 * when read (`adapters/http/AdminAttributionRoutes.ts`) from the journeys kept here.
 *
 * - `attribution_touches`: each touch (`domain/intelligence/touches.ts` says which touchpoints
 *   are touches) with its channel (`domain/intelligence/channels.ts`), time, the customer it
 *   names in clear (`subject`) and the visitor key: a digest of the pixel's client id (else
 *   session id), opened from the sealed identifiers — no identifier is kept in clear. A touch
 *   on a checkout page keeps a digest of the checkout's token.
 * - `attribution_visitors`: identity stitching — a visitor key seen with a customer id (a
 *   signed-in visit) joins that customer's journeys from then on, also its earlier anonymous touches.
 * - `attribution_orders`: the conversion (first of `order.created`/`order.paid` for an order;
 *   a later one changes nothing), its revenue and currency, its journey (touches within the
 *   lookback window before the order: the customer's, their visitors', the checkout's; else the
 *   order's own landing visit) and the shares of each per-journey model. The touches it used are
 *   marked with the order (what is left are the non-converting journeys Markov needs).
 * - `attribution_daily`: per UTC day of the order × model × channel × currency, the sum of
 *   shares (conversions) and of shares × revenue.
 *
 * The journey is what had been recorded when the order was: a touch recorded after its order
 * does not move that order's credit (the read model is a fold of the log, rebuildable to the
 * same rows). `customer.redacted` unlinks the customer (ids set to NULL, visitor links deleted);
 * the credits, which name channels only, stay.
 */
import { Effect, Option } from "effect"
import { createHash } from "node:crypto"
import type { RecordedEvent } from "../domain/events/Envelope.ts"
import { TouchpointRecorded } from "../domain/ingest/RecordedEvents.ts"
import { DEFAULT_LOOKBACK_MS, journeyShares, type Touch } from "../domain/intelligence/attribution.ts"
import { channelOf, touchSignals } from "../domain/intelligence/channels.ts"
import { checkoutTokenOf, isTouch, landingSignals } from "../domain/intelligence/touches.ts"
import { CustomerRedacted } from "../domain/privacy/PrivacyEvents.ts"
import { OrderEvent, OrderRecord } from "../domain/shopify/CommerceEvents.ts"
import type { ApplyContext, Projection } from "../src/projections/Projection.ts"
import { decodeData } from "./eventData.ts"

/** A stable, non-reversible key for an identifier (a visitor's client id, a checkout token). */
const digest = (shop: string, kind: string, value: string): string =>
  createHash("sha256").update(`${shop}\u0000${kind}\u0000${value}`).digest("base64url").slice(0, 22)

/** The models whose credit is a property of one journey (Markov and Shapley need the period's). */
const HEURISTIC_MODELS = ["first_touch", "last_touch", "linear", "time_decay", "position_based"] as const

const obj = (u: unknown): Record<string, unknown> => (typeof u === "object" && u !== null && !Array.isArray(u) ? u as Record<string, unknown> : {})
const str = (u: unknown): string | null => (typeof u === "string" && u.trim() !== "" ? u : null)

const touchpoint = (e: RecordedEvent, ctx: ApplyContext) =>
  Effect.gen(function*() {
    const d = yield* decodeData(TouchpointRecorded, e)
    if (!isTouch(d)) return
    const opened = d.identifying === null ? Option.none() : yield* ctx.open(e.shop, d.identifying)
    const ids: Record<string, unknown> = Option.match(opened, { onNone: () => ({}), onSome: obj })
    const customerId = d.subject.startsWith("customer:") ? d.subject.slice("customer:".length) : str(ids["customer_id"])
    const client = str(ids["client_id"]) ?? str(ids["session_id"])
    const visitor = client === null ? null : digest(e.shop, "visitor", client)
    const token = str(ids["url"]) === null ? null : checkoutTokenOf(ids["url"] as string)
    const checkout = token === null ? null : digest(e.shop, "checkout", token)
    const t = ctx.sql.unsafe(ctx.table("attribution_touches"))
    yield* ctx.sql`
      INSERT INTO ${t} (shop, event_id, at, channel, customer_id, visitor, checkout)
      VALUES (${e.shop}, ${d.event_id}, ${d.occurred_at}::timestamptz, ${channelOf(touchSignals(d))}, ${customerId}, ${visitor}, ${checkout})
      ON CONFLICT (shop, event_id) DO NOTHING`
    if (visitor !== null && customerId !== null) {
      const v = ctx.sql.unsafe(ctx.table("attribution_visitors"))
      yield* ctx.sql`
        INSERT INTO ${v} (shop, visitor, customer_id) VALUES (${e.shop}, ${visitor}, ${customerId})
        ON CONFLICT (shop, visitor) DO UPDATE SET customer_id = EXCLUDED.customer_id`
    }
  })

interface JourneyRow {
  readonly seen: boolean
  readonly event_id: string | null
  readonly channel: string | null
  readonly at: Date | null
}

/**
 * An order in two statements (the projection runs for every order the shop takes): one reads
 * whether the order converted already and, if not, its journey; one writes the conversion, marks
 * the touches it used and adds to the roll-up.
 */
const order = (e: RecordedEvent, ctx: ApplyContext) =>
  Effect.gen(function*() {
    if (e.type !== "order.created" && e.type !== "order.paid") return
    const d = yield* decodeData(OrderEvent, e)
    const opened = d.record === null ? Option.none() : yield* ctx.open(e.shop, d.record)
    const record = Option.isSome(opened) ? yield* decodeData(OrderRecord, e, opened.value, "its sealed record") : null
    const convertedAt = new Date(record?.processed_at ?? record?.created_at ?? e.occurredAt.toISOString())
    const at = Number.isFinite(convertedAt.getTime()) ? convertedAt : e.occurredAt
    const revenue = Number(record?.total_price ?? "0")
    const currency = record?.currency ?? "XXX"
    const token = str(obj(record?.raw)["checkout_token"])
    const checkout = token === null ? null : digest(e.shop, "checkout", token)
    const o = ctx.sql.unsafe(ctx.table("attribution_orders"))
    const t = ctx.sql.unsafe(ctx.table("attribution_touches"))
    const v = ctx.sql.unsafe(ctx.table("attribution_visitors"))
    const from = new Date(at.getTime() - DEFAULT_LOOKBACK_MS)
    // The journey: the customer's touches, their visitors', the checkout's. A guest order
    // without a checkout token has none to join (the guard is a one-time filter: no scan).
    const rows = yield* ctx.sql<JourneyRow>`
      SELECT s.seen, j.event_id, j.channel, j.at
        FROM (SELECT EXISTS (SELECT 1 FROM ${o} WHERE shop = ${e.shop} AND order_id = ${d.order_id}) AS seen) s
        LEFT JOIN LATERAL (
          SELECT event_id, channel, at FROM ${t}
           WHERE ${d.customer_id !== null || checkout !== null}::boolean
             AND shop = ${e.shop} AND at <= ${at} AND at >= ${from}
             AND ((${d.customer_id}::text IS NOT NULL AND customer_id = ${d.customer_id})
                  OR (${d.customer_id}::text IS NOT NULL AND visitor IN (SELECT visitor FROM ${v} WHERE shop = ${e.shop} AND customer_id = ${d.customer_id}))
                  OR (${checkout}::text IS NOT NULL AND checkout = ${checkout}))
        ) j ON NOT s.seen
       ORDER BY j.at, j.event_id`
    if (rows[0]?.seen === true) return
    const used = rows.flatMap((r) => (r.event_id === null || r.channel === null || r.at === null ? [] : [{ event_id: r.event_id, channel: r.channel, at: r.at }]))
    const landing = used.length > 0 || record === null ? null : landingSignals(record.landing_site, record.referring_site, e.shop)
    const touches: ReadonlyArray<Touch> = used.length > 0
      ? used.map((r) => ({ channel: r.channel, at: new Date(r.at).getTime() }))
      : landing === null ? [] : [{ channel: channelOf(landing), at: at.getTime() }]
    const journey = { id: d.order_id, touches, conversion: { at: at.getTime(), revenue: Number.isFinite(revenue) ? revenue : 0 } }
    const credits: Record<string, Readonly<Record<string, number>>> = Object.fromEntries(
      // a channel of the journey the model gives nothing (first touch's later channels) is left out
      HEURISTIC_MODELS.map((m) => [m, Object.fromEntries(Object.entries(journeyShares(m, journey)).filter(([, share]) => share > 0))])
    )
    // the roll-up: every model × channel of the order
    const daily = ctx.sql.unsafe(ctx.table("attribution_daily"))
    const day = at.toISOString().slice(0, 10)
    const cells = Object.entries(credits).flatMap(([model, shares]) => Object.entries(shares).map(([channel, share]) => ({ model, channel, share })))
    yield* ctx.sql`
      WITH converted AS (
        INSERT INTO ${o} (shop, order_id, customer_id, converted_at, revenue, currency, touches, credits)
        VALUES (${e.shop}, ${d.order_id}, ${d.customer_id}, ${at}, ${journey.conversion.revenue}, ${currency},
                ${JSON.stringify(touches)}::jsonb, ${JSON.stringify(credits)}::jsonb)
      ), marked AS (
        UPDATE ${t} SET order_id = ${d.order_id} WHERE shop = ${e.shop} AND event_id = ANY(${used.map((r) => r.event_id)}::text[])
      )
      INSERT INTO ${daily} (shop, day, model, channel, currency, conversions, revenue)
      SELECT ${e.shop}, ${day}::date, c.model, c.channel, ${currency}, c.share, c.share * ${journey.conversion.revenue}
        FROM unnest(${cells.map((c) => c.model)}::text[], ${cells.map((c) => c.channel)}::text[], ${cells.map((c) => String(c.share))}::float8[]) AS c(model, channel, share)
      ON CONFLICT (shop, day, model, channel, currency) DO UPDATE
        SET conversions = ${daily}.conversions + EXCLUDED.conversions, revenue = ${daily}.revenue + EXCLUDED.revenue`
  })

const customerRedacted = (e: RecordedEvent, ctx: ApplyContext) =>
  Effect.gen(function*() {
    const d = yield* decodeData(CustomerRedacted, e)
    const t = ctx.sql.unsafe(ctx.table("attribution_touches"))
    const v = ctx.sql.unsafe(ctx.table("attribution_visitors"))
    const o = ctx.sql.unsafe(ctx.table("attribution_orders"))
    yield* ctx.sql`UPDATE ${t} SET customer_id = NULL, visitor = NULL WHERE shop = ${e.shop} AND customer_id = ${d.customer_id}`
    yield* ctx.sql`DELETE FROM ${v} WHERE shop = ${e.shop} AND customer_id = ${d.customer_id}`
    yield* ctx.sql`UPDATE ${o} SET customer_id = NULL WHERE shop = ${e.shop} AND customer_id = ${d.customer_id}`
  })

export const attributionProjection: Projection = {
  name: "attribution",
  version: 1,
  eventTypes: ["touchpoint.recorded", "order.created", "order.paid", "customer.redacted"],
  tables: [
    {
      name: "attribution_touches",
      columns: [
        "shop text NOT NULL",
        "event_id text NOT NULL",
        "at timestamptz NOT NULL",
        "channel text NOT NULL",
        "customer_id text",
        "visitor text",
        "checkout text",
        "order_id text"
      ],
      primaryKey: ["shop", "event_id"],
      indexes: [["shop", "customer_id", "at"], ["shop", "visitor", "at"], ["shop", "checkout"], ["shop", "at"]],
      shopColumn: "shop"
    },
    {
      name: "attribution_visitors",
      columns: ["shop text NOT NULL", "visitor text NOT NULL", "customer_id text NOT NULL"],
      primaryKey: ["shop", "visitor"],
      indexes: [["shop", "customer_id"]],
      shopColumn: "shop"
    },
    {
      name: "attribution_orders",
      columns: [
        "shop text NOT NULL",
        "order_id text NOT NULL",
        "customer_id text",
        "converted_at timestamptz NOT NULL",
        "revenue double precision NOT NULL",
        "currency text NOT NULL",
        "touches jsonb NOT NULL",
        "credits jsonb NOT NULL"
      ],
      primaryKey: ["shop", "order_id"],
      // the admin's period queries; the trigger emitter's scan of the recent orders of every shop
      indexes: [["shop", "converted_at"], ["converted_at"]],
      shopColumn: "shop"
    },
    {
      name: "attribution_daily",
      columns: [
        "shop text NOT NULL",
        "day date NOT NULL",
        "model text NOT NULL",
        "channel text NOT NULL",
        "currency text NOT NULL",
        "conversions double precision NOT NULL",
        "revenue double precision NOT NULL"
      ],
      primaryKey: ["shop", "day", "model", "channel", "currency"],
      shopColumn: "shop"
    }
  ],
  apply: (events, ctx) =>
    Effect.forEach(events, (e) =>
      e.type === "touchpoint.recorded"
        ? touchpoint(e, ctx)
        : e.type === "customer.redacted"
        ? customerRedacted(e, ctx)
        : order(e, ctx), { discard: true })
}
