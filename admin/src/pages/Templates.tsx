import { BlockStack, Layout, Page, Text } from "@shopify/polaris"
import { useState } from "react"
import { NewJobModal } from "../components/NewJobModal.tsx"
import { type Template, TemplateCard } from "../components/TemplateCard.tsx"

/** Ready-made Flowmend jobs: each a Flow action configuration a merchant copies into Shopify Flow. */
const TEMPLATES: ReadonlyArray<Template> = [
  {
    id: "winter-badge",
    title: "Badge winter products",
    description: "Sets a “Winter Collection” badge on every active product tagged winter, for your theme to show.",
    trigger: "Scheduled time (every Monday), or by hand",
    job: { query_string: "status:active tag:winter", namespace: "custom", key: "seasonal_badge", type: "single_line_text_field", value: "Winter Collection", max_items: 5000, dry_run: true }
  },
  {
    id: "sale-flag",
    title: "Flag products on sale",
    description: "Marks every active product tagged sale, so collections and filters can pick them up.",
    trigger: "Collection updated",
    job: { query_string: "status:active tag:sale", namespace: "custom", key: "on_sale", type: "boolean", value: "true", max_items: 10000, dry_run: true }
  },
  {
    id: "vendor-origin",
    title: "Record a vendor's country of origin",
    description: "Writes the country of origin on every product of one vendor (change the vendor and the country).",
    trigger: "Product created",
    job: { query_string: "vendor:Acme", namespace: "custom", key: "country_of_origin", type: "single_line_text_field", value: "Portugal", max_items: 5000, dry_run: true }
  },
  {
    id: "care-instructions",
    title: "Add care instructions to wool products",
    description: "Puts the same care instructions on every product of the wool product type.",
    trigger: "Scheduled time",
    job: { query_string: "product_type:Wool", namespace: "custom", key: "care_instructions", type: "multi_line_text_field", value: "Hand wash cold. Dry flat.", max_items: 5000, dry_run: true }
  }
]

export default function Templates() {
  const [running, setRunning] = useState<Template | null>(null)
  return (
    <Page title="Flow templates" subtitle="Ready-made bulk jobs for Shopify Flow's “Set metafield on products” action">
      <Layout>
        <Layout.Section>
          <BlockStack gap="400">
            <Text as="p">
              In Shopify Flow, add the Sumeru action to a workflow and paste a configuration below into its fields. Each run is a bulk job you can follow and undo here.
            </Text>
            {TEMPLATES.map((t) => <TemplateCard key={t.id} template={t} onRun={setRunning} />)}
          </BlockStack>
        </Layout.Section>
      </Layout>
      {running === null ? null : <NewJobModal open onClose={() => setRunning(null)} initial={running.job} />}
    </Page>
  )
}
