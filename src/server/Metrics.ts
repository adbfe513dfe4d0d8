/**
 * The process's metrics, in one place. Exposed at `/metrics` in Prometheus format.
 *
 * Every metric is per process: Prometheus adds the instance; dashboards sum (or, for the
 * per-shop queue depth, take the owner's value) across processes.
 */
import { Metric } from "effect"

export const projectionLag = Metric.gauge("sumeru_projection_lag_events", {
  description: "Events between the log's safe head and a projection generation's checkpoint"
})

/**
 * The process's memory, read when `/metrics` is scraped (the names Prometheus's Node.js clients
 * use, so stock dashboards show them). `external` includes the embedded PGlite database's
 * WebAssembly memory: in the embedded mode the database lives in this process.
 */
export const residentMemory = Metric.gauge("process_resident_memory_bytes", { description: "Resident set size of the process, bytes" })
export const heapUsed = Metric.gauge("nodejs_heap_size_used_bytes", { description: "V8 heap in use, bytes" })
export const heapTotal = Metric.gauge("nodejs_heap_size_total_bytes", { description: "V8 heap reserved, bytes" })
export const externalMemory = Metric.gauge("nodejs_external_memory_bytes", { description: "Memory outside the V8 heap held by JavaScript objects (buffers, WebAssembly memory), bytes" })

export const httpRequests = Metric.counter("sumeru_http_requests_total", {
  description: "HTTP requests answered, by route and status"
})

// ------------------------------------------------------------------------------ Flowmend jobs
// Seed 002, "Monitoring & Observability": job success rate, job duration (P50/P95/P99 per job
// size bucket), queue depth per shop, Shopify API error rate.

/**
 * Jobs that reached a terminal state, by `outcome`: `completed`, `failed`, or `cancelled` (a
 * job failed with code `CANCELLED`, the seed's cancellation). Counted once per job, when its
 * terminal event is committed (never again on a redelivery).
 * Success rate: `completed / (completed + failed)`.
 */
export const jobsFinished = Metric.counter("sumeru_jobs_finished_total", {
  description: "Bulk jobs finished, by outcome (completed, failed, cancelled); counted once, when the terminal event commits"
})

/**
 * Requested → finished, from the job's own event times (queue wait included), by `outcome`
 * and `size` (the job size bucket: products matched, see `jobSizeBucket`). No shop label: a
 * histogram per shop would be buckets × shops series; per-shop durations are in the job list
 * and in the `JOB_COMPLETED` log line.
 */
export const jobDuration = Metric.histogram("sumeru_job_duration_seconds", {
  description: "Bulk job duration, requested to finished, by outcome and size bucket (products matched)",
  boundaries: [0.5, 1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 14400]
})

/**
 * Waiting + running jobs per shop (`shop` label: one series per shop that ever had a job on
 * this process — the seed's "current pending jobs per shop"; alert on > 100). Set by the
 * shop's actor whenever its job queue changes (and when it loads the queue), so the process
 * that owns the shop's partition has the current value; after a partition moves, the previous
 * owner keeps its last value until it restarts: read it per shop from the owning process
 * (`sumeru_owned_partitions`), or take the newest sample.
 */
export const jobQueueDepth = Metric.gauge("sumeru_job_queue_depth", {
  description: "Bulk jobs waiting or running, per shop (set by the process owning the shop)"
})

/**
 * Error answers from Shopify, one per response (a retried request counts each failed try),
 * by `status` — the HTTP status (`429`, `500`, `503`, `401`, …), the GraphQL error code of an
 * HTTP 200 (`THROTTLED`, `MAX_COST_EXCEEDED`, `INTERNAL_SERVER_ERROR`, …), or `network` (no
 * answer: timeout, connection refused) — and `operation`: `graphql` (Admin API),
 * `staged_upload` (the bulk mutation file POST), `download` (bulk result files).
 * Throttling is included (`429`, `THROTTLED`). `userErrors` are answers, not errors: not counted.
 */
export const shopifyApiErrors = Metric.counter("sumeru_shopify_api_errors_total", {
  description: "Shopify API error responses, by status (HTTP status, GraphQL error code or network) and operation"
})

/** The seed's "job size bucket" for `sumeru_job_duration_seconds` (products matched). */
export const jobSizeBucket = (matched: number): string =>
  matched === 0
    ? "0"
    : matched <= 100
    ? "1-100"
    : matched <= 1_000
    ? "101-1000"
    : matched <= 10_000
    ? "1001-10000"
    : matched <= 100_000
    ? "10001-100000"
    : "100001+"
