/**
 * Diagnostic probe for bench:pipeline (not part of the default run): where does a message's
 * time go between publish and commit? Times each stage with the ActorStore observed.
 * `node scripts/bench/pipeline-probe.ts [pg|pglite|nats] [messages] [shops] [rate]`
 */
import { execFileSync } from "node:child_process"
import { readFileSync } from "node:fs"
import { Context, Effect, Layer, Redacted } from "effect"
import { SqlClient } from "effect/sql"
import * as EmbeddedShopLog from "../../adapters/embedded/EmbeddedShopLog.ts"
import * as JetStreamShopLog from "../../adapters/nats/JetStreamShopLog.ts"
import * as PgActorStore from "../../adapters/postgres/PgActorStore.ts"
import * as PgPartitionLeases from "../../adapters/postgres/PgPartitionLeases.ts"
import { ActorStore } from "../../src/actors/ActorStore.ts"
import { type DatabaseMode, layerEmbedded, layerPostgres } from "../../adapters/postgres/Database.ts"
import * as ShopActorRuntime from "../../src/actors/ShopActorRuntime.ts"
import { coreLayer } from "../../src/CoreLayer.ts"
import { ShopLog } from "../../src/shoplog/ShopLog.ts"
import { startNatsServer } from "../../test/support/natsServer.ts"
import { startPgServer } from "../../test/support/pgServer.ts"
import { shopName } from "../../test/support/pipeline.ts"
import { testHandlersLayer } from "../../test/support/testHandlers.ts"
import { percentile } from "./pipeline-report.ts"
import { testKeyRing } from "../../test/support/keys.ts"

const backend = process.argv[2] ?? "pg"
const total = Number(process.argv[3] ?? 2000)
const shops = Number(process.argv[4] ?? 1000)
const rate = Number(process.argv[5] ?? 500)
const pool = Number(process.env.BENCH_PG_POOL ?? 10)

const external = process.env.PROBE_PG_URL
const pg = backend === "pglite"
  ? null
  : external !== undefined
  ? {
    createDatabase: (name: string) => {
      execFileSync("psql", [external, "-qc", `DROP DATABASE IF EXISTS "${name}"`, "-c", `CREATE DATABASE "${name}"`], { stdio: "pipe" })
      return external.replace(/\/[^/]*$/, `/${name}`)
    },
    stop: async () => undefined
  }
  : await startPgServer({ durable: process.env.BENCH_PG_DURABLE !== "0" })
const nats = backend === "nats" ? await startNatsServer() : null
const stamp = () => performance.now()
const t = {
  sched: new Float64Array(total), pubAck: new Float64Array(total), beginStart: new Float64Array(total), beginEnd: new Float64Array(total),
  commitStart: new Float64Array(total), commitEnd: new Float64Array(total)
}
let done = 0
try {
  const url = pg === null ? "" : pg.createDatabase("probe")
  console.log(`database ${url}`)
  const db = pg === null ? layerEmbedded(undefined) : layerPostgres(Redacted.make(url), { maxConnections: pool })
  const shopLog: Layer.Layer<ShopLog, unknown, SqlClient.SqlClient | DatabaseMode> = nats !== null
    ? JetStreamShopLog.layer({ servers: nats.url })
    : EmbeddedShopLog.layer({})
  const log = shopLog.pipe(Layer.provideMerge(coreLayer(db, testKeyRing())))
  const nOf = (m: { payload: unknown }) => (m.payload as { n: number }).n
  const store = Layer.effect(ActorStore, Effect.gen(function*() {
    const real = yield* ActorStore
    return ActorStore.of({
      ...real,
      begin: (m, seq, predecessor) => Effect.suspend(() => {
        t.beginStart[nOf(m)] = stamp()
        return Effect.tap(real.begin(m, seq, predecessor), () => Effect.sync(() => (t.beginEnd[nOf(m)] = stamp())))
      }),
      commit: (item) => Effect.suspend(() => {
        t.commitStart[nOf(item.message)] = stamp()
        return Effect.tap(real.commit(item), () => Effect.sync(() => {
          t.commitEnd[nOf(item.message)] = stamp()
          done++
        }))
      })
    })
  })).pipe(Layer.provide(PgActorStore.layer))
  const runtime = Layer.effect(ShopActorRuntime.ShopActorRuntime, ShopActorRuntime.make({})).pipe(
    Layer.provide([store, PgPartitionLeases.layerForDatabase]), Layer.provide(testHandlersLayer), Layer.provideMerge(log))
  await Effect.runPromise(Effect.scoped(Effect.gen(function*() {
    const ctx = yield* Layer.build(runtime)
    const run = Effect.runPromiseWith(ctx)
    const shopLogSvc = Context.get(ctx, ShopLog)
    const rt = Context.get(ctx, ShopActorRuntime.ShopActorRuntime)
    const sql = Context.get(ctx, SqlClient.SqlClient)
    // PROBE_SQL=file: run it after the migrations (to try a changed SQL function)
    if (process.env.PROBE_SQL !== undefined) yield* sql.unsafe(readFileSync(process.env.PROBE_SQL, "utf8"))
    yield* Effect.promise(async () => {
      while (rt.ownedPartitions().length < shopLogSvc.partitions) await new Promise((r) => setTimeout(r, 20))
      await new Promise((r) => setTimeout(r, 300))
      const t0 = stamp()
      let i = 0
      while (i < total) {
        const now = stamp()
        while (i < total && t0 + (i * 1000) / rate <= now) {
          const n = i++
          t.sched[n] = t0 + (n * 1000) / rate
          void run(shopLogSvc.publish({ shop: shopName(n % shops), messageId: `p-${n}`, type: "test.append", payload: { n } })).then(() => (t.pubAck[n] = stamp()))
        }
        await new Promise((r) => setTimeout(r, 1))
      }
      const deadline = stamp() + 60_000
      while (done < total && stamp() < deadline) await new Promise((r) => setTimeout(r, 10))
      const stage = (name: string, a: Float64Array, b: Float64Array) => {
        const d: Array<number> = []
        for (let k = 0; k < total; k++) if (a[k]! > 0 && b[k]! > 0) d.push(b[k]! - a[k]!)
        d.sort((x, y) => x - y)
        console.log(`${name.padEnd(28)} n=${d.length} p50 ${percentile(d, 50).toFixed(1)} p95 ${percentile(d, 95).toFixed(1)} p99 ${percentile(d, 99).toFixed(1)} ms`)
      }
      console.log(`${backend}: ${done}/${total} committed in ${((stamp() - t0) / 1000).toFixed(1)} s`)
      stage("sched → publish ack", t.sched, t.pubAck)
      stage("publish ack → begin start", t.pubAck, t.beginStart)
      stage("begin", t.beginStart, t.beginEnd)
      stage("begin end → commit start", t.beginEnd, t.commitStart)
      stage("commit", t.commitStart, t.commitEnd)
      stage("sched → commit end", t.sched, t.commitEnd)
      setTimeout(() => process.exit(0), 5000).unref()
    })
  })))
} finally {
  await pg?.stop()
  await nats?.stop()
}
