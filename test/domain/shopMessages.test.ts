/**
 * The shop message catalog (`domain/messages/ShopMessages.ts`): messages sit in durable logs
 * across deploys, so the frozen v1 fixtures of every message type (committed JSON, never edited:
 * `test/domain/fixtures/messages/v1/`) must keep decoding, older shapes are upcast on read, and
 * what does not decode says why — the dispatcher dead-letters it at once with that reason.
 */
import { readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { Result } from "effect"
import { describe, expect, it } from "vitest"
import {
  decodeShopMessage,
  encodeShopMessage,
  MESSAGE_VERSIONS,
  SHOP_MESSAGE_TYPES,
  type WireBody
} from "../../domain/messages/ShopMessages.ts"

const dir = join(import.meta.dirname, "fixtures", "messages", "v1")
const fixtures = readdirSync(dir)
  .filter((f) => f.endsWith(".json"))
  .map((f) => ({ file: f, wire: JSON.parse(readFileSync(join(dir, f), "utf8")) as WireBody }))

describe("the shop message catalog", () => {
  it("has a frozen v1 fixture of every message type", () => {
    const covered = new Set(fixtures.map((f) => decodeShopMessage(f.wire)).filter(Result.isSuccess).map((r) => r.success.type))
    expect([...SHOP_MESSAGE_TYPES].filter((t) => !covered.has(t))).toEqual([])
  })

  for (const { file, wire } of fixtures) {
    it(`decodes the v1 fixture ${file}, and re-encodes it to a wire form that decodes the same`, () => {
      const decoded = decodeShopMessage(wire)
      if (Result.isFailure(decoded)) expect.fail(decoded.failure.reason)
      const body = (decoded as Result.Success<typeof decoded.success, never>).success
      const encoded = encodeShopMessage(body)
      expect(encoded.version).toBe(MESSAGE_VERSIONS[body.type])
      const again = decodeShopMessage(JSON.parse(JSON.stringify(encoded)) as WireBody)
      expect(Result.isSuccess(again) && again.success).toEqual(body)
    })
  }

  it("upcasts the first ingress's shopify.webhook_received to shopify.webhook, its trigger time included", () => {
    const legacy = fixtures.find((f) => f.file === "shopify.webhook_received.json")!.wire
    const decoded = decodeShopMessage(legacy)
    expect(Result.isSuccess(decoded)).toBe(true)
    if (Result.isSuccess(decoded) && decoded.success.type === "shopify.webhook") {
      expect(decoded.success.payload.topic).toBe("products/update")
      expect(decoded.success.payload.triggered_at).toBe("2026-06-01T08:00:00.000Z")
    } else {
      expect.fail("not a shopify.webhook")
    }
  })

  it("refuses, with the reason, an unknown type, a version from the future and a payload that does not fit", () => {
    const unknown = decodeShopMessage({ type: "orders.teleported", payload: {} })
    expect(Result.isFailure(unknown) && unknown.failure.reason).toMatch(/unknown message type "orders\.teleported"/)
    const future = decodeShopMessage({ type: "job.retry", version: 2, payload: { jobId: "j", attempt: 1 } })
    expect(Result.isFailure(future) && future.failure.reason).toMatch(/job\.retry version 2 is not one this deploy reads \(1–1\)/)
    const misfit = decodeShopMessage({ type: "job.retry", payload: { jobId: "j", attempt: "first" } })
    expect(Result.isFailure(misfit) && misfit.failure.reason).toMatch(/job\.retry payload does not fit its schema/)
    expect(Result.isFailure(misfit) && misfit.failure.reason).toMatch(/attempt/)
  })

  it("a version absent on the wire is version 1", () => {
    const decoded = decodeShopMessage({ type: "job.retry", payload: { jobId: "j", attempt: 1 } })
    expect(Result.isSuccess(decoded)).toBe(true)
  })
})
