/** A status as a badge whose tone says whether it is done, failed, waiting or running. */
import { Badge } from "@shopify/polaris"
import { humanize } from "../format.ts"

type Tone = "success" | "critical" | "warning" | "attention" | "info" | undefined

const TONES: Record<string, Tone> = {
  completed: "success",
  applied: "success",
  delivered: "success",
  approved: "success",
  active: "success",
  enabled: "success",
  failed: "critical",
  dead: "critical",
  rejected: "critical",
  disabled: undefined,
  awaiting_approval: "attention",
  deferred: "warning",
  pending: "info",
  running: "info",
  processing: "info",
  undone: undefined,
  cancelled: undefined,
  skipped: undefined
}

export const StatusBadge = ({ status }: { status: string }) => {
  const tone = TONES[status.toLowerCase()]
  return <Badge {...(tone === undefined ? {} : { tone })}>{humanize(status.toLowerCase())}</Badge>
}
