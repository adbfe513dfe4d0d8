/**
 * Client-side pacing of one ad account's use case (`ads_management` or `ads_insights`) from
 * what Meta reports on every answer: `X-Business-Use-Case-Usage` (call count, CPU and wall
 * time as percentages of the account's Business Use Case limit, and
 * `estimated_time_to_regain_access` in minutes once it is blocked) and, for insights,
 * `X-FB-Ads-Insights-Throttle` (`acc_id_util_pct`, `app_id_util_pct`). Meta refuses calls once
 * a use case is at 100 % (codes 80004 / 80000); the governor keeps below that:
 *
 * - until the first answer, one call at a time (a probe: nothing is known yet);
 * - below `throttleAtPercent`, calls go at once, as many as the projected usage (the last
 *   report plus an estimated share per call for each call still unanswered) leaves room for;
 * - from `throttleAtPercent`, one call at a time, each delayed after the last answer in
 *   proportion to how far past the threshold the usage is (0 at the threshold, `maxDelayMs`
 *   at 100 %), so the window drains faster than it fills;
 * - when the next call could reach 100 %, it waits `maxDelayMs` after the last answer;
 * - once Meta says how long access is lost (or refuses a call), nothing is sent before then.
 *
 * Pure functions decide; `makeUsageGovernor` applies them with Effect's `Clock`, so tests drive
 * time with `TestClock` or a virtual clock. The share per call is learnt from successive
 * reports (rounded up: Meta's percentages are whole numbers rounded down) and decays slowly.
 */
import { Clock, Deferred, Effect, Exit, Option, Schema, Semaphore } from "effect"

export type BucType = "ads_management" | "ads_insights"

/** What one answer said about the account's use case. */
export interface UsageReport {
  /** The highest of call count, CPU and wall time percentages (and the insights throttle's). */
  readonly percent: number
  /** Milliseconds until access is regained (0 unless blocked). */
  readonly regainMs: number
  /** For error messages: `ads_management call_count 100%, estimated_time_to_regain_access 3 min`. */
  readonly describe: string
}

const BucEntry = Schema.Struct({
  type: Schema.optional(Schema.String),
  call_count: Schema.optional(Schema.Number),
  total_cputime: Schema.optional(Schema.Number),
  total_time: Schema.optional(Schema.Number),
  estimated_time_to_regain_access: Schema.optional(Schema.Number)
})
const decodeBucHeader = Schema.decodeUnknownOption(Schema.fromJsonString(Schema.Record(Schema.String, Schema.Array(BucEntry))))
const InsightsThrottle = Schema.Struct({
  app_id_util_pct: Schema.optional(Schema.Number),
  acc_id_util_pct: Schema.optional(Schema.Number)
})
const decodeInsightsThrottle = Schema.decodeUnknownOption(Schema.fromJsonString(InsightsThrottle))

/**
 * The report for `accountId`'s `buc` in an answer's headers, or undefined when they say
 * nothing about it. Entries are keyed by the business or the ad account; the account's own
 * key is preferred, otherwise every entry of the use case counts (the highest wins).
 */
export const readUsage = (headers: Headers, accountId: string, buc: BucType): UsageReport | undefined => {
  let percent: number | undefined
  let regainMinutes = 0
  const parts: Array<string> = []
  const raw = headers.get("x-business-use-case-usage")
  if (raw !== null) {
    const decoded = decodeBucHeader(raw)
    if (Option.isSome(decoded)) {
      const table = decoded.value
      const keys = Object.hasOwn(table, accountId) ? [accountId] : Object.hasOwn(table, `act_${accountId}`) ? [`act_${accountId}`] : Object.keys(table)
      for (const key of keys) {
        for (const e of table[key] ?? []) {
          if (e.type !== undefined && e.type !== buc) continue
          const p = Math.max(e.call_count ?? 0, e.total_cputime ?? 0, e.total_time ?? 0)
          percent = Math.max(percent ?? 0, p)
          regainMinutes = Math.max(regainMinutes, e.estimated_time_to_regain_access ?? 0)
          parts.push(
            `${e.type ?? "usage"} call_count ${e.call_count ?? 0}%, total_cputime ${e.total_cputime ?? 0}%, total_time ${e.total_time ?? 0}%, estimated_time_to_regain_access ${e.estimated_time_to_regain_access ?? 0} min`
          )
        }
      }
    }
  }
  if (buc === "ads_insights") {
    const insights = headers.get("x-fb-ads-insights-throttle")
    const decoded = insights === null ? Option.none() : decodeInsightsThrottle(insights)
    if (Option.isSome(decoded)) {
      const p = Math.max(decoded.value.acc_id_util_pct ?? 0, decoded.value.app_id_util_pct ?? 0)
      percent = Math.max(percent ?? 0, p)
      parts.push(`x-fb-ads-insights-throttle acc ${decoded.value.acc_id_util_pct ?? 0}%, app ${decoded.value.app_id_util_pct ?? 0}%`)
    }
  }
  if (percent === undefined) return undefined
  return { percent, regainMs: regainMinutes * 60_000, describe: parts.join("; ") }
}

export interface GovernorOptions {
  /** Usage from which calls are serialised and delayed. */
  readonly throttleAtPercent: number
  /** Delay after the last answer at 100 % (and before a call that could reach it). */
  readonly maxDelayMs: number
  /** Calls in flight at most, whatever the usage. */
  readonly maxInFlight: number
}

export interface UsageModel {
  /** Last reported usage (percent), undefined before the first report. */
  readonly percent: number | undefined
  /** When it was reported (Clock millis). */
  readonly observedAt: number
  /** Send order of the call the report came from (an older report is stale). */
  readonly reportSeq: number
  /** Send order of the last call let through. */
  readonly lastSeq: number
  readonly inFlight: number
  /** Estimated percentage points one call adds. */
  readonly perCall: number
  /** Nothing is sent before this time (Clock millis). */
  readonly blockedUntil: number
}

export const emptyModel: UsageModel = { percent: undefined, observedAt: 0, reportSeq: 0, lastSeq: 0, inFlight: 0, perCall: 1, blockedUntil: 0 }

export interface Ticket {
  readonly seq: number
}

export type Decision = { readonly _tag: "send" } | { readonly _tag: "sleep"; readonly ms: number } | { readonly _tag: "await-answer" }

const SEND: Decision = { _tag: "send" }
const AWAIT: Decision = { _tag: "await-answer" }
const sleep = (ms: number): Decision => ({ _tag: "sleep", ms: Math.max(1, Math.ceil(ms)) })

/** Whether the next call may leave at `now`, and if not, what it waits for. */
export const decide = (model: UsageModel, options: GovernorOptions, now: number): Decision => {
  if (model.blockedUntil > now) return sleep(model.blockedUntil - now)
  if (model.inFlight >= options.maxInFlight) return AWAIT
  if (model.percent === undefined) return model.inFlight > 0 ? AWAIT : SEND
  const projected = model.percent + model.inFlight * model.perCall
  if (projected + model.perCall < options.throttleAtPercent) return SEND
  // From the threshold on: one call at a time, paced from the last answer.
  if (model.inFlight > 0) return AWAIT
  const span = Math.max(1, 100 - options.throttleAtPercent)
  const share = model.percent + model.perCall > 100 ? 1 : Math.min(1, Math.max(0, (model.percent - options.throttleAtPercent) / span))
  const due = model.observedAt + options.maxDelayMs * share
  return due > now ? sleep(due - now) : SEND
}

/** Lets a call through: one more in flight. */
export const reserve = (model: UsageModel): readonly [UsageModel, Ticket] => {
  const seq = model.lastSeq + 1
  return [{ ...model, lastSeq: seq, inFlight: model.inFlight + 1 }, { seq }]
}

/**
 * A call ended: its slot is freed, and its report becomes the truth unless a call sent later
 * already reported (answers overtake each other). The share per call is learnt from the rise
 * between two reports, counting the rounding down of both.
 */
export const settle = (model: UsageModel, ticket: Ticket, report: UsageReport | undefined, now: number): UsageModel => {
  const inFlight = Math.max(0, model.inFlight - 1)
  if (report === undefined) return { ...model, inFlight }
  const blockedUntil = report.regainMs > 0 ? Math.max(model.blockedUntil, now + report.regainMs) : model.blockedUntil
  if (ticket.seq <= model.reportSeq) return { ...model, inFlight, blockedUntil }
  let perCall = model.perCall
  const calls = ticket.seq - model.reportSeq
  const rise = model.percent === undefined ? report.percent : report.percent - model.percent
  if (rise >= 0 && calls > 0) {
    const sample = (rise + 1) / calls
    perCall = Math.min(50, Math.max(1, sample, perCall * 0.95))
  }
  return { ...model, percent: report.percent, observedAt: now, reportSeq: ticket.seq, inFlight, perCall, blockedUntil }
}

/** One account's use case: `acquire` before a call, `settle` after it (always). */
export interface UsageGovernor {
  /** Waits until the call may leave, then lets it through. */
  readonly acquire: Effect.Effect<Ticket>
  /** Frees the call's slot and records what its answer reported. */
  readonly settle: (ticket: Ticket, report: UsageReport | undefined) => Effect.Effect<void>
  /** Nothing is sent before `at` (Meta refused a call). */
  readonly blockUntil: (at: number) => Effect.Effect<void>
  readonly model: Effect.Effect<UsageModel>
}

/**
 * Callers are let through first come, first served (a one-permit semaphore held only while
 * waiting, never during the HTTP call).
 */
export const makeUsageGovernor = (options: GovernorOptions): UsageGovernor => {
  let model = emptyModel
  let changed = Deferred.makeUnsafe<void>()
  const lock = Semaphore.makeUnsafe(1)

  const wake = (): void => {
    const waiters = changed
    changed = Deferred.makeUnsafe<void>()
    Deferred.doneUnsafe(waiters, Exit.void)
  }

  const acquire = lock.withPermit(
    Effect.gen(function*() {
      for (;;) {
        const now = yield* Clock.currentTimeMillis
        const decision = decide(model, options, now)
        if (decision._tag === "send") {
          const [next, ticket] = reserve(model)
          model = next
          return ticket
        }
        if (decision._tag === "sleep") yield* Effect.sleep(decision.ms)
        else yield* Deferred.await(changed)
      }
    })
  )

  const settleNow = (ticket: Ticket, report: UsageReport | undefined) =>
    Effect.flatMap(Clock.currentTimeMillis, (now) =>
      Effect.sync(() => {
        model = settle(model, ticket, report, now)
        wake()
      })
    )

  const blockUntil = (at: number) =>
    Effect.sync(() => {
      model = { ...model, blockedUntil: Math.max(model.blockedUntil, at) }
      wake()
    })

  return { acquire, settle: settleNow, blockUntil, model: Effect.sync(() => model) }
}
