/**
 * Staged uploads for bulk mutation variables: `stagedUploadsCreate` targets that point
 * at the simulator itself, and a GCS-like form-POST endpoint that streams the file to
 * disk. Like GCS, every form field must come before the `file` field.
 */
import { createHash, createHmac } from "node:crypto"
import { createWriteStream, type WriteStream } from "node:fs"
import { rename, rm } from "node:fs/promises"
import { join } from "node:path"
import { deterministicUuid } from "./ids.ts"

/** 100 MB: Shopify's cap for bulk mutation variable files (since Dec 2025). */
export const MAX_STAGED_UPLOAD_BYTES = 100 * 1024 * 1024

/** One issued upload target (what `stagedUploadsCreate` returned). */
export interface StagedTarget {
  readonly key: string
  readonly url: string
  readonly parameters: ReadonlyArray<{ readonly name: string; readonly value: string }>
  readonly issuedAt: number
}

/** An uploaded file, addressable by its `stagedUploadPath` (= key). */
export interface StagedFile {
  readonly key: string
  readonly path: string
  readonly size: number
  readonly sha256: string
  readonly uploadedAt: number
}

const pad = (n: number): string => String(n).padStart(2, "0")
const googDate = (ms: number): string => {
  const d = new Date(ms)
  return `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}T${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}${pad(d.getUTCSeconds())}Z`
}

/** Per-shop registry of issued targets and uploaded files. */
export class StagedUploads {
  readonly #targets = new Map<string, StagedTarget>()
  readonly #files = new Map<string, StagedFile>()
  readonly #shopNumber: number
  readonly #shopDomain: string
  readonly #signingKey: string
  readonly #dir: string
  /** Upload size cap in bytes (also stated in the policy's content-length-range). */
  readonly maxBytes: number
  #counter = 0
  /** Called when an existing file is replaced (running bulk mutations must fail). */
  onReplace: ((key: string) => void) | undefined

  constructor(options: { shopNumber: number; shopDomain: string; signingKey: string; dir: string; maxBytes?: number }) {
    this.maxBytes = options.maxBytes ?? MAX_STAGED_UPLOAD_BYTES
    this.#shopNumber = options.shopNumber
    this.#shopDomain = options.shopDomain
    this.#signingKey = options.signingKey
    this.#dir = options.dir
  }

  /** The key prefix every staged path of this shop starts with. */
  get prefix(): string {
    return `tmp/${this.#shopNumber}/bulk/`
  }

  /** Issues a POST target with Shopify's parameter list, in Shopify's order. */
  createTarget(input: { filename: string; mimeType: string; baseUrl: string; now: number }): StagedTarget {
    const uuid = deterministicUuid(`${this.#shopDomain}:${this.#counter++}`)
    const key = `${this.prefix}${uuid}/${input.filename}`
    const date = googDate(input.now)
    const expiration = new Date(input.now + 7 * 86_400_000).toISOString()
    const policy = Buffer.from(
      JSON.stringify({
        conditions: [
          { "Content-Type": input.mimeType },
          { success_action_status: "201" },
          { acl: "private" },
          ["content-length-range", 1, this.maxBytes],
          { bucket: "shopify-staged-uploads" },
          { key },
          { "x-goog-date": date },
          { "x-goog-credential": `shopify-simulator@shopify-tiers.iam.gserviceaccount.com/${date.slice(0, 8)}/auto/storage/goog4_request` },
          { "x-goog-algorithm": "GOOG4-RSA-SHA256" }
        ],
        expiration
      })
    ).toString("base64")
    const signature = createHmac("sha256", this.#signingKey).update(policy).digest("hex").repeat(8)
    const target: StagedTarget = {
      key,
      url: `${input.baseUrl}/staged-uploads`,
      issuedAt: input.now,
      parameters: [
        { name: "key", value: key },
        { name: "Content-Type", value: input.mimeType },
        { name: "success_action_status", value: "201" },
        { name: "acl", value: "private" },
        { name: "policy", value: policy },
        {
          name: "x-goog-credential",
          value: `shopify-simulator@shopify-tiers.iam.gserviceaccount.com/${date.slice(0, 8)}/auto/storage/goog4_request`
        },
        { name: "x-goog-algorithm", value: "GOOG4-RSA-SHA256" },
        { name: "x-goog-date", value: date },
        { name: "x-goog-signature", value: signature }
      ]
    }
    this.#targets.set(key, target)
    return target
  }

  target(key: string): StagedTarget | undefined {
    return this.#targets.get(key)
  }

  file(key: string): StagedFile | undefined {
    return this.#files.get(key)
  }

  files(): ReadonlyArray<StagedFile> {
    return [...this.#files.values()]
  }

  /** Where an upload for `key` is written while it streams in. */
  partialPath(key: string): string {
    return join(this.#dir, `${createHash("sha256").update(key).digest("hex").slice(0, 24)}.${this.#counter++}.part`)
  }

  /** Moves a completed upload into place (replacing an earlier file for the same key). */
  async commit(key: string, partial: string, size: number, sha256: string, now: number): Promise<StagedFile> {
    const finalPath = join(this.#dir, `${createHash("sha256").update(key).digest("hex").slice(0, 24)}.${this.#counter++}.jsonl`)
    await rename(partial, finalPath)
    const previous = this.#files.get(key)
    const file: StagedFile = { key, path: finalPath, size, sha256, uploadedAt: now }
    this.#files.set(key, file)
    if (previous !== undefined) this.onReplace?.(key)
    return file
  }
}

// ---------------------------------------------------------------------------------------
// Streaming multipart/form-data parser

/** Why an upload was refused; mapped to GCS-like XML errors by the HTTP layer. */
export class UploadError extends Error {
  readonly status: number
  readonly code: string
  constructor(status: number, code: string, message: string) {
    super(message)
    this.status = status
    this.code = code
  }
}

interface PartHeaders {
  readonly name: string
  readonly filename: string | undefined
  readonly contentType: string | undefined
}

const parsePartHeaders = (raw: string): PartHeaders => {
  let name = ""
  let filename: string | undefined
  let contentType: string | undefined
  for (const line of raw.split("\r\n")) {
    const idx = line.indexOf(":")
    if (idx === -1) continue
    const header = line.slice(0, idx).trim().toLowerCase()
    const value = line.slice(idx + 1).trim()
    if (header === "content-disposition") {
      name = /\bname="([^"]*)"/i.exec(value)?.[1] ?? /\bname=([^;\s]+)/i.exec(value)?.[1] ?? ""
      const fn = /\bfilename="([^"]*)"/i.exec(value)?.[1] ?? /\bfilename=([^;\s]+)/i.exec(value)?.[1]
      if (fn !== undefined) filename = fn
    } else if (header === "content-type") {
      contentType = value
    }
  }
  return { name, filename, contentType }
}

/** Result of a form POST: the fields (in order) and the file that was written. */
export interface ParsedUpload {
  readonly fields: ReadonlyMap<string, string>
  readonly fieldOrder: ReadonlyArray<string>
  readonly file: { readonly size: number; readonly sha256: string; readonly filename: string | undefined } | undefined
}

const writeChunk = (stream: WriteStream, chunk: Uint8Array): Promise<void> =>
  new Promise((resolve, reject) => {
    const ok = stream.write(chunk, (error) => (error ? reject(error) : undefined))
    if (ok) resolve()
    else {
      stream.once("drain", resolve)
      stream.once("error", reject)
    }
  })

const endStream = (stream: WriteStream): Promise<void> =>
  new Promise((resolve, reject) => {
    stream.once("error", reject)
    stream.end(() => resolve())
  })

/**
 * Streams a multipart/form-data body: form fields are collected (≤ 64 KiB each); the part
 * named `file` is written to `filePath` as it arrives, with at most `maxFileBytes`.
 * `beforeFile` runs when the file part starts (fields can be checked before any byte is
 * stored). A part after the file is refused, as GCS does.
 */
export const receiveMultipart = async (
  body: AsyncIterable<Uint8Array>,
  boundary: string,
  options: { readonly filePath: string; readonly maxFileBytes: number; readonly beforeFile: (fields: ReadonlyMap<string, string>) => void }
): Promise<ParsedUpload> => {
  const delimiter = Buffer.from(`--${boundary}`)
  const bodyDelimiter = Buffer.from(`\r\n--${boundary}`)
  const fields = new Map<string, string>()
  const fieldOrder: Array<string> = []
  let buf: Buffer = Buffer.alloc(0)
  let state: "preamble" | "after" | "headers" | "body" | "done" = "preamble"
  let part: PartHeaders | undefined
  let fieldChunks: Array<Buffer> = []
  let fieldSize = 0
  let stream: WriteStream | undefined
  let fileSize = 0
  let fileSeen = false
  let hash = createHash("sha256")
  let fileInfo: ParsedUpload["file"]
  // A refusal found when the file starts is reported after the body is read, so that a
  // field placed after the file is reported as such (the more useful error).
  let deferred: UploadError | undefined
  let discarding = false

  const emit = async (data: Buffer): Promise<void> => {
    if (data.length === 0 || part === undefined) return
    if (discarding) return
    if (stream !== undefined) {
      fileSize += data.length
      if (fileSize > options.maxFileBytes) {
        throw new UploadError(400, "EntityTooLarge", "Your proposed upload is larger than the maximum object size specified in your Policy Document.")
      }
      hash.update(data)
      await writeChunk(stream, data)
    } else {
      fieldSize += data.length
      if (fieldSize > 64 * 1024) throw new UploadError(400, "InvalidArgument", `Form field ${part.name} is too large.`)
      fieldChunks.push(data)
    }
  }

  const finishPart = async (): Promise<void> => {
    if (part === undefined) return
    if (discarding) {
      discarding = false
    } else if (stream !== undefined) {
      await endStream(stream)
      stream = undefined
      fileInfo = { size: fileSize, sha256: hash.digest("hex"), filename: part.filename }
    } else {
      fields.set(part.name, Buffer.concat(fieldChunks).toString("utf8"))
      fieldOrder.push(part.name)
    }
    part = undefined
    fieldChunks = []
    fieldSize = 0
  }

  const process = async (final: boolean): Promise<void> => {
    for (;;) {
      if (state === "done") return
      if (state === "preamble") {
        const idx = buf.indexOf(delimiter)
        if (idx === -1) {
          if (final) throw new UploadError(400, "InvalidArgument", "Malformed multipart body.")
          buf = buf.subarray(Math.max(0, buf.length - delimiter.length))
          return
        }
        buf = buf.subarray(idx + delimiter.length)
        state = "after"
      } else if (state === "after") {
        if (buf.length < 2) {
          if (final) throw new UploadError(400, "InvalidArgument", "Malformed multipart body.")
          return
        }
        if (buf[0] === 0x2d && buf[1] === 0x2d) {
          state = "done"
          return
        }
        if (buf[0] !== 0x0d || buf[1] !== 0x0a) throw new UploadError(400, "InvalidArgument", "Malformed multipart body.")
        buf = buf.subarray(2)
        state = "headers"
      } else if (state === "headers") {
        const idx = buf.indexOf("\r\n\r\n")
        if (idx === -1) {
          if (final || buf.length > 16 * 1024) throw new UploadError(400, "InvalidArgument", "Malformed multipart body.")
          return
        }
        if (fileSeen) {
          throw new UploadError(400, "InvalidArgument", "Invalid argument. The file field must be the last field of a POST policy form.")
        }
        part = parsePartHeaders(buf.subarray(0, idx).toString("utf8"))
        buf = buf.subarray(idx + 4)
        if (part.name === "file") {
          fileSeen = true
          try {
            options.beforeFile(fields)
            hash = createHash("sha256")
            stream = createWriteStream(options.filePath)
            stream.on("error", () => undefined) // reported through the write/end callbacks
          } catch (error) {
            if (!(error instanceof UploadError)) throw error
            deferred = error
            discarding = true
          }
        }
        state = "body"
      } else {
        const idx = buf.indexOf(bodyDelimiter)
        if (idx === -1) {
          const keep = bodyDelimiter.length - 1
          if (final) throw new UploadError(400, "InvalidArgument", "Malformed multipart body.")
          if (buf.length > keep) {
            await emit(buf.subarray(0, buf.length - keep))
            buf = buf.subarray(buf.length - keep)
          }
          return
        }
        await emit(buf.subarray(0, idx))
        buf = buf.subarray(idx + bodyDelimiter.length)
        await finishPart()
        state = "after"
      }
    }
  }

  try {
    for await (const chunk of body) {
      buf = buf.length === 0 ? Buffer.from(chunk) : Buffer.concat([buf, chunk])
      await process(false)
    }
    await process(true)
    if ((state as string) !== "done") throw new UploadError(400, "InvalidArgument", "Malformed multipart body.")
    if (deferred !== undefined) throw deferred
  } catch (error) {
    if (stream !== undefined) {
      const s: WriteStream = stream
      s.destroy()
      await new Promise<void>((resolve) => (s.closed ? resolve() : s.once("close", () => resolve())))
    }
    await rm(options.filePath, { force: true })
    throw error
  }
  return { fields, fieldOrder, file: fileInfo }
}

/** GCS-style XML error body. */
export const gcsErrorXml = (code: string, message: string, details?: string): string =>
  `<?xml version='1.0' encoding='UTF-8'?><Error><Code>${code}</Code><Message>${escapeXml(message)}</Message>${
    details ? `<Details>${escapeXml(details)}</Details>` : ""
  }</Error>`

export const escapeXml = (s: string): string => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
