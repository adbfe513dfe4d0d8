/**
 * `sales.attribution_computed` for each newly attributed order (issue 13 §2): follows the
 * `attribution_orders` read model and emits one trigger per order to the shop's actor, with the
 * order's revenue and its shares under the shop's trigger model.
 *
 * - Only orders converted within the last day (`recentMs`) are emitted: a rebuild of the read
 *   model, or a history loaded at install, does not fire a year of rules.
 * - At least once, never twice in effect: what was emitted is recorded (`AttributionOutbox`), and
 *   the trigger's id is derived from the order, so a crash between the publish and the record
 *   publishes a duplicate the shop log drops. Every worker may run it; they agree the same way.
 * - Fire-and-forget for the data it follows: a publish that fails is retried on the next round,
 *   and nothing waits on it.
 */
import { Config, Context, type Duration, Effect, Layer } from "effect"
import type { SqlError } from "effect/sql/SqlError"
import type { TriggerEvent } from "../../domain/automation/Triggers.ts"
import { nameBasedUuid } from "../ids/NameBasedUuid.ts"
import { ShopLog } from "../shoplog/ShopLog.ts"
import { publishTrigger } from "../automation/TriggerHandlers.ts"

/** The per-journey models a trigger can carry (Markov and Shapley credit a period, not an order). */
export const TRIGGER_MODELS = ["first_touch", "last_touch", "linear", "time_decay", "position_based"] as const
export type TriggerModel = typeof TRIGGER_MODELS[number]

export interface AttributedOrder {
  readonly shop: string
  readonly orderId: string
  readonly revenue: number
  readonly currency: string
  readonly convertedAt: Date
  /** Channel → share under the trigger model, summing to 1. */
  readonly shares: Readonly<Record<string, number>>
}

/** Attributed orders not emitted yet, and the record of what was. SQL: `adapters/postgres/PgAttributionOutbox.ts`. */
export class AttributionOutbox extends Context.Service<AttributionOutbox, {
  readonly pending: (options: { readonly model: TriggerModel; readonly since: Date; readonly limit: number }) => Effect.Effect<ReadonlyArray<AttributedOrder>, SqlError>
  readonly markEmitted: (orders: ReadonlyArray<AttributedOrder>) => Effect.Effect<void, SqlError>
}>()("sumeru/intelligence/AttributionOutbox") {}

export const attributionKey = (orderId: string) => `attribution:${orderId}`

/** The trigger of one attributed order. */
export const attributionTrigger = (o: AttributedOrder, model: TriggerModel): TriggerEvent => ({
  event: "sales.attribution_computed",
  model,
  resources: [{ resourceType: "order", resourceId: o.orderId, payload: { revenue: o.revenue, currency: o.currency, credits: o.shares } }]
}) as TriggerEvent

export interface AttributionTriggerOptions {
  readonly model?: TriggerModel
  readonly pollInterval?: Duration.Input
  readonly recentMs?: number
  readonly batch?: number
}

/** One round: emits what is pending; returns how many orders it emitted. */
export const emitAttributionTriggers = (options: AttributionTriggerOptions = {}) =>
  Effect.gen(function*() {
    const outbox = yield* AttributionOutbox
    const model = options.model ?? "position_based"
    const pending = yield* outbox.pending({ model, since: new Date(Date.now() - (options.recentMs ?? 86_400_000)), limit: options.batch ?? 200 })
    const emitted = yield* Effect.forEach(pending, (o) =>
      publishTrigger(o.shop, {
        triggerId: nameBasedUuid("sumeru.attribution", `${o.shop}\u0000${o.orderId}`),
        trigger: attributionTrigger(o, model),
        emittedAt: new Date().toISOString(),
        emittedBy: { kind: "detector", id: "attribution" }
      }).pipe(
        Effect.as([o]),
        Effect.catchTag("ShopLogUnavailable", (e) => Effect.as(Effect.logWarning(`sales.attribution_computed for order ${o.orderId} of ${o.shop} not emitted yet: ${e.message}`), []))
      ), { concurrency: 8 })
    const done = emitted.flat()
    if (done.length > 0) yield* outbox.markEmitted(done)
    return done.length
  })

/** Runs {@link emitAttributionTriggers} for the life of the layer: again at once while there was work, else every `pollInterval`. */
export const layer = (options: AttributionTriggerOptions = {}): Layer.Layer<never, never, AttributionOutbox | ShopLog> =>
  Layer.effectDiscard(Effect.forkScoped(
    Effect.gen(function*() {
      for (;;) {
        const n = yield* emitAttributionTriggers(options).pipe(
          Effect.catchCause((cause) => Effect.as(Effect.logWarning("attribution triggers: a round failed (retried)", cause), 0))
        )
        if (n === 0) yield* Effect.sleep(options.pollInterval ?? "500 millis")
      }
    })
  ))

/** {@link layer} with the trigger model from `ATTRIBUTION_TRIGGER_MODEL` (default `position_based`). */
export const layerFromConfig: Layer.Layer<never, Config.ConfigError, AttributionOutbox | ShopLog> = Layer.unwrap(
  Effect.map(Config.Literals(TRIGGER_MODELS, "ATTRIBUTION_TRIGGER_MODEL").pipe(Config.withDefault("position_based" as const)), (model) => layer({ model }))
)
