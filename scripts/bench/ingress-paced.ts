/**
 * An open-loop, evenly paced HTTP/1.1 load generator for `bench:ingress`: request k is due
 * at t0 + k / rate whatever happened to the earlier ones, and its latency is measured from
 * that due time (a request waiting for a free connection is waiting on the server: no
 * coordinated omission). autocannon's `overallRate` instead gives each connection a quota
 * per 1-second tick, which it spends back to back at the start of the tick: bursts at full
 * speed, then silence, so its latencies describe a burst, not a steady 3,000/s.
 *
 * Keep-alive connections over raw sockets, one request in flight per connection, requests
 * pre-built as bytes; responses are parsed just enough (status line, Content-Length, or a
 * chunked body's terminator) to find where each ends.
 */
import { connect, type Socket } from "node:net"
import type { Delivery } from "./ingress-deliveries.ts"

export interface PacedOptions {
  readonly host: string
  readonly port: number
  readonly path: string
  readonly rate: number
  readonly durationSeconds: number
  /** Connections opened up front; more are never opened (a full pool queues requests). */
  readonly connections: number
  readonly next: () => Delivery
  /** Called with every delivery answered 2xx. */
  readonly onAcked: (delivery: Delivery) => void
  /** How long to wait for the answers still outstanding after the last due request. */
  readonly drainSeconds?: number
}

export interface PacedResult {
  readonly sent: number
  readonly ok2xx: number
  readonly non2xx: number
  readonly statusCounts: Record<string, number>
  readonly errors: number
  /** Requests never answered (connection lost, or still outstanding at the end). */
  readonly unanswered: number
  /** Latency from the due time (ms), 2xx answers only, ascending. */
  readonly latencies: Float64Array
  /** Seconds from the first due request to the last answer. */
  readonly elapsedSeconds: number
  /** Most requests ever waiting for a free connection. */
  readonly maxQueued: number
  /** The first few non-2xx responses, as received (status line and body). */
  readonly samples: ReadonlyArray<string>
}

interface Pending {
  readonly due: number
  readonly delivery: Delivery
}

const CRLFCRLF = Buffer.from("\r\n\r\n")

const requestBytes = (host: string, port: number, path: string, d: Delivery): Buffer => {
  let head = `POST ${path} HTTP/1.1\r\nHost: ${host}:${port}\r\nConnection: keep-alive\r\nContent-Length: ${d.body.length}\r\n`
  for (const [k, v] of Object.entries(d.headers)) head += `${k}: ${v}\r\n`
  return Buffer.concat([Buffer.from(head + "\r\n", "latin1"), d.body])
}

/** Where the response starting at `buf[0]` ends, and its status; null while incomplete. */
const parseResponse = (buf: Buffer): { readonly end: number; readonly status: number } | null => {
  const headEnd = buf.indexOf(CRLFCRLF)
  if (headEnd < 0) return null
  const head = buf.toString("latin1", 0, headEnd)
  const status = Number(head.slice(9, 12))
  const length = /\r\ncontent-length:\s*(\d+)/i.exec(head)
  if (length !== null) {
    const end = headEnd + 4 + Number(length[1])
    return buf.length >= end ? { end, status } : null
  }
  if (/\r\ntransfer-encoding:\s*chunked/i.test(head)) {
    const terminator = buf.indexOf("\r\n0\r\n\r\n", headEnd + 2)
    return terminator < 0 ? null : { end: terminator + 7, status }
  }
  return { end: headEnd + 4, status } // no body (204/304)
}

export const runPaced = (o: PacedOptions): Promise<PacedResult> =>
  new Promise((resolve) => {
    const latencies: Array<number> = []
    const statusCounts: Record<string, number> = {}
    let sent = 0
    let ok2xx = 0
    let non2xx = 0
    let errors = 0
    let unanswered = 0
    let maxQueued = 0
    let resolved = false
    const samples: Array<string> = []
    let lastAnswer = 0
    const queue: Array<Pending> = []
    let queueHead = 0
    let finished = false

    interface Conn {
      socket: Socket | null
      inFlight: Pending | null
      buffer: Buffer
    }
    const idle: Array<Conn> = []
    const conns: Array<Conn> = []

    const open = (c: Conn) => {
      const socket = connect(o.port, o.host)
      socket.setNoDelay(true)
      c.socket = socket
      c.buffer = Buffer.alloc(0)
      socket.on("connect", () => {
        if (c.inFlight === null && !finished) release(c)
      })
      socket.on("data", (chunk: Buffer) => {
        c.buffer = c.buffer.length === 0 ? chunk : Buffer.concat([c.buffer, chunk])
        for (;;) {
          const r = parseResponse(c.buffer)
          if (r === null) return
          const isError = r.status < 200 || r.status >= 300
          if (isError && samples.length < 3) samples.push(c.buffer.toString("latin1", 0, Math.min(r.end, 600)).replace(/\r\n/g, " | "))
          c.buffer = c.buffer.subarray(r.end)
          const p = c.inFlight
          c.inFlight = null
          if (p !== null) {
            const now = performance.now()
            lastAnswer = now
            statusCounts[r.status] = (statusCounts[r.status] ?? 0) + 1
            if (r.status >= 200 && r.status < 300) {
              ok2xx++
              latencies.push(now - p.due)
              o.onAcked(p.delivery)
            } else {
              non2xx++
            }
          }
          release(c)
        }
      })
      const lost = () => {
        if (c.socket !== socket) return
        c.socket = null
        if (c.inFlight !== null) {
          errors++
          unanswered++
          c.inFlight = null
        }
        const at = idle.indexOf(c)
        if (at >= 0) idle.splice(at, 1)
        // the server closed an idle keep-alive, or failed: reconnect while there is work
        if (!resolved && (!finished || queueHead < queue.length)) setTimeout(() => open(c), 10)
        else maybeDone()
      }
      socket.on("error", lost)
      socket.on("close", lost)
    }

    /** The connection is free: give it the oldest queued request, or park it. */
    const release = (c: Conn) => {
      if (queueHead < queue.length) {
        const p = queue[queueHead]!
        queue[queueHead++] = undefined as unknown as Pending
        if (queueHead > 4096 && queueHead * 2 > queue.length) {
          queue.splice(0, queueHead)
          queueHead = 0
        }
        c.inFlight = p
        c.socket!.write(requestBytes(o.host, o.port, o.path, p.delivery))
      } else if (!finished) {
        idle.push(c)
      }
      maybeDone()
    }
    const maybeDone = () => {
      if (finished && queueHead >= queue.length && conns.every((x) => x.inFlight === null)) done()
    }

    for (let i = 0; i < o.connections; i++) {
      const c: Conn = { socket: null, inFlight: null, buffer: Buffer.alloc(0) }
      conns.push(c)
      open(c)
    }

    let t0 = 0
    let issued = 0
    const total = Math.round(o.rate * o.durationSeconds)
    let drainTimer: NodeJS.Timeout | null = null
    const tick = () => {
      const now = performance.now()
      const due = Math.min(total, Math.floor(((now - t0) / 1000) * o.rate) + 1)
      while (issued < due) {
        const p: Pending = { due: t0 + (issued * 1000) / o.rate, delivery: o.next() }
        issued++
        sent++
        const c = idle.pop()
        if (c !== undefined && c.socket !== null) {
          c.inFlight = p
          c.socket.write(requestBytes(o.host, o.port, o.path, p.delivery))
        } else {
          queue.push(p)
          maxQueued = Math.max(maxQueued, queue.length - queueHead)
        }
      }
      if (issued < total) {
        setTimeout(tick, 1)
      } else {
        finished = true
        drainTimer = setTimeout(done, (o.drainSeconds ?? 10) * 1000)
        maybeDone()
      }
    }

    const done = () => {
      if (resolved) return
      resolved = true
      if (drainTimer !== null) clearTimeout(drainTimer)
      unanswered += conns.filter((c) => c.inFlight !== null).length + (queue.length - queueHead)
      for (const c of conns) {
        const s = c.socket
        c.socket = null
        s?.destroy()
      }
      const sorted = Float64Array.from(latencies).sort()
      resolve({
        sent, ok2xx, non2xx, statusCounts, errors, unanswered, latencies: sorted,
        elapsedSeconds: ((lastAnswer || performance.now()) - t0) / 1000, maxQueued, samples
      })
    }

    // start once the connections are up (or after 1 s regardless)
    const started = performance.now()
    const waitConnected = () => {
      if (idle.length >= o.connections || performance.now() - started > 1000) {
        t0 = performance.now()
        tick()
      } else {
        setTimeout(waitConnected, 5)
      }
    }
    waitConnected()
  })
