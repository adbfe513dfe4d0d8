import { describe, expect, it } from "vitest"
import { abandonedCheckoutTrigger, watchCheckout } from "../../../domain/intelligence/cartAbandonment.ts"

const settings = { windowMinutes: 60, minValue: 50 }
const checkout = { token: "tok-1", totalPrice: "80.00", currency: "EUR", completedAt: null, updatedAt: "2026-12-06T10:00:00Z" }

describe("cart abandonment", () => {
  it("watches an open checkout worth the threshold until its last change + the window", () => {
    const w = watchCheckout(checkout, settings)
    expect(w).toEqual({
      _tag: "Watch",
      at: new Date("2026-12-06T11:00:00Z"),
      check: { checkoutToken: "tok-1", value: 80, currency: "EUR", abandonedAt: "2026-12-06T10:00:00Z", windowMinutes: 60, minValue: 50 }
    })
    expect(watchCheckout({ ...checkout, totalPrice: "50" }, settings)._tag).toBe("Watch")
  })

  it("stops watching a completed checkout, one below the threshold, one without an amount", () => {
    expect(watchCheckout({ ...checkout, completedAt: "2026-12-06T10:05:00Z" }, settings)).toEqual({ _tag: "Stop", reason: "completed" })
    expect(watchCheckout({ ...checkout, totalPrice: "49.99" }, settings)).toEqual({ _tag: "Stop", reason: "below_threshold" })
    expect(watchCheckout({ ...checkout, totalPrice: null }, settings)).toEqual({ _tag: "Stop", reason: "no_amount" })
  })

  it("the trigger names the checkout with its value, and the threshold watched", () => {
    const w = watchCheckout(checkout, settings)
    if (w._tag !== "Watch") throw new Error("watched")
    expect(abandonedCheckoutTrigger(w.check)).toEqual({
      event: "sales.cart_abandoned_threshold", abandoned: 1, threshold: 50, windowMinutes: 60,
      resources: [{ resourceType: "checkout", resourceId: "tok-1", payload: { value: 80, currency: "EUR", abandonedAt: "2026-12-06T10:00:00Z" } }]
    })
  })
})
