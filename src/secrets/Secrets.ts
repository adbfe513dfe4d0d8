/**
 * Secrets at rest (invariant 7): Shopify access tokens and the data keys that seal personal
 * data. Ports only; the PostgreSQL + AES-256-GCM implementation lives in
 * `adapters/postgres/PgSecrets.ts` and `adapters/crypto/KeyRing.ts`.
 *
 * - `ShopTokens`: the offline access token of each installed shop, encrypted with the key
 *   ring's current key (the key id is stored with it, so rotation can re-encrypt row by row
 *   while readers keep decrypting old rows). Tokens travel as `Redacted` and never reach a
 *   log line or an event.
 * - `PiiVault`: crypto-shredding. Personal data inside immutable events is sealed with a data
 *   key per subject (`shop` for shop-wide data, `customer:<id>` for one customer). Destroying
 *   the subject's key (`shred`) makes every copy unreadable while the events stay immutable.
 */
import { Context, Schema } from "effect"
import type { Effect, Option, Redacted } from "effect"

/** The key ring or the secret tables could not be used (database down, key id unknown). */
export class SecretsUnavailable extends Schema.TaggedError<SecretsUnavailable>()("SecretsUnavailable", {
  operation: Schema.String,
  message: Schema.String
}) {}

/** A ciphertext failed authentication (tampered, or sealed for another shop/subject). */
export class DecryptionFailed extends Schema.TaggedError<DecryptionFailed>()("DecryptionFailed", {
  message: Schema.String
}) {}

/** The subject's data key was shredded (its data was redacted): nothing new is sealed for it. */
export class SubjectShredded extends Schema.TaggedError<SubjectShredded>()("SubjectShredded", {
  subject: Schema.String
}) {}

export interface StoredShopToken {
  readonly token: Redacted.Redacted<string>
  readonly scopes: string
  readonly installedAt: Date
}

export class ShopTokens extends Context.Service<ShopTokens, {
  /**
   * Stores (or replaces) the shop's offline token, encrypted under the current key. Every save
   * is an install: `installedAt` becomes now.
   */
  readonly save: (shop: string, token: Redacted.Redacted<string>, scopes: string) => Effect.Effect<void, SecretsUnavailable>
  readonly get: (shop: string) => Effect.Effect<Option.Option<StoredShopToken>, SecretsUnavailable | DecryptionFailed>
  /** Forgets the token (app uninstalled, shop redacted). Idempotent. */
  readonly discard: (shop: string) => Effect.Effect<void, SecretsUnavailable>
}>()("sumeru/secrets/ShopTokens") {}

/**
 * A sealed value as it is stored inside an event's data: which subject's key sealed it, and
 * the ciphertext (`<keyVersion>.<iv>.<ciphertext+tag>`, base64url). Nothing else about the
 * value is visible.
 */
export const Sealed = Schema.Struct({
  sealed: Schema.Literal(1),
  subject: Schema.String,
  data: Schema.String
})
export type Sealed = typeof Sealed.Type

export const shopSubject = "shop"
export const customerSubject = (customerId: string): string => `customer:${customerId}`

export class PiiVault extends Context.Service<PiiVault, {
  /**
   * Seals `value` (any JSON) under the subject's data key, creating the key on first use;
   * `SubjectShredded` once the subject was shredded (a late delivery about a redacted customer).
   */
  readonly seal: (shop: string, subject: string, value: unknown) => Effect.Effect<Sealed, SecretsUnavailable | SubjectShredded>
  /** Opens a sealed value; `None` once the subject's key has been shredded. */
  readonly open: (shop: string, sealed: Sealed) => Effect.Effect<Option.Option<unknown>, SecretsUnavailable | DecryptionFailed>
  /**
   * A blind index of `value` for `purpose`: HMAC-SHA256 under the shop's index key (a data key
   * of its own, destroyed by `shredShop`), base64url. Equal values give equal indexes within a
   * shop and purpose; nothing about the value can be read from it without the key.
   */
  readonly blindIndex: (shop: string, purpose: string, value: string) => Effect.Effect<string, SecretsUnavailable>
  /** Destroys one subject's data key and keeps a tombstone, so it gets no new one (customers/redact). Idempotent. */
  readonly shred: (shop: string, subject: string) => Effect.Effect<void, SecretsUnavailable>
  /** Destroys every data key of the shop, and its tombstones (shop/redact). Idempotent. */
  readonly shredShop: (shop: string) => Effect.Effect<void, SecretsUnavailable>
}>()("sumeru/secrets/PiiVault") {}
