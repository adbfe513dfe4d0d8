/** Cohorts: customers grouped by the month of their first order, and how many came back each month after — a retention heat-map. */
import { BlockStack, Card, EmptyState, InlineStack, Page, Select, Text } from "@shopify/polaris"
import { useState } from "react"
import { query, useApi } from "../api.ts"
import { QueryState } from "../components/QueryState.tsx"
import { formatMoney, formatNumber, formatPercent } from "../format.ts"

interface Cohort {
  readonly cohort: string
  readonly customers: number
  readonly revenue0: number
  readonly months: ReadonlyArray<{ readonly offset: number; readonly activeCustomers: number; readonly customerRetention: number; readonly revenue: number; readonly revenueRetention: number }>
}

/**
 * A cell's colours: darker for more retention, from a scale whose every step keeps text readable
 * (contrast 4.9:1 or more); the value is written in the cell too, so colour is never the only cue.
 */
const SCALE: ReadonlyArray<readonly [upTo: number, background: string, text: string]> = [
  [0.1, "#f0f6ff", "#303030"],
  [0.25, "#d6e8ff", "#303030"],
  [0.5, "#a8cdff", "#303030"],
  [0.75, "#1f6fd1", "#ffffff"],
  [Infinity, "#0b4a9e", "#ffffff"]
]
const colours = (ratio: number) => SCALE.find(([upTo]) => ratio <= upTo)!

export default function Cohorts() {
  const [months, setMonths] = useState("12")
  const [measure, setMeasure] = useState<"customer" | "revenue">("customer")
  const cohorts = useApi<{ currency: string | null; cohorts: ReadonlyArray<Cohort> }>(`/app/cohorts${query({ months })}`, { placeholderData: (p) => p })
  return (
    <Page title="Cohorts" subtitle="Customers by the month of their first order, and who came back">
      <BlockStack gap="400">
        <Card>
          <InlineStack gap="300">
            <Select label="Months" options={["6", "12", "24"]} value={months} onChange={setMonths} />
            <Select label="Retention of" options={[{ label: "Customers", value: "customer" }, { label: "Revenue", value: "revenue" }]} value={measure} onChange={(v) => setMeasure(v as "customer" | "revenue")} />
          </InlineStack>
        </Card>
        <Card>
          <QueryState query={cohorts}>
            {({ cohorts, currency }) => {
              if (cohorts.length === 0) return <EmptyState heading="No orders yet" image=""><p>Cohorts appear with your first customers' orders.</p></EmptyState>
              const width = Math.max(...cohorts.map((c) => c.months.length))
              return (
                <div className="sumeru-scroll" tabIndex={0} role="region" aria-label="Retention table (scrolls sideways)">
                  <table className="sumeru-heatmap">
                    <caption><Text as="span" variant="headingMd">{measure === "customer" ? "Customers active" : "Revenue"}, by months since the first order</Text></caption>
                    <thead>
                      <tr>
                        <th scope="col">First order</th>
                        <th scope="col">Customers</th>
                        {Array.from({ length: width }, (_, i) => <th scope="col" key={i}>{i === 0 ? "Month 0" : `+${i}`}</th>)}
                      </tr>
                    </thead>
                    <tbody>
                      {cohorts.map((c) => (
                        <tr key={c.cohort}>
                          <th scope="row">{c.cohort}</th>
                          <td>{formatNumber(c.customers)}</td>
                          {Array.from({ length: width }, (_, i) => {
                            const m = c.months[i]
                            if (m === undefined) return <td key={i} />
                            const ratio = measure === "customer" ? m.customerRetention : m.revenueRetention
                            return (
                              <td key={i} style={{ background: colours(ratio)[1], color: colours(ratio)[2] }} title={measure === "customer" ? `${m.activeCustomers} customers` : formatMoney(m.revenue, currency)}>
                                {formatPercent(ratio)}
                              </td>
                            )
                          })}
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </div>
              )
            }}
          </QueryState>
        </Card>
      </BlockStack>
    </Page>
  )
}
