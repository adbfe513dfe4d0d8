/**
 * The pure / Stream helpers: JSONL decoding across chunk boundaries, the multipart envelope,
 * line builders, chunking into files, and mutation-result parsing.
 */
import { existsSync } from "node:fs"
import { mkdtemp, readFile, readdir, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { Effect, Exit, Stream } from "effect"
import { InvalidJsonlLine, jsonlValues, multipartEnvelope } from "../../adapters/shopify/jsonl.ts"
import {
  chunkJsonl,
  metafieldsDeleteLines,
  metafieldsRestoreLines,
  metafieldsSetLine,
  metafieldsSetLines,
  fastSuccessLineNumber,
  parseMutationResultFile,
  parseMutationResults,
  type JsonlChunk
} from "../../adapters/shopify/MetafieldJsonl.ts"

const run = <A, E>(effect: Effect.Effect<A, E>) => Effect.runPromise(effect)
const bytes = (...parts: Array<string | Uint8Array>) => Stream.fromIterable(parts.map((p) => (typeof p === "string" ? new TextEncoder().encode(p) : p)))
const GID = (n: number) => `gid://shopify/Product/${n}`
const VALUE = { namespace: "custom", key: "badge", type: "single_line_text_field", value: "Winter \"Collection\" ❄" }

describe("jsonlValues", () => {
  it("splits lines across chunk boundaries (even inside a UTF-8 character), handles CRLF and a final line without newline", async () => {
    const snow = new TextEncoder().encode(`{"v":"❄"}\n`)
    const values = await run(
      Stream.runCollect(jsonlValues(bytes(`{"a":1}\n{"b"`, `:2}\r\n`, snow.slice(0, 7), snow.slice(7), `\n\n{"c":`, `3}`)))
    )
    expect(values).toEqual([{ a: 1 }, { b: 2 }, { v: "❄" }, { c: 3 }])
  })

  it("keeps unparseable lines as InvalidJsonlLine with their physical line index", async () => {
    const values = await run(Stream.runCollect(jsonlValues(bytes(`{"a":1}\n{oops\n[1]\n`))))
    expect(values[0]).toEqual({ a: 1 })
    expect(values[1]).toBeInstanceOf(InvalidJsonlLine)
    expect(values[1]).toMatchObject({ line: 1, text: "{oops" })
    expect(values[2]).toEqual([1])
  })
})

describe("multipartEnvelope", () => {
  it("puts every field in order and the file last, and a reader parses it as such", async () => {
    const fields = [{ name: "key", value: "tmp/1/bulk/x/bulk_op_vars" }, { name: "Content-Type", value: "text/jsonl" }, { name: "policy", value: "abc==" }]
    const e = multipartEnvelope("BOUNDARY123", fields, { fieldName: "file", filename: "bulk_op_vars", contentType: "text/jsonl" })
    const body = new Blob([e.head as BlobPart, `{"a":1}\n` as BlobPart, e.tail as BlobPart])
    const form = await new Response(body, { headers: { "Content-Type": e.contentType } }).formData()
    expect([...form.keys()]).toEqual(["key", "Content-Type", "policy", "file"])
    const file = form.get("file") as File
    expect(file.name).toBe("bulk_op_vars")
    expect(await file.text()).toBe(`{"a":1}\n`)
  })
})

describe("metafield JSONL lines", () => {
  it("builds metafieldsSet lines with MetafieldsSetInput fields, properly escaped", async () => {
    const lines = await run(Stream.runCollect(metafieldsSetLines(Stream.make(GID(1), `gid://shopify/Product/"2"`), VALUE)))
    expect(lines.map((l) => JSON.parse(l.text))).toEqual([
      { input: { ownerId: GID(1), ...VALUE } },
      { input: { ownerId: `gid://shopify/Product/"2"`, ...VALUE } }
    ])
    expect(lines[0]?.text).toBe(metafieldsSetLine(GID(1), VALUE))
    expect(lines.map((l) => l.owner)).toEqual([GID(1), `gid://shopify/Product/"2"`])
  })

  it("builds undo lines: restore where a value existed, delete where none did", async () => {
    const snapshot = Stream.make(
      { id: GID(1), metafield: null },
      { id: GID(2), metafield: { value: "Old", type: "single_line_text_field" } },
      { id: GID(3) },
      { id: "gid://shopify/ProductVariant/9", __parentId: GID(3) }
    )
    const target = { namespace: "custom", key: "badge" }
    const restore = await run(Stream.runCollect(metafieldsRestoreLines(snapshot, target)))
    const del = await run(Stream.runCollect(metafieldsDeleteLines(snapshot, target)))
    expect(restore.map((l) => JSON.parse(l.text))).toEqual([{ input: { ownerId: GID(2), namespace: "custom", key: "badge", type: "single_line_text_field", value: "Old" } }])
    expect(del.map((l) => JSON.parse(l.text))).toEqual([GID(1), GID(3)].map((ownerId) => ({ input: { ownerId, namespace: "custom", key: "badge" } })))
  })
})

describe("chunkJsonl", () => {
  const collectChunks = (n: number, maxBytes: number, dir?: string) =>
    metafieldsSetLines(Stream.range(1, n).pipe(Stream.map(GID)), VALUE).pipe(
      (lines) => chunkJsonl(lines, dir === undefined ? { maxBytes } : { maxBytes, dir }),
      Stream.mapEffect((chunk) => Effect.map(Stream.runCollect(chunk.body), (parts) => ({ chunk, content: Buffer.concat(parts).toString("utf8") }))),
      Stream.runCollect
    )

  it("never exceeds maxBytes, never splits a line, keeps owners, and is deterministic", async () => {
    const line = `${metafieldsSetLine(GID(100), VALUE)}\n`
    const maxBytes = Buffer.byteLength(line) * 7 + 5
    const chunks = await run(collectChunks(200, maxBytes))
    expect(chunks.map((c) => c.chunk.lineCount).reduce((a, b) => a + b)).toBe(200)
    let expectedFirst = 0
    for (const { chunk, content } of chunks) {
      expect(chunk.byteLength).toBeLessThanOrEqual(maxBytes)
      expect(Buffer.byteLength(content)).toBe(chunk.byteLength)
      expect(chunk.firstLine).toBe(expectedFirst)
      const lines = content.split("\n")
      expect(lines.pop()).toBe("")
      expect(lines).toHaveLength(chunk.lineCount)
      lines.forEach((l, i) => expect(JSON.parse(l).input.ownerId).toBe(chunk.ownerOf(i)))
      expect(chunk.ownerOf(0)).toBe(GID(chunk.firstLine + 1))
      expect(chunk.ownerOf(chunk.lineCount)).toBeUndefined()
      expectedFirst += chunk.lineCount
    }
    const again = await run(collectChunks(200, maxBytes))
    expect(again.map((c) => c.chunk.sha256)).toEqual(chunks.map((c) => c.chunk.sha256))
  })

  it("removes its temporary files when the stream ends; keeps them in a given dir", async () => {
    let seen: JsonlChunk | undefined
    await run(Stream.runForEach(chunkJsonl(Stream.make("{}", "[]"), { maxBytes: 3 }), (c) => Effect.sync(() => void (seen ??= c))))
    expect(seen?.path).toBeDefined()
    expect(existsSync(seen?.path as string)).toBe(false)

    const dir = await mkdtemp(join(tmpdir(), "chunks-test-"))
    try {
      const chunks = await run(collectChunks(10, 100_000, dir))
      expect(await readdir(dir)).toEqual(["chunk-00000.jsonl"])
      expect(await readFile(chunks[0]?.chunk.path as string, "utf8")).toBe(chunks[0]?.content)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  it("fails on a line larger than a chunk", async () => {
    const exit = await Effect.runPromiseExit(Stream.runDrain(chunkJsonl(Stream.make("x".repeat(50)), { maxBytes: 20 })))
    expect(Exit.isFailure(exit) && String(exit.cause)).toContain("JsonlLineTooLarge")
  })

  it("counts non-ASCII lines in bytes", async () => {
    const chunks = await run(Stream.runCollect(chunkJsonl(Stream.make("é", "é", "é"), { maxBytes: 6 })))
    expect(chunks.map((c) => [c.lineCount, c.byteLength])).toEqual([[2, 6], [1, 3]])
  })
})

describe("parseMutationResults", () => {
  const ok = (n: number) => ({ data: { metafieldsSet: { metafields: [{ id: `gid://shopify/Metafield/${n}` }], userErrors: [] } }, __lineNumber: n })
  const userError = (n: number, message = "Value is invalid") => ({
    data: { metafieldsSet: { metafields: [], userErrors: [{ field: ["metafields", "0", "value"], message, code: "INVALID_VALUE", elementIndex: null }] } },
    __lineNumber: n
  })
  const topLevel = (n: number) => ({ errors: [{ message: "Variable $input of type MetafieldsSetInput! was provided invalid value", extensions: { code: "INVALID_VARIABLE" } }], __lineNumber: n })

  it("correlates shuffled results by __lineNumber: counts, duplicates, missing, owners, preview by line number", async () => {
    const objects = [ok(5), userError(7), ok(0), topLevel(2), ok(1), new InvalidJsonlLine(40, "{garbage", "Unexpected token"), userError(3), ok(5), { no: "line" }, ok(6)]
    const r = await run(parseMutationResults(Stream.fromIterable(objects), { ownerOf: (n) => GID(1000 + n), expectedLines: 9 }))
    expect(r).toMatchObject({
      resultLines: 10,
      updated: 4,
      failed: 5,
      userErrorLines: 2,
      userErrorCount: 2,
      topLevelErrorLines: 1,
      parseErrorLines: 2,
      duplicateLines: 1,
      missingLines: 2, // lines 4 and 8
      errorPreviewLines: 5,
      errorLineCount: 5
    })
    const preview = r.errorPreview.trimEnd().split("\n").map((l) => JSON.parse(l))
    expect(preview.map((p) => [p.line, p.ownerId, p.kind])).toEqual([
      [2, GID(1002), "errors"],
      [3, GID(1003), "userErrors"],
      [7, GID(1007), "userErrors"],
      [null, null, "unparseable"],
      [null, null, "unparseable"]
    ])
    expect(preview[0].errors).toEqual([{ message: "Variable $input of type MetafieldsSetInput! was provided invalid value", code: "INVALID_VARIABLE" }])
    const all = (await readFile(r.errorLinesPath as string, "utf8")).trimEnd().split("\n")
    expect(all).toHaveLength(5)
    await rm(r.errorLinesPath as string)
  })

  it("caps the preview at 50 lines and 10 KB while the error file keeps every line", async () => {
    const objects = Array.from({ length: 300 }, (_, i) => (i % 3 === 0 ? ok(i) : userError(i, `bad ${"x".repeat(i % 2 === 0 ? 20 : 500)}`))).reverse()
    const r = await run(parseMutationResults(Stream.fromIterable(objects)))
    expect([r.updated, r.failed]).toEqual([100, 200])
    expect(r.errorPreviewLines).toBeLessThanOrEqual(50)
    expect(Buffer.byteLength(r.errorPreview)).toBeLessThanOrEqual(10 * 1024)
    const previewLines = r.errorPreview.trimEnd().split("\n").map((l) => JSON.parse(l).line)
    expect(previewLines).toEqual([...previewLines].sort((a, b) => a - b))
    expect(previewLines[0]).toBe(1)
    const few = await run(parseMutationResults(Stream.fromIterable(objects.map((o) => (o.data.metafieldsSet.userErrors.length > 0 ? userError(o.__lineNumber, "short") : o)))))
    expect(few.errorPreviewLines).toBe(50)
    expect((await readFile(r.errorLinesPath as string, "utf8")).trimEnd().split("\n")).toHaveLength(200)
    await rm(r.errorLinesPath as string)
    await rm(few.errorLinesPath as string)
  })

  it("parses the raw file to the same results, recognising plain successes in the bytes", async () => {
    const objects = [ok(5), userError(7), ok(0), topLevel(2), ok(1), userError(3), ok(5), { no: "line" }, ok(6)]
    const lines = [...objects.map((o) => JSON.stringify(o)), "{garbage", ""]
    const fromObjects = await run(parseMutationResults(Stream.fromIterable([...objects, new InvalidJsonlLine(9, "{garbage", "x")]), { expectedLines: 9 }))
    const text = Buffer.from(lines.join("\r\n"))
    const fromLines = await run(parseMutationResultFile(bytes(text.subarray(0, 37), text.subarray(37, 300), text.subarray(300, 301), text.subarray(301)), { expectedLines: 9 }))
    const strip = ({ errorLinesPath: _p, errorPreview: _t, ...rest }: typeof fromObjects) => rest
    expect(strip(fromLines)).toEqual(strip(fromObjects))
    for (const r of [fromLines, fromObjects]) await rm(r.errorLinesPath as string)
  })

  it("takes the fast path only when the line is certainly a success", () => {
    expect(fastSuccessLineNumber(JSON.stringify(ok(42)))).toBe(42)
    expect(fastSuccessLineNumber(JSON.stringify(userError(1)))).toBe(-1)
    expect(fastSuccessLineNumber(JSON.stringify(topLevel(1)))).toBe(-1)
    expect(fastSuccessLineNumber(`{"data":{"metafieldsSet":{"metafields":[],"userErrors": []}},"__lineNumber":1}`)).toBe(-1) // not compact: parse
    expect(fastSuccessLineNumber(`{"data":{"x":{"userErrors":[]}},"errors":[{"message":"m"}],"__lineNumber":1}`)).toBe(-1)
    expect(fastSuccessLineNumber(`{"data":{"x":{"v":"\"userErrors\":[]","userErrors":[]}},"__lineNumber":1}`)).toBe(-1) // user content mentions it
    expect(fastSuccessLineNumber(`{"data":{"x":{"userErrors":[]}},"__lineNumber":1,"y":{"__lineNumber":2}}`)).toBe(-1)
    expect(fastSuccessLineNumber(`{"data":{"x":{"userErrors":[]}},"__lineNumber":"1"}`)).toBe(-1)
  })

  it("creates no error file when everything succeeded", async () => {
    const r = await run(parseMutationResults(Stream.fromIterable([ok(1), ok(0)]), { expectedLines: 2 }))
    expect([r.updated, r.failed, r.missingLines, r.errorLinesPath, r.errorPreview]).toEqual([2, 0, 0, undefined, ""])
  })
})
