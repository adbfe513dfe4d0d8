/**
 * `executions`: one row per execution — a rule on one resource of one trigger — with its
 * latest outcome and why: `requested` (the action is to run), `skipped` (with the reason:
 * condition, cooldown, plan, resource type), `deferred` (quiet hours, until when),
 * `awaiting_approval`; then the run (`domain/automation/ExecutionRuns.ts`): `running` (its
 * snapshot taken), `applied` (before and after, what it did), `failed` (the code and the error
 * in plain language), `undo_requested`, `undone`, `undo_failed` (`changed_since` or the error).
 * A deferral re-checked later keeps its execution id, so its row moves on to its new outcome.
 * What `GET /app/executions` reads; folded from the `autoaction.*` events of `automation-<shop>`
 * (`domain/automation/Executions.ts`). An event that does not decode stops the projection
 * naming its position — never skipped.
 */
import { Effect } from "effect"
import { ExecutionRunEvent } from "../domain/automation/ExecutionRuns.ts"
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
  "autoaction.approval_expired": "expired",
  "autoaction.cancelled": "cancelled"
}

/** Each event of a run and the status it leaves its execution in. */
const RUN_STATUS: { readonly [T in ExecutionRunEvent["type"]]: string } = {
  "autoaction.snapshot_taken": "running",
  "autoaction.applied": "applied",
  "autoaction.failed": "failed",
  "autoaction.run_deferred": "deferred",
  "autoaction.undo_requested": "undo_requested",
  "autoaction.undone": "undone",
  "autoaction.undo_failed": "undo_failed"
}

export const EXECUTION_EVENT_TYPES = Object.keys(STATUS) as ReadonlyArray<ExecutionEvent["type"]>
const RUN_EVENT_TYPES = Object.keys(RUN_STATUS) as ReadonlyArray<ExecutionRunEvent["type"]>
export const EXECUTION_STATUSES: ReadonlyArray<string> = [...new Set([...Object.values(STATUS), ...Object.values(RUN_STATUS)])]
const isRunEvent = (type: string): type is ExecutionRunEvent["type"] => Object.hasOwn(RUN_STATUS, type)

export const executionsProjection: Projection = {
  name: "executions",
  version: 4,
  eventTypes: [...EXECUTION_EVENT_TYPES, ...RUN_EVENT_TYPES],
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
      "before jsonb",
      "after jsonb",
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
        const t = sql.unsafe(table("executions"))
        const at = e.occurredAt.toISOString()
        if (isRunEvent(e.type)) {
          // a run's step moves the row on (the row exists: `autoaction.requested` came first on the shop's log)
          const r = yield* decodeData(ExecutionRunEvent, e)
          const reason = r.type === "autoaction.failed" || r.type === "autoaction.undo_failed" || r.type === "autoaction.run_deferred" ? r.code : null
          const detail = r.type === "autoaction.applied" || r.type === "autoaction.undone"
            ? r.summary
            : r.type === "autoaction.failed" || r.type === "autoaction.undo_failed" || r.type === "autoaction.run_deferred"
            ? r.message
            : r.type === "autoaction.undo_requested" ? `by ${r.by}${r.force ? " (forced)" : ""}` : null
          const until = r.type === "autoaction.run_deferred" ? r.until : null
          const before = r.type === "autoaction.snapshot_taken" || r.type === "autoaction.applied" ? JSON.stringify(r.before ?? null) : null
          const after = r.type === "autoaction.applied" ? JSON.stringify(r.after ?? null) : null
          yield* sql`
            UPDATE ${t} SET status = ${RUN_STATUS[r.type]}, reason = ${reason}, detail = ${detail}, until = ${until}::timestamptz,
                   before = COALESCE(${before}::jsonb, before), after = COALESCE(${after}::jsonb, after), updated_at = ${at}
             WHERE shop = ${e.shop} AND execution_id = ${r.executionId}`
          return
        }
        const x = yield* decodeData(ExecutionEvent, e)
        const reason = x.type === "autoaction.skipped" || x.type === "autoaction.deferred" || x.type === "autoaction.rejected" ? x.reason : null
        const detail = x.type === "autoaction.skipped" ? x.detail : x.type === "autoaction.approved" || x.type === "autoaction.rejected" || x.type === "autoaction.cancelled" ? `by ${x.by}` : null
        const until = x.type === "autoaction.deferred" ? x.until : x.type === "autoaction.skipped" ? x.until ?? null : null
        const params = x.type === "autoaction.requested" || x.type === "autoaction.awaiting_approval" ? JSON.stringify(x.params) : null
        // the end of an approval keeps what the execution would run with
        const keepParams = x.type === "autoaction.approved" || x.type === "autoaction.rejected" || x.type === "autoaction.approval_expired" || x.type === "autoaction.cancelled"
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
