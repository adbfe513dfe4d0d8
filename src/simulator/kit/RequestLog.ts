/**
 * What a simulator saw, for tests to assert on. `RequestLog<E>` is an append-only list of
 * entries with the queries tests keep writing (filter, last, count, "since this point",
 * "wait until it arrives"). The kit's server records every HTTP exchange in one
 * (`HttpExchange`); a simulator may keep its own protocol-level log too (the Shopify
 * simulator logs each GraphQL request's root fields and outcome per shop).
 */
import type { HttpFault } from "./HttpFault.ts"

/** One HTTP request as the simulator's server saw it, and how it was answered. */
export interface HttpExchange {
  /** 1, 2, 3… in arrival order (keeps counting when old entries are evicted). */
  readonly seq: number
  readonly method: string
  /** Path without the query string, e.g. `/v1/messages`. */
  readonly path: string
  /** Query parameters (the last value wins when one repeats; `search` has them all). */
  readonly query: Readonly<Record<string, string>>
  /** The raw query string, with its `?` (or ""). */
  readonly search: string
  /** Request headers, names in lower case. */
  readonly headers: Readonly<Record<string, string>>
  /**
   * The request body as text, when it was captured: a declared `Content-Length` within the
   * capture limit and not multipart. Undefined for bodiless and uncaptured requests.
   */
  readonly body: string | undefined
  /** Arrival time on the simulator's clock. */
  readonly startedAt: number
  /** How it ended; `"pending"` while the handler (or a fault) still holds it. */
  outcome: "pending" | "answered" | "fault" | "hung" | "dropped" | "aborted" | "error"
  /** The status answered (undefined while pending, and when dropped or aborted). */
  status: number | undefined
  /** When the answer's head was sent (simulator clock), or the request ended otherwise. */
  endedAt: number | undefined
  /** The injected fault that shaped the answer, if any. */
  fault: HttpFault | undefined
}

/** The body of an exchange parsed as JSON (undefined when absent or not JSON). */
export const jsonBody = <T = any>(entry: { readonly body: string | undefined }): T | undefined => {
  if (entry.body === undefined || entry.body === "") return undefined
  try {
    return JSON.parse(entry.body) as T
  } catch {
    return undefined
  }
}

export interface RequestLogOptions {
  /** Keep at most this many entries (the oldest are evicted). Default: unlimited. */
  readonly limit?: number
}

/** An append-only log of entries, oldest first. */
export class RequestLog<E> {
  readonly #entries: Array<E> = []
  readonly #limit: number
  #total = 0
  readonly #waiters = new Set<() => void>()

  constructor(options: RequestLogOptions = {}) {
    this.#limit = options.limit ?? Number.POSITIVE_INFINITY
  }

  /** Appends an entry (and wakes `waitFor` callers); returns it. */
  record(entry: E): E {
    this.#entries.push(entry)
    this.#total++
    if (this.#entries.length > this.#limit) this.#entries.splice(0, this.#entries.length - this.#limit)
    this.notify()
    return entry
  }

  /**
   * Wakes `waitFor` callers without appending: call it after changing an entry in place
   * (e.g. when a recorded request gets its answer).
   */
  notify(): void {
    for (const wake of [...this.#waiters]) wake()
  }

  /** The live list of entries, oldest first (do not mutate). */
  get entries(): ReadonlyArray<E> {
    return this.#entries
  }

  /** Entries kept now. */
  get length(): number {
    return this.#entries.length
  }

  /** Entries ever recorded (including evicted ones): use as a mark for `since`. */
  get total(): number {
    return this.#total
  }

  filter(predicate: (entry: E) => boolean): ReadonlyArray<E> {
    return this.#entries.filter(predicate)
  }

  find(predicate: (entry: E) => boolean): E | undefined {
    return this.#entries.find(predicate)
  }

  /** The most recent entry (matching `predicate`, if given). */
  last(predicate?: (entry: E) => boolean): E | undefined {
    for (let i = this.#entries.length - 1; i >= 0; i--) {
      const e = this.#entries[i] as E
      if (predicate === undefined || predicate(e)) return e
    }
    return undefined
  }

  /** How many entries (matching `predicate`, if given). */
  count(predicate?: (entry: E) => boolean): number {
    return predicate === undefined ? this.#entries.length : this.#entries.filter(predicate).length
  }

  /** Entries recorded after `mark` (a value of `total` read earlier). */
  since(mark: number): ReadonlyArray<E> {
    const evicted = this.#total - this.#entries.length
    return this.#entries.slice(Math.max(0, mark - evicted))
  }

  /**
   * Resolves with the matching entries once at least `count` entries match `predicate`
   * (checked on every `record`/`notify`); rejects after `timeoutMs` (default 5 s).
   */
  waitFor(predicate: (entry: E) => boolean, count = 1, timeoutMs = 5000): Promise<ReadonlyArray<E>> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        const found = this.#entries.filter(predicate)
        if (found.length < count) return false
        this.#waiters.delete(wake)
        clearTimeout(timer)
        resolve(found)
        return true
      }
      const wake = (): void => void check()
      const timer = setTimeout(() => {
        this.#waiters.delete(wake)
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${count} matching log entr${count === 1 ? "y" : "ies"} (have ${this.#entries.filter(predicate).length})`))
      }, timeoutMs)
      this.#waiters.add(wake)
      check()
    })
  }

  /** Forgets every entry (`total` keeps counting). */
  clear(): void {
    this.#entries.length = 0
  }

  [Symbol.iterator](): Iterator<E> {
    return this.#entries[Symbol.iterator]()
  }
}

/** HTTP exchanges to `method` + `path` (a string compares exactly, a RegExp tests). */
export const exchangesTo = (log: RequestLog<HttpExchange>, method: string, path: string | RegExp): ReadonlyArray<HttpExchange> =>
  log.filter((e) => e.method === method.toUpperCase() && (typeof path === "string" ? e.path === path : path.test(e.path)))
