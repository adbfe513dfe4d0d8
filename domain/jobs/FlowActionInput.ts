/**
 * Validation of the bulk-metafield Flow action request (seed 002 "API
 * Contracts" + SHOPIFY.md §7).
 *
 * Two body shapes are accepted:
 * - the seed's flat body `{ query_string, namespace, key, type, value,
 *   dry_run?, max_items? }` (API / CLI callers; the shop comes from the
 *   `X-Shopify-Shop-Domain` header, so `shopDomain` is `null` here);
 * - Shopify Flow's envelope `{ shop_id, shopify_domain, action_run_id,
 *   action_definition_id?, handle, properties: { …same fields… } }`, in which
 *   Flow sends every property as a string (`"dry_run": "true"`,
 *   `"max_items": "5000"`). Errors about properties are reported under
 *   `properties.<name>`.
 *
 * Every field is checked independently and every failed rule is reported
 * (a field can fail several rules at once, e.g. too long and bad characters);
 * the value-against-type check runs when both `type` and `value` are
 * individually valid. Unknown keys are ignored (Flow adds its own, such as
 * `step_reference`).
 *
 * Normalisation: `query_string` is trimmed; `dry_run` accepts `true`/`false`
 * or `"true"`/`"false"`; `max_items` accepts a number or a numeric string;
 * an optional field that is absent, `null` or `""` (Flow sends `""` for an
 * empty optional field) takes its default. `namespace`, `key`, `type` and
 * `value` are never rewritten: what is validated is what gets written.
 */
import { Predicate, Result, Schema, SchemaGetter, SchemaIssue } from "effect"
import {
  DRY_RUN_DEFAULT,
  IDENTIFIER_PATTERN,
  KEY_MAX_LENGTH,
  KEY_MIN_LENGTH,
  MAX_ITEMS_DEFAULT,
  MAX_ITEMS_MAX,
  MAX_ITEMS_MIN,
  NAMESPACE_MAX_LENGTH,
  NAMESPACE_MIN_LENGTH,
  QUERY_STRING_MAX_LENGTH,
  VALUE_MAX_BYTES
} from "./JobParameters.ts"
import type { JobParameters } from "./JobParameters.ts"
import { METAFIELD_TYPES, MetafieldType, validateMetafieldValue } from "./MetafieldTypes.ts"
import { formatCount, utf8ByteLength } from "./text.ts"
import { SHOP_DOMAIN } from "../shop/ShopDomain.ts"

/** One failed rule of one field, ready for a 400 response body. */
export interface FieldError {
  /** Path of the offending field as sent: `namespace` or `properties.namespace`. */
  readonly field: string
  /** Stable machine-readable code, e.g. `required`, `too_long`, `invalid_format`. */
  readonly code: string
  /** English sentence for humans. */
  readonly message: string
}

/** A validated Flow action request: the job parameters plus where it came from. */
export interface JobInput extends JobParameters {
  /** Flow's `action_run_id` (its idempotency key); `null` for the flat body. */
  readonly actionRunId: string | null
  /** Flow's `shopify_domain`; `null` for the flat body (the caller uses the header). */
  readonly shopDomain: string | null
}

// ---------------------------------------------------------------------------
// Field schemas. Each rule carries a `code` annotation that becomes
// `FieldError.code`; its `message` annotation becomes `FieldError.message`.
// ---------------------------------------------------------------------------

const rule = (code: string, message: string) => ({ code, message })

/** `query_string`: trimmed, 1…500 characters. */
export const QueryStringField = Schema.Trim.check(
  Schema.isNonEmpty(rule("required", "must not be blank")),
  Schema.isMaxLength(
    QUERY_STRING_MAX_LENGTH,
    rule("too_long", `must be at most ${QUERY_STRING_MAX_LENGTH} characters`)
  )
)

const identifierField = (min: number, max: number) =>
  Schema.String.check(
    Schema.isMinLength(min, rule("too_short", `must be at least ${min} characters`)),
    Schema.isMaxLength(max, rule("too_long", `must be at most ${max} characters`)),
    Schema.isPattern(
      IDENTIFIER_PATTERN,
      rule("invalid_format", "may contain only lowercase letters a-z, digits 0-9 and underscores")
    )
  )

/** `namespace`: 3…50 characters of `[a-z0-9_]`. */
export const NamespaceField = identifierField(NAMESPACE_MIN_LENGTH, NAMESPACE_MAX_LENGTH)
/** `key`: 2…50 characters of `[a-z0-9_]`. */
export const KeyField = identifierField(KEY_MIN_LENGTH, KEY_MAX_LENGTH)

/** `type`: one of {@link METAFIELD_TYPES}. */
export const TypeField = MetafieldType

/** `value`: a non-empty string of at most 1,024 UTF-8 bytes. */
export const ValueField = Schema.String.check(
  Schema.isNonEmpty(rule("blank", "must not be empty")),
  Schema.makeFilter(
    (s: string) => utf8ByteLength(s) <= VALUE_MAX_BYTES,
    rule("too_long", `must be at most ${formatCount(VALUE_MAX_BYTES)} bytes (UTF-8)`)
  )
)

const BooleanFromFlowString = Schema.Literals(["true", "false"]).pipe(
  Schema.decodeTo(Schema.Boolean, {
    decode: SchemaGetter.transform((s: "true" | "false") => s === "true"),
    encode: SchemaGetter.transform((b: boolean): "true" | "false" => (b ? "true" : "false"))
  })
)

/** `dry_run`: `true`/`false`, or Flow's `"true"`/`"false"`. */
export const DryRunField = Schema.Union([Schema.Boolean, BooleanFromFlowString])

const NumberFromFlowString = Schema.String.check(Schema.isPattern(/^-?\d+(?:\.\d+)?$/)).pipe(
  Schema.decodeTo(Schema.Number, {
    decode: SchemaGetter.transform((s: string) => Number(s)),
    encode: SchemaGetter.transform((n: number) => String(n))
  })
)

/** `max_items`: an integer 1…100,000, as a number or Flow's numeric string. */
export const MaxItemsField = Schema.Union([Schema.Finite, NumberFromFlowString]).check(
  Schema.isInt(rule("not_integer", "must be a whole number")),
  Schema.isBetween(
    { minimum: MAX_ITEMS_MIN, maximum: MAX_ITEMS_MAX },
    rule("out_of_range", `must be between ${formatCount(MAX_ITEMS_MIN)} and ${formatCount(MAX_ITEMS_MAX)}`)
  )
)

/** Flow envelope `action_run_id`: a non-empty string. */
export const ActionRunIdField = Schema.String.check(Schema.isNonEmpty(rule("required", "must not be empty")))

/** Flow envelope `shopify_domain`: `<name>.myshopify.com`. */
export const ShopifyDomainField = Schema.String.check(
  Schema.isPattern(
    SHOP_DOMAIN,
    rule("invalid_format", "must be a shop domain such as example.myshopify.com")
  )
)

// ---------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------

interface Problem {
  readonly code: string
  readonly message: string
}

/**
 * The coded rules that failed inside a schema issue. Union alternatives
 * (`AnyOf`) and uncoded leaves are not descended into: "none of the accepted
 * forms" is the field's fallback problem, not one per alternative.
 */
const codedProblems = (issue: SchemaIssue.Issue, out: Array<Problem>): void => {
  switch (issue._tag) {
    case "Filter": {
      const annotations = issue.filter.annotations
      if (annotations !== undefined && Predicate.isString(annotations.code)) {
        out.push({
          code: annotations.code,
          message: Predicate.isString(annotations.message) ? annotations.message : annotations.code
        })
      } else {
        codedProblems(issue.issue, out)
      }
      return
    }
    case "Composite":
      for (const inner of issue.issues) codedProblems(inner, out)
      return
    case "Pointer":
    case "Encoding":
      codedProblems(issue.issue, out)
      return
    default:
      return
  }
}

const isAbsent = (u: unknown): boolean => u === undefined || u === null || u === ""

/** Decodes one field, pushing its errors; `undefined` when the field failed. */
const field = <S extends Schema.Decoder<unknown>>(
  errors: Array<FieldError>,
  path: string,
  schema: S,
  raw: unknown,
  fallback: Problem
): S["Type"] | undefined => {
  const decoded = Schema.decodeUnknownResult(schema, { errors: "all" })(raw)
  if (Result.isSuccess(decoded)) return decoded.success
  const problems: Array<Problem> = []
  codedProblems(decoded.failure.issue, problems)
  for (const p of problems.length > 0 ? problems : [fallback]) {
    errors.push({ field: path, code: p.code, message: p.message })
  }
  return undefined
}

const required = <S extends Schema.Decoder<unknown>>(
  errors: Array<FieldError>,
  path: string,
  schema: S,
  raw: unknown,
  fallback: Problem
): S["Type"] | undefined => {
  if (isAbsent(raw)) {
    errors.push({ field: path, code: "required", message: "is required" })
    return undefined
  }
  return field(errors, path, schema, raw, fallback)
}

const optional = <S extends Schema.Decoder<unknown>>(
  errors: Array<FieldError>,
  path: string,
  schema: S,
  raw: unknown,
  fallback: Problem,
  defaultValue: S["Type"]
): S["Type"] | undefined => (isAbsent(raw) ? defaultValue : field(errors, path, schema, raw, fallback))

const notAString: Problem = { code: "invalid_type", message: "must be a string" }

const isRecord = (u: unknown): u is Readonly<Record<string, unknown>> =>
  Predicate.isObject(u) && !Array.isArray(u)

/**
 * Validates a Flow action request body (flat or Flow envelope, see the module
 * comment) and returns either the normalised {@link JobInput} or every
 * {@link FieldError} at once — never only the first one.
 *
 * Pure and total: any `unknown` (including non-objects) yields a result.
 */
export const validateFlowActionInput = (body: unknown): Result.Result<JobInput, ReadonlyArray<FieldError>> => {
  if (!isRecord(body)) {
    return Result.fail([{ field: "body", code: "invalid_type", message: "must be a JSON object" }])
  }
  const errors: Array<FieldError> = []
  const isEnvelope = "properties" in body
  let props: Readonly<Record<string, unknown>> | undefined = body
  let prefix = ""
  let actionRunId: string | null = null
  let shopDomain: string | null = null

  if (isEnvelope) {
    prefix = "properties."
    actionRunId = required(errors, "action_run_id", ActionRunIdField, body["action_run_id"], notAString) ?? null
    shopDomain = required(errors, "shopify_domain", ShopifyDomainField, body["shopify_domain"], notAString) ?? null
    if (isRecord(body["properties"])) {
      props = body["properties"]
    } else {
      props = undefined
      errors.push({ field: "properties", code: "invalid_type", message: "must be an object" })
    }
  }

  if (props === undefined) return Result.fail(errors)

  const queryString = required(errors, `${prefix}query_string`, QueryStringField, props["query_string"], notAString)
  const namespace = required(errors, `${prefix}namespace`, NamespaceField, props["namespace"], notAString)
  const key = required(errors, `${prefix}key`, KeyField, props["key"], notAString)
  const type = required(errors, `${prefix}type`, TypeField, props["type"], {
    code: "unsupported",
    message: `must be one of ${METAFIELD_TYPES.join(", ")}`
  })
  const value = required(errors, `${prefix}value`, ValueField, props["value"], notAString)
  if (type !== undefined && value !== undefined) {
    const checked = validateMetafieldValue(type, value)
    if (Result.isFailure(checked)) {
      errors.push({ field: `${prefix}value`, code: checked.failure.code, message: checked.failure.message })
    }
  }
  const dryRun = optional(errors, `${prefix}dry_run`, DryRunField, props["dry_run"], {
    code: "invalid_type",
    message: "must be true or false"
  }, DRY_RUN_DEFAULT)
  const maxItems = optional(errors, `${prefix}max_items`, MaxItemsField, props["max_items"], {
    code: "invalid_type",
    message: `must be a whole number between ${formatCount(MAX_ITEMS_MIN)} and ${formatCount(MAX_ITEMS_MAX)}`
  }, MAX_ITEMS_DEFAULT)

  if (
    errors.length > 0 || queryString === undefined || namespace === undefined || key === undefined ||
    type === undefined || value === undefined || dryRun === undefined || maxItems === undefined
  ) {
    return Result.fail(errors)
  }
  return Result.succeed({ queryString, namespace, key, type, value, dryRun, maxItems, actionRunId, shopDomain })
}
