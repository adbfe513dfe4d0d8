/**
 * Byte-level helpers for the bulk-operation file formats: JSONL splitting and decoding as
 * Stream transformations (lines split across chunk boundaries, CRLF, a final line without a
 * newline; lines are found in the bytes, so nothing is decoded twice) and the
 * multipart/form-data envelope of a staged upload. Pure: no I/O.
 */
import { Stream } from "effect"

/** A line of a downloaded JSONL file that is not valid JSON (kept, so it can be counted). */
export class InvalidJsonlLine {
  readonly _tag = "InvalidJsonlLine"
  /** Zero-based physical line index in the file. */
  readonly line: number
  /** The line, truncated to 200 characters. */
  readonly text: string
  readonly message: string
  constructor(line: number, text: string, message: string) {
    this.line = line
    this.text = text.length > 200 ? `${text.slice(0, 200)}…` : text
    this.message = message
  }
}

export const isInvalidJsonlLine = (u: unknown): u is InvalidJsonlLine => u instanceof InvalidJsonlLine

/** Receives one line as a byte range (`\n` and a trailing `\r` excluded). */
export type LineHandler = (bytes: Buffer, start: number, end: number) => void

const asBuffer = (chunk: Uint8Array): Buffer =>
  Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)

/**
 * Splits UTF-8 bytes into lines without decoding them: lines are handed over as byte ranges
 * of the incoming chunks (no copy); only a line cut by a chunk boundary is copied. Lines end
 * at `\n` (a `\r` before it is dropped); a final line without a newline is emitted by `end`.
 */
export class JsonlLineSplitter {
  #carry: Buffer | undefined

  push(chunk: Uint8Array, onLine: LineHandler): void {
    const buf = asBuffer(chunk)
    let start = 0
    if (this.#carry !== undefined) {
      const nl = buf.indexOf(0x0a)
      if (nl === -1) {
        this.#carry = Buffer.concat([this.#carry, buf])
        return
      }
      const joined = Buffer.concat([this.#carry, buf.subarray(0, nl)])
      this.#carry = undefined
      emit(joined, 0, joined.length, onLine)
      start = nl + 1
    }
    for (;;) {
      const nl = buf.indexOf(0x0a, start)
      if (nl === -1) break
      emit(buf, start, nl, onLine)
      start = nl + 1
    }
    // Copy the partial line, so the chunk itself can be released.
    if (start < buf.length) this.#carry = Buffer.from(buf.subarray(start))
  }

  end(onLine: LineHandler): void {
    const carry = this.#carry
    this.#carry = undefined
    if (carry !== undefined && carry.length > 0) emit(carry, 0, carry.length, onLine)
  }
}

const emit = (buf: Buffer, start: number, end: number, onLine: LineHandler): void =>
  onLine(buf, start, end > start && buf[end - 1] === 0x0d ? end - 1 : end)

/** Maps every line of a byte stream (in chunk-sized arrays: no per-line Stream overhead). */
const mapLines = <B, E, R>(bytes: Stream.Stream<Uint8Array, E, R>, f: (index: number, buf: Buffer, start: number, end: number) => B | undefined) =>
  Stream.suspend(() => {
    const splitter = new JsonlLineSplitter()
    let index = 0
    let out: Array<B> = []
    const onLine: LineHandler = (buf, start, end) => {
      const b = f(index++, buf, start, end)
      if (b !== undefined) out.push(b)
    }
    const take = () => {
      const taken = out
      out = []
      return taken
    }
    return Stream.mapAccumArray(bytes, () => undefined, (_, chunks) => {
      for (const chunk of chunks) splitter.push(chunk, onLine)
      return [undefined, take()] as const
    }, {
      onHalt: () => {
        splitter.end(onLine)
        return take()
      }
    })
  })

const isBlank = (buf: Buffer, start: number, end: number): boolean => {
  for (let i = start; i < end; i++) {
    const c = buf[i]
    if (c !== 0x20 && c !== 0x09 && c !== 0x0d) return false
  }
  return true
}

/** Parses one JSONL line; invalid JSON becomes an `InvalidJsonlLine`. */
export const parseJsonlLine = (index: number, text: string): unknown => {
  try {
    return JSON.parse(text)
  } catch (error) {
    return new InvalidJsonlLine(index, text, error instanceof Error ? error.message : String(error))
  }
}

/** UTF-8 bytes → lines (split across chunk boundaries; `\n` or `\r\n`; final line may lack a newline). */
export const jsonlTextLines = <E, R>(bytes: Stream.Stream<Uint8Array, E, R>): Stream.Stream<string, E, R> =>
  mapLines(bytes, (_, buf, start, end) => buf.toString("utf8", start, end))

/** UTF-8 JSONL bytes → parsed values (blank lines skipped; unparseable lines as `InvalidJsonlLine`). */
export const jsonlValues = <E, R>(bytes: Stream.Stream<Uint8Array, E, R>): Stream.Stream<unknown, E, R> =>
  mapLines(bytes, (index, buf, start, end) => (isBlank(buf, start, end) ? undefined : parseJsonlLine(index, buf.toString("utf8", start, end))))

/** Parses JSONL lines already decoded (blank lines skipped). */
export const parseJsonlLines = <E, R>(lines: Stream.Stream<string, E, R>): Stream.Stream<unknown, E, R> =>
  Stream.mapAccumArray(lines, () => 0, (index: number, chunk) => {
    const out: Array<unknown> = []
    for (const line of chunk) {
      const i = index++
      if (line.trim().length > 0) out.push(parseJsonlLine(i, line))
    }
    return [index, out] as const
  })

// ------------------------------------------------------------------------ multipart

export interface FormField {
  readonly name: string
  readonly value: string
}

/** Escapes a name / filename for a `Content-Disposition` header as browsers do (HTML spec). */
const dispositionValue = (s: string): string => s.replace(/"/g, "%22").replace(/\r/g, "%0D").replace(/\n/g, "%0A")

/**
 * The bytes around the file of a multipart/form-data body: `head` holds every field in the
 * given order followed by the file part's headers (the file is the LAST field, as GCS POST
 * policies require); `tail` closes the body. Total size = head + file + tail.
 */
export const multipartEnvelope = (
  boundary: string,
  fields: ReadonlyArray<FormField>,
  file: { readonly fieldName: string; readonly filename: string; readonly contentType: string }
): { readonly head: Uint8Array; readonly tail: Uint8Array; readonly contentType: string } => {
  let head = ""
  for (const f of fields) {
    head += `--${boundary}\r\nContent-Disposition: form-data; name="${dispositionValue(f.name)}"\r\n\r\n${f.value}\r\n`
  }
  head += `--${boundary}\r\nContent-Disposition: form-data; name="${dispositionValue(file.fieldName)}"; filename="${dispositionValue(file.filename)}"\r\n`
  head += `Content-Type: ${file.contentType}\r\n\r\n`
  const encoder = new TextEncoder()
  return {
    head: encoder.encode(head),
    tail: encoder.encode(`\r\n--${boundary}--\r\n`),
    contentType: `multipart/form-data; boundary=${boundary}`
  }
}
