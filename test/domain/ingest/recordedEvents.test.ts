/**
 * The events public ingestion records (`domain/ingest/RecordedEvents.ts`): every stored shape —
 * each external event type, conversions with and without a sealed customer, touchpoints of a
 * known and an anonymous visitor — decodes with its schema, and one that does not fit is
 * refused with the field that failed.
 */
import { Result } from "effect"
import { describe, expect, it } from "vitest"
import { EXTERNAL_EVENT_TYPES, recordedEventType } from "../../../domain/ingest/ExternalEvents.ts"
import { RECORDED_EVENTS, type RecordedEventType } from "../../../domain/ingest/RecordedEvents.ts"
import { decoded, refusal, storedEvents } from "../fixtures/events/storedEvents.ts"

const fixtures = storedEvents("ingest")
const schemaOf = (type: string) => RECORDED_EVENTS[type as RecordedEventType]

describe("recorded ingest events", () => {
  it("a schema for every external event type's recorded event and for touchpoints, and a stored fixture of each", () => {
    expect(Object.keys(RECORDED_EVENTS).sort()).toEqual([...EXTERNAL_EVENT_TYPES.map((t) => recordedEventType[t]), "touchpoint.recorded"].sort())
    expect(Object.keys(RECORDED_EVENTS).filter((t) => !fixtures.some((f) => f.type === t))).toEqual([])
  })

  for (const [i, f] of fixtures.entries()) {
    it(`decodes stored ${f.type} #${i}${f.note === undefined ? "" : ` (${f.note})`}`, () => {
      expect(decoded(schemaOf(f.type), f.type, f.data)).toEqual(Result.succeed(f.data))
    })
  }

  it("decodes a touchpoint or conversion recorded after its customer was redacted (nothing sealed: identifying null)", () => {
    for (const type of ["touchpoint.recorded", "conversion.recorded"]) {
      const f = fixtures.find((x) => x.type === type && typeof x.data["subject"] === "string" && x.data["subject"] !== "shop")!
      expect(Result.isSuccess(decoded(schemaOf(type), type, { ...f.data, identifying: null }))).toBe(true)
    }
  })

  it("refuses a recorded event whose field does not fit, naming the field", () => {
    const touchpoint = fixtures.find((f) => f.type === "touchpoint.recorded")!
    expect(refusal(schemaOf("touchpoint.recorded"), "touchpoint.recorded", { ...touchpoint.data, event: "teleported" }).reason).toMatch(/\["event"\]/)
    const { identifying: _, ...unsealed } = touchpoint.data
    expect(refusal(schemaOf("touchpoint.recorded"), "touchpoint.recorded", unsealed).reason).toMatch(/Missing key at \["identifying"\]/)
    const spend = fixtures.find((f) => f.type === "ad_spend.recorded")!
    expect(refusal(schemaOf("ad_spend.recorded"), "ad_spend.recorded", { ...spend.data, spend: 123.45 }).reason).toMatch(/\["spend"\]/)
    const { source_key_id: __, ...noKey } = spend.data
    expect(refusal(schemaOf("ad_spend.recorded"), "ad_spend.recorded", noKey).reason).toMatch(/\["source_key_id"\]/)
    const conversion = fixtures.find((f) => f.type === "conversion.recorded" && f.data["identifying"] !== undefined)!
    expect(refusal(schemaOf("conversion.recorded"), "conversion.recorded", { ...conversion.data, identifying: { customer_id: "55501" } }).reason)
      .toMatch(/\["identifying"\]/)
  })
})
