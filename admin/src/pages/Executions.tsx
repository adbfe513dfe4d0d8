import { BlockStack, Card, EmptyState, InlineStack, Page, Select } from "@shopify/polaris"
import { useState } from "react"
import { useSearch } from "wouter"
import { query, useApi } from "../api.ts"
import { ExecutionsTable } from "../components/ExecutionsTable.tsx"
import { Paging } from "../components/Paging.tsx"
import { QueryState } from "../components/QueryState.tsx"
import { humanize } from "../format.ts"
import type { Execution, PageOf, Rule } from "../types.ts"

const STATUSES = ["applied", "awaiting_approval", "deferred", "failed", "skipped", "undone", "rejected", "cancelled", "running", "requested", "approved", "expired", "undo_failed"]

export default function Executions() {
  const search = new URLSearchParams(useSearch())
  const [ruleId, setRuleId] = useState(search.get("rule_id") ?? "")
  const [status, setStatus] = useState(search.get("status") ?? "")
  const [page, setPage] = useState(1)
  const rules = useApi<{ rules: ReadonlyArray<Rule> }>("/app/rules?limit=100")
  const executions = useApi<PageOf & { executions: ReadonlyArray<Execution> }>(`/app/executions${query({ rule_id: ruleId, status, page, limit: 20 })}`, { refetchInterval: 15_000 })
  return (
    <Page title="Executions" subtitle="What your rules did, newest first">
      <BlockStack gap="400">
        <Card>
          <InlineStack gap="300" wrap>
            <Select
              label="Rule"
              options={[{ label: "All rules", value: "" }, ...(rules.data?.rules ?? []).map((r) => ({ label: r.name, value: r.id }))]}
              value={ruleId}
              onChange={(v) => { setRuleId(v); setPage(1) }}
            />
            <Select
              label="Status"
              options={[{ label: "Any status", value: "" }, ...STATUSES.map((s) => ({ label: humanize(s), value: s }))]}
              value={status}
              onChange={(v) => { setStatus(v); setPage(1) }}
            />
          </InlineStack>
        </Card>
        <Card padding="0">
          <QueryState query={executions}>
            {(data) =>
              data.total === 0
                ? <EmptyState heading="No executions" image=""><p>When a rule fires, what it did shows here, with why.</p></EmptyState>
                : <ExecutionsTable executions={data.executions} />}
          </QueryState>
        </Card>
        {executions.data === undefined ? null : <Paging page={executions.data.page} pages={executions.data.pages} total={executions.data.total} onPage={setPage} label="executions" />}
      </BlockStack>
    </Page>
  )
}
