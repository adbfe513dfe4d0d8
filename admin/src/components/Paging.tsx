/** The server's pages (`page`, `pages`, `total`): previous/next and where we are. */
import { InlineStack, Pagination, Text } from "@shopify/polaris"
import { formatNumber } from "../format.ts"

export const Paging = ({ page, pages, total, onPage, label }: { page: number; pages: number; total: number; onPage: (p: number) => void; label: string }) => (
  <InlineStack align="space-between" blockAlign="center" gap="200">
    <Text as="p" tone="subdued">{formatNumber(total)} {label}</Text>
    {pages > 1
      ? (
        <Pagination
          hasPrevious={page > 1}
          onPrevious={() => onPage(page - 1)}
          hasNext={page < pages}
          onNext={() => onPage(page + 1)}
          label={`Page ${page} of ${pages}`}
        />
      )
      : null}
  </InlineStack>
)
