/**
 * The shop lifecycle decider's state as a snapshot-able fold of a `shop-<shop>` stream
 * (`EventStore.loadFold`). Bump `SHOP_LIFECYCLE_FOLD_VERSION` when `ShopLifecycle`'s shape or
 * `evolveLifecycle` changes: older snapshots are then ignored.
 */
import { Schema } from "effect"
import { decodeLifecycleEvent, evolveLifecycle, initialLifecycle, type ShopLifecycle, ShopPlan } from "../../domain/shop/ShopLifecycle.ts"
import type { AppendFold } from "../eventstore/EventStore.ts"

// v2: the shop's plan
// v3: the shop's time zone
export const SHOP_LIFECYCLE_FOLD_VERSION = 3

const ShopLifecycleSchema = Schema.Struct({
  status: Schema.Literals(["new", "installed", "uninstalled", "redacted"]),
  installedAt: Schema.NullOr(Schema.String),
  scopes: Schema.NullOr(Schema.String),
  uninstalledAt: Schema.NullOr(Schema.String),
  plan: ShopPlan,
  timeZone: Schema.NullOr(Schema.String),
  timeZoneSince: Schema.NullOr(Schema.String)
})

/** An event that does not decode (another type on the stream, a redacted one) changes nothing. */
export const shopLifecycleFold: AppendFold<ShopLifecycle> = {
  name: "shop-lifecycle",
  version: SHOP_LIFECYCLE_FOLD_VERSION,
  initial: () => initialLifecycle,
  evolve: (state, event) => {
    const decoded = decodeLifecycleEvent(event.type, event.data, event.occurredAt)
    return decoded === undefined ? state : evolveLifecycle(state, decoded)
  },
  schema: ShopLifecycleSchema
}
