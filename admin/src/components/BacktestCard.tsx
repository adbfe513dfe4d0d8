/**
 * Backtest before enabling: replays the shop's recorded triggers of a window through the rule
 * (`POST /app/rules/:id/backtest`, nothing is called) — what would have fired, day by day, and
 * every skip by its reason.
 */
import { BarChart } from "@shopify/polaris-viz"
import { BlockStack, Button, Card, DataTable, InlineStack, Select, Text } from "@shopify/polaris"
import { useState } from "react"
import { api, useApiMutation } from "../api.ts"
import { humanize, isoDay } from "../format.ts"
import type { Backtest } from "../types.ts"
import { Chart } from "./Chart.tsx"
import { ErrorBanner } from "./QueryState.tsx"

const WINDOWS = [
  { label: "Last 7 days", value: "7" },
  { label: "Last 30 days", value: "30" },
  { label: "Last 90 days", value: "90" },
  { label: "Last 365 days", value: "365" }
]

/** Fires per day over the window, every day present (a day with none is a zero, not a gap). */
const perDay = (fires: Backtest["fires"], from: Date, to: Date) => {
  const counts = new Map<string, number>()
  for (let t = Date.parse(isoDay(from)); t <= to.getTime(); t += 86_400_000) counts.set(isoDay(new Date(t)), 0)
  for (const f of fires) counts.set(f.at.slice(0, 10), (counts.get(f.at.slice(0, 10)) ?? 0) + 1)
  return [...counts].map(([key, value]) => ({ key, value }))
}

export const BacktestCard = ({ ruleId }: { ruleId: string }) => {
  const [days, setDays] = useState("30")
  const [window, setWindow] = useState<{ from: Date; to: Date } | null>(null)
  const run = useApiMutation((w: { from: Date; to: Date }) =>
    api<Backtest>(`/app/rules/${ruleId}/backtest`, { method: "POST", body: { from: w.from.toISOString(), to: w.to.toISOString() } })
  )
  const result = run.data
  const skipped = result === undefined ? [] : Object.entries(result.skipped).filter(([, n]) => n > 0)
  return (
    <Card>
      <BlockStack gap="400">
        <Text as="h2" variant="headingMd">Backtest</Text>
        <Text as="p" tone="subdued">What this rule would have done on the triggers your shop recorded. Nothing is run.</Text>
        <InlineStack gap="200" blockAlign="end">
          <Select label="Window" options={WINDOWS} value={days} onChange={setDays} />
          <Button
            loading={run.isPending}
            onClick={() => {
              const to = new Date()
              const w = { from: new Date(to.getTime() - Number(days) * 86_400_000), to }
              setWindow(w)
              run.mutate(w)
            }}
          >
            Run the backtest
          </Button>
        </InlineStack>
        {run.error === null ? null : <ErrorBanner error={run.error} title="The backtest did not run" />}
        {result === undefined || window === null ? null : (
          <BlockStack gap="400">
            <Text as="p" variant="headingSm">
              {result.fires.length === 0
                ? `It would not have fired (${result.events_scanned.toLocaleString()} triggers looked at).`
                : `It would have fired ${result.fires.length.toLocaleString()} time${result.fires.length === 1 ? "" : "s"} on ${new Set(result.fires.map((f) => f.resource_id)).size.toLocaleString()} resource(s) (${result.events_scanned.toLocaleString()} triggers looked at).`}
            </Text>
            {(() => {
              const fired = [{ name: "Would have fired", data: perDay(result.fires, window.from, window.to) }]
              return (
                <Chart label="Would have fired, per day" height={220} data={fired} render={(d) => <BarChart isAnimated={false} showLegend={false} data={d} />} />
              )
            })()}
            <DataTable
              columnContentTypes={["text", "numeric"]}
              headings={["Skipped because", "Times"]}
              rows={skipped.length === 0 ? [["Nothing was skipped", "0"]] : skipped.map(([reason, n]) => [humanize(reason), n.toLocaleString()])}
            />
          </BlockStack>
        )}
      </BlockStack>
    </Card>
  )
}
