/**
 * The JSONL pieces of the undo guard: a restore line carries the `compareDigest` it expects,
 * the job's results give back the digest of what it wrote, a STALE_OBJECT line is counted as
 * changed since (not failed), and the current metafields of products are read by id.
 */
import { Effect, Stream } from "effect"
import { rm } from "node:fs/promises"
import { describe, expect, it } from "vitest"
import {
  fastWrittenLineIn,
  METAFIELDS_SET_MUTATION,
  metafieldsSetLine,
  type MutationLineResult,
  type MutationResults,
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
    expect(first.ok && first.compareDigest).toBe(DIGEST)
    if (r.errorLinesPath !== undefined) await rm(r.errorLinesPath, { force: true })
  })

  it("parses success lines from the file's bytes too when their results are wanted", async () => {
    const text = [ok(0), ok(1, "e".repeat(64))].map((o) => JSON.stringify(o)).join("\n")
    const digests: Array<string | null> = []
    const r = await run(parseMutationResultFile(Stream.make(new TextEncoder().encode(text)), {
      onResult: (_, result) => digests.push(result.ok ? result.compareDigest : null)
    }))
    expect(r.updated).toBe(2)
    expect(digests).toEqual([DIGEST, "e".repeat(64)])
  })

  it("reads a plain success line's digest from its bytes, and leaves every other line to the parser, with the same results", async () => {
    const exact = (n: number, digest: string) =>
      `{"data":{"metafieldsSet":{"metafields":[{"id":"gid://shopify/Metafield/${n}","compareDigest":"${digest}"}],"userErrors":[]}},"__lineNumber":${n}}`
    const lines = [
      exact(0, DIGEST),
      exact(1, "0123abcd"),
      JSON.stringify(ok(2, null)), // no digest
      `{"data":{"metafieldsSet":{"metafields":[{"id":"gid://shopify/Metafield/3","compareDigest":null}],"userErrors":[]}},"__lineNumber":3}`,
      String.raw`{"data":{"metafieldsSet":{"metafields":[{"id":"gid://shopify/Metafield/\u0034","compareDigest":"esc\"aped"}],"userErrors":[]}},"__lineNumber":4}`,
      `{"data":{"metafieldsSet":{"metafields":[{"id":"gid://shopify/Metafield/5","compareDigest":"ünïcode"}],"userErrors":[]}},"__lineNumber":5}`,
      `{"data":{"metafieldsSet":{"metafields":[{"id":"gid://shopify/Metafield/6","compareDigest":"${DIGEST}"},{"id":"x","compareDigest":"other"}],"userErrors":[]}},"__lineNumber":6}`,
      `{"data":{"metafieldsSet":{"metafields":[{"compareDigest":"reordered","id":"gid://shopify/Metafield/7"}],"userErrors":[]}},"__lineNumber":7}`,
      JSON.stringify(stale(8)),
      JSON.stringify(invalid(9)),
      `{"errors":[{"message":"Internal error"}],"__lineNumber":10}`,
      `{ "data": {"metafieldsSet":{"metafields":[{"id":"gid://shopify/Metafield/11","compareDigest":"spaced"}],"userErrors":[]}},"__lineNumber":11}`,
      exact(12, DIGEST).replace(`"__lineNumber":12`, `"__lineNumber":1e1`),
      exact(13, DIGEST).replace(`"__lineNumber":13}`, `"__lineNumber":-13}`),
      exact(0, "duplicate"),
      exact(14, DIGEST).slice(0, -1),
      exact(15, "")
    ]
    const collect = async (parse: (onResult: (n: number, r: MutationLineResult) => void) => Effect.Effect<MutationResults, unknown>) => {
      const results: Array<[number, MutationLineResult]> = []
      const r = await run(parse((n, result) => results.push([n, result])))
      if (r.errorLinesPath !== undefined) await rm(r.errorLinesPath, { force: true })
      return { counts: { ...r, errorLinesPath: undefined }, results }
    }
    const objects = lines.map((l) => {
      try {
        return JSON.parse(l) as unknown
      } catch {
        return { unparseable: l }
      }
    })
    const options = { expectedLines: 17, ownerOf: (n: number) => GID(n) }
    const fromObjects = await collect((onResult) => parseMutationResults(Stream.fromIterable(objects), { ...options, onResult }))
    // the bytes cut in small blocks, so lines straddle them
    const bytes = new TextEncoder().encode(`${lines.join("\n")}\n`)
    const blocks = Array.from({ length: Math.ceil(bytes.length / 37) }, (_, i) => bytes.subarray(i * 37, (i + 1) * 37))
    const fromBytes = await collect((onResult) => parseMutationResultFile(Stream.fromIterable(blocks), { ...options, onResult }))
    expect(fromBytes.results).toEqual(fromObjects.results)
    expect(fromBytes.counts.updated).toBe(fromObjects.counts.updated)
    expect(fromBytes.counts.failed).toBe(fromObjects.counts.failed)
    expect(fromBytes.counts.duplicateLines).toBe(fromObjects.counts.duplicateLines)
    expect(fromBytes.counts.missingLines).toBe(fromObjects.counts.missingLines)
    expect(fromBytes.results.filter(([, r]) => r.ok).map(([n, r]) => [n, r.ok && r.compareDigest])).toEqual([
      [0, DIGEST],
      [1, "0123abcd"],
      [2, null],
      [3, null],
      [4, 'esc"aped'],
      [5, "ünïcode"],
      [6, DIGEST],
      [7, "reordered"],
      [11, "spaced"],
      [15, ""]
    ])
    // which lines were read from their bytes: the plain ones only
    const fast = lines.map((l) => {
      const b = Buffer.from(l, "utf8")
      return fastWrittenLineIn(b, 0, b.length, { compareDigest: "" })
    })
    expect(fast).toEqual([0, 1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 0, -1, 15])
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
