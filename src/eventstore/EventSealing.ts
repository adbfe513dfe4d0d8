/**
 * Sealing of whole event payloads at the event store's boundary (see
 * `domain/privacy/shopSealedEvents.ts` for which events). The store seals on every append
 * path (`EventStore.append` and the actors' batched commit) and opens on every read path
 * (streams, the global log, projections), so producers and consumers work with plain
 * payloads and no copy of the shop's business data is written in clear.
 *
 * Once the shop's data key is shredded (`shop/redact`), a sealed event reads back with
 * `data: null` and `redacted: true`: projections skip it (the shop's rows are erased at its
 * `shop.redacted` event anyway), replays show that it was there.
 */
import { Context, Effect, Layer, Option, Schema } from "effect"
import type { NewEvent } from "../../domain/events/Envelope.ts"
import { sealedUnderShopKey } from "../../domain/privacy/shopSealedEvents.ts"
import { PiiVault, Sealed, shopSubject } from "../secrets/Secrets.ts"
import { PersistenceError } from "./EventStore.ts"

export interface OpenedPayload {
  readonly data: unknown
  /** The payload was sealed and its key has been shredded. */
  readonly redacted: boolean
}

export class EventSealing extends Context.Service<EventSealing, {
  /** The events as they are stored: payloads sealed where the policy says so. */
  readonly seal: (shop: string, events: ReadonlyArray<NewEvent>) => Effect.Effect<ReadonlyArray<NewEvent>, PersistenceError>
  /** A stored payload opened (unchanged when it was not sealed by the store). */
  readonly open: (shop: string, type: string, data: unknown) => Effect.Effect<OpenedPayload, PersistenceError>
}>()("sumeru/eventstore/EventSealing") {}

const isSealed = Schema.is(Sealed)

/** Seals with the shop's data key from the `PiiVault`. */
export const layerFromVault: Layer.Layer<EventSealing, never, PiiVault> = Layer.effect(
  EventSealing,
  Effect.gen(function*() {
    const vault = yield* PiiVault
    return {
      seal: (shop, events) =>
        events.some((e) => sealedUnderShopKey(e.type, e.data))
          ? Effect.forEach(events, (e) =>
            sealedUnderShopKey(e.type, e.data)
              ? Effect.map(vault.seal(shop, shopSubject, e.data ?? null), (data): NewEvent => ({ ...e, data }))
              : Effect.succeed(e)).pipe(
              Effect.mapError((cause) => new PersistenceError({ operation: "seal", cause }))
            )
          : Effect.succeed(events),
      open: (shop, type, data) =>
        !isSealed(data) || data.subject !== shopSubject || !sealedUnderShopKey(type, undefined)
          ? Effect.succeed({ data, redacted: false })
          : vault.open(shop, data).pipe(
            Effect.map(Option.match({
              onNone: () => ({ data: null, redacted: true }),
              onSome: (opened) => ({ data: opened, redacted: false })
            })),
            Effect.catchTag("DecryptionFailed", (e) =>
              Effect.as(Effect.logWarning(`a sealed ${type} event of ${shop} does not open: ${e.message}`), { data: null, redacted: true })),
            Effect.mapError((cause) => new PersistenceError({ operation: "open", cause }))
          )
    }
  })
)
