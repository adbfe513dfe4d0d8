/**
 * ★ Backtest a rule before enabling it (issue 11 §6): replay a window of the shop's stored
 * triggers, in event time, through the same `dispatch` live dispatch runs — conditions,
 * cooldowns, quiet hours, approvals — and answer what would have fired, on which resources,
 * when, and every skip by reason. Pure: no adapter is ever called (actions are not run; a
 * would-be execution starts its cooldown as a live one would).
 */
import type { ActiveRule, DispatchContext, DispatchOutcome } from "./Dispatch.ts"
import { dispatch } from "./Dispatch.ts"
import type { Plan } from "./Actions.ts"
import { narrowedTo, type TriggerEvent } from "./Triggers.ts"

/** A trigger as stored (`trigger.received`): its id, event time and content. */
export interface StoredTrigger {
  readonly triggerId: string
  readonly at: number
  readonly trigger: TriggerEvent
}

export interface BacktestFire {
  readonly resourceId: string
  readonly resourceType: string
  readonly at: number
  readonly triggerId: string
  /** `execute`, or `awaiting_approval` (it would have waited for a person). */
  readonly kind: "execute" | "awaiting_approval"
}

export interface BacktestResult {
  readonly fires: ReadonlyArray<BacktestFire>
  /** Skips and deferrals by reason (`condition_false`, `cooldown`, `quiet_hours`, …). */
  readonly skipped: Readonly<Record<string, number>>
  readonly eventsScanned: number
}

export const backtest = (
  rule: ActiveRule,
  triggers: Iterable<StoredTrigger>,
  context: {
    readonly plan: Plan
    readonly timeZone: string
    readonly evaluate: DispatchContext["evaluate"]
    /** The window's end: a deferral re-checked after it has not fired within the window. */
    readonly endAt?: number | undefined
  }
): BacktestResult => {
  const fires: Array<BacktestFire> = []
  const skipped: Record<string, number> = {}
  let cooldowns: ReadonlyMap<string, number> = new Map()
  let scanned = 0
  const rules = [rule]
  /** Deferred by quiet hours: re-checked when the window ends, as the live timer would. */
  let deferred: Array<StoredTrigger> = []
  const run = (stored: StoredTrigger) => {
    const out = dispatch(stored.trigger, rules, cooldowns, { ...context, triggerId: stored.triggerId, now: stored.at })
    cooldowns = out.cooldowns
    for (const o of out.outcomes) {
      if (o.kind === "deferred") {
        const narrowed = narrowedTo(stored.trigger, o.resourceId)
        if (narrowed !== undefined) deferred.push({ triggerId: stored.triggerId, at: o.until, trigger: narrowed })
      }
      record(o, stored, fires, skipped)
    }
  }
  const runDeferredUntil = (t: number) => {
    while (deferred.length > 0) {
      deferred.sort((a, b) => a.at - b.at)
      if (deferred[0]!.at > t) return
      run(deferred.shift()!)
    }
  }
  for (const stored of triggers) {
    scanned++
    if (stored.trigger.event !== rule.spec.triggerEvent) continue
    runDeferredUntil(stored.at)
    run(stored)
  }
  runDeferredUntil(context.endAt ?? Number.POSITIVE_INFINITY)
  deferred = []
  return { fires, skipped, eventsScanned: scanned }
}

const record = (o: DispatchOutcome, stored: StoredTrigger, fires: Array<BacktestFire>, skipped: Record<string, number>) => {
  switch (o.kind) {
    case "execute":
    case "awaiting_approval":
      fires.push({ resourceId: o.resourceId, resourceType: o.resourceType, at: stored.at, triggerId: stored.triggerId, kind: o.kind })
      return
    case "skipped":
    case "deferred":
      skipped[o.reason] = (skipped[o.reason] ?? 0) + 1
  }
}
