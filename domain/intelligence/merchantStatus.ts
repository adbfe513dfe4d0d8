/**
 * Merchant Center product statuses as edges (issue 13 §3: `mc.product_disapproved` /
 * `mc.product_approved` are edge-triggered): each offer's status per destination is compared
 * with the last one recorded. An offer becomes disapproved for a destination — including the
 * first time it is seen, disapproved — once; it becomes approved again only after it was
 * disapproved. Pending is neither: it changes nothing until the review ends.
 */

export type DestinationStatus = "approved" | "disapproved" | "pending"

export interface OfferStatus {
  readonly offerId: string
  readonly productId: string
  readonly title: string | null
  readonly destinations: ReadonlyArray<{ readonly destination: string; readonly status: DestinationStatus }>
  readonly issues: ReadonlyArray<{ readonly code: string; readonly description: string; readonly severity: string }>
}

/** One edge: an offer's status for a destination changed to `status`. */
export interface StatusChange {
  readonly offerId: string
  readonly productId: string
  readonly title: string | null
  readonly destination: string
  readonly status: "approved" | "disapproved"
  readonly issues: OfferStatus["issues"]
}

/** The last recorded (non-pending) status of each offer and destination: `offerId\u0000destination` → status. */
export type KnownStatuses = ReadonlyMap<string, "approved" | "disapproved">

export const statusKey = (offerId: string, destination: string) => `${offerId}\u0000${destination}`

/** The edges between what was known and what Merchant Center says now. */
export const statusChanges = (known: KnownStatuses, current: ReadonlyArray<OfferStatus>): ReadonlyArray<StatusChange> =>
  current.flatMap((offer) =>
    offer.destinations.flatMap((d): ReadonlyArray<StatusChange> => {
      if (d.status === "pending") return []
      const was = known.get(statusKey(offer.offerId, d.destination))
      const changed = d.status === "disapproved" ? was !== "disapproved" : was === "disapproved"
      return changed
        ? [{ offerId: offer.offerId, productId: offer.productId, title: offer.title, destination: d.destination, status: d.status, issues: d.status === "disapproved" ? offer.issues : [] }]
        : []
    })
  )
