import { createConnection } from "node:net"
import { Hono } from "hono"
import { afterEach, describe, expect, it } from "vitest"
import {
  DeterministicIds,
  FaultQueue,
  RequestLog,
  exchangesTo,
  fixedClock,
  jsonBody,
  makeClock,
  startSimulatorServer,
  type SimulatedClock,
  type SimulatorServer
} from "../../src/simulator/kit/index.ts"
import { SHOP, rawGraphQL, startSim } from "./support.ts"

/** A toy provider built on the kit, as the README shows: ids and timestamps from the kit. */
const startToy = (clock: SimulatedClock = fixedClock(), seed = "toy"): Promise<SimulatorServer> => {
  const ids = new DeterministicIds({ seed })
  const app = new Hono()
  app.post("/v1/messages", async (c) => {
    const body = (await c.req.json()) as { model: string }
    return c.json({ id: ids.prefixed("msg_"), model: body.model, created: clock.now() })
  })
  app.get("/health", (c) => c.json({ ok: true }))
  app.get("/__sim/ping", (c) => c.json({ pong: true }))
  return startSimulatorServer({ fetch: app.fetch, clock: clock.now })
}

const post = (server: SimulatorServer, body: unknown = { model: "small" }, path = "/v1/messages") =>
  fetch(`${server.url}${path}?stream=false`, {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-Api-Key": "k1" },
    body: JSON.stringify(body)
  })

/** Whether a TCP connection to `port` on loopback is accepted. */
const accepts = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const socket = createConnection({ port, host: "127.0.0.1" })
    socket.once("connect", () => {
      socket.destroy()
      resolve(true)
    })
    socket.once("error", () => resolve(false))
  })

describe("simulator kit", () => {
  const servers: Array<SimulatorServer> = []
  const start = async (clock?: SimulatedClock, seed?: string): Promise<SimulatorServer> => {
    const s = await startToy(clock, seed)
    servers.push(s)
    return s
  }
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.stop()))
  })

  it("listens on a free loopback port per server and frees it on stop (twice is fine)", async () => {
    const a = await start()
    const b = await start()
    expect(a.port).toBeGreaterThan(0)
    expect(a.port).not.toBe(b.port)
    expect(a.url).toBe(`http://127.0.0.1:${a.port}`)
    expect((await fetch(`${a.url}/health`)).status).toBe(200)
    // A kept-alive connection does not hold stop up.
    const agent = await fetch(`${b.url}/health`, { keepalive: true })
    expect(agent.status).toBe(200)
    await Promise.all([a.stop(), b.stop()])
    await a.stop()
    expect(await accepts(a.port)).toBe(false)
    expect(await accepts(b.port)).toBe(false)
  })

  it("consumes fault rules by count, first added first, only for matching requests", async () => {
    const s = await start()
    s.faults
      .failNext(503, { count: 2, match: { method: "post", path: "/v1/messages" } })
      .failNext(500, { match: { path: /^\/v1\//, where: (r) => jsonBody<{ model: string }>(r)?.model === "large" } })
    expect((await fetch(`${s.url}/health`)).status).toBe(200)
    expect((await post(s, { model: "large" })).status).toBe(503)
    const second = await post(s)
    expect(second.status).toBe(503)
    expect(await second.json()).toEqual({ error: { status: 503, message: "Service Unavailable" } })
    expect((await post(s)).status).toBe(200)
    expect(s.faults.pending()).toHaveLength(1)
    expect((await post(s, { model: "large" })).status).toBe(500)
    expect((await post(s, { model: "large" })).status).toBe(200)
    expect(s.faults.pending()).toHaveLength(0)
  })

  it("answers rate limits with Retry-After and a given body; Infinity keeps a rule until cleared", async () => {
    const s = await start()
    s.faults.rateLimitNext(3, { body: { type: "error", error: { type: "rate_limit_error" } }, headers: { "x-ratelimit-remaining": "0" } })
    const limited = await post(s)
    expect(limited.status).toBe(429)
    expect(limited.headers.get("retry-after")).toBe("3")
    expect(limited.headers.get("x-ratelimit-remaining")).toBe("0")
    expect(limited.headers.get("content-type")).toContain("application/json")
    expect(await limited.json()).toEqual({ type: "error", error: { type: "rate_limit_error" } })
    s.faults.failNext(529, { count: Infinity, body: "overloaded", contentType: "text/plain" })
    for (let i = 0; i < 3; i++) {
      const r = await post(s)
      expect([r.status, await r.text(), r.headers.get("content-type")]).toEqual([529, "overloaded", "text/plain"])
    }
    s.faults.clear()
    expect((await post(s)).status).toBe(200)
  })

  it("applies latency before the normal answer, for the matching requests only", async () => {
    const s = await start()
    s.faults.delayNext(250, { match: { path: "/v1/messages" } })
    const t0 = performance.now()
    const slow = await post(s)
    const slowMs = performance.now() - t0
    expect(slow.status).toBe(200)
    expect(((await slow.json()) as { id: string }).id).toBe("msg_1")
    expect(slowMs).toBeGreaterThanOrEqual(240)
    const t1 = performance.now()
    expect((await post(s)).status).toBe(200)
    expect(performance.now() - t1).toBeLessThan(200)
    expect(s.log.entries.map((e) => e.fault?.latencyMs)).toEqual([250, undefined])
  })

  it("hangs a request until the client gives up, or until released (504); stop releases the rest", async () => {
    const s = await start()
    s.faults.hangNext({ count: 3 })
    const released = post(s).then((r) => r.status)
    await s.faults.hangs.whenHanging(1)
    expect(s.log.last()?.outcome).toBe("hung")
    s.faults.hangs.releaseAll()
    expect(await released).toBe(504)
    expect(s.log.last()).toMatchObject({ outcome: "hung", status: 504 })

    const gone = new AbortController()
    const cancelled = fetch(`${s.url}/health`, { signal: gone.signal }).catch((e: Error) => e.name)
    await s.faults.hangs.whenHanging(1)
    gone.abort()
    expect(await cancelled).toBe("AbortError")
    await s.log.waitFor((e) => e.outcome === "aborted")
    expect(s.faults.hangs.count).toBe(0)

    const held = fetch(`${s.url}/health`).then((r) => r.status, () => "closed")
    await s.faults.hangs.whenHanging(1)
    await s.stop()
    expect([504, "closed"]).toContain(await held)
  })

  it("drops the connection without an answer", async () => {
    const s = await start()
    s.faults.dropNext({ match: { method: "POST" } })
    await expect(post(s)).rejects.toThrow(/fetch failed/)
    expect(s.log.last()).toMatchObject({ outcome: "dropped", status: undefined, fault: { drop: true } })
    expect((await post(s)).status).toBe(200)
  })

  it("logs every request with method, path, query, headers, body, status and clock times", async () => {
    const clock = fixedClock(Date.UTC(2026, 0, 1))
    const s = await start(clock)
    const mark = s.log.total
    await post(s, { model: "small", messages: ["hi"] })
    clock.advance(1000)
    s.faults.failNext(418)
    await fetch(`${s.url}/health?verbose=1&verbose=2`)
    expect((await fetch(`${s.url}/__sim/ping`)).status).toBe(200) // control routes stay out of the log
    const [first, second] = s.log.since(mark)
    expect(first).toMatchObject({
      seq: 1,
      method: "POST",
      path: "/v1/messages",
      query: { stream: "false" },
      search: "?stream=false",
      headers: { "content-type": "application/json", "x-api-key": "k1" },
      outcome: "answered",
      status: 200,
      startedAt: Date.UTC(2026, 0, 1),
      endedAt: Date.UTC(2026, 0, 1)
    })
    expect(jsonBody(first!)).toEqual({ model: "small", messages: ["hi"] })
    expect(second).toMatchObject({ seq: 2, method: "GET", path: "/health", query: { verbose: "2" }, body: undefined, outcome: "fault", status: 418 })
    expect(second!.startedAt).toBe(Date.UTC(2026, 0, 1) + 1000)
    expect(s.log.length).toBe(2)
    expect(exchangesTo(s.log, "post", "/v1/messages")).toEqual([first])
    expect(s.log.count((e) => e.status === 418)).toBe(1)
    const later = s.log.waitFor((e) => e.path === "/health", 2)
    await fetch(`${s.url}/health`)
    expect((await later).map((e) => e.seq)).toEqual([2, 3])
  })

  it("keeps a bounded log when asked, and `since` still counts from a mark", async () => {
    const log = new RequestLog<number>({ limit: 3 })
    for (let i = 1; i <= 5; i++) log.record(i)
    expect(log.entries).toEqual([3, 4, 5])
    expect(log.total).toBe(5)
    const mark = log.total
    log.record(6)
    expect(log.since(mark)).toEqual([6])
    expect(log.since(0)).toEqual([4, 5, 6])
    expect(log.last((n) => n % 2 === 1)).toBe(5)
    log.clear()
    log.record(7)
    expect(log.since(mark)).toEqual([7])
    await expect(log.waitFor((n) => n > 100, 1, 20)).rejects.toThrow(/timed out/)
  })

  it("gives the same ids for the same seed and calls, independent streams per fork, unique ones unseeded", () => {
    const draw = (ids: DeterministicIds) => [ids.next("op"), ids.next("op"), ids.next("file", 100), ids.prefixed("msg_"), ids.uuid(), ids.hex(4), ids.string(12), ids.random()]
    const a = draw(new DeterministicIds({ seed: 7 }))
    const b = draw(new DeterministicIds({ seed: 7 }))
    expect(a).toEqual(b)
    expect(a.slice(0, 4)).toEqual([1, 2, 100, "msg_1"])
    expect(a[4]).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
    expect(a[5]).toMatch(/^[0-9a-f]{8}$/)
    expect(a[6]).toMatch(/^[0-9A-Za-z]{12}$/)
    expect(draw(new DeterministicIds({ seed: 8 }))[4]).not.toBe(a[4])
    // A fork's ids do not depend on what the parent or a sibling drew.
    const root = new DeterministicIds({ seed: "s" })
    const shopA = root.fork("a")
    root.uuid()
    root.fork("b").uuid()
    expect(shopA.uuid()).toBe(new DeterministicIds({ seed: "s" }).fork("a").uuid())
    expect(new DeterministicIds().uuid()).not.toBe(new DeterministicIds().uuid())
  })

  it("serves ids and timestamps from the kit deterministically across runs", async () => {
    const run = async () => {
      const s = await start(fixedClock(Date.UTC(2026, 6, 1)), "same-seed")
      const bodies = [await (await post(s)).json(), await (await post(s)).json()]
      await s.stop()
      return bodies
    }
    const first = await run()
    expect(first).toEqual([
      { id: "msg_1", model: "small", created: Date.UTC(2026, 6, 1) },
      { id: "msg_2", model: "small", created: Date.UTC(2026, 6, 1) }
    ])
    expect(await run()).toEqual(first)
  })

  it("has a clock tests can fix, advance, set and resume, following real time by default", async () => {
    const real = makeClock()
    expect(Math.abs(real.now() - Date.now())).toBeLessThan(50)
    expect(real.isFixed()).toBe(false)
    real.advance(3_600_000)
    expect(real.now() - Date.now()).toBeGreaterThan(3_600_000 - 50)
    real.fix()
    const frozen = real.now()
    await new Promise((r) => setTimeout(r, 20))
    expect(real.now()).toBe(frozen)
    real.advance(5)
    expect(real.now()).toBe(frozen + 5)
    real.resume()
    await new Promise((r) => setTimeout(r, 20))
    expect(real.now()).toBeGreaterThanOrEqual(frozen + 5 + 15)

    const fixed = fixedClock()
    expect(fixed.date().toISOString()).toBe("2026-07-15T12:00:00.000Z")
    const { now, advance, set } = fixed // bound: usable detached
    advance(1500)
    expect(now()).toBe(Date.UTC(2026, 6, 15, 12, 0, 1, 500))
    set(0)
    expect(now()).toBe(0)
  })

  it("queues generic protocol faults with predicates and unlimited counts", () => {
    const q = new FaultQueue<string, { op: string }>()
    q.add("throttle", { count: 2, match: (i) => i.op === "run" }).add("boom").add("never", { count: 0 })
    expect([q.take({ op: "read" }), q.take({ op: "run" }), q.take({ op: "run" }), q.take({ op: "run" }), q.take({ op: "run" })]).toEqual([
      "boom",
      "throttle",
      "throttle",
      undefined,
      undefined
    ])
    q.add("always", { count: Infinity })
    for (let i = 0; i < 5; i++) expect(q.take({ op: "x" })).toBe("always")
    expect(q.pending()).toEqual([{ fault: "always", remaining: Infinity }])
    q.clear()
    expect(q.take({ op: "x" })).toBeUndefined()
  })

  it("runs the Shopify simulator: its routes get the kit's HTTP faults and log, its own faults still apply", async () => {
    const sim = await startSim()
    try {
      sim.http.faults.failNext(502, { match: { path: /\/graphql\.json$/ } })
      const first = await rawGraphQL(sim, `{ shop { name } }`)
      expect(first.status).toBe(502)
      expect(first.body).toContain("502 Bad Gateway") // Shopify's own 502 page
      sim.shop().faults.throttleNext(1)
      expect((await rawGraphQL(sim, `{ shop { name } }`)).body.errors[0].extensions.code).toBe("THROTTLED")
      expect((await rawGraphQL(sim, `{ shop { name } }`)).body.data).toEqual({ shop: { name: "acme" } })
      expect(sim.http.log.entries.map((e) => [e.path, e.status, e.outcome])).toEqual([
        ["/admin/api/2026-07/graphql.json", 502, "fault"],
        ["/admin/api/2026-07/graphql.json", 200, "answered"],
        ["/admin/api/2026-07/graphql.json", 200, "answered"]
      ])
      expect(sim.http.log.entries[0]!.headers["x-forwarded-host"]).toBe(SHOP)
      // The shop's own GraphQL log saw only the two requests that reached it.
      expect(sim.shop().requests.map((r) => r.outcome)).toEqual(["throttled", "ok"])
    } finally {
      await sim.close()
    }
  })

  it("gives the Shopify simulator reproducible ids with an idSeed", async () => {
    const ids = async () => {
      const sim = await startSim({ idSeed: 42 })
      try {
        const r = await rawGraphQL(sim, `{ shop { name } }`)
        return [r.headers.get("x-request-id"), sim.shop().install()]
      } finally {
        await sim.close()
      }
    }
    const first = await ids()
    expect(first[0]).toMatch(/^[0-9a-f-]{36}$/)
    expect(first[1]).toMatch(/^shpat_[0-9a-f]{32}$/)
    expect(await ids()).toEqual(first)
  })
})
