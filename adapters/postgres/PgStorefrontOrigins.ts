/**
 * The pixel's CORS allow-list (`storefront_origins`, migrations/0009_api_keys.ts): the
 * shop's custom storefront domains. `https://<shop>` is always allowed and never stored.
 * Every query acts for one shop under row-level security.
 */
import { Effect, Schema } from "effect"
import { SqlClient } from "effect/sql"
import { normalizeOrigin, shopOrigin } from "../../domain/ingest/StorefrontOrigins.ts"
import { asTenant } from "./Tenancy.ts"

export class InvalidOrigin extends Schema.TaggedError<InvalidOrigin>()("InvalidOrigin", {
  message: Schema.String
}) {}

/** Every origin allowed to send the shop's touchpoints: its own first, then the registered ones. */
export const allowedOrigins = (shop: string) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const rows = yield* asTenant(shop, sql<{ origin: string }>`SELECT origin FROM storefront_origins WHERE shop = ${shop} ORDER BY origin`)
    return [shopOrigin(shop), ...rows.map((r) => r.origin)] as ReadonlyArray<string>
  })

/** Registers a custom storefront origin (`https://shop.example.com`); idempotent. Returns it canonical. */
export const addOrigin = (shop: string, origin: string) =>
  Effect.gen(function*() {
    const canonical = normalizeOrigin(origin)
    if (canonical === undefined) {
      return yield* new InvalidOrigin({ message: `${JSON.stringify(origin)} is not an origin such as https://shop.example.com (no path, query or credentials)` })
    }
    const sql = yield* SqlClient.SqlClient
    yield* asTenant(shop, sql`INSERT INTO storefront_origins (shop, origin) VALUES (${shop}, ${canonical}) ON CONFLICT DO NOTHING`)
    return canonical
  })

/** Removes a registered origin; false when it was not registered. */
export const removeOrigin = (shop: string, origin: string) =>
  Effect.gen(function*() {
    const canonical = normalizeOrigin(origin) ?? origin
    const sql = yield* SqlClient.SqlClient
    const rows = yield* asTenant(shop, sql<{ origin: string }>`
      DELETE FROM storefront_origins WHERE shop = ${shop} AND origin = ${canonical} RETURNING origin`)
    return rows.length > 0
  })
