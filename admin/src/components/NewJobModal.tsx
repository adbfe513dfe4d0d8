/** Start a bulk metafield job from the admin (`POST /app/jobs`): the Flow action's fields, prefilled from a template. */
import { Checkbox, FormLayout, Modal, Select, TextField } from "@shopify/polaris"
import { useState } from "react"
import { useLocation } from "wouter"
import { api, useApiMutation } from "../api.ts"
import { ErrorBanner } from "./QueryState.tsx"

export interface JobDraft {
  readonly query_string: string
  readonly namespace: string
  readonly key: string
  readonly type: string
  readonly value: string
  readonly max_items: number
  readonly dry_run: boolean
}

export const EMPTY_JOB: JobDraft = {
  query_string: "status:active",
  namespace: "custom",
  key: "",
  type: "single_line_text_field",
  value: "",
  max_items: 5000,
  dry_run: true
}

const TYPES = ["single_line_text_field", "multi_line_text_field", "boolean", "number_integer", "number_decimal", "date", "url", "json", "color"]

export const NewJobModal = ({ open, onClose, initial }: { open: boolean; onClose: () => void; initial: JobDraft }) => {
  const [draft, setDraft] = useState<JobDraft>(initial)
  const [, navigate] = useLocation()
  const create = useApiMutation((d: JobDraft) => api<{ job_id: string }>("/app/jobs", { method: "POST", body: d }), ["/app/jobs"])
  const fieldError = (field: string) => create.error?.errors.find((e) => e.field === field)?.message
  const set = <K extends keyof JobDraft>(k: K) => (v: JobDraft[K]) => setDraft((d) => ({ ...d, [k]: v }))
  const duplicateOf = create.error?.code === "duplicate_job" ? (create.error.body as { job_id?: string } | undefined)?.job_id : undefined
  return (
    <Modal
      open={open}
      onClose={onClose}
      title="Run a bulk job"
      primaryAction={{
        content: draft.dry_run ? "Start the dry run" : "Start the job",
        loading: create.isPending,
        onAction: () => create.mutate(draft, { onSuccess: (r) => navigate(`/jobs/${r.job_id}`) })
      }}
      secondaryActions={duplicateOf === undefined ? [{ content: "Cancel", onAction: onClose }] : [{ content: "Open the existing job", onAction: () => navigate(`/jobs/${duplicateOf}`) }]}
    >
      <Modal.Section>
        <FormLayout>
          {create.error !== null && create.error.errors.length === 0 ? <ErrorBanner error={create.error} title="The job was not started" /> : null}
          <TextField label="Products matching" helpText="A Shopify product search, e.g. status:active tag:winter" value={draft.query_string} onChange={set("query_string")} autoComplete="off" error={fieldError("query_string")} />
          <FormLayout.Group>
            <TextField label="Namespace" value={draft.namespace} onChange={set("namespace")} autoComplete="off" error={fieldError("namespace")} />
            <TextField label="Key" value={draft.key} onChange={set("key")} autoComplete="off" error={fieldError("key")} />
          </FormLayout.Group>
          <Select label="Type" options={TYPES} value={draft.type} onChange={set("type")} error={fieldError("type")} />
          <TextField label="Value" value={draft.value} onChange={set("value")} autoComplete="off" error={fieldError("value")} />
          <TextField label="At most this many products" type="number" value={String(draft.max_items)} onChange={(v) => set("max_items")(Number(v))} autoComplete="off" error={fieldError("max_items")} />
          <Checkbox label="Dry run: count the matching products, change nothing" checked={draft.dry_run} onChange={set("dry_run")} />
        </FormLayout>
      </Modal.Section>
    </Modal>
  )
}
