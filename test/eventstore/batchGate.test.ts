/**
 * The batch gate (adapters/postgres/BatchGate.ts): on the embedded database's one session,
 * what arrives while a batch runs goes together in the next batch, one batch at a time.
 */
import { assert, describe, it } from "@effect/vitest"
import { Deferred, Duration, Effect, Exit, Fiber, Request, RequestResolver } from "effect"
import { makeBatchGate } from "../../adapters/postgres/BatchGate.ts"

class Work extends Request.Class<{ readonly n: number }, number> {}

/** A resolver behind a gate whose batches wait for `release` (when given) and record their sizes. */
const gated = (maxInFlight: number, batchN: number) =>
  Effect.gen(function*() {
    const gate = makeBatchGate(maxInFlight, Duration.zero)
    const sizes: Array<number> = []
    let running = 0
    let mostAtOnce = 0
    let hold = yield* Deferred.make<void>()
    const resolver = RequestResolver.make<Work>((entries) =>
      gate.run(Effect.gen(function*() {
        running++
        mostAtOnce = Math.max(mostAtOnce, running)
        sizes.push(entries.length)
        yield* Deferred.await(hold)
        running--
        for (const e of entries) e.completeUnsafe(Exit.succeed(e.request.n))
      }))
    ).pipe(RequestResolver.setDelayEffect(gate.delay), RequestResolver.batchN(batchN))
    return {
      sizes,
      mostAtOnce: () => mostAtOnce,
      send: (n: number) => Effect.request(new Work({ n }), resolver),
      /** Lets the running batches finish; later ones are held again. */
      release: Effect.gen(function*() {
        const current = hold
        hold = yield* Deferred.make<void>()
        yield* Deferred.succeed(current, undefined)
      })
    }
  })

/** Lets every forked fiber run up to where it waits (the scheduler runs them in order). */
const settle = Effect.gen(function*() {
  for (let i = 0; i < 20; i++) yield* Effect.yieldNow
})

describe("batch gate", () => {
  it.live("one batch at a time: requests made while a batch runs go together in the next", () =>
    Effect.gen(function*() {
      const r = yield* gated(1, 100)
      const first = yield* Effect.forkChild(r.send(0))
      yield* settle
      assert.deepStrictEqual(r.sizes, [1])
      const rest = yield* Effect.forkChild(Effect.forEach(Array.from({ length: 10 }, (_, i) => i + 1), r.send, { concurrency: "unbounded" }))
      yield* settle
      // the ten wait at the gate while the first batch runs
      assert.deepStrictEqual(r.sizes, [1])
      yield* r.release
      assert.strictEqual(yield* Fiber.join(first), 0)
      yield* settle
      yield* r.release
      assert.deepStrictEqual(yield* Fiber.join(rest), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
      assert.deepStrictEqual(r.sizes, [1, 10])
      assert.strictEqual(r.mostAtOnce(), 1)
    }), { timeout: 10_000 })

  it.live("a batch that fills up starts past the gate, and the batch after it still gets its turn", () =>
    Effect.gen(function*() {
      const r = yield* gated(1, 3)
      const first = yield* Effect.forkChild(r.send(0))
      yield* settle
      // three fill a batch (batchN 3): it starts at once; the fourth waits at the gate
      const more = yield* Effect.forkChild(Effect.forEach([1, 2, 3, 4], r.send, { concurrency: "unbounded" }))
      yield* settle
      assert.deepStrictEqual(r.sizes, [1, 3])
      yield* r.release
      assert.strictEqual(yield* Fiber.join(first), 0)
      yield* settle
      yield* r.release
      assert.deepStrictEqual(yield* Fiber.join(more), [1, 2, 3, 4])
      assert.deepStrictEqual(r.sizes, [1, 3, 1])
    }), { timeout: 10_000 })
})
