/**
 * `ShopTokens` and `PiiVault` (src/secrets/Secrets.ts) on PostgreSQL, sealed by the key ring
 * (`adapters/crypto/KeyRing.ts`), plus `ShopCredentials` for the Shopify Admin adapter backed
 * by the stored tokens. Tables: `migrations/0008_secrets.ts`. Rotation: `PgKeyRotation.ts`.
 *
 * - Tokens are sealed with AAD `shop-token:<shop>`: a ciphertext copied to another shop's row
 *   fails authentication. Shop domains are case-insensitive hostnames, so they are stored
 *   lower-cased (like `ShopCredentials.fromRecord` looks them up).
 * - Crypto-shredding: one random 32-byte data key (DEK) per (shop, subject), wrapped by the
 *   key ring with AAD `data-key:<shop>:<subject>`. Values are JSON, sealed with the DEK under
 *   AAD `<shop>:<subject>` (shop domains never contain `:`, so the pair is unambiguous).
 *   `Sealed.data` is `<data key id>.<iv>.<ciphertext||tag>`. Deleting the DEK row (`shred`)
 *   makes every copy of the values unreadable, forever: `open` answers `None`, also when the
 *   subject has a newer key since.
 * - Unwrapped DEKs are cached in memory for a short time (default 30 s, bounded) so sealing
 *   on the ingest path costs no query while the key is cached, and a new subject's first seal
 *   one statement (measured sequentially on PostgreSQL 15 with fsync: 43,000–50,000 seals/s with
 *   the key cached, 2,000/s first seals; 24,000–25,000 and 1,140/s before keys were imported once
 *   and the first seal was one statement). `shred`/`shredShop` evict locally; **another
 *   process may keep using a cached key for at most the TTL** after a shred (it can still open
 *   old values, and values it seals meanwhile are sealed with the shredded key, i.e. shredded
 *   too once the cache expires).
 */
import { Clock, Duration, Effect, Layer, Option, Redacted } from "effect"
import { createHmac } from "node:crypto"
import { SqlClient } from "effect/sql"
import type { SqlError } from "effect/sql/SqlError"
import { type CipherKey, cipherKey, generateKey, KeyRing, openWithKey, parseSealed, sealWithKey, type UnknownKeyId } from "../crypto/KeyRing.ts"
import { ShopCredentials, ShopifyPermanentError, ShopifyUnavailable } from "../shopify/ShopifyAdmin.ts"
import { DecryptionFailed, PiiVault, type Sealed, SecretsUnavailable, ShopTokens, SubjectShredded } from "../../src/secrets/Secrets.ts"

const unavailable = (operation: string) => (error: SqlError | UnknownKeyId): SecretsUnavailable =>
  new SecretsUnavailable({ operation, message: error.message })

export const tokenAad = (shop: string): string => `shop-token:${shop}`
export const dataKeyAad = (shop: string, subject: string): string => `data-key:${shop}:${subject}`
const valueAad = (shop: string, subject: string): string => `${shop}:${subject}`
/** The subject of the shop's blind-index key (`PiiVault.blindIndex`); never shredded alone. */
const blindIndexSubject = "blind-index"

/**
 * The "key version" in a sealed value: an id derived from the data key itself (HMAC of a
 * constant, so it reveals nothing about the key). A subject that comes back after being
 * shredded gets a new key; values sealed under the destroyed one then name an id that no
 * longer exists, and open as `None` (shredded) rather than as a decryption failure.
 */
const dataKeyIds = new WeakMap<CipherKey, string>()
const dataKeyId = (key: CipherKey): string => {
  // computed once per key object: cached keys are sealed and opened with on every event
  let id = dataKeyIds.get(key)
  if (id === undefined) {
    id = createHmac("sha256", key).update("sumeru data key id").digest().subarray(0, 9).toString("base64url")
    dataKeyIds.set(key, id)
  }
  return id
}

const normalizeShop = (shop: string): string => shop.trim().toLowerCase()

// ------------------------------------------------------------------------- ShopTokens

interface TokenRow {
  readonly sealed: string
  readonly scopes: string
  readonly installed_at: Date
}

/** Shop tokens in `shop_tokens`, sealed under the ring's current key. */
export const makeShopTokens = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const ring = yield* KeyRing

  const save = Effect.fn("ShopTokens.save")(function*(shop: string, token: Redacted.Redacted<string>, scopes: string) {
    const domain = normalizeShop(shop)
    const sealed = yield* ring.seal(Buffer.from(Redacted.value(token), "utf8"), tokenAad(domain))
    // A re-install or a token exchange replaces the token; installed_at keeps the first install
    // (discard deletes the row, so an install after an uninstall starts afresh).
    yield* sql`
      INSERT INTO shop_tokens (shop, sealed, kid, scopes)
      VALUES (${domain}, ${sealed}, ${ring.currentKid}, ${scopes})
      ON CONFLICT (shop) DO UPDATE
        -- every save is an install (OAuth or token exchange): a late app/uninstalled that fired
        -- before it must not discard this token, and compares against installed_at
        SET sealed = excluded.sealed, kid = excluded.kid, scopes = excluded.scopes, installed_at = now(), updated_at = now()`.pipe(
      Effect.mapError(unavailable("ShopTokens.save"))
    )
  })

  const get = Effect.fn("ShopTokens.get")(function*(shop: string) {
    const domain = normalizeShop(shop)
    const rows = yield* sql<TokenRow>`SELECT sealed, scopes, installed_at FROM shop_tokens WHERE shop = ${domain}`.pipe(
      Effect.mapError(unavailable("ShopTokens.get"))
    )
    const row = rows[0]
    if (row === undefined) return Option.none()
    const plaintext = yield* ring.open(row.sealed, tokenAad(domain)).pipe(
      Effect.catchTag("UnknownKeyId", (e) => Effect.fail(unavailable("ShopTokens.get")(e)))
    )
    return Option.some({
      token: Redacted.make(Buffer.from(plaintext).toString("utf8")),
      scopes: row.scopes,
      installedAt: row.installed_at
    })
  })

  const discard = Effect.fn("ShopTokens.discard")(function*(shop: string) {
    yield* sql`DELETE FROM shop_tokens WHERE shop = ${normalizeShop(shop)}`.pipe(Effect.mapError(unavailable("ShopTokens.discard")))
  })

  return ShopTokens.of({ save, get, discard })
})

export const layerShopTokens: Layer.Layer<ShopTokens, never, SqlClient.SqlClient | KeyRing> = Layer.effect(ShopTokens, makeShopTokens)

// --------------------------------------------------------------------------- PiiVault

export interface PiiVaultOptions {
  /** How long an unwrapped data key stays in memory (default 30 seconds). */
  readonly cacheTtl?: Duration.Input
  /** At most this many data keys in memory; the least recently used go first (default 10,000). */
  readonly cacheCapacity?: number
}

/**
 * Unwrapped data keys by `shop \0 subject`. A Map iterates in insertion order and `get`
 * re-inserts, so the first entry is always the least recently used. Hand-written rather than
 * `effect/Cache` because entries must only be added after the transaction that read or
 * created the key commits (`afterCommit`): a key created in a transaction that rolls back
 * must never be used to seal anything.
 */
const makeDataKeyCache = (capacity: number, ttlMs: number) => {
  const entries = new Map<string, { readonly key: CipherKey; readonly expiresAt: number }>()
  return {
    get: (id: string, now: number): CipherKey | undefined => {
      const entry = entries.get(id)
      if (entry === undefined) return undefined
      entries.delete(id)
      if (entry.expiresAt <= now) return undefined
      entries.set(id, entry)
      return entry.key
    },
    set: (id: string, key: CipherKey, now: number): void => {
      if (capacity <= 0 || ttlMs <= 0) return
      entries.delete(id)
      entries.set(id, { key, expiresAt: now + ttlMs })
      for (const oldest of entries.keys()) {
        if (entries.size <= capacity) break
        entries.delete(oldest)
      }
    },
    evict: (id: string): void => {
      entries.delete(id)
    },
    evictWhere: (predicate: (id: string) => boolean): void => {
      for (const id of [...entries.keys()]) if (predicate(id)) entries.delete(id)
    }
  }
}

const cacheId = (shop: string, subject: string): string => `${shop}\u0000${subject}`

interface DataKeyRow {
  readonly wrapped: string
}

/** Data keys in `data_keys`, wrapped by the key ring; values sealed with AES-256-GCM. */
export const makePiiVault = (options: PiiVaultOptions = {}) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const ring = yield* KeyRing
    const cache = makeDataKeyCache(options.cacheCapacity ?? 10_000, Duration.toMillis(Duration.fromInputUnsafe(options.cacheTtl ?? "30 seconds")))
    // Bumped by every shred: a key read before a shred must not be cached after it.
    let shreds = 0

    /** Key bytes as a cipher key; the bytes are wiped once imported. */
    const imported = (bytes: Uint8Array): CipherKey => {
      const key = cipherKey(bytes)
      bytes.fill(0)
      return key
    }

    const remember = (shop: string, subject: string, key: CipherKey, shredsBefore: number) =>
      sql.afterCommit(Effect.gen(function*() {
        if (shreds !== shredsBefore) return
        cache.set(cacheId(shop, subject), key, yield* Clock.currentTimeMillis)
      }))

    /** A stored (wrapped) data key, unwrapped and cached once the transaction commits. */
    const unwrapStored = (shop: string, subject: string, wrapped: string, operation: string, shredsBefore: number) =>
      ring.open(wrapped, dataKeyAad(shop, subject)).pipe(
        Effect.map(imported),
        Effect.catchTag("UnknownKeyId", (e) => Effect.fail(unavailable(operation)(e))),
        Effect.tap((key) => remember(shop, subject, key, shredsBefore))
      )

    /** The subject's data key, when it exists. */
    const findKey = (shop: string, subject: string, operation: string) =>
      Effect.gen(function*() {
        const cached = cache.get(cacheId(shop, subject), yield* Clock.currentTimeMillis)
        if (cached !== undefined) return Option.some(cached)
        const shredsBefore = shreds
        const rows = yield* sql<DataKeyRow>`SELECT wrapped FROM data_keys WHERE shop = ${shop} AND subject = ${subject}`.pipe(
          Effect.mapError(unavailable(operation))
        )
        if (rows[0] === undefined) return Option.none<CipherKey>()
        return Option.some(yield* unwrapStored(shop, subject, rows[0].wrapped, operation, shredsBefore))
      })

    /**
     * The subject's data key, created on first use, in one statement: it reads the key, checks
     * the subject's tombstone and inserts a new key (generated and wrapped beforehand, in case)
     * where there is neither. Most subjects are sealed for the first time on the ingest path,
     * where three round trips per new customer were a third of a webhook's statements.
     * Race-safe: `ON CONFLICT DO NOTHING`, then whoever lost reads the winner's key back, so
     * concurrent first seals (in this process or any other) agree on one key.
     */
    const keyFor = (shop: string, subject: string) =>
      Effect.gen(function*() {
        const operation = "PiiVault.seal"
        // sealing cannot go on without the key: a stored key that does not open is an outage
        const undecryptable = (e: DecryptionFailed) => Effect.fail(new SecretsUnavailable({ operation, message: e.message }))
        const cached = cache.get(cacheId(shop, subject), yield* Clock.currentTimeMillis)
        if (cached !== undefined) return cached
        const shredsBefore = shreds
        const bytes = generateKey()
        const wrapped = yield* ring.seal(bytes, dataKeyAad(shop, subject))
        const fresh = imported(bytes)
        const rows = yield* sql<{ readonly existing: string | null; readonly shredded: boolean; readonly inserted: boolean }>`
          WITH existing AS (SELECT wrapped FROM data_keys WHERE shop = ${shop} AND subject = ${subject}),
               tombstone AS (SELECT 1 FROM shredded_subjects WHERE shop = ${shop} AND subject = ${subject}),
               inserted AS (
                 INSERT INTO data_keys (shop, subject, kid, wrapped)
                 SELECT ${shop}, ${subject}, ${ring.currentKid}, ${wrapped}
                  WHERE NOT EXISTS (SELECT 1 FROM existing) AND NOT EXISTS (SELECT 1 FROM tombstone)
                 ON CONFLICT (shop, subject) DO NOTHING
                 RETURNING 1)
          SELECT (SELECT wrapped FROM existing) AS existing,
                 EXISTS (SELECT 1 FROM tombstone) AS shredded,
                 EXISTS (SELECT 1 FROM inserted) AS inserted`.pipe(Effect.mapError(unavailable(operation)))
        const row = rows[0]!
        if (row.existing !== null) {
          return yield* unwrapStored(shop, subject, row.existing, operation, shredsBefore).pipe(Effect.catchTag("DecryptionFailed", undecryptable))
        }
        // Only a subject without a key can be a shredded one.
        if (row.shredded) return yield* new SubjectShredded({ subject })
        if (row.inserted) {
          yield* remember(shop, subject, fresh, shredsBefore)
          return fresh
        }
        // Another transaction inserted the subject's key since this statement's snapshot.
        const winner = yield* findKey(shop, subject, operation).pipe(Effect.catchTag("DecryptionFailed", undecryptable))
        if (Option.isNone(winner)) {
          return yield* new SecretsUnavailable({ operation, message: `The data key of ${subject} was shredded while being created; retry.` })
        }
        return winner.value
      })

    const seal = Effect.fn("PiiVault.seal")(function*(shop: string, subject: string, value: unknown) {
      const json = JSON.stringify(value)
      // A value JSON cannot represent is a programming error, not a condition to handle.
      if (json === undefined) return yield* Effect.die(new TypeError(`PiiVault.seal: ${typeof value} is not JSON`))
      const key = yield* keyFor(shop, subject)
      const data = sealWithKey(dataKeyId(key), key, Buffer.from(json, "utf8"), valueAad(shop, subject))
      const result: Sealed = { sealed: 1, subject, data }
      return result
    })

    const open = Effect.fn("PiiVault.open")(function*(shop: string, sealed: Sealed) {
      const key = yield* findKey(shop, sealed.subject, "PiiVault.open")
      if (Option.isNone(key)) return Option.none()
      const parsed = parseSealed(sealed.data)
      if (parsed === undefined) return yield* new DecryptionFailed({ message: `Not a sealed value of ${sealed.subject} (malformed ciphertext).` })
      // Sealed under an earlier key of this subject, since shredded.
      if (parsed.kid !== dataKeyId(key.value)) return Option.none()
      const plaintext = openWithKey(key.value, parsed, valueAad(shop, sealed.subject))
      if (plaintext === undefined) {
        return yield* new DecryptionFailed({ message: `A value sealed for ${sealed.subject} failed authentication (tampered, or sealed for another shop).` })
      }
      return Option.some<unknown>(JSON.parse(Buffer.from(plaintext).toString("utf8")))
    })

    const blindIndex = Effect.fn("PiiVault.blindIndex")(function*(shop: string, purpose: string, value: string) {
      // The index key is a data key like any other (wrapped by the key ring, cached, destroyed
      // with the shop), under a subject no sealed value uses.
      const key = yield* keyFor(shop, blindIndexSubject).pipe(
        Effect.catchTag("SubjectShredded", () =>
          Effect.fail(new SecretsUnavailable({ operation: "PiiVault.blindIndex", message: "the shop's index key was shredded" })))
      )
      return createHmac("sha256", key).update(`${purpose}\u0000${value}`).digest().subarray(0, 16).toString("base64url")
    })

    const shred = Effect.fn("PiiVault.shred")(function*(shop: string, subject: string) {
      shreds++
      cache.evict(cacheId(shop, subject))
      yield* sql`
        WITH gone AS (DELETE FROM data_keys WHERE shop = ${shop} AND subject = ${subject})
        INSERT INTO shredded_subjects (shop, subject) VALUES (${shop}, ${subject}) ON CONFLICT DO NOTHING`.pipe(
        Effect.mapError(unavailable("PiiVault.shred"))
      )
    })

    const shredShop = Effect.fn("PiiVault.shredShop")(function*(shop: string) {
      shreds++
      const prefix = cacheId(shop, "")
      cache.evictWhere((id) => id.startsWith(prefix))
      yield* sql`
        WITH gone AS (DELETE FROM data_keys WHERE shop = ${shop})
        DELETE FROM shredded_subjects WHERE shop = ${shop}`.pipe(Effect.mapError(unavailable("PiiVault.shredShop")))
    })

    return PiiVault.of({ seal, open, blindIndex, shred, shredShop })
  })

export const layerPiiVault = (options?: PiiVaultOptions): Layer.Layer<PiiVault, never, SqlClient.SqlClient | KeyRing> =>
  Layer.effect(PiiVault, makePiiVault(options))

/** `ShopTokens` + `PiiVault` on the process's database and key ring. */
export const layer = (options?: PiiVaultOptions): Layer.Layer<ShopTokens | PiiVault, never, SqlClient.SqlClient | KeyRing> =>
  Layer.merge(layerShopTokens, layerPiiVault(options))

// -------------------------------------------------------------------- ShopCredentials

/**
 * `ShopCredentials` for the Admin adapter: the token stored by the install, else `fallback`
 * (the `SHOPIFY_SHOP_TOKENS` stopgap, for shops installed before tokens were stored); a shop
 * with neither fails `NOT_INSTALLED`, exactly like `ShopCredentials.fromRecord`. A database or
 * key problem is transient (`ShopifyUnavailable`); a token that fails authentication is not.
 */
export const layerShopCredentials = (
  fallback: Readonly<Record<string, string | Redacted.Redacted<string>>> = {}
): Layer.Layer<ShopCredentials, never, ShopTokens> =>
  Layer.effect(ShopCredentials, Effect.gen(function*() {
    const tokens = yield* ShopTokens
    const fallbackTokens = new Map(
      Object.entries(fallback).map(([shop, token]) => [normalizeShop(shop), Redacted.isRedacted(token) ? token : Redacted.make(token)] as const)
    )
    return ShopCredentials.of({
      get: (shop) =>
        tokens.get(shop).pipe(
          Effect.catchTags({
            SecretsUnavailable: (e) => Effect.fail(new ShopifyUnavailable({ shop, operation: "credentials", message: e.message })),
            DecryptionFailed: (e) =>
              Effect.fail(new ShopifyPermanentError({ shop, operation: "credentials", code: "TOKEN_UNREADABLE", message: e.message }))
          }),
          Effect.flatMap((stored) => {
            if (Option.isSome(stored)) return Effect.succeed({ accessToken: stored.value.token })
            const token = fallbackTokens.get(normalizeShop(shop))
            return token === undefined
              ? Effect.fail(new ShopifyPermanentError({ shop, operation: "credentials", code: "NOT_INSTALLED", message: `No access token for ${shop}.` }))
              : Effect.succeed({ accessToken: token })
          })
        )
    })
  }))
