/**
 * Shopify's request signatures: base64 HMAC-SHA256 of the raw body with the app's client
 * secret (webhooks and Flow actions alike), compared in constant time. During a secret
 * rotation Shopify signs with either secret for up to an hour, so a previous secret is
 * accepted too.
 */
import { createHmac, timingSafeEqual } from "node:crypto"

export const signBody = (secret: string, body: Uint8Array | string): string =>
  createHmac("sha256", secret).update(body).digest("base64")

export const verifyHmac = (body: Uint8Array, header: string | undefined | null, secrets: ReadonlyArray<string>): boolean => {
  if (header === undefined || header === null || header.length === 0) return false
  const given = Buffer.from(header, "base64")
  let ok = false
  for (const secret of secrets) {
    const expected = Buffer.from(signBody(secret, body), "base64")
    // constant time per secret; evaluate every secret so timing doesn't reveal which matched
    if (given.length === expected.length && timingSafeEqual(given, expected)) ok = true
  }
  return ok
}
