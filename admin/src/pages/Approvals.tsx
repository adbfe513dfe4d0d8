import { Banner, BlockStack, Button, ButtonGroup, Card, EmptyState, Page, Text } from "@shopify/polaris"
import { useState } from "react"
import { api, query, useApi, useApiMutation } from "../api.ts"
import { ExecutionsTable } from "../components/ExecutionsTable.tsx"
import { Paging } from "../components/Paging.tsx"
import { ErrorBanner, QueryState } from "../components/QueryState.tsx"
import { useCan } from "../permissions.ts"
import type { Execution, PageOf } from "../types.ts"

export default function Approvals() {
  const [page, setPage] = useState(1)
  const [done, setDone] = useState<string | null>(null)
  const canDecide = useCan()("automation:manage")
  const approvals = useApi<PageOf & { approvals: ReadonlyArray<Execution> }>(`/app/approvals${query({ page, limit: 20 })}`, { refetchInterval: 15_000 })
  const decide = useApiMutation(
    ({ id, decision }: { id: string; decision: "approve" | "reject" }) => api<{ status: string }>(`/app/approvals/${id}/${decision}`, { method: "POST", body: {} }),
    ["/app/approvals", "/app/executions"]
  )
  return (
    <Page title="Approvals" subtitle="Executions waiting for a person's yes or no">
      <BlockStack gap="400">
        {done === null ? null : <Banner tone="success" title={done} onDismiss={() => setDone(null)} />}
        {decide.error === null ? null : <ErrorBanner error={decide.error} title="The decision was not recorded" />}
        <Card padding="0">
          <QueryState query={approvals}>
            {(data) =>
              data.total === 0
                ? <EmptyState heading="Nothing waits for approval" image=""><p>Rules that ask for approval park their executions here.</p></EmptyState>
                : (
                  <ExecutionsTable
                    executions={data.approvals}
                    actions={(e) => !canDecide ? <Text as="span" tone="subdued">Waiting</Text> : (
                      <div onClick={(ev) => ev.stopPropagation()}>
                        <ButtonGroup>
                          <Button
                            variant="primary"
                            accessibilityLabel={`Approve ${e.action_key} on ${e.resource_id}`}
                            loading={decide.isPending && decide.variables?.id === e.id && decide.variables.decision === "approve"}
                            onClick={() => decide.mutate({ id: e.id, decision: "approve" }, { onSuccess: () => setDone("Approved: it runs now") })}
                          >
                            Approve
                          </Button>
                          <Button
                            tone="critical"
                            accessibilityLabel={`Reject ${e.action_key} on ${e.resource_id}`}
                            loading={decide.isPending && decide.variables?.id === e.id && decide.variables.decision === "reject"}
                            onClick={() => decide.mutate({ id: e.id, decision: "reject" }, { onSuccess: () => setDone("Rejected: it will not run") })}
                          >
                            Reject
                          </Button>
                        </ButtonGroup>
                      </div>
                    )}
                  />
                )}
          </QueryState>
        </Card>
        {approvals.data === undefined ? null : <Paging page={approvals.data.page} pages={approvals.data.pages} total={approvals.data.total} onPage={setPage} label="waiting" />}
      </BlockStack>
    </Page>
  )
}
