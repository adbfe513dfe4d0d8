/**
 * The compliance events (`domain/privacy/PrivacyEvents.ts`): stored `customer.data_exported`
 * and `customer.redacted` decode with their schemas, and one that does not fit is refused
 * with the field that failed.
 */
import { Result } from "effect"
import { describe, expect, it } from "vitest"
import { PRIVACY_EVENTS, type PrivacyEventType } from "../../../domain/privacy/PrivacyEvents.ts"
import { decoded, refusal, storedEvents } from "../fixtures/events/storedEvents.ts"

const fixtures = storedEvents("privacy")
const first = (type: PrivacyEventType) => fixtures.find((f) => f.type === type)!

describe("privacy events", () => {
  it("has a stored fixture of every privacy event type", () => {
    expect(Object.keys(PRIVACY_EVENTS).filter((t) => !fixtures.some((f) => f.type === t))).toEqual([])
  })

  for (const f of fixtures) {
    it(`decodes stored ${f.type}`, () => {
      expect(decoded(PRIVACY_EVENTS[f.type as PrivacyEventType], f.type, f.data)).toEqual(Result.succeed(f.data))
    })
  }

  it("refuses one whose field does not fit, naming the field", () => {
    const redacted = first("customer.redacted")
    expect(refusal(PRIVACY_EVENTS["customer.redacted"], "customer.redacted", { ...redacted.data, order_ids: [450789469] }).reason)
      .toMatch(/\["order_ids"\]\[0\]/)
    const { sha256: _, ...unhashed } = first("customer.data_exported").data
    expect(refusal(PRIVACY_EVENTS["customer.data_exported"], "customer.data_exported", unhashed).reason).toMatch(/Missing key at \["sha256"\]/)
    const { topic: __, ...noSource } = redacted.data
    expect(refusal(PRIVACY_EVENTS["customer.redacted"], "customer.redacted", noSource).reason).toMatch(/\["topic"\]/)
  })
})
