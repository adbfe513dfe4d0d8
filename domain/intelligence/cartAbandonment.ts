/**
 * `sales.cart_abandoned_threshold` (issue 13 §3): a checkout worth at least a threshold that is
 * not completed within N minutes of its last change.
 *
 * Decided in the shop's actor from Shopify's checkout webhooks, with one durable timer per
 * checkout ({@link cartAbandonTimerId}):
 * - `checkouts/create|update` of an open checkout worth at least `minValue` sets the timer to
 *   its last change + `windowMinutes` (setting it again moves it: every change restarts the wait);
 * - a completed checkout, one below the threshold, and an order naming the checkout
 *   (`orders/create`'s `checkout_token`) cancel it;
 * - when it fires, the checkout was left alone for the whole window: the trigger is decided about
 *   that one checkout. A timer fires at most once (its id is its message id), so a checkout is
 *   reported once however often it is abandoned and resumed — one episode per checkout.
 */
import { Schema } from "effect"

export interface CartAbandonmentSettings {
  /** How long a checkout must stay untouched to count as abandoned. */
  readonly windowMinutes: number
  /** The least a checkout must be worth (its `total_price`, in its currency). */
  readonly minValue: number
}

export const DEFAULT_CART_ABANDONMENT: CartAbandonmentSettings = { windowMinutes: 60, minValue: 0 }

/** The timer of one checkout. */
export const cartAbandonTimerId = (checkoutToken: string): string => `cart.abandon:${checkoutToken}`

/** What the timer carries (no personal data: the token, the amount, the times). */
export const CartAbandonCheck = Schema.Struct({
  checkoutToken: Schema.String,
  value: Schema.Finite,
  currency: Schema.String,
  /** The checkout's last change (its `updated_at`). */
  abandonedAt: Schema.String,
  windowMinutes: Schema.Int,
  minValue: Schema.Finite
})
export type CartAbandonCheck = typeof CartAbandonCheck.Type

/** What a checkout's latest state means for its timer. */
export type CheckoutWatch =
  | { readonly _tag: "Watch"; readonly at: Date; readonly check: CartAbandonCheck }
  | { readonly _tag: "Stop"; readonly reason: "completed" | "below_threshold" | "no_amount" }

/** The timer decision for a checkout's latest state (its sealed record's amount and completion, its clear `updated_at`). */
export const watchCheckout = (
  checkout: { readonly token: string; readonly totalPrice: string | null; readonly currency: string | null; readonly completedAt: string | null; readonly updatedAt: string },
  settings: CartAbandonmentSettings
): CheckoutWatch => {
  if (checkout.completedAt !== null) return { _tag: "Stop", reason: "completed" }
  const value = checkout.totalPrice === null ? Number.NaN : Number(checkout.totalPrice)
  if (!Number.isFinite(value)) return { _tag: "Stop", reason: "no_amount" }
  if (value < settings.minValue) return { _tag: "Stop", reason: "below_threshold" }
  const changed = Date.parse(checkout.updatedAt)
  return {
    _tag: "Watch",
    at: new Date((Number.isFinite(changed) ? changed : 0) + settings.windowMinutes * 60_000),
    check: {
      checkoutToken: checkout.token,
      value,
      currency: checkout.currency ?? "XXX",
      abandonedAt: checkout.updatedAt,
      windowMinutes: settings.windowMinutes,
      minValue: settings.minValue
    }
  }
}

/** The trigger about one abandoned checkout (`threshold` is the least value watched, rounded down). */
export const abandonedCheckoutTrigger = (check: CartAbandonCheck) => ({
  event: "sales.cart_abandoned_threshold" as const,
  abandoned: 1,
  threshold: Math.max(0, Math.floor(check.minValue)),
  windowMinutes: check.windowMinutes,
  resources: [{ resourceType: "checkout" as const, resourceId: check.checkoutToken, payload: { value: check.value, currency: check.currency, abandonedAt: check.abandonedAt } }]
})
