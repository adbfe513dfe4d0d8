/**
 * The seed's `ErrorPreview`: the job's first errors (its `error_preview`), and the whole error file as a
 * download (fetched with the session token, then saved by the browser).
 */
import { BlockStack, Button, InlineStack, Text } from "@shopify/polaris"
import { useState } from "react"
import { api } from "../api.ts"
import { downloadText } from "./download.ts"

export const ErrorPreview = ({ jobId, failed, preview }: { jobId: string; failed: number; preview: string | null | undefined }) => {
  const [error, setError] = useState<string | null>(null)
  const [busy, setBusy] = useState(false)
  return (
    <BlockStack gap="300">
      <Text as="p">
        {failed === 0 ? "No product failed." : `${failed.toLocaleString()} product${failed === 1 ? "" : "s"} could not be updated.`}
      </Text>
      {preview === null || preview === undefined || preview === ""
        ? null
        : <pre className="sumeru-code" aria-label="First errors">{preview}</pre>}
      {failed > 0
        ? (
          <InlineStack gap="200" blockAlign="center">
            <Button
              loading={busy}
              onClick={() => {
                setBusy(true)
                setError(null)
                api<string>(`/app/jobs/${jobId}/errors.jsonl`, { accept: "application/jsonl" })
                  .then((text) => downloadText(`job-${jobId}-errors.jsonl`, text, "application/jsonl"))
                  .catch((e: Error) => setError(e.message))
                  .finally(() => setBusy(false))
              }}
            >
              Download the error file
            </Button>
            {error === null ? null : <Text as="span" tone="critical">{error}</Text>}
          </InlineStack>
        )
        : null}
    </BlockStack>
  )
}
