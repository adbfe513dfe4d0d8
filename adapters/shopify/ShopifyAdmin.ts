/**
 * The Shopify Admin API port (2026-07): GraphQL with cost-aware throttling, bulk query and
 * bulk mutation operations, staged uploads and streamed JSONL downloads, all per shop.
 * The implementation lives in `ShopifyAdminLive.ts`; credentials come from `ShopCredentials`
 * so access tokens only ever travel as `Redacted` values and never reach a log line.
 */
import { Context, Effect, Layer, Redacted, Schema } from "effect"
import type { Stream } from "effect"

// ------------------------------------------------------------------------------- errors

/**
 * Shopify asked us to slow down and the bounded retries ran out: cost-bucket THROTTLED
 * (HTTP 200), HTTP 429, or no free bulk-operation slot (`LIMIT_REACHED`,
 * `OPERATION_IN_PROGRESS`). Transient: retry after `retryAfterMs`.
 */
export class ShopifyThrottled extends Schema.TaggedError<ShopifyThrottled>()("ShopifyThrottled", {
  shop: Schema.String,
  operation: Schema.String,
  /** `THROTTLED`, `HTTP_429`, `LIMIT_REACHED` or `OPERATION_IN_PROGRESS`. */
  code: Schema.String,
  retryAfterMs: Schema.Number,
  message: Schema.String
}) {}

/** Network failure, timeout, HTTP 5xx or Shopify `INTERNAL_SERVER_ERROR`, after bounded retries. Transient. */
export class ShopifyUnavailable extends Schema.TaggedError<ShopifyUnavailable>()("ShopifyUnavailable", {
  /** The shop, or the host for staged-upload / result-file transfers. */
  shop: Schema.String,
  operation: Schema.String,
  status: Schema.optionalKey(Schema.Number),
  message: Schema.String,
  cause: Schema.optionalKey(Schema.Defect())
}) {}

/**
 * Retrying cannot help: `MAX_COST_EXCEEDED`, GraphQL validation errors, `userErrors`,
 * a revoked token (HTTP 401, code `UNAUTHORIZED`), an expired result URL, an unexpected
 * response shape. `code` is Shopify's code when it gave one; `message` is for humans.
 */
export class ShopifyPermanentError extends Schema.TaggedError<ShopifyPermanentError>()("ShopifyPermanentError", {
  shop: Schema.String,
  operation: Schema.String,
  code: Schema.String,
  message: Schema.String,
  status: Schema.optionalKey(Schema.Number),
  field: Schema.optionalKey(Schema.Array(Schema.String))
}) {}

/** A bulk operation ended FAILED (or CANCELED / EXPIRED) instead of COMPLETED. */
export class BulkOperationFailed extends Schema.TaggedError<BulkOperationFailed>()("BulkOperationFailed", {
  shop: Schema.String,
  id: Schema.String,
  status: Schema.String,
  /** `ACCESS_DENIED`, `INTERNAL_SERVER_ERROR`, `TIMEOUT`, or null (canceled / expired). */
  errorCode: Schema.NullOr(Schema.String),
  /** Results written before the failure, when Shopify kept any. */
  partialDataUrl: Schema.NullOr(Schema.String),
  objectCount: Schema.Number,
  message: Schema.String
}) {}

export type ShopifyError = ShopifyThrottled | ShopifyUnavailable | ShopifyPermanentError

/** Whether retrying later may succeed. */
export const isTransientShopifyError = (error: { readonly _tag: string }): boolean =>
  error._tag === "ShopifyThrottled" || error._tag === "ShopifyUnavailable"

// -------------------------------------------------------------------------------- types

export type BulkOperationType = "QUERY" | "MUTATION"
export type BulkOperationStatus = "CREATED" | "RUNNING" | "COMPLETED" | "FAILED" | "CANCELING" | "CANCELED" | "EXPIRED"

/** `UnsignedInt64` is serialized as a string (`"16"`); accept a number too. */
const UnsignedInt64 = Schema.Union([Schema.Number, Schema.NumberFromString])

/** A `BulkOperation` as the adapter selects it (counts parsed to numbers). */
export const BulkOperationInfo = Schema.Struct({
  id: Schema.String,
  type: Schema.Literals(["QUERY", "MUTATION"]),
  status: Schema.Literals(["CREATED", "RUNNING", "COMPLETED", "FAILED", "CANCELING", "CANCELED", "EXPIRED"]),
  errorCode: Schema.NullOr(Schema.String),
  objectCount: UnsignedInt64,
  rootObjectCount: UnsignedInt64,
  fileSize: Schema.NullOr(UnsignedInt64),
  url: Schema.NullOr(Schema.String),
  partialDataUrl: Schema.NullOr(Schema.String),
  createdAt: Schema.String,
  completedAt: Schema.NullOr(Schema.String),
  /** The submitted query (QUERY) or mutation document (MUTATION). */
  query: Schema.String
})
export type BulkOperationInfo = typeof BulkOperationInfo.Type

/**
 * An active (CREATED / RUNNING) operation. 2026-07's `BulkOperation` has no
 * `clientIdentifier` field, so the adapter carries the identifier in the submitted
 * mutation's operation name (see `tagBulkMutation`) and reads it back from `query`;
 * null for operations submitted by someone else.
 */
export interface RunningBulkOperation extends BulkOperationInfo {
  readonly clientIdentifier: string | null
}

/** The `data` of a successful GraphQL response. */
export type GraphQLData = Readonly<Record<string, unknown>>

export interface AwaitBulkOperationOptions {
  /** Delay between polls (default: the layer's `bulkPollIntervalMs`). */
  readonly pollIntervalMs?: number
}

// ---------------------------------------------------------------------------- services

/** What the adapter needs to call a shop. */
export interface ShopAccess {
  readonly accessToken: Redacted.Redacted<string>
}

/** Per-shop offline access tokens (from the install records). */
export class ShopCredentials extends Context.Service<ShopCredentials, {
  readonly get: (shop: string) => Effect.Effect<ShopAccess, ShopifyPermanentError | ShopifyUnavailable>
}>()("sumeru/adapters/shopify/ShopCredentials") {
  /** Fixed tokens by shop domain (tests, scripts); unknown shops fail `NOT_INSTALLED`. */
  static readonly fromRecord = (tokens: Readonly<Record<string, string | Redacted.Redacted<string>>>) => {
    const normalized = new Map(
      Object.entries(tokens).map(([shop, token]) => [shop.toLowerCase(), Redacted.isRedacted(token) ? token : Redacted.make(token)] as const)
    )
    return Layer.succeed(ShopCredentials, ShopCredentials.of({
      get: (shop) => {
        const token = normalized.get(shop.toLowerCase())
        return token === undefined
          ? Effect.fail(new ShopifyPermanentError({ shop, operation: "credentials", code: "NOT_INSTALLED", message: `No access token for ${shop}.` }))
          : Effect.succeed({ accessToken: token })
      }
    }))
  }
}

/** The Admin API operations, per shop. */
export class ShopifyAdmin extends Context.Service<ShopifyAdmin, {
  /**
   * Runs one GraphQL document. Waits before sending when the shop's cost bucket cannot pay
   * the document's estimated cost; retries THROTTLED (after the computed refill time) and
   * 5xx / network failures / timeouts (exponential backoff with jitter), both bounded;
   * never retries MAX_COST_EXCEEDED or other permanent errors.
   */
  readonly graphql: (shop: string, document: string, variables?: Readonly<Record<string, unknown>>) => Effect.Effect<GraphQLData, ShopifyError>
  /** `bulkOperationRunQuery(groupObjects: false)`; resolves to the operation id. */
  readonly startBulkQuery: (shop: string, innerQuery: string) => Effect.Effect<string, ShopifyError>
  /** `bulkOperation(id:)`; an unknown id fails `NOT_FOUND`. */
  readonly bulkOperation: (shop: string, id: string) => Effect.Effect<BulkOperationInfo, ShopifyError>
  /** Polls until COMPLETED; FAILED / CANCELED / EXPIRED fail with `BulkOperationFailed`. */
  readonly awaitBulkOperation: (
    shop: string,
    id: string,
    options?: AwaitBulkOperationOptions
  ) => Effect.Effect<BulkOperationInfo, ShopifyError | BulkOperationFailed>
  /** This app's CREATED / RUNNING operations of `type`, newest first. */
  readonly runningBulkOperations: (shop: string, type: BulkOperationType) => Effect.Effect<ReadonlyArray<RunningBulkOperation>, ShopifyError>
  /**
   * The newest of the app's last 25 bulk mutations (any status) tagged with `clientIdentifier`,
   * or null: how a restarted job (or a retried submission) learns a chunk was already submitted.
   */
  readonly findBulkMutation: (shop: string, clientIdentifier: string) => Effect.Effect<RunningBulkOperation | null, ShopifyError>
  /** `bulkOperationCancel`; resolves to the operation as Shopify reports it afterwards. */
  readonly cancelBulkOperation: (shop: string, id: string) => Effect.Effect<BulkOperationInfo, ShopifyError>
  /**
   * Streams a result file (`url` / `partialDataUrl`) as parsed JSON values, one per line,
   * never holding the file in memory. Unparseable lines come through as `InvalidJsonlLine`.
   */
  readonly downloadJsonl: (url: string) => Stream.Stream<unknown, ShopifyUnavailable | ShopifyPermanentError>
  /** The same file as raw bytes (for byte-level parsers such as `parseMutationResultFile`). */
  readonly downloadBytes: (url: string) => Stream.Stream<Uint8Array, ShopifyUnavailable | ShopifyPermanentError>
  /**
   * `stagedUploadsCreate` (BULK_MUTATION_VARIABLES, text/jsonl, POST), then a streamed
   * multipart/form-data POST of every parameter in order and the file last (201 expected).
   * `body` must be replayable (it is re-run on a retried upload) and yield exactly
   * `byteLength` bytes. Resolves to the `stagedUploadPath`.
   */
  readonly stagedUpload: <E, R>(shop: string, body: Stream.Stream<Uint8Array, E, R>, byteLength: number) => Effect.Effect<string, ShopifyError | E, R>
  /**
   * `bulkOperationRunMutation` with `clientIdentifier`; the document is tagged with the
   * identifier (`tagBulkMutation`) so `runningBulkOperations` / `findBulkMutation` can find it
   * after a restart. Never submits twice on its own: after a 5xx or timeout (Shopify may have
   * run it) it looks the identifier up before resubmitting.
   */
  readonly startBulkMutation: (
    shop: string,
    mutation: string,
    stagedUploadPath: string,
    clientIdentifier: string
  ) => Effect.Effect<string, ShopifyError>
}>()("sumeru/adapters/shopify/ShopifyAdmin") {}
