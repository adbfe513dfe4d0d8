import { BlockStack, Card, EmptyState, IndexTable, Link, Page, Text } from "@shopify/polaris"
import { useState } from "react"
import { useLocation } from "wouter"
import { query, useApi } from "../api.ts"
import { Paging } from "../components/Paging.tsx"
import { QueryState } from "../components/QueryState.tsx"
import { StatusBadge } from "../components/StatusBadge.tsx"
import { humanize } from "../format.ts"
import { useCan } from "../permissions.ts"
import type { PageOf, Rule } from "../types.ts"

export default function Rules() {
  const [page, setPage] = useState(1)
  const canManage = useCan()("automation:manage")
  const [, navigate] = useLocation()
  const rules = useApi<PageOf & { rules: ReadonlyArray<Rule> }>(`/app/rules${query({ page, limit: 25 })}`, { placeholderData: (p) => p })
  return (
    <Page title="Rules" subtitle="When something happens in your shop, do something about it" {...(canManage ? { primaryAction: { content: "Create rule", url: "/rules/new" } } : {})}>
      <BlockStack gap="400">
      <Card padding="0">
        <QueryState query={rules}>
          {({ rules, total }) =>
            total === 0
              ? (
                <EmptyState heading="No rules yet" image="" {...(canManage ? { action: { content: "Create rule", url: "/rules/new" } } : {})} secondaryAction={{ content: "See recommendations", url: "/" }}>
                  <p>A rule watches a trigger (a product drafted, a page losing clicks…) and runs an action, with cooldowns, quiet hours and approvals.</p>
                </EmptyState>
              )
              : (
                <IndexTable
                  resourceName={{ singular: "rule", plural: "rules" }}
                  itemCount={rules.length}
                  selectable={false}
                  headings={[{ title: "Name" }, { title: "Status" }, { title: "When" }, { title: "Do" }, { title: "Approval" }, { title: "Version", alignment: "end" }]}
                >
                  {rules.map((r, i) => (
                    <IndexTable.Row id={r.id} key={r.id} position={i} onClick={() => navigate(`/rules/${r.id}`)}>
                      <IndexTable.Cell>
                        <Link url={`/rules/${r.id}`} monochrome removeUnderline><Text as="span" fontWeight="semibold">{r.name}</Text></Link>
                      </IndexTable.Cell>
                      <IndexTable.Cell><StatusBadge status={r.enabled ? "enabled" : "disabled"} /></IndexTable.Cell>
                      <IndexTable.Cell>{humanize(r.trigger_event)}</IndexTable.Cell>
                      <IndexTable.Cell>{humanize(r.action_key)}</IndexTable.Cell>
                      <IndexTable.Cell>{r.requires_approval ? "Required" : "—"}</IndexTable.Cell>
                      <IndexTable.Cell><Text as="span" alignment="end" numeric>{r.version}</Text></IndexTable.Cell>
                    </IndexTable.Row>
                  ))}
                </IndexTable>
              )}
        </QueryState>
      </Card>
      {rules.data === undefined ? null : <Paging page={rules.data.page} pages={rules.data.pages} total={rules.data.total} onPage={setPage} label="rules" />}
      </BlockStack>
    </Page>
  )
}
