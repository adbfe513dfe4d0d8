/**
 * Field schemas and error flattening shared by the public ingest API and the storefront
 * pixel. Pure: no I/O, no clock. Every decoder reports *every* failed field with its path,
 * and no message echoes the rejected value (a pixel's URL or customer id is personal data).
 */
import { Predicate, Result, Schema, SchemaGetter, SchemaIssue } from "effect"

/** One failed rule, ready for a 400 body: `path` as sent (`utm.source`, `events`), a sentence. */
export interface FieldError {
  readonly path: string
  readonly message: string
}

const formatter = SchemaIssue.makeFormatterStandardSchemaV1()

const pathOf = (path: ReadonlyArray<PropertyKey | { readonly key: PropertyKey }> | undefined): string => {
  let out = ""
  for (const segment of path ?? []) {
    const key = Predicate.isObject(segment) ? (segment as { readonly key: PropertyKey }).key : segment
    out += typeof key === "number" ? `[${key}]` : out === "" ? String(key) : `.${String(key)}`
  }
  return out
}

/** Flattens a schema issue into one {@link FieldError} per failed leaf. */
export const fieldErrors = (issue: SchemaIssue.Issue, prefix = ""): ReadonlyArray<FieldError> =>
  formatter(issue).issues.map((i) => {
    const path = pathOf(i.path)
    return { path: prefix === "" ? path : path === "" ? prefix : path.startsWith("[") ? `${prefix}${path}` : `${prefix}.${path}`, message: i.message }
  })

/** Decodes `input` with every error collected (not only the first). */
export const decodeAll = <S extends Schema.Decoder<unknown>>(schema: S) => {
  const decode = Schema.decodeUnknownResult(schema, { errors: "all" })
  return (input: unknown): Result.Result<S["Type"], ReadonlyArray<FieldError>> => {
    const decoded = decode(input)
    return Result.isSuccess(decoded) ? Result.succeed(decoded.success) : Result.fail(fieldErrors(decoded.failure.issue))
  }
}

export const isRecord = (u: unknown): u is Readonly<Record<string, unknown>> => Predicate.isObject(u) && !Array.isArray(u)

/** An optional field: absent or `null` (what browser scripts and many clients send) both mean "not given". */
export const optional = <S extends Schema.Top>(schema: S) => Schema.optionalKey(Schema.NullOr(schema))

/** A trimmed-by-the-sender string of 1…`max` characters. */
export const text = (max: number) =>
  Schema.String.check(
    Schema.isMinLength(1, { message: "must not be empty" }),
    Schema.isMaxLength(max, { message: `must be at most ${max} characters` })
  )

const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})$/i

/**
 * An ISO-8601 instant with a zone (`2026-03-01T12:00:00Z`, `…+02:00`), normalized to UTC
 * with milliseconds (`2026-03-01T10:00:00.000Z`), so downstream code compares plain strings.
 * A normalized value decodes to itself (handlers re-validate what the ingress validated).
 */
export const Instant = Schema.String.check(
  Schema.makeFilter(
    (s: string) => ISO_DATE_TIME.test(s) && Number.isFinite(Date.parse(s)),
    { message: "must be an ISO-8601 date-time with a time zone, e.g. 2026-03-01T12:00:00Z" }
  )
).pipe(
  Schema.decodeTo(Schema.String, {
    decode: SchemaGetter.transform((s: string) => new Date(s).toISOString()),
    encode: SchemaGetter.transform((s: string) => s)
  })
)

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/

const isCalendarDate = (s: string): boolean => {
  const m = ISO_DATE.exec(s)
  if (m === null) return false
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])))
  return d.getUTCFullYear() === Number(m[1]) && d.getUTCMonth() === Number(m[2]) - 1 && d.getUTCDate() === Number(m[3])
}

/** A calendar day, `YYYY-MM-DD` (the day an ad platform or search console reports for). */
export const CalendarDate = Schema.String.check(
  Schema.makeFilter(isCalendarDate, { message: "must be a calendar date YYYY-MM-DD" })
)

const DECIMAL = /^(?:0|[1-9]\d{0,17})(?:\.\d{1,12})?$/

/**
 * A non-negative amount, sent as a decimal string (`"12.50"`, exact) or a JSON number
 * (`12.5`), kept as a decimal string: money never passes through a float again.
 */
export const NonNegativeDecimal = Schema.Union([
  Schema.String.check(Schema.isPattern(DECIMAL, { message: "must be a non-negative decimal such as 12.50" })),
  Schema.Finite.check(
    Schema.makeFilter((n: number) => n >= 0 && DECIMAL.test(String(n)), { message: "must be a non-negative decimal such as 12.50" })
  ).pipe(
    Schema.decodeTo(Schema.String, {
      decode: SchemaGetter.transform((n: number) => String(n)),
      encode: SchemaGetter.transform((s: string) => Number(s))
    })
  )
]).annotate({ message: "must be a non-negative decimal (string or number) such as \"12.50\"" })

const CURRENCIES: ReadonlySet<string> = new Set(Intl.supportedValuesOf("currency"))

/** An ISO 4217 currency code (`EUR`, `USD`), as the runtime's ICU data knows them. */
export const CurrencyCode = Schema.String.check(
  Schema.makeFilter((s: string) => /^[A-Z]{3}$/.test(s) && CURRENCIES.has(s), { message: "must be an ISO 4217 currency code such as EUR" })
)

export const NonNegativeInt = Schema.Finite.check(
  Schema.makeFilter((n: number) => Number.isSafeInteger(n) && n >= 0, { message: "must be a whole number ≥ 0" })
)

export const NonNegativeNumber = Schema.Finite.check(
  Schema.isGreaterThanOrEqualTo(0, { message: "must be a number ≥ 0" })
)

/** An absolute `http(s)` URL of at most `max` characters. */
export const HttpUrl = (max = 2048) =>
  Schema.String.check(
    Schema.isMaxLength(max, { message: `must be at most ${max} characters` }),
    Schema.makeFilter((s: string) => {
      if (!URL.canParse(s)) return false
      const protocol = new URL(s).protocol
      return protocol === "https:" || protocol === "http:"
    }, { message: "must be an absolute http(s) URL" })
  )

/** UTF-8 size of a JSON value as it would be stored. */
const encoder = new TextEncoder()
export const jsonBytes = (value: unknown): number => encoder.encode(JSON.stringify(value) ?? "").byteLength
