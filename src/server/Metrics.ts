/**
 * The process's metrics, in one place. Exposed at `/metrics` in Prometheus format.
 */
import { Metric } from "effect"

export const projectionLag = Metric.gauge("sumeru_projection_lag_events", {
  description: "Events between the log's safe head and a projection generation's checkpoint"
})

export const httpRequests = Metric.counter("sumeru_http_requests_total", {
  description: "HTTP requests answered, by route and status"
})
