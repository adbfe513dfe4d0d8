import { Card, EmptyState, Layout, Page, Tabs } from "@shopify/polaris"
import { useState } from "react"
import { query, useApi } from "../api.ts"
import { JobsTable } from "../components/JobsTable.tsx"
import { EMPTY_JOB, NewJobModal } from "../components/NewJobModal.tsx"
import { Paging } from "../components/Paging.tsx"
import { QueryState } from "../components/QueryState.tsx"
import { useCan } from "../permissions.ts"
import type { Job, PageOf } from "../types.ts"

const TABS = [
  { id: "", content: "All" },
  { id: "RUNNING", content: "Running" },
  { id: "PENDING", content: "Pending" },
  { id: "COMPLETED", content: "Completed" },
  { id: "FAILED", content: "Failed" }
]
const LIMIT = 20

export default function Jobs() {
  const [tab, setTab] = useState(0)
  const [page, setPage] = useState(1)
  const [creating, setCreating] = useState(false)
  const canCreate = useCan()("jobs:create")
  const jobs = useApi<PageOf & { jobs: ReadonlyArray<Job> }>(`/app/jobs${query({ status: TABS[tab]!.id, page, limit: LIMIT })}`, { refetchInterval: 15_000 })
  return (
    <Page title="Bulk jobs" subtitle="Metafields set on many products at once, from Shopify Flow or here" {...(canCreate ? { primaryAction: { content: "Run a bulk job", onAction: () => setCreating(true) } } : {})}>
      <Layout>
        <Layout.Section>
          <Card padding="0">
            <Tabs tabs={TABS} selected={tab} onSelect={(i) => { setTab(i); setPage(1) }} />
            <QueryState query={jobs}>
              {(data) =>
                data.total === 0
                  ? (
                    <EmptyState heading={tab === 0 ? "No bulk jobs yet" : "No job with this status"} image="" {...(canCreate ? { action: { content: "Run a bulk job", onAction: () => setCreating(true) } } : {})}>
                      <p>Start one here, or from a Shopify Flow with the Sumeru action (see Flow templates).</p>
                    </EmptyState>
                  )
                  : <JobsTable jobs={data.jobs} />}
            </QueryState>
          </Card>
        </Layout.Section>
        <Layout.Section>
          {jobs.data === undefined ? null : <Paging page={jobs.data.page} pages={jobs.data.pages} total={jobs.data.total} onPage={setPage} label="jobs" />}
        </Layout.Section>
      </Layout>
      {creating ? <NewJobModal open onClose={() => setCreating(false)} initial={EMPTY_JOB} /> : null}
    </Page>
  )
}
