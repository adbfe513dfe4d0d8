/**
 * Per-shop fault injection. Each injected fault is consumed by the next matching
 * request, bulk operation or webhook, so tests can script exact failure sequences.
 * Request faults are the kit's `FaultQueue` matched on GraphQL root fields and operation
 * names; hanging requests are the kit's `Hangs`. (Faults on any path, latency and dropped
 * connections are the kit's `HttpFaults`, at `sim.http.faults`.)
 */
import { FaultQueue, Hangs } from "../kit/Faults.ts"
import type { InjectedOwnerError } from "./metafields.ts"

/** Restricts a request fault to requests whose document has this root field / name. */
export interface RequestMatch {
  /** e.g. `"bulkOperationRunMutation"`: only requests selecting this root field. */
  readonly rootField?: string
  /** Only requests whose operation has this name. */
  readonly operationName?: string
}

/** What an injected HTTP error answers with. */
export interface HttpErrorFault {
  readonly status: number
  readonly body?: string
  readonly contentType?: string
  readonly retryAfter?: string
}

export type RequestFault =
  | { readonly kind: "throttle" }
  | ({ readonly kind: "http" } & HttpErrorFault)
  | { readonly kind: "hang" }

/** A bulk operation failure to inject. */
export interface BulkFailureFault {
  /** Default `INTERNAL_SERVER_ERROR`. */
  readonly errorCode?: "ACCESS_DENIED" | "INTERNAL_SERVER_ERROR" | "TIMEOUT"
  /** Only operations of this type (default: the next operation of either type). */
  readonly type?: "QUERY" | "MUTATION"
  /**
   * Fail after this many objects were written (default 0). With a positive value the
   * operation gets a `partialDataUrl` with what was written before the failure.
   */
  readonly afterObjects?: number
}

/**
 * A userError to answer instead of running a root mutation field (see `userErrorNext`).
 * `code` is only served where the payload's error type has a `code` field.
 */
export interface InjectedUserError {
  readonly message: string
  readonly field?: ReadonlyArray<string> | null
  readonly code?: string | null
}

/** Information about a request that faults are matched against. */
export interface RequestInfo {
  readonly rootFields: ReadonlyArray<string>
  readonly operationName: string | undefined
}

const matcher = (match: RequestMatch | undefined): { readonly match?: (info: RequestInfo) => boolean } =>
  match === undefined
    ? {}
    : {
        match: (info) =>
          (match.rootField === undefined || info.rootFields.includes(match.rootField)) &&
          (match.operationName === undefined || match.operationName === info.operationName)
      }

/** Fault controls of one shop. All counts are consumed in FIFO order. */
export class ShopFaults {
  readonly #requests = new FaultQueue<RequestFault, RequestInfo>()
  readonly #bulkFailures: Array<BulkFailureFault> = []
  readonly #lineErrors = new Map<string, InjectedOwnerError>()
  /** Root mutation field → userErrors to answer, one per call, FIFO. */
  readonly #userErrors = new Map<string, Array<InjectedUserError>>()
  #dropWebhooks = 0
  #duplicateWebhooks = 0
  /** Requests held by `hangNext` faults. */
  readonly hangs = new Hangs()

  /** The next `count` matching GraphQL requests answer THROTTLED (HTTP 200, no data). */
  throttleNext(count = 1, match?: RequestMatch): this {
    this.#requests.add({ kind: "throttle" }, { count, ...matcher(match) })
    return this
  }

  /** The next `count` matching GraphQL requests answer with an HTTP error (e.g. 500, 502, 503, 429). */
  httpErrorNext(status: number, count = 1, options: Omit<HttpErrorFault, "status"> & { readonly match?: RequestMatch } = {}): this {
    const { match, ...rest } = options
    this.#requests.add({ kind: "http", status, ...rest }, { count, ...matcher(match) })
    return this
  }

  /**
   * The next `count` matching GraphQL requests never answer: they hang until the client
   * aborts, `releaseHangs()` is called (they then get a 504) or the simulator closes.
   */
  hangNext(count = 1, match?: RequestMatch): this {
    this.#requests.add({ kind: "hang" }, { count, ...matcher(match) })
    return this
  }

  /**
   * The next `count` calls of the root mutation field `rootField` (e.g. `"urlRedirectCreate"`,
   * in a request or a bulk mutation line) answer a payload whose only content is this
   * userError (every other payload field null) and change nothing. Unlike `throttleNext` /
   * `httpErrorNext`, the request itself succeeds (HTTP 200, cost charged): this is how
   * Shopify reports a failure it considers the caller's, or a transient one such as
   * "Something went wrong, please try again".
   */
  userErrorNext(rootField: string, error: InjectedUserError, count = 1): this {
    const queue = this.#userErrors.get(rootField) ?? []
    for (let i = 0; i < count; i++) queue.push(error)
    this.#userErrors.set(rootField, queue)
    return this
  }

  /** The next bulk operation (of `type`, if given) ends FAILED with `errorCode`. */
  failNextBulkOperation(fault: BulkFailureFault = {}): this {
    this.#bulkFailures.push(fault)
    return this
  }

  /**
   * Metafield mutations (direct or in bulk mutations) on these owners fail with a userError
   * (default code `INTERNAL_ERROR`) until `clearBulkLineErrors()`.
   */
  failMutationsFor(ownerIds: ReadonlyArray<string>, error: Partial<InjectedOwnerError> = {}): this {
    for (const id of ownerIds) {
      this.#lineErrors.set(id, {
        code: error.code ?? "INTERNAL_ERROR",
        message: error.message ?? "An unexpected error occurred while saving the metafield."
      })
    }
    return this
  }

  clearMutationErrors(): this {
    this.#lineErrors.clear()
    return this
  }

  /** The next `count` webhooks of this shop are silently dropped (never delivered). */
  dropWebhooks(count = 1): this {
    this.#dropWebhooks += count
    return this
  }

  /** The next `count` webhooks are delivered twice (same event id, new webhook id). */
  duplicateWebhooks(count = 1): this {
    this.#duplicateWebhooks += count
    return this
  }

  /** Answers every hanging request with a 504 now. */
  releaseHangs(): void {
    this.hangs.releaseAll()
  }

  /** Removes every pending fault (hanging requests are released). */
  clear(): void {
    this.#requests.clear()
    this.#bulkFailures.length = 0
    this.#lineErrors.clear()
    this.#userErrors.clear()
    this.#dropWebhooks = 0
    this.#duplicateWebhooks = 0
    this.releaseHangs()
  }

  /** Number of requests currently hanging. */
  get hangingRequests(): number {
    return this.hangs.count
  }

  /** Resolves when the next request starts hanging (register before sending it). */
  nextHang(): Promise<void> {
    return this.hangs.next()
  }

  /** Resolves once at least `count` requests are hanging (a sync point for tests). */
  whenHanging(count = 1): Promise<void> {
    return this.hangs.whenHanging(count)
  }

  // ------------------------------------------------------------------ internal

  /** @internal Consumes the first queued request fault matching `info`. */
  takeRequestFault(info: RequestInfo): RequestFault | undefined {
    return this.#requests.take(info)
  }

  /** @internal Consumes a bulk failure for a new operation of `type`. */
  takeBulkFailure(type: "QUERY" | "MUTATION"): BulkFailureFault | undefined {
    const index = this.#bulkFailures.findIndex((f) => f.type === undefined || f.type === type)
    if (index === -1) return undefined
    return this.#bulkFailures.splice(index, 1)[0]
  }

  /** @internal Consumes the next injected userError for root mutation field `rootField`. */
  takeUserError(rootField: string): InjectedUserError | undefined {
    const queue = this.#userErrors.get(rootField)
    const error = queue?.shift()
    if (queue !== undefined && queue.length === 0) this.#userErrors.delete(rootField)
    return error
  }

  /** @internal Owner errors for metafield mutations. */
  get ownerErrors(): ReadonlyMap<string, InjectedOwnerError> {
    return this.#lineErrors
  }

  /** @internal Whether the next webhook must be dropped (consumes one). */
  takeWebhookDrop(): boolean {
    if (this.#dropWebhooks <= 0) return false
    this.#dropWebhooks--
    return true
  }

  /** @internal Whether the next webhook must be duplicated (consumes one). */
  takeWebhookDuplicate(): boolean {
    if (this.#duplicateWebhooks <= 0) return false
    this.#duplicateWebhooks--
    return true
  }
}
