/**
 * `apply_messages` (migration 0019) commits a batch of actor commits set-based: the concurrent
 * commits of many shops go in one transaction, and each still gets its own answer — applied,
 * already applied, applied late, or its own typed error while its neighbours commit. A commit
 * carrying the embedded log's sequence deletes that row with it. PostgreSQL 15 and PGlite alike.
 */
import { assert, describe, layer } from "@effect/vitest"
import { Effect, Layer, Stream } from "effect"
import { SqlClient } from "effect/sql"
import * as PgActorStore from "../../adapters/postgres/PgActorStore.ts"
import * as PgEventStore from "../../adapters/postgres/PgEventStore.ts"
import { ActorStore, type CommitItem } from "../../src/actors/ActorStore.ts"
import type { Append, ScheduledMessage } from "../../src/actors/ShopHandlers.ts"
import { ConcurrencyConflict, EventStore } from "../../src/eventstore/EventStore.ts"
import { backends } from "../support/databases.ts"
import { ev, meta } from "../support/fixtures.ts"
import { testSealing } from "../support/keys.ts"

const item = (shop: string, messageId: string, sequence: number, extra?: {
  readonly appends?: ReadonlyArray<Append>
  readonly schedule?: ReadonlyArray<ScheduledMessage>
  readonly cancelTimers?: ReadonlyArray<string>
  readonly logSequence?: number
}): CommitItem => ({
  message: { shop, messageId, type: "test.message", payload: {} },
  sequence,
  partition: 0,
  ownerPid: null,
  appends: extra?.appends ?? [{ streamId: `s-${shop}`, expected: "any", events: [ev("x.applied", { messageId })] }],
  schedule: extra?.schedule ?? [],
  cancelTimers: extra?.cancelTimers ?? [],
  metadata: meta(messageId),
  logSequence: extra?.logSequence
})

/** Puts a message in the embedded log's table, as a publish would; its sequence. */
const logRow = (shop: string, messageId: string) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const rows = yield* sql<{ seq: string | number }>`
      INSERT INTO shop_log (partition, shop, message_id, message)
      VALUES (0, ${shop}, ${messageId}, ${JSON.stringify({ shop, messageId, type: "test.message", payload: {} })}::jsonb) RETURNING seq`
    return Number(rows[0]!.seq)
  })

const logRowsOf = (shop: string) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const rows = yield* sql<{ message_id: string }>`SELECT message_id FROM shop_log WHERE shop = ${shop} ORDER BY seq`
    return rows.map((r) => r.message_id)
  })

const eventsOf = (stream: string) =>
  Effect.gen(function*() {
    const store = yield* EventStore
    const events = yield* Stream.runCollect(store.readStream(stream))
    return events.map((e) => [e.type, e.data] as const)
  })

for (const backend of backends) {
  const StoreLayer = PgActorStore.layer.pipe(
    Layer.provideMerge(PgEventStore.layer),
    Layer.provideMerge(testSealing()),
    Layer.provideMerge(backend.layer())
  )

  describe(`apply_messages on ${backend.name}`, () => {
    layer(StoreLayer, { excludeTestServices: true, timeout: 60_000 })((it) => {
      it.effect("concurrent commits of many shops share one transaction, each answered: applied, already applied, late", () =>
        Effect.gen(function*() {
          const store = yield* ActorStore
          const sql = yield* SqlClient.SqlClient
          // the late shop has handled sequence 50 already; the duplicate's id was applied before
          assert.strictEqual(yield* store.commit(item("late.myshopify.com", "late-first", 50)), "applied")
          assert.strictEqual(yield* store.commit(item("dup.myshopify.com", "dup-1", 1)), "applied")
          const statuses = yield* Effect.forEach([
            item("a.myshopify.com", "a-1", 1),
            item("b.myshopify.com", "b-1", 2),
            item("dup.myshopify.com", "dup-1", 3),
            item("late.myshopify.com", "late-second", 10)
          ], (i) => store.commit(i), { concurrency: "unbounded" })
          assert.deepStrictEqual(statuses, ["applied", "applied", "already_applied", "applied_late"])
          const tx = yield* sql<{ n: number }>`
            SELECT count(DISTINCT xmin::text)::int AS n FROM events WHERE correlation_id IN ('a-1', 'b-1', 'late-second')`
          assert.strictEqual(tx[0]!.n, 1)
          assert.deepStrictEqual(yield* eventsOf("s-dup.myshopify.com"), [["x.applied", { messageId: "dup-1" }]])
          assert.deepStrictEqual(yield* eventsOf("s-late.myshopify.com"), [
            ["x.applied", { messageId: "late-first" }],
            ["x.applied", { messageId: "late-second" }]
          ])
          const cursors = yield* sql<{ shop: string; last_seq: string | number }>`
            SELECT shop, last_seq FROM shop_cursors WHERE shop IN ('a.myshopify.com', 'late.myshopify.com') ORDER BY shop`
          assert.deepStrictEqual(cursors.map((c) => [c.shop, Number(c.last_seq)]), [["a.myshopify.com", 1], ["late.myshopify.com", 50]])
        }))

      it.effect("a conflict fails its own commit alone; its neighbours commit and its log row stays", () =>
        Effect.gen(function*() {
          const store = yield* ActorStore
          const events = yield* EventStore
          yield* events.append("s-c1.myshopify.com", "c1.myshopify.com", "no_stream", [ev("x.init"), ev("x.init")], meta())
          const seqs = yield* Effect.forEach(["c1", "c2", "c3"], (s) => logRow(`${s}.myshopify.com`, `${s}-m`))
          const results = yield* Effect.forEach([
            item("c1.myshopify.com", "c1-m", seqs[0]!, {
              appends: [{ streamId: "s-c1.myshopify.com", expected: 1, events: [ev("x.applied")] }],
              logSequence: seqs[0]!
            }),
            item("c2.myshopify.com", "c2-m", seqs[1]!, { logSequence: seqs[1]! }),
            item("c3.myshopify.com", "c3-m", seqs[2]!, { logSequence: seqs[2]! })
          ], (i) => Effect.result(store.commit(i)), { concurrency: "unbounded" })
          assert.strictEqual(results[0]!._tag, "Failure")
          assert.instanceOf(results[0]!._tag === "Failure" ? results[0]!.failure : undefined, ConcurrencyConflict)
          assert.deepStrictEqual(results.slice(1).map((r) => r._tag === "Success" ? r.success : r.failure), ["applied", "applied"])
          // applying and acking are one commit: the rows of the applied are gone, the failed one's stays
          assert.deepStrictEqual(yield* logRowsOf("c1.myshopify.com"), ["c1-m"])
          assert.deepStrictEqual(yield* logRowsOf("c2.myshopify.com"), [])
          assert.deepStrictEqual(yield* logRowsOf("c3.myshopify.com"), [])
          assert.deepStrictEqual((yield* eventsOf("s-c1.myshopify.com")).map(([type]) => type), ["x.init", "x.init"])
          // nothing of the failed commit was kept: its message id is not applied, so it can be again
          assert.strictEqual(
            yield* store.commit(item("c1.myshopify.com", "c1-m", seqs[0]!, { appends: [{ streamId: "s-c1.myshopify.com", expected: 2, events: [ev("x.applied")] }] })),
            "applied"
          )
        }))

      it.effect("an already applied copy's log row goes with its commit too", () =>
        Effect.gen(function*() {
          const store = yield* ActorStore
          assert.strictEqual(yield* store.commit(item("d.myshopify.com", "d-m", 1)), "applied")
          const seq = yield* logRow("d.myshopify.com", "d-m")
          assert.strictEqual(yield* store.commit(item("d.myshopify.com", "d-m", seq, { logSequence: seq })), "already_applied")
          assert.deepStrictEqual(yield* logRowsOf("d.myshopify.com"), [])
        }))

      it.effect("timers: a timer set twice keeps its last setting, cancelled ones go, attempts are cleared", () =>
        Effect.gen(function*() {
          const store = yield* ActorStore
          const sql = yield* SqlClient.SqlClient
          const at = (s: number) => new Date(Date.UTC(2030, 0, 1, 0, 0, s))
          yield* store.commit(item("t.myshopify.com", "t-1", 1, {
            schedule: [{ id: "t-old", at: at(1), type: "timer.fired", payload: {} }, { id: "t-keep", at: at(2), type: "timer.fired", payload: {} }]
          }))
          yield* sql`INSERT INTO message_attempts (shop, message_id, attempts) VALUES ('t.myshopify.com', 't-2', 2)`
          yield* store.commit(item("t.myshopify.com", "t-2", 2, {
            schedule: [
              { id: "t-twice", at: at(3), type: "timer.fired", payload: { n: 1 } },
              { id: "t-twice", at: at(4), type: "timer.fired", payload: { n: 2 } }
            ],
            cancelTimers: ["t-old"]
          }))
          const timers = yield* sql<{ id: string; due_at: Date; message: { payload: unknown } }>`
            SELECT id, due_at, message FROM scheduled_messages WHERE shop = 't.myshopify.com' ORDER BY id`
          assert.deepStrictEqual(timers.map((t) => [t.id, new Date(t.due_at).toISOString(), t.message.payload]), [
            ["t-keep", at(2).toISOString(), {}],
            ["t-twice", at(4).toISOString(), { n: 2 }]
          ])
          const attempts = yield* sql`SELECT 1 FROM message_attempts WHERE shop = 't.myshopify.com'`
          assert.strictEqual(attempts.length, 0)
        }))

      it.effect("two messages of one shop in a batch are applied one after the other, in order", () =>
        Effect.gen(function*() {
          const store = yield* ActorStore
          const statuses = yield* Effect.forEach([
            item("o.myshopify.com", "o-1", 1, { appends: [{ streamId: "s-o.myshopify.com", expected: "no_stream", events: [ev("x.first")] }] }),
            item("o.myshopify.com", "o-2", 2, { appends: [{ streamId: "s-o.myshopify.com", expected: 1, events: [ev("x.second")] }] })
          ], (i) => store.commit(i), { concurrency: "unbounded" })
          assert.deepStrictEqual(statuses, ["applied", "applied"])
          assert.deepStrictEqual((yield* eventsOf("s-o.myshopify.com")).map(([type]) => type), ["x.first", "x.second"])
        }))
    })
  })
}
