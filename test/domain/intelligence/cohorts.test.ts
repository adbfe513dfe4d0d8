/**
 * Monthly cohorts (`domain/intelligence/cohorts.ts`): three customers over three months worked
 * out by hand, the edges (no orders, a free first month whose revenue retention is null rather
 * than NaN, months without orders, the UTC month boundary, `asOf` cutting orders and months),
 * and properties over random order books: cohort sizes add up to the customers, revenues add up
 * to the orders, offset 0 retains everyone, and the answer ignores the orders' order and
 * anything after `asOf`.
 */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { type CustomerOrder, cohortRetention } from "../../../domain/intelligence/cohorts.ts"

const utc = (iso: string): number => Date.parse(iso)

describe("cohortRetention", () => {
  it("follows three customers over three months, by hand", () => {
    // Ann and Bo start in January (Bo orders twice in January), Cy in February.
    const orders: ReadonlyArray<CustomerOrder> = [
      { customerId: "cy", at: utc("2026-03-31T23:59:59Z"), revenue: 10 },
      { customerId: "ann", at: utc("2026-02-10T09:00:00Z"), revenue: 50 },
      { customerId: "bo", at: utc("2026-01-25T12:00:00Z"), revenue: 20 },
      { customerId: "cy", at: utc("2026-02-03T08:00:00Z"), revenue: 80 },
      { customerId: "ann", at: utc("2026-03-01T00:00:00Z"), revenue: 30 },
      { customerId: "bo", at: utc("2026-03-15T18:00:00Z"), revenue: 40 },
      { customerId: "ann", at: utc("2026-01-05T10:00:00Z"), revenue: 100 },
      { customerId: "bo", at: utc("2026-01-20T15:00:00Z"), revenue: 200 }
    ]
    expect(cohortRetention(orders, { asOf: utc("2026-03-31T23:59:59.999Z") })).toEqual([
      {
        cohort: "2026-01",
        customers: 2,
        revenue0: 320,
        months: [
          { offset: 0, activeCustomers: 2, customerRetention: 1, revenue: 320, revenueRetention: 1 },
          { offset: 1, activeCustomers: 1, customerRetention: 0.5, revenue: 50, revenueRetention: 50 / 320 },
          { offset: 2, activeCustomers: 2, customerRetention: 1, revenue: 70, revenueRetention: 70 / 320 }
        ]
      },
      {
        cohort: "2026-02",
        customers: 1,
        revenue0: 80,
        months: [
          { offset: 0, activeCustomers: 1, customerRetention: 1, revenue: 80, revenueRetention: 1 },
          { offset: 1, activeCustomers: 1, customerRetention: 1, revenue: 10, revenueRetention: 0.125 }
        ]
      }
    ])
  })

  it("has no cohorts without orders", () => {
    expect(cohortRetention([], { asOf: utc("2026-03-31T00:00:00Z") })).toEqual([])
  })

  it("gives a null revenue retention, not NaN, when the first month brought no revenue", () => {
    const cohorts = cohortRetention(
      [
        { customerId: "free", at: utc("2026-01-10T00:00:00Z"), revenue: 0 },
        { customerId: "free", at: utc("2026-02-10T00:00:00Z"), revenue: 30 }
      ],
      { asOf: utc("2026-03-05T00:00:00Z") }
    )
    expect(cohorts).toHaveLength(1)
    expect(cohorts[0]!.revenue0).toBe(0)
    expect(cohorts[0]!.months.map((m) => m.revenueRetention)).toEqual([null, null, null])
    expect(cohorts[0]!.months.map((m) => m.revenue)).toEqual([0, 30, 0])
  })

  it("lists the months without orders up to the asOf month, and none after it", () => {
    const cohorts = cohortRetention(
      [
        { customerId: "a", at: utc("2025-11-15T00:00:00Z"), revenue: 10 },
        { customerId: "a", at: utc("2026-02-01T00:00:00Z"), revenue: 5 },
        { customerId: "a", at: utc("2026-04-01T00:00:00Z"), revenue: 99 } // after asOf
      ],
      { asOf: utc("2026-03-10T00:00:00Z") }
    )
    expect(cohorts.map((c) => c.cohort)).toEqual(["2025-11"])
    expect(cohorts[0]!.months.map((m) => [m.offset, m.activeCustomers, m.revenue])).toEqual([
      [0, 1, 10],
      [1, 0, 0],
      [2, 0, 0],
      [3, 1, 5],
      [4, 0, 0]
    ])
  })

  it("ignores orders after asOf, also within the asOf month, and customers who first order later", () => {
    const asOf = utc("2026-02-14T12:00:00Z")
    const cohorts = cohortRetention(
      [
        { customerId: "early", at: utc("2026-01-02T00:00:00Z"), revenue: 10 },
        { customerId: "early", at: utc("2026-02-14T12:00:00.001Z"), revenue: 7 }, // a millisecond late
        { customerId: "late", at: utc("2026-02-20T00:00:00Z"), revenue: 50 }
      ],
      { asOf }
    )
    expect(cohorts).toEqual([
      {
        cohort: "2026-01",
        customers: 1,
        revenue0: 10,
        months: [
          { offset: 0, activeCustomers: 1, customerRetention: 1, revenue: 10, revenueRetention: 1 },
          { offset: 1, activeCustomers: 0, customerRetention: 0, revenue: 0, revenueRetention: 0 }
        ]
      }
    ])
  })

  it("puts an order in its UTC month, whatever the shop's wall clock said", () => {
    // 2026-01-31 23:30 in New York is 2026-02-01 04:30 UTC.
    const cohorts = cohortRetention([{ customerId: "ny", at: utc("2026-01-31T23:30:00-05:00"), revenue: 1 }], { asOf: utc("2026-02-28T00:00:00Z") })
    expect(cohorts.map((c) => [c.cohort, c.months.length])).toEqual([["2026-02", 1]])
  })

  it("ignores orders whose time or revenue is not a finite number, and answers nothing for a non-finite asOf", () => {
    const good: CustomerOrder = { customerId: "a", at: utc("2026-01-02T00:00:00Z"), revenue: 10 }
    const cohorts = cohortRetention(
      [good, { customerId: "a", at: Number.NaN, revenue: 5 }, { customerId: "b", at: utc("2026-01-03T00:00:00Z"), revenue: Number.POSITIVE_INFINITY }],
      { asOf: utc("2026-01-31T00:00:00Z") }
    )
    expect(cohorts.map((c) => [c.customers, c.revenue0])).toEqual([[1, 10]])
    expect(cohortRetention([good], { asOf: Number.NaN })).toEqual([])
  })

  describe("over random order books", () => {
    const START = utc("2024-01-01T00:00:00Z")
    const SPAN = utc("2026-06-30T00:00:00Z") - START
    const order = fc.record({
      customerId: fc.constantFrom("a", "b", "c", "d", "e", "f", "g"),
      at: fc.integer({ min: START, max: START + SPAN }),
      revenue: fc.integer({ min: -50, max: 500 }) // integers: sums are exact
    })
    const book = fc.tuple(fc.array(order, { maxLength: 40 }), fc.integer({ min: START, max: START + SPAN }))
    const monthsBetween = (from: string, to: number): number => {
      const d = new Date(to)
      const [y, m] = from.split("-").map(Number)
      return (d.getUTCFullYear() - y!) * 12 + d.getUTCMonth() - (m! - 1)
    }

    it("sizes add up to the customers and revenues to the orders seen; offset 0 keeps everyone; every month is listed", () => {
      fc.assert(
        fc.property(book, ([orders, asOf]) => {
          const seen = orders.filter((o) => o.at <= asOf)
          const cohorts = cohortRetention(orders, { asOf })
          expect(cohorts.reduce((s, c) => s + c.customers, 0)).toBe(new Set(seen.map((o) => o.customerId)).size)
          expect(cohorts.reduce((s, c) => s + c.months.reduce((t, m) => t + m.revenue, 0), 0)).toBe(seen.reduce((s, o) => s + o.revenue, 0))
          expect(cohorts.map((c) => c.cohort)).toEqual(cohorts.map((c) => c.cohort).toSorted())
          for (const c of cohorts) {
            expect(c.months[0]).toMatchObject({ offset: 0, activeCustomers: c.customers, customerRetention: 1, revenue: c.revenue0 })
            expect(c.months.map((m) => m.offset)).toEqual(Array.from({ length: monthsBetween(c.cohort, asOf) + 1 }, (_, i) => i))
            for (const m of c.months) {
              expect(m.activeCustomers).toBeLessThanOrEqual(c.customers)
              expect(m.customerRetention).toBe(m.activeCustomers / c.customers)
              expect(m.revenueRetention).toBe(c.revenue0 === 0 ? null : m.revenue / c.revenue0)
            }
          }
        })
      )
    })

    it("does not depend on the orders' order, nor on orders after asOf", () => {
      fc.assert(
        fc.property(book, ([orders, asOf]) => {
          const cohorts = cohortRetention(orders, { asOf })
          expect(cohortRetention(orders.toReversed(), { asOf })).toEqual(cohorts)
          expect(cohortRetention(orders.filter((o) => o.at <= asOf), { asOf })).toEqual(cohorts)
        })
      )
    })
  })
})
