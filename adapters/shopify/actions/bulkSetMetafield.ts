/**
 * `bulk_set_metafield` (any trigger): starts a Flowmend bulk metafield job (seed 002's job,
 * the existing job process) for the rule's product query; undo is the job's undo.
 *
 * - snapshot: nothing to read — the job takes its own snapshot of every product it will change
 *   (and its undo restores from it, refusing `changed_since` per product unless forced).
 * - handler: publishes the job's request with an id derived from the execution, so a re-run
 *   after a crash is the same job (the shop log and the job decider both drop the repeat).
 * - undoHandler: once the job completed, requests its undo (also with a derived id); a job still
 *   running cannot be undone yet.
 */
import { Effect, Result, Schema } from "effect"
import { actionMeta } from "../../../domain/automation/Actions.ts"
import { DryRunField, KeyField, MaxItemsField, NamespaceField, QueryStringField, TypeField, ValueField } from "../../../domain/jobs/FlowActionInput.ts"
import { encodeShopMessage } from "../../../domain/messages/ShopMessages.ts"
import { ActionPermanent, type ActionImplementation, ActionTransient } from "../../../src/automation/ActionSteps.ts"
import { EventStore } from "../../../src/eventstore/EventStore.ts"
import { nameBasedUuid } from "../../../src/ids/NameBasedUuid.ts"
import { inputHashOf } from "../../../src/jobs/JobIngress.ts"
import { jobStateFold } from "../../../src/jobs/JobStateFold.ts"
import { ShopLog } from "../../../src/shoplog/ShopLog.ts"

export const meta = actionMeta("bulk_set_metafield")!

/** The job's parameters from the rule's params, checked as the Flow action's are. */
const JobParams = Schema.Struct({
  queryString: QueryStringField,
  namespace: NamespaceField,
  key: KeyField,
  type: TypeField,
  value: ValueField,
  dryRun: DryRunField,
  maxItems: MaxItemsField
})
const decodeParams = Schema.decodeUnknownResult(JobParams)

/** The same execution always names the same job. */
export const derivedUuid = (name: string): string => nameBasedUuid("sumeru.automation", name)

export interface BulkSetMetafieldAfter {
  readonly jobId: string
}

const unavailable = (e: { readonly _tag: string }) => new ActionTransient({ message: `the shop log did not take the request (${e._tag})`, retryAfterMs: null })

export const bulkSetMetafield: ActionImplementation<ShopLog | EventStore> = {
  snapshot: () => Effect.succeed(null),
  handler: (shop, run) =>
    Effect.gen(function*() {
      const decoded = decodeParams(run.params)
      if (Result.isFailure(decoded)) return yield* Effect.fail(new ActionPermanent({ code: "invalid_params", message: `the rule's job parameters are invalid: ${decoded.failure.message}` }))
      const input = { ...decoded.success, maxItems: Math.trunc(decoded.success.maxItems) }
      const jobId = derivedUuid(`${shop}:${run.executionId}`)
      const log = yield* ShopLog
      yield* log.publish({
        shop,
        messageId: `job.request:${jobId}`,
        ...encodeShopMessage({
          type: "job.request",
          payload: { jobId, input, inputHash: inputHashOf(shop, input), actionRunId: null, source: "automation", requestedBy: `rule:${run.ruleId}`, at: new Date().toISOString() }
        }),
        correlationId: run.executionId
      }).pipe(Effect.mapError(unavailable))
      return {
        after: { jobId } satisfies BulkSetMetafieldAfter,
        summary: `started bulk job ${jobId}: ${input.namespace}.${input.key} = "${input.value}" on products matching "${input.queryString}"${input.dryRun ? " (dry run)" : ""}`
      }
    }),
  undoHandler: (shop, run, _before, after, force) =>
    Effect.gen(function*() {
      const { jobId } = after as BulkSetMetafieldAfter
      const store = yield* EventStore
      const { state } = yield* store.loadFold(`job-${jobId}`, jobStateFold).pipe(Effect.mapError(unavailable))
      if (!state.exists) return yield* Effect.fail(new ActionPermanent({ code: "job_missing", message: `bulk job ${jobId} was never recorded` }))
      if (state.input.dryRun) return { summary: `nothing to undo: bulk job ${jobId} was a dry run` }
      if (state.status !== "COMPLETED") {
        return yield* Effect.fail(new ActionPermanent({ code: "job_not_finished", message: `bulk job ${jobId} is ${state.status.toLowerCase()}: only a completed job can be undone` }))
      }
      const undoJobId = derivedUuid(`${shop}:${run.executionId}:undo${force ? ":forced" : ""}`)
      const log = yield* ShopLog
      yield* log.publish({
        shop,
        messageId: `job.undo:${undoJobId}`,
        ...encodeShopMessage({ type: "job.undo", payload: { jobId, undoJobId, requestedBy: `rule:${run.ruleId}`, ...(force ? { force } : {}) } }),
        correlationId: run.executionId
      }).pipe(Effect.mapError(unavailable))
      return { summary: `started undo job ${undoJobId} of bulk job ${jobId} (products changed since are kept${force ? "; forced: overwritten" : ""})` }
    })
}
