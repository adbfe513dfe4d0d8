/** SEO: the shop's pages as the latest Search Console pull measured them, decaying first. */
import { Badge, BlockStack, Card, Checkbox, EmptyState, IndexTable, Page, Text } from "@shopify/polaris"
import { useState } from "react"
import { query, useApi } from "../api.ts"
import { Paging } from "../components/Paging.tsx"
import { QueryState } from "../components/QueryState.tsx"
import { formatNumber } from "../format.ts"

interface SeoPage {
  readonly url: string
  readonly as_of: string
  readonly now_clicks: number
  readonly prior_clicks: number
  readonly drop_pct: number | null
  readonly impressions: number
  readonly position: number | null
  readonly decayed: boolean
}

export default function Seo() {
  const [decayedOnly, setDecayedOnly] = useState(false)
  const [page, setPage] = useState(1)
  const pages = useApi<{ pages: ReadonlyArray<SeoPage>; total: number; page: number; pages_total: number }>(
    `/app/seo/pages${query({ decayed: decayedOnly ? "true" : undefined, page, limit: 20 })}`,
    { placeholderData: (p) => p }
  )
  return (
    <Page title="SEO" subtitle="Clicks from Google search over the last 14 days against the 14 before">
      <BlockStack gap="400">
        <Card><Checkbox label="Only pages in decay" checked={decayedOnly} onChange={(v) => { setDecayedOnly(v); setPage(1) }} /></Card>
        <Card padding="0">
          <QueryState query={pages}>
            {(data) =>
              data.total === 0
                ? <EmptyState heading={decayedOnly ? "No page in decay" : "No Search Console data yet"} image=""><p>Connect Search Console: pages show here after its first pull.</p></EmptyState>
                : (
                  <IndexTable
                    resourceName={{ singular: "page", plural: "pages" }}
                    itemCount={data.pages.length}
                    selectable={false}
                    headings={[{ title: "Page" }, { title: "Clicks now", alignment: "end" }, { title: "Before", alignment: "end" }, { title: "Change", alignment: "end" }, { title: "Impressions", alignment: "end" }, { title: "Position", alignment: "end" }]}
                  >
                    {data.pages.map((p, i) => (
                      <IndexTable.Row id={p.url} key={p.url} position={i}>
                        <IndexTable.Cell>
                          <BlockStack gap="100">
                            <Text as="span" breakWord>{p.url.replace(/^https?:\/\/[^/]+/, "")}</Text>
                            {p.decayed ? <span><Badge tone="critical">In decay</Badge></span> : null}
                          </BlockStack>
                        </IndexTable.Cell>
                        <IndexTable.Cell><Text as="span" alignment="end" numeric>{formatNumber(p.now_clicks)}</Text></IndexTable.Cell>
                        <IndexTable.Cell><Text as="span" alignment="end" numeric>{formatNumber(p.prior_clicks)}</Text></IndexTable.Cell>
                        <IndexTable.Cell>
                          <Text as="span" alignment="end" numeric {...(p.drop_pct !== null && p.drop_pct > 0 ? { tone: "critical" as const } : {})}>
                            {p.drop_pct === null ? "—" : `${p.drop_pct > 0 ? "−" : "+"}${formatNumber(Math.abs(p.drop_pct))} %`}
                          </Text>
                        </IndexTable.Cell>
                        <IndexTable.Cell><Text as="span" alignment="end" numeric>{formatNumber(p.impressions)}</Text></IndexTable.Cell>
                        <IndexTable.Cell><Text as="span" alignment="end" numeric>{formatNumber(p.position)}</Text></IndexTable.Cell>
                      </IndexTable.Row>
                    ))}
                  </IndexTable>
                )}
          </QueryState>
        </Card>
        {pages.data === undefined ? null : <Paging page={pages.data.page} pages={pages.data.pages_total} total={pages.data.total} onPage={setPage} label="pages" />}
      </BlockStack>
    </Page>
  )
}
