/**
 * A rule, new or existing: trigger, action and its params (a form from the action's schema), a
 * CEL condition checked as it is typed, cooldown, quiet hours, approval. A new rule is saved
 * disabled; once saved it can be backtested, then enabled.
 */
import { Banner, BlockStack, Card, Checkbox, FormLayout, InlineStack, Layout, Page, Select, Text, TextField } from "@shopify/polaris"
import { useEffect, useMemo, useState } from "react"
import { useLocation } from "wouter"
import { api, type ApiError, useApi, useApiMutation } from "../api.ts"
import { BacktestCard } from "../components/BacktestCard.tsx"
import { ConditionField } from "../components/ConditionField.tsx"
import { ParamsForm } from "../components/ParamsForm.tsx"
import { ErrorBanner, LoadingCard } from "../components/QueryState.tsx"
import { StatusBadge } from "../components/StatusBadge.tsx"
import { humanize } from "../format.ts"
import { useCan } from "../permissions.ts"
import type { ActionMeta, Rule, TriggerMeta } from "../types.ts"

type Draft = Omit<Rule, "id" | "version">

const EMPTY: Draft = {
  name: "",
  trigger_event: "product.drafted",
  action_key: "tag_product",
  params: {},
  condition: null,
  cooldown_seconds: 3600,
  quiet_hours: null,
  requires_approval: false,
  enabled: false
}

const draftOf = (r: Rule): Draft => {
  const { id: _id, version: _v, ...draft } = r
  return draft
}

/** The check as you type: the draft validated a moment after the last change. */
const useValidation = (draft: Draft) => {
  const [problems, setProblems] = useState<ReadonlyArray<{ field: string; message: string }>>([])
  const [checking, setChecking] = useState(false)
  const body = JSON.stringify(draft)
  useEffect(() => {
    let live = true
    setChecking(true)
    const timer = setTimeout(() => {
      api<{ valid: boolean; errors: ReadonlyArray<{ field: string; message: string }> }>("/app/rules/validate", { method: "POST", body: JSON.parse(body) })
        // a check that could not run (a rate limit, the network) blocks nothing: saving checks again
        .then((r) => live && setProblems(r.errors), () => live && setProblems([]))
        .finally(() => live && setChecking(false))
    }, 600)
    return () => {
      live = false
      clearTimeout(timer)
    }
  }, [body])
  return { problems, checking }
}

const Editor = ({ rule, triggers, actions }: { rule: Rule | null; triggers: ReadonlyArray<TriggerMeta>; actions: ReadonlyArray<ActionMeta> }) => {
  const [, navigate] = useLocation()
  const [draft, setDraft] = useState<Draft>(rule === null ? EMPTY : draftOf(rule))
  /** The rule as last recorded (loaded, saved, enabled or disabled): what the badge and buttons say. */
  const [saved, setSaved] = useState<Rule | null>(rule)
  const canManage = useCan()("automation:manage")
  const { problems, checking } = useValidation(draft)
  const set = <K extends keyof Draft>(k: K) => (v: Draft[K]) => setDraft((d) => ({ ...d, [k]: v }))
  const save = useApiMutation(
    (d: Draft) =>
      rule === null
        ? api<{ rule: Rule }>("/app/rules", { method: "POST", body: d })
        : api<{ rule: Rule }>(`/app/rules/${rule.id}`, { method: "PATCH", body: d }),
    ["/app/rules"]
  )
  // enabling changes only `enabled`: edits not saved yet stay in the form
  const toggle = useApiMutation((enabled: boolean) => api<{ rule: Rule }>(`/app/rules/${rule!.id}`, { method: "PATCH", body: { enabled } }), ["/app/rules"])
  const toggled = (r: { rule: Rule }) => {
    setSaved(r.rule)
    setDraft((d) => ({ ...d, enabled: r.rule.enabled }))
  }
  const remove = useApiMutation(() => api(`/app/rules/${rule!.id}`, { method: "DELETE" }), ["/app/rules"])
  const fieldErrors = (field: string) => {
    const all = [...problems, ...(save.error?.errors ?? [])].filter((p) => p.field === field).map((p) => p.message)
    return all.length === 0 ? undefined : [...new Set(all)].join("; ")
  }
  const conditionProblems = [...new Set(problems.filter((p) => p.field === "condition").map((p) => p.message))]
  const action = actions.find((a) => a.key === draft.action_key)
  const actionChoices = useMemo(() => actions.filter((a) => a.trigger_events.includes(draft.trigger_event)), [actions, draft.trigger_event])
  const onTrigger = (event: string) => {
    const fits = actions.filter((a) => a.trigger_events.includes(event))
    setDraft((d) => ({ ...d, trigger_event: event, ...(fits.some((a) => a.key === d.action_key) ? {} : { action_key: fits[0]?.key ?? d.action_key, params: {} }) }))
  }
  const saveError: ApiError | null = save.error !== null && save.error.errors.length === 0 ? save.error : null
  return (
    <Page
      title={rule === null ? "New rule" : rule.name}
      backAction={{ content: "Rules", url: "/rules" }}
      {...(saved === null ? {} : { titleMetadata: <StatusBadge status={saved.enabled ? "enabled" : "disabled"} /> })}
      {...(canManage
        ? {
          primaryAction: {
            content: rule === null ? "Save (disabled)" : "Save",
            loading: save.isPending,
            disabled: problems.length > 0,
            onAction: () =>
              save.mutate(rule === null ? { ...draft, enabled: false } : draft, {
                onSuccess: (r) => {
                  setSaved(r.rule)
                  if (rule === null) navigate(`/rules/${r.rule.id}`, { replace: true })
                }
              })
          }
        }
        : {})}
      secondaryActions={rule === null || !canManage ? [] : [
        saved?.enabled === true
          ? { content: "Disable", loading: toggle.isPending, onAction: () => toggle.mutate(false, { onSuccess: toggled }) }
          : { content: "Enable", loading: toggle.isPending, onAction: () => toggle.mutate(true, { onSuccess: toggled }) },
        { content: "Executions", url: `/executions?rule_id=${rule.id}` },
        { content: "Delete", destructive: true, loading: remove.isPending, onAction: () => remove.mutate(undefined, { onSuccess: () => navigate("/rules") }) }
      ]}
    >
      <Layout>
        {saveError === null ? null : <Layout.Section><ErrorBanner error={saveError} title="The rule was not saved" /></Layout.Section>}
        {toggle.error === null ? null : <Layout.Section><ErrorBanner error={toggle.error} title="The rule was not changed" /></Layout.Section>}
        {save.isSuccess ? <Layout.Section><Banner tone="success" title={`Saved as version ${save.data.rule.version}`} /></Layout.Section> : null}
        <Layout.Section>
          <BlockStack gap="400">
            <Card>
              <FormLayout>
                <TextField label="Name" value={draft.name} onChange={set("name")} autoComplete="off" error={fieldErrors("name")} />
                <Select
                  label="When"
                  options={triggers.map((t) => ({ label: `${humanize(t.event)} — ${t.description}`, value: t.event }))}
                  value={draft.trigger_event}
                  onChange={onTrigger}
                  error={fieldErrors("trigger_event")}
                />
                <Select
                  label="Do"
                  options={(actionChoices.length === 0 ? actions : actionChoices).map((a) => ({ label: `${humanize(a.key)}${a.required_plan === "free" ? "" : ` (${a.required_plan} plan)`}`, value: a.key }))}
                  value={draft.action_key}
                  onChange={(k) => setDraft((d) => ({ ...d, action_key: k, params: {} }))}
                  helpText={action?.description}
                  error={fieldErrors("action_key")}
                />
              </FormLayout>
            </Card>
            {action === undefined || action.param_schema.length === 0 ? null : (
              <Card>
                <BlockStack gap="300">
                  <Text as="h2" variant="headingMd">{humanize(action.key)}: settings</Text>
                  <ParamsForm schema={action.param_schema} values={draft.params} onChange={set("params")} errors={fieldErrors} />
                  {fieldErrors("params") === undefined ? null : <Text as="p" tone="critical">{fieldErrors("params")}</Text>}
                </BlockStack>
              </Card>
            )}
            <Card>
              <BlockStack gap="400">
                <ConditionField value={draft.condition ?? ""} onChange={(v) => set("condition")(v.trim() === "" ? null : v)} problems={conditionProblems} checking={checking} />
                <TextField
                  label="Cooldown (seconds)"
                  type="number"
                  autoComplete="off"
                  helpText="After it acts on a resource, the rule leaves that resource alone this long."
                  value={String(draft.cooldown_seconds)}
                  onChange={(v) => set("cooldown_seconds")(Number(v))}
                  error={fieldErrors("cooldown_seconds")}
                />
                <Checkbox
                  label="Quiet hours: wait until they are over to act"
                  checked={draft.quiet_hours !== null}
                  onChange={(on) => set("quiet_hours")(on ? { start: "22:00", end: "07:00" } : null)}
                />
                {draft.quiet_hours === null ? null : (
                  <InlineStack gap="300">
                    <TextField label="From" type="time" autoComplete="off" value={draft.quiet_hours.start} onChange={(v) => set("quiet_hours")({ ...draft.quiet_hours!, start: v })} />
                    <TextField label="Until" type="time" autoComplete="off" value={draft.quiet_hours.end} onChange={(v) => set("quiet_hours")({ ...draft.quiet_hours!, end: v })} error={fieldErrors("quiet_hours")} />
                  </InlineStack>
                )}
                <Checkbox
                  label="Ask for approval before acting"
                  helpText="Each execution waits in Approvals until someone approves it."
                  checked={draft.requires_approval}
                  onChange={set("requires_approval")}
                />
              </BlockStack>
            </Card>
          </BlockStack>
        </Layout.Section>
        <Layout.Section variant="oneThird">
          {saved === null
            ? (
              <Card>
                <BlockStack gap="200">
                  <Text as="h2" variant="headingMd">Backtest before enabling</Text>
                  <Text as="p">Save the rule: it is saved disabled. Then backtest it on your shop's history, and enable it.</Text>
                </BlockStack>
              </Card>
            )
            : <BacktestCard ruleId={saved.id} />}
        </Layout.Section>
      </Layout>
    </Page>
  )
}

export default function RuleEditor({ id }: { id: string | null }) {
  const triggers = useApi<{ triggers: ReadonlyArray<TriggerMeta> }>("/app/triggers", { staleTime: Infinity })
  const actions = useApi<{ actions: ReadonlyArray<ActionMeta> }>("/app/actions", { staleTime: Infinity })
  const rule = useApi<{ rule: Rule }>(id === null ? null : `/app/rules/${id}`)
  const error = triggers.error ?? actions.error ?? rule.error
  if (error !== null) return <Page title="Rule" backAction={{ content: "Rules", url: "/rules" }}><ErrorBanner error={error} onRetry={() => { void triggers.refetch(); void actions.refetch(); void rule.refetch() }} /></Page>
  if (triggers.data === undefined || actions.data === undefined || (id !== null && rule.data === undefined)) {
    return <Page title="Rule" backAction={{ content: "Rules", url: "/rules" }}><LoadingCard lines={8} /></Page>
  }
  return <Editor key={id ?? "new"} rule={rule.data?.rule ?? null} triggers={triggers.data.triggers} actions={actions.data.actions} />
}
