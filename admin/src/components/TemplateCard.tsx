/** The seed's `TemplateCard`: a ready-made job — what it does, its Flow configuration to copy, and a run from here. */
import { BlockStack, Button, Card, InlineStack, Text } from "@shopify/polaris"
import { useState } from "react"
import type { JobDraft } from "./NewJobModal.tsx"

export interface Template {
  readonly id: string
  readonly title: string
  readonly description: string
  readonly trigger: string
  readonly job: JobDraft
}

/** The Flow action's fields as Flow's action form takes them. */
export const flowConfiguration = (t: Template): string =>
  JSON.stringify(
    {
      query_string: t.job.query_string,
      namespace: t.job.namespace,
      key: t.job.key,
      type: t.job.type,
      value: t.job.value,
      dry_run: t.job.dry_run,
      max_items: t.job.max_items
    },
    null,
    2
  )

export const TemplateCard = ({ template, onRun }: { template: Template; onRun: (t: Template) => void }) => {
  const [copied, setCopied] = useState(false)
  const config = flowConfiguration(template)
  return (
    <Card>
      <BlockStack gap="300">
        <Text as="h2" variant="headingMd">{template.title}</Text>
        <Text as="p">{template.description}</Text>
        <Text as="p" tone="subdued">Flow trigger: {template.trigger}</Text>
        <pre className="sumeru-code" aria-label={`Flow configuration of ${template.title}`}>{config}</pre>
        <InlineStack gap="200">
          <Button
            onClick={() => {
              void navigator.clipboard?.writeText(config).then(() => setCopied(true), () => setCopied(false))
            }}
          >
            {copied ? "Copied" : "Copy the Flow configuration"}
          </Button>
          <Button variant="primary" onClick={() => onRun(template)}>Try it as a dry run</Button>
        </InlineStack>
      </BlockStack>
    </Card>
  )
}
