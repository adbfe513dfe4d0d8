/**
 * Shopify's mandatory compliance webhooks, as operations of the shop actor (SHOPIFY.md §6):
 *
 * - `customers/data_request` → {@link exportCustomerData}: everything Sumeru holds about the
 *   customer — every event sealed under the customer's subjects (their own key and the keys
 *   of the orders the request names), opened — becomes one JSON export, stored sealed under
 *   the customer's key in `data_exports` and recorded by a `customer.data_exported` event. The
 *   merchant downloads it from the admin API (`GET /app/privacy/exports/:id`).
 * - Both reach what was sealed under the customer's phone numbers (`phone:<blind index>`: their
 *   WhatsApp messages, `domain/privacy/PhoneSubject.ts`), numbers read from their data and the request.
 * - `customers/redact` → {@link redactCustomer}: the customer's data keys are destroyed, so
 *   every sealed copy in the immutable events is unreadable; their exports and the dead
 *   letters about them are deleted; the `customer.redacted` event makes the read models
 *   forget them.
 * - `shop/redact` → {@link redactShop}: every data key of the shop is destroyed, its token
 *   discarded, and the shop's side tables (exports, dead letters, job artefacts, API keys,
 *   members, storefront origins, pending timers) deleted; `shop.redacted` makes every
 *   projection drop the shop's rows.
 *
 * The destructive steps run before the event is appended and are idempotent: if the commit
 * fails the message is retried, and doing them again changes nothing. Events record ids and
 * counts only, never the e-mail or phone the request carried.
 *
 * What is stored beside the events and the secrets is reached through `PrivacyStore`
 * (`adapters/postgres/PgPrivacyStore.ts`).
 */
import { Effect, Option, Schema } from "effect"
import type { SqlError } from "effect/sql/SqlError"
import { createHash } from "node:crypto"
import type { CustomerPrivacyRequest } from "../../domain/shopify/webhookRecords.ts"
import { PHONE_INDEX_PURPOSE, phoneDigits, phoneNumbersIn, phoneSubject } from "../../domain/privacy/PhoneSubject.ts"
import { customerSubjects } from "../../domain/shopify/webhookRecords.ts"
import { forgetFolds } from "../actors/ActorFolds.ts"
import { EventSealing } from "../eventstore/EventSealing.ts"
import { type DecryptionFailed, PiiVault, Sealed, type SecretsUnavailable, ShopTokens } from "../secrets/Secrets.ts"
import { PrivacyStore } from "./PrivacyStore.ts"

/** A stable UUID (RFC 9562 version 8) from a name: a retried request exports under the same id. */
export const nameUuid = (name: string): string => {
  const h = createHash("sha256").update(name).digest()
  h[6] = (h[6]! & 0x0f) | 0x80
  h[8] = (h[8]! & 0x3f) | 0x80
  const x = h.subarray(0, 16).toString("hex")
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20, 32)}`
}

const isSealed = Schema.is(Sealed)

export interface CustomerExport {
  readonly exportId: string
  readonly customerId: string
  readonly dataRequestId: string | null
  readonly eventCount: number
  readonly bytes: number
  readonly sha256: string
}

/** Opens every sealed value inside an event's data (depth-first), leaving the rest as is. */
const openDeep = (
  vault: PiiVault["Service"],
  shop: string,
  value: unknown
): Effect.Effect<unknown, SecretsUnavailable | DecryptionFailed> => {
  if (isSealed(value)) return Effect.map(vault.open(shop, value), Option.getOrElse(() => ({ unreadable: true })))
  if (Array.isArray(value)) return Effect.forEach(value, (v) => openDeep(vault, shop, v))
  if (typeof value === "object" && value !== null) {
    return Effect.map(
      Effect.forEach(Object.entries(value), ([k, v]) => Effect.map(openDeep(vault, shop, v), (o) => [k, o] as const)),
      Object.fromEntries
    )
  }
  return Effect.succeed(value)
}

/** An event of the customer's subjects, opened: the store's shop-sealed part first (as any reader sees the event), then the customer's. */
const openedEventsOf = (shop: string, subjects: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    const store = yield* PrivacyStore
    const vault = yield* PiiVault
    const sealing = yield* EventSealing
    const rows = subjects.length === 0 ? [] : yield* store.eventsOfSubjects(shop, subjects)
    return yield* Effect.forEach(rows, (r) =>
      Effect.map(Effect.flatMap(sealing.open(shop, r.type, r.data), (opened) => openDeep(vault, shop, opened.data)), (data) => ({
        position: r.position,
        type: r.type,
        stream_id: r.streamId,
        occurred_at: new Date(r.occurredAt).toISOString(),
        data
      })))
  })

/**
 * The subjects of the customer's phone numbers (`domain/privacy/PhoneSubject.ts`): every number
 * their opened data names, and the one the request carries. Read while their keys still exist.
 */
const phoneSubjectsOf = (shop: string, request: CustomerPrivacyRequest, opened: ReadonlyArray<{ readonly data: unknown }>) =>
  Effect.gen(function*() {
    const vault = yield* PiiVault
    const numbers = phoneNumbersIn(opened.map((e) => e.data))
    const requested = request.phone === null ? undefined : phoneDigits(request.phone)
    if (requested !== undefined) numbers.add(requested)
    return yield* Effect.forEach([...numbers].sort(), (digits) => Effect.map(vault.blindIndex(shop, PHONE_INDEX_PURPOSE, digits), phoneSubject))
  })

export const exportCustomerData = (shop: string, request: CustomerPrivacyRequest, requestKey: string) =>
  Effect.gen(function*() {
    const store = yield* PrivacyStore
    const vault = yield* PiiVault
    const own = yield* openedEventsOf(shop, customerSubjects(request))
    // …and what was sealed under their phone numbers (WhatsApp messages from and to them)
    const byPhone = yield* openedEventsOf(shop, yield* phoneSubjectsOf(shop, request, own))
    const events = [...own, ...byPhone].sort((a, b) => a.position - b.position)
    const exportId = nameUuid(`${shop}\u0000${requestKey}`)
    const document = {
      export_id: exportId,
      shop,
      customer_id: request.customerId,
      data_request_id: request.requestId,
      orders_requested: request.orderIds,
      generated_at: new Date().toISOString(),
      events
    }
    const text = JSON.stringify(document)
    const sha256 = createHash("sha256").update(text).digest("hex")
    const sealed = yield* vault.seal(shop, `customer:${request.customerId}`, document)
    yield* store.saveExport(shop, {
      exportId,
      customerId: request.customerId,
      dataRequestId: request.requestId,
      sealed,
      sha256,
      bytes: Buffer.byteLength(text),
      eventCount: events.length
    })
    const result: CustomerExport = {
      exportId,
      customerId: request.customerId,
      dataRequestId: request.requestId,
      eventCount: events.length,
      bytes: Buffer.byteLength(text),
      sha256
    }
    return result
  })

/** Reads an export back for download: `None` when it does not exist or was shredded. */
export const readCustomerExport = (shop: string, exportId: string) =>
  Effect.gen(function*() {
    const store = yield* PrivacyStore
    const vault = yield* PiiVault
    const sealed = yield* store.readExport(shop, exportId)
    if (Option.isNone(sealed) || !isSealed(sealed.value)) return Option.none<unknown>()
    return yield* vault.open(shop, sealed.value)
  })

export const redactCustomer = (shop: string, request: CustomerPrivacyRequest) =>
  Effect.gen(function*() {
    const store = yield* PrivacyStore
    const vault = yield* PiiVault
    // the numbers are read from the customer's data before its keys go, and their subjects are
    // shredded first: a retry after a crash between the two still finds them
    const phones = yield* phoneSubjectsOf(shop, request, yield* openedEventsOf(shop, customerSubjects(request)))
    const subjects = [...phones, ...customerSubjects(request)]
    yield* Effect.forEach(subjects, (s) => vault.shred(shop, s), { discard: true })
    yield* forgetFolds // what the shop's actor folded from their events must not outlive their keys
    // their exports, and the dead letters (kept for operators with the raw message) about them
    yield* store.deleteCustomerData(shop, { customerId: request.customerId, orderIds: request.orderIds })
    return subjects
  })

export const redactShop = (shop: string): Effect.Effect<void, SqlError | SecretsUnavailable, PrivacyStore | PiiVault | ShopTokens> =>
  Effect.gen(function*() {
    const store = yield* PrivacyStore
    const vault = yield* PiiVault
    const tokens = yield* ShopTokens
    yield* vault.shredShop(shop)
    yield* forgetFolds
    yield* tokens.discard(shop)
    yield* store.deleteShopData(shop)
  })
