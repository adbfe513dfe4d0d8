/**
 * One execution: what it changed (snapshot against after), its undo — and when the resource
 * changed since, the refusal explained with the choice to overwrite — and the why chain: origin →
 * data event → trigger → rule version → each step, as a vertical timeline.
 */
import { Banner, BlockStack, Card, DescriptionList, Layout, Modal, Page, Text } from "@shopify/polaris"
import { useState } from "react"
import { Link } from "wouter"
import { api, useApi, useApiMutation } from "../api.ts"
import { DiffTable } from "../components/DiffTable.tsx"
import { resourceLabel } from "../components/ExecutionsTable.tsx"
import { ErrorBanner, QueryState } from "../components/QueryState.tsx"
import { StatusBadge } from "../components/StatusBadge.tsx"
import { Timeline } from "../components/Timeline.tsx"
import { formatTime, humanize } from "../format.ts"
import { useCan } from "../permissions.ts"
import type { Execution, WhyLink } from "../types.ts"

const KIND_LABEL: Record<WhyLink["kind"], string> = {
  origin: "Where it came from",
  data_event: "What happened",
  trigger: "The trigger",
  rule: "The rule",
  execution: "What Sumeru did"
}

const WhyChain = ({ id }: { id: string }) => {
  const why = useApi<{ chain: ReadonlyArray<WhyLink> }>(`/app/executions/${id}/why`)
  return (
    <Card>
      <BlockStack gap="300">
        <Text as="h2" variant="headingMd">Why did this happen?</Text>
        <QueryState query={why}>
          {({ chain }) => (
            <Timeline
              label="Why chain"
              items={chain.map((l, i) => {
                const tone = l.type.endsWith("failed") ? "critical" as const : l.type.endsWith("applied") ? "success" as const : l.kind === "trigger" ? "info" as const : undefined
                return {
                  key: `${i}:${l.id}`,
                  title: `${KIND_LABEL[l.kind]}: ${l.summary}`,
                  at: `${formatTime(l.at)} · ${l.type} · by ${l.actor}`,
                  ...(tone === undefined ? {} : { tone })
                }
              })}
            />
          )}
        </QueryState>
      </BlockStack>
    </Card>
  )
}

const UndoModal = ({ execution, onClose }: { execution: Execution; onClose: () => void }) => {
  const undo = useApiMutation((force: boolean) => api<{ status: string }>(`/app/executions/${execution.id}/undo`, { method: "POST", body: force ? { force } : {} }), ["/app/executions"])
  const changedSince = undo.error?.code === "changed_since"
  return (
    <Modal
      open
      onClose={onClose}
      title={changedSince ? "The resource changed since" : "Undo this execution?"}
      primaryAction={changedSince
        ? { content: "Overwrite and undo", destructive: true, loading: undo.isPending, onAction: () => undo.mutate(true, { onSuccess: onClose }) }
        : { content: "Undo", destructive: true, loading: undo.isPending, onAction: () => undo.mutate(false, { onSuccess: onClose }) }}
      secondaryActions={[{ content: "Cancel", onAction: onClose }]}
    >
      <Modal.Section>
        {changedSince
          ? (
            <BlockStack gap="200">
              <Text as="p">
                Someone (or something) changed {resourceLabel(execution)} after this rule acted on it. Undoing now would put back the snapshot and lose that later change.
              </Text>
              <Text as="p" tone="subdued">{undo.error?.message}</Text>
              <Text as="p">Overwrite only if the later change should go.</Text>
            </BlockStack>
          )
          : (
            <BlockStack gap="200">
              {undo.error === null ? null : <ErrorBanner error={undo.error} title="It was not undone" />}
              <Text as="p">{resourceLabel(execution)} gets back what the snapshot holds (the “Before” column). The undo is recorded; the history stays.</Text>
            </BlockStack>
          )}
      </Modal.Section>
    </Modal>
  )
}

export default function ExecutionDetail({ id }: { id: string }) {
  const answer = useApi<{ execution: Execution }>(`/app/executions/${id}`)
  const [undoing, setUndoing] = useState(false)
  const e = answer.data?.execution
  const undoable = useCan()("automation:manage") && e !== undefined && (e.status === "applied" || e.status === "deferred")
  return (
    <Page
      title={e === undefined ? "Execution" : `${humanize(e.action_key)} on ${resourceLabel(e)}`}
      backAction={{ content: "Executions", url: "/executions" }}
      {...(e === undefined ? {} : { titleMetadata: <StatusBadge status={e.status} /> })}
      {...(undoable ? { primaryAction: { content: e.status === "deferred" ? "Cancel" : "Undo", destructive: true, onAction: () => setUndoing(true) } } : {})}
    >
      <QueryState query={answer}>
        {({ execution: e }) => (
          <Layout>
            {e.status === "undone" ? <Layout.Section><Banner tone="info" title="This execution was undone" /></Layout.Section> : null}
            {e.status === "deferred" && e.until !== null ? <Layout.Section><Banner tone="warning" title={`Waits until ${formatTime(e.until)}`}><p>{e.detail ?? humanize(e.reason ?? "")}</p></Banner></Layout.Section> : null}
            <Layout.Section>
              <BlockStack gap="400">
                <Card>
                  <BlockStack gap="300">
                    <Text as="h2" variant="headingMd">What changed</Text>
                    <DiffTable before={e.before} after={e.after} />
                  </BlockStack>
                </Card>
                <WhyChain id={e.id} />
              </BlockStack>
            </Layout.Section>
            <Layout.Section variant="oneThird">
              <Card>
                <DescriptionList
                  items={[
                    { term: "Rule", description: <Link href={`/rules/${e.rule_id}`}>version {e.rule_version}</Link> },
                    { term: "Trigger", description: humanize(e.trigger_event) },
                    { term: "Action", description: humanize(e.action_key) },
                    { term: "Resource", description: e.resource_id },
                    { term: "Reason", description: e.detail ?? (e.reason === null ? "—" : humanize(e.reason)) },
                    { term: "Started", description: formatTime(e.created_at) },
                    { term: "Last change", description: formatTime(e.updated_at) }
                  ]}
                />
              </Card>
            </Layout.Section>
          </Layout>
        )}
      </QueryState>
      {undoing && e !== undefined ? <UndoModal execution={e} onClose={() => setUndoing(false)} /> : null}
    </Page>
  )
}
