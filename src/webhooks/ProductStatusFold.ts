/**
 * A product's latest known status (`domain/automation/ProductStatus.ts`) as a snapshot-able
 * fold of its `product-<shop>-<id>` stream, for the `product.published|drafted` producer.
 */
import { Result, Schema } from "effect"
import { observeProductVersion, type ProductStatusState, unseenProduct } from "../../domain/automation/ProductStatus.ts"
import { ProductClear } from "../../domain/shopify/CommerceEvents.ts"
import type { Fold } from "../eventstore/EventStore.ts"

export const PRODUCT_STATUS_FOLD_VERSION = 1

const decodeClear = Schema.decodeUnknownResult(ProductClear)

/** Events without a status (stored before it was kept, or a deletion) change nothing. */
export const productStatusFold: Fold<ProductStatusState> = {
  name: "product-status",
  version: PRODUCT_STATUS_FOLD_VERSION,
  initial: () => unseenProduct,
  evolve: (state, event) => {
    const clear = decodeClear(event.data)
    return Result.isSuccess(clear) ? observeProductVersion(state, { status: clear.success.status ?? null, updatedAt: clear.success.updated_at }) : state
  },
  schema: Schema.Struct({ status: Schema.NullOr(Schema.String), updatedAt: Schema.NullOr(Schema.String) })
}
