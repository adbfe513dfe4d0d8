/**
 * Attribution: the seven models side by side per channel (a bar chart and its table), the five
 * per-journey models over time (a line chart), a date range, and a CSV export of the table.
 */
import { BarChart, LineChart } from "@shopify/polaris-viz"
import { BlockStack, Card, DataTable, InlineStack, Layout, Page, Select, Text } from "@shopify/polaris"
import { useState } from "react"
import { query, useApi } from "../api.ts"
import { DateRange, lastDays, type Range } from "../components/DateRange.tsx"
import { csv, downloadText } from "../components/download.ts"
import { Chart } from "../components/Chart.tsx"
import { QueryState } from "../components/QueryState.tsx"
import { formatMoney, formatNumber, humanize, isoDay } from "../format.ts"
import type { AttributionReport } from "../types.ts"

const MODELS = ["first_touch", "last_touch", "linear", "time_decay", "position_based", "markov", "shapley"]
/** The models the read model keeps day by day (Markov and Shapley are computed per period). */
const DAILY_MODELS = ["first_touch", "last_touch", "linear", "time_decay", "position_based"]

export default function Attribution() {
  const [range, setRange] = useState<Range>(lastDays(30))
  const [measure, setMeasure] = useState<"revenue" | "conversions">("revenue")
  const [timeModel, setTimeModel] = useState("linear")
  const report = useApi<AttributionReport>(`/app/attribution${query({ from: range.from, to: range.to })}`, { placeholderData: (p) => p })
  const exportCsv = (r: AttributionReport) => {
    const channels = [...new Set(MODELS.flatMap((m) => Object.keys(r.models[m] ?? {})))].sort()
    downloadText(
      `attribution-${r.from}-${r.to}.csv`,
      csv([
        ["model", "channel", "conversions", "revenue", "currency"],
        ...MODELS.flatMap((m) => channels.map((c) => [m, c, r.models[m]?.[c]?.conversions ?? 0, r.models[m]?.[c]?.revenue ?? 0, r.currency ?? ""]))
      ])
    )
  }
  return (
    <Page
      title="Attribution"
      subtitle="Which channels your orders came from, under seven models"
      {...(report.data === undefined ? {} : { secondaryActions: [{ content: "Export CSV", onAction: () => exportCsv(report.data!) }] })}
    >
      <Layout>
        <Layout.Section>
          <Card>
            <InlineStack gap="400" blockAlign="end" wrap>
              <DateRange value={range} onChange={setRange} />
              <Select label="Measure" options={[{ label: "Revenue", value: "revenue" }, { label: "Conversions", value: "conversions" }]} value={measure} onChange={(v) => setMeasure(v as "revenue" | "conversions")} />
            </InlineStack>
          </Card>
        </Layout.Section>
        <Layout.Section>
          <QueryState query={report} lines={10}>
            {(r) => {
              const channels = [...new Set(MODELS.flatMap((m) => Object.keys(r.models[m] ?? {})))].sort()
              const value = (m: string, c: string) => r.models[m]?.[c]?.[measure] ?? 0
              const fmt = (n: number) => (measure === "revenue" ? formatMoney(n, r.currency) : formatNumber(n))
              // every day of the period, a day without orders a zero (not a gap that folds the axis)
              const days: Array<string> = []
              for (let t = Date.parse(`${r.from}T00:00:00Z`); t <= Date.parse(`${r.to}T00:00:00Z`); t += 86_400_000) days.push(isoDay(new Date(t)))
              const byChannel = MODELS.map((m) => ({ name: humanize(m), data: channels.map((c) => ({ key: humanize(c), value: value(m, c) })) }))
              const ofModel = r.daily.filter((d) => d.model === timeModel)
              const overTime = [...new Set(ofModel.map((d) => d.channel))].sort().map((c) => ({
                name: humanize(c),
                data: days.map((d) => ({ key: d, value: ofModel.find((x) => x.day === d && x.channel === c)?.[measure] ?? 0 }))
              }))
              return (
                <BlockStack gap="400">
                  <Card>
                    <Text as="p" variant="headingMd">
                      {formatNumber(r.conversions)} order(s), {formatMoney(r.revenue, r.currency)}, {r.from} to {r.to}
                    </Text>
                  </Card>
                  <Card>
                    <BlockStack gap="300">
                      <Text as="h2" variant="headingMd">Per channel, by model</Text>
                      {channels.length === 0
                        ? <Text as="p" tone="subdued">No attributed order in this range.</Text>
                        : (
                          <Chart label={`${humanize(measure)} per channel under each of the seven models`} height={320} data={byChannel} format={fmt} render={(d) => <BarChart isAnimated={false} showLegend={false} data={d} />} />
                        )}
                      <div>
                        <DataTable
                          columnContentTypes={["text", ...MODELS.map(() => "numeric" as const)]}
                          headings={["Channel", ...MODELS.map(humanize)]}
                          rows={channels.map((c) => [humanize(c), ...MODELS.map((m) => fmt(value(m, c)))])}
                        />
                      </div>
                    </BlockStack>
                  </Card>
                  <Card>
                    <BlockStack gap="300">
                      <InlineStack align="space-between" blockAlign="end" gap="200">
                        <Text as="h2" variant="headingMd">Over time, per channel</Text>
                        <Select label="Model" options={DAILY_MODELS.map((m) => ({ label: humanize(m), value: m }))} value={timeModel} onChange={setTimeModel} />
                      </InlineStack>
                      {r.daily.length === 0
                        ? <Text as="p" tone="subdued">No day with an attributed order in this range.</Text>
                        : (
                          <Chart label={`${humanize(measure)} per channel per day under the ${humanize(timeModel).toLowerCase()} model`} height={280} data={overTime} format={fmt} render={(d) => <LineChart isAnimated={false} showLegend={false} data={d} />} />
                        )}
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
