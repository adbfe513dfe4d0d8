/**
 * Outbound webhooks inside the shop's actor (issue 12 §1; decisions in
 * `domain/outbound/Webhooks.ts`). Every applied, undone or failed execution becomes a delivery per
 * subscription that asked for its event, recorded in the same commit as the execution's event;
 * each attempt is a side effect after a commit (the shop's mailbox never waits on a receiver),
 * reported back as a message:
 *
 *   requested ─attempt 1─▶ delivered | failed (next attempt at +30 s·4ⁿ, jittered) … 4th failure ─▶ dead-lettered
 *
 * - Signed with the Standard Webhooks scheme (`standardwebhooks`): `webhook-id` (the delivery id,
 *   the same for every attempt, so receivers deduplicate), `webhook-timestamp` (the attempt's time:
 *   receivers refuse replays), `webhook-signature` (`v1,<HMAC-SHA256>`, with the previous secret's
 *   signature too while a rotation's grace period runs).
 * - A durable timer per delivery is its retry and its watchdog: an attempt lost with a worker is
 *   made again, under the same id.
 * - A subscription failing every delivery for `disableAfterMs` (3 days) is disabled when a delivery
 *   dead-letters, with the reason in the audit.
 */
import type { AiBudgetThresholdReached } from "../../domain/ai/events.ts"
import { Config, Context, Effect, Layer, Option, Result, Schema } from "effect"
import { Webhook } from "standardwebhooks"
import { randomBytes } from "node:crypto"
import { nameBasedUuid } from "../ids/NameBasedUuid.ts"
import type { ExecutionRunEvent } from "../../domain/automation/ExecutionRuns.ts"
import {
  type AttemptOutcome,
  decideAttempt,
  decideHealth,
  decideRedrive,
  decideSubscription,
  type Delivery,
  type DeliveryEvent,
  type DeliveryPayload,
  deliveryStreamId,
  evolveDelivery,
  retryDelayMs,
  type SealedSecret,
  subscribersOf,
  type SubscriptionEvent,
  subscriptionsStreamId
} from "../../domain/outbound/Webhooks.ts"
import { encodeShopMessage } from "../../domain/messages/ShopMessages.ts"
import type { Append, Decision, HandlerRegistry, ScheduledMessage } from "../actors/ShopHandlers.ts"
import { EventStore, type PersistenceError } from "../eventstore/EventStore.ts"
import { PiiVault } from "../secrets/Secrets.ts"
import { ShopLog } from "../shoplog/ShopLog.ts"
import { deliveryFold, subscriptionsFold } from "./OutboundFolds.ts"
import { OutboundHttp } from "./OutboundHttp.ts"

export interface OutboundTimings {
  /** The first retry's delay ceiling; each next one ×4 (30 s, 2 min, 8 min by default). */
  readonly retryBaseMs: number
  /** An attempt not reported after this long is made again (its worker died). */
  readonly watchdogMs: number
  /** A subscription failing every delivery this long is disabled (3 days). */
  readonly disableAfterMs: number
}

const defaultOutboundTimings: OutboundTimings = { retryBaseMs: 30_000, watchdogMs: 60_000, disableAfterMs: 3 * 86_400_000 }

export const OutboundTimings = Context.Reference<OutboundTimings>("sumeru/outbound/OutboundTimings", { defaultValue: () => defaultOutboundTimings })

/** The timings from configuration: `OUTBOUND_RETRY_BASE_MS`, `OUTBOUND_WATCHDOG_MS` (longer than `OUTBOUND_TIMEOUT_MS`), `OUTBOUND_DISABLE_AFTER_HOURS`. */
export const outboundTimingsLayer = Layer.effect(
  OutboundTimings,
  Effect.gen(function*() {
    const positive = (name: string, fallback: number) =>
      Config.schema(Schema.NumberFromString.check(Schema.isInt(), Schema.isGreaterThan(0, { message: "must be a positive integer" })), name).pipe(Config.withDefault(fallback))
    return {
      retryBaseMs: yield* positive("OUTBOUND_RETRY_BASE_MS", defaultOutboundTimings.retryBaseMs),
      watchdogMs: yield* positive("OUTBOUND_WATCHDOG_MS", defaultOutboundTimings.watchdogMs),
      disableAfterMs: (yield* positive("OUTBOUND_DISABLE_AFTER_HOURS", 72)) * 3_600_000
    } satisfies OutboundTimings
  })
)

/** The subject a subscription's secret is sealed under (shredding it makes the secret unreadable). */
export const secretSubject = (subscriptionId: string) => `webhook-subscription:${subscriptionId}`

/** A new Standard Webhooks secret (`whsec_` + 24 random bytes, base64). */
export const newSecret = (): string => `whsec_${randomBytes(24).toString("base64")}`

/** The same execution event and subscription always name the same delivery. */
const deliveryIdOf = (name: string): string => nameBasedUuid("sumeru.webhook", name)

/** A delivery that was requested (its status is `pending` when an attempt runs). */
type RecordedDelivery = Exclude<Delivery, { readonly status: "none" }>

const attemptTimerId = (deliveryId: string) => `outbound.attempt:${deliveryId}`

/** What deliveries a decision's execution events lead to: their events, timers and first attempts. */
export interface Notified {
  readonly appends: ReadonlyArray<Append>
  readonly schedule: ReadonlyArray<ScheduledMessage>
  readonly afterCommit: Effect.Effect<void> | undefined
}

/**
 * Turns events into deliveries: the runner asks it when a run applies, undoes or fails; the
 * shop's actor when it records an AI budget alert.
 */
export class OutboundNotifier extends Context.Service<OutboundNotifier, {
  readonly notify: (shop: string, events: ReadonlyArray<ExecutionRunEvent>, at: Date) => Effect.Effect<Notified, PersistenceError>
  readonly notifyBudget: (shop: string, alert: AiBudgetThresholdReached, at: Date) => Effect.Effect<Notified, PersistenceError>
}>()("sumeru/outbound/OutboundNotifier") {}

const payloadOf = (shop: string, e: ExecutionRunEvent, at: Date): DeliveryPayload | undefined => {
  if (e.type !== "autoaction.applied" && e.type !== "autoaction.undone" && e.type !== "autoaction.failed") return undefined
  return {
    event: e.type,
    eventId: `${e.executionId}.${e.type}`,
    shop,
    ruleId: e.ruleId,
    ruleName: e.ruleName ?? null,
    actionKey: e.actionKey,
    resourceType: e.resourceType,
    resourceId: e.resourceId,
    after: e.type === "autoaction.applied" ? e.after : e.type === "autoaction.undone" ? { summary: e.summary } : { code: e.code, message: e.message },
    occurredAt: at.toISOString()
  }
}

export const makeOutboundWebhooks = Effect.gen(function*() {
  const store = yield* EventStore
  const log = yield* ShopLog
  const vault = yield* PiiVault
  const http = yield* OutboundHttp
  const timings = yield* OutboundTimings

  const open = (shop: string, sealed: SealedSecret) =>
    Effect.map(vault.open(shop, sealed), Option.flatMap((v) => (typeof v === "string" ? Option.some(v) : Option.none())))

  const report = (shop: string, deliveryId: string, attempt: number, outcome: AttemptOutcome) =>
    log.publish({
      shop,
      messageId: `outbound.report:${deliveryId}:${attempt}`,
      ...encodeShopMessage({ type: "outbound.attempt_report", payload: { deliveryId, attempt, outcome } }),
      correlationId: deliveryId
    }).pipe(
      Effect.asVoid,
      Effect.retry({ times: 5 }),
      Effect.catchCause((cause) => Effect.logError(`webhook delivery ${deliveryId}: could not report attempt ${attempt} (its timer makes it again)`, cause))
    )

  /** One attempt: sign with the subscription's secret(s), POST, report what came back. */
  const attemptOf = (shop: string, delivery: RecordedDelivery, attempt: number): Effect.Effect<void> =>
    Effect.gen(function*() {
      const { state: subs } = yield* store.loadFold(subscriptionsStreamId(shop), subscriptionsFold)
      const sub = subs[delivery.subscriptionId]
      const outcome: AttemptOutcome = yield* Effect.gen(function*() {
        if (sub === undefined || sub.status !== "active") return { ok: false, status: null, error: `the subscription is ${sub?.status ?? "gone"}` } as const
        const now = new Date()
        const secrets = [sub.secret, ...(sub.previous !== null && Date.parse(sub.previous.until) > now.getTime() ? [sub.previous.secret] : [])]
        const opened = yield* Effect.forEach(secrets, (s) => open(shop, s))
        const keys = opened.flatMap(Option.toArray)
        if (keys.length === 0) return { ok: false, status: null, error: "the subscription's secret is unreadable (deleted)" } as const
        const body = JSON.stringify(delivery.payload)
        const signature = keys.map((k) => new Webhook(k).sign(delivery.deliveryId, now, body)).join(" ")
        const headers = { "webhook-id": delivery.deliveryId, "webhook-timestamp": String(Math.floor(now.getTime() / 1000)), "webhook-signature": signature }
        return yield* http.post(sub.url, headers, body).pipe(
          Effect.map((a): AttemptOutcome => (a.status >= 200 && a.status < 300 ? { ok: true, status: a.status } : { ok: false, status: a.status, error: a.excerpt || "no body" })),
          Effect.catch((e) => Effect.succeed<AttemptOutcome>({ ok: false, status: null, error: e.reason }))
        )
      })
      yield* report(shop, delivery.deliveryId, attempt, outcome)
    }).pipe(
      Effect.catchCause((cause) => Effect.logError(`webhook delivery ${delivery.deliveryId}: attempt ${attempt} could not run (its timer makes it again)`, cause)),
      Effect.annotateLogs({ shop_id: shop, delivery_id: delivery.deliveryId, attempt })
    )

  /** Attempt `attempt` now (after the commit), its watchdog timer in the same commit. */
  const startAttempt = (shop: string, delivery: RecordedDelivery, attempt: number) => ({
    schedule: [{
      id: attemptTimerId(delivery.deliveryId),
      at: new Date(Date.now() + timings.watchdogMs),
      ...encodeShopMessage({ type: "outbound.attempt", payload: { deliveryId: delivery.deliveryId, attempt } })
    }] satisfies ReadonlyArray<ScheduledMessage>,
    afterCommit: attemptOf(shop, delivery, attempt)
  })

  const appendTo = (streamId: string, version: number, events: ReadonlyArray<{ readonly type: string }>): Append =>
    ({ streamId, expected: version === 0 ? "no_stream" : version, events: events.map((e) => ({ type: e.type, data: e })) })

  /** A delivery per subscriber of each payload's event, requested in the caller's commit. */
  const deliver = (shop: string, payloads: ReadonlyArray<DeliveryPayload>) =>
      Effect.gen(function*() {
        if (payloads.length === 0) return { appends: [], schedule: [], afterCommit: undefined }
        const { state: subs } = yield* store.loadFold(subscriptionsStreamId(shop), subscriptionsFold)
        const appends: Array<Append> = []
        const schedule: Array<ScheduledMessage> = []
        const effects: Array<Effect.Effect<void>> = []
        for (const payload of payloads) {
          for (const sub of subscribersOf(subs, payload.event)) {
            const deliveryId = deliveryIdOf(`${shop}:${payload.eventId}:${sub.subscriptionId}`)
            const requested: DeliveryEvent = { type: "webhook.delivery_requested", deliveryId, subscriptionId: sub.subscriptionId, event: payload.event, payload }
            appends.push(appendTo(deliveryStreamId(shop, deliveryId), 0, [requested]))
            const started = startAttempt(shop, evolveDelivery({ status: "none" }, requested) as RecordedDelivery, 1)
            schedule.push(...started.schedule)
            effects.push(started.afterCommit)
          }
        }
        return {
          appends,
          schedule,
          afterCommit: effects.length === 0 ? undefined : Effect.forEach(effects, (e) => e, { discard: true, concurrency: "unbounded" })
        } satisfies Notified
      })

  const notifier = OutboundNotifier.of({
    notify: (shop, events, at) =>
      deliver(shop, events.flatMap((e) => {
        const p = payloadOf(shop, e, at)
        return p === undefined ? [] : [p]
      })),
    notifyBudget: (shop, alert, at) =>
      deliver(shop, [{
        event: "ai.budget_threshold_reached",
        eventId: `ai-budget.${alert.month}.${alert.threshold}`,
        shop,
        month: alert.month,
        threshold: alert.threshold,
        capMicros: alert.capMicros,
        spentMicros: alert.spentMicros,
        reason: alert.reason,
        occurredAt: at.toISOString()
      }])
  })

  const loadDelivery = (shop: string, deliveryId: string) => store.loadFold(deliveryStreamId(shop, deliveryId), deliveryFold)

  const handlers = {
    "outbound.subscription_command": (ctx) =>
      Effect.gen(function*() {
        const { command, by } = ctx.message.payload
        const streamId = subscriptionsStreamId(ctx.shop)
        const { state, version } = yield* store.loadFold(streamId, subscriptionsFold)
        const decided = decideSubscription(state, command, by, new Date())
        if (Result.isFailure(decided)) {
          yield* Effect.logInfo(`webhook subscription ${command.subscriptionId}: ${command.type} refused (${decided.failure.code})`)
          return { appends: [] }
        }
        // a deleted subscription's secret is shredded: nothing can sign with it again
        const after: Decision["afterCommit"] = command.type === "delete" ? Effect.ignore(vault.shred(ctx.shop, secretSubject(command.subscriptionId))) : undefined
        return { appends: [appendTo(streamId, version, decided.success)], afterCommit: after }
      }),
    "outbound.attempt": (ctx) =>
      Effect.gen(function*() {
        const { deliveryId, attempt } = ctx.message.payload
        const { state } = yield* loadDelivery(ctx.shop, deliveryId)
        if (state.status !== "pending" || state.totalAttempts + 1 !== attempt) return { appends: [] }
        const started = startAttempt(ctx.shop, state, attempt)
        return { appends: [], schedule: started.schedule, afterCommit: started.afterCommit }
      }),
    "outbound.attempt_report": (ctx) =>
      Effect.gen(function*() {
        const { deliveryId, attempt, outcome } = ctx.message.payload
        const { state, version } = yield* loadDelivery(ctx.shop, deliveryId)
        const now = new Date()
        const failedSoFar = state.status === "pending" ? state.attempts + 1 : 1
        const events = decideAttempt(state, attempt, outcome, now, retryDelayMs(failedSoFar, timings.retryBaseMs, Math.random()))
        if (events.length === 0) return { appends: [] }
        const appends: Array<Append> = [appendTo(deliveryStreamId(ctx.shop, deliveryId), version, events)]
        const delivered = events.some((e) => e.type === "webhook.delivered")
        const dead = events.some((e) => e.type === "webhook.dead_lettered")
        // the subscription's health: failing since, recovered, or disabled after days of failures
        const { state: subs, version: subsVersion } = yield* store.loadFold(subscriptionsStreamId(ctx.shop), subscriptionsFold)
        const health: ReadonlyArray<SubscriptionEvent> = state.status === "pending" ? decideHealth(subs[state.subscriptionId], { delivered, deadLettered: dead }, now, timings.disableAfterMs) : []
        if (health.length > 0) appends.push(appendTo(subscriptionsStreamId(ctx.shop), subsVersion, health))
        const failed = events.find((e): e is Extract<DeliveryEvent, { type: "webhook.attempt_failed" }> => e.type === "webhook.attempt_failed")
        if (delivered || dead || failed?.nextAttemptAt == null) return { appends, cancelTimers: [attemptTimerId(deliveryId)] }
        const decision: Decision = {
          appends,
          schedule: [{
            id: attemptTimerId(deliveryId),
            at: new Date(failed.nextAttemptAt),
            ...encodeShopMessage({ type: "outbound.attempt", payload: { deliveryId, attempt: attempt + 1 } })
          }]
        }
        return decision
      }),
    "outbound.redrive": (ctx) =>
      Effect.gen(function*() {
        const { deliveryId, by } = ctx.message.payload
        const { state, version } = yield* loadDelivery(ctx.shop, deliveryId)
        const decided = decideRedrive(state, by)
        if (Result.isFailure(decided)) return { appends: [] }
        const after = decided.success.reduce(evolveDelivery, state)
        if (after.status !== "pending") return { appends: [] }
        const started = startAttempt(ctx.shop, after, after.totalAttempts + 1)
        return { appends: [appendTo(deliveryStreamId(ctx.shop, deliveryId), version, decided.success)], schedule: started.schedule, afterCommit: started.afterCommit }
      })
  } satisfies Partial<HandlerRegistry>

  return { handlers, notifier }
})
