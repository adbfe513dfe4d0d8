/**
 * Oversized requests at the connection level, over raw sockets against the real `sumeru start`
 * process: a chunked body past the route's limit, a body whose declared length is past it, and a
 * header block past Node's limit. Each gets a complete typed JSON answer (413 / 431) with
 * `Connection: close`, and the connection then closes cleanly — even for a client that goes on
 * sending after the answer (no reset that could erase the answer before the client reads it).
 *
 * No sleeps: each write waits for its callback, and the client moves on when the answer, the
 * server's end of stream or the close arrives.
 */
import { connect, type Socket } from "node:net"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { WEBHOOK_BODY_LIMIT } from "../../adapters/http/ShopifyWebhookRoute.ts"
import { type ServerProcess, startServerProcess } from "../support/serverProcess.ts"

interface RawResponse {
  readonly status: number
  readonly headers: ReadonlyMap<string, string>
  readonly body: string
}

/** What the client saw when the connection closed. */
interface Closed {
  readonly hadError: boolean
  readonly error: Error | undefined
  /** The server ended its side (FIN) before the close. */
  readonly serverEnded: boolean
}

/** Parses one HTTP/1.1 response with a Content-Length body out of the bytes so far (undefined: not complete yet). */
const parseResponse = (bytes: Buffer): RawResponse | undefined => {
  const headEnd = bytes.indexOf("\r\n\r\n")
  if (headEnd < 0) return undefined
  const [statusLine, ...lines] = bytes.subarray(0, headEnd).toString("latin1").split("\r\n")
  const headers = new Map(lines.map((line) => {
    const colon = line.indexOf(":")
    return [line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim()] as const
  }))
  const length = Number(headers.get("content-length") ?? 0)
  if (bytes.length < headEnd + 4 + length) return undefined
  return { status: Number(statusLine!.split(" ")[1]), headers, body: bytes.subarray(headEnd + 4, headEnd + 4 + length).toString("utf8") }
}

/**
 * A raw connection (half-open allowed, so the client can go on sending after the server's end
 * of stream, as an uploading client does).
 */
const openConnection = async (url: string) => {
  const { hostname, port } = new URL(url)
  const socket: Socket = connect({ host: hostname, port: Number(port), allowHalfOpen: true })
  let received = Buffer.alloc(0)
  let response: RawResponse | undefined
  let serverEnded = false
  let error: Error | undefined
  let onAnswer: (r: RawResponse) => void = () => undefined
  const answered = new Promise<RawResponse>((resolve) => (onAnswer = resolve))
  socket.on("data", (d: Buffer) => {
    received = Buffer.concat([received, d])
    response ??= parseResponse(received)
    if (response !== undefined) onAnswer(response)
  })
  socket.on("end", () => (serverEnded = true))
  socket.on("error", (e) => (error = e))
  const closed = new Promise<Closed>((resolve) => socket.once("close", (hadError) => resolve({ hadError, error, serverEnded })))
  await new Promise<void>((resolve, reject) => socket.once("connect", resolve).once("error", reject))
  return {
    /**
     * Resolves once the bytes are handed to the kernel and the event loop has polled for what
     * arrived meanwhile (a write into a free kernel buffer completes without a turn of the
     * loop); rejects if the connection is reset.
     */
    write: (data: string | Buffer) =>
      new Promise<void>((resolve, reject) => socket.write(data, (e) => (e ? reject(e) : setImmediate(resolve)))),
    end: () => socket.end(),
    answered,
    closed,
    hasAnswer: () => response !== undefined,
    serverEnded: () => serverEnded,
    /** The bytes received so far (for failure messages). */
    received: () => received
  }
}

type Connection = Awaited<ReturnType<typeof openConnection>>

/**
 * Sends `next()` until the answer has arrived, then goes on sending until the server has ended
 * its side, and a few pieces more: a client still uploading when the answer comes. `max` pieces
 * at most (a server that never answers fails the test); it must be generous, as the kernel's
 * socket buffers take megabytes before the server has read the first one.
 */
const sendPastTheAnswer = async (conn: Connection, next: () => string, max: number) => {
  let sent = 0
  while (!conn.hasAnswer()) {
    if (++sent > max) throw new Error(`no answer after ${max} pieces; received ${JSON.stringify(conn.received().toString("latin1").slice(0, 300))}`)
    await conn.write(next())
  }
  while (!conn.serverEnded()) {
    if (++sent > max) throw new Error("the server did not end its side of the connection")
    await conn.write(next())
  }
  for (let i = 0; i < 4; i++) await conn.write(next())
}

const expectTypedAnswer = (response: RawResponse, status: number, code: string) => {
  expect(response.status).toBe(status)
  expect(response.headers.get("connection")?.toLowerCase()).toBe("close")
  expect(response.headers.get("content-type") ?? "").toMatch(/^application\/json/)
  const body = JSON.parse(response.body) as { error: { code: unknown; message: unknown } }
  expect(body.error.code).toBe(code)
  expect(typeof body.error.message).toBe("string")
}

const expectCleanClose = (closed: Closed) => {
  expect(closed.error?.message).toBeUndefined()
  expect(closed.hadError).toBe(false)
  expect(closed.serverEnded).toBe(true)
}

describe("an oversized request is answered before its connection closes", () => {
  let server: ServerProcess

  beforeAll(async () => {
    server = await startServerProcess({ SHOPIFY_API_KEY: "oversized-api-key", SHOPIFY_API_SECRET: "oversized-secret" })
  }, 90_000)
  afterAll(async () => {
    await server?.stop()
  })

  const CHUNK = "x".repeat(64 * 1024)
  const chunk = () => `${CHUNK.length.toString(16)}\r\n${CHUNK}\r\n`

  it("a chunked webhook body past 1 MB, sent piece by piece and on after the answer, gets a full 413 then a clean close", async () => {
    const conn = await openConnection(server.url)
    await conn.write(
      "POST /webhooks/shopify HTTP/1.1\r\nHost: sumeru\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    await sendPastTheAnswer(conn, chunk, 1024)
    await conn.write("0\r\n\r\n")
    conn.end()
    expectTypedAnswer(await conn.answered, 413, "payload_too_large")
    expectCleanClose(await conn.closed)
  })

  it("a declared Content-Length past 1 MB is answered 413 at once; the body the client goes on sending does not reset the connection", async () => {
    const conn = await openConnection(server.url)
    await conn.write(
      `POST /webhooks/shopify HTTP/1.1\r\nHost: sumeru\r\nContent-Type: application/json\r\nContent-Length: ${4 * WEBHOOK_BODY_LIMIT}\r\n\r\n`
    )
    await sendPastTheAnswer(conn, () => CHUNK, 1024)
    conn.end()
    expectTypedAnswer(await conn.answered, 413, "payload_too_large")
    expectCleanClose(await conn.closed)
  })

  it("a header block past Node's limit, sent line by line and on after the answer, gets a full 431 with a typed body then a clean close", async () => {
    const conn = await openConnection(server.url)
    await conn.write("GET /healthz HTTP/1.1\r\nHost: sumeru\r\n")
    let line = 0
    await sendPastTheAnswer(conn, () => `X-Padding-${line++}: ${"y".repeat(1000)}\r\n`, 16 * 1024)
    conn.end()
    expectTypedAnswer(await conn.answered, 431, "header_fields_too_large")
    expectCleanClose(await conn.closed)
  })

  it("the process is still up and serves the next request", async () => {
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200)
    expect(server.child.exitCode).toBeNull()
  })
})
