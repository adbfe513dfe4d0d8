/** Customer value: the predicted 12-month value of the shop's customers (BG/NBD × Gamma-Gamma), its distribution and the top customers. */
import { BarChart } from "@shopify/polaris-viz"
import { BlockStack, Card, DataTable, EmptyState, InlineGrid, Layout, Page, Text } from "@shopify/polaris"
import { useApi } from "../api.ts"
import { Chart } from "../components/Chart.tsx"
import { QueryState } from "../components/QueryState.tsx"
import { formatMoney, formatNumber, formatPercent } from "../format.ts"

/** The prediction, or — when the models cannot be fitted to the shop's orders — why not (`model: null`, `reason`). */
type Ltv = Fitted | { readonly model: null; readonly reason: string; readonly customers: number; readonly repeat_customers: number }

interface Fitted {
  readonly model: Record<string, unknown>
  readonly currency: string | null
  readonly horizon_months: number
  readonly customers: number
  readonly repeat_customers: number
  readonly expected_purchases: number
  readonly expected_value: number
  readonly distribution: ReadonlyArray<{ readonly from: number; readonly to: number | null; readonly customers: number }>
  readonly cohorts: ReadonlyArray<{ readonly cohort: string; readonly customers: number; readonly expected_purchases: number; readonly expected_value: number }>
  readonly top_customers: ReadonlyArray<{ readonly customer_id: string; readonly expected_purchases: number; readonly expected_order_value: number; readonly expected_value: number; readonly probability_alive: number }>
}

const Stat = ({ label, value }: { label: string; value: string }) => (
  <Card>
    <BlockStack gap="100">
      <Text as="p" tone="subdued">{label}</Text>
      <Text as="p" variant="headingLg">{value}</Text>
    </BlockStack>
  </Card>
)

const bands = (l: Fitted) => [{
  name: "Customers",
  data: l.distribution.map((b) => ({ key: b.to === null ? `${formatNumber(b.from)}+` : `${formatNumber(b.from)}–${formatNumber(b.to)}`, value: b.customers }))
}]

export default function LtvPage() {
  const ltv = useApi<Ltv>("/app/ltv")
  return (
    <Page title="Customer value" subtitle="What your customers are likely to spend over the next 12 months">
      <QueryState query={ltv} lines={8}>
        {(l) =>
          l.customers === 0
            ? <Card><EmptyState heading="Not enough orders yet" image=""><p>The prediction needs customers with orders.</p></EmptyState></Card>
            : l.model === null
            ? (
              <Card>
                <EmptyState heading="No prediction for now" image="">
                  <p>{formatNumber(l.customers)} customers, {formatNumber(l.repeat_customers)} of them came back. The prediction could not be made: {l.reason}.</p>
                </EmptyState>
              </Card>
            )
            : (
              <Layout>
                <Layout.Section>
                  <InlineGrid columns={{ xs: 1, sm: 3 }} gap="400">
                    <Stat label={`Predicted value, ${l.horizon_months} months`} value={formatMoney(l.expected_value, l.currency)} />
                    <Stat label="Predicted orders" value={formatNumber(l.expected_purchases)} />
                    <Stat label="Customers (repeat)" value={`${formatNumber(l.customers)} (${formatNumber(l.repeat_customers)})`} />
                  </InlineGrid>
                </Layout.Section>
                <Layout.Section>
                  <Card>
                    <BlockStack gap="300">
                      <Text as="h2" variant="headingMd">Distribution of predicted value</Text>
                      {(() => {
                        const distribution = bands(l)
                        return (
                          <Chart label="Customers per band of predicted value" height={260} data={distribution} render={(d) => <BarChart isAnimated={false} showLegend={false} data={d} />} />
                        )
                      })()}
                    </BlockStack>
                  </Card>
                </Layout.Section>
                <Layout.Section>
                  <Card>
                    <BlockStack gap="300">
                      <Text as="h2" variant="headingMd">Top customers</Text>
                      <DataTable
                        columnContentTypes={["text", "numeric", "numeric", "numeric", "numeric"]}
                        headings={["Customer", "Predicted orders", "Order value", "Predicted value", "Still active"]}
                        rows={l.top_customers.slice(0, 10).map((c) => [c.customer_id, formatNumber(c.expected_purchases), formatMoney(c.expected_order_value, l.currency), formatMoney(c.expected_value, l.currency), formatPercent(c.probability_alive)])}
                      />
                    </BlockStack>
                  </Card>
                </Layout.Section>
              </Layout>
            )}
      </QueryState>
    </Page>
  )
}
