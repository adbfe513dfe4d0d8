/**
 * Per-test fault injection. A test queues rules ("the next 2 POSTs to /v1/messages answer
 * 429 with Retry-After: 3"); each matching request consumes one use of the first rule that
 * matches it, in the order the rules were added, so a test scripts an exact sequence of
 * failures and then sees the simulator answer normally again.
 *
 * Three layers, from generic to HTTP:
 * - `FaultQueue<F, I>`: rules of any fault type `F`, matched against any request info `I`
 *   (a simulator uses it for protocol faults, e.g. Shopify's THROTTLED GraphQL answers);
 * - `Hangs`: requests held open until the client gives up or the test releases them;
 * - `HttpFaults`: HTTP rules (status, headers, body, latency, hang, dropped connection)
 *   matched by method, path and a predicate, applied by the kit's server before the
 *   simulator's handler runs.
 */
import { STATUS_CODES } from "node:http"
import type { HttpFault } from "./HttpFault.ts"
import type { HttpExchange } from "./RequestLog.ts"

/** How many requests a rule applies to, and which. */
export interface FaultOptions<I> {
  /** The next `count` matching requests (default 1; `Infinity` for every one until cleared). */
  readonly count?: number
  /** Only requests for which this holds (default: every request). */
  readonly match?: (info: I) => boolean
}

interface Rule<F, I> {
  readonly fault: F
  remaining: number
  readonly match: ((info: I) => boolean) | undefined
}

/** Queued fault rules, consumed first-added-first by matching requests. */
export class FaultQueue<F, I> {
  readonly #rules: Array<Rule<F, I>> = []

  /** Queues `fault` for the next `count` requests matching `match`. */
  add(fault: F, options: FaultOptions<I> = {}): this {
    const count = options.count ?? 1
    if (count > 0) this.#rules.push({ fault, remaining: count, match: options.match })
    return this
  }

  /** Consumes one use of the first rule matching `info`; undefined when none does. */
  take(info: I): F | undefined {
    const index = this.#rules.findIndex((r) => r.remaining > 0 && (r.match === undefined || r.match(info)))
    if (index === -1) return undefined
    const rule = this.#rules[index] as Rule<F, I>
    rule.remaining--
    if (rule.remaining <= 0) this.#rules.splice(index, 1)
    return rule.fault
  }

  /** Rules not used up yet, in order, with their remaining uses. */
  pending(): ReadonlyArray<{ readonly fault: F; readonly remaining: number }> {
    return this.#rules.map((r) => ({ fault: r.fault, remaining: r.remaining }))
  }

  /** Drops every rule. */
  clear(): void {
    this.#rules.length = 0
  }
}

/**
 * Requests held open on purpose (a "hang" fault): each waits until its client aborts or
 * the test calls `releaseAll()`. Tests can wait until a request is actually hanging
 * before they act (abort it, advance time, kill a worker).
 */
export class Hangs {
  readonly #held = new Set<() => void>()
  readonly #waiters: Array<{ readonly count: number; readonly resolve: () => void }> = []

  /** Holds the caller until released (`"released"`) or `signal` aborts (`"aborted"`). */
  hold(signal?: AbortSignal): Promise<"released" | "aborted"> {
    return new Promise((resolve) => {
      const onAbort = (): void => {
        this.#held.delete(release)
        resolve("aborted")
      }
      const release = (): void => {
        signal?.removeEventListener("abort", onAbort)
        resolve("released")
      }
      this.#held.add(release)
      this.#wake()
      if (signal?.aborted) onAbort()
      else signal?.addEventListener("abort", onAbort, { once: true })
    })
  }

  /** Lets every held request go on now. */
  releaseAll(): void {
    const held = [...this.#held]
    this.#held.clear()
    for (const release of held) release()
  }

  /** Requests held now. */
  get count(): number {
    return this.#held.size
  }

  /** Resolves when the next request starts hanging (call it before sending that request). */
  next(): Promise<void> {
    return new Promise((resolve) => this.#waiters.push({ count: -1, resolve }))
  }

  /** Resolves once at least `count` requests are held. */
  whenHanging(count = 1): Promise<void> {
    if (this.#held.size >= count) return Promise.resolve()
    return new Promise((resolve) => this.#waiters.push({ count, resolve }))
  }

  #wake(): void {
    for (const w of [...this.#waiters]) {
      if (w.count === -1 || this.#held.size >= w.count) {
        this.#waiters.splice(this.#waiters.indexOf(w), 1)
        w.resolve()
      }
    }
  }
}

// ---------------------------------------------------------------------------------------
// HTTP faults

/** Which requests an HTTP rule applies to; every given criterion must hold. */
export interface HttpMatch {
  /** e.g. `"POST"` (any case). */
  readonly method?: string
  /** Exact path (`"/v1/messages"`) or a pattern (`/^\/v\d+\/customers\//`). */
  readonly path?: string | RegExp
  /** Any other condition on the request (headers, query, captured body). */
  readonly where?: (request: HttpExchange) => boolean
}

/** Options of the HTTP fault helpers. */
export interface HttpFaultOptions {
  /** The next `count` matching requests (default 1; `Infinity` for all until cleared). */
  readonly count?: number
  readonly match?: HttpMatch
}

/** The simulator's own body for an error status (its protocol's error shape). */
export type DefaultErrorBody = (status: number) => { readonly body: string; readonly contentType: string } | undefined

const matcher = (match: HttpMatch | undefined): ((request: HttpExchange) => boolean) | undefined => {
  if (match === undefined) return undefined
  const method = match.method?.toUpperCase()
  const path = match.path
  return (request) =>
    (method === undefined || request.method === method) &&
    (path === undefined || (typeof path === "string" ? request.path === path : path.test(request.path))) &&
    (match.where === undefined || match.where(request))
}

/** A generic JSON error body: `{"error":{"status":503,"message":"Service Unavailable"}}`. */
export const genericErrorBody = (status: number): { readonly body: string; readonly contentType: string } => ({
  body: JSON.stringify({ error: { status, message: STATUS_CODES[status] ?? `HTTP ${status}` } }),
  contentType: "application/json; charset=utf-8"
})

/**
 * The answer for a fault with a status: the fault's body and content type, else the
 * simulator's default for that status, plus the fault's headers.
 */
export const faultResponse = (fault: HttpFault, status: number, defaultBody: DefaultErrorBody = genericErrorBody): Response => {
  const fallback = defaultBody(status) ?? genericErrorBody(status)
  const isJson = fault.body !== undefined && typeof fault.body !== "string"
  const body = fault.body === undefined ? fallback.body : isJson ? JSON.stringify(fault.body) : (fault.body as string)
  const headers = new Headers({ "Content-Type": fault.contentType ?? (isJson ? "application/json; charset=utf-8" : fallback.contentType) })
  for (const [name, value] of Object.entries(fault.headers ?? {})) headers.set(name, value)
  return new Response(status === 204 || status === 304 ? null : body, { status, headers })
}

/** The HTTP fault rules of one simulator server. */
export class HttpFaults {
  /** Requests held by `hang` faults. */
  readonly hangs = new Hangs()
  readonly #queue = new FaultQueue<HttpFault, HttpExchange>()
  readonly #defaultBody: DefaultErrorBody

  /** `defaultBody` gives error answers the protocol's shape when a fault names no body. */
  constructor(options: { readonly defaultBody?: DefaultErrorBody } = {}) {
    this.#defaultBody = options.defaultBody ?? genericErrorBody
  }

  /** Queues any fault for the next `count` matching requests. */
  next(fault: HttpFault, options: HttpFaultOptions = {}): this {
    const match = matcher(options.match)
    this.#queue.add(fault, { ...(options.count !== undefined ? { count: options.count } : {}), ...(match !== undefined ? { match } : {}) })
    return this
  }

  /** The next matching requests answer `status` (5xx, 4xx…), with the protocol's default body unless one is given. */
  failNext(status: number, options: HttpFaultOptions & Omit<HttpFault, "status"> = {}): this {
    const { count, match, ...fault } = options
    return this.next({ ...fault, status }, { ...(count !== undefined ? { count } : {}), ...(match !== undefined ? { match } : {}) })
  }

  /** The next matching requests are rate limited: `status` (default 429) with `Retry-After: <seconds>`. */
  rateLimitNext(retryAfterSeconds: number, options: HttpFaultOptions & HttpFault = {}): this {
    const { status, headers, ...rest } = options
    return this.failNext(status ?? 429, { ...rest, headers: { "Retry-After": String(retryAfterSeconds), ...headers } })
  }

  /** The next matching requests are answered normally, but `ms` late. */
  delayNext(ms: number, options: HttpFaultOptions = {}): this {
    return this.next({ latencyMs: ms }, options)
  }

  /** The next matching requests hang (see `HttpFault.hang`). */
  hangNext(options: HttpFaultOptions & Pick<HttpFault, "status"> = {}): this {
    const { status, ...rest } = options
    return this.next({ hang: true, ...(status !== undefined ? { status } : {}) }, rest)
  }

  /** The next matching requests lose their connection without an answer. */
  dropNext(options: HttpFaultOptions = {}): this {
    return this.next({ drop: true }, options)
  }

  /** Rules not used up yet. */
  pending(): ReadonlyArray<{ readonly fault: HttpFault; readonly remaining: number }> {
    return this.#queue.pending()
  }

  /** Drops every rule and releases hanging requests. */
  clear(): void {
    this.#queue.clear()
    this.hangs.releaseAll()
  }

  /** @internal Consumes the fault for `request`, if any. */
  take(request: HttpExchange): HttpFault | undefined {
    return this.#queue.take(request)
  }

  /** The answer for `fault` with `status` in this simulator's error shape. */
  respond(fault: HttpFault, status: number): Response {
    return faultResponse(fault, status, this.#defaultBody)
  }
}
