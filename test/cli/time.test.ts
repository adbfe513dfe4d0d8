/** Command-line timestamps: ISO-8601 only, UTC unless an offset is given, impossible dates refused. */
import { describe, expect, it } from "vitest"
import { parseTimestamp } from "../../src/cli/time.ts"

describe("parseTimestamp", () => {
  it("reads dates, times and offsets; no offset means UTC", () => {
    expect(parseTimestamp("2025-12-27")?.toISOString()).toBe("2025-12-27T00:00:00.000Z")
    expect(parseTimestamp("2025-12-27T10:30")?.toISOString()).toBe("2025-12-27T10:30:00.000Z")
    expect(parseTimestamp("2025-12-27 10:30:05.5")?.toISOString()).toBe("2025-12-27T10:30:05.500Z")
    expect(parseTimestamp("2025-12-27T10:30:05Z")?.toISOString()).toBe("2025-12-27T10:30:05.000Z")
    expect(parseTimestamp("2025-12-27T11:30:05+01:00")?.toISOString()).toBe("2025-12-27T10:30:05.000Z")
    expect(parseTimestamp("2025-12-27T05:00:00-0530")?.toISOString()).toBe("2025-12-27T10:30:00.000Z")
  })

  it("refuses anything else rather than guessing", () => {
    for (const bad of ["", "yesterday", "1", "2025-02-30", "2025-13-01", "2025-12-27T24:00", "2025-12-27Z", "27/12/2025", "2025-12-27T10:30+15:00"]) {
      expect(parseTimestamp(bad), bad).toBeUndefined()
    }
  })
})
