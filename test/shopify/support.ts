/**
 * Helpers for the Shopify adapter suites: a simulator on 127.0.0.1 with a manual clock, and
 * a virtual Effect `Clock` bound to that manual clock. Every `Effect.sleep` of the adapter
 * (throttle waits, backoff, polling) completes at once and moves the simulator's time by
 * exactly the slept amount, so cost-bucket refills are deterministic and the waits can be
 * asserted to the millisecond. The throttle serialises its waits per shop, so sleeps of
 * concurrent requests never overlap and summing them is exact.
 */
import { Clock, Duration, Effect, Layer, Random, type Exit } from "effect"
import { ensureShopifySchema } from "../../scripts/fetch-shopify-schema.ts"
import {
  manualClock,
  startShopifySimulator,
  type ManualClock,
  type RunningShopifySimulator,
  type StartOptions
} from "../../src/simulator/shopify/index.ts"
import { ShopCredentials, type ShopifyAdmin } from "../../adapters/shopify/ShopifyAdmin.ts"
import * as ShopifyAdminLive from "../../adapters/shopify/ShopifyAdminLive.ts"

ensureShopifySchema()

export const SHOP = "acme.myshopify.com"
export const TOKEN = "shpat_acme_adapter_token"

export interface VirtualClock {
  readonly clock: Clock.Clock
  /** Every sleep the adapter did, in order (ms). */
  readonly sleeps: Array<number>
  readonly manual: ManualClock
}

export const virtualClock = (manual: ManualClock): VirtualClock => {
  const sleeps: Array<number> = []
  const nanos = () => BigInt(manual.now()) * 1_000_000n
  const clock: Clock.Clock = {
    currentTimeMillisUnsafe: () => manual.now(),
    currentTimeMillis: Effect.sync(() => manual.now()),
    currentTimeNanosUnsafe: nanos,
    currentTimeNanos: Effect.sync(nanos),
    monotonicTimeNanosUnsafe: nanos,
    monotonicTimeNanos: Effect.sync(nanos),
    sleep: (duration) =>
      Effect.sync(() => {
        const ms = Duration.toMillis(duration)
        sleeps.push(ms)
        manual.advance(ms)
      })
  }
  return { clock, sleeps, manual }
}

export interface Harness {
  readonly sim: RunningShopifySimulator
  readonly time: VirtualClock
  /** Runs an effect needing `ShopifyAdmin` against the simulator on virtual time. */
  readonly run: <A, E>(effect: Effect.Effect<A, E, ShopifyAdmin>, options?: ShopifyAdminLive.ShopifyAdminOptions) => Promise<A>
  /** Same, resolving to the Exit (for failure assertions). */
  readonly exit: <A, E>(effect: Effect.Effect<A, E, ShopifyAdmin>, options?: ShopifyAdminLive.ShopifyAdminOptions) => Promise<Exit.Exit<A, E>>
  readonly close: () => Promise<void>
}

export const startHarness = async (options: Partial<StartOptions> = {}): Promise<Harness> => {
  const manual = manualClock()
  const sim = await startShopifySimulator({
    appSecret: "adapter-test-secret",
    shops: [{ domain: SHOP, accessToken: TOKEN, products: 30, seed: 3 }],
    log: () => undefined,
    clock: manual,
    bulkPace: "manual",
    ...options
  })
  const time = virtualClock(manual)
  const tokens = Object.fromEntries(sim.shops.map((s) => [s.domain, s.accessToken]))
  const layerFor = (o: ShopifyAdminLive.ShopifyAdminOptions = {}) =>
    ShopifyAdminLive.layer({ adminUrlOverride: sim.url, ...o }).pipe(
      Layer.provide(ShopCredentials.fromRecord(tokens))
    )
  const prepare = <A, E>(effect: Effect.Effect<A, E, ShopifyAdmin>, o?: ShopifyAdminLive.ShopifyAdminOptions) =>
    effect.pipe(Effect.provide(layerFor(o)), Effect.provideService(Clock.Clock, time.clock), Random.withSeed(42))
  return {
    sim,
    time,
    run: (effect, o) => Effect.runPromise(prepare(effect, o)),
    exit: (effect, o) => Effect.runPromiseExit(prepare(effect, o)),
    close: () => sim.close()
  }
}

/** The failure of an Exit (throws when it succeeded or died). */
export const failureOf = <A, E>(exit: Exit.Exit<A, E>): E => {
  if (exit._tag === "Success") throw new Error(`expected a failure, got ${JSON.stringify(exit.value)}`)
  const reason = exit.cause.reasons.find((r) => r._tag === "Fail")
  if (reason === undefined || reason._tag !== "Fail") throw new Error(`expected a typed failure, got ${String(exit.cause)}`)
  return reason.error
}
