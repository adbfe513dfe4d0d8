import { Banner, BlockStack, Card, DescriptionList, Layout, List, Modal, Page, Text } from "@shopify/polaris"
import { useState } from "react"
import { useLocation } from "wouter"
import { api, useApi, useApiMutation } from "../api.ts"
import { ErrorPreview } from "../components/ErrorPreview.tsx"
import { JobTimeline } from "../components/JobTimeline.tsx"
import { ErrorBanner, QueryState } from "../components/QueryState.tsx"
import { StatusBadge } from "../components/StatusBadge.tsx"
import { formatNumber, formatTime } from "../format.ts"
import { useCan } from "../permissions.ts"
import type { Job, JobEvent, UndoPreview } from "../types.ts"

interface JobAnswer {
  readonly job: Job
  readonly events: ReadonlyArray<JobEvent>
}

const UndoModal = ({ job, onClose }: { job: Job; onClose: () => void }) => {
  const [, navigate] = useLocation()
  const preview = useApi<UndoPreview>(`/app/jobs/${job.id}/undo-preview`)
  const undo = useApiMutation(() => api<{ undo_job_id: string }>(`/app/jobs/${job.id}/undo`, { method: "POST" }), ["/app/jobs"])
  return (
    <Modal
      open
      onClose={onClose}
      title="Undo this job?"
      primaryAction={{ content: "Undo the job", destructive: true, loading: undo.isPending, onAction: () => undo.mutate(undefined, { onSuccess: (r) => { onClose(); navigate(`/jobs/${r.undo_job_id}`) } }) }}
      secondaryActions={[{ content: "Cancel", onAction: onClose }]}
    >
      <Modal.Section>
        <BlockStack gap="300">
          {undo.error === null ? null : <ErrorBanner error={undo.error} title="The job was not undone" />}
          <QueryState query={preview}>
            {(p) => (
              <BlockStack gap="200">
                <Text as="p">
                  {formatNumber(p.products)} product{p.products === 1 ? "" : "s"} will get their <strong>{job.metafield ?? `${job.namespace}.${job.key}`}</strong> back as it was before this job:
                </Text>
                <List>
                  <List.Item>{formatNumber(p.restored)} get their previous value back</List.Item>
                  <List.Item>{formatNumber(p.removed)} had no value: the metafield is removed</List.Item>
                </List>
                {p.sample.length > 0
                  ? (
                    <DescriptionList
                      items={p.sample.map((s) => ({ term: s.product_id.replace("gid://shopify/Product/", "Product "), description: s.previous_value === null ? "metafield removed" : `restored to “${s.previous_value}”` }))}
                    />
                  )
                  : null}
                <Text as="p" tone="subdued">Products someone changed since this job are kept as they are and listed in the undo's error file.</Text>
              </BlockStack>
            )}
          </QueryState>
        </BlockStack>
      </Modal.Section>
    </Modal>
  )
}

export default function JobDetail({ id }: { id: string }) {
  const answer = useApi<JobAnswer>(`/app/jobs/${id}`, { refetchInterval: (q) => (q.state.data?.job.status === "COMPLETED" || q.state.data?.job.status === "FAILED" ? false : 3_000) })
  const [undoing, setUndoing] = useState(false)
  const job = answer.data?.job
  const undoable = useCan()("jobs:undo") && job !== undefined && job.status === "COMPLETED" && !job.dry_run && (job.undo_of ?? null) === null && (job.undone_by ?? null) === null
  return (
    <Page
      title={job === undefined ? "Bulk job" : `${job.dry_run ? "Dry run" : "Bulk job"}: ${job.namespace}.${job.key}`}
      backAction={{ content: "Jobs", url: "/jobs" }}
      {...(job === undefined ? {} : { titleMetadata: <StatusBadge status={job.status} /> })}
      {...(undoable ? { secondaryActions: [{ content: "Undo", destructive: true, onAction: () => setUndoing(true) }] } : {})}
    >
      <QueryState query={answer}>
        {({ job, events }) => (
          <Layout>
            {job.undone_by ? <Layout.Section><Banner tone="info" title="This job was undone" action={{ content: "Open the undo", url: `/jobs/${job.undone_by}` }} /></Layout.Section> : null}
            {job.undo_of ? <Layout.Section><Banner tone="info" title="This job undoes another" action={{ content: "Open the job it undoes", url: `/jobs/${job.undo_of}` }} /></Layout.Section> : null}
            <Layout.Section>
              <BlockStack gap="400">
                <Card>
                  <BlockStack gap="300">
                    <Text as="h2" variant="headingMd">Timeline</Text>
                    <JobTimeline events={events} />
                  </BlockStack>
                </Card>
                <Card>
                  <BlockStack gap="300">
                    <Text as="h2" variant="headingMd">Errors</Text>
                    <ErrorPreview jobId={job.id} failed={job.failed_count ?? 0} preview={job.error_preview} />
                  </BlockStack>
                </Card>
              </BlockStack>
            </Layout.Section>
            <Layout.Section variant="oneThird">
              <Card>
                <DescriptionList
                  items={[
                    { term: "Products matching", description: job.query_string ?? job.query ?? "" },
                    { term: "Metafield", description: `${job.namespace}.${job.key} (${job.type})` },
                    { term: "Value", description: job.value ?? "" },
                    { term: "Matched", description: formatNumber(job.matched_count) },
                    { term: "Updated", description: formatNumber(job.updated_count) },
                    { term: "Failed", description: formatNumber(job.failed_count) },
                    { term: "Started", description: formatTime(job.created_at) },
                    { term: "Last change", description: formatTime(job.updated_at) }
                  ]}
                />
              </Card>
            </Layout.Section>
          </Layout>
        )}
      </QueryState>
      {undoing && job !== undefined ? <UndoModal job={job} onClose={() => setUndoing(false)} /> : null}
    </Page>
  )
}
