/**
 * The WhatsApp client's pacing on Effect's TestClock: the number's token bucket lets a burst go
 * at once and then one message per 1/rate second; a recipient's lane waits the pair interval
 * after the previous answer and keeps call order; Meta's answers classify by code first.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber } from "effect"
import { TestClock } from "effect/testing"
import { classifyGraphAnswer } from "../../adapters/whatsapp/graphResponses.ts"
import { makeRecipientPacer, makeTokenBucket, takeToken } from "../../adapters/whatsapp/pacing.ts"

describe("token bucket", () => {
  it("takes a token when there is one, else says how long until the next", () => {
    assert.deepStrictEqual(takeToken({ tokens: 1, at: 0 }, 0, 80, 40), [{ tokens: 0, at: 0 }, 0])
    assert.deepStrictEqual(takeToken({ tokens: 0, at: 0 }, 0, 80, 40)[1], 13) // 12.5 ms, rounded up
    assert.deepStrictEqual(takeToken({ tokens: 0, at: 0 }, 1_000, 80, 40)[0].tokens, 39) // refilled to the cap, one taken
  })

  it.effect("lets the burst go at once, then one per 1/rate second", () =>
    Effect.gen(function*() {
      const bucket = makeTokenBucket(10, 5)
      const all = yield* Effect.forkChild(Effect.forEach(Array.from({ length: 7 }), () => bucket.acquire, { concurrency: "unbounded" }))
      yield* TestClock.adjust(199)
      assert.isUndefined(all.pollUnsafe()) // 5 at once, the 6th at 100 ms, the 7th at 200 ms
      yield* TestClock.adjust(1)
      yield* Fiber.join(all)
    }))
})

describe("recipient lanes", () => {
  it.effect("wait the interval after the previous answer and keep call order", () =>
    Effect.gen(function*() {
      const pacer = makeRecipientPacer(6_000)
      const order: Array<number> = []
      const send = (n: number) => pacer.exclusive("100:4915112345678", (pace) => pace(Effect.sync(() => void order.push(n))))
      const fiber = yield* Effect.forkChild(Effect.forEach([1, 2, 3], send, { concurrency: "unbounded" }))
      yield* TestClock.adjust(5_999)
      assert.deepStrictEqual(order, [1])
      yield* TestClock.adjust(1)
      assert.deepStrictEqual(order, [1, 2])
      yield* TestClock.adjust(6_000)
      yield* Fiber.join(fiber)
      assert.deepStrictEqual(order, [1, 2, 3])
      // another recipient does not wait
      const other = yield* pacer.exclusive("100:4917000000001", (pace) => pace(Effect.succeed("at once")))
      assert.strictEqual(other, "at once")
    }))
})

describe("Meta's answers", () => {
  const graph = (code: number, extra: object = {}) => JSON.stringify({ error: { message: `(#${code})`, type: "OAuthException", code, fbtrace_id: "A1", ...extra } })
  it("classify by code before status", () => {
    assert.strictEqual(classifyGraphAnswer(400, graph(130429), null)._tag, "Throttled")
    assert.strictEqual(classifyGraphAnswer(429, graph(131056), 2_000)._tag, "Throttled")
    assert.strictEqual(classifyGraphAnswer(400, graph(131047), null)._tag, "WindowClosed")
    assert.strictEqual(classifyGraphAnswer(401, graph(190, { error_subcode: 463 }), null)._tag, "AuthExpired")
    assert.deepStrictEqual(classifyGraphAnswer(404, graph(132001, { error_data: { details: "no such template" } }), null), {
      _tag: "Rejected", code: 132001, subcode: null, message: "(#132001)", details: "no such template"
    })
    assert.deepStrictEqual(classifyGraphAnswer(500, graph(131000), null), { _tag: "Unavailable", status: 500, message: "(#131000)", retry: true })
    assert.deepStrictEqual(classifyGraphAnswer(502, "<html>bad gateway</html>", null), { _tag: "Unavailable", status: 502, message: "HTTP 502", retry: true })
  })

  it("a 2xx without a message id is unavailable but never retried (Meta may have sent it)", () => {
    assert.deepStrictEqual(classifyGraphAnswer(200, "{}", null), { _tag: "Unavailable", status: 200, message: "HTTP 200 without a message id", retry: false })
    assert.deepStrictEqual(classifyGraphAnswer(200, JSON.stringify({ messaging_product: "whatsapp", contacts: [{ input: "+1", wa_id: "1" }], messages: [{ id: "wamid.X" }] }), null), {
      _tag: "Sent", messageId: "wamid.X", waId: "1"
    })
  })
})
