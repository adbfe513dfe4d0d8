/**
 * The typed failures of Sumeru's ingress routes (webhooks, the Flow action, the pixel, the
 * public ingest API). A route fails with one of these, or with a failure of a port it uses
 * (`ShopLogUnavailable`, `SqlError`, `PersistenceError`); `HttpProblem.ts` turns every one of
 * them into its status code and JSON body, in one place. Nothing here knows about HTTP status
 * codes: the classes say what went wrong, not how it is answered.
 */
import { Schema } from "effect"

// ---------------------------------------------------------------------------
// The ingress preamble (`IngressPreamble.ts`): transport, size, signature, encoding, syntax
// ---------------------------------------------------------------------------

/** The body's media type is not one the route takes. */
export class UnsupportedMediaType extends Schema.TaggedError<UnsupportedMediaType>()("UnsupportedMediaType", {
  /** The media types the route takes, as a client should send them. */
  accepted: Schema.Array(Schema.String)
}) {}

/** The body is longer than the route's limit, by its declared length or as it streamed in. */
export class PayloadTooLarge extends Schema.TaggedError<PayloadTooLarge>()("PayloadTooLarge", {
  limit: Schema.Number
}) {}

/** The HMAC of the raw body is missing, or matches neither the current nor the previous secret. */
export class InvalidSignature extends Schema.TaggedError<InvalidSignature>()("InvalidSignature", {}) {}

/** The body is not UTF-8 (JSON text exchanged between systems must be, RFC 8259 §8.1). */
export class InvalidUtf8 extends Schema.TaggedError<InvalidUtf8>()("InvalidUtf8", {}) {}

/** The body is UTF-8 but not JSON. */
export class MalformedJson extends Schema.TaggedError<MalformedJson>()("MalformedJson", {}) {}

export type IngressPreambleError = UnsupportedMediaType | PayloadTooLarge | InvalidSignature | InvalidUtf8 | MalformedJson

// ---------------------------------------------------------------------------
// What a route finds wrong with a well-formed request
// ---------------------------------------------------------------------------

/** The JSON is not what the route takes; `details` lists every problem (never only the first). */
export class InvalidInput extends Schema.TaggedError<InvalidInput>()("InvalidInput", {
  details: Schema.Unknown,
  /** Overrides the generic "the request has invalid fields". */
  summary: Schema.optionalKey(Schema.String)
}) {}

/** Headers the route needs are missing or malformed (Shopify's `X-Shopify-*`). */
export class MissingHeaders extends Schema.TaggedError<MissingHeaders>()("MissingHeaders", {
  headers: Schema.Array(Schema.String)
}) {}

/** No credential, or an unknown, malformed or revoked API key. */
export class ApiKeyRejected extends Schema.TaggedError<ApiKeyRejected>()("ApiKeyRejected", {
  reason: Schema.String
}) {}

/** The credential is valid but lacks the permission the route needs. */
export class PermissionMissing extends Schema.TaggedError<PermissionMissing>()("PermissionMissing", {
  permission: Schema.String
}) {}

/** The caller sent more than its rate allows. */
export class RateLimitExceeded extends Schema.TaggedError<RateLimitExceeded>()("RateLimitExceeded", {
  reason: Schema.String,
  retryAfterSeconds: Schema.Number
}) {}

/** The shop named by an unauthenticated request (the pixel) does not use Sumeru. */
export class UnknownShop extends Schema.TaggedError<UnknownShop>()("UnknownShop", {}) {}

/** A browser origin that is not one of the shop's storefronts. */
export class OriginNotAllowed extends Schema.TaggedError<OriginNotAllowed>()("OriginNotAllowed", {}) {}

/** The request does not say which shop it is for. */
export class MissingShop extends Schema.TaggedError<MissingShop>()("MissingShop", {
  hint: Schema.String
}) {}

/** A dependency other than the database and the shop log cannot answer now (transient). */
export class DependencyUnavailable extends Schema.TaggedError<DependencyUnavailable>()("DependencyUnavailable", {
  what: Schema.String
}) {}

export type IngressRouteError =
  | InvalidInput
  | MissingHeaders
  | ApiKeyRejected
  | PermissionMissing
  | RateLimitExceeded
  | UnknownShop
  | OriginNotAllowed
  | MissingShop
  | DependencyUnavailable
