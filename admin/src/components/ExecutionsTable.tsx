/** Executions (or approvals) as a table: when, what, on what, and how it ended; a row opens its detail. */
import { IndexTable, Link, Text } from "@shopify/polaris"
import type { ReactNode } from "react"
import { useLocation } from "wouter"
import { formatTime, humanize } from "../format.ts"
import type { Execution } from "../types.ts"
import { StatusBadge } from "./StatusBadge.tsx"

export const resourceLabel = (e: Pick<Execution, "resource_type" | "resource_id">) =>
  `${humanize(e.resource_type)} ${e.resource_id.replace(/^gid:\/\/shopify\/\w+\//, "")}`

export const ExecutionsTable = ({ executions, actions }: { executions: ReadonlyArray<Execution>; actions?: (e: Execution) => ReactNode }) => {
  const [, navigate] = useLocation()
  return (
    <IndexTable
      resourceName={{ singular: "execution", plural: "executions" }}
      itemCount={executions.length}
      selectable={false}
      headings={[{ title: "When" }, { title: "Status" }, { title: "Trigger" }, { title: "Action" }, { title: "Resource" }, { title: actions === undefined ? "Why" : "Decide" }]}
    >
      {executions.map((e, i) => (
        <IndexTable.Row id={e.id} key={e.id} position={i} onClick={() => navigate(`/executions/${e.id}`)}>
          <IndexTable.Cell>
            <Link url={`/executions/${e.id}`} monochrome removeUnderline>
              <Text as="span" fontWeight="semibold">{formatTime(e.created_at)}</Text>
            </Link>
          </IndexTable.Cell>
          <IndexTable.Cell><StatusBadge status={e.status} /></IndexTable.Cell>
          <IndexTable.Cell>{humanize(e.trigger_event)}</IndexTable.Cell>
          <IndexTable.Cell>{humanize(e.action_key)}</IndexTable.Cell>
          <IndexTable.Cell>{resourceLabel(e)}</IndexTable.Cell>
          <IndexTable.Cell>{actions === undefined ? <Text as="span" tone="subdued">{e.detail ?? (e.reason === null ? "" : humanize(e.reason))}</Text> : actions(e)}</IndexTable.Cell>
        </IndexTable.Row>
      ))}
    </IndexTable>
  )
}
