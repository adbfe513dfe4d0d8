/**
 * Sealing of the shop's business data at the event store's boundary (see
 * `domain/privacy/shopSealedEvents.ts` for which events). The store seals on every append
 * path (`EventStore.append` and the actors' batched commit) and opens on every read path
 * (streams, the global log, projections), so producers and consumers work with plain
 * payloads and no copy of the shop's business data is written in clear.
 *
 * Stored forms: a payload sealed whole is a `Sealed` value under the `shop` subject; a
 * payload that names a subject keeps `subject` (and its subject-sealed `identifying`) in clear
 * and the rest in `shopSealed`. Once the shop's data key is shredded (`shop/redact`), such an
 * event reads back with `data: null` and `redacted: true`: projections skip it (the shop's
 * rows are erased at its `shop.redacted` event anyway), replays show that it was there.
 */
import { Context, Effect, Layer, Option, Schema } from "effect"
import type { NewEvent } from "../../domain/events/Envelope.ts"
import { namesSubject, sealedUnderShopKey, SUBJECT_FIELDS } from "../../domain/privacy/shopSealedEvents.ts"
import { PiiVault, Sealed, type SecretsUnavailable, shopSubject, type SubjectShredded } from "../secrets/Secrets.ts"
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
const isShopSealed = (value: unknown): value is Sealed => isSealed(value) && value.subject === shopSubject

/** Splits a subject-naming payload into what stays in clear and what is sealed. */
const splitSubjectFields = (data: Readonly<Record<string, unknown>>) => {
  const clear: Record<string, unknown> = {}
  const rest: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(data)) {
    if ((SUBJECT_FIELDS as ReadonlyArray<string>).includes(k)) clear[k] = v
    else rest[k] = v
  }
  return { clear, rest }
}

/** Seals with the shop's data key from the `PiiVault`. */
export const layerFromVault: Layer.Layer<EventSealing, never, PiiVault> = Layer.effect(
  EventSealing,
  Effect.gen(function*() {
    const vault = yield* PiiVault

    const sealData = (shop: string, data: unknown): Effect.Effect<unknown, SecretsUnavailable | SubjectShredded> => {
      if (!namesSubject(data)) return vault.seal(shop, shopSubject, data ?? null)
      const { clear, rest } = splitSubjectFields(data)
      return Effect.map(vault.seal(shop, shopSubject, rest), (shopSealed) => ({ ...clear, shopSealed }))
    }

    return {
      seal: (shop, events) =>
        events.some((e) => sealedUnderShopKey(e.type))
          ? Effect.forEach(events, (e) =>
            sealedUnderShopKey(e.type)
              ? Effect.map(sealData(shop, e.data), (data): NewEvent => ({ ...e, data }))
              : Effect.succeed(e)).pipe(
              Effect.mapError((cause) => new PersistenceError({ operation: "seal", cause }))
            )
          : Effect.succeed(events),
      open: (shop, type, data) => {
        if (!sealedUnderShopKey(type)) return Effect.succeed({ data, redacted: false })
        const whole = isShopSealed(data)
        const beside = !whole && namesSubject(data) && isShopSealed(data["shopSealed"]) ? data : null
        if (!whole && beside === null) return Effect.succeed({ data, redacted: false }) // written before sealing, or by a test
        return vault.open(shop, whole ? data : beside!["shopSealed"] as Sealed).pipe(
          Effect.map(Option.match({
            onNone: (): OpenedPayload => ({ data: null, redacted: true }),
            onSome: (opened): OpenedPayload => {
              if (beside === null) return { data: opened, redacted: false }
              const { shopSealed: _sealed, ...clear } = beside
              return { data: { ...(opened as object), ...clear }, redacted: false }
            }
          })),
          Effect.catchTag("DecryptionFailed", (e) =>
            Effect.as(Effect.logWarning(`a sealed ${type} event of ${shop} does not open: ${e.message}`), { data: null, redacted: true })),
          Effect.mapError((cause) => new PersistenceError({ operation: "open", cause }))
        )
      }
    }
  })
)
