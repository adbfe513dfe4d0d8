/**
 * Shopify's mandatory compliance webhooks, as operations of the shop actor (SHOPIFY.md §6):
 *
 * - `customers/data_request` → {@link exportCustomerData}: everything Sumeru holds about the
 *   customer — every event sealed under the customer's subjects (their own key and the keys
 *   of the orders the request names), opened — becomes one JSON export, stored sealed under
 *   the customer's key in `data_exports` and recorded by a `customer.data_exported` event. The
 *   merchant downloads it from the admin API (`GET /app/privacy/exports/:id`).
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
 */
import { Effect, Option, Schema } from "effect"
import { SqlClient } from "effect/sql"
import type { SqlError } from "effect/sql/SqlError"
import { createHash } from "node:crypto"
import type { CustomerPrivacyRequest } from "../../domain/shopify/webhookRecords.ts"
import { customerSubjects } from "../../domain/shopify/webhookRecords.ts"
import { EventSealing } from "../eventstore/EventSealing.ts"
import { type DecryptionFailed, PiiVault, Sealed, type SecretsUnavailable, ShopTokens } from "../secrets/Secrets.ts"

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

export const exportCustomerData = (shop: string, request: CustomerPrivacyRequest, requestKey: string) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const vault = yield* PiiVault
    const sealing = yield* EventSealing
    const subjects = customerSubjects(request)
    const rows = yield* sql<{ position: string; type: string; stream_id: string; occurred_at: Date; data: unknown }>`
      SELECT position::text AS position, type, stream_id, occurred_at, data
        FROM events
       WHERE shop = ${shop} AND data->>'subject' = ANY(${subjects as Array<string>})
       ORDER BY position`
    // the store's shop-sealed part first (as any reader sees the event), then the customer's
    const events = yield* Effect.forEach(rows, (r) =>
      Effect.map(Effect.flatMap(sealing.open(shop, r.type, r.data), (opened) => openDeep(vault, shop, opened.data)), (data) => ({
        position: Number(r.position),
        type: r.type,
        stream_id: r.stream_id,
        occurred_at: new Date(r.occurred_at).toISOString(),
        data
      })))
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
    yield* sql`
      INSERT INTO data_exports (shop, export_id, customer_id, data_request_id, sealed, sha256, bytes, event_count)
      VALUES (${shop}, ${exportId}, ${request.customerId}, ${request.requestId}, ${JSON.stringify(sealed)}::jsonb,
              ${sha256}, ${Buffer.byteLength(text)}, ${events.length})
      ON CONFLICT (shop, export_id) DO UPDATE
        SET sealed = EXCLUDED.sealed, sha256 = EXCLUDED.sha256, bytes = EXCLUDED.bytes, event_count = EXCLUDED.event_count`
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
    const sql = yield* SqlClient.SqlClient
    const vault = yield* PiiVault
    const rows = yield* sql<{ sealed: unknown }>`SELECT sealed FROM data_exports WHERE shop = ${shop} AND export_id::text = ${exportId}`
    if (rows.length === 0 || !isSealed(rows[0]!.sealed)) return Option.none<unknown>()
    return yield* vault.open(shop, rows[0]!.sealed)
  })

export const redactCustomer = (shop: string, request: CustomerPrivacyRequest) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const vault = yield* PiiVault
    const subjects = customerSubjects(request)
    yield* Effect.forEach(subjects, (s) => vault.shred(shop, s), { discard: true })
    yield* sql`DELETE FROM data_exports WHERE shop = ${shop} AND customer_id = ${request.customerId}`
    // Dead letters keep the raw message for operators: drop those about this customer (their
    // webhooks, their orders named by the request, their touchpoints and conversions).
    const cid = request.customerId
    yield* sql`
      DELETE FROM dead_letters
       WHERE shop = ${shop}
         AND (message #>> '{payload,payload,customer,id}' = ${cid}
           OR (message #>> '{payload,topic}' LIKE 'customers/%' AND message #>> '{payload,payload,id}' = ${cid})
           OR (message #>> '{payload,topic}' LIKE 'orders/%' AND message #>> '{payload,payload,id}' = ANY(${request.orderIds as Array<string>}::text[]))
           OR message #>> '{payload,customer_id}' = ${cid}
           OR message #>> '{payload,event,customer_id}' = ${cid})`
    return subjects
  })

/** Every table outside the event store and the projections that holds one shop's rows. */
export const SHOP_SIDE_TABLES = [
  "snapshots",
  "data_exports",
  "dead_letters",
  "scheduled_messages",
  "job_requests",
  "job_snapshots",
  "job_error_lines",
  "api_keys",
  "shop_members",
  "storefront_origins"
] as const

export const redactShop = (shop: string): Effect.Effect<void, SqlError | SecretsUnavailable, SqlClient.SqlClient | PiiVault | ShopTokens> =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const vault = yield* PiiVault
    const tokens = yield* ShopTokens
    yield* vault.shredShop(shop)
    yield* tokens.discard(shop)
    yield* sql.withTransaction(Effect.forEach(SHOP_SIDE_TABLES, (table) => sql`DELETE FROM ${sql(table)} WHERE shop = ${shop}`, { discard: true }))
  })
