/**
 * Long streams load fast (issue 10 §4): a fold loads from the latest usable snapshot plus the
 * tail. The SQL statements a load runs are recorded (`Statement.CurrentTransformer` sees every
 * statement), so "one snapshot read and one tail read" is asserted, not assumed. PostgreSQL 15
 * and PGlite.
 */
import { assert, describe, layer } from "@effect/vitest"
import { ConfigProvider, Effect, Layer, Schema, Stream } from "effect"
import { SqlClient, Statement } from "effect/sql"
import * as PgEventStore from "../../adapters/postgres/PgEventStore.ts"
import { foldStream } from "../../domain/catalog/folds.ts"
import { replay } from "../../domain/jobs/index.ts"
import { showFold } from "../../src/cli/commands/streams.ts"
import { EventStore, type Fold } from "../../src/eventstore/EventStore.ts"
import { jobStateFold } from "../../src/jobs/JobStateFold.ts"
import { PiiVault } from "../../src/secrets/Secrets.ts"
import { completedLiveJob, JOB, SHOP as JOB_SHOP } from "../domain/jobs/fixtures.ts"
import { backends } from "../support/databases.ts"
import { ev, meta } from "../support/fixtures.ts"
import { testSealing } from "../support/keys.ts"

interface Sum {
  readonly count: number
  readonly sum: number
  readonly redacted: number
  readonly last: string | null
}

const SumState = Schema.Struct({ count: Schema.Number, sum: Schema.Number, redacted: Schema.Number, last: Schema.NullOr(Schema.String) })

/** Counts events and adds up their `n`; redacted events (key shredded) are only counted. */
const sumFold = (version = 1): Fold<Sum> => ({
  name: "test-sum",
  version,
  initial: () => ({ count: 0, sum: 0, redacted: 0, last: null }),
  evolve: (s, e) => {
    if (e.redacted === true) return { ...s, count: s.count + 1, redacted: s.redacted + 1 }
    const data = e.data as { readonly n?: number; readonly note?: string }
    return { ...s, count: s.count + 1, sum: s.sum + (data.n ?? 0), last: data.note ?? s.last }
  },
  schema: SumState
})

const SHOP = "snap.myshopify.com"
const triangle = (n: number) => (n * (n + 1)) / 2

/** Appends events `from..to` (their `n` is their number) in batches of 1,000. */
const appendNumbered = (streamId: string, from: number, to: number, options?: { readonly type?: string; readonly shop?: string }) =>
  Effect.gen(function*() {
    const store = yield* EventStore
    for (let start = from; start <= to; start += 1000) {
      const end = Math.min(to, start + 999)
      const events = Array.from({ length: end - start + 1 }, (_, i) =>
        ev(options?.type ?? "n.added", { n: start + i, note: `secret-note-${start + i}` }))
      yield* store.append(streamId, options?.shop ?? SHOP, start === 1 ? "no_stream" : start - 1, events, meta())
    }
  })

/** Runs `effect` and returns the SQL text of every statement it ran. */
const recordingStatements = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.gen(function*() {
    const statements: Array<string> = []
    const result = yield* effect.pipe(
      Effect.provideService(Statement.CurrentTransformer, (statement) => {
        statements.push(statement.compile()[0].replace(/\s+/g, " ").trim())
        return Effect.succeed(statement)
      })
    )
    return { result, statements }
  })

const snapshotRow = (streamId: string, fold = "test-sum") =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const rows = yield* sql<{ stream_version: number; schema_version: number; shop: string; state: unknown }>`
      SELECT stream_version, schema_version, shop, state FROM snapshots WHERE stream_id = ${streamId} AND fold = ${fold}`
    return rows[0] ?? null
  })

const millis = (since: bigint) => Number(process.hrtime.bigint() - since) / 1e6

for (const backend of backends) {
  const StoreLayer = PgEventStore.layer.pipe(Layer.provideMerge(testSealing()), Layer.provideMerge(backend.layer()))
  describe(`fold snapshots on ${backend.name}`, () => {
    layer(StoreLayer, { excludeTestServices: true, timeout: 120_000 })((it) => {
      it.effect("a 10,000-event stream is loaded with one statement: its snapshot and the tail after it", () =>
        Effect.gen(function*() {
          const store = yield* EventStore
          const fold = sumFold()
          yield* appendNumbered("long-1", 1, 10_000)

          // no snapshot yet: every event is read, and the load leaves a snapshot behind
          let t = process.hrtime.bigint()
          const cold = yield* recordingStatements(store.loadFold("long-1", fold))
          const coldMs = millis(t)
          assert.strictEqual(cold.result.snapshotVersion, null)
          assert.strictEqual(cold.result.tailEvents, 10_000)
          assert.deepStrictEqual(cold.result.state, { count: 10_000, sum: triangle(10_000), redacted: 0, last: "secret-note-10000" })
          // 1,000 per page: ten full pages (the first with the snapshot lookup), then an empty one
          assert.strictEqual(cold.statements.filter((s) => /FROM events/.test(s)).length, 11)
          assert.strictEqual((yield* snapshotRow("long-1"))?.stream_version, 10_000)

          yield* appendNumbered("long-1", 10_001, 10_007)
          t = process.hrtime.bigint()
          const warm = yield* recordingStatements(store.loadFold("long-1", fold))
          const warmMs = millis(t)
          assert.deepStrictEqual(warm.result, {
            state: { count: 10_007, sum: triangle(10_007), redacted: 0, last: "secret-note-10007" },
            version: 10_007,
            snapshotVersion: 10_000,
            tailEvents: 7
          })
          // exactly one statement: the snapshot and the tail after it (the shop's data key that
          // opens the snapshot is in the vault's cache since the first load sealed with it)
          assert.strictEqual(warm.statements.length, 1, warm.statements.join("\n"))
          assert.match(warm.statements[0]!, /FROM snapshots WHERE stream_id = \$\d+ AND fold = \$\d+ .* FROM events WHERE stream_id = \$\d+ AND stream_version > coalesce\(s.stream_version, 0\)/)

          // a tail longer than a page: the first page comes with the snapshot, the rest is paged after it
          yield* appendNumbered("long-1", 10_008, 12_507)
          const paged = yield* recordingStatements(store.loadFold("long-1", fold))
          assert.deepStrictEqual(
            [paged.result.state, paged.result.version, paged.result.snapshotVersion, paged.result.tailEvents],
            [{ count: 12_507, sum: triangle(12_507), redacted: 0, last: "secret-note-12507" }, 12_507, 10_000, 2_507]
          )
          assert.strictEqual(paged.statements.filter((s) => /FROM events/.test(s)).length, 3, paged.statements.join("\n"))

          // the same state as folding every event from the start
          t = process.hrtime.bigint()
          const full = yield* store.readStream("long-1").pipe(Stream.runFold(fold.initial, fold.evolve))
          const fullMs = millis(t)
          assert.deepStrictEqual(full, paged.result.state)
          console.log(
            `[${backend.name}] 12,507-event stream: full fold ${fullMs.toFixed(0)} ms (first load incl. snapshot write ` +
              `${coldMs.toFixed(0)} ms); snapshot + 7-event tail ${warmMs.toFixed(1)} ms`
          )
        }), { timeout: 120_000 })

      it.effect("a snapshot of another schema version is ignored, and so is one that does not decode", () =>
        Effect.gen(function*() {
          const store = yield* EventStore
          yield* appendNumbered("old-1", 1, 5)
          const bogus = { count: 999, sum: 999, redacted: 0, last: null }
          yield* store.saveSnapshot({ streamId: "old-1", fold: "test-sum", shop: SHOP, schemaVersion: 1, streamVersion: 5, state: bogus }, SumState)
          // the v1 fold trusts its v1 snapshot (so the snapshot is really read)…
          const v1 = yield* store.loadFold("old-1", sumFold(1))
          assert.deepStrictEqual([v1.state, v1.snapshotVersion, v1.tailEvents], [bogus, 5, 0])
          // …the v2 fold ignores it and folds the stream from the start
          const v2 = yield* store.loadFold("old-1", sumFold(2))
          assert.deepStrictEqual(v2.state, { count: 5, sum: 15, redacted: 0, last: "secret-note-5" })
          assert.deepStrictEqual([v2.snapshotVersion, v2.tailEvents, v2.version], [null, 5, 5])

          // a snapshot of the right version whose state is not the fold's shape
          yield* store.saveSnapshot(
            { streamId: "old-1", fold: "test-sum", shop: SHOP, schemaVersion: 3, streamVersion: 5, state: { total: "five" } },
            Schema.Unknown
          )
          const v3 = yield* store.loadFold("old-1", sumFold(3))
          assert.deepStrictEqual([v3.state.sum, v3.snapshotVersion, v3.tailEvents], [15, null, 5])
        }))

      it.effect("snapshots are sealed under the shop's key: once shop/redact shreds it, the snapshot is ignored", () =>
        Effect.gen(function*() {
          const store = yield* EventStore
          const vault = yield* PiiVault
          const shop = "redacted-shop.myshopify.com"
          // a type the store seals under the shop's key
          yield* appendNumbered("conv-r1", 1, 150, { type: "conversion.recorded", shop })
          const first = yield* store.loadFold("conv-r1", sumFold())
          assert.deepStrictEqual(first.state, { count: 150, sum: triangle(150), redacted: 0, last: "secret-note-150" })
          const row = yield* snapshotRow("conv-r1")
          assert.strictEqual(row?.stream_version, 150)
          // nothing of the folded state is stored in clear
          assert.notInclude(JSON.stringify(row?.state), "secret-note")
          assert.notInclude(JSON.stringify(row?.state), String(triangle(150)))
          assert.strictEqual((yield* store.loadFold("conv-r1", sumFold())).snapshotVersion, 150)

          yield* vault.shredShop(shop)
          // the snapshot no longer opens: folded from the start, over events that read back redacted
          const after = yield* store.loadFold("conv-r1", sumFold())
          assert.strictEqual(after.snapshotVersion, null)
          assert.deepStrictEqual(after.state, { count: 150, sum: 0, redacted: 150, last: null })
        }))

      it.effect("a load at version N never uses a snapshot taken after N", () =>
        Effect.gen(function*() {
          const store = yield* EventStore
          const fold = sumFold()
          yield* appendNumbered("atv-1", 1, 250)
          // a load up to 150 leaves a snapshot at 150…
          const at150 = yield* store.loadFold("atv-1", fold, { to: 150 })
          assert.deepStrictEqual([at150.version, at150.snapshotVersion, at150.state.sum], [150, null, triangle(150)])
          assert.strictEqual((yield* snapshotRow("atv-1"))?.stream_version, 150)
          // …which a load up to 200 starts from…
          const at200 = yield* store.loadFold("atv-1", fold, { to: 200 })
          assert.deepStrictEqual([at200.version, at200.snapshotVersion, at200.tailEvents, at200.state.sum], [200, 150, 50, triangle(200)])
          // …and a load up to 120 does not
          const at120 = yield* recordingStatements(store.loadFold("atv-1", fold, { to: 120 }))
          assert.deepStrictEqual(
            [at120.result.version, at120.result.snapshotVersion, at120.result.tailEvents, at120.result.state.sum],
            [120, null, 120, triangle(120)]
          )
          assert.strictEqual(at120.result.state.last, "secret-note-120")
          // nor does the earlier load move the latest snapshot back
          assert.strictEqual((yield* snapshotRow("atv-1"))?.stream_version, 150)
          const now = yield* store.loadFold("atv-1", fold)
          assert.deepStrictEqual([now.version, now.snapshotVersion, now.tailEvents, now.state.sum], [250, 150, 100, triangle(250)])
          assert.strictEqual((yield* snapshotRow("atv-1"))?.stream_version, 250)
          // a time filter never uses snapshots (it can leave out events in the middle)
          const atTime = yield* store.loadFold("atv-1", fold, { until: new Date(Date.now() + 60_000) })
          assert.deepStrictEqual([atTime.snapshotVersion, atTime.tailEvents, atTime.state.sum], [null, 250, triangle(250)])
        }))

      it.effect("SNAPSHOT_EVERY sets how long a tail must be before a load writes a snapshot; 0 writes none", () =>
        Effect.gen(function*() {
          const storeWith = (every: string) =>
            Effect.provideService(PgEventStore.make, ConfigProvider.ConfigProvider, ConfigProvider.fromEnvRecord({ SNAPSHOT_EVERY: every }))
          const every5 = yield* storeWith("5")
          const off = yield* storeWith("0")
          yield* appendNumbered("every-1", 1, 4)
          yield* every5.loadFold("every-1", sumFold())
          assert.isNull(yield* snapshotRow("every-1")) // a 4-event tail
          yield* appendNumbered("every-1", 5, 5)
          yield* off.loadFold("every-1", sumFold())
          assert.isNull(yield* snapshotRow("every-1")) // writing is off
          yield* every5.loadFold("every-1", sumFold())
          assert.strictEqual((yield* snapshotRow("every-1"))?.stream_version, 5)
          // with writing off, existing snapshots are still used
          yield* appendNumbered("every-1", 6, 12)
          const loaded = yield* off.loadFold("every-1", sumFold())
          assert.deepStrictEqual([loaded.snapshotVersion, loaded.tailEvents, loaded.state.sum], [5, 7, triangle(12)])
          assert.strictEqual((yield* snapshotRow("every-1"))?.stream_version, 5)
        }))

      it.effect("the job actor's fold: a job's state comes back from its snapshot exactly as the decider folds it", () =>
        Effect.gen(function*() {
          const every1 = yield* Effect.provideService(PgEventStore.make, ConfigProvider.ConfigProvider, ConfigProvider.fromEnvRecord({ SNAPSHOT_EVERY: "1" }))
          const events = completedLiveJob()
          const streamId = `job-${JOB}`
          const store = yield* EventStore
          yield* store.append(streamId, JOB_SHOP, "no_stream", events.map((e) => ev(e.type, e)), meta())
          const first = yield* every1.loadFold(streamId, jobStateFold)
          assert.deepStrictEqual(first.state, replay(events))
          assert.strictEqual((yield* snapshotRow(streamId, "job"))?.stream_version, events.length)
          const again = yield* every1.loadFold(streamId, jobStateFold)
          assert.deepStrictEqual([again.snapshotVersion, again.tailEvents, again.version], [events.length, 0, events.length])
          assert.deepStrictEqual(again.state, replay(events))
        }))

      it.effect("streams show's fold: the same output from a snapshot as from the first event, and none after --at-version", () =>
        Effect.gen(function*() {
          const every1 = yield* Effect.provideService(PgEventStore.make, ConfigProvider.ConfigProvider, ConfigProvider.fromEnvRecord({ SNAPSHOT_EVERY: "1" }))
          yield* appendNumbered("order-show1", 1, 30)
          const store = yield* EventStore
          const recorded = yield* Stream.runCollect(store.readStream("order-show1"))
          const fromStart = (n: number) => {
            const { fold: _fold, version: _version, ...rest } = foldStream("order-show1", recorded.slice(0, n))
            return rest
          }
          const fold = showFold("order-show1")
          assert.strictEqual(fold.name, "streams-show/*")
          const first = yield* every1.loadFold("order-show1", fold)
          assert.deepStrictEqual(first.state, fromStart(30))
          const again = yield* every1.loadFold("order-show1", fold)
          assert.deepStrictEqual([again.snapshotVersion, again.state], [30, fromStart(30)])
          const at10 = yield* every1.loadFold("order-show1", fold, { to: 10 })
          assert.deepStrictEqual([at10.snapshotVersion, at10.version, at10.state], [null, 10, fromStart(10)])
        }))

      it.effect("a failed snapshot write never fails the load, nor the transaction around it", () =>
        Effect.gen(function*() {
          const store = yield* EventStore
          const sql = yield* SqlClient.SqlClient
          yield* appendNumbered("fail-1", 1, 120)
          class Rollback {
            readonly loaded: { readonly sum: number; readonly tailEvents: number }
            readonly snapshots: number
            constructor(loaded: { readonly sum: number; readonly tailEvents: number }, snapshots: number) {
              this.loaded = loaded
              this.snapshots = snapshots
            }
          }
          const outcome = yield* sql.withTransaction(Effect.gen(function*() {
            // a refusing trigger, inside this transaction only (DDL is transactional)
            yield* sql.unsafe(`CREATE FUNCTION refuse_snapshot() RETURNS trigger LANGUAGE plpgsql AS
              $$ BEGIN RAISE EXCEPTION 'no snapshots today'; END $$`)
            yield* sql.unsafe(`CREATE TRIGGER refuse_snapshot BEFORE INSERT ON snapshots FOR EACH ROW EXECUTE FUNCTION refuse_snapshot()`)
            const loaded = yield* store.loadFold("fail-1", sumFold())
            // the transaction is still usable: the failed write rolled back to its savepoint only
            const [row] = yield* sql<{ n: number }>`SELECT count(*)::int AS n FROM snapshots WHERE stream_id = 'fail-1'`
            return yield* Effect.fail(new Rollback({ sum: loaded.state.sum, tailEvents: loaded.tailEvents }, row!.n))
          })).pipe(Effect.flip)
          if (!(outcome instanceof Rollback)) return assert.fail(`unexpected failure: ${String(outcome)}`)
          assert.deepStrictEqual([outcome.loaded.sum, outcome.loaded.tailEvents, outcome.snapshots], [triangle(120), 120, 0])
          // without the trigger the same load writes its snapshot
          yield* store.loadFold("fail-1", sumFold())
          assert.strictEqual((yield* snapshotRow("fail-1"))?.stream_version, 120)
        }))
    })
  })
}
