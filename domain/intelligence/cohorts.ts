/**
 * Monthly acquisition cohorts and their retention: every customer belongs to the calendar month
 * (UTC, `YYYY-MM`) of their first order, and each cohort is followed month by month — how many of
 * its customers ordered again (customer retention) and how much they spent relative to their
 * first month (revenue retention, which can exceed 1 when a cohort spends more later).
 *
 * Pure and total: orders come in any order and any number per customer; an order whose time or
 * revenue is not a finite number is ignored rather than poisoning a sum, and a ratio whose
 * denominator is zero is `null`, never `NaN`.
 */

/** One order as the intelligence plane's models read it. */
export interface CustomerOrder {
  readonly customerId: string
  /** When it was placed, epoch milliseconds. */
  readonly at: number
  /** What it brought in, in the shop's currency (refunds may make it negative). */
  readonly revenue: number
}

/** A cohort's activity in one month after its first. */
export interface CohortMonth {
  /** Months since the cohort's month (0 is the cohort's own month). */
  readonly offset: number
  /** Cohort customers with at least one order in that month. */
  readonly activeCustomers: number
  /** `activeCustomers` / cohort size (1 at offset 0, by construction). */
  readonly customerRetention: number
  /** Revenue of the cohort's orders in that month. */
  readonly revenue: number
  /** `revenue` / the cohort's offset-0 revenue, or `null` when the offset-0 revenue is 0. */
  readonly revenueRetention: number | null
}

/** Customers acquired in one month, followed until the `asOf` month. */
export interface Cohort {
  /** The month of the customers' first orders, `YYYY-MM` (UTC). */
  readonly cohort: string
  /** How many customers placed their first order that month. */
  readonly customers: number
  /** Their revenue in that first month (first orders and any repeat orders the same month). */
  readonly revenue0: number
  /** Offsets 0 … (asOf month − cohort month), every one listed, months without orders included. */
  readonly months: ReadonlyArray<CohortMonth>
}

/** What {@link cohortRetention} is computed as of. */
export interface CohortOptions {
  /** Epoch ms: orders after it are not seen, and its UTC month is the last one listed. */
  readonly asOf: number
}

/** The month index (year × 12 + month − 1) of an epoch-ms instant, UTC; `NaN` when out of `Date`'s range. */
const monthIndex = (at: number): number => {
  const d = new Date(at)
  return d.getUTCFullYear() * 12 + d.getUTCMonth()
}

/** `YYYY-MM` of a month index. */
const monthLabel = (index: number): string => {
  const year = Math.floor(index / 12)
  const month = index - year * 12 + 1
  const y = year < 0 ? `-${String(-year).padStart(4, "0")}` : String(year).padStart(4, "0")
  return `${y}-${String(month).padStart(2, "0")}`
}

/**
 * The monthly cohorts of `orders` as they stood at `asOf`, sorted by cohort month (oldest first).
 *
 * Guarantees: only orders at or before `asOf` count (so the result equals that of the orders
 * filtered to `at ≤ asOf`), and a customer whose first order is later belongs to no cohort; the
 * cohorts' `customers` sum to the distinct customers counted; each cohort lists every offset
 * from 0 to its distance from the `asOf` month, with `customerRetention` 1 at offset 0; the
 * cohorts' month revenues sum to the revenue of the counted orders. A non-finite `asOf` gives
 * no cohorts.
 */
export const cohortRetention = (orders: ReadonlyArray<CustomerOrder>, options: CohortOptions): ReadonlyArray<Cohort> => {
  const { asOf } = options
  const asOfMonth = monthIndex(asOf)
  if (!Number.isFinite(asOf) || !Number.isFinite(asOfMonth)) return []

  const counted = orders.filter((o) => Number.isFinite(o.at) && Number.isFinite(o.revenue) && o.at <= asOf && Number.isFinite(monthIndex(o.at)))

  // The first order of each customer fixes their cohort.
  const firstAt = new Map<string, number>()
  for (const o of counted) {
    const seen = firstAt.get(o.customerId)
    if (seen === undefined || o.at < seen) firstAt.set(o.customerId, o.at)
  }

  interface Building {
    readonly month: number
    customers: number
    readonly revenue: Array<number>
    readonly active: Array<Set<string>>
  }
  const cohorts = new Map<number, Building>()
  const cohortOf = (month: number): Building => {
    let c = cohorts.get(month)
    if (c === undefined) {
      const span = asOfMonth - month + 1
      c = { month, customers: 0, revenue: new Array<number>(span).fill(0), active: Array.from({ length: span }, () => new Set<string>()) }
      cohorts.set(month, c)
    }
    return c
  }
  for (const at of firstAt.values()) cohortOf(monthIndex(at)).customers++
  for (const o of counted) {
    const c = cohortOf(monthIndex(firstAt.get(o.customerId)!))
    const offset = monthIndex(o.at) - c.month
    c.revenue[offset] = c.revenue[offset]! + o.revenue
    c.active[offset]!.add(o.customerId)
  }

  return [...cohorts.values()]
    .sort((x, y) => x.month - y.month)
    .map((c): Cohort => {
      const revenue0 = c.revenue[0]!
      return {
        cohort: monthLabel(c.month),
        customers: c.customers,
        revenue0,
        months: c.revenue.map((revenue, offset): CohortMonth => ({
          offset,
          activeCustomers: c.active[offset]!.size,
          customerRetention: c.active[offset]!.size / c.customers,
          revenue,
          revenueRetention: revenue0 === 0 ? null : revenue / revenue0
        }))
      }
    })
}
