/**
 * Home: what needs attention (approvals, dead-lettered webhooks, AI budget alerts), what fired
 * today, and the next best actions — each with its evidence and a 30-day backtest, accepted in
 * one click (the rule is created disabled, for review).
 */
import { Badge, Banner, BlockStack, Button, Card, EmptyState, InlineGrid, InlineStack, Layout, Page, Text } from "@shopify/polaris"
import { useState } from "react"
import { useLocation } from "wouter"
import { api, query, useApi, useApiMutation } from "../api.ts"
import { ExecutionsTable } from "../components/ExecutionsTable.tsx"
import { ErrorBanner, QueryState } from "../components/QueryState.tsx"
import { formatNumber, formatUsd, humanize, isoDay } from "../format.ts"
import { currentBudgetMonth, useCan, useMe } from "../permissions.ts"
import type { Execution, PageOf, Recommendation } from "../types.ts"

interface AiBudget {
  readonly budget: ReadonlyArray<{ readonly month: string; readonly cap_micros: number; readonly settled_micros: number; readonly alerted_80: boolean; readonly alerted_100: boolean }>
}

const Attention = () => {
  const can = useCan()
  const me = useMe()
  const approvals = useApi<PageOf>(can("automation:read") ? `/app/approvals${query({ limit: 1 })}` : null)
  const dead = useApi<PageOf>(can("webhooks:read") ? `/app/webhook-deliveries${query({ status: "dead", limit: 1 })}` : null)
  const today = isoDay(new Date())
  const ai = useApi<AiBudget>(can("ai:read") ? `/app/ai/usage${query({ from: today, to: today, limit: 1 })}` : null)
  // this month's alerts only: the ledger keeps a year of months
  const month = currentBudgetMonth(me.data?.time_zone)
  const budget = ai.data?.budget.find((b) => b.month === month && (b.alerted_80 || b.alerted_100))
  const items = [
    approvals.data !== undefined && approvals.data.total > 0
      ? { key: "approvals", tone: "warning" as const, title: `${formatNumber(approvals.data.total)} execution(s) wait for approval`, url: "/approvals", action: "Review" }
      : null,
    dead.data !== undefined && dead.data.total > 0
      ? { key: "dead", tone: "critical" as const, title: `${formatNumber(dead.data.total)} outbound webhook(s) could not be delivered`, url: "/webhooks", action: "Re-drive" }
      : null,
    budget !== undefined
      ? {
        key: "ai",
        tone: budget.alerted_100 ? "critical" as const : "warning" as const,
        title: `AI budget: ${formatUsd(budget.settled_micros)} of ${formatUsd(budget.cap_micros)} spent this month`,
        url: "/ai",
        action: "See usage"
      }
      : null
  ].filter((i) => i !== null)
  const error = approvals.error ?? dead.error ?? ai.error
  if (error !== null) return <ErrorBanner error={error} onRetry={() => { void approvals.refetch(); void dead.refetch(); void ai.refetch() }} />
  if (items.length === 0) return <Banner tone="success" title="Nothing needs your attention" />
  return (
    <BlockStack gap="200">
      {items.map((i) => <Banner key={i.key} tone={i.tone} title={i.title} action={{ content: i.action, url: i.url }} />)}
    </BlockStack>
  )
}

const FiredToday = () => {
  // the newest few: the ones from today are shown, and the list links to the rest
  const recent = useApi<PageOf & { executions: ReadonlyArray<Execution> }>(useCan()("automation:read") ? `/app/executions${query({ limit: 10 })}` : null)
  const today = isoDay(new Date())
  return (
    <Card padding="0">
      <BlockStack gap="0">
        <div style={{ padding: "var(--p-space-400)" }}>
          <InlineStack align="space-between">
            <Text as="h2" variant="headingMd">What fired today</Text>
            <Button variant="plain" url="/executions">All executions</Button>
          </InlineStack>
        </div>
        <QueryState query={recent}>
          {(data) => {
            const fired = data.executions.filter((e) => e.created_at.slice(0, 10) === today)
            return fired.length === 0
              ? <div style={{ padding: "0 var(--p-space-400) var(--p-space-400)" }}><Text as="p" tone="subdued">No rule fired today.</Text></div>
              : <ExecutionsTable executions={fired} />
          }}
        </QueryState>
      </BlockStack>
    </Card>
  )
}

const RecommendationCard = ({ rec, canAccept }: { rec: Recommendation; canAccept: boolean }) => {
  const [, navigate] = useLocation()
  const accept = useApiMutation(() => api<{ rule: { id: string } }>(`/app/recommendations/${rec.id}/accept`, { method: "POST", body: {} }), ["/app/rules"])
  return (
    <Card>
      <BlockStack gap="300">
        <InlineStack align="space-between" blockAlign="start" gap="200">
          <Text as="h3" variant="headingSm">{rec.rule.name}</Text>
          <Badge tone={rec.impact.tier === 1 ? "critical" : rec.impact.tier === 2 ? "warning" : "info"}>{`${formatNumber(rec.impact.value)} ${rec.impact.unit} at stake`}</Badge>
        </InlineStack>
        <Text as="p">{rec.explanation}</Text>
        <Text as="p" tone="subdued">
          When {humanize(rec.rule.trigger_event).toLowerCase()}, {humanize(rec.rule.action_key).toLowerCase()}. Evidence: {formatNumber(rec.evidence.triggers)} trigger(s) on {formatNumber(rec.evidence.resources)} resource(s)
          {rec.evidence.examples.length > 0 ? `, e.g. ${rec.evidence.examples.slice(0, 3).map((e) => e.resourceId).join(", ")}` : ""}.
          Backtest, last 30 days: it would have fired {formatNumber(rec.backtest.fires)} time(s).
        </Text>
        {rec.rule.needs.length > 0 ? <Text as="p" tone="caution">It needs: {rec.rule.needs.join(", ")} (you fill them in before enabling).</Text> : null}
        {accept.error === null ? null : <ErrorBanner error={accept.error} title="The rule was not created" />}
        {canAccept
          ? (
            <InlineStack>
              <Button variant="primary" loading={accept.isPending} onClick={() => accept.mutate(undefined, { onSuccess: (r) => navigate(`/rules/${r.rule.id}`) })}>
                Accept: create this rule
              </Button>
            </InlineStack>
          )
          : null}
      </BlockStack>
    </Card>
  )
}

export default function Home() {
  const can = useCan()
  const recs = useApi<{ recommendations: ReadonlyArray<Recommendation> }>(can("insights:read") ? "/app/recommendations" : null)
  const [shown, setShown] = useState(4)
  return (
    <Page title="Home">
      <Layout>
        <Layout.Section>
          <BlockStack gap="400">
            <Attention />
            {can("automation:read") ? <FiredToday /> : null}
            {can("insights:read") ? <Text as="h2" variant="headingLg">Next best actions</Text> : null}
            {can("insights:read") ? <QueryState query={recs}>
              {({ recommendations }) =>
                recommendations.length === 0
                  ? <Card><EmptyState heading="No recommendation right now" image=""><p>When the detectors find something worth a rule (decaying pages, ad anomalies, abandoned carts…), it shows here.</p></EmptyState></Card>
                  : (
                    <BlockStack gap="400">
                      <InlineGrid columns={{ xs: 1, md: 2 }} gap="400">
                        {recommendations.slice(0, shown).map((r) => <RecommendationCard key={r.id} rec={r} canAccept={can("automation:manage")} />)}
                      </InlineGrid>
                      {recommendations.length > shown ? <InlineStack><Button onClick={() => setShown((n) => n + 4)}>Show more</Button></InlineStack> : null}
                    </BlockStack>
                  )}
            </QueryState> : null}
          </BlockStack>
        </Layout.Section>
      </Layout>
    </Page>
  )
}
