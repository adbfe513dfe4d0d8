/**
 * Metafield types a bulk job may write, and the check of a value against its
 * type (SHOPIFY.md §8). Pure: used by Flow-action validation and by the
 * Shopify simulator to reject what real Shopify would reject.
 *
 * Supported types: the seed's four (`single_line_text_field`, `boolean`,
 * `number_integer`, `json`) plus two extras whose rules are simple and fully
 * specified in SHOPIFY.md §8: `multi_line_text_field` and `number_decimal`.
 * Types with shop-dependent or reference semantics (money, references, dates,
 * lists…) are deliberately not accepted.
 */
import { Result, Schema } from "effect"

/** Every metafield type a job may set, in a stable order. */
export const METAFIELD_TYPES = [
  "single_line_text_field",
  "multi_line_text_field",
  "boolean",
  "number_integer",
  "number_decimal",
  "json"
] as const

/** Schema of a supported metafield type name. */
export const MetafieldType = Schema.Literals(METAFIELD_TYPES)
export type MetafieldType = typeof MetafieldType.Type

/** Type guard for a supported metafield type name. */
export const isMetafieldType: (u: unknown) => u is MetafieldType = Schema.is(MetafieldType)

/** Largest magnitude of a `number_integer` value: ±9,007,199,254,740,991 (2^53 − 1). */
export const MAX_INTEGER_MAGNITUDE = 9_007_199_254_740_991n

/** Largest integer part of a `number_decimal` value (±9,999,999,999,999.999999999). */
export const MAX_DECIMAL_INTEGER_PART = 9_999_999_999_999n

/** Most digits after the decimal point of a `number_decimal` value. */
export const MAX_DECIMAL_PLACES = 9

/** Why a value does not fit its metafield type. */
export const MetafieldValueIssueCode = Schema.Literals([
  "blank",
  "contains_newline",
  "invalid_boolean",
  "invalid_integer",
  "integer_out_of_range",
  "invalid_decimal",
  "too_many_decimal_places",
  "decimal_out_of_range",
  "invalid_json"
])
export type MetafieldValueIssueCode = typeof MetafieldValueIssueCode.Type

export interface MetafieldValueIssue {
  readonly code: MetafieldValueIssueCode
  readonly message: string
}

const INTEGER = /^-?\d+$/
const DECIMAL = /^-?(\d+)(?:\.(\d+))?$/

const issue = (code: MetafieldValueIssueCode, message: string): Result.Result<string, MetafieldValueIssue> =>
  Result.fail({ code, message })

/**
 * Checks `value` (always a string on the wire) against `type`, with Shopify's
 * rules. Success returns the value unchanged: Shopify stores exactly what it is
 * sent, so nothing is normalised here.
 *
 * - every type: the value must not be empty (Shopify answers `BLANK`);
 * - `single_line_text_field`: no `\n` or `\r`;
 * - `boolean`: exactly `"true"` or `"false"`;
 * - `number_integer`: optional `-`, digits only (no `+`, exponent, spaces or
 *   decimal point), magnitude ≤ 9,007,199,254,740,991 — compared as BigInt, so
 *   values beyond 2^53 are not rounded into range;
 * - `number_decimal`: optional `-`, digits, optional `.` followed by 1–9 digits,
 *   integer part ≤ 9,999,999,999,999;
 * - `json`: any value `JSON.parse` accepts.
 */
export const validateMetafieldValue = (
  type: MetafieldType,
  value: string
): Result.Result<string, MetafieldValueIssue> => {
  if (value.length === 0) return issue("blank", "must not be empty")
  switch (type) {
    case "single_line_text_field":
      return /[\r\n]/.test(value)
        ? issue("contains_newline", "a single_line_text_field value must not contain line breaks")
        : Result.succeed(value)
    case "multi_line_text_field":
      return Result.succeed(value)
    case "boolean":
      return value === "true" || value === "false"
        ? Result.succeed(value)
        : issue("invalid_boolean", "a boolean value must be \"true\" or \"false\"")
    case "number_integer": {
      if (!INTEGER.test(value)) {
        return issue("invalid_integer", "a number_integer value must be a whole number without decimals, e.g. \"42\"")
      }
      const n = BigInt(value)
      return (n < 0n ? -n : n) > MAX_INTEGER_MAGNITUDE
        ? issue("integer_out_of_range", "a number_integer value must be between -9,007,199,254,740,991 and 9,007,199,254,740,991")
        : Result.succeed(value)
    }
    case "number_decimal": {
      const match = DECIMAL.exec(value)
      if (match === null) {
        return issue("invalid_decimal", "a number_decimal value must be a decimal number such as \"12.50\"")
      }
      const integerPart = match[1] ?? "0"
      const fraction = match[2] ?? ""
      if (fraction.length > MAX_DECIMAL_PLACES) {
        return issue("too_many_decimal_places", "a number_decimal value may have at most 9 decimal places")
      }
      return BigInt(integerPart) > MAX_DECIMAL_INTEGER_PART
        ? issue(
          "decimal_out_of_range",
          "a number_decimal value must be between -9,999,999,999,999.999999999 and 9,999,999,999,999.999999999"
        )
        : Result.succeed(value)
    }
    case "json":
      try {
        JSON.parse(value)
        return Result.succeed(value)
      } catch {
        return issue("invalid_json", "a json value must be valid JSON")
      }
  }
}
