/**
 * The shop actor's side of public ingestion: external events (`POST /api/v1/events`) and
 * storefront touchpoints (`POST /pixel`) become immutable facts in the shop's streams.
 *
 * - `ingest.external_event` → `<type>.recorded` (`ad_spend.recorded`, `seo_ranking.recorded`,
 *   `conversion.recorded`, `custom_event.recorded`) on `external-<shop>-<type>`, with the
 *   event as validated plus `source_key_id` (the API key that sent it).
 * - `pixel.touchpoint` → `touchpoint.recorded` on `touchpoints-<shop>`.
 *
 * Personal data never lands in clear (GDPR deletion in an immutable log = crypto-shredding):
 * what attribution needs and identifies nobody stays readable (event, time, UTM parameters,
 * page host and path, referrer host, which click-id kinds were present); what identifies a
 * visitor (full URL with its query, referrer, click id values, client/session/customer ids)
 * is sealed with `PiiVault` under the customer's subject when the customer is known, else the
 * shop's. `customers/redact` shreds one customer's key, `shop/redact` every key of the shop.
 * A conversion with a `customer_id` seals its customer and order ids the same way.
 *
 * Each recorded event keeps a clear `subject` (`customer:<id>` or `shop`): the key it was
 * sealed under, so a customer data export finds that customer's events with one indexed
 * filter instead of decrypting the whole log. A bare Shopify customer id is a pseudonymous
 * key, not contact data; names, emails and addresses are never in clear.
 *
 * Exactly-once: the runtime records each message id (`ingest:<idempotency_key>`,
 * `pixel:<event_id>`) in the commit that appends the event, so a re-sent key appends nothing.
 */
import { Effect } from "effect"
import { type ExternalEvent, recordedEventType } from "../../domain/ingest/ExternalEvents.ts"
import type { ConversionRecorded, ExternalRecordedData, TouchpointRecorded } from "../../domain/ingest/RecordedEvents.ts"
import { splitTouchpoint } from "../../domain/ingest/Touchpoint.ts"
import { type Decision, type HandlerRegistry, PermanentFailure, TransientFailure, type TypedHandlerContext } from "../actors/ShopHandlers.ts"
import { customerSubject, PiiVault, type Sealed, type SecretsUnavailable, shopSubject } from "../secrets/Secrets.ts"

export const externalStream = (shop: string, type: ExternalEvent["type"]) => `external-${shop}-${type}`
export const touchpointStream = (shop: string) => `touchpoints-${shop}`

const EVENT_SCHEMA_VERSION = 1

const vaultDown = (e: SecretsUnavailable) => new TransientFailure({ reason: `the PII vault is unavailable (${e.operation}): ${e.message}` })

/** The ingest handlers (they seal personal data: requires `PiiVault`). */
export const makeIngestHandlers = Effect.gen(function*() {
  const vault = yield* PiiVault

  /**
   * Seals identifying data; `null` (nothing kept) when the subject was redacted: a customer
   * who asked to be forgotten is not re-identified by a touchpoint or conversion arriving later.
   */
  const seal = (shop: string, subject: string, value: unknown) =>
    vault.seal(shop, subject, value).pipe(
      Effect.map((sealed): Sealed | null => sealed),
      Effect.catchTag("SubjectShredded", () => Effect.succeed(null)),
      Effect.mapError(vaultDown)
    )

  /** The recorded data of an external event: personal ids of a known customer sealed. */
  const recordedData = (shop: string, event: ExternalEvent, keyId: string): Effect.Effect<ExternalRecordedData, TransientFailure> =>
    Effect.gen(function*() {
      if (event.type !== "conversion" || event.customer_id === undefined || event.customer_id === null) {
        return { ...event, source_key_id: keyId } satisfies ExternalRecordedData
      }
      const { customer_id, order_id, ...rest } = event
      const subject = customerSubject(customer_id)
      const identifying = yield* seal(shop, subject, { customer_id, ...(order_id === undefined || order_id === null ? {} : { order_id }) })
      return { ...rest, source_key_id: keyId, subject, identifying } satisfies ConversionRecorded
    })

  // Both payloads were validated by the dispatcher against the catalog — the ingress's own
  // schemas: a message from an older ingress that does not fit is dead-lettered with the reason.
  const externalEvent = (ctx: TypedHandlerContext<"ingest.external_event">): Effect.Effect<Decision, TransientFailure> =>
    Effect.gen(function*() {
      const { key_id: keyId, event } = ctx.message.payload
      const data = yield* recordedData(ctx.shop, event, keyId)
      return {
        appends: [{
          streamId: externalStream(ctx.shop, event.type),
          expected: "any",
          events: [{ type: recordedEventType[event.type], data, schemaVersion: EVENT_SCHEMA_VERSION, occurredAt: new Date(event.occurred_at) }]
        }]
      }
    })

  const touchpoint = (ctx: TypedHandlerContext<"pixel.touchpoint">): Effect.Effect<Decision, PermanentFailure | TransientFailure> =>
    Effect.gen(function*() {
      const t = ctx.message.payload
      if (t.shop !== ctx.shop) return yield* new PermanentFailure({ reason: "touchpoint of another shop" })
      const { facts, identifiers } = splitTouchpoint(t)
      const subject = identifiers.customer_id === undefined ? shopSubject : customerSubject(identifiers.customer_id)
      const identifying = yield* seal(ctx.shop, subject, identifiers)
      return {
        appends: [{
          streamId: touchpointStream(ctx.shop),
          expected: "any",
          events: [{ type: "touchpoint.recorded", data: { ...facts, subject, identifying } satisfies TouchpointRecorded, schemaVersion: EVENT_SCHEMA_VERSION, occurredAt: new Date(t.occurred_at) }]
        }]
      }
    })

  return {
    "ingest.external_event": externalEvent,
    "pixel.touchpoint": touchpoint
  } satisfies Partial<HandlerRegistry>
})
