/** A vertical timeline: a job's events, an execution's why chain. */
import { BlockStack, Box, Text } from "@shopify/polaris"
import type { ReactNode } from "react"

export interface TimelineItem {
  readonly key: string
  readonly title: ReactNode
  readonly detail?: ReactNode
  readonly at?: string
  readonly tone?: "success" | "critical" | "caution" | "info"
}

const DOT: Record<NonNullable<TimelineItem["tone"]> | "default", string> = {
  success: "var(--p-color-bg-fill-success)",
  critical: "var(--p-color-bg-fill-critical)",
  caution: "var(--p-color-bg-fill-caution)",
  info: "var(--p-color-bg-fill-info)",
  default: "var(--p-color-bg-fill-emphasis)"
}

export const Timeline = ({ items, label }: { items: ReadonlyArray<TimelineItem>; label: string }) => (
  <ol className="sumeru-timeline" aria-label={label}>
    {items.map((item) => (
      <li key={item.key} className="sumeru-timeline__item">
        <span className="sumeru-timeline__dot" style={{ background: DOT[item.tone ?? "default"] }} aria-hidden="true" />
        <Box paddingBlockEnd="400">
          <BlockStack gap="100">
            <Text as="p" fontWeight="semibold">{item.title}</Text>
            {item.at === undefined ? null : <Text as="p" tone="subdued" variant="bodySm">{item.at}</Text>}
            {item.detail === undefined ? null : <Box>{item.detail}</Box>}
          </BlockStack>
        </Box>
      </li>
    ))}
  </ol>
)
