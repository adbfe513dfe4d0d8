/**
 * The description of one injected HTTP fault: what `HttpFaults` rules apply to a request,
 * and what the request log records as the fault that shaped an exchange. A plain data
 * shape, so both the fault rules and the log can name it without depending on each other.
 */
/**
 * What an HTTP fault does. The steps run in this order: wait `latencyMs`; then `drop`, or
 * `hang`, or answer `status`; a fault with none of these (latency only) lets the
 * simulator answer normally, late.
 */
export interface HttpFault {
  /** Answer with this status instead of the simulator's own answer (after a hang: default 504). */
  readonly status?: number
  /** Extra answer headers, e.g. `{ "Retry-After": "3" }` or `x-ratelimit-*`. */
  readonly headers?: Readonly<Record<string, string>>
  /** Answer body: a string as is, anything else as JSON. Default: the simulator's body for the status. */
  readonly body?: unknown
  /** Content type of `body` (default: from the simulator's default body, else JSON). */
  readonly contentType?: string
  /** Wait this long before answering (or before the simulator answers). */
  readonly latencyMs?: number
  /** Never answer: hold the request until the client aborts, `hangs.releaseAll()` or the server stops. */
  readonly hang?: boolean
  /** Close the connection without an answer (the client sees a reset socket). */
  readonly drop?: boolean
}
