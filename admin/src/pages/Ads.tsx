/** Ads: what the ads detectors found — spend anomalies and keywords far below or above the account's others. */
import { Badge, BlockStack, Card, EmptyState, IndexTable, Page, Text } from "@shopify/polaris"
import { useState } from "react"
import { query, useApi } from "../api.ts"
import { Paging } from "../components/Paging.tsx"
import { QueryState } from "../components/QueryState.tsx"
import { formatNumber, formatTime, humanize } from "../format.ts"

interface Anomaly {
  readonly event: string
  readonly platform: string | null
  readonly date: string | null
  readonly found_at: string
  readonly resources: ReadonlyArray<{ readonly resourceType: string; readonly resourceId: string; readonly payload: Record<string, unknown> }>
}

const describe = (a: Anomaly, p: Record<string, unknown>): string => {
  const n = (k: string) => (typeof p[k] === "number" ? formatNumber(p[k]) : "—")
  if (a.event === "ads.spend_anomaly") return `Spent ${n("spend")} against a usual ${n("baselineMean")} (z-score ${n("zScore")})`
  return `${String(p["keyword"] ?? "")}: ${String(p["metric"] ?? "").toUpperCase()} ${n("value")} (z-score ${n("zScore")})`
}

export default function Ads() {
  const [page, setPage] = useState(1)
  const anomalies = useApi<{ anomalies: ReadonlyArray<Anomaly>; total: number; page: number; pages_total: number }>(`/app/ads/anomalies${query({ page, limit: 20 })}`, { placeholderData: (p) => p })
  return (
    <Page title="Ads" subtitle="Anomalies in your ad accounts' spend and keywords">
      <BlockStack gap="400">
        <Card padding="0">
          <QueryState query={anomalies}>
            {(data) =>
              data.total === 0
                ? <EmptyState heading="No anomaly found" image=""><p>Connect an ad account: its daily insights are checked for unusual spend and keywords.</p></EmptyState>
                : (
                  <IndexTable
                    resourceName={{ singular: "anomaly", plural: "anomalies" }}
                    itemCount={data.anomalies.length}
                    selectable={false}
                    headings={[{ title: "Found" }, { title: "What" }, { title: "Platform" }, { title: "Details" }]}
                  >
                    {data.anomalies.map((a, i) => (
                      <IndexTable.Row id={`${a.event}:${a.found_at}:${i}`} key={`${a.event}:${a.found_at}:${i}`} position={i}>
                        <IndexTable.Cell>{formatTime(a.found_at)}{a.date === null ? null : <Text as="span" tone="subdued"> · day {a.date}</Text>}</IndexTable.Cell>
                        <IndexTable.Cell><Badge tone={a.event === "ads.spend_anomaly" ? "critical" : a.event.includes("under") ? "warning" : "success"}>{humanize(a.event.replace(/^ads\./, ""))}</Badge></IndexTable.Cell>
                        <IndexTable.Cell>{humanize(a.platform ?? "—")}</IndexTable.Cell>
                        <IndexTable.Cell>
                          <BlockStack gap="100">
                            {a.resources.slice(0, 5).map((r) => <Text as="span" key={r.resourceId} breakWord>{describe(a, r.payload)}</Text>)}
                            {a.resources.length > 5 ? <Text as="span" tone="subdued">and {a.resources.length - 5} more</Text> : null}
                          </BlockStack>
                        </IndexTable.Cell>
                      </IndexTable.Row>
                    ))}
                  </IndexTable>
                )}
          </QueryState>
        </Card>
        {anomalies.data === undefined ? null : <Paging page={anomalies.data.page} pages={anomalies.data.pages_total} total={anomalies.data.total} onPage={setPage} label="anomalies" />}
      </BlockStack>
    </Page>
  )
}
