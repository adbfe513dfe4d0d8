import { describe, expect, it } from "vitest"
import { parseJsonLossless, shopifyId } from "../../../domain/shopify/losslessJson.ts"
import { customerSubjects, isoInstant, normalizeWebhook, parseCustomerPrivacyRequest } from "../../../domain/shopify/webhookRecords.ts"
import { MODELLED_WEBHOOK_TOPICS } from "../../../domain/shopify/webhookTopics.ts"

const SHOP = "alpha.myshopify.com"
const ctx = { shop: SHOP, triggeredAt: "2026-11-20T10:00:00.123456789Z", receivedAt: "2026-11-20T10:00:01.000Z" }

describe("parseJsonLossless", () => {
  it("keeps integers above 2^53 exact and leaves everything else as JSON.parse does", () => {
    const text = `{"id":9007199254740993,"big":[123456789012345678901234],"neg":-9007199254740995,"safe":42,"f":1.5,"e":1e21,"s":"9007199254740993"}`
    const parsed = parseJsonLossless(text) as Record<string, unknown>
    expect(parsed["id"]).toBe("9007199254740993")
    expect(parsed["big"]).toEqual(["123456789012345678901234"])
    expect(parsed["neg"]).toBe("-9007199254740995")
    expect(parsed["safe"]).toBe(42)
    expect(parsed["f"]).toBe(1.5)
    expect(parsed["e"]).toBe(1e21) // not an integer literal: stays a number
    // JSON.parse alone would have lost the last digit
    expect(String((JSON.parse(text) as { id: number }).id)).toBe("9007199254740992")
  })

  it("throws on malformed JSON like JSON.parse", () => {
    expect(() => parseJsonLossless("{\"id\":")).toThrow(SyntaxError)
  })

  it("shopifyId accepts exact digits only", () => {
    expect(shopifyId(12)).toBe("12")
    expect(shopifyId("9007199254740993")).toBe("9007199254740993")
    expect(shopifyId(-1)).toBeUndefined()
    expect(shopifyId(1.5)).toBeUndefined()
    expect(shopifyId("12a")).toBeUndefined()
    expect(shopifyId(null)).toBeUndefined()
  })
})

describe("normalizeWebhook", () => {
  it("turns an order into order.created on the order's stream, sealed under its customer's subject", () => {
    const payload = parseJsonLossless(JSON.stringify({
      id: 1, admin_graphql_api_id: "gid://shopify/Order/1", name: "#1001", email: "ada@example.com", currency: "EUR",
      total_price: "12.50", updated_at: "2026-11-20T11:00:00+01:00", customer: { id: 77, email: "ada@example.com" },
      line_items: [{ product_id: 5, variant_id: 6, quantity: 2, price: "6.25", sku: "A", title: "Tee" }]
    }).replace("\"id\":1,", "\"id\":9007199254740993,"))
    const n = normalizeWebhook("orders/create", payload, ctx)
    expect(n._tag).toBe("Typed")
    if (n._tag !== "Typed") return
    expect(n.value.eventType).toBe("order.created")
    expect(n.value.streamId).toBe(`order-${SHOP}-9007199254740993`)
    expect(n.value.subject).toBe("customer:77")
    expect(n.value.clear).toMatchObject({ order_id: "9007199254740993", customer_id: "77", updated_at: "2026-11-20T10:00:00.000Z" })
    // personal data only inside the record (which gets sealed)
    expect(JSON.stringify(n.value.clear)).not.toContain("ada@example.com")
    expect(n.value.record["email"]).toBe("ada@example.com")
    expect(n.value.record["line_items"]).toEqual([{ product_id: "5", variant_id: "6", quantity: 2, price: "6.25", sku: "A", title: "Tee" }])
  })

  it("seals a guest order under the order's own subject", () => {
    const n = normalizeWebhook("orders/paid", { id: 2, email: "guest@example.com", updated_at: "2026-11-20T10:00:00Z" }, ctx)
    expect(n._tag === "Typed" && n.value.subject).toBe("order:2")
    expect(n._tag === "Typed" && n.value.eventType).toBe("order.paid")
  })

  it("versions a delivery by updated_at, else X-Shopify-Triggered-At (nanoseconds), else receipt", () => {
    const withUpdated = normalizeWebhook("products/update", { id: 3, updated_at: "2026-01-01T00:00:00Z" }, ctx)
    const deleted = normalizeWebhook("products/delete", { id: 3 }, ctx)
    const neither = normalizeWebhook("products/delete", { id: 3 }, { ...ctx, triggeredAt: null })
    expect(withUpdated._tag === "Typed" && withUpdated.value.clear["updated_at"]).toBe("2026-01-01T00:00:00.000Z")
    expect(deleted._tag === "Typed" && deleted.value.clear["updated_at"]).toBe("2026-11-20T10:00:00.123Z")
    expect(neither._tag === "Typed" && neither.value.clear["updated_at"]).toBe("2026-11-20T10:00:01.000Z")
    expect(deleted._tag === "Typed" && deleted.value.eventType).toBe("product.deleted")
  })

  it("maps every modelled commerce topic to a typed event", () => {
    const payloads: Record<string, unknown> = {
      "inventory_levels/update": { inventory_item_id: 1, location_id: 2, available: 3 },
      "carts/create": { token: "c1", id: "c1" },
      "carts/update": { token: "c1", id: "c1" },
      "checkouts/create": { id: 9, token: "t9" },
      "checkouts/update": { id: 9, token: "t9" }
    }
    const commerce = MODELLED_WEBHOOK_TOPICS.filter((t) => t !== "app/uninstalled" && t !== "bulk_operations/finish")
    for (const topic of commerce) {
      const n = normalizeWebhook(topic, payloads[topic] ?? { id: 10 }, ctx)
      expect(n._tag, topic).toBe("Typed")
    }
    expect(normalizeWebhook("themes/publish", { id: 1 }, ctx)._tag).toBe("Unmodelled")
  })

  it("reports a modelled payload that does not fit as Invalid (kept raw by the handler)", () => {
    expect(normalizeWebhook("orders/create", { name: "#1" }, ctx)).toEqual({ _tag: "Invalid", reason: "the order has no numeric id" })
    expect(normalizeWebhook("orders/create", [1, 2], ctx)._tag).toBe("Invalid")
    expect(normalizeWebhook("inventory_levels/update", { inventory_item_id: 1 }, ctx)._tag).toBe("Invalid")
  })

  it("isoInstant normalises offsets and nanoseconds, rejects junk", () => {
    expect(isoInstant("2026-03-30T14:30:00.000000000Z")).toBe("2026-03-30T14:30:00.000Z")
    expect(isoInstant("2026-03-30T16:30:00+02:00")).toBe("2026-03-30T14:30:00.000Z")
    expect(isoInstant("yesterday")).toBeNull()
    expect(isoInstant(5)).toBeNull()
  })
})

describe("compliance payloads", () => {
  it("parses customers/redact and names every subject holding the customer's data", () => {
    const r = parseCustomerPrivacyRequest({ shop_id: 1, shop_domain: SHOP, customer: { id: 77, email: "a@b.c", phone: "+15550001111" }, orders_to_redact: [5, "9007199254740993"] })
    expect(r).toEqual({ customerId: "77", orderIds: ["5", "9007199254740993"], requestId: null, phone: "+15550001111" })
    expect(customerSubjects(r as never)).toEqual(["customer:77", "order:5", "order:9007199254740993"])
  })
  it("parses customers/data_request with its request id", () => {
    const r = parseCustomerPrivacyRequest({ customer: { id: 77 }, orders_requested: [], data_request: { id: 9999 } })
    expect(r).toEqual({ customerId: "77", orderIds: [], requestId: "9999", phone: null })
  })
  it("refuses a payload without a customer id", () => {
    expect(typeof parseCustomerPrivacyRequest({ customer: {} })).toBe("string")
    expect(typeof parseCustomerPrivacyRequest({ customer: { id: 1 }, orders_to_redact: ["x"] })).toBe("string")
  })
})
