/**
 * The events recorded from Shopify webhooks (`domain/shopify/CommerceEvents.ts`): every stored
 * shape — the commerce events, their opened records, deliveries kept raw now and as the first
 * ingress stored them — decodes with its schema, and one that does not fit is refused with
 * the field that failed.
 */
import { Result } from "effect"
import { describe, expect, it } from "vitest"
import { COMMERCE_EVENTS, COMMERCE_RECORDS, type CommerceEventType, SHOPIFY_EVENTS, type ShopifyEventType } from "../../../domain/shopify/CommerceEvents.ts"
import { COMMERCE_EVENT_TYPES } from "../../../domain/shopify/webhookRecords.ts"
import { decoded, refusal, storedEvents } from "../fixtures/events/storedEvents.ts"

const fixtures = storedEvents("shopify")
const first = (type: string) => fixtures.find((f) => f.type === type)!
const isCommerce = (type: string): type is CommerceEventType => Object.hasOwn(COMMERCE_EVENTS, type)

describe("Shopify webhook events", () => {
  it("a schema for every event type the webhook models produce, and a stored fixture of each", () => {
    expect(Object.keys(COMMERCE_EVENTS).sort()).toEqual([...COMMERCE_EVENT_TYPES].sort())
    expect(Object.keys(COMMERCE_RECORDS).sort()).toEqual([...COMMERCE_EVENT_TYPES].sort())
    expect(Object.keys(SHOPIFY_EVENTS).filter((t) => !fixtures.some((f) => f.type === t))).toEqual([])
  })

  for (const [i, f] of fixtures.entries()) {
    it(`decodes stored ${f.type} #${i}${f.note === undefined ? "" : ` (${f.note})`}`, () => {
      const data = decoded(SHOPIFY_EVENTS[f.type as ShopifyEventType], f.type, f.data)
      expect(data).toEqual(Result.succeed(f.data))
      if (f.record !== undefined && isCommerce(f.type)) {
        expect(decoded(COMMERCE_RECORDS[f.type], f.type, f.record)).toEqual(Result.succeed(f.record))
      }
    })
  }

  it("keeps a shredded subject's record as null and the first ingress's raw deliveries as they were", () => {
    const late = fixtures.find((f) => f.data["record"] === null)!
    expect(Result.getOrThrow(decoded(COMMERCE_EVENTS["order.updated"], late.type, late.data))).toMatchObject({ record: null, customer_id: "7001" })
    const legacy = fixtures.find((f) => f.type === "shopify.webhook_received" && f.data["subject"] === undefined)!
    expect(Result.getOrThrow(decoded(SHOPIFY_EVENTS["shopify.webhook_received"], legacy.type, legacy.data))).toMatchObject({
      triggeredAt: "2026-06-01T08:00:00.000Z",
      payload: { id: 632910392 }
    })
  })

  it("refuses a commerce event whose field does not fit, naming the field and the event", () => {
    const order = first("order.created")
    const numericId = refusal(COMMERCE_EVENTS["order.created"], "order.created", { ...order.data, order_id: 450789469 })
    expect(numericId.reason).toMatch(/\["order_id"\]/)
    expect(numericId.message).toMatch(/position 42 \(order\.created on stream-of-test\)/)
    const { updated_at: _, ...noVersion } = first("inventory_level.updated").data
    expect(refusal(COMMERCE_EVENTS["inventory_level.updated"], "inventory_level.updated", noVersion).reason).toMatch(/Missing key at \["updated_at"\]/)
    const unsealed = { ...first("customer.created").data, record: { email: "ada@example.com" } }
    expect(refusal(COMMERCE_EVENTS["customer.created"], "customer.created", unsealed).reason).toMatch(/\["record"\]/)
  })

  it("refuses an opened record that does not fit its schema, naming the field", () => {
    const order = first("order.created")
    expect(refusal(COMMERCE_RECORDS["order.created"], "order.created", { ...order.record, line_items: 2 }).reason).toMatch(/\["line_items"\]/)
    const product = first("product.created")
    const { variants: _, ...noVariants } = product.record!
    expect(refusal(COMMERCE_RECORDS["product.created"], "product.created", noVariants).reason).toMatch(/\["variants"\]/)
  })

  it("refuses a kept delivery that fits neither the current nor the first shape, naming the field", () => {
    const kept = first("shopify.webhook_received")
    expect(refusal(SHOPIFY_EVENTS["shopify.webhook_received"], kept.type, { ...kept.data, decode_error: 5 }).reason).toMatch(/\["decode_error"\]/)
    const { topic: _, ...noTopic } = kept.data
    expect(refusal(SHOPIFY_EVENTS["shopify.webhook_received"], kept.type, noTopic).reason).toMatch(/\["topic"\]/)
  })
})
