/**
 * `PrivacyStore` (src/privacy/PrivacyStore.ts) on PostgreSQL: `events` (by the clear
 * `data->>'subject'`), `data_exports`, `dead_letters`, and a shop's side tables.
 */
import { Effect, Layer, Option } from "effect"
import { SqlClient } from "effect/sql"
import { PrivacyStore, type StoredExport } from "../../src/privacy/PrivacyStore.ts"

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
  "storefront_origins",
  "intelligence_emissions"
] as const

interface EventRow {
  readonly position: string
  readonly type: string
  readonly stream_id: string
  readonly occurred_at: Date
  readonly data: unknown
}

export const make = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient

  const eventsOfSubjects = (shop: string, subjects: ReadonlyArray<string>) =>
    Effect.map(
      sql<EventRow>`
        SELECT position::text AS position, type, stream_id, occurred_at, data
          FROM events
         WHERE shop = ${shop} AND data->>'subject' = ANY(${subjects as Array<string>})
         ORDER BY position`,
      (rows) => rows.map((r) => ({ position: Number(r.position), type: r.type, streamId: r.stream_id, occurredAt: r.occurred_at, data: r.data }))
    )

  const saveExport = (shop: string, e: StoredExport) =>
    sql`
      INSERT INTO data_exports (shop, export_id, customer_id, data_request_id, sealed, sha256, bytes, event_count)
      VALUES (${shop}, ${e.exportId}, ${e.customerId}, ${e.dataRequestId}, ${JSON.stringify(e.sealed)}::jsonb,
              ${e.sha256}, ${e.bytes}, ${e.eventCount})
      ON CONFLICT (shop, export_id) DO UPDATE
        SET sealed = EXCLUDED.sealed, sha256 = EXCLUDED.sha256, bytes = EXCLUDED.bytes, event_count = EXCLUDED.event_count`.pipe(Effect.asVoid)

  const readExport = (shop: string, exportId: string) =>
    Effect.map(
      sql<{ sealed: unknown }>`SELECT sealed FROM data_exports WHERE shop = ${shop} AND export_id::text = ${exportId}`,
      (rows) => rows.length === 0 ? Option.none<unknown>() : Option.some(rows[0]!.sealed)
    )

  const deleteCustomerData = (shop: string, customer: { readonly customerId: string; readonly orderIds: ReadonlyArray<string> }) =>
    Effect.gen(function*() {
      const cid = customer.customerId
      yield* sql`DELETE FROM data_exports WHERE shop = ${shop} AND customer_id = ${cid}`
      // Dead letters keep the raw message for operators: drop those about this customer (their
      // webhooks, their orders named by the request, their touchpoints and conversions).
      yield* sql`
        DELETE FROM dead_letters
         WHERE shop = ${shop}
           AND (message #>> '{payload,payload,customer,id}' = ${cid}
             OR (message #>> '{payload,topic}' LIKE 'customers/%' AND message #>> '{payload,payload,id}' = ${cid})
             OR (message #>> '{payload,topic}' LIKE 'orders/%' AND message #>> '{payload,payload,id}' = ANY(${customer.orderIds as Array<string>}::text[]))
             OR message #>> '{payload,customer_id}' = ${cid}
             OR message #>> '{payload,event,customer_id}' = ${cid})`
    })

  const deleteShopData = (shop: string) =>
    sql.withTransaction(Effect.forEach(SHOP_SIDE_TABLES, (table) => sql`DELETE FROM ${sql(table)} WHERE shop = ${shop}`, { discard: true }))

  return PrivacyStore.of({ eventsOfSubjects, saveExport, readExport, deleteCustomerData, deleteShopData })
})

export const layer: Layer.Layer<PrivacyStore, never, SqlClient.SqlClient> = Layer.effect(PrivacyStore, make)
