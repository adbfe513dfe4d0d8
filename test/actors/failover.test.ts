/**
 * Failover and shutdown with real worker processes (`test/support/workerMain.ts`), each with
 * its own database pool, shop-log connection and partition locks, over one PostgreSQL 15
 * database — on the JetStream log and on the embedded log in PostgreSQL.
 *
 * - Failover: worker A owns every partition; messages stream in; worker B starts and gets a
 *   fair share (A releases half, B locks them); A is SIGKILLed while publishing goes on; B
 *   must own every partition again within 15 s, and in the end every shop's stream holds its
 *   messages in publish order, none lost, none doubled.
 * - Shutdown: SIGTERM with messages in flight; the worker exits through the runtime (code
 *   130, not killed by the signal) after every actor finished the message in its hands —
 *   every message it committed was also acked, no attempt was left half-done; what was only
 *   buffered stays in the log — and a new worker applies the rest, each message exactly once.
 * - Lock session lost (JetStream): PostgreSQL ends the worker's lock session; the worker
 *   drops its partitions, locks them again on a new session and goes on.
 *
 * The test process only publishes and reads the database; waits are bounded polls of the
 * database, the log, or the workers' JSON lines.
 */
import { assert, describe, it } from "@effect/vitest"
import { type ChildProcess, spawn } from "node:child_process"
import { createInterface } from "node:readline"
import { fileURLToPath } from "node:url"
import { Duration, Effect, Fiber, Layer, Redacted } from "effect"
import { SqlClient } from "effect/sql"
import { inject } from "vitest"
import * as EmbeddedShopLog from "../../adapters/embedded/EmbeddedShopLog.ts"
import * as JetStreamShopLog from "../../adapters/nats/JetStreamShopLog.ts"
import { layerPostgres } from "../../adapters/postgres/Database.ts"
import { partitionOf } from "../../domain/shop/partition.ts"
import { coreLayer } from "../../src/CoreLayer.ts"
import { ShopLog } from "../../src/shoplog/ShopLog.ts"
import { freshPostgresUrl } from "../support/databases.ts"
import { checkOrder, shopName } from "../support/pipeline.ts"
import { pollUntil as poll } from "../support/poll.ts"
import { testKeyRing } from "../support/keys.ts"

type Backend = "jetstream" | "embedded"

const PARTITIONS = 8
const TAKEOVER_LIMIT_MS = 15_000
const workerMain = fileURLToPath(new URL("../support/workerMain.ts", import.meta.url))

// --- worker processes ----------------------------------------------------------------------

interface WorkerLine {
  readonly event: "started" | "owned" | "stopped"
  readonly worker: string
  readonly workerId?: string
  readonly partitions?: ReadonlyArray<number>
  readonly exit?: string
  readonly pid: number
  readonly at: number
}

interface Worker {
  readonly label: string
  readonly child: ChildProcess
  readonly lines: Array<WorkerLine>
  /** The latest `owned` line's partitions (empty before the first). */
  readonly owned: () => ReadonlyArray<number>
  /** Resolves with the first line (already seen or future) matching `pred`. */
  readonly waitFor: (what: string, pred: (line: WorkerLine) => boolean, ms: number) => Effect.Effect<WorkerLine>
  readonly exited: Promise<{ readonly code: number | null; readonly signal: NodeJS.Signals | null; readonly at: number }>
  readonly stderrTail: () => string
}

interface Setup {
  readonly backend: Backend
  readonly databaseUrl: string
  readonly streamName: string
  readonly subjectPrefix: string
}

let counter = 0
const makeSetup = (backend: Backend): Setup => {
  const id = `${process.pid}_${Date.now().toString(36)}_${counter++}`
  return { backend, databaseUrl: freshPostgresUrl(), streamName: `FO_${id}`, subjectPrefix: `fo_${id}` }
}

/** The test process's own view: the database (migrated here, before any worker starts) and the log, for publishing. */
const testLayer = (setup: Setup) => {
  const core = coreLayer(layerPostgres(Redacted.make(setup.databaseUrl), { maxConnections: 6 }), testKeyRing())
  const log = setup.backend === "jetstream"
    ? JetStreamShopLog.layer({ servers: inject("natsUrl"), streamName: setup.streamName, subjectPrefix: setup.subjectPrefix, partitions: PARTITIONS })
    : EmbeddedShopLog.layer({ partitions: PARTITIONS }).pipe(Layer.provide(core))
  return Layer.merge(log, core)
}

/** Spawns a worker; the scope kills it (SIGKILL, by its pid) if it is still running. */
const startWorker = (setup: Setup, label: string, extraEnv: Record<string, string> = {}) =>
  Effect.acquireRelease(
    Effect.sync((): Worker => {
      const child = spawn(process.execPath, [workerMain], {
        env: {
          ...process.env,
          DATABASE_URL: setup.databaseUrl,
          SHOP_LOG: setup.backend,
          NATS_URL: inject("natsUrl"),
          STREAM_NAME: setup.streamName,
          SUBJECT_PREFIX: setup.subjectPrefix,
          SUMERU_PARTITIONS: String(PARTITIONS),
          WORKER_LABEL: label,
          ...extraEnv
        },
        stdio: ["ignore", "pipe", "pipe"]
      })
      const lines: Array<WorkerLine> = []
      const waiters = new Set<() => void>()
      const stderr: Array<string> = []
      createInterface({ input: child.stdout! }).on("line", (text) => {
        try {
          lines.push(JSON.parse(text) as WorkerLine)
        } catch {
          stderr.push(`(stdout) ${text}`)
        }
        for (const w of [...waiters]) w()
      })
      createInterface({ input: child.stderr! }).on("line", (text) => {
        stderr.push(text)
        if (stderr.length > 400) stderr.splice(0, stderr.length - 400)
        if (process.env.DEBUG_WORKERS) process.stderr.write(`[${label}] ${text}\n`)
      })
      const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) => {
        child.once("exit", (code, signal) => {
          resolve({ code, signal, at: Date.now() })
          for (const w of [...waiters]) w()
        })
      })
      const waitFor = (what: string, pred: (line: WorkerLine) => boolean, ms: number) =>
        Effect.callback<WorkerLine>((resume) => {
          const check = () => {
            const found = lines.find(pred)
            if (found !== undefined) {
              cleanup()
              resume(Effect.succeed(found))
            } else if (child.exitCode !== null || child.signalCode !== null) {
              cleanup()
              resume(Effect.die(new Error(`worker ${label} exited (${child.exitCode ?? child.signalCode}) before ${what}\n${stderr.slice(-30).join("\n")}`)))
            }
          }
          const timer = setTimeout(() => {
            cleanup()
            resume(Effect.die(new Error(`worker ${label}: no ${what} within ${ms} ms\n${stderr.slice(-30).join("\n")}`)))
          }, ms)
          const cleanup = () => {
            clearTimeout(timer)
            waiters.delete(check)
          }
          waiters.add(check)
          check()
          return Effect.sync(cleanup)
        })
      const owned = () => {
        for (let i = lines.length - 1; i >= 0; i--) if (lines[i]!.event === "owned") return lines[i]!.partitions ?? []
        return []
      }
      return { label, child, lines, owned, waitFor, exited, stderrTail: () => stderr.slice(-30).join("\n") }
    }),
    (w) =>
      Effect.promise(async () => {
        if (w.child.exitCode === null && w.child.signalCode === null) {
          w.child.kill("SIGKILL")
          await w.exited
        }
      })
  )

const ownsAll = (line: WorkerLine) => line.event === "owned" && line.partitions?.length === PARTITIONS

// --- database observations ---------------------------------------------------------------

/** Polls `check` until it yields a value; bounded by `ms`. */
const pollUntil = <A, E, R>(what: string, check: Effect.Effect<A | undefined, E, R>, ms: number, interval = Duration.millis(25)) =>
  poll(check, `${what} (${ms} ms)`, Duration.millis(ms), interval)

const appliedCount = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const [row] = yield* sql<{ n: number }>`SELECT count(*)::int AS n FROM events WHERE type = 'test.appended'`
  return row!.n
})

/** Events applied for shops of the given partitions. */
const appliedIn = (partitions: ReadonlyArray<number>) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const rows = yield* sql<{ stream_id: string; n: number }>`
      SELECT stream_id, count(*)::int AS n FROM events WHERE type = 'test.appended' GROUP BY stream_id`
    return rows
      .filter((r) => partitions.includes(partitionOf(r.stream_id.slice("testlog-".length), PARTITIONS)))
      .reduce((a, r) => a + r.n, 0)
  })

const pendingTotal = Effect.gen(function*() {
  const log = yield* ShopLog
  return [...(yield* log.pending).values()].reduce((a, b) => a + b, 0)
})

/** Messages waiting in the log (published, not acked) on the given partitions. */
const pendingIn = (partitions: ReadonlyArray<number>) =>
  Effect.gen(function*() {
    const log = yield* ShopLog
    const pending = yield* log.pending
    return partitions.reduce((a, p) => a + (pending.get(p) ?? 0), 0)
  })

/** Partition locks held, per database backend pid (the workers' lock connections). */
const partitionLocks = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  return yield* sql<{ pid: number; partitions: Array<number> }>`
    SELECT pid, array_agg(objid::int ORDER BY objid) AS partitions FROM pg_locks
     WHERE locktype = 'advisory' AND granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
       AND classid = hashtext('sumeru.partition')::oid
     GROUP BY pid ORDER BY pid`
})

/**
 * After the log drained and every message applied: order, exactly once, nothing dead-lettered
 * but the `dead` message ids (on top of the shops' `shops × perShop` messages).
 */
const assertExactlyOnceInOrder = (shops: number, perShop: number, dead: ReadonlyArray<string> = []) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const total = shops * perShop
    yield* pollUntil("the log to drain and every message to be applied", Effect.gen(function*() {
      const pending = yield* pendingTotal
      const applied = yield* appliedCount
      return pending === 0 && applied >= total ? true : undefined
    }), 60_000, Duration.millis(100))
    assert.deepStrictEqual(yield* checkOrder(shops, perShop), [])
    assert.strictEqual(yield* appliedCount, total)
    // handled ids: every applied message and every dead-lettered one (a dead letter is handled too)
    const [processed] = yield* sql<{ n: number }>`SELECT count(*)::int AS n FROM processed_messages`
    assert.strictEqual(processed!.n, total + dead.length)
    const attempts = yield* sql<{ message_id: string }>`SELECT message_id FROM message_attempts`
    assert.deepStrictEqual(attempts, [])
    const deadLetters = yield* sql<{ message_id: string }>`SELECT message_id FROM dead_letters ORDER BY id`
    assert.deepStrictEqual(deadLetters.map((r) => r.message_id), dead)
  })

// --- load ------------------------------------------------------------------------------------

/**
 * Publishes rounds of one message per shop — `publishers` concurrent publishers, each owning a
 * slice of the shops (so a shop's messages are published in order) — with a pause between
 * rounds so the stream lasts, until `rounds()` rounds are out (re-read after every round, so
 * a test can end an open-ended stream once what it waits for has happened). Message n of a
 * shop has payload `{ n }`. `onRound(k)`: k rounds are out.
 */
const publishRounds = (options: {
  readonly shops: number
  readonly publishers: number
  readonly pause: Duration.Duration
  readonly rounds: () => number
  readonly onRound?: (published: number) => void
}) =>
  Effect.gen(function*() {
    const log = yield* ShopLog
    let n = 0
    for (; n < options.rounds(); n++) {
      if (n > 0) yield* Effect.sleep(options.pause)
      yield* Effect.forEach(Array.from({ length: options.publishers }, (_, k) => k), (k) =>
        Effect.gen(function*() {
          for (let s = k; s < options.shops; s += options.publishers) {
            yield* log.publish({ shop: shopName(s), messageId: `m-${s}-${n}`, type: "test.append", payload: { n } })
          }
        }), { concurrency: "unbounded", discard: true })
      options.onRound?.(n + 1)
    }
    return n
  })

// --- the scenarios ---------------------------------------------------------------------------

const failover = (backend: Backend) =>
  Effect.gen(function*() {
    const setup = makeSetup(backend)
    const SHOPS = 150
    /** Only a bound: the stream ends a few rounds after the survivor has taken over. */
    const MAX_ROUNDS = 150
    return yield* Effect.gen(function*() {
      const started = Date.now()
      const a = yield* startWorker(setup, "A")
      yield* a.waitFor("A owning every partition", ownsAll, 30_000)

      // The stream: one round every 400 ms, open-ended, going on through the rebalance, the
      // kill and the takeover.
      let rounds = 0
      let lastRound = MAX_ROUNDS
      const publisher = yield* Effect.forkChild(publishRounds({
        shops: SHOPS,
        publishers: 8,
        pause: Duration.millis(400),
        rounds: () => lastRound,
        onRound: (k) => void (rounds = k)
      }))
      yield* pollUntil("A to apply a first share", Effect.map(appliedCount, (n) => n >= SHOPS * 3 ? n : undefined), 30_000)

      // Rebalance: B joins; A must hand over half of the partitions.
      const b = yield* startWorker(setup, "B")
      yield* b.waitFor("B owning a fair share", (l) => l.event === "owned" && l.partitions?.length === PARTITIONS / 2, 30_000)
      yield* a.waitFor("A releasing down to its fair share", (l) => l.event === "owned" && l.partitions?.length === PARTITIONS / 2, 30_000)
      const aOwned = a.owned()
      const bOwned = b.owned()
      assert.strictEqual(aOwned.length, PARTITIONS / 2)
      assert.strictEqual(bOwned.length, PARTITIONS / 2)
      assert.deepStrictEqual([...aOwned, ...bOwned].sort((x, y) => x - y), Array.from({ length: PARTITIONS }, (_, p) => p))
      // The database agrees: two lock sessions, each holding its half (A unlocks a partition
      // after its release, so wait for it).
      const locks = yield* pollUntil("the partition locks to settle at 4 + 4", Effect.map(partitionLocks, (rows) =>
        rows.length === 2 && rows.every((r) => r.partitions.length === PARTITIONS / 2) ? rows : undefined), 10_000)
      assert.deepStrictEqual(locks.flatMap((r) => r.partitions).sort((x, y) => x - y), Array.from({ length: PARTITIONS }, (_, p) => p))
      const sql = yield* SqlClient.SqlClient
      const live = yield* sql<{ n: number }>`SELECT count(*)::int AS n FROM workers WHERE last_seen > now() - interval '5 seconds'`
      assert.strictEqual(live[0]!.n, 2)
      // B really works its share before the kill.
      const bBefore = yield* appliedIn(bOwned)
      yield* pollUntil("B to apply messages on its partitions", Effect.map(appliedIn(bOwned), (n) => n > bBefore ? n : undefined), 30_000)

      // Kill A mid-stream, right after a round landed on its partitions (messages in flight).
      const pendingAtKill = yield* pollUntil("messages waiting on A's partitions", Effect.map(pendingIn(aOwned), (n) => n >= 20 ? n : undefined), 15_000, Duration.millis(5))
      const appliedAtKill = yield* appliedCount
      const roundsAtKill = rounds
      const killedAt = Date.now()
      a.child.kill("SIGKILL")
      const aExit = yield* Effect.promise(() => a.exited)
      assert.strictEqual(aExit.signal, "SIGKILL")
      const deadWorkersShare = yield* appliedIn(aOwned)
      const takeover = yield* b.waitFor("B taking over A's partitions", (l) => ownsAll(l) && l.at >= killedAt, TAKEOVER_LIMIT_MS + 5_000)
      const takeoverMs = takeover.at - killedAt
      // …and B really applies messages on them (anything applied on A's partitions after A's exit is B's).
      yield* pollUntil("B to apply messages on A's former partitions", Effect.map(appliedIn(aOwned), (n) => n > deadWorkersShare ? n : undefined), 30_000)
      const resumedMs = Date.now() - killedAt
      assert.isBelow(takeoverMs, TAKEOVER_LIMIT_MS, `takeover took ${takeoverMs} ms`)
      // A few more rounds for B alone, then the stream ends.
      assert.isBelow(rounds, MAX_ROUNDS, "publishing should still be going on after the takeover")
      lastRound = rounds + 5
      const perShop = yield* Fiber.join(publisher)
      yield* assertExactlyOnceInOrder(SHOPS, perShop)
      const summary = {
        backend,
        shops: SHOPS,
        partitions: PARTITIONS,
        messages: SHOPS * perShop,
        roundsAtKill: `${roundsAtKill}/${perShop}`,
        appliedAtKill,
        pendingOnVictimAtKill: pendingAtKill,
        takeoverMs,
        processingResumedMs: resumedMs,
        totalMs: Date.now() - started
      }
      console.log(`failover ${JSON.stringify(summary)}`)
    }).pipe(Effect.provide(testLayer(setup)))
  })

const shutdown = (backend: Backend) =>
  Effect.gen(function*() {
    const setup = makeSetup(backend)
    // Few shops with long backlogs: at the signal most actors are in the middle of a message,
    // which is what a shutdown must not cut off (with many light shops the race is rare).
    const SHOPS = Number(process.env.SD_SHOPS ?? 16)
    const PER_SHOP = Number(process.env.SD_PER_SHOP ?? 150)
    const TOTAL = SHOPS * PER_SHOP
    const stuck = { shop: "stuck.myshopify.com", messageId: "stuck-1", type: "test.append", payload: { n: 0, poison: true } }
    return yield* Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const log = yield* ShopLog
      // A retries with a long backoff (30–60 s): a shop waiting out a backoff must not hold
      // the shutdown up.
      const a = yield* startWorker(setup, "A", { WORKER_BACKOFF_BASE_MS: "60000", WORKER_BACKOFF_CAP_MS: "60000" })
      yield* a.waitFor("A owning every partition", ownsAll, 30_000)
      yield* log.publish(stuck)
      yield* publishRounds({ shops: SHOPS, publishers: 16, pause: Duration.zero, rounds: () => PER_SHOP })

      // SIGTERM while A is busy with the backlog and the stuck shop waits out its backoff.
      const appliedAtSignal = yield* pollUntil("A to be part-way through, the stuck shop in backoff", Effect.gen(function*() {
        const applied = yield* appliedCount
        const failed = yield* sql<{ n: number }>`SELECT count(*)::int AS n FROM message_attempts WHERE message_id = 'stuck-1' AND last_error IS NOT NULL`
        return applied >= TOTAL / 10 && failed[0]!.n === 1 ? applied : undefined
      }), 30_000)
      const signalledAt = Date.now()
      a.child.kill("SIGTERM")
      const exit = yield* Effect.promise(() => a.exited).pipe(
        Effect.timeoutOrElse({ duration: Duration.seconds(30), orElse: () => Effect.die(new Error(`A did not exit within 30 s of SIGTERM\n${a.stderrTail()}`)) })
      )
      const shutdownMs = exit.at - signalledAt
      // Exited through the runtime (interrupt → 130), not killed by the signal, after its finalizers.
      assert.deepStrictEqual([exit.code, exit.signal], [130, null], a.stderrTail())
      assert.strictEqual(a.lines.find((l) => l.event === "stopped")?.exit, "interrupted")
      assert.isBelow(shutdownMs, 10_000, "the shutdown should not wait for the stuck shop's backoff")
      const appliedAtExit = yield* appliedCount
      const pendingAtExit = yield* pendingTotal
      assert.isBelow(appliedAtSignal, TOTAL, "messages should be in flight when the signal arrives")
      assert.isAbove(pendingAtExit, 1, "A should stop before the backlog is done (else nothing was in flight)")
      // Graceful: whatever A committed, it also acked (no commit left for a redelivery to
      // skip; the stuck message is still in the log), and no handling was cut off half-way
      // (no attempt counted without an outcome; the stuck message's one failed attempt is kept).
      assert.strictEqual(appliedAtExit + pendingAtExit, TOTAL + 1, `applied ${appliedAtExit} + pending ${pendingAtExit} ≠ published ${TOTAL} + 1`)
      const attempts = yield* sql<{ message_id: string; attempts: number; failed: boolean }>`
        SELECT message_id, attempts, last_error IS NOT NULL AS failed FROM message_attempts`
      assert.deepStrictEqual(attempts, [{ message_id: "stuck-1", attempts: 1, failed: true }])
      // Its ownership finalizer ran: it signed off from `workers` (and its locks are gone).
      const rows = yield* sql<{ n: number }>`SELECT count(*)::int AS n FROM workers`
      assert.strictEqual(rows[0]!.n, 0)
      assert.deepStrictEqual(yield* partitionLocks, [])

      // A new worker applies the rest, each message once, and gives up on the stuck message
      // after the attempts left (4 in all, A's included).
      const b = yield* startWorker(setup, "B")
      yield* b.waitFor("B owning every partition", ownsAll, 30_000)
      yield* assertExactlyOnceInOrder(SHOPS, PER_SHOP, ["stuck-1"])
      const [dead] = yield* sql<{ attempts: number }>`SELECT attempts FROM dead_letters WHERE message_id = 'stuck-1'`
      assert.strictEqual(dead!.attempts, 4)
      const summary = { backend, messages: TOTAL + 1, appliedAtSignal, appliedAtExit, pendingAtExit, shutdownMs }
      console.log(`shutdown ${JSON.stringify(summary)}`)
      b.child.kill("SIGTERM")
      const bExit = yield* Effect.promise(() => b.exited).pipe(Effect.timeout(Duration.seconds(30)))
      assert.deepStrictEqual([bExit.code, bExit.signal], [130, null])
    }).pipe(Effect.provide(testLayer(setup)))
  })

/**
 * The lock session is the ownership: when PostgreSQL ends it (a restart, a network cut, an
 * administrator), the worker must drop its partitions at once and, once the database answers
 * again, lock them anew and go on — not stay alive owning nothing.
 */
const lockSessionLost = (backend: Backend) =>
  Effect.gen(function*() {
    const setup = makeSetup(backend)
    const SHOPS = 50
    const PER_SHOP = 40
    return yield* Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const a = yield* startWorker(setup, "A")
      yield* a.waitFor("A owning every partition", ownsAll, 30_000)
      const publisher = yield* Effect.forkChild(publishRounds({ shops: SHOPS, publishers: 4, pause: Duration.millis(100), rounds: () => PER_SHOP }))
      yield* pollUntil("A to apply a first share", Effect.map(appliedCount, (n) => n >= SHOPS * PER_SHOP / 10 ? n : undefined), 30_000)
      const [session] = yield* partitionLocks
      assert.strictEqual(session?.partitions.length, PARTITIONS)
      const terminatedAt = Date.now()
      yield* sql`SELECT pg_terminate_backend(${session!.pid})`
      yield* a.waitFor("A dropping its partitions", (l) => l.event === "owned" && l.at >= terminatedAt && l.partitions?.length === 0, 15_000)
      const back = yield* a.waitFor("A owning every partition again", (l) => ownsAll(l) && l.at >= terminatedAt, 20_000)
      const locks = yield* partitionLocks
      assert.strictEqual(locks.length, 1)
      assert.notStrictEqual(locks[0]!.pid, session!.pid)
      yield* Fiber.join(publisher)
      yield* assertExactlyOnceInOrder(SHOPS, PER_SHOP)
      console.log(`lock session lost ${JSON.stringify({ backend, reacquiredMs: back.at - terminatedAt })}`)
    }).pipe(Effect.provide(testLayer(setup)))
  })

for (const backend of ["jetstream", "embedded"] as const) {
  const label = backend === "jetstream" ? "JetStream log" : "embedded log on PostgreSQL 15"
  describe(`worker processes, ${label}`, () => {
    it.live("SIGKILL of a worker mid-stream: the survivor takes over within 15 s; nothing lost, doubled or reordered", () => failover(backend), { timeout: 120_000 })
    it.live("SIGTERM with messages in flight: clean exit after finishing the messages in hand; a new worker applies the rest exactly once", () => shutdown(backend), { timeout: 90_000 })
    if (backend === "jetstream") {
      it.live("the lock session dies: the worker drops its partitions, then locks them again and goes on", () => lockSessionLost(backend), { timeout: 90_000 })
    }
  })
}
