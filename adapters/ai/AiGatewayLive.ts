/**
 * The live `AiGateway` (`src/ai/AiGateway.ts`; issue 14 §1–2). A call:
 * 1. its route: the capability's providers in order, without models whose context cannot hold
 *    the prompt (`domain/ai/policy.ts`);
 * 2. admitted by the shared ledger under the shop's month lock: the plan's sliding window, then
 *    the budget, reserving the worst case over the whole route — refused before anything is
 *    sent (`RATE_LIMIT` / `BUDGET_EXCEEDED` with `retryAfterSec`), so N processes together can
 *    never spend past the cap; refused for the budget only when what is *spent* leaves no room
 *    (while calls still running hold it, the call waits for them: no false "budget exceeded"
 *    under load);
 * 3. sent to each provider in turn until one answers: a 429, an overload, a 5xx, a timeout or a
 *    context-length error moves on to the next; a refusal or a bad request ends the call;
 * 4. answered to its caller; then, off the caller's path and in batches, settled at its real cost
 *    (the usage the provider reported, cached input priced apart), the reservation released, the
 *    month's 80 % and 100 % alerts sent the first time they are reached;
 * 5. reported to the shop's actor (`ai.call_completed`), refusals and failures included.
 * Reports and alerts are fire-and-forget for the caller (a failed publish is logged); admission
 * is not — without the ledger no call is sent.
 */
import { Cache, Config, Context, Duration, Effect, Layer, Option, Queue, Schedule } from "effect"
import { uuidV7Unsafe } from "effect/crypto/SecureRandom"
import type { AiAttempt, AiCallCompleted } from "../../domain/ai/events.ts"
import {
  budgetMonth,
  type Capability,
  classifyFailure,
  costMicros,
  DEFAULT_PLAN_LIMITS,
  fallsBack,
  inputTokensBound,
  type ModelSpec,
  nextMonthStart,
  type PlanLimits,
  reservationMicros,
  routeFor,
  type TokenUsage,
  worstCaseMicros
} from "../../domain/ai/policy.ts"
import type { Plan } from "../../domain/automation/Actions.ts"
import { encodeShopMessage } from "../../domain/messages/ShopMessages.ts"
import { AiCallFailed, AiGateway, AiLedger, AiLimitError, type GenerateRequest, type GenerateResult } from "../../src/ai/AiGateway.ts"
import { budgetAlertMessageId, callReportsMessageId } from "../../src/ai/AiUsageHandlers.ts"
import { shopAutomationContext } from "../../src/automation/ShopDefaults.ts"
import { EventStore } from "../../src/eventstore/EventStore.ts"
import { ShopLog } from "../../src/shoplog/ShopLog.ts"
import { type ProviderCall, ProviderClients, type ProviderFailure } from "./ProviderClients.ts"

/** The plans' limits (`AI_LIMITS`); the defaults are `DEFAULT_PLAN_LIMITS`. */
export const AiPlanLimits = Context.Reference<{ readonly [P in Plan]: PlanLimits }>("sumeru/ai/AiPlanLimits", {
  defaultValue: () => DEFAULT_PLAN_LIMITS
})

/**
 * {@link AiPlanLimits} from `AI_LIMITS`: JSON overriding any plan's fields, e.g.
 * `{"pro":{"requestsPerWindow":200,"monthlyBudgetMicros":50000000}}`; windows at most an hour
 * (the ledger forgets calls older than that). A value out of range stops the process at start.
 */
export const planLimitsFromConfig = Layer.effect(
  AiPlanLimits,
  Effect.gen(function*() {
    const text = yield* Config.String("AI_LIMITS").pipe(Config.withDefault(""))
    if (text.trim() === "") return DEFAULT_PLAN_LIMITS
    const problems: Array<string> = []
    let given: unknown
    try {
      given = JSON.parse(text)
    } catch {
      return yield* Effect.die(new Error("AI_LIMITS must be JSON such as {\"pro\":{\"requestsPerWindow\":200}}"))
    }
    const out: Record<string, PlanLimits> = { ...DEFAULT_PLAN_LIMITS }
    const bounds: Record<keyof PlanLimits, readonly [number, number]> = { requestsPerWindow: [1, 1_000_000], windowSeconds: [1, 3_600], monthlyBudgetMicros: [0, 1e15] }
    for (const [plan, fields] of Object.entries((given ?? {}) as Record<string, unknown>)) {
      if (!(plan in DEFAULT_PLAN_LIMITS)) {
        problems.push(`${plan} is not a plan (free, pro, enterprise)`)
        continue
      }
      for (const [field, value] of Object.entries((fields ?? {}) as Record<string, unknown>)) {
        const range = bounds[field as keyof PlanLimits]
        if (range === undefined) problems.push(`${plan}.${field} is not a limit (requestsPerWindow, windowSeconds, monthlyBudgetMicros)`)
        else if (typeof value !== "number" || !Number.isInteger(value) || value < range[0] || value > range[1]) problems.push(`${plan}.${field} must be a whole number from ${range[0]} to ${range[1]}`)
        else out[plan] = { ...out[plan]!, [field]: value }
      }
    }
    if (problems.length > 0) return yield* Effect.die(new Error(`AI_LIMITS: ${problems.join("; ")}`))
    return out as { readonly [P in Plan]: PlanLimits }
  })
)

/** The gateway's clock (tests move it to cross a rate window or a month). */
export const AiClock = Context.Reference<{ readonly now: () => number }>("sumeru/ai/AiClock", {
  defaultValue: () => ({ now: Date.now })
})

/**
 * How long a call waits while only calls still running hold its budget room (their worst cases,
 * mostly released when they settle), and how long a reservation may stay unsettled before it
 * counts as spent (its process died).
 */
export const AiBudgetTimings = Context.Reference<{ readonly busyWait: Duration.Duration; readonly staleReservation: Duration.Duration }>("sumeru/ai/AiBudgetTimings", {
  defaultValue: () => ({ busyWait: Duration.seconds(20), staleReservation: Duration.minutes(15) })
})

/**
 * How long a finished call's usage row waits for its shop's report: a shop's rows go to its
 * actor in one message about this long after the first of them finished (within a 50 ms tick).
 * Each shop has its own deadline, so reports leave as their shops' calls finished, not all
 * shops at once on one timer.
 */
export const AiReportInterval = Context.Reference<Duration.Duration>("sumeru/ai/AiReportInterval", {
  defaultValue: () => Duration.seconds(2)
})

/**
 * How long one attempt may take before it counts as a timeout and the next provider is tried.
 * A call's whole time — the busy wait and three attempts — stays under an action step's two minutes.
 */
export const AiAttemptTimeout = Context.Reference<Duration.Duration>("sumeru/ai/AiAttemptTimeout", {
  defaultValue: () => Duration.seconds(30)
})

/**
 * Settlements per ledger round trip at most: a batch holds its shops' budget rows until it
 * commits, and admissions for those shops wait that long — small batches keep the wait short.
 */
const SETTLE_BATCH = 64

/** Usage rows per report message at most: a busy shop's report leaves when it is this full. */
const REPORT_ROWS = 100

const short = (s: string) => (s.length > 300 ? `${s.slice(0, 297)}...` : s)
const ZERO: TokenUsage = { inputTokens: 0, cachedInputTokens: 0, cacheWriteTokens: 0, outputTokens: 0 }

export const make = Effect.gen(function*() {
  const ledger = yield* AiLedger
  const clients = yield* ProviderClients
  const log = yield* ShopLog
  const store = yield* EventStore
  const limits = yield* AiPlanLimits
  const clock = yield* AiClock
  const attemptTimeout = yield* AiAttemptTimeout
  const budgetTimings = yield* AiBudgetTimings
  const reportInterval = yield* AiReportInterval
  // a shop's plan and time zone change rarely: read at most every 30 s per shop, not per call
  const shops = yield* Cache.make({
    capacity: 10_000,
    timeToLive: Duration.seconds(30),
    lookup: (shop: string) => shopAutomationContext(shop).pipe(Effect.provideService(EventStore, store))
  })

  const publish = (shop: string, messageId: string, body: Parameters<typeof encodeShopMessage>[0]) =>
    log.publish({ shop, messageId, correlationId: messageId, ...encodeShopMessage(body) }).pipe(
      Effect.asVoid,
      Effect.retry({ times: 3 }),
      Effect.catchCause((cause) => Effect.logWarning(`AI gateway: ${body.type} of ${shop} not reported`, cause))
    )

  /** Sends an alert raised in the ledger, then marks it sent there (unsent ones are sent again: see `resendAlerts`). */
  const alert = (shop: string, month: string, threshold: 80 | 100, capMicros: number, spentMicros: number, reason: "settled" | "refused") =>
    log.publish({
      shop,
      messageId: budgetAlertMessageId(shop, month, threshold),
      correlationId: budgetAlertMessageId(shop, month, threshold),
      ...encodeShopMessage({ type: "ai.budget_alert", payload: { month, threshold, capMicros, spentMicros, reason } })
    }).pipe(
      Effect.retry({ times: 3 }),
      Effect.andThen(ledger.alertSent({ shop, month, threshold })),
      Effect.catchCause((cause) => Effect.logWarning(`AI gateway: the ${threshold} % alert of ${shop} for ${month} is not sent yet (sent again later)`, cause))
    )

  /** Alerts a gateway raised and died before sending: sent by whichever gateway finds them. */
  const resendAlerts = Effect.flatMap(
    ledger.unsentAlerts(5_000).pipe(Effect.orElseSucceed(() => [])),
    (pending) => Effect.forEach(pending, (a) => alert(a.shop, a.month, a.threshold, a.capMicros, a.spentMicros, a.reason), { discard: true })
  )

  // --- settlement and reports, off the caller's path -----------------------------------------
  // A call's answer goes back to its caller as soon as the provider gives it; its settlement (the
  // reservation swapped for the real cost) and its usage row follow in batches: one ledger round
  // trip for every call finished meanwhile, and one report message per shop per interval (each
  // shop on its own deadline, at most 100 rows). A process that dies first leaves reservations
  // that count as spent once stale (never more spent than the ledger shows), and loses at most
  // one interval of usage rows.
  interface Finished {
    readonly row: AiCallCompleted
    readonly shop: string
    /** Absent for a call refused before it was admitted (nothing reserved). */
    readonly settle?: { readonly callId: string; readonly month: string; readonly actualMicros: number }
  }
  const finished = yield* Queue.unbounded<Finished>()

  // Each shop's rows wait for its report until their deadline (the first row's arrival plus the
  // interval) or until they fill a message. A message costs its shop's actor a commit whatever
  // it carries, so fewer, fuller reports are what keep the calls' event loop free. A shop enters
  // the map with its first row and leaves it when reported: the map's order is deadline order.
  const intervalMs = Duration.toMillis(reportInterval)
  const pendingReports = new Map<string, { readonly rows: Array<AiCallCompleted>; readonly dueAt: number }>()
  const report = (shop: string, rows: ReadonlyArray<AiCallCompleted>) =>
    publish(shop, callReportsMessageId(rows), { type: "ai.call_reports", payload: { rows } })
  const reportAll = (batches: ReadonlyArray<readonly [string, ReadonlyArray<AiCallCompleted>]>) =>
    Effect.forEach(batches, ([shop, rows]) => report(shop, rows), { concurrency: 8, discard: true })
  /** Shops whose rows filled a message: sent by the reporter's next tick, not on the settle loop. */
  const fullReports: Array<readonly [string, ReadonlyArray<AiCallCompleted>]> = []
  /** Takes out the full reports and the shops whose deadline has come (all of them when `everything`). */
  const takeDue = (everything: boolean) => {
    const now = performance.now()
    const due = fullReports.splice(0)
    for (const [shop, pending] of pendingReports) {
      if (!everything && pending.dueAt > now) break
      due.push([shop, pending.rows])
      pendingReports.delete(shop)
    }
    return due
  }
  const flushReports = Effect.suspend(() => reportAll(takeDue(true)))
  const reportDue = Effect.suspend(() => reportAll(takeDue(false)))
  /** Files a finished call's row under its shop; the rows of a shop that fill a message are returned, to go at once. */
  const fileRow = (shop: string, row: AiCallCompleted): ReadonlyArray<AiCallCompleted> | undefined => {
    const pending = pendingReports.get(shop)
    if (pending === undefined) {
      pendingReports.set(shop, { rows: [row], dueAt: performance.now() + intervalMs })
      return undefined
    }
    pending.rows.push(row)
    if (pending.rows.length < REPORT_ROWS) return undefined
    pendingReports.delete(shop)
    return pending.rows
  }

  const settleBatch = (items: ReadonlyArray<Finished>) =>
    Effect.gen(function*() {
      const toSettle = items.flatMap((i) => (i.settle === undefined ? [] : [{ ...i.settle, shop: i.shop }]))
      const settled = yield* ledger.settle(toSettle).pipe(
        Effect.retry({ times: 5, schedule: Schedule.exponential(Duration.millis(50)) }),
        Effect.catchCause((cause) => Effect.as(Effect.logError("AI gateway: settlements failed (their reservations count as spent once stale)", cause), []))
      )
      for (const s of settled) {
        for (const threshold of s.reached) yield* alert(s.shop, s.month, threshold, s.capMicros, s.settledMicros, "settled")
      }
      for (const i of items) {
        const rows = fileRow(i.shop, i.row)
        if (rows !== undefined) fullReports.push([i.shop, rows])
      }
    })

  // On shutdown, what is still queued is settled and every row held is reported. Registered
  // before the loops start, this runs after they have stopped (a scope closes in reverse order),
  // and a batch the settle loop has taken (or a tick's reports) is finished first: not lost.
  yield* Effect.addFinalizer(() =>
    Effect.gen(function*() {
      const rest = yield* Queue.clear(finished)
      if (rest.length > 0) yield* settleBatch(rest)
      yield* flushReports
      yield* resendAlerts
    })
  )
  yield* Effect.forkScoped(Effect.forever(Effect.uninterruptibleMask((restore) =>
    Effect.flatMap(restore(Queue.takeBetween(finished, 1, SETTLE_BATCH)), settleBatch)
  )))
  // a shop's report leaves within one tick of its deadline; each tick sends the full reports and the shops due
  yield* Effect.forkScoped(Effect.forever(Effect.andThen(Effect.sleep(Duration.millis(Math.max(1, Math.min(50, intervalMs)))), Effect.uninterruptible(reportDue))))
  yield* Effect.forkScoped(Effect.forever(Effect.andThen(Effect.sleep(Duration.seconds(10)), resendAlerts)))
  // settled calls older than any rate window (an hour at most) leave the ledger now and then
  yield* Effect.forkScoped(Effect.forever(Effect.andThen(
    Effect.sleep(Duration.minutes(5)),
    Effect.suspend(() => ledger.sweep(new Date(clock.now() - 3_600_000))).pipe(Effect.catchCause((c) => Effect.logWarning("AI gateway: the ledger sweep failed", c)))
  )))

  const done = (item: Finished) => Queue.offer(finished, item).pipe(Effect.asVoid)

  /** One attempt on one model, timed and classified. */
  const attempt = (model: ModelSpec, call: ProviderCall, inputBound: number) =>
    Effect.gen(function*() {
      const started = performance.now()
      const outcome = yield* clients.call(model, call).pipe(
        Effect.timeoutOption(attemptTimeout),
        Effect.result
      )
      const latencyMs = Math.round((performance.now() - started) * 10) / 10
      if (outcome._tag === "Success" && Option.isSome(outcome.success)) {
        const answer = outcome.success.value
        return { ok: true as const, answer, attempt: { provider: model.provider, model: model.model, outcome: "ok", status: 200, latencyMs } satisfies AiAttempt }
      }
      const failure: ProviderFailure = outcome._tag === "Failure" ? outcome.failure : { status: null, message: "timed out", timedOut: true }
      const kind = classifyFailure(failure.status, failure.message, failure.timedOut)
      return {
        ok: false as const,
        kind,
        // an answer refused or ended in error was still generated: the provider bills it; a
        // timed-out one may have been, and counts at its worst case (the budget errs on spending less)
        billedMicros: failure.usage !== undefined ? costMicros(failure.usage, model.price) : failure.timedOut ? worstCaseMicros(inputBound, call.maxOutputTokens, model) : 0,
        attempt: { provider: model.provider, model: model.model, outcome: kind, status: failure.status, latencyMs, message: short(failure.message) } satisfies AiAttempt
      }
    })

  const generate = (request: GenerateRequest): Effect.Effect<GenerateResult, AiLimitError | AiCallFailed> =>
    Effect.gen(function*() {
      const capability: Capability = request.capability ?? "text"
      const callId = uuidV7Unsafe()
      const startedMs = clock.now()
      const startedAt = new Date(startedMs).toISOString()
      // a shop whose plan cannot be read is not on the free plan: the call waits for the store
      const context = yield* Cache.get(shops, request.shop).pipe(
        Effect.tapError(() => Cache.invalidate(shops, request.shop)),
        Effect.mapError(() => new AiCallFailed({ message: `${request.shop}'s plan and time zone could not be read`, retryable: true, attempts: [] }))
      )
      const plan = limits[context.plan]
      const month = budgetMonth(startedMs, context.timeZone)
      const inputBound = inputTokensBound([request.system ?? "", request.prompt])
      const route = routeFor(capability, inputBound, request.maxOutputTokens)
      const row = (outcome: AiCallCompleted["outcome"], extra: Partial<AiCallCompleted>): AiCallCompleted => ({
        callId, purpose: request.purpose, capability, outcome, provider: null, model: null, ...ZERO,
        estimatedMicros: 0, settledMicros: 0, latencyMs: 0, attempts: [], month, startedAt, ...extra
      })
      if (route.length === 0) {
        yield* done({ shop: request.shop, row: row("failed", {}) })
        return yield* new AiCallFailed({ message: `the prompt (up to ${inputBound} tokens) and its ${request.maxOutputTokens} output tokens fit no model of the ${capability} route`, retryable: false, attempts: [] })
      }
      const worst = reservationMicros(route, inputBound, request.maxOutputTokens)
      // asked anew each time (a call waiting for room starts when it is admitted, not before)
      const admit = Effect.suspend(() =>
        ledger.admit({
          callId, shop: request.shop, month, capMicros: plan.monthlyBudgetMicros, worstMicros: worst,
          limit: plan.requestsPerWindow, windowMs: plan.windowSeconds * 1000, now: new Date(clock.now()),
          staleMs: Duration.toMillis(budgetTimings.staleReservation)
        })
      ).pipe(Effect.mapError((e) => new AiCallFailed({ message: `the AI ledger is out of reach: ${e.message}`, retryable: true, attempts: [] })))
      // while calls still running hold the room, wait for them to settle (bounded), then ask again
      const busyUntil = performance.now() + Duration.toMillis(budgetTimings.busyWait)
      let admission = yield* admit
      for (let pause = 10; admission._tag === "BudgetBusy" && performance.now() < busyUntil; pause = Math.min(250, pause * 2)) {
        yield* Effect.sleep(Duration.millis(pause))
        admission = yield* admit
      }
      if (admission._tag === "BudgetBusy") {
        yield* done({ shop: request.shop, row: row("budget_exceeded", { retryAfterSec: 5 }) })
        return yield* new AiLimitError({
          code: "BUDGET_EXCEEDED", retryAfterSec: 5,
          budget: { capMicros: admission.capMicros, spentMicros: admission.settledMicros, committedMicros: admission.settledMicros + admission.reservedMicros, worstMicros: worst },
          message: `${request.shop}'s AI budget for ${month} is held by calls still running (for ${Duration.format(budgetTimings.busyWait)}); retry shortly`
        })
      }
      if (admission._tag === "RateLimited") {
        const retryAfterSec = Math.max(1, Math.ceil(admission.retryAfterMs / 1000))
        yield* done({ shop: request.shop, row: row("rate_limited", { retryAfterSec }) })
        return yield* new AiLimitError({
          code: "RATE_LIMIT", retryAfterSec,
          message: `${request.shop} made ${plan.requestsPerWindow} AI calls in the last ${plan.windowSeconds} s (its ${context.plan} plan's limit); retry in ${retryAfterSec} s`
        })
      }
      if (admission._tag === "BudgetExceeded") {
        const retryAfterSec = Math.max(1, Math.ceil((nextMonthStart(startedMs, context.timeZone) - startedMs) / 1000))
        for (const threshold of admission.reached) yield* alert(request.shop, month, threshold, admission.capMicros, admission.settledMicros, "refused")
        yield* done({ shop: request.shop, row: row("budget_exceeded", { retryAfterSec }) })
        return yield* new AiLimitError({
          code: "BUDGET_EXCEEDED", retryAfterSec,
          budget: { capMicros: admission.capMicros, spentMicros: admission.settledMicros, committedMicros: admission.settledMicros + admission.reservedMicros, worstMicros: worst },
          message: `${request.shop}'s AI budget for ${month} cannot cover this call (spent ${admission.settledMicros}, reserved ${admission.reservedMicros}, this call up to ${worst} of ${admission.capMicros} micro-dollars)`
        })
      }

      const call: ProviderCall = { system: request.system, prompt: request.prompt, maxOutputTokens: request.maxOutputTokens }
      const attempts: Array<AiAttempt> = []
      let billedBefore = 0
      let settled = false
      const settle = (item: Finished) => Effect.andThen(Effect.sync(() => (settled = true)), done(item))
      return yield* Effect.gen(function*() {
      for (const model of route) {
        const tried = yield* attempt(model, call, inputBound)
        attempts.push(tried.attempt)
        if (tried.ok) {
          const cost = billedBefore + costMicros(tried.answer.usage, model.price)
          yield* settle({
            shop: request.shop,
            settle: { callId, month, actualMicros: cost },
            row: row("ok", {
              provider: model.provider, model: model.model, ...tried.answer.usage, estimatedMicros: worst, settledMicros: cost,
              latencyMs: Math.round(clock.now() - startedMs), attempts
            })
          })
          return { callId, text: tried.answer.text, provider: model.provider, model: model.model, usage: tried.answer.usage, costMicros: cost, attempts } satisfies GenerateResult
        }
        billedBefore += tried.billedMicros
        if (!fallsBack(tried.kind)) break
      }
      // nothing answered: what was billed (a refusal's or an error's tokens, a timeout at its worst case)
      yield* settle({
        shop: request.shop,
        settle: { callId, month, actualMicros: billedBefore },
        row: row("failed", { estimatedMicros: worst, settledMicros: billedBefore, latencyMs: Math.round(clock.now() - startedMs), attempts })
      })
      const last = attempts.at(-1)!
      return yield* new AiCallFailed({
        message: `${last.provider} ${last.outcome}: ${last.message ?? ""} (${attempts.length} attempt(s))`,
        retryable: fallsBack(last.outcome as Exclude<AiAttempt["outcome"], "ok">),
        attempts
      })
      }).pipe(
        // interrupted after admission (the caller gave up, the step timed out): the call may have
        // been billed — it is settled at its worst case, never left reserved
        Effect.onExit((exit) =>
          settled || exit._tag === "Success"
            ? Effect.void
            : done({
              shop: request.shop,
              settle: { callId, month, actualMicros: worst },
              row: row("failed", { estimatedMicros: worst, settledMicros: worst, latencyMs: Math.round(clock.now() - startedMs), attempts })
            }))
      )
    }).pipe(Effect.withSpan("ai.generate", { attributes: { shop: request.shop, purpose: request.purpose } }))

  return AiGateway.of({ generate })
})

export const layer = Layer.effect(AiGateway, make)
