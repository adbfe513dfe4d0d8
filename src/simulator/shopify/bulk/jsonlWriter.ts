/** Appends JSONL lines to a file with backpressure, counting bytes; never holds the file in memory. */
import { createWriteStream, type WriteStream } from "node:fs"
import { rm } from "node:fs/promises"

export class JsonlWriter {
  readonly path: string
  readonly #stream: WriteStream
  #bytes = 0
  #lines = 0
  #pending: Array<string> = []
  #pendingBytes = 0
  #closed = false
  #error: Error | undefined

  constructor(path: string) {
    this.path = path
    this.#stream = createWriteStream(path)
    // Surface I/O errors on the next write/flush/close instead of as an uncaught event.
    this.#stream.on("error", (error) => {
      this.#error ??= error
    })
  }

  get bytes(): number {
    return this.#bytes
  }

  get lines(): number {
    return this.#lines
  }

  /** Queues one line (an object is JSON-encoded); flushes in ~64 KiB batches. */
  async write(line: string | object): Promise<void> {
    const text = `${typeof line === "string" ? line : JSON.stringify(line)}\n`
    this.#pending.push(text)
    this.#pendingBytes += text.length
    this.#lines++
    if (this.#pendingBytes >= 65_536) await this.flush()
  }

  /** Writes queued lines, waiting for `drain` when the OS buffer is full. */
  async flush(): Promise<void> {
    if (this.#error !== undefined) throw this.#error
    if (this.#pending.length === 0) return
    const chunk = Buffer.from(this.#pending.join(""), "utf8")
    this.#pending = []
    this.#pendingBytes = 0
    this.#bytes += chunk.length
    if (!this.#stream.write(chunk)) {
      await new Promise<void>((resolve) => {
        const done = () => {
          this.#stream.off("drain", done)
          this.#stream.off("error", done)
          resolve()
        }
        this.#stream.once("drain", done)
        this.#stream.once("error", done)
      })
      if (this.#error !== undefined) throw this.#error
    }
  }

  /** Flushes and closes the file; returns its size in bytes. */
  async close(): Promise<number> {
    if (this.#closed) return this.#bytes
    await this.flush()
    this.#closed = true
    if (this.#error === undefined) {
      await new Promise<void>((resolve) => {
        this.#stream.once("error", () => resolve())
        this.#stream.end(() => resolve())
      })
    }
    if (this.#error !== undefined) throw this.#error
    return this.#bytes
  }

  /** Closes and deletes the file. */
  async discard(): Promise<void> {
    this.#pending = []
    await this.close().catch(() => undefined)
    await rm(this.path, { force: true })
  }
}
