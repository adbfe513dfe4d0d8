/**
 * Undoing an execution as the admin API uses it: the request goes to the shop's actor (the
 * single writer), and the caller waits, bounded, for the undo's end on the execution's stream —
 * `undone`, or `undo_failed` with the reason (`changed_since`: someone changed the resource
 * after the action; ask again with `force` to overwrite). An execution that cannot be undone now
 * is refused before anything is sent, with the reason from the same decider the actor uses.
 */
import { Duration, Effect, Option, Result, Stream } from "effect"
import { uuidV7Unsafe } from "effect/crypto/SecureRandom"
import { decideUndo, decodeExecutionRunEvent, executionRunStreamId, type UndoRefusal } from "../../domain/automation/ExecutionRuns.ts"
import { encodeShopMessage } from "../../domain/messages/ShopMessages.ts"
import { EventStore } from "../eventstore/EventStore.ts"
import { awaitCommitted } from "../eventstore/LogWakeups.ts"
import { ShopLog } from "../shoplog/ShopLog.ts"
import { executionRunFold } from "./ExecutionRunFold.ts"
import { automationFold, automationStreamId } from "./AutomationFold.ts"

export type UndoOutcome =
  | { readonly _tag: "Undone"; readonly summary: string }
  | { readonly _tag: "Cancelled" }
  | { readonly _tag: "UndoFailed"; readonly code: string; readonly message: string }
  | { readonly _tag: "Refused"; readonly refusal: UndoRefusal }
  | { readonly _tag: "Pending" }

export const submitUndo = (
  shop: string,
  executionId: string,
  request: { readonly by: string; readonly force: boolean },
  wait: Duration.Input = Duration.seconds(10)
) =>
  Effect.gen(function*() {
    const store = yield* EventStore
    const log = yield* ShopLog
    const streamId = executionRunStreamId(shop, executionId)
    const commandId = uuidV7Unsafe()
    const { state, version: before } = yield* store.loadFold(streamId, executionRunFold)
    // not run yet, deferred by quiet hours: undo cancels it
    const { state: automation, version: automationBefore } = yield* store.loadFold(automationStreamId(shop), automationFold)
    if (state.status === "requested" && automation.deferred[executionId] !== undefined) {
      yield* log.publish({
        shop,
        messageId: `cancel:${commandId}`,
        ...encodeShopMessage({ type: "automation.cancel", payload: { executionId, by: request.by } }),
        correlationId: executionId
      })
      // the deferral's end: cancelled by this request, or whatever came first (the window ended, the rule changed)
      const ended = Effect.gen(function*() {
        const { state: now, version } = yield* store.loadFold(automationStreamId(shop), automationFold)
        if (version === automationBefore || now.deferred[executionId] !== undefined) return Option.none<UndoOutcome>()
        const last = yield* Stream.runLast(Stream.filter(store.readStream(automationStreamId(shop), { from: automationBefore + 1 }), (e) => (e.data as { executionId?: string }).executionId === executionId))
        return Option.map(last, (e): UndoOutcome =>
          e.type === "autoaction.cancelled"
            ? { _tag: "Cancelled" }
            : { _tag: "Refused", refusal: { code: "not_applied", message: `it was ${e.type.replace("autoaction.", "")} before the cancel arrived` } })
      })
      return yield* awaitCommitted(ended, wait).pipe(Effect.map(Option.getOrElse((): UndoOutcome => ({ _tag: "Pending" }))))
    }
    const decided = decideUndo(state, { commandId, ...request })
    if (Result.isFailure(decided)) return { _tag: "Refused", refusal: decided.failure } as UndoOutcome
    yield* log.publish({
      shop,
      messageId: `undo:${commandId}`,
      ...encodeShopMessage({ type: "automation.undo", payload: { executionId, commandId, ...request } }),
      correlationId: executionId
    })
    // this request's undo_requested, then its end
    const outcome = Effect.map(Stream.runCollect(store.readStream(streamId, { from: before + 1 })), (events) => {
      let ours = false
      for (const e of events) {
        const r = decodeExecutionRunEvent(e.data)
        if (r?.type === "autoaction.undo_requested") ours = r.commandId === commandId
        else if (ours && r?.type === "autoaction.undone") return Option.some<UndoOutcome>({ _tag: "Undone", summary: r.summary })
        else if (ours && r?.type === "autoaction.undo_failed") return Option.some<UndoOutcome>({ _tag: "UndoFailed", code: r.code, message: r.message })
      }
      return Option.none<UndoOutcome>()
    })
    return yield* awaitCommitted(outcome, wait).pipe(Effect.map(Option.getOrElse((): UndoOutcome => ({ _tag: "Pending" }))))
  })
