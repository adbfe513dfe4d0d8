/**
 * Per-shop fault injection. Each injected fault is consumed by the next matching
 * request, bulk operation or webhook, so tests can script exact failure sequences.
 */
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

interface Queued<T> {
  readonly fault: T
  remaining: number
  readonly match: RequestMatch | undefined
}

/** Information about a request that faults are matched against. */
export interface RequestInfo {
  readonly rootFields: ReadonlyArray<string>
  readonly operationName: string | undefined
}

const matches = (match: RequestMatch | undefined, info: RequestInfo): boolean =>
  match === undefined ||
  ((match.rootField === undefined || info.rootFields.includes(match.rootField)) &&
    (match.operationName === undefined || match.operationName === info.operationName))

/** Fault controls of one shop. All counts are consumed in FIFO order. */
export class ShopFaults {
  readonly #requests: Array<Queued<RequestFault>> = []
  readonly #bulkFailures: Array<BulkFailureFault> = []
  readonly #lineErrors = new Map<string, InjectedOwnerError>()
  #dropWebhooks = 0
  #duplicateWebhooks = 0
  readonly #hangs = new Set<() => void>()
  readonly #hangWaiters: Array<{ readonly count: number; readonly resolve: () => void }> = []

  /** The next `count` matching GraphQL requests answer THROTTLED (HTTP 200, no data). */
  throttleNext(count = 1, match?: RequestMatch): this {
    this.#requests.push({ fault: { kind: "throttle" }, remaining: count, match })
    return this
  }

  /** The next `count` matching GraphQL requests answer with an HTTP error (e.g. 500, 502, 503, 429). */
  httpErrorNext(status: number, count = 1, options: Omit<HttpErrorFault, "status"> & { readonly match?: RequestMatch } = {}): this {
    const { match, ...rest } = options
    this.#requests.push({ fault: { kind: "http", status, ...rest }, remaining: count, match })
    return this
  }

  /**
   * The next `count` matching GraphQL requests never answer: they hang until the client
   * aborts, `releaseHangs()` is called (they then get a 504) or the simulator closes.
   */
  hangNext(count = 1, match?: RequestMatch): this {
    this.#requests.push({ fault: { kind: "hang" }, remaining: count, match })
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
    for (const release of [...this.#hangs]) release()
    this.#hangs.clear()
  }

  /** Removes every pending fault (hanging requests are released). */
  clear(): void {
    this.#requests.length = 0
    this.#bulkFailures.length = 0
    this.#lineErrors.clear()
    this.#dropWebhooks = 0
    this.#duplicateWebhooks = 0
    this.releaseHangs()
  }

  /** Number of requests currently hanging. */
  get hangingRequests(): number {
    return this.#hangs.size
  }

  /** Resolves when the next request starts hanging (register before sending it). */
  nextHang(): Promise<void> {
    return new Promise((resolve) => this.#hangWaiters.push({ count: -1, resolve }))
  }

  /** Resolves once at least `count` requests are hanging (a sync point for tests). */
  whenHanging(count = 1): Promise<void> {
    if (this.#hangs.size >= count) return Promise.resolve()
    return new Promise((resolve) => this.#hangWaiters.push({ count, resolve }))
  }

  // ------------------------------------------------------------------ internal

  /** @internal Consumes the first queued request fault matching `info`. */
  takeRequestFault(info: RequestInfo): RequestFault | undefined {
    const index = this.#requests.findIndex((q) => q.remaining > 0 && matches(q.match, info))
    if (index === -1) return undefined
    const queued = this.#requests[index] as Queued<RequestFault>
    queued.remaining--
    if (queued.remaining <= 0) this.#requests.splice(index, 1)
    return queued.fault
  }

  /** @internal Registers a hanging request's release function. */
  trackHang(release: () => void): () => void {
    this.#hangs.add(release)
    for (const w of [...this.#hangWaiters]) {
      if (w.count === -1 || this.#hangs.size >= w.count) {
        this.#hangWaiters.splice(this.#hangWaiters.indexOf(w), 1)
        w.resolve()
      }
    }
    return () => this.#hangs.delete(release)
  }

  /** @internal Consumes a bulk failure for a new operation of `type`. */
  takeBulkFailure(type: "QUERY" | "MUTATION"): BulkFailureFault | undefined {
    const index = this.#bulkFailures.findIndex((f) => f.type === undefined || f.type === type)
    if (index === -1) return undefined
    return this.#bulkFailures.splice(index, 1)[0]
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
