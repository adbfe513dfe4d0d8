/**
 * Managing a shop's outbound webhook subscriptions as the admin API uses it: read them (the
 * stream, folded: read-your-writes), and submit a change to the shop's actor (the single writer)
 * and wait, bounded, until the subscription shows it. A new secret is sealed under the shop's
 * key before it leaves this process (`PiiVault`), so it never travels or rests in clear; the
 * caller shows it to the merchant once.
 */
import { Duration, Effect, Option } from "effect"
import { uuidV7Unsafe } from "effect/crypto/SecureRandom"
import type { OutboundEvent, Subscription, Subscriptions } from "../../domain/outbound/Webhooks.ts"
import { subscriptionsStreamId } from "../../domain/outbound/Webhooks.ts"
import { encodeShopMessage } from "../../domain/messages/ShopMessages.ts"
import { EventStore } from "../eventstore/EventStore.ts"
import { awaitCommitted } from "../eventstore/LogWakeups.ts"
import { PiiVault } from "../secrets/Secrets.ts"
import { ShopLog } from "../shoplog/ShopLog.ts"
import { subscriptionsFold } from "./OutboundFolds.ts"
import { newSecret, secretSubject } from "./OutboundWebhooks.ts"

/** How long a rotated-out secret still signs (receivers switch within it). */
export const ROTATION_GRACE_MS = 24 * 3_600_000

/** A subscription as the admin API and the CLI show it: never its secret. */
export const subscriptionJson = (s: Subscription) => ({
  id: s.subscriptionId,
  url: s.url,
  events: s.events,
  status: s.status,
  failing_since: s.failingSince,
  created_at: s.createdAt
})

export const readSubscriptions = (shop: string) =>
  Effect.map(Effect.flatMap(EventStore, (store) => store.loadFold(subscriptionsStreamId(shop), subscriptionsFold)), (f) => f.state)

type Change =
  | { readonly type: "create"; readonly url: string; readonly events: ReadonlyArray<OutboundEvent> }
  | { readonly type: "rotate"; readonly subscriptionId: string }
  | { readonly type: "delete"; readonly subscriptionId: string }

export type SubscriptionOutcome =
  | { readonly _tag: "Done"; readonly subscription: Subscription; readonly secret: string | null }
  | { readonly _tag: "Pending"; readonly subscriptionId: string; readonly secret: string | null }

/** Sends the change to the shop's actor and waits (at most `wait`) until the subscription shows it. */
export const submitSubscriptionChange = (shop: string, change: Change, by: string, wait: Duration.Input = Duration.seconds(10)) =>
  Effect.gen(function*() {
    const store = yield* EventStore
    const log = yield* ShopLog
    const vault = yield* PiiVault
    const subscriptionId = change.type === "create" ? uuidV7Unsafe() : change.subscriptionId
    const { state: before } = yield* store.loadFold(subscriptionsStreamId(shop), subscriptionsFold)
    const secret = change.type === "delete" ? null : newSecret()
    const sealed = secret === null ? null : yield* vault.seal(shop, secretSubject(subscriptionId), secret)
    const command = change.type === "create"
      ? { type: "create" as const, subscriptionId, url: change.url, events: [...change.events], secret: sealed! }
      : change.type === "rotate"
      ? { type: "rotate" as const, subscriptionId, secret: sealed!, graceMs: ROTATION_GRACE_MS }
      : { type: "delete" as const, subscriptionId }
    const commandId = uuidV7Unsafe()
    yield* log.publish({
      shop,
      messageId: `webhook-subscription:${commandId}`,
      ...encodeShopMessage({ type: "outbound.subscription_command", payload: { commandId, by, command } }),
      correlationId: commandId
    })
    const shows = (state: Subscriptions): Subscription | undefined => {
      const s = state[subscriptionId]
      if (s === undefined) return undefined
      if (change.type === "create") return s
      if (change.type === "delete") return s.status === "deleted" ? s : undefined
      return s.secret.data !== before[subscriptionId]?.secret.data ? s : undefined
    }
    const outcome = Effect.map(store.loadFold(subscriptionsStreamId(shop), subscriptionsFold), ({ state }) =>
      Option.map(Option.fromNullishOr(shows(state)), (subscription): SubscriptionOutcome => ({ _tag: "Done", subscription, secret })))
    return yield* awaitCommitted(outcome, wait).pipe(Effect.map(Option.getOrElse((): SubscriptionOutcome => ({ _tag: "Pending", subscriptionId, secret }))))
  })

/** A dead-lettered delivery sent through the shop's actor again. */
export const submitRedrive = (shop: string, deliveryId: string, by: string) =>
  Effect.flatMap(ShopLog, (log) =>
    log.publish({
      shop,
      messageId: `webhook-redrive:${uuidV7Unsafe()}`,
      ...encodeShopMessage({ type: "outbound.redrive", payload: { deliveryId, by } }),
      correlationId: deliveryId
    }))
