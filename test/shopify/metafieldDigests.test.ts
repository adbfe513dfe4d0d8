/**
 * The JSONL pieces of the undo guard: a restore line carries the `compareDigest` it expects,
 * the job's results give back the digest of what it wrote, a STALE_OBJECT line is counted as
 * changed since (not failed), and the current metafields of products are read by id.
 */
import { Effect, Stream } from "effect"
import { rm } from "node:fs/promises"
import { describe, expect, it } from "vitest"
import {
  METAFIELDS_SET_MUTATION,
  metafieldsSetLine,
  type MutationLineResult,
  parseCurrentMetafields,
  parseMutationResultFile,
  parseMutationResults,
  writtenDigest
} from "../../adapters/shopify/MetafieldJsonl.ts"

const run = <A, E>(effect: Effect.Effect<A, E>) => Effect.runPromise(effect)
const GID = (n: number) => `gid://shopify/Product/${n}`
const VALUE = { namespace: "custom", key: "badge", type: "single_line_text_field", value: "Winter" }
const DIGEST = "d".repeat(64)

const ok = (n: number, digest: string | null = DIGEST) => ({
  data: { metafieldsSet: { metafields: [{ id: `gid://shopify/Metafield/${n}`, ...(digest === null ? {} : { compareDigest: digest }) }], userErrors: [] } },
  __lineNumber: n
})
const stale = (n: number) => ({
  data: {
    metafieldsSet: {
      metafields: [],
      userErrors: [{ field: ["metafields", "0"], message: "The resource has been updated since it was loaded.", code: "STALE_OBJECT", elementIndex: null }]
    }
  },
  __lineNumber: n
})
const invalid = (n: number) => ({
  data: { metafieldsSet: { metafields: [], userErrors: [{ field: ["metafields", "0", "value"], message: "bad", code: "INVALID_VALUE" }] } },
  __lineNumber: n
})

describe("the undo guard's JSONL", () => {
  it("a job's mutation selects the written metafield's compareDigest, and a restore line can carry one", () => {
    expect(METAFIELDS_SET_MUTATION).toContain("metafields { id compareDigest }")
    expect(JSON.parse(metafieldsSetLine(GID(1), VALUE, DIGEST))).toEqual({ input: { ownerId: GID(1), ...VALUE, compareDigest: DIGEST } })
    expect(JSON.parse(metafieldsSetLine(GID(1), VALUE, null)).input.compareDigest).toBeNull()
    expect(JSON.parse(metafieldsSetLine(GID(1), VALUE)).input).not.toHaveProperty("compareDigest")
    expect(writtenDigest(ok(0).data)).toBe(DIGEST)
    expect(writtenDigest(ok(0, null).data)).toBeNull()
  })

  it("counts STALE_OBJECT lines as changed since (not failed), with a plain reason, and reports every line's result once", async () => {
    const seen: Array<[number, MutationLineResult]> = []
    const r = await run(parseMutationResults(Stream.fromIterable([ok(0), stale(1), invalid(2), ok(0), ok(3)]), {
      expectedLines: 5,
      ownerOf: (n) => GID(100 + n),
      changedSinceReason: "kept the newer value",
      onResult: (n, result) => seen.push([n, result])
    }))
    expect([r.updated, r.failed, r.changedSince, r.missingLines, r.duplicateLines]).toEqual([2, 1, 1, 1, 1])
    const preview = r.errorPreview.trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>)
    expect(preview).toEqual([
      {
        line: 1,
        ownerId: GID(101),
        kind: "changed_since",
        reason: "kept the newer value",
        errors: [{ message: "The resource has been updated since it was loaded.", code: "STALE_OBJECT", field: ["metafields", "0"] }]
      },
      { line: 2, ownerId: GID(102), kind: "userErrors", errors: [{ message: "bad", code: "INVALID_VALUE", field: ["metafields", "0", "value"] }] }
    ])
    expect(seen.map(([n, result]) => [n, result.ok])).toEqual([[0, true], [1, false], [2, false], [3, true]])
    const first = seen[0]![1]
    expect(first.ok && writtenDigest(first.data)).toBe(DIGEST)
    if (r.errorLinesPath !== undefined) await rm(r.errorLinesPath, { force: true })
  })

  it("parses success lines from the file's bytes too when their results are wanted", async () => {
    const text = [ok(0), ok(1, "e".repeat(64))].map((o) => JSON.stringify(o)).join("\n")
    const digests: Array<string | null> = []
    const r = await run(parseMutationResultFile(Stream.make(new TextEncoder().encode(text)), {
      onResult: (_, result) => digests.push(result.ok ? writtenDigest(result.data) : null)
    }))
    expect(r.updated).toBe(2)
    expect(digests).toEqual([DIGEST, "e".repeat(64)])
  })

  it("reads the current metafield of each asked product; a missing one (or product) is null", () => {
    const current = parseCurrentMetafields(
      { nodes: [{ id: GID(1), metafield: { value: "Winter", type: "single_line_text_field", compareDigest: DIGEST } }, { id: GID(2), metafield: null }, null] },
      [GID(1), GID(2), GID(3)]
    )
    expect([...current]).toEqual([
      [GID(1), { value: "Winter", type: "single_line_text_field", compareDigest: DIGEST }],
      [GID(2), null],
      [GID(3), null]
    ])
  })
})
