/** Settings: the shop's plan, its members and their roles, and the API keys of its integrations. */
import { Badge, BlockStack, Button, Card, EmptyState, FormLayout, IndexTable, InlineStack, Layout, Modal, Page, Select, Text, TextField } from "@shopify/polaris"
import { useState } from "react"
import { api, useApi, useApiMutation } from "../api.ts"
import { ErrorBanner, QueryState } from "../components/QueryState.tsx"
import { formatTime, humanize } from "../format.ts"
import { useMe } from "../permissions.ts"
import type { Me } from "../types.ts"

const ROLES = ["owner", "admin", "operator", "analyst", "viewer"]
const ROLE_HELP: Record<string, string> = {
  owner: "everything, members and owners included",
  admin: "everything but owners",
  operator: "runs and undoes jobs and rules",
  analyst: "reads insights and the audit log",
  viewer: "reads"
}

interface Member {
  readonly user_id: string
  readonly role: string
  readonly updated_at?: string
}
interface ApiKey {
  readonly id: string
  readonly name: string
  readonly scopes: ReadonlyArray<string>
  readonly role: string | null
  readonly created_at: string
  readonly revoked_at: string | null
  readonly last_used_at: string | null
}

const Members = ({ me }: { me: Me }) => {
  const members = useApi<{ members: ReadonlyArray<Member>; default_role: string }>("/app/members")
  const [userId, setUserId] = useState("")
  const [role, setRole] = useState("viewer")
  const canManage = me.permissions.includes("members:manage")
  const set = useApiMutation((m: { userId: string; role: string }) => api(`/app/members/${encodeURIComponent(m.userId)}`, { method: "PUT", body: { role: m.role } }), ["/app/members"])
  const remove = useApiMutation((id: string) => api(`/app/members/${encodeURIComponent(id)}`, { method: "DELETE" }), ["/app/members"])
  return (
    <Card>
      <BlockStack gap="300">
        <Text as="h2" variant="headingMd">Members and roles</Text>
        {set.error === null && remove.error === null ? null : <ErrorBanner error={(set.error ?? remove.error)!} />}
        <QueryState query={members}>
          {({ members, default_role }) => (
            <BlockStack gap="300">
              <Text as="p" tone="subdued">Staff not listed here have the default role: {humanize(default_role)} ({ROLE_HELP[default_role] ?? ""}).</Text>
              {members.length === 0 ? <Text as="p">No member has a role of their own yet.</Text> : (
                <IndexTable resourceName={{ singular: "member", plural: "members" }} itemCount={members.length} selectable={false} headings={[{ title: "Staff member (Shopify user id)" }, { title: "Role" }, { title: "" }]}>
                  {members.map((m, i) => (
                    <IndexTable.Row id={m.user_id} key={m.user_id} position={i}>
                      <IndexTable.Cell>{m.user_id}</IndexTable.Cell>
                      <IndexTable.Cell>{humanize(m.role)}</IndexTable.Cell>
                      <IndexTable.Cell>{canManage ? <Button size="slim" tone="critical" accessibilityLabel={`Remove ${m.user_id}`} onClick={() => remove.mutate(m.user_id)}>Remove</Button> : null}</IndexTable.Cell>
                    </IndexTable.Row>
                  ))}
                </IndexTable>
              )}
              {canManage
                ? (
                  <InlineStack gap="200" blockAlign="end" wrap>
                    <TextField label="Shopify user id" autoComplete="off" value={userId} onChange={setUserId} />
                    <Select label="Role" options={ROLES.map((r) => ({ label: `${humanize(r)}: ${ROLE_HELP[r]}`, value: r }))} value={role} onChange={setRole} />
                    <Button disabled={userId.trim() === ""} loading={set.isPending} onClick={() => set.mutate({ userId: userId.trim(), role }, { onSuccess: () => setUserId("") })}>Give the role</Button>
                  </InlineStack>
                )
                : null}
            </BlockStack>
          )}
        </QueryState>
      </BlockStack>
    </Card>
  )
}

const ApiKeys = ({ me }: { me: Me }) => {
  const keys = useApi<{ api_keys: ReadonlyArray<ApiKey> }>("/app/api-keys")
  const [creating, setCreating] = useState(false)
  const [name, setName] = useState("")
  const [role, setRole] = useState("viewer")
  const [secret, setSecret] = useState<string | null>(null)
  const canManage = me.permissions.includes("api_keys:manage")
  const create = useApiMutation(() => api<{ key: string }>("/app/api-keys", { method: "POST", body: { name, scopes: [], role } }), ["/app/api-keys"])
  const revoke = useApiMutation((id: string) => api(`/app/api-keys/${id}`, { method: "DELETE" }), ["/app/api-keys"])
  return (
    <Card>
      <BlockStack gap="300">
        <InlineStack align="space-between">
          <Text as="h2" variant="headingMd">API keys</Text>
          {canManage ? <Button onClick={() => setCreating(true)}>Create a key</Button> : null}
        </InlineStack>
        {revoke.error === null ? null : <ErrorBanner error={revoke.error} />}
        <QueryState query={keys}>
          {({ api_keys }) =>
            api_keys.length === 0
              ? <EmptyState heading="No API key" image=""><p>A key lets an integration or a script call Sumeru's API for this shop.</p></EmptyState>
              : (
                <IndexTable resourceName={{ singular: "key", plural: "keys" }} itemCount={api_keys.length} selectable={false} headings={[{ title: "Name" }, { title: "Role / scopes" }, { title: "Created" }, { title: "Last used" }, { title: "" }]}>
                  {api_keys.map((k, i) => (
                    <IndexTable.Row id={k.id} key={k.id} position={i}>
                      <IndexTable.Cell>{k.name}{k.revoked_at === null ? null : <> <Badge>Revoked</Badge></>}</IndexTable.Cell>
                      <IndexTable.Cell>{[k.role === null ? null : humanize(k.role), ...k.scopes].filter((s) => s !== null).join(", ")}</IndexTable.Cell>
                      <IndexTable.Cell>{formatTime(k.created_at)}</IndexTable.Cell>
                      <IndexTable.Cell>{formatTime(k.last_used_at)}</IndexTable.Cell>
                      <IndexTable.Cell>{canManage && k.revoked_at === null ? <Button size="slim" tone="critical" accessibilityLabel={`Revoke ${k.name}`} onClick={() => revoke.mutate(k.id)}>Revoke</Button> : null}</IndexTable.Cell>
                    </IndexTable.Row>
                  ))}
                </IndexTable>
              )}
        </QueryState>
      </BlockStack>
      {creating
        ? (
          <Modal
            open
            onClose={() => setCreating(false)}
            title="Create an API key"
            primaryAction={{ content: "Create", loading: create.isPending, onAction: () => create.mutate(undefined, { onSuccess: (r) => { setCreating(false); setName(""); setSecret(r.key) } }) }}
            secondaryActions={[{ content: "Cancel", onAction: () => setCreating(false) }]}
          >
            <Modal.Section>
              <FormLayout>
                {create.error === null ? null : <ErrorBanner error={create.error} title="The key was not created" />}
                <TextField label="Name" autoComplete="off" value={name} onChange={setName} helpText="What uses it, e.g. the warehouse sync" />
                <Select label="Role" options={ROLES.filter((r) => r !== "owner").map((r) => ({ label: `${humanize(r)}: ${ROLE_HELP[r]}`, value: r }))} value={role} onChange={setRole} />
              </FormLayout>
            </Modal.Section>
          </Modal>
        )
        : null}
      {secret === null ? null : (
        <Modal open onClose={() => setSecret(null)} title="Copy the key now" primaryAction={{ content: "I have copied it", onAction: () => setSecret(null) }}>
          <Modal.Section>
            <BlockStack gap="200">
              <Text as="p">It is shown once. Send it as <code>Authorization: Bearer …</code>.</Text>
              <pre className="sumeru-code" aria-label="API key">{secret}</pre>
            </BlockStack>
          </Modal.Section>
        </Modal>
      )}
    </Card>
  )
}

export default function Settings() {
  const me = useMe()
  return (
    <Page title="Settings">
      <QueryState query={me}>
        {(me) => (
          <Layout>
            <Layout.AnnotatedSection title="Plan" description="Your Sumeru plan comes from your Shopify app subscription.">
              <Card>
                <BlockStack gap="200">
                  <InlineStack gap="200" blockAlign="center">
                    <Text as="p" variant="headingMd">{humanize(me.plan)}</Text>
                    <Badge tone="info">{me.shop}</Badge>
                  </InlineStack>
                  <Text as="p" tone="subdued">Time zone: {me.time_zone}. You are {humanize(me.principal.role)}.</Text>
                  <Text as="p" tone="subdued">Change the plan from the app's listing in your Shopify admin.</Text>
                </BlockStack>
              </Card>
            </Layout.AnnotatedSection>
            {me.permissions.includes("members:read")
              ? (
                <Layout.AnnotatedSection title="Members" description="Roles of your staff in Sumeru.">
                  <Members me={me} />
                </Layout.AnnotatedSection>
              )
              : null}
            {me.permissions.includes("api_keys:read")
              ? (
                <Layout.AnnotatedSection title="API keys" description="Keys for integrations and scripts.">
                  <ApiKeys me={me} />
                </Layout.AnnotatedSection>
              )
              : null}
          </Layout>
        )}
      </QueryState>
    </Page>
  )
}
