/**
 * `nodeHttpFetch` (`adapters/shopify/transport.ts`), the `fetch` GraphQL requests go through:
 * what admin-api-client reads of a response (status, headers, JSON or text body), a request's
 * method, headers and body as sent, and the failures `fetch` rejects with (abort, refused
 * connection), against a real `node:http` server on 127.0.0.1.
 */
import { createServer, type IncomingMessage, type Server } from "node:http"
import type { AddressInfo } from "node:net"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { nodeHttpFetch } from "../../adapters/shopify/transport.ts"

interface Seen {
  readonly method: string
  readonly url: string
  readonly headers: IncomingMessage["headers"]
  readonly body: string
}

describe("nodeHttpFetch", () => {
  let server: Server
  let base: string
  const seen: Array<Seen> = []

  beforeAll(async () => {
    server = createServer((req, res) => {
      const chunks: Array<Buffer> = []
      req.on("data", (c: Buffer) => chunks.push(c))
      req.on("end", () => {
        seen.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers, body: Buffer.concat(chunks).toString() })
        if (req.url === "/hang") return // never answers
        if (req.url === "/empty") {
          res.writeHead(204).end()
          return
        }
        if (req.url === "/throttled") {
          res.writeHead(429, { "Retry-After": "2", "Content-Type": "text/plain" }).end("slow down")
          return
        }
        res.setHeader("Set-Cookie", ["a=1", "b=2"])
        res.writeHead(200, { "Content-Type": "application/json", "X-Request-Id": "r-1" })
        // the body in two writes: a response is whole when it resolves
        res.write('{"data":{"shop":')
        res.end('{"name":"Ünïcode"}}}')
      })
    })
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r))
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })

  afterAll(async () => {
    server.closeAllConnections()
    await new Promise((r) => server.close(r))
  })

  it("sends the method, headers and body, and answers the whole response as a Response", async () => {
    const body = JSON.stringify({ query: "{ shop { name } }", variables: { é: 1 } })
    const res = await nodeHttpFetch(`${base}/admin/api/2026-07/graphql.json?x=1`, {
      method: "POST",
      headers: new Headers({ "Content-Type": "application/json", "X-Shopify-Access-Token": "shpat_1" }),
      body
    })
    expect([res.status, res.ok, res.headers.get("content-type"), res.headers.get("x-request-id")]).toEqual([200, true, "application/json", "r-1"])
    expect(res.headers.getSetCookie()).toEqual(["a=1", "b=2"])
    expect(await res.json()).toEqual({ data: { shop: { name: "Ünïcode" } } })
    const request = seen.at(-1)!
    expect([request.method, request.url, request.body]).toEqual(["POST", "/admin/api/2026-07/graphql.json?x=1", body])
    expect(request.headers["x-shopify-access-token"]).toBe("shpat_1")
    expect(request.headers["content-length"]).toBe(String(Buffer.byteLength(body)))
  })

  it("answers an error status with its headers and body, and a no-content status without a body", async () => {
    const throttled = await nodeHttpFetch(`${base}/throttled`, { method: "POST", body: "{}" })
    expect([throttled.status, throttled.ok, throttled.headers.get("retry-after"), await throttled.text()]).toEqual([429, false, "2", "slow down"])
    const empty = await nodeHttpFetch(`${base}/empty`)
    expect([empty.status, empty.body, seen.at(-1)?.method]).toEqual([204, null, "GET"])
  })

  it("rejects when aborted, when the connection is refused, and for a body it does not send", async () => {
    await expect(nodeHttpFetch(`${base}/hang`, { signal: AbortSignal.timeout(50) })).rejects.toThrow()
    const closed = createServer()
    await new Promise<void>((r) => closed.listen(0, "127.0.0.1", r))
    const port = (closed.address() as AddressInfo).port
    await new Promise((r) => closed.close(r))
    await expect(nodeHttpFetch(`http://127.0.0.1:${port}/`)).rejects.toThrow(/ECONNREFUSED/)
    await expect(nodeHttpFetch(`${base}/`, { method: "POST", body: new Blob(["x"]) })).rejects.toThrow(TypeError)
    await expect(nodeHttpFetch(new Request(`${base}/`))).rejects.toThrow(TypeError)
  })
})
