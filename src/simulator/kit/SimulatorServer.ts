/**
 * The HTTP side every simulator shares: a server on a free loopback port (port 0, so
 * parallel test files never collide) around the simulator's own fetch handler (a Hono
 * app's `fetch`, or any `(Request) => Response`). In front of that handler it records each
 * request in a `RequestLog<HttpExchange>` and applies the queued `HttpFaults` (latency,
 * error status, hang, dropped connection) before the simulator sees the request.
 */
import type { AddressInfo } from "node:net"
import { setTimeout as sleep } from "node:timers/promises"
import { serve, type ServerType } from "@hono/node-server"
import { HttpFaults } from "./Faults.ts"
import { RequestLog, type HttpExchange } from "./RequestLog.ts"
import { systemClock, type Clock } from "./SimulatedClock.ts"

/** A simulator's request handler. `env` is the Node binding (`{ incoming, outgoing }`) when served. */
export type FetchHandler = (request: Request, env?: any) => Response | Promise<Response>

/** What sits in front of the simulator's handler. */
export interface InstrumentOptions {
  /** The fault rules to apply (default: a new, empty `HttpFaults`). */
  readonly faults?: HttpFaults
  /** Where exchanges are recorded (default: a new log keeping the last 10,000). */
  readonly log?: RequestLog<HttpExchange>
  /** Timestamps of the log (default: the wall clock). */
  readonly clock?: Clock
  /** Request bodies up to this size (declared `Content-Length`) are captured as text. Default 1 MiB. */
  readonly captureBodyBytes?: number
  /**
   * Requests under this path prefix (the simulator's test-control API) skip faults and
   * the log. Default `"/__sim/"`; `null` to instrument every path.
   */
  readonly controlPrefix?: string | null
}

/** A handler with faults and a request log in front of it. */
export interface InstrumentedHandler {
  readonly fetch: (request: Request, env?: any) => Promise<Response>
  readonly faults: HttpFaults
  readonly log: RequestLog<HttpExchange>
  /** Ends latency waits and releases hanging requests (the server calls it on stop). */
  shutdown(): void
}

const DEFAULT_LOG_LIMIT = 10_000
const DEFAULT_CAPTURE_BYTES = 1024 * 1024

/** Where a fault stopped the request. */
const ABORTED = (): Response => new Response(null, { status: 499 })

/**
 * Wraps `handler`: every request (outside `controlPrefix`) is logged on arrival, then the
 * first matching fault rule is applied; without one (or after a latency-only fault) the
 * handler answers and the log entry gets its status.
 */
export const instrument = (handler: FetchHandler, options: InstrumentOptions = {}): InstrumentedHandler => {
  const faults = options.faults ?? new HttpFaults()
  const log = options.log ?? new RequestLog<HttpExchange>({ limit: DEFAULT_LOG_LIMIT })
  const clock = options.clock ?? systemClock
  const capture = options.captureBodyBytes ?? DEFAULT_CAPTURE_BYTES
  const controlPrefix = options.controlPrefix === undefined ? "/__sim/" : options.controlPrefix
  const stopping = new AbortController()
  let seq = 0

  const finish = (entry: HttpExchange, outcome: HttpExchange["outcome"], status: number | undefined): void => {
    entry.outcome = outcome
    entry.status = status
    entry.endedAt = clock()
    log.notify()
  }

  const fetch = async (request: Request, env?: any): Promise<Response> => {
    const url = new URL(request.url)
    if (controlPrefix !== null && url.pathname.startsWith(controlPrefix)) return handler(request, env)

    const headers: Record<string, string> = {}
    request.headers.forEach((value, name) => {
      headers[name] = value
    })
    const declared = Number(request.headers.get("content-length") ?? "NaN")
    const multipart = (request.headers.get("content-type") ?? "").toLowerCase().startsWith("multipart/")
    const body = request.body !== null && declared > 0 && declared <= capture && !multipart ? await request.clone().text() : undefined
    const entry: HttpExchange = log.record({
      seq: ++seq,
      method: request.method.toUpperCase(),
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      search: url.search,
      headers,
      body,
      startedAt: clock(),
      outcome: "pending",
      status: undefined,
      endedAt: undefined,
      fault: undefined
    })

    const fault = faults.take(entry)
    if (fault !== undefined) {
      entry.fault = fault
      const signal = AbortSignal.any([request.signal, stopping.signal])
      if (fault.latencyMs !== undefined && fault.latencyMs > 0) {
        const waited = await sleep(fault.latencyMs, true, { signal }).catch(() => false)
        if (!waited) {
          finish(entry, "aborted", undefined)
          return ABORTED()
        }
      }
      if (fault.drop === true) {
        finish(entry, "dropped", undefined)
        const socket = env?.incoming?.socket as { destroy(): void } | undefined
        if (socket === undefined) throw new TypeError("simulated dropped connection")
        socket.destroy()
        return ABORTED()
      }
      if (fault.hang === true) {
        entry.outcome = "hung"
        log.notify()
        if ((await faults.hangs.hold(signal)) === "aborted") {
          finish(entry, "aborted", undefined)
          return ABORTED()
        }
        const status = fault.status ?? 504
        finish(entry, "hung", status)
        return faults.respond(fault, status)
      }
      if (fault.status !== undefined) {
        finish(entry, "fault", fault.status)
        return faults.respond(fault, fault.status)
      }
    }

    try {
      const response = await handler(request, env)
      finish(entry, "answered", response.status)
      return response
    } catch (error) {
      finish(entry, "error", 500)
      throw error
    }
  }

  return {
    fetch,
    faults,
    log,
    shutdown: () => {
      stopping.abort()
      faults.hangs.releaseAll()
    }
  }
}

export interface SimulatorServerOptions extends InstrumentOptions {
  /** The simulator's handler (e.g. `app.fetch` of a Hono app). */
  readonly fetch: FetchHandler
  /** Default 0: a free port chosen by the OS. */
  readonly port?: number
  /** Default `127.0.0.1` (loopback only). */
  readonly hostname?: string
}

/** A running simulator server. */
export interface SimulatorServer {
  /** `http://127.0.0.1:<port>` — hand it to the client under test as the API's base URL. */
  readonly url: string
  readonly port: number
  readonly hostname: string
  /** Fault rules applied to incoming requests. */
  readonly faults: HttpFaults
  /** Every request received (outside the control prefix), oldest first. */
  readonly log: RequestLog<HttpExchange>
  /**
   * Stops: ends latency waits, releases hanging requests, closes every connection and the
   * listening socket. Resolves once the port is free. Safe to call twice.
   */
  stop(): Promise<void>
}

/** Listens on `hostname:port` (127.0.0.1:0 by default) with `options.fetch` behind faults and a log. */
export const startSimulatorServer = async (options: SimulatorServerOptions): Promise<SimulatorServer> => {
  const instrumented = instrument(options.fetch, options)
  const hostname = options.hostname ?? "127.0.0.1"
  let server: ServerType | undefined
  const info = await new Promise<AddressInfo>((resolve, reject) => {
    server = serve({ fetch: instrumented.fetch, port: options.port ?? 0, hostname }, resolve)
    server.once("error", reject)
  })
  const listening = server as ServerType
  let stopped: Promise<void> | undefined
  return {
    url: `http://${hostname.includes(":") ? `[${hostname}]` : hostname}:${info.port}`,
    port: info.port,
    hostname,
    faults: instrumented.faults,
    log: instrumented.log,
    stop: () =>
      (stopped ??= new Promise<void>((resolve) => {
        instrumented.shutdown()
        listening.close(() => resolve())
        if ("closeAllConnections" in listening) listening.closeAllConnections()
      }))
  }
}
