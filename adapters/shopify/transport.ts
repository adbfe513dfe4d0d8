/**
 * Shopify's HTTP over `node:http(s)`: the staged-upload POST (streamed with backpressure),
 * result-file downloads, and the GraphQL requests' `fetch` (admin-api-client's
 * `customFetchApi`).
 *
 * Not `fetch`: undici keeps every chunk of a streamed request body until the request
 * completes (measured: a 95 MB upload pinned 95 MB of ArrayBuffers), which defeats streaming
 * a chunk from disk; and its web-stream response bodies cost ~15% more CPU and memory per
 * downloaded line than an `IncomingMessage`. For GraphQL's small JSON requests, undici's
 * fetch machinery (Request, controller, web streams) was ~13% of a worker's CPU under the
 * decision plane's load (`npm run bench:rules`); {@link nodeHttpFetch} is the part of `fetch`
 * the client uses, over `node:http(s)`.
 */
import { once } from "node:events"
import { Agent as HttpAgent, get as httpGet, request as httpRequest, type IncomingMessage } from "node:http"
import { Agent as HttpsAgent, get as httpsGet, request as httpsRequest } from "node:https"

export interface UploadRequest {
  readonly url: string
  readonly headers: Readonly<Record<string, string>>
  /** Exactly `Content-Length` bytes. */
  readonly body: AsyncIterable<Uint8Array>
  readonly signal: AbortSignal
}

export interface UploadResponse {
  readonly status: number
  /** The start of the response body (for error messages). */
  readonly text: string
}

/** Sends an upload; rejects on network failure, resolves with whatever the server answered. */
export type UploadTransport = (request: UploadRequest) => Promise<UploadResponse>

/** The body yielded more or fewer bytes than its declared `Content-Length`. */
export class UploadLengthMismatch extends Error {
  readonly declared: number
  readonly actual: number
  constructor(declared: number, actual: number) {
    super(`the upload body yielded ${actual === -1 ? "more than" : actual} bytes, ${declared} declared`)
    this.declared = declared
    this.actual = actual
  }
}

const readText = async (res: IncomingMessage, limit = 4096): Promise<string> => {
  let text = ""
  res.setEncoding("utf8")
  for await (const chunk of res) {
    if (text.length < limit) text += chunk as string
  }
  return text.slice(0, limit)
}

/** `UploadTransport` over `node:http` / `node:https` (the default). */
export const nodeHttpUpload: UploadTransport = ({ url, headers, body, signal }) =>
  new Promise<UploadResponse>((resolve, reject) => {
    const target = new URL(url)
    const request = target.protocol === "https:" ? httpsRequest : httpRequest
    const declared = Number(headers["Content-Length"] ?? headers["content-length"] ?? Number.NaN)
    const req = request(target, { method: "POST", headers, signal })
    const closed = new AbortController()
    req.on("close", () => closed.abort())
    const drainSignal = AbortSignal.any([signal, closed.signal])
    let settled = false
    const fail = (error: unknown) => {
      if (settled) return
      settled = true
      reject(error)
      req.destroy()
    }
    req.on("error", fail)
    // The server may answer before the body is complete (e.g. a 4xx policy error): take it.
    req.on("response", (res) => {
      readText(res).then(
        (text) => {
          if (settled) return
          settled = true
          resolve({ status: res.statusCode ?? 0, text })
        },
        fail
      )
    })
    const pump = async () => {
      let sent = 0
      for await (const chunk of body) {
        if (settled || req.destroyed) return
        sent += chunk.byteLength
        if (sent > declared) throw new UploadLengthMismatch(declared, -1)
        if (!req.write(chunk)) await once(req, "drain", { signal: drainSignal })
      }
      if (sent !== declared) throw new UploadLengthMismatch(declared, sent)
      req.end()
    }
    pump().catch(fail)
  })

export interface DownloadResponse {
  readonly status: number
  /** The body; iterate it once, or `close()` it. */
  readonly body: AsyncIterable<Uint8Array>
  /** Reads (the start of) the body as text, for error messages. */
  readonly text: () => Promise<string>
  /** Releases the connection (idempotent). */
  readonly close: () => void
}

/** Starts a GET; resolves once the response headers arrived. `signal` aborts it at any time. */
export type DownloadTransport = (request: { readonly url: string; readonly signal: AbortSignal }) => Promise<DownloadResponse>

/** `DownloadTransport` over `node:http` / `node:https` (the default). */
export const nodeHttpDownload: DownloadTransport = ({ url, signal }) =>
  new Promise<DownloadResponse>((resolve, reject) => {
    const get = new URL(url).protocol === "https:" ? httpsGet : httpGet
    const req = get(url, { signal }, (res) => {
      // Errors after the consumer stopped reading (or after close) must not crash the process;
      // while it reads, the async iterator surfaces them.
      res.on("error", () => undefined)
      resolve({
        status: res.statusCode ?? 0,
        body: res as AsyncIterable<Uint8Array>,
        text: () => readText(res),
        close: () => {
          res.destroy()
          req.destroy()
        }
      })
    })
    req.on("error", reject)
  })

/** Kept-alive connections for GraphQL requests (as `fetch` keeps them), per protocol. */
const graphqlAgents = { http: new HttpAgent({ keepAlive: true }), https: new HttpsAgent({ keepAlive: true }) }

/** A response status `Response` cannot carry a body with. */
const NULL_BODY_STATUSES = new Set([101, 103, 204, 205, 304])

/**
 * `fetch` for small request/response exchanges (GraphQL) over `node:http(s)`: a string or
 * byte body, the whole response read into a `Response`. No redirects followed, no
 * decompression (it sends no `Accept-Encoding`), no proxy: what admin-api-client asks of
 * Shopify's endpoint. A network failure or an abort rejects, as `fetch` does.
 */
export const nodeHttpFetch = (input: string | URL | Request, init?: RequestInit): Promise<Response> =>
  new Promise<Response>((resolve, reject) => {
    if (typeof input !== "string" && !(input instanceof URL)) {
      reject(new TypeError("nodeHttpFetch takes a URL, not a Request"))
      return
    }
    const target = typeof input === "string" ? new URL(input) : input
    const https = target.protocol === "https:"
    const headers: Record<string, string> = {}
    new Headers(init?.headers).forEach((value, name) => {
      headers[name] = value
    })
    const body = init?.body
    if (body !== undefined && body !== null && typeof body !== "string" && !(body instanceof Uint8Array)) {
      reject(new TypeError("nodeHttpFetch sends a string or bytes as its body"))
      return
    }
    const payload = body === undefined || body === null ? undefined : typeof body === "string" ? Buffer.from(body) : body
    if (payload !== undefined) headers["content-length"] = String(payload.byteLength)
    const req = (https ? httpsRequest : httpRequest)(target, {
      method: init?.method ?? "GET",
      headers,
      agent: https ? graphqlAgents.https : graphqlAgents.http,
      ...(init?.signal ? { signal: init.signal } : {})
    }, (res) => {
      const chunks: Array<Buffer> = []
      res.on("data", (chunk: Buffer) => chunks.push(chunk))
      res.on("error", reject)
      res.on("end", () => {
        const status = res.statusCode ?? 0
        if (status < 200 || status > 599) {
          reject(new TypeError(`unexpected HTTP status ${status}`))
          return
        }
        const responseHeaders = new Headers()
        for (let i = 0; i + 1 < res.rawHeaders.length; i += 2) responseHeaders.append(res.rawHeaders[i]!, res.rawHeaders[i + 1]!)
        resolve(new Response(NULL_BODY_STATUSES.has(status) ? null : Buffer.concat(chunks), { status, statusText: res.statusMessage ?? "", headers: responseHeaders }))
      })
    })
    req.on("error", reject)
    req.end(payload)
  })
