/**
 * The Flowmend bulk-metafield job's file formats, as Streams:
 *
 * - the bulk **query** that lists the matching products together with the target
 *   metafield's current value (captured for undo);
 * - `metafieldsSet` JSONL for the mutation (its results carry each written metafield's
 *   `compareDigest`), and restore / delete JSONL for **undo** (a restore may carry the
 *   `compareDigest` it expects, so Shopify refuses a metafield changed since);
 * - the current metafield of given products (`nodes`), what undo compares before a delete;
 * - chunking of a JSONL stream into ≤ 95 MiB files (Shopify's cap is 100 MB), each
 *   re-playable from disk so an upload can be retried and never sits in RAM;
 * - parsing of a bulk mutation's result file: counts, an error preview and every error line.
 *
 * The seed's JSONL (`{"input":{"id":…,"metafields":[…]}}`) is `ProductInput`'s shape, which
 * belongs to `productUpdate`; with `metafieldsSet(metafields: [$input])` and
 * `$input: MetafieldsSetInput!` every line must be `{"input":{"ownerId","namespace","key",
 * "type","value"}}` (2026-07 `MetafieldsSetInput`), otherwise each line fails with a
 * top-level INVALID_VARIABLE error.
 */
import { createHash, randomUUID, type Hash } from "node:crypto"
import { createReadStream } from "node:fs"
import { mkdir, mkdtemp, open, rm, type FileHandle } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect, Result, Schema, Stream } from "effect"
import { graphqlString } from "./documents.ts"
import { JsonlLineSplitter, isInvalidJsonlLine, jsonlTextLines, parseJsonlLine } from "./jsonl.ts"

// ------------------------------------------------------------------------------ errors

export class JsonlFileError extends Schema.TaggedError<JsonlFileError>()("JsonlFileError", {
  operation: Schema.String,
  path: Schema.String,
  message: Schema.String,
  cause: Schema.optionalKey(Schema.Defect())
}) {}

/** One JSONL line is larger than a whole chunk may be. */
export class JsonlLineTooLarge extends Schema.TaggedError<JsonlLineTooLarge>()("JsonlLineTooLarge", {
  line: Schema.Number,
  byteLength: Schema.Number,
  maxBytes: Schema.Number,
  message: Schema.String
}) {}

// ----------------------------------------------------------------------------- inputs

export interface MetafieldTarget {
  readonly namespace: string
  readonly key: string
}

export interface MetafieldValue extends MetafieldTarget {
  /** e.g. `single_line_text_field`, `boolean`, `number_integer`, `json`. */
  readonly type: string
  /** Always a string on the wire, whatever the type. */
  readonly value: string
}

/** A JSONL line plus the resource it is about (kept per chunk to explain error lines). */
export interface JsonlLine {
  readonly text: string
  readonly owner: string
}

// -------------------------------------------------------------------------- documents

/**
 * Bulk mutation for setting one metafield per line (validated against 2026-07). Each result
 * line carries the written metafield's `compareDigest` (see {@link writtenDigest}): what an
 * undo later compares with.
 */
export const METAFIELDS_SET_MUTATION =
  "mutation call($input: MetafieldsSetInput!) { metafieldsSet(metafields: [$input]) { metafields { id compareDigest } userErrors { field message code elementIndex } } }"

/** Bulk mutation for deleting one metafield per line (undo where none existed before). */
export const METAFIELDS_DELETE_MUTATION =
  "mutation call($input: MetafieldIdentifierInput!) { metafieldsDelete(metafields: [$input]) { deletedMetafields { ownerId namespace key } userErrors { field message } } }"

/**
 * The job's bulk query: every product matching `search` with its id and the target
 * metafield's current `value` / `type` (null when it does not exist), so undo can restore
 * or delete. Bulk queries take no variables, so the search and target are inlined as
 * escaped GraphQL string literals.
 */
export const productMetafieldSnapshotQuery = (search: string, target: MetafieldTarget): string =>
  `{ products(query: ${graphqlString(search)}) { edges { node { id metafield(namespace: ${graphqlString(target.namespace)}, key: ${
    graphqlString(target.key)
  }) { value type } } } } }`

/**
 * The current target metafield (value, type, `compareDigest`) of up to
 * {@link CURRENT_METAFIELDS_PAGE} products by id (`nodes`), for an undo that must compare
 * before it deletes (`metafieldsDelete` takes no `compareDigest`).
 */
export const PRODUCT_METAFIELD_CURRENT_QUERY =
  "query SumeruCurrentMetafields($ids: [ID!]!, $namespace: String!, $key: String!) { nodes(ids: $ids) { ... on Product { id metafield(namespace: $namespace, key: $key) { value type compareDigest } } } }"

/** Shopify's cap on `nodes(ids:)`. */
export const CURRENT_METAFIELDS_PAGE = 250

/** A product's metafield as it is now; null when it (or the product) does not exist. */
export interface CurrentMetafieldState {
  readonly value: string
  readonly type: string
  readonly compareDigest: string
}

/**
 * Reads a {@link PRODUCT_METAFIELD_CURRENT_QUERY} answer: every asked id maps to its
 * metafield, or null when the product or its metafield does not exist (a null node).
 */
export const parseCurrentMetafields = (
  data: Readonly<Record<string, unknown>>,
  ids: ReadonlyArray<string>
): Map<string, CurrentMetafieldState | null> => {
  const out = new Map<string, CurrentMetafieldState | null>(ids.map((id) => [id, null]))
  const nodes = data["nodes"]
  if (!Array.isArray(nodes)) return out
  for (const node of nodes) {
    if (!isRecord(node) || typeof node["id"] !== "string") continue
    const mf = node["metafield"]
    if (isRecord(mf) && typeof mf["value"] === "string" && typeof mf["type"] === "string" && typeof mf["compareDigest"] === "string") {
      out.set(node["id"], { value: mf["value"], type: mf["type"], compareDigest: mf["compareDigest"] })
    }
  }
  return out
}

/**
 * The `compareDigest` of the metafield a `metafieldsSet` result line (its `data`) wrote, or
 * null when the line does not carry one.
 */
export const writtenDigest = (data: Readonly<Record<string, unknown>>): string | null => {
  const payload = data["metafieldsSet"]
  const metafields = isRecord(payload) ? payload["metafields"] : undefined
  const first: unknown = Array.isArray(metafields) ? metafields[0] : undefined
  return isRecord(first) && typeof first["compareDigest"] === "string" ? first["compareDigest"] : null
}

// ------------------------------------------------------------------------------ lines

/**
 * `{"input":{"ownerId":…,"namespace":…,"key":…,"type":…,"value":…}}`, with
 * `"compareDigest":…` when given: Shopify then writes only if the metafield's current digest
 * is that one (null: only if the metafield does not exist), else answers `STALE_OBJECT`.
 */
export const metafieldsSetLine = (ownerId: string, m: MetafieldValue, compareDigest?: string | null): string =>
  `{"input":{"ownerId":${JSON.stringify(ownerId)},"namespace":${JSON.stringify(m.namespace)},"key":${JSON.stringify(m.key)},"type":${
    JSON.stringify(m.type)
  },"value":${JSON.stringify(m.value)}${compareDigest === undefined ? "" : `,"compareDigest":${JSON.stringify(compareDigest)}`}}}`

/** `{"input":{"ownerId":…,"namespace":…,"key":…}}` (`MetafieldIdentifierInput`) */
export const metafieldsDeleteLine = (ownerId: string, t: MetafieldTarget): string =>
  `{"input":{"ownerId":${JSON.stringify(ownerId)},"namespace":${JSON.stringify(t.namespace)},"key":${JSON.stringify(t.key)}}}`

const LINE_BATCH = 256

/** Strings that JSON-encode as themselves in quotes (GIDs): no escaping needed. */
const SAFE_JSON_STRING = /^[A-Za-z0-9:/._-]*$/

/** One `metafieldsSet` line per product id. */
export const metafieldsSetLines = <E, R>(productIds: Stream.Stream<string, E, R>, m: MetafieldValue): Stream.Stream<JsonlLine, E, R> => {
  // Everything after the owner is the same on every line: build it once.
  const suffix = metafieldsSetLine("", m).slice(`{"input":{"ownerId":""`.length)
  return productIds.pipe(
    // Small batches: a line is garbage microseconds after it is built, and a scavenge then
    // finds few survivors to promote (4096-line batches measurably doubled peak RSS).
    Stream.rechunk(LINE_BATCH),
    Stream.map((id) => ({ text: `{"input":{"ownerId":${SAFE_JSON_STRING.test(id) ? `"${id}"` : JSON.stringify(id)}${suffix}`, owner: id }))
  )
}

/** A product line of the snapshot query's results. */
export interface ProductSnapshot {
  readonly id: string
  /** The metafield before the job, or null when it did not exist. */
  readonly previous: { readonly type: string; readonly value: string } | null
}

const isRecord = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)

/** A `Filter` from a function answering undefined for "drop". */
const keep = <B>(f: (u: unknown) => B | undefined) => (u: unknown): Result.Result<B, unknown> => {
  const b = f(u)
  return b === undefined ? Result.fail(u) : Result.succeed(b)
}

/** Reads a snapshot line (`{"id":…,"metafield":{"value","type"}|null}`); undefined for other lines. */
export const parseProductSnapshot = (u: unknown): ProductSnapshot | undefined => {
  if (!isRecord(u) || typeof u["id"] !== "string" || "__parentId" in u) return undefined
  const mf = u["metafield"]
  if (isRecord(mf) && typeof mf["value"] === "string" && typeof mf["type"] === "string") {
    return { id: u["id"], previous: { type: mf["type"], value: mf["value"] } }
  }
  return { id: u["id"], previous: null }
}

/** Product ids of the snapshot (input of `metafieldsSetLines`). */
export const snapshotProductIds = <E, R>(objects: Stream.Stream<unknown, E, R>): Stream.Stream<string, E, R> =>
  Stream.filterMap(objects, keep((u) => parseProductSnapshot(u)?.id))

/** Undo, part 1: `metafieldsSet` lines putting back the previous value where one existed. */
export const metafieldsRestoreLines = <E, R>(snapshot: Stream.Stream<unknown, E, R>, target: MetafieldTarget): Stream.Stream<JsonlLine, E, R> =>
  Stream.filterMap(
    snapshot,
    keep((u): JsonlLine | undefined => {
      const s = parseProductSnapshot(u)
      if (s === undefined || s.previous === null) return undefined
      return { text: metafieldsSetLine(s.id, { ...target, ...s.previous }), owner: s.id }
    })
  )

/** Undo, part 2: `metafieldsDelete` lines where the metafield did not exist before the job. */
export const metafieldsDeleteLines = <E, R>(snapshot: Stream.Stream<unknown, E, R>, target: MetafieldTarget): Stream.Stream<JsonlLine, E, R> =>
  Stream.filterMap(
    snapshot,
    keep((u): JsonlLine | undefined => {
      const s = parseProductSnapshot(u)
      if (s === undefined || s.previous !== null) return undefined
      return { text: metafieldsDeleteLine(s.id, target), owner: s.id }
    })
  )

// --------------------------------------------------------------------------- chunking

/** 95 MiB: a 5 MB margin below Shopify's 100 MB cap for a bulk mutation file. */
export const DEFAULT_MAX_CHUNK_BYTES = 95 * 1024 * 1024

/** One file of a chunked JSONL stream. */
export interface JsonlChunk {
  /** 0, 1, 2, … */
  readonly index: number
  /** Index of this chunk's first line in the whole stream. */
  readonly firstLine: number
  readonly lineCount: number
  /** Bytes in the file (every line ends with `\n`). */
  readonly byteLength: number
  /** Hex SHA-256 of the file: the same input always gives the same chunks. */
  readonly sha256: string
  readonly path: string
  /** The file's bytes; re-readable (e.g. to retry an upload). */
  readonly body: Stream.Stream<Uint8Array, JsonlFileError>
  /** The file's lines (without newlines). */
  readonly lines: Stream.Stream<string, JsonlFileError>
  /** The owner of line `lineNumber` (0-based within this chunk, as `__lineNumber`). */
  readonly ownerOf: (lineNumber: number) => string | undefined
}

export interface ChunkJsonlOptions {
  /** Upper bound of a chunk's size in bytes (default 95 MiB). */
  readonly maxBytes?: number
  /**
   * Directory for the chunk files, kept after the stream ends (the caller deletes them).
   * Without it the files go to a temporary directory removed when the stream ends, so
   * use (upload) each chunk inside the pipeline.
   */
  readonly dir?: string
  /** Size of the write buffer (default 1 MiB). */
  readonly writeBufferBytes?: number
}

/**
 * Owners of a chunk's lines, compactly: ids that are `<common prefix><integer>` (Shopify
 * GIDs) are 8 bytes each; anything else falls back to a map.
 */
export class OwnerIndex {
  #prefix: string | undefined
  #nums = new Float64Array(4096)
  #size = 0
  #others: Map<number, string> | undefined

  add(owner: string | undefined): void {
    if (this.#size === this.#nums.length) {
      const grown = new Float64Array(this.#nums.length * 2)
      grown.set(this.#nums)
      this.#nums = grown
    }
    const i = this.#size++
    if (owner === undefined) {
      this.#nums[i] = Number.NaN
      return
    }
    if (this.#prefix === undefined) this.#prefix = owner.slice(0, owner.lastIndexOf("/") + 1)
    const prefix = this.#prefix
    if (owner.length > prefix.length && owner.length - prefix.length <= 15 && owner.startsWith(prefix) && owner.charCodeAt(prefix.length) !== 48) {
      let value = 0
      let k = prefix.length
      for (; k < owner.length; k++) {
        const c = owner.charCodeAt(k) - 48
        if (c < 0 || c > 9) break
        value = value * 10 + c
      }
      if (k === owner.length) {
        this.#nums[i] = value
        return
      }
    }
    this.#nums[i] = Number.NaN
    ;(this.#others ??= new Map()).set(i, owner)
  }

  seal(): (lineNumber: number) => string | undefined {
    const nums = this.#nums.slice(0, this.#size)
    const prefix = this.#prefix ?? ""
    const others = this.#others
    return (n) => {
      if (!Number.isInteger(n) || n < 0 || n >= nums.length) return undefined
      const v = nums[n] as number
      return Number.isNaN(v) ? others?.get(n) : `${prefix}${v}`
    }
  }
}

class LineTooLarge {
  readonly line: number
  readonly size: number
  constructor(line: number, size: number) {
    this.line = line
    this.size = size
  }
}

const fileBody = (path: string): Stream.Stream<Uint8Array, JsonlFileError> =>
  Stream.suspend(() =>
    Stream.fromAsyncIterable(
      createReadStream(path, { highWaterMark: 256 * 1024 }) as AsyncIterable<Uint8Array>,
      (cause) => new JsonlFileError({ operation: "read", path, message: String(cause), cause })
    )
  )

interface OpenChunk {
  readonly index: number
  readonly path: string
  readonly handle: FileHandle
  readonly hash: Hash
  readonly owners: OwnerIndex
  readonly firstLine: number
  lines: number
  bytes: number
}

/**
 * Writes lines into numbered chunk files through one reusable write buffer (lines are
 * encoded straight into it: no joined strings, little garbage). Plain async code: the
 * Stream wrapper owns its lifetime.
 */
class ChunkWriter {
  readonly #dir: string
  readonly #maxBytes: number
  readonly #buffer: Buffer
  #used = 0
  #index = 0
  #line = 0
  #current: OpenChunk | undefined

  constructor(dir: string, maxBytes: number, bufferBytes: number) {
    this.#dir = dir
    this.#maxBytes = maxBytes
    this.#buffer = Buffer.allocUnsafe(bufferBytes)
  }

  async push(items: ReadonlyArray<string | JsonlLine>): Promise<Array<JsonlChunk>> {
    const done: Array<JsonlChunk> = []
    for (const item of items) {
      const text = typeof item === "string" ? item : item.text
      const size = Buffer.byteLength(text, "utf8") + 1
      if (size > this.#maxBytes) throw new LineTooLarge(this.#line, size)
      let c = this.#current
      if (c !== undefined && c.bytes + size > this.#maxBytes) {
        done.push(await this.#close(c))
        c = undefined
      }
      c ??= await this.#open()
      if (this.#used + size > this.#buffer.length) await this.#flush(c)
      if (size > this.#buffer.length) {
        await this.#write(c, Buffer.from(`${text}\n`, "utf8"))
      } else {
        this.#used += this.#buffer.write(text, this.#used, "utf8")
        this.#buffer[this.#used++] = 0x0a
      }
      c.bytes += size
      c.lines++
      c.owners.add(typeof item === "string" ? undefined : item.owner)
      this.#line++
    }
    return done
  }

  async finish(): Promise<Array<JsonlChunk>> {
    const c = this.#current
    return c === undefined ? [] : [await this.#close(c)]
  }

  async abort(): Promise<void> {
    const c = this.#current
    this.#current = undefined
    await c?.handle.close().catch(() => undefined)
  }

  async #open(): Promise<OpenChunk> {
    const index = this.#index++
    const path = join(this.#dir, `chunk-${String(index).padStart(5, "0")}.jsonl`)
    const handle = await open(path, "w")
    const c: OpenChunk = {
      index,
      path,
      handle,
      hash: createHash("sha256"),
      owners: new OwnerIndex(),
      firstLine: this.#line,
      lines: 0,
      bytes: 0
    }
    this.#current = c
    return c
  }

  async #flush(c: OpenChunk): Promise<void> {
    if (this.#used === 0) return
    const data = this.#buffer.subarray(0, this.#used)
    this.#used = 0
    await this.#write(c, data)
  }

  async #write(c: OpenChunk, data: Uint8Array): Promise<void> {
    c.hash.update(data)
    for (let offset = 0; offset < data.byteLength;) {
      const { bytesWritten } = await c.handle.write(data, offset, data.byteLength - offset)
      offset += bytesWritten
    }
  }

  async #close(c: OpenChunk): Promise<JsonlChunk> {
    await this.#flush(c)
    await c.handle.close()
    this.#current = undefined
    const path = c.path
    const body = fileBody(path)
    return {
      index: c.index,
      firstLine: c.firstLine,
      lineCount: c.lines,
      byteLength: c.bytes,
      sha256: c.hash.digest("hex"),
      path,
      body,
      lines: Stream.filter(jsonlTextLines(body), (l) => l.length > 0),
      ownerOf: c.owners.seal()
    }
  }
}

/**
 * Splits JSONL lines (strings, or `JsonlLine`s to remember each line's owner) into files of
 * at most `maxBytes`, never splitting a line. Each chunk is emitted once its file is
 * complete. Memory stays at about `writeBufferBytes` plus 8 bytes per line for owners.
 */
export const chunkJsonl = <E, R>(
  lines: Stream.Stream<string | JsonlLine, E, R>,
  options: ChunkJsonlOptions = {}
): Stream.Stream<JsonlChunk, E | JsonlFileError | JsonlLineTooLarge, R> => {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_CHUNK_BYTES
  const bufferBytes = Math.min(options.writeBufferBytes ?? 1024 * 1024, maxBytes)
  const failure = (operation: string, path: string) => (cause: unknown): JsonlFileError | JsonlLineTooLarge =>
    cause instanceof LineTooLarge
      ? new JsonlLineTooLarge({
        line: cause.line,
        byteLength: cause.size,
        maxBytes,
        message: `JSONL line ${cause.line} is ${cause.size} bytes, more than a chunk may hold (${maxBytes})`
      })
      : new JsonlFileError({ operation, path, message: cause instanceof Error ? cause.message : String(cause), cause })
  return Stream.unwrap(
    Effect.gen(function*() {
      const dir = options.dir !== undefined
        ? yield* Effect.tryPromise({ try: () => mkdir(options.dir as string, { recursive: true }).then(() => options.dir as string), catch: failure("mkdir", options.dir) })
        : yield* Effect.acquireRelease(
          Effect.tryPromise({ try: () => mkdtemp(join(tmpdir(), "sumeru-jsonl-")), catch: failure("mkdtemp", tmpdir()) }),
          (d) => Effect.promise(() => rm(d, { recursive: true, force: true }))
        )
      const writer = new ChunkWriter(dir, maxBytes, bufferBytes)
      yield* Effect.addFinalizer(() => Effect.promise(() => writer.abort()))
      const written = Stream.mapAccumArrayEffect(
        lines,
        () => undefined,
        (_, items) => Effect.map(Effect.tryPromise({ try: () => writer.push(items), catch: failure("write", dir) }), (done) => [undefined, done] as const)
      )
      const last = Stream.unwrap(Effect.map(Effect.tryPromise({ try: () => writer.finish(), catch: failure("close", dir) }), Stream.fromIterable))
      return Stream.concat(written, last)
    })
  )
}

// ------------------------------------------------------------------- mutation results

/**
 * One failed line of a bulk mutation, as written to the error preview / error file. A line
 * refused only with `STALE_OBJECT` (its `compareDigest` no longer matched: the resource
 * changed since) is of kind `changed_since`, with a plain `reason`.
 */
export interface MutationErrorLine {
  /** `__lineNumber` (0-based within the uploaded file), or null when the result line had none. */
  readonly line: number | null
  readonly ownerId: string | null
  readonly kind: "userErrors" | "errors" | "unparseable" | "changed_since"
  readonly reason?: string
  readonly errors: ReadonlyArray<{ readonly message: string; readonly code?: string; readonly field?: ReadonlyArray<string> }>
}

/** Default `reason` of a `changed_since` line. */
export const STALE_OBJECT_REASON = "The resource changed since it was loaded: not written."

/** What one input line of a bulk mutation came to (see `ParseMutationResultsOptions.onResult`). */
export type MutationLineResult =
  | { readonly ok: true; readonly compareDigest: string | null }
  | { readonly ok: false }

export interface ParseMutationResultsOptions {
  /** Owner of an input line (e.g. `chunk.ownerOf`), to say which product failed. */
  readonly ownerOf?: (lineNumber: number) => string | undefined
  /** Input line count (e.g. `chunk.lineCount`): enables `missingLines`. */
  readonly expectedLines?: number
  /** Preview size limits (defaults 50 lines, 10 KB). */
  readonly previewLines?: number
  readonly previewBytes?: number
  /**
   * Where every error line goes (JSONL of `MutationErrorLine`, in arrival order). Default: a
   * new file in the OS temp dir, created on the first error; the caller owns (and deletes) it.
   */
  readonly errorFile?: string
  /**
   * Called once per input line that has a result (duplicates ignored), with the
   * `compareDigest` of what a `metafieldsSet` line wrote on success (`writtenDigest`).
   */
  readonly onResult?: (lineNumber: number, result: MutationLineResult) => void
  /** `reason` of the `changed_since` lines (default {@link STALE_OBJECT_REASON}). */
  readonly changedSinceReason?: string
}

export interface MutationResults {
  /** Result lines read (including duplicates and unparseable ones). */
  readonly resultLines: number
  /** Input lines that succeeded (no userErrors, no errors). */
  readonly updated: number
  /** Input lines that failed, plus unparseable result lines (not the `changedSince` ones). */
  readonly failed: number
  /** Input lines refused only with `STALE_OBJECT`: the resource changed since its `compareDigest` was read. */
  readonly changedSince: number
  /** Lines failed with `userErrors` / top-level `errors` / unreadable, and the userErrors total. */
  readonly userErrorLines: number
  readonly topLevelErrorLines: number
  readonly parseErrorLines: number
  readonly userErrorCount: number
  /** Result lines for an input line already seen (ignored for the counts). */
  readonly duplicateLines: number
  /** Input lines without any result (with `expectedLines`), e.g. a partial result file. */
  readonly missingLines: number | undefined
  /** JSONL of the first error lines by line number: at most `previewLines` lines and `previewBytes` bytes. */
  readonly errorPreview: string
  readonly errorPreviewLines: number
  /** Every error line (JSONL), or undefined when there were none. */
  readonly errorLinesPath: string | undefined
  readonly errorLineCount: number
}

const MAX_PREVIEW_MESSAGE = 300

const toErrorDetails = (raw: unknown): MutationErrorLine["errors"] => {
  if (!Array.isArray(raw)) return []
  return raw.map((e) => {
    if (!isRecord(e)) return { message: String(e) }
    const code = typeof e["code"] === "string"
      ? e["code"]
      : isRecord(e["extensions"]) && typeof e["extensions"]["code"] === "string"
        ? e["extensions"]["code"]
        : undefined
    const field = Array.isArray(e["field"]) ? e["field"].map(String) : undefined
    return {
      message: typeof e["message"] === "string" ? e["message"] : JSON.stringify(e),
      ...(code !== undefined ? { code } : {}),
      ...(field !== undefined ? { field } : {})
    }
  })
}

/** Bounded list of the error lines with the smallest line numbers (result order is random). */
class SmallestLines {
  readonly #limit: number
  readonly items: Array<MutationErrorLine> = []
  constructor(limit: number) {
    this.#limit = limit
  }
  offer(e: MutationErrorLine): void {
    const key = e.line ?? Number.POSITIVE_INFINITY
    const last = this.items[this.items.length - 1]
    if (this.items.length >= this.#limit && last !== undefined && (last.line ?? Number.POSITIVE_INFINITY) <= key) return
    let i = this.items.length
    while (i > 0 && ((this.items[i - 1] as MutationErrorLine).line ?? Number.POSITIVE_INFINITY) > key) i--
    this.items.splice(i, 0, e)
    if (this.items.length > this.#limit) this.items.pop()
  }
}

const previewOf = (lines: ReadonlyArray<MutationErrorLine>, maxBytes: number): { readonly text: string; readonly count: number } => {
  let text = ""
  let bytes = 0
  let count = 0
  for (const l of lines) {
    const short: MutationErrorLine = {
      ...l,
      errors: l.errors.map((e) => (e.message.length > MAX_PREVIEW_MESSAGE ? { ...e, message: `${e.message.slice(0, MAX_PREVIEW_MESSAGE)}…` } : e))
    }
    const line = `${JSON.stringify(short)}\n`
    const size = Buffer.byteLength(line)
    if (bytes + size > maxBytes) break
    text += line
    bytes += size
    count++
  }
  return { text, count }
}

/** Growable bit set of seen line numbers. */
class Seen {
  #bits: Uint8Array
  distinct = 0
  constructor(expected: number) {
    this.#bits = new Uint8Array(Math.max(1024, Math.ceil(expected / 8)))
  }
  /** Marks `n`; false when it was already marked. */
  mark(n: number): boolean {
    const byte = n >>> 3
    if (byte >= this.#bits.length) {
      const grown = new Uint8Array(Math.max(byte + 1, this.#bits.length * 2))
      grown.set(this.#bits)
      this.#bits = grown
    }
    const bit = 1 << (n & 7)
    const b = this.#bits[byte] as number
    if ((b & bit) !== 0) return false
    this.#bits[byte] = b | bit
    this.distinct++
    return true
  }
}

/**
 * Receives result lines, parsed or (fast path) already known to be successes: with the
 * `compareDigest` they wrote when the caller asked for it (`onResult`), else null.
 */
interface ResultSink {
  readonly object: (o: unknown) => void
  readonly success: (lineNumber: number, compareDigest: string | null) => void
}

const bytesOf = (s: string): Uint8Array => Buffer.from(s, "latin1")
const USER_ERRORS = bytesOf(`"userErrors"`)
const ERRORS = bytesOf(`"errors"`)
const DATA_PREFIX = bytesOf(`{"data":{`)
const LINE_NUMBER_KEY = bytesOf(`,"__lineNumber":`)
const WRITTEN_PREFIX = bytesOf(`{"data":{"metafieldsSet":{"metafields":[{"id":"`)
const WRITTEN_DIGEST_KEY = bytesOf(`","compareDigest":"`)
const WRITTEN_SUFFIX = bytesOf(`"}],"userErrors":[]}},"__lineNumber":`)

const matchAt = (buf: Uint8Array, at: number, end: number, needle: Uint8Array): boolean => {
  if (at < 0 || at + needle.length > end) return false
  for (let k = 0; k < needle.length; k++) if (buf[at + k] !== needle[k]) return false
  return true
}

/**
 * The `__lineNumber` of a result line (bytes `[start, end)`) that is certainly a success,
 * found without decoding or parsing it: `{"data":{…}` with exactly one `"userErrors"` key,
 * immediately `:[]`, no `"errors"` anywhere, ending in `,"__lineNumber":<digits>}` (compact
 * JSON, as Shopify writes it). -1 when unsure: the line is then parsed normally.
 */
export const fastSuccessLineNumberIn = (buf: Uint8Array, start: number, end: number): number => {
  if (end - start < 40 || buf[end - 1] !== 0x7d || !matchAt(buf, start, end, DATA_PREFIX)) return -1
  let userErrorsAt = -1
  // One pass over the quotes: every key and string starts with one.
  for (let i = start + DATA_PREFIX.length; i < end; i++) {
    if (buf[i] !== 0x22) continue
    const next = buf[i + 1]
    if (next === 0x75 && matchAt(buf, i, end, USER_ERRORS)) {
      if (userErrorsAt !== -1) return -1
      userErrorsAt = i
      i += USER_ERRORS.length - 1
    } else if (next === 0x65 && matchAt(buf, i, end, ERRORS)) {
      return -1
    }
  }
  const after = userErrorsAt + USER_ERRORS.length
  if (userErrorsAt === -1 || buf[after] !== 0x3a || buf[after + 1] !== 0x5b || buf[after + 2] !== 0x5d) return -1
  let digits = end - 1
  while (digits > start && (buf[digits - 1] as number) >= 0x30 && (buf[digits - 1] as number) <= 0x39) digits--
  if (digits === end - 1 || end - 1 - digits > 15 || !matchAt(buf, digits - LINE_NUMBER_KEY.length, end, LINE_NUMBER_KEY)) return -1
  let n = 0
  for (let i = digits; i < end - 1; i++) n = n * 10 + ((buf[i] as number) - 0x30)
  return n
}

/**
 * The end of a JSON string's content starting at `from` whose bytes need no decoding (printable
 * ASCII, no escapes), at its closing quote; -1 otherwise.
 */
const plainStringEnd = (buf: Uint8Array, from: number, end: number): number => {
  for (let i = from; i < end; i++) {
    const b = buf[i] as number
    if (b === 0x22) return i
    if (b === 0x5c || b < 0x20 || b >= 0x7f) return -1
  }
  return -1
}

/**
 * A `metafieldsSet` success line exactly as our mutation's selection (`metafields { id
 * compareDigest } userErrors { … }`) makes Shopify write it, read without decoding or parsing:
 * `{"data":{"metafieldsSet":{"metafields":[{"id":"…","compareDigest":"…"}],"userErrors":[]}},"__lineNumber":N}`,
 * with id and digest plain ASCII. Its `__lineNumber`, the digest in `written.compareDigest`;
 * -1 for any other line, which is then parsed normally (the same outcome, by `writtenDigest`).
 */
export const fastWrittenLineIn = (buf: Buffer, start: number, end: number, written: { compareDigest: string }): number => {
  if (buf[end - 1] !== 0x7d || !matchAt(buf, start, end, WRITTEN_PREFIX)) return -1
  const idEnd = plainStringEnd(buf, start + WRITTEN_PREFIX.length, end)
  if (idEnd === -1 || !matchAt(buf, idEnd, end, WRITTEN_DIGEST_KEY)) return -1
  const digestStart = idEnd + WRITTEN_DIGEST_KEY.length
  const digestEnd = plainStringEnd(buf, digestStart, end)
  if (digestEnd === -1 || !matchAt(buf, digestEnd, end, WRITTEN_SUFFIX)) return -1
  const digits = digestEnd + WRITTEN_SUFFIX.length
  const count = end - 1 - digits
  if (count < 1 || count > 15) return -1
  let n = 0
  for (let i = digits; i < end - 1; i++) {
    const d = (buf[i] as number) - 0x30
    if (d < 0 || d > 9) return -1
    n = n * 10 + d
  }
  written.compareDigest = buf.toString("latin1", digestStart, digestEnd)
  return n
}

/** `fastSuccessLineNumberIn` for a whole line given as a string. */
export const fastSuccessLineNumber = (line: string): number => {
  const bytes = Buffer.from(line, "utf8")
  return fastSuccessLineNumberIn(bytes, 0, bytes.length)
}

/**
 * Reads a bulk mutation's result objects (e.g. `downloadJsonl(url)`), in any order:
 * correlates each by `__lineNumber` (duplicates ignored, missing lines counted), counts
 * successes, `userErrors`, top-level `errors` and unreadable lines, keeps a preview of the
 * first error lines by line number, and writes every error line to a JSONL file.
 */
export const parseMutationResults = <E, R>(
  objects: Stream.Stream<unknown, E, R>,
  options: ParseMutationResultsOptions = {}
): Effect.Effect<MutationResults, E | JsonlFileError, R> => collectMutationResults(objects, options, () => (o, sink) => sink.object(o))

/**
 * `parseMutationResults` straight from the result file's bytes (e.g. `downloadBytes(url)`):
 * lines are found in the bytes and plain success lines recognised there
 * (`fastSuccessLineNumberIn`; with `onResult`, `fastWrittenLineIn`, which reads the digest
 * too), so they are never decoded or parsed; every other line is.
 * Same results as `parseMutationResults(jsonlValues(bytes))`, a fraction of the CPU and
 * garbage on million-line files.
 */
export const parseMutationResultFile = <E, R>(
  bytes: Stream.Stream<Uint8Array, E, R>,
  options: ParseMutationResultsOptions = {}
): Effect.Effect<MutationResults, E | JsonlFileError, R> =>
  collectMutationResults(bytes, options, () => {
    const splitter = new JsonlLineSplitter()
    const digests = options.onResult !== undefined
    const written = { compareDigest: "" }
    let index = 0
    let sink: ResultSink | undefined
    const onLine = (buf: Buffer, start: number, end: number): void => {
      const i = index++
      if (start === end) return
      if (digests) {
        const n = fastWrittenLineIn(buf, start, end, written)
        if (n >= 0) return (sink as ResultSink).success(n, written.compareDigest)
      } else {
        const n = fastSuccessLineNumberIn(buf, start, end)
        if (n >= 0) return (sink as ResultSink).success(n, null)
      }
      const text = buf.toString("utf8", start, end)
      if (text.trim().length > 0) (sink as ResultSink).object(parseJsonlLine(i, text))
    }
    return {
      feed: (chunk, s) => {
        sink = s
        splitter.push(chunk, onLine)
      },
      end: (s) => {
        sink = s
        splitter.end(onLine)
      }
    }
  })

type Feed<A> = ((item: A, sink: ResultSink) => void) | { readonly feed: (item: A, sink: ResultSink) => void; readonly end: (sink: ResultSink) => void }

const collectMutationResults = <A, E, R>(
  items: Stream.Stream<A, E, R>,
  options: ParseMutationResultsOptions,
  makeFeed: () => Feed<A>
): Effect.Effect<MutationResults, E | JsonlFileError, R> =>
  Effect.gen(function*() {
    const ownerOf = options.ownerOf
    const onResult = options.onResult
    const changedSinceReason = options.changedSinceReason ?? STALE_OBJECT_REASON
    const seen = new Seen(options.expectedLines ?? 0)
    const preview = new SmallestLines(options.previewLines ?? 50)
    const errorPath = options.errorFile ?? join(tmpdir(), `sumeru-mutation-errors-${randomUUID()}.jsonl`)
    const counts = {
      resultLines: 0,
      updated: 0,
      changedSince: 0,
      userErrorLines: 0,
      topLevelErrorLines: 0,
      parseErrorLines: 0,
      userErrorCount: 0,
      duplicates: 0,
      errorLines: 0
    }
    let pending: Array<string> = []
    let pendingBytes = 0
    let handle: FileHandle | undefined
    const fileError = (operation: string) => (cause: unknown) =>
      new JsonlFileError({ operation, path: errorPath, message: cause instanceof Error ? cause.message : String(cause), cause })
    const flush = Effect.tryPromise({
      try: async () => {
        if (pending.length === 0) return
        const data = pending.join("")
        pending = []
        pendingBytes = 0
        handle ??= await open(errorPath, "w")
        await handle.appendFile(data, "utf8")
      },
      catch: fileError("write")
    })

    const record = (e: MutationErrorLine): void => {
      preview.offer(e)
      const line = `${JSON.stringify(e)}\n`
      pending.push(line)
      pendingBytes += line.length
      counts.errorLines++
    }

    const consume = (o: unknown): void => {
      counts.resultLines++
      if (isInvalidJsonlLine(o) || !isRecord(o)) {
        counts.parseErrorLines++
        record({
          line: null,
          ownerId: null,
          kind: "unparseable",
          errors: [{ message: isInvalidJsonlLine(o) ? `result line ${o.line} is not JSON (${o.message}): ${o.text}` : `unexpected result line: ${JSON.stringify(o)}` }]
        })
        return
      }
      const ln = o["__lineNumber"]
      if (typeof ln !== "number" || !Number.isInteger(ln) || ln < 0) {
        counts.parseErrorLines++
        record({ line: null, ownerId: null, kind: "unparseable", errors: [{ message: `result line without __lineNumber: ${JSON.stringify(o).slice(0, 500)}` }] })
        return
      }
      if (!seen.mark(ln)) {
        counts.duplicates++
        return
      }
      const owner = ownerOf?.(ln) ?? null
      const errors = o["errors"]
      if (Array.isArray(errors) && errors.length > 0) {
        counts.topLevelErrorLines++
        record({ line: ln, ownerId: owner, kind: "errors", errors: toErrorDetails(errors) })
        onResult?.(ln, { ok: false })
        return
      }
      const data = o["data"]
      if (!isRecord(data)) {
        counts.parseErrorLines++
        record({ line: ln, ownerId: owner, kind: "unparseable", errors: [{ message: "result line without data or errors" }] })
        onResult?.(ln, { ok: false })
        return
      }
      for (const field in data) {
        const payload = data[field]
        const userErrors = isRecord(payload) ? payload["userErrors"] : undefined
        if (Array.isArray(userErrors) && userErrors.length > 0) {
          const details = toErrorDetails(userErrors)
          if (details.every((e) => e.code === "STALE_OBJECT")) {
            counts.changedSince++
            record({ line: ln, ownerId: owner, kind: "changed_since", reason: changedSinceReason, errors: details })
          } else {
            counts.userErrorLines++
            counts.userErrorCount += userErrors.length
            record({ line: ln, ownerId: owner, kind: "userErrors", errors: details })
          }
          onResult?.(ln, { ok: false })
          return
        }
      }
      counts.updated++
      onResult?.(ln, { ok: true, compareDigest: writtenDigest(data) })
    }

    const sink: ResultSink = {
      object: consume,
      success: (n, compareDigest) => {
        counts.resultLines++
        if (!seen.mark(n)) {
          counts.duplicates++
          return
        }
        counts.updated++
        onResult?.(n, { ok: true, compareDigest })
      }
    }
    const made = makeFeed()
    const feed = typeof made === "function" ? made : made.feed
    const end = typeof made === "function" ? undefined : made.end
    yield* Effect.ensuring(
      Stream.runForEachArray(items, (chunk) => {
        for (const item of chunk) feed(item, sink)
        return pendingBytes >= 256 * 1024 ? flush : Effect.void
      }).pipe(
        Effect.andThen(Effect.sync(() => end?.(sink))),
        Effect.andThen(flush)
      ),
      Effect.promise(async () => {
        await handle?.close().catch(() => undefined)
      })
    ).pipe(
      // a read that fails half way leaves no temporary error file behind (a caller's own file stays)
      Effect.onError(() =>
        options.errorFile === undefined && handle !== undefined ? Effect.promise(() => rm(errorPath, { force: true })) : Effect.void
      )
    )

    const shown = previewOf(preview.items, options.previewBytes ?? 10 * 1024)
    const failed = counts.userErrorLines + counts.topLevelErrorLines + counts.parseErrorLines
    return {
      resultLines: counts.resultLines,
      updated: counts.updated,
      failed,
      changedSince: counts.changedSince,
      userErrorLines: counts.userErrorLines,
      topLevelErrorLines: counts.topLevelErrorLines,
      parseErrorLines: counts.parseErrorLines,
      userErrorCount: counts.userErrorCount,
      duplicateLines: counts.duplicates,
      missingLines: options.expectedLines === undefined ? undefined : Math.max(0, options.expectedLines - seen.distinct),
      errorPreview: shown.text,
      errorPreviewLines: shown.count,
      errorLinesPath: counts.errorLines > 0 ? errorPath : undefined,
      errorLineCount: counts.errorLines
    }
  })
