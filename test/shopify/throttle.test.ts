/**
 * The cost-bucket model and the per-shop throttle on Effect's TestClock, plus the pure
 * classification of Shopify's answers.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber } from "effect"
import { TestClock } from "effect/testing"
import { classifyAdminResponse, parseRetryAfter } from "../../adapters/shopify/responses.ts"
import { backoffDelay, emptyBucket, makeCostThrottle, reserve, settle, waitBeforeSending, type BucketModel } from "../../adapters/shopify/throttle.ts"

const status = (currentlyAvailable: number, maximumAvailable = 100, restoreRate = 10) => ({ maximumAvailable, currentlyAvailable, restoreRate })
const known = (s: ReturnType<typeof status>, observedAt = 0): BucketModel => ({ ...emptyBucket, status: s, observedAt, statusSeq: 1, lastSeq: 1 })

describe("bucket model", () => {
  it("sends at once when the refilled bucket covers the cost, else waits the refill time", () => {
    assert.strictEqual(waitBeforeSending(known(status(50)), 50, 0), 0)
    assert.strictEqual(waitBeforeSending(known(status(10)), 50, 0), 4000) // 40 points at 10/s
    assert.strictEqual(waitBeforeSending(known(status(10)), 50, 1000), 3000) // 1 s already refilled 10
    assert.strictEqual(waitBeforeSending(known(status(10)), 500, 0), 9000) // capped to the bucket size (100)
  })

  it("counts unanswered reservations, and waits for an answer when only answers can help", () => {
    const [withProbe] = reserve(emptyBucket, 50)
    assert.strictEqual(waitBeforeSending(emptyBucket, 50, 0), 0) // first request probes
    assert.strictEqual(waitBeforeSending(withProbe, 50, 0), "await-settle") // others wait for its throttleStatus
    const [busy] = reserve(known(status(100)), 60)
    assert.strictEqual(waitBeforeSending(busy, 30, 0), 0)
    assert.strictEqual(waitBeforeSending(busy, 50, 0), "await-settle") // 100 − 60 < 50 even when full
  })

  it("ignores a throttleStatus older than the one it has (answers overtake each other)", () => {
    const [m1, older] = reserve(emptyBucket, 10)
    const [m2, newer] = reserve(m1, 10)
    const afterNewer = settle(m2, newer, status(40), 5)
    const afterOlder = settle(afterNewer, older, status(90), 6)
    assert.deepStrictEqual(afterOlder.status, status(40))
    assert.strictEqual(afterOlder.observedAt, 5)
    assert.strictEqual(afterOlder.inFlight, 0)
  })

  it("backs off exponentially with equal jitter, capped", () => {
    assert.strictEqual(backoffDelay(1, 500, 30_000, 0), 250)
    assert.strictEqual(backoffDelay(1, 500, 30_000, 0.999999), 500)
    assert.strictEqual(backoffDelay(3, 500, 30_000, 0), 1000)
    assert.strictEqual(backoffDelay(20, 500, 30_000, 1), 30_000)
  })
})

describe("makeCostThrottle on TestClock", () => {
  it.effect("waits exactly the refill time before reserving", () =>
    Effect.gen(function*() {
      const throttle = makeCostThrottle()
      const probe = yield* throttle.acquire(1)
      yield* throttle.settle(probe, status(10))
      const fiber = yield* Effect.forkChild(throttle.acquire(50))
      yield* TestClock.adjust(3_999)
      assert.isUndefined(fiber.pollUnsafe())
      yield* TestClock.adjust(1)
      const ticket = yield* Fiber.join(fiber)
      assert.strictEqual(ticket.points, 50)
      assert.strictEqual((yield* throttle.model).inFlight, 50)
    }))

  it.effect("holds later requests until the first answer tells the bucket size, then serves them in order", () =>
    Effect.gen(function*() {
      const throttle = makeCostThrottle()
      const first = yield* throttle.acquire(30)
      const order: Array<number> = []
      const second = yield* Effect.forkChild(Effect.tap(throttle.acquire(30), () => Effect.sync(() => order.push(2))))
      const third = yield* Effect.forkChild(Effect.tap(throttle.acquire(30), () => Effect.sync(() => order.push(3))))
      yield* TestClock.adjust(60_000)
      assert.isUndefined(second.pollUnsafe()) // time alone does not help: no throttleStatus yet
      yield* throttle.settle(first, status(40, 100, 10)) // 40 points left
      yield* Fiber.join(second) // 40 ≥ 30: at once
      assert.deepStrictEqual(order, [2])
      yield* TestClock.adjust(1_999)
      assert.isUndefined(third.pollUnsafe()) // needs 30, has 10 (+19.99)
      yield* TestClock.adjust(1)
      yield* Fiber.join(third)
      assert.deepStrictEqual(order, [2, 3])
    }))
})

describe("classifyAdminResponse", () => {
  const cost = { requestedQueryCost: 752, actualQueryCost: null, throttleStatus: { maximumAvailable: 1000, currentlyAvailable: 666, restoreRate: 50 } }

  it("THROTTLED over HTTP 200 (no data) is throttled, with the cost extension", () => {
    const c = classifyAdminResponse({
      extensions: { cost },
      errors: { networkStatusCode: 200, message: "GraphQL Client: …", graphQLErrors: [{ message: "Throttled", extensions: { code: "THROTTLED" } }] }
    })
    assert.deepStrictEqual(c, { _tag: "Throttled", code: "THROTTLED", message: "Throttled", cost, retryAfterMs: undefined })
  })

  it("MAX_COST_EXCEEDED and validation errors are permanent; INTERNAL_SERVER_ERROR is transient", () => {
    const gql = (code: string, message = code) => classifyAdminResponse({ errors: { networkStatusCode: 200, graphQLErrors: [{ message, extensions: { code } }] } })
    assert.include(gql("MAX_COST_EXCEEDED", "Query cost is 1293"), { _tag: "Permanent", code: "MAX_COST_EXCEEDED", message: "Query cost is 1293" })
    assert.include(gql("undefinedField"), { _tag: "Permanent", code: "undefinedField" })
    assert.include(gql("INTERNAL_SERVER_ERROR"), { _tag: "Unavailable" })
  })

  it("maps HTTP statuses: 401 permanent, 429 throttled with Retry-After seconds, 5xx transient, network failures transient", () => {
    assert.include(classifyAdminResponse({ errors: { networkStatusCode: 401 }, bodyText: `{"errors":"[API] Invalid API key or access token"}` }), {
      _tag: "Permanent",
      code: "UNAUTHORIZED",
      status: 401
    })
    assert.include(classifyAdminResponse({ errors: { networkStatusCode: 429 }, retryAfter: "2.0" }), { _tag: "Throttled", code: "HTTP_429", retryAfterMs: 2000 })
    assert.include(classifyAdminResponse({ errors: { networkStatusCode: 502 }, bodyText: "<html>502 Bad Gateway</html>" }), { _tag: "Unavailable", status: 502 })
    assert.include(classifyAdminResponse({ errors: { message: "GraphQL Client: fetch failed" } }), { _tag: "Unavailable", status: undefined })
    assert.include(classifyAdminResponse({ data: { shop: { name: "x" } } }), { _tag: "Ok" })
    assert.strictEqual(parseRetryAfter("abc"), undefined)
  })
})
