/** The audit log in plain language: search, a date range (up to the 365 days kept), newest first. */
import { BlockStack, Card, EmptyState, IndexTable, InlineStack, Page, Text, TextField } from "@shopify/polaris"
import { useDeferredValue, useState } from "react"
import { query, useApi } from "../api.ts"
import { Paging } from "../components/Paging.tsx"
import { QueryState } from "../components/QueryState.tsx"
import { daysAgo, formatTime, isoDay } from "../format.ts"
import type { AuditEntry, PageOf } from "../types.ts"

export default function Audit() {
  const [q, setQ] = useState("")
  const [from, setFrom] = useState(isoDay(daysAgo(30)))
  const [to, setTo] = useState(isoDay(new Date()))
  const [page, setPage] = useState(1)
  const search = useDeferredValue(q)
  const tooOld = from < isoDay(daysAgo(365))
  const path = `/app/audit${query({
    q: search.trim(),
    from: from === "" ? undefined : `${from}T00:00:00Z`,
    to: to === "" ? undefined : new Date(Date.parse(`${to}T00:00:00Z`) + 86_400_000).toISOString(),
    page,
    limit: 25
  })}`
  const entries = useApi<PageOf & { entries: ReadonlyArray<AuditEntry> }>(path, { placeholderData: (prev) => prev })
  return (
    <Page title="Audit log" subtitle="Everything that changed your shop's automation, who did it and when">
      <BlockStack gap="400">
        <Card>
          <InlineStack gap="300" wrap blockAlign="end">
            <div style={{ minWidth: 240, flex: 1 }}>
              <TextField label="Search" value={q} onChange={(v) => { setQ(v); setPage(1) }} autoComplete="off" clearButton onClearButtonClick={() => setQ("")} placeholder="a rule, a product, a person…" />
            </div>
            <TextField label="From" type="date" value={from} onChange={(v) => { setFrom(v); setPage(1) }} autoComplete="off" {...(tooOld ? { error: "The log keeps 365 days" } : {})} />
            <TextField label="To" type="date" value={to} onChange={(v) => { setTo(v); setPage(1) }} autoComplete="off" />
          </InlineStack>
        </Card>
        <Card padding="0">
          <QueryState query={entries}>
            {(data) =>
              data.total === 0
                ? <EmptyState heading="Nothing in this range" image=""><p>Change the dates or the search.</p></EmptyState>
                : (
                  <IndexTable
                    resourceName={{ singular: "entry", plural: "entries" }}
                    itemCount={data.entries.length}
                    selectable={false}
                    headings={[{ title: "When" }, { title: "What" }, { title: "Who" }]}
                  >
                    {data.entries.map((e, i) => (
                      <IndexTable.Row id={String(e.position)} key={e.position} position={i}>
                        <IndexTable.Cell>{formatTime(e.at)}</IndexTable.Cell>
                        <IndexTable.Cell><Text as="span" breakWord>{e.summary}</Text></IndexTable.Cell>
                        <IndexTable.Cell><Text as="span" tone="subdued">{e.actor.replace(/^system:.*/, "Sumeru")}</Text></IndexTable.Cell>
                      </IndexTable.Row>
                    ))}
                  </IndexTable>
                )}
          </QueryState>
        </Card>
        {entries.data === undefined ? null : <Paging page={entries.data.page} pages={entries.data.pages} total={entries.data.total} onPage={setPage} label="entries" />}
      </BlockStack>
    </Page>
  )
}
