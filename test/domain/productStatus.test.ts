/**
 * `product.published` / `product.drafted` from product webhooks (`domain/automation/ProductStatus.ts`),
 * given the versions seen / when a delivery arrives / then the trigger — out of order included.
 */
import { describe, expect, it } from "vitest"
import { observeProductVersion, type ProductStatusState, productTransition, unseenProduct } from "../../domain/automation/ProductStatus.ts"

const seen = (...versions: ReadonlyArray<[string, string]>): ProductStatusState =>
  versions.reduce((s, [status, updatedAt]) => observeProductVersion(s, { status, updatedAt }), unseenProduct)
const update = (status: string, updatedAt: string) => ({ topic: "products/update" as const, status, updatedAt })

describe("product status triggers", () => {
  it("a product created active is published; created as a draft, nothing", () => {
    expect(productTransition(unseenProduct, { topic: "products/create", status: "active", updatedAt: "2026-11-01T10:00:00Z" })).toBe("product.published")
    expect(productTransition(unseenProduct, { topic: "products/create", status: "draft", updatedAt: "2026-11-01T10:00:00Z" })).toBeUndefined()
  })

  it("draft → active is published; active → draft is drafted; the same status again, nothing", () => {
    expect(productTransition(seen(["draft", "2026-11-01T10:00:00Z"]), update("active", "2026-11-01T11:00:00Z"))).toBe("product.published")
    expect(productTransition(seen(["active", "2026-11-01T10:00:00Z"]), update("draft", "2026-11-01T11:00:00Z"))).toBe("product.drafted")
    expect(productTransition(seen(["active", "2026-11-01T10:00:00Z"]), update("active", "2026-11-01T11:00:00Z"))).toBeUndefined()
    expect(productTransition(seen(["active", "2026-11-01T10:00:00Z"]), update("archived", "2026-11-01T11:00:00Z"))).toBeUndefined()
  })

  it("an older version arriving late changes nothing and triggers nothing", () => {
    // drafted at 11:00 (seen), a late delivery of the 10:30 version that was active
    const state = seen(["active", "2026-11-01T10:00:00Z"], ["draft", "2026-11-01T11:00:00Z"])
    expect(productTransition(state, update("active", "2026-11-01T10:30:00Z"))).toBeUndefined()
    expect(observeProductVersion(state, { status: "active", updatedAt: "2026-11-01T10:30:00Z" })).toEqual(state)
  })

  it("an update seen first says nothing (the status before it is unknown)", () => {
    expect(productTransition(unseenProduct, update("active", "2026-11-01T10:00:00Z"))).toBeUndefined()
  })
})
