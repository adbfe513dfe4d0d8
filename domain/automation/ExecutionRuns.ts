/**
 * What happens to an execution once dispatch decided it runs (`autoaction.requested`): the
 * seed's "snapshot + handler + undo" as events on the execution's own stream
 * (`autoaction-<shop>-<executionId>`), decided by the shop's actor from the reports of the action's
 * side effects (each runs after a commit, never inside one):
 *
 *   requested ──snapshot──▶ `autoaction.snapshot_taken` (the resource before: recorded before
 *                           the handler runs, so a crash after it never loses what to restore)
 *             ──handler───▶ `autoaction.applied` (before, after, a plain-language summary)
 *   either step failing     `autoaction.failed` (stage, code, message; transient errors were
 *                           retried with backoff first)
 *   a step told to wait     `autoaction.run_deferred` (stage, code, message, until): a limit
 *                           stopped it before it did anything (the shop's AI rate limit or
 *                           budget); the step runs again at `until`, from a durable timer
 *   applied ──undo─────────▶ `autoaction.undo_requested` (by whom, forced or not)
 *             ──undoHandler▶ `autoaction.undone`, or `autoaction.undo_failed` — `changed_since`
 *                           when someone changed the resource after the action (undo never
 *                           overwrites a later change unless forced), else the error.
 *
 * An execution's stream is small and its own, so undoing an execution of last year reads a
 * handful of events, not the shop's whole automation history.
 */
import { Result, Schema } from "effect"

/** The execution's identity, carried by each of its events (for the read models and the audit). */
export const ExecutionIdentity = Schema.Struct({
  executionId: Schema.String,
  ruleName: Schema.optional(Schema.String),
  resourceLabel: Schema.optional(Schema.String),
  triggerId: Schema.String,
  triggerEvent: Schema.String,
  ruleId: Schema.String,
  ruleVersion: Schema.Int,
  actionKey: Schema.String,
  resourceType: Schema.String,
  resourceId: Schema.String
})
export type ExecutionIdentity = typeof ExecutionIdentity.Type

/** What the action runs with: the execution, its params and the resource's payload from the trigger. */
export const RequestedRun = Schema.Struct({
  ...ExecutionIdentity.fields,
  params: Schema.Record(Schema.String, Schema.Unknown),
  resourcePayload: Schema.optional(Schema.Unknown),
  /** The trigger's own fields (e.g. an ads trigger's `platform`). */
  triggerFields: Schema.optional(Schema.Record(Schema.String, Schema.Unknown))
})
export type RequestedRun = typeof RequestedRun.Type

export const RUN_STAGES = ["snapshot", "apply"] as const
export type RunStage = typeof RUN_STAGES[number]

export const ExecutionRunEvent = Schema.Union([
  Schema.Struct({ type: Schema.Literal("autoaction.snapshot_taken"), ...RequestedRun.fields, before: Schema.Unknown }),
  Schema.Struct({
    type: Schema.Literal("autoaction.applied"),
    ...ExecutionIdentity.fields,
    before: Schema.Unknown,
    after: Schema.Unknown,
    /** What the action did, in plain language ("added the tags needs-review"). */
    summary: Schema.String
  }),
  Schema.Struct({
    type: Schema.Literal("autoaction.failed"),
    ...ExecutionIdentity.fields,
    stage: Schema.Literals(RUN_STAGES),
    code: Schema.String,
    message: Schema.String
  }),
  Schema.Struct({
    type: Schema.Literal("autoaction.run_deferred"),
    ...ExecutionIdentity.fields,
    stage: Schema.Literals(["snapshot", "apply", "undo"]),
    /** What stopped it, e.g. `BUDGET_EXCEEDED` or `RATE_LIMIT`. */
    code: Schema.String,
    message: Schema.String,
    /** When the step runs again (ISO instant). */
    until: Schema.String
  }),
  Schema.Struct({
    type: Schema.Literal("autoaction.undo_requested"),
    ...ExecutionIdentity.fields,
    commandId: Schema.String,
    by: Schema.String,
    force: Schema.Boolean
  }),
  Schema.Struct({ type: Schema.Literal("autoaction.undone"), ...ExecutionIdentity.fields, by: Schema.String, summary: Schema.String }),
  Schema.Struct({
    type: Schema.Literal("autoaction.undo_failed"),
    ...ExecutionIdentity.fields,
    by: Schema.String,
    /** `changed_since`: the resource changed after the action (retry with force to overwrite). */
    code: Schema.String,
    message: Schema.String
  })
])
export type ExecutionRunEvent = typeof ExecutionRunEvent.Type

const decode = Schema.decodeUnknownResult(ExecutionRunEvent)
export const decodeExecutionRunEvent = (data: unknown): ExecutionRunEvent | undefined => {
  const d = decode(data)
  return Result.isSuccess(d) ? d.success : undefined
}

/** The stream of one execution's run; named by the shop too, so no lookup can reach another shop's run. */
export const executionRunStreamId = (shop: string, executionId: string): string => `autoaction-${shop}-${executionId}`

/** Where an execution's run stands, folded from its stream (the fold's snapshot schema too). */
export const ExecutionRun = Schema.Union([
  Schema.Struct({ status: Schema.Literal("requested") }),
  Schema.Struct({
    status: Schema.Literals(["snapshot_taken", "applied", "failed", "undo_requested", "undone", "undo_failed"]),
    run: RequestedRun,
    /** Unknown (undefined) while it failed before its snapshot. */
    before: Schema.Unknown,
    after: Schema.Unknown,
    undo: Schema.NullOr(Schema.Struct({ commandId: Schema.String, by: Schema.String, force: Schema.Boolean }))
  })
])
export type ExecutionRun = typeof ExecutionRun.Type
/** A run past its request: it has a stream. */
export type StartedRun = Exclude<ExecutionRun, { readonly status: "requested" }>

export const initialRun: ExecutionRun = { status: "requested" }

/** Just the identity of an event or run about an execution (its other fields left out). */
export const identityOf = (e: ExecutionIdentity): ExecutionIdentity => ({
  executionId: e.executionId,
  ...(e.ruleName === undefined ? {} : { ruleName: e.ruleName }),
  ...(e.resourceLabel === undefined ? {} : { resourceLabel: e.resourceLabel }),
  triggerId: e.triggerId,
  triggerEvent: e.triggerEvent,
  ruleId: e.ruleId,
  ruleVersion: e.ruleVersion,
  actionKey: e.actionKey,
  resourceType: e.resourceType,
  resourceId: e.resourceId
})

export const evolveRun = (state: ExecutionRun, e: ExecutionRunEvent): ExecutionRun => {
  switch (e.type) {
    case "autoaction.snapshot_taken": {
      const { type: _type, before, ...run } = e
      return { status: "snapshot_taken", run, before, after: undefined, undo: null }
    }
    case "autoaction.applied":
      return state.status === "requested" ? state : { ...state, status: "applied", after: e.after }
    case "autoaction.failed":
      // a run that failed before its snapshot knows only its identity
      return state.status === "requested"
        ? { status: "failed", run: { ...identityOf(e), params: {} }, before: undefined, after: undefined, undo: null }
        : { ...state, status: "failed" }
    case "autoaction.run_deferred":
      // the step waits: nothing changed, the same step is pending
      return state
    case "autoaction.undo_requested":
      return state.status === "requested" ? state : { ...state, status: "undo_requested", undo: { commandId: e.commandId, by: e.by, force: e.force } }
    case "autoaction.undone":
      return state.status === "requested" ? state : { ...state, status: "undone" }
    case "autoaction.undo_failed":
      return state.status === "requested" ? state : { ...state, status: "undo_failed" }
  }
}

/** What an action's side effect reported (the payload of the report the actor decides on). */
export const StepOutcome = Schema.Union([
  // a step a limit told to wait: before the plain failure (a union member ignores extra fields)
  Schema.Struct({
    ok: Schema.Literal(false),
    deferred: Schema.Literal(true),
    stage: Schema.Literals(["snapshot", "apply", "undo"]),
    code: Schema.String,
    message: Schema.String,
    until: Schema.String
  }),
  Schema.Struct({ ok: Schema.Literal(true), stage: Schema.Literal("snapshot"), before: Schema.Unknown }),
  Schema.Struct({ ok: Schema.Literal(true), stage: Schema.Literal("apply"), after: Schema.Unknown, summary: Schema.String }),
  Schema.Struct({ ok: Schema.Literal(true), stage: Schema.Literal("undo"), summary: Schema.String }),
  Schema.Struct({ ok: Schema.Literal(false), stage: Schema.Literals(["snapshot", "apply", "undo"]), code: Schema.String, message: Schema.String })
])
export type StepOutcome = typeof StepOutcome.Type
export type StepName = StepOutcome["stage"]

/**
 * The events a step's report leads to — nothing when the execution moved on (a late or repeated
 * report: the step it answers is over). `requested` is the run as dispatch recorded it, carried
 * by the snapshot step's report because the execution's stream is empty until the snapshot.
 */
export const decideStep = (state: ExecutionRun, requested: RequestedRun | undefined, outcome: StepOutcome): ReadonlyArray<ExecutionRunEvent> => {
  if ("deferred" in outcome) {
    if (pendingStage(state) !== outcome.stage) return []
    const run = state.status === "requested" ? requested : state.run
    if (run === undefined) return []
    return [{ type: "autoaction.run_deferred", ...identityOf(run), stage: outcome.stage, code: outcome.code, message: outcome.message, until: outcome.until }]
  }
  switch (outcome.stage) {
    case "snapshot": {
      if (state.status !== "requested" || requested === undefined) return []
      return outcome.ok
        ? [{ type: "autoaction.snapshot_taken", ...requested, before: outcome.before }]
        : [{ type: "autoaction.failed", ...identityOf(requested), stage: "snapshot", code: outcome.code, message: outcome.message }]
    }
    case "apply": {
      if (state.status !== "snapshot_taken") return []
      const id = identityOf(state.run)
      return outcome.ok
        ? [{ type: "autoaction.applied", ...id, before: state.before, after: outcome.after, summary: outcome.summary }]
        : [{ type: "autoaction.failed", ...id, stage: "apply", code: outcome.code, message: outcome.message }]
    }
    case "undo": {
      if (state.status !== "undo_requested" || state.undo === null) return []
      const id = identityOf(state.run)
      return outcome.ok
        ? [{ type: "autoaction.undone", ...id, by: state.undo.by, summary: outcome.summary }]
        : [{ type: "autoaction.undo_failed", ...id, by: state.undo.by, code: outcome.code, message: outcome.message }]
    }
  }
}

/** Why an execution cannot be undone now. */
export type UndoRefusal =
  | { readonly code: "not_applied"; readonly message: string }
  | { readonly code: "undo_in_progress"; readonly message: string }
  | { readonly code: "already_undone"; readonly message: string }

/**
 * An undo request: an applied execution (or one whose undo failed — a retry, perhaps forced)
 * gets `autoaction.undo_requested`; anything else is refused with the reason.
 */
export const decideUndo = (
  state: ExecutionRun,
  request: { readonly commandId: string; readonly by: string; readonly force: boolean }
): Result.Result<ReadonlyArray<ExecutionRunEvent>, UndoRefusal> => {
  switch (state.status) {
    case "applied":
    case "undo_failed":
      return Result.succeed([{ type: "autoaction.undo_requested", ...identityOf(state.run), ...request }])
    case "undo_requested":
      return Result.fail({ code: "undo_in_progress", message: `an undo requested by ${state.undo?.by ?? "someone"} is running` })
    case "undone":
      return Result.fail({ code: "already_undone", message: "the execution was already undone" })
    default:
      return Result.fail({ code: "not_applied", message: `only an applied execution can be undone (this one is ${state.status})` })
  }
}

/** The step an execution waits for, from its state alone (after a crash: what to re-drive). */
export const pendingStage = (state: ExecutionRun): StepName | undefined =>
  state.status === "requested" ? "snapshot" : state.status === "snapshot_taken" ? "apply" : state.status === "undo_requested" ? "undo" : undefined
