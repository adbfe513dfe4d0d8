/**
 * Plain-language, one-line descriptions of job events for the audit log and
 * the job timeline, plus the seed's timeline `event_type` names.
 *
 * Deterministic: numbers get `,` thousands separators from our own formatter
 * (never the machine locale), ids are shortened to their first 8 characters,
 * chunks are numbered from 1 for people (`chunkIndex` 0 is "chunk 1").
 */
import type { JobEvent, JobEventType, JobSource, RetryReason } from "./JobEvents.ts"
import { formatBytes, formatCount, formatDuration, plural, shortId, truncate } from "./text.ts"

/**
 * The seed's `JobEvent.eventType` for each event type (seed examples:
 * JOB_STARTED, QUERY_STARTED, QUERY_COMPLETED, UPLOAD_COMPLETED,
 * MUTATION_COMPLETED; the others follow the same pattern).
 */
export const TIMELINE_EVENT_TYPES: { readonly [K in JobEventType]: string } = {
  "job.requested": "JOB_CREATED",
  "job.started": "JOB_STARTED",
  "job.bulk_query_started": "QUERY_STARTED",
  "job.query_completed": "QUERY_COMPLETED",
  "job.mutation_uploaded": "UPLOAD_COMPLETED",
  "job.bulk_mutation_started": "MUTATION_STARTED",
  "job.mutation_completed": "MUTATION_COMPLETED",
  "job.completed": "JOB_COMPLETED",
  "job.failed": "JOB_FAILED",
  "job.retry_scheduled": "RETRY_SCHEDULED",
  "job.undo_requested": "UNDO_REQUESTED"
}

/** How a query string is quoted in a one-line message. */
export const QUERY_PREVIEW_LENGTH = 60

const SOURCE_LABELS: { readonly [K in JobSource]: string } = {
  flow: "via Shopify Flow",
  admin: "from the admin",
  api: "via the API",
  cli: "from the CLI",
  undo: "as an undo",
  automation: "by an automation rule"
}

const RETRY_REASON_LABELS: { readonly [K in RetryReason]: string } = {
  RATE_LIMITED: "rate limited by Shopify",
  NETWORK_ERROR: "network error",
  TIMEOUT: "timed out",
  SHOPIFY_UNAVAILABLE: "Shopify unavailable",
  OPERATION_IN_PROGRESS: "another bulk operation is in progress"
}

const by = (requestedBy: string | null): string => (requestedBy === null ? "" : ` by ${requestedBy}`)

const chunk = (chunkIndex: number): string => `chunk ${formatCount(chunkIndex + 1)}`

/** `, 2 changed since (kept the newer value)`, or nothing when none did. */
const keptNewer = (changedSinceCount: number | undefined, what: string): string =>
  changedSinceCount === undefined || changedSinceCount === 0
    ? ""
    : `, ${formatCount(changedSinceCount)} ${what} (changed since the job; kept the newer value)`

const message = (event: JobEvent): string => {
  const job = `Bulk job ${shortId(event.jobId)}`
  switch (event.type) {
    case "job.requested": {
      const field = `${event.input.namespace}.${event.input.key}`
      if (event.undoOf !== null) {
        return `Undo job ${shortId(event.jobId)} requested${by(event.requestedBy)}: restore ${field} on the products changed by bulk job ${
          shortId(event.undoOf.jobId)
        }`
      }
      const what = `${field} (${event.input.type}) on up to ${plural(event.input.maxItems, "product")} matching "${
        truncate(event.input.queryString, QUERY_PREVIEW_LENGTH)
      }"`
      return `${job} requested ${SOURCE_LABELS[event.source]}${by(event.requestedBy)}: ${
        event.input.dryRun ? `dry run of setting ${what}` : `set ${what}`
      }`
    }
    case "job.started":
      return `${job} started processing`
    case "job.bulk_query_started":
      return `${job} started bulk query ${event.bulkOperationId}`
    case "job.query_completed":
      return `${job} query completed: ${plural(event.matchedCount, "product")} matched${
        event.truncated ? " (more matched; capped by max_items)" : ""
      }${keptNewer(event.changedSinceCount, "left as they are")}`
    case "job.mutation_uploaded":
      return `${job} uploaded ${chunk(event.chunkIndex)} (${plural(event.lines, "line")}, ${formatBytes(event.bytes)})`
    case "job.bulk_mutation_started":
      return `${job} started bulk mutation for ${chunk(event.chunkIndex)} (${event.bulkOperationId})`
    case "job.mutation_completed":
      return `${job} ${chunk(event.chunkIndex)} mutation completed: ${formatCount(event.updatedCount)} updated, ${
        formatCount(event.failedCount)
      } failed${keptNewer(event.changedSinceCount, "not restored")}`
    case "job.completed":
      if (event.dryRun) {
        return `${job} dry run completed: ${plural(event.matchedCount, "product")} would be updated`
      }
      if (event.matchedCount === 0) {
        return `${job} completed: no products matched, nothing updated${keptNewer(event.changedSinceCount, "not restored")}`
      }
      return `${job} completed: ${formatCount(event.updatedCount)} updated, ${formatCount(event.failedCount)} failed${
        keptNewer(event.changedSinceCount, "not restored")
      }`
    case "job.failed":
      return `${job} failed (${event.code}): ${event.message}`
    case "job.retry_scheduled":
      return `${job} will retry in ${formatDuration(event.delayMs)} (attempt ${event.attempt} of ${event.maxAttempts}): ${
        RETRY_REASON_LABELS[event.reason]
      }`
    case "job.undo_requested":
      return `Undo of bulk job ${shortId(event.jobId)} requested${by(event.requestedBy)}: undo job ${
        shortId(event.undoJobId)
      } will restore the previous values${
        event.force === true ? ", overwriting later changes (forced)" : ""
      }`
  }
}

/**
 * The timeline `eventType` (seed naming) and a one-line English message for
 * `event`, e.g. `{ eventType: "JOB_COMPLETED", message: "Bulk job 550e8400…
 * completed: 1,520 updated, 3 failed" }`.
 */
export const describeJobEvent = (event: JobEvent): { readonly eventType: string; readonly message: string } => ({
  eventType: TIMELINE_EVENT_TYPES[event.type],
  message: message(event)
})
