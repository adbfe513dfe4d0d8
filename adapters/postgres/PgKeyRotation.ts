/**
 * Key rotation without downtime (invariant 7): re-encrypts every `shop_tokens` row and
 * re-wraps every `data_keys` row sealed under a key other than the ring's current one.
 *
 * Readers keep working throughout: every row names its key and the ring holds old and new
 * keys. Each batch (default 500 rows) is one `UPDATE … WHERE <key> AND kid = <old> AND
 * sealed = <what was read>`: a compare-and-set, so a row re-saved meanwhile (by a process
 * already on the new key, or one still on the old key with a newer token) is never
 * overwritten with a stale value, and a row shredded meanwhile is not resurrected. Such rows
 * are counted as `skipped`; any still under an old key afterwards are counted in `remaining`
 * (run the rotation again once every process uses the new key).
 *
 * Only the wrapping of data keys changes: the data keys themselves, and so every value sealed
 * in events, stay as they are.
 *
 * Distributed procedure: add the new key to `SUMERU_ENCRYPTION_KEYS` and deploy (everyone can
 * decrypt it); set `SUMERU_ENCRYPTION_KEY_ID` to it and deploy (everyone seals with it); run
 * `sumeru keys rotate`; check `sumeru keys status` shows no row under the old key; then remove
 * the old key and deploy.
 */
import { Effect, Result, Schema } from "effect"
import { SqlClient } from "effect/sql"
import type { SqlError } from "effect/sql/SqlError"
import { KeyRing } from "../crypto/KeyRing.ts"
import { dataKeyAad, tokenAad } from "./PgSecrets.ts"

/** Rows are sealed under keys the ring does not hold: rotating would strand them. */
export class KeysMissingFromRing extends Schema.TaggedError<KeysMissingFromRing>()("KeysMissingFromRing", {
  kids: Schema.Array(Schema.String),
  message: Schema.String
}) {}

export interface KeyUsage {
  readonly kid: string
  readonly tokens: number
  readonly dataKeys: number
}

/** Rows per key id, for `sumeru keys status` and the rotation's safety check. */
export const keyUsage: Effect.Effect<ReadonlyArray<KeyUsage>, SqlError, SqlClient.SqlClient> = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const rows = yield* sql<{ kid: string; tokens: number; data_keys: number }>`
    SELECT kid, sum(tokens)::int AS tokens, sum(data_keys)::int AS data_keys FROM (
      SELECT kid, count(*) AS tokens, 0 AS data_keys FROM shop_tokens GROUP BY kid
      UNION ALL
      SELECT kid, 0 AS tokens, count(*) AS data_keys FROM data_keys GROUP BY kid
    ) per_table
    GROUP BY kid ORDER BY kid`
  return rows.map((r) => ({ kid: r.kid, tokens: r.tokens, dataKeys: r.data_keys }))
})

/** A row that could not be decrypted (tampered, or its AAD no longer matches): left as it is. */
export interface RotationFailure {
  readonly table: "shop_tokens" | "data_keys"
  readonly shop: string
  readonly subject?: string
  readonly kid: string
  readonly message: string
}

export interface RotationReport {
  readonly currentKid: string
  /** Shop tokens re-encrypted under the current key. */
  readonly tokens: number
  /** Data keys re-wrapped under the current key. */
  readonly dataKeys: number
  /** Rows changed or deleted by someone else between read and update (left to the writer). */
  readonly skipped: number
  /** Rows still under another key after the pass (written under an old key meanwhile, or failed). */
  readonly remaining: number
  readonly failed: ReadonlyArray<RotationFailure>
}

export interface RotateOptions {
  readonly batchSize?: number
}

/** Re-encrypts everything still under an old key; see the module comment for the guarantees. */
export const rotateKeys = Effect.fn("rotateKeys")(function*(options: RotateOptions = {}) {
  const sql = yield* SqlClient.SqlClient
  const ring = yield* KeyRing
  const batchSize = Math.max(1, options.batchSize ?? 500)
  const current = ring.currentKid

  const usage = yield* keyUsage
  const missing = usage.map((u) => u.kid).filter((kid) => !ring.kids.includes(kid))
  if (missing.length > 0) {
    return yield* new KeysMissingFromRing({
      kids: missing,
      message: `Rows are sealed under keys missing from the key ring (${ring.source}): ${missing.join(", ")}. Add them back before rotating.`
    })
  }

  let tokens = 0
  let dataKeys = 0
  let skipped = 0
  const failed: Array<RotationFailure> = []

  /** Opens `sealed` with `aad` and seals it again under the current key; `undefined` (recorded) when it does not open. */
  const reseal = (sealed: string, aad: string, failure: Omit<RotationFailure, "message">) =>
    Effect.gen(function*() {
      const opened = yield* Effect.result(ring.open(sealed, aad))
      if (Result.isFailure(opened)) {
        failed.push({ ...failure, message: opened.failure.message })
        return undefined
      }
      return yield* ring.seal(opened.success, aad)
    })

  for (const old of usage.map((u) => u.kid).filter((kid) => kid !== current)) {
    let after: string | null = null
    while (true) {
      const rows: ReadonlyArray<{ shop: string; sealed: string }> = yield* sql<{ shop: string; sealed: string }>`
        SELECT shop, sealed FROM shop_tokens
         WHERE kid = ${old} AND (${after}::text IS NULL OR shop > ${after}::text)
         ORDER BY shop LIMIT ${batchSize}`
      if (rows.length === 0) break
      after = rows[rows.length - 1]!.shop
      const updates: Array<{ shop: string; old: string; sealed: string }> = []
      for (const row of rows) {
        const sealed = yield* reseal(row.sealed, tokenAad(row.shop), { table: "shop_tokens", shop: row.shop, kid: old })
        if (sealed !== undefined) updates.push({ shop: row.shop, old: row.sealed, sealed })
      }
      if (updates.length > 0) {
        const done = yield* sql<{ shop: string }>`
          UPDATE shop_tokens AS t SET sealed = u.sealed, kid = ${current}
            FROM jsonb_to_recordset(${JSON.stringify(updates)}::jsonb) AS u(shop text, old text, sealed text)
           WHERE t.shop = u.shop AND t.kid = ${old} AND t.sealed = u.old
          RETURNING t.shop`
        tokens += done.length
        skipped += updates.length - done.length
      }
      yield* Effect.logDebug(`rotated ${tokens} shop tokens so far`)
      if (rows.length < batchSize) break
    }

    let afterKey: { shop: string; subject: string } | null = null
    while (true) {
      const afterShop: string | null = afterKey?.shop ?? null
      const afterSubject: string | null = afterKey?.subject ?? null
      const rows: ReadonlyArray<{ shop: string; subject: string; wrapped: string }> = yield* sql<{ shop: string; subject: string; wrapped: string }>`
        SELECT shop, subject, wrapped FROM data_keys
         WHERE kid = ${old} AND (${afterShop}::text IS NULL OR (shop, subject) > (${afterShop}::text, ${afterSubject}::text))
         ORDER BY shop, subject LIMIT ${batchSize}`
      if (rows.length === 0) break
      const last = rows[rows.length - 1]!
      afterKey = { shop: last.shop, subject: last.subject }
      const updates: Array<{ shop: string; subject: string; old: string; wrapped: string }> = []
      for (const row of rows) {
        const wrapped = yield* reseal(row.wrapped, dataKeyAad(row.shop, row.subject), { table: "data_keys", shop: row.shop, subject: row.subject, kid: old })
        if (wrapped !== undefined) updates.push({ shop: row.shop, subject: row.subject, old: row.wrapped, wrapped })
      }
      if (updates.length > 0) {
        const done = yield* sql<{ shop: string }>`
          UPDATE data_keys AS d SET wrapped = u.wrapped, kid = ${current}
            FROM jsonb_to_recordset(${JSON.stringify(updates)}::jsonb) AS u(shop text, subject text, old text, wrapped text)
           WHERE d.shop = u.shop AND d.subject = u.subject AND d.kid = ${old} AND d.wrapped = u.old
          RETURNING d.shop`
        dataKeys += done.length
        skipped += updates.length - done.length
      }
      yield* Effect.logDebug(`rotated ${dataKeys} data keys so far`)
      if (rows.length < batchSize) break
    }
  }

  const left = yield* sql<{ n: number }>`
    SELECT ((SELECT count(*) FROM shop_tokens WHERE kid <> ${current}) + (SELECT count(*) FROM data_keys WHERE kid <> ${current}))::int AS n`
  const report: RotationReport = { currentKid: current, tokens, dataKeys, skipped, remaining: left[0]!.n, failed }
  return report
})
