/**
 * The embedded database's connection: the PostgreSQL wire protocol handed to PGlite in
 * memory, as a `Duplex` for the driver's `stream` option, instead of a loopback TCP socket to
 * `@electric-sql/pglite-socket`'s server in the same process.
 *
 * Why not the socket server: it is built for outside clients. Each statement crossed the
 * kernel four times (two writes, two reads, ~20 µs each on these machines), and the server
 * ran every protocol message (Parse, Bind, Execute, Sync) as a task of its own, behind a
 * `setImmediate`, with a socket write per answer. Here a statement's messages go to PGlite in
 * one call (`execProtocolRawStream`) and its answer comes back as one chunk.
 *
 * What the socket server did that this keeps: PGlite's lock around every call
 * (`runExclusive`), the SSL request answered "no", cancel requests ignored (PGlite cannot
 * cancel), and a transaction left open by a connection that closes is rolled back.
 */
import type { PGlite } from "@electric-sql/pglite"
import { Duplex } from "node:stream"

const PROTOCOL_3 = 196608
const SSL_REQUEST = 80877103
const CANCEL_REQUEST = 80877102

/** Whole messages at the start of `buffer`: how many bytes they take (0 when none is complete yet). */
const completeMessages = (buffer: Buffer, startup: boolean): number => {
  let at = 0
  // the first message of a connection has no type byte: length, then a code
  if (startup) {
    if (buffer.length < 8) return 0
    const length = buffer.readInt32BE(0)
    return buffer.length >= length ? length : 0
  }
  while (buffer.length - at >= 5) {
    const length = 1 + buffer.readInt32BE(at + 1)
    if (buffer.length - at < length) break
    at += length
  }
  return at
}

/** A new connection to `db` (PGlite is one session: give the driver a pool of one). */
export const pgliteConnection = (db: PGlite) => (): Duplex => {
  let pending: Buffer = Buffer.alloc(0)
  let startup = true
  // answers go out in the order the statements came in
  let previous: Promise<unknown> = Promise.resolve()

  // Not `execProtocolRaw`: in PGlite 0.5 it also parses every answer into messages of its own
  // and appends them to a list that only `execProtocol` empties — each result row parsed twice
  // and kept for the life of the process (over 60,000 messages after the demo's first start: the
  // idle server's heap was 219 MB with them, 144 MB without).
  // The stream form hands over the raw bytes and keeps nothing; they are views of the
  // WebAssembly memory, so each is copied before the next call reuses it.
  const run = (messages: Buffer): Promise<Uint8Array> =>
    db.runExclusive(async () => {
      const chunks: Array<Buffer> = []
      await db.execProtocolRawStream(messages, { onRawData: (data) => chunks.push(Buffer.from(data)) })
      return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)
    })

  const connection = new Duplex({
    read() {},
    write(chunk: Buffer, _encoding, callback) {
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk])
      const work: Array<() => Promise<Uint8Array | null>> = []
      for (;;) {
        const size = completeMessages(pending, startup)
        if (size === 0) break
        const messages = pending.subarray(0, size)
        pending = pending.subarray(size)
        if (startup) {
          startup = false
          const code = messages.readInt32BE(4)
          if (code === SSL_REQUEST) {
            startup = true // the real startup message follows
            work.push(() => Promise.resolve(Buffer.from("N")))
            continue
          }
          if (code === CANCEL_REQUEST) {
            work.push(() => Promise.resolve(null))
            continue
          }
          if (code !== PROTOCOL_3) {
            callback(new Error(`PGlite connection: unsupported startup code ${code}`))
            return
          }
        }
        work.push(() => run(messages))
      }
      const done = previous.then(async () => {
        for (const step of work) {
          const answer = await step()
          if (answer !== null && answer.length > 0) connection.push(answer)
        }
      })
      previous = done.catch(() => undefined)
      done.then(() => callback(), (error: Error) => callback(error))
    },
    final(callback) {
      connection.push(null)
      callback()
    },
    destroy(error, callback) {
      previous
        .then(async () => {
          if (db.isInTransaction()) await db.exec("ROLLBACK")
        })
        .catch(() => undefined)
        .finally(() => callback(error))
    }
  })
  return connection
}
