/**
 * `product.published` / `product.drafted` from `products/create|update` webhooks: a product's
 * status as the latest *version* Shopify sent (by the product's `updated_at`, not by arrival —
 * webhooks arrive late and out of order), and the transition a delivery makes:
 * - to `active` from anything else → `product.published` (a product created active is published);
 * - from `active` to `draft` → `product.drafted`;
 * - an older version than the latest seen, the same status, a first sighting by an update (the
 *   status before it is unknown), `archived` → nothing.
 */
export interface ProductStatusState {
  /** The status of the latest version seen, null before any. */
  readonly status: string | null
  readonly updatedAt: string | null
}

export const unseenProduct: ProductStatusState = { status: null, updatedAt: null }

const newer = (a: string, than: string | null): boolean => than === null || Date.parse(a) > Date.parse(than)

/** Folds one observed version (`status` may be missing in events stored before it was kept). */
export const observeProductVersion = (state: ProductStatusState, version: { readonly status: string | null; readonly updatedAt: string }): ProductStatusState =>
  version.status !== null && newer(version.updatedAt, state.updatedAt) ? { status: version.status, updatedAt: version.updatedAt } : state

export type ProductTrigger = "product.published" | "product.drafted"

export const productTransition = (
  prior: ProductStatusState,
  delivery: { readonly topic: "products/create" | "products/update"; readonly status: string | null; readonly updatedAt: string }
): ProductTrigger | undefined => {
  if (delivery.status === null || !newer(delivery.updatedAt, prior.updatedAt)) return undefined
  if (prior.status === null) return delivery.topic === "products/create" && delivery.status === "active" ? "product.published" : undefined
  if (delivery.status === prior.status) return undefined
  if (delivery.status === "active") return "product.published"
  if (delivery.status === "draft" && prior.status === "active") return "product.drafted"
  return undefined
}
