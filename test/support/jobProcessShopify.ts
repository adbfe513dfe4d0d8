/**
 * The Shopify side of crash tests with real `sumeru start` processes: the Shopify simulator
 * runs in the test process (so the test sees every bulk operation and decides when each one
 * finishes), and every worker reaches its Admin API through its own path of a small
 * pass-through proxy — `SHOPIFY_ADMIN_URL_OVERRIDE=<proxy>/w/<worker name>`, the documented
 * way to send Admin API calls to another origin. The proxy tells the test which worker made
 * each call, whether a worker has a call in flight, and can stop a worker at an exact point:
 * a *gate* lets one matching call reach Shopify, then, before the worker hears the answer,
 * hands the worker's name to the test (which SIGKILLs it) and drops the connection.
 * Staged uploads and result downloads go straight to the simulator (absolute URLs).
 */
import { createServer, type IncomingHttpHeaders } from "node:http"
import type { AddressInfo } from "node:net"

export interface AdminCall {
  readonly worker: string
  /** The GraphQL operation name (`SumeruBulkQueryRun`, `SumeruBulkOperation`, …). */
  readonly operation: string
  readonly at: number
}

export interface AdminProxy {
  /** Give this to a worker as `SHOPIFY_ADMIN_URL_OVERRIDE`. */
  readonly urlFor: (worker: string) => string
  /** Every call that reached Shopify, in arrival order. */
  readonly calls: () => ReadonlyArray<AdminCall>
  /**
   * The next call of `operation` (whose GraphQL variables satisfy `match`) reaches Shopify;
   * then `onTrip(worker)` runs (kill the worker there) and the connection is dropped without
   * an answer. Resolves with the worker's name.
   */
  readonly gate: (
    operation: string,
    onTrip: (worker: string) => void | Promise<void>,
    match?: (variables: Record<string, unknown>) => boolean
  ) => Promise<string>
  /** Whether `worker` has had no call in flight for at least `ms`. */
  readonly quietFor: (worker: string, ms: number) => boolean
  readonly close: () => Promise<void>
}

const HOP_BY_HOP = new Set(["host", "connection", "keep-alive", "content-length", "transfer-encoding", "expect", "upgrade"])

const forwardHeaders = (headers: IncomingHttpHeaders): Headers => {
  const out = new Headers()
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || HOP_BY_HOP.has(name)) continue
    out.set(name, Array.isArray(value) ? value.join(", ") : value)
  }
  return out
}

/** The GraphQL operation name and variables of a request body. */
const parseRequest = (body: string): { readonly operation: string; readonly variables: Record<string, unknown> } => {
  try {
    const parsed = JSON.parse(body) as { query?: unknown; variables?: unknown }
    const variables = typeof parsed.variables === "object" && parsed.variables !== null ? parsed.variables as Record<string, unknown> : {}
    if (typeof parsed.query === "string") return { operation: /\b(?:query|mutation)\s+(\w+)/.exec(parsed.query)?.[1] ?? "anonymous", variables }
  } catch {
    // not JSON
  }
  return { operation: "unknown", variables: {} }
}

/** A pass-through proxy in front of the simulator at `target` (its origin). */
export const startAdminProxy = async (target: string): Promise<AdminProxy> => {
  const calls: Array<AdminCall> = []
  const inFlight = new Map<string, number>()
  const lastDone = new Map<string, number>()
  const gates: Array<{
    readonly operation: string
    readonly match: (variables: Record<string, unknown>) => boolean
    readonly onTrip: (worker: string) => void | Promise<void>
    readonly resolve: (worker: string) => void
    readonly reject: (error: unknown) => void
  }> = []

  const server = createServer((req, res) => {
    const m = /^\/w\/([^/]+)(\/.*)$/.exec(req.url ?? "")
    if (m === null) {
      res.writeHead(404).end()
      return
    }
    const worker = decodeURIComponent(m[1]!)
    const path = m[2]!
    inFlight.set(worker, (inFlight.get(worker) ?? 0) + 1)
    let finished = false
    const done = () => {
      if (finished) return
      finished = true
      inFlight.set(worker, (inFlight.get(worker) ?? 1) - 1)
      lastDone.set(worker, Date.now())
    }
    const chunks: Array<Buffer> = []
    // a worker killed mid-request: nothing to answer
    req.on("error", done)
    req.on("data", (c: Buffer) => chunks.push(c))
    req.on("end", () => {
      void (async () => {
        const body = Buffer.concat(chunks)
        const { operation, variables } = parseRequest(body.toString("utf8"))
        const method = req.method ?? "GET"
        let answer: Response
        try {
          answer = await fetch(`${target}${path}`, {
            method,
            headers: forwardHeaders(req.headers),
            ...(method === "GET" || method === "HEAD" ? {} : { body })
          })
        } catch (e) {
          done()
          res.writeHead(502, { "content-type": "application/json" }).end(JSON.stringify({ errors: String(e) }))
          return
        }
        const payload = Buffer.from(await answer.arrayBuffer())
        calls.push({ worker, operation, at: Date.now() })
        const g = gates.findIndex((x) => x.operation === operation && x.match(variables))
        if (g >= 0) {
          // Shopify has done it; the worker must not hear about it
          const gate = gates.splice(g, 1)[0]!
          try {
            await gate.onTrip(worker)
            gate.resolve(worker)
          } catch (e) {
            gate.reject(e)
          }
          res.destroy()
          done()
          return
        }
        const headers: Record<string, string> = {}
        answer.headers.forEach((value, name) => {
          if (!HOP_BY_HOP.has(name) && name !== "content-encoding") headers[name] = value
        })
        res.writeHead(answer.status, headers)
        res.end(payload, done)
      })()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return {
    urlFor: (worker) => `${url}/w/${encodeURIComponent(worker)}`,
    calls: () => calls,
    gate: (operation, onTrip, match = () => true) => new Promise<string>((resolve, reject) => gates.push({ operation, match, onTrip, resolve, reject })),
    quietFor: (worker, ms) => (inFlight.get(worker) ?? 0) === 0 && Date.now() - (lastDone.get(worker) ?? 0) >= ms,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      })
  }
}
