/**
 * JSON parsing that keeps Shopify's numeric ids exact. Webhook payloads are REST-shaped with
 * numeric `id`s, and ids above 2^53 would silently lose digits through `JSON.parse`. The
 * reviver sees each number's source text (JSON.parse source text access, V8 ≥ 11.4, Node
 * ≥ 21): an integer that is not a safe JavaScript integer is kept as its exact decimal
 * string. Everything else parses as usual, so a payload is still plain JSON afterwards.
 */
type Reviver = (this: unknown, key: string, value: unknown, context?: { readonly source?: string }) => unknown

const INTEGER = /^-?\d+$/

const keepLargeIntegers: Reviver = (_key, value, context) =>
  typeof value === "number" && !Number.isSafeInteger(value) && context?.source !== undefined && INTEGER.test(context.source)
    ? context.source
    : value

/** Whether a parsed value holds an integer-valued number beyond ±(2^53 − 1) (possibly rounded). */
const hasUnsafeInteger = (value: unknown): boolean => {
  if (typeof value === "number") return Number.isInteger(value) && !Number.isSafeInteger(value)
  if (typeof value !== "object" || value === null) return false
  if (Array.isArray(value)) return value.some(hasUnsafeInteger)
  for (const key in value) if (hasUnsafeInteger((value as Record<string, unknown>)[key])) return true
  return false
}

/**
 * Parses JSON text; integers beyond ±(2^53 − 1) become exact decimal strings. Throws like `JSON.parse`.
 * A reviver makes JSON.parse ~5× slower, so it runs only when a plain parse shows an unsafe
 * integer (every integer the reviver would keep as text parses to one).
 */
export const parseJsonLossless = (text: string): unknown => {
  const plain: unknown = JSON.parse(text)
  return hasUnsafeInteger(plain) ? JSON.parse(text, keepLargeIntegers as (this: unknown, key: string, value: unknown) => unknown) : plain
}

/**
 * A Shopify id as an exact decimal string: numbers (safe integers, as parsed above) and
 * strings of digits are accepted; anything else is `undefined`.
 */
export const shopifyId = (value: unknown): string | undefined => {
  if (typeof value === "number" && Number.isSafeInteger(value) && value >= 0) return String(value)
  if (typeof value === "string" && /^\d{1,30}$/.test(value)) return value
  return undefined
}
