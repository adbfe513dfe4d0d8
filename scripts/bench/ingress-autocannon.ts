/**
 * autocannon runs for `bench:ingress`: closed loop (each connection sends its next webhook as
 * soon as the previous one is answered) or autocannon's own `overallRate`. Each request is
 * the next delivery of the source (a new event, freshly signed body), and the delivery each
 * 2xx answer belongs to is reported, so the caller can check every one reached the log.
 */
import autocannon from "autocannon"
import type { Delivery } from "./ingress-deliveries.ts"

export interface AutocannonRun {
  readonly sent: number
  readonly ok2xx: number
  readonly non2xx: number
  readonly statusCounts: Record<string, number>
  readonly errors: number
  readonly timeouts: number
  /** Response times (ms) of the 2xx answers, ascending. */
  readonly latencies: Float64Array
  readonly elapsedSeconds: number
}

export const runAutocannon = async (o: {
  readonly url: string
  readonly connections: number
  readonly durationSeconds: number
  readonly overallRate?: number | undefined
  readonly next: () => Delivery
  readonly onAcked: (delivery: Delivery) => void
}): Promise<AutocannonRun> => {
  const latencies: Array<number> = []
  let sent = 0
  const instance = autocannon({
    url: o.url,
    connections: o.connections,
    duration: o.durationSeconds,
    ...(o.overallRate !== undefined ? { overallRate: o.overallRate } : {}),
    pipelining: 1,
    timeout: 10,
    requests: [{
      method: "POST",
      path: "/webhooks/shopify",
      // one request in flight per connection: the context holds the delivery being answered
      setupRequest: (request, context) => {
        const delivery = o.next()
        sent++
        context.delivery = delivery
        // a copy: autocannon adds Content-Length to the headers object it is given
        return { ...request, headers: { ...delivery.headers }, body: delivery.body }
      },
      onResponse: (status, _body, context) => {
        if (status >= 200 && status < 300) o.onAcked(context.delivery as Delivery)
      }
    }]
  })
  instance.on("response", (_client: unknown, status: number, _bytes: number, ms: number) => {
    if (status >= 200 && status < 300) latencies.push(ms)
  })
  const started = performance.now()
  const result = await instance
  const statusCounts: Record<string, number> = {}
  for (const [code, { count }] of Object.entries(result.statusCodeStats)) statusCounts[code] = count
  return {
    sent,
    ok2xx: result["2xx"],
    non2xx: result.non2xx,
    statusCounts,
    errors: result.errors,
    timeouts: result.timeouts,
    latencies: Float64Array.from(latencies).sort(),
    elapsedSeconds: (performance.now() - started) / 1000
  }
}
