/**
 * How a sealed value sits inside an event's data (crypto-shredding): which subject's data key
 * sealed it and the ciphertext, nothing else about the value. The vault that seals and opens
 * it is `PiiVault` (`src/secrets/Secrets.ts`, whose `Sealed` is this same shape).
 *
 * Event schemas describe a sealed part as {@link SealedValue}, or {@link SealedOrShredded}
 * where the appender keeps nothing because the subject had already been shredded (a late
 * delivery about a customer who asked to be forgotten).
 */
import { Schema } from "effect"

/** `{ sealed: 1, subject, data }`: `data` is `<keyVersion>.<iv>.<ciphertext+tag>` (base64url). */
export const SealedValue = Schema.Struct({
  sealed: Schema.Literal(1),
  subject: Schema.String,
  data: Schema.String
})
export type SealedValue = typeof SealedValue.Type

/** A sealed value, or `null`: nothing was kept because its subject had been shredded. */
export const SealedOrShredded = Schema.NullOr(SealedValue)
export type SealedOrShredded = typeof SealedOrShredded.Type
