/** The seed's `JobTimeline`: what the job did, step by step, oldest first. */
import { formatTime, humanize } from "../format.ts"
import type { JobEvent } from "../types.ts"
import { Timeline } from "./Timeline.tsx"

const toneOf = (type: string) =>
  type.endsWith("FAILED") ? "critical" as const : type === "JOB_COMPLETED" ? "success" as const : type.includes("RETRY") ? "caution" as const : undefined

export const JobTimeline = ({ events }: { events: ReadonlyArray<JobEvent> }) => (
  <Timeline
    label="Job timeline"
    items={events.map((e, i) => {
      const tone = toneOf(e.event_type)
      return {
        key: `${i}`,
        title: humanize(e.event_type.toLowerCase()),
        at: formatTime(e.created_at),
        detail: e.message,
        ...(tone === undefined ? {} : { tone })
      }
    })}
  />
)
