/** AI usage: this month's spend against the budget with its 80 % and 100 % marks, and the calls per provider and purpose. */
import { BarChart } from "@shopify/polaris-viz"
import { BlockStack, Card, DataTable, InlineStack, Layout, Page, Text } from "@shopify/polaris"
import { useState } from "react"
import { query, useApi } from "../api.ts"
import { DateRange, lastDays, type Range } from "../components/DateRange.tsx"
import { Chart } from "../components/Chart.tsx"
import { QueryState } from "../components/QueryState.tsx"
import { formatNumber, formatUsd, humanize } from "../format.ts"
import { currentBudgetMonth, useMe } from "../permissions.ts"

interface Group {
  readonly key: string
  readonly calls: number
  readonly ok: number
  readonly failed: number
  readonly rate_limited: number
  readonly budget_exceeded: number
  readonly input_tokens: number
  readonly output_tokens: number
  readonly settled_micros: number
}

interface Usage {
  readonly totals: Omit<Group, "key">
  readonly by_model: ReadonlyArray<Group>
  readonly by_purpose: ReadonlyArray<Group>
  readonly budget: ReadonlyArray<{ readonly month: string; readonly cap_micros: number; readonly settled_micros: number; readonly reserved_micros: number; readonly alerted_80: boolean; readonly alerted_100: boolean; readonly spent_pct: number | null }>
}

const BudgetBar = ({ month }: { month: Usage["budget"][number] }) => {
  const pct = month.cap_micros > 0 ? Math.min(100, (month.settled_micros / month.cap_micros) * 100) : 0
  const color = pct >= 100 ? "var(--p-color-bg-fill-critical)" : pct >= 80 ? "var(--p-color-bg-fill-caution)" : "var(--p-color-bg-fill-success)"
  return (
    <BlockStack gap="300">
      <InlineStack align="space-between">
        <Text as="p" variant="headingMd">{formatUsd(month.settled_micros)} of {formatUsd(month.cap_micros)}</Text>
        <Text as="p" tone="subdued">{month.month}{month.alerted_100 ? " · 100 % alert sent" : month.alerted_80 ? " · 80 % alert sent" : ""}</Text>
      </InlineStack>
      <div
        className="sumeru-budget"
        role="meter"
        aria-label="AI spend against the monthly budget"
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={Math.round(pct)}
        aria-valuetext={`${Math.round(pct)} % of the budget spent`}
      >
        <div className="sumeru-budget__spent" style={{ width: `${pct}%`, background: color }} />
        <div className="sumeru-budget__mark" style={{ left: "80%" }} />
        <div className="sumeru-budget__mark" style={{ left: "calc(100% - 2px)" }} />
        <span className="sumeru-budget__label" style={{ left: "80%" }}>80 %</span>
        <span className="sumeru-budget__label" style={{ left: "calc(100% - 1rem)" }}>100 %</span>
      </div>
      <div style={{ height: "1rem" }} />
    </BlockStack>
  )
}

export default function AiUsage() {
  const [range, setRange] = useState<Range>(lastDays(30))
  const month = currentBudgetMonth(useMe().data?.time_zone)
  const usage = useApi<Usage>(`/app/ai/usage${query({ ...range, limit: 1 })}`, { placeholderData: (p) => p })
  return (
    <Page title="AI usage" subtitle="What the AI-driven actions cost, against your plan's monthly budget">
      <Layout>
        <Layout.Section>
          <QueryState query={usage} lines={6}>
            {(u) => {
              const providers = new Map<string, number>()
              for (const m of u.by_model) {
                const provider = m.key.split(" ")[0] ?? m.key
                providers.set(provider, (providers.get(provider) ?? 0) + m.calls)
              }
              const thisMonth = u.budget.find((b) => b.month === month)
              const perProvider = [{ name: "Calls", data: [...providers].map(([key, value]) => ({ key: humanize(key), value })) }]
              return (
                <BlockStack gap="400">
                  <Card>
                    <BlockStack gap="300">
                      <Text as="h2" variant="headingMd">This month's budget</Text>
                      {thisMonth === undefined ? <Text as="p" tone="subdued">No AI call this month.</Text> : <BudgetBar month={thisMonth} />}
                    </BlockStack>
                  </Card>
                  <Card>
                    <BlockStack gap="300">
                      <DateRange value={range} onChange={setRange} />
                      <Text as="p">
                        {formatNumber(u.totals.calls)} call(s): {formatNumber(u.totals.ok)} answered, {formatNumber(u.totals.failed)} failed, {formatNumber(u.totals.rate_limited + u.totals.budget_exceeded)} held back by limits; {formatUsd(u.totals.settled_micros)} spent.
                      </Text>
                    </BlockStack>
                  </Card>
                  <Card>
                    <BlockStack gap="300">
                      <Text as="h2" variant="headingMd">Calls per provider</Text>
                      {providers.size === 0
                        ? <Text as="p" tone="subdued">No call in this range.</Text>
                        : (
                          <Chart label="Calls per provider" height={220} data={perProvider} render={(d) => <BarChart isAnimated={false} showLegend={false} direction="horizontal" data={d} />} />
                        )}
                      <DataTable
                        columnContentTypes={["text", "numeric", "numeric", "numeric", "numeric"]}
                        headings={["Model", "Calls", "Input tokens", "Output tokens", "Cost"]}
                        rows={u.by_model.map((m) => [m.key, formatNumber(m.calls), formatNumber(m.input_tokens), formatNumber(m.output_tokens), formatUsd(m.settled_micros)])}
                      />
                    </BlockStack>
                  </Card>
                  <Card>
                    <BlockStack gap="300">
                      <Text as="h2" variant="headingMd">By purpose</Text>
                      <DataTable
                        columnContentTypes={["text", "numeric", "numeric"]}
                        headings={["Purpose", "Calls", "Cost"]}
                        rows={u.by_purpose.map((m) => [humanize(m.key), formatNumber(m.calls), formatUsd(m.settled_micros)])}
                      />
                    </BlockStack>
                  </Card>
                </BlockStack>
              )
            }}
          </QueryState>
        </Layout.Section>
      </Layout>
    </Page>
  )
}
