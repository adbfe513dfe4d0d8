import { describe, expect, it } from "vitest"
import {
  describeJobEvent,
  formatBytes,
  formatCount,
  formatDuration,
  JOB_EVENT_TYPES,
  shortId,
  TIMELINE_EVENT_TYPES,
  type JobEvent
} from "../../../domain/jobs/index.ts"
import {
  completed,
  dryInput,
  failed,
  JOB,
  mutationCompleted,
  mutationStarted,
  queryCompleted,
  queryStarted,
  requested,
  started,
  UNDO_JOB,
  uploaded
} from "./fixtures.ts"

const line = (event: JobEvent) => describeJobEvent(event)

describe("formatCount", () => {
  it.each([
    [0, "0"],
    [7, "7"],
    [999, "999"],
    [1000, "1,000"],
    [1520, "1,520"],
    [100_000, "100,000"],
    [1_234_567, "1,234,567"],
    [-1_234_567, "-1,234,567"],
    [9_007_199_254_740_991, "9,007,199,254,740,991"]
  ])("%d → %s", (n, expected) => {
    expect(formatCount(n)).toBe(expected)
  })
})

describe("formatBytes and formatDuration", () => {
  it.each([
    [512, "512 B"],
    [1024, "1 KB"],
    [1536, "1.5 KB"],
    [95 * 1024 * 1024, "95 MB"],
    [1_288_490_189, "1.2 GB"]
  ])("%d bytes → %s", (n, expected) => {
    expect(formatBytes(n)).toBe(expected)
  })

  it.each([
    [750, "750 ms"],
    [5_000, "5 s"],
    [60_000, "1 min"],
    [150_000, "2 min 30 s"],
    [3_900_000, "1 h 5 min"],
    [7_200_000, "2 h"]
  ])("%d ms → %s", (n, expected) => {
    expect(formatDuration(n)).toBe(expected)
  })

  it("shortens ids to 8 characters", () => {
    expect(shortId(JOB)).toBe("550e8400…")
    expect(shortId("abc")).toBe("abc")
  })
})

describe("describeJobEvent", () => {
  it("maps every event type to a seed-style timeline event type", () => {
    expect(Object.keys(TIMELINE_EVENT_TYPES).sort()).toEqual([...JOB_EVENT_TYPES].sort())
    expect(line(started()).eventType).toBe("JOB_STARTED")
    expect(line(queryCompleted(1)).eventType).toBe("QUERY_COMPLETED")
    expect(line(mutationCompleted(0, 1, 0)).eventType).toBe("MUTATION_COMPLETED")
    expect(line(uploaded(0, 1)).eventType).toBe("UPLOAD_COMPLETED")
    expect(line(queryStarted()).eventType).toBe("QUERY_STARTED")
  })

  it.each<[string, JobEvent, string, string]>([
    [
      "a live request",
      requested(),
      "JOB_CREATED",
      "Bulk job 550e8400… requested via Shopify Flow: set custom.seasonal_badge (single_line_text_field) on up to 5,000 products matching \"status:active tag:winter\""
    ],
    [
      "a dry-run request by a user",
      requested(dryInput, { source: "admin", requestedBy: "alice@example.com" }),
      "JOB_CREATED",
      "Bulk job 550e8400… requested from the admin by alice@example.com: dry run of setting custom.seasonal_badge (single_line_text_field) on up to 5,000 products matching \"status:active tag:winter\""
    ],
    [
      "an undo job",
      requested(undefined, { jobId: UNDO_JOB, source: "undo", undoOf: { jobId: JOB, snapshotRef: "s" } }),
      "JOB_CREATED",
      "Undo job 7c9e6679… requested: restore custom.seasonal_badge on the products changed by bulk job 550e8400…"
    ],
    ["the start", started(), "JOB_STARTED", "Bulk job 550e8400… started processing"],
    [
      "the bulk query",
      queryStarted(),
      "QUERY_STARTED",
      "Bulk job 550e8400… started bulk query gid://shopify/BulkOperation/100"
    ],
    ["the query result", queryCompleted(1523), "QUERY_COMPLETED", "Bulk job 550e8400… query completed: 1,523 products matched"],
    ["a single match", queryCompleted(1), "QUERY_COMPLETED", "Bulk job 550e8400… query completed: 1 product matched"],
    [
      "a truncated query result",
      queryCompleted(5000, { truncated: true }),
      "QUERY_COMPLETED",
      "Bulk job 550e8400… query completed: 5,000 products matched (more matched; capped by max_items)"
    ],
    [
      "an upload",
      { ...uploaded(0, 1520), bytes: 372_736 },
      "UPLOAD_COMPLETED",
      "Bulk job 550e8400… uploaded chunk 1 (1,520 lines, 364 KB)"
    ],
    [
      "a mutation start",
      mutationStarted(1),
      "MUTATION_STARTED",
      "Bulk job 550e8400… started bulk mutation for chunk 2 (gid://shopify/BulkOperation/201)"
    ],
    [
      "a chunk result",
      mutationCompleted(0, 1520, 3),
      "MUTATION_COMPLETED",
      "Bulk job 550e8400… chunk 1 mutation completed: 1,520 updated, 3 failed"
    ],
    ["a live completion", completed(1523, 1520, 3), "JOB_COMPLETED", "Bulk job 550e8400… completed: 1,520 updated, 3 failed"],
    [
      "a dry-run completion",
      completed(1523, 0, 0, true),
      "JOB_COMPLETED",
      "Bulk job 550e8400… dry run completed: 1,523 products would be updated"
    ],
    [
      "a completion with no match",
      completed(0, 0, 0),
      "JOB_COMPLETED",
      "Bulk job 550e8400… completed: no products matched, nothing updated"
    ],
    ["a failure", failed(), "JOB_FAILED", "Bulk job 550e8400… failed (INVALID_QUERY): Invalid search query syntax"],
    [
      "a retry",
      {
        type: "job.retry_scheduled",
        jobId: JOB,
        attempt: 2,
        maxAttempts: 3,
        reason: "RATE_LIMITED",
        message: "Throttled",
        delayMs: 60_000,
        occurredAt: "2025-12-27T10:31:00Z"
      },
      "RETRY_SCHEDULED",
      "Bulk job 550e8400… will retry in 1 min (attempt 2 of 3): rate limited by Shopify"
    ],
    [
      "an undo request",
      {
        type: "job.undo_requested",
        jobId: JOB,
        undoJobId: UNDO_JOB,
        requestedBy: "alice@example.com",
        snapshotRef: "s",
        occurredAt: "2025-12-27T10:40:00Z"
      },
      "UNDO_REQUESTED",
      "Undo of bulk job 550e8400… requested by alice@example.com: undo job 7c9e6679… will restore the previous values"
    ]
  ])("describes %s", (_, event, eventType, message) => {
    expect(describeJobEvent(event)).toEqual({ eventType, message })
  })

  it("shortens a long query string to one readable line", () => {
    const { message } = line(requested({ ...dryInput, queryString: `tag:${"x".repeat(200)}` }))
    expect(message).toContain(`"tag:${"x".repeat(55)}…"`)
    expect(message).not.toContain("\n")
  })
})
