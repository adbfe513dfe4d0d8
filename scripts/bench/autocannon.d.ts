/**
 * The part of autocannon 8's programmatic API that `bench:ingress` uses (the package ships
 * no types). Shapes from node_modules/autocannon/lib/{run,requestIterator,httpClient}.js.
 */
declare module "autocannon" {
  import type { EventEmitter } from "node:events"

  namespace autocannon {
    interface RequestParams {
      method?: string
      path?: string
      headers?: Record<string, string>
      body?: string | Buffer
    }

    /** Per connection, reset before each request when `requests` has one entry. */
    type Context = Record<string, unknown>

    interface Request extends RequestParams {
      /** Called before each request is built; return the request to send (or a falsy value to skip). */
      setupRequest?: (request: RequestParams, context: Context) => RequestParams | null | undefined
      /** Called with each response of this request; `context` is the one `setupRequest` saw. */
      onResponse?: (status: number, body: string, context: Context, headers: Record<string, string | Array<string>>) => void
    }

    interface Options {
      url: string
      connections?: number
      /** Seconds. */
      duration?: number
      amount?: number
      /** Requests per second over all connections (split evenly; each connection sends its share per 1 s tick). */
      overallRate?: number
      connectionRate?: number
      pipelining?: number
      /** Seconds. */
      timeout?: number
      method?: string
      requests?: Array<Request>
      excludeErrorStats?: boolean
      workers?: number
    }

    interface Histogram {
      average: number
      mean: number
      stddev: number
      min: number
      max: number
      total: number
      p50: number
      p90: number
      p99: number
      [percentile: string]: number
    }

    interface Result {
      start: Date
      finish: Date
      /** Seconds. */
      duration: number
      latency: Histogram
      requests: Histogram & { sent: number }
      throughput: Histogram
      errors: number
      timeouts: number
      mismatches: number
      non2xx: number
      resets: number
      "1xx": number
      "2xx": number
      "3xx": number
      "4xx": number
      "5xx": number
      statusCodeStats: Record<string, { count: number }>
    }

    interface Instance extends EventEmitter, PromiseLike<Result> {
      stop(): void
    }
  }

  function autocannon(options: autocannon.Options): autocannon.Instance
  export = autocannon
}
