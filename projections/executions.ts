/**
 * `executions`: one row per execution — a rule on one resource of one trigger — with its
 * latest outcome and why: `requested` (the action runs), `skipped` (with the reason: condition,
 * cooldown, plan, resource type), `deferred` (quiet hours, until when), `awaiting_approval`.
 * A deferral re-checked later keeps its execution id, so its row moves on to its new outcome.
 * What `GET /app/executions` reads; folded from the `autoaction.*` events of `automation-<shop>`
 * (`domain/automation/Executions.ts`). An event that does not decode stops the projection
 * naming its position — never skipped.
 */
import { Effect } from "effect"
import { ExecutionEvent } from "../domain/automation/Executions.ts"
import type { Projection } from "../src/projections/Projection.ts"
import { decodeData } from "./eventData.ts"

/** Each execution event and the status it leaves its execution in. */
const STATUS: { readonly [T in ExecutionEvent["type"]]: string } = {
  "autoaction.skipped": "skipped",
  "autoaction.deferred": "deferred",
  "autoaction.awaiting_approval": "awaiting_approval",
  "autoaction.requested": "requested",
  "autoaction.approved": "approved",
  "autoaction.rejected": "rejected",
  "autoaction.approval_expired": "expired"
}

export const EXECUTION_EVENT_TYPES = Object.keys(STATUS) as ReadonlyArray<ExecutionEvent["type"]>
export const EXECUTION_STATUSES: ReadonlyArray<string> = [...new Set(Object.values(STATUS))]

export const executionsProjection: Projection = {
  name: "executions",
  version: 2,
  eventTypes: [...EXECUTION_EVENT_TYPES],
  tables: [{
    name: "executions",
    columns: [
      "shop text NOT NULL",
      "execution_id text NOT NULL",
      "status text NOT NULL",
      "rule_id text NOT NULL",
      "rule_version integer NOT NULL",
      "trigger_id text NOT NULL",
      "trigger_event text NOT NULL",
      "action_key text NOT NULL",
      "resource_type text NOT NULL",
      "resource_id text NOT NULL",
      "reason text",
      "detail text",
      "until timestamptz",
      "params jsonb",
      "created_at timestamptz NOT NULL",
      "updated_at timestamptz NOT NULL"
    ],
    primaryKey: ["shop", "execution_id"],
    // the admin list: newest first, by rule and/or status
    indexes: [["shop", "created_at", "execution_id"], ["shop", "rule_id", "created_at"], ["shop", "status", "created_at"]],
    shopColumn: "shop"
  }],
  apply: (events, { sql, table }) =>
    Effect.forEach(events, (e) =>
      Effect.gen(function*() {
        const x = yield* decodeData(ExecutionEvent, e)
        const t = sql.unsafe(table("executions"))
        const at = e.occurredAt.toISOString()
        const reason = x.type === "autoaction.skipped" || x.type === "autoaction.deferred" || x.type === "autoaction.rejected" ? x.reason : null
        const detail = x.type === "autoaction.skipped" ? x.detail : x.type === "autoaction.approved" || x.type === "autoaction.rejected" ? `by ${x.by}` : null
        const until = x.type === "autoaction.deferred" ? x.until : x.type === "autoaction.skipped" ? x.until ?? null : null
        const params = x.type === "autoaction.requested" || x.type === "autoaction.awaiting_approval" ? JSON.stringify(x.params) : null
        // the end of an approval keeps what the execution would run with
        const keepParams = x.type === "autoaction.approved" || x.type === "autoaction.rejected" || x.type === "autoaction.approval_expired"
        yield* sql`
          INSERT INTO ${t} (shop, execution_id, status, rule_id, rule_version, trigger_id, trigger_event, action_key,
                            resource_type, resource_id, reason, detail, until, params, created_at, updated_at)
          VALUES (${e.shop}, ${x.executionId}, ${STATUS[x.type]}, ${x.ruleId}, ${x.ruleVersion}, ${x.triggerId}, ${x.triggerEvent},
                  ${x.actionKey}, ${x.resourceType}, ${x.resourceId}, ${reason}, ${detail}, ${until}::timestamptz, ${params}::jsonb, ${at}, ${at})
          ON CONFLICT (shop, execution_id) DO UPDATE SET
            status = EXCLUDED.status, rule_version = EXCLUDED.rule_version, reason = EXCLUDED.reason, detail = EXCLUDED.detail,
            until = EXCLUDED.until, params = CASE WHEN ${keepParams} THEN ${t}.params ELSE EXCLUDED.params END,
            updated_at = EXCLUDED.updated_at`
      }), { discard: true })
}
