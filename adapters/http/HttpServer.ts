/**
 * Sumeru's HTTP server: a Hono app on Node's HTTP/1.1 server (`@hono/node-server`), with the
 * connection rules every Sumeru server shares — the process's (`src/server/Server.ts`) and the
 * test harnesses'.
 *
 * - **No answer is lost to a reset.** Node closes a connection by destroying the socket as soon
 *   as the last answer is flushed; bytes the client is still sending (the rest of an oversized
 *   upload, the rest of an oversized header block) then meet a closed socket, the kernel
 *   answers them with a reset, and the reset can erase the answer before the client reads it
 *   (a client still writing sees EPIPE/ECONNRESET instead of the 413). Here a closing
 *   connection is half-closed instead (FIN after the answer), what the client still sends is
 *   read and dropped, and the socket is destroyed once the client closes its side, or after
 *   {@link LINGER_MS} at most (RFC 9112 §9.6, "staged close").
 * - **A body a route stopped reading is read into nothing.** A route answers 413 as soon as a
 *   body passes its limit (`readRawBody`), or answers before reading at all (401, 415, a
 *   declared length past the limit); the rest of the body is then consumed and dropped, not
 *   left to stall the connection.
 * - **What Node's parser refuses gets a typed JSON answer**, written as raw HTTP/1.1 before the
 *   staged close: 431 when the request line and headers exceed Node's `maxHeaderSize`, 408 when
 *   they do not arrive in time, 400 when the bytes are not HTTP/1.1 — instead of Node's bare
 *   status line followed by an immediate reset.
 */
import { createAdaptorServer } from "@hono/node-server"
import { type IncomingMessage, maxHeaderSize, type Server, type ServerResponse, STATUS_CODES } from "node:http"
import type { AddressInfo, Socket } from "node:net"
import type { Duplex } from "node:stream"
import { type Problem, problemBody, Problems } from "./HttpProblem.ts"

/** The longest a closing connection waits for the client to stop sending before it is destroyed. */
export const LINGER_MS = 5_000

export interface ServeHttpOptions {
  readonly fetch: Parameters<typeof createAdaptorServer>[0]["fetch"]
  readonly port: number
  readonly hostname: string
}

/** The problem Sumeru answers for an error of Node's HTTP parser (or its request timeouts). */
const parserProblem = (error: NodeJS.ErrnoException): Problem => {
  switch (error.code) {
    case "HPE_HEADER_OVERFLOW":
      return Problems.headersTooLarge(maxHeaderSize)
    case "HPE_CHUNK_EXTENSIONS_OVERFLOW":
      return { status: 413, code: "payload_too_large", message: "a chunk's extensions are too long" }
    case "ERR_HTTP_REQUEST_TIMEOUT":
      return Problems.requestTimeout()
    default:
      return Problems.badRequest()
  }
}

/** A complete HTTP/1.1 answer with the typed JSON body, for a socket that has no `ServerResponse`. */
const rawAnswer = (p: Problem): string => {
  const body = JSON.stringify(problemBody(p))
  const headers = { ...p.headers, "Content-Type": "application/json", "Content-Length": String(Buffer.byteLength(body)), Connection: "close" }
  const head = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`).join("")
  return `HTTP/1.1 ${p.status} ${STATUS_CODES[p.status] ?? ""}\r\n${head}\r\n${body}`
}

/**
 * Installs the connection rules (see the module comment) on a Node HTTP server. A closing
 * socket is closed once, whoever asks (Node, @hono/node-server, a parser error).
 */
const guardConnections = (server: Server): Server => {
  const closing = new WeakSet<Duplex>()
  /** The latest response on each connection (a parser error while it is unfinished belongs to its request). */
  const responses = new WeakMap<Duplex, ServerResponse>()

  /** FIN after what is already written; keep reading (and dropping) until the client closes, at most LINGER_MS. */
  const closeGracefully = (socket: Duplex) => {
    if (socket.destroyed || closing.has(socket)) return
    closing.add(socket)
    socket.end()
    const timer = setTimeout(() => socket.destroy(), LINGER_MS)
    timer.unref()
    socket.once("close", () => clearTimeout(timer))
  }

  // Node (after a `Connection: close` answer) and @hono/node-server (a body it gave up draining)
  // close a connection with `destroySoon` (destroy once the answer is flushed): staged instead.
  server.on("connection", (socket: Socket) => {
    socket.destroySoon = () => closeGracefully(socket)
  })

  server.on("request", (req: IncomingMessage, res: ServerResponse) => {
    responses.set(req.socket, res)
    res.once("finish", () => {
      if (req.complete) return
      // Answered before the whole body arrived: drop the rest (the route's reader is done with it).
      req.removeAllListeners("data")
      req.resume()
    })
  })

  server.on("clientError", (error: NodeJS.ErrnoException, socket: Duplex) => {
    // Already answered: the parser goes on reporting what the client still sends; it is dropped.
    if (closing.has(socket)) return
    if (error.code === "ECONNRESET" || !socket.writable) return void socket.destroy()
    const response = responses.get(socket)
    if (response !== undefined && !response.writableFinished) {
      // A request is being answered: a second answer may only go out if nothing of the first
      // has, and the socket must go at once, before the route writes its own (Node's rule).
      if (!response.headersSent) socket.write(rawAnswer(parserProblem(error)))
      return void socket.destroy()
    }
    socket.write(rawAnswer(parserProblem(error)))
    closeGracefully(socket)
  })

  return server
}

/**
 * Serves `fetch` on `hostname:port` with {@link guardConnections}; `onListening` gets the bound
 * address (port 0 picks a free one). Every Sumeru HTTP server is started through here.
 */
export const serveHttp = (options: ServeHttpOptions, onListening?: (info: AddressInfo) => void): Server => {
  const server = guardConnections(createAdaptorServer({ fetch: options.fetch, hostname: options.hostname }) as Server)
  server.listen(options.port, options.hostname, () => onListening?.(server.address() as AddressInfo))
  return server
}
