/**
 * The merchant's side of `customers/data_request` (Shopify's compliance webhook): the exports
 * the shop actor produced (`src/privacy/Compliance.ts`), to hand to the customer.
 * - `GET /app/privacy/exports`: the shop's exports, newest first (ids, sizes, hashes; no data);
 * - `GET /app/privacy/exports/:id`: one export, opened, as a JSON download.
 *
 * Both need `privacy:read`. The row is read as the tenant (row-level security: another shop's
 * export is a 404, like one that does not exist); it is then opened with the customer's data
 * key, which only the owner role can read. A redacted customer's exports are deleted, and
 * their key is gone anyway: 404.
 */
import { Effect, Option, Schema } from "effect"
import { SqlClient } from "effect/sql"
import type { Hono } from "hono"
import { Sealed } from "../../src/secrets/Secrets.ts"
import type { PiiVault } from "../../src/secrets/Secrets.ts"
import { asTenant } from "../postgres/Tenancy.ts"
import { type AdminGuard, mountAdminRoute, requireShop, ResourceNotFound, runAdminEffect, type RunSqlEffect, Unavailable } from "./AdminAuth.ts"
import { AdminRoutes } from "./AdminRouteCatalog.ts"

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
const isSealed = Schema.is(Sealed)

interface ExportRow {
  export_id: string
  customer_id: string
  data_request_id: string | null
  bytes: number
  event_count: number
  sha256: string
  created_at: Date
}

const listExports = (shop: string) =>
  asTenant(shop, Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql<ExportRow>`
      SELECT export_id::text, customer_id, data_request_id, bytes, event_count, sha256, created_at
        FROM data_exports WHERE shop = ${shop} ORDER BY created_at DESC, export_id LIMIT 500`))

const readExport = (shop: string, id: string, vault: PiiVault["Service"]) =>
  Effect.gen(function*() {
    const notFound = new ResourceNotFound({ resource: "export", id })
    if (!UUID.test(id)) return yield* notFound
    const rows = yield* asTenant(shop, Effect.flatMap(SqlClient.SqlClient, (sql) =>
      sql<{ sealed: unknown }>`SELECT sealed FROM data_exports WHERE shop = ${shop} AND export_id = ${id}::uuid`))
    const sealed = rows[0]?.sealed
    if (sealed === undefined || !isSealed(sealed)) return yield* notFound
    const opened = yield* vault.open(shop, sealed).pipe(
      Effect.catchTags({
        SecretsUnavailable: () => Effect.fail(new Unavailable({ what: "the key store" })),
        DecryptionFailed: () => Effect.succeed(Option.none())
      })
    )
    if (Option.isNone(opened)) return yield* notFound
    return opened.value
  })

export const mountAdminPrivacyRoutes = (app: Hono, run: RunSqlEffect, guard: AdminGuard, vault: PiiVault["Service"]): void => {
  mountAdminRoute(app, guard, AdminRoutes.listExports, (c) => {
    const shop = requireShop(c)
    return runAdminEffect(run, c, listExports(shop), (rows) =>
      c.json({
        exports: rows.map((r) => ({
          export_id: r.export_id,
          customer_id: r.customer_id,
          data_request_id: r.data_request_id,
          bytes: r.bytes,
          event_count: r.event_count,
          sha256: r.sha256,
          created_at: new Date(r.created_at).toISOString()
        }))
      }))
  })

  mountAdminRoute(app, guard, AdminRoutes.getExport, (c) => {
    const shop = requireShop(c)
    const id = c.req.param("id") ?? ""
    return runAdminEffect(run, c, readExport(shop, id, vault), (document) => {
      c.header("Content-Disposition", `attachment; filename="customer-data-${id}.json"`)
      return c.json(document as object)
    })
  })
}
