/**
 * What every screen shows while its data is on the way or could not be had: a skeleton, or the
 * API's message in plain words with a retry. Never a stack trace.
 */
import { Banner, BlockStack, Card, SkeletonBodyText, SkeletonDisplayText } from "@shopify/polaris"
import type { ReactNode } from "react"
import type { ApiError } from "../api.ts"

export const LoadingCard = ({ lines = 4 }: { lines?: number }) => (
  <Card>
    <BlockStack gap="400">
      <SkeletonDisplayText size="small" />
      <SkeletonBodyText lines={lines} />
    </BlockStack>
  </Card>
)

export const ErrorBanner = ({ error, onRetry, title }: { error: ApiError | Error; onRetry?: () => void; title?: string }) => (
  <Banner
    tone="critical"
    title={title ?? "Something went wrong"}
    {...(onRetry === undefined ? {} : { action: { content: "Try again", onAction: onRetry } })}
  >
    <p>{error.message}</p>
    {"errors" in error && error.errors.length > 0
      ? (
        <ul>
          {error.errors.map((e) => <li key={`${e.field}:${e.message}`}>{e.field}: {e.message}</li>)}
        </ul>
      )
      : null}
  </Banner>
)

interface QueryLike<T> {
  readonly data: T | undefined
  readonly error: ApiError | null
  readonly isPending: boolean
  readonly refetch: () => unknown
}

/** Renders `children(data)` once the query has answered; a skeleton before, the error with a retry if it failed. */
export function QueryState<T>({ query, children, lines }: { query: QueryLike<T>; children: (data: T) => ReactNode; lines?: number }) {
  if (query.error !== null) return <ErrorBanner error={query.error} onRetry={() => void query.refetch()} />
  if (query.isPending || query.data === undefined) return <LoadingCard {...(lines === undefined ? {} : { lines })} />
  return <>{children(query.data)}</>
}
