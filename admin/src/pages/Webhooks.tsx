/**
 * Outbound webhooks: the shop's subscriptions (created with a Standard Webhooks secret shown
 * once, rotated, deleted), and the deliveries — dead letters re-driven from here.
 */
import { Banner, BlockStack, Button, Card, ChoiceList, EmptyState, FormLayout, IndexTable, InlineStack, Modal, Page, Tabs, Text, TextField } from "@shopify/polaris"
import { useState } from "react"
import { api, query, useApi, useApiMutation } from "../api.ts"
import { Paging } from "../components/Paging.tsx"
import { ErrorBanner, QueryState } from "../components/QueryState.tsx"
import { StatusBadge } from "../components/StatusBadge.tsx"
import { formatTime } from "../format.ts"
import { useCan } from "../permissions.ts"
import type { Delivery, PageOf, Subscription } from "../types.ts"

/** What a subscription can listen to (`domain/outbound/Webhooks.ts`). */
const EVENTS = [
  { value: "autoaction.applied", label: "An action was applied" },
  { value: "autoaction.undone", label: "An action was undone" },
  { value: "autoaction.failed", label: "An action failed" },
  { value: "ai.budget_threshold_reached", label: "The AI budget reached 80 % or 100 %" }
]

const SecretShownOnce = ({ secret, onClose }: { secret: string; onClose: () => void }) => (
  <Modal open onClose={onClose} title="Copy the signing secret now" primaryAction={{ content: "I have copied it", onAction: onClose }}>
    <Modal.Section>
      <BlockStack gap="200">
        <Text as="p">Your endpoint checks each delivery's signature with this secret (Standard Webhooks). It is not shown again.</Text>
        <pre className="sumeru-code" aria-label="Signing secret">{secret}</pre>
      </BlockStack>
    </Modal.Section>
  </Modal>
)

const NewSubscription = ({ onClose, onSecret }: { onClose: () => void; onSecret: (s: string) => void }) => {
  const [url, setUrl] = useState("https://")
  const [events, setEvents] = useState<Array<string>>(["autoaction.applied"])
  const create = useApiMutation(() => api<{ secret: string }>("/app/webhook-subscriptions", { method: "POST", body: { url, events } }), ["/app/webhook-subscriptions"])
  const error = (field: string) => create.error?.errors.find((e) => e.field === field || e.field.startsWith(`${field}.`))?.message
  return (
    <Modal
      open
      onClose={onClose}
      title="Subscribe an endpoint"
      primaryAction={{ content: "Subscribe", loading: create.isPending, onAction: () => create.mutate(undefined, { onSuccess: (r) => { onClose(); onSecret(r.secret) } }) }}
      secondaryActions={[{ content: "Cancel", onAction: onClose }]}
    >
      <Modal.Section>
        <FormLayout>
          {create.error !== null && create.error.errors.length === 0 ? <ErrorBanner error={create.error} title="Not subscribed" /> : null}
          <TextField label="Endpoint URL" type="url" autoComplete="off" value={url} onChange={setUrl} error={error("url")} />
          <ChoiceList allowMultiple title="Events" choices={EVENTS} selected={events} onChange={setEvents} {...(error("events") === undefined ? {} : { error: error("events")! })} />
        </FormLayout>
      </Modal.Section>
    </Modal>
  )
}

const DELIVERY_TABS = [
  { id: "", content: "All" },
  { id: "dead", content: "Dead letters" },
  { id: "pending", content: "Pending" },
  { id: "delivered", content: "Delivered" }
]

export default function Webhooks() {
  const [creating, setCreating] = useState(false)
  const canManage = useCan()("webhooks:manage")
  const [secret, setSecret] = useState<string | null>(null)
  const [tab, setTab] = useState(0)
  const [page, setPage] = useState(1)
  const subs = useApi<{ subscriptions: ReadonlyArray<Subscription> }>("/app/webhook-subscriptions")
  const deliveries = useApi<PageOf & { deliveries: ReadonlyArray<Delivery> }>(`/app/webhook-deliveries${query({ status: DELIVERY_TABS[tab]!.id, page, limit: 20 })}`, { placeholderData: (p) => p })
  const rotate = useApiMutation((id: string) => api<{ secret: string }>(`/app/webhook-subscriptions/${id}/rotate`, { method: "POST" }), ["/app/webhook-subscriptions"])
  const remove = useApiMutation((id: string) => api(`/app/webhook-subscriptions/${id}`, { method: "DELETE" }), ["/app/webhook-subscriptions"])
  const redrive = useApiMutation((id: string) => api(`/app/webhook-deliveries/${id}/redrive`, { method: "POST" }), ["/app/webhook-deliveries"])
  const failure = rotate.error ?? remove.error ?? redrive.error
  return (
    <Page title="Outbound webhooks" subtitle="Sumeru tells your systems what it did, signed" {...(canManage ? { primaryAction: { content: "Subscribe an endpoint", onAction: () => setCreating(true) } } : {})}>
      <BlockStack gap="400">
        {failure === null ? null : <ErrorBanner error={failure} />}
        {redrive.isSuccess ? <Banner tone="success" title="Sent again: a new round of attempts has started" onDismiss={() => redrive.reset()} /> : null}
        <Card padding="0">
          <QueryState query={subs}>
            {({ subscriptions }) =>
              subscriptions.length === 0
                ? <EmptyState heading="No subscription" image="" {...(canManage ? { action: { content: "Subscribe an endpoint", onAction: () => setCreating(true) } } : {})}><p>Subscribe a URL to hear about applied, undone and failed actions.</p></EmptyState>
                : (
                  <IndexTable resourceName={{ singular: "subscription", plural: "subscriptions" }} itemCount={subscriptions.length} selectable={false} headings={[{ title: "Endpoint" }, { title: "Status" }, { title: "Events" }, { title: "Since" }, { title: "Manage" }]}>
                    {subscriptions.map((s, i) => (
                      <IndexTable.Row id={s.id} key={s.id} position={i}>
                        <IndexTable.Cell><Text as="span" breakWord>{s.url}</Text></IndexTable.Cell>
                        <IndexTable.Cell><StatusBadge status={s.status} /></IndexTable.Cell>
                        <IndexTable.Cell>{s.events.join(", ")}</IndexTable.Cell>
                        <IndexTable.Cell>{formatTime(s.created_at)}</IndexTable.Cell>
                        <IndexTable.Cell>
                          {canManage && (
                          <InlineStack gap="200">
                            <Button size="slim" accessibilityLabel={`Rotate the secret of ${s.url}`} onClick={() => rotate.mutate(s.id, { onSuccess: (r) => setSecret(r.secret) })}>Rotate secret</Button>
                            <Button size="slim" tone="critical" accessibilityLabel={`Delete ${s.url}`} onClick={() => remove.mutate(s.id)}>Delete</Button>
                          </InlineStack>
                          )}
                        </IndexTable.Cell>
                      </IndexTable.Row>
                    ))}
                  </IndexTable>
                )}
          </QueryState>
        </Card>
        <Text as="h2" variant="headingMd">Deliveries</Text>
        <Card padding="0">
          <Tabs tabs={DELIVERY_TABS} selected={tab} onSelect={(i) => { setTab(i); setPage(1) }} />
          <QueryState query={deliveries}>
            {(data) =>
              data.total === 0
                ? <div style={{ padding: "var(--p-space-400)" }}><Text as="p" tone="subdued">No delivery here.</Text></div>
                : (
                  <IndexTable resourceName={{ singular: "delivery", plural: "deliveries" }} itemCount={data.deliveries.length} selectable={false} headings={[{ title: "When" }, { title: "Event" }, { title: "Status" }, { title: "Attempts", alignment: "end" }, { title: "Last answer" }, { title: "" }]}>
                    {data.deliveries.map((d, i) => (
                      <IndexTable.Row id={d.id} key={d.id} position={i}>
                        <IndexTable.Cell>{formatTime(d.created_at)}</IndexTable.Cell>
                        <IndexTable.Cell>{d.event}</IndexTable.Cell>
                        <IndexTable.Cell><StatusBadge status={d.status} /></IndexTable.Cell>
                        <IndexTable.Cell><Text as="span" alignment="end" numeric>{d.attempts}</Text></IndexTable.Cell>
                        <IndexTable.Cell><Text as="span" breakWord tone="subdued">{d.last_error ?? (d.last_status === null ? "—" : `HTTP ${d.last_status}`)}</Text></IndexTable.Cell>
                        <IndexTable.Cell>{d.status === "dead" && canManage ? <Button size="slim" accessibilityLabel={`Re-drive delivery ${d.id}`} loading={redrive.isPending && redrive.variables === d.id} onClick={() => redrive.mutate(d.id)}>Re-drive</Button> : null}</IndexTable.Cell>
                      </IndexTable.Row>
                    ))}
                  </IndexTable>
                )}
          </QueryState>
        </Card>
        {deliveries.data === undefined ? null : <Paging page={deliveries.data.page} pages={deliveries.data.pages} total={deliveries.data.total} onPage={setPage} label="deliveries" />}
      </BlockStack>
      {creating ? <NewSubscription onClose={() => setCreating(false)} onSecret={setSecret} /> : null}
      {secret === null ? null : <SecretShownOnce secret={secret} onClose={() => setSecret(null)} />}
    </Page>
  )
}
