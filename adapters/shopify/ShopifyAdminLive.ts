/**
 * `ShopifyAdmin` over HTTP: `@shopify/admin-api-client` (one cached client per shop, its own
 * retries off) for GraphQL; `node:http` under it and for staged uploads and result files
 * (`transport.ts`). Waits and backoff go through Effect's `Clock` (`Effect.sleep`), jitter
 * through `Random`; only socket deadlines (request / transfer timeouts) are wall-clock
 * `AbortSignal`s.
 *
 * The base URL can be re-targeted (`adminUrlOverride` or `SHOPIFY_ADMIN_URL_OVERRIDE`, e.g.
 * the simulator's `http://127.0.0.1:<port>`): admin-api-client always builds
 * `https://<shop>/admin/api/…`, so `customFetchApi` rewrites the origin and keeps the shop in
 * `X-Forwarded-Host`.
 */
import { randomUUID } from "node:crypto"
import { createAdminApiClient, type AdminApiClient } from "@shopify/admin-api-client"
import { type Cause, Config, Effect, Exit, Layer, Metric, Option, Random, Redacted, Result, Schema, Stream } from "effect"
import { shopifyApiErrors } from "../../src/server/Metrics.ts"
import {
  BULK_MUTATION_RUN,
  BULK_OPERATION,
  BULK_OPERATION_CANCEL,
  BULK_OPERATIONS,
  BULK_QUERY_RUN,
  STAGED_UPLOADS_CREATE,
  ADMIN_API_VERSION,
  clientIdentifierOf,
  runningBulkOperationsSearch,
  tagBulkMutation
} from "./documents.ts"
import { jsonlValues, multipartEnvelope, type FormField } from "./jsonl.ts"
import { apiErrorStatus, bodyMessage, classifyAdminResponse, parseXmlError, type AdminResponse, type Classified } from "./responses.ts"
import {
  BulkOperationFailed,
  BulkOperationInfo,
  ShopCredentials,
  ShopifyAdmin,
  ShopifyPermanentError,
  ShopifyThrottled,
  ShopifyUnavailable,
  type BulkOperationType,
  type GraphQLData,
  type RunningBulkOperation,
  type ShopAccess,
  type ShopifyError
} from "./ShopifyAdmin.ts"
import { backoffDelay, makeCostThrottle, type CostThrottle } from "./throttle.ts"
import { UploadLengthMismatch, nodeHttpDownload, nodeHttpFetch, nodeHttpUpload, type DownloadResponse, type DownloadTransport, type UploadTransport } from "./transport.ts"

export interface ShopifyAdminOptions {
  /** Default `2026-07`. */
  readonly apiVersion?: string
  /** Origin replacing `https://<shop>` for Admin API calls (simulator, proxy). */
  readonly adminUrlOverride?: string | undefined
  /** HTTP for GraphQL (default `nodeHttpFetch`, `fetch` over `node:http`; `transport.ts`). */
  readonly fetch?: typeof globalThis.fetch
  /** HTTP for staged-upload POSTs (default `nodeHttpUpload`, which streams without retaining the body). */
  readonly upload?: UploadTransport
  /** HTTP for result-file downloads (default `nodeHttpDownload`). */
  readonly download?: DownloadTransport
  /** Deadline of one GraphQL request (default 30 s). */
  readonly requestTimeoutMs?: number
  /** Deadline of a staged-upload POST, and of a result download's response headers (default 10 min). */
  readonly transferTimeoutMs?: number
  /** Retries of 5xx / network failures / timeouts (default 4, i.e. 5 attempts). */
  readonly maxUnavailableRetries?: number
  /** Retries of THROTTLED / 429 answers (default 8). */
  readonly maxThrottledRetries?: number
  /** First backoff step (default 500 ms), doubled per attempt with equal jitter, capped (default 30 s). */
  readonly backoffBaseMs?: number
  readonly backoffMaxMs?: number
  /** Cost assumed for a document never sent before (default 50). */
  readonly defaultCostEstimate?: number
  /** Poll interval of `awaitBulkOperation` (default 5 s). */
  readonly bulkPollIntervalMs?: number
  /** `retryAfterMs` reported when every bulk slot is taken (default 30 s). */
  readonly bulkSlotRetryAfterMs?: number
  /** Prefix of the `User-Agent` (default `Sumeru`). */
  readonly userAgentPrefix?: string
}

const DEFAULTS = {
  apiVersion: ADMIN_API_VERSION,
  requestTimeoutMs: 30_000,
  transferTimeoutMs: 600_000,
  maxUnavailableRetries: 4,
  maxThrottledRetries: 8,
  backoffBaseMs: 500,
  backoffMaxMs: 30_000,
  defaultCostEstimate: 50,
  bulkPollIntervalMs: 5_000,
  bulkSlotRetryAfterMs: 30_000,
  userAgentPrefix: "Sumeru"
}

// ------------------------------------------------------------------------- payloads

const UserError = Schema.Struct({
  field: Schema.NullOr(Schema.Array(Schema.String)),
  message: Schema.String,
  code: Schema.optional(Schema.NullOr(Schema.String))
})
type UserError = typeof UserError.Type

const RunPayload = Schema.Struct({
  bulkOperation: Schema.NullOr(BulkOperationInfo),
  userErrors: Schema.Array(UserError)
})
const BulkOperationPayload = Schema.Struct({ bulkOperation: Schema.NullOr(BulkOperationInfo) })
const BulkOperationsPayload = Schema.Struct({
  bulkOperations: Schema.Struct({
    nodes: Schema.Array(BulkOperationInfo),
    pageInfo: Schema.Struct({ hasNextPage: Schema.Boolean, endCursor: Schema.NullOr(Schema.String) })
  })
})
const StagedUploadsPayload = Schema.Struct({
  stagedTargets: Schema.NullOr(
    Schema.Array(
      Schema.Struct({
        url: Schema.NullOr(Schema.String),
        resourceUrl: Schema.NullOr(Schema.String),
        parameters: Schema.Array(Schema.Struct({ name: Schema.String, value: Schema.String }))
      })
    )
  ),
  userErrors: Schema.Array(UserError)
})

const BULK_SLOT_CODES = new Set(["LIMIT_REACHED", "OPERATION_IN_PROGRESS"])
/** Documents whose cost is remembered (callers that inline values make many). */
const MAX_COST_ESTIMATES = 1000
const MAX_LISTING_PAGES = 10

const hostOf = (url: string): string => {
  try {
    return new URL(url).host
  } catch {
    return url
  }
}

const describe = (cause: unknown): string => {
  if (!(cause instanceof Error)) return String(cause)
  const inner = (cause as Error & { cause?: unknown }).cause
  return inner instanceof Error ? `${cause.message}: ${inner.message}` : cause.message
}

/** Counts one error answer (or a request that got none) in `sumeru_shopify_api_errors_total`. */
const countApiError = (status: string, operation: "graphql" | "staged_upload" | "download") =>
  Metric.update(Metric.withAttributes(shopifyApiErrors, { status, operation }), 1)

/** Reads at most `limit` characters of a body we only need for an error message, then drops the rest. */
const readSome = async (response: Response, limit = 4096): Promise<string> => {
  try {
    const text = await response.text()
    return text.length > limit ? text.slice(0, limit) : text
  } catch {
    return ""
  }
}

export const make = (options: ShopifyAdminOptions = {}) =>
  Effect.gen(function*() {
    const credentials = yield* ShopCredentials
    const o = { ...DEFAULTS, ...options }
    const fetchFn: typeof globalThis.fetch = options.fetch ?? nodeHttpFetch
    const uploadFn = options.upload ?? nodeHttpUpload
    const downloadFn = options.download ?? nodeHttpDownload
    const override = options.adminUrlOverride?.replace(/\/+$/, "")

    /** The admin-api-client only knows `https://<shop>`; re-target it when overridden. */
    const customFetchApi = (url: string, init?: { method?: string; headers?: HeadersInit; body?: string; signal?: AbortSignal; keepalive?: boolean }) => {
      if (override === undefined) return fetchFn(url, init)
      const target = new URL(url)
      const headers = new Headers(init?.headers)
      headers.set("X-Forwarded-Host", target.host)
      return fetchFn(`${override}${target.pathname}${target.search}`, { ...init, headers })
    }

    // Per-shop state: the client (rebuilt when the token changes) and the cost model.
    const clients = new Map<string, { readonly token: string; readonly client: AdminApiClient }>()
    const throttles = new Map<string, CostThrottle>()
    /** Last `requestedQueryCost` per document (the cost does not depend on the shop). */
    const estimates = new Map<string, number>()

    const throttleFor = (shop: string): CostThrottle => {
      let t = throttles.get(shop)
      if (t === undefined) {
        t = makeCostThrottle()
        throttles.set(shop, t)
      }
      return t
    }

    const clientFor = (shop: string, access: ShopAccess): Effect.Effect<AdminApiClient, ShopifyPermanentError> => {
      const token = Redacted.value(access.accessToken)
      const cached = clients.get(shop)
      if (cached !== undefined && cached.token === token) return Effect.succeed(cached.client)
      return Effect.try({
        try: () => {
          const client = createAdminApiClient({
            storeDomain: shop,
            apiVersion: o.apiVersion,
            accessToken: token,
            userAgentPrefix: o.userAgentPrefix,
            retries: 0, // retries are ours: Clock-driven, jittered, bounded, THROTTLED-aware
            customFetchApi,
            // The client's log events carry request headers (the token): never forward them.
            logger: () => undefined
          })
          clients.set(shop, { token, client })
          return client
        },
        // e.g. an empty token or a malformed shop domain (the message never contains the token)
        catch: (cause) => new ShopifyPermanentError({ shop, operation: "graphql", code: "INVALID_CLIENT_CONFIG", message: describe(cause) })
      })
    }

    const rememberCost = (document: string, cost: number): void => {
      if (!estimates.has(document) && estimates.size >= MAX_COST_ESTIMATES) {
        const oldest = estimates.keys().next()
        if (!oldest.done) estimates.delete(oldest.value)
      }
      estimates.set(document, cost)
    }

    const send = (client: AdminApiClient, document: string, variables: Readonly<Record<string, unknown>> | undefined) =>
      Effect.tryPromise({
        try: async (interrupt): Promise<AdminResponse> => {
          const signal = AbortSignal.any([interrupt, AbortSignal.timeout(o.requestTimeoutMs)])
          const r = await client.request(document, { ...(variables !== undefined ? { variables: { ...variables } } : {}), signal })
          const status = r.errors?.networkStatusCode
          const response = r.errors?.response
          if (status !== undefined && (status < 200 || status >= 300) && response !== undefined) {
            return { ...r, retryAfter: response.headers.get("retry-after"), bodyText: await readSome(response) }
          }
          if (status !== undefined && r.data === undefined && r.errors?.graphQLErrors === undefined && response !== undefined && !response.bodyUsed) {
            await response.body?.cancel().catch(() => undefined)
          }
          return r
        },
        catch: (cause) => cause
      }).pipe(
        // client.request resolves with `errors` instead of rejecting; a rejection is a network-level failure.
        Effect.catch((cause): Effect.Effect<AdminResponse> => Effect.succeed({ errors: { message: describe(cause) } }))
      )

    /**
     * One GraphQL document with the throttle and retries. `retryUnavailable: false` is for
     * non-idempotent mutations: after a 5xx / timeout Shopify may have executed it, so the
     * caller must reconcile before trying again. THROTTLED / 429 are always retried (not executed).
     */
    const request = Effect.fnUntraced(function*(
      shop: string,
      document: string,
      variables: Readonly<Record<string, unknown>> | undefined,
      retryUnavailable: boolean
    ): Effect.fn.Return<GraphQLData, ShopifyError> {
      const throttle = throttleFor(shop)
      let throttled = 0
      let unavailable = 0
      for (;;) {
        const access = yield* credentials.get(shop)
        const client = yield* clientFor(shop, access)
        const outcome: Classified = yield* Effect.acquireUseRelease(
          throttle.acquire(() => estimates.get(document) ?? o.defaultCostEstimate),
          () =>
            Effect.flatMap(send(client, document, variables), (response) => {
              const classified = classifyAdminResponse(response)
              const status = apiErrorStatus(response, classified)
              return status === undefined ? Effect.succeed(classified) : Effect.as(countApiError(status, "graphql"), classified)
            }),
          (reserved, exit) => {
            const c = Exit.isSuccess(exit) ? exit.value : undefined
            const cost = c !== undefined && (c._tag === "Ok" || c._tag === "Throttled") ? c.cost : undefined
            if (cost !== undefined) rememberCost(document, cost.requestedQueryCost)
            return throttle.settle(reserved, cost?.throttleStatus)
          }
        )
        switch (outcome._tag) {
          case "Ok":
            return outcome.data
          case "Permanent": {
            if (outcome.code === "UNAUTHORIZED") clients.delete(shop)
            return yield* new ShopifyPermanentError({
              shop,
              operation: "graphql",
              code: outcome.code,
              message: outcome.message,
              ...(outcome.status !== undefined ? { status: outcome.status } : {})
            })
          }
          case "Throttled": {
            const cost = outcome.cost
            const refillMs = cost === undefined
              ? (outcome.retryAfterMs ?? 1000)
              : Math.max(
                0,
                Math.ceil(((Math.min(cost.requestedQueryCost, cost.throttleStatus.maximumAvailable) - cost.throttleStatus.currentlyAvailable) /
                  Math.max(cost.throttleStatus.restoreRate, 1)) * 1000)
              )
            if (++throttled > o.maxThrottledRetries) {
              return yield* new ShopifyThrottled({ shop, operation: "graphql", code: outcome.code, retryAfterMs: refillMs, message: outcome.message })
            }
            // With a throttleStatus the next `acquire` waits for exactly the refill; otherwise honour Retry-After.
            if (cost === undefined) yield* Effect.sleep(refillMs)
            continue
          }
          case "Unavailable": {
            if (!retryUnavailable || ++unavailable > o.maxUnavailableRetries) {
              return yield* new ShopifyUnavailable({
                shop,
                operation: "graphql",
                message: outcome.message,
                ...(outcome.status !== undefined ? { status: outcome.status } : {})
              })
            }
            const jitter = yield* Random.next
            yield* Effect.sleep(Math.max(outcome.retryAfterMs ?? 0, backoffDelay(unavailable, o.backoffBaseMs, o.backoffMaxMs, jitter)))
            continue
          }
        }
      }
    })

    const graphql = Effect.fn("ShopifyAdmin.graphql")(function*(
      shop: string,
      document: string,
      variables?: Readonly<Record<string, unknown>>
    ): Effect.fn.Return<GraphQLData, ShopifyError> {
      return yield* request(shop, document, variables, true)
    })

    const decode = <S extends Schema.Top>(schema: S, shop: string, operation: string) => (value: unknown) =>
      Schema.decodeUnknownEffect(schema)(value).pipe(
        Effect.mapError((error) =>
          new ShopifyPermanentError({ shop, operation, code: "UNEXPECTED_RESPONSE", message: `Unexpected ${operation} payload: ${error.message}` })
        )
      ) as Effect.Effect<S["Type"], ShopifyPermanentError, never>

    const userErrorsFailure = (shop: string, operation: string, errors: ReadonlyArray<UserError>): ShopifyThrottled | ShopifyPermanentError => {
      const message = errors.map((e) => e.message).join("; ")
      const slot = errors.find((e) => e.code !== undefined && e.code !== null && BULK_SLOT_CODES.has(e.code))
      if (slot !== undefined) {
        return new ShopifyThrottled({ shop, operation, code: slot.code as string, retryAfterMs: o.bulkSlotRetryAfterMs, message })
      }
      const first = errors[0]
      return new ShopifyPermanentError({
        shop,
        operation,
        code: first?.code ?? "USER_ERROR",
        message,
        ...(first?.field !== null && first?.field !== undefined ? { field: first.field } : {})
      })
    }

    const startBulkQuery = Effect.fn("ShopifyAdmin.startBulkQuery")(function*(shop: string, innerQuery: string): Effect.fn.Return<string, ShopifyError> {
      const data = yield* graphql(shop, BULK_QUERY_RUN, { query: innerQuery })
      const payload = yield* decode(RunPayload, shop, "bulkOperationRunQuery")(data["bulkOperationRunQuery"])
      if (payload.userErrors.length > 0) return yield* userErrorsFailure(shop, "bulkOperationRunQuery", payload.userErrors)
      if (payload.bulkOperation === null) {
        return yield* new ShopifyPermanentError({ shop, operation: "bulkOperationRunQuery", code: "UNEXPECTED_RESPONSE", message: "No bulk operation and no userErrors" })
      }
      return payload.bulkOperation.id
    })

    const bulkOperation = Effect.fn("ShopifyAdmin.bulkOperation")(function*(shop: string, id: string): Effect.fn.Return<BulkOperationInfo, ShopifyError> {
      const data = yield* graphql(shop, BULK_OPERATION, { id })
      const payload = yield* decode(BulkOperationPayload, shop, "bulkOperation")(data)
      if (payload.bulkOperation === null) {
        return yield* new ShopifyPermanentError({ shop, operation: "bulkOperation", code: "NOT_FOUND", message: `Bulk operation ${id} does not exist` })
      }
      return payload.bulkOperation
    })

    const awaitBulkOperation = Effect.fn("ShopifyAdmin.awaitBulkOperation")(function*(
      shop: string,
      id: string,
      options?: { readonly pollIntervalMs?: number }
    ): Effect.fn.Return<BulkOperationInfo, ShopifyError | BulkOperationFailed> {
      const interval = options?.pollIntervalMs ?? o.bulkPollIntervalMs
      for (;;) {
        const op = yield* bulkOperation(shop, id)
        switch (op.status) {
          case "COMPLETED":
            return op
          case "FAILED":
          case "CANCELED":
          case "EXPIRED":
            return yield* new BulkOperationFailed({
              shop,
              id,
              status: op.status,
              errorCode: op.errorCode,
              partialDataUrl: op.partialDataUrl,
              objectCount: op.objectCount,
              message: op.status === "FAILED"
                ? `Bulk operation ${id} failed (${op.errorCode ?? "no error code"}) after ${op.objectCount} objects`
                : op.status === "EXPIRED"
                  ? `Bulk operation ${id} completed but its results expired`
                  : `Bulk operation ${id} was canceled`
            })
          default:
            yield* Effect.sleep(interval)
        }
      }
    })

    const runningBulkOperations = Effect.fn("ShopifyAdmin.runningBulkOperations")(function*(
      shop: string,
      type: BulkOperationType
    ): Effect.fn.Return<ReadonlyArray<RunningBulkOperation>, ShopifyError> {
      const out: Array<RunningBulkOperation> = []
      let after: string | null = null
      for (let page = 0; page < MAX_LISTING_PAGES; page++) {
        const data: GraphQLData = yield* graphql(shop, BULK_OPERATIONS, { query: runningBulkOperationsSearch(type), after })
        const { bulkOperations } = yield* decode(BulkOperationsPayload, shop, "bulkOperations")(data)
        for (const op of bulkOperations.nodes) {
          // Filter again: a search term Shopify ignores must not make us report finished operations.
          if (op.type !== type || (op.status !== "CREATED" && op.status !== "RUNNING")) continue
          out.push({ ...op, clientIdentifier: op.type === "MUTATION" ? clientIdentifierOf(op.query) : null })
        }
        if (!bulkOperations.pageInfo.hasNextPage || bulkOperations.pageInfo.endCursor === null) break
        after = bulkOperations.pageInfo.endCursor
      }
      return out
    })

    const cancelBulkOperation = Effect.fn("ShopifyAdmin.cancelBulkOperation")(function*(shop: string, id: string): Effect.fn.Return<BulkOperationInfo, ShopifyError> {
      const data = yield* graphql(shop, BULK_OPERATION_CANCEL, { id })
      const payload = yield* decode(
        Schema.Struct({ bulkOperation: Schema.NullOr(BulkOperationInfo), userErrors: Schema.Array(UserError) }),
        shop,
        "bulkOperationCancel"
      )(data["bulkOperationCancel"])
      // Canceling a finished operation answers a userError *and* the operation: report the operation.
      if (payload.bulkOperation !== null) return payload.bulkOperation
      return yield* new ShopifyPermanentError({
        shop,
        operation: "bulkOperationCancel",
        code: "NOT_FOUND",
        message: payload.userErrors.map((e) => e.message).join("; ") || `Bulk operation ${id} does not exist`
      })
    })

    const startBulkMutation = Effect.fn("ShopifyAdmin.startBulkMutation")(function*(
      shop: string,
      mutation: string,
      stagedUploadPath: string,
      clientIdentifier: string
    ): Effect.fn.Return<string, ShopifyError> {
      const tagged = tagBulkMutation(mutation, clientIdentifier)
      if ("error" in tagged) {
        return yield* new ShopifyPermanentError({ shop, operation: "bulkOperationRunMutation", code: "INVALID_MUTATION", message: tagged.error })
      }
      for (let attempt = 1;; attempt++) {
        const sent = yield* Effect.result(request(shop, BULK_MUTATION_RUN, { mutation: tagged.document, stagedUploadPath, clientIdentifier }, false))
        if (Result.isFailure(sent)) {
          if (!(sent.failure instanceof ShopifyUnavailable)) return yield* sent.failure
          // The mutation may have been executed before the failure: look for it before resubmitting.
          const existing = yield* findBulkMutation(shop, clientIdentifier)
          if (existing !== null) return existing.id
          if (attempt > o.maxUnavailableRetries) return yield* sent.failure
          const jitter = yield* Random.next
          yield* Effect.sleep(backoffDelay(attempt, o.backoffBaseMs, o.backoffMaxMs, jitter))
          continue
        }
        const payload = yield* decode(RunPayload, shop, "bulkOperationRunMutation")(sent.success["bulkOperationRunMutation"])
        if (payload.userErrors.length > 0) return yield* userErrorsFailure(shop, "bulkOperationRunMutation", payload.userErrors)
        if (payload.bulkOperation === null) {
          return yield* new ShopifyPermanentError({ shop, operation: "bulkOperationRunMutation", code: "UNEXPECTED_RESPONSE", message: "No bulk operation and no userErrors" })
        }
        return payload.bulkOperation.id
      }
    })

    const findBulkMutation = Effect.fn("ShopifyAdmin.findBulkMutation")(function*(
      shop: string,
      clientIdentifier: string
    ): Effect.fn.Return<RunningBulkOperation | null, ShopifyError> {
      // The newest 25 mutations of the app, whatever their status (a small file may already be done).
      const data = yield* graphql(shop, BULK_OPERATIONS, { query: "operation_type:mutation", after: null })
      const { bulkOperations } = yield* decode(BulkOperationsPayload, shop, "bulkOperations")(data)
      for (const op of bulkOperations.nodes) {
        if (op.type === "MUTATION" && clientIdentifierOf(op.query) === clientIdentifier) return { ...op, clientIdentifier }
      }
      return null
    })

    // ----------------------------------------------------------------- transfers

    /** Retries `attempt` while it fails with `ShopifyUnavailable`, with jittered backoff. */
    const withTransferRetries = <A, E, R>(attempt: Effect.Effect<A, E | ShopifyUnavailable, R>): Effect.Effect<A, E | ShopifyUnavailable, R> =>
      Effect.gen(function*() {
        for (let n = 1;; n++) {
          const exit = yield* Effect.exit(attempt)
          if (Exit.isSuccess(exit)) return exit.value
          const failure = exit.cause.reasons.find((r) => r._tag === "Fail")
          const error = failure?._tag === "Fail" ? failure.error : undefined
          if (!(error instanceof ShopifyUnavailable) || n > o.maxUnavailableRetries) return yield* exit
          const jitter = yield* Random.next
          yield* Effect.sleep(backoffDelay(n, o.backoffBaseMs, o.backoffMaxMs, jitter))
        }
      })

    const uploadOnce = <E, R>(url: string, parameters: ReadonlyArray<FormField>, body: Stream.Stream<Uint8Array, E, R>, byteLength: number) =>
      Effect.gen(function*() {
        const host = hostOf(url)
        const envelope = multipartEnvelope(`----SumeruFormBoundary${randomUUID().replace(/-/g, "")}`, parameters, {
          fieldName: "file",
          filename: "bulk_op_vars",
          contentType: "text/jsonl"
        })
        let bodyFailure: { readonly error: E } | undefined
        const full = Stream.succeed(envelope.head).pipe(
          Stream.concat(body.pipe(Stream.tapError((error) => Effect.sync(() => void (bodyFailure = { error }))))),
          Stream.concat(Stream.succeed(envelope.tail))
        )
        const iterable = yield* Stream.toAsyncIterableEffect(full)
        const result = yield* Effect.exit(
          Effect.tryPromise({
            try: (interrupt) =>
              uploadFn({
                url,
                headers: {
                  "Content-Type": envelope.contentType,
                  "Content-Length": String(envelope.head.byteLength + byteLength + envelope.tail.byteLength)
                },
                body: iterable,
                signal: AbortSignal.any([interrupt, AbortSignal.timeout(o.transferTimeoutMs)])
              }),
            catch: (cause) => cause
          })
        )
        if (bodyFailure !== undefined) return yield* Effect.fail(bodyFailure.error)
        if (Exit.isFailure(result)) {
          const failure = result.cause.reasons.find((r) => r._tag === "Fail")
          if (failure === undefined) return yield* Effect.failCause(result.cause as Cause.Cause<never>)
          const cause = failure._tag === "Fail" ? failure.error : undefined
          if (cause instanceof UploadLengthMismatch) {
            return yield* new ShopifyPermanentError({
              shop: host,
              operation: "stagedUpload",
              code: "UPLOAD_LENGTH_MISMATCH",
              message: `The upload body did not yield the declared ${byteLength} bytes (${cause.message})`
            })
          }
          yield* countApiError("network", "staged_upload")
          return yield* new ShopifyUnavailable({ shop: host, operation: "stagedUpload", message: `Upload failed: ${describe(cause)}`, cause })
        }
        const { status, text } = result.value
        if (status === 201) return
        yield* countApiError(String(status), "staged_upload")
        const xml = parseXmlError(text)
        const message = xml === undefined ? `HTTP ${status}: ${bodyMessage(text) ?? ""}` : `${xml.code}: ${xml.message}`
        if (status >= 500 || status === 429) return yield* new ShopifyUnavailable({ shop: host, operation: "stagedUpload", status, message })
        return yield* new ShopifyPermanentError({ shop: host, operation: "stagedUpload", status, code: xml?.code ?? `HTTP_${status}`, message })
      })

    const stagedUpload = <E, R>(shop: string, body: Stream.Stream<Uint8Array, E, R>, byteLength: number): Effect.Effect<string, ShopifyError | E, R> =>
      Effect.gen(function*() {
        const data = yield* graphql(shop, STAGED_UPLOADS_CREATE, {
          input: [{ resource: "BULK_MUTATION_VARIABLES", filename: "bulk_op_vars", mimeType: "text/jsonl", httpMethod: "POST" }]
        })
        const payload = yield* decode(StagedUploadsPayload, shop, "stagedUploadsCreate")(data["stagedUploadsCreate"])
        if (payload.userErrors.length > 0) return yield* userErrorsFailure(shop, "stagedUploadsCreate", payload.userErrors)
        const target = payload.stagedTargets?.[0]
        const key = target?.parameters.find((p) => p.name === "key")?.value
        if (target === undefined || target.url === null || key === undefined) {
          return yield* new ShopifyPermanentError({ shop, operation: "stagedUploadsCreate", code: "UNEXPECTED_RESPONSE", message: "No staged target with a url and a key parameter" })
        }
        yield* withTransferRetries(uploadOnce(target.url, target.parameters, body, byteLength))
        return key
      }).pipe(Effect.withSpan("ShopifyAdmin.stagedUpload", { attributes: { shop, byteLength } }))

    const openDownload = (url: string) =>
      Effect.gen(function*() {
        const host = hostOf(url)
        const controller = new AbortController()
        const opened = yield* Effect.exit(
          Effect.tryPromise({
            try: async (interrupt) => {
              const onInterrupt = () => controller.abort(interrupt.reason)
              interrupt.addEventListener("abort", onInterrupt, { once: true })
              // A deadline for the response headers only: the body may stream for a long time.
              const timer = setTimeout(() => controller.abort(new Error(`no response within ${o.transferTimeoutMs} ms`)), o.transferTimeoutMs)
              try {
                return await downloadFn({ url, signal: controller.signal })
              } finally {
                clearTimeout(timer)
                interrupt.removeEventListener("abort", onInterrupt)
              }
            },
            catch: (cause) => cause
          })
        )
        if (Exit.isFailure(opened)) {
          const failure = opened.cause.reasons.find((r) => r._tag === "Fail")
          if (failure === undefined) return yield* Effect.failCause(opened.cause as Cause.Cause<never>)
          const cause = failure._tag === "Fail" ? failure.error : undefined
          yield* countApiError("network", "download")
          return yield* new ShopifyUnavailable({ shop: host, operation: "downloadJsonl", message: `Download failed: ${describe(cause)}`, cause })
        }
        const response: DownloadResponse = opened.value
        if (response.status === 200) return { response, controller }
        yield* countApiError(String(response.status), "download")
        const body = yield* Effect.promise(() => response.text().catch(() => "")).pipe(Effect.ensuring(Effect.sync(() => response.close())))
        const xml = parseXmlError(body)
        const message = xml === undefined ? `HTTP ${response.status}: ${bodyMessage(body) ?? ""}` : `${xml.code}: ${xml.message}`
        if (response.status >= 500 || response.status === 429) {
          return yield* new ShopifyUnavailable({ shop: host, operation: "downloadJsonl", status: response.status, message })
        }
        return yield* new ShopifyPermanentError({ shop: host, operation: "downloadJsonl", status: response.status, code: xml?.code ?? `HTTP_${response.status}`, message })
      })

    const downloadBytes = (url: string): Stream.Stream<Uint8Array, ShopifyUnavailable | ShopifyPermanentError> =>
      Stream.unwrap(
          Effect.map(withTransferRetries(openDownload(url)), ({ response, controller }) =>
            Stream.fromAsyncIterable(
              response.body,
              (cause) => new ShopifyUnavailable({ shop: hostOf(url), operation: "downloadJsonl", message: `Download interrupted: ${describe(cause)}`, cause })
            ).pipe(
              Stream.tapError(() => countApiError("network", "download")),
              Stream.ensuring(
                Effect.sync(() => {
                  response.close()
                  controller.abort()
                })
              )
            )
        )
      )

    const downloadJsonl = (url: string): Stream.Stream<unknown, ShopifyUnavailable | ShopifyPermanentError> => jsonlValues(downloadBytes(url))

    return ShopifyAdmin.of({
      graphql,
      startBulkQuery,
      bulkOperation,
      awaitBulkOperation,
      runningBulkOperations,
      findBulkMutation,
      cancelBulkOperation,
      downloadJsonl,
      downloadBytes,
      stagedUpload,
      startBulkMutation
    })
  })

/** The live adapter; needs `ShopCredentials`. */
export const layer = (options: ShopifyAdminOptions = {}): Layer.Layer<ShopifyAdmin, never, ShopCredentials> => Layer.effect(ShopifyAdmin, make(options))

/** `layer` with `SHOPIFY_ADMIN_URL_OVERRIDE` (when set) as `adminUrlOverride`. */
export const layerConfig = (options: ShopifyAdminOptions = {}): Layer.Layer<ShopifyAdmin, Config.ConfigError, ShopCredentials> =>
  Layer.unwrap(
    Effect.gen(function*() {
      const override = yield* Config.option(Config.String("SHOPIFY_ADMIN_URL_OVERRIDE"))
      return layer(Option.isSome(override) ? { ...options, adminUrlOverride: override.value } : options)
    })
  )
