import { Result, Schema } from "effect"
import { describe, expect, it } from "vitest"
import {
  appendErrorPreview,
  capErrorPreview,
  decodeJobCommand,
  decodeJobEvent,
  ERROR_PREVIEW_MAX_BYTES,
  ErrorPreview,
  JOB_EVENT_SCHEMA_VERSIONS,
  JOB_EVENT_TYPES,
  utf8ByteLength
} from "../../../domain/jobs/index.ts"
import { at, completed, JOB, mutationCompleted, requested } from "./fixtures.ts"

describe("event schemas", () => {
  it("have a schema version for every event type and nothing else", () => {
    expect(Object.keys(JOB_EVENT_SCHEMA_VERSIONS).sort()).toEqual([...JOB_EVENT_TYPES].sort())
    expect(JOB_EVENT_TYPES).toContain("job.undo_requested")
    expect(Object.values(JOB_EVENT_SCHEMA_VERSIONS).every((v) => Number.isInteger(v) && v >= 1)).toBe(true)
  })

  it("decode stored payloads and reject unknown types, bad times and bad counts", () => {
    expect(decodeJobEvent(JSON.parse(JSON.stringify(requested())))).toEqual(Result.succeed(requested()))
    expect(Result.isFailure(decodeJobEvent({ type: "job.exploded", jobId: JOB, occurredAt: at(1) }))).toBe(true)
    expect(Result.isFailure(decodeJobEvent({ ...completed(1, 1, 0), occurredAt: "27/12/2025 10:30" }))).toBe(true)
    expect(Result.isFailure(decodeJobEvent({ ...completed(1, 1, 0), updatedCount: -1 }))).toBe(true)
    expect(Result.isFailure(decodeJobEvent({ ...completed(1, 1, 0), updatedCount: 1.5 }))).toBe(true)
  })

  it("bound the error preview to 50 lines", () => {
    const lines = Array.from({ length: 51 }, (_, i) => `e${i}`).join("\n")
    expect(Result.isFailure(decodeJobEvent(mutationCompleted(0, 0, 51, lines)))).toBe(true)
    expect(Schema.is(ErrorPreview)(lines.split("\n").slice(0, 50).join("\n"))).toBe(true)
  })

  it("decode commands and reject malformed ones", () => {
    expect(Result.isSuccess(decodeJobCommand({ type: "StartJob", jobId: JOB, at: at(1) }))).toBe(true)
    expect(Result.isFailure(decodeJobCommand({ type: "StartJob", jobId: "", at: at(1) }))).toBe(true)
    expect(Result.isFailure(decodeJobCommand({ type: "DeleteJob", jobId: JOB, at: at(1) }))).toBe(true)
    expect(
      Result.isFailure(
        decodeJobCommand({
          type: "RecordChunkUploaded",
          jobId: JOB,
          chunkIndex: 0,
          stagedUploadPath: "p",
          lines: 0,
          bytes: 1,
          at: at(1)
        })
      )
    ).toBe(true)
  })
})

describe("capErrorPreview", () => {
  it("keeps the first 50 lines", () => {
    const lines = Array.from({ length: 80 }, (_, i) => `line ${i}`)
    expect(capErrorPreview(lines)).toBe(lines.slice(0, 50).join("\n"))
  })

  it("keeps whole lines within 10 KB, newlines included", () => {
    const lines = Array.from({ length: 50 }, (_, i) => `${String(i).padStart(2, "0")}${"x".repeat(298)}`) // 300 bytes each
    const preview = capErrorPreview(lines)
    // 34 lines take 34 * 300 + 33 = 10,233 bytes; a 35th would need 10,534.
    expect(preview.split("\n")).toEqual(lines.slice(0, 34))
    expect(utf8ByteLength(preview)).toBe(10_233)
  })

  it("cuts a single oversized first line to 10 KB without splitting a character", () => {
    const preview = capErrorPreview(["é".repeat(6000)])
    expect(utf8ByteLength(preview)).toBe(ERROR_PREVIEW_MAX_BYTES)
    expect(preview).toBe("é".repeat(5120))
    expect(capErrorPreview(["ab€".repeat(4000)]).endsWith("\uFFFD")).toBe(false)
    expect(utf8ByteLength(capErrorPreview(["€".repeat(4000)]))).toBe(10_239)
  })

  it("is empty for no lines", () => {
    expect(capErrorPreview([])).toBe("")
  })
})

describe("appendErrorPreview", () => {
  it("keeps the earliest lines across chunks", () => {
    expect(appendErrorPreview("", "a\nb")).toBe("a\nb")
    expect(appendErrorPreview("a\nb", "")).toBe("a\nb")
    const first = Array.from({ length: 45 }, (_, i) => `first ${i}`).join("\n")
    const second = Array.from({ length: 10 }, (_, i) => `second ${i}`).join("\n")
    const merged = appendErrorPreview(first, second).split("\n")
    expect(merged).toHaveLength(50)
    expect(merged.at(-1)).toBe("second 4")
  })
})
