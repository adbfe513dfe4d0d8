/**
 * A real worker process for the failover and shutdown tests: PostgreSQL (`DATABASE_URL`),
 * the shop log chosen by `SHOP_LOG` (`jetstream` with `NATS_URL`, `STREAM_NAME`,
 * `SUBJECT_PREFIX`; or `embedded`, the log in the same database), `SUMERU_PARTITIONS`
 * partitions, and the shop actor runtime with the test handlers (4 attempts; retry backoff
 * `WORKER_BACKOFF_BASE_MS`/`WORKER_BACKOFF_CAP_MS`, default 5/40 ms). Runs until killed;
 * SIGINT/SIGTERM interrupt it through `NodeRuntime.runMain` (exit code 130 once every
 * finalizer — partition release, drain, unlock — has run).
 *
 * stdout carries only JSON lines for the test to wait on (Effect's logs go to stderr):
 * - `{"event":"started","workerId",…}` once the runtime is built;
 * - `{"event":"owned","partitions":[…],"at":ms}` whenever the set of owned partitions changes;
 * - `{"event":"stopped","exit":"…"}` after the runtime's layer was released.
 *
 * Run with `process.execPath` (Node 24 strips the types).
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { Duration, Effect, Exit, Layer, Logger, Redacted, References } from "effect"
import * as EmbeddedShopLog from "../../adapters/embedded/EmbeddedShopLog.ts"
import * as JetStreamShopLog from "../../adapters/nats/JetStreamShopLog.ts"
import { layerPostgres } from "../../adapters/postgres/Database.ts"
import * as ShopActorRuntime from "../../src/actors/ShopActorRuntime.ts"
import { actorRuntimeLayer } from "./actorRuntime.ts"
import { coreLayer } from "../../src/CoreLayer.ts"
import { testHandlersLayer } from "./testHandlers.ts"
import { testKeyRing } from "./keys.ts"

const env = (name: string): string => {
  const value = process.env[name]
  if (value === undefined || value === "") throw new Error(`workerMain: ${name} is required`)
  return value
}

const label = process.env.WORKER_LABEL ?? `pid-${process.pid}`
const emit = (line: Record<string, unknown>) => {
  process.stdout.write(`${JSON.stringify({ ...line, worker: label, pid: process.pid, at: Date.now() })}\n`)
}

const partitions = Number(env("SUMERU_PARTITIONS"))
const kind = env("SHOP_LOG")
const core = coreLayer(layerPostgres(Redacted.make(env("DATABASE_URL")), { maxConnections: 12 }), testKeyRing())
const log = kind === "jetstream"
  ? JetStreamShopLog.layer({
    servers: env("NATS_URL"),
    streamName: env("STREAM_NAME"),
    subjectPrefix: env("SUBJECT_PREFIX"),
    partitions,
    name: `sumeru-test-${label}`
  })
  : EmbeddedShopLog.layer({ partitions }).pipe(Layer.provide(core))

const runtime = actorRuntimeLayer({
  maxAttempts: 4,
  backoffBase: Duration.millis(Number(process.env.WORKER_BACKOFF_BASE_MS ?? 5)),
  backoffCap: Duration.millis(Number(process.env.WORKER_BACKOFF_CAP_MS ?? 40)),
  idleTimeout: Duration.seconds(2)
}).pipe(Layer.provide(testHandlersLayer), Layer.provide(Layer.merge(log, core)))

const main = Effect.gen(function*() {
  const rt = yield* ShopActorRuntime.ShopActorRuntime
  emit({ event: "started", workerId: rt.workerId })
  let last: string | undefined
  for (;;) {
    const owned = rt.ownedPartitions()
    const key = owned.join(",")
    if (key !== last) {
      last = key
      emit({ event: "owned", workerId: rt.workerId, partitions: owned })
    }
    yield* Effect.sleep(Duration.millis(20))
  }
}).pipe(
  Effect.provide(runtime),
  Effect.onExit((exit) => Effect.sync(() => emit({ event: "stopped", exit: Exit.isSuccess(exit) ? "success" : Exit.hasInterrupts(exit) ? "interrupted" : "failure" }))),
  Effect.provideService(Logger.LogToStderr, true),
  Effect.provideService(References.MinimumLogLevel, "Info")
)

NodeRuntime.runMain(main)
