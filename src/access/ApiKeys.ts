/**
 * Per-shop API keys (port): for the public ingest API (`POST /api/v1/events`, scope
 * `events:write`) and for operators using the CLI/admin API (a role and/or permission scopes).
 * Keys are shown once at creation; only a SHA-256 hash is stored (they are 256-bit random, so
 * a slow hash buys nothing). Revoked keys stop working at once. The PostgreSQL
 * implementation lives in `adapters/postgres/PgApiKeys.ts`.
 */
import { Context, Schema } from "effect"
import type { Effect, Option } from "effect"
import type { SqlError } from "effect/sql/SqlError"

export interface ApiKeyPrincipal {
  readonly keyId: string
  readonly shop: string
  readonly name: string
  /** Permissions (`resource:action`) granted directly, e.g. `events:write`. */
  readonly scopes: ReadonlyArray<string>
  /** An admin role (owner, admin, operator, analyst, viewer) for operator keys, if any. */
  readonly role: string | null
}

export interface CreatedApiKey {
  readonly keyId: string
  /** The secret, shown once: `sk_<keyId>_<secret>`. */
  readonly key: string
}

export interface ApiKeySummary {
  readonly keyId: string
  readonly shop: string
  readonly name: string
  readonly scopes: ReadonlyArray<string>
  readonly role: string | null
  readonly createdAt: Date
  readonly revokedAt: Date | null
  readonly lastUsedAt: Date | null
}

export class InvalidApiKeyRequest extends Schema.TaggedError<InvalidApiKeyRequest>()("InvalidApiKeyRequest", {
  message: Schema.String
}) {}

export class ApiKeys extends Context.Service<ApiKeys, {
  readonly create: (input: {
    readonly shop: string
    readonly name: string
    readonly scopes: ReadonlyArray<string>
    readonly role?: string | null | undefined
  }) => Effect.Effect<CreatedApiKey, InvalidApiKeyRequest | SqlError>
  /** The key's principal, or `None` for an unknown, malformed or revoked key. */
  readonly verify: (key: string) => Effect.Effect<Option.Option<ApiKeyPrincipal>, SqlError>
  /** Revokes a key of the shop; false when the shop has no such key. */
  readonly revoke: (shop: string, keyId: string) => Effect.Effect<boolean, SqlError>
  readonly list: (shop: string) => Effect.Effect<ReadonlyArray<ApiKeySummary>, SqlError>
}>()("sumeru/access/ApiKeys") {}
