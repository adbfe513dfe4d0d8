/** The seed's `JobsTable`: the shop's jobs, one row each, with their counts. */
import { IndexTable, Link, Text } from "@shopify/polaris"
import { useLocation } from "wouter"
import { formatNumber, formatTime } from "../format.ts"
import type { Job } from "../types.ts"
import { StatusBadge } from "./StatusBadge.tsx"

export const JobsTable = ({ jobs }: { jobs: ReadonlyArray<Job> }) => {
  const [, navigate] = useLocation()
  return (
    <IndexTable
      resourceName={{ singular: "job", plural: "jobs" }}
      itemCount={jobs.length}
      selectable={false}
      headings={[
        { title: "Started" },
        { title: "Status" },
        { title: "Query" },
        { title: "Metafield" },
        { title: "Matched", alignment: "end" },
        { title: "Updated", alignment: "end" },
        { title: "Failed", alignment: "end" }
      ]}
    >
      {jobs.map((job, index) => (
        <IndexTable.Row id={job.id} key={job.id} position={index} onClick={() => navigate(`/jobs/${job.id}`)}>
          <IndexTable.Cell>
            {/* the row opens on a click; its link is what a keyboard reaches */}
            <Link url={`/jobs/${job.id}`} monochrome removeUnderline>
              <Text as="span" fontWeight="semibold">{formatTime(job.created_at)}</Text>
            </Link>
            {job.dry_run ? <Text as="span" tone="subdued"> · dry run</Text> : null}
          </IndexTable.Cell>
          <IndexTable.Cell><StatusBadge status={job.status} /></IndexTable.Cell>
          <IndexTable.Cell>{job.query ?? job.query_string}</IndexTable.Cell>
          <IndexTable.Cell>{job.metafield ?? `${job.namespace}.${job.key}`}</IndexTable.Cell>
          <IndexTable.Cell><Text as="span" alignment="end" numeric>{formatNumber(job.matched_count)}</Text></IndexTable.Cell>
          <IndexTable.Cell><Text as="span" alignment="end" numeric>{formatNumber(job.updated_count)}</Text></IndexTable.Cell>
          <IndexTable.Cell>
            <Text as="span" alignment="end" numeric {...((job.failed_count ?? 0) > 0 ? { tone: "critical" as const } : {})}>{formatNumber(job.failed_count)}</Text>
          </IndexTable.Cell>
        </IndexTable.Row>
      ))}
    </IndexTable>
  )
}
