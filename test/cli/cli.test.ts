/**
 * The `sumeru` CLI on PostgreSQL 15, run as a real child process: migrate, events replay
 * (filters, formats, a closed pipe), streams show (time travel), projections status / rebuild
 * --wait / checksum (alone and beside a running projector), and user errors.
 */
import { randomUUID } from "node:crypto"
import { readFileSync } from "node:fs"
import { Effect } from "effect"
import { beforeAll, describe, expect, it } from "vitest"
import type { NewEvent } from "../../domain/events/Envelope.ts"
import { replay, type JobEvent } from "../../domain/jobs/index.ts"
import { allProjections } from "../../projections/index.ts"
import { EventStore } from "../../src/eventstore/EventStore.ts"
import { freshPostgresUrl } from "../support/databases.ts"
import { JOB, SHOP as JOB_SHOP, completedLiveJob } from "../domain/jobs/fixtures.ts"
import { cliEnv, expectUserError, migrationNames, runCli, runCliPipedToHead, spawnCli, withPostgres } from "./support.ts"

const A = "a.myshopify.com"
const B = "b.myshopify.com"
const C = "c.myshopify.com"
const actor = { kind: "webhook", id: "orders/create" } as const
const hour = (h: number) => new Date(Date.UTC(2025, 0, 1, h))

interface Seeded {
  readonly position: number
  readonly eventId: string
  readonly shop: string
  readonly streamId: string
  readonly streamVersion: number
  readonly type: string
  readonly schemaVersion: number
  readonly data: unknown
  readonly correlationId: string
  readonly causationId: string | null
  readonly actor: typeof actor
  readonly occurredAt: string
}

const TYPES = ["order.created", "order.paid", "order.noted"] as const

/** 18 events over shops A and B, four streams, three types, one hour apart; appended one by one. */
const seedOrders = Effect.gen(function*() {
  const store = yield* EventStore
  const seeded: Array<Seeded> = []
  const versions = new Map<string, number>()
  for (let i = 0; i < 18; i++) {
    const shop = i % 3 === 2 ? B : A
    const streamId = `order-${shop[0]}${i % 2}`
    const event: NewEvent = {
      eventId: randomUUID(),
      type: TYPES[i % 3]!,
      data: { i, total: i * 10, [`k${i % 4}`]: i },
      occurredAt: hour(i)
    }
    const r = yield* store.append(streamId, shop, "any", [event], { correlationId: `corr-${i}`, causationId: null, actor })
    const version = (versions.get(streamId) ?? 0) + 1
    versions.set(streamId, version)
    seeded.push({
      position: r.firstPosition!,
      eventId: event.eventId!,
      shop,
      streamId,
      streamVersion: version,
      type: event.type,
      schemaVersion: 1,
      data: event.data,
      correlationId: `corr-${i}`,
      causationId: null,
      actor,
      occurredAt: event.occurredAt!.toISOString()
    })
  }
  return seeded
})

/** A completed bulk job (the domain fixtures), stored with each payload's own time. */
const seedJob = Effect.gen(function*() {
  const store = yield* EventStore
  const events = completedLiveJob()
  yield* store.append(
    `job-${JOB}`,
    JOB_SHOP,
    "no_stream",
    events.map((e) => ({ type: e.type, data: e, occurredAt: new Date(e.occurredAt) })),
    { correlationId: "corr-job", causationId: null, actor: { kind: "flow", id: "run-1" } }
  )
  return events
})

/** 3,000 events in one shop: several batches and far more than a pipe buffer. */
const seedMany = Effect.gen(function*() {
  const store = yield* EventStore
  for (let b = 0; b < 3; b++) {
    yield* store.append(`bulk-${b}`, C, "no_stream", Array.from({ length: 1000 }, (_, i) => ({ type: "bulk.item", data: { b, i, pad: "x".repeat(200) } })), {
      correlationId: `bulk-${b}`,
      actor: { kind: "system", id: "test" }
    })
  }
})

const parseJsonl = (stdout: string) =>
  stdout.trim() === "" ? [] : stdout.trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>)

/** The replayed objects without `recordedAt` (set by the store), which must be an ISO time. */
const withoutRecordedAt = (rows: ReadonlyArray<Record<string, unknown>>) =>
  rows.map(({ recordedAt, ...rest }) => {
    expect(typeof recordedAt === "string" && !Number.isNaN(Date.parse(recordedAt))).toBe(true)
    return rest
  })

const json = <A>(value: A): A => JSON.parse(JSON.stringify(value))

describe("sumeru CLI on PostgreSQL 15", () => {
  it("migrate applies every migration once and reports which ran", async () => {
    const env = cliEnv({ url: freshPostgresUrl() })
    const first = await runCli(["migrate"], env)
    expect(first.code, first.stderr).toBe(0)
    const names = migrationNames()
    expect(names.length).toBeGreaterThan(0)
    expect(first.stdout).toContain(`Applied ${names.length} migration`)
    for (const n of names) expect(first.stdout).toContain(`  ${n}\n`)
    const second = await runCli(["migrate"], env)
    expect(second.code, second.stderr).toBe(0)
    expect(second.stdout).not.toContain("Applied")
    expect(second.stdout).toContain(`up to date (${names.length} migrations applied)`)
  })

  describe("events and streams", () => {
    let env: NodeJS.ProcessEnv = {}
    let seeded: Promise<{ orders: ReadonlyArray<Seeded>; job: ReadonlyArray<JobEvent> }>
    beforeAll(async () => {
      const url = freshPostgresUrl()
      env = cliEnv({ url })
      seeded = withPostgres(url, Effect.gen(function*() {
        const orders = yield* seedOrders
        const job = yield* seedJob
        yield* seedMany
        return { orders, job }
      }))
      await seeded
    })

    it("events replay streams exactly the shop's events in position order, with filters honoured", async () => {
      const { orders } = await seeded
      const ofA = orders.filter((e) => e.shop === A).sort((x, y) => x.position - y.position)
      const after = ofA[4]!.position
      const [all, typesAfter, windowLimited] = await Promise.all([
        runCli(["events", "replay", "--shop", A, "--format", "jsonl"], env),
        runCli(["events", "replay", "--shop", A, "--types", "order.paid,order.noted", "--after-position", String(after)], env),
        runCli(
          ["events", "replay", "--shop", A, "--since", hour(4).toISOString(), "--until", "2025-01-01T10:00:00+01:00", "--limit", "3"],
          env
        )
      ])
      for (const r of [all, typesAfter, windowLimited]) expect(r.code, r.stderr).toBe(0)
      expect(withoutRecordedAt(parseJsonl(all.stdout))).toEqual(ofA)
      expect(withoutRecordedAt(parseJsonl(typesAfter.stdout))).toEqual(
        ofA.filter((e) => e.position > after && e.type !== "order.created")
      )
      // A's events from 04:00 to 09:00 UTC are at hours 4, 6, 7 and 9; the limit keeps three
      expect(withoutRecordedAt(parseJsonl(windowLimited.stdout))).toEqual(
        ofA.filter((e) => e.occurredAt >= hour(4).toISOString() && e.occurredAt <= hour(9).toISOString()).slice(0, 3)
      )
      // the filters really cut something
      expect(ofA.length).toBe(12)
      expect(parseJsonl(typesAfter.stdout).length).toBeGreaterThan(0)
    })

    it("events replay --format table prints aligned columns", async () => {
      const { orders } = await seeded
      const ofB = orders.filter((e) => e.shop === B)
      const r = await runCli(["events", "replay", "--shop", B, "--format", "table"], env)
      expect(r.code, r.stderr).toBe(0)
      const [header, ...rows] = r.stdout.trimEnd().split("\n")
      expect(header).toMatch(/^\s*POSITION\s+OCCURRED_AT\s+STREAM\s+VER\s+TYPE\s+ACTOR\s+DATA$/)
      expect(rows).toHaveLength(ofB.length)
      const typeColumn = header!.indexOf("TYPE")
      const dataColumn = header!.indexOf("DATA")
      rows.forEach((row, i) => {
        expect(row.slice(0, header!.indexOf("POSITION") + "POSITION".length).trim()).toBe(String(ofB[i]!.position))
        expect(row.slice(typeColumn).startsWith(ofB[i]!.type)).toBe(true)
        expect(JSON.parse(row.slice(dataColumn))).toEqual(ofB[i]!.data)
      })
    })

    it("events replay ends quietly when the reader closes the pipe", async () => {
      await seeded
      const r = await runCliPipedToHead(["events", "replay", "--shop", C], env)
      expect(r.stderr).toBe("")
      expect(r.code).toBe(0)
      const lines = r.stdout.trim().split("\n")
      expect(lines).toHaveLength(1)
      expect(JSON.parse(lines[0]!)).toMatchObject({ shop: C, type: "bulk.item", streamId: "bulk-0", streamVersion: 1 })
    })

    it("streams show folds a job with the decider: now, at a version and at a time", async () => {
      const { job } = await seeded
      const expected = (n: number) => json(replay(job.slice(0, n)))
      const id = `job-${JOB}`
      const [now, atVersion, atTime] = await Promise.all([
        runCli(["streams", "show", id], env),
        runCli(["streams", "show", id, "--at-version", "3"], env),
        // events occur at 10:00 … 10:07 UTC; 10:04:30 sees five of them
        runCli(["streams", "show", id, "--at-time", "2025-12-27T11:04:30+01:00"], env)
      ])
      for (const r of [now, atVersion, atTime]) expect(r.code, r.stderr).toBe(0)
      const show = (r: { stdout: string }) => JSON.parse(r.stdout) as Record<string, any>
      expect(show(now)).toMatchObject({ streamId: id, shop: JOB_SHOP, category: "job", version: 8, currentVersion: 8, eventCount: 8 })
      expect(show(now).state).toEqual(expected(8))
      expect(show(now).state.status).toBe("COMPLETED")
      expect(show(atVersion)).toMatchObject({ at: { version: 3 }, version: 3, eventCount: 3 })
      expect(show(atVersion).state).toEqual(expected(3))
      expect(show(atVersion).state.status).toBe("RUNNING")
      expect(show(atTime)).toMatchObject({ at: { time: "2025-12-27T10:04:30.000Z" }, version: 5, eventCount: 5 })
      expect(show(atTime).state).toEqual(expected(5))
      expect(show(atTime).state.query).toMatchObject({ matchedCount: 100 })
    })

    it("streams show folds other categories generically", async () => {
      const { orders } = await seeded
      const stream = orders.filter((e) => e.streamId === "order-a1")
      const r = await runCli(["streams", "show", "order-a1", "--at-version", "2"], env)
      expect(r.code, r.stderr).toBe(0)
      const out = JSON.parse(r.stdout)
      expect(out).toMatchObject({ category: "order", version: 2, currentVersion: stream.length })
      expect(out.state).toEqual({
        version: 2,
        eventCount: 2,
        firstEventType: stream[0]!.type,
        firstEventAt: stream[0]!.occurredAt,
        lastEventType: stream[1]!.type,
        lastEventAt: stream[1]!.occurredAt,
        data: { ...(stream[0]!.data as object), ...(stream[1]!.data as object) }
      })
    })

    it("bad arguments: one line, exit 1, no stack trace", async () => {
      await seeded
      const [unknownStream, both, badTime, beyond, badSince, unknownProjection] = await Promise.all([
        runCli(["streams", "show", "job-nope"], env),
        runCli(["streams", "show", `job-${JOB}`, "--at-version", "2", "--at-time", "2025-12-27T10:00:00Z"], env),
        runCli(["streams", "show", `job-${JOB}`, "--at-time", "2025-13-01T10:00:00Z"], env),
        runCli(["streams", "show", `job-${JOB}`, "--at-version", "99"], env),
        runCli(["events", "replay", "--shop", A, "--since", "yesterday"], env),
        runCli(["projections", "rebuild", "nope", "--wait"], env)
      ])
      expectUserError(unknownStream, /stream "job-nope" not found/)
      expectUserError(both, /--at-version and --at-time cannot be used together/)
      expectUserError(badTime, /--at-time.*"2025-13-01T10:00:00Z".*ISO-8601/)
      expectUserError(beyond, /version 8; --at-version 99 is beyond it/)
      expectUserError(badSince, /--since.*"yesterday"/)
      expectUserError(unknownProjection, new RegExp(`unknown projection "nope" \\(known: ${allProjections.map((p) => p.name).join(", ")}\\)`))
      // every one of them printed nothing on stdout
      for (const r of [unknownStream, both, badTime, beyond, unknownProjection]) expect(r.stdout).toBe("")
    })
  })

  it("an unreachable database is one clear line and exit 1", async () => {
    const r = await runCli(["projections", "status"], cliEnv({ url: "postgres://postgres:s3cret@127.0.0.1:1/nowhere" }))
    expectUserError(r, /Cannot connect to PostgreSQL at postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:1\/nowhere/)
    expect(r.stderr).not.toContain("s3cret")
  })

  it("projections: status shows the lag before any projector ran; rebuild --wait switches generations; checksums agree", async () => {
    const url = freshPostgresUrl()
    const env = cliEnv({ url })
    const orders = await withPostgres(url, seedOrders)
    const head = Math.max(...orders.map((o) => o.position))

    const before = await runCli(["projections", "status", "--json"], env)
    expect(before.code, before.stderr).toBe(0)
    expect(JSON.parse(before.stdout)).toEqual(
      allProjections.map((p) => expect.objectContaining({ name: p.name, generation: null, status: "not started", lag: head, head }))
    )
    const table = await runCli(["projections", "status"], env)
    expect(table.stdout).toMatch(/^PROJECTION\s+GEN\s+VERSION\s+STATUS\s+POSITION\s+HEAD\s+LAG\s+APPLIED\s+EVENTS\/S\s+ETA\s+STALLED/)
    expect(table.stdout).toMatch(new RegExp(`\\nstreams\\s+-\\s+v1\\s+not started\\s+0\\s+${head}\\s+${head}\\s+0\\s`))

    const first = await runCli(["projections", "rebuild", "streams", "--wait"], env)
    expect(first.code, first.stderr).toBe(0)
    expect(first.stdout).toContain(`streams gen 1: live (v1) at position ${head}`)
    const sum1 = await runCli(["projections", "checksum", "streams", "--json"], env)
    expect(sum1.code, sum1.stderr).toBe(0)
    const [live1] = JSON.parse(sum1.stdout)
    expect(live1).toMatchObject({ name: "streams", generation: 1, status: "live", rows: 4 })
    expect(live1.sha256).toMatch(/^[0-9a-f]{64}$/)

    const second = await runCli(["projections", "rebuild", "streams", "--wait"], env)
    expect(second.code, second.stderr).toBe(0)
    expect(second.stdout).toMatch(/generation 2 \(v1\) is building from the start of the log; generation 1 stays live/)
    expect(second.stdout).toMatch(/streams gen 2: live \(v1\)/)
    const [sum2, after] = await Promise.all([
      runCli(["projections", "checksum", "streams"], env),
      runCli(["projections", "status", "--json"], env)
    ])
    expect(sum2.stdout).toBe(`streams generation 2 (live, v1, position ${head}): sha256 ${live1.sha256}  rows 4\n`)
    expect(JSON.parse(after.stdout)).toEqual(
      allProjections.map((p) =>
        p.name === "streams"
          ? expect.objectContaining({ name: "streams", generation: 2, status: "live", lag: 0, eventsApplied: orders.length })
          : expect.objectContaining({ name: p.name, status: "not started", lag: head })
      )
    )
  })

  it("rebuild --wait beside a running projector follows it; start stops cleanly on SIGTERM", async () => {
    const url = freshPostgresUrl()
    const env = cliEnv({ url })
    const orders = await withPostgres(url, seedOrders)
    const head = Math.max(...orders.map((o) => o.position))
    const server = spawnCli(["start", "--role", "projector", "--port", "0"], env)
    try {
      await server.waitFor(/projection streams v1: owned by this process/)
      // on PostgreSQL too, `start` fixes glibc's mmap threshold and caps V8's young generation (src/cli/processImage.ts)
      const environ = readFileSync(`/proc/${server.child.pid}/environ`, "utf8").split("\0")
      expect(environ).toContain("GLIBC_TUNABLES=glibc.malloc.mmap_threshold=32768")
      expect(readFileSync(`/proc/${server.child.pid}/cmdline`, "utf8").split("\0")).toContain("--max-semi-space-size=16")
      const r = await runCli(["projections", "rebuild", "streams", "--wait"], env)
      expect(r.code, r.stderr).toBe(0)
      expect(r.stdout).toMatch(new RegExp(`A projector owns streams \\(pid \\d+`))
      expect(r.stdout).toContain(`streams gen 2: live (v1) at position ${head}`)
      const sum = await runCli(["projections", "checksum", "streams", "--json"], env)
      expect(JSON.parse(sum.stdout)).toEqual([expect.objectContaining({ generation: 2, status: "live", rows: 4 })])
    } finally {
      server.child.kill("SIGTERM")
    }
    expect(await server.exited).toBe(0)
    // the projector did the switch, not the CLI
    expect(server.output().stdout).toMatch(/projection streams: generation 2 \(v1\) is live, generation 1 dropped/)
  })
})
