/**
 * Runs the actions dispatch decided on, inside the shop's actor (issue 11 §3–4): every step is
 * a message → a decision on the execution's stream (`domain/automation/ExecutionRuns.ts`) →
 * after the commit, the step's side effect (`ActionSteps`) → its report published back to the
 * shop as `automation.action_report`. Nothing waits on Shopify inside a transaction, and the
 * shop's mailbox never blocks on a running action.
 *
 * - The snapshot is committed (`autoaction.snapshot_taken`) before the handler runs, so a crash
 *   after the change still knows what undo restores.
 * - Transient errors are retried with backoff (jittered) inside the step; a step that keeps
 *   failing, or fails permanently, ends the execution as `autoaction.failed` with the error in
 *   plain language — the shop's other work carries on.
 * - A durable watchdog timer per execution re-drives a step that never reported (its side
 *   effect died with a worker); handlers look their effect up before repeating it, so the
 *   re-drive does not change the shop twice.
 * - Undo (`automation.undo`): an applied execution gets `autoaction.undo_requested`, then its
 *   undoHandler runs: `autoaction.undone`, or `autoaction.undo_failed` — `changed_since` when
 *   the resource moved on after the action (retry with `force` to overwrite).
 */
import { Config, Context, Duration, Effect, Layer, Option, Result, Schedule, Schema } from "effect"
import { uuidV7Unsafe } from "effect/crypto/SecureRandom"
import {
  decideStep,
  decideUndo,
  evolveRun,
  type ExecutionRun,
  type ExecutionRunEvent,
  executionRunStreamId,
  pendingStage,
  type RequestedRun,
  type StartedRun,
  type StepName,
  type StepOutcome
} from "../../domain/automation/ExecutionRuns.ts"
import { encodeShopMessage } from "../../domain/messages/ShopMessages.ts"
import { loadFolded } from "../actors/ActorFolds.ts"
import type { Decision, HandlerRegistry, ScheduledMessage } from "../actors/ShopHandlers.ts"
import { EventStore } from "../eventstore/EventStore.ts"
import { ShopLog } from "../shoplog/ShopLog.ts"
import { type ActionError, ActionPermanent, ActionSteps, ActionTransient, type ChangedSince } from "./ActionSteps.ts"
import { executionRunFold } from "./ExecutionRunFold.ts"
import { OutboundNotifier } from "../outbound/OutboundWebhooks.ts"

export interface ActionTimings {
  /** First retry delay of a transient error (doubled each time, jittered). */
  readonly retryBaseMs: number
  /** Retries of a transient error before the execution fails. */
  readonly retries: number
  /** A step (with its retries) that takes longer fails as a timeout. */
  readonly stepTimeoutMs: number
  /** A step with no report for this long is run again (its side effect may have died with a worker); longer than the step timeout. */
  readonly watchdogMs: number
}

const defaultActionTimings: ActionTimings = { retryBaseMs: 1_000, retries: 4, stepTimeoutMs: 120_000, watchdogMs: 180_000 }

export const ActionTimings = Context.Reference<ActionTimings>("sumeru/automation/ActionTimings", { defaultValue: () => defaultActionTimings })

const PositiveInt = Schema.NumberFromString.check(Schema.isInt(), Schema.isGreaterThan(0, { message: "must be a positive integer" }))
const positive = (name: string, fallback: number) => Config.schema(PositiveInt, name).pipe(Config.withDefault(fallback))

/** The configuration is inconsistent (the message says how). */
export class ActionTimingsInvalid extends Schema.TaggedError<ActionTimingsInvalid>()("ActionTimingsInvalid", { message: Schema.String }) {}

/** The timings from configuration (`AUTOMATION_ACTION_*`); the watchdog must outlast a step's timeout. */
export const actionTimingsLayer = Layer.effect(
  ActionTimings,
  Effect.gen(function*() {
    const timings: ActionTimings = {
      retryBaseMs: yield* positive("AUTOMATION_ACTION_RETRY_BASE_MS", defaultActionTimings.retryBaseMs),
      retries: yield* Config.schema(Schema.NumberFromString.check(Schema.isInt(), Schema.isBetween({ minimum: 0, maximum: 20 })), "AUTOMATION_ACTION_RETRIES").pipe(
        Config.withDefault(defaultActionTimings.retries)
      ),
      stepTimeoutMs: yield* positive("AUTOMATION_ACTION_TIMEOUT_MS", defaultActionTimings.stepTimeoutMs),
      watchdogMs: yield* positive("AUTOMATION_ACTION_WATCHDOG_MS", defaultActionTimings.watchdogMs)
    }
    if (timings.watchdogMs <= timings.stepTimeoutMs) {
      return yield* new ActionTimingsInvalid({
        message: `AUTOMATION_ACTION_WATCHDOG_MS (${timings.watchdogMs}) must be longer than AUTOMATION_ACTION_TIMEOUT_MS (${timings.stepTimeoutMs}): a running step would be started twice`
      })
    }
    return timings
  })
)

const stepTimerId = (executionId: string) => `automation.action_step:${executionId}`

/**
 * The timer that runs `stage` of a run at `at` if the execution still waits for it then: how a
 * requested run starts (due at once, recorded in the commit that requested it) and the
 * watchdog of a running step.
 */
export const stepTimer = (run: RequestedRun, stage: StepName, at: Date, redrive = false): ScheduledMessage => ({
  id: stepTimerId(run.executionId),
  at,
  ...encodeShopMessage({
    type: "automation.action_step",
    payload: { executionId: run.executionId, stage, ...(stage === "snapshot" ? { requested: run } : {}), ...(redrive ? { redrive } : {}) }
  })
})

type StepResult = Extract<StepOutcome, { readonly ok: true }>

/** A failed step in plain language, with the code the execution records. */
const failureOf = (stage: StepName, error: ActionError | ChangedSince): StepOutcome => {
  switch (error._tag) {
    case "ActionTransient":
      return { ok: false, stage, code: "unavailable", message: `${error.message} (still failing after retries)` }
    case "ActionPermanent":
      return { ok: false, stage, code: error.code, message: error.message }
    case "ActionDeferred":
      return { ok: false, deferred: true, stage, code: error.code, message: error.message, until: new Date(Date.now() + Math.max(1_000, error.retryAfterMs)).toISOString() }
    case "ChangedSince":
      return { ok: false, stage, code: "changed_since", message: error.message }
  }
}

/** What starting steps adds to a decision: their watchdogs, and their side effects after the commit. */
export interface StartedSteps {
  readonly schedule: ReadonlyArray<ScheduledMessage>
  readonly afterCommit: Effect.Effect<void> | undefined
}

/**
 * How the runs a decision requests start. The runner's: each snapshot right after the commit,
 * its durable watchdog in the same commit (a crash before the snapshot reported is re-driven by
 * it). Without a runner (a process that only records data, e.g. tests of the data plane) the
 * runs start from durable timers due at once, for whichever process runs the actions.
 */
export class RunStarter extends Context.Service<RunStarter, {
  readonly start: (shop: string, runs: ReadonlyArray<RequestedRun>) => StartedSteps
}>()("sumeru/automation/RunStarter") {}

/** Runs started by durable timers due now (no runner in this process). */
export const startByTimers = (runs: ReadonlyArray<RequestedRun>): StartedSteps => ({
  schedule: runs.map((run) => stepTimer(run, "snapshot", new Date())),
  afterCommit: undefined
})

export const makeExecutionRunner = Effect.gen(function*() {
  const store = yield* EventStore
  const log = yield* ShopLog
  const actions = yield* ActionSteps
  const timings = yield* ActionTimings
  const notifier = yield* Effect.serviceOption(OutboundNotifier)

  const publishReport = (shop: string, executionId: string, requested: RequestedRun | undefined, outcome: StepOutcome) =>
    log.publish({
      shop,
      messageId: `action_report:${executionId}:${uuidV7Unsafe()}`,
      ...encodeShopMessage({ type: "automation.action_report", payload: { executionId, ...(requested === undefined ? {} : { requested }), outcome } }),
      correlationId: executionId
    }).pipe(
      Effect.asVoid,
      Effect.retry({ times: 5, schedule: Schedule.exponential(Duration.millis(100)) }),
      Effect.catchCause((cause) => Effect.logError(`execution ${executionId}: could not report its ${outcome.stage} (the watchdog will re-drive it)`, cause))
    )

  /** The side effect of `stage`: the action's snapshot, handler or undoHandler. */
  const sideEffect = (shop: string, stage: StepName, run: RequestedRun, state: StartedRun | undefined): Effect.Effect<StepResult, ActionError | ChangedSince> => {
    const action = actions.implementation(run.actionKey)
    if (action === undefined) return Effect.fail(new ActionPermanent({ code: "no_implementation", message: `this deploy cannot run ${run.actionKey}` }))
    switch (stage) {
      case "snapshot":
        return Effect.map(action.snapshot(shop, run), (before): StepResult => ({ ok: true, stage, before }))
      case "apply":
        return Effect.map(action.handler(shop, run, state?.before), (a): StepResult => ({ ok: true, stage, after: a.after, summary: a.summary }))
      case "undo":
        return Effect.map(
          action.undoHandler(shop, run, state?.before, state?.after, state?.undo?.force ?? false),
          (u): StepResult => ({ ok: true, stage, summary: u.summary })
        )
    }
  }

  /**
   * Starts `stage` of a run: its side effect after the commit (transient errors retried with
   * backoff, the whole bounded by the step timeout, the outcome reported to the shop) and the
   * watchdog that re-drives it if no report comes.
   */
  const start = (shop: string, stage: StepName, run: RequestedRun, state: StartedRun | undefined): StartedSteps => {
    const requested = stage === "snapshot" ? run : undefined
    const effect = sideEffect(shop, stage, run, state).pipe(
      Effect.retry({
        schedule: Schedule.jittered(Schedule.exponential(Duration.millis(timings.retryBaseMs))),
        times: timings.retries,
        while: (e) => e._tag === "ActionTransient"
      }),
      Effect.timeoutOrElse({
        duration: Duration.millis(timings.stepTimeoutMs),
        orElse: () => Effect.fail(new ActionTransient({ message: `the ${stage} took longer than ${timings.stepTimeoutMs} ms`, retryAfterMs: null }))
      }),
      Effect.match({ onSuccess: (ok): StepOutcome => ok, onFailure: (e) => failureOf(stage, e) }),
      Effect.tap((outcome) =>
        outcome.ok
          ? Effect.void
          : "deferred" in outcome
          ? Effect.logInfo(`execution ${run.executionId}: ${stage} waits until ${outcome.until} (${outcome.code}): ${outcome.message}`)
          : Effect.logWarning(`execution ${run.executionId}: ${stage} failed (${outcome.code}): ${outcome.message}`)
      ),
      Effect.flatMap((outcome) => publishReport(shop, run.executionId, requested, outcome)),
      Effect.annotateLogs({ shop_id: shop, execution_id: run.executionId, action_key: run.actionKey, step: stage })
    )
    return { schedule: [stepTimer(run, stage, new Date(Date.now() + timings.watchdogMs), true)], afterCommit: effect }
  }

  const loadRun = (shop: string, executionId: string) =>
    loadFolded(executionRunStreamId(shop, executionId), executionRunFold).pipe(Effect.provideService(EventStore, store))

  /**
   * Appends `events` to the run's stream and starts what the new state waits for (or ends the
   * watchdog); an applied, undone or failed run is also delivered to the shop's outbound webhook
   * subscribers (when this process delivers them), in the same commit.
   */
  const advance = (shop: string, executionId: string, version: number, events: ReadonlyArray<ExecutionRunEvent>, after: StartedRun | undefined) =>
    Effect.gen(function*() {
      if (events.length === 0) return { appends: [] } as Decision
      const appends: Array<Decision["appends"][number]> = [{
        streamId: executionRunStreamId(shop, executionId),
        expected: version === 0 ? "no_stream" : version,
        events: events.map((e) => ({ type: e.type, data: e }))
      }]
      const notified = Option.isSome(notifier) ? yield* notifier.value.notify(shop, events, new Date()) : undefined
      const effects = [...(notified?.afterCommit === undefined ? [] : [notified.afterCommit])]
      appends.push(...(notified?.appends ?? []))
      const next = after === undefined ? undefined : pendingStage(after)
      if (after === undefined || next === undefined) {
        const decision: Decision = {
          appends,
          schedule: notified?.schedule ?? [],
          cancelTimers: [stepTimerId(executionId)],
          afterCommit: effects.length === 0 ? undefined : Effect.forEach(effects, (e) => e, { discard: true })
        }
        return decision
      }
      const started = start(shop, next, after.run, after)
      if (started.afterCommit !== undefined) effects.push(started.afterCommit)
      const decision: Decision = {
        appends,
        schedule: [...started.schedule, ...(notified?.schedule ?? [])],
        afterCommit: effects.length === 0 ? undefined : Effect.forEach(effects, (e) => e, { discard: true, concurrency: "unbounded" })
      }
      return decision
    })

  const fold = (state: ExecutionRun, events: ReadonlyArray<ExecutionRunEvent>): ExecutionRun => events.reduce(evolveRun, state)

  const handlers = {
    "automation.action_report": (ctx) =>
      Effect.gen(function*() {
        const { executionId, requested, outcome } = ctx.message.payload
        const { state, version } = yield* loadRun(ctx.shop, executionId)
        const events = decideStep(state, requested, outcome)
        if ("deferred" in outcome) {
          // the step waits: recorded, and its timer (the watchdog's) moved to when it may run again
          const run = state.status === "requested" ? requested : state.run
          if (events.length === 0 || run === undefined) return { appends: [] } as Decision
          const decision: Decision = {
            appends: [{
              streamId: executionRunStreamId(ctx.shop, executionId),
              expected: version === 0 ? "no_stream" : version,
              events: events.map((e) => ({ type: e.type, data: e }))
            }],
            schedule: [stepTimer(run, outcome.stage, new Date(outcome.until))]
          }
          return decision
        }
        const after = fold(state, events)
        return yield* advance(ctx.shop, executionId, version, events, after.status === "requested" ? undefined : after)
      }),
    // a requested run's first step, or a step that never reported: run it if the execution still waits for it
    "automation.action_step": (ctx) =>
      Effect.gen(function*() {
        const { executionId, stage, requested, redrive } = ctx.message.payload
        const { state } = yield* loadRun(ctx.shop, executionId)
        if (pendingStage(state) !== stage) return { appends: [] }
        const run = state.status === "requested" ? requested : state.run
        if (run === undefined) return { appends: [] }
        if (redrive === true) yield* Effect.logWarning(`execution ${executionId}: no report of its ${stage} in time; running it again`)
        const started = start(ctx.shop, stage, run, state.status === "requested" ? undefined : state)
        return { appends: [], schedule: started.schedule, afterCommit: started.afterCommit }
      }),
    "automation.undo": (ctx) =>
      Effect.gen(function*() {
        const { executionId, commandId, by, force } = ctx.message.payload
        const { state, version } = yield* loadRun(ctx.shop, executionId)
        const decided = decideUndo(state, { commandId, by, force })
        if (Result.isFailure(decided)) {
          yield* Effect.logInfo(`execution ${executionId}: undo by ${by} refused (${decided.failure.code}): ${decided.failure.message}`)
          return { appends: [] }
        }
        const after = fold(state, decided.success)
        return yield* advance(ctx.shop, executionId, version, decided.success, after.status === "requested" ? undefined : after)
      })
  } satisfies Partial<HandlerRegistry>

  /** The requested runs' snapshots, after the commit that requested them. */
  const starter = RunStarter.of({
    start: (shop, runs) => {
      const started = runs.map((run) => start(shop, "snapshot", run, undefined))
      const effects = started.flatMap((s) => (s.afterCommit === undefined ? [] : [s.afterCommit]))
      return {
        schedule: started.flatMap((s) => s.schedule),
        afterCommit: effects.length === 0 ? undefined : Effect.forEach(effects, (e) => e, { discard: true, concurrency: "unbounded" })
      }
    }
  })

  return { handlers, starter }
})

