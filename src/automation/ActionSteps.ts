/**
 * The contract of the decision plane's actions (issue 11 §4, the seed's `000_…` §03): for each
 * action key, `snapshot` (read what the action will change), `handler` (change it, given the
 * snapshot) and `undoHandler` (put the snapshot back). The shop's actor runs them after its
 * commits (`ExecutionRunner.ts`); the implementations live with their adapters
 * (`adapters/shopify/actions/`), one file per action.
 *
 * Exactly once: a handler may run again for the same execution (a worker killed after the
 * mutation, before its report was committed), so each handler looks its effect up before
 * repeating it — tags already there are not added again, a redirect already created is not
 * created again — and computes what it did from the recorded snapshot, not from the resource
 * as it finds it.
 */
import { Context, Effect, Schema } from "effect"
import type { RequestedRun } from "../../domain/automation/ExecutionRuns.ts"

/** Worth retrying (throttled, a dependency down): retried with backoff inside the execution. */
export class ActionTransient extends Schema.TaggedError<ActionTransient>()("ActionTransient", {
  message: Schema.String,
  retryAfterMs: Schema.NullOr(Schema.Number)
}) {}

/** Retrying cannot help (the resource is gone, Shopify refused the change): the execution fails. */
export class ActionPermanent extends Schema.TaggedError<ActionPermanent>()("ActionPermanent", {
  code: Schema.String,
  message: Schema.String
}) {}

/**
 * A limit stopped the step before it did anything (the shop's AI rate limit or monthly budget):
 * the execution waits — a durable timer runs the step again after `retryAfterMs` — instead of
 * failing, and the audit log says why.
 */
export class ActionDeferred extends Schema.TaggedError<ActionDeferred>()("ActionDeferred", {
  code: Schema.String,
  message: Schema.String,
  retryAfterMs: Schema.Number
}) {}

/** Undo refused: the resource changed after the action, and undoing would overwrite that change. */
export class ChangedSince extends Schema.TaggedError<ChangedSince>()("ChangedSince", {
  message: Schema.String
}) {}

export type ActionError = ActionTransient | ActionPermanent | ActionDeferred

export interface ActionApplied {
  /** The resource after the action, as the action sees it (what undo compares against). */
  readonly after: unknown
  /** What the action did, in plain language, e.g. "added the tags needs-review". */
  readonly summary: string
}

/** One action's side effects, for one shop. */
export interface ActionImplementation<R = never> {
  readonly snapshot: (shop: string, run: RequestedRun) => Effect.Effect<unknown, ActionError, R>
  readonly handler: (shop: string, run: RequestedRun, before: unknown) => Effect.Effect<ActionApplied, ActionError, R>
  /** Restores `before`; refuses with `ChangedSince` when the resource moved on from `after`, unless `force`. */
  readonly undoHandler: (
    shop: string,
    run: RequestedRun,
    before: unknown,
    after: unknown,
    force: boolean
  ) => Effect.Effect<{ readonly summary: string }, ActionError | ChangedSince, R>
}

/** The registry of action implementations, by action key. */
export class ActionSteps extends Context.Service<ActionSteps, {
  readonly implementation: (actionKey: string) => ActionImplementation | undefined
}>()("sumeru/automation/ActionSteps") {}
